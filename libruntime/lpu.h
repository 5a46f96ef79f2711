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
 * once (its buffer list has a lock); a loaded schedule by one thread at a
 * time (see struct lpu_schedule).
 */
#ifndef LPU_H
#define LPU_H

#include <stddef.h>
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

/*
 * Card description from the driver (DRM_IOCTL_LPU_GET_INFO). Since LPU_0.4
 * it ends with the firmware's ABI and reserved SRAM; binaries built against
 * an older lpu.h keep calling lpu_query@LPU_0.1, which fills only the fields
 * up to fw_version.
 */
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
	/*
	 * Host-interface ABI of the running firmware, major << 16 | minor << 8;
	 * 0 while no firmware runs or with a driver before 0.4.
	 */
	uint32_t fw_abi_version;
	uint32_t rsvd0;		/* 0 */
	uint64_t sram_reserved;	/* bytes atop SRAM the firmware keeps */
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

/* ---- Precompiled schedules (since LPU_0.3) ----------------------------- */

/*
 * A schedule is a file written by lpu-compile (format: uapi/lpu_schedule.h):
 * a tensor-engine program with its weights, buffer slots and named inputs
 * and outputs. Loading one checks it completely, allocates its buffers (the
 * weights and the program stay resident in SRAM) and uploads them by DMA;
 * every run then submits one EXEC job on those buffers.
 *
 * Messages: the calls that can fail for a reason worth explaining take a
 * buffer for a one-line message naming the problem ("section 3 (PROGRAM):
 * CRC32C mismatch", "target hw 4.0 but card is 3.0", "instruction 17
 * (MATMUL): operand outside the job's buffers at slot 2 + 0x1000"). It is
 * filled on every failure and empty on success.
 *
 * A schedule belongs to the device handle that loaded it and is used by one
 * thread at a time; several schedules may be loaded and run at once.
 * Unload every schedule before lpu_close() of its device handle:
 * lpu_close() frees the schedule's buffers, and a later unload would then
 * touch freed memory.
 */
struct lpu_schedule;

/* Size of every message buffer of the schedule API, NUL included. */
#define LPU_MSG_LEN		256
/* Longest tensor name, NUL included (LPU_SCHED_NAME_LEN). */
#define LPU_TENSOR_NAME_LEN	48

/* What a loaded schedule computes: its manifest, and what it holds. */
struct lpu_schedule_info {
	uint32_t arch;		/* LPU_SCHED_ARCH_* of lpu_schedule.h */
	uint32_t num_blocks;
	uint32_t hidden;	/* H */
	uint32_t ffn;		/* F of a routed expert */
	uint32_t num_experts;	/* E */
	uint32_t top_k;
	uint32_t num_shared;
	uint32_t shared_ffn;
	uint32_t tokens;	/* T, tokens per run */
	uint32_t capacity;	/* C, slots per expert */
	uint32_t weight_dtype;	/* LPU_DT_* of lpu_hw.h */
	uint32_t router_flags;	/* LPU_TOPK_* */
	float rms_eps;
	float capacity_factor;
	uint32_t insn_count;
	uint32_t slot_count;
	uint32_t target_hw_version;	/* major << 16 | minor */
	uint32_t compiler_version;	/* major << 16 | minor << 8 | patch */
	uint64_t sram_bytes;	/* SRAM its buffers hold */
	uint64_t host_bytes;	/* host memory its buffers hold */
	uint32_t num_inputs;
	uint32_t num_outputs;
	char model[64];
};

/* One input or output of a schedule (a row of its I/O table). */
struct lpu_tensor_info {
	char name[LPU_TENSOR_NAME_LEN];
	uint32_t direction;	/* LPU_IO_INPUT or LPU_IO_OUTPUT */
	uint32_t kind;		/* LPU_IO_DATA, _ROUTER_INDEX, ... */
	uint32_t block;		/* MoE block of a router index or counter */
	uint32_t dtype;		/* LPU_DT_F32 or LPU_DT_I32 */
	uint32_t rank;		/* 1..4 */
	uint32_t shape[4];	/* @rank entries, zeroes after them */
	uint64_t bytes;
};

/* Outcome of a run. */
struct lpu_schedule_result {
	int32_t status;		/* 0, or -ENOEXEC, -EFAULT, -ETIMEDOUT, ... */
	uint32_t insns;		/* instructions executed */
	/* Device cycles, from the stats record; 0 if a newer run replaced it. */
	uint64_t cycles;
	uint64_t device_ns;	/* device doorbell-to-completion, 0 unknown */
	uint32_t error_insn;	/* -ENOEXEC: instruction, or 0xffffffff */
	uint32_t error_reason;	/* -ENOEXEC: LPU_EXEC_E_* */
	uint64_t fault_addr;	/* -EFAULT, LPU_EXEC_E_OPERAND: address */
	uint32_t fault_kind;	/* -EFAULT: DRM_LPU_FAULT_* */
	uint32_t pad;
	char message[LPU_MSG_LEN];	/* why it failed, "" on success */
};

/*
 * Load the schedule file at @path, or the @size bytes at @data (copied, so
 * the caller may free them right away), for @dev: check it (format,
 * checksums, version, target hardware against the card), allocate one
 * buffer per slot and upload the weights and the program by DMA.
 * Returns 0, -EINVAL (malformed file or bad argument), -EBADMSG (checksum
 * mismatch), -EPROTONOSUPPORT (format major version), -ENOEXEC (compiled
 * for another card), -EOPNOTSUPP (the card has no tensor engine), -ENOSPC
 * (not enough free SRAM), or another -errno;
 * @msg (@msglen bytes, may be NULL/0) names the problem.
 */
int lpu_schedule_load(struct lpu_device *dev, const char *path,
		      struct lpu_schedule **out, char *msg, size_t msglen);
int lpu_schedule_load_mem(struct lpu_device *dev, const void *data,
			  size_t size, struct lpu_schedule **out, char *msg,
			  size_t msglen);
/*
 * Wait for a run still in flight, then free every buffer of the schedule
 * (its SRAM goes back to the card). NULL is accepted. 0 or -errno.
 */
int lpu_schedule_unload(struct lpu_schedule *s);

int lpu_schedule_info(const struct lpu_schedule *s,
		      struct lpu_schedule_info *info);
/*
 * Input or output @index (0 .. num_inputs + num_outputs - 1, in the order
 * of the schedule's I/O table); -ENOENT past the end.
 */
int lpu_schedule_tensor(const struct lpu_schedule *s, unsigned int index,
			struct lpu_tensor_info *info);
/* The input or output called @name; -ENOENT if there is none. */
int lpu_schedule_find(const struct lpu_schedule *s, const char *name,
		      struct lpu_tensor_info *info);

/*
 * Write input @name (exactly its @bytes) for the next run; read output
 * @name (exactly its @bytes) of the last run. -ENOENT for an unknown name,
 * -EINVAL for a wrong size or direction, -EBUSY while a run is in flight.
 */
int lpu_schedule_set_input(struct lpu_schedule *s, const char *name,
			   const void *data, uint64_t bytes);
int lpu_schedule_get_output(struct lpu_schedule *s, const char *name,
			    void *data, uint64_t bytes);

/*
 * Hardware queue (default 0) and per-run timeout in ms (default 0: the
 * driver's job timeout; at most DRM_LPU_EXEC_MAX_TIMEOUT_MS) of later runs.
 */
int lpu_schedule_set_queue(struct lpu_schedule *s, unsigned int queue);
int lpu_schedule_set_timeout(struct lpu_schedule *s, uint32_t timeout_ms);

/*
 * Run once on the inputs set so far and wait. Returns 0 if the run
 * completed, or the submission's -errno or the run's failure (-ENOEXEC:
 * the card refused the program or stopped it on a bad index; -EFAULT,
 * -ETIMEDOUT, -EIO), with the details and a message in @res (may be NULL).
 */
int lpu_schedule_run(struct lpu_schedule *s, struct lpu_schedule_result *res);
/*
 * The same in two steps: submit returns at once with the run's job in
 * *@fence (-EBUSY if the previous run was not waited for); wait takes a
 * relative @timeout_ns as lpu_wait() and returns 0 once the run is done
 * (its outcome in @res), -ETIME if it is not done yet, or -errno.
 */
int lpu_schedule_submit(struct lpu_schedule *s, struct lpu_fence *fence);
int lpu_schedule_wait(struct lpu_schedule *s, const struct lpu_fence *fence,
		      int64_t timeout_ns, struct lpu_schedule_result *res);

/*
 * Expert counters of MoE block @block after the last run: tokens routed to
 * each expert (@load) and those over capacity (@dropped), @count entries
 * each (at least num_experts; either may be NULL). Returns num_experts,
 * -ENOENT if the schedule has no such counters, or -errno.
 */
int lpu_schedule_expert_counts(struct lpu_schedule *s, unsigned int block,
			       uint32_t *load, uint32_t *dropped,
			       unsigned int count);

/* Message for a return value of this library (sign ignored). Never NULL. */
const char *lpu_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* LPU_H */
