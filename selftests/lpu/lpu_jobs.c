// SPDX-License-Identifier: GPL-2.0
/*
 * LPU job tests: NOP jobs through every queue, completion order, timeouts,
 * many jobs in flight, several processes, and the device node udev makes.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lpu_fixture.h"

/* Long enough to still be running after several wait attempts. */
#define LONG_NOP	DRM_LPU_NOP_MAX_CYCLES

TEST_F(lpu, nop_on_every_queue)
{
	uint64_t seq, dev_ns;
	int32_t status = 1;
	uint32_t q;

	for (q = 0; q < self->info.num_queues; q++) {
		ASSERT_EQ(0, raw_submit(self->fd, q, 0, &seq));
		/* Per file, from 1, one more per job. */
		EXPECT_EQ(q + 1, seq);
		ASSERT_EQ(0, raw_wait(self->fd, seq,
				      now_ns() + 10 * NSEC_PER_SEC,
				      &status, &dev_ns));
		EXPECT_EQ(0, status) TH_LOG("queue %u", q);
	}
}

TEST_F(lpu, liblpu_submit_and_wait)
{
	struct lpu_job_result res = { .status = 1 };
	struct lpu_device *dev;
	uint64_t s1, s2;

	ASSERT_EQ(0, lpu_open_path(self->card.dev_path, &dev));
	ASSERT_EQ(0, lpu_submit_nop(dev, 1, 1000, &s1));
	ASSERT_EQ(0, lpu_submit_nop(dev, 1, 1000, &s2));
	EXPECT_EQ(s1 + 1, s2);
	EXPECT_EQ(0, lpu_wait(dev, s2, 10 * NSEC_PER_SEC, &res));
	EXPECT_EQ(0, res.status);
	EXPECT_EQ(0, lpu_wait(dev, s1, 0, &res));
	EXPECT_EQ(-EINVAL, lpu_wait(dev, s2 + 1, 0, NULL));
	EXPECT_EQ(-EINVAL, lpu_submit_nop(dev, self->info.num_queues, 0, &s1));
	EXPECT_EQ(0, lpu_close(dev));
}

TEST_F(lpu, device_time_reflects_nop_cycles)
{
	const uint32_t cycles = 5000000;	/* 5 ms of device time */
	uint64_t seq, short_ns, long_ns;
	int32_t status;

	/* The lpu-v3 card always writes completion times. */
	ASSERT_TRUE(self->info.capabilities & LPU_CAP_TIMESTAMPS)
		TH_LOG("capabilities %#llx lack LPU_CAP_TIMESTAMPS",
		       (unsigned long long)self->info.capabilities);
	ASSERT_EQ(0, raw_submit(self->fd, 0, 0, &seq));
	ASSERT_EQ(0, raw_wait(self->fd, seq, now_ns() + 10 * NSEC_PER_SEC,
			      &status, &short_ns));
	ASSERT_EQ(0, raw_submit(self->fd, 0, cycles, &seq));
	ASSERT_EQ(0, raw_wait(self->fd, seq, now_ns() + 10 * NSEC_PER_SEC,
			      &status, &long_ns));
	EXPECT_EQ(0, status);
	/*
	 * The device never completes before its modelled cost (NOP base +
	 * cycles, then the FENCE); it may complete later, by however late
	 * the emulator ran it, so short and long are not compared.
	 */
	EXPECT_LE((uint64_t)LPU_NOP_BASE_CYCLES + LPU_FENCE_CYCLES, short_ns);
	EXPECT_LE((uint64_t)cycles + LPU_NOP_BASE_CYCLES + LPU_FENCE_CYCLES,
		  long_ns);
	EXPECT_GT(5ULL * NSEC_PER_SEC, long_ns);
}

TEST_F(lpu, wait_times_out_with_etime)
{
	int64_t t0, elapsed;
	int32_t status = 1;
	uint64_t seq;

	ASSERT_EQ(0, raw_submit(self->fd, 0, LONG_NOP, &seq));
	t0 = now_ns();
	EXPECT_EQ(-ETIME, raw_wait(self->fd, seq, t0 + 50 * NSEC_PER_MSEC,
				   NULL, NULL));
	elapsed = now_ns() - t0;
	/* It waited for the deadline, not less. */
	EXPECT_LE(50 * NSEC_PER_MSEC, elapsed);
	/* The job itself is unaffected and completes. */
	EXPECT_EQ(0, wait_ms(self->fd, seq, 20000, &status));
	EXPECT_EQ(0, status);
}

TEST_F(lpu, wait_timeout_zero_polls)
{
	int64_t t0, elapsed;
	int32_t status = 1;
	uint64_t seq;

	ASSERT_EQ(0, raw_submit(self->fd, 2, LONG_NOP, &seq));
	t0 = now_ns();
	EXPECT_EQ(-ETIME, raw_wait(self->fd, seq, 0, NULL, NULL));
	elapsed = now_ns() - t0;
	EXPECT_GT(200 * NSEC_PER_MSEC, elapsed) TH_LOG("poll blocked %lld ns",
						       (long long)elapsed);
	/* A deadline already in the past polls too. */
	EXPECT_EQ(-ETIME, raw_wait(self->fd, seq, 1, NULL, NULL));
	EXPECT_EQ(-ETIME, raw_wait(self->fd, seq, now_ns() - NSEC_PER_SEC,
				   NULL, NULL));
	ASSERT_EQ(0, wait_ms(self->fd, seq, 20000, &status));
	/* Once done, a poll reports completion. */
	EXPECT_EQ(0, raw_wait(self->fd, seq, 0, &status, NULL));
	EXPECT_EQ(0, status);
}

TEST_F(lpu, negative_deadline_times_out)
{
	uint64_t seq;

	ASSERT_EQ(0, raw_submit(self->fd, 1, LONG_NOP, &seq));
	/* A negative deadline is in the past: a poll, never "forever". */
	EXPECT_EQ(-ETIME, raw_wait(self->fd, seq, -1, NULL, NULL));
	EXPECT_EQ(-ETIME, raw_wait(self->fd, seq, INT64_MIN, NULL, NULL));
	EXPECT_EQ(0, wait_ms(self->fd, seq, 20000, NULL));
}

/* Submit @n NOPs round-robin over @queues queues; all seqs contiguous. */
static int submit_many(int fd, unsigned int n, unsigned int queues,
		       uint64_t *first)
{
	uint64_t seq, prev = 0;
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = raw_submit(fd, i % queues, 0, &seq);
		if (ret)
			return ret;
		if (i == 0)
			*first = seq;
		else if (seq != prev + 1)
			return -EILSEQ;
		prev = seq;
	}
	return 0;
}

TEST_F_TIMEOUT(lpu, many_in_flight_complete_in_order, 120)
{
	unsigned int n = 1000, i;
	uint64_t first = 0, mid;
	int32_t status;

	/* More jobs than one ring holds, so the driver must queue them. */
	if (n <= 2 * self->info.ring_entries)
		n = 2 * self->info.ring_entries + 8;
	ASSERT_EQ(0, submit_many(self->fd, n, 1, &first));
	ASSERT_EQ(1, first);

	mid = first + n / 2;
	ASSERT_EQ(0, wait_ms(self->fd, mid, 60000, &status));
	EXPECT_EQ(0, status);
	/* One queue runs in order: everything before mid is done too. */
	for (i = 0; i < n / 2; i++) {
		status = 1;
		ASSERT_EQ(0, raw_wait(self->fd, first + i, 0, &status, NULL))
			TH_LOG("seq %llu not done after seq %llu",
			       (unsigned long long)(first + i),
			       (unsigned long long)mid);
		EXPECT_EQ(0, status);
	}
	ASSERT_EQ(0, wait_ms(self->fd, first + n - 1, 60000, &status));
	for (i = 0; i < n; i++) {
		status = 1;
		ASSERT_EQ(0, raw_wait(self->fd, first + i, 0, &status, NULL));
		ASSERT_EQ(0, status);
	}
}

TEST_F_TIMEOUT(lpu, many_in_flight_on_all_queues, 120)
{
	unsigned int n = 256 * self->info.num_queues, i;
	uint64_t first = 0;
	int32_t status;

	ASSERT_EQ(0, submit_many(self->fd, n, self->info.num_queues, &first));
	/* Waiting newest first: each wait may block on a different queue. */
	for (i = n; i-- > 0;) {
		status = 1;
		ASSERT_EQ(0, wait_ms(self->fd, first + i, 60000, &status));
		ASSERT_EQ(0, status);
	}
}

/* Child body for the multi-process tests: 0 on success, a step number else. */
static int child_jobs(const struct lpu_card *card, unsigned int n,
		      unsigned int queues)
{
	uint64_t first = 0;
	unsigned int i;
	int32_t status;
	int fd;

	fd = open_card(card);
	if (fd < 0)
		return 1;
	if (submit_many(fd, n, queues, &first))
		return 2;
	if (first != 1)
		return 3;
	for (i = 0; i < n; i++)
		if (wait_ms(fd, first + i, 60000, &status) || status)
			return 4;
	close(fd);
	return 0;
}

TEST_F_TIMEOUT(lpu, two_processes_submit_concurrently, 120)
{
	int wstatus, ret;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(child_jobs(&self->card, 300, self->info.num_queues));
	/* Parent runs the same load at the same time on its own file. */
	ret = child_jobs(&self->card, 300, self->info.num_queues);
	ASSERT_EQ(pid, waitpid(pid, &wstatus, 0));
	EXPECT_EQ(0, ret);
	ASSERT_TRUE(WIFEXITED(wstatus));
	EXPECT_EQ(0, WEXITSTATUS(wstatus)) TH_LOG("child failed at step %d",
						  WEXITSTATUS(wstatus));
}

TEST_F(lpu, child_after_fork_uses_own_fd)
{
	uint64_t pseq, cseq;
	int wstatus;
	pid_t pid;

	ASSERT_EQ(0, raw_submit(self->fd, 0, 0, &pseq));
	ASSERT_EQ(0, raw_submit(self->fd, 0, 0, &pseq));
	ASSERT_EQ(2, pseq);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = open_card(&self->card);
		int32_t status = 1;

		if (fd < 0)
			_exit(1);
		/* A new file starts its own sequence at 1... */
		if (raw_submit(fd, 0, 0, &cseq) || cseq != 1)
			_exit(2);
		if (wait_ms(fd, cseq, 10000, &status) || status)
			_exit(3);
		/* ...and knows nothing of the parent's seq 2. */
		if (wait_ms(fd, 2, 1000, NULL) != -EINVAL)
			_exit(4);
		close(fd);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &wstatus, 0));
	ASSERT_TRUE(WIFEXITED(wstatus));
	EXPECT_EQ(0, WEXITSTATUS(wstatus)) TH_LOG("child failed at step %d",
						  WEXITSTATUS(wstatus));
	EXPECT_EQ(0, wait_ms(self->fd, pseq, 10000, NULL));
}

TEST_F(lpu, inherited_fd_shares_the_sequence)
{
	uint64_t pseq, cseq;
	int wstatus;
	pid_t pid;

	ASSERT_EQ(0, raw_submit(self->fd, 1, 0, &pseq));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Same open file: the next number of the same sequence. */
		if (raw_submit(self->fd, 1, 0, &cseq) || cseq != pseq + 1)
			_exit(1);
		if (wait_ms(self->fd, pseq, 10000, NULL))
			_exit(2);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &wstatus, 0));
	ASSERT_TRUE(WIFEXITED(wstatus));
	EXPECT_EQ(0, WEXITSTATUS(wstatus));
	/* The child's job is visible to the parent through the shared file. */
	EXPECT_EQ(0, wait_ms(self->fd, pseq + 1, 10000, NULL));
}

TEST_F(lpu, debugfs_queues_lists_every_queue)
{
	char path[PATH_MAX], buf[4096], *line, *save;
	unsigned int seen = 0;
	uint64_t seq;

	ASSERT_EQ(0, raw_submit(self->fd, 0, 0, &seq));
	ASSERT_EQ(0, wait_ms(self->fd, seq, 10000, NULL));
	debugfs_path(&self->card, "queues", path, sizeof(path));
	ASSERT_LT(0, read_text(path, buf, sizeof(buf))) TH_LOG("%s", path);
	/* One line per queue starting with its index; headers allowed. */
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *end;
		unsigned long q = strtoul(line, &end, 10);

		if (end == line)
			continue;
		EXPECT_EQ(seen, q) TH_LOG("line: %s", line);
		seen++;
	}
	EXPECT_EQ(self->info.num_queues, seen);
}

TEST_F(lpu, dev_node_symlink_group_and_mode)
{
	char real[PATH_MAX];
	struct group *grp;
	struct stat st;

	ASSERT_EQ(0, lstat("/dev/lpu0", &st));
	EXPECT_TRUE(S_ISLNK(st.st_mode));
	ASSERT_NE(NULL, realpath("/dev/lpu0", real));
	EXPECT_STREQ(self->card.dev_path, real);

	ASSERT_EQ(0, stat(self->card.dev_path, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(LPU_ACCEL_MAJOR, major(st.st_rdev));
	EXPECT_EQ(self->card.minor, minor(st.st_rdev));
	EXPECT_EQ(0660, st.st_mode & 07777);
	grp = getgrnam("render");
	ASSERT_NE(NULL, grp) TH_LOG("no group 'render' in /etc/group");
	EXPECT_EQ(grp->gr_gid, st.st_gid);
}

TEST_F(lpu, kernel_not_tainted)
{
	expect_not_tainted(_metadata);
}

TEST_HARNESS_MAIN
