/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * LPU v3 SRAM: the allocator behind SRAM buffer objects and the scrub that
 * zeroes every range before it is handed out again.
 */
#ifndef __LPU_SRAM_H__
#define __LPU_SRAM_H__

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/wait.h>

#include <drm/drm_mm.h>

struct lpu_device;
struct seq_file;

/**
 * struct lpu_sram_range - one allocated SRAM range
 * @node: the range in &lpu_sram.mm.
 * @link: entry in &lpu_sram.quarantine once its scrub failed.
 */
struct lpu_sram_range {
	struct drm_mm_node node;
	struct list_head link;
};

/**
 * struct lpu_sram - SRAM of one card
 * @bar_start: CPU physical address of the SRAM BAR, for mmap.
 * @size: SRAM bytes managed, [0, @size): the SRAM size the card reports
 *	less what its firmware reserves at the top (sram_total_bytes).
 * @lock: protects everything below it.
 * @mm: free and allocated ranges, offsets into SRAM.
 * @used: bytes allocated to buffers (quarantined bytes not included).
 * @quarantine: ranges whose scrub failed: never handed out again.
 * @quarantined: bytes in @quarantine.
 * @scrubs: scrubs completed.
 * @scrub_lock: serialises the scrub engine's registers.
 * @paused: the card is being reset or sleeps: scrubs wait on @unpaused
 *	(protected by @scrub_lock).
 * @unpaused: woken when @paused is cleared.
 * @ready: @mm was initialised, so the device release must take it down.
 */
struct lpu_sram {
	resource_size_t bar_start;
	u64 size;

	struct mutex lock; /* see @lock above */
	struct drm_mm mm;
	u64 used;
	struct list_head quarantine;
	u64 quarantined;
	u64 scrubs;

	struct mutex scrub_lock; /* see @scrub_lock above */
	bool paused;
	wait_queue_head_t unpaused;
	bool ready;
};

int lpu_sram_init(struct lpu_device *ldev);
struct lpu_sram_range *lpu_sram_alloc(struct lpu_device *ldev, u64 size);
void lpu_sram_free(struct lpu_device *ldev, struct lpu_sram_range *range);
u64 lpu_sram_used(struct lpu_device *ldev);
void lpu_sram_pause(struct lpu_device *ldev);
void lpu_sram_unpause(struct lpu_device *ldev);
void lpu_sram_show(struct lpu_device *ldev, struct seq_file *m);

#endif /* __LPU_SRAM_H__ */
