// SPDX-License-Identifier: GPL-2.0-only
/*
 * LPU v3 COPY jobs.
 *
 * The job's address space (lpu_space.c) puts each buffer its copies name
 * at device address handle << 32, the address BO_INFO reports, so that a
 * copy's source and destination are plain device addresses.
 *
 * In handle mode the kernel also checks every range itself, so that a bad
 * copy fails SUBMIT with -EINVAL; with DRM_LPU_COPY_DEVICE_ADDRESSES the
 * addresses go to the device unchecked and a bad one faults the job.
 */

#include <linux/slab.h>
#include <linux/string.h>

#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_print.h>

#include "drm/lpu_accel.h"
#include "lpu_copy.h"
#include "lpu_drv.h"
#include "lpu_job.h"
#include "lpu_space.h"

static_assert(2 * DRM_LPU_MAX_COPIES <= LPU_SPACE_MAX_BUFS);
static_assert(DRM_LPU_MAX_COPIES <= LPU_JOB_MAX_DESCS);

static bool lpu_copy_range_ok(u64 offset, u64 size, u64 bo_size)
{
	return offset <= bo_size && size <= bo_size - offset;
}

/* Check one copy of the user's array and resolve its device addresses. */
static int lpu_copy_add(struct lpu_space *space, struct drm_file *file,
			const struct drm_lpu_copy *c, u32 i, union lpu_desc *d)
{
	struct drm_device *drm = &space->ldev->drm;
	struct lpu_space_buf *src, *dst;
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
	src = lpu_space_add_buf(space, file, c->src_handle);
	if (!src) {
		drm_dbg_driver(drm, "SUBMIT: copy %u: source handle %u is no buffer of this file\n",
			       i, c->src_handle);
		return -EINVAL;
	}
	dst = lpu_space_add_buf(space, file, c->dst_handle);
	if (!dst) {
		drm_dbg_driver(drm,
			       "SUBMIT: copy %u: destination handle %u is no buffer of this file\n",
			       i, c->dst_handle);
		return -EINVAL;
	}
	/* Entries never move: @src is still the source's. */
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
 * SUBMIT of an LPU_JOB_COPY: @args->copy_count was checked by the caller.
 * Fills in the job's descriptors and address space, which holds its
 * buffers. Returns 0, -EINVAL for a bad copy (with a debug line saying
 * which), -EFAULT for an unreadable array, -ENOMEM, -ENODEV after removal.
 */
int lpu_copy_prepare(struct lpu_job *job, struct drm_file *file,
		     const struct drm_lpu_submit *args)
{
	struct lpu_device *ldev = job->lfile->ldev;
	struct lpu_space_seg segs[LPU_SPACE_MAX_BUFS];
	struct drm_lpu_copy *copies;
	struct lpu_space *space;
	bool dev_addr = false;
	u32 i;
	int ret;

	copies = memdup_array_user(u64_to_user_ptr(args->copies),
				   args->copy_count, sizeof(*copies));
	if (IS_ERR(copies)) {
		drm_dbg_driver(&ldev->drm, "SUBMIT: cannot read %u copies at 0x%llx\n",
			       args->copy_count, args->copies);
		return PTR_ERR(copies);
	}

	/* The job owns it from here: lpu_job_release_work() destroys it. */
	space = lpu_space_create(ldev);
	if (!space) {
		kfree(copies);
		return -ENOMEM;
	}
	job->space = space;

	for (i = 0; i < args->copy_count; i++) {
		ret = lpu_copy_add(space, file, &copies[i], i, &job->descs[i]);
		if (ret)
			goto out;
		if (copies[i].flags & DRM_LPU_COPY_DEVICE_ADDRESSES)
			dev_addr = true;
	}
	/*
	 * A device address may land in any buffer of the job's table, so
	 * with one such copy every buffer may be written: fence them all
	 * as written, so that implicit sync orders the job against every
	 * earlier reader and writer and later readers wait for it.
	 */
	for (i = 0; dev_addr && i < space->num_bufs; i++)
		space->bufs[i].write = true;

	/* A segment per handle; handle order is va order. */
	for (i = 0; i < space->num_handles; i++) {
		segs[i].va = (u64)space->handles[i].handle << 32;
		segs[i].handle = space->handles[i].handle;
	}
	ret = lpu_space_build(space, segs, space->num_handles);
	if (ret)
		goto out;

	for (i = 0; i < args->copy_count; i++) {
		job->descs[i].copy.seg_table = cpu_to_le64(space->segs_dma);
		job->descs[i].copy.seg_count = cpu_to_le32(space->num_segs);
	}
	job->num_descs = args->copy_count;
out:
	kfree(copies);
	return ret;
}
