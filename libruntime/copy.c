// SPDX-License-Identifier: MIT
/*
 * Copy jobs: LPU_JOB_COPY through DRM_IOCTL_LPU_SUBMIT, and their outcome,
 * fault details included, through DRM_IOCTL_LPU_WAIT.
 *
 * The library checks what it can without the card (pointers, counts, flags,
 * buffers of this device handle, non-zero sizes); ranges are the driver's
 * to check, which knows the buffers as they are now.
 */
#include <errno.h>
#include <string.h>

#include <xf86drm.h>
#include <drm/lpu_accel.h>

#include "lpu_internal.h"

_Static_assert(LPU_COPY_DEVICE_ADDRESSES == DRM_LPU_COPY_DEVICE_ADDRESSES,
	       "copy flag values differ");
_Static_assert(LPU_MAX_COPIES == DRM_LPU_MAX_COPIES, "copy limits differ");

static int fill_copy(struct lpu_device *dev, const struct lpu_copy_op *op,
		     struct drm_lpu_copy *c)
{
	if (!op->dst || !op->src || !op->size ||
	    op->dst->dev != dev || op->src->dev != dev ||
	    (op->flags & ~LPU_COPY_DEVICE_ADDRESSES))
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	c->src_handle = op->src->handle;
	c->dst_handle = op->dst->handle;
	c->src_offset = op->src_offset;
	c->dst_offset = op->dst_offset;
	c->size = op->size;
	c->flags = op->flags;
	return 0;
}

int lpu_copy_async(struct lpu_device *dev, unsigned int queue,
		   const struct lpu_copy_op *ops, unsigned int count,
		   struct lpu_fence *fence)
{
	struct drm_lpu_copy copies[LPU_MAX_COPIES];
	struct drm_lpu_submit req;
	unsigned int i;
	int ret;

	if (!fence)
		return -EINVAL;
	fence->seq = 0;
	if (!dev || !ops || !count || count > LPU_MAX_COPIES)
		return -EINVAL;
	for (i = 0; i < count; i++) {
		ret = fill_copy(dev, &ops[i], &copies[i]);
		if (ret)
			return ret;
	}

	memset(&req, 0, sizeof(req));
	req.queue = queue;
	req.job_type = LPU_JOB_COPY;
	req.copies = (uintptr_t)copies;
	req.copy_count = count;
	ret = lpu_ioctl(dev, DRM_IOCTL_LPU_SUBMIT, &req);
	if (ret)
		return ret;
	fence->seq = req.seq;
	return 0;
}

int lpu_fence_wait(struct lpu_device *dev, const struct lpu_fence *fence,
		   int64_t timeout_ns, struct lpu_copy_status *status)
{
	struct drm_lpu_wait req;
	int ret;

	if (status)
		memset(status, 0, sizeof(*status));
	if (!dev || !fence || !fence->seq)
		return -EINVAL;
	ret = lpu_wait_job(dev, fence->seq, timeout_ns, &req);
	if (ret)
		return ret;
	if (status) {
		status->status = req.status;
		status->fault_kind = req.fault_kind;
		status->fault_addr = req.fault_addr;
		status->device_ns = req.device_ns;
	}
	return 0;
}

int lpu_copy(struct lpu_device *dev, unsigned int queue,
	     const struct lpu_copy_op *ops, unsigned int count,
	     struct lpu_copy_status *status)
{
	struct lpu_copy_status st;
	struct lpu_fence fence;
	int ret;

	if (status)
		memset(status, 0, sizeof(*status));
	ret = lpu_copy_async(dev, queue, ops, count, &fence);
	if (ret)
		return ret;
	ret = lpu_fence_wait(dev, &fence, LPU_WAIT_FOREVER, &st);
	if (ret)
		return ret;
	if (status)
		*status = st;
	return st.status;
}
