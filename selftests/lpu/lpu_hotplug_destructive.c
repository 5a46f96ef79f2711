// SPDX-License-Identifier: GPL-2.0
/*
 * Destructive LPU tests, run last: PCI removal with an open file, then a
 * rescan; module unload refused while a file is open, then unload and
 * reload. Each test leaves the card bound and /dev/lpu0 present again.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lpu_fixture.h"

#define UDEV_TIMEOUT_MS	30000
#define LPU_SYMLINK	"/dev/lpu0"

static int sys_delete_module(const char *name, unsigned int flags)
{
	return syscall(__NR_delete_module, name, flags) ? -errno : 0;
}

static int sys_finit_module(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = syscall(__NR_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

/* The card answers GET_INFO and runs a job on a fresh file. */
static int card_works(const struct lpu_card *card)
{
	struct drm_lpu_info info;
	int32_t status = 1;
	uint64_t seq;
	int fd, ret;

	fd = open_card(card);
	if (fd < 0)
		return fd;
	ret = raw_info(fd, &info);
	if (!ret)
		ret = raw_submit(fd, 0, 0, &seq);
	if (!ret)
		ret = wait_ms(fd, seq, 20000, &status);
	if (!ret)
		ret = status;
	close(fd);
	return ret;
}

TEST_F_TIMEOUT(lpu, pci_remove_with_open_fd_then_rescan, 120)
{
	struct drm_lpu_info info;
	struct lpu_card again;
	char path[PATH_MAX];
	uint64_t done, busy, seq;
	int32_t status;

	ASSERT_EQ(0, raw_submit(self->fd, 0, 0, &done));
	ASSERT_EQ(0, wait_ms(self->fd, done, 20000, NULL));
	/* Leave a long job running across the removal. */
	ASSERT_EQ(0, raw_submit(self->fd, 1, DRM_LPU_NOP_MAX_CYCLES, &busy));

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/remove",
		 self->card.pci_addr);
	ASSERT_EQ(0, write_text(path, "1\n"));
	EXPECT_EQ(0, wait_for_path(self->card.dev_path, false, UDEV_TIMEOUT_MS));

	/* The open file outlives the device; every ioctl says so. */
	EXPECT_EQ(-ENODEV, raw_info(self->fd, &info));
	EXPECT_EQ(-ENODEV, raw_submit(self->fd, 0, 0, &seq));
	EXPECT_EQ(-ENODEV, raw_wait(self->fd, busy, 0, &status, NULL));
	EXPECT_EQ(-ENODEV, raw_wait(self->fd, done, 0, &status, NULL));
	EXPECT_EQ(0, close(self->fd));
	self->fd = -1;

	ASSERT_EQ(0, write_text("/sys/bus/pci/rescan", "1\n"));
	ASSERT_EQ(0, wait_for_card(&again, UDEV_TIMEOUT_MS));
	EXPECT_STREQ(self->card.pci_addr, again.pci_addr);
	EXPECT_EQ(0, wait_for_path(LPU_SYMLINK, true, UDEV_TIMEOUT_MS));
	EXPECT_EQ(0, card_works(&again));
}

TEST_F_TIMEOUT(lpu, rmmod_refused_while_open_then_reload, 120)
{
	const char *module = getenv("LPU_MODULE") ?: "/opt/lpu/lpu.ko";
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

	ASSERT_EQ(0, sys_finit_module(module));
	ASSERT_EQ(0, wait_for_card(&again, UDEV_TIMEOUT_MS));
	EXPECT_EQ(0, wait_for_path(LPU_SYMLINK, true, UDEV_TIMEOUT_MS));
	EXPECT_EQ(0, card_works(&again));
	/* Loading it again while loaded is refused. */
	EXPECT_EQ(-EEXIST, sys_finit_module(module));
}

TEST_F(lpu, kernel_not_tainted)
{
	unsigned long taint;

	ASSERT_EQ(0, read_taint(&taint));
	EXPECT_EQ(0, taint & LPU_BAD_TAINT) TH_LOG("tainted: %#lx", taint);
}

TEST_HARNESS_MAIN
