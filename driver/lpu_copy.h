/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * LPU v3 COPY jobs: the copies of one SUBMIT checked against the file's
 * buffers, turned into COPY descriptors over the job's address space.
 */
#ifndef __LPU_COPY_H__
#define __LPU_COPY_H__

struct drm_file;
struct drm_lpu_submit;
struct lpu_job;

int lpu_copy_prepare(struct lpu_job *job, struct drm_file *file,
		     const struct drm_lpu_submit *args);

#endif /* __LPU_COPY_H__ */
