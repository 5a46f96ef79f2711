// SPDX-License-Identifier: MIT
/*
 * Buffer objects: DRM_IOCTL_LPU_BO_CREATE / BO_INFO / BO_WAIT, GEM close,
 * mmap of the device file, and PRIME export and import.
 *
 * Arguments are checked before any ioctl, so a caller's mistake is -EINVAL
 * from the library and never reaches the driver; limits that depend on the
 * card (free SRAM) are the driver's to report.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <xf86drm.h>
#include <drm/lpu_accel.h>

#include "lpu_internal.h"

_Static_assert(LPU_BO_SRAM == DRM_LPU_BO_SRAM, "domain values differ");
_Static_assert(LPU_BO_HOST == DRM_LPU_BO_HOST, "domain values differ");

/* Fill size, domain, mmap offset and device address from BO_INFO. */
static int bo_query(struct lpu_bo *bo)
{
	struct drm_lpu_bo_info req;
	int ret;

	memset(&req, 0, sizeof(req));
	req.handle = bo->handle;
	ret = lpu_ioctl(bo->dev, DRM_IOCTL_LPU_BO_INFO, &req);
	if (ret)
		return ret;
	bo->size = req.size;
	bo->domain = req.domain;
	bo->mmap_offset = req.mmap_offset;
	bo->device_addr = req.device_addr;
	return 0;
}

static void gem_close(struct lpu_device *dev, uint32_t handle)
{
	/* Only fails for a handle we do not hold: nothing to undo then. */
	(void)drmCloseBufferHandle(dev->fd, handle);
}

/* Called with dev->lock held. */
static struct lpu_bo *bo_find(struct lpu_device *dev, uint32_t handle)
{
	struct lpu_bo *bo;

	for (bo = dev->bos; bo; bo = bo->next)
		if (bo->handle == handle)
			return bo;
	return NULL;
}

/* A struct lpu_bo for a handle new to @dev (reference of the caller). */
static int bo_wrap(struct lpu_device *dev, uint32_t handle,
		   struct lpu_bo **out)
{
	struct lpu_bo *bo = calloc(1, sizeof(*bo));
	int ret;

	if (!bo)
		return -ENOMEM;
	bo->dev = dev;
	bo->handle = handle;
	bo->refs = 1;
	ret = bo_query(bo);
	if (ret) {
		free(bo);
		return ret;
	}
	bo->next = dev->bos;
	dev->bos = bo;
	*out = bo;
	return 0;
}

int lpu_bo_alloc(struct lpu_device *dev, unsigned int domain, uint64_t size,
		 uint32_t flags, struct lpu_bo **out)
{
	struct drm_lpu_bo_create req;
	int ret;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!dev || !size || size > DRM_LPU_BO_MAX_SIZE || flags ||
	    (domain != LPU_BO_SRAM && domain != LPU_BO_HOST))
		return -EINVAL;

	memset(&req, 0, sizeof(req));
	/* Cannot wrap: size is at most 1 GiB here. */
	req.size = (size + DRM_LPU_BO_ALIGN - 1) & ~(uint64_t)(DRM_LPU_BO_ALIGN - 1);
	req.domain = domain;
	ret = lpu_ioctl(dev, DRM_IOCTL_LPU_BO_CREATE, &req);
	if (ret)
		return ret;

	pthread_mutex_lock(&dev->lock);
	ret = bo_wrap(dev, req.handle, out);
	pthread_mutex_unlock(&dev->lock);
	if (ret)
		gem_close(dev, req.handle);
	return ret;
}

/* Called with dev->lock held, when the last reference is gone. */
static int bo_destroy(struct lpu_bo *bo)
{
	struct lpu_device *dev = bo->dev;
	struct lpu_bo **p;
	int ret = 0;

	for (p = &dev->bos; *p; p = &(*p)->next) {
		if (*p == bo) {
			*p = bo->next;
			break;
		}
	}
	if (bo->map && munmap(bo->map, bo->size))
		ret = -errno;
	if (drmCloseBufferHandle(dev->fd, bo->handle) && !ret)
		ret = -errno;
	free(bo);
	return ret;
}

int lpu_bo_free(struct lpu_bo *bo)
{
	struct lpu_device *dev;
	int ret = 0;

	if (!bo)
		return 0;
	dev = bo->dev;
	pthread_mutex_lock(&dev->lock);
	if (--bo->refs == 0)
		ret = bo_destroy(bo);
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

void lpu_device_fini(struct lpu_device *dev)
{
	struct lpu_bo *bo, *next;

	/* Closing the fd releases the handles; only our memory is left. */
	for (bo = dev->bos; bo; bo = next) {
		next = bo->next;
		if (bo->map)
			munmap(bo->map, bo->size);
		free(bo);
	}
	dev->bos = NULL;
	pthread_mutex_destroy(&dev->lock);
}

int lpu_bo_map(struct lpu_bo *bo, void **ptr)
{
	void *p;
	int ret = 0;

	if (!ptr)
		return -EINVAL;
	*ptr = NULL;
	if (!bo)
		return -EINVAL;
	pthread_mutex_lock(&bo->dev->lock);
	if (!bo->map) {
		p = mmap(NULL, bo->size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 bo->dev->fd, (off_t)bo->mmap_offset);
		if (p == MAP_FAILED)
			ret = -errno;
		else
			bo->map = p;
	}
	*ptr = bo->map;
	pthread_mutex_unlock(&bo->dev->lock);
	return ret;
}

int lpu_bo_unmap(struct lpu_bo *bo)
{
	int ret = 0;

	if (!bo)
		return -EINVAL;
	pthread_mutex_lock(&bo->dev->lock);
	if (bo->map && munmap(bo->map, bo->size))
		ret = -errno;
	bo->map = NULL;
	pthread_mutex_unlock(&bo->dev->lock);
	return ret;
}

uint64_t lpu_bo_size(const struct lpu_bo *bo)
{
	return bo ? bo->size : 0;
}

unsigned int lpu_bo_domain(const struct lpu_bo *bo)
{
	return bo ? bo->domain : 0;
}

uint32_t lpu_bo_handle(const struct lpu_bo *bo)
{
	return bo ? bo->handle : 0;
}

uint64_t lpu_bo_device_address(const struct lpu_bo *bo)
{
	return bo ? bo->device_addr : 0;
}

int lpu_bo_wait(struct lpu_bo *bo, int64_t timeout_ns)
{
	struct drm_lpu_bo_wait req;
	int64_t deadline;
	int ret;

	if (!bo)
		return -EINVAL;
	/* One deadline for every restart of the ioctl, as lpu_wait(). */
	ret = lpu_deadline_ns(timeout_ns, &deadline);
	if (ret)
		return ret;
	memset(&req, 0, sizeof(req));
	req.handle = bo->handle;
	req.timeout_ns = deadline;
	return lpu_ioctl(bo->dev, DRM_IOCTL_LPU_BO_WAIT, &req);
}

int lpu_bo_export(struct lpu_bo *bo, int *dmabuf_fd)
{
	if (!dmabuf_fd)
		return -EINVAL;
	*dmabuf_fd = -1;
	if (!bo)
		return -EINVAL;
	if (drmPrimeHandleToFD(bo->dev->fd, bo->handle, DRM_CLOEXEC | DRM_RDWR,
			       dmabuf_fd))
		return -errno;
	return 0;
}

int lpu_bo_import(struct lpu_device *dev, int dmabuf_fd, struct lpu_bo **out)
{
	struct lpu_bo *bo;
	uint32_t handle;
	int ret = 0;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!dev || dmabuf_fd < 0)
		return -EINVAL;
	/*
	 * Under the lock: a concurrent free of the same handle must not
	 * close it between the import and our lookup.
	 */
	pthread_mutex_lock(&dev->lock);
	if (drmPrimeFDToHandle(dev->fd, dmabuf_fd, &handle)) {
		ret = -errno;
		goto out;
	}
	bo = bo_find(dev, handle);
	if (bo) {
		bo->refs++;
		*out = bo;
		goto out;
	}
	ret = bo_wrap(dev, handle, out);
	if (ret)
		gem_close(dev, handle);
out:
	pthread_mutex_unlock(&dev->lock);
	return ret;
}
