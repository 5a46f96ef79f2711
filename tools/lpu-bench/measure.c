// SPDX-License-Identifier: MIT
/* lpu-bench: the measurements themselves. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xf86drm.h>

#include "bench.h"

int64_t bench_now_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC with a valid pointer cannot fail on Linux. */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

double bench_percentile(uint64_t *v, size_t n, unsigned int p)
{
	size_t rank;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	/* Nearest rank: the smallest sample >= p% of all samples. */
	rank = (n * p + 99) / 100;
	return v[rank ? rank - 1 : 0];
}

int bench_version_rtt(int fd, uint64_t *ns, size_t n)
{
	struct drm_version v;
	int64_t t0;
	size_t i;

	for (i = 0; i < n; i++) {
		/* Zero lengths: the driver copies no strings, the pure floor. */
		memset(&v, 0, sizeof(v));
		t0 = bench_now_ns();
		if (drmIoctl(fd, DRM_IOCTL_VERSION, &v))
			return -errno;
		ns[i] = bench_now_ns() - t0;
	}
	return 0;
}

int bench_nop_rtt(struct lpu_device *dev, unsigned int queue, uint64_t *rtt,
		  uint64_t *devns, size_t n)
{
	struct lpu_job_result res;
	uint64_t seq;
	int64_t t0;
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		t0 = bench_now_ns();
		ret = lpu_submit_nop(dev, queue, 0, &seq);
		if (!ret)
			ret = lpu_wait(dev, seq, LPU_WAIT_FOREVER, &res);
		if (ret)
			return ret;
		if (res.status)
			return res.status;
		rtt[i] = bench_now_ns() - t0;
		if (devns)
			devns[i] = res.device_ns;
	}
	return 0;
}

int bench_nop_throughput(struct lpu_device *dev, unsigned int queue,
			 unsigned int jobs, unsigned int depth, double *rate)
{
	struct lpu_job_result res;
	uint64_t seq, oldest = 0;
	unsigned int submitted = 0, done = 0;
	int64_t t0, elapsed;
	int ret;

	if (!jobs || !depth)
		return -EINVAL;
	t0 = bench_now_ns();
	while (done < jobs) {
		/* Keep @depth jobs queued; seqs are consecutive per file. */
		while (submitted < jobs && submitted - done < depth) {
			ret = lpu_submit_nop(dev, queue, 0, &seq);
			if (ret)
				return ret;
			if (submitted++ == 0)
				oldest = seq;
		}
		ret = lpu_wait(dev, oldest + done, LPU_WAIT_FOREVER, &res);
		if (ret)
			return ret;
		if (res.status)
			return res.status;
		done++;
	}
	elapsed = bench_now_ns() - t0;
	*rate = elapsed > 0 ? jobs * 1e9 / elapsed : 0;
	return 0;
}
