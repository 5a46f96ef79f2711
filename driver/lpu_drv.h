/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * LPU v3 DRM accel driver: the device structure shared by all files.
 */
#ifndef __LPU_DRV_H__
#define __LPU_DRV_H__

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#include <drm/drm_device.h>

#include "lpu_fw.h"
#include "lpu_hw.h"
#include "lpu_queue.h"
#include "lpu_sram.h"

#define LPU_DRIVER_DESC		"LPU v3 inference accelerator"

/**
 * struct lpu_device - one bound LPU card
 * @drm: DRM device; its lifetime (refcounted: by the bound PCI device,
 *	every open file and every job) is the lifetime of this structure.
 * @pdev: the PCI function.
 * @regs: BAR0 mapping; only valid while the device is bound, so every user
 *	runs inside drm_dev_enter()/drm_dev_exit().
 * @hw_version: LPU_REG_VERSION read at probe.
 * @caps: LPU_REG_CAPS read at probe.
 * @fw: the card's firmware image and what its last boot reported.
 * @num_queues: hardware queues the driver drives: those the firmware runs
 *	(NUM_QUEUES after its boot, at most LPU_NUM_QUEUES).
 * @max_ring_entries: the firmware's largest ring (MAX_RING_ENTRIES).
 * @ring_entries: descriptors per ring, the same for every queue.
 * @sram_size: SRAM aperture in bytes.
 * @sram_reserved: bytes at the top of SRAM the firmware keeps for itself
 *	(SRAM_RESERVED); the allocator manages only what is below.
 * @queues: per hardware queue state.
 * @sram: SRAM allocator and scrubbing.
 * @space_lock: protects @spaces and @space_dma_gone.
 * @spaces: address spaces of COPY and EXEC jobs holding DMA memory or
 *	mappings (lpu_space.c).
 * @space_dma_gone: the card was removed and every job's DMA side released;
 *	no new one may be set up.
 * @pin_limit: bytes of host buffers jobs may have pinned at once.
 * @pinned: bytes of host buffers pinned and mapped for jobs now, each
 *	buffer counted once however many jobs use it.
 * @space_release_sem: held for reading while a job releases its DMA side
 *	outside @space_lock, for writing while removal releases them all, so
 *	that removal returns only once no job's DMA memory is left.
 * @debugfs_link: accel/<minor> symlink to the device's debugfs directory.
 */
struct lpu_device {
	struct drm_device drm;
	struct pci_dev *pdev;
	void __iomem *regs;

	u32 hw_version;
	u32 caps;
	struct lpu_fw fw;
	u32 num_queues;
	u32 max_ring_entries;
	u32 ring_entries;
	u64 sram_size;
	u64 sram_reserved;

	struct lpu_queue queues[LPU_NUM_QUEUES];
	struct lpu_sram sram;

	struct mutex space_lock; /* see @space_lock above */
	struct list_head spaces;
	bool space_dma_gone;
	struct rw_semaphore space_release_sem;
	u64 pin_limit;
	atomic64_t pinned;

	struct dentry *debugfs_link;
};

static inline struct lpu_device *to_lpu_device(struct drm_device *drm)
{
	return container_of(drm, struct lpu_device, drm);
}

/* Smallest ring the driver runs: two jobs of two descriptors. */
#define LPU_RING_ENTRIES_MIN	4

/* Module parameters, read at probe time. */
extern unsigned int lpu_job_timeout_ms;
extern unsigned int lpu_ring_entries;
extern unsigned int lpu_pin_limit_mb;

/* Releases that may drop a device's last reference; drained at unload. */
extern struct workqueue_struct *lpu_wq;

#endif /* __LPU_DRV_H__ */
