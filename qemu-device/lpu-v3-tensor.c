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

static size_t lpu_v3_clamp(size_t v, size_t lo, size_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
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
 * I8: acc = the exact integer sum of qa[m][k] * qw[n][k], then
 * out = ((float)acc * sa[m]) * sw[n]. The int8 values go through binary32
 * GEMM in slices of at most LPU_V3_I8_SGEMM_MAX_K along K: every partial
 * sum of a slice is below 2^24, so binary32 holds it exactly whatever
 * order BLAS sums in and whether it fuses. With more than one slice the
 * slices' sums add up in binary64, exact below 2^53 (K <= 2^20 gives at
 * most 2^34).
 */
static void lpu_v3_matmul_i8(const float *a, size_t m, size_t k,
                             const int8_t *w, const float *sw, size_t n,
                             float *out, size_t ldo)
{
    bool sliced = k > LPU_V3_I8_SGEMM_MAX_K;
    size_t mb = lpu_v3_clamp(LPU_V3_TENSOR_SCRATCH / k, 1, m);
    size_t nb = lpu_v3_clamp(LPU_V3_TENSOR_SCRATCH / k, 1, n);
    g_autofree float *qa = NULL;
    g_autofree float *qw = NULL;
    g_autofree float *sa = g_new(float, mb);
    g_autofree float *part = NULL;
    g_autofree double *acc = NULL;
    size_t m0, n0, k0, i, j;

    nb = MIN(nb, MAX(LPU_V3_TENSOR_SCRATCH / mb, 1));
    qa = g_new(float, mb * k);
    qw = g_new(float, nb * k);
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
            const int8_t *wr = w + n0 * k;

            for (i = 0; i < nn * k; i++) {
                qw[i] = wr[i];
            }
            if (!sliced) {
                /* The exact sums land in out, then get scaled there. */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, mm, nn,
                            k, 1.0f, qa, k, qw, k, 0.0f,
                            out + m0 * ldo + n0, ldo);
                for (i = 0; i < mm; i++) {
                    float *o = out + (m0 + i) * ldo + n0;

                    for (j = 0; j < nn; j++) {
                        o[j] = (o[j] * sa[i]) * sw[n0 + j];
                    }
                }
                continue;
            }
            memset(acc, 0, mm * nn * sizeof(*acc));
            for (k0 = 0; k0 < k; k0 += LPU_V3_I8_SGEMM_MAX_K) {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, mm, nn,
                            MIN(LPU_V3_I8_SGEMM_MAX_K, k - k0), 1.0f,
                            qa + k0, k, qw + k0, k, 0.0f, part, nn);
                for (i = 0; i < mm * nn; i++) {
                    acc[i] += part[i];
                }
            }
            for (i = 0; i < mm; i++) {
                float *o = out + (m0 + i) * ldo + n0;

                for (j = 0; j < nn; j++) {
                    o[j] = ((float)acc[i * nn + j] * sa[i]) * sw[n0 + j];
                }
            }
        }
    }
}

void lpu_v3_matmul(unsigned dtype, const float *a, size_t m, size_t k,
                   const void *w, const float *sw, size_t n,
                   float *out, size_t ldo)
{
    size_t nb, n0, i;

    switch (dtype) {
    case LPU_DT_F32:
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f,
                    a, k, w, k, 0.0f, out, ldo);
        break;
    case LPU_DT_BF16: {
        /* Widened exactly to binary32, a block of rows at a time. */
        g_autofree float *wf = NULL;

        nb = lpu_v3_clamp(LPU_V3_TENSOR_SCRATCH / k, 1, n);
        wf = g_new(float, nb * k);
        for (n0 = 0; n0 < n; n0 += nb) {
            size_t nn = MIN(nb, n - n0);
            const uint16_t *wr = (const uint16_t *)w + n0 * k;

            for (i = 0; i < nn * k; i++) {
                wf[i] = lpu_v3_bf16(wr + i);
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, nn, k,
                        1.0f, a, k, wf, k, 0.0f, out + n0, ldo);
        }
        break;
    }
    case LPU_DT_I8:
        lpu_v3_matmul_i8(a, m, k, w, sw, n, out, ldo);
        break;
    default:
        /* Validation admits no other dtype. */
        break;
    }
}

void lpu_v3_ffn(unsigned dtype, const float *x, size_t rows, size_t h,
                size_t f, const void *w13, const float *s13,
                const void *w2, const float *s2, float *out)
{
    g_autofree float *gu = g_new(float, rows * 2 * f);
    g_autofree float *act = g_new(float, rows * f);
    size_t r, i;

    lpu_v3_matmul(dtype, x, rows, h, w13, s13, 2 * f, gu, 2 * f);
    for (r = 0; r < rows; r++) {
        const float *g = gu + r * 2 * f;

        for (i = 0; i < f; i++) {
            act[r * f + i] = lpu_v3_silu(g[i]) * g[f + i];
        }
    }
    lpu_v3_matmul(dtype, act, rows, f, w2, s2, h, out, h);
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

void lpu_v3_topk_row(const float *x, size_t n, size_t k, unsigned flags,
                     int32_t *idx, float *w, float *s, double *e,
                     uint8_t *chosen)
{
    /*
     * Kept here rather than read back from idx and w: those are SRAM,
     * which the guest may write while the engine runs.
     */
    size_t sel[LPU_EXEC_MAX_TOPK];
    float sw[LPU_EXEC_MAX_TOPK];
    double d = 0.0;
    size_t i, r;

    k = MIN(MIN(k, n), LPU_EXEC_MAX_TOPK);
    if (flags & LPU_TOPK_SIGMOID) {
        for (i = 0; i < n; i++) {
            s[i] = (float)(1.0 / (1.0 + exp(-(double)x[i])));
        }
    } else {
        lpu_v3_softmax_row(x, s, n, e);
    }
    /*
     * Rank by score, descending; a strict comparison keeps the lower
     * index first among equal scores.
     */
    for (r = 0; r < k; r++) {
        size_t best = n;

        for (i = 0; i < n; i++) {
            if (!chosen[i] && (best == n || s[i] > s[best])) {
                best = i;
            }
        }
        chosen[best] = 1;
        sel[r] = best;
        sw[r] = s[best];
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
