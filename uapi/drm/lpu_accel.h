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
#define DRM_LPU_BO_CREATE		0x03
#define DRM_LPU_BO_INFO			0x04
#define DRM_LPU_BO_WAIT			0x05

#define DRM_IOCTL_LPU_GET_INFO \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LPU_GET_INFO, struct drm_lpu_info)
#define DRM_IOCTL_LPU_SUBMIT \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LPU_SUBMIT, struct drm_lpu_submit)
#define DRM_IOCTL_LPU_WAIT \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LPU_WAIT, struct drm_lpu_wait)
#define DRM_IOCTL_LPU_BO_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LPU_BO_CREATE, struct drm_lpu_bo_create)
#define DRM_IOCTL_LPU_BO_INFO \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LPU_BO_INFO, struct drm_lpu_bo_info)
#define DRM_IOCTL_LPU_BO_WAIT \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LPU_BO_WAIT, struct drm_lpu_bo_wait)

/*
 * DRM core's syncobj ioctls take at most this many handles per call on an
 * LPU node (-EINVAL above it), so that no count makes the kernel attempt
 * a giant allocation.
 */
#define DRM_LPU_MAX_SYNCOBJ_HANDLES	4096

/* Driver version reported in drm_lpu_info.driver_version. */
#define LPU_DRIVER_MAJOR		0
#define LPU_DRIVER_MINOR		4
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
 * @fw_version: out, running firmware version, LPU_VERSION_ENCODE(); 0
 *	while the card runs its boot ROM only.
 * @fw_abi_version: out, host-interface ABI of the running firmware,
 *	LPU_VERSION_ENCODE(major, minor, 0) (since driver 0.4).
 * @pad2: out, 0.
 * @sram_reserved: out, bytes at the top of SRAM the firmware keeps for
 *	itself; buffers never use them (since driver 0.4).
 *
 * A caller with an older, shorter struct gets the fields it knows.
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
	__u32 fw_abi_version;
	__u32 pad2;
	__u64 sram_reserved;
};

#define LPU_JOB_NOP			1
#define LPU_JOB_COPY			2
#define LPU_JOB_EXEC			3
#define DRM_LPU_NOP_MAX_CYCLES		1000000000U	/* 1 s */

/*
 * Unfinished jobs one open file may have: SUBMIT blocks, interruptibly,
 * until one finishes. Bounds the kernel memory a file pins.
 */
#define DRM_LPU_MAX_UNFINISHED_JOBS	1024
/* Failed jobs per open file whose status WAIT still reports. */
#define DRM_LPU_FAILURES_KEPT		64

/* Copies one COPY job may carry (each takes one ring descriptor). */
#define DRM_LPU_MAX_COPIES		16

/*
 * struct drm_lpu_copy flags: @src_offset and @dst_offset are device
 * addresses (drm_lpu_bo_info.device_addr plus an offset) in the file's
 * address space rather than offsets into the named buffers. The kernel
 * does not bounds-check them; the device does, against the buffers the
 * job names: a job that reaches outside them fails with -EFAULT and the
 * fault's address and kind in struct drm_lpu_wait, and a copy whose source
 * and destination ranges overlap fails its job with -EINVAL. Either way
 * the queue is reset and the jobs behind it run normally. Because such a
 * copy may write any buffer the job names, the job's fence counts as a
 * write for every one of them (see struct drm_lpu_submit). This is how
 * userspace that computes device addresses itself (as compiled schedules
 * do) uses the DMA engine.
 */
#define DRM_LPU_COPY_DEVICE_ADDRESSES	(1U << 0)

/**
 * struct drm_lpu_copy - one copy of an LPU_JOB_COPY job
 * @src_handle: buffer read from (GEM handle of this file).
 * @dst_handle: buffer written to; may equal @src_handle.
 * @src_offset: byte offset into the source buffer.
 * @dst_offset: byte offset into the destination buffer.
 * @size: bytes to copy, at least 1. Offsets and size need no alignment.
 * @flags: DRM_LPU_COPY_* or 0.
 * @pad: must be 0.
 *
 * Without DRM_LPU_COPY_DEVICE_ADDRESSES both ranges must lie inside their
 * buffers (without wrapping) and must not overlap, or SUBMIT fails with
 * -EINVAL. Any mix of SRAM and host buffers works.
 */
struct drm_lpu_copy {
	__u32 src_handle;
	__u32 dst_handle;
	__u64 src_offset;
	__u64 dst_offset;
	__u64 size;
	__u32 flags;
	__u32 pad;
};

/* Buffer slots one EXEC job may name. */
#define DRM_LPU_MAX_SLOTS		16
/*
 * Device address of byte 0 of slot @slot in an EXEC job's address space.
 * Slots sit 4 GiB apart (buffers are at most 1 GiB), in slot order, so a
 * compiled program can address its tensors as slot + offset without
 * knowing which buffers or handles it will run on: no relocation.
 */
#define DRM_LPU_EXEC_SLOT_ADDR(slot)	(((__u64)(slot) + 1) << 32)
/* Largest drm_lpu_exec.timeout_ms. */
#define DRM_LPU_EXEC_MAX_TIMEOUT_MS	60000

/**
 * struct drm_lpu_exec - the program of an LPU_JOB_EXEC job
 * @slots: user pointer to @slot_count __u32 GEM handles of this file: slot
 *	i is the buffer at DRM_LPU_EXEC_SLOT_ADDR(i). A buffer may fill more
 *	than one slot. Unknown handles fail with -ENOENT.
 * @slot_count: 1..DRM_LPU_MAX_SLOTS.
 * @insn_count: instructions in the program, 1..LPU_EXEC_MAX_INSNS.
 * @program: device address (slot address + offset) of the first of the
 *	@insn_count struct lpu_insn (uapi/lpu_hw.h).
 * @stats: device address of a struct lpu_exec_stats the device fills in
 *	when the program completes (cycles, instructions).
 * @timeout_ms: how long the job may run, counted from when it reaches the
 *	head of its queue: 0 for the driver's job timeout (module parameter
 *	job_timeout_ms), else 1..DRM_LPU_EXEC_MAX_TIMEOUT_MS, which may be
 *	longer than job_timeout_ms. A job still running when its time is up
 *	is stopped (its queue is reset) and fails with -ETIMEDOUT.
 * @flags: must be 0.
 * The kernel checks the handles and builds the job's segment table, one
 * segment per slot, and nothing else: the device checks @program, @stats
 * and every instruction against that table before anything runs. Every
 * slot's buffer counts as written by the job for implicit
 * synchronisation, and host buffers are pinned as for COPY jobs.
 * drm_lpu_bo_info.device_addr means nothing inside an EXEC job: its
 * address space holds the slots only.
 */
struct drm_lpu_exec {
	__u64 slots;
	__u32 slot_count;
	__u32 insn_count;
	__u64 program;
	__u64 stats;
	__u32 timeout_ms;
	__u32 flags;
};

/**
 * struct drm_lpu_submit - queue a job (DRM_IOCTL_LPU_SUBMIT)
 * @queue: in, hardware queue, below drm_lpu_info.num_queues.
 * @flags: in, must be 0.
 * @job_type: in, LPU_JOB_*.
 * @nop_cycles: in, for LPU_JOB_NOP: extra device cycles (1 cycle = 1 ns)
 *	the job occupies its queue, at most DRM_LPU_NOP_MAX_CYCLES. Tests use
 *	it to make a job slow on purpose. Must be 0 for other job types.
 * @seq: out, the job's sequence number for DRM_IOCTL_LPU_WAIT. Numbers are
 *	per open file, start at 1 and increase by one per job.
 * @copies: in, for LPU_JOB_COPY: user pointer to @copy_count struct
 *	drm_lpu_copy, performed in order. Must be 0 for other job types.
 * @copy_count: in, for LPU_JOB_COPY: 1..DRM_LPU_MAX_COPIES, and at most
 *	the ring's capacity less one (drm_lpu_info.ring_entries / 2 - 1
 *	jobs' worth of descriptors), else -EINVAL. 0 for other job types.
 * @in_syncobj: in, 0 or a syncobj of this file: the job starts only after
 *	the fence it holds at SUBMIT time signals (-ENOENT for an unknown
 *	handle or an empty syncobj).
 * @out_syncobj: in, 0 or a syncobj of this file: it gets the job's
 *	fence, which signals when the job is done (-ENOENT if unknown).
 * @pad: must be 0.
 * @exec: in, for LPU_JOB_EXEC: user pointer to a struct drm_lpu_exec
 *	(-EFAULT if unreadable). Must be 0 for other job types.
 *
 * The fields from @copies on exist since driver 0.2, @exec since 0.3;
 * older userspace passes the shorter struct and gets them as 0.
 *
 * A COPY job keeps the buffers it names alive until it is done, even if
 * their handles are closed, and adds its fence to their reservation
 * objects (write for the destinations, read for the sources; write for
 * every buffer the job names if any of its copies uses
 * DRM_LPU_COPY_DEVICE_ADDRESSES), so
 * DRM_IOCTL_LPU_BO_WAIT waits for it. It also waits for the earlier jobs
 * in those reservation objects that it conflicts with (a write after any
 * access, a read after a write), whatever their queue.
 *
 * A COPY job's host buffers are pinned and DMA-mapped from SUBMIT until the
 * job is done (a buffer used by several jobs counts once). The driver
 * bounds the host memory pinned this way, half of RAM by default (module
 * parameter pin_limit_mb); a SUBMIT that would go above it fails with
 * -ENOMEM, as does one for which the kernel cannot get the pages.
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
	__u64 copies;
	__u32 copy_count;
	__u32 in_syncobj;
	__u32 out_syncobj;
	__u32 pad;
	__u64 exec;
};

/**
 * struct drm_lpu_wait - wait for a job (DRM_IOCTL_LPU_WAIT)
 * @seq: in, a sequence number returned by DRM_IOCTL_LPU_SUBMIT on this file.
 * @timeout_ns: in, absolute CLOCK_MONOTONIC deadline in ns; 0 only polls.
 * @flags: in, must be 0.
 * @status: out, once the job is done: 0 if it completed, otherwise the
 *	negative errno it failed with:
 *	-EIO       the device rejected one of its descriptors, its queue
 *	           could not be reset after a fault, or its queue had to be
 *	           reset (another job's fault or hang) while the job was
 *	           already running: a job the device started is never run a
 *	           second time, since its copies may have moved data already;
 *	-EINVAL    a DRM_LPU_COPY_DEVICE_ADDRESSES copy of the job had
 *	           overlapping source and destination ranges;
 *	-ETIMEDOUT its queue completed no descriptor within the driver's job
 *	           timeout (module parameter job_timeout_ms) and was reset;
 *	           a job whose copies keep completing is not timed out, but
 *	           one copy must finish within the timeout; an EXEC job ran
 *	           past its own timeout (drm_lpu_exec.timeout_ms);
 *	-ENODEV    the device was removed (or the system shut down) before the
 *	           job completed;
 *	-EFAULT    the device refused an access of the job outside the
 *	           buffers it names (@fault_addr and @fault_kind say which);
 *	-ENOEXEC   the device refused the EXEC job's program, or stopped it
 *	           on an index out of range (@error_insn, @error_reason);
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
 * @fault_addr: out, with @status -EFAULT: the device address of the first
 *	byte the device could not translate (the start of the access for
 *	DRM_LPU_FAULT_NOT_MAPPED, the end of the buffer for
 *	DRM_LPU_FAULT_OUT_OF_BOUNDS); 0 otherwise.
 * @fault_kind: out, with @status -EFAULT: DRM_LPU_FAULT_* kind, ORed with
 *	DRM_LPU_FAULT_WRITE if the access was the destination; 0 otherwise.
 * @error_insn: out, with @status -ENOEXEC: index of the instruction the
 *	device refused, or LPU_EXEC_INSN_NONE if the descriptor itself (its
 *	program or stats address) was at fault; 0 otherwise.
 * @error_reason: out, with @status -ENOEXEC: the LPU_EXEC_E_* reason
 *	(uapi/lpu_hw.h); for LPU_EXEC_E_OPERAND @fault_addr holds the
 *	operand's device address. 0 otherwise.
 * @pad: must be 0.
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
	__u64 fault_addr;
	__u32 fault_kind;
	__u32 error_insn;
	__u32 error_reason;
	__u32 pad;
};

#define DRM_LPU_FAULT_NOT_MAPPED	1	/* address in no named buffer */
#define DRM_LPU_FAULT_OUT_OF_BOUNDS	2	/* runs past its buffer's end */
#define DRM_LPU_FAULT_WRITE		(1U << 8)

/* Buffer object domains (struct drm_lpu_bo_create.domain). */
#define DRM_LPU_BO_SRAM			1	/* on-card SRAM */
#define DRM_LPU_BO_HOST			2	/* host memory (shmem) */

/* Buffer sizes are multiples of this; mmap offsets are page aligned. */
#define DRM_LPU_BO_ALIGN		4096
/* Largest buffer of either domain: 1 GiB. */
#define DRM_LPU_BO_MAX_SIZE		(1ULL << 30)

/**
 * struct drm_lpu_bo_create - allocate a buffer (DRM_IOCTL_LPU_BO_CREATE)
 * @size: in, bytes: a non-zero multiple of DRM_LPU_BO_ALIGN, at most
 *	DRM_LPU_BO_MAX_SIZE (and the SRAM size for SRAM buffers).
 * @domain: in, DRM_LPU_BO_SRAM or DRM_LPU_BO_HOST.
 * @flags: in, must be 0.
 * @handle: out, GEM handle; close it with DRM_IOCTL_GEM_CLOSE.
 * @pad: must be 0.
 *
 * Errors: -EINVAL for a size of 0, an unaligned or too large size, an
 * unknown domain or unknown flags; -ENOSPC when no free SRAM range is large
 * enough (SRAM is not overcommitted and never swapped); -ENOMEM for a host
 * buffer larger than RAM. Host buffers get their pages lazily, so running
 * out of host memory shows later: as -ENOMEM from SUBMIT, or SIGBUS on an
 * mmap access.
 *
 * A new buffer reads as zeroes. SRAM is zeroed by the card before it is
 * reused, so no client sees another's data. SRAM buffers map write-combined
 * through the SRAM BAR; host buffers map cacheable and are pinned and
 * DMA-mapped only while a job uses them.
 *
 * Both kinds can be exported with PRIME (DRM_IOCTL_PRIME_HANDLE_TO_FD) and
 * imported again by any file of the same card, in any process; that is the
 * only way a buffer is shared. Only host buffers can be attached by other
 * devices; importing an SRAM buffer's dma-buf into another driver fails
 * with -EOPNOTSUPP. mmap of either dma-buf works.
 */
struct drm_lpu_bo_create {
	__u64 size;
	__u32 domain;
	__u32 flags;
	__u32 handle;
	__u32 pad;
};

/**
 * struct drm_lpu_bo_info - describe a buffer (DRM_IOCTL_LPU_BO_INFO)
 * @handle: in, GEM handle of this file (-ENOENT if unknown).
 * @flags: in, must be 0.
 * @mmap_offset: out, offset to pass to mmap() on the device file.
 * @size: out, bytes.
 * @domain: out, DRM_LPU_BO_*.
 * @pad: must be 0.
 * @device_addr: out, the buffer's address in this file's device address
 *	space, for DRM_LPU_COPY_DEVICE_ADDRESSES. It is a token, not a bus
 *	address: it means something only to jobs of this file that name the
 *	buffer. It stays the same for as long as the handle exists.
 */
struct drm_lpu_bo_info {
	__u32 handle;
	__u32 flags;
	__u64 mmap_offset;
	__u64 size;
	__u32 domain;
	__u32 pad;
	__u64 device_addr;
};

/**
 * struct drm_lpu_bo_wait - wait until a buffer is idle (DRM_IOCTL_LPU_BO_WAIT)
 * @handle: in, GEM handle of this file (-ENOENT if unknown).
 * @flags: in, must be 0.
 * @timeout_ns: in, absolute CLOCK_MONOTONIC deadline in ns; 0 only polls.
 *
 * Returns 0 once every job using the buffer when the wait started is done
 * (whatever its status), -ETIME if the deadline passed first, -EINTR if a
 * signal arrived first.
 */
struct drm_lpu_bo_wait {
	__u32 handle;
	__u32 flags;
	__s64 timeout_ns;
};

#if defined(__cplusplus)
}
#endif

#endif /* LPU_ACCEL_H */
