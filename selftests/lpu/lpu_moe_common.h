/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the MoE schedule selftests (lpu_moe.c, lpu_moe_mutate.c): the
 * test data the host built into the guest (compiled schedules, inputs and
 * the numpy reference's outputs under /opt/lpu/moe/<case>/), loading and
 * running through liblpu, and comparing outputs with the reference by the
 * issue's rules.
 */
#ifndef LPU_MOE_COMMON_H
#define LPU_MOE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "lpu.h"

/* Test data root; $LPU_MOE_DIR overrides it. */
#define MOE_DIR_DEFAULT		"/opt/lpu/moe"
/* Per-run timeout the tests give the card (TCG is slow, not stuck). */
#define MOE_RUN_TIMEOUT_MS	30000
/*
 * The "fp32 within 1e-5 relative", read as
 * max|d| <= MOE_RTOL * max|ref|.
 */
#define MOE_RTOL		(1.0 / 100000)

/* Path of @file in case directory @name: <root>/<name>/<file>. */
void moe_path(const char *name, const char *file, char *buf, size_t len);
/* A whole file in memory (8-byte aligned); 0 or -errno. */
int moe_read_file(const char *path, uint8_t **data, size_t *size);

/*
 * Load case @name's schedule.lpus with its input "x" set from x.npy and
 * the run timeout above; 0 or -errno with a message.
 */
int moe_load_case(struct lpu_device *dev, const char *name,
		  struct lpu_schedule **s, char *msg, size_t len);
/* Set input "x" from the case's x.npy; 0 or -errno with a message. */
int moe_set_x(struct lpu_schedule *s, const char *name, char *msg,
	      size_t len);

/*
 * Compare every output of the last run with the case's ref/<name>.npy, and
 * every reference file must be an output: router choices and expert counters
 * exactly, activations bit for bit if @exact, else max|d - r| <= 1e-5 *
 * max|r|. Returns the number of differences, the first described in @msg.
 */
int moe_compare(struct lpu_schedule *s, const char *name, int exact,
		char *msg, size_t len);
/* Every output of the last run, concatenated; free() it. NULL on error. */
uint8_t *moe_snapshot(struct lpu_schedule *s, size_t *size);

#endif /* LPU_MOE_COMMON_H */
