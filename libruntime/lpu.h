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

/* Message for a return value of this library (sign ignored). Never NULL. */
const char *lpu_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* LPU_H */
