/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * LPU v3 EXEC jobs: a program of the tensor engine run over the job's
 * buffer slots.
 */
#ifndef __LPU_EXEC_H__
#define __LPU_EXEC_H__

struct drm_file;
struct drm_lpu_submit;
struct lpu_job;

int lpu_exec_prepare(struct lpu_job *job, struct drm_file *file,
		     const struct drm_lpu_submit *args);

#endif /* __LPU_EXEC_H__ */
