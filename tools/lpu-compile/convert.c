// SPDX-License-Identifier: MIT
/*
 * Weight conversion, bit for bit as uapi/lpu_hw.h's NUMERICS rules say:
 * BF16 is the upper half of a binary32, rounded to nearest even; I8 uses
 * the quant rule on every output row (one binary32 scale per row) and is
 * stored as a qblock: all values, zeroes up to LPU_EXEC_ALIGN, the scales.
 * Compiled without -ffast-math: every operation is one IEEE rounding.
 */
#include <endian.h>
#include <math.h>
#include <string.h>

#include "compile.h"

uint16_t f32_to_bf16(float f)
{
	uint32_t bits;

	memcpy(&bits, &f, 4);
	if ((bits & 0x7fffffffU) > 0x7f800000U)		/* NaN stays NaN */
		return (uint16_t)((bits >> 16) | 0x40);
	return (uint16_t)((bits + 0x7fffU + ((bits >> 16) & 1)) >> 16);
}

void quant_row(const float *v, uint64_t k, int8_t *q, float *scale)
{
	float amax = 0.0f, s;
	uint64_t i;

	for (i = 0; i < k; i++)
		if (fabsf(v[i]) > amax)
			amax = fabsf(v[i]);
	s = amax == 0.0f ? 1.0f : amax / 127.0f;
	for (i = 0; i < k; i++) {
		/* nearbyintf: the current rounding mode, to nearest even */
		float r = nearbyintf(v[i] / s);

		if (r > 127.0f)
			r = 127.0f;
		if (r < -127.0f)
			r = -127.0f;
		q[i] = (int8_t)r;
	}
	*scale = s;
}

void store_rows(void *dst, uint32_t dtype, uint64_t rows_total, uint64_t k,
		uint64_t first, uint64_t rows, const float *w)
{
	uint8_t *d = dst;
	uint64_t i, r;

	switch (dtype) {
	case LPU_DT_F32:
		for (i = 0; i < rows * k; i++) {
			uint32_t bits;

			memcpy(&bits, &w[i], 4);
			bits = htole32(bits);
			memcpy(d + 4 * (first * k + i), &bits, 4);
		}
		return;
	case LPU_DT_BF16:
		for (i = 0; i < rows * k; i++) {
			uint16_t h = htole16(f32_to_bf16(w[i]));

			memcpy(d + 2 * (first * k + i), &h, 2);
		}
		return;
	case LPU_DT_I8:
		for (r = 0; r < rows; r++) {
			uint64_t row = first + r;
			uint32_t bits;
			float scale;

			quant_row(w + r * k, k, (int8_t *)(d + row * k), &scale);
			memcpy(&bits, &scale, 4);
			bits = htole32(bits);
			memcpy(d + LPU_QBLOCK_SCALES_OFFSET(1, rows_total, k) + 4 * row,
			       &bits, 4);
		}
		return;
	}
}
