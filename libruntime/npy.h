/* SPDX-License-Identifier: MIT */
/*
 * NumPy .npy files of f32 or i32 tensors (C order, little-endian), for
 * lpu-run and the tests: how schedules' inputs and outputs travel.
 * Part of liblpu.a but not of liblpu.so's ABI (not exported).
 *
 * Format (NumPy's format.py documents it): "\x93NUMPY", major and minor
 * version bytes, a little-endian header length (2 bytes in version 1, 4 in
 * 2 and 3), then a Python dict literal such as
 * {'descr': '<f4', 'fortran_order': False, 'shape': (4, 256), }
 * padded with spaces and a newline, then the raw data.
 */
#ifndef LPU_NPY_H
#define LPU_NPY_H

#include <stddef.h>
#include <stdint.h>

#define LPU_NPY_MAX_RANK	4

struct lpu_npy {
	uint32_t dtype;		/* LPU_DT_F32 or LPU_DT_I32 */
	uint32_t rank;		/* 0 (a scalar) .. LPU_NPY_MAX_RANK */
	uint64_t shape[LPU_NPY_MAX_RANK];
	uint64_t count;		/* elements */
	uint64_t bytes;		/* count * 4 */
	void *data;		/* malloc()ed, @bytes long */
};

/*
 * Check a whole .npy file in memory and copy its data out. 0, or -EINVAL
 * with a message naming what is wrong (-ENOMEM). @out is zeroed on error.
 */
int lpu_npy_parse(const void *buf, size_t len, struct lpu_npy *out,
		  char *msg, size_t msglen);
/* The same for the file at @path (-errno of open/read too). */
int lpu_npy_read(const char *path, struct lpu_npy *out, char *msg,
		 size_t msglen);
/* Write a version 1.0 file; 0 or -errno with a message. */
int lpu_npy_write(const char *path, uint32_t dtype, uint32_t rank,
		  const uint64_t *shape, const void *data, char *msg,
		  size_t msglen);
void lpu_npy_free(struct lpu_npy *n);

/* Schedules' inputs and outputs as .npy files (sched_npy.c). */

/* "f32", "bf16", "int8", "i32" or "?" for an LPU_DT_* value. */
const char *lpu_dtype_name(uint32_t dt);
struct lpu_schedule;
struct lpu_device;

/*
 * Set input @name of @s from the .npy file at @path, whose dtype and shape
 * must be the input's; 0 or -errno with a message.
 */
int lpu_schedule_input_npy(struct lpu_schedule *s, const char *name,
			   const char *path, char *msg, size_t len);
/*
 * Load @dir/schedule.lpus with a run timeout of @timeout_ms and its input
 * "x" set from @dir/x.npy (a test or bench case); 0 or -errno with a
 * message, nothing left loaded on error.
 */
int lpu_schedule_load_case(struct lpu_device *dev, const char *dir,
			   uint32_t timeout_ms, struct lpu_schedule **s,
			   char *msg, size_t len);

/* Called once per output (and per missing one): @bad, and a line saying why. */
typedef void (*lpu_compare_report)(void *ctx, const char *name, int bad,
				   const char *line);
/*
 * Compare every output of the last run with @dir/<name>.npy: i32 outputs
 * (router choices, expert counters) and, if @exact, f32 ones bit for bit;
 * else max|got - ref| <= @rtol * max|ref| (NaN never matches). A reference
 * file the schedule has no output for counts as a difference too. Returns
 * the number of differences (0: all match).
 */
int lpu_schedule_compare_dir(struct lpu_schedule *s, const char *dir,
			     int exact, double rtol, lpu_compare_report report,
			     void *ctx);

#endif /* LPU_NPY_H */
