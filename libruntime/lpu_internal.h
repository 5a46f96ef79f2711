/* SPDX-License-Identifier: MIT */
/*
 * liblpu internals shared by the library's source files. Not installed.
 */
#ifndef LPU_INTERNAL_H
#define LPU_INTERNAL_H

#include <pthread.h>

#include <drm/lpu_accel.h>

#include "lpu.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct lpu_bo {
	struct lpu_device *dev;
	struct lpu_bo *next;	/* in dev->bos */
	unsigned int refs;	/* one per alloc or import returning it */
	uint32_t handle;
	uint32_t domain;
	uint64_t size;
	uint64_t mmap_offset;
	uint64_t device_addr;
	void *map;		/* lpu_bo_map(), or NULL */
};

struct lpu_device {
	int fd;
	/*
	 * Protects @bos and every buffer's refs and map. GEM gives one handle
	 * per object and file, so the library keeps one struct lpu_bo per
	 * handle: an import of a buffer we hold must not lead to a second
	 * GEM_CLOSE of the same handle.
	 */
	pthread_mutex_t lock;
	struct lpu_bo *bos;
};

/* Set up a struct lpu_device around an open @fd (no checks, no ioctl). */
void lpu_device_init(struct lpu_device *dev, int fd);
/* Free the buffers still allocated and the lock (not the fd). */
void lpu_device_fini(struct lpu_device *dev);

/*
 * Relative timeout of the API (0 polls, negative forever) to the driver's
 * absolute CLOCK_MONOTONIC deadline; 0 or -errno.
 */
int lpu_deadline_ns(int64_t timeout_ns, int64_t *deadline);

/* "/sys" unless LPU_SYSFS_ROOT is set; "/dev" unless LPU_DEV_ROOT is. */
const char *lpu_dev_root(void);

/* printf into a message buffer (@msg may be NULL, @len 0); returns @err. */
int lpu_msg(char *msg, size_t len, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* One ioctl through libdrm; 0 or -errno. */
int lpu_ioctl(struct lpu_device *dev, unsigned long cmd, void *arg);

struct drm_lpu_wait;
/*
 * DRM_IOCTL_LPU_WAIT for job @seq with the API's relative @timeout_ns;
 * fills *@req (status, times, fault and instruction details). 0 or -errno.
 */
int lpu_wait_job(struct lpu_device *dev, uint64_t seq, int64_t timeout_ns,
		 struct drm_lpu_wait *req);

#endif /* LPU_INTERNAL_H */
