/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * LPU v3 buffer objects: SRAM buffers carved from the card's SRAM and host
 * buffers backed by shmem, their ioctls, mmap, PRIME and fdinfo accounting.
 */
#ifndef __LPU_GEM_H__
#define __LPU_GEM_H__

#include <linux/types.h>

#include <drm/drm_gem.h>

struct dma_buf;
struct drm_device;
struct drm_file;
struct drm_printer;
struct lpu_sram_range;

/**
 * struct lpu_sram_bo - a buffer in SRAM
 * @base: GEM object, without shmem backing.
 * @range: its SRAM range, scrubbed and returned when the object is freed.
 */
struct lpu_sram_bo {
	struct drm_gem_object base;
	struct lpu_sram_range *range;
};

u32 lpu_bo_domain(struct drm_gem_object *obj);
u64 lpu_sram_bo_offset(struct drm_gem_object *obj);

struct drm_gem_object *lpu_gem_create_object(struct drm_device *drm,
					     size_t size);
struct drm_gem_object *lpu_gem_prime_import(struct drm_device *drm,
					    struct dma_buf *dma_buf);
void lpu_gem_show_memory_stats(struct drm_printer *p, struct drm_file *file);

int lpu_ioctl_bo_create(struct drm_device *drm, void *data,
			struct drm_file *file);
int lpu_ioctl_bo_info(struct drm_device *drm, void *data,
		      struct drm_file *file);
int lpu_ioctl_bo_wait(struct drm_device *drm, void *data,
		      struct drm_file *file);

#endif /* __LPU_GEM_H__ */
