/*
 * LPU v3 inference accelerator: state shared by the device model's files
 *
 * The register map, descriptor and fence layouts come from lpu_hw.h, the
 * project's hardware interface header; the prose specification is
 * uapi/lpu_hw.md in the LPU project.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_LPU_V3_H
#define HW_MISC_LPU_V3_H

#include "hw/pci/pci_device.h"
#include "qemu/thread.h"
#include "qemu/timer.h"
#include "system/runstate.h"
#include "qom/object.h"
#include "crypto/akcipher.h"
#include "lpu_hw.h"
#include "lpu_fw.h"
#include "lpu-v3-plan.h"

#define TYPE_LPU_V3 "lpu-v3"
OBJECT_DECLARE_SIMPLE_TYPE(LpuV3State, LPU_V3)

/* Limits of the "sram-size" property. */
#define LPU_V3_SRAM_SIZE_MIN        (1ULL << 20)
#define LPU_V3_SRAM_SIZE_MAX        (16ULL << 30)

/*
 * Descriptors one timer callback may retire before it yields back to the
 * main loop, so a guest filling a ring cannot monopolise it.
 */
#define LPU_V3_RETIRE_BUDGET        64

/*
 * Largest device time (ns) a migration stream may carry: 146 years, which
 * QEMU_CLOCK_VIRTUAL never reaches, and far enough from INT64_MAX that
 * adding a descriptor's cost or a telemetry window cannot overflow.
 */
#define LPU_V3_TIME_MAX_NS          (INT64_MAX / 2)

/*
 * Bytes one timer callback may copy before it yields back to the main
 * loop: a 1 GiB COPY then holds the main loop for a few milliseconds at a
 * time, never for the whole transfer.
 */
#define LPU_V3_COPY_CHUNK           (4ULL << 20)
/* The same for the scrub engine; zeroing is cheaper than copying. */
#define LPU_V3_SCRUB_CHUNK          (16ULL << 20)

static inline bool lpu_v3_time_ok(int64_t ns)
{
    return ns >= 0 && ns <= LPU_V3_TIME_MAX_NS;
}

/* A segment table entry that passed validation (see lpu-v3-dma.c). */
typedef struct LpuV3Segment {
    uint64_t va;
    uint64_t size;
    uint64_t base;
    uint32_t kind;
} LpuV3Segment;

/* A descriptor that passed validation and occupies the queue's engine. */
typedef struct LpuV3Inflight {
    bool valid;
    uint8_t opcode;
    uint8_t flags;
    uint32_t slot;              /* FENCE */
    uint64_t seq;               /* FENCE */
    /*
     * COPY: the validated request, the two segments it runs in (the only
     * part of the table the copy still needs) and how many bytes have
     * moved so far.
     */
    uint64_t src;
    uint64_t dst;
    uint64_t size;
    uint64_t copied;
    LpuV3Segment src_seg;
    LpuV3Segment dst_seg;
    int64_t doorbell_ns;
    int64_t start_ns;
    int64_t done_ns;
} LpuV3Inflight;

/*
 * The EXEC on a queue's engine: the validated program (fetched once, so
 * the guest cannot change it under the engine), the segment table it was
 * checked against, and how far it has run. Migrates with the queue.
 */
typedef struct LpuV3Exec {
    uint64_t program;           /* device address it was fetched from */
    uint32_t insn_count;
    uint32_t seg_count;
    uint64_t stats;             /* device address of the stats record */
    uint64_t cycles;            /* modelled cost of the whole EXEC */
    uint32_t pc;                /* next instruction to run ... */
    uint64_t sub;               /* ... and its next chunk */
    uint32_t insns_bytes;       /* insn_count * LPU_INSN_SIZE, or 0 */
    uint8_t *insns;             /* the program, as fetched */
    LpuV3Segment segs[LPU_MAX_SEGMENTS];
    /*
     * EXPERT_FFN with BF16 or I8 weights: expert @wide_g of instruction
     * @wide_pc widened to binary32 (W13_g, then W2_g), so that its chunks
     * do not widen it again. Device scratch, not migrated: a chunk that
     * finds it missing (after a migration) rebuilds it first, with the
     * same result.
     */
    float *wide;
    bool wide_valid;
    uint32_t wide_pc;
    uint64_t wide_g;
    /* Why the program failed, until the main loop records it. */
    uint32_t fail_insn;
    uint32_t fail_reason;
    uint64_t fail_fault;
    const char *fail_why;
} LpuV3Exec;

/* The engine's cycle cost table (lpu_hw.h LPU_COST_*). */
typedef struct LpuV3Cost {
    uint32_t base[LPU_COST_COUNT];
    uint32_t rate[LPU_COST_COUNT];  /* units per cycle, never 0 */
} LpuV3Cost;

/* The running firmware's telemetry model (struct lpu_fw_thermal). */
typedef struct LpuV3Thermal {
    uint32_t temp_idle_mc;
    uint32_t temp_busy_mc;
    uint32_t power_idle_mw;
    uint32_t power_busy_mw;
    uint32_t clock_idle_mhz;
} LpuV3Thermal;

typedef struct LpuV3Queue {
    LpuV3State *dev;
    uint32_t index;
    QEMUTimer *timer;

    /*
     * The compute of EXEC steps runs in this thread, off the BQL, so the
     * main loop (and the vCPUs that wait for it) go on meanwhile. The
     * main loop hands it a step (wk_busy) and does not touch the EXEC
     * state until the step is done; the worker then sets wk_done and
     * schedules wk_bh, which goes on with the queue in the main loop.
     * Everything that changes the queue first waits until the worker is
     * idle (lpu_v3_worker_idle()). The worker never takes the BQL.
     */
    QemuThread wk_thread;
    QemuMutex wk_lock;
    QemuCond wk_cond;
    QEMUBH *wk_bh;
    VMChangeStateEntry *wk_vmstate;
    bool wk_busy;
    bool wk_done;
    bool wk_quit;
    uint64_t wk_budget;         /* in: the step's work, out: what is left */
    uint32_t wk_code;
    const char *wk_why;

    /* Configuration, writable only while the queue is disabled. */
    uint64_t ring_base;
    uint32_t ring_size;
    uint64_t fence_base;
    uint32_t fence_count;

    bool enabled;
    bool halted;
    uint32_t head;
    uint32_t tail;
    /* TAIL latched by the last doorbell: the device consumes up to here. */
    uint32_t visible_tail;
    uint32_t error;
    uint32_t error_head;
    uint32_t done;
    /* Q_FAULT_*: details of the LPU_ERR_FAULT that halted the queue. */
    uint64_t fault_addr;
    uint32_t fault_info;
    /* Q_EXEC_*: the LPU_ERR_EXEC that halted the queue. */
    uint32_t exec_insn;
    uint32_t exec_reason;

    /* Device time at which the engine finished its last descriptor. */
    int64_t engine_ns;
    LpuV3Inflight inflight;
    LpuV3Exec exec;             /* the EXEC, if inflight.opcode is EXEC */
    /*
     * Time of the doorbell that made each ring entry visible, for the
     * doorbell_ns of its fence record.
     */
    int64_t visible_ns[LPU_MAX_RING_ENTRIES];
} LpuV3Queue;

struct LpuV3State {
    PCIDevice parent_obj;

    MemoryRegion regs;
    MemoryRegion sram;
    uint64_t sram_size;

    uint32_t scratch;
    bool error_latched;
    uint32_t error_code;
    uint32_t error_queue;
    uint32_t irq_status;
    uint32_t irq_mask;

    /*
     * Firmware boot ROM and mailbox (lpu-v3-fw.c). Everything but the
     * properties and the key returns to ROM on a device reset.
     */
    char *fw_pubkey;            /* "fw-pubkey": DER RSAPublicKey file */
    bool fw_boot_hang;          /* "x-fw-boot-hang": BOOT never ends */
    QCryptoAkCipher *fw_key;    /* NULL without "fw-pubkey" */
    uint32_t fw_key_bytes;      /* its modulus size: the signature size */
    QEMUTimer *fw_timer;        /* ends BOOTING */
    int64_t fw_boot_ns;         /* ... at this device time */
    uint32_t fw_state;          /* LPU_FW_STATE_* */
    uint32_t fw_error;          /* LPU_FW_E_* and its details */
    uint32_t fw_expected;
    uint32_t fw_found;
    uint32_t fw_where;
    uint64_t fw_addr;
    uint32_t fw_size;
    /* The running firmware's (all 0 unless READY). */
    uint32_t fw_version;
    uint32_t fw_abi;
    uint32_t fw_num_queues;
    uint32_t fw_max_ring;
    uint32_t fw_sram_reserved;
    LpuV3Thermal fw_thermal;

    /* Telemetry */
    uint64_t busy_ns;
    uint64_t desc_done;
    uint32_t error_count;
    uint32_t busy_ns_hi_latch;
    uint32_t desc_done_hi_latch;
    int64_t window_index;        /* current telemetry window */
    int64_t window_busy_ns;      /* busy time retired in the current window */
    int64_t prev_window_busy_ns; /* ... and in the previous one */

    LpuV3Queue queues[LPU_NUM_QUEUES];

    /* SRAM scrub engine */
    QEMUTimer *scrub_timer;
    uint64_t scrub_offset;      /* SCRUB_OFFSET/SIZE registers */
    uint64_t scrub_size;
    bool scrub_busy;
    bool scrub_error;
    int64_t scrub_done_ns;      /* modelled end of the running scrub */
    uint64_t scrub_next;        /* next SRAM byte it zeroes ... */
    uint64_t scrub_end;         /* ... up to here */

    /* The tensor engine's cycle costs: the firmware's, all 0 without. */
    LpuV3Cost cost;

    /*
     * "x-exec-wait": the queue timer waits for the worker's EXEC step, as
     * if it had run the step itself. On by default under qtest, whose
     * virtual clock only moves when the test steps it: a clock step then
     * sees all the work of the timers it fires.
     */
    OnOffAuto exec_wait_prop;
    bool exec_wait;
};

/* lpu-v3.c */
void lpu_v3_raise_irq(LpuV3State *s, uint32_t bits);
void lpu_v3_latch_error(LpuV3State *s, unsigned qidx, uint32_t code);

/* SRAM that segments, COPY and scrubs may use: all but the firmware's. */
static inline uint64_t lpu_v3_sram_usable(const LpuV3State *s)
{
    return s->sram_size - s->fw_sram_reserved;
}

/* lpu-v3-fw.c */
bool lpu_v3_fw_realize(LpuV3State *s, Error **errp);
void lpu_v3_fw_exit(LpuV3State *s);
void lpu_v3_fw_finalize(LpuV3State *s);
void lpu_v3_fw_reset(LpuV3State *s);
bool lpu_v3_fw_read(LpuV3State *s, hwaddr addr, uint32_t *val);
bool lpu_v3_fw_write(LpuV3State *s, hwaddr addr, uint32_t val);
const char *lpu_v3_fw_check_state(const LpuV3State *s);
void lpu_v3_fw_post_load(LpuV3State *s);

static inline bool lpu_v3_fw_ready(const LpuV3State *s)
{
    return s->fw_state == LPU_FW_STATE_READY;
}

/* lpu-v3-queue.c */
void lpu_v3_queue_init(LpuV3State *s, unsigned qidx);
void lpu_v3_queue_finalize(LpuV3Queue *q);
void lpu_v3_queue_reset(LpuV3Queue *q);
bool lpu_v3_queue_busy(const LpuV3Queue *q);
uint32_t lpu_v3_queue_read(LpuV3Queue *q, hwaddr offset);
void lpu_v3_queue_write(LpuV3Queue *q, hwaddr offset, uint32_t val);
const char *lpu_v3_queue_check_state(const LpuV3Queue *q);
void lpu_v3_queue_post_load(LpuV3Queue *q);
extern const VMStateDescription vmstate_lpu_v3_queue;
extern const VMStateDescription vmstate_lpu_v3_segment;

/* lpu-v3-dma.c */
const char *lpu_v3_segment_error(const LpuV3State *s, const LpuV3Segment *seg);
uint32_t lpu_v3_read_table(LpuV3Queue *q, uint64_t table, uint32_t count,
                           LpuV3Segment *segs, const char **why);
const LpuV3Segment *lpu_v3_seg_find(const LpuV3Segment *segs, uint32_t count,
                                    uint64_t addr);
bool lpu_v3_seg_holds(const LpuV3Segment *seg, uint64_t addr, uint64_t size);
uint32_t lpu_v3_check_pages(LpuV3State *s, const LpuV3Segment *seg,
                            uint64_t off, uint64_t size, const char **why);
uint32_t lpu_v3_seg_move(LpuV3State *s, const LpuV3Segment *sseg,
                         uint64_t soff, const LpuV3Segment *dseg,
                         uint64_t doff, uint64_t n, const char **why);
uint32_t lpu_v3_seg_access(LpuV3State *s, const LpuV3Segment *seg,
                           uint64_t off, void *buf, uint64_t len, bool write,
                           const char **why);
uint32_t lpu_v3_copy_prepare(LpuV3Queue *q, const struct lpu_desc_copy *d,
                             const char **why);
uint32_t lpu_v3_copy_run(LpuV3Queue *q, uint64_t *budget, const char **why);
int64_t lpu_v3_copy_ns(uint64_t size);
const char *lpu_v3_copy_check_state(const LpuV3Queue *q);

/* lpu-v3-insn.c (the rest of its interface is lpu-v3-insn.h) */
void lpu_v3_cost_reset(LpuV3State *s);
const char *lpu_v3_cost_error(const LpuV3Cost *c, unsigned *cls,
                              bool *rate);
const char *lpu_v3_cost_check_state(const LpuV3State *s);

/* lpu-v3-exec.c */
uint32_t lpu_v3_exec_prepare(LpuV3Queue *q, const struct lpu_desc_exec *d,
                             const char **why);
int64_t lpu_v3_exec_ns(const LpuV3Queue *q);
uint32_t lpu_v3_exec_run(LpuV3Queue *q, bool worker, uint64_t *budget,
                         const char **why);
bool lpu_v3_exec_next_in_worker(const LpuV3Queue *q);
uint32_t lpu_v3_exec_refused(LpuV3Queue *q, const char **why);
bool lpu_v3_exec_done(const LpuV3Queue *q);
uint32_t lpu_v3_exec_finish(LpuV3Queue *q, const char **why);
void lpu_v3_exec_clear(LpuV3Queue *q);
const char *lpu_v3_exec_check_state(const LpuV3Queue *q);
extern const VMStateDescription vmstate_lpu_v3_exec;

/* lpu-v3-scrub.c */
void lpu_v3_scrub_init(LpuV3State *s);
void lpu_v3_scrub_finalize(LpuV3State *s);
void lpu_v3_scrub_reset(LpuV3State *s);
bool lpu_v3_scrub_read(LpuV3State *s, hwaddr addr, uint32_t *val);
bool lpu_v3_scrub_write(LpuV3State *s, hwaddr addr, uint32_t val);
const char *lpu_v3_scrub_check_state(const LpuV3State *s);
void lpu_v3_scrub_post_load(LpuV3State *s);

/* lpu-v3-telemetry.c */
void lpu_v3_telemetry_reset(LpuV3State *s);
void lpu_v3_telemetry_retire(LpuV3State *s, int64_t start_ns, int64_t done_ns);
bool lpu_v3_telemetry_read(LpuV3State *s, hwaddr addr, uint32_t *val);
const char *lpu_v3_telemetry_check_state(const LpuV3State *s);

#endif
