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
int lpu_deadline_ns(int64_t timeout_ns, int64_t *deadline)
{
	struct timespec ts;
	int64_t now;

	if (timeout_ns < 0) {
		*deadline = INT64_MAX;
		return 0;
	}
	if (timeout_ns == 0) {
		*deadline = 0;	/* the driver's "poll only" */
		return 0;
	}
	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		return -errno;
	now = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	*deadline = timeout_ns > INT64_MAX - now ? INT64_MAX : now + timeout_ns;
	return 0;
}

int lpu_wait_job(struct lpu_device *dev, uint64_t seq, int64_t timeout_ns,
		 struct drm_lpu_wait *req)
{
	int64_t deadline = 0;
	int ret;

	memset(req, 0, sizeof(*req));
	req->seq = seq;
	/*
	 * Computed once: drmIoctl() restarts the ioctl after a signal with
	 * the same absolute deadline, so the total wait never grows.
	 */
	ret = lpu_deadline_ns(timeout_ns, &deadline);
	if (ret)
		return ret;
	req->timeout_ns = deadline;
	return lpu_ioctl(dev, DRM_IOCTL_LPU_WAIT, req);
}

int lpu_wait(struct lpu_device *dev, uint64_t seq, int64_t timeout_ns,
	     struct lpu_job_result *result)
{
	struct drm_lpu_wait req;
	int ret;

	if (!dev)
		return -EINVAL;
	ret = lpu_wait_job(dev, seq, timeout_ns, &req);
	if (ret)
		return ret;
	if (result) {
		result->status = req.status;
		result->device_ns = req.device_ns;
	}
	return 0;
}
