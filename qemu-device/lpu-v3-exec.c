/*
 * LPU v3 inference accelerator: the tensor engine (EXEC descriptors)
 *
 * An EXEC runs a program of struct lpu_insn whose operands are device
 * addresses in the descriptor's segment table. The engine checks the
 * descriptor, fetches the whole program into the device (so the guest
 * cannot change it under the engine) and validates every instruction
 * before the first one runs: a refused program changes no byte anywhere.
 *
 * It then runs from the queue's timer, never on the vCPU: each instruction
 * is cut into chunks of bounded work (a block of rows, an expert's slots,
 * some megabytes of a copy), a callback runs chunks until its work budget
 * is used, and the position (instruction, chunk) is all the state that
 * carries over between callbacks, so a queue or device reset stops the
 * program between two chunks and a migration resumes it at the next one.
 * The arithmetic is in lpu-v3-tensor.c; this file decodes, validates,
 * plans chunks, costs and steps.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <math.h>
#include "qemu/bswap.h"
#include "qemu/cutils.h"
#include "qemu/host-utils.h"
#include "qemu/log.h"
#include "exec/memory.h"
#include "migration/vmstate.h"
#include "lpu-v3.h"
#include "lpu-v3-tensor.h"
#include "trace.h"

QEMU_BUILD_BUG_ON(sizeof(struct lpu_insn) != LPU_INSN_SIZE);
QEMU_BUILD_BUG_ON(sizeof(struct lpu_exec_stats) != LPU_EXEC_STATS_SIZE);
QEMU_BUILD_BUG_ON(sizeof(struct lpu_cost) != 8);

#define LPU_V3_MAX_OPS          5

/* What an instruction does with an operand. */
enum {
    LPU_V3_IN,          /* read */
    LPU_V3_OUT,         /* written */
    LPU_V3_OUT_SAME,    /* written, may be the very same range as an input */
    LPU_V3_INOUT,       /* read and written (COMBINE's out) */
};

/* A decoded instruction that passed validation. */
typedef struct LpuV3Insn {
    uint8_t opcode;
    uint8_t dtype;
    uint16_t flags;
    uint32_t dim[5];
    uint64_t op[LPU_V3_MAX_OPS];
    uint64_t bytes[LPU_V3_MAX_OPS];     /* size of each operand's tensor */
    uint8_t role[LPU_V3_MAX_OPS];
    unsigned nops;                      /* op[0..nops) are used */
    /* Where each operand lives: its segment, and its offset in SRAM. */
    const LpuV3Segment *seg[LPU_V3_MAX_OPS];
    uint64_t sram[LPU_V3_MAX_OPS];
    unsigned cost_class;
    uint64_t units;                     /* cost units */
} LpuV3Insn;

/* ---- cost table ----------------------------------------------------- */

void lpu_v3_cost_reset(LpuV3State *s)
{
    static const struct lpu_cost defaults[LPU_COST_COUNT] = LPU_COST_DEFAULTS;
    unsigned i;

    for (i = 0; i < LPU_COST_COUNT; i++) {
        s->cost.base[i] = le32_to_cpu(defaults[i].base_cycles);
        s->cost.rate[i] = le32_to_cpu(defaults[i].units_per_cycle);
    }
}

const char *lpu_v3_cost_check_state(const LpuV3State *s)
{
    unsigned i;

    for (i = 0; i < LPU_COST_COUNT; i++) {
        if (!s->cost.rate[i]) {
            return "cost table rate is 0";
        }
    }
    return NULL;
}

static uint64_t lpu_v3_sat_mul(uint64_t a, uint64_t b)
{
    uint64_t r;

    return umul64_overflow(a, b, &r) ? UINT64_MAX : r;
}

static uint64_t lpu_v3_sat_add(uint64_t a, uint64_t b)
{
    uint64_t r;

    return uadd64_overflow(a, b, &r) ? UINT64_MAX : r;
}

/* base + ceil(units / rate) cycles of class @c. */
static uint64_t lpu_v3_cost(const LpuV3State *s, unsigned c, uint64_t units)
{
    uint64_t rate = s->cost.rate[c];

    return lpu_v3_sat_add(s->cost.base[c],
                          units / rate + (units % rate != 0));
}

/* Device time of @cycles, saturated far beyond any real program. */
static int64_t lpu_v3_cycles_ns(uint64_t cycles)
{
    return MIN(cycles, (uint64_t)LPU_V3_TIME_MAX_NS / 2) * 1000 /
           LPU_CLOCK_MHZ;
}

/* ---- decoding and validation ---------------------------------------- */

static uint64_t lpu_v3_weight_bytes(unsigned dtype, uint64_t g, uint64_t n,
                                    uint64_t k)
{
    uint64_t elems = lpu_v3_sat_mul(lpu_v3_sat_mul(g, n), k);

    switch (dtype) {
    case LPU_DT_F32:
        return lpu_v3_sat_mul(elems, 4);
    case LPU_DT_BF16:
        return lpu_v3_sat_mul(elems, 2);
    default:
        /* LPU_QBLOCK_SIZE(), without its overflow */
        return lpu_v3_sat_add(lpu_v3_sat_add(elems, LPU_EXEC_ALIGN - 1) &
                              ~(uint64_t)(LPU_EXEC_ALIGN - 1),
                              lpu_v3_sat_mul(lpu_v3_sat_mul(g, n), 4));
    }
}

/* Byte offset of the scales in an I8 weight block of logical [g, n, k]. */
static uint64_t lpu_v3_qblock_scales(uint64_t g, uint64_t n, uint64_t k)
{
    return LPU_QBLOCK_SCALES_OFFSET(g, n, k);
}

static uint64_t lpu_v3_routing_bytes(uint64_t e, uint64_t c)
{
    return lpu_v3_sat_add(lpu_v3_sat_mul(lpu_v3_sat_mul(e, c), 8),
                          lpu_v3_sat_mul(e, 8));
}

static void lpu_v3_operand(LpuV3Insn *in, unsigned i, uint64_t bytes,
                           unsigned role)
{
    in->bytes[i] = bytes;
    in->role[i] = role;
}

/* Bit of each dtype an opcode accepts. */
#define DT(d)               (1u << (d))
#define DT_WEIGHTS          (DT(LPU_DT_F32) | DT(LPU_DT_BF16) | DT(LPU_DT_I8))

/*
 * The opcode's shape rules and its operands' sizes; returns an
 * LPU_EXEC_E_* reason, or 0. Fields were checked against the opcode's
 * layout already.
 */
static uint32_t lpu_v3_insn_shape(LpuV3Insn *in)
{
    const uint32_t *d = in->dim;
    uint64_t f4 = 4;

    switch (in->opcode) {
    case LPU_INSN_COPY:
        if (!d[0] || d[0] > LPU_COPY_MAX_SIZE) {
            return LPU_EXEC_E_SHAPE;
        }
        lpu_v3_operand(in, 0, d[0], LPU_V3_IN);
        lpu_v3_operand(in, 1, d[0], LPU_V3_OUT);
        in->cost_class = LPU_COST_COPY;
        in->units = d[0];
        return 0;
    case LPU_INSN_RMSNORM: {
        float eps;

        memcpy(&eps, &d[2], sizeof(eps));
        if (!isfinite(eps) || eps < 0) {
            return LPU_EXEC_E_SHAPE;
        }
        break;
    }
    case LPU_INSN_TOPK:
        if (d[2] > MIN(d[1], LPU_EXEC_MAX_TOPK)) {
            return LPU_EXEC_E_SHAPE;
        }
        break;
    case LPU_INSN_DISPATCH:
        if (d[3] > MIN(d[2], LPU_EXEC_MAX_TOPK)) {
            return LPU_EXEC_E_SHAPE;
        }
        break;
    }

    switch (in->opcode) {
    case LPU_INSN_MATMUL: {
        uint64_t m = d[0], n = d[1], k = d[2], g = d[3];
        uint64_t macs = lpu_v3_sat_mul(lpu_v3_sat_mul(g, m),
                                       lpu_v3_sat_mul(n, k));

        if (macs > LPU_EXEC_MAX_MACS) {
            return LPU_EXEC_E_LIMIT;
        }
        lpu_v3_operand(in, 0, g * m * k * f4, LPU_V3_IN);
        lpu_v3_operand(in, 1, lpu_v3_weight_bytes(in->dtype, g, n, k),
                       LPU_V3_IN);
        lpu_v3_operand(in, 2, g * m * n * f4, LPU_V3_OUT);
        in->cost_class = LPU_COST_MATMUL_F32 + in->dtype - LPU_DT_F32;
        in->units = macs;
        break;
    }
    case LPU_INSN_EXPERT_FFN: {
        uint64_t g = d[0], c = d[1], h = d[2], f = d[3];
        uint64_t macs = lpu_v3_sat_mul(lpu_v3_sat_mul(g * c, 3),
                                       lpu_v3_sat_mul(h, f));

        if (macs > LPU_EXEC_MAX_MACS) {
            return LPU_EXEC_E_LIMIT;
        }
        lpu_v3_operand(in, 0, g * c * h * f4, LPU_V3_IN);
        lpu_v3_operand(in, 1, lpu_v3_weight_bytes(in->dtype, g, 2 * f, h),
                       LPU_V3_IN);
        lpu_v3_operand(in, 2, lpu_v3_weight_bytes(in->dtype, g, h, f),
                       LPU_V3_IN);
        lpu_v3_operand(in, 3, g * c * h * f4, LPU_V3_OUT);
        if (in->op[4]) {
            lpu_v3_operand(in, 4, lpu_v3_routing_bytes(g, c), LPU_V3_IN);
        } else {
            in->nops = 4;
        }
        in->cost_class = LPU_COST_FFN_F32 + in->dtype - LPU_DT_F32;
        in->units = macs;
        break;
    }
    case LPU_INSN_ADD:
    case LPU_INSN_MUL:
    case LPU_INSN_SWIGLU:
        lpu_v3_operand(in, 0, d[0] * f4, LPU_V3_IN);
        lpu_v3_operand(in, 1, d[0] * f4, LPU_V3_IN);
        lpu_v3_operand(in, 2, d[0] * f4, LPU_V3_OUT_SAME);
        in->cost_class = LPU_COST_ELEMENTWISE;
        in->units = d[0];
        break;
    case LPU_INSN_SILU:
        lpu_v3_operand(in, 0, d[0] * f4, LPU_V3_IN);
        lpu_v3_operand(in, 1, d[0] * f4, LPU_V3_OUT_SAME);
        in->cost_class = LPU_COST_ELEMENTWISE;
        in->units = d[0];
        break;
    case LPU_INSN_RMSNORM:
        lpu_v3_operand(in, 0, (uint64_t)d[0] * d[1] * f4, LPU_V3_IN);
        lpu_v3_operand(in, 1, d[1] * f4, LPU_V3_IN);
        lpu_v3_operand(in, 2, (uint64_t)d[0] * d[1] * f4, LPU_V3_OUT_SAME);
        in->cost_class = LPU_COST_RMSNORM;
        in->units = (uint64_t)d[0] * d[1];
        break;
    case LPU_INSN_SOFTMAX:
        lpu_v3_operand(in, 0, (uint64_t)d[0] * d[1] * f4, LPU_V3_IN);
        lpu_v3_operand(in, 1, (uint64_t)d[0] * d[1] * f4, LPU_V3_OUT_SAME);
        in->cost_class = LPU_COST_SOFTMAX;
        in->units = (uint64_t)d[0] * d[1];
        break;
    case LPU_INSN_TOPK:
        lpu_v3_operand(in, 0, (uint64_t)d[0] * d[1] * f4, LPU_V3_IN);
        lpu_v3_operand(in, 1, (uint64_t)d[0] * d[2] * f4, LPU_V3_OUT);
        lpu_v3_operand(in, 2, (uint64_t)d[0] * d[2] * f4, LPU_V3_OUT);
        in->cost_class = LPU_COST_TOPK;
        in->units = (uint64_t)d[0] * d[1];
        break;
    case LPU_INSN_DISPATCH: {
        uint64_t t = d[0], h = d[1], e = d[2], k = d[3], c = d[4];

        lpu_v3_operand(in, 0, t * h * f4, LPU_V3_IN);
        lpu_v3_operand(in, 1, t * k * f4, LPU_V3_IN);
        lpu_v3_operand(in, 2, t * k * f4, LPU_V3_IN);
        lpu_v3_operand(in, 3, e * c * h * f4, LPU_V3_OUT);
        lpu_v3_operand(in, 4, lpu_v3_routing_bytes(e, c), LPU_V3_OUT);
        in->cost_class = LPU_COST_DISPATCH;
        in->units = e * c * h;
        break;
    }
    case LPU_INSN_COMBINE: {
        uint64_t t = d[0], h = d[1], e = d[2], c = d[3];

        lpu_v3_operand(in, 0, e * c * h * f4, LPU_V3_IN);
        lpu_v3_operand(in, 1, lpu_v3_routing_bytes(e, c), LPU_V3_IN);
        lpu_v3_operand(in, 2, t * h * f4, LPU_V3_INOUT);
        in->cost_class = LPU_COST_COMBINE;
        in->units = e * c * h;
        break;
    }
    }
    return 0;
}

static bool lpu_v3_overlap(uint64_t a, uint64_t alen, uint64_t b,
                           uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

/*
 * Decode @raw and validate it against the segment table; returns 0 or an
 * LPU_EXEC_E_* reason (with *@fault the operand of LPU_EXEC_E_OPERAND).
 * The checks run in the order of the reasons' documentation in
 * uapi/lpu_hw.md: opcode, flags, reserved fields, dtype, shape, limit,
 * alignment, operands, aliasing.
 */
static uint32_t lpu_v3_insn_decode(const LpuV3Segment *segs, uint32_t nsegs,
                                   const struct lpu_insn *raw, LpuV3Insn *in,
                                   uint64_t *fault)
{
    unsigned ndims, i, j, dtypes, flags = 0;
    uint32_t reason;

    memset(in, 0, sizeof(*in));
    in->opcode = raw->opcode;
    in->dtype = raw->dtype;
    in->flags = le16_to_cpu(raw->flags);
    for (i = 0; i < 5; i++) {
        in->dim[i] = le32_to_cpu(raw->dim[i]);
        in->op[i] = le64_to_cpu(raw->op[i]);
    }

    switch (in->opcode) {
    case LPU_INSN_COPY:
        ndims = 1, in->nops = 2, dtypes = DT(LPU_DT_NONE);
        break;
    case LPU_INSN_MATMUL:
        ndims = 4, in->nops = 3, dtypes = DT_WEIGHTS;
        break;
    case LPU_INSN_EXPERT_FFN:
        ndims = 4, in->nops = 5, dtypes = DT_WEIGHTS;
        break;
    case LPU_INSN_ADD:
    case LPU_INSN_MUL:
    case LPU_INSN_SWIGLU:
        ndims = 1, in->nops = 3, dtypes = DT(LPU_DT_F32);
        break;
    case LPU_INSN_SILU:
        ndims = 1, in->nops = 2, dtypes = DT(LPU_DT_F32);
        break;
    case LPU_INSN_RMSNORM:
        ndims = 3, in->nops = 3, dtypes = DT(LPU_DT_F32);
        break;
    case LPU_INSN_SOFTMAX:
        ndims = 2, in->nops = 2, dtypes = DT(LPU_DT_F32);
        break;
    case LPU_INSN_TOPK:
        ndims = 3, in->nops = 3, dtypes = DT(LPU_DT_F32);
        flags = LPU_TOPK_SIGMOID | LPU_TOPK_RENORM;
        break;
    case LPU_INSN_DISPATCH:
        ndims = 5, in->nops = 5, dtypes = DT(LPU_DT_F32);
        break;
    case LPU_INSN_COMBINE:
        ndims = 4, in->nops = 3, dtypes = DT(LPU_DT_F32);
        break;
    default:
        return LPU_EXEC_E_OPCODE;
    }
    if (in->flags & ~flags) {
        return LPU_EXEC_E_FLAGS;
    }
    for (i = ndims; i < 5; i++) {
        if (in->dim[i]) {
            return LPU_EXEC_E_RESERVED;
        }
    }
    for (i = in->nops; i < LPU_V3_MAX_OPS; i++) {
        if (in->op[i]) {
            return LPU_EXEC_E_RESERVED;
        }
    }
    if (in->dtype >= 32 || !(dtypes & DT(in->dtype))) {
        return LPU_EXEC_E_DTYPE;
    }
    for (i = 0; i < ndims; i++) {
        /* COPY's byte count and RMSNORM's epsilon are no dimensions. */
        if ((in->opcode == LPU_INSN_COPY && i == 0) ||
            (in->opcode == LPU_INSN_RMSNORM && i == 2)) {
            continue;
        }
        if (!in->dim[i] || in->dim[i] > LPU_EXEC_MAX_DIM) {
            return LPU_EXEC_E_SHAPE;
        }
    }
    reason = lpu_v3_insn_shape(in);
    if (reason) {
        return reason;
    }

    for (i = 0; i < in->nops; i++) {
        if (in->op[i] & (LPU_EXEC_ALIGN - 1)) {
            return LPU_EXEC_E_ALIGN;
        }
    }
    for (i = 0; i < in->nops; i++) {
        const LpuV3Segment *seg = lpu_v3_seg_find(segs, nsegs, in->op[i]);

        /* No segment is larger than LPU_SEG_MAX_SIZE, so no tensor is. */
        if (!seg || in->bytes[i] > LPU_SEG_MAX_SIZE ||
            !lpu_v3_seg_holds(seg, in->op[i], in->bytes[i]) ||
            (seg->kind != LPU_SEG_SRAM && in->opcode != LPU_INSN_COPY)) {
            *fault = in->op[i];
            return LPU_EXEC_E_OPERAND;
        }
        in->seg[i] = seg;
        in->sram[i] = seg->base + (in->op[i] - seg->va);
    }

    /*
     * Overlap is judged where the bytes are: in SRAM for compute operands
     * (two segments may map the same SRAM), in device address space for
     * COPY, whose memmove copes with either.
     */
    for (i = 0; i < in->nops; i++) {
        uint64_t a = in->opcode == LPU_INSN_COPY ? in->op[i] : in->sram[i];

        if (in->role[i] == LPU_V3_IN) {
            continue;
        }
        for (j = 0; j < in->nops; j++) {
            uint64_t b = in->opcode == LPU_INSN_COPY ? in->op[j] : in->sram[j];

            if (j == i || !lpu_v3_overlap(a, in->bytes[i], b, in->bytes[j])) {
                continue;
            }
            if (in->role[i] == LPU_V3_OUT_SAME && in->role[j] == LPU_V3_IN &&
                a == b && in->bytes[i] == in->bytes[j]) {
                continue;
            }
            return LPU_EXEC_E_ALIAS;
        }
    }
    return 0;
}

static const struct lpu_insn *lpu_v3_exec_insn(const LpuV3Exec *x,
                                               uint32_t pc)
{
    return (const struct lpu_insn *)(x->insns + (uint64_t)pc * LPU_INSN_SIZE);
}

/* ---- chunk plans ------------------------------------------------------ */

static uint64_t lpu_v3_div_up(uint64_t a, uint64_t b)
{
    return a / b + (a % b != 0);
}

static uint64_t lpu_v3_clamp(uint64_t v, uint64_t lo, uint64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Rows of @n elements that make one chunk of a row-wise op of @m rows. */
static uint64_t lpu_v3_rows_per_chunk(uint64_t m, uint64_t n)
{
    return lpu_v3_clamp(LPU_V3_EXEC_STEP_WORK / LPU_V3_EXEC_ELEM_WORK / n,
                        1, m);
}

/*
 * How an instruction is cut. MATMUL: per batch, blocks of @rows rows of
 * out and @cols columns; EXPERT_FFN: per expert, blocks of @rows slots;
 * row-wise ops: blocks of @rows rows; DISPATCH and COMBINE: one chunk
 * for the routing table, then blocks of @rows slots; COPY: blocks of
 * @rows bytes.
 */
typedef struct LpuV3Plan {
    uint64_t rows;
    uint64_t cols;
    uint64_t row_chunks;
    uint64_t col_chunks;
    uint64_t chunks;
} LpuV3Plan;

static void lpu_v3_plan(const LpuV3Insn *in, LpuV3Plan *p)
{
    const uint32_t *d = in->dim;
    uint64_t n = 1, m = 1;

    memset(p, 0, sizeof(*p));
    p->cols = 1;
    p->col_chunks = 1;
    switch (in->opcode) {
    case LPU_INSN_COPY:
        p->rows = LPU_V3_EXEC_STEP_WORK / LPU_V3_EXEC_BYTE_WORK;
        m = d[0];
        break;
    case LPU_INSN_MATMUL: {
        uint64_t nk = (uint64_t)d[1] * d[2];

        p->rows = lpu_v3_clamp(LPU_V3_EXEC_STEP_WORK / nk, 1, d[0]);
        p->cols = p->rows > 1 ? d[1] :
                  lpu_v3_clamp(LPU_V3_EXEC_STEP_WORK / d[2], 1, d[1]);
        p->row_chunks = lpu_v3_div_up(d[0], p->rows);
        p->col_chunks = lpu_v3_div_up(d[1], p->cols);
        p->chunks = d[3] * p->row_chunks * p->col_chunks;
        return;
    }
    case LPU_INSN_EXPERT_FFN: {
        uint64_t row_macs = 3 * (uint64_t)d[2] * d[3];
        uint64_t row_scratch = 2 * (uint64_t)d[2] + 3 * (uint64_t)d[3];

        p->rows = lpu_v3_clamp(LPU_V3_EXEC_STEP_WORK / row_macs, 1, d[1]);
        p->rows = MIN(p->rows, MAX(4 * LPU_V3_TENSOR_SCRATCH / row_scratch,
                                   1));
        p->row_chunks = lpu_v3_div_up(d[1], p->rows);
        p->chunks = d[0] * p->row_chunks;
        return;
    }
    case LPU_INSN_ADD:
    case LPU_INSN_MUL:
    case LPU_INSN_SILU:
    case LPU_INSN_SWIGLU:
        m = d[0];
        p->rows = lpu_v3_rows_per_chunk(m, 1);
        break;
    case LPU_INSN_RMSNORM:
    case LPU_INSN_SOFTMAX:
    case LPU_INSN_TOPK:
        m = d[0];
        n = d[1];
        p->rows = lpu_v3_rows_per_chunk(m, n);
        break;
    case LPU_INSN_DISPATCH:
    case LPU_INSN_COMBINE: {
        uint64_t e = d[2], h = d[1];
        uint64_t c = in->opcode == LPU_INSN_DISPATCH ? d[4] : d[3];

        m = e * c;
        p->rows = lpu_v3_rows_per_chunk(m, h);
        p->row_chunks = lpu_v3_div_up(m, p->rows);
        p->chunks = 1 + p->row_chunks;
        return;
    }
    }
    p->row_chunks = lpu_v3_div_up(m, p->rows);
    p->chunks = p->row_chunks;
}

/* ---- running ---------------------------------------------------------- */

/* Host pointer to operand @i (validated: inside SRAM). */
static void *lpu_v3_ptr(LpuV3State *s, const LpuV3Insn *in, unsigned i)
{
    return (uint8_t *)memory_region_get_ram_ptr(&s->sram) + in->sram[i];
}

/* The engine wrote [off, off + len) of operand @i: tell migration. */
static void lpu_v3_dirty(LpuV3State *s, const LpuV3Insn *in, unsigned i,
                         uint64_t off, uint64_t len)
{
    memory_region_set_dirty(&s->sram, in->sram[i] + off, len);
}

/* Weight matrix @g of a [G, n, k] weight operand, and its scales. */
static const void *lpu_v3_weights(LpuV3State *s, const LpuV3Insn *in,
                                  unsigned i, uint64_t groups, uint64_t g,
                                  uint64_t row, uint64_t n, uint64_t k,
                                  const float **scales)
{
    const uint8_t *w = lpu_v3_ptr(s, in, i);
    uint64_t first = g * n + row;       /* first row wanted */

    *scales = NULL;
    switch (in->dtype) {
    case LPU_DT_F32:
        return w + first * k * 4;
    case LPU_DT_BF16:
        return w + first * k * 2;
    default:
        *scales = (const float *)(w + lpu_v3_qblock_scales(groups, n, k)) +
                  first;
        return w + first * k;
    }
}

static void lpu_v3_run_matmul(LpuV3State *s, const LpuV3Insn *in,
                              const LpuV3Plan *p, uint64_t sub,
                              uint64_t *work)
{
    uint64_t m = in->dim[0], n = in->dim[1], k = in->dim[2];
    uint64_t g_count = in->dim[3];
    uint64_t per_g = p->row_chunks * p->col_chunks;
    uint64_t g = sub / per_g;
    uint64_t m0 = (sub % per_g) / p->col_chunks * p->rows;
    uint64_t n0 = (sub % per_g) % p->col_chunks * p->cols;
    uint64_t mm = MIN(p->rows, m - m0), nn = MIN(p->cols, n - n0);
    const float *a = (const float *)lpu_v3_ptr(s, in, 0) + (g * m + m0) * k;
    float *out = (float *)lpu_v3_ptr(s, in, 2) + (g * m + m0) * n + n0;
    const float *sw;
    const void *w = lpu_v3_weights(s, in, 1, g_count, g, n0, n, k, &sw);

    lpu_v3_matmul(in->dtype, a, mm, k, w, sw, nn, out, n);
    lpu_v3_dirty(s, in, 2, ((g * m + m0) * n) * 4, mm * n * 4);
    *work = mm * nn * k;
}

static void lpu_v3_run_ffn(LpuV3State *s, const LpuV3Insn *in,
                           const LpuV3Plan *p, uint64_t sub, uint64_t *work)
{
    uint64_t groups = in->dim[0], c = in->dim[1], h = in->dim[2];
    uint64_t f = in->dim[3];
    uint64_t g = sub / p->row_chunks;
    uint64_t c0 = sub % p->row_chunks * p->rows;
    uint64_t cc = MIN(p->rows, c - c0), na = 0, r;
    const float *x = (const float *)lpu_v3_ptr(s, in, 0) + g * c * h;
    float *out = (float *)lpu_v3_ptr(s, in, 3) + g * c * h;
    const int32_t *token = in->nops > 4 ?
                           (const int32_t *)lpu_v3_ptr(s, in, 4) + g * c :
                           NULL;
    g_autofree uint64_t *rows = g_new(uint64_t, cc);
    g_autofree float *xs = NULL;
    g_autofree float *ys = NULL;
    const float *s13, *s2;
    const void *w13 = lpu_v3_weights(s, in, 1, groups, g, 0, 2 * f, h, &s13);
    const void *w2 = lpu_v3_weights(s, in, 2, groups, g, 0, h, f, &s2);

    /* Slots without a token are zeroes, never computed. */
    for (r = c0; r < c0 + cc; r++) {
        if (token && (int32_t)le32_to_cpu(token[r]) == -1) {
            memset(out + r * h, 0, h * 4);
        } else {
            rows[na++] = r;
        }
    }
    if (na) {
        xs = g_new(float, na * h);
        ys = g_new(float, na * h);
        for (r = 0; r < na; r++) {
            memcpy(xs + r * h, x + rows[r] * h, h * 4);
        }
        lpu_v3_ffn(in->dtype, xs, na, h, f, w13, s13, w2, s2, ys);
        for (r = 0; r < na; r++) {
            memcpy(out + rows[r] * h, ys + r * h, h * 4);
        }
    }
    lpu_v3_dirty(s, in, 3, (g * c + c0) * h * 4, cc * h * 4);
    *work = cc * 3 * h * f;
}

static void lpu_v3_run_rows(LpuV3State *s, const LpuV3Insn *in,
                            const LpuV3Plan *p, uint64_t sub, uint64_t *work)
{
    uint64_t m = in->dim[0], r0 = sub * p->rows, rr = MIN(p->rows, m - r0);
    uint64_t n = in->dim[1], r;
    const float *x = (const float *)lpu_v3_ptr(s, in, 0) + r0 * n;
    g_autofree double *e = NULL;

    switch (in->opcode) {
    case LPU_INSN_RMSNORM: {
        const float *gamma = lpu_v3_ptr(s, in, 1);
        float *out = (float *)lpu_v3_ptr(s, in, 2) + r0 * n;
        float eps;

        memcpy(&eps, &in->dim[2], sizeof(eps));
        for (r = 0; r < rr; r++) {
            lpu_v3_rmsnorm_row(x + r * n, gamma, out + r * n, n, eps);
        }
        lpu_v3_dirty(s, in, 2, r0 * n * 4, rr * n * 4);
        break;
    }
    case LPU_INSN_SOFTMAX: {
        float *out = (float *)lpu_v3_ptr(s, in, 1) + r0 * n;

        e = g_new(double, n);
        for (r = 0; r < rr; r++) {
            lpu_v3_softmax_row(x + r * n, out + r * n, n, e);
        }
        lpu_v3_dirty(s, in, 1, r0 * n * 4, rr * n * 4);
        break;
    }
    case LPU_INSN_TOPK: {
        uint64_t k = in->dim[2];
        int32_t *idx = (int32_t *)lpu_v3_ptr(s, in, 1) + r0 * k;
        float *w = (float *)lpu_v3_ptr(s, in, 2) + r0 * k;
        g_autofree float *sc = g_new(float, n);
        g_autofree uint8_t *chosen = g_malloc0(n);

        e = g_new(double, n);
        for (r = 0; r < rr; r++) {
            lpu_v3_topk_row(x + r * n, n, k, in->flags, idx + r * k,
                            w + r * k, sc, e, chosen);
        }
        lpu_v3_dirty(s, in, 1, r0 * k * 4, rr * k * 4);
        lpu_v3_dirty(s, in, 2, r0 * k * 4, rr * k * 4);
        break;
    }
    }
    *work = rr * n * LPU_V3_EXEC_ELEM_WORK;
}

static void lpu_v3_run_elementwise(LpuV3State *s, const LpuV3Insn *in,
                                   uint64_t *work)
{
    uint64_t n = in->dim[0];
    const float *a = lpu_v3_ptr(s, in, 0);
    const float *b = in->nops > 2 ? lpu_v3_ptr(s, in, 1) : NULL;
    unsigned o = in->nops - 1;
    float *out = lpu_v3_ptr(s, in, o);

    switch (in->opcode) {
    case LPU_INSN_ADD:
        lpu_v3_add(a, b, out, n);
        break;
    case LPU_INSN_MUL:
        lpu_v3_mul(a, b, out, n);
        break;
    case LPU_INSN_SILU:
        lpu_v3_silu_vec(a, out, n);
        break;
    case LPU_INSN_SWIGLU:
        lpu_v3_swiglu(a, b, out, n);
        break;
    }
    lpu_v3_dirty(s, in, o, 0, n * 4);
    *work = n * LPU_V3_EXEC_ELEM_WORK;
}

/* The routing table of E experts with C slots each, in SRAM. */
typedef struct LpuV3Routing {
    int32_t *token;             /* [E][C] */
    float *weight;              /* [E][C] */
    int32_t *load;              /* [E] */
    int32_t *dropped;           /* [E] */
} LpuV3Routing;

static void lpu_v3_routing(void *base, uint64_t e, uint64_t c,
                           LpuV3Routing *rt)
{
    rt->token = base;
    rt->weight = (float *)(rt->token + e * c);
    rt->load = (int32_t *)(rt->weight + e * c);
    rt->dropped = rt->load + e;
}

/*
 * DISPATCH chunk 0: assign every (token, rank) to its expert's next slot
 * and write the routing table. Every index is checked before anything is
 * written, so an index out of range leaves the outputs alone (unless the
 * guest changes the indices while the engine reads them: then they are
 * checked again as they are used, and the instruction fails part way).
 */
static uint32_t lpu_v3_dispatch_assign(LpuV3State *s, const LpuV3Insn *in,
                                       uint64_t *work)
{
    uint64_t t_count = in->dim[0], e_count = in->dim[2];
    uint64_t k = in->dim[3], c = in->dim[4], i, n = t_count * k;
    const int32_t *idx = lpu_v3_ptr(s, in, 1);
    const float *wt = lpu_v3_ptr(s, in, 2);
    g_autofree uint32_t *load = g_new0(uint32_t, e_count);
    g_autofree uint32_t *dropped = g_new0(uint32_t, e_count);
    LpuV3Routing rt;
    int32_t e;

    for (i = 0; i < n; i++) {
        e = le32_to_cpu(idx[i]);
        if (e < 0 || e >= e_count) {
            return LPU_EXEC_E_INDEX;
        }
    }
    lpu_v3_routing(lpu_v3_ptr(s, in, 4), e_count, c, &rt);
    for (i = 0; i < e_count * c; i++) {
        rt.token[i] = cpu_to_le32(-1);
        rt.weight[i] = 0.0f;
    }
    *work = (n + e_count * c) * LPU_V3_EXEC_ELEM_WORK;
    /* Tokens in order, then ranks: the first C of an expert get slots. */
    for (i = 0; i < n; i++) {
        e = le32_to_cpu(idx[i]);
        if (e < 0 || e >= e_count) {
            lpu_v3_dirty(s, in, 4, 0, in->bytes[4]);
            return LPU_EXEC_E_INDEX;
        }
        if (load[e] < c) {
            rt.token[e * c + load[e]] = cpu_to_le32(i / k);
            rt.weight[e * c + load[e]] = wt[i];
        } else {
            dropped[e]++;
        }
        load[e]++;
    }
    for (i = 0; i < e_count; i++) {
        rt.load[i] = cpu_to_le32(load[i]);
        rt.dropped[i] = cpu_to_le32(dropped[i]);
    }
    lpu_v3_dirty(s, in, 4, 0, in->bytes[4]);
    return 0;
}

/*
 * DISPATCH chunks 1..: fill slot rows of xe from the routing table just
 * written. A token the guest changed behind the engine's back that is out
 * of range gives a zero row, like an empty slot.
 */
static void lpu_v3_dispatch_fill(LpuV3State *s, const LpuV3Insn *in,
                                 uint64_t first, uint64_t count,
                                 uint64_t *work)
{
    uint64_t t_count = in->dim[0], h = in->dim[1];
    const float *x = lpu_v3_ptr(s, in, 0);
    float *xe = lpu_v3_ptr(s, in, 3);
    LpuV3Routing rt;
    uint64_t i;

    lpu_v3_routing(lpu_v3_ptr(s, in, 4), in->dim[2], in->dim[4], &rt);
    for (i = first; i < first + count; i++) {
        int32_t t = le32_to_cpu(rt.token[i]);

        if (t >= 0 && t < t_count) {
            memcpy(xe + i * h, x + t * h, h * 4);
        } else {
            memset(xe + i * h, 0, h * 4);
        }
    }
    lpu_v3_dirty(s, in, 3, first * h * 4, count * h * 4);
    *work = count * h * LPU_V3_EXEC_ELEM_WORK;
}

/* COMBINE chunk 0: every token in -1..T-1 before any row is added. */
static uint32_t lpu_v3_combine_check(LpuV3State *s, const LpuV3Insn *in,
                                     uint64_t *work)
{
    uint64_t t_count = in->dim[0], n = (uint64_t)in->dim[2] * in->dim[3], i;
    LpuV3Routing rt;

    lpu_v3_routing(lpu_v3_ptr(s, in, 1), in->dim[2], in->dim[3], &rt);
    for (i = 0; i < n; i++) {
        int32_t t = le32_to_cpu(rt.token[i]);

        if (t < -1 || t >= (int64_t)t_count) {
            return LPU_EXEC_E_INDEX;
        }
    }
    *work = n * LPU_V3_EXEC_ELEM_WORK;
    return 0;
}

/* COMBINE chunks 1..: out[t] += w * ye[e][c], slots in order. */
static uint32_t lpu_v3_combine_add(LpuV3State *s, const LpuV3Insn *in,
                                   uint64_t first, uint64_t count,
                                   uint64_t *work)
{
    uint64_t t_count = in->dim[0], h = in->dim[1], i;
    const float *ye = lpu_v3_ptr(s, in, 0);
    float *out = lpu_v3_ptr(s, in, 2);
    LpuV3Routing rt;

    lpu_v3_routing(lpu_v3_ptr(s, in, 1), in->dim[2], in->dim[3], &rt);
    *work = count * h * LPU_V3_EXEC_ELEM_WORK;
    for (i = first; i < first + count; i++) {
        int32_t t = le32_to_cpu(rt.token[i]);

        if (t == -1) {
            continue;
        }
        /* Checked in chunk 0, unless the guest wrote it since. */
        if (t < -1 || t >= (int64_t)t_count) {
            return LPU_EXEC_E_INDEX;
        }
        lpu_v3_axpy_row(out + t * h, ye + i * h, rt.weight[i], h);
        lpu_v3_dirty(s, in, 2, t * h * 4, h * 4);
    }
    return 0;
}

/*
 * Run chunk @sub of @in; returns an LPU_ERR_*, with *@reason for
 * LPU_ERR_EXEC. *@work is what the chunk cost.
 */
static uint32_t lpu_v3_run_chunk(LpuV3Queue *q, const LpuV3Insn *in,
                                 const LpuV3Plan *p, uint64_t sub,
                                 uint64_t *work, uint32_t *reason,
                                 const char **why)
{
    LpuV3State *s = q->dev;
    uint64_t first = 0, count = 0, total;

    *reason = 0;
    switch (in->opcode) {
    case LPU_INSN_COPY:
        first = sub * p->rows;
        count = MIN(p->rows, (uint64_t)in->dim[0] - first);
        *work = count * LPU_V3_EXEC_BYTE_WORK;
        return lpu_v3_seg_move(s, in->seg[0],
                               in->op[0] - in->seg[0]->va + first,
                               in->seg[1], in->op[1] - in->seg[1]->va + first,
                               count, why);
    case LPU_INSN_MATMUL:
        lpu_v3_run_matmul(s, in, p, sub, work);
        return LPU_ERR_OK;
    case LPU_INSN_EXPERT_FFN:
        lpu_v3_run_ffn(s, in, p, sub, work);
        return LPU_ERR_OK;
    case LPU_INSN_ADD:
    case LPU_INSN_MUL:
    case LPU_INSN_SILU:
    case LPU_INSN_SWIGLU:
        lpu_v3_run_elementwise(s, in, work);
        return LPU_ERR_OK;
    case LPU_INSN_RMSNORM:
    case LPU_INSN_SOFTMAX:
    case LPU_INSN_TOPK:
        lpu_v3_run_rows(s, in, p, sub, work);
        return LPU_ERR_OK;
    }
    /* DISPATCH and COMBINE */
    total = in->opcode == LPU_INSN_DISPATCH ?
            (uint64_t)in->dim[2] * in->dim[4] :
            (uint64_t)in->dim[2] * in->dim[3];
    if (sub) {
        first = (sub - 1) * p->rows;
        count = MIN(p->rows, total - first);
    }
    if (in->opcode == LPU_INSN_DISPATCH) {
        if (!sub) {
            *reason = lpu_v3_dispatch_assign(s, in, work);
        } else {
            lpu_v3_dispatch_fill(s, in, first, count, work);
        }
    } else if (!sub) {
        *reason = lpu_v3_combine_check(s, in, work);
    } else {
        *reason = lpu_v3_combine_add(s, in, first, count, work);
    }
    if (*reason) {
        *why = "index out of range";
        return LPU_ERR_EXEC;
    }
    return LPU_ERR_OK;
}

/* ---- the EXEC descriptor ---------------------------------------------- */

void lpu_v3_exec_clear(LpuV3Queue *q)
{
    LpuV3Exec *x = &q->exec;

    g_free(x->insns);
    memset(x, 0, sizeof(*x));
}

/* Refuse the EXEC: the queue halts with LPU_ERR_EXEC for @insn. */
static uint32_t lpu_v3_exec_refuse(LpuV3Queue *q, uint32_t insn,
                                   uint32_t reason, uint64_t fault,
                                   const char *what, const char **why)
{
    q->exec_insn = insn;
    q->exec_reason = reason;
    if (reason == LPU_EXEC_E_OPERAND) {
        q->fault_addr = fault;
    }
    trace_lpu_v3_exec_refused(q->index, q->head, insn, reason);
    *why = what;
    return LPU_ERR_EXEC;
}

static const char *const lpu_v3_exec_reason_text[LPU_EXEC_E_COUNT] = {
    [LPU_EXEC_E_PROGRAM] = "bad descriptor, program or stats address",
    [LPU_EXEC_E_OPCODE] = "instruction with an unknown opcode",
    [LPU_EXEC_E_FLAGS] = "instruction flag not defined for its opcode",
    [LPU_EXEC_E_RESERVED] = "unused instruction field is not zero",
    [LPU_EXEC_E_DTYPE] = "instruction dtype not allowed for its opcode",
    [LPU_EXEC_E_SHAPE] = "instruction shape is zero, too large or "
                         "inconsistent",
    [LPU_EXEC_E_OPERAND] = "instruction operand not inside one segment "
                           "of the required kind",
    [LPU_EXEC_E_ALIGN] = "instruction operand not 64-byte aligned",
    [LPU_EXEC_E_ALIAS] = "instruction output overlaps another operand",
    [LPU_EXEC_E_INDEX] = "index read from memory out of range",
    [LPU_EXEC_E_LIMIT] = "instruction has too many multiply-accumulates",
};

/*
 * Validate the whole program and sum its modelled cycles into
 * q->exec.cycles; false if it is refused (which is recorded).
 */
static bool lpu_v3_exec_validate(LpuV3Queue *q, uint32_t *code,
                                 const char **why)
{
    LpuV3Exec *x = &q->exec;
    LpuV3State *s = q->dev;
    uint64_t cycles, fault = 0;
    LpuV3Insn in;
    uint32_t i, reason;

    cycles = lpu_v3_cost(s, LPU_COST_EXEC_SETUP,
                         (uint64_t)x->insn_count * LPU_INSN_SIZE);
    for (i = 0; i < x->insn_count; i++) {
        reason = lpu_v3_insn_decode(x->segs, x->seg_count,
                                    lpu_v3_exec_insn(x, i), &in, &fault);
        if (reason) {
            *code = lpu_v3_exec_refuse(q, i, reason, fault,
                                       lpu_v3_exec_reason_text[reason], why);
            return false;
        }
        cycles = lpu_v3_sat_add(cycles,
                                lpu_v3_cost(s, in.cost_class, in.units));
    }
    x->cycles = cycles;
    return true;
}

uint32_t lpu_v3_exec_prepare(LpuV3Queue *q, const struct lpu_desc_exec *d,
                             const char **why)
{
    LpuV3Exec *x = &q->exec;
    LpuV3State *s = q->dev;
    uint64_t program = le64_to_cpu(d->program);
    uint64_t stats = le64_to_cpu(d->stats);
    uint32_t count = le32_to_cpu(d->insn_count);
    uint32_t nsegs = le32_to_cpu(d->seg_count);
    uint64_t bytes = (uint64_t)count * LPU_INSN_SIZE;
    const LpuV3Segment *pseg, *sseg;
    const char *bad = NULL;
    uint32_t code;

    lpu_v3_exec_clear(q);
    if (!buffer_is_zero(d->rsvd2, sizeof(d->rsvd2))) {
        bad = "reserved EXEC field is not zero";
    } else if (!count || count > LPU_EXEC_MAX_INSNS) {
        bad = "EXEC insn_count is 0 or above LPU_EXEC_MAX_INSNS";
    } else if (!nsegs || nsegs > LPU_MAX_SEGMENTS) {
        bad = "EXEC seg_count is 0 or above LPU_MAX_SEGMENTS";
    } else if ((program | stats) & (LPU_EXEC_ALIGN - 1)) {
        bad = "EXEC program or stats address is not 64-byte aligned";
    }
    if (bad) {
        return lpu_v3_exec_refuse(q, LPU_EXEC_INSN_NONE, LPU_EXEC_E_PROGRAM,
                                  0, bad, why);
    }
    code = lpu_v3_read_table(q, le64_to_cpu(d->seg_table), nsegs, x->segs,
                             why);
    if (code != LPU_ERR_OK) {
        return code;
    }
    x->seg_count = nsegs;
    pseg = lpu_v3_seg_find(x->segs, nsegs, program);
    sseg = lpu_v3_seg_find(x->segs, nsegs, stats);
    if (!pseg || !lpu_v3_seg_holds(pseg, program, bytes)) {
        bad = "EXEC program is not inside one segment";
    } else if (!sseg || !lpu_v3_seg_holds(sseg, stats, LPU_EXEC_STATS_SIZE)) {
        bad = "EXEC stats record is not inside one segment";
    }
    if (bad) {
        return lpu_v3_exec_refuse(q, LPU_EXEC_INSN_NONE, LPU_EXEC_E_PROGRAM,
                                  0, bad, why);
    }
    /* The stats record's page-table entry, before anything runs. */
    code = lpu_v3_check_pages(s, sseg, stats - sseg->va, LPU_EXEC_STATS_SIZE,
                              why);
    if (code != LPU_ERR_OK) {
        return code;
    }
    x->insns = g_malloc(bytes);
    x->insns_bytes = bytes;
    x->insn_count = count;
    code = lpu_v3_seg_access(s, pseg, program - pseg->va, x->insns, bytes,
                             false, why);
    if (code != LPU_ERR_OK) {
        return code;
    }
    if (!lpu_v3_exec_validate(q, &code, why)) {
        return code;
    }
    x->program = program;
    x->stats = stats;
    x->pc = 0;
    x->sub = 0;
    trace_lpu_v3_exec_start(q->index, q->head, count, x->cycles);
    return LPU_ERR_OK;
}

/* Device time the validated EXEC on the queue takes. */
int64_t lpu_v3_exec_ns(const LpuV3Queue *q)
{
    return lpu_v3_cycles_ns(q->exec.cycles);
}

bool lpu_v3_exec_done(const LpuV3Queue *q)
{
    return q->exec.pc >= q->exec.insn_count;
}

/*
 * Run chunks of the program until *@budget work is used up or the
 * program is done; *@budget is reduced by what ran.
 */
uint32_t lpu_v3_exec_run(LpuV3Queue *q, uint64_t *budget, const char **why)
{
    LpuV3Exec *x = &q->exec;
    uint64_t fault = 0, work;
    uint32_t reason, code;
    LpuV3Insn in;
    LpuV3Plan p;

    while (*budget && x->pc < x->insn_count) {
        /* Validated when the EXEC started; decoding again is cheap. */
        reason = lpu_v3_insn_decode(x->segs, x->seg_count,
                                    lpu_v3_exec_insn(x, x->pc), &in, &fault);
        if (reason) {
            return lpu_v3_exec_refuse(q, x->pc, reason, fault,
                                      lpu_v3_exec_reason_text[reason], why);
        }
        lpu_v3_plan(&in, &p);
        if (x->sub >= p.chunks) {
            return lpu_v3_exec_refuse(q, x->pc, LPU_EXEC_E_PROGRAM, 0,
                                      "EXEC progress beyond its instruction",
                                      why);
        }
        if (!x->sub) {
            trace_lpu_v3_exec_insn(q->index, x->pc, in.opcode, p.chunks);
        }
        work = 0;
        code = lpu_v3_run_chunk(q, &in, &p, x->sub, &work, &reason, why);
        if (code == LPU_ERR_EXEC) {
            return lpu_v3_exec_refuse(q, x->pc, reason, 0, *why, why);
        }
        if (code != LPU_ERR_OK) {
            return code;
        }
        /* Small chunks still count, so tiny instructions share callbacks. */
        work = MAX(work, 4096);
        *budget -= MIN(*budget, work);
        if (++x->sub == p.chunks) {
            x->sub = 0;
            x->pc++;
        }
    }
    return LPU_ERR_OK;
}

/* The program has run: write the stats record. */
uint32_t lpu_v3_exec_finish(LpuV3Queue *q, const char **why)
{
    LpuV3Exec *x = &q->exec;
    const LpuV3Segment *seg = lpu_v3_seg_find(x->segs, x->seg_count,
                                              x->stats);
    struct lpu_exec_stats st;

    memset(&st, 0, sizeof(st));
    st.cycles = cpu_to_le64(x->cycles);
    st.insns = cpu_to_le32(x->insn_count);
    if (!seg) {
        /* Checked when the EXEC started; the table cannot change. */
        *why = "stats record not mapped";
        return LPU_ERR_DMA;
    }
    trace_lpu_v3_exec_done(q->index, q->head, x->cycles);
    return lpu_v3_seg_access(q->dev, seg, x->stats - seg->va, &st,
                             sizeof(st), true, why);
}

/*
 * Why the migrated EXEC on the engine is impossible, or NULL: the program
 * and table must be ones the device accepted, and the progress and times
 * must fit them.
 */
const char *lpu_v3_exec_check_state(const LpuV3Queue *q)
{
    const LpuV3Exec *x = &q->exec;
    const LpuV3Inflight *f = &q->inflight;
    const LpuV3Segment *seg;
    uint64_t cycles, fault;
    LpuV3Insn in;
    LpuV3Plan p;
    uint32_t i;

    if (f->flags) {
        return "in-flight EXEC has flags";
    }
    if (!x->insn_count || x->insn_count > LPU_EXEC_MAX_INSNS || !x->insns ||
        x->insns_bytes != (uint64_t)x->insn_count * LPU_INSN_SIZE) {
        return "in-flight EXEC program size is invalid";
    }
    if (!x->seg_count || x->seg_count > LPU_MAX_SEGMENTS) {
        return "in-flight EXEC segment count is invalid";
    }
    for (i = 0; i < x->seg_count; i++) {
        if (lpu_v3_segment_error(q->dev, &x->segs[i]) ||
            (i && x->segs[i].va < x->segs[i - 1].va + x->segs[i - 1].size)) {
            return "in-flight EXEC segment table is invalid";
        }
    }
    seg = lpu_v3_seg_find(x->segs, x->seg_count, x->stats);
    if ((x->stats & (LPU_EXEC_ALIGN - 1)) || !seg ||
        !lpu_v3_seg_holds(seg, x->stats, LPU_EXEC_STATS_SIZE)) {
        return "in-flight EXEC stats record is not inside a segment";
    }
    cycles = lpu_v3_cost(q->dev, LPU_COST_EXEC_SETUP, x->insns_bytes);
    for (i = 0; i < x->insn_count; i++) {
        if (lpu_v3_insn_decode(x->segs, x->seg_count,
                               lpu_v3_exec_insn(x, i), &in, &fault)) {
            return "in-flight EXEC program is invalid";
        }
        cycles = lpu_v3_sat_add(cycles,
                                lpu_v3_cost(q->dev, in.cost_class, in.units));
        if (i == x->pc) {
            lpu_v3_plan(&in, &p);
            if (x->sub >= p.chunks) {
                return "in-flight EXEC progress out of range";
            }
        }
    }
    if (x->pc > x->insn_count || (x->pc == x->insn_count && x->sub)) {
        return "in-flight EXEC progress out of range";
    }
    if (cycles != x->cycles ||
        f->done_ns - f->start_ns != lpu_v3_cycles_ns(cycles)) {
        return "in-flight EXEC time does not match its program";
    }
    return NULL;
}

/* Is the program size in the stream one the device could have saved? */
static bool lpu_v3_exec_bytes_ok(void *opaque, int version_id)
{
    const LpuV3Exec *x = opaque;

    return x->insns_bytes <= LPU_EXEC_MAX_INSNS * LPU_INSN_SIZE &&
           x->insns_bytes % LPU_INSN_SIZE == 0;
}

static int lpu_v3_exec_pre_load(void *opaque)
{
    LpuV3Exec *x = opaque;

    /* The stream brings its own program (or none). */
    g_free(x->insns);
    x->insns = NULL;
    x->insns_bytes = 0;
    return 0;
}

static const VMStateDescription vmstate_lpu_v3_exec_segment = {
    .name = "lpu-v3/exec-segment",
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

const VMStateDescription vmstate_lpu_v3_exec = {
    .name = "lpu-v3/exec",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_load = lpu_v3_exec_pre_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(program, LpuV3Exec),
        VMSTATE_UINT32(insn_count, LpuV3Exec),
        VMSTATE_UINT32(seg_count, LpuV3Exec),
        VMSTATE_UINT64(stats, LpuV3Exec),
        VMSTATE_UINT64(cycles, LpuV3Exec),
        VMSTATE_UINT32(pc, LpuV3Exec),
        VMSTATE_UINT64(sub, LpuV3Exec),
        VMSTATE_STRUCT_ARRAY(segs, LpuV3Exec, LPU_MAX_SEGMENTS, 1,
                             vmstate_lpu_v3_exec_segment, LpuV3Segment),
        VMSTATE_UINT32(insns_bytes, LpuV3Exec),
        VMSTATE_VALIDATE("insns_bytes in range", lpu_v3_exec_bytes_ok),
        VMSTATE_VBUFFER_ALLOC_UINT32(insns, LpuV3Exec, 1, NULL, insns_bytes),
        VMSTATE_END_OF_LIST()
    }
};
