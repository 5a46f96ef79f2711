/*
 * LPU v3 inference accelerator: the tensor engine's arithmetic
 *
 * Pure functions on host pointers into the SRAM RAM block, called by the
 * instruction step machine (lpu-v3-exec.c) only after the instruction was
 * validated: every size here is bounded by a validated dimension, so the
 * scratch buffers these functions allocate are bounded too.
 *
 * They follow the NUMERICS rules of lpu_hw.h exactly. This file is built
 * with -ffp-contract=off: a fused multiply-add would round once where the
 * rules round twice.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_LPU_V3_TENSOR_H
#define HW_MISC_LPU_V3_TENSOR_H

#include "lpu-v3-plan.h"

/*
 * Largest K for which an I8 product runs through one binary32 GEMM: every
 * partial sum of K products of a quantised activation (-127..127) and a
 * stored weight (-128..127) is then at most 1032 * 127 * 128 < 2^24, so
 * binary32 holds it exactly. Longer rows go through it in slices of this
 * many, whose sums add up in binary64 (exact below 2^53).
 */
#define LPU_V3_I8_SGEMM_MAX_K       1032

float lpu_v3_silu(float x);

/*
 * out[m][n] = sum over k of a[m][k] * w[n][k] with @dtype (LPU_DT_F32,
 * BF16 or I8; I8: @w holds int8 values and @sw the per-row scales).
 * a is [m, k] with row stride k, out [m, n] with row stride @ldo.
 */
void lpu_v3_matmul(unsigned dtype, const float *a, size_t m, size_t k,
                   const void *w, const float *sw, size_t n,
                   float *out, size_t ldo);

/* out[i] = w[i] widened exactly to binary32 (BF16, I8), i < n. */
void lpu_v3_widen(unsigned dtype, const void *w, size_t n, float *out);

/*
 * The SwiGLU feed-forward of one expert on @rows rows of x [rows, h]:
 * w13 [2f, h], w2 [h, f] as binary32 (F32 weights, or BF16 and I8 ones
 * widened by lpu_v3_widen(); I8 with the scales s13, s2); out [rows, h].
 */
void lpu_v3_ffn(unsigned dtype, const float *x, size_t rows, size_t h,
                size_t f, const float *w13, const float *s13,
                const float *w2, const float *s2, float *out);

void lpu_v3_add(const float *a, const float *b, float *out, size_t n);
void lpu_v3_mul(const float *a, const float *b, float *out, size_t n);
void lpu_v3_silu_vec(const float *a, float *out, size_t n);
void lpu_v3_swiglu(const float *a, const float *b, float *out, size_t n);

void lpu_v3_rmsnorm_row(const float *x, const float *gamma, float *out,
                        size_t n, float eps);
/* @e: scratch of n doubles. */
void lpu_v3_softmax_row(const float *x, float *out, size_t n, double *e);

/*
 * One token of the router: the k best of @n scores of the logits @x,
 * with LPU_TOPK_* @flags. Scratch: @s n floats, @e n doubles, @chosen n
 * bytes that are zero on entry and on return.
 */
void lpu_v3_topk_row(const float *x, size_t n, size_t k, unsigned flags,
                     int32_t *idx, float *w, float *s, double *e,
                     uint8_t *chosen);

/* out[i] = out[i] + w * y[i], i < n, each step rounded to binary32. */
void lpu_v3_axpy_row(float *out, const float *y, float w, size_t n);

#endif
