// SPDX-License-Identifier: GPL-2.0
/*
 * Driver allocation paths under fault injection.
 *
 * With the kernel's failslab configured for task-filtered injection (see
 * tools/guest/failslab.sh), this process marks itself with
 * /proc/self/make-it-fail and then opens the card, submits NOP jobs, waits
 * for them and closes, many times: a share of the slab allocations behind
 * those calls (the file context, scheduler entities, jobs, fences) fail.
 * Every call must fail cleanly with an errno or succeed consistently, and a
 * job that SUBMIT accepted must still be waitable. Leaks and warnings are
 * left to kmemleak and the kernel-log check that run afterwards.
 *
 * Everything is set up (memory locked, no stdio) before injection starts,
 * so that the process itself is not killed by a failed allocation of its own
 * page tables; results are printed once injection is off again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <drm/lpu_accel.h>

#define ROUNDS		200
#define JOBS_PER_ROUND	4

struct counts {
	unsigned int open_ok, open_fail;
	unsigned int submit_ok, submit_fail;
	unsigned int wait_ok, job_failed;
	unsigned int inconsistent;	/* a result no allocation failure explains */
	int first_bad_errno;
	const char *first_bad_call;
};

static int make_it_fail(int on)
{
	int fd = open("/proc/self/make-it-fail", O_WRONLY | O_CLOEXEC);
	int ok;

	if (fd < 0)
		return -errno;
	ok = write(fd, on ? "1" : "0", 1) == 1;
	close(fd);
	return ok ? 0 : -EIO;
}

static void bad(struct counts *c, const char *call, int err)
{
	if (!c->inconsistent++) {
		c->first_bad_call = call;
		c->first_bad_errno = err;
	}
}

static void one_round(const char *node, struct counts *c, unsigned int round)
{
	uint64_t seqs[JOBS_PER_ROUND];
	unsigned int n = 0, i;
	struct timespec ts;
	int fd;

	fd = open(node, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		c->open_fail++;
		if (errno != ENOMEM)
			bad(c, "open", errno);
		return;
	}
	c->open_ok++;
	for (i = 0; i < JOBS_PER_ROUND; i++) {
		struct drm_lpu_submit sub = {
			.queue = (round + i) % 4,
			.job_type = LPU_JOB_NOP,
		};

		if (ioctl(fd, DRM_IOCTL_LPU_SUBMIT, &sub)) {
			c->submit_fail++;
			if (errno != ENOMEM && errno != EINTR)
				bad(c, "submit", errno);
			continue;
		}
		c->submit_ok++;
		seqs[n++] = sub.seq;
	}
	/* Sometimes close with the jobs still in flight. */
	for (i = 0; i < n && round % 3; i++) {
		struct drm_lpu_wait w = { .seq = seqs[i] };

		clock_gettime(CLOCK_MONOTONIC, &ts);
		w.timeout_ns = ts.tv_sec * 1000000000LL + ts.tv_nsec + 10000000000LL;
		if (ioctl(fd, DRM_IOCTL_LPU_WAIT, &w)) {
			/* An accepted job is known to its file and finishes. */
			bad(c, "wait", errno);
			continue;
		}
		c->wait_ok++;
		if (w.status)
			c->job_failed++;
	}
	close(fd);
}

int main(int argc, char **argv)
{
	const char *node = argc > 1 ? argv[1] : "/dev/lpu0";
	struct counts c;
	unsigned int r;
	int ret;

	memset(&c, 0, sizeof(c));
	printf("TAP version 13\n1..2\n");
	fflush(stdout);
	if (mlockall(MCL_CURRENT | MCL_FUTURE)) {
		printf("not ok 1 mlockall: %s\nnot ok 2 skipped\n", strerror(errno));
		return 1;
	}
	ret = make_it_fail(1);
	if (ret) {
		printf("not ok 1 /proc/self/make-it-fail: %s\nnot ok 2 skipped\n",
		       strerror(-ret));
		return 1;
	}
	for (r = 0; r < ROUNDS; r++)
		one_round(node, &c, r);
	make_it_fail(0);

	printf("# opens %u ok %u failed, submits %u ok %u failed, waits %u ok, %u jobs failed\n",
	       c.open_ok, c.open_fail, c.submit_ok, c.submit_fail, c.wait_ok,
	       c.job_failed);
	printf("%s 1 some driver calls failed cleanly under injection\n",
	       c.open_fail + c.submit_fail ? "ok" : "not ok");
	if (c.inconsistent)
		printf("not ok 2 %u unexplained results, first: %s errno %d (%s)\n",
		       c.inconsistent, c.first_bad_call, c.first_bad_errno,
		       strerror(c.first_bad_errno));
	else
		printf("ok 2 every failure was -ENOMEM and every accepted job was waitable\n");
	return c.inconsistent || !(c.open_fail + c.submit_fail);
}
