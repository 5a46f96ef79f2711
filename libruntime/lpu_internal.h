/* SPDX-License-Identifier: MIT */
/*
 * liblpu internals shared by the library's source files. Not installed.
 */
#ifndef LPU_INTERNAL_H
#define LPU_INTERNAL_H

#include <drm/lpu_accel.h>

#include "lpu.h"

struct lpu_device {
	int fd;
};

/* "/sys" unless LPU_SYSFS_ROOT is set; "/dev" unless LPU_DEV_ROOT is. */
const char *lpu_dev_root(void);

/* One ioctl through libdrm; 0 or -errno. */
int lpu_ioctl(struct lpu_device *dev, unsigned long cmd, void *arg);

#endif /* LPU_INTERNAL_H */
