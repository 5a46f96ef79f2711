/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * LPU v3 card firmware: loading the image, booting it through the boot
 * mailbox, and booting it again after a device reset or resume.
 */
#ifndef __LPU_FW_H__
#define __LPU_FW_H__

#include <linux/atomic.h>
#include <linux/types.h>

/* The image format; "lpu_fw.h" alone would find this file. */
#include "../firmware/lpu_fw.h"

struct lpu_device;

/**
 * struct lpu_fw - the firmware image of one card and what it reported
 * @name: file name requested (the firmware= parameter at probe).
 * @image: copy of the file in coherent DMA memory, kept while the device
 *	is bound so that a reset or resume boots the same image again
 *	without asking the filesystem (which may not be there yet on resume).
 * @image_dma: bus address of @image.
 * @size: bytes of @image.
 * @version: FW_VERSION of the last successful boot.
 * @abi: FW_ABI of the last successful boot.
 * @build_id: the header's build id, NUL-terminated; the boot ROM has
 *	authenticated the header, so this is what runs.
 * @boots: successful boots since probe.
 */
struct lpu_fw {
	const char *name;
	void *image;
	dma_addr_t image_dma;
	size_t size;
	u32 version;
	u32 abi;
	char build_id[LPU_FW_BUILD_ID_LEN + 1];
	atomic_t boots;
};

int lpu_fw_init(struct lpu_device *ldev);
int lpu_fw_boot(struct lpu_device *ldev);
int lpu_fw_sysfs_init(struct lpu_device *ldev);

#endif /* __LPU_FW_H__ */
