// SPDX-License-Identifier: MIT
/* Jobs: DRM_IOCTL_LPU_SUBMIT and DRM_IOCTL_LPU_WAIT. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <xf86drm.h>
#include <drm/lpu_accel.h>

#include "lpu_internal.h"

int lpu_submit_nop(struct lpu_device *dev, unsigned int queue,
		   uint32_t nop_cycles, uint64_t *seq)
{
	struct drm_lpu_submit req;
	int ret;

	if (!dev || !seq)
		return -EINVAL;
	/* Queue and cycle limits are the driver's to check: it knows them. */
	memset(&req, 0, sizeof(req));
	req.queue = queue;
	req.job_type = LPU_JOB_NOP;
	req.nop_cycles = nop_cycles;
	ret = lpu_ioctl(dev, DRM_IOCTL_LPU_SUBMIT, &req);
	if (ret)
		return ret;
	*seq = req.seq;
	return 0;
}

/* Relative timeout -> the driver's absolute CLOCK_MONOTONIC deadline. */
static int64_t deadline_ns(int64_t timeout_ns)
{
	struct timespec ts;
	int64_t now;

	if (timeout_ns < 0)
		return INT64_MAX;
	if (timeout_ns == 0)
		return 0;	/* the driver's "poll only" */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	if (timeout_ns > INT64_MAX - now)
		return INT64_MAX;
	return now + timeout_ns;
}

int lpu_wait(struct lpu_device *dev, uint64_t seq, int64_t timeout_ns,
	     struct lpu_job_result *result)
{
	struct drm_lpu_wait req;
	int ret;

	if (!dev)
		return -EINVAL;
	memset(&req, 0, sizeof(req));
	req.seq = seq;
	/*
	 * Computed once: drmIoctl() restarts the ioctl after a signal with
	 * the same absolute deadline, so the total wait never grows.
	 */
	req.timeout_ns = deadline_ns(timeout_ns);
	ret = lpu_ioctl(dev, DRM_IOCTL_LPU_WAIT, &req);
	if (ret)
		return ret;
	if (result) {
		result->status = req.status;
		result->device_ns = req.device_ns;
	}
	return 0;
}
