/*
 * LPU v3 inference accelerator: how the tensor engine cuts instructions
 *
 * An instruction runs in chunks, and a timer callback of the engine runs
 * chunks until it has done LPU_V3_EXEC_STEP_WORK units of work. A chunk
 * never does more than that, so no callback holds the main loop for long
 * whatever the program. Units: a multiply-accumulate, a weight element
 * widened to binary32 or an activation element quantised is 1; an element
 * of a row-wise or elementwise op (an exp(), a silu()) is
 * LPU_V3_EXEC_ELEM_WORK, a byte a COPY moves LPU_V3_EXEC_BYTE_WORK.
 *
 * Only plain arithmetic on the validated dimensions lives here (no device
 * state), so the qtest checks the plan of the largest allowed shapes with
 * the very same code.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_LPU_V3_PLAN_H
#define HW_MISC_LPU_V3_PLAN_H

#include "qemu/host-utils.h"
#include "lpu_hw.h"

#define LPU_V3_EXEC_STEP_WORK       (1ULL << 25)
#define LPU_V3_EXEC_ELEM_WORK       16
#define LPU_V3_EXEC_BYTE_WORK       8

/*
 * Elements in one scratch buffer of the arithmetic: weight rows are
 * widened (BF16) or converted (I8) and activation rows quantised in
 * blocks of about this many elements, whatever the matrix size.
 */
#define LPU_V3_TENSOR_SCRATCH       (1u << 20)

/* Table entries a DISPATCH or COMBINE table chunk handles. */
#define LPU_V3_PLAN_ENTRIES         (LPU_V3_EXEC_STEP_WORK / \
                                     LPU_V3_EXEC_ELEM_WORK)

/*
 * How an instruction is cut. MATMUL: per batch, blocks of @rows rows of
 * out and @cols columns. EXPERT_FFN: per expert, blocks of @rows slots
 * (BF16 and I8: the expert's weights are widened once, in a step of
 * their own, see lpu_v3_plan_widen()). ADD, MUL, SILU, SWIGLU: blocks of
 * @rows elements; RMSNORM, SOFTMAX, TOPK: blocks of @rows rows; COPY:
 * blocks of @rows bytes. DISPATCH: @check_chunks chunks that check the
 * T * k indices, @init_chunks that clear the routing table (its
 * 2 * E * C + 2 * E four-byte entries), @assign_chunks that assign the
 * T * k (token, rank) pairs to slots, each of at most @entries, then
 * blocks of @rows slot rows. COMBINE: @check_chunks over the E * C
 * tokens, then blocks of @rows slot rows.
 */
typedef struct LpuV3Plan {
    uint64_t rows;
    uint64_t cols;
    uint64_t row_chunks;
    uint64_t col_chunks;
    uint64_t entries;
    uint64_t check_chunks;
    uint64_t init_chunks;
    uint64_t assign_chunks;
    uint64_t chunks;
} LpuV3Plan;

/* Work of one EXPERT_FFN slot row: both products, quantising, silu. */
static inline uint64_t lpu_v3_plan_ffn_row(unsigned dtype, uint64_t h,
                                           uint64_t f)
{
    return 3 * h * f + (dtype == LPU_DT_I8 ? h + f : 0) +
           f * LPU_V3_EXEC_ELEM_WORK;
}

/* Work of widening one expert's BF16 or I8 weights (0 for F32). */
static inline uint64_t lpu_v3_plan_widen(unsigned dtype, uint64_t h,
                                         uint64_t f)
{
    return dtype == LPU_DT_F32 ? 0 : 3 * h * f;
}

/* Work of a MATMUL chunk of @mm rows and @nn columns. */
static inline uint64_t lpu_v3_plan_matmul_work(unsigned dtype, uint64_t mm,
                                               uint64_t nn, uint64_t k)
{
    return mm * nn * k + (dtype != LPU_DT_F32 ? nn * k : 0) +
           (dtype == LPU_DT_I8 ? mm * k : 0);
}

/*
 * Comparisons per element with which TOPK ranks @k of a row: one against
 * the worst of the k kept, up to two a level of their heap when it enters
 * it, and one in each of the two scans for the lowest free index.
 */
static inline uint64_t lpu_v3_plan_rank_work(uint64_t k)
{
    return 3 + 2 * (64 - clz64(k));
}

/* Work of one row of @n elements of a row-wise op (TOPK: @k ranks). */
static inline uint64_t lpu_v3_plan_row_work(uint8_t opcode, uint64_t n,
                                            uint64_t k)
{
    return n * (LPU_V3_EXEC_ELEM_WORK +
                (opcode == LPU_INSN_TOPK ? lpu_v3_plan_rank_work(k) : 0));
}

static inline uint64_t lpu_v3_plan_clamp(uint64_t v, uint64_t lo, uint64_t hi)
{
    return MIN(MAX(v, lo), hi);
}

/*
 * The plan of a validated instruction (its dimensions are in range and
 * its operands fit their segments, so no product here overflows).
 */
static inline void lpu_v3_plan_dims(uint8_t opcode, unsigned dtype,
                                    const uint32_t *d, LpuV3Plan *p)
{
    const uint64_t step = LPU_V3_EXEC_STEP_WORK;
    uint64_t m = 1, n, k, e, c, t;

    memset(p, 0, sizeof(*p));
    p->cols = 1;
    p->col_chunks = 1;
    switch (opcode) {
    case LPU_INSN_COPY:
        m = d[0];
        p->rows = lpu_v3_plan_clamp(step / LPU_V3_EXEC_BYTE_WORK, 1, m);
        break;
    case LPU_INSN_MATMUL: {
        uint64_t wk = dtype != LPU_DT_F32, qk = dtype == LPU_DT_I8;

        n = d[1];
        k = d[2];
        if (lpu_v3_plan_matmul_work(dtype, 1, n, k) <= step) {
            /* Whole rows: as many as fit with the widening of all of W. */
            p->cols = n;
            p->rows = lpu_v3_plan_clamp((step - wk * n * k) /
                                        (n * k + qk * k), 1, d[0]);
        } else {
            /* One row is too much: blocks of columns of it. */
            p->rows = 1;
            p->cols = lpu_v3_plan_clamp((step - qk * k) / ((1 + wk) * k),
                                        1, n);
        }
        p->row_chunks = DIV_ROUND_UP(d[0], p->rows);
        p->col_chunks = DIV_ROUND_UP(n, p->cols);
        p->chunks = d[3] * p->row_chunks * p->col_chunks;
        return;
    }
    case LPU_INSN_EXPERT_FFN: {
        uint64_t h = d[2], f = d[3];

        /* The scratch of a chunk (xs, ys, gu, act) stays bounded too. */
        p->rows = lpu_v3_plan_clamp(step / lpu_v3_plan_ffn_row(dtype, h, f),
                                    1, d[1]);
        p->rows = MIN(p->rows, MAX(4 * LPU_V3_TENSOR_SCRATCH / (2 * h + 3 * f),
                                   1));
        p->row_chunks = DIV_ROUND_UP(d[1], p->rows);
        p->chunks = d[0] * p->row_chunks;
        return;
    }
    case LPU_INSN_ADD:
    case LPU_INSN_MUL:
    case LPU_INSN_SILU:
    case LPU_INSN_SWIGLU:
        m = d[0];
        p->rows = lpu_v3_plan_clamp(step / LPU_V3_EXEC_ELEM_WORK, 1, m);
        break;
    case LPU_INSN_RMSNORM:
    case LPU_INSN_SOFTMAX:
    case LPU_INSN_TOPK:
        m = d[0];
        p->rows = lpu_v3_plan_clamp(step / lpu_v3_plan_row_work(opcode, d[1],
                                                                 d[2]),
                                    1, m);
        break;
    case LPU_INSN_DISPATCH:
    case LPU_INSN_COMBINE:
        t = d[0];
        e = d[2];
        c = opcode == LPU_INSN_DISPATCH ? d[4] : d[3];
        k = opcode == LPU_INSN_DISPATCH ? d[3] : 0;
        m = e * c;
        p->entries = LPU_V3_PLAN_ENTRIES;
        if (opcode == LPU_INSN_DISPATCH) {
            p->check_chunks = DIV_ROUND_UP(t * k, p->entries);
            /* token[E][C], weight[E][C], load[E], dropped[E] */
            p->init_chunks = DIV_ROUND_UP(2 * m + 2 * e, p->entries);
            p->assign_chunks = p->check_chunks;
        } else {
            p->check_chunks = DIV_ROUND_UP(m, p->entries);
        }
        p->rows = lpu_v3_plan_clamp(step / lpu_v3_plan_row_work(opcode, d[1],
                                                                 0),
                                    1, m);
        p->row_chunks = DIV_ROUND_UP(m, p->rows);
        p->chunks = p->check_chunks + p->init_chunks + p->assign_chunks +
                    p->row_chunks;
        return;
    }
    p->row_chunks = DIV_ROUND_UP(m, p->rows);
    p->chunks = p->row_chunks;
}

#endif
