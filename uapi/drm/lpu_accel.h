/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * LPU v3 DRM accel driver: user-visible ioctl ABI.
 *
 * Extensibility: every struct may grow at its end in later versions. The
 * driver accepts any argument size from the size of the first version of a
 * struct up to its own size (a shorter struct is zero-extended by DRM core).
 * A larger struct is accepted only if the bytes the driver does not know are
 * zero, otherwise the ioctl fails with -E2BIG, so new userspace never has a
 * request silently ignored by an old kernel. Reserved fields must be zero
 * (-EINVAL otherwise) so they can be given a meaning later.
 *
 * All structs are naturally aligned and contain no implicit padding, so they
 * are identical for 32-bit and 64-bit userspace.
 */
#ifndef LPU_ACCEL_H
#define LPU_ACCEL_H

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

/* drm_version.name of the driver, checked by userspace before using a node. */
#define DRM_LPU_DRIVER_NAME		"lpu"

#define DRM_LPU_GET_INFO		0x00
#define DRM_LPU_SUBMIT			0x01
#define DRM_LPU_WAIT			0x02

#define DRM_IOCTL_LPU_GET_INFO \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LPU_GET_INFO, struct drm_lpu_info)
#define DRM_IOCTL_LPU_SUBMIT \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LPU_SUBMIT, struct drm_lpu_submit)
#define DRM_IOCTL_LPU_WAIT \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LPU_WAIT, struct drm_lpu_wait)

/* Driver version reported in drm_lpu_info.driver_version. */
#define LPU_DRIVER_MAJOR		0
#define LPU_DRIVER_MINOR		1
#define LPU_DRIVER_PATCH		0
#define LPU_VERSION_ENCODE(maj, min, pat) \
	(((maj) << 16) | ((min) << 8) | (pat))

/**
 * struct drm_lpu_info - describe the card (DRM_IOCTL_LPU_GET_INFO)
 * @flags: in, must be 0.
 * @pad: must be 0.
 * @vendor_id: out, PCI vendor ID.
 * @device_id: out, PCI device ID.
 * @revision: out, PCI revision.
 * @num_queues: out, hardware queues; valid @queue values are below it.
 * @hw_version: out, LPU_REG_VERSION (major << 16 | minor).
 * @ring_entries: out, descriptors per hardware ring.
 * @capabilities: out, LPU_CAP_* bits of uapi/lpu_hw.h.
 * @sram_size: out, SRAM aperture in bytes.
 * @driver_version: out, LPU_VERSION_ENCODE() of the driver.
 * @fw_version: out, running firmware version, 0 while the card runs its
 *	boot ROM only.
 */
struct drm_lpu_info {
	__u32 flags;
	__u32 pad;
	__u16 vendor_id;
	__u16 device_id;
	__u16 revision;
	__u16 num_queues;
	__u32 hw_version;
	__u32 ring_entries;
	__u64 capabilities;
	__u64 sram_size;
	__u32 driver_version;
	__u32 fw_version;
};

#define LPU_JOB_NOP			1
#define DRM_LPU_NOP_MAX_CYCLES		1000000000U	/* 1 s */

/*
 * Unfinished jobs one open file may have: SUBMIT blocks, interruptibly,
 * until one finishes. Bounds the kernel memory a file pins.
 */
#define DRM_LPU_MAX_UNFINISHED_JOBS	1024
/* Failed jobs per open file whose status WAIT still reports. */
#define DRM_LPU_FAILURES_KEPT		64

/**
 * struct drm_lpu_submit - queue a job (DRM_IOCTL_LPU_SUBMIT)
 * @queue: in, hardware queue, below drm_lpu_info.num_queues.
 * @flags: in, must be 0.
 * @job_type: in, LPU_JOB_*.
 * @nop_cycles: in, for LPU_JOB_NOP: extra device cycles (1 cycle = 1 ns)
 *	the job occupies its queue, at most DRM_LPU_NOP_MAX_CYCLES. Tests use
 *	it to make a job slow on purpose.
 * @seq: out, the job's sequence number for DRM_IOCTL_LPU_WAIT. Numbers are
 *	per open file, start at 1 and increase by one per job.
 *
 * With DRM_LPU_MAX_UNFINISHED_JOBS jobs of this file unfinished, SUBMIT
 * sleeps until one finishes; a signal ends the sleep with -EINTR (or a
 * restart), and no sequence number is used up.
 */
struct drm_lpu_submit {
	__u32 queue;
	__u32 flags;
	__u32 job_type;
	__u32 nop_cycles;
	__u64 seq;
};

/**
 * struct drm_lpu_wait - wait for a job (DRM_IOCTL_LPU_WAIT)
 * @seq: in, a sequence number returned by DRM_IOCTL_LPU_SUBMIT on this file.
 * @timeout_ns: in, absolute CLOCK_MONOTONIC deadline in ns; 0 only polls.
 * @flags: in, must be 0.
 * @status: out, once the job is done: 0 if it completed, otherwise the
 *	negative errno it failed with:
 *	-EIO       the device rejected one of its descriptors (or its queue
 *	           could not be reset after a fault);
 *	-ETIMEDOUT it made no progress within the driver's job timeout (module
 *	           parameter job_timeout_ms) and its queue was reset;
 *	-ENODEV    the device was removed (or the system shut down) before the
 *	           job completed;
 *	-ENODATA   the job finished long ago and its own outcome is no longer
 *	           known: the driver remembers the status of each file's last
 *	           DRM_LPU_FAILURES_KEPT failed jobs, and a finished job at or
 *	           below the newest
 *	           failure it had to forget may have been one of them. A job
 *	           that failed is never reported as 0.
 *	Jobs queued behind a failed job on the same queue are not affected.
 *	(Jobs still queued when their file is closed are dropped with
 *	-ESRCH, but no WAIT can observe that: WAIT needs the file.)
 * @device_ns: out, the device's own doorbell-to-completion time of the job,
 *	from the timestamps it writes with each completion; 0 if unknown
 *	(failed jobs, and successful jobs more than 256 jobs old).
 *
 * Returns 0 once the job is done (whatever @status says), -ETIME if the
 * deadline passed first, -EINTR if a signal arrived first, -EINVAL for a
 * @seq this file never returned.
 *
 * After the device is removed, WAIT fails with -ENODEV. A WAIT already
 * sleeping when the device goes away returns 0 with @status -ENODEV, as
 * every unfinished job fails with -ENODEV on removal.
 */
struct drm_lpu_wait {
	__u64 seq;
	__s64 timeout_ns;
	__u32 flags;
	__s32 status;
	__u64 device_ns;
};

#if defined(__cplusplus)
}
#endif

#endif /* LPU_ACCEL_H */
