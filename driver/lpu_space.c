// SPDX-License-Identifier: GPL-2.0-only
/*
 * LPU v3 job address spaces.
 *
 * A job reaches exactly the buffers it names, of the submitting file: for
 * each segment of its space the kernel writes an entry mapping the device
 * addresses [va, va + size) to one buffer, SRAM by offset, host memory
 * through the buffer's two-level page table over its pages, pinned and
 * DMA-mapped while jobs use it (lpu_gem.c). The device translates and
 * bounds-checks every byte against that table, which lives in coherent DMA
 * memory only the kernel writes and does not change while the job can
 * run. Where the segments sit is the job type's business: a COPY job puts
 * each buffer at handle << 32 (lpu_copy.c), an EXEC job slot i at
 * DRM_LPU_EXEC_SLOT_ADDR(i) (lpu_exec.c), and one buffer may back several
 * segments. Each buffer is held, pinned and mapped once per job however
 * many segments it backs.
 *
 * Everything is built at SUBMIT, where sleeping and failing are fine, so
 * that run_job() only copies descriptors into the ring. It is undone when
 * the job is freed, or, for the DMA part, when the card is removed (a job
 * may outlive its card in a file that stays open).
 */

#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_print.h>

#include "lpu_drv.h"
#include "lpu_gem.h"
#include "lpu_space.h"

static_assert(LPU_SPACE_MAX_BUFS <= LPU_MAX_SEGMENTS);
static_assert(DRM_LPU_MAX_SLOTS <= LPU_SPACE_MAX_BUFS);
static_assert(sizeof(struct lpu_segment) == LPU_SEGMENT_SIZE);
static_assert(LPU_SPACE_MAX_BUFS * LPU_SEGMENT_SIZE <= PAGE_SIZE);

struct lpu_space *lpu_space_create(struct lpu_device *ldev)
{
	struct lpu_space *space;

	space = kzalloc(sizeof(*space), GFP_KERNEL);
	if (!space)
		return NULL;
	space->ldev = ldev;
	INIT_LIST_HEAD(&space->link);
	return space;
}

static struct lpu_space_buf *lpu_space_find(struct lpu_space *space,
					    u32 handle)
{
	u32 i;

	for (i = 0; i < space->num_handles; i++)
		if (space->handles[i].handle == handle)
			return &space->bufs[space->handles[i].buf];
	return NULL;
}

/*
 * The job's buffer for @handle, added if new; NULL if the file has no such
 * buffer. A buffer is kept once however many handles name it (one lock,
 * one fence, one pin per object), and @handle is added to the handles in
 * handle order. Entries of &lpu_space.bufs never move.
 */
struct lpu_space_buf *lpu_space_add_buf(struct lpu_space *space,
					struct drm_file *file, u32 handle)
{
	struct drm_gem_object *obj;
	struct lpu_space_buf *b;
	u32 i, buf;

	b = lpu_space_find(space, handle);
	if (b)
		return b;
	/* Callers bound their handles below this; never overrun. */
	if (space->num_handles == LPU_SPACE_MAX_BUFS)
		return NULL;

	obj = drm_gem_object_lookup(file, handle);
	if (!obj)
		return NULL;
	for (buf = 0; buf < space->num_bufs; buf++)
		if (space->bufs[buf].obj == obj)
			break;
	if (buf < space->num_bufs) {
		/* Another handle of the same buffer: its entry holds it. */
		drm_gem_object_put(obj);
	} else {
		/* At most one buffer per handle: there is room. */
		memset(&space->bufs[buf], 0, sizeof(space->bufs[0]));
		space->bufs[buf].obj = obj;
		space->num_bufs++;
	}

	for (i = 0; i < space->num_handles &&
	     space->handles[i].handle < handle; i++)
		;
	memmove(&space->handles[i + 1], &space->handles[i],
		(space->num_handles - i) * sizeof(space->handles[0]));
	space->handles[i].handle = handle;
	space->handles[i].buf = buf;
	space->num_handles++;
	return &space->bufs[buf];
}

/*
 * Undo the DMA side. The caller took @space off &lpu_device.spaces, so
 * nobody else does it, and holds &lpu_device.space_release_sem, so
 * removal waits for it. Idempotent.
 */
static void lpu_space_release_dma(struct lpu_space *space)
{
	u32 i;

	for (i = 0; i < space->num_bufs; i++) {
		if (space->bufs[i].mapped)
			lpu_host_bo_unmap(space->bufs[i].obj);
		space->bufs[i].mapped = false;
	}
	if (space->segs)
		dma_free_coherent(space->ldev->drm.dev, PAGE_SIZE, space->segs,
				  space->segs_dma);
	space->segs = NULL;
}

void lpu_space_destroy(struct lpu_space *space)
{
	struct lpu_device *ldev = space->ldev;
	bool listed;
	u32 i;

	/*
	 * Only the list is under @space_lock: unpinning and unmapping a
	 * large buffer is slow and must not stall every other job and SUBMIT
	 * of the device. A space off the list was never set up, or removal
	 * released it already (under the semaphore, which it holds for
	 * writing until done).
	 */
	down_read(&ldev->space_release_sem);
	mutex_lock(&ldev->space_lock);
	listed = !list_empty(&space->link);
	list_del_init(&space->link);
	mutex_unlock(&ldev->space_lock);
	if (listed)
		lpu_space_release_dma(space);
	up_read(&ldev->space_release_sem);

	/* May free the buffers, which scrubs SRAM: process context. */
	for (i = 0; i < space->num_bufs; i++)
		drm_gem_object_put(space->bufs[i].obj);
	kfree(space);
}

/* The job is emitted: hand its host buffers to the card. Any context. */
void lpu_space_sync_for_device(const struct lpu_space *space)
{
	u32 i;

	for (i = 0; i < space->num_bufs; i++)
		if (space->bufs[i].mapped)
			lpu_host_bo_sync_for_device(space->bufs[i].obj);
}

/*
 * The job is done (or failed, perhaps half-way): give the host buffers it
 * may have written back to the CPU before its fence signals. Buffers it
 * only read were not changed by the card; syncing those could overwrite
 * what the CPU wrote meanwhile through a bounce buffer. Any context.
 */
void lpu_space_sync_for_cpu(const struct lpu_space *space)
{
	u32 i;

	for (i = 0; i < space->num_bufs; i++)
		if (space->bufs[i].mapped && space->bufs[i].write)
			lpu_host_bo_sync_for_cpu(space->bufs[i].obj);
}

/*
 * Removal, once the card is reset and can no longer touch host memory:
 * take back the DMA memory and mappings of every job still around, which
 * may be freed much later (its file may stay open for long).
 */
void lpu_space_release_all_dma(struct lpu_device *ldev)
{
	struct lpu_space *space, *tmp;

	/* Also waits for releases in progress outside @space_lock. */
	down_write(&ldev->space_release_sem);
	mutex_lock(&ldev->space_lock);
	ldev->space_dma_gone = true;
	list_for_each_entry_safe(space, tmp, &ldev->spaces, link) {
		list_del_init(&space->link);
		lpu_space_release_dma(space);
	}
	mutex_unlock(&ldev->space_lock);
	up_write(&ldev->space_release_sem);
}

/* Pin and map the host buffers, once each, and allocate the table. */
static int lpu_space_map(struct lpu_space *space)
{
	struct lpu_device *ldev = space->ldev;
	u32 i;
	int ret;

	space->segs = dma_alloc_coherent(ldev->drm.dev, PAGE_SIZE,
					 &space->segs_dma, GFP_KERNEL);
	if (!space->segs)
		return -ENOMEM;

	for (i = 0; i < space->num_bufs; i++) {
		struct lpu_space_buf *b = &space->bufs[i];

		switch (lpu_bo_domain(b->obj)) {
		case DRM_LPU_BO_SRAM:
			continue;
		case DRM_LPU_BO_HOST:
			break;
		default:
			/* Only our own buffers get handles in our files. */
			return -EINVAL;
		}
		ret = lpu_host_bo_map(b->obj, &b->dir);
		if (ret)
			return ret;
		b->mapped = true;
	}
	return 0;
}

/*
 * Map the buffers added so far and write the segment table: segment i
 * maps @segs[i].va on to the buffer of @segs[i].handle. The caller passes
 * the segments sorted by va and not overlapping, as the device requires.
 * Returns 0, -ENOMEM (also for pinned memory above the device's limit),
 * -ENODEV after removal, or -EINVAL for segments that break these rules
 * (a driver bug: nothing is sent).
 */
int lpu_space_build(struct lpu_space *space, const struct lpu_space_seg *segs,
		    u32 num_segs)
{
	struct lpu_device *ldev = space->ldev;
	const struct lpu_space_buf *b;
	u64 end = 0;
	u32 i;
	int ret;

	if (!num_segs || num_segs > LPU_SPACE_MAX_BUFS)
		return -EINVAL;
	for (i = 0; i < num_segs; i++) {
		b = lpu_space_find(space, segs[i].handle);
		if (!b || !segs[i].va || segs[i].va < end ||
		    !IS_ALIGNED(segs[i].va, LPU_PAGE_SIZE) ||
		    segs[i].va + b->obj->size < segs[i].va) {
			drm_err(&ldev->drm, "job address space: segment %u at 0x%llx for handle %u is invalid\n",
				i, segs[i].va, segs[i].handle);
			return -EINVAL;
		}
		end = segs[i].va + b->obj->size;
	}

	ret = 0;
	mutex_lock(&ldev->space_lock);
	if (ldev->space_dma_gone)
		ret = -ENODEV;
	else
		list_add_tail(&space->link, &ldev->spaces);
	mutex_unlock(&ldev->space_lock);
	if (ret)
		return ret;

	ret = lpu_space_map(space);
	if (ret) {
		drm_dbg_driver(&ldev->drm, "SUBMIT: cannot map the job's %u buffers: %d\n",
			       space->num_bufs, ret);
		return ret;
	}

	for (i = 0; i < num_segs; i++) {
		struct lpu_segment *seg = &space->segs[i];

		b = lpu_space_find(space, segs[i].handle);
		seg->va = cpu_to_le64(segs[i].va);
		seg->size = cpu_to_le64(b->obj->size);
		if (b->mapped) {
			seg->base = cpu_to_le64(b->dir);
			seg->kind = cpu_to_le32(LPU_SEG_HOST);
		} else {
			seg->base = cpu_to_le64(lpu_sram_bo_offset(b->obj));
			seg->kind = cpu_to_le32(LPU_SEG_SRAM);
		}
	}
	space->num_segs = num_segs;
	return 0;
}
