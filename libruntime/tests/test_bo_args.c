// SPDX-License-Identifier: MIT
/*
 * Argument validation of the buffer and copy API, without a card.
 *
 * A device handle is built around /dev/null, where every ioctl fails with
 * ENOTTY: a call the library rejects itself returns -EINVAL, a call that
 * got as far as the driver returns -ENOTTY. So each check tells apart
 * "validated before any ioctl" from "passed through", in both directions.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "lpu_internal.h"
#include "tap.h"

static struct lpu_device dev, other;

/* A buffer that exists only in the library (no handle behind it). */
static void fake_bo(struct lpu_bo *bo, struct lpu_device *d, uint32_t handle)
{
	memset(bo, 0, sizeof(*bo));
	bo->dev = d;
	bo->handle = handle;
	bo->refs = 1;
	bo->domain = LPU_BO_SRAM;
	bo->size = 8192;
	bo->mmap_offset = 0x100000;
	bo->device_addr = (uint64_t)handle << 32;
}

static void test_alloc(void)
{
	struct lpu_bo *bo = (struct lpu_bo *)&bo;

	tap_is(lpu_bo_alloc(&dev, LPU_BO_SRAM, 4096, 0, NULL), -EINVAL,
	       "alloc: NULL out is -EINVAL");
	tap_is(lpu_bo_alloc(NULL, LPU_BO_SRAM, 4096, 0, &bo), -EINVAL,
	       "alloc: NULL device is -EINVAL");
	tap_ok(!bo, "alloc: failure clears *out");
	tap_is(lpu_bo_alloc(&dev, LPU_BO_SRAM, 0, 0, &bo), -EINVAL,
	       "alloc: size 0 is -EINVAL");
	tap_is(lpu_bo_alloc(&dev, LPU_BO_HOST, (1ULL << 30) + 1, 0, &bo),
	       -EINVAL, "alloc: 1 GiB + 1 is -EINVAL");
	tap_is(lpu_bo_alloc(&dev, LPU_BO_HOST, UINT64_MAX, 0, &bo), -EINVAL,
	       "alloc: UINT64_MAX (would wrap when rounded) is -EINVAL");
	tap_is(lpu_bo_alloc(&dev, 0, 4096, 0, &bo), -EINVAL,
	       "alloc: domain 0 is -EINVAL");
	tap_is(lpu_bo_alloc(&dev, 3, 4096, 0, &bo), -EINVAL,
	       "alloc: domain 3 is -EINVAL");
	tap_is(lpu_bo_alloc(&dev, LPU_BO_SRAM, 4096, 1, &bo), -EINVAL,
	       "alloc: flags 1 is -EINVAL");
	tap_is(lpu_bo_alloc(&dev, LPU_BO_SRAM, 4096, 1U << 31, &bo), -EINVAL,
	       "alloc: flags bit 31 is -EINVAL");
	/* Valid requests reach the driver, unaligned and largest included. */
	tap_is(lpu_bo_alloc(&dev, LPU_BO_SRAM, 1, 0, &bo), -ENOTTY,
	       "alloc: 1 byte is rounded up and passed on");
	tap_is(lpu_bo_alloc(&dev, LPU_BO_HOST, 1ULL << 30, 0, &bo), -ENOTTY,
	       "alloc: 1 GiB host is passed on");
	tap_ok(!bo && !dev.bos,
	       "alloc: a failed ioctl leaves no buffer behind");
}

static void test_bo_calls(void)
{
	struct lpu_bo bo;
	void *ptr = &ptr;
	int fd = 7;

	fake_bo(&bo, &dev, 5);
	tap_is(lpu_bo_free(NULL), 0, "free(NULL) is a no-op");
	tap_is(lpu_bo_map(NULL, &ptr), -EINVAL, "map: NULL buffer is -EINVAL");
	tap_ok(!ptr, "map: failure clears *ptr");
	tap_is(lpu_bo_map(&bo, NULL), -EINVAL, "map: NULL ptr is -EINVAL");
	tap_is(lpu_bo_map(&bo, &ptr), -ENODEV,
	       "map: reaches mmap() (of /dev/null here)");
	tap_is(lpu_bo_unmap(NULL), -EINVAL, "unmap: NULL is -EINVAL");
	tap_is(lpu_bo_unmap(&bo), 0, "unmap: not mapped is 0");
	tap_is(lpu_bo_wait(NULL, 0), -EINVAL, "bo_wait: NULL is -EINVAL");
	tap_is(lpu_bo_wait(&bo, 0), -ENOTTY, "bo_wait: valid is passed on");
	tap_is(lpu_bo_export(&bo, NULL), -EINVAL, "export: NULL fd is -EINVAL");
	tap_is(lpu_bo_export(NULL, &fd), -EINVAL,
	       "export: NULL buffer is -EINVAL");
	tap_is(fd, -1, "export: failure sets *fd to -1");

	tap_is(lpu_bo_size(NULL), 0, "size(NULL) is 0");
	tap_is(lpu_bo_domain(NULL), 0, "domain(NULL) is 0");
	tap_is(lpu_bo_handle(NULL), 0, "handle(NULL) is 0");
	tap_is(lpu_bo_device_address(NULL), 0, "device_address(NULL) is 0");
	tap_is(lpu_bo_size(&bo), 8192, "size accessor");
	tap_is(lpu_bo_domain(&bo), LPU_BO_SRAM, "domain accessor");
	tap_is(lpu_bo_handle(&bo), 5, "handle accessor");
	tap_ok(lpu_bo_device_address(&bo) == 5ULL << 32,
	       "device address accessor");
}

static void test_import(void)
{
	struct lpu_bo *bo = (struct lpu_bo *)&bo;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	tap_is(lpu_bo_import(&dev, fd, NULL), -EINVAL,
	       "import: NULL out is -EINVAL");
	tap_is(lpu_bo_import(NULL, fd, &bo), -EINVAL,
	       "import: NULL device is -EINVAL");
	tap_ok(!bo, "import: failure clears *out");
	tap_is(lpu_bo_import(&dev, -1, &bo), -EINVAL,
	       "import: fd -1 is -EINVAL");
	tap_is(lpu_bo_import(&dev, fd, &bo), -ENOTTY,
	       "import: valid fd is passed on");
	tap_ok(!bo && !dev.bos, "import: failure leaves no buffer");
	close(fd);
}

static void test_copy(void)
{
	struct lpu_bo a, b, foreign;
	struct lpu_copy_op ops[LPU_MAX_COPIES + 1];
	struct lpu_copy_status st;
	struct lpu_fence fence;
	unsigned int i;

	fake_bo(&a, &dev, 1);
	fake_bo(&b, &dev, 2);
	fake_bo(&foreign, &other, 1);
	for (i = 0; i <= LPU_MAX_COPIES; i++)
		ops[i] = (struct lpu_copy_op){ .dst = &a, .src = &b, .size = 1 };

	fence.seq = 99;
	tap_is(lpu_copy_async(&dev, 0, ops, 1, NULL), -EINVAL,
	       "copy_async: NULL fence is -EINVAL");
	tap_is(lpu_copy_async(NULL, 0, ops, 1, &fence), -EINVAL,
	       "copy_async: NULL device is -EINVAL");
	tap_is(fence.seq, 0, "copy_async: failure clears the fence");
	tap_is(lpu_copy_async(&dev, 0, NULL, 1, &fence), -EINVAL,
	       "copy_async: NULL ops is -EINVAL");
	tap_is(lpu_copy_async(&dev, 0, ops, 0, &fence), -EINVAL,
	       "copy_async: count 0 is -EINVAL");
	tap_is(lpu_copy_async(&dev, 0, ops, LPU_MAX_COPIES + 1, &fence),
	       -EINVAL, "copy_async: count above LPU_MAX_COPIES is -EINVAL");
	tap_is(lpu_copy_async(&dev, 0, ops, LPU_MAX_COPIES, &fence), -ENOTTY,
	       "copy_async: LPU_MAX_COPIES copies are passed on");

	ops[3].size = 0;
	tap_is(lpu_copy_async(&dev, 0, ops, 4, &fence), -EINVAL,
	       "copy_async: size 0 in any op is -EINVAL");
	ops[3].size = 1;
	ops[2].dst = NULL;
	tap_is(lpu_copy_async(&dev, 0, ops, 4, &fence), -EINVAL,
	       "copy_async: NULL dst is -EINVAL");
	ops[2].dst = &a;
	ops[1].src = NULL;
	tap_is(lpu_copy_async(&dev, 0, ops, 4, &fence), -EINVAL,
	       "copy_async: NULL src is -EINVAL");
	ops[1].src = &foreign;
	tap_is(lpu_copy_async(&dev, 0, ops, 4, &fence), -EINVAL,
	       "copy_async: a buffer of another device handle is -EINVAL");
	ops[1].src = &b;
	ops[0].flags = 2;
	tap_is(lpu_copy_async(&dev, 0, ops, 4, &fence), -EINVAL,
	       "copy_async: unknown flag is -EINVAL");
	ops[0].flags = LPU_COPY_DEVICE_ADDRESSES;
	ops[0].src_offset = UINT64_MAX;
	tap_is(lpu_copy_async(&dev, 0, ops, 4, &fence), -ENOTTY,
	       "copy_async: ranges are left to the driver");

	memset(&st, 0x5a, sizeof(st));
	tap_is(lpu_copy(&dev, 0, ops, 0, &st), -EINVAL,
	       "copy: count 0 is -EINVAL");
	tap_ok(st.status == 0 && st.fault_addr == 0 && st.fault_kind == 0,
	       "copy: status is cleared when no job ran");
	tap_is(lpu_copy(&dev, 0, ops, 1, NULL), -ENOTTY,
	       "copy: NULL status is allowed");

	fence.seq = 0;
	tap_is(lpu_fence_wait(&dev, &fence, 0, &st), -EINVAL,
	       "fence_wait: seq 0 (never a job) is -EINVAL");
	tap_is(lpu_fence_wait(&dev, NULL, 0, &st), -EINVAL,
	       "fence_wait: NULL fence is -EINVAL");
	fence.seq = 1;
	tap_is(lpu_fence_wait(NULL, &fence, 0, &st), -EINVAL,
	       "fence_wait: NULL device is -EINVAL");
	tap_is(lpu_fence_wait(&dev, &fence, 0, NULL), -ENOTTY,
	       "fence_wait: valid is passed on");
}

int main(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	int fd2 = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0 || fd2 < 0)
		return 1;
	lpu_device_init(&dev, fd);
	lpu_device_init(&other, fd2);
	test_alloc();
	test_bo_calls();
	test_import();
	test_copy();
	lpu_device_fini(&dev);
	lpu_device_fini(&other);
	close(fd);
	close(fd2);
	return tap_done();
}
