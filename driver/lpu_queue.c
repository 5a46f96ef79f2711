// SPDX-License-Identifier: GPL-2.0-only
/*
 * LPU v3 hardware queues.
 *
 * Each queue has a ring of descriptors and an array of fence records in
 * coherent DMA memory, and a drm_gpu_scheduler feeding it. run_job() writes
 * a job's NOP and FENCE descriptors and rings the doorbell; the queue's
 * MSI-X vector signals the job's hardware fence once the device wrote the
 * matching fence record. Jobs retire in ring order.
 *
 * Recovery. When the device rejects a descriptor it halts the queue; the
 * interrupt handler fails the job owning that descriptor with -EIO, resets
 * the queue and re-emits the jobs that were behind it, which never ran and
 * so are innocent. A job that does not complete within the scheduler timeout
 * is failed with -ETIMEDOUT the same way. Neither path goes through
 * drm_sched_stop()/drm_sched_start(): the scheduler keeps its callbacks on
 * the re-emitted jobs' fences, which stay unsignaled, so nothing but the
 * guilty job sees an error.
 */

#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/iopoll.h>
#include <linux/seq_file.h>

#include <drm/drm_drv.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>

#include "lpu_drv.h"
#include "lpu_job.h"
#include "lpu_queue.h"
#include "lpu_regs.h"

/* Q_CTRL_RESET self-clears; the model does it within the register write. */
#define LPU_Q_RESET_TIMEOUT_US	1000

/* How long the final teardown waits for jobs the scheduler still owns. */
#define LPU_TEARDOWN_TIMEOUT	(10 * HZ)

static_assert(offsetof(struct lpu_hw_fence, base) == 0);
static_assert(sizeof(union lpu_desc) == LPU_DESC_SIZE);
static_assert(sizeof(struct lpu_fence_record) == LPU_FENCE_RECORD_SIZE);

static const char *lpu_fence_get_driver_name(struct dma_fence *fence)
{
	return LPU_DRIVER_NAME;
}

static const char *lpu_fence_get_timeline_name(struct dma_fence *fence)
{
	return container_of(fence, struct lpu_hw_fence, base)->q->name;
}

static const struct dma_fence_ops lpu_hw_fence_ops = {
	.get_driver_name = lpu_fence_get_driver_name,
	.get_timeline_name = lpu_fence_get_timeline_name,
	.use_64bit_seqno = true,
};

static void lpu_queue_write_job_locked(struct lpu_queue *q,
				       struct lpu_hw_fence *hw)
{
	union lpu_desc nop = {}, fence = {};
	u32 idx = q->tail;

	lockdep_assert_held(&q->lock);

	/* LPU_OP_INVALID is what the fault hook sends: rejected by design. */
	nop.nop.hdr.opcode = hw->bad_opcode ? LPU_OP_INVALID : LPU_OP_NOP;
	nop.nop.cycles = cpu_to_le32(hw->nop_cycles);

	fence.fence.hdr.opcode = LPU_OP_FENCE;
	fence.fence.hdr.flags = LPU_DESC_F_IRQ;
	fence.fence.slot = cpu_to_le32(hw->slot);
	fence.fence.seq = cpu_to_le64(hw->base.seqno);

	/*
	 * The ring size is even and the tail moves in pairs, so both
	 * descriptors of a job are adjacent.
	 */
	q->ring[idx] = nop;
	q->ring[idx + 1] = fence;
	hw->ring_index = idx;
	q->tail = (idx + LPU_DESCS_PER_JOB) & (q->ldev->ring_entries - 1);
}

static void lpu_queue_kick_locked(struct lpu_queue *q)
{
	/* writel() orders the descriptor stores before the TAIL update. */
	lpu_q_write(q, LPU_Q_TAIL, q->tail);
	lpu_q_write(q, LPU_Q_DOORBELL, 1);
}

/* Reset the queue and program ring and fence area; the queue ends enabled. */
static int lpu_queue_hw_start_locked(struct lpu_queue *q)
{
	struct lpu_device *ldev = q->ldev;
	u32 val;
	int ret;

	lpu_q_write(q, LPU_Q_CTRL, LPU_Q_CTRL_RESET);
	ret = readl_poll_timeout_atomic(q->regs + LPU_Q_CTRL, val,
					!(val & LPU_Q_CTRL_RESET), 1,
					LPU_Q_RESET_TIMEOUT_US);
	if (ret) {
		drm_err(&ldev->drm, "queue %u: reset did not complete (ctrl 0x%08x)\n",
			q->index, val);
		return ret;
	}
	q->tail = 0;

	lpu_q_write(q, LPU_Q_RING_BASE_LO, lower_32_bits(q->ring_dma));
	lpu_q_write(q, LPU_Q_RING_BASE_HI, upper_32_bits(q->ring_dma));
	lpu_q_write(q, LPU_Q_RING_SIZE, ldev->ring_entries);
	lpu_q_write(q, LPU_Q_FENCE_BASE_LO, lower_32_bits(q->records_dma));
	lpu_q_write(q, LPU_Q_FENCE_BASE_HI, upper_32_bits(q->records_dma));
	lpu_q_write(q, LPU_Q_FENCE_COUNT, q->num_records);
	lpu_q_write(q, LPU_Q_CTRL, LPU_Q_CTRL_ENABLE);

	val = lpu_q_read(q, LPU_Q_STATUS);
	if (!(val & LPU_Q_STATUS_ENABLED) || (val & LPU_Q_STATUS_HALTED)) {
		u32 err = lpu_q_read(q, LPU_Q_ERROR);

		drm_err(&ldev->drm, "queue %u: device refused ring configuration: %s (%u)\n",
			q->index, lpu_hw_err_name(err), err);
		return -EIO;
	}
	return 0;
}

/* Take @hw off the device and signal it; drops the in-flight reference. */
static void lpu_queue_complete_locked(struct lpu_queue *q,
				      struct lpu_hw_fence *hw, int error)
{
	lockdep_assert_held(&q->lock);

	list_del_init(&hw->link);
	q->inflight_count--;
	if (error) {
		dma_fence_set_error(&hw->base, error);
		q->jobs_failed++;
	} else {
		q->jobs_done++;
	}
	dma_fence_signal_locked(&hw->base);
	dma_fence_put(&hw->base);
}

static void lpu_queue_fail_all_locked(struct lpu_queue *q, int error)
{
	struct lpu_hw_fence *hw, *tmp;

	list_for_each_entry_safe(hw, tmp, &q->inflight, link)
		lpu_queue_complete_locked(q, hw, error);
}

/* Signal, in ring order, every job whose fence record the device wrote. */
static void lpu_queue_retire_locked(struct lpu_queue *q)
{
	struct lpu_hw_fence *hw, *tmp;

	list_for_each_entry_safe(hw, tmp, &q->inflight, link) {
		struct lpu_fence_record *rec = &q->records[hw->slot];
		u64 doorbell_ns, complete_ns;
		u32 status;

		if (le64_to_cpu(READ_ONCE(rec->seq)) != hw->base.seqno)
			break;
		/* Read the rest of the record only after its seq matched. */
		dma_rmb();
		status = le32_to_cpu(READ_ONCE(rec->status));
		doorbell_ns = le64_to_cpu(READ_ONCE(rec->doorbell_ns));
		complete_ns = le64_to_cpu(READ_ONCE(rec->complete_ns));
		if (complete_ns > doorbell_ns)
			hw->device_ns = complete_ns - doorbell_ns;

		if (status != LPU_ERR_OK)
			drm_err_ratelimited(&q->ldev->drm,
					    "queue %u: job with fence %llu completed with device error %s (%u)\n",
					    q->index, hw->base.seqno,
					    lpu_hw_err_name(status), status);
		lpu_queue_complete_locked(q, hw, status == LPU_ERR_OK ? 0 : -EIO);
	}
}

/*
 * Bring the queue back after a halt or hang: reset it and emit again, from
 * ring slot 0, the jobs still in flight (they never ran to their fence).
 */
static void lpu_queue_restart_locked(struct lpu_queue *q)
{
	struct lpu_hw_fence *hw;

	q->resets++;
	if (lpu_queue_hw_start_locked(q)) {
		lpu_queue_fail_all_locked(q, -EIO);
		return;
	}
	if (list_empty(&q->inflight))
		return;
	list_for_each_entry(hw, &q->inflight, link) {
		hw->bad_opcode = false;
		lpu_queue_write_job_locked(q, hw);
	}
	lpu_queue_kick_locked(q);
}

static void lpu_queue_handle_halt_locked(struct lpu_queue *q)
{
	u32 err = lpu_q_read(q, LPU_Q_ERROR);
	u32 at = lpu_q_read(q, LPU_Q_ERROR_HEAD);
	struct lpu_hw_fence *hw, *bad = NULL;

	list_for_each_entry(hw, &q->inflight, link) {
		if (at >= hw->ring_index && at < hw->ring_index + LPU_DESCS_PER_JOB) {
			bad = hw;
			break;
		}
	}
	/* The device stops at the first bad descriptor: the oldest job. */
	if (!bad)
		bad = list_first_entry_or_null(&q->inflight, struct lpu_hw_fence, link);

	if (bad) {
		drm_err(&q->ldev->drm,
			"queue %u halted at descriptor %u: %s (%u); job with fence %llu failed, queue reset\n",
			q->index, at, lpu_hw_err_name(err), err, bad->base.seqno);
		lpu_queue_complete_locked(q, bad, -EIO);
	} else {
		drm_err(&q->ldev->drm,
			"queue %u halted at descriptor %u: %s (%u) with no job in flight; queue reset\n",
			q->index, at, lpu_hw_err_name(err), err);
	}
	lpu_queue_restart_locked(q);
}

static irqreturn_t lpu_queue_irq(int irq, void *arg)
{
	struct lpu_queue *q = arg;
	struct lpu_device *ldev = q->ldev;
	int idx;

	if (!drm_dev_enter(&ldev->drm, &idx))
		return IRQ_NONE;

	/* Acknowledge before scanning: a later completion interrupts again. */
	lpu_write(ldev, LPU_REG_IRQ_STATUS, LPU_IRQ_QUEUE(q->index));

	spin_lock(&q->lock);
	lpu_queue_retire_locked(q);
	if (lpu_q_read(q, LPU_Q_STATUS) & LPU_Q_STATUS_HALTED)
		lpu_queue_handle_halt_locked(q);
	spin_unlock(&q->lock);

	drm_dev_exit(idx);
	return IRQ_HANDLED;
}

static struct dma_fence *lpu_sched_run_job(struct drm_sched_job *sched_job)
{
	struct lpu_job *job = to_lpu_job(sched_job);
	struct lpu_queue *q = job->q;
	struct lpu_hw_fence *hw = job->hw;
	struct dma_fence *fence;
	int idx;

	if (!drm_dev_enter(&q->ldev->drm, &idx))
		return ERR_PTR(-ENODEV);

	spin_lock_irq(&q->lock);
	if (q->dead) {
		fence = ERR_PTR(-ENODEV);
		goto out;
	}
	/* The credit limit makes this impossible; never overrun the ring. */
	if (q->inflight_count >= q->max_jobs) {
		drm_err(&q->ldev->drm, "queue %u: ring full, job %llu dropped\n",
			q->index, job->seq);
		fence = ERR_PTR(-ENOSPC);
		goto out;
	}

	dma_fence_init(&hw->base, &lpu_hw_fence_ops, &q->lock,
		       q->fence_context, ++q->last_seqno);
	WRITE_ONCE(job->hw_armed, true);
	hw->q = q;
	/*
	 * Fewer jobs than records are ever in flight and seqnos are
	 * consecutive, so in-flight jobs never share a record.
	 */
	hw->slot = lower_32_bits(q->last_seqno) & (q->num_records - 1);
	hw->nop_cycles = job->nop_cycles;
	hw->bad_opcode = job->bad_opcode;

	/* The in-flight list holds its own reference until signaled. */
	dma_fence_get(&hw->base);
	list_add_tail(&hw->link, &q->inflight);
	q->inflight_count++;
	lpu_queue_write_job_locked(q, hw);
	lpu_queue_kick_locked(q);

	/* This reference goes to the scheduler. */
	fence = dma_fence_get(&hw->base);
out:
	spin_unlock_irq(&q->lock);
	drm_dev_exit(idx);
	return fence;
}

/* Give a job back to the scheduler, which took it off its list to call us. */
static void lpu_sched_requeue(struct drm_sched_job *sched_job)
{
	struct drm_gpu_scheduler *sched = sched_job->sched;

	spin_lock(&sched->job_list_lock);
	list_add(&sched_job->list, &sched->pending_list);
	spin_unlock(&sched->job_list_lock);
}

static enum drm_gpu_sched_stat
lpu_sched_timedout_job(struct drm_sched_job *sched_job)
{
	struct lpu_job *job = to_lpu_job(sched_job);
	struct lpu_hw_fence *hw = job->hw;
	struct lpu_queue *q = job->q;
	struct lpu_device *ldev = q->ldev;
	bool hung = false;
	u64 seqno = 0;
	int idx;

	/* Off the pending list, a finished job is ours to free. */
	if (dma_fence_is_signaled(job->done)) {
		lpu_job_free(sched_job);
		return DRM_GPU_SCHED_STAT_NOMINAL;
	}

	if (!drm_dev_enter(&ldev->drm, &idx)) {
		/* remove() fails every job in flight with -ENODEV. */
		dma_fence_wait(job->done, false);
		lpu_job_free(sched_job);
		return DRM_GPU_SCHED_STAT_ENODEV;
	}

	spin_lock_irq(&q->lock);
	lpu_queue_retire_locked(q);
	if (!list_empty(&hw->link)) {
		/* Keep the in-flight reference until we signaled below. */
		hung = true;
		seqno = hw->base.seqno;
		list_del_init(&hw->link);
		q->inflight_count--;
		q->jobs_failed++;
		lpu_queue_restart_locked(q);
	}
	spin_unlock_irq(&q->lock);
	drm_dev_exit(idx);

	if (!hung) {
		/* It completed meanwhile, or run_job() is still emitting it. */
		if (dma_fence_is_signaled(job->done))
			lpu_job_free(sched_job);
		else
			lpu_sched_requeue(sched_job);
		return DRM_GPU_SCHED_STAT_NOMINAL;
	}

	drm_err(&ldev->drm, "queue %u: job with fence %llu timed out after %u ms; failed, queue reset\n",
		q->index, seqno, lpu_job_timeout_ms);

	/* Requeue first: signaling lets the scheduler free the job at once. */
	lpu_sched_requeue(sched_job);
	dma_fence_set_error(&hw->base, -ETIMEDOUT);
	dma_fence_signal(&hw->base);
	dma_fence_put(&hw->base);
	return DRM_GPU_SCHED_STAT_NOMINAL;
}

static const struct drm_sched_backend_ops lpu_sched_ops = {
	.run_job = lpu_sched_run_job,
	.timedout_job = lpu_sched_timedout_job,
	.free_job = lpu_job_free,
};

static void lpu_queue_unbind(void *arg)
{
	struct lpu_queue *q = arg;

	/* Runs before devres frees the ring: make the device forget it. */
	lpu_q_write(q, LPU_Q_CTRL, 0);
	lpu_q_write(q, LPU_Q_CTRL, LPU_Q_CTRL_RESET);
}

static int lpu_queue_init(struct lpu_device *ldev, u32 index)
{
	struct lpu_queue *q = &ldev->queues[index];
	struct device *dev = &ldev->pdev->dev;
	struct drm_sched_init_args args = {
		.ops = &lpu_sched_ops,
		.num_rqs = DRM_SCHED_PRIORITY_COUNT,
		.timeout = lpu_job_timeout_ms ?
			   msecs_to_jiffies(lpu_job_timeout_ms) :
			   MAX_SCHEDULE_TIMEOUT,
		.name = q->name,
		.dev = dev,
	};
	int ret;

	q->ldev = ldev;
	q->index = index;
	q->regs = ldev->regs + LPU_REG_QUEUE(index);
	snprintf(q->name, sizeof(q->name), "lpu-q%u", index);
	snprintf(q->irq_name, sizeof(q->irq_name), "lpu-q%u", index);
	spin_lock_init(&q->lock);
	INIT_LIST_HEAD(&q->inflight);
	q->fence_context = dma_fence_context_alloc(1);

	/* One record per job the ring can hold, plus one spare. */
	q->num_records = ldev->ring_entries / LPU_DESCS_PER_JOB;
	q->max_jobs = q->num_records - 1;

	q->ring = dmam_alloc_coherent(dev, ldev->ring_entries * LPU_DESC_SIZE,
				      &q->ring_dma, GFP_KERNEL);
	q->records = dmam_alloc_coherent(dev,
					 q->num_records * LPU_FENCE_RECORD_SIZE,
					 &q->records_dma, GFP_KERNEL);
	if (!q->ring || !q->records)
		return -ENOMEM;

	ret = devm_add_action_or_reset(dev, lpu_queue_unbind, q);
	if (ret)
		return ret;

	/*
	 * A job takes LPU_DESCS_PER_JOB credits, one per descriptor, so the
	 * credit limit is the number of descriptors the ring may hold.
	 */
	args.credit_limit = q->max_jobs * LPU_DESCS_PER_JOB;
	ret = drm_sched_init(&q->sched, &args);
	if (ret) {
		drm_err(&ldev->drm, "queue %u: scheduler init failed: %d\n",
			index, ret);
		return ret;
	}
	q->sched_ready = true;

	spin_lock_irq(&q->lock);
	ret = lpu_queue_hw_start_locked(q);
	spin_unlock_irq(&q->lock);
	if (ret)
		return ret;

	ret = devm_request_irq(dev,
			       pci_irq_vector(ldev->pdev, LPU_MSIX_VEC_QUEUE(index)),
			       lpu_queue_irq, 0, q->irq_name, q);
	if (ret)
		drm_err(&ldev->drm, "queue %u: cannot request interrupt: %d\n",
			index, ret);
	return ret;
}

/* Final teardown, after the last file is closed and the card unbound. */
static void lpu_queues_fini(struct drm_device *drm, void *arg)
{
	struct lpu_device *ldev = arg;
	long left;
	u32 i;

	/*
	 * remove() failed every job in flight and run_job() fails the rest,
	 * so the scheduler frees them all promptly; 6.12's drm_sched_fini()
	 * would leak any it still holds.
	 */
	spin_lock_irq(&ldev->jobs_lock);
	left = wait_event_lock_irq_timeout(ldev->jobs_idle,
					   !atomic_read(&ldev->live_jobs),
					   ldev->jobs_lock, LPU_TEARDOWN_TIMEOUT);
	spin_unlock_irq(&ldev->jobs_lock);
	if (!left)
		drm_warn(drm, "%d jobs still held by the scheduler at teardown\n",
			 atomic_read(&ldev->live_jobs));

	for (i = 0; i < LPU_NUM_QUEUES; i++)
		if (ldev->queues[i].sched_ready)
			drm_sched_fini(&ldev->queues[i].sched);
}

int lpu_queues_init(struct lpu_device *ldev)
{
	u32 i;
	int ret;

	ret = drmm_add_action_or_reset(&ldev->drm, lpu_queues_fini, ldev);
	if (ret)
		return ret;

	for (i = 0; i < ldev->num_queues; i++) {
		ret = lpu_queue_init(ldev, i);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Device removal, after drm_dev_unplug(): no ioctl, interrupt or run_job()
 * is inside the device any more, and none will enter. Fail what the device
 * still holds.
 */
void lpu_queues_shutdown(struct lpu_device *ldev)
{
	u32 i;

	for (i = 0; i < ldev->num_queues; i++) {
		struct lpu_queue *q = &ldev->queues[i];

		spin_lock_irq(&q->lock);
		q->dead = true;
		lpu_q_write(q, LPU_Q_CTRL, 0);
		lpu_queue_fail_all_locked(q, -ENODEV);
		spin_unlock_irq(&q->lock);
	}
}

void lpu_queue_inject_bad(struct lpu_queue *q)
{
	spin_lock_irq(&q->lock);
	q->inject_bad = true;
	spin_unlock_irq(&q->lock);
}

/* Whether the job being submitted now is the one to sabotage. */
bool lpu_queue_take_inject_bad(struct lpu_queue *q)
{
	bool bad;

	spin_lock_irq(&q->lock);
	bad = q->inject_bad;
	q->inject_bad = false;
	spin_unlock_irq(&q->lock);
	return bad;
}

/* One debugfs line; the caller is inside drm_dev_enter(). */
void lpu_queue_show(struct lpu_queue *q, struct seq_file *m)
{
	u32 head, tail, done, status, inflight, resets;
	u64 jobs_done, jobs_failed;
	const char *state;

	spin_lock_irq(&q->lock);
	head = lpu_q_read(q, LPU_Q_HEAD);
	tail = lpu_q_read(q, LPU_Q_TAIL);
	done = lpu_q_read(q, LPU_Q_DONE);
	status = lpu_q_read(q, LPU_Q_STATUS);
	inflight = q->inflight_count;
	resets = q->resets;
	jobs_done = q->jobs_done;
	jobs_failed = q->jobs_failed;
	spin_unlock_irq(&q->lock);

	if (status & LPU_Q_STATUS_HALTED)
		state = "halted";
	else if (!(status & LPU_Q_STATUS_ENABLED))
		state = "disabled";
	else if (status & LPU_Q_STATUS_BUSY)
		state = "busy";
	else
		state = "idle";

	seq_printf(m, "%u head=%u tail=%u done=%u state=%s inflight=%u jobs_done=%llu jobs_failed=%llu resets=%u\n",
		   q->index, head, tail, done, state, inflight, jobs_done,
		   jobs_failed, resets);
}
