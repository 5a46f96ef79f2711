// SPDX-License-Identifier: MIT
/* Card description: DRM_IOCTL_LPU_GET_INFO. */
#include <errno.h>
#include <string.h>

#include <xf86drm.h>
#include <drm/lpu_accel.h>

#include "lpu_internal.h"

int lpu_query(struct lpu_device *dev, struct lpu_info *info)
{
	struct drm_lpu_info req;
	int ret;

	if (!dev || !info)
		return -EINVAL;
	memset(&req, 0, sizeof(req));
	ret = lpu_ioctl(dev, DRM_IOCTL_LPU_GET_INFO, &req);
	if (ret)
		return ret;

	/* Copied field by field: struct lpu_info is our ABI, not the kernel's. */
	info->vendor_id = req.vendor_id;
	info->device_id = req.device_id;
	info->revision = req.revision;
	info->num_queues = req.num_queues;
	info->hw_version = req.hw_version;
	info->ring_entries = req.ring_entries;
	info->capabilities = req.capabilities;
	info->sram_size = req.sram_size;
	info->driver_version = req.driver_version;
	info->fw_version = req.fw_version;
	return 0;
}
