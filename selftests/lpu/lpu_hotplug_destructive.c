// SPDX-License-Identifier: GPL-2.0
/*
 * Destructive LPU tests, run last: PCI removal with an open file, and with
 * threads blocked in WAIT and in SUBMIT, then a rescan; module unload
 * refused while a file is open, then unload and reload; a reload with a
 * short job_timeout_ms to provoke the hang recovery. Each test leaves the
 * card bound, /dev/lpu0 present and the module at its default parameters.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lpu_fixture.h"
#include "lpu_module.h"

static int pci_remove(const struct lpu_card *card)
{
	char path[PATH_MAX];
	int ret = pci_path(card, "remove", path, sizeof(path));

	return ret ?: write_text(path, "1\n");
}

static int pci_rescan(void)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/bus/pci/rescan", lpu_sysfs_root());
	return write_text(path, "1\n");
}

TEST_F_TIMEOUT(lpu, pci_remove_with_open_fd_then_rescan, 120)
{
	struct drm_lpu_info info;
	struct lpu_card again;
	uint64_t done, busy, seq;
	int32_t status;
	char line[512];
	int kmsg;

	ASSERT_EQ(0, raw_submit(self->fd, 0, 0, &done));
	ASSERT_EQ(0, wait_ms(self->fd, done, 20000, NULL));
	/* Leave a long job running across the removal. */
	ASSERT_EQ(0, raw_submit(self->fd, 1, DRM_LPU_NOP_MAX_CYCLES, &busy));

	kmsg = kmsg_open_at_end();
	ASSERT_LE(0, kmsg);
	ASSERT_EQ(0, pci_remove(&self->card));
	EXPECT_EQ(0, wait_for_path(self->card.dev_path, false, UDEV_TIMEOUT_MS));
	/*
	 * One log line says what the removal did to the jobs on the card (the
	 * long job may not have reached the card yet, so no count is checked).
	 */
	EXPECT_EQ(0, kmsg_find(kmsg, self->card.pci_addr,
			       "jobs on the card failed with -ENODEV",
			       line, sizeof(line), 5000));
	close(kmsg);

	/* The open file outlives the device; every ioctl says so. */
	EXPECT_EQ(-ENODEV, raw_info(self->fd, &info));
	EXPECT_EQ(-ENODEV, raw_submit(self->fd, 0, 0, &seq));
	EXPECT_EQ(-ENODEV, raw_wait(self->fd, busy, 0, &status, NULL));
	EXPECT_EQ(-ENODEV, raw_wait(self->fd, done, 0, &status, NULL));
	EXPECT_EQ(0, close(self->fd));
	self->fd = -1;

	ASSERT_EQ(0, pci_rescan());
	ASSERT_EQ(0, wait_for_card(&again, UDEV_TIMEOUT_MS));
	EXPECT_STREQ(self->card.pci_addr, again.pci_addr);
	EXPECT_EQ(0, wait_for_path(LPU_SYMLINK, true, UDEV_TIMEOUT_MS));
	EXPECT_EQ(0, card_works(&again));
}

/* One ioctl run on its own thread, so the test can see it block. */
struct blocked_call {
	pthread_t thread;
	int fd;
	uint32_t queue;
	uint64_t seq;
	int32_t status;
	int ret;
	atomic_bool done;
};

static void *blocked_wait(void *arg)
{
	struct blocked_call *c = arg;

	c->status = 1;
	c->ret = raw_wait(c->fd, c->seq, now_ns() + 60 * NSEC_PER_SEC,
			  &c->status, NULL);
	atomic_store(&c->done, true);
	return NULL;
}

static void *blocked_submit(void *arg)
{
	struct blocked_call *c = arg;

	c->ret = raw_submit(c->fd, c->queue, 0, &c->seq);
	atomic_store(&c->done, true);
	return NULL;
}

/* Poll until @c returned; 0, or -ETIMEDOUT if it is still blocked. */
static int call_returned(struct blocked_call *c, int timeout_ms)
{
	int64_t end = now_ns() + timeout_ms * NSEC_PER_MSEC;

	while (!atomic_load(&c->done)) {
		if (now_ns() > end)
			return -ETIMEDOUT;
		usleep(10000);
	}
	return 0;
}

TEST_F_TIMEOUT(lpu, pci_remove_unblocks_wait_and_submit, 120)
{
	const unsigned int wq = 1 % self->info.num_queues;
	const unsigned int sq = 2 % self->info.num_queues;
	struct blocked_call waiter = { .fd = self->fd };
	struct blocked_call submitter = { .queue = sq };
	struct drm_lpu_submit first_req = { .queue = sq, .job_type = LPU_JOB_NOP };
	struct lpu_card again;
	unsigned int i, long_jobs;
	uint32_t hold;
	uint64_t seq;
	int full, ret;

	full = open_card(&self->card);
	ASSERT_LE(0, full);
	submitter.fd = full;
	/*
	 * Nothing may finish before the removal: the waiter's job waits
	 * behind 1 s jobs, as many as outlast filling the second file on this
	 * kernel (a debug kernel takes submissions far slower), and the
	 * second file's first job waits for the last of them.
	 */
	ret = long_jobs_to_outlast(full, sq, DRM_LPU_MAX_UNFINISHED_JOBS);
	ASSERT_LT(0, ret) TH_LOG("calibration failed: %d", ret);
	long_jobs = ret;
	ret = hold_fence(self->fd, wq, long_jobs, full, &hold);
	ASSERT_EQ(0, ret) TH_LOG("holding fence: %d", ret);
	ASSERT_EQ(0, raw_submit(self->fd, wq, 0, &waiter.seq));

	/* A second file at its job limit, all behind the held job. */
	first_req.in_syncobj = hold;
	ASSERT_EQ(0, raw_ioctl(full, DRM_IOCTL_LPU_SUBMIT, &first_req));
	for (i = 1; i < DRM_LPU_MAX_UNFINISHED_JOBS; i++) {
		ret = raw_submit(full, sq, 0, &seq);
		ASSERT_EQ(0, ret) TH_LOG("submit %u: %d", i, ret);
	}

	ASSERT_EQ(0, pthread_create(&waiter.thread, NULL, blocked_wait,
				    &waiter));
	ASSERT_EQ(0, pthread_create(&submitter.thread, NULL, blocked_submit,
				    &submitter));
	usleep(300000);
	ASSERT_FALSE(atomic_load(&waiter.done))
		TH_LOG("WAIT returned %d, status %d before removal", waiter.ret,
		       waiter.status);
	ASSERT_FALSE(atomic_load(&submitter.done))
		TH_LOG("SUBMIT over the limit returned %d", submitter.ret);

	ASSERT_EQ(0, pci_remove(&self->card));

	/* Both return promptly instead of waiting for work that is gone. */
	ret = call_returned(&waiter, 10000);
	ASSERT_EQ(0, ret) TH_LOG("WAIT still blocked after removal");
	ret = call_returned(&submitter, 10000);
	ASSERT_EQ(0, ret) TH_LOG("SUBMIT still blocked after removal");
	pthread_join(waiter.thread, NULL);
	pthread_join(submitter.thread, NULL);
	/* A WAIT asleep at removal sees its job fail with -ENODEV. */
	EXPECT_EQ(0, waiter.ret);
	EXPECT_EQ(-ENODEV, waiter.status);
	EXPECT_EQ(-ENODEV, submitter.ret);

	EXPECT_EQ(0, wait_for_path(self->card.dev_path, false, UDEV_TIMEOUT_MS));
	EXPECT_EQ(0, close(full));
	EXPECT_EQ(0, close(self->fd));
	self->fd = -1;

	ASSERT_EQ(0, pci_rescan());
	ASSERT_EQ(0, wait_for_card(&again, UDEV_TIMEOUT_MS));
	EXPECT_EQ(0, wait_for_path(LPU_SYMLINK, true, UDEV_TIMEOUT_MS));
	EXPECT_EQ(0, card_works(&again));
}

TEST_F_TIMEOUT(lpu, rmmod_refused_while_open_then_reload, 120)
{
	const char *module = module_path();
	unsigned long refcnt = 0;
	struct lpu_card again;
	char text[32];
	int ret;

	ASSERT_EQ(0, access(module, R_OK)) TH_LOG("LPU_MODULE %s", module);
	ASSERT_LT(0, read_text("/sys/module/lpu/refcnt", text, sizeof(text)));
	refcnt = strtoul(text, NULL, 10);
	EXPECT_LT(0, refcnt) TH_LOG("open file holds no module reference");

	/*
	 * The open file pins the module. The syscall says EWOULDBLOCK
	 * (EAGAIN); kmod's rmmod turns that into "Module lpu is in use".
	 */
	ret = sys_delete_module("lpu", O_NONBLOCK);
	EXPECT_EQ(-EWOULDBLOCK, ret);
	ASSERT_EQ(0, access("/sys/module/lpu", F_OK));
	/* Still fully usable after the refused unload. */
	ASSERT_EQ(0, card_works(&self->card));

	EXPECT_EQ(0, close(self->fd));
	self->fd = -1;
	ASSERT_EQ(0, sys_delete_module("lpu", O_NONBLOCK));
	EXPECT_EQ(0, wait_for_path("/sys/module/lpu", false, UDEV_TIMEOUT_MS));
	EXPECT_EQ(0, wait_for_path(self->card.dev_path, false, UDEV_TIMEOUT_MS));
	EXPECT_EQ(0, lpu_card_count());
	/* Unloading twice is an error, not a crash. */
	EXPECT_EQ(-ENOENT, sys_delete_module("lpu", O_NONBLOCK));

	ASSERT_EQ(0, sys_finit_module(module, ""));
	ASSERT_EQ(0, wait_for_card(&again, UDEV_TIMEOUT_MS));
	EXPECT_EQ(0, wait_for_path(LPU_SYMLINK, true, UDEV_TIMEOUT_MS));
	EXPECT_EQ(0, card_works(&again));
	/* Loading it again while loaded is refused. */
	EXPECT_EQ(-EEXIST, sys_finit_module(module, ""));
}

/* Short enough that a 1 s NOP is a hang; long enough for anything else. */
#define SHORT_JOB_TIMEOUT_MS	200

/*
 * A fixture for tests that reload the module with other parameters: it
 * starts with no file open and, even if the test fails, ends with lpu.ko
 * loaded again with its defaults so later tests see a normal driver.
 */
FIXTURE(lpu_reload) {
	struct lpu_card card;
	struct drm_lpu_info info;
	int fd;
};

FIXTURE_SETUP(lpu_reload)
{
	self->fd = -1;
	ASSERT_EQ(0, access(module_path(), R_OK)) TH_LOG("LPU_MODULE %s",
							 module_path());
	ASSERT_EQ(0, find_card(&self->card));
}

/*
 * In the harness's parent process: the 6.12 harness skips a child's
 * teardown after a failed ASSERT, which would leave the next tests without
 * a card. The test's process has exited, so self->fd is closed already.
 */
FIXTURE_TEARDOWN_PARENT(lpu_reload)
{
	unsigned long timeout_ms = 0;
	struct lpu_card card;

	EXPECT_EQ(0, reload_module("", &card));
	EXPECT_EQ(0, module_param_ulong("job_timeout_ms", &timeout_ms));
	EXPECT_NE(SHORT_JOB_TIMEOUT_MS, timeout_ms);
	EXPECT_EQ(0, card_works(&card));
}

/* Reload lpu.ko with SHORT_JOB_TIMEOUT_MS, open the card, read its info. */
static void load_short_timeout(struct __test_metadata *_metadata,
			       struct lpu_card *card, int *fd,
			       struct drm_lpu_info *info)
{
	unsigned long timeout_ms = 0;
	char params[64];

	snprintf(params, sizeof(params), "job_timeout_ms=%u",
		 SHORT_JOB_TIMEOUT_MS);
	ASSERT_EQ(0, reload_module(params, card));
	ASSERT_EQ(0, module_param_ulong("job_timeout_ms", &timeout_ms));
	ASSERT_EQ(SHORT_JOB_TIMEOUT_MS, timeout_ms);
	*fd = open_card(card);
	ASSERT_LE(0, *fd);
	ASSERT_EQ(0, raw_info(*fd, info));
	ASSERT_LT(1, info->num_queues);
}

/*
 * A bad module parameter must fail probe with one line naming it, bind no
 * card, and leave the module unloadable; the teardown reloads the defaults.
 */
TEST_F_TIMEOUT(lpu_reload, invalid_ring_entries_fails_probe_cleanly, 120)
{
	char line[512];
	int kmsg;

	kmsg = kmsg_open_at_end();
	ASSERT_LE(0, kmsg);
	ASSERT_EQ(0, sys_delete_module("lpu", O_NONBLOCK));
	ASSERT_EQ(0, wait_for_path("/sys/module/lpu", false, UDEV_TIMEOUT_MS));
	/* Not a power of two: the module loads, the probe refuses the card. */
	ASSERT_EQ(0, sys_finit_module(module_path(), "ring_entries=100"));
	EXPECT_EQ(0, kmsg_find(kmsg, self->card.pci_addr, "ring_entries=100 invalid",
			       line, sizeof(line), 5000));
	close(kmsg);
	EXPECT_EQ(0, lpu_card_count());
	EXPECT_EQ(0, wait_for_path(LPU_SYMLINK, false, UDEV_TIMEOUT_MS));
}

TEST_F_TIMEOUT(lpu_reload, hung_job_times_out_and_queue_recovers, 120)
{
	uint64_t hung, behind[4], later, other;
	int64_t t0, elapsed;
	int32_t status = 0;
	unsigned int i;
	int kmsg;

	load_short_timeout(_metadata, &self->card, &self->fd, &self->info);
	kmsg = kmsg_open_at_end();
	ASSERT_LE(0, kmsg);

	t0 = now_ns();
	ASSERT_EQ(0, raw_submit(self->fd, 0, DRM_LPU_NOP_MAX_CYCLES, &hung));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, raw_submit(self->fd, 0, 1000, &behind[i]));
	ASSERT_EQ(0, raw_submit(self->fd, 1, 1000, &other));

	/* WAIT succeeds; the job's status says the driver gave up on it. */
	ASSERT_EQ(0, wait_ms(self->fd, hung, 20000, &status));
	EXPECT_EQ(-ETIMEDOUT, status);
	EXPECT_EQ(0, kmsg_find_queue(kmsg, &self->card, 0, "timed out", 5000))
		TH_LOG("no kernel message from %s on queue 0 timing out",
		       self->card.pci_addr);
	close(kmsg);

	/* The jobs queued behind it never ran late enough to be guilty. */
	for (i = 0; i < 4; i++) {
		status = 1;
		EXPECT_EQ(0, wait_ms(self->fd, behind[i], 20000, &status));
		EXPECT_EQ(0, status) TH_LOG("job %u behind the hung one", i);
	}
	/*
	 * ...and ran once the reset took the hung job off the device, not
	 * after its full second.
	 */
	elapsed = now_ns() - t0;
	EXPECT_GT(900 * NSEC_PER_MSEC, elapsed)
		TH_LOG("jobs behind the hung one done after %lld ms",
		       (long long)(elapsed / NSEC_PER_MSEC));
	status = 1;
	EXPECT_EQ(0, wait_ms(self->fd, other, 20000, &status));
	EXPECT_EQ(0, status);
	/* The reset queue runs new work. */
	ASSERT_EQ(0, raw_submit(self->fd, 0, 1000, &later));
	status = 1;
	EXPECT_EQ(0, wait_ms(self->fd, later, 20000, &status));
	EXPECT_EQ(0, status);
	/* Teardown restores the default timeout. */
}

TEST_F_TIMEOUT(lpu_reload, back_to_back_hangs_on_two_queues, 120)
{
	uint64_t hung[3], behind[4], later;
	int64_t t0, elapsed;
	int32_t status;
	unsigned int i;

	load_short_timeout(_metadata, &self->card, &self->fd, &self->info);
	/*
	 * Two hangs in a row on queue 0, the second one re-emitted by the
	 * recovery from the first, while queue 1 hangs at the same time.
	 */
	t0 = now_ns();
	ASSERT_EQ(0, raw_submit(self->fd, 0, DRM_LPU_NOP_MAX_CYCLES, &hung[0]));
	ASSERT_EQ(0, raw_submit(self->fd, 0, DRM_LPU_NOP_MAX_CYCLES, &hung[1]));
	ASSERT_EQ(0, raw_submit(self->fd, 0, 1000, &behind[0]));
	ASSERT_EQ(0, raw_submit(self->fd, 0, 1000, &behind[1]));
	ASSERT_EQ(0, raw_submit(self->fd, 1, DRM_LPU_NOP_MAX_CYCLES,
				&hung[2]));
	ASSERT_EQ(0, raw_submit(self->fd, 1, 1000, &behind[2]));
	ASSERT_EQ(0, raw_submit(self->fd, 1, 1000, &behind[3]));

	for (i = 0; i < 3; i++) {
		status = 1;
		EXPECT_EQ(0, wait_ms(self->fd, hung[i], 20000, &status));
		EXPECT_EQ(-ETIMEDOUT, status) TH_LOG("hung job %u", i);
	}
	for (i = 0; i < 4; i++) {
		status = 1;
		EXPECT_EQ(0, wait_ms(self->fd, behind[i], 20000, &status));
		EXPECT_EQ(0, status) TH_LOG("innocent job %u", i);
	}
	/* Two resets, not two full seconds of hung jobs. */
	elapsed = now_ns() - t0;
	EXPECT_GT(1800 * NSEC_PER_MSEC, elapsed)
		TH_LOG("innocent jobs done after %lld ms",
		       (long long)(elapsed / NSEC_PER_MSEC));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, raw_submit(self->fd, i, 0, &later));
		status = 1;
		EXPECT_EQ(0, wait_ms(self->fd, later, 20000, &status));
		EXPECT_EQ(0, status) TH_LOG("new job on queue %u", i);
	}
}

TEST_F(lpu, kernel_not_tainted)
{
	expect_not_tainted(_metadata);
}

TEST_HARNESS_MAIN
