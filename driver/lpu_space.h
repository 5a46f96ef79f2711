/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * LPU v3 job address spaces: the buffers one job names, held and pinned
 * for it, and the segment table the kernel builds over them (host page
 * tables included), which is all the device lets the job reach. COPY and
 * EXEC jobs build theirs here; only where the segments sit differs.
 */
#ifndef __LPU_SPACE_H__
#define __LPU_SPACE_H__

#include <linux/list.h>
#include <linux/types.h>

#include "drm/lpu_accel.h"
#include "lpu_hw.h"

struct drm_file;
struct drm_gem_object;
struct lpu_device;

/*
 * Distinct buffers, and segments, one job can have: a COPY job names a
 * source and a destination per copy, an EXEC job a buffer per slot.
 */
#define LPU_SPACE_MAX_BUFS	(2 * DRM_LPU_MAX_COPIES)

/**
 * struct lpu_space_buf - one buffer a job names
 * @obj: the buffer; the job holds a reference until it is freed.
 * @write: the job writes it, or may; its fence is a write fence there.
 * @mapped: host buffer: the job holds its device mapping
 *	(lpu_host_bo_map()).
 * @dir: with @mapped: bus address of the buffer's page directory.
 */
struct lpu_space_buf {
	struct drm_gem_object *obj;
	bool write;
	bool mapped;
	dma_addr_t dir;
};

/**
 * struct lpu_space_handle - one handle a job names
 * @handle: the handle in the submitting file.
 * @buf: index in &lpu_space.bufs of its buffer; several handles of one
 *	file may name the same buffer (GEM_OPEN of a flink name).
 */
struct lpu_space_handle {
	u32 handle;
	u32 buf;
};

/**
 * struct lpu_space - the device side of one job's buffers
 * @ldev: the device; its DMA memory is what the space holds.
 * @link: entry in &lpu_device.spaces while the space holds DMA mappings or
 *	coherent memory, so that removal can take them back.
 * @num_bufs: entries of @bufs, each buffer (GEM object) once, in the
 *	order first named; entries never move.
 * @bufs: the buffers: what is locked, fenced, pinned and synced.
 * @num_handles: entries of @handles, sorted by handle, each handle once.
 * @handles: the handles the job named and their buffers.
 * @segs: the segment table (coherent DMA memory), sorted by va.
 * @segs_dma: its bus address.
 * @num_segs: segments in @segs.
 */
struct lpu_space {
	struct lpu_device *ldev;
	struct list_head link;
	u32 num_bufs;
	struct lpu_space_buf bufs[LPU_SPACE_MAX_BUFS];
	u32 num_handles;
	struct lpu_space_handle handles[LPU_SPACE_MAX_BUFS];
	struct lpu_segment *segs;
	dma_addr_t segs_dma;
	u32 num_segs;
};

/**
 * struct lpu_space_seg - where one segment of a job's space goes
 * @va: device address of its first byte, LPU_PAGE_SIZE aligned.
 * @handle: the buffer behind it, added with lpu_space_add_buf() before.
 */
struct lpu_space_seg {
	u64 va;
	u32 handle;
};

struct lpu_space *lpu_space_create(struct lpu_device *ldev);
struct lpu_space_buf *lpu_space_add_buf(struct lpu_space *space,
					struct drm_file *file, u32 handle);
int lpu_space_build(struct lpu_space *space, const struct lpu_space_seg *segs,
		    u32 num_segs);
void lpu_space_destroy(struct lpu_space *space);
void lpu_space_release_all_dma(struct lpu_device *ldev);
void lpu_space_sync_for_device(const struct lpu_space *space);
void lpu_space_sync_for_cpu(const struct lpu_space *space);

#endif /* __LPU_SPACE_H__ */
