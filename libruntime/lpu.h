/* SPDX-License-Identifier: MIT */
/*
 * liblpu: userspace runtime for the LPU v3 accelerator.
 *
 * Conventions, for every function returning int:
 *   0 (or a non-negative count where documented) on success,
 *   a negative errno value on failure (-EINVAL, -ENODEV, ...), or a negative
 *   library-specific code (-LPU_E_*) that lpu_strerror() describes.
 * errno is never part of the interface.
 *
 * Thread safety: a struct lpu_device may be used from several threads at
 * once; every call is a single ioctl on the file descriptor.
 */
#ifndef LPU_H
#define LPU_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Library-specific error codes. They start above the kernel's largest
 * errno (4095), so they can never be confused with one.
 */
enum lpu_error {
	LPU_E_BASE = 0x1000,
	/* The node exists but is not driven by the lpu DRM driver. */
	LPU_E_NOT_LPU = LPU_E_BASE,
	/* The lpu driver speaks an ioctl ABI major this library lacks. */
	LPU_E_DRIVER_VERSION,
	LPU_E_MAX,
};

/* Passed to lpu_wait() as timeout: block until the job is done. */
#define LPU_WAIT_FOREVER	((int64_t)-1)

struct lpu_device;

/* One card found in sysfs by lpu_card_get(). */
struct lpu_card {
	unsigned int index;	/* position in lpu_card_get() order */
	unsigned int minor;	/* N of /dev/accel/accelN */
	uint16_t vendor_id;	/* from sysfs, 0 if unreadable */
	uint16_t device_id;
	char pci_addr[32];	/* e.g. "0000:00:03.0" */
	char dev_path[256];	/* e.g. "/dev/accel/accel0" */
};

/* Card description from the driver (DRM_IOCTL_LPU_GET_INFO). */
struct lpu_info {
	uint16_t vendor_id;
	uint16_t device_id;
	uint16_t revision;
	uint16_t num_queues;
	uint32_t hw_version;	/* major << 16 | minor */
	uint32_t ring_entries;
	uint64_t capabilities;	/* LPU_CAP_* of lpu_hw.h */
	uint64_t sram_size;	/* bytes */
	uint32_t driver_version;	/* major << 16 | minor << 8 | patch */
	uint32_t fw_version;	/* 0: boot ROM only */
};

/* Outcome of a job, filled by lpu_wait(). */
struct lpu_job_result {
	int32_t status;		/* 0, or -EIO/-ETIMEDOUT/-ECANCELED */
	uint64_t device_ns;	/* device doorbell-to-completion, 0 unknown */
};

/*
 * Discovery. Cards are the /sys/class/accel/accel* devices whose driver is
 * "lpu", ordered by accel minor; index N is the Nth of them. Environment:
 * LPU_SYSFS_ROOT replaces "/sys" and LPU_DEV_ROOT replaces "/dev" (tests).
 */
int lpu_card_count(void);			/* >= 0 or -errno */
/* The sysfs root discovery scans: $LPU_SYSFS_ROOT if set, else "/sys". */
const char *lpu_sysfs_root(void);
int lpu_card_get(int index, struct lpu_card *card);

/* Open card @index, or a node by path (/dev/lpu0, /dev/accel/accel0). */
int lpu_open(int index, struct lpu_device **out);
int lpu_open_path(const char *path, struct lpu_device **out);
/* Close and free; NULL is accepted. Returns 0 or -errno from close(). */
int lpu_close(struct lpu_device *dev);

/* The underlying file descriptor, e.g. for poll() or raw ioctls. */
int lpu_fd(const struct lpu_device *dev);

int lpu_query(struct lpu_device *dev, struct lpu_info *info);

/*
 * Queue a NOP job that occupies @queue for @nop_cycles extra device cycles
 * (1 cycle = 1 ns). On success *seq receives the job's sequence number.
 */
int lpu_submit_nop(struct lpu_device *dev, unsigned int queue,
		   uint32_t nop_cycles, uint64_t *seq);

/*
 * Wait for job @seq. @timeout_ns is RELATIVE to the call: 0 only polls,
 * LPU_WAIT_FOREVER (any negative value) blocks. The library turns it into
 * one absolute CLOCK_MONOTONIC deadline. A signal does not end the wait:
 * libdrm's drmIoctl() restarts it with that same deadline, so the total time
 * never grows. (Use a raw ioctl on lpu_fd() to see -EINTR.)
 *
 * Returns 0 once the job is done, with the job's own outcome in
 * @result->status (0 or a negative errno such as -EIO); -ETIME if the
 * timeout passed first; -EINVAL for a @seq this device handle never
 * returned. @result may be NULL.
 */
int lpu_wait(struct lpu_device *dev, uint64_t seq, int64_t timeout_ns,
	     struct lpu_job_result *result);

/*
 * ---- Buffer objects (since LPU_0.2) ------------------------------------
 *
 * A buffer lives in one domain: on-card SRAM or host memory. The values
 * are those of DRM_LPU_BO_SRAM and DRM_LPU_BO_HOST in drm/lpu_accel.h.
 */
enum lpu_bo_domain {
	LPU_BO_SRAM = 1,
	LPU_BO_HOST = 2,
};

struct lpu_bo;

/*
 * Allocate a buffer of at least @size bytes in @domain; the size is rounded
 * up to the driver's 4 KiB granule (lpu_bo_size() tells the real size).
 * @flags must be 0. A new buffer reads as zeroes.
 * Returns 0, -EINVAL (NULL pointer, size 0 or above 1 GiB once rounded,
 * unknown domain or flags), -ENOSPC (no free SRAM range that large),
 * -ENOMEM, or another -errno of the driver.
 */
int lpu_bo_alloc(struct lpu_device *dev, unsigned int domain, uint64_t size,
		 uint32_t flags, struct lpu_bo **out);
/*
 * Release a buffer: its mapping, if any, and its handle. A copy still using
 * it keeps the memory alive until it is done. NULL is accepted. A buffer
 * returned more than once by lpu_bo_import() is released by the last free.
 */
int lpu_bo_free(struct lpu_bo *bo);

/*
 * Map the whole buffer into this process (read and write, shared); the
 * same address is returned until lpu_bo_unmap(). SRAM buffers are mapped
 * write-combined through the card's SRAM BAR: writes are fast when
 * sequential, reads are uncached and slow, so read results back with a
 * copy into a host buffer. Host buffers are ordinary cached memory.
 */
int lpu_bo_map(struct lpu_bo *bo, void **ptr);
/* Remove the mapping of lpu_bo_map(); 0 if there was none. */
int lpu_bo_unmap(struct lpu_bo *bo);

/* Accessors; 0 for a NULL buffer. */
uint64_t lpu_bo_size(const struct lpu_bo *bo);
unsigned int lpu_bo_domain(const struct lpu_bo *bo);
/* GEM handle, for raw ioctls on lpu_fd(). */
uint32_t lpu_bo_handle(const struct lpu_bo *bo);
/*
 * The buffer's address in this device handle's address space, for copies
 * with LPU_COPY_DEVICE_ADDRESSES. A token: meaningless to other handles.
 */
uint64_t lpu_bo_device_address(const struct lpu_bo *bo);

/*
 * Wait until every copy using the buffer when the call starts is done
 * (whatever its outcome). @timeout_ns as for lpu_wait(). 0, -ETIME or
 * -errno.
 */
int lpu_bo_wait(struct lpu_bo *bo, int64_t timeout_ns);

/*
 * Share a buffer with another process or device handle: export gives a
 * dma-buf file descriptor (close-on-exec, read-write), import turns one
 * into a buffer of @dev. Importing a buffer @dev already holds returns the
 * same struct lpu_bo again (each import needs its own lpu_bo_free()).
 */
int lpu_bo_export(struct lpu_bo *bo, int *dmabuf_fd);
int lpu_bo_import(struct lpu_device *dev, int dmabuf_fd, struct lpu_bo **out);

/* ---- Copies with the card's DMA engine (since LPU_0.2) ----------------- */

/*
 * Offsets are device addresses (lpu_bo_device_address() plus an offset)
 * instead of offsets into @src and @dst. The driver does not check them;
 * the card does, and a copy outside the buffers fails with -EFAULT.
 */
#define LPU_COPY_DEVICE_ADDRESSES	0x1U
/* Most copies one job may carry (DRM_LPU_MAX_COPIES). */
#define LPU_MAX_COPIES			16

/*
 * One copy of @size bytes from @src at @src_offset to @dst at @dst_offset.
 * Any mix of domains works; offsets and size need no alignment. Both
 * ranges must lie inside their buffers and must not overlap.
 */
struct lpu_copy_op {
	struct lpu_bo *dst;
	uint64_t dst_offset;
	struct lpu_bo *src;
	uint64_t src_offset;
	uint64_t size;
	uint32_t flags;		/* LPU_COPY_* or 0 */
};

/* A job to wait for; valid with the device handle that submitted it. */
struct lpu_fence {
	uint64_t seq;
};

/* Outcome of a copy job. */
struct lpu_copy_status {
	int32_t status;		/* 0, or -EFAULT, -EIO, -ETIMEDOUT, ... */
	uint32_t fault_kind;	/* -EFAULT: DRM_LPU_FAULT_* (| _WRITE) */
	uint64_t fault_addr;	/* -EFAULT: first device address refused */
	uint64_t device_ns;	/* device doorbell-to-completion, 0 unknown */
};

/*
 * Queue one job of @count (1..LPU_MAX_COPIES) copies on @queue, performed
 * in order; *@fence receives the job. The job waits for earlier copies that
 * write what it reads or touch what it writes, on any queue.
 * Returns 0 or the submission's -errno (-EINVAL for a bad argument, a
 * range outside its buffer or overlapping ranges).
 */
int lpu_copy_async(struct lpu_device *dev, unsigned int queue,
		   const struct lpu_copy_op *ops, unsigned int count,
		   struct lpu_fence *fence);
/*
 * Wait for a job of lpu_copy_async(). @timeout_ns as for lpu_wait().
 * Returns 0 once it is done, with its outcome in @status (may be NULL),
 * or -ETIME / -errno as lpu_wait().
 */
int lpu_fence_wait(struct lpu_device *dev, const struct lpu_fence *fence,
		   int64_t timeout_ns, struct lpu_copy_status *status);
/*
 * lpu_copy_async() and lpu_fence_wait() without a timeout. Returns 0 if
 * the copies completed, the submission's -errno, or the job's failure
 * (-EFAULT, -EIO, ...), whose details are in @status (may be NULL;
 * its status is 0 unless the job ran and failed).
 */
int lpu_copy(struct lpu_device *dev, unsigned int queue,
	     const struct lpu_copy_op *ops, unsigned int count,
	     struct lpu_copy_status *status);

/* Message for a return value of this library (sign ignored). Never NULL. */
const char *lpu_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* LPU_H */
