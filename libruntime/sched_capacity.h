/* SPDX-License-Identifier: MIT */
/*
 * The expert capacity rule of schedules, in one place: lpu-compile
 * computes a schedule's C with it and lpu_sched_parse() refuses a manifest
 * whose C is not what it gives (tools/moe/reference.py states the same
 * rule in numpy). Header-only, so lpu-compile's unit tests need no liblpu.
 */
#ifndef LPU_SCHED_CAPACITY_H
#define LPU_SCHED_CAPACITY_H

#include <stdint.h>

/*
 * C = ceil(cf * T * k / E) in binary64, left to right, then clamped to
 * 1..T. @cf must be finite and > 0 and @experts non-zero. The ceiling is
 * taken by hand: liblpu does not link libm.
 */
static inline uint32_t lpu_sched_capacity(float cf, uint32_t tokens,
					  uint32_t k, uint32_t experts)
{
	double c = (double)cf * tokens * k / experts;
	uint64_t i;

	if (c >= tokens)
		return tokens;
	i = (uint64_t)c;
	if ((double)i < c)
		i++;
	return i < 1 ? 1 : (uint32_t)i;
}

#endif /* LPU_SCHED_CAPACITY_H */
