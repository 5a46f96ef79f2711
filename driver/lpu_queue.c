// SPDX-License-Identifier: GPL-2.0-only
/*
 * LPU v3 hardware queues.
 *
 * Each queue has a ring of descriptors and an array of fence records in
 * coherent DMA memory, and a drm_gpu_scheduler feeding it. run_job() writes
 * a job's work descriptors (a NOP, its COPYs, or its EXEC) and its FENCE and
 * rings the doorbell; a job's scheduler credits are the ring slots it takes.
 * The queue's MSI-X vector signals the job's hardware fence once the device
 * wrote the matching fence record. Jobs retire in ring order.
 *
 * Recovery. When the device rejects a descriptor it halts the queue and
 * raises the queue's vector; the interrupt handler only queues @halt_work,
 * so the queue reset (a register poll) runs in process context. A job that
 * makes no progress within the scheduler timeout reaches timedout_job().
 * Both paths share lpu_queue_recover() under @recover_lock: with the
 * scheduler's submission parked (drm_sched_wqueue_stop(), or drm_sched_stop()
 * on a timeout) they reset the queue, retire again what the device finished
 * before it stopped, fail only the guilty job (-EFAULT for an access outside
 * its buffers, -EINVAL for a copy between overlapping device addresses,
 * -ENOEXEC for a refused or failed EXEC program, -EIO for another rejected
 * descriptor, -ETIMEDOUT for a hang)
 * and re-emit the jobs still unfinished behind it, which never started and
 * so are innocent. A job the device had started, but not finished, when the
 * queue was stopped is failed with -EIO instead: its copies may have moved
 * data already, and running them again is not idempotent.
 *
 * Timeouts. The scheduler has one timeout per queue (job_timeout_ms), and
 * on 6.12 its timer restarts whenever a job starts or is freed; the driver
 * turns that into "no progress for a whole timeout", where progress is any
 * descriptor the device completes (Q_DONE), so that a COPY job of many long
 * copies is not killed while it moves. An EXEC job is one descriptor that
 * may legitimately run far longer than job_timeout_ms, or be meant to stop
 * far sooner, so it carries its own time limit (drm_lpu_exec.timeout_ms,
 * job_timeout_ms if 0), counted from when it reaches the head of its queue,
 * where the device works on it: a deadline. Two rules enforce it:
 *  - while an EXEC job with a deadline is at the head, the scheduler's
 *    timeout is not a hang: timedout_job() finds the deadline in the future
 *    and resets nothing (the scheduler re-arms its timer and asks again a
 *    timeout later), so a long EXEC within its own limit is never killed by
 *    the shorter default;
 *  - @deadline_work, a delayed work armed for the deadline whenever such a
 *    job becomes the head (lpu_queue_arm_deadline_locked()), recovers the
 *    queue like the halt work does once the deadline passed, whatever the
 *    scheduler's timeout (also with job_timeout_ms=0 or a longer one), and
 *    the job fails with -ETIMEDOUT. The jobs behind it run normally.
 * drm_sched_tdr_queue_imm() cannot do the second part: it sets the
 * scheduler's timeout to 0 for good.
 */

#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/iopoll.h>
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/seq_file.h>

#include <drm/drm_drv.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>

#include "drm/lpu_accel.h"
#include "lpu_drv.h"
#include "lpu_job.h"
#include "lpu_queue.h"
#include "lpu_regs.h"
#include "lpu_space.h"

/* Q_CTRL_RESET self-clears; the model does it within the register write. */
#define LPU_Q_RESET_TIMEOUT_US	1000

/* Poll interval while a queue reset completes (process context). */
#define LPU_Q_RESET_POLL_US	10

static_assert(offsetof(struct lpu_hw_fence, base) == 0);
static_assert(sizeof(union lpu_desc) == LPU_DESC_SIZE);
static_assert(sizeof(struct lpu_fence_record) == LPU_FENCE_RECORD_SIZE);

/*
 * Fence names are static strings: a hardware fence may be released (and
 * traced) after the device it ran on is gone, so it must not point into it.
 */
static const char * const lpu_timeline_names[] = {
	"lpu-q0", "lpu-q1", "lpu-q2", "lpu-q3",
};

static_assert(ARRAY_SIZE(lpu_timeline_names) == LPU_NUM_QUEUES);

static const char *lpu_fence_get_driver_name(struct dma_fence *fence)
{
	return DRM_LPU_DRIVER_NAME;
}

static const char *lpu_fence_get_timeline_name(struct dma_fence *fence)
{
	return lpu_timeline_names[container_of(fence, struct lpu_hw_fence,
					       base)->qidx];
}

static const struct dma_fence_ops lpu_hw_fence_ops = {
	.get_driver_name = lpu_fence_get_driver_name,
	.get_timeline_name = lpu_fence_get_timeline_name,
	.use_64bit_seqno = true,
};

/* Ring slots @hw takes: its work descriptors and its FENCE. */
static u32 lpu_hw_fence_slots(const struct lpu_hw_fence *hw)
{
	return hw->num_descs + 1;
}

static void lpu_queue_write_job_locked(struct lpu_queue *q,
				       struct lpu_hw_fence *hw)
{
	u32 mask = q->ldev->ring_entries - 1;
	union lpu_desc fence = {};
	u32 idx = q->tail, i;

	lockdep_assert_held(&q->lock);

	/* A job's slots may wrap around the end of the ring. */
	for (i = 0; i < hw->num_descs; i++) {
		union lpu_desc d = hw->descs[i];

		/* LPU_OP_INVALID is what the fault hook sends: rejected by design. */
		if (!i && hw->bad_opcode)
			d.hdr.opcode = LPU_OP_INVALID;
		q->ring[(idx + i) & mask] = d;
	}

	fence.fence.hdr.opcode = LPU_OP_FENCE;
	fence.fence.hdr.flags = LPU_DESC_F_IRQ;
	fence.fence.slot = cpu_to_le32(hw->slot);
	fence.fence.seq = cpu_to_le64(hw->base.seqno);
	q->ring[(idx + i) & mask] = fence;

	hw->ring_index = idx;
	q->tail = (idx + lpu_hw_fence_slots(hw)) & mask;
}

static void lpu_queue_kick_locked(struct lpu_queue *q)
{
	/* writel() orders the descriptor stores before the TAIL update. */
	lpu_q_write(q, LPU_Q_TAIL, q->tail);
	lpu_q_write(q, LPU_Q_DOORBELL, 1);
}

/*
 * Reset the queue: the device stops it and forgets ring and fence area.
 * Sleeps while polling, so only probe and the recovery paths (which hold
 * @recover_lock and have run_job() parked) call it; nothing else writes
 * the queue's CTRL register, and the interrupt handler only reads.
 */
static int lpu_queue_hw_reset(struct lpu_queue *q)
{
	u32 val;
	int ret;

	lpu_q_write(q, LPU_Q_CTRL, LPU_Q_CTRL_RESET);
	ret = readl_poll_timeout(q->regs + LPU_Q_CTRL, val,
				 !(val & LPU_Q_CTRL_RESET), LPU_Q_RESET_POLL_US,
				 LPU_Q_RESET_TIMEOUT_US);
	if (ret)
		drm_err(&q->ldev->drm, "queue %u: reset did not complete (ctrl 0x%08x)\n",
			q->index, val);
	return ret;
}

/* Program ring and fence area of a freshly reset queue and enable it. */
static int lpu_queue_hw_enable_locked(struct lpu_queue *q)
{
	struct lpu_device *ldev = q->ldev;
	u32 val;

	lockdep_assert_held(&q->lock);

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

/*
 * The job at the head of the queue is the one the device works on (jobs
 * run in ring order): note when it became the head (the start of the
 * engine time a job that ends without a fence record is billed), and if
 * it has a time limit of its own and its clock does not run yet, start it
 * and arm @deadline_work for it. Called whenever the head may have
 * changed: a job emitted to an idle queue, a job completed, the queue
 * restarted. Any context.
 */
static void lpu_queue_arm_deadline_locked(struct lpu_queue *q)
{
	struct lpu_hw_fence *head;

	lockdep_assert_held(&q->lock);

	head = list_first_entry_or_null(&q->inflight, struct lpu_hw_fence, link);
	if (!head)
		return;
	if (!head->at_head) {
		head->head_ns = ktime_get_ns();
		head->at_head = true;
	}
	if (!head->timeout || head->deadline_set)
		return;
	head->deadline_ns = ktime_get_ns() +
			    (u64)head->timeout_ms * NSEC_PER_MSEC;
	head->deadline_set = true;
	mod_delayed_work(system_unbound_wq, &q->deadline_work, head->timeout);
}

/* Whether @hw's own deadline has passed. */
static bool lpu_hw_fence_expired(const struct lpu_hw_fence *hw)
{
	return hw->deadline_set && ktime_get_ns() >= hw->deadline_ns;
}

/*
 * The head job, if its own deadline has passed; if it has one that has
 * not, the deadline work runs again when it does.
 */
static struct lpu_hw_fence *lpu_queue_expired_locked(struct lpu_queue *q)
{
	struct lpu_hw_fence *head;
	u64 now;

	lockdep_assert_held(&q->lock);

	head = list_first_entry_or_null(&q->inflight, struct lpu_hw_fence, link);
	if (!head || !head->deadline_set)
		return NULL;
	now = ktime_get_ns();
	if (now >= head->deadline_ns)
		return head;
	/*
	 * The timer went off before the deadline (the jiffies it counts
	 * can lag behind the clock): wait for the rest of it.
	 */
	mod_delayed_work(system_unbound_wq, &q->deadline_work,
			 nsecs_to_jiffies(head->deadline_ns - now) + 1);
	return NULL;
}

/* Take @hw off the device and signal it; drops the in-flight reference. */
static void lpu_queue_complete_locked(struct lpu_queue *q,
				      struct lpu_hw_fence *hw, int error)
{
	lockdep_assert_held(&q->lock);

	/*
	 * No fence record (failed, timed out, or done while the queue was
	 * reset): the engine was on it from when it became the head, and a
	 * client must not hide that use by failing on purpose.
	 */
	if (!hw->recorded && hw->at_head)
		hw->engine_ns = ktime_get_ns() - hw->head_ns;
	/* Before anyone can see the job done and read what it wrote. */
	if (hw->space)
		lpu_space_sync_for_cpu(hw->space);
	list_del_init(&hw->link);
	q->inflight_count--;
	q->inflight_descs -= lpu_hw_fence_slots(hw);
	if (error) {
		dma_fence_set_error(&hw->base, error);
		q->jobs_failed++;
	} else {
		q->jobs_done++;
	}
	dma_fence_signal(&hw->base);
	dma_fence_put(&hw->base);
	lpu_queue_arm_deadline_locked(q);
}

/* Fail every job the device holds; returns how many there were. */
static u32 lpu_queue_fail_all_locked(struct lpu_queue *q, int error)
{
	struct lpu_hw_fence *hw, *tmp;
	u32 n = 0;

	list_for_each_entry_safe(hw, tmp, &q->inflight, link) {
		lpu_queue_complete_locked(q, hw, error);
		n++;
	}
	return n;
}

/* Signal, in ring order, every job whose fence record the device wrote. */
static void lpu_queue_retire_locked(struct lpu_queue *q)
{
	struct lpu_hw_fence *hw, *tmp;

	list_for_each_entry_safe(hw, tmp, &q->inflight, link) {
		struct lpu_fence_record *rec = &q->records[hw->slot];
		u64 doorbell_ns, complete_ns, start_ns;
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
		/*
		 * doorbell_ns is when the job became visible to the device,
		 * not when the engine took it up: behind another job it only
		 * starts when that one completes. Bill only the time after
		 * both, so waiting behind another client's job costs nothing
		 * and a queue's engine times never add up to more than
		 * wall time. Records retire in ring order.
		 */
		start_ns = max(doorbell_ns, q->last_complete_ns);
		if (complete_ns > start_ns)
			hw->engine_ns = complete_ns - start_ns;
		if (complete_ns > q->last_complete_ns)
			q->last_complete_ns = complete_ns;
		hw->recorded = true;

		if (status != LPU_ERR_OK)
			drm_err_ratelimited(&q->ldev->drm,
					    "queue %u: job with fence %llu completed with device error %s (%u)\n",
					    q->index, hw->base.seqno,
					    lpu_hw_err_name(status), status);
		lpu_queue_complete_locked(q, hw, status == LPU_ERR_OK ? 0 : -EIO);
		q->progress = jiffies;
	}
}

/*
 * Bring a reset queue back: program it and emit again, from ring slot 0,
 * the jobs still in flight (none of them reached its fence).
 */
static void lpu_queue_restart_locked(struct lpu_queue *q, int reset_ret)
{
	struct lpu_hw_fence *hw;

	lockdep_assert_held(&q->lock);

	q->resets++;
	q->progress = jiffies;
	/* The reset zeroed the device's count, and its records start over. */
	q->last_done = 0;
	q->last_complete_ns = 0;
	if (reset_ret || lpu_queue_hw_enable_locked(q)) {
		lpu_queue_fail_all_locked(q, -EIO);
		return;
	}
	if (list_empty(&q->inflight))
		return;
	list_for_each_entry(hw, &q->inflight, link) {
		hw->bad_opcode = false;
		/* None of them started: their clocks start again. */
		hw->deadline_set = false;
		hw->at_head = false;
		lpu_queue_write_job_locked(q, hw);
	}
	lpu_queue_kick_locked(q);
	lpu_queue_arm_deadline_locked(q);
}

/* Whether ring slot @at is one of @hw's (slots may wrap the ring's end). */
static bool lpu_hw_fence_holds_slot(struct lpu_queue *q,
				    const struct lpu_hw_fence *hw, u32 at)
{
	u32 mask = q->ldev->ring_entries - 1;

	return ((at - hw->ring_index) & mask) < lpu_hw_fence_slots(hw);
}

/* The job owning ring slot @at, or the oldest one: where the device stopped. */
static struct lpu_hw_fence *lpu_queue_job_at_locked(struct lpu_queue *q,
						    u32 at)
{
	struct lpu_hw_fence *hw;

	list_for_each_entry(hw, &q->inflight, link)
		if (lpu_hw_fence_holds_slot(q, hw, at))
			return hw;
	return list_first_entry_or_null(&q->inflight, struct lpu_hw_fence, link);
}

/*
 * Whether @suspect, the job a timeout is about, is hung: it is still on
 * the device and, if it is an EXEC at the head with a deadline, that
 * deadline passed (see "Timeouts" above); otherwise the queue completed no
 * descriptor for a whole scheduler timeout.
 */
static bool lpu_queue_hung_locked(struct lpu_queue *q,
				  struct lpu_hw_fence *suspect)
{
	struct lpu_hw_fence *head;
	u32 done;

	lockdep_assert_held(&q->lock);

	/*
	 * Every descriptor the device completes is progress, not only whole
	 * jobs: a job of many long copies may take longer than the timeout
	 * while it moves steadily.
	 */
	done = lpu_q_read(q, LPU_Q_DONE);
	if (done != q->last_done) {
		q->last_done = done;
		q->progress = jiffies;
	}
	/* The suspect finished: nothing is hung. */
	if (!suspect || list_empty(&suspect->link))
		return false;

	head = list_first_entry(&q->inflight, struct lpu_hw_fence, link);
	if (head->deadline_set)
		return head == suspect && lpu_hw_fence_expired(head);
	/*
	 * Or the queue completed something within the last timeout (the
	 * scheduler's timer is re-armed by submissions and frees, so it can
	 * fire for a job that only just reached the head).
	 */
	if (q->sched.timeout == MAX_SCHEDULE_TIMEOUT)
		return false;
	return !time_before(jiffies, q->progress + q->sched.timeout);
}

/**
 * struct lpu_halt - why the device halted a queue, read before the reset
 *	that clears it
 * @err: Q_ERROR, LPU_ERR_*.
 * @at: Q_ERROR_HEAD, the ring slot of the descriptor refused.
 * @fault_addr: Q_FAULT_ADDR for LPU_ERR_FAULT, and for LPU_ERR_EXEC with
 *	LPU_EXEC_E_OPERAND; 0 otherwise.
 * @fault_info: Q_FAULT_INFO for LPU_ERR_FAULT.
 * @exec_insn: Q_EXEC_INSN for LPU_ERR_EXEC.
 * @exec_reason: Q_EXEC_REASON for LPU_ERR_EXEC.
 */
struct lpu_halt {
	u32 err;
	u32 at;
	u64 fault_addr;
	u32 fault_info;
	u32 exec_insn;
	u32 exec_reason;
};

static void lpu_queue_read_halt(struct lpu_queue *q, struct lpu_halt *h)
{
	h->err = lpu_q_read(q, LPU_Q_ERROR);
	h->at = lpu_q_read(q, LPU_Q_ERROR_HEAD);
	if (h->err == LPU_ERR_EXEC) {
		h->exec_insn = lpu_q_read(q, LPU_Q_EXEC_INSN);
		h->exec_reason = lpu_q_read(q, LPU_Q_EXEC_REASON);
	}
	if (h->err == LPU_ERR_FAULT ||
	    (h->err == LPU_ERR_EXEC && h->exec_reason == LPU_EXEC_E_OPERAND))
		h->fault_addr = lpu_q_read(q, LPU_Q_FAULT_ADDR_LO) |
				(u64)lpu_q_read(q, LPU_Q_FAULT_ADDR_HI) << 32;
	if (h->err == LPU_ERR_FAULT)
		h->fault_info = lpu_q_read(q, LPU_Q_FAULT_INFO);
}

/* What the EXEC job @bad was refused for, kept for WAIT and logged. */
static void lpu_queue_exec_failed_locked(struct lpu_queue *q,
					 struct lpu_hw_fence *bad,
					 const struct lpu_halt *h)
{
	char where[24], operand[32] = "";

	bad->exec_insn = h->exec_insn;
	bad->exec_reason = h->exec_reason;
	bad->fault_addr = h->fault_addr;
	if (h->exec_insn == LPU_EXEC_INSN_NONE)
		strscpy(where, "its descriptor", sizeof(where));
	else
		snprintf(where, sizeof(where), "instruction %u", h->exec_insn);
	/* Only an operand refusal has an address (lpu_queue_read_halt()). */
	if (h->exec_reason == LPU_EXEC_E_OPERAND)
		snprintf(operand, sizeof(operand), ", operand 0x%llx",
			 h->fault_addr);
	/* Any client can send a bad program at will: don't flood the log. */
	drm_err_ratelimited(&q->ldev->drm,
			    "queue %u: EXEC job with fence %llu of client %llu stopped at %s: %s (reason %u%s); job failed with -ENOEXEC, queue reset\n",
			    q->index, bad->base.seqno, bad->client_id, where,
			    lpu_hw_exec_reason_name(h->exec_reason),
			    h->exec_reason, operand);
}

/* Fail the job the device halted on (@bad, may be NULL) as @h says. */
static void lpu_queue_fail_halted_locked(struct lpu_queue *q,
					 struct lpu_hw_fence *bad,
					 const struct lpu_halt *h)
{
	struct lpu_device *ldev = q->ldev;
	u32 err = h->err, at = h->at, fault_info = h->fault_info;
	u64 fault_addr = h->fault_addr;

	if (!bad) {
		drm_err(&ldev->drm,
			"queue %u halted at descriptor %u: %s (%u) with no job in flight; queue reset\n",
			q->index, at, lpu_hw_err_name(err), err);
		return;
	}
	switch (err) {
	case LPU_ERR_FAULT:
		bad->fault_addr = fault_addr;
		bad->fault_kind = lpu_hw_fault_kind(fault_info);
		/* Any client can fault at will: don't let it flood the log. */
		drm_err_ratelimited(&ldev->drm,
				    "queue %u: job with fence %llu of client %llu faulted: %s access at device address 0x%llx, %s (info 0x%x); job failed with -EFAULT, queue reset\n",
				    q->index, bad->base.seqno, bad->client_id,
				    fault_info & LPU_FAULT_WRITE ? "write" : "read",
				    fault_addr, lpu_hw_fault_name(fault_info),
				    fault_info);
		lpu_queue_complete_locked(q, bad, -EFAULT);
		break;
	case LPU_ERR_OVERLAP:
		/*
		 * Only a device-address copy can overlap (SUBMIT refuses
		 * overlapping handle ranges): the job's arguments were
		 * invalid, and any client can do it.
		 */
		drm_err_ratelimited(&ldev->drm,
				    "queue %u: job with fence %llu of client %llu copies between overlapping device addresses; job failed with -EINVAL, queue reset\n",
				    q->index, bad->base.seqno, bad->client_id);
		lpu_queue_complete_locked(q, bad, -EINVAL);
		break;
	case LPU_ERR_EXEC:
		lpu_queue_exec_failed_locked(q, bad, h);
		lpu_queue_complete_locked(q, bad, -ENOEXEC);
		break;
	default:
		/* Never the job's own doing: the driver or the card is wrong. */
		drm_err(&ldev->drm,
			"queue %u halted at descriptor %u: %s (%u); job with fence %llu of client %llu failed, queue reset\n",
			q->index, at, lpu_hw_err_name(err), err,
			bad->base.seqno, bad->client_id);
		lpu_queue_complete_locked(q, bad, -EIO);
		break;
	}
}

/*
 * Recover the queue if it is halted, or if @suspect (the job the scheduler
 * timed out or whose deadline passed, NULL from the halt work) is hung on
 * it. The caller holds @recover_lock, has the scheduler's submission
 * parked, so run_job() cannot touch the ring, and is inside
 * drm_dev_enter(). Never waits for the device beyond the bounded reset
 * poll.
 */
static void lpu_queue_recover(struct lpu_queue *q, struct lpu_hw_fence *suspect)
{
	struct lpu_device *ldev = q->ldev;
	struct lpu_halt h = {};
	struct lpu_hw_fence *first;
	bool halted;
	u32 head;
	int ret;

	lockdep_assert_held(&q->recover_lock);

	spin_lock_irq(&q->lock);
	/* Suspended: lpu_queues_resume() resets and restarts the queue. */
	if (q->dead || q->suspended)
		goto out_unlock;
	lpu_queue_retire_locked(q);
	halted = lpu_q_read(q, LPU_Q_STATUS) & LPU_Q_STATUS_HALTED;
	if (halted) {
		/* The reset below clears them. */
		lpu_queue_read_halt(q, &h);
	} else if (!lpu_queue_hung_locked(q, suspect)) {
		goto out_unlock;
	}
	spin_unlock_irq(&q->lock);

	/*
	 * Stop the queue first (a halted one is stopped): HEAD then stays
	 * on the descriptor the device was at, which tells below whether
	 * the oldest job left had started.
	 */
	if (!halted)
		lpu_q_write(q, LPU_Q_CTRL, 0);
	head = lpu_q_read(q, LPU_Q_HEAD);
	ret = lpu_queue_hw_reset(q);

	spin_lock_irq(&q->lock);
	/*
	 * The queue is stopped now, so every fence record the device will
	 * ever write for these jobs is written: retire those that finished
	 * between the check above and the reset, so that only jobs that
	 * really did not finish are failed or emitted again.
	 */
	lpu_queue_retire_locked(q);
	if (halted) {
		lpu_queue_fail_halted_locked(q, lpu_queue_job_at_locked(q, h.at),
					     &h);
	} else if (!list_empty(&suspect->link) && !ret &&
		   head == ((suspect->ring_index + suspect->num_descs) &
			    (ldev->ring_entries - 1))) {
		/*
		 * HEAD on its own FENCE: its work was all done when the
		 * queue was stopped, only the record was not written yet.
		 * A job that finished is never reported as failed.
		 */
		drm_dbg_driver(&ldev->drm,
			       "queue %u: job with fence %llu had done its work at its timeout\n",
			       q->index, suspect->base.seqno);
		lpu_queue_complete_locked(q, suspect, 0);
	} else if (!list_empty(&suspect->link)) {
		/* A client can ask for a tiny EXEC limit: rate-limited. */
		drm_err_ratelimited(&ldev->drm,
				    "queue %u: job with fence %llu of client %llu timed out after %u ms%s; failed, queue reset\n",
				    q->index, suspect->base.seqno,
				    suspect->client_id,
				    suspect->timeout ? suspect->timeout_ms :
				    lpu_job_timeout_ms,
				    suspect->timeout ? " (its own limit)" :
				    " without progress");
		lpu_queue_complete_locked(q, suspect, -ETIMEDOUT);
	} else {
		drm_dbg_driver(&ldev->drm,
			       "queue %u: job with fence %llu finished while the queue was reset\n",
			       q->index, suspect->base.seqno);
	}
	/*
	 * The job the device was in the middle of (HEAD in its slots) may
	 * have moved data already, and a copy run twice is not idempotent
	 * (copy1 A->B, copy2 C->A): fail it rather than emit it again.
	 * The guilty job held HEAD and is gone; so only a job that started
	 * as the suspect finished before the reset gets here.
	 */
	first = list_first_entry_or_null(&q->inflight, struct lpu_hw_fence, link);
	if (!ret && first && head == ((first->ring_index + first->num_descs) &
				      (ldev->ring_entries - 1))) {
		/* Only its FENCE was left: the work itself is all done. */
		drm_dbg_driver(&ldev->drm,
			       "queue %u: job with fence %llu had done its work when the queue was reset\n",
			       q->index, first->base.seqno);
		lpu_queue_complete_locked(q, first, 0);
	} else if (!ret && first && lpu_hw_fence_holds_slot(q, first, head)) {
		drm_err_ratelimited(&ldev->drm,
				    "queue %u: job with fence %llu had started when the queue was reset; failed with -EIO rather than run twice\n",
				    q->index, first->base.seqno);
		lpu_queue_complete_locked(q, first, -EIO);
	}
	lpu_queue_restart_locked(q, ret);
out_unlock:
	spin_unlock_irq(&q->lock);
}

static void lpu_queue_halt_work(struct work_struct *work)
{
	struct lpu_queue *q = container_of(work, struct lpu_queue, halt_work);
	int idx;

	if (!drm_dev_enter(&q->ldev->drm, &idx))
		return;
	mutex_lock(&q->recover_lock);
	/* Only parks run_job(): the jobs keep their fence callbacks. */
	drm_sched_wqueue_stop(&q->sched);
	lpu_queue_recover(q, NULL);
	drm_sched_wqueue_start(&q->sched);
	mutex_unlock(&q->recover_lock);
	drm_dev_exit(idx);
}

/*
 * The deadline of the job at the head of the queue passed (or the head
 * changed since the work was armed; see "Timeouts" above). Recovers the
 * queue like the halt work, with that job as the suspect: it fails with
 * -ETIMEDOUT unless it finished meanwhile.
 */
static void lpu_queue_deadline_work(struct work_struct *work)
{
	struct lpu_queue *q = container_of(to_delayed_work(work),
					   struct lpu_queue, deadline_work);
	struct lpu_hw_fence *expired;
	int idx;

	if (!drm_dev_enter(&q->ldev->drm, &idx))
		return;
	mutex_lock(&q->recover_lock);
	spin_lock_irq(&q->lock);
	/* While suspended no job runs; the restart arms deadlines anew. */
	expired = q->suspended ? NULL : lpu_queue_expired_locked(q);
	/* Completing it drops the in-flight list's reference: keep one. */
	if (expired)
		dma_fence_get(&expired->base);
	spin_unlock_irq(&q->lock);

	if (expired) {
		/* Only parks run_job(): the jobs keep their fence callbacks. */
		drm_sched_wqueue_stop(&q->sched);
		lpu_queue_recover(q, expired);
		drm_sched_wqueue_start(&q->sched);
		dma_fence_put(&expired->base);
	}
	mutex_unlock(&q->recover_lock);
	drm_dev_exit(idx);
}

static irqreturn_t lpu_queue_irq(int irq, void *arg)
{
	struct lpu_queue *q = arg;
	struct lpu_device *ldev = q->ldev;
	bool halted;
	int idx;

	if (!drm_dev_enter(&ldev->drm, &idx))
		return IRQ_NONE;

	/* Acknowledge before scanning: a later completion interrupts again. */
	lpu_write(ldev, LPU_REG_IRQ_STATUS, LPU_IRQ_QUEUE(q->index));

	spin_lock(&q->lock);
	lpu_queue_retire_locked(q);
	spin_unlock(&q->lock);

	/* Recovery resets the queue, which polls: not in hard-IRQ context. */
	halted = lpu_q_read(q, LPU_Q_STATUS) & LPU_Q_STATUS_HALTED;
	if (halted)
		queue_work(system_unbound_wq, &q->halt_work);

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

	/*
	 * Called again by drm_sched_resubmit_jobs() after a timeout: the
	 * recovery already emitted the job again (or failed it), so hand
	 * back the same hardware fence. No new fence is made and a signaled
	 * one is never re-armed, which is what the dma_fence rules need.
	 * Needs no device access, so it works after unplug too.
	 */
	if (job->hw_armed)
		return dma_fence_get(&hw->base);

	if (!drm_dev_enter(&q->ldev->drm, &idx))
		return ERR_PTR(-ENODEV);

	/* Its dependencies are done: what the CPU wrote is final. */
	if (hw->space)
		lpu_space_sync_for_device(hw->space);

	spin_lock_irq(&q->lock);
	if (q->dead) {
		fence = ERR_PTR(-ENODEV);
		goto out;
	}
	/* The credit limit makes this impossible; never overrun the ring. */
	if (q->inflight_count >= q->max_jobs ||
	    q->inflight_descs + lpu_hw_fence_slots(hw) > q->max_descs) {
		drm_err(&q->ldev->drm, "queue %u: ring full, job %llu dropped\n",
			q->index, job->seq);
		fence = ERR_PTR(-ENOSPC);
		goto out;
	}

	spin_lock_init(&hw->lock);
	dma_fence_init(&hw->base, &lpu_hw_fence_ops, &hw->lock,
		       q->fence_context, ++q->last_seqno);
	WRITE_ONCE(job->hw_armed, true);
	hw->qidx = q->index;
	hw->q = q;
	/*
	 * Fewer jobs than records are ever in flight and seqnos are
	 * consecutive, so in-flight jobs never share a record.
	 */
	hw->slot = lower_32_bits(q->last_seqno) & (q->num_records - 1);

	/* An idle queue starts its hang clock now. */
	if (list_empty(&q->inflight))
		q->progress = jiffies;
	/* The in-flight list holds its own reference until signaled. */
	dma_fence_get(&hw->base);
	list_add_tail(&hw->link, &q->inflight);
	q->inflight_count++;
	q->inflight_descs += lpu_hw_fence_slots(hw);
	/*
	 * While the card is reset or asleep the job only waits in line:
	 * lpu_queues_resume() emits every job on @inflight once the queue
	 * is programmed again.
	 */
	if (!q->suspended) {
		lpu_queue_write_job_locked(q, hw);
		lpu_queue_kick_locked(q);
		/* If it is the head now, its own deadline starts. */
		lpu_queue_arm_deadline_locked(q);
	}

	/* This reference goes to the scheduler. */
	fence = dma_fence_get(&hw->base);
out:
	spin_unlock_irq(&q->lock);
	drm_dev_exit(idx);
	return fence;
}

/*
 * The scheduler's timeout, with the 6.12 drm_sched semantics in mind: its
 * timer is (re)armed with mod_delayed_work() whenever a job starts
 * (drm_sched_job_begin()) and whenever a finished job is freed, so it fires
 * only after a whole timeout without either; a steady stream of submissions
 * on a busy queue therefore delays the detection of a hang. The handler
 * gets the oldest job the scheduler handed us, taken off its pending list.
 *
 * Recovery follows the sequence documented for timedout_job() and used by
 * v3d, etnaviv and panfrost: drm_sched_stop() parks the scheduler, puts the
 * job back and detaches the scheduler from every hardware fence;
 * lpu_queue_recover() resets the queue if it really is stuck;
 * drm_sched_resubmit_jobs() reattaches the jobs' fences (run_job() hands
 * back the existing one, see there) and drm_sched_start() resumes, which
 * completes at once every job whose fence was signaled meanwhile.
 *
 * This also runs after unplug: the fences stay attached, and remove()
 * fails them with -ENODEV; nothing here waits for the device.
 */
static enum drm_gpu_sched_stat
lpu_sched_timedout_job(struct drm_sched_job *sched_job)
{
	struct lpu_job *job = to_lpu_job(sched_job);
	struct lpu_queue *q = job->q;
	enum drm_gpu_sched_stat stat = DRM_GPU_SCHED_STAT_NOMINAL;
	int idx;

	mutex_lock(&q->recover_lock);
	drm_sched_stop(&q->sched, sched_job);

	if (drm_dev_enter(&q->ldev->drm, &idx)) {
		lpu_queue_recover(q, job->hw_armed ? job->hw : NULL);
		drm_dev_exit(idx);
	} else {
		stat = DRM_GPU_SCHED_STAT_ENODEV;
	}

	drm_sched_resubmit_jobs(&q->sched);
	drm_sched_start(&q->sched);
	mutex_unlock(&q->recover_lock);
	return stat;
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

	q->regs = ldev->regs + LPU_REG_QUEUE(index);
	snprintf(q->name, sizeof(q->name), "lpu-q%u", index);
	snprintf(q->irq_name, sizeof(q->irq_name), "lpu-q%u", index);
	q->fence_context = dma_fence_context_alloc(1);

	/*
	 * One record per job the ring can hold, plus one spare. Slots are
	 * credits: the ring holds at most max_descs of them, so at most
	 * max_jobs jobs, which never wrap onto the slot the device reads.
	 */
	q->num_records = ldev->ring_entries / LPU_MIN_DESCS_PER_JOB;
	q->max_jobs = q->num_records - 1;
	q->max_descs = q->max_jobs * LPU_MIN_DESCS_PER_JOB;

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

	/* A job takes one credit per descriptor (lpu_job.c checks the max). */
	args.credit_limit = q->max_descs;
	ret = drm_sched_init(&q->sched, &args);
	if (ret) {
		drm_err(&ldev->drm, "queue %u: scheduler init failed: %d\n",
			index, ret);
		return ret;
	}
	q->sched_ready = true;

	/* Nothing else touches the queue yet: its interrupt comes below. */
	ret = lpu_queue_hw_reset(q);
	if (ret)
		return ret;
	spin_lock_irq(&q->lock);
	ret = lpu_queue_hw_enable_locked(q);
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

/*
 * Final teardown, when the DRM device is released. Every job holds a
 * reference on the DRM device (see lpu_job.c), so by the time this runs
 * every job is gone: the schedulers are idle and drm_sched_fini() has
 * nothing to leak. Every file is closed too, so no entity uses them.
 */
static void lpu_queues_fini(struct drm_device *drm, void *arg)
{
	struct lpu_device *ldev = arg;
	u32 i;

	for (i = 0; i < LPU_NUM_QUEUES; i++) {
		struct lpu_queue *q = &ldev->queues[i];

		cancel_work_sync(&q->halt_work);
		cancel_delayed_work_sync(&q->deadline_work);
		if (q->sched_ready)
			drm_sched_fini(&q->sched);
		mutex_destroy(&q->recover_lock);
	}
}

int lpu_queues_init(struct lpu_device *ldev)
{
	u32 i;
	int ret;

	/* Everything lpu_queues_fini() touches, for every queue. */
	for (i = 0; i < LPU_NUM_QUEUES; i++) {
		struct lpu_queue *q = &ldev->queues[i];

		q->ldev = ldev;
		q->index = i;
		mutex_init(&q->recover_lock);
		INIT_WORK(&q->halt_work, lpu_queue_halt_work);
		INIT_DELAYED_WORK(&q->deadline_work, lpu_queue_deadline_work);
		spin_lock_init(&q->lock);
		INIT_LIST_HEAD(&q->inflight);
	}

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
 * Stop every queue for good and fail what the device still holds with
 * -ENODEV: on removal after drm_dev_unplug(), and on shutdown (reboot,
 * kexec) while everything still runs. Taking @recover_lock waits for a
 * recovery in progress (which is bounded); later ones see @dead and leave
 * the queue alone, and run_job() fails every job not yet emitted.
 * Returns how many jobs the device held.
 */
u32 lpu_queues_shutdown(struct lpu_device *ldev)
{
	u32 i, failed = 0;

	for (i = 0; i < ldev->num_queues; i++) {
		struct lpu_queue *q = &ldev->queues[i];

		mutex_lock(&q->recover_lock);
		spin_lock_irq(&q->lock);
		q->dead = true;
		lpu_q_write(q, LPU_Q_CTRL, 0);
		failed += lpu_queue_fail_all_locked(q, -ENODEV);
		spin_unlock_irq(&q->lock);
		mutex_unlock(&q->recover_lock);
	}
	return failed;
}

/*
 * Stop @q where it is before the card is reset (lpu_pm.c) and settle the
 * jobs the reset would leave in doubt, the way lpu_queue_recover() does:
 * retire what finished, fail a job the device halted on as it says, and
 * fail with -EIO the job it was in the middle of (its copies may have
 * moved data, and running them again is not idempotent). The jobs behind
 * it never started and stay in flight, to be emitted again on resume.
 */
static void lpu_queue_suspend_locked(struct lpu_queue *q)
{
	struct lpu_hw_fence *first;
	struct lpu_halt h = {};
	u32 mask = q->ldev->ring_entries - 1;
	u32 head;

	lockdep_assert_held(&q->lock);

	/* A halted queue is stopped already and HEAD is where it halted. */
	if (lpu_q_read(q, LPU_Q_STATUS) & LPU_Q_STATUS_HALTED) {
		lpu_queue_read_halt(q, &h);
		lpu_queue_retire_locked(q);
		lpu_queue_fail_halted_locked(q, lpu_queue_job_at_locked(q, h.at),
					     &h);
	} else {
		lpu_q_write(q, LPU_Q_CTRL, 0);
	}
	head = lpu_q_read(q, LPU_Q_HEAD);
	/* Stopped: every record the device will write is written. */
	lpu_queue_retire_locked(q);

	first = list_first_entry_or_null(&q->inflight, struct lpu_hw_fence, link);
	if (first && head == ((first->ring_index + first->num_descs) & mask)) {
		/* Only its FENCE was left: the work itself is all done. */
		lpu_queue_complete_locked(q, first, 0);
	} else if (first && first->at_head &&
		   lpu_hw_fence_holds_slot(q, first, head)) {
		drm_err_ratelimited(&q->ldev->drm,
				    "queue %u: job with fence %llu had started when the card was reset; failed with -EIO rather than run twice\n",
				    q->index, first->base.seqno);
		lpu_queue_complete_locked(q, first, -EIO);
	}
}

/**
 * lpu_queues_suspend - park every queue before the card is reset
 * @ldev: the device
 *
 * Taking @recover_lock waits for a recovery in progress; once @suspended
 * is set, later ones leave the hardware alone and run_job() only queues.
 * The schedulers keep running: a job submitted meanwhile waits in
 * @inflight, so nothing is lost and no scheduler state needs unwinding.
 */
void lpu_queues_suspend(struct lpu_device *ldev)
{
	u32 i;

	for (i = 0; i < ldev->num_queues; i++) {
		struct lpu_queue *q = &ldev->queues[i];

		mutex_lock(&q->recover_lock);
		spin_lock_irq(&q->lock);
		if (!q->dead && !q->suspended)
			lpu_queue_suspend_locked(q);
		q->suspended = true;
		spin_unlock_irq(&q->lock);
		mutex_unlock(&q->recover_lock);
	}
}

/**
 * lpu_queues_resume - bring the queues back after the card was reset
 * @ldev: the device, its firmware booted again (or not: @err)
 * @err: 0, or why the card cannot run queues any more
 *
 * Each queue is reset, programmed again and gets every job waiting in
 * @inflight emitted from ring slot 0. If the firmware did not come back
 * the card runs nothing: every job fails with -EIO and later ones with
 * -ENODEV, until the driver is bound again.
 */
void lpu_queues_resume(struct lpu_device *ldev, int err)
{
	u32 i;

	for (i = 0; i < ldev->num_queues; i++) {
		struct lpu_queue *q = &ldev->queues[i];
		int ret = err;

		mutex_lock(&q->recover_lock);
		if (!ret)
			ret = lpu_queue_hw_reset(q);
		spin_lock_irq(&q->lock);
		q->suspended = false;
		if (q->dead) {
			/* Removed meanwhile: lpu_queues_shutdown() failed all. */
		} else if (ret) {
			q->dead = true;
			lpu_queue_fail_all_locked(q, -EIO);
		} else {
			lpu_queue_restart_locked(q, 0);
		}
		spin_unlock_irq(&q->lock);
		mutex_unlock(&q->recover_lock);
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
