/*
 * LPU v3 inference accelerator: the tensor engine (EXEC descriptors)
 *
 * An EXEC runs a program of struct lpu_insn whose operands are device
 * addresses in the descriptor's segment table. The engine checks the
 * descriptor, fetches the whole program into the device (so the guest
 * cannot change it under the engine) and validates every instruction
 * before the first one runs: a refused program changes no byte anywhere.
 *
 * It then runs in steps driven by the queue's timer, never on the vCPU:
 * each instruction is cut into chunks of bounded work (a block of rows,
 * an expert's slots, some megabytes of a copy), a step runs chunks until
 * its work budget is used, and the position (instruction, chunk) is all
 * the state that carries over between steps, so a queue or device reset
 * stops the program between two chunks and a migration resumes it at the
 * next one. The chunks of all instructions but COPY (which may DMA to
 * host memory) run in the queue's worker thread, off the BQL: they touch
 * only their SRAM operands and the program's own state (lpu-v3-queue.c).
 * The instruction rules, costs and chunk plans are in lpu-v3-insn.c, the
 * arithmetic in lpu-v3-tensor.c; this file runs chunks and steps.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/cutils.h"
#include "qemu/log.h"
#include "exec/memory.h"
#include "migration/vmstate.h"
#include "lpu-v3.h"
#include "lpu-v3-insn.h"
#include "lpu-v3-tensor.h"
#include "trace.h"

QEMU_BUILD_BUG_ON(sizeof(struct lpu_exec_stats) != LPU_EXEC_STATS_SIZE);

static const struct lpu_insn *lpu_v3_exec_insn(const LpuV3Exec *x,
                                               uint32_t pc)
{
    return (const struct lpu_insn *)(x->insns + (uint64_t)pc * LPU_INSN_SIZE);
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
    *work = lpu_v3_plan_matmul_work(in->dtype, mm, nn, k);
}

/*
 * The binary32 weights of expert @g of EXPERT_FFN @in: its F32 weights in
 * SRAM, or its BF16 or I8 weights widened once into the engine's scratch.
 * False if that had to be done first: widening is a step of its own (so
 * a chunk that finds it missing after a migration stays within its step).
 */
static bool lpu_v3_ffn_weights(LpuV3Queue *q, const LpuV3Insn *in,
                               uint64_t g, const float **w13,
                               const float **s13, const float **w2,
                               const float **s2, uint64_t *work)
{
    LpuV3State *s = q->dev;
    LpuV3Exec *x = &q->exec;
    uint64_t groups = in->dim[0], h = in->dim[2], f = in->dim[3];
    const void *r13 = lpu_v3_weights(s, in, 1, groups, g, 0, 2 * f, h, s13);
    const void *r2 = lpu_v3_weights(s, in, 2, groups, g, 0, h, f, s2);

    if (in->dtype == LPU_DT_F32) {
        *w13 = r13;
        *w2 = r2;
        return true;
    }
    if (!x->wide_valid || x->wide_pc != x->pc || x->wide_g != g) {
        /* H * F <= LPU_EXEC_MAX_FFN_HF: at most 48 MiB. */
        x->wide = g_renew(float, x->wide, 3 * h * f);
        lpu_v3_widen(in->dtype, r13, 2 * f * h, x->wide);
        lpu_v3_widen(in->dtype, r2, h * f, x->wide + 2 * f * h);
        x->wide_valid = true;
        x->wide_pc = x->pc;
        x->wide_g = g;
        *work = lpu_v3_plan_widen(in->dtype, h, f);
        return false;
    }
    *w13 = x->wide;
    *w2 = x->wide + 2 * f * h;
    return true;
}

/* False if the step only widened the expert's weights: run @sub again. */
static bool lpu_v3_run_ffn(LpuV3Queue *q, const LpuV3Insn *in,
                           const LpuV3Plan *p, uint64_t sub, uint64_t *work)
{
    LpuV3State *s = q->dev;
    uint64_t c = in->dim[1], h = in->dim[2], f = in->dim[3];
    uint64_t g = sub / p->row_chunks;
    uint64_t c0 = sub % p->row_chunks * p->rows;
    uint64_t cc = MIN(p->rows, c - c0), na = 0, r;
    const float *x = (const float *)lpu_v3_ptr(s, in, 0) + g * c * h;
    float *out = (float *)lpu_v3_ptr(s, in, 3) + g * c * h;
    const int32_t *token = in->nops > 4 ?
                           (const int32_t *)lpu_v3_ptr(s, in, 4) + g * c :
                           NULL;
    g_autofree uint64_t *rows = NULL;
    g_autofree float *xs = NULL;
    g_autofree float *ys = NULL;
    const float *w13 = NULL, *s13 = NULL, *w2 = NULL, *s2 = NULL;
    uint64_t j = 0;

    rows = g_new(uint64_t, cc);
    for (r = c0; r < c0 + cc; r++) {
        if (!token || (int32_t)ldl_le_p(&token[r]) != -1) {
            rows[na++] = r;
        }
    }
    /* Weights are needed (and widened) only if a slot holds a token. */
    if (na && !lpu_v3_ffn_weights(q, in, g, &w13, &s13, &w2, &s2, work)) {
        return false;
    }
    /* Slots without a token are zeroes, never computed. */
    for (r = c0; r < c0 + cc; r++) {
        if (j < na && rows[j] == r) {
            j++;
        } else {
            memset(out + r * h, 0, h * 4);
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
    *work = cc * lpu_v3_plan_ffn_row(in->dtype, h, f);
    return true;
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
    *work = rr * lpu_v3_plan_row_work(in->opcode, n, in->dim[2]);
}

/* Elements [@first, @first + @n) of ADD, MUL, SILU or SWIGLU. */
static void lpu_v3_run_elementwise(LpuV3State *s, const LpuV3Insn *in,
                                   uint64_t first, uint64_t n,
                                   uint64_t *work)
{
    const float *a = (const float *)lpu_v3_ptr(s, in, 0) + first;
    const float *b = in->nops > 2 ?
                     (const float *)lpu_v3_ptr(s, in, 1) + first : NULL;
    unsigned o = in->nops - 1;
    float *out = (float *)lpu_v3_ptr(s, in, o) + first;

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
    lpu_v3_dirty(s, in, o, first * 4, n * 4);
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
 * DISPATCH check chunks: every index in range before anything is written,
 * so an index out of range leaves the outputs alone.
 */
static uint32_t lpu_v3_dispatch_check(LpuV3State *s, const LpuV3Insn *in,
                                      uint64_t first, uint64_t count)
{
    const int32_t *idx = lpu_v3_ptr(s, in, 1);
    int64_t e_count = in->dim[2];
    uint64_t i;

    for (i = first; i < first + count; i++) {
        int32_t e = ldl_le_p(&idx[i]);

        if (e < 0 || e >= e_count) {
            return LPU_EXEC_E_INDEX;
        }
    }
    return 0;
}

/*
 * DISPATCH init chunks: 4-byte entries [@first, @first + @count) of the
 * routing table; the E * C tokens become -1, the weights, loads and
 * dropped counts 0.
 */
static void lpu_v3_dispatch_init(LpuV3State *s, const LpuV3Insn *in,
                                 uint64_t first, uint64_t count)
{
    uint32_t *rt = lpu_v3_ptr(s, in, 4);
    uint64_t tokens = (uint64_t)in->dim[2] * in->dim[4], i;

    for (i = first; i < first + count; i++) {
        stl_le_p(&rt[i], i < tokens ? UINT32_MAX : 0);
    }
    lpu_v3_dirty(s, in, 4, first * 4, count * 4);
}

/*
 * DISPATCH assign chunks: (token, rank) pairs [@first, @first + @count)
 * in order, each to the next slot of its expert while it has fewer than
 * C. The counts live in the routing table itself, so they carry over
 * from chunk to chunk (and migrate with SRAM). Indices and counts are
 * read once each and checked as they are used: if the guest changed them
 * behind the engine's back, the instruction fails part way or its table
 * is wrong, but nothing outside its operands is touched.
 */
static uint32_t lpu_v3_dispatch_assign(LpuV3State *s, const LpuV3Insn *in,
                                       uint64_t first, uint64_t count)
{
    int64_t e_count = in->dim[2];
    uint64_t k = in->dim[3], c = in->dim[4], i;
    const int32_t *idx = lpu_v3_ptr(s, in, 1);
    const float *wt = lpu_v3_ptr(s, in, 2);
    uint32_t code = 0;
    LpuV3Routing rt;

    lpu_v3_routing(lpu_v3_ptr(s, in, 4), e_count, c, &rt);
    for (i = first; i < first + count; i++) {
        int32_t e = ldl_le_p(&idx[i]);
        uint32_t load;

        if (e < 0 || e >= e_count) {
            code = LPU_EXEC_E_INDEX;
            break;
        }
        load = ldl_le_p(&rt.load[e]);
        if (load < c) {
            stl_le_p(&rt.token[e * c + load], i / k);
            stl_le_p(&rt.weight[e * c + load], ldl_le_p(&wt[i]));
        } else {
            stl_le_p(&rt.dropped[e], ldl_le_p(&rt.dropped[e]) + 1);
        }
        stl_le_p(&rt.load[e], load + 1);
    }
    lpu_v3_dirty(s, in, 4, 0, in->bytes[4]);
    return code;
}

/*
 * DISPATCH row chunks: fill slot rows of xe from the routing table just
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
        int32_t t = ldl_le_p(&rt.token[i]);

        if (t >= 0 && t < t_count) {
            memcpy(xe + i * h, x + t * h, h * 4);
        } else {
            memset(xe + i * h, 0, h * 4);
        }
    }
    lpu_v3_dirty(s, in, 3, first * h * 4, count * h * 4);
    *work = count * h * LPU_V3_EXEC_ELEM_WORK;
}

/* COMBINE check chunks: every token in -1..T-1 before any row is added. */
static uint32_t lpu_v3_combine_check(LpuV3State *s, const LpuV3Insn *in,
                                     uint64_t first, uint64_t count)
{
    const int32_t *token = lpu_v3_ptr(s, in, 1);
    int64_t t_count = in->dim[0];
    uint64_t i;

    for (i = first; i < first + count; i++) {
        int32_t t = ldl_le_p(&token[i]);

        if (t < -1 || t >= t_count) {
            return LPU_EXEC_E_INDEX;
        }
    }
    return 0;
}

/* COMBINE row chunks: out[t] += w * ye[e][c], slots in order. */
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
        int32_t t = ldl_le_p(&rt.token[i]);

        if (t == -1) {
            continue;
        }
        /* Checked already, unless the guest wrote it since. */
        if (t < -1 || t >= (int64_t)t_count) {
            return LPU_EXEC_E_INDEX;
        }
        lpu_v3_axpy_row(out + t * h, ye + i * h, rt.weight[i], h);
        lpu_v3_dirty(s, in, 2, t * h * 4, h * 4);
    }
    return 0;
}

/*
 * The table chunks of DISPATCH and COMBINE (see LpuV3Plan): chunk @sub
 * is one of them if it is below p->check_chunks + init + assign.
 */
static uint32_t lpu_v3_run_table(LpuV3State *s, const LpuV3Insn *in,
                                 const LpuV3Plan *p, uint64_t sub,
                                 uint64_t *work)
{
    uint64_t e = in->dim[2], first, count;
    uint64_t pairs = (uint64_t)in->dim[0] * in->dim[3];

    if (in->opcode == LPU_INSN_COMBINE) {
        first = sub * p->entries;
        count = MIN(p->entries, e * in->dim[3] - first);
        *work = count * LPU_V3_EXEC_ELEM_WORK;
        return lpu_v3_combine_check(s, in, first, count);
    }
    if (sub < p->check_chunks) {
        first = sub * p->entries;
        count = MIN(p->entries, pairs - first);
        *work = count * LPU_V3_EXEC_ELEM_WORK;
        return lpu_v3_dispatch_check(s, in, first, count);
    }
    sub -= p->check_chunks;
    if (sub < p->init_chunks) {
        /* token[E][C], then weight[E][C], load[E], dropped[E] */
        first = sub * p->entries;
        count = MIN(p->entries, 2 * e * in->dim[4] + 2 * e - first);
        *work = count * LPU_V3_EXEC_ELEM_WORK;
        lpu_v3_dispatch_init(s, in, first, count);
        return 0;
    }
    sub -= p->init_chunks;
    first = sub * p->entries;
    count = MIN(p->entries, pairs - first);
    *work = count * LPU_V3_EXEC_ELEM_WORK;
    return lpu_v3_dispatch_assign(s, in, first, count);
}

/*
 * Run chunk @sub of @in; returns an LPU_ERR_*, with *@reason for
 * LPU_ERR_EXEC. *@work is what the chunk cost; *@again is set if it only
 * prepared (see lpu_v3_ffn_weights()) and @sub is still to run.
 */
static uint32_t lpu_v3_run_chunk(LpuV3Queue *q, const LpuV3Insn *in,
                                 const LpuV3Plan *p, uint64_t sub,
                                 uint64_t *work, bool *again,
                                 uint32_t *reason, const char **why)
{
    LpuV3State *s = q->dev;
    uint64_t first = 0, count = 0, total, table;

    *reason = 0;
    *again = false;
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
        *again = !lpu_v3_run_ffn(q, in, p, sub, work);
        return LPU_ERR_OK;
    case LPU_INSN_ADD:
    case LPU_INSN_MUL:
    case LPU_INSN_SILU:
    case LPU_INSN_SWIGLU:
        first = sub * p->rows;
        count = MIN(p->rows, (uint64_t)in->dim[0] - first);
        lpu_v3_run_elementwise(s, in, first, count, work);
        return LPU_ERR_OK;
    case LPU_INSN_RMSNORM:
    case LPU_INSN_SOFTMAX:
    case LPU_INSN_TOPK:
        lpu_v3_run_rows(s, in, p, sub, work);
        return LPU_ERR_OK;
    }
    /* DISPATCH and COMBINE: the table chunks, then slot rows. */
    table = p->check_chunks + p->init_chunks + p->assign_chunks;
    if (sub < table) {
        *reason = lpu_v3_run_table(s, in, p, sub, work);
    } else {
        total = in->opcode == LPU_INSN_DISPATCH ?
                (uint64_t)in->dim[2] * in->dim[4] :
                (uint64_t)in->dim[2] * in->dim[3];
        first = (sub - table) * p->rows;
        count = MIN(p->rows, total - first);
        if (in->opcode == LPU_INSN_DISPATCH) {
            lpu_v3_dispatch_fill(s, in, first, count, work);
        } else {
            *reason = lpu_v3_combine_add(s, in, first, count, work);
        }
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
    g_free(x->wide);
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

/* Is the next instruction a COPY (which may move host memory by DMA)? */
static bool lpu_v3_exec_next_is_copy(const LpuV3Exec *x)
{
    return x->pc < x->insn_count &&
           lpu_v3_exec_insn(x, x->pc)->opcode == LPU_INSN_COPY;
}

bool lpu_v3_exec_next_in_worker(const LpuV3Queue *q)
{
    return !lpu_v3_exec_done(q) && !lpu_v3_exec_next_is_copy(&q->exec);
}

/*
 * Remember why instruction @insn failed, for lpu_v3_exec_refused(): the
 * worker thread may not touch the queue's registers.
 */
static uint32_t lpu_v3_exec_fail(LpuV3Exec *x, uint32_t insn, uint32_t reason,
                                 uint64_t fault, const char *what,
                                 const char **why)
{
    x->fail_insn = insn;
    x->fail_reason = reason;
    x->fail_fault = fault;
    x->fail_why = what;
    *why = what;
    return LPU_ERR_EXEC;
}

uint32_t lpu_v3_exec_refused(LpuV3Queue *q, const char **why)
{
    LpuV3Exec *x = &q->exec;

    return lpu_v3_exec_refuse(q, x->fail_insn, x->fail_reason, x->fail_fault,
                              x->fail_why, why);
}

/*
 * Run chunks of the program until *@budget work is used up, the program
 * is done or, in the worker (@worker), the next instruction is a COPY,
 * and in the main loop the next one is not; *@budget is reduced by what
 * ran. Touches only the program's state and its operands: an
 * LPU_ERR_EXEC is only noted, for lpu_v3_exec_refused().
 */
uint32_t lpu_v3_exec_run(LpuV3Queue *q, bool worker, uint64_t *budget,
                         const char **why)
{
    LpuV3Exec *x = &q->exec;
    uint64_t fault = 0, work;
    uint32_t reason, code;
    LpuV3Insn in;
    LpuV3Plan p;
    bool again;

    while (*budget && x->pc < x->insn_count &&
           lpu_v3_exec_next_is_copy(x) != worker) {
        /* Validated when the EXEC started; decoding again is cheap. */
        reason = lpu_v3_insn_decode(x->segs, x->seg_count,
                                    lpu_v3_exec_insn(x, x->pc), &in, &fault);
        if (reason) {
            return lpu_v3_exec_fail(x, x->pc, reason, fault,
                                    lpu_v3_exec_reason_text[reason], why);
        }
        lpu_v3_plan(&in, &p);
        if (x->sub >= p.chunks) {
            return lpu_v3_exec_fail(x, x->pc, LPU_EXEC_E_PROGRAM, 0,
                                    "EXEC progress beyond its instruction",
                                    why);
        }
        if (!x->sub) {
            trace_lpu_v3_exec_insn(q->index, x->pc, in.opcode, p.chunks);
        }
        work = 0;
        code = lpu_v3_run_chunk(q, &in, &p, x->sub, &work, &again, &reason,
                                why);
        if (code == LPU_ERR_EXEC) {
            return lpu_v3_exec_fail(x, x->pc, reason, 0, *why, why);
        }
        if (code != LPU_ERR_OK) {
            return code;
        }
        /* Small chunks still count, so tiny instructions share callbacks. */
        work = MAX(work, 4096);
        *budget -= MIN(*budget, work);
        if (again) {
            continue;
        }
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
    /* Widened weights are scratch: rebuilt when a chunk needs them. */
    g_free(x->wide);
    x->wide = NULL;
    x->wide_valid = false;
    return 0;
}

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
                             vmstate_lpu_v3_segment, LpuV3Segment),
        VMSTATE_UINT32(insns_bytes, LpuV3Exec),
        VMSTATE_VALIDATE("insns_bytes in range", lpu_v3_exec_bytes_ok),
        VMSTATE_VBUFFER_ALLOC_UINT32(insns, LpuV3Exec, 1, NULL, insns_bytes),
        VMSTATE_END_OF_LIST()
    }
};
