// SPDX-License-Identifier: GPL-2.0-only
/*
 * LPU v3 buffer objects.
 *
 * SRAM buffers are plain GEM objects holding a range of the SRAM allocator
 * (lpu_sram.c). They map write-combined through the SRAM BAR, page by page
 * from a fault handler that runs inside drm_dev_enter(), and DRM core zaps
 * every mapping of the device's address space on unplug (dma-buf mappings
 * included: DRM points their file at the same address space), so nothing
 * reaches the BAR once the card is gone.
 *
 * Host buffers are drm_gem_shmem objects, cacheable. They are pinned and
 * DMA-mapped only while a job uses them, never for their whole life: the
 * first job to name a buffer pins and maps its pages and writes the page
 * table of its segment, later jobs share that, and the last one to finish
 * takes it all down again.
 *
 * A buffer's device address in a file is its handle << 32: the address
 * space of a file is a set of 4 GiB windows, one per handle, and a job's
 * segment table maps exactly the windows of the buffers it names.
 */

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_print.h>
#include <drm/drm_prime.h>
#include <drm/drm_utils.h>
#include <drm/drm_vma_manager.h>

#include "drm/lpu_accel.h"
#include "lpu_drv.h"
#include "lpu_gem.h"
#include "lpu_sram.h"

/* Pages an SRAM fault maps at once: one fault per page would be slow. */
#define LPU_SRAM_PREFAULT	256

static_assert(PAGE_SIZE == LPU_PAGE_SIZE);
static_assert(DRM_LPU_BO_ALIGN == LPU_PAGE_SIZE);
static_assert(DRM_LPU_BO_MAX_SIZE <= LPU_SEG_MAX_SIZE);
static_assert(offsetof(struct lpu_host_bo, shmem) == 0);

static const struct drm_gem_object_funcs lpu_sram_bo_funcs;
static const struct drm_gem_object_funcs lpu_host_bo_funcs;

static struct lpu_sram_bo *to_lpu_sram_bo(struct drm_gem_object *obj)
{
	return container_of(obj, struct lpu_sram_bo, base);
}

/* DRM_LPU_BO_* of one of our objects, 0 for anything else. */
u32 lpu_bo_domain(struct drm_gem_object *obj)
{
	if (obj->funcs == &lpu_sram_bo_funcs)
		return DRM_LPU_BO_SRAM;
	if (obj->funcs == &lpu_host_bo_funcs)
		return DRM_LPU_BO_HOST;
	return 0;
}

u64 lpu_sram_bo_offset(struct drm_gem_object *obj)
{
	return to_lpu_sram_bo(obj)->range->node.start;
}

/* ---- SRAM buffers ------------------------------------------------------ */

static void lpu_sram_bo_free(struct drm_gem_object *obj)
{
	struct lpu_sram_bo *bo = to_lpu_sram_bo(obj);

	/* Zeroes the range before anyone can get it again. */
	lpu_sram_free(to_lpu_device(obj->dev), bo->range);
	drm_gem_object_release(obj);
	kfree(bo);
}

static vm_fault_t lpu_sram_bo_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct drm_gem_object *obj = vma->vm_private_data;
	struct lpu_device *ldev = to_lpu_device(obj->dev);
	unsigned long npages = obj->size >> PAGE_SHIFT;
	unsigned long first = vma->vm_pgoff - drm_vma_node_start(&obj->vma_node);
	unsigned long page, addr, pfn;
	vm_fault_t ret = VM_FAULT_SIGBUS;
	int i, idx;

	if (!drm_dev_enter(obj->dev, &idx))
		return VM_FAULT_SIGBUS;

	page = first + ((vmf->address - vma->vm_start) >> PAGE_SHIFT);
	if (page >= npages)
		goto out;
	pfn = PHYS_PFN(ldev->sram.bar_start + lpu_sram_bo_offset(obj)) + page;
	ret = vmf_insert_pfn_prot(vma, vmf->address, pfn, vma->vm_page_prot);

	/* Map the following pages too; their faults would do the same. */
	addr = vmf->address + PAGE_SIZE;
	for (i = 1; i < LPU_SRAM_PREFAULT && addr < vma->vm_end &&
	     page + i < npages; i++, addr += PAGE_SIZE)
		if (vmf_insert_pfn_prot(vma, addr, pfn + i, vma->vm_page_prot) &
		    VM_FAULT_ERROR)
			break;
out:
	drm_dev_exit(idx);
	return ret;
}

static const struct vm_operations_struct lpu_sram_bo_vm_ops = {
	.fault = lpu_sram_bo_fault,
	.open = drm_gem_vm_open,
	.close = drm_gem_vm_close,
};

static int lpu_sram_bo_mmap(struct drm_gem_object *obj,
			    struct vm_area_struct *vma)
{
	if (is_cow_mapping(vma->vm_flags)) {
		drm_dbg_driver(obj->dev, "mmap: SRAM buffers need MAP_SHARED\n");
		return -EINVAL;
	}
	vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_page_prot = pgprot_writecombine(vm_get_page_prot(vma->vm_flags));
	return 0;
}

/*
 * SRAM has no struct pages and no sg table, so another device cannot use
 * an SRAM dma-buf: refuse its attachment up front (DRM's generic map
 * callback would WARN on the missing get_sg_table). Self-imports never
 * attach (lpu_gem_prime_import()), and mmap of the dma-buf works as for
 * the GEM object.
 */
static int lpu_sram_dmabuf_attach(struct dma_buf *dma_buf,
				  struct dma_buf_attachment *attach)
{
	struct drm_gem_object *obj = dma_buf->priv;

	drm_dbg_driver(obj->dev,
		       "PRIME: %s cannot attach an SRAM buffer; only host buffers can be shared with other devices\n",
		       dev_name(attach->dev));
	return -EOPNOTSUPP;
}

/* Never called: no attachment exists. dma_buf_export() requires them. */
static struct sg_table *lpu_sram_dmabuf_map(struct dma_buf_attachment *attach,
					    enum dma_data_direction dir)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static void lpu_sram_dmabuf_unmap(struct dma_buf_attachment *attach,
				  struct sg_table *sgt,
				  enum dma_data_direction dir)
{
}

static const struct dma_buf_ops lpu_sram_dmabuf_ops = {
	.attach = lpu_sram_dmabuf_attach,
	.map_dma_buf = lpu_sram_dmabuf_map,
	.unmap_dma_buf = lpu_sram_dmabuf_unmap,
	.release = drm_gem_dmabuf_release,
	.mmap = drm_gem_dmabuf_mmap,
};

static struct dma_buf *lpu_sram_bo_export(struct drm_gem_object *obj,
					  int flags)
{
	struct drm_device *drm = obj->dev;
	struct dma_buf_export_info exp_info = {
		.exp_name = KBUILD_MODNAME,
		/* lpu_gem_prime_import() recognises our buffers by it. */
		.owner = drm->driver->fops->owner,
		.ops = &lpu_sram_dmabuf_ops,
		.size = obj->size,
		.flags = flags,
		.priv = obj,
		.resv = obj->resv,
	};

	/* Takes the device and object references drm_gem_dmabuf_release() drops. */
	return drm_gem_dmabuf_export(drm, &exp_info);
}

static const struct drm_gem_object_funcs lpu_sram_bo_funcs = {
	.free = lpu_sram_bo_free,
	.export = lpu_sram_bo_export,
	.mmap = lpu_sram_bo_mmap,
	.vm_ops = &lpu_sram_bo_vm_ops,
};

static struct drm_gem_object *lpu_sram_bo_create(struct lpu_device *ldev,
						 u64 size)
{
	struct lpu_sram_bo *bo;
	int ret;

	bo = kzalloc(sizeof(*bo), GFP_KERNEL);
	if (!bo)
		return ERR_PTR(-ENOMEM);
	bo->range = lpu_sram_alloc(ldev, size);
	if (IS_ERR(bo->range)) {
		ret = PTR_ERR(bo->range);
		kfree(bo);
		return ERR_PTR(ret);
	}
	bo->base.funcs = &lpu_sram_bo_funcs;
	drm_gem_private_object_init(&ldev->drm, &bo->base, size);
	ret = drm_gem_create_mmap_offset(&bo->base);
	if (ret) {
		/* The object is complete: its free() gives the range back. */
		drm_gem_object_put(&bo->base);
		return ERR_PTR(ret);
	}
	return &bo->base;
}

/* ---- Host buffers ------------------------------------------------------ */

static struct lpu_host_bo *to_lpu_host_bo(struct drm_gem_object *obj)
{
	return container_of(obj, struct lpu_host_bo, shmem.base);
}

static void lpu_host_bo_free(struct drm_gem_object *obj)
{
	struct lpu_host_bo *bo = to_lpu_host_bo(obj);

	/* Every job that mapped it held a reference: no mapping is left. */
	mutex_destroy(&bo->map_lock);
	drm_gem_shmem_free(&bo->shmem);
}

static void lpu_host_bo_unmap_locked(struct lpu_host_bo *bo)
{
	struct drm_gem_object *obj = &bo->shmem.base;
	struct device *dev = obj->dev->dev;
	u32 i;

	lockdep_assert_held(&bo->map_lock);

	for (i = 0; i < bo->num_pt; i++)
		dma_free_coherent(dev, LPU_PAGE_SIZE, bo->pt[i].cpu, bo->pt[i].dma);
	bo->num_pt = 0;
	kvfree(bo->pt);
	bo->pt = NULL;
	if (bo->sgt) {
		/*
		 * No sync here: every job synced what it may have written
		 * when it completed (lpu_host_bo_sync_for_cpu()), and this
		 * runs later, asynchronously; copying bounce buffers back now
		 * would overwrite what the CPU wrote since.
		 */
		dma_unmap_sgtable(dev, bo->sgt, DMA_BIDIRECTIONAL,
				  DMA_ATTR_SKIP_CPU_SYNC);
		sg_free_table(bo->sgt);
		kfree(bo->sgt);
		bo->sgt = NULL;
	}
	drm_gem_shmem_unpin(&bo->shmem);
	atomic64_sub(obj->size, &to_lpu_device(obj->dev)->pinned);
}

/*
 * Pin the pages, map them for the card and write the page table: a
 * directory page of leaf page addresses, each leaf LPU_PT_ENTRIES_PER_PAGE
 * data page addresses. Mapped both ways: jobs that read and jobs that
 * write share the mapping.
 */
static int lpu_host_bo_map_locked(struct lpu_host_bo *bo)
{
	struct drm_gem_object *obj = &bo->shmem.base;
	struct lpu_device *ldev = to_lpu_device(obj->dev);
	struct device *dev = obj->dev->dev;
	u64 npages = obj->size >> PAGE_SHIFT, i = 0;
	u32 nleaf = DIV_ROUND_UP(npages, LPU_PT_ENTRIES_PER_PAGE);
	struct scatterlist *sg;
	struct sg_table *sgt;
	u32 j;
	int ret;

	/*
	 * Pinned pages cannot be swapped or reclaimed: bound them per
	 * device, or jobs of any client could pin all of RAM. Counted before
	 * pinning; lpu_host_bo_unmap_locked() gives it back.
	 */
	if (atomic64_add_return(obj->size, &ldev->pinned) > ldev->pin_limit) {
		atomic64_sub(obj->size, &ldev->pinned);
		drm_dbg_driver(obj->dev,
			       "SUBMIT: host buffer of %zu bytes would take pinned host memory above the device's limit of %llu bytes (module parameter pin_limit_mb)\n",
			       obj->size, ldev->pin_limit);
		return -ENOMEM;
	}

	ret = drm_gem_shmem_pin(&bo->shmem);
	if (ret) {
		atomic64_sub(obj->size, &ldev->pinned);
		return ret;
	}

	sgt = drm_gem_shmem_get_sg_table(&bo->shmem);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto fail;
	}
	ret = dma_map_sgtable(dev, sgt, DMA_BIDIRECTIONAL, 0);
	if (ret) {
		sg_free_table(sgt);
		kfree(sgt);
		goto fail;
	}
	bo->sgt = sgt;

	ret = -ENOMEM;
	bo->pt = kvcalloc(1 + nleaf, sizeof(*bo->pt), GFP_KERNEL);
	if (!bo->pt)
		goto fail;
	for (j = 0; j < 1 + nleaf; j++) {
		bo->pt[j].cpu = dma_alloc_coherent(dev, LPU_PAGE_SIZE,
						   &bo->pt[j].dma, GFP_KERNEL);
		if (!bo->pt[j].cpu)
			goto fail;
		bo->num_pt++;
	}
	for (j = 0; j < nleaf; j++)
		bo->pt[0].cpu[j] = cpu_to_le64(bo->pt[1 + j].dma);

	/* Per DMA segment, not per page: this runs for every first user. */
	for_each_sgtable_dma_sg(sgt, sg, j) {
		dma_addr_t addr = sg_dma_address(sg);
		dma_addr_t end = addr + sg_dma_len(sg);

		for (; addr < end && i < npages; addr += LPU_PAGE_SIZE, i++)
			bo->pt[1 + i / LPU_PT_ENTRIES_PER_PAGE].cpu[i % LPU_PT_ENTRIES_PER_PAGE] =
				cpu_to_le64(addr);
	}
	if (i != npages) {
		drm_err(obj->dev, "host buffer of %llu pages mapped as %llu\n",
			npages, i);
		ret = -EIO;
		goto fail;
	}
	return 0;

fail:
	/* Undoes whatever part was done, the pin last. */
	lpu_host_bo_unmap_locked(bo);
	return ret;
}

/*
 * A job starts using host buffer @obj: make sure it is pinned and mapped,
 * and return the bus address of its page directory for the segment.
 */
int lpu_host_bo_map(struct drm_gem_object *obj, dma_addr_t *dir)
{
	struct lpu_host_bo *bo = to_lpu_host_bo(obj);
	int ret = 0;

	mutex_lock(&bo->map_lock);
	if (!bo->map_users)
		ret = lpu_host_bo_map_locked(bo);
	if (!ret) {
		bo->map_users++;
		*dir = bo->pt[0].dma;
	}
	mutex_unlock(&bo->map_lock);
	return ret;
}

/* A job is done with @obj (or the card is gone): the last one unmaps. */
void lpu_host_bo_unmap(struct drm_gem_object *obj)
{
	struct lpu_host_bo *bo = to_lpu_host_bo(obj);

	mutex_lock(&bo->map_lock);
	if (!--bo->map_users)
		lpu_host_bo_unmap_locked(bo);
	mutex_unlock(&bo->map_lock);
}

/*
 * The mapping is shared and long-lived, so ownership of the pages moves
 * between CPU and card per job: to the card when a job is emitted (the CPU
 * may have written through mmap since the last job), back to the CPU when
 * it completes, before anyone can see that. Free on a coherent machine
 * without bounce buffers; needed with swiotlb or non-coherent DMA. The
 * caller's job holds the mapping. Any context.
 */
void lpu_host_bo_sync_for_device(struct drm_gem_object *obj)
{
	dma_sync_sgtable_for_device(obj->dev->dev, to_lpu_host_bo(obj)->sgt,
				    DMA_BIDIRECTIONAL);
}

void lpu_host_bo_sync_for_cpu(struct drm_gem_object *obj)
{
	dma_sync_sgtable_for_cpu(obj->dev->dev, to_lpu_host_bo(obj)->sgt,
				 DMA_BIDIRECTIONAL);
}

static const struct drm_gem_object_funcs lpu_host_bo_funcs = {
	.free = lpu_host_bo_free,
	.print_info = drm_gem_shmem_object_print_info,
	.pin = drm_gem_shmem_object_pin,
	.unpin = drm_gem_shmem_object_unpin,
	.get_sg_table = drm_gem_shmem_object_get_sg_table,
	.vmap = drm_gem_shmem_object_vmap,
	.vunmap = drm_gem_shmem_object_vunmap,
	.mmap = drm_gem_shmem_object_mmap,
	.vm_ops = &drm_gem_shmem_vm_ops,
};

/* drm_driver.gem_create_object: the shmem helper's allocator for our type. */
struct drm_gem_object *lpu_gem_create_object(struct drm_device *drm,
					     size_t size)
{
	struct lpu_host_bo *bo;

	bo = kzalloc(sizeof(*bo), GFP_KERNEL);
	if (!bo)
		return ERR_PTR(-ENOMEM);
	mutex_init(&bo->map_lock);
	/* Cacheable: the device snoops, and userspace reads results. */
	bo->shmem.map_wc = false;
	/* The card writes them behind the CPU's back: never drop them clean. */
	bo->shmem.pages_mark_dirty_on_put = true;
	bo->shmem.pages_mark_accessed_on_put = true;
	bo->shmem.base.funcs = &lpu_host_bo_funcs;
	return &bo->shmem.base;
}

/* ---- PRIME ------------------------------------------------------------- */

/*
 * Only buffers of this card come in: a self-import gives the same object a
 * handle in the importing file. Foreign dma-bufs would need a device
 * address space built from someone else's sg table; not supported.
 */
struct drm_gem_object *lpu_gem_prime_import(struct drm_device *drm,
					    struct dma_buf *dma_buf)
{
	struct drm_gem_object *obj;

	/* Our exports carry our module as owner and a GEM object as priv. */
	if (dma_buf->owner == THIS_MODULE) {
		obj = dma_buf->priv;
		if (obj->dev == drm && lpu_bo_domain(obj)) {
			drm_gem_object_get(obj);
			return obj;
		}
	}
	drm_dbg_driver(drm,
		       "PRIME import: dma-buf of %s is not a buffer of this LPU; only those can be imported\n",
		       dma_buf->exp_name);
	return ERR_PTR(-EOPNOTSUPP);
}

/* ---- ioctls ------------------------------------------------------------ */

int lpu_ioctl_bo_create(struct drm_device *drm, void *data,
			struct drm_file *file)
{
	struct lpu_device *ldev = to_lpu_device(drm);
	struct drm_lpu_bo_create *args = data;
	struct drm_gem_shmem_object *shmem;
	struct drm_gem_object *obj;
	u64 size = args->size;
	int ret, idx;

	if (args->flags || args->pad) {
		drm_dbg_driver(drm, "BO_CREATE: flags 0x%x and pad 0x%x must be 0\n",
			       args->flags, args->pad);
		return -EINVAL;
	}
	if (!size || !IS_ALIGNED(size, DRM_LPU_BO_ALIGN) ||
	    size > DRM_LPU_BO_MAX_SIZE) {
		drm_dbg_driver(drm,
			       "BO_CREATE: size %llu must be a non-zero multiple of %u up to %llu\n",
			       size, DRM_LPU_BO_ALIGN, DRM_LPU_BO_MAX_SIZE);
		return -EINVAL;
	}
	switch (args->domain) {
	case DRM_LPU_BO_SRAM:
		if (size > ldev->sram.size) {
			drm_dbg_driver(drm,
				       "BO_CREATE: SRAM size %llu larger than the card's usable %llu\n",
				       size, ldev->sram.size);
			return -EINVAL;
		}
		break;
	case DRM_LPU_BO_HOST:
		/* shmem would only fail later, at the first fault or job. */
		if (size > (u64)totalram_pages() << PAGE_SHIFT) {
			drm_dbg_driver(drm, "BO_CREATE: host size %llu exceeds the machine's RAM\n",
				       size);
			return -ENOMEM;
		}
		break;
	default:
		drm_dbg_driver(drm, "BO_CREATE: unknown domain %u\n", args->domain);
		return -EINVAL;
	}

	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;

	if (args->domain == DRM_LPU_BO_SRAM) {
		obj = lpu_sram_bo_create(ldev, size);
	} else {
		shmem = drm_gem_shmem_create(drm, size);
		obj = IS_ERR(shmem) ? ERR_CAST(shmem) : &shmem->base;
	}
	if (IS_ERR(obj)) {
		ret = PTR_ERR(obj);
		drm_dbg_driver(drm, "BO_CREATE: %s buffer of %llu bytes: %s (%d)\n",
			       args->domain == DRM_LPU_BO_SRAM ? "SRAM" : "host",
			       size, ret == -ENOSPC ? "no free SRAM range that large" :
			       "allocation failed", ret);
		goto out;
	}

	ret = drm_gem_handle_create(file, obj, &args->handle);
	/* The handle holds the object now, or the object goes. */
	drm_gem_object_put(obj);
	if (ret)
		drm_dbg_driver(drm, "BO_CREATE: no handle: %d\n", ret);
out:
	drm_dev_exit(idx);
	return ret;
}

int lpu_ioctl_bo_info(struct drm_device *drm, void *data,
		      struct drm_file *file)
{
	struct drm_lpu_bo_info *args = data;
	struct drm_gem_object *obj;

	if (args->flags || args->pad) {
		drm_dbg_driver(drm, "BO_INFO: flags 0x%x and pad 0x%x must be 0\n",
			       args->flags, args->pad);
		return -EINVAL;
	}
	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj) {
		drm_dbg_driver(drm, "BO_INFO: no buffer with handle %u\n", args->handle);
		return -ENOENT;
	}
	args->mmap_offset = drm_vma_node_offset_addr(&obj->vma_node);
	args->size = obj->size;
	args->domain = lpu_bo_domain(obj);
	args->device_addr = (u64)args->handle << 32;
	drm_gem_object_put(obj);
	return 0;
}

int lpu_ioctl_bo_wait(struct drm_device *drm, void *data,
		      struct drm_file *file)
{
	struct drm_lpu_bo_wait *args = data;
	struct drm_gem_object *obj;
	long ret;

	if (args->flags) {
		drm_dbg_driver(drm, "BO_WAIT: flags 0x%x must be 0\n", args->flags);
		return -EINVAL;
	}
	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj) {
		drm_dbg_driver(drm, "BO_WAIT: no buffer with handle %u\n", args->handle);
		return -ENOENT;
	}

	for (;;) {
		long timeout = drm_timeout_abs_to_jiffies(args->timeout_ns);

		if (!timeout) {
			ret = dma_resv_test_signaled(obj->resv,
						     DMA_RESV_USAGE_READ) ?
			      0 : -ETIME;
			break;
		}
		/* READ usage covers every fence: readers and writers. */
		ret = dma_resv_wait_timeout(obj->resv, DMA_RESV_USAGE_READ,
					    true, timeout);
		if (ret) {
			/* -ERESTARTSYS restarts with the same deadline. */
			ret = ret < 0 ? ret : 0;
			break;
		}
		/* A jiffy sleep may end early; -ETIME promises the deadline. */
	}
	drm_gem_object_put(obj);
	return ret;
}

/* ---- fdinfo ------------------------------------------------------------ */

/*
 * drm-total-, drm-shared-, drm-active- and drm-resident- keys per region,
 * "sram" and "host". SRAM buffers are always resident; host buffers are
 * once shmem has pages for them (mapped, or used by a job).
 */
void lpu_gem_show_memory_stats(struct drm_printer *p, struct drm_file *file)
{
	struct drm_memory_stats stats[2] = {};
	struct drm_gem_object *obj;
	int id;

	spin_lock(&file->table_lock);
	idr_for_each_entry(&file->object_idr, obj, id) {
		u32 domain = lpu_bo_domain(obj);
		struct drm_memory_stats *s;
		bool resident;

		if (!domain)
			continue;
		s = &stats[domain == DRM_LPU_BO_SRAM ? 0 : 1];
		if (drm_gem_object_is_shared_for_memory_stats(obj))
			s->shared += obj->size;
		else
			s->private += obj->size;
		resident = domain == DRM_LPU_BO_SRAM ||
			   READ_ONCE(to_drm_gem_shmem_obj(obj)->pages);
		if (resident)
			s->resident += obj->size;
		if (!dma_resv_test_signaled(obj->resv, DMA_RESV_USAGE_READ))
			s->active += obj->size;
	}
	spin_unlock(&file->table_lock);

	drm_print_memory_stats(p, &stats[0], DRM_GEM_OBJECT_RESIDENT, "sram");
	drm_print_memory_stats(p, &stats[1], DRM_GEM_OBJECT_RESIDENT, "host");
}
