// SPDX-License-Identifier: MIT
/*
 * Unit tests of lpu-compile's weight conversion and capacity rule against
 * hand-worked values: BF16 rounding (ties to even, NaN, overflow), the
 * int8 quant rule (ties to even, zero rows, the clamp, the qblock layout)
 * C = ceil(cf * T * k / E) clamped to 1..T, and the weights image of the
 * buffer plan (slot images are LPU_SCHED_ALIGN multiples).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "tap.h"

int err(const char *fmt, ...)
{
	(void)fmt;
	return -1;
}

static float f_of(uint32_t bits)
{
	float f;

	memcpy(&f, &bits, 4);
	return f;
}

static void test_bf16(void)
{
	tap_is(f32_to_bf16(1.0f), 0x3f80, "bf16(1.0)");
	tap_is(f32_to_bf16(f_of(0x3f808000)), 0x3f80, "a tie rounds to even (down)");
	tap_is(f32_to_bf16(f_of(0x3f818000)), 0x3f82, "a tie rounds to even (up)");
	tap_is(f32_to_bf16(f_of(0x3f808001)), 0x3f81, "above the tie rounds up");
	tap_is(f32_to_bf16(f_of(0x3f807fff)), 0x3f80, "below the tie rounds down");
	tap_is(f32_to_bf16(-2.0f), 0xc000, "bf16(-2.0)");
	tap_is(f32_to_bf16(f_of(0x7f7fffff)), 0x7f80, "the largest float rounds to inf");
	tap_is(f32_to_bf16(INFINITY), 0x7f80, "inf stays inf");
	tap_ok((f32_to_bf16(NAN) & 0x7fff) > 0x7f80, "NaN stays NaN");
	tap_ok((f32_to_bf16(f_of(0x7f800001)) & 0x7fff) > 0x7f80,
	       "a NaN with only low payload bits stays NaN");
}

static void test_quant(void)
{
	/* amax 127: scale 1, so v / scale is v and the ties are visible */
	static const float v[8] = { 127, 63.5f, -63.5f, 62.5f, 0.5f, 1.5f, -0.5f, -127 };
	static const int8_t want[8] = { 127, 64, -64, 62, 0, 2, 0, -127 };
	static const float zero[4];
	int8_t q[8];
	float s, w[3] = { 1.0f, -3.0f, 2.0f };
	uint8_t block[LPU_QBLOCK_SIZE(1, 2, 3)];
	int i, same = 1;

	quant_row(v, 8, q, &s);
	for (i = 0; i < 8; i++)
		same &= q[i] == want[i];
	tap_ok(same && s == 1.0f, "quant: scale amax / 127, ties to even");
	quant_row(zero, 4, q, &s);
	tap_ok(s == 1.0f && !q[0] && !q[3], "quant: an all-zero row has scale 1");
	quant_row(w, 3, q, &s);
	tap_ok(s == 3.0f / 127.0f && q[1] == -127 && q[0] == 42 && q[2] == 85,
	       "quant: [1, -3, 2] -> [42, -127, 85] x 3/127");

	memset(block, 0xee, sizeof(block));
	store_rows(block, LPU_DT_I8, 2, 3, 1, 1, w);
	tap_ok((int8_t)block[3] == 42 && (int8_t)block[4] == -127 && (int8_t)block[5] == 85,
	       "qblock: row 1's values at 3..5");
	memcpy(&s, block + LPU_QBLOCK_SCALES_OFFSET(1, 2, 3) + 4, 4);
	tap_ok(s == 3.0f / 127.0f, "qblock: row 1's scale after the 64-byte padded values");
	tap_is(sizeof(block), 72, "qblock of 2 x 3 is 64 + 8 bytes");

	store_rows(block, LPU_DT_BF16, 2, 3, 1, 1, w);
	tap_ok(block[6] == 0x80 && block[7] == 0x3f, "bf16 rows: little-endian, row 1 at 6");
}

static void test_capacity(void)
{
	tap_is(capacity_for(1.25f, 32, 2, 8), 10, "C(1.25, T 32, k 2, E 8) = 10");
	tap_is(capacity_for(1.25f, 32, 4, 16), 10, "C(1.25, T 32, k 4, E 16) = 10");
	tap_is(capacity_for(1.0f, 8, 2, 4), 4, "C(1.0, 8, 2, 4) = 4 exactly");
	tap_is(capacity_for(1.1f, 10, 1, 1), 10, "C is at most T");
	tap_is(capacity_for(0.001f, 4, 1, 64), 1, "C is at least 1");
	tap_is(capacity_for(1.25f, 1, 2, 64), 1, "one token");
	tap_is(capacity_for(1.5f, 7, 3, 5), 7, "C(1.5, 7, 3, 5) = ceil(6.3) = 7");
	tap_is(capacity_for(0.5f, 16, 3, 8), 3, "C(0.5, 16, 3, 8) = 3");
}

/* The WEIGHTS image of @n weights of [rows[i], k[i]] @dtype. */
static uint64_t image_of(uint32_t dtype, int n, const uint32_t (*shapes)[2])
{
	struct plan *p = calloc(1, sizeof(*p));
	uint64_t size = 0;
	int i, ok = 1;

	if (!p)
		abort();
	for (i = 0; i < n; i++)
		ok &= plan_weight(p, "w", dtype, 2, shapes[i]) >= 0;
	if (ok && !plan_finish(p))
		size = p->weights_size;
	free(p->weights);
	free(p);
	return size;
}

static void test_plan_image(void)
{
	static const uint32_t f32[2][2] = { { 4, 16 }, { 3, 5 } };
	static const uint32_t i8[1][2] = { { 300, 21 } };
	static const uint32_t bf16[1][2] = { { 1, 64 } };

	/* 256 bytes, then 60 at 256: 316 used, an image of 320 */
	tap_is(image_of(LPU_DT_F32, 2, f32), 320,
	       "plan: a last weight ending at 316 gives a 320-byte image");
	/* qblock: 6300 values padded to 6336, then 300 scales: 7536 -> 7552 */
	tap_is(image_of(LPU_DT_I8, 1, i8), 7552,
	       "plan: an I8 qblock of 7536 bytes gives a 7552-byte image");
	tap_is(image_of(LPU_DT_BF16, 1, bf16), 128,
	       "plan: an aligned weight needs no padding");
}

int main(void)
{
	test_bf16();
	test_quant();
	test_capacity();
	test_plan_image();
	return tap_done();
}
