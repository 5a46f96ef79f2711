/*
 * LPU v3 inference accelerator: the tensor engine's arithmetic
 *
 * Every function follows the NUMERICS rules of lpu_hw.h; a separate numpy
 * reference implements the same rules, and the int8 path must match it
 * bit for bit. Dense products go through OpenBLAS. Tensors in SRAM are
 * little-endian and so is every host the engine is offered on (see
 * LPU_CAP_EXEC in lpu-v3.c), so binary32 data is used in place.
 *
 * Built with -ffp-contract=off (see meson.build): the rules round every
 * binary32 product and sum on its own.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <math.h>
#include <cblas.h>
#include "lpu_hw.h"
#include "lpu-v3-tensor.h"

float lpu_v3_silu(float x)
{
    return (float)((double)x / (1.0 + exp(-(double)x)));
}

static float lpu_v3_bf16(const uint16_t *w)
{
    uint32_t bits = (uint32_t)*w << 16;
    float f;

    memcpy(&f, &bits, sizeof(f));
    return f;
}

/*
 * The quant rule: q = clamp(nearbyint(v / scale), -127, 127) with
 * scale = max|v| / 127 in binary32, or 1 if the row is all zero. A NaN
 * element quantises to 0 (the rules leave it open; this never traps).
 */
static float lpu_v3_quant_row(const float *v, size_t k, float *q)
{
    float amax = 0.0f, scale, r;
    size_t i;

    for (i = 0; i < k; i++) {
        float a = fabsf(v[i]);

        if (a > amax) {
            amax = a;
        }
    }
    scale = amax == 0.0f ? 1.0f : amax / 127.0f;
    for (i = 0; i < k; i++) {
        r = nearbyintf(v[i] / scale);
        if (r > 127.0f) {
            r = 127.0f;
        } else if (r < -127.0f) {
            r = -127.0f;
        } else if (isnan(r)) {
            r = 0.0f;
        }
        q[i] = r;
    }
    return scale;
}

/*
 * I8 products of a block: qa [mm, k] quantised rows with scales sa, qw
 * [nn, k] int8 weights as binary32 with scales sw; out [mm, nn] with row
 * stride ldo. acc = the exact integer sum of qa[m][k] * qw[n][k], then
 * out = ((float)acc * sa[m]) * sw[n]. The int8 values go through
 * binary32 GEMM in slices of at most LPU_V3_I8_SGEMM_MAX_K along K: every
 * partial sum of a slice is below 2^24, so binary32 holds it exactly
 * whatever order BLAS sums in and whether it fuses. With more than one
 * slice the slices' sums add up in binary64, exact below 2^53 (K <= 2^20
 * gives at most 2^34). @part and @acc: scratch of mm * nn, if sliced.
 */
static void lpu_v3_i8_block(const float *qa, const float *sa, size_t mm,
                            size_t k, const float *qw, const float *sw,
                            size_t nn, float *out, size_t ldo, float *part,
                            double *acc)
{
    size_t k0, i, j;

    if (k <= LPU_V3_I8_SGEMM_MAX_K) {
        /* The exact sums land in out, then get scaled there. */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, mm, nn, k, 1.0f,
                    qa, k, qw, k, 0.0f, out, ldo);
        for (i = 0; i < mm; i++) {
            float *o = out + i * ldo;

            for (j = 0; j < nn; j++) {
                o[j] = (o[j] * sa[i]) * sw[j];
            }
        }
        return;
    }
    memset(acc, 0, mm * nn * sizeof(*acc));
    for (k0 = 0; k0 < k; k0 += LPU_V3_I8_SGEMM_MAX_K) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, mm, nn,
                    MIN(LPU_V3_I8_SGEMM_MAX_K, k - k0), 1.0f, qa + k0, k,
                    qw + k0, k, 0.0f, part, nn);
        for (i = 0; i < mm * nn; i++) {
            acc[i] += part[i];
        }
    }
    for (i = 0; i < mm; i++) {
        float *o = out + i * ldo;

        for (j = 0; j < nn; j++) {
            o[j] = ((float)acc[i * nn + j] * sa[i]) * sw[j];
        }
    }
}

/*
 * I8 product of a [m, k] and weights [n, k]: int8 values in SRAM (@w8,
 * converted a block of rows at a time) or already widened (@wf).
 */
static void lpu_v3_matmul_i8(const float *a, size_t m, size_t k,
                             const int8_t *w8, const float *wf,
                             const float *sw, size_t n, float *out,
                             size_t ldo)
{
    bool sliced = k > LPU_V3_I8_SGEMM_MAX_K;
    size_t mb = lpu_v3_plan_clamp(LPU_V3_TENSOR_SCRATCH / k, 1, m);
    size_t nb = wf ? n : lpu_v3_plan_clamp(LPU_V3_TENSOR_SCRATCH / k, 1, n);
    g_autofree float *qa = NULL;
    g_autofree float *qw = NULL;
    g_autofree float *sa = NULL;
    g_autofree float *part = NULL;
    g_autofree double *acc = NULL;
    size_t m0, n0, i;

    if (!wf) {
        nb = MIN(nb, MAX(LPU_V3_TENSOR_SCRATCH / mb, 1));
        qw = g_new(float, nb * k);
    }
    qa = g_new(float, mb * k);
    sa = g_new(float, mb);
    if (sliced) {
        part = g_new(float, mb * nb);
        acc = g_new(double, mb * nb);
    }
    for (m0 = 0; m0 < m; m0 += mb) {
        size_t mm = MIN(mb, m - m0);

        for (i = 0; i < mm; i++) {
            sa[i] = lpu_v3_quant_row(a + (m0 + i) * k, k, qa + i * k);
        }
        for (n0 = 0; n0 < n; n0 += nb) {
            size_t nn = MIN(nb, n - n0);

            if (!wf) {
                lpu_v3_widen(LPU_DT_I8, w8 + n0 * k, nn * k, qw);
            }
            lpu_v3_i8_block(qa, sa, mm, k, wf ? wf + n0 * k : qw, sw + n0,
                            nn, out + m0 * ldo + n0, ldo, part, acc);
        }
    }
}

void lpu_v3_widen(unsigned dtype, const void *w, size_t n, float *out)
{
    size_t i;

    if (dtype == LPU_DT_BF16) {
        const uint16_t *b = w;

        for (i = 0; i < n; i++) {
            out[i] = lpu_v3_bf16(b + i);
        }
    } else {
        const int8_t *q = w;

        for (i = 0; i < n; i++) {
            out[i] = q[i];
        }
    }
}

void lpu_v3_matmul(unsigned dtype, const float *a, size_t m, size_t k,
                   const void *w, const float *sw, size_t n,
                   float *out, size_t ldo)
{
    size_t nb, n0;

    switch (dtype) {
    case LPU_DT_F32:
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f,
                    a, k, w, k, 0.0f, out, ldo);
        break;
    case LPU_DT_BF16: {
        /* Widened exactly to binary32, a block of rows at a time. */
        g_autofree float *wf = NULL;

        nb = lpu_v3_plan_clamp(LPU_V3_TENSOR_SCRATCH / k, 1, n);
        wf = g_new(float, nb * k);
        for (n0 = 0; n0 < n; n0 += nb) {
            size_t nn = MIN(nb, n - n0);

            lpu_v3_widen(LPU_DT_BF16, (const uint16_t *)w + n0 * k, nn * k,
                         wf);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, nn, k,
                        1.0f, a, k, wf, k, 0.0f, out + n0, ldo);
        }
        break;
    }
    case LPU_DT_I8:
        lpu_v3_matmul_i8(a, m, k, w, NULL, sw, n, out, ldo);
        break;
    default:
        /* Validation admits no other dtype. */
        break;
    }
}

/* a [m, k] times widened weights [n, k] (I8: with the scales sw). */
static void lpu_v3_matmul_wide(unsigned dtype, const float *a, size_t m,
                               size_t k, const float *w, const float *sw,
                               size_t n, float *out, size_t ldo)
{
    if (dtype == LPU_DT_I8) {
        lpu_v3_matmul_i8(a, m, k, NULL, w, sw, n, out, ldo);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f,
                a, k, w, k, 0.0f, out, ldo);
}

void lpu_v3_ffn(unsigned dtype, const float *x, size_t rows, size_t h,
                size_t f, const float *w13, const float *s13,
                const float *w2, const float *s2, float *out)
{
    g_autofree float *gu = g_new(float, rows * 2 * f);
    g_autofree float *act = g_new(float, rows * f);
    size_t r, i;

    lpu_v3_matmul_wide(dtype, x, rows, h, w13, s13, 2 * f, gu, 2 * f);
    for (r = 0; r < rows; r++) {
        const float *g = gu + r * 2 * f;

        for (i = 0; i < f; i++) {
            act[r * f + i] = lpu_v3_silu(g[i]) * g[f + i];
        }
    }
    lpu_v3_matmul_wide(dtype, act, rows, f, w2, s2, h, out, h);
}

void lpu_v3_add(const float *a, const float *b, float *out, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        out[i] = a[i] + b[i];
    }
}

void lpu_v3_mul(const float *a, const float *b, float *out, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        out[i] = a[i] * b[i];
    }
}

void lpu_v3_silu_vec(const float *a, float *out, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        out[i] = lpu_v3_silu(a[i]);
    }
}

void lpu_v3_swiglu(const float *a, const float *b, float *out, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        out[i] = lpu_v3_silu(a[i]) * b[i];
    }
}

void lpu_v3_rmsnorm_row(const float *x, const float *gamma, float *out,
                        size_t n, float eps)
{
    double ss = 0.0, r;
    size_t i;

    for (i = 0; i < n; i++) {
        ss += (double)x[i] * (double)x[i];
    }
    r = 1.0 / sqrt(ss / (double)n + (double)eps);
    for (i = 0; i < n; i++) {
        out[i] = (float)((double)x[i] * r) * gamma[i];
    }
}

/* e[i] = exp(x[i] - max), returns their sum in index order. */
static double lpu_v3_exp_row(const float *x, size_t n, double *e)
{
    float mx = x[0];
    double s = 0.0;
    size_t i;

    for (i = 1; i < n; i++) {
        if (x[i] > mx) {
            mx = x[i];
        }
    }
    for (i = 0; i < n; i++) {
        e[i] = exp((double)x[i] - (double)mx);
        s += e[i];
    }
    return s;
}

void lpu_v3_softmax_row(const float *x, float *out, size_t n, double *e)
{
    double s = lpu_v3_exp_row(x, n, e);
    size_t i;

    for (i = 0; i < n; i++) {
        out[i] = (float)(e[i] / s);
    }
}

/* Does score @a rank before score @b (neither NaN)? */
static bool lpu_v3_ranks_before(const float *s, size_t a, size_t b)
{
    return s[a] > s[b] || (s[a] == s[b] && a < b);
}

/* Restore the heap below @i: every node ranks before its parent. */
static void lpu_v3_heap_down(const float *s, size_t *heap, size_t len,
                             size_t i)
{
    for (;;) {
        size_t worst = i, c = 2 * i + 1, t;

        if (c < len && lpu_v3_ranks_before(s, heap[worst], heap[c])) {
            worst = c;
        }
        if (c + 1 < len && lpu_v3_ranks_before(s, heap[worst], heap[c + 1])) {
            worst = c + 1;
        }
        if (worst == i) {
            return;
        }
        t = heap[i];
        heap[i] = heap[worst];
        heap[worst] = t;
        i = worst;
    }
}

/*
 * The k best non-NaN scores of @s, best first, in one pass with a heap of
 * k whose root is the worst kept (n * (1 + 2 * log2(k)) comparisons at
 * most, not k passes over the row). Returns how many there are.
 */
static size_t lpu_v3_topk_best(const float *s, size_t n, size_t k,
                               size_t *best)
{
    size_t len = 0, i, j, t;

    for (i = 0; i < n; i++) {
        if (isnan(s[i])) {
            continue;
        }
        if (len < k) {
            /* Sift up: a parent ranks after its children. */
            for (j = len++; j && lpu_v3_ranks_before(s, best[(j - 1) / 2], i);
                 j = (j - 1) / 2) {
                best[j] = best[(j - 1) / 2];
            }
            best[j] = i;
        } else if (lpu_v3_ranks_before(s, i, best[0])) {
            best[0] = i;
            lpu_v3_heap_down(s, best, len, 0);
        }
    }
    /* At most LPU_EXEC_MAX_TOPK: sort them by insertion. */
    for (i = 1; i < len; i++) {
        t = best[i];
        for (j = i; j && lpu_v3_ranks_before(s, t, best[j - 1]); j--) {
            best[j] = best[j - 1];
        }
        best[j] = t;
    }
    return len;
}

void lpu_v3_topk_row(const float *x, size_t n, size_t k, unsigned flags,
                     int32_t *idx, float *w, float *s, double *e,
                     uint8_t *chosen)
{
    /*
     * Kept here rather than read back from idx and w: those are SRAM,
     * which the guest may write while the engine runs.
     */
    size_t sel[LPU_EXEC_MAX_TOPK], best[LPU_EXEC_MAX_TOPK];
    float sw[LPU_EXEC_MAX_TOPK];
    size_t nbest, next = 0, low = 0, nan = 0, r;
    double d = 0.0;

    k = MIN(MIN(k, n), LPU_EXEC_MAX_TOPK);
    if (flags & LPU_TOPK_SIGMOID) {
        for (r = 0; r < n; r++) {
            s[r] = (float)(1.0 / (1.0 + exp(-(double)x[r])));
        }
    } else {
        lpu_v3_softmax_row(x, s, n, e);
    }
    /*
     * Rank by score, descending, the lower index first among equal
     * scores. A NaN score compares false with everything: a rank takes
     * the NaN at the lowest index still free if no free score comes
     * before it, else the best free score (NaNs never win a comparison).
     */
    nbest = lpu_v3_topk_best(s, n, k, best);
    for (r = 0; r < k; r++) {
        /* The lowest free non-NaN index, and the lowest free NaN one. */
        while (low < n && (isnan(s[low]) || chosen[low])) {
            low++;
        }
        while (nan < n && (!isnan(s[nan]) || chosen[nan])) {
            nan++;
        }
        if (nan < low || next == nbest) {
            sel[r] = nan;
        } else {
            sel[r] = best[next++];
        }
        chosen[sel[r]] = 1;
        sw[r] = s[sel[r]];
    }
    for (r = 0; r < k; r++) {
        chosen[sel[r]] = 0;
        d += (double)sw[r];
    }
    for (r = 0; r < k; r++) {
        idx[r] = sel[r];
        w[r] = flags & LPU_TOPK_RENORM ? (float)((double)sw[r] / d) : sw[r];
    }
}

void lpu_v3_axpy_row(float *out, const float *y, float w, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        out[i] = out[i] + w * y[i];
    }
}
