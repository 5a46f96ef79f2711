/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * LPU v3 jobs and per-file contexts: SUBMIT and WAIT, and the map from a
 * file's sequence numbers to its jobs.
 */
#ifndef __LPU_JOB_H__
#define __LPU_JOB_H__

#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include <drm/gpu_scheduler.h>

#include "drm/lpu_accel.h"
#include "lpu_hw.h"

struct drm_device;
struct drm_file;
struct drm_printer;
struct lpu_device;
struct lpu_hw_fence;
struct lpu_queue;
struct lpu_space;

/* Recent successful completions a file remembers for WAIT's device_ns. */
#define LPU_FILE_HISTORY	256

/* Work descriptors of one job: a NOP, an EXEC, or a COPY per copy. */
#define LPU_JOB_MAX_DESCS	DRM_LPU_MAX_COPIES

struct lpu_job_result {
	u64 seq;
	u64 device_ns;
};

/* What WAIT reports about a failed job besides its status. */
struct lpu_job_error {
	u64 fault_addr;
	u32 fault_kind;
	u32 error_insn;
	u32 error_reason;
};

struct lpu_job_failure {
	u64 seq;
	s32 status;
	struct lpu_job_error err;
};

/**
 * struct lpu_file - per open file state
 * @ref: held by the open file and by every job of the file, so a job that
 *	outlives close() can still report back.
 * @ldev: the device.
 * @unfinished: jobs submitted and not yet freed by the scheduler.
 * @unfinished_wq: woken when @unfinished drops.
 * @lock: protects everything below; serialises SUBMIT so that jobs are
 *	armed and pushed in sequence order.
 * @entities: one scheduler entity per hardware queue, set up on first use.
 * @entity_ready: bitmap of initialised @entities.
 * @last_seq: last sequence number handed out (0: none yet).
 * @jobs: seq -> &struct lpu_job while the job is unfinished; every job
 *	leaves when the scheduler frees it. At most DRM_LPU_MAX_UNFINISHED_JOBS.
 * @history: device time of recent successful jobs, by seq modulo size.
 * @failures: the last DRM_LPU_FAILURES_KEPT failed jobs, oldest overwritten.
 * @failures_next: slot of @failures the next failure takes.
 * @failures_forgotten: highest seq of a failure overwritten in @failures
 *	(0: none); a finished job at or below it may have failed.
 * @busy_ns: engine time of this file's finished jobs, per queue (fdinfo):
 *	its own time on the engine, failed jobs included (lpu_queue.c).
 */
struct lpu_file {
	struct kref ref;
	struct lpu_device *ldev;
	atomic_t unfinished;
	wait_queue_head_t unfinished_wq;
	struct mutex lock; /* see @lock above */
	struct drm_sched_entity entities[LPU_NUM_QUEUES];
	unsigned long entity_ready;
	u64 last_seq;
	struct xarray jobs;
	struct lpu_job_result history[LPU_FILE_HISTORY];
	struct lpu_job_failure failures[DRM_LPU_FAILURES_KEPT];
	u32 failures_next;
	u64 failures_forgotten;
	u64 busy_ns[LPU_NUM_QUEUES];
};

/**
 * struct lpu_job - one submitted job
 * @base: scheduler job.
 * @ref: held by the scheduler (until free_job), by @lfile's map while the
 *	job is listed there, and by each waiter.
 * @release_work: puts the job's DRM device reference, see lpu_job_release().
 * @lfile: submitting file.
 * @q: hardware queue.
 * @seq: the file's sequence number of the job.
 * @space: the buffers of a COPY or EXEC job, their mappings and the
 *	job's segment table; NULL for a NOP job.
 * @num_descs: work descriptors in @descs.
 * @descs: the job's work descriptors (a NOP, an EXEC, or one COPY per
 *	copy), emitted (and re-emitted after a queue reset) before its FENCE.
 * @done: the scheduler's finished fence; its error is the job's status.
 * @hw: hardware fence, allocated at submit so run_job never allocates.
 * @hw_armed: run_job initialised and emitted @hw (under the queue lock).
 */
struct lpu_job {
	struct drm_sched_job base;
	struct kref ref;
	struct work_struct release_work;
	struct lpu_file *lfile;
	struct lpu_queue *q;
	u64 seq;
	struct lpu_space *space;
	u32 num_descs;
	union lpu_desc descs[LPU_JOB_MAX_DESCS];
	struct dma_fence *done;
	struct lpu_hw_fence *hw;
	bool hw_armed;
};

static inline struct lpu_job *to_lpu_job(struct drm_sched_job *sched_job)
{
	return container_of(sched_job, struct lpu_job, base);
}

int lpu_file_open(struct lpu_device *ldev, struct drm_file *file);
void lpu_file_close(struct drm_file *file);
void lpu_file_show_fdinfo(struct drm_printer *p, struct drm_file *file);

int lpu_ioctl_submit(struct drm_device *drm, void *data, struct drm_file *file);
int lpu_ioctl_wait(struct drm_device *drm, void *data, struct drm_file *file);

void lpu_job_free(struct drm_sched_job *sched_job);

#endif /* __LPU_JOB_H__ */
