// SPDX-License-Identifier: GPL-2.0-only
/*
 * LPU v3 COPY jobs.
 *
 * A job reaches exactly the buffers its copies name, of the submitting
 * file: for each one the kernel writes a segment mapping the device
 * addresses [handle << 32, (handle << 32) + size) to the buffer, SRAM by
 * offset, host memory through the buffer's two-level page table over its
 * pages, pinned and DMA-mapped while jobs use it (lpu_gem.c). The device
 * translates and bounds-checks every byte against that table, which lives
 * in coherent DMA memory only the kernel writes and does not change while
 * the job can run.
 *
 * In handle mode the kernel also checks every range itself, so that a bad
 * copy fails SUBMIT with -EINVAL; with DRM_LPU_COPY_DEVICE_ADDRESSES the
 * addresses go to the device unchecked and a bad one faults the job.
 *
 * Everything is built at SUBMIT, where sleeping and failing are fine, so
 * that run_job() only copies descriptors into the ring. It is undone when
 * the job is freed, or, for the DMA part, when the card is removed (a job
 * may outlive its card in a file that stays open).
 */

#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_print.h>

#include "lpu_copy.h"
#include "lpu_drv.h"
#include "lpu_gem.h"

static_assert(LPU_COPY_MAX_BUFS <= LPU_MAX_SEGMENTS);
static_assert(sizeof(struct lpu_segment) == LPU_SEGMENT_SIZE);
static_assert(LPU_COPY_MAX_BUFS * LPU_SEGMENT_SIZE <= PAGE_SIZE);

/* The job's buffer for @handle, added (in handle order) if new. */
static struct lpu_copy_buf *lpu_copy_buf_get(struct lpu_copy_job *cj,
					     struct drm_file *file, u32 handle)
{
	struct drm_gem_object *obj;
	u32 i;

	for (i = 0; i < cj->num_bufs && cj->bufs[i].handle <= handle; i++)
		if (cj->bufs[i].handle == handle)
			return &cj->bufs[i];

	obj = drm_gem_object_lookup(file, handle);
	if (!obj)
		return NULL;
	memmove(&cj->bufs[i + 1], &cj->bufs[i],
		(cj->num_bufs - i) * sizeof(cj->bufs[0]));
	memset(&cj->bufs[i], 0, sizeof(cj->bufs[0]));
	cj->bufs[i].obj = obj;
	cj->bufs[i].handle = handle;
	cj->num_bufs++;
	return &cj->bufs[i];
}

static bool lpu_copy_range_ok(u64 offset, u64 size, u64 bo_size)
{
	return offset <= bo_size && size <= bo_size - offset;
}

/* Check one copy of the user's array and resolve its device addresses. */
static int lpu_copy_add(struct lpu_copy_job *cj, struct drm_file *file,
			const struct drm_lpu_copy *c, u32 i)
{
	struct drm_device *drm = &cj->ldev->drm;
	struct lpu_copy_buf *src, *dst;
	union lpu_desc *d = &cj->descs[i];
	u64 src_addr, dst_addr;

	if (c->flags & ~DRM_LPU_COPY_DEVICE_ADDRESSES || c->pad) {
		drm_dbg_driver(drm, "SUBMIT: copy %u: flags 0x%x unknown or pad 0x%x not 0\n",
			       i, c->flags, c->pad);
		return -EINVAL;
	}
	if (!c->size || c->size > LPU_COPY_MAX_SIZE) {
		drm_dbg_driver(drm, "SUBMIT: copy %u: size %llu not in 1..%llu\n",
			       i, c->size, LPU_COPY_MAX_SIZE);
		return -EINVAL;
	}
	src = lpu_copy_buf_get(cj, file, c->src_handle);
	if (!src) {
		drm_dbg_driver(drm, "SUBMIT: copy %u: source handle %u is no buffer of this file\n",
			       i, c->src_handle);
		return -EINVAL;
	}
	dst = lpu_copy_buf_get(cj, file, c->dst_handle);
	if (!dst) {
		drm_dbg_driver(drm,
			       "SUBMIT: copy %u: destination handle %u is no buffer of this file\n",
			       i, c->dst_handle);
		return -EINVAL;
	}
	/* lpu_copy_buf_get() may have moved the source entry. */
	src = lpu_copy_buf_get(cj, file, c->src_handle);
	dst->write = true;

	if (c->flags & DRM_LPU_COPY_DEVICE_ADDRESSES) {
		/* The device checks these against the job's segments. */
		src_addr = c->src_offset;
		dst_addr = c->dst_offset;
	} else {
		if (!lpu_copy_range_ok(c->src_offset, c->size, src->obj->size)) {
			drm_dbg_driver(drm,
				       "SUBMIT: copy %u: source %llu+%llu outside buffer %u of %zu bytes\n",
				       i, c->src_offset, c->size, c->src_handle,
				       src->obj->size);
			return -EINVAL;
		}
		if (!lpu_copy_range_ok(c->dst_offset, c->size, dst->obj->size)) {
			drm_dbg_driver(drm,
				       "SUBMIT: copy %u: destination %llu+%llu outside buffer %u of %zu bytes\n",
				       i, c->dst_offset, c->size, c->dst_handle,
				       dst->obj->size);
			return -EINVAL;
		}
		if (src == dst && c->src_offset < c->dst_offset + c->size &&
		    c->dst_offset < c->src_offset + c->size) {
			drm_dbg_driver(drm,
				       "SUBMIT: copy %u: source %llu and destination %llu overlap in buffer %u\n",
				       i, c->src_offset, c->dst_offset,
				       c->src_handle);
			return -EINVAL;
		}
		src_addr = ((u64)c->src_handle << 32) + c->src_offset;
		dst_addr = ((u64)c->dst_handle << 32) + c->dst_offset;
	}

	d->copy.hdr.opcode = LPU_OP_COPY;
	d->copy.src = cpu_to_le64(src_addr);
	d->copy.dst = cpu_to_le64(dst_addr);
	d->copy.size = cpu_to_le64(c->size);
	/* seg_table and seg_count once the table exists. */
	return 0;
}

/*
 * Undo the DMA side. The caller took @cj off &lpu_device.copy_jobs, so
 * nobody else does it, and holds &lpu_device.copy_release_sem, so removal
 * waits for it. Idempotent.
 */
static void lpu_copy_release_dma(struct lpu_copy_job *cj)
{
	u32 i;

	for (i = 0; i < cj->num_bufs; i++) {
		if (cj->bufs[i].mapped)
			lpu_host_bo_unmap(cj->bufs[i].obj);
		cj->bufs[i].mapped = false;
	}
	if (cj->segs)
		dma_free_coherent(cj->ldev->drm.dev, PAGE_SIZE, cj->segs,
				  cj->segs_dma);
	cj->segs = NULL;
}

void lpu_copy_job_destroy(struct lpu_copy_job *cj)
{
	struct lpu_device *ldev = cj->ldev;
	bool listed;
	u32 i;

	/*
	 * Only the list is under @copy_lock: unpinning and unmapping a large
	 * buffer is slow and must not stall every other job and SUBMIT of
	 * the device. A job off the list was never set up, or removal
	 * released it already (under the semaphore, which it holds for
	 * writing until done).
	 */
	down_read(&ldev->copy_release_sem);
	mutex_lock(&ldev->copy_lock);
	listed = !list_empty(&cj->link);
	list_del_init(&cj->link);
	mutex_unlock(&ldev->copy_lock);
	if (listed)
		lpu_copy_release_dma(cj);
	up_read(&ldev->copy_release_sem);

	/* May free the buffers, which scrubs SRAM: process context. */
	for (i = 0; i < cj->num_bufs; i++)
		drm_gem_object_put(cj->bufs[i].obj);
	kfree(cj);
}

/* The job is emitted: hand its host buffers to the card. Any context. */
void lpu_copy_job_sync_for_device(const struct lpu_copy_job *cj)
{
	u32 i;

	for (i = 0; i < cj->num_bufs; i++)
		if (cj->bufs[i].mapped)
			lpu_host_bo_sync_for_device(cj->bufs[i].obj);
}

/*
 * The job is done (or failed, perhaps half-way): give the host buffers it
 * may have written back to the CPU before its fence signals. Buffers it
 * only read were not changed by the card; syncing those could overwrite
 * what the CPU wrote meanwhile through a bounce buffer. Any context.
 */
void lpu_copy_job_sync_for_cpu(const struct lpu_copy_job *cj)
{
	u32 i;

	for (i = 0; i < cj->num_bufs; i++)
		if (cj->bufs[i].mapped && cj->bufs[i].write)
			lpu_host_bo_sync_for_cpu(cj->bufs[i].obj);
}

/*
 * Removal, once the card is reset and can no longer touch host memory:
 * take back the DMA memory and mappings of every job still around, which
 * may be freed much later (its file may stay open for long).
 */
void lpu_copy_release_all_dma(struct lpu_device *ldev)
{
	struct lpu_copy_job *cj, *tmp;

	/* Also waits for releases in progress outside @copy_lock. */
	down_write(&ldev->copy_release_sem);
	mutex_lock(&ldev->copy_lock);
	ldev->copy_dma_gone = true;
	list_for_each_entry_safe(cj, tmp, &ldev->copy_jobs, link) {
		list_del_init(&cj->link);
		lpu_copy_release_dma(cj);
	}
	mutex_unlock(&ldev->copy_lock);
	up_write(&ldev->copy_release_sem);
}

static int lpu_copy_build(struct lpu_copy_job *cj)
{
	struct lpu_device *ldev = cj->ldev;
	dma_addr_t dir;
	u32 i;
	int ret;

	cj->segs = dma_alloc_coherent(ldev->drm.dev, PAGE_SIZE, &cj->segs_dma,
				      GFP_KERNEL);
	if (!cj->segs)
		return -ENOMEM;

	for (i = 0; i < cj->num_bufs; i++) {
		struct lpu_copy_buf *b = &cj->bufs[i];
		struct lpu_segment *seg = &cj->segs[i];

		seg->va = cpu_to_le64((u64)b->handle << 32);
		seg->size = cpu_to_le64(b->obj->size);
		if (lpu_bo_domain(b->obj) == DRM_LPU_BO_SRAM) {
			seg->base = cpu_to_le64(lpu_sram_bo_offset(b->obj));
			seg->kind = cpu_to_le32(LPU_SEG_SRAM);
		} else {
			ret = lpu_host_bo_map(b->obj, &dir);
			if (ret)
				return ret;
			b->mapped = true;
			seg->base = cpu_to_le64(dir);
			seg->kind = cpu_to_le32(LPU_SEG_HOST);
		}
	}

	for (i = 0; i < cj->num_descs; i++) {
		cj->descs[i].copy.seg_table = cpu_to_le64(cj->segs_dma);
		cj->descs[i].copy.seg_count = cpu_to_le32(cj->num_bufs);
	}
	return 0;
}

/*
 * SUBMIT of an LPU_JOB_COPY: @args->copy_count was checked by the caller.
 * Returns the job's device side, holding its buffers, or an ERR_PTR:
 * -EINVAL for a bad copy (with a debug line saying which), -EFAULT for an
 * unreadable array, -ENOMEM, -EINTR, -ENODEV after removal.
 */
struct lpu_copy_job *lpu_copy_job_create(struct lpu_device *ldev,
					 struct drm_file *file,
					 const struct drm_lpu_submit *args)
{
	struct drm_lpu_copy *copies;
	struct lpu_copy_job *cj;
	u32 i;
	int ret;

	copies = memdup_array_user(u64_to_user_ptr(args->copies),
				   args->copy_count, sizeof(*copies));
	if (IS_ERR(copies)) {
		drm_dbg_driver(&ldev->drm, "SUBMIT: cannot read %u copies at 0x%llx\n",
			       args->copy_count, args->copies);
		return ERR_CAST(copies);
	}

	cj = kzalloc(sizeof(*cj), GFP_KERNEL);
	if (!cj) {
		kfree(copies);
		return ERR_PTR(-ENOMEM);
	}
	cj->ldev = ldev;
	INIT_LIST_HEAD(&cj->link);

	for (i = 0; i < args->copy_count; i++) {
		ret = lpu_copy_add(cj, file, &copies[i], i);
		if (ret)
			goto fail;
	}
	/*
	 * A device address may land in any buffer of the job's table, so
	 * with one such copy every buffer may be written: fence them all
	 * as written, so that implicit sync orders the job against every
	 * earlier reader and writer and later readers wait for it.
	 */
	for (i = 0; i < args->copy_count; i++)
		if (copies[i].flags & DRM_LPU_COPY_DEVICE_ADDRESSES)
			break;
	if (i < args->copy_count)
		for (i = 0; i < cj->num_bufs; i++)
			cj->bufs[i].write = true;
	cj->num_descs = args->copy_count;
	kfree(copies);
	copies = NULL;

	ret = 0;
	mutex_lock(&ldev->copy_lock);
	if (ldev->copy_dma_gone)
		ret = -ENODEV;
	else
		list_add_tail(&cj->link, &ldev->copy_jobs);
	mutex_unlock(&ldev->copy_lock);
	if (ret)
		goto fail;

	ret = lpu_copy_build(cj);
	if (ret) {
		drm_dbg_driver(&ldev->drm, "SUBMIT: cannot map the job's %u buffers: %d\n",
			       cj->num_bufs, ret);
		goto fail;
	}
	return cj;

fail:
	kfree(copies);
	lpu_copy_job_destroy(cj);
	return ERR_PTR(ret);
}
