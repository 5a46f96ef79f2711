/* SPDX-License-Identifier: MIT */
/* lpu-bench: measurement primitives and statistics. */
#ifndef LPU_BENCH_H
#define LPU_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "lpu.h"

struct bench_opts {
	int card;
	unsigned int queue;
	unsigned int rtt_iters;
	unsigned int tput_jobs;
	unsigned int warmup;
	unsigned int depth;
};

int64_t bench_now_ns(void);

/* Percentile @p (0..100) of @n samples, nearest rank; sorts @v. */
double bench_percentile(uint64_t *v, size_t n, unsigned int p);

/* Fill @ns[@n] with DRM_IOCTL_VERSION round trips; 0 or -errno. */
int bench_version_rtt(int fd, uint64_t *ns, size_t n);
/* Fill @rtt[@n] and @dev[@n] with NOP round trips and device times. */
int bench_nop_rtt(struct lpu_device *dev, unsigned int queue, uint64_t *rtt,
		  uint64_t *devns, size_t n);
/* Run @jobs NOPs keeping @depth in flight; jobs per second in *rate. */
int bench_nop_throughput(struct lpu_device *dev, unsigned int queue,
			 unsigned int jobs, unsigned int depth, double *rate);

/* Print "BENCH <name> <value> <unit> baseline=<b> ratio=<value/b>". */
void bench_line(const char *name, double value, const char *unit,
		double baseline);

/*
 * DMA host->SRAM and SRAM->host bandwidth for 4 KiB..64 MiB and writes
 * through mmap'd SRAM, each against memcpy() (dma.c); 0 or -errno.
 */
int bench_dma_all(struct lpu_device *dev, unsigned int queue);

/*
 * MoE schedules of @dir (moe.c): tokens/s against @baseline (the numpy
 * reference's, measured on the host), and device cycles as E grows.
 */
int bench_moe(struct lpu_device *dev, const char *dir, double baseline,
	      unsigned int reps);

#endif /* LPU_BENCH_H */
