// SPDX-License-Identifier: MIT
/*
 * lpu_query() passes DRM_IOCTL_LPU_GET_INFO through field by field: every
 * field, the firmware's ABI and reserved SRAM (driver 0.4) included; zeroes
 * from a driver before 0.4; and lpu_query@LPU_0.1, which binaries built
 * with the shorter struct lpu_info of liblpu 0.1 to 0.3 call, writes not a
 * byte past that struct. The card is /dev/null (a character device) with
 * this program's ioctl() standing in for the driver's two ioctls.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <xf86drm.h>
#include <drm/lpu_accel.h>

#include "lpu.h"
#include "tap.h"

static struct drm_lpu_info canned = {
	.vendor_id = 0x4c50, .device_id = 3, .revision = 1, .num_queues = 4,
	.hw_version = 0x30000, .ring_entries = 4096, .capabilities = 0xff,
	.sram_size = 256ULL << 20, .driver_version = 0x000400,
	.fw_version = 0x010203, .fw_abi_version = 0x010000,
	.sram_reserved = 65536,
};

/* Bytes of drm_lpu_info the "driver" writes: a 0.3 driver wrote fewer. */
static size_t driver_size = sizeof(canned);
static int info_calls;

static void put_str(char *buf, size_t len, const char *s)
{
	if (buf && len)
		snprintf(buf, len, "%s", s);
}

/* The driver, as far as lpu_open_path() and lpu_query() need one. */
int ioctl(int fd, unsigned long req, ...)
{
	struct stat st, null_st;
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fstat(fd, &st) || stat("/dev/null", &null_st) || st.st_rdev != null_st.st_rdev)
		return (int)syscall(SYS_ioctl, fd, req, arg);
	if (req == DRM_IOCTL_VERSION) {
		struct drm_version *v = arg;

		v->version_major = LPU_DRIVER_MAJOR;
		v->version_minor = 4;
		v->version_patchlevel = 0;
		put_str(v->name, v->name_len + 1, DRM_LPU_DRIVER_NAME);
		v->name_len = strlen(DRM_LPU_DRIVER_NAME);
		put_str(v->date, v->date_len + 1, "0");
		v->date_len = 1;
		put_str(v->desc, v->desc_len + 1, "LPU");
		v->desc_len = 3;
		return 0;
	}
	if (req == DRM_IOCTL_LPU_GET_INFO) {
		info_calls++;
		memcpy(arg, &canned, driver_size);
		return 0;
	}
	errno = ENOTTY;
	return -1;
}

static void test_current(void)
{
	struct lpu_device *dev = NULL;
	struct lpu_info info;

	tap_is(lpu_open_path("/dev/null", &dev), 0, "the stand-in card opens");
	if (!dev)
		return;
	memset(&info, 0xa5, sizeof(info));
	tap_is(lpu_query(dev, &info), 0, "lpu_query");
	tap_is(info_calls, 1, "one GET_INFO");
	tap_is(info.vendor_id, canned.vendor_id, "vendor_id");
	tap_is(info.device_id, canned.device_id, "device_id");
	tap_is(info.revision, canned.revision, "revision");
	tap_is(info.num_queues, canned.num_queues, "num_queues");
	tap_is(info.hw_version, canned.hw_version, "hw_version");
	tap_is(info.ring_entries, canned.ring_entries, "ring_entries");
	tap_is(info.capabilities, canned.capabilities, "capabilities");
	tap_is(info.sram_size, canned.sram_size, "sram_size");
	tap_is(info.driver_version, canned.driver_version, "driver_version");
	tap_is(info.fw_version, canned.fw_version, "fw_version");
	tap_is(info.fw_abi_version, canned.fw_abi_version, "fw_abi_version");
	tap_is(info.rsvd0, 0, "rsvd0 is 0");
	tap_is(info.sram_reserved, canned.sram_reserved, "sram_reserved");

	/* A 0.3 driver writes up to fw_version; the rest reads 0. */
	driver_size = offsetof(struct drm_lpu_info, fw_abi_version);
	memset(&info, 0xa5, sizeof(info));
	tap_is(lpu_query(dev, &info), 0, "lpu_query with a driver before 0.4");
	tap_is(info.fw_version, canned.fw_version, "... fw_version");
	tap_is(info.fw_abi_version, 0, "... fw_abi_version 0");
	tap_is(info.sram_reserved, 0, "... sram_reserved 0");
	driver_size = sizeof(canned);
	tap_is(lpu_query(dev, NULL), -EINVAL, "lpu_query(dev, NULL) is -EINVAL");
	lpu_close(dev);
}

/* struct lpu_info of liblpu 0.1 to 0.3, as old binaries have it. */
struct old_info {
	uint16_t vendor_id, device_id, revision, num_queues;
	uint32_t hw_version, ring_entries;
	uint64_t capabilities, sram_size;
	uint32_t driver_version, fw_version;
};

static void test_compat_symbol(void)
{
	int (*open_path)(const char *path, struct lpu_device **out);
	int (*query_old)(struct lpu_device *dev, struct old_info *info);
	int (*query_new)(struct lpu_device *dev, struct lpu_info *info);
	int (*close_dev)(struct lpu_device *dev);
	struct {
		struct old_info info;
		unsigned char guard[32];
	} buf;
	struct lpu_device *dev = NULL;
	char so[PATH_MAX], *slash;
	unsigned int i, clean = 1;
	ssize_t n;
	void *h;

	/* This test is build/host-tests/X; the library build/lib/liblpu.so.0. */
	n = readlink("/proc/self/exe", so, sizeof(so) - 32);
	slash = n > 0 ? memrchr(so, '/', n) : NULL;
	if (!slash) {
		tap_ok(0, "find liblpu.so.0");
		return;
	}
	snprintf(slash, 32, "/../lib/liblpu.so.0");
	h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
	if (!tap_ok(!!h, "dlopen liblpu.so.0")) {
		printf("#   %s\n", dlerror());
		return;
	}
	open_path = (int (*)(const char *, struct lpu_device **))dlsym(h, "lpu_open_path");
	close_dev = (int (*)(struct lpu_device *))dlsym(h, "lpu_close");
	query_old = (int (*)(struct lpu_device *, struct old_info *))
		dlvsym(h, "lpu_query", "LPU_0.1");
	query_new = (int (*)(struct lpu_device *, struct lpu_info *))
		dlvsym(h, "lpu_query", "LPU_0.4");
	tap_ok(query_old && query_new && query_old != (void *)query_new,
	       "liblpu.so.0 has lpu_query@LPU_0.1 and lpu_query@@LPU_0.4");
	tap_ok(dlsym(h, "lpu_query") == (void *)query_new,
	       "binaries linked now get lpu_query@@LPU_0.4");
	if (!open_path || !close_dev || !query_old || open_path("/dev/null", &dev)) {
		tap_ok(0, "open the stand-in card through liblpu.so.0");
		dlclose(h);
		return;
	}
	memset(&buf, 0x5a, sizeof(buf));
	tap_is(query_old(dev, &buf.info), 0, "lpu_query@LPU_0.1");
	tap_is(buf.info.fw_version, canned.fw_version, "... fills fw_version");
	tap_is(buf.info.sram_size, canned.sram_size, "... fills sram_size");
	for (i = 0; i < sizeof(buf.guard); i++)
		clean &= buf.guard[i] == 0x5a;
	tap_ok(clean, "... and writes nothing past the old struct lpu_info");
	close_dev(dev);
	dlclose(h);
}

int main(void)
{
	test_current();
	test_compat_symbol();
	return tap_done();
}
