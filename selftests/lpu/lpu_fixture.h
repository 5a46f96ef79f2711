/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fixture every LPU selftest starts from: card 0 found through sysfs,
 * its node opened with a plain open(), and GET_INFO already read. A missing
 * card fails the test: the normal run must never skip.
 */
#ifndef LPU_FIXTURE_H
#define LPU_FIXTURE_H

#include <unistd.h>

#include "kselftest_harness.h"
#include "lpu_util.h"

FIXTURE(lpu) {
	struct lpu_card card;
	struct drm_lpu_info info;
	int fd;
};

FIXTURE_SETUP(lpu)
{
	int ret;

	self->fd = -1;
	ret = find_card(&self->card);
	ASSERT_EQ(0, ret) TH_LOG("no LPU card found: %s", lpu_strerror(ret));
	self->fd = open_card(&self->card);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", self->card.dev_path,
				      lpu_strerror(self->fd));
	ASSERT_EQ(0, raw_info(self->fd, &self->info));
	ASSERT_LT(0, self->info.num_queues);
}

FIXTURE_TEARDOWN(lpu)
{
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * Body of each file's last test, kernel_not_tainted: the tests before it
 * did not taint the kernel (WARN, oops, bad page, soft lockup).
 */
static inline void expect_not_tainted(struct __test_metadata *_metadata)
{
	unsigned long taint;

	ASSERT_EQ(0, read_taint(&taint));
	EXPECT_EQ(0, taint & LPU_BAD_TAINT) TH_LOG("tainted: %#lx", taint);
}

#endif /* LPU_FIXTURE_H */
