// SPDX-License-Identifier: GPL-2.0
/*
 * LPU error-path tests: waits interrupted by signals, closing a file with
 * jobs in flight, and a device error provoked through the debugfs
 * inject_bad_descriptor hook.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "lpu_fixture.h"

/* Written by the handler: sig_atomic_t is what volatile is right for. */
static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* One SIGALRM after @ms, with or without SA_RESTART. */
static int arm_alarm(int ms, bool restart)
{
	struct itimerval it = { .it_value.tv_usec = ms * 1000 };
	struct sigaction sa = { .sa_handler = on_alarm };

	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	alarms = 0;
	if (sigaction(SIGALRM, &sa, NULL))
		return -errno;
	return setitimer(ITIMER_REAL, &it, NULL) ? -errno : 0;
}

TEST_F(lpu, wait_interrupted_by_signal_is_eintr)
{
	int32_t status = 1;
	uint64_t seq;

	ASSERT_EQ(0, raw_submit(self->fd, 0, DRM_LPU_NOP_MAX_CYCLES, &seq));
	ASSERT_EQ(0, arm_alarm(100, false));
	/* Without SA_RESTART the signal must end the wait. */
	EXPECT_EQ(-EINTR, raw_wait(self->fd, seq, now_ns() + 20 * NSEC_PER_SEC,
				   &status, NULL));
	EXPECT_EQ(1, alarms);
	/* The job carries on and completes. */
	EXPECT_EQ(0, wait_ms(self->fd, seq, 20000, &status));
	EXPECT_EQ(0, status);
}

TEST_F(lpu, wait_with_sa_restart_completes)
{
	int32_t status = 1;
	uint64_t seq;

	ASSERT_EQ(0, raw_submit(self->fd, 0, DRM_LPU_NOP_MAX_CYCLES, &seq));
	ASSERT_EQ(0, arm_alarm(100, true));
	/* The kernel restarts the wait after the handler ran. */
	EXPECT_EQ(0, raw_wait(self->fd, seq, now_ns() + 20 * NSEC_PER_SEC,
			      &status, NULL));
	EXPECT_EQ(1, alarms);
	EXPECT_EQ(0, status);
}

TEST_F(lpu, restarted_wait_keeps_its_deadline)
{
	int64_t t0, elapsed;
	uint64_t seq;

	ASSERT_EQ(0, raw_submit(self->fd, 1, DRM_LPU_NOP_MAX_CYCLES, &seq));
	ASSERT_EQ(0, arm_alarm(50, true));
	t0 = now_ns();
	/* The absolute deadline survives the restart: still -ETIME. */
	EXPECT_EQ(-ETIME, raw_wait(self->fd, seq, t0 + 200 * NSEC_PER_MSEC,
				   NULL, NULL));
	elapsed = now_ns() - t0;
	EXPECT_EQ(1, alarms);
	EXPECT_LE(200 * NSEC_PER_MSEC, elapsed);
	EXPECT_GT(900 * NSEC_PER_MSEC, elapsed);
	EXPECT_EQ(0, wait_ms(self->fd, seq, 20000, NULL));
}

TEST_F_TIMEOUT(lpu, close_with_jobs_in_flight, 60)
{
	int32_t status = 1;
	uint64_t seq;
	unsigned int i, q;
	int fd2;

	fd2 = open_card(&self->card);
	ASSERT_LE(0, fd2);
	for (q = 0; q < self->info.num_queues; q++) {
		ASSERT_EQ(0, raw_submit(fd2, q, DRM_LPU_NOP_MAX_CYCLES / 2, &seq));
		for (i = 0; i < 16; i++)
			ASSERT_EQ(0, raw_submit(fd2, q, 1000, &seq));
	}
	EXPECT_EQ(0, close(fd2));

	/* A new file works on every queue the closed one left busy. */
	fd2 = open_card(&self->card);
	ASSERT_LE(0, fd2);
	for (q = 0; q < self->info.num_queues; q++) {
		ASSERT_EQ(0, raw_submit(fd2, q, 0, &seq));
		EXPECT_EQ(q + 1, seq);
	}
	for (q = 0; q < self->info.num_queues; q++) {
		EXPECT_EQ(0, wait_ms(fd2, q + 1, 20000, &status));
		EXPECT_EQ(0, status);
	}
	close(fd2);
}

/* Does kmsg record @line name queue @q ("queue 2", "queue=2", "queue: 2")? */
static bool names_queue(const char *line, unsigned int q)
{
	const char *p = line;
	char *end;

	while ((p = strstr(p, "queue"))) {
		p += 5;
		while (*p == ' ' || *p == '=' || *p == ':' || *p == '#')
			p++;
		if (*p >= '0' && *p <= '9' && strtoul(p, &end, 10) == q)
			return true;
	}
	return false;
}

TEST_F_TIMEOUT(lpu, bad_descriptor_fails_job_with_eio, 60)
{
	const unsigned int q = 2 % self->info.num_queues;
	const unsigned int other = (q + 1) % self->info.num_queues;
	char path[PATH_MAX], text[16], line[2048];
	uint64_t bad, good_other, next;
	int32_t status = 0;
	int kmsg, ret;

	kmsg = kmsg_open_at_end();
	ASSERT_LE(0, kmsg);
	debugfs_path(&self->card, "inject_bad_descriptor", path, sizeof(path));
	snprintf(text, sizeof(text), "%u\n", q);
	ASSERT_EQ(0, write_text(path, text)) TH_LOG("write %s", path);

	ASSERT_EQ(0, raw_submit(self->fd, q, 0, &bad));
	ASSERT_EQ(0, raw_submit(self->fd, other, 0, &good_other));
	/* WAIT succeeds; the job's own status carries the device error. */
	ASSERT_EQ(0, wait_ms(self->fd, bad, 20000, &status));
	EXPECT_EQ(-EIO, status);

	/* One dmesg line from this card naming the queue. */
	ret = -ENOENT;
	while (ret && !kmsg_find(kmsg, self->card.pci_addr, NULL, line,
				 sizeof(line), 5000)) {
		if (names_queue(line, q))
			ret = 0;
	}
	EXPECT_EQ(0, ret) TH_LOG("no kernel message from %s naming queue %u",
				 self->card.pci_addr, q);
	close(kmsg);

	/* Other queues never noticed; the faulted queue recovered. */
	status = 1;
	EXPECT_EQ(0, wait_ms(self->fd, good_other, 20000, &status));
	EXPECT_EQ(0, status);
	ASSERT_EQ(0, raw_submit(self->fd, q, 0, &next));
	status = 1;
	EXPECT_EQ(0, wait_ms(self->fd, next, 20000, &status));
	EXPECT_EQ(0, status);
}

TEST_F(lpu, inject_bad_descriptor_rejects_bad_queue)
{
	char path[PATH_MAX], text[32];
	uint64_t seq;
	int32_t status;
	uint32_t q;
	int ret;

	debugfs_path(&self->card, "inject_bad_descriptor", path, sizeof(path));

	snprintf(text, sizeof(text), "%u\n", self->info.num_queues);
	ret = write_text(path, text);
	EXPECT_TRUE(ret == -EINVAL || ret == -ERANGE) TH_LOG("ret %d", ret);
	EXPECT_EQ(-EINVAL, write_text(path, "-1\n"));
	EXPECT_EQ(-EINVAL, write_text(path, "zero\n"));
	/* Nothing was armed by the rejected writes. */
	for (q = 0; q < self->info.num_queues; q++) {
		status = 1;
		ASSERT_EQ(0, raw_submit(self->fd, q, 0, &seq));
		EXPECT_EQ(0, wait_ms(self->fd, seq, 10000, &status));
		EXPECT_EQ(0, status) TH_LOG("queue %u", q);
	}
}

TEST_F(lpu, kernel_not_tainted)
{
	unsigned long taint;

	ASSERT_EQ(0, read_taint(&taint));
	EXPECT_EQ(0, taint & LPU_BAD_TAINT) TH_LOG("tainted: %#lx", taint);
}

TEST_HARNESS_MAIN
