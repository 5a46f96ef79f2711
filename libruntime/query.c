// SPDX-License-Identifier: MIT
/* Card description: DRM_IOCTL_LPU_GET_INFO. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <xf86drm.h>
#include <drm/lpu_accel.h>

#include "lpu_internal.h"

/*
 * struct lpu_info as liblpu 0.1 to 0.3 defined it. Binaries built with it
 * call lpu_query@LPU_0.1 and must never see a byte written past its end.
 */
struct lpu_info_v1 {
	uint16_t vendor_id;
	uint16_t device_id;
	uint16_t revision;
	uint16_t num_queues;
	uint32_t hw_version;
	uint32_t ring_entries;
	uint64_t capabilities;
	uint64_t sram_size;
	uint32_t driver_version;
	uint32_t fw_version;
};

static int get_info(struct lpu_device *dev, struct drm_lpu_info *req)
{
	if (!dev)
		return -EINVAL;
	/* A driver before 0.4 fills less; DRM core zeroes the rest. */
	memset(req, 0, sizeof(*req));
	return lpu_ioctl(dev, DRM_IOCTL_LPU_GET_INFO, req);
}

__attribute__((symver("lpu_query@@LPU_0.4")))
int lpu_query_v4(struct lpu_device *dev, struct lpu_info *info);

int lpu_query_v4(struct lpu_device *dev, struct lpu_info *info)
{
	struct drm_lpu_info req;
	int ret;

	if (!info)
		return -EINVAL;
	ret = get_info(dev, &req);
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
	info->fw_abi_version = req.fw_abi_version;
	info->rsvd0 = 0;
	info->sram_reserved = req.sram_reserved;
	return 0;
}

/* The old struct is the new one's beginning, byte for byte. */
_Static_assert(sizeof(struct lpu_info_v1) ==
	       offsetof(struct lpu_info, fw_abi_version) &&
	       offsetof(struct lpu_info_v1, fw_version) ==
	       offsetof(struct lpu_info, fw_version),
	       "struct lpu_info must extend struct lpu_info_v1");

__attribute__((symver("lpu_query@LPU_0.1")))
int lpu_query_v1(struct lpu_device *dev, struct lpu_info_v1 *info);

int lpu_query_v1(struct lpu_device *dev, struct lpu_info_v1 *info)
{
	struct lpu_info full;
	int ret;

	if (!info)
		return -EINVAL;
	ret = lpu_query_v4(dev, &full);
	if (!ret)
		memcpy(info, &full, sizeof(*info));
	return ret;
}
