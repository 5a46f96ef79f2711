/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * LPU v3 hardware queues: descriptor ring, fence records, the hardware fence
 * of each job, the queue's drm_gpu_scheduler and its recovery.
 */
#ifndef __LPU_QUEUE_H__
#define __LPU_QUEUE_H__

#include <linux/dma-fence.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#include <drm/gpu_scheduler.h>

#include "lpu_hw.h"

struct lpu_device;
struct lpu_space;
struct seq_file;

/*
 * A job is one or more work descriptors (a NOP, an EXEC, or a COPY per
 * copy) and a FENCE, so it takes at least this many ring slots; the number of fence
 * records follows from it.
 */
#define LPU_MIN_DESCS_PER_JOB	2

/**
 * struct lpu_hw_fence - completion of one job on the device
 * @base: the fence; first member, so the default dma_fence release frees
 *	the whole structure.
 * @lock: the fence's own lock. A fence may outlive the device (whoever
 *	holds it decides), so it points at nothing of the device: this lock,
 *	static names and static ops only.
 * @qidx: index of the queue, for the timeline name.
 * @q: queue the job runs on; only the driver follows it, while the job
 *	(which keeps the device alive) exists.
 * @link: entry in &lpu_queue.inflight while the device owns the job.
 * @ring_index: ring slot of the job's first descriptor.
 * @slot: fence record the job's FENCE descriptor writes.
 * @descs: the job's work descriptors, owned by the job, which lives at
 *	least as long as the fence is in flight; kept to re-emit the job after
 *	a queue reset.
 * @num_descs: entries of @descs; the job takes @num_descs + 1 ring slots.
 * @space: the COPY or EXEC job's buffers, whose host pages are synced for
 *	the card when the job is emitted and for the CPU when it completes
 *	(only then, while the job and so its buffers exist); NULL for a NOP.
 * @client_id: DRM client id of the submitting file, for error messages.
 * @bad_opcode: emit the first descriptor with an invalid opcode (debugfs
 *	fault hook).
 * @device_ns: doorbell-to-completion time the device recorded (WAIT's
 *	device_ns); it includes any wait behind earlier jobs of the queue.
 * @engine_ns: time the engine spent on this job alone, what fdinfo bills
 *	its client: from its fence record, completion minus the later of its
 *	doorbell and the previous completion on the queue; for a job that
 *	ends without a record (failed, timed out, finished during a reset),
 *	the time since it became the head of its queue (@head_ns).
 * @recorded: the job completed through its fence record; @engine_ns is
 *	the device's.
 * @head_ns: ktime_get_ns() when the job became the head of its queue,
 *	valid with @at_head.
 * @at_head: the job is, or was, the head of its queue since it was last
 *	emitted.
 * @fault_addr: with -EFAULT: the device address the device refused; with
 *	-ENOEXEC and LPU_EXEC_E_OPERAND: the operand's device address.
 * @fault_kind: with -EFAULT: DRM_LPU_FAULT_* of that access.
 * @exec_insn: with -ENOEXEC: Q_EXEC_INSN, the instruction refused.
 * @exec_reason: with -ENOEXEC: Q_EXEC_REASON, LPU_EXEC_E_* why.
 * @timeout: the job's own time limit once the device works on it, in
 *	jiffies, rounded up by one: the delay of &lpu_queue.deadline_work,
 *	which must not fire before the time asked for (an EXEC job's, see
 *	lpu_queue_arm_deadline_locked()); 0 for none: the scheduler's
 *	progress-based timeout applies. Set at SUBMIT, before the job is
 *	emitted, and constant afterwards, like @timeout_ms.
 * @timeout_ms: @timeout as asked for: what @deadline_ns counts.
 * @deadline_ns: ktime_get_ns() from which the job fails with -ETIMEDOUT,
 *	valid with @deadline_set. A ktime, not jiffies: jiffies may lag
 *	behind when ticks come late, which would end the job early.
 * @deadline_set: the job is at the head of its queue and @deadline runs.
 *
 * @fault_addr, @fault_kind, @exec_insn, @exec_reason, @device_ns and
 * @engine_ns are written under &lpu_queue.lock before the fence signals,
 * and read only after it signaled. @recorded, @head_ns, @at_head,
 * @deadline_ns and @deadline_set are read and written only under
 * &lpu_queue.lock (lpu_queue.c); the deadline work and the recovery read
 * them there too.
 */
struct lpu_hw_fence {
	struct dma_fence base;
	spinlock_t lock; /* see @lock above */
	u32 qidx;
	struct lpu_queue *q;
	struct list_head link;
	u32 ring_index;
	u32 slot;
	const union lpu_desc *descs;
	u32 num_descs;
	const struct lpu_space *space;
	u64 client_id;
	bool bad_opcode;
	u64 device_ns;
	u64 engine_ns;
	bool recorded;
	u64 head_ns;
	bool at_head;
	u64 fault_addr;
	u32 fault_kind;
	u32 exec_insn;
	u32 exec_reason;
	unsigned long timeout;
	u32 timeout_ms;
	u64 deadline_ns;
	bool deadline_set;
};

/**
 * struct lpu_queue - one hardware queue
 * @ldev: owning device.
 * @regs: this queue's register block inside BAR0.
 * @index: queue number.
 * @name: "lpu-qN", the scheduler and fence timeline name.
 * @irq_name: interrupt name shown in /proc/interrupts.
 * @recover_lock: serialises the two recovery paths (halt work, scheduler
 *	timeout); whoever holds it owns the queue's CTRL register and resets.
 * @halt_work: recovers the queue after the device halted it; queued by the
 *	interrupt handler, so the reset (which polls) runs in process context.
 * @deadline_work: stops the job at the head of the queue when its own
 *	deadline passes (&lpu_hw_fence.timeout).
 * @lock: protects everything below it, the ring and the TAIL/DOORBELL
 *	registers. Taken from the queue's interrupt handler.
 * @ring: descriptor ring (coherent DMA memory).
 * @ring_dma: bus address of @ring.
 * @tail: next ring slot the driver writes.
 * @records: fence records (coherent DMA memory) the device writes.
 * @records_dma: bus address of @records.
 * @num_records: number of fence records.
 * @max_jobs: jobs the ring holds at once; the scheduler's credit limit
 *	makes sure run_job never gets more.
 * @max_descs: ring slots jobs may hold at once, the scheduler's credit
 *	limit (a job's credits are its ring slots).
 * @inflight: hardware fences of emitted, unsignaled jobs, oldest first.
 * @inflight_count: length of @inflight.
 * @inflight_descs: ring slots the jobs on @inflight take.
 * @fence_context: dma_fence context of the hardware fences.
 * @last_seqno: seqno of the last emitted hardware fence (starts at 1, so
 *	a zeroed fence record never matches).
 * @progress: jiffies of the last sign of life: a job completed, or the
 *	device got work while idle, or the queue was restarted. A job counts
 *	as hung only if the queue made no progress for a whole timeout.
 * @last_done: Q_DONE (descriptors completed) when the recovery last looked;
 *	a change is progress too.
 * @last_complete_ns: device time (complete_ns) of the last fence record
 *	retired since the queue was last (re)started, 0 for none: the
 *	engine was busy with that job until then, so the next job's engine
 *	time starts no earlier.
 * @jobs_done: jobs the device completed.
 * @jobs_failed: jobs failed by a halt or a timeout.
 * @resets: queue resets done for recovery.
 * @dead: the device is gone; nothing may be emitted any more.
 * @suspended: the card is being reset, or sleeps (lpu_pm.c): run_job()
 *	only queues jobs on @inflight, for lpu_queues_resume() to emit, and
 *	the recovery paths leave the hardware alone.
 * @inject_bad: emit the next job submitted with an invalid opcode.
 * @sched: the queue's scheduler; lives until the DRM device is released.
 * @sched_ready: @sched was initialised.
 */
struct lpu_queue {
	struct lpu_device *ldev;
	void __iomem *regs;
	u32 index;
	char name[16];
	char irq_name[24];

	struct mutex recover_lock; /* see @recover_lock above */
	struct work_struct halt_work;
	struct delayed_work deadline_work;

	spinlock_t lock; /* see @lock above */
	union lpu_desc *ring;
	dma_addr_t ring_dma;
	u32 tail;
	struct lpu_fence_record *records;
	dma_addr_t records_dma;
	u32 num_records;
	u32 max_jobs;
	u32 max_descs;
	struct list_head inflight;
	u32 inflight_count;
	u32 inflight_descs;
	u64 fence_context;
	u64 last_seqno;
	unsigned long progress;
	u32 last_done;
	u64 last_complete_ns;
	u64 jobs_done;
	u64 jobs_failed;
	u32 resets;
	bool dead;
	bool suspended;
	bool inject_bad;

	struct drm_gpu_scheduler sched;
	bool sched_ready;
};

int lpu_queues_init(struct lpu_device *ldev);
u32 lpu_queues_shutdown(struct lpu_device *ldev);
void lpu_queues_suspend(struct lpu_device *ldev);
void lpu_queues_resume(struct lpu_device *ldev, int err);
void lpu_queue_inject_bad(struct lpu_queue *q);
bool lpu_queue_take_inject_bad(struct lpu_queue *q);
void lpu_queue_show(struct lpu_queue *q, struct seq_file *m);

#endif /* __LPU_QUEUE_H__ */
