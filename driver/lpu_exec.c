// SPDX-License-Identifier: GPL-2.0-only
/*
 * LPU v3 EXEC jobs.
 *
 * An EXEC job names up to DRM_LPU_MAX_SLOTS buffers by handle, in slot
 * order, and the kernel builds the job's address space from them: slot i
 * is a segment at DRM_LPU_EXEC_SLOT_ADDR(i) (lpu_space.c), so a compiled
 * program addresses its tensors as slot + offset and needs no relocation.
 * The kernel checks the request and the handles and nothing else: the
 * program, its stats record and every instruction are the device's to
 * validate against that table, before anything runs (uapi/lpu_hw.h), and
 * a refused program fails the job with -ENOEXEC (lpu_queue.c).
 *
 * The program may write any slot, so every slot's buffer is fenced as
 * written. A job runs until its own deadline (drm_lpu_exec.timeout_ms, or
 * the module's job_timeout_ms), which the queue enforces (lpu_queue.c).
 */

#include <linux/jiffies.h>
#include <linux/uaccess.h>

#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_print.h>

#include "drm/lpu_accel.h"
#include "lpu_drv.h"
#include "lpu_exec.h"
#include "lpu_job.h"
#include "lpu_queue.h"
#include "lpu_space.h"

static_assert(sizeof(struct lpu_insn) == LPU_INSN_SIZE);
static_assert(sizeof(struct lpu_exec_stats) == LPU_EXEC_STATS_SIZE);
static_assert(sizeof(struct drm_lpu_exec) == 40);
/* Slots never overlap, whatever the size of their buffers. */
static_assert(DRM_LPU_EXEC_SLOT_ADDR(1) - DRM_LPU_EXEC_SLOT_ADDR(0) >=
	      DRM_LPU_BO_MAX_SIZE);

static int lpu_exec_check(struct drm_device *drm, const struct drm_lpu_exec *ex)
{
	if (ex->flags) {
		drm_dbg_driver(drm, "SUBMIT: EXEC flags 0x%x must be 0\n",
			       ex->flags);
		return -EINVAL;
	}
	if (!ex->slot_count || ex->slot_count > DRM_LPU_MAX_SLOTS) {
		drm_dbg_driver(drm, "SUBMIT: EXEC slot_count %u not in 1..%u\n",
			       ex->slot_count, DRM_LPU_MAX_SLOTS);
		return -EINVAL;
	}
	if (!ex->insn_count || ex->insn_count > LPU_EXEC_MAX_INSNS) {
		drm_dbg_driver(drm, "SUBMIT: EXEC insn_count %u not in 1..%u\n",
			       ex->insn_count, LPU_EXEC_MAX_INSNS);
		return -EINVAL;
	}
	if (ex->timeout_ms > DRM_LPU_EXEC_MAX_TIMEOUT_MS) {
		drm_dbg_driver(drm, "SUBMIT: EXEC timeout_ms %u above %u\n",
			       ex->timeout_ms, DRM_LPU_EXEC_MAX_TIMEOUT_MS);
		return -EINVAL;
	}
	return 0;
}

/*
 * SUBMIT of an LPU_JOB_EXEC: @args->exec is non-zero (checked by the
 * caller). Reads and checks struct drm_lpu_exec and its slots, and fills
 * in the job's descriptor, address space (holding the slot buffers) and
 * deadline. Returns 0, -EINVAL for a bad request, -ENOENT for a handle
 * that is no buffer of @file, -EFAULT for unreadable memory, -ENOMEM,
 * -ENODEV after removal; each failure with a debug line saying why.
 */
int lpu_exec_prepare(struct lpu_job *job, struct drm_file *file,
		     const struct drm_lpu_submit *args)
{
	struct drm_device *drm = &job->lfile->ldev->drm;
	struct lpu_space_seg segs[DRM_LPU_MAX_SLOTS];
	u32 handles[DRM_LPU_MAX_SLOTS];
	struct drm_lpu_exec ex;
	struct lpu_space *space;
	union lpu_desc *d;
	u32 i, ms;
	int ret;

	if (copy_from_user(&ex, u64_to_user_ptr(args->exec), sizeof(ex))) {
		drm_dbg_driver(drm, "SUBMIT: cannot read struct drm_lpu_exec at 0x%llx\n",
			       args->exec);
		return -EFAULT;
	}
	ret = lpu_exec_check(drm, &ex);
	if (ret)
		return ret;
	if (copy_from_user(handles, u64_to_user_ptr(ex.slots),
			   ex.slot_count * sizeof(handles[0]))) {
		drm_dbg_driver(drm, "SUBMIT: cannot read %u EXEC slots at 0x%llx\n",
			       ex.slot_count, ex.slots);
		return -EFAULT;
	}

	/* The job owns it from here: lpu_job_release_work() destroys it. */
	space = lpu_space_create(job->lfile->ldev);
	if (!space)
		return -ENOMEM;
	job->space = space;

	for (i = 0; i < ex.slot_count; i++) {
		if (!lpu_space_add_buf(space, file, handles[i])) {
			drm_dbg_driver(drm,
				       "SUBMIT: EXEC slot %u: handle %u is no buffer of this file\n",
				       i, handles[i]);
			return -ENOENT;
		}
		segs[i].va = DRM_LPU_EXEC_SLOT_ADDR(i);
		segs[i].handle = handles[i];
	}
	/* Any instruction may write any slot. */
	for (i = 0; i < space->num_bufs; i++)
		space->bufs[i].write = true;
	ret = lpu_space_build(space, segs, ex.slot_count);
	if (ret)
		return ret;

	/* Program and stats are device addresses: the device checks them. */
	d = &job->descs[0];
	d->exec.hdr.opcode = LPU_OP_EXEC;
	d->exec.program = cpu_to_le64(ex.program);
	d->exec.insn_count = cpu_to_le32(ex.insn_count);
	d->exec.seg_count = cpu_to_le32(space->num_segs);
	d->exec.seg_table = cpu_to_le64(space->segs_dma);
	d->exec.stats = cpu_to_le64(ex.stats);
	job->num_descs = 1;

	/* 0: no deadline (job_timeout_ms=0, no limit). */
	ms = ex.timeout_ms ? ex.timeout_ms : lpu_job_timeout_ms;
	/*
	 * The deadline itself is a ktime (lpu_queue.c); this is the delay of
	 * its timer, one jiffy more because it counts from a jiffy already
	 * under way, and the job may run at least the time it asked for.
	 */
	job->hw->timeout = ms ? msecs_to_jiffies(ms) + 1 : 0;
	job->hw->timeout_ms = ms;
	return 0;
}
