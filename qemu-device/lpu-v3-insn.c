/*
 * LPU v3 inference accelerator: the tensor engine's instruction set
 *
 * Every rule lpu_hw.h sets for an instruction is checked here, before
 * the program it belongs to runs: fields, dtype, shapes and limits with
 * overflow-safe size arithmetic, and each operand's tensor against the
 * segment table and the other operands. The decoded instruction then
 * says where every operand lives in SRAM (or which segment a COPY uses),
 * what it costs, and (lpu_v3_plan()) how it is cut into chunks.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <math.h>
#include "qemu/bswap.h"
#include "qemu/host-utils.h"
#include "lpu-v3.h"
#include "lpu-v3-insn.h"
#include "lpu-v3-tensor.h"

/*
 * The heaviest EXPERT_FFN slot row, the smallest chunk of one (H * F at
 * LPU_EXEC_MAX_FFN_HF, H + F at most LPU_EXEC_MAX_DIM + 4, F at most
 * LPU_EXEC_MAX_DIM), fits one step of the engine, and so does widening
 * an expert's weights (3 * H * F), which is a step of its own.
 */
QEMU_BUILD_BUG_ON(3ULL * LPU_EXEC_MAX_FFN_HF + LPU_EXEC_MAX_DIM + 4 +
                  (uint64_t)LPU_EXEC_MAX_DIM * LPU_V3_EXEC_ELEM_WORK >
                  LPU_V3_EXEC_STEP_WORK);

QEMU_BUILD_BUG_ON(sizeof(struct lpu_insn) != LPU_INSN_SIZE);
QEMU_BUILD_BUG_ON(sizeof(struct lpu_cost) != 8);

/* ---- cost table ----------------------------------------------------- */

/*
 * The table comes from the running firmware (lpu-v3-fw.c); with none
 * there is no table, and no queue runs to need one.
 */
void lpu_v3_cost_reset(LpuV3State *s)
{
    memset(&s->cost, 0, sizeof(s->cost));
}

/* Why @c (a firmware table or a migrated one) cannot run, or NULL. */
const char *lpu_v3_cost_error(const LpuV3Cost *c, unsigned *cls,
                              bool *rate)
{
    unsigned i;

    for (i = 0; i < LPU_COST_COUNT; i++) {
        *cls = i;
        *rate = false;
        if (c->base[i] > LPU_FW_COST_MAX_BASE) {
            return "base_cycles above LPU_FW_COST_MAX_BASE";
        }
        *rate = true;
        if (!c->rate[i] || c->rate[i] > LPU_FW_COST_MAX_RATE) {
            return "units_per_cycle not 1 to LPU_FW_COST_MAX_RATE";
        }
    }
    return NULL;
}

const char *lpu_v3_cost_check_state(const LpuV3State *s)
{
    static const LpuV3Cost none;
    unsigned cls;
    bool rate;

    if (!lpu_v3_fw_ready(s)) {
        return memcmp(&s->cost, &none, sizeof(none)) ?
               "a cost table without firmware" : NULL;
    }
    return lpu_v3_cost_error(&s->cost, &cls, &rate);
}

static uint64_t lpu_v3_sat_mul(uint64_t a, uint64_t b)
{
    uint64_t r;

    return umul64_overflow(a, b, &r) ? UINT64_MAX : r;
}

uint64_t lpu_v3_sat_add(uint64_t a, uint64_t b)
{
    uint64_t r;

    return uadd64_overflow(a, b, &r) ? UINT64_MAX : r;
}

/* base + ceil(units / rate) cycles of class @c. */
uint64_t lpu_v3_cost(const LpuV3State *s, unsigned c, uint64_t units)
{
    uint64_t rate = s->cost.rate[c];

    /* No firmware, no table: the engine never runs then, but never divide. */
    if (!rate) {
        return UINT64_MAX;
    }
    return lpu_v3_sat_add(s->cost.base[c],
                          units / rate + (units % rate != 0));
}

/* Device time of @cycles, saturated far beyond any real program. */
int64_t lpu_v3_cycles_ns(uint64_t cycles)
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
uint64_t lpu_v3_qblock_scales(uint64_t g, uint64_t n, uint64_t k)
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

        /* One slot row is the engine's smallest step: bound it too. */
        if (macs > LPU_EXEC_MAX_MACS || h * f > LPU_EXEC_MAX_FFN_HF) {
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
uint32_t lpu_v3_insn_decode(const LpuV3Segment *segs, uint32_t nsegs,
                            const struct lpu_insn *raw, LpuV3Insn *in,
                            uint64_t *fault)
{
    unsigned ndims, i, j, dtypes, flags = 0;
    bool in_sram = true;
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
     * Overlap is judged where the bytes are: in SRAM when every operand is
     * there (two segments may map the same SRAM), else in device address
     * space (a COPY touching host memory: its pages are distinct from
     * SRAM, and a host segment's pages are the driver's business).
     */
    for (i = 0; i < in->nops; i++) {
        if (in->seg[i]->kind != LPU_SEG_SRAM) {
            in_sram = false;
        }
    }
    for (i = 0; i < in->nops; i++) {
        uint64_t a = in_sram ? in->sram[i] : in->op[i];

        if (in->role[i] == LPU_V3_IN) {
            continue;
        }
        for (j = 0; j < in->nops; j++) {
            uint64_t b = in_sram ? in->sram[j] : in->op[j];

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

/* ---- chunk plans ------------------------------------------------------ */

void lpu_v3_plan(const LpuV3Insn *in, LpuV3Plan *p)
{
    lpu_v3_plan_dims(in->opcode, in->dtype, in->dim, p);
}
