// SPDX-License-Identifier: GPL-2.0
/*
 * LPU error-path tests: waits interrupted by signals, closing a file with
 * jobs in flight, device errors provoked through the debugfs
 * inject_bad_descriptor hook (recovery of the jobs behind them, and the
 * bounded memory of failures), and SUBMIT blocking at the per-file job
 * limit.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <xf86drm.h>

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

/* Each queue's backlog when a file is closed, in 1 s jobs. */
#define CLOSE_LONG_JOBS		3

TEST_F_TIMEOUT(lpu, close_with_jobs_in_flight, 60)
{
	int64_t t0, end, elapsed;
	unsigned int i, q, left = 0;
	int32_t status = 1;
	uint64_t seq;
	int fd2, ret;

	fd2 = open_card(&self->card);
	ASSERT_LE(0, fd2);
	for (q = 0; q < self->info.num_queues; q++) {
		for (i = 0; i < CLOSE_LONG_JOBS; i++)
			ASSERT_EQ(0, raw_submit(fd2, q, DRM_LPU_NOP_MAX_CYCLES,
						&seq));
		for (i = 0; i < 16; i++)
			ASSERT_EQ(0, raw_submit(fd2, q, 1000, &seq));
	}
	/* The scheduler hands jobs to the device asynchronously. */
	end = now_ns() + NSEC_PER_SEC;
	for (;;) {
		ASSERT_EQ(0, queues_inflight(&self->card,
					     self->info.num_queues, &left));
		if (left || now_ns() > end)
			break;
		usleep(10000);
	}
	EXPECT_LT(0, left) TH_LOG("debugfs shows no job in flight");

	/*
	 * close() must not wait for the backlog (CLOSE_LONG_JOBS seconds per
	 * queue): half of it is a generous bound for a busy emulator.
	 */
	t0 = now_ns();
	EXPECT_EQ(0, close(fd2));
	elapsed = now_ns() - t0;
	EXPECT_GT(CLOSE_LONG_JOBS * NSEC_PER_SEC / 2, elapsed)
		TH_LOG("close() took %lld ms", (long long)(elapsed / NSEC_PER_MSEC));

	/* Whatever the device still runs drains in bounded time. */
	ret = wait_queues_idle(&self->card, self->info.num_queues,
			       (CLOSE_LONG_JOBS + 10) * 1000, &left);
	EXPECT_EQ(0, ret) TH_LOG("%u jobs still in flight after close", left);

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

/* Good jobs queued on the faulting queue behind the bad one. */
#define GOOD_BEHIND_BAD		4

TEST_F_TIMEOUT(lpu, bad_descriptor_fails_job_with_eio, 60)
{
	const unsigned int q = 2 % self->info.num_queues;
	const unsigned int other = (q + 1) % self->info.num_queues;
	uint64_t head, bad, good[GOOD_BEHIND_BAD], good_other, next;
	char path[PATH_MAX], text[16];
	int32_t status = 0;
	unsigned int i;
	int kmsg;

	kmsg = kmsg_open_at_end();
	ASSERT_LE(0, kmsg);
	/*
	 * A 200 ms job ahead of the bad one keeps the queue busy until every
	 * job below is on the ring, so recovery has to re-emit the good
	 * jobs the device never reached.
	 */
	ASSERT_EQ(0, raw_submit(self->fd, q, 200 * NSEC_PER_MSEC, &head));
	debugfs_path(&self->card, "inject_bad_descriptor", path, sizeof(path));
	snprintf(text, sizeof(text), "%u\n", q);
	ASSERT_EQ(0, write_text(path, text)) TH_LOG("write %s", path);
	ASSERT_EQ(0, raw_submit(self->fd, q, 0, &bad));
	for (i = 0; i < GOOD_BEHIND_BAD; i++)
		ASSERT_EQ(0, raw_submit(self->fd, q, 1000, &good[i]));
	ASSERT_EQ(0, raw_submit(self->fd, other, 0, &good_other));

	/* WAIT succeeds; the job's own status carries the device error. */
	ASSERT_EQ(0, wait_ms(self->fd, bad, 20000, &status));
	EXPECT_EQ(-EIO, status);

	/* One dmesg line from this card naming the queue. */
	EXPECT_EQ(0, kmsg_find_queue(kmsg, &self->card, q, NULL, 5000))
		TH_LOG("no kernel message from %s naming queue %u",
		       self->card.pci_addr, q);
	close(kmsg);

	/* The job before it and those behind it are innocent. */
	status = 1;
	EXPECT_EQ(0, wait_ms(self->fd, head, 20000, &status));
	EXPECT_EQ(0, status);
	for (i = 0; i < GOOD_BEHIND_BAD; i++) {
		status = 1;
		EXPECT_EQ(0, wait_ms(self->fd, good[i], 20000, &status));
		EXPECT_EQ(0, status) TH_LOG("job %u behind the bad one", i);
	}
	/* Other queues never noticed; the faulted queue recovered. */
	status = 1;
	EXPECT_EQ(0, wait_ms(self->fd, good_other, 20000, &status));
	EXPECT_EQ(0, status);
	for (i = 0; i < 16; i++)
		ASSERT_EQ(0, raw_submit(self->fd, q, 0, &next));
	status = 1;
	EXPECT_EQ(0, wait_ms(self->fd, next, 20000, &status));
	EXPECT_EQ(0, status);

	/*
	 * The scheduler frees a queue's jobs in order, so with later jobs
	 * done (and a moment for its free work) the failed job has been
	 * freed. Its failure must still be reported, never success.
	 */
	usleep(100000);
	status = 0;
	EXPECT_EQ(0, raw_wait(self->fd, bad, 0, &status, NULL));
	EXPECT_EQ(-EIO, status);
}

/*
 * Failed jobs whose status a file remembers (DRM_IOCTL_LPU_WAIT in
 * uapi/drm/lpu_accel.h), and more failures than that.
 */
#define MANY_FAILURES		(DRM_LPU_FAILURES_KEPT + 36)

TEST_F_TIMEOUT(lpu, many_failures_never_read_as_success, 120)
{
	const unsigned int q = 1 % self->info.num_queues;
	const unsigned int newest_forgotten = MANY_FAILURES - DRM_LPU_FAILURES_KEPT - 1;
	uint64_t bad[MANY_FAILURES], good[MANY_FAILURES];
	char path[PATH_MAX], text[16];
	int32_t status, want;
	unsigned int i;

	debugfs_path(&self->card, "inject_bad_descriptor", path, sizeof(path));
	snprintf(text, sizeof(text), "%u\n", q);
	for (i = 0; i < MANY_FAILURES; i++) {
		ASSERT_EQ(0, write_text(path, text));
		ASSERT_EQ(0, raw_submit(self->fd, q, 0, &bad[i]));
		/* A good job after each failure, so they are not adjacent. */
		ASSERT_EQ(0, raw_submit(self->fd, q, 0, &good[i]));
		status = 1;
		ASSERT_EQ(0, wait_ms(self->fd, good[i], 20000, &status));
		ASSERT_EQ(0, status) TH_LOG("good job after failure %u", i);
	}
	usleep(100000);	/* let the scheduler free the last jobs */

	/*
	 * Memory per file is bounded: the newest DRM_LPU_FAILURES_KEPT failures
	 * report -EIO, older ones are forgotten, and every finished job at
	 * or below the newest forgotten one reads as unknown (-ENODATA),
	 * never as 0. Jobs above it report their own success.
	 */
	for (i = 0; i < MANY_FAILURES; i++) {
		want = i > newest_forgotten ? -EIO : -ENODATA;
		status = 1;
		ASSERT_EQ(0, raw_wait(self->fd, bad[i], 0, &status, NULL));
		EXPECT_EQ(want, status) TH_LOG("failed job %u (seq %llu)", i,
					       (unsigned long long)bad[i]);
		want = i >= newest_forgotten ? 0 : -ENODATA;
		status = 1;
		ASSERT_EQ(0, raw_wait(self->fd, good[i], 0, &status, NULL));
		EXPECT_EQ(want, status) TH_LOG("good job %u (seq %llu)", i,
					       (unsigned long long)good[i]);
	}
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

TEST_F_TIMEOUT(lpu, submit_blocks_at_job_limit_and_signal_interrupts, 300)
{
	const unsigned int q = 3 % self->info.num_queues;
	const unsigned int hold_q = (q + 1) % self->info.num_queues;
	struct drm_lpu_submit first_req = { .queue = q, .job_type = LPU_JOB_NOP };
	unsigned int i, hold_s;
	int64_t t0, elapsed;
	int32_t status = 1;
	uint64_t seq, last = 0;
	uint32_t hold;
	int ret, other;

	/*
	 * The first job waits for a fence that signals only after hold_s
	 * seconds, so no job of this file finishes before the queue is full
	 * and the signal has come, even on a slow debug kernel under load:
	 * hold_s is twice the measured time of the submits plus 3 s.
	 */
	ret = long_jobs_to_outlast(self->fd, q, DRM_LPU_MAX_UNFINISHED_JOBS);
	ASSERT_LT(0, ret) TH_LOG("calibration failed: %d", ret);
	hold_s = ret;
	other = open_card(&self->card);
	ASSERT_LE(0, other);
	ret = hold_fence(other, hold_q, hold_s, self->fd, &hold);
	ASSERT_EQ(0, ret) TH_LOG("holding fence: %d", ret);

	first_req.in_syncobj = hold;
	ASSERT_EQ(0, raw_ioctl(self->fd, DRM_IOCTL_LPU_SUBMIT, &first_req));
	for (i = 1; i < DRM_LPU_MAX_UNFINISHED_JOBS; i++) {
		ret = raw_submit(self->fd, q, 0, &last);
		ASSERT_EQ(0, ret) TH_LOG("submit %u: %d", i, ret);
	}
	ASSERT_EQ(first_req.seq + DRM_LPU_MAX_UNFINISHED_JOBS - 1, last);

	/* One more blocks, until a signal without SA_RESTART ends it. */
	ASSERT_EQ(0, arm_alarm(300, false));
	t0 = now_ns();
	ret = raw_submit(self->fd, q, 0, &seq);
	elapsed = now_ns() - t0;
	EXPECT_EQ(-EINTR, ret) TH_LOG("SUBMIT over the limit returned %d", ret);
	EXPECT_EQ(1, alarms);
	EXPECT_LE(250 * NSEC_PER_MSEC, elapsed)
		TH_LOG("SUBMIT returned after %lld ms, before the signal",
		       (long long)(elapsed / NSEC_PER_MSEC));

	/* The interrupted SUBMIT queued nothing and took no number. */
	status = 1;
	ASSERT_EQ(0, wait_ms(self->fd, last, (hold_s + 60) * 1000, &status));
	EXPECT_EQ(0, status);
	ASSERT_EQ(0, raw_submit(self->fd, q, 0, &seq));
	EXPECT_EQ(last + 1, seq);
	status = 1;
	EXPECT_EQ(0, wait_ms(self->fd, seq, 20000, &status));
	EXPECT_EQ(0, status);
	drmSyncobjDestroy(self->fd, hold);
	close(other);
}

TEST_F(lpu, kernel_not_tainted)
{
	expect_not_tainted(_metadata);
}

TEST_HARNESS_MAIN
