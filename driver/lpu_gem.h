/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * LPU v3 buffer objects: SRAM buffers carved from the card's SRAM and host
 * buffers backed by shmem, their ioctls, mmap, PRIME and fdinfo accounting.
 */
#ifndef __LPU_GEM_H__
#define __LPU_GEM_H__

#include <linux/mutex.h>
#include <linux/types.h>

#include <drm/drm_gem.h>
#include <drm/drm_gem_shmem_helper.h>

struct dma_buf;
struct drm_device;
struct drm_file;
struct drm_printer;
struct lpu_sram_range;
struct sg_table;

/** struct lpu_pt_page - one page-table page in coherent DMA memory */
struct lpu_pt_page {
	__le64 *cpu;
	dma_addr_t dma;
};

/**
 * struct lpu_sram_bo - a buffer in SRAM
 * @base: GEM object, without shmem backing.
 * @range: its SRAM range, scrubbed and returned when the object is freed.
 */
struct lpu_sram_bo {
	struct drm_gem_object base;
	struct lpu_sram_range *range;
};

/**
 * struct lpu_host_bo - a buffer in host memory
 * @shmem: shmem GEM object; first, so the shmem helpers free us.
 * @map_lock: protects everything below it.
 * @map_users: jobs using the device mapping; it exists while non-zero.
 * @sgt: the pinned pages, DMA-mapped for the card.
 * @pt: page table of the buffer's segment, the directory first, then the
 *	leaves; shared by every job using the buffer, so that a buffer named
 *	by many jobs costs one page table, not one per job.
 * @num_pt: entries of @pt allocated.
 */
struct lpu_host_bo {
	struct drm_gem_shmem_object shmem;
	struct mutex map_lock; /* see @map_lock above */
	u32 map_users;
	struct sg_table *sgt;
	struct lpu_pt_page *pt;
	u32 num_pt;
};

u32 lpu_bo_domain(struct drm_gem_object *obj);
int lpu_host_bo_map(struct drm_gem_object *obj, dma_addr_t *dir);
void lpu_host_bo_unmap(struct drm_gem_object *obj);
void lpu_host_bo_sync_for_device(struct drm_gem_object *obj);
void lpu_host_bo_sync_for_cpu(struct drm_gem_object *obj);
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
