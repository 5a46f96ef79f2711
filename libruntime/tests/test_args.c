// SPDX-License-Identifier: MIT
/*
 * Argument validation of every entry point, and lpu_open_path() on nodes
 * that are not LPU devices. Returns are checked to be -errno, never -1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lpu.h"
#include "fake_sysfs.h"
#include "tap.h"

static void test_null_and_index(void)
{
	struct lpu_device *dev = (struct lpu_device *)&dev;
	struct lpu_card card;
	struct lpu_info info;
	uint64_t seq;

	tap_is(lpu_open(-1, &dev), -EINVAL, "lpu_open(-1) is -EINVAL");
	tap_ok(!dev, "lpu_open(-1) clears *out");
	tap_is(lpu_open(0, NULL), -EINVAL, "lpu_open(0, NULL) is -EINVAL");
	tap_is(lpu_open_path(NULL, &dev), -EINVAL,
	       "lpu_open_path(NULL) is -EINVAL");
	tap_is(lpu_open_path("", &dev), -EINVAL, "lpu_open_path(\"\") is -EINVAL");
	tap_is(lpu_open_path("/dev/null", NULL), -EINVAL,
	       "lpu_open_path(path, NULL) is -EINVAL");
	tap_is(lpu_card_get(0, NULL), -EINVAL, "lpu_card_get(0, NULL) is -EINVAL");
	tap_is(lpu_card_get(-1, &card), -EINVAL, "lpu_card_get(-1) is -EINVAL");
	tap_is(lpu_query(NULL, &info), -EINVAL, "lpu_query(NULL) is -EINVAL");
	tap_is(lpu_submit_nop(NULL, 0, 0, &seq), -EINVAL,
	       "lpu_submit_nop(NULL) is -EINVAL");
	tap_is(lpu_wait(NULL, 1, 0, NULL), -EINVAL, "lpu_wait(NULL) is -EINVAL");
	tap_is(lpu_fd(NULL), -EINVAL, "lpu_fd(NULL) is -EINVAL");
	tap_is(lpu_close(NULL), 0, "lpu_close(NULL) is a no-op");
}

static void test_no_cards(void)
{
	struct lpu_device *dev = (struct lpu_device *)&dev;

	fake_sysfs_create();
	tap_is(lpu_open(0, &dev), -ENODEV, "no cards: lpu_open(0) is -ENODEV");
	tap_ok(!dev, "no cards: *out is NULL");
	tap_is(lpu_open(7, &dev), -ENODEV, "no cards: lpu_open(7) is -ENODEV");
	fake_sysfs_destroy();
}

static void test_not_lpu_nodes(void)
{
	char path[] = "/tmp/lpu-regular-XXXXXX";
	struct lpu_device *dev;
	int fd;

	tap_is(lpu_open_path("/nonexistent/accel0", &dev), -ENOENT,
	       "missing node is -ENOENT");
	tap_is(lpu_open_path("/", &dev), -EISDIR, "a directory is -EISDIR");
	/* A character device without DRM ioctls: VERSION fails with ENOTTY. */
	tap_is(lpu_open_path("/dev/null", &dev), -LPU_E_NOT_LPU,
	       "/dev/null is -LPU_E_NOT_LPU");
	tap_is(lpu_open_path("/dev/zero", &dev), -LPU_E_NOT_LPU,
	       "/dev/zero is -LPU_E_NOT_LPU");

	fd = mkstemp(path);
	if (fd >= 0)
		close(fd);
	tap_is(lpu_open_path(path, &dev), -LPU_E_NOT_LPU,
	       "a regular file is -LPU_E_NOT_LPU");
	unlink(path);
}

int main(void)
{
	test_null_and_index();
	test_no_cards();
	test_not_lpu_nodes();
	return tap_done();
}
