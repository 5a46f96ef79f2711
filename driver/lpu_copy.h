/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * LPU v3 COPY jobs: the copies of one SUBMIT checked against the file's
 * buffers, and the device address space built for them (segment table and
 * host page tables, written only by the kernel).
 */
#ifndef __LPU_COPY_H__
#define __LPU_COPY_H__

#include <linux/list.h>
#include <linux/types.h>

#include "drm/lpu_accel.h"
#include "lpu_hw.h"

struct drm_file;
struct drm_gem_object;
struct lpu_device;

/* Distinct buffers one job can name: a source and a destination per copy. */
#define LPU_COPY_MAX_BUFS	(2 * DRM_LPU_MAX_COPIES)

/**
 * struct lpu_copy_buf - one buffer a job names, and its segment
 * @obj: the buffer; the job holds a reference until it is freed.
 * @handle: its handle in the submitting file; the segment's va is
 *	handle << 32.
 * @write: some copy writes it, or may (any copy of the job uses device
 *	addresses); the job's fence is a write fence.
 * @mapped: host buffer: the job holds its device mapping
 *	(lpu_host_bo_map()).
 */
struct lpu_copy_buf {
	struct drm_gem_object *obj;
	u32 handle;
	bool write;
	bool mapped;
};

/**
 * struct lpu_copy_job - the device side of one COPY job
 * @ldev: the device; its DMA memory is what the job holds.
 * @link: entry in &lpu_device.copy_jobs while the job holds DMA mappings
 *	or coherent memory, so that removal can take them back.
 * @num_bufs: entries of @bufs, sorted by handle (so the segments are
 *	sorted by va, as the device requires).
 * @bufs: the buffers.
 * @segs: the segment table, one segment per buffer (coherent DMA memory).
 * @segs_dma: its bus address.
 * @num_descs: COPY descriptors in @descs, one per copy.
 * @descs: the descriptors, emitted (and re-emitted after a queue reset)
 *	before the job's FENCE.
 */
struct lpu_copy_job {
	struct lpu_device *ldev;
	struct list_head link;
	u32 num_bufs;
	struct lpu_copy_buf bufs[LPU_COPY_MAX_BUFS];
	struct lpu_segment *segs;
	dma_addr_t segs_dma;
	u32 num_descs;
	union lpu_desc descs[DRM_LPU_MAX_COPIES];
};

struct lpu_copy_job *lpu_copy_job_create(struct lpu_device *ldev,
					 struct drm_file *file,
					 const struct drm_lpu_submit *args);
void lpu_copy_job_destroy(struct lpu_copy_job *cj);
void lpu_copy_release_all_dma(struct lpu_device *ldev);
void lpu_copy_job_sync_for_device(const struct lpu_copy_job *cj);
void lpu_copy_job_sync_for_cpu(const struct lpu_copy_job *cj);

#endif /* __LPU_COPY_H__ */
