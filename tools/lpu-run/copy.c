// SPDX-License-Identifier: MIT
/*
 * lpu-run --copy: a DMA round trip host -> SRAM -> host through the card's
 * copy engine, checked byte for byte against the source, with the time
 * each leg took and the SRAM the driver reports in use meanwhile.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lpu.h>

#include "run.h"

/* The driver's own view of SRAM in use; -1 if sysfs does not say. */
static long long sram_used(const char *pci)
{
	char path[256];
	long long v = -1;
	FILE *f;

	if (!pci[0])
		return -1;
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/sram_used_bytes",
		 lpu_sysfs_root(), pci);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static int copy_leg(struct lpu_device *dev, unsigned int queue,
		    const char *name, struct lpu_bo *dst, struct lpu_bo *src,
		    uint64_t size)
{
	struct lpu_copy_op op = { .dst = dst, .src = src, .size = size };
	struct lpu_copy_status st;
	double t0, t1;
	int ret;

	t0 = run_now_us();
	ret = lpu_copy(dev, queue, &op, 1, &st);
	t1 = run_now_us();
	if (ret) {
		fprintf(stderr, "lpu-run: copy %s failed: %s\n", name,
			lpu_strerror(ret));
		return ret;
	}
	printf("%-14s %8.1f us round trip, %8.1f us on the device, %7.0f MiB/s\n",
	       name, t1 - t0, st.device_ns / 1e3,
	       size / (1024.0 * 1024.0) / ((t1 - t0) / 1e6));
	return 0;
}

int run_copy(struct lpu_device *dev, unsigned int queue, uint64_t size,
	     const char *pci)
{
	struct lpu_bo *a = NULL, *s = NULL, *b = NULL;
	uint8_t *pa, *pb;
	uint64_t i, bad = 0;
	int ret;

	ret = lpu_bo_alloc(dev, LPU_BO_HOST, size, 0, &a);
	if (!ret)
		ret = lpu_bo_alloc(dev, LPU_BO_SRAM, size, 0, &s);
	if (!ret)
		ret = lpu_bo_alloc(dev, LPU_BO_HOST, size, 0, &b);
	if (!ret)
		ret = lpu_bo_map(a, (void **)&pa);
	if (!ret)
		ret = lpu_bo_map(b, (void **)&pb);
	if (ret) {
		fprintf(stderr, "lpu-run: buffers of %" PRIu64 " bytes: %s\n",
			size, lpu_strerror(ret));
		goto out;
	}
	/* A pattern that differs at every offset and from run to run. */
	srand(size ^ (uint64_t)run_now_us());
	for (i = 0; i < size; i++)
		pa[i] = (uint8_t)(i * 131 + rand());
	printf("buffers: host %" PRIu64 " KiB x2, SRAM %" PRIu64 " KiB (SRAM in use: %lld KiB)\n",
	       lpu_bo_size(a) >> 10, lpu_bo_size(s) >> 10, sram_used(pci) >> 10);

	ret = copy_leg(dev, queue, "host -> SRAM", s, a, size);
	if (!ret)
		ret = copy_leg(dev, queue, "SRAM -> host", b, s, size);
	if (ret)
		goto out;
	for (i = 0; i < size; i++)
		bad += pa[i] != pb[i];
	if (bad) {
		fprintf(stderr, "lpu-run: %" PRIu64 " of %" PRIu64 " bytes differ after the round trip\n",
			bad, size);
		ret = -EIO;
		goto out;
	}
	printf("round trip of %" PRIu64 " bytes verified byte for byte\n", size);
out:
	lpu_bo_free(b);
	lpu_bo_free(s);
	lpu_bo_free(a);
	if (!ret)
		printf("after free: SRAM in use %lld KiB\n", sram_used(pci) >> 10);
	return ret;
}
