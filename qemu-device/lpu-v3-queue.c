/*
 * LPU v3 inference accelerator: descriptor queues
 *
 * Each queue has its own engine. A doorbell only records when it rang and
 * arms the queue's timer; the timer callback fetches, validates and
 * performs descriptors. Every descriptor occupies the engine for its
 * documented number of cycles (1 cycle = 1 ns of QEMU_CLOCK_VIRTUAL), so the
 * model has a notion of device time that does not depend on how fast the
 * host runs it, and qtests can step through it deterministically.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/cutils.h"
#include "qemu/host-utils.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/rcu.h"
#include "migration/vmstate.h"
#include "lpu-v3.h"
#include "trace.h"

QEMU_BUILD_BUG_ON(sizeof(union lpu_desc) != LPU_DESC_SIZE);
QEMU_BUILD_BUG_ON(sizeof(struct lpu_fence_record) != LPU_FENCE_RECORD_SIZE);

static int64_t lpu_v3_now(void)
{
    return qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
}

static uint32_t lpu_v3_ring_next(const LpuV3Queue *q, uint32_t idx)
{
    return (idx + 1) & (q->ring_size - 1);
}

/* Entries between HEAD and @tail, i.e. what the device still has to do. */
static uint32_t lpu_v3_ring_pending(const LpuV3Queue *q, uint32_t tail)
{
    return (tail - q->head) & (q->ring_size - 1);
}

bool lpu_v3_queue_busy(const LpuV3Queue *q)
{
    return q->enabled && !q->halted &&
           (q->inflight.valid || q->head != q->visible_tail);
}

/*
 * Wait until the worker has no step of ours, with the BQL held (the
 * worker never takes it, and a step is bounded, so this is short).
 * @discard: forget the step it finished, its bottom half does nothing.
 */
static void lpu_v3_worker_idle(LpuV3Queue *q, bool discard)
{
    qemu_mutex_lock(&q->wk_lock);
    while (q->wk_busy) {
        qemu_cond_wait(&q->wk_cond, &q->wk_lock);
    }
    if (discard) {
        q->wk_done = false;
    }
    qemu_mutex_unlock(&q->wk_lock);
}

/*
 * Stop the engine; whatever it was doing is dropped, never performed (an
 * EXEC stops between two chunks: the engine only runs from the timer and
 * the worker, which finishes its step first).
 */
static void lpu_v3_queue_stop(LpuV3Queue *q)
{
    lpu_v3_worker_idle(q, true);
    timer_del(q->timer);
    memset(&q->inflight, 0, sizeof(q->inflight));
    lpu_v3_exec_clear(q);
}

static void lpu_v3_queue_halt(LpuV3Queue *q, uint32_t code, uint32_t head,
                              const char *why)
{
    lpu_v3_queue_stop(q);
    q->halted = true;
    q->error = code;
    q->error_head = head;
    qemu_log_mask(LOG_GUEST_ERROR,
                  "lpu-v3: queue %u halted at entry %u: %s (error %u)\n",
                  q->index, head, why, code);
    trace_lpu_v3_queue_error(q->index, head, code);
    lpu_v3_latch_error(q->dev, q->index, code);
}

/* Why the ring and fence configuration cannot be used, or NULL if it can. */
static const char *lpu_v3_queue_config_error(const LpuV3Queue *q)
{
    uint64_t ring_bytes = (uint64_t)q->ring_size * LPU_DESC_SIZE;
    uint64_t fence_bytes = (uint64_t)q->fence_count * LPU_FENCE_RECORD_SIZE;

    if (!q->ring_base) {
        return "ring base is 0";
    }
    if (q->ring_base & (LPU_DESC_SIZE - 1)) {
        return "ring base is not 64-byte aligned";
    }
    if (q->ring_size < LPU_MIN_RING_ENTRIES ||
        q->ring_size > LPU_MAX_RING_ENTRIES || !is_power_of_2(q->ring_size)) {
        return "ring size is not a power of two within the limits";
    }
    if (q->ring_size > q->dev->fw_max_ring) {
        return "ring size above the firmware's MAX_RING_ENTRIES";
    }
    if (q->ring_base + ring_bytes - 1 < q->ring_base) {
        return "ring wraps around the 64-bit address space";
    }
    if (!q->fence_base) {
        return "fence base is 0";
    }
    if (q->fence_base & (LPU_FENCE_RECORD_SIZE - 1)) {
        return "fence base is not 32-byte aligned";
    }
    if (!q->fence_count || q->fence_count > LPU_MAX_FENCE_RECORDS) {
        return "fence count is 0 or above the limit";
    }
    if (q->fence_base + fence_bytes - 1 < q->fence_base) {
        return "fence area wraps around the 64-bit address space";
    }
    if (q->fence_base < q->ring_base + ring_bytes &&
        q->ring_base < q->fence_base + fence_bytes) {
        return "fence area overlaps the ring";
    }
    return NULL;
}

static void lpu_v3_queue_enable(LpuV3Queue *q)
{
    const char *why;

    /* error_head 0: no descriptor is involved. */
    if (!lpu_v3_fw_ready(q->dev)) {
        lpu_v3_queue_halt(q, LPU_ERR_NO_FW, 0, "no firmware runs");
        return;
    }
    if (q->index >= q->dev->fw_num_queues) {
        lpu_v3_queue_halt(q, LPU_ERR_NO_FW, 0,
                          "the firmware does not offer this queue");
        return;
    }
    why = lpu_v3_queue_config_error(q);
    if (why) {
        /* error_head 0: no descriptor is involved. */
        lpu_v3_queue_halt(q, LPU_ERR_RING_CONFIG, 0, why);
        return;
    }
    q->enabled = true;
    q->head = 0;
    q->tail = 0;
    q->visible_tail = 0;
    q->engine_ns = lpu_v3_now();
    trace_lpu_v3_queue_enable(q->index, q->ring_base, q->ring_size,
                              q->fence_base, q->fence_count);
}

void lpu_v3_queue_reset(LpuV3Queue *q)
{
    lpu_v3_queue_stop(q);
    q->enabled = false;
    q->halted = false;
    q->head = 0;
    q->tail = 0;
    q->visible_tail = 0;
    q->error = LPU_ERR_OK;
    q->error_head = 0;
    q->done = 0;
    q->fault_addr = 0;
    q->fault_info = 0;
    q->exec_insn = 0;
    q->exec_reason = 0;
    q->engine_ns = 0;
    memset(q->visible_ns, 0, sizeof(q->visible_ns));
}

/* Check everything before anything is performed; returns an LPU_ERR_*. */
static uint32_t lpu_v3_desc_check(const LpuV3Queue *q, const union lpu_desc *d,
                                  const char **why)
{
    uint8_t allowed_flags;

    switch (d->hdr.opcode) {
    case LPU_OP_NOP:
        allowed_flags = 0;
        break;
    case LPU_OP_FENCE:
        allowed_flags = LPU_DESC_F_IRQ;
        break;
    case LPU_OP_COPY:
    case LPU_OP_EXEC:
        allowed_flags = 0;
        break;
    default:
        *why = "unknown or reserved opcode";
        return LPU_ERR_BAD_OPCODE;
    }
    if (d->hdr.flags & ~allowed_flags) {
        *why = "flag not defined for the opcode";
        return LPU_ERR_BAD_FLAGS;
    }
    if (d->hdr.rsvd0 || d->hdr.rsvd1) {
        *why = "reserved header field is not zero";
        return LPU_ERR_RESERVED;
    }
    if (d->hdr.opcode == LPU_OP_NOP) {
        if (d->nop.rsvd2 || !buffer_is_zero(d->nop.rsvd3,
                                            sizeof(d->nop.rsvd3))) {
            *why = "reserved NOP field is not zero";
            return LPU_ERR_RESERVED;
        }
        if (le32_to_cpu(d->nop.cycles) > LPU_NOP_MAX_CYCLES) {
            *why = "NOP cycles above LPU_NOP_MAX_CYCLES";
            return LPU_ERR_RANGE;
        }
        return LPU_ERR_OK;
    }
    if (d->hdr.opcode == LPU_OP_COPY) {
        if (d->copy.rsvd2 || !buffer_is_zero(d->copy.rsvd3,
                                             sizeof(d->copy.rsvd3))) {
            *why = "reserved COPY field is not zero";
            return LPU_ERR_RESERVED;
        }
        if (!d->copy.size ||
            le64_to_cpu(d->copy.size) > LPU_COPY_MAX_SIZE) {
            *why = "COPY size is 0 or above LPU_COPY_MAX_SIZE";
            return LPU_ERR_RANGE;
        }
        if (!d->copy.seg_count ||
            le32_to_cpu(d->copy.seg_count) > LPU_MAX_SEGMENTS) {
            *why = "COPY seg_count is 0 or above LPU_MAX_SEGMENTS";
            return LPU_ERR_RANGE;
        }
        return LPU_ERR_OK;
    }
    if (d->hdr.opcode == LPU_OP_EXEC) {
        /* The rest is LPU_ERR_EXEC's: see lpu_v3_exec_prepare(). */
        return LPU_ERR_OK;
    }
    if (d->fence.rsvd2 || !buffer_is_zero(d->fence.rsvd3,
                                          sizeof(d->fence.rsvd3))) {
        *why = "reserved FENCE field is not zero";
        return LPU_ERR_RESERVED;
    }
    if (le32_to_cpu(d->fence.slot) >= q->fence_count) {
        *why = "fence slot beyond FENCE_COUNT";
        return LPU_ERR_FENCE_SLOT;
    }
    return LPU_ERR_OK;
}

/* Fetch and validate the descriptor at HEAD and put it on the engine. */
static void lpu_v3_queue_start(LpuV3Queue *q)
{
    LpuV3Inflight *f = &q->inflight;
    uint32_t head = q->head;
    uint64_t addr = q->ring_base + (uint64_t)head * LPU_DESC_SIZE;
    const char *why = NULL;
    union lpu_desc d;
    uint32_t code;
    int64_t ns;

    memset(f, 0, sizeof(*f));
    if (pci_dma_read(PCI_DEVICE(q->dev), addr, &d, sizeof(d)) != MEMTX_OK) {
        lpu_v3_queue_halt(q, LPU_ERR_DMA, head, "descriptor read failed");
        return;
    }
    code = lpu_v3_desc_check(q, &d, &why);
    if (code == LPU_ERR_OK && d.hdr.opcode == LPU_OP_COPY) {
        /* The part of the checks that needs the segment table. */
        code = lpu_v3_copy_prepare(q, &d.copy, &why);
    }
    if (code == LPU_ERR_OK && d.hdr.opcode == LPU_OP_EXEC) {
        if (HOST_BIG_ENDIAN) {
            /* Not offered there: see LPU_V3_CAPS. */
            why = "EXEC is not implemented on big-endian hosts";
            code = LPU_ERR_UNSUPPORTED;
        } else {
            /* Fetches and validates the whole program. */
            code = lpu_v3_exec_prepare(q, &d.exec, &why);
        }
    }
    if (code != LPU_ERR_OK) {
        lpu_v3_queue_halt(q, code, head, why);
        return;
    }

    f->opcode = d.hdr.opcode;
    f->flags = d.hdr.flags;
    if (f->opcode == LPU_OP_NOP) {
        ns = (LPU_NOP_BASE_CYCLES + (int64_t)le32_to_cpu(d.nop.cycles)) *
             1000 / LPU_CLOCK_MHZ;
        f->slot = 0;
        f->seq = 0;
    } else if (f->opcode == LPU_OP_FENCE) {
        ns = (int64_t)LPU_FENCE_CYCLES * 1000 / LPU_CLOCK_MHZ;
        f->slot = le32_to_cpu(d.fence.slot);
        f->seq = le64_to_cpu(d.fence.seq);
    } else if (f->opcode == LPU_OP_COPY) {
        ns = lpu_v3_copy_ns(f->size);
        f->slot = 0;
        f->seq = 0;
    } else {
        ns = lpu_v3_exec_ns(q);
        f->slot = 0;
        f->seq = 0;
    }
    /*
     * The engine starts a descriptor once it is free and the descriptor is
     * visible, in device time, even if this callback runs late.
     */
    f->doorbell_ns = q->visible_ns[head];
    f->start_ns = MAX(q->engine_ns, f->doorbell_ns);
    f->done_ns = f->start_ns + ns;
    f->valid = true;
    trace_lpu_v3_desc_start(q->index, head, f->opcode, f->start_ns,
                            f->done_ns);
}

/*
 * Perform the descriptor on the engine; false if that halted the queue.
 * The fence record carries the clock at which it is really written, @now,
 * which is never before the modelled completion: the difference is the
 * emulator's own latency, and a benchmark of the device must include it.
 */
static bool lpu_v3_queue_retire(LpuV3Queue *q, int64_t now)
{
    LpuV3Inflight *f = &q->inflight;
    struct lpu_fence_record rec;
    const char *why = NULL;
    uint64_t addr;
    uint32_t code;
    bool irq = false;

    if (f->opcode == LPU_OP_EXEC) {
        code = lpu_v3_exec_finish(q, &why);
        if (code != LPU_ERR_OK) {
            lpu_v3_queue_halt(q, code, q->head, why);
            return false;
        }
        lpu_v3_exec_clear(q);
    }
    if (f->opcode == LPU_OP_FENCE) {
        addr = q->fence_base + (uint64_t)f->slot * LPU_FENCE_RECORD_SIZE;
        memset(&rec, 0, sizeof(rec));
        rec.seq = cpu_to_le64(f->seq);
        rec.status = cpu_to_le32(LPU_ERR_OK);
        rec.doorbell_ns = cpu_to_le64(f->doorbell_ns);
        rec.complete_ns = cpu_to_le64(MAX(f->done_ns, now));
        if (pci_dma_write(PCI_DEVICE(q->dev), addr, &rec, sizeof(rec)) !=
            MEMTX_OK) {
            lpu_v3_queue_halt(q, LPU_ERR_DMA, q->head,
                              "fence record write failed");
            return false;
        }
        irq = f->flags & LPU_DESC_F_IRQ;
    }

    trace_lpu_v3_desc_retire(q->index, q->head, f->opcode, f->done_ns);
    q->engine_ns = f->done_ns;
    q->head = lpu_v3_ring_next(q, q->head);
    q->done++;
    lpu_v3_telemetry_retire(q->dev, f->start_ns, f->done_ns);
    f->valid = false;
    if (irq) {
        lpu_v3_raise_irq(q->dev, LPU_IRQ_QUEUE(q->index));
    }
    return true;
}

/*
 * Move the next bytes of the COPY on the engine; false if that halted the
 * queue or used up the callback's byte budget (the timer is then re-armed).
 */
static bool lpu_v3_queue_copy(LpuV3Queue *q, int64_t now, uint64_t *bytes)
{
    LpuV3Inflight *f = &q->inflight;
    const char *why = NULL;
    uint32_t code;

    if (*bytes) {
        code = lpu_v3_copy_run(q, bytes, &why);
        if (code != LPU_ERR_OK) {
            lpu_v3_queue_halt(q, code, q->head, why);
            return false;
        }
    }
    if (f->copied < f->size) {
        /* Yield; see lpu_v3_queue_step() for why not "now". */
        timer_mod(q->timer, now + 1);
        return false;
    }
    return true;
}

/* Hand the worker a step of @budget work of the EXEC on the engine. */
static void lpu_v3_worker_start(LpuV3Queue *q, uint64_t budget)
{
    qemu_mutex_lock(&q->wk_lock);
    assert(!q->wk_busy);
    q->wk_budget = budget;
    q->wk_done = false;
    q->wk_busy = true;
    qemu_cond_broadcast(&q->wk_cond);
    qemu_mutex_unlock(&q->wk_lock);
}

/*
 * Take the result of the worker's step: false if there is none (it was
 * discarded); *@budget is what the step left.
 */
static bool lpu_v3_worker_take(LpuV3Queue *q, uint64_t *budget,
                               uint32_t *code, const char **why)
{
    bool done;

    qemu_mutex_lock(&q->wk_lock);
    done = q->wk_done;
    if (done) {
        *budget = q->wk_budget;
        *code = q->wk_code;
        *why = q->wk_why;
        q->wk_done = false;
    }
    qemu_mutex_unlock(&q->wk_lock);
    return done;
}

/* The EXEC failed with @code: record it and halt the queue. */
static void lpu_v3_queue_exec_failed(LpuV3Queue *q, uint32_t code,
                                     const char *why)
{
    if (code == LPU_ERR_EXEC) {
        code = lpu_v3_exec_refused(q, &why);
    }
    lpu_v3_queue_halt(q, code, q->head, why);
}

/*
 * Run the next chunks of the EXEC on the engine: COPY instructions here,
 * the others in the worker. False if that halted the queue, used up the
 * callback's work budget (the timer is re-armed) or left a step to the
 * worker (whose bottom half goes on).
 */
static bool lpu_v3_queue_exec(LpuV3Queue *q, int64_t now, uint64_t *work)
{
    const char *why = NULL;
    uint32_t code = LPU_ERR_OK;

    while (*work && !lpu_v3_exec_done(q)) {
        if (lpu_v3_exec_next_in_worker(q)) {
            lpu_v3_worker_start(q, *work);
            if (!q->dev->exec_wait) {
                return false;
            }
            lpu_v3_worker_idle(q, false);
            if (!lpu_v3_worker_take(q, work, &code, &why)) {
                g_assert_not_reached();
            }
        } else {
            code = lpu_v3_exec_run(q, false, work, &why);
        }
        if (code != LPU_ERR_OK) {
            lpu_v3_queue_exec_failed(q, code, why);
            return false;
        }
    }
    if (!lpu_v3_exec_done(q)) {
        /* Yield; see lpu_v3_queue_step() for why not "now". */
        timer_mod(q->timer, now + 1);
        return false;
    }
    return true;
}

static void lpu_v3_queue_step(LpuV3Queue *q)
{
    int64_t now = lpu_v3_now();
    unsigned budget = LPU_V3_RETIRE_BUDGET;
    uint64_t bytes = LPU_V3_COPY_CHUNK;
    uint64_t work = LPU_V3_EXEC_STEP_WORK;

    while (q->enabled && !q->halted) {
        if (q->inflight.valid) {
            /*
             * The data moves (the program runs) first; the descriptor
             * retires at its modelled end.
             */
            if (q->inflight.opcode == LPU_OP_COPY &&
                !lpu_v3_queue_copy(q, now, &bytes)) {
                return;
            }
            if (q->inflight.opcode == LPU_OP_EXEC &&
                !lpu_v3_queue_exec(q, now, &work)) {
                return;
            }
            if (q->inflight.done_ns > now) {
                timer_mod(q->timer, q->inflight.done_ns);
                return;
            }
            if (!budget) {
                /*
                 * Yield. A timer due "now" would run again in this same
                 * timer list walk, so ask for the next nanosecond.
                 */
                timer_mod(q->timer, now + 1);
                return;
            }
            budget--;
            if (!lpu_v3_queue_retire(q, now)) {
                return;
            }
            continue;
        }
        if (q->head == q->visible_tail) {
            return;
        }
        lpu_v3_queue_start(q);
    }
}

/*
 * Timer callback: all of the engine's DMA (descriptor fetches, fence
 * records) and the MSI-X messages of completions and errors start here.
 *
 * QEMU's MemReentrancyGuard makes the memory core refuse an access to a
 * device's MMIO regions while that device is already "in I/O". The core
 * engages it for MMIO dispatch and for bottom halves made with
 * qemu_bh_new_guarded(), but not for timers: without this, a ring, fence
 * area or MSI-X address pointed at our own BAR 0 or MSI-X BAR would run
 * our register handlers in the middle of retiring a descriptor (a fence
 * record re-enabling a queue, an MSI-X message writing RESET). Engaging it
 * turns every such access into a failed transaction, i.e. LPU_ERR_DMA for
 * descriptor and fence traffic, and a dropped message for MSI-X. Memory
 * that is RAM, including our own SRAM aperture, is not affected.
 */
static void lpu_v3_queue_run(void *opaque)
{
    LpuV3Queue *q = opaque;
    MemReentrancyGuard *guard = &DEVICE(q->dev)->mem_reentrancy_guard;
    bool was_engaged = guard->engaged_in_io;
    bool worker;

    /* The worker has a step of ours: its bottom half re-arms the timer. */
    qemu_mutex_lock(&q->wk_lock);
    worker = q->wk_busy || q->wk_done;
    qemu_mutex_unlock(&q->wk_lock);
    if (worker) {
        return;
    }
    guard->engaged_in_io = true;
    lpu_v3_queue_step(q);
    guard->engaged_in_io = was_engaged;
}

/*
 * Bottom half of a worker step, in the main loop: the step ends as it
 * would have in the timer callback. Its MMIO and DMA are guarded as the
 * timer's are (see lpu_v3_queue_run()).
 */
static void lpu_v3_queue_worker_bh(void *opaque)
{
    LpuV3Queue *q = opaque;
    MemReentrancyGuard *guard = &DEVICE(q->dev)->mem_reentrancy_guard;
    bool was_engaged = guard->engaged_in_io;
    const char *why = NULL;
    uint32_t code = LPU_ERR_OK;
    uint64_t left = 0;

    if (!lpu_v3_worker_take(q, &left, &code, &why)) {
        return;     /* discarded by a reset, or taken by the timer */
    }
    guard->engaged_in_io = true;
    if (code != LPU_ERR_OK) {
        lpu_v3_queue_exec_failed(q, code, why);
    } else {
        /* Next step (or the retirement) when the engine's timer runs. */
        timer_mod(q->timer, lpu_v3_now());
    }
    guard->engaged_in_io = was_engaged;
}

/* The worker thread: runs the EXEC steps it is handed, one at a time. */
static void *lpu_v3_queue_worker(void *opaque)
{
    LpuV3Queue *q = opaque;
    const char *why;
    uint64_t budget;
    uint32_t code;

    rcu_register_thread();
    qemu_mutex_lock(&q->wk_lock);
    for (;;) {
        while (!q->wk_busy && !q->wk_quit) {
            qemu_cond_wait(&q->wk_cond, &q->wk_lock);
        }
        if (q->wk_quit) {
            break;
        }
        budget = q->wk_budget;
        qemu_mutex_unlock(&q->wk_lock);
        why = NULL;
        code = lpu_v3_exec_run(q, true, &budget, &why);
        qemu_mutex_lock(&q->wk_lock);
        q->wk_budget = budget;
        q->wk_code = code;
        q->wk_why = why;
        q->wk_busy = false;
        q->wk_done = true;
        qemu_cond_broadcast(&q->wk_cond);
        qemu_bh_schedule(q->wk_bh);
    }
    qemu_mutex_unlock(&q->wk_lock);
    rcu_unregister_thread();
    return NULL;
}

/*
 * The VM stops (for a migration's last pass over RAM, a snapshot): the
 * worker finishes its step first, so SRAM no longer changes.
 */
static void lpu_v3_queue_vm_state(void *opaque, bool running, RunState state)
{
    if (!running) {
        lpu_v3_worker_idle(opaque, false);
    }
}

static void lpu_v3_queue_doorbell(LpuV3Queue *q)
{
    int64_t now = lpu_v3_now();
    uint32_t i;

    if (!q->enabled || q->halted) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu-v3: doorbell on %s queue %u ignored\n",
                      q->enabled ? "halted" : "disabled", q->index);
        return;
    }
    trace_lpu_v3_doorbell(q->index, q->head, q->tail, now);
    /* Entries this doorbell makes visible carry its time. */
    if (lpu_v3_ring_pending(q, q->tail) >
        lpu_v3_ring_pending(q, q->visible_tail)) {
        for (i = q->visible_tail; i != q->tail; i = lpu_v3_ring_next(q, i)) {
            q->visible_ns[i] = now;
        }
    }
    q->visible_tail = q->tail;
    if (!q->inflight.valid && !timer_pending(q->timer)) {
        timer_mod(q->timer, now);
    }
}

static void lpu_v3_queue_write_tail(LpuV3Queue *q, uint32_t val)
{
    if (!q->enabled || q->halted) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu-v3: TAIL write on %s queue %u ignored\n",
                      q->enabled ? "halted" : "disabled", q->index);
        return;
    }
    if (val >= q->ring_size) {
        lpu_v3_queue_halt(q, LPU_ERR_TAIL_RANGE, q->head,
                          "TAIL beyond RING_SIZE");
        return;
    }
    q->tail = val;
}

static void lpu_v3_queue_write_ctrl(LpuV3Queue *q, uint32_t val)
{
    if (val & ~(LPU_Q_CTRL_ENABLE | LPU_Q_CTRL_RESET)) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu-v3: queue %u: undefined Q_CTRL bits 0x%x ignored\n",
                      q->index, val);
    }
    if (val & LPU_Q_CTRL_RESET) {
        /* Recovers a halted queue; the configuration is kept. */
        trace_lpu_v3_queue_reset(q->index);
        lpu_v3_queue_reset(q);
    }
    if (!(val & LPU_Q_CTRL_ENABLE)) {
        if (q->enabled) {
            lpu_v3_queue_stop(q);
            q->enabled = false;
        }
        return;
    }
    if (q->enabled) {
        return;
    }
    if (q->halted) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu-v3: queue %u is halted, reset it before enabling\n",
                      q->index);
        return;
    }
    lpu_v3_queue_enable(q);
}

uint32_t lpu_v3_queue_read(LpuV3Queue *q, hwaddr offset)
{
    switch (offset) {
    case LPU_Q_RING_BASE_LO:
        return extract64(q->ring_base, 0, 32);
    case LPU_Q_RING_BASE_HI:
        return extract64(q->ring_base, 32, 32);
    case LPU_Q_RING_SIZE:
        return q->ring_size;
    case LPU_Q_FENCE_BASE_LO:
        return extract64(q->fence_base, 0, 32);
    case LPU_Q_FENCE_BASE_HI:
        return extract64(q->fence_base, 32, 32);
    case LPU_Q_FENCE_COUNT:
        return q->fence_count;
    case LPU_Q_CTRL:
        return q->enabled ? LPU_Q_CTRL_ENABLE : 0;
    case LPU_Q_STATUS:
        return (q->enabled ? LPU_Q_STATUS_ENABLED : 0) |
               (q->halted ? LPU_Q_STATUS_HALTED : 0) |
               (lpu_v3_queue_busy(q) ? LPU_Q_STATUS_BUSY : 0);
    case LPU_Q_HEAD:
        return q->head;
    case LPU_Q_TAIL:
        return q->tail;
    case LPU_Q_DOORBELL:
        return 0;
    case LPU_Q_ERROR:
        return q->error;
    case LPU_Q_ERROR_HEAD:
        return q->error_head;
    case LPU_Q_DONE:
        return q->done;
    case LPU_Q_FAULT_ADDR_LO:
        return extract64(q->fault_addr, 0, 32);
    case LPU_Q_FAULT_ADDR_HI:
        return extract64(q->fault_addr, 32, 32);
    case LPU_Q_FAULT_INFO:
        return q->fault_info;
    case LPU_Q_EXEC_INSN:
        return q->exec_insn;
    case LPU_Q_EXEC_REASON:
        return q->exec_reason;
    default:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu-v3: read of undefined queue %u register 0x%"
                      HWADDR_PRIx "\n", q->index, offset);
        return 0;
    }
}

static void lpu_v3_queue_write_config(LpuV3Queue *q, hwaddr offset,
                                      uint32_t val)
{
    if (q->enabled) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu-v3: queue %u register 0x%" HWADDR_PRIx
                      " is read-only while the queue is enabled\n",
                      q->index, offset);
        return;
    }
    switch (offset) {
    case LPU_Q_RING_BASE_LO:
        q->ring_base = deposit64(q->ring_base, 0, 32, val);
        break;
    case LPU_Q_RING_BASE_HI:
        q->ring_base = deposit64(q->ring_base, 32, 32, val);
        break;
    case LPU_Q_RING_SIZE:
        q->ring_size = val;
        break;
    case LPU_Q_FENCE_BASE_LO:
        q->fence_base = deposit64(q->fence_base, 0, 32, val);
        break;
    case LPU_Q_FENCE_BASE_HI:
        q->fence_base = deposit64(q->fence_base, 32, 32, val);
        break;
    case LPU_Q_FENCE_COUNT:
        q->fence_count = val;
        break;
    default:
        g_assert_not_reached();
    }
}

void lpu_v3_queue_write(LpuV3Queue *q, hwaddr offset, uint32_t val)
{
    switch (offset) {
    case LPU_Q_RING_BASE_LO:
    case LPU_Q_RING_BASE_HI:
    case LPU_Q_RING_SIZE:
    case LPU_Q_FENCE_BASE_LO:
    case LPU_Q_FENCE_BASE_HI:
    case LPU_Q_FENCE_COUNT:
        lpu_v3_queue_write_config(q, offset, val);
        break;
    case LPU_Q_CTRL:
        lpu_v3_queue_write_ctrl(q, val);
        break;
    case LPU_Q_TAIL:
        lpu_v3_queue_write_tail(q, val);
        break;
    case LPU_Q_DOORBELL:
        lpu_v3_queue_doorbell(q);
        break;
    case LPU_Q_STATUS:
    case LPU_Q_HEAD:
    case LPU_Q_ERROR:
    case LPU_Q_ERROR_HEAD:
    case LPU_Q_DONE:
    case LPU_Q_FAULT_ADDR_LO:
    case LPU_Q_FAULT_ADDR_HI:
    case LPU_Q_FAULT_INFO:
    case LPU_Q_EXEC_INSN:
    case LPU_Q_EXEC_REASON:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu-v3: write to read-only queue %u register 0x%"
                      HWADDR_PRIx "\n", q->index, offset);
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu-v3: write to undefined queue %u register 0x%"
                      HWADDR_PRIx "\n", q->index, offset);
        break;
    }
}

void lpu_v3_queue_init(LpuV3State *s, unsigned qidx)
{
    LpuV3Queue *q = &s->queues[qidx];

    q->dev = s;
    q->index = qidx;
    q->timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, lpu_v3_queue_run, q);
    q->wk_bh = qemu_bh_new(lpu_v3_queue_worker_bh, q);
    qemu_mutex_init(&q->wk_lock);
    qemu_cond_init(&q->wk_cond);
    q->wk_busy = false;
    q->wk_done = false;
    q->wk_quit = false;
    qemu_thread_create(&q->wk_thread, "lpu-v3-exec", lpu_v3_queue_worker, q,
                       QEMU_THREAD_JOINABLE);
    q->wk_vmstate = qemu_add_vm_change_state_handler(lpu_v3_queue_vm_state,
                                                     q);
}

void lpu_v3_queue_finalize(LpuV3Queue *q)
{
    qemu_del_vm_change_state_handler(q->wk_vmstate);
    lpu_v3_worker_idle(q, true);
    qemu_mutex_lock(&q->wk_lock);
    q->wk_quit = true;
    qemu_cond_broadcast(&q->wk_cond);
    qemu_mutex_unlock(&q->wk_lock);
    qemu_thread_join(&q->wk_thread);
    qemu_bh_delete(q->wk_bh);
    q->wk_bh = NULL;
    qemu_cond_destroy(&q->wk_cond);
    qemu_mutex_destroy(&q->wk_lock);
    lpu_v3_exec_clear(q);
    timer_free(q->timer);
    q->timer = NULL;
}

/* Why a migrated descriptor on the engine is impossible, or NULL. */
static const char *lpu_v3_inflight_check_state(const LpuV3Queue *q)
{
    const LpuV3Inflight *f = &q->inflight;

    if (!q->enabled || q->halted) {
        return "descriptor in flight on a disabled or halted queue";
    }
    switch (f->opcode) {
    case LPU_OP_NOP:
        if (f->flags) {
            return "in-flight NOP has flags";
        }
        break;
    case LPU_OP_FENCE:
        if (f->flags & ~LPU_DESC_F_IRQ) {
            return "in-flight FENCE has undefined flags";
        }
        if (f->slot >= q->fence_count) {
            return "in-flight FENCE slot beyond the fence area";
        }
        break;
    case LPU_OP_COPY:
    case LPU_OP_EXEC:
        break;
    default:
        return "in-flight opcode is not NOP, FENCE, COPY or EXEC";
    }
    if (!lpu_v3_time_ok(f->doorbell_ns) || !lpu_v3_time_ok(f->start_ns) ||
        !lpu_v3_time_ok(f->done_ns)) {
        return "in-flight time out of range";
    }
    /*
     * No descriptor but EXEC takes longer than the longest NOP; an EXEC
     * takes what its program costs (checked below).
     */
    if (f->start_ns < f->doorbell_ns || f->done_ns < f->start_ns ||
        (f->opcode != LPU_OP_EXEC && f->done_ns - f->start_ns >
         (LPU_NOP_BASE_CYCLES + (int64_t)LPU_NOP_MAX_CYCLES) * 1000 /
         LPU_CLOCK_MHZ)) {
        return "in-flight times out of order";
    }
    if (f->opcode == LPU_OP_COPY) {
        return lpu_v3_copy_check_state(q);
    }
    if (f->opcode == LPU_OP_EXEC) {
        return lpu_v3_exec_check_state(q);
    }
    return NULL;
}

/*
 * Why migrated queue state is impossible, or NULL if it is fine. Checks
 * everything the engine indexes with or computes from, so a crafted stream
 * can neither lead it outside its ring or fence area nor overflow its
 * device-time arithmetic.
 */
const char *lpu_v3_queue_check_state(const LpuV3Queue *q)
{
    unsigned i;

    if (q->head >= LPU_MAX_RING_ENTRIES || q->tail >= LPU_MAX_RING_ENTRIES ||
        q->visible_tail >= LPU_MAX_RING_ENTRIES ||
        q->error_head >= LPU_MAX_RING_ENTRIES) {
        return "ring index beyond LPU_MAX_RING_ENTRIES";
    }
    if (q->error >= LPU_ERR_COUNT) {
        return "unknown error code";
    }
    /* Only a halt sets Q_ERROR, and only a queue reset clears HALTED. */
    if (q->halted != (q->error != LPU_ERR_OK)) {
        return "halted state and error code disagree";
    }
    /* Only an LPU_ERR_EXEC halt sets the EXEC registers. */
    if (q->error == LPU_ERR_EXEC) {
        if (!q->exec_reason || q->exec_reason >= LPU_EXEC_E_COUNT ||
            (q->exec_insn >= LPU_EXEC_MAX_INSNS &&
             q->exec_insn != LPU_EXEC_INSN_NONE)) {
            return "EXEC error registers out of range";
        }
    } else if (q->exec_insn || q->exec_reason) {
        return "EXEC error registers set without an EXEC error";
    }
    /*
     * Only an LPU_ERR_FAULT halt sets the fault registers, and an
     * LPU_ERR_EXEC for an operand its address.
     */
    if (q->error == LPU_ERR_EXEC && q->exec_reason == LPU_EXEC_E_OPERAND) {
        if (q->fault_info) {
            return "fault info set for an EXEC operand";
        }
    } else if (q->error == LPU_ERR_FAULT) {
        if ((q->fault_info & ~(LPU_FAULT_KIND_MASK | LPU_FAULT_WRITE)) ||
            ((q->fault_info & LPU_FAULT_KIND_MASK) != LPU_FAULT_NOT_MAPPED &&
             (q->fault_info & LPU_FAULT_KIND_MASK) !=
             LPU_FAULT_OUT_OF_BOUNDS)) {
            return "fault info is not a fault kind";
        }
    } else if (q->fault_addr || q->fault_info) {
        return "fault registers set without a fault";
    }
    if (!lpu_v3_time_ok(q->engine_ns)) {
        return "engine time out of range";
    }
    for (i = 0; i < LPU_MAX_RING_ENTRIES; i++) {
        if (!lpu_v3_time_ok(q->visible_ns[i])) {
            return "doorbell time out of range";
        }
    }
    if (q->enabled) {
        if (!lpu_v3_fw_ready(q->dev) || q->index >= q->dev->fw_num_queues) {
            return "enabled, but no firmware offers the queue";
        }
        if (lpu_v3_queue_config_error(q)) {
            return "enabled with an invalid ring configuration";
        }
        if (q->head >= q->ring_size || q->tail >= q->ring_size ||
            q->visible_tail >= q->ring_size) {
            return "ring index beyond RING_SIZE";
        }
    }
    if (q->exec.insns &&
        (!q->inflight.valid || q->inflight.opcode != LPU_OP_EXEC)) {
        return "EXEC program without an EXEC in flight";
    }
    if (q->inflight.valid) {
        return lpu_v3_inflight_check_state(q);
    }
    return NULL;
}

/* Called once the state passed lpu_v3_queue_check_state(). */
void lpu_v3_queue_post_load(LpuV3Queue *q)
{
    /*
     * The engine only runs from its timer, and doorbells do not re-arm it
     * while a descriptor is on the engine: a stream whose timer does not
     * match the queue's work (not armed, or armed years ahead) would leave
     * the queue stuck busy. The work alone says when the engine is due.
     */
    const LpuV3Inflight *f = &q->inflight;

    if (lpu_v3_queue_busy(q)) {
        /* A COPY with data left to move, an unfinished EXEC resume at once. */
        bool work_left = (f->opcode == LPU_OP_COPY && f->copied < f->size) ||
                         (f->opcode == LPU_OP_EXEC && !lpu_v3_exec_done(q));

        timer_mod(q->timer, f->valid && !work_left ? f->done_ns :
                            lpu_v3_now());
    } else {
        timer_del(q->timer);
    }
}

/* A segment, as COPY and EXEC state carry it. */
const VMStateDescription vmstate_lpu_v3_segment = {
    .name = "lpu-v3/segment",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(va, LpuV3Segment),
        VMSTATE_UINT64(size, LpuV3Segment),
        VMSTATE_UINT64(base, LpuV3Segment),
        VMSTATE_UINT32(kind, LpuV3Segment),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_lpu_v3_inflight = {
    .name = "lpu-v3/inflight",
    .version_id = 2,
    .minimum_version_id = 2,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(valid, LpuV3Inflight),
        VMSTATE_UINT8(opcode, LpuV3Inflight),
        VMSTATE_UINT8(flags, LpuV3Inflight),
        VMSTATE_UINT32(slot, LpuV3Inflight),
        VMSTATE_UINT64(seq, LpuV3Inflight),
        VMSTATE_INT64(doorbell_ns, LpuV3Inflight),
        VMSTATE_INT64(start_ns, LpuV3Inflight),
        VMSTATE_INT64(done_ns, LpuV3Inflight),
        VMSTATE_UINT64(src, LpuV3Inflight),
        VMSTATE_UINT64(dst, LpuV3Inflight),
        VMSTATE_UINT64(size, LpuV3Inflight),
        VMSTATE_UINT64(copied, LpuV3Inflight),
        VMSTATE_STRUCT(src_seg, LpuV3Inflight, 1, vmstate_lpu_v3_segment,
                       LpuV3Segment),
        VMSTATE_STRUCT(dst_seg, LpuV3Inflight, 1, vmstate_lpu_v3_segment,
                       LpuV3Segment),
        VMSTATE_END_OF_LIST()
    }
};

/* The state saved is not in the middle of a worker step. */
static int lpu_v3_queue_pre_save(void *opaque)
{
    lpu_v3_worker_idle(opaque, false);
    return 0;
}

/* The stream replaces the state: a step the worker finished is void. */
static int lpu_v3_queue_pre_load(void *opaque)
{
    lpu_v3_worker_idle(opaque, true);
    return 0;
}

const VMStateDescription vmstate_lpu_v3_queue = {
    .name = "lpu-v3/queue",
    .version_id = 3,
    .minimum_version_id = 3,
    .pre_save = lpu_v3_queue_pre_save,
    .pre_load = lpu_v3_queue_pre_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(ring_base, LpuV3Queue),
        VMSTATE_UINT32(ring_size, LpuV3Queue),
        VMSTATE_UINT64(fence_base, LpuV3Queue),
        VMSTATE_UINT32(fence_count, LpuV3Queue),
        VMSTATE_BOOL(enabled, LpuV3Queue),
        VMSTATE_BOOL(halted, LpuV3Queue),
        VMSTATE_UINT32(head, LpuV3Queue),
        VMSTATE_UINT32(tail, LpuV3Queue),
        VMSTATE_UINT32(visible_tail, LpuV3Queue),
        VMSTATE_UINT32(error, LpuV3Queue),
        VMSTATE_UINT32(error_head, LpuV3Queue),
        VMSTATE_UINT32(done, LpuV3Queue),
        VMSTATE_INT64(engine_ns, LpuV3Queue),
        VMSTATE_STRUCT(inflight, LpuV3Queue, 2, vmstate_lpu_v3_inflight,
                       LpuV3Inflight),
        VMSTATE_INT64_ARRAY(visible_ns, LpuV3Queue, LPU_MAX_RING_ENTRIES),
        VMSTATE_TIMER_PTR(timer, LpuV3Queue),
        VMSTATE_UINT64(fault_addr, LpuV3Queue),
        VMSTATE_UINT32(fault_info, LpuV3Queue),
        VMSTATE_UINT32(exec_insn, LpuV3Queue),
        VMSTATE_UINT32(exec_reason, LpuV3Queue),
        VMSTATE_STRUCT(exec, LpuV3Queue, 3, vmstate_lpu_v3_exec, LpuV3Exec),
        VMSTATE_END_OF_LIST()
    }
};
