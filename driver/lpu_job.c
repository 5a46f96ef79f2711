// SPDX-License-Identifier: GPL-2.0-only
/*
 * LPU v3 jobs: SUBMIT and WAIT, per-file contexts and sequence numbers.
 *
 * Every open file numbers its jobs 1, 2, 3, ... and maps each number to the
 * job while it is unfinished. When the scheduler frees a job it leaves the
 * map: a success leaves its device time in a small history ring, a failure
 * its status in a ring of the file's last DRM_LPU_FAILURES_KEPT failures. Memory
 * per file is therefore bounded however many jobs it runs or fails. A
 * failure pushed out of the ring is not forgotten silently: WAIT on any
 * finished job at or below the newest such seq reports -ENODATA instead of
 * 0, so a WAIT never reports a failed job as successful.
 *
 * A job is a NOP, a COPY (lpu_copy.c builds its descriptors) or an EXEC
 * (lpu_exec.c); the last two name buffers, over which lpu_space.c builds
 * the job's device address space. Such a job holds its buffers until it is
 * freed, waits for the earlier jobs in their reservation objects it
 * conflicts with and adds its own fence there; in_syncobj and out_syncobj
 * connect any job to syncobjs.
 *
 * Lifetime: every job holds a reference on the DRM device, so the device
 * (its queues, schedulers and everything a job points at) outlives every
 * job by construction; the final DRM release then finds the schedulers
 * idle. The hardware fences point at nothing of the device at all.
 */

#include <linux/dma-resv.h>
#include <linux/slab.h>

#include <drm/drm_drv.h>
#include <drm/drm_gem.h>
#include <drm/drm_file.h>
#include <drm/drm_print.h>
#include <drm/drm_syncobj.h>
#include <drm/drm_utils.h>

#include "drm/lpu_accel.h"
#include "lpu_copy.h"
#include "lpu_drv.h"
#include "lpu_exec.h"
#include "lpu_gem.h"
#include "lpu_job.h"
#include "lpu_queue.h"
#include "lpu_space.h"

static_assert(DRM_LPU_NOP_MAX_CYCLES <= LPU_NOP_MAX_CYCLES);

static void lpu_file_release(struct kref *ref)
{
	struct lpu_file *lfile = container_of(ref, struct lpu_file, ref);

	mutex_destroy(&lfile->lock);
	kfree(lfile);
}

static void lpu_file_put(struct lpu_file *lfile)
{
	kref_put(&lfile->ref, lpu_file_release);
}

static void lpu_job_release_work(struct work_struct *work)
{
	struct lpu_job *job = container_of(work, struct lpu_job, release_work);
	struct drm_device *drm = &job->lfile->ldev->drm;

	/* Unmaps, unpins and drops the buffers; may free (scrub) SRAM. */
	if (job->space)
		lpu_space_destroy(job->space);
	lpu_file_put(job->lfile);
	kfree(job);
	drm_dev_put(drm);
}

static void lpu_job_release(struct kref *ref)
{
	struct lpu_job *job = container_of(ref, struct lpu_job, ref);

	dma_fence_put(job->done);
	/* Until run_job() initialised it, the hardware fence is plain memory. */
	if (job->hw_armed)
		dma_fence_put(&job->hw->base);
	else
		kfree(job->hw);

	/*
	 * The device reference may be the last one, and the DRM release runs
	 * drm_sched_fini(), which cancels the scheduler's work items
	 * synchronously: it must not run inside one of them (free_job()).
	 * lpu_wq is drained at module unload.
	 */
	INIT_WORK(&job->release_work, lpu_job_release_work);
	queue_work(lpu_wq, &job->release_work);
}

static void lpu_job_put(struct lpu_job *job)
{
	kref_put(&job->ref, lpu_job_release);
}

static struct lpu_job *lpu_job_alloc(struct lpu_file *lfile,
				     struct lpu_queue *q)
{
	struct lpu_job *job;

	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job)
		return NULL;
	job->hw = kzalloc(sizeof(*job->hw), GFP_KERNEL);
	if (!job->hw) {
		kfree(job);
		return NULL;
	}
	INIT_LIST_HEAD(&job->hw->link);
	kref_init(&job->ref);
	kref_get(&lfile->ref);
	drm_dev_get(&lfile->ldev->drm);
	job->lfile = lfile;
	job->q = q;
	return job;
}

/* Device time of a finished job, 0 if it never reached its fence. */
static u64 lpu_job_device_ns(struct lpu_job *job)
{
	if (!READ_ONCE(job->hw_armed))
		return 0;
	/* Written before the fence signaled, which the caller observed. */
	smp_rmb();
	return READ_ONCE(job->hw->device_ns);
}

/*
 * Engine time of a finished job for fdinfo: its own time on the engine,
 * failed jobs included (lpu_queue.c); 0 if it was never emitted.
 */
static u64 lpu_job_engine_ns(struct lpu_job *job)
{
	if (!READ_ONCE(job->hw_armed))
		return 0;
	/* Written before the fence signaled, which the caller observed. */
	smp_rmb();
	return READ_ONCE(job->hw->engine_ns);
}

static void lpu_file_note_success(struct lpu_file *lfile, u64 seq,
				  u64 device_ns)
{
	struct lpu_job_result *res = &lfile->history[seq % LPU_FILE_HISTORY];

	res->seq = seq;
	res->device_ns = device_ns;
}

/*
 * What the device said about a finished job that failed with -EFAULT (the
 * access it refused) or -ENOEXEC (the instruction and why; the operand's
 * address for LPU_EXEC_E_OPERAND); all 0 otherwise.
 */
static void lpu_job_error(struct lpu_job *job, int status,
			  struct lpu_job_error *err)
{
	memset(err, 0, sizeof(*err));
	if ((status != -EFAULT && status != -ENOEXEC) ||
	    !READ_ONCE(job->hw_armed))
		return;
	/* Written before the fence signaled, which the caller observed. */
	smp_rmb();
	err->fault_addr = READ_ONCE(job->hw->fault_addr);
	if (status == -EFAULT) {
		err->fault_kind = READ_ONCE(job->hw->fault_kind);
	} else {
		err->error_insn = READ_ONCE(job->hw->exec_insn);
		err->error_reason = READ_ONCE(job->hw->exec_reason);
	}
}

static void lpu_wait_set_error(struct drm_lpu_wait *args,
			       const struct lpu_job_error *err)
{
	args->fault_addr = err->fault_addr;
	args->fault_kind = err->fault_kind;
	args->error_insn = err->error_insn;
	args->error_reason = err->error_reason;
}

static void lpu_file_note_failure(struct lpu_file *lfile, struct lpu_job *job,
				  int status)
{
	struct lpu_job_failure *f = &lfile->failures[lfile->failures_next];

	lockdep_assert_held(&lfile->lock);

	if (f->seq > lfile->failures_forgotten)
		lfile->failures_forgotten = f->seq;
	f->seq = job->seq;
	f->status = status;
	lpu_job_error(job, status, &f->err);
	lfile->failures_next = (lfile->failures_next + 1) % DRM_LPU_FAILURES_KEPT;
}

/* WAIT's answer for a job of @lfile that finished and was freed. */
static void lpu_file_finished_status(struct lpu_file *lfile, u64 seq,
				     struct drm_lpu_wait *args)
{
	const struct lpu_job_result *res = &lfile->history[seq % LPU_FILE_HISTORY];
	u32 i;

	lockdep_assert_held(&lfile->lock);

	for (i = 0; i < DRM_LPU_FAILURES_KEPT; i++) {
		if (lfile->failures[i].seq == seq) {
			args->status = lfile->failures[i].status;
			lpu_wait_set_error(args, &lfile->failures[i].err);
			return;
		}
	}
	if (seq <= lfile->failures_forgotten) {
		/* It may be one of the failures pushed out of the ring. */
		args->status = -ENODATA;
		return;
	}
	if (res->seq == seq)
		args->device_ns = res->device_ns;
}

/* The scheduler's free_job(): the job finished and left the hardware. */
void lpu_job_free(struct drm_sched_job *sched_job)
{
	struct lpu_job *job = to_lpu_job(sched_job);
	struct lpu_file *lfile = job->lfile;
	int status = dma_fence_get_status(job->done);
	u64 device_ns = lpu_job_device_ns(job);
	bool listed;

	drm_sched_job_cleanup(sched_job);

	mutex_lock(&lfile->lock);
	lfile->busy_ns[job->q->index] += lpu_job_engine_ns(job);
	/* close() may have emptied the map already. */
	listed = xa_load(&lfile->jobs, job->seq) == job;
	if (listed) {
		xa_erase(&lfile->jobs, job->seq);
		if (status < 0)
			lpu_file_note_failure(lfile, job, status);
		else
			lpu_file_note_success(lfile, job->seq, device_ns);
	}
	mutex_unlock(&lfile->lock);

	atomic_dec(&lfile->unfinished);
	wake_up(&lfile->unfinished_wq);

	if (listed)
		lpu_job_put(job);
	lpu_job_put(job);
}

int lpu_file_open(struct lpu_device *ldev, struct drm_file *file)
{
	struct lpu_file *lfile;

	lfile = kzalloc(sizeof(*lfile), GFP_KERNEL);
	if (!lfile)
		return -ENOMEM;
	kref_init(&lfile->ref);
	lfile->ldev = ldev;
	atomic_set(&lfile->unfinished, 0);
	init_waitqueue_head(&lfile->unfinished_wq);
	mutex_init(&lfile->lock);
	xa_init(&lfile->jobs);
	file->driver_priv = lfile;
	return 0;
}

void lpu_file_close(struct drm_file *file)
{
	struct lpu_file *lfile = file->driver_priv;
	struct lpu_job *job;
	unsigned long index;
	u32 i;

	/*
	 * Waits (briefly; at once if the process is being killed) for jobs
	 * still queued in the entity, then drops those not yet started.
	 * Jobs already on the device finish normally and hold @lfile.
	 */
	for (i = 0; i < LPU_NUM_QUEUES; i++)
		if (test_bit(i, &lfile->entity_ready))
			drm_sched_entity_destroy(&lfile->entities[i]);

	mutex_lock(&lfile->lock);
	xa_for_each(&lfile->jobs, index, job) {
		xa_erase(&lfile->jobs, index);
		lpu_job_put(job);
	}
	xa_destroy(&lfile->jobs);
	mutex_unlock(&lfile->lock);

	lpu_file_put(lfile);
}

void lpu_file_show_fdinfo(struct drm_printer *p, struct drm_file *file)
{
	struct lpu_file *lfile = file->driver_priv;
	u32 i;

	mutex_lock(&lfile->lock);
	for (i = 0; i < lfile->ldev->num_queues; i++)
		drm_printf(p, "drm-engine-q%u:\t%llu ns\n", i, lfile->busy_ns[i]);
	mutex_unlock(&lfile->lock);
	lpu_gem_show_memory_stats(p, file);
}

static struct drm_sched_entity *lpu_file_entity(struct lpu_file *lfile,
						struct lpu_queue *q)
{
	struct drm_sched_entity *entity = &lfile->entities[q->index];
	struct drm_gpu_scheduler *sched = &q->sched;
	int ret;

	lockdep_assert_held(&lfile->lock);

	if (test_bit(q->index, &lfile->entity_ready))
		return entity;

	ret = drm_sched_entity_init(entity, DRM_SCHED_PRIORITY_NORMAL,
				    &sched, 1, NULL);
	if (ret)
		return ERR_PTR(ret);
	set_bit(q->index, &lfile->entity_ready);
	return entity;
}

static int lpu_submit_check_nop(struct drm_device *drm,
				const struct drm_lpu_submit *args)
{
	if (args->nop_cycles > DRM_LPU_NOP_MAX_CYCLES) {
		drm_dbg_driver(drm, "SUBMIT: nop_cycles %u above %u\n",
			       args->nop_cycles, DRM_LPU_NOP_MAX_CYCLES);
		return -EINVAL;
	}
	if (args->copies || args->copy_count || args->exec) {
		drm_dbg_driver(drm,
			       "SUBMIT: NOP job with copies 0x%llx, copy_count %u and exec 0x%llx, all must be 0\n",
			       args->copies, args->copy_count, args->exec);
		return -EINVAL;
	}
	return 0;
}

static int lpu_submit_check_copy(struct drm_device *drm, struct lpu_queue *q,
				 const struct drm_lpu_submit *args)
{
	if (args->nop_cycles) {
		drm_dbg_driver(drm, "SUBMIT: COPY job with nop_cycles %u, must be 0\n",
			       args->nop_cycles);
		return -EINVAL;
	}
	/* drm_sched warns about a job larger than its whole credit limit. */
	if (!args->copy_count || args->copy_count > DRM_LPU_MAX_COPIES ||
	    args->copy_count + 1 > q->max_descs) {
		drm_dbg_driver(drm,
			       "SUBMIT: copy_count %u not in 1..%u (a job's descriptors and FENCE must fit the %u the ring holds)\n",
			       args->copy_count,
			       min_t(u32, DRM_LPU_MAX_COPIES, q->max_descs - 1),
			       q->max_descs);
		return -EINVAL;
	}
	if (!args->copies) {
		drm_dbg_driver(drm, "SUBMIT: COPY job without a copies array\n");
		return -EINVAL;
	}
	if (args->exec) {
		drm_dbg_driver(drm, "SUBMIT: COPY job with exec 0x%llx, must be 0\n",
			       args->exec);
		return -EINVAL;
	}
	return 0;
}

/* The rest (struct drm_lpu_exec and its slots) is lpu_exec.c's. */
static int lpu_submit_check_exec(struct drm_device *drm,
				 const struct drm_lpu_submit *args)
{
	if (args->nop_cycles || args->copies || args->copy_count) {
		drm_dbg_driver(drm,
			       "SUBMIT: EXEC job with nop_cycles %u, copies 0x%llx and copy_count %u, all must be 0\n",
			       args->nop_cycles, args->copies, args->copy_count);
		return -EINVAL;
	}
	if (!args->exec) {
		drm_dbg_driver(drm, "SUBMIT: EXEC job without a struct drm_lpu_exec\n");
		return -EINVAL;
	}
	return 0;
}

static int lpu_submit_check(struct lpu_device *ldev,
			    const struct drm_lpu_submit *args)
{
	struct drm_device *drm = &ldev->drm;

	if (args->queue >= ldev->num_queues) {
		drm_dbg_driver(drm, "SUBMIT: queue %u, device has %u\n",
			       args->queue, ldev->num_queues);
		return -EINVAL;
	}
	if (args->flags || args->pad) {
		drm_dbg_driver(drm, "SUBMIT: flags 0x%x and pad 0x%x must be 0\n",
			       args->flags, args->pad);
		return -EINVAL;
	}
	switch (args->job_type) {
	case LPU_JOB_NOP:
		return lpu_submit_check_nop(drm, args);
	case LPU_JOB_COPY:
		return lpu_submit_check_copy(drm, &ldev->queues[args->queue], args);
	case LPU_JOB_EXEC:
		return lpu_submit_check_exec(drm, args);
	}
	drm_dbg_driver(drm, "SUBMIT: unknown job type %u\n", args->job_type);
	return -EINVAL;
}

/* in_syncobj: the job waits for the fence the syncobj holds now. */
static int lpu_job_add_in_syncobj(struct lpu_job *job, struct drm_file *file,
				  u32 handle)
{
	struct drm_device *drm = file->minor->dev;
	struct drm_syncobj *syncobj;
	struct dma_fence *fence;

	syncobj = drm_syncobj_find(file, handle);
	if (!syncobj) {
		drm_dbg_driver(drm, "SUBMIT: in_syncobj %u does not exist\n", handle);
		return -ENOENT;
	}
	fence = drm_syncobj_fence_get(syncobj);
	drm_syncobj_put(syncobj);
	if (!fence) {
		drm_dbg_driver(drm, "SUBMIT: in_syncobj %u holds no fence\n", handle);
		return -ENOENT;
	}
	/* Takes the fence reference, even on failure. */
	return drm_sched_job_add_dependency(&job->base, fence);
}

/*
 * Lock the job's buffers (all of them, deadlock-free through the
 * ww_mutex protocol), make room for the job's fence in each and make the
 * job wait for the earlier jobs it conflicts with: a write waits for every
 * access, a read for writes. drm_gem_lock_reservations() rather than
 * drm_exec: it is DRM core, so lpu.ko needs no further helper module
 * (drm_exec is a hidden Kconfig symbol the debug kernel does not build).
 * On success the caller unlocks with drm_gem_unlock_reservations().
 */
static int lpu_job_lock_buffers(struct lpu_job *job,
				struct drm_gem_object **objs,
				struct ww_acquire_ctx *ctx)
{
	struct lpu_space *space = job->space;
	u32 i;
	int ret;

	for (i = 0; i < space->num_bufs; i++)
		objs[i] = space->bufs[i].obj;
	ret = drm_gem_lock_reservations(objs, space->num_bufs, ctx);
	if (ret)
		return ret;

	for (i = 0; i < space->num_bufs; i++) {
		ret = dma_resv_reserve_fences(objs[i]->resv, 1);
		if (ret)
			break;
		ret = drm_sched_job_add_implicit_dependencies(&job->base,
							      objs[i],
							      space->bufs[i].write);
		if (ret)
			break;
	}
	if (ret)
		drm_gem_unlock_reservations(objs, space->num_bufs, ctx);
	return ret;
}

/* The job's own descriptors: a NOP, its COPYs, or its EXEC. */
static int lpu_job_prepare(struct lpu_job *job, struct drm_file *file,
			   const struct drm_lpu_submit *args)
{
	struct lpu_hw_fence *hw = job->hw;
	int ret = 0;

	switch (args->job_type) {
	case LPU_JOB_COPY:
		ret = lpu_copy_prepare(job, file, args);
		break;
	case LPU_JOB_EXEC:
		ret = lpu_exec_prepare(job, file, args);
		break;
	default:
		job->descs[0].nop.hdr.opcode = LPU_OP_NOP;
		job->descs[0].nop.cycles = cpu_to_le32(args->nop_cycles);
		job->num_descs = 1;
		break;
	}
	if (ret)
		return ret;
	hw->descs = job->descs;
	hw->num_descs = job->num_descs;
	hw->space = job->space;
	hw->client_id = file->client_id;
	return 0;
}

int lpu_ioctl_submit(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct lpu_device *ldev = to_lpu_device(drm);
	struct lpu_file *lfile = file->driver_priv;
	struct drm_lpu_submit *args = data;
	struct drm_syncobj *out_syncobj = NULL;
	struct drm_sched_entity *entity;
	struct drm_gem_object *objs[LPU_SPACE_MAX_BUFS];
	struct ww_acquire_ctx ww_ctx;
	u32 nlocked = 0;
	struct lpu_queue *q;
	struct lpu_job *job;
	u32 i;
	u64 seq;
	int ret, idx;

	ret = lpu_submit_check(ldev, args);
	if (ret)
		return ret;
	q = &ldev->queues[args->queue];

	if (args->out_syncobj) {
		out_syncobj = drm_syncobj_find(file, args->out_syncobj);
		if (!out_syncobj) {
			drm_dbg_driver(drm, "SUBMIT: out_syncobj %u does not exist\n",
				       args->out_syncobj);
			return -ENOENT;
		}
	}

	/* Back-pressure, outside drm_dev_enter() so removal never waits on it. */
	ret = wait_event_interruptible(lfile->unfinished_wq,
				       atomic_add_unless(&lfile->unfinished, 1,
							 DRM_LPU_MAX_UNFINISHED_JOBS));
	if (ret)
		goto out_syncobj;

	if (!drm_dev_enter(drm, &idx)) {
		ret = -ENODEV;
		goto out_slot;
	}

	job = lpu_job_alloc(lfile, q);
	if (!job) {
		ret = -ENOMEM;
		goto out_exit;
	}
	ret = lpu_job_prepare(job, file, args);
	if (ret)
		goto out_put;

	mutex_lock(&lfile->lock);
	entity = lpu_file_entity(lfile, q);
	if (IS_ERR(entity)) {
		ret = PTR_ERR(entity);
		drm_dbg_driver(drm, "SUBMIT: entity init for queue %u failed: %d\n",
			       q->index, ret);
		goto out_unlock;
	}

	/* Credits are ring slots: the work descriptors and the FENCE. */
	ret = drm_sched_job_init(&job->base, entity, job->hw->num_descs + 1,
				 lfile, file->client_id);
	if (ret)
		goto out_unlock;

	if (args->in_syncobj) {
		ret = lpu_job_add_in_syncobj(job, file, args->in_syncobj);
		if (ret)
			goto out_cleanup;
	}
	if (job->space) {
		ret = lpu_job_lock_buffers(job, objs, &ww_ctx);
		if (ret)
			goto out_cleanup;
		nlocked = job->space->num_bufs;
	}

	seq = lfile->last_seq + 1;
	ret = xa_insert(&lfile->jobs, seq, job, GFP_KERNEL);
	if (ret)
		goto out_cleanup;
	/* The map's reference; the initial one goes to the scheduler. */
	kref_get(&job->ref);
	job->seq = seq;
	job->hw->bad_opcode = lpu_queue_take_inject_bad(q);
	lfile->last_seq = seq;

	drm_sched_job_arm(&job->base);
	job->done = dma_fence_get(&job->base.s_fence->finished);
	/* Later jobs touching these buffers, and BO_WAIT, see this job. */
	for (i = 0; job->space && i < job->space->num_bufs; i++)
		dma_resv_add_fence(job->space->bufs[i].obj->resv, job->done,
				   job->space->bufs[i].write ?
				   DMA_RESV_USAGE_WRITE : DMA_RESV_USAGE_READ);
	if (out_syncobj)
		drm_syncobj_replace_fence(out_syncobj, job->done);
	drm_sched_entity_push_job(&job->base);
	/* Before @lfile->lock: free_job() of this job waits for that lock. */
	if (nlocked)
		drm_gem_unlock_reservations(objs, nlocked, &ww_ctx);
	mutex_unlock(&lfile->lock);

	args->seq = seq;
	drm_dev_exit(idx);
	if (out_syncobj)
		drm_syncobj_put(out_syncobj);
	return 0;

out_cleanup:
	if (nlocked)
		drm_gem_unlock_reservations(objs, nlocked, &ww_ctx);
	drm_sched_job_cleanup(&job->base);
out_unlock:
	mutex_unlock(&lfile->lock);
out_put:
	lpu_job_put(job);
out_exit:
	drm_dev_exit(idx);
out_slot:
	atomic_dec(&lfile->unfinished);
	wake_up(&lfile->unfinished_wq);
out_syncobj:
	if (out_syncobj)
		drm_syncobj_put(out_syncobj);
	return ret;
}

/* Wait for @job until the absolute CLOCK_MONOTONIC @deadline_ns. */
static int lpu_job_wait(struct lpu_job *job, s64 deadline_ns)
{
	for (;;) {
		long timeout = drm_timeout_abs_to_jiffies(deadline_ns);
		long ret;

		if (!timeout)
			return dma_fence_is_signaled(job->done) ? 0 : -ETIME;

		/* -ERESTARTSYS restarts the ioctl with the same deadline. */
		ret = dma_fence_wait_timeout(job->done, true, timeout);
		if (ret < 0)
			return ret;
		if (ret)
			return 0;
		/*
		 * A jiffy-based sleep can end a little before the deadline;
		 * -ETIME promises it passed, so check the clock again.
		 */
	}
}

int lpu_ioctl_wait(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct lpu_file *lfile = file->driver_priv;
	struct drm_lpu_wait *args = data;
	struct lpu_job *job = NULL;
	int ret, idx;

	if (args->flags || args->pad) {
		drm_dbg_driver(drm, "WAIT: flags 0x%x and pad 0x%x must be 0\n",
			       args->flags, args->pad);
		return -EINVAL;
	}

	/* Only the lookup is guarded: removal fails the fence we wait on. */
	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;

	mutex_lock(&lfile->lock);
	if (!args->seq || args->seq > lfile->last_seq) {
		drm_dbg_driver(drm, "WAIT: seq %llu never submitted (last %llu)\n",
			       args->seq, lfile->last_seq);
		ret = -EINVAL;
		goto out_unlock;
	}

	ret = 0;
	args->status = 0;
	args->device_ns = 0;
	args->fault_addr = 0;
	args->fault_kind = 0;
	args->error_insn = 0;
	args->error_reason = 0;
	job = xa_load(&lfile->jobs, args->seq);
	if (job)
		kref_get(&job->ref);
	else
		lpu_file_finished_status(lfile, args->seq, args);
out_unlock:
	mutex_unlock(&lfile->lock);
	drm_dev_exit(idx);
	if (!job)
		return ret;

	ret = lpu_job_wait(job, args->timeout_ns);
	if (!ret) {
		int status = dma_fence_get_status(job->done);
		struct lpu_job_error err;

		args->status = status < 0 ? status : 0;
		args->device_ns = lpu_job_device_ns(job);
		lpu_job_error(job, args->status, &err);
		lpu_wait_set_error(args, &err);
	}
	lpu_job_put(job);
	return ret;
}
