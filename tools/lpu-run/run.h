/* SPDX-License-Identifier: MIT */
/* lpu-run: what its job kinds share. */
#ifndef LPU_RUN_H
#define LPU_RUN_H

#include <stdint.h>

struct lpu_device;

/* Most --input options. */
#define RUN_MAX_INPUTS		16

/* What lpu-run SCHEDULE was asked to do. */
struct sched_args {
	const char *path;
	unsigned int queue;
	unsigned int n_inputs;
	const char *input_name[RUN_MAX_INPUTS];
	const char *input_file[RUN_MAX_INPUTS];
	const char *output_dir;	/* or NULL */
	const char *compare_dir;	/* or NULL */
	double rtol;		/* f32 outputs: max|d - r| <= rtol * max|r| */
	int exact;		/* --exact: every byte equal */
	unsigned long repeat;
	unsigned long timeout_ms;
};

double run_now_us(void);
/* copy.c: host -> SRAM -> host round trip of @size bytes; 0 or -errno. */
int run_copy(struct lpu_device *dev, unsigned int queue, uint64_t size,
	     const char *pci);
/*
 * schedule.c: load a schedule, run it, write and compare its outputs.
 * 0, 1 for a failure (message printed), 3 when outputs differ from the
 * reference.
 */
int run_schedule(struct lpu_device *dev, const struct sched_args *a);

#endif /* LPU_RUN_H */
