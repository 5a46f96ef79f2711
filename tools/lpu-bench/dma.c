// SPDX-License-Identifier: MIT
/*
 * lpu-bench: bandwidth of the DMA engine and of mmap'd SRAM, each against
 * the guest CPU's memcpy() of the same size measured in the same run.
 *
 *   dma_h2s_<size>   MiB/s  host -> SRAM copy job, submit to wait return.
 *                           Baseline: memcpy() host -> host, same size.
 *   dma_s2h_<size>   MiB/s  SRAM -> host. Same baseline.
 *   sram_mmap_write_<size> MiB/s  memcpy() into a write-combined SRAM
 *                           mapping. Baseline: memcpy() into host memory.
 *
 * Every figure is the median of several repetitions (more for small sizes),
 * after one untimed warm-up that faults in pages and pins host buffers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define MiB		(1024.0 * 1024.0)
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static const struct {
	uint64_t size;
	const char *name;
} dma_sizes[] = {
	{ 4096, "4KiB" },
	{ 64 << 10, "64KiB" },
	{ 1 << 20, "1MiB" },
	{ 64 << 20, "64MiB" },
};

/* Repetitions for @size: about 256 MiB moved, within [5, 200]. */
static unsigned int reps_for(uint64_t size)
{
	uint64_t r = (256ULL << 20) / size;

	return r < 5 ? 5 : r > 200 ? 200 : r;
}

static double mib_per_s(uint64_t bytes, uint64_t ns)
{
	return ns ? bytes / MiB * 1e9 / ns : 0;
}

/* Median of @n bandwidth samples (MiB/s) of @size bytes taking ns[i]. */
static double median_bw(uint64_t *ns, unsigned int n, uint64_t size)
{
	/* The median time is the median bandwidth. */
	return mib_per_s(size, bench_percentile(ns, n, 50));
}

static double memcpy_bw(void *dst, const void *src, uint64_t size,
			unsigned int reps, uint64_t *ns)
{
	unsigned int i;
	int64_t t0;

	memcpy(dst, src, size);		/* warm-up: fault the pages in */
	for (i = 0; i < reps; i++) {
		t0 = bench_now_ns();
		memcpy(dst, src, size);
		/* Keep the copy: the compiler must not drop it. */
		__asm__ __volatile__("" : : "r"(dst) : "memory");
		ns[i] = bench_now_ns() - t0;
	}
	return median_bw(ns, reps, size);
}

static int dma_bw(struct lpu_device *dev, unsigned int queue,
		  struct lpu_bo *dst, struct lpu_bo *src, uint64_t size,
		  unsigned int reps, uint64_t *ns, double *bw)
{
	struct lpu_copy_op op = { .dst = dst, .src = src, .size = size };
	struct lpu_copy_status st;
	unsigned int i;
	int64_t t0;
	int ret;

	for (i = 0; i <= reps; i++) {
		t0 = bench_now_ns();
		ret = lpu_copy(dev, queue, &op, 1, &st);
		if (ret)
			return ret;
		/* Sample 0 is the warm-up. */
		if (i)
			ns[i - 1] = bench_now_ns() - t0;
	}
	*bw = median_bw(ns, reps, size);
	return 0;
}

static int bench_one_size(struct lpu_device *dev, unsigned int queue,
			  uint64_t size, const char *sname, uint64_t *ns)
{
	unsigned int reps = reps_for(size);
	struct lpu_bo *host = NULL, *sram = NULL;
	double base, h2s, s2h;
	char name[64];
	void *hmap, *a, *b;
	int ret;

	a = malloc(size);
	b = malloc(size);
	if (!a || !b) {
		ret = -ENOMEM;
		goto out;
	}
	memset(a, 0x5a, size);
	base = memcpy_bw(b, a, size, reps, ns);

	ret = lpu_bo_alloc(dev, LPU_BO_HOST, size, 0, &host);
	if (!ret)
		ret = lpu_bo_alloc(dev, LPU_BO_SRAM, size, 0, &sram);
	if (!ret)
		ret = lpu_bo_map(host, &hmap);
	if (ret)
		goto out;
	memset(hmap, 0xa5, size);
	ret = dma_bw(dev, queue, sram, host, size, reps, ns, &h2s);
	if (!ret)
		ret = dma_bw(dev, queue, host, sram, size, reps, ns, &s2h);
	if (ret)
		goto out;
	snprintf(name, sizeof(name), "dma_h2s_%s", sname);
	bench_line(name, h2s, "MiB/s", base);
	snprintf(name, sizeof(name), "dma_s2h_%s", sname);
	bench_line(name, s2h, "MiB/s", base);
out:
	lpu_bo_free(host);
	lpu_bo_free(sram);
	free(a);
	free(b);
	return ret;
}

/* memcpy() into mmap'd SRAM against memcpy() into host memory. */
static int bench_mmap_write(struct lpu_device *dev, uint64_t size,
			    const char *sname, uint64_t *ns)
{
	unsigned int reps = reps_for(size);
	struct lpu_bo *sram = NULL;
	double base, wc;
	void *src, *dst = NULL, *map;
	char name[64];
	int ret;

	src = malloc(size);
	dst = malloc(size);
	if (!src || !dst) {
		ret = -ENOMEM;
		goto out;
	}
	memset(src, 0x3c, size);
	base = memcpy_bw(dst, src, size, reps, ns);
	ret = lpu_bo_alloc(dev, LPU_BO_SRAM, size, 0, &sram);
	if (!ret)
		ret = lpu_bo_map(sram, &map);
	if (ret)
		goto out;
	wc = memcpy_bw(map, src, size, reps, ns);
	snprintf(name, sizeof(name), "sram_mmap_write_%s", sname);
	bench_line(name, wc, "MiB/s", base);
out:
	lpu_bo_free(sram);
	free(src);
	free(dst);
	return ret;
}

int bench_dma_all(struct lpu_device *dev, unsigned int queue)
{
	uint64_t *ns = calloc(200, sizeof(*ns));
	unsigned int i;
	int ret = 0;

	if (!ns)
		return -ENOMEM;
	for (i = 0; i < ARRAY_SIZE(dma_sizes) && !ret; i++)
		ret = bench_one_size(dev, queue, dma_sizes[i].size,
				     dma_sizes[i].name, ns);
	if (!ret)
		ret = bench_mmap_write(dev, 1 << 20, "1MiB", ns);
	if (!ret)
		ret = bench_mmap_write(dev, 64 << 20, "64MiB", ns);
	free(ns);
	return ret;
}
