/* SPDX-License-Identifier: MIT */
/*
 * liblpu internals of loaded schedules (schedule.c loads and unloads,
 * schedule_run.c runs). Not installed.
 */
#ifndef LPU_SCHEDULE_INTERNAL_H
#define LPU_SCHEDULE_INTERNAL_H

#include <stdarg.h>

#include <drm/lpu_accel.h>
#include <lpu_hw.h>
#include <lpu_schedule.h>

#include "lpu_internal.h"

/* An input or output: its table row and where it lives in a host slot. */
struct sched_io {
	struct lpu_tensor_info info;
	uint32_t slot;
	uint64_t offset;
};

struct sched_slot {
	struct lpu_bo *bo;
	uint32_t handle;
	uint32_t domain;
	uint32_t role;
	void *map;		/* host slots only */
};

struct lpu_schedule {
	struct lpu_device *dev;
	struct lpu_schedule_info info;
	struct sched_slot slots[DRM_LPU_MAX_SLOTS];
	uint32_t handles[DRM_LPU_MAX_SLOTS];	/* passed with every run */
	struct sched_io *io;
	uint32_t io_count;
	/* A copy of the program, to name an instruction the card refused. */
	struct lpu_insn *program;
	uint64_t program_addr;
	uint64_t stats_addr;
	/* The stats record, inside a host slot's mapping. */
	struct lpu_exec_stats *stats;
	unsigned int queue;
	uint32_t timeout_ms;
	uint64_t in_flight;	/* seq of a run not yet waited for, or 0 */
	uint64_t last_seq;	/* the newest run, whose stats the record holds */
};

/* The I/O row called @name, or NULL. */
const struct sched_io *sched_find_io(const struct lpu_schedule *s,
				     const char *name);

#endif /* LPU_SCHEDULE_INTERNAL_H */
