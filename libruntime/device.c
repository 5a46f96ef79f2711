// SPDX-License-Identifier: MIT
/*
 * Opening and closing a card.
 *
 * An accel node is verified before use: it must be a character device whose
 * DRM_IOCTL_VERSION names the "lpu" driver with the ABI major this library
 * was built against, so a wrong path fails with a clear error instead of
 * sending our ioctl numbers to another driver.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xf86drm.h>
#include <drm/lpu_accel.h>

#include "lpu_internal.h"

int lpu_ioctl(struct lpu_device *dev, unsigned long cmd, void *arg)
{
	/* drmIoctl() already restarts on EINTR and EAGAIN. */
	if (drmIoctl(dev->fd, cmd, arg))
		return -errno;
	return 0;
}

static int check_lpu_node(int fd)
{
	drmVersionPtr ver;
	struct stat st;
	int ret = 0;

	if (fstat(fd, &st))
		return -errno;
	if (!S_ISCHR(st.st_mode))
		return -LPU_E_NOT_LPU;

	errno = 0;
	ver = drmGetVersion(fd);
	if (!ver) {
		/* ENOTTY/EINVAL: the node does not implement DRM ioctls. */
		if (errno == 0 || errno == ENOTTY || errno == EINVAL)
			return -LPU_E_NOT_LPU;
		return -errno;
	}
	if (!ver->name || strcmp(ver->name, DRM_LPU_DRIVER_NAME))
		ret = -LPU_E_NOT_LPU;
	else if (ver->version_major != LPU_DRIVER_MAJOR)
		ret = -LPU_E_DRIVER_VERSION;
	drmFreeVersion(ver);
	return ret;
}

void lpu_device_init(struct lpu_device *dev, int fd)
{
	dev->fd = fd;
	dev->bos = NULL;
	pthread_mutex_init(&dev->lock, NULL);
}

int lpu_open_path(const char *path, struct lpu_device **out)
{
	struct lpu_device *dev;
	int fd, ret;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!path || !*path)
		return -EINVAL;

	fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	ret = check_lpu_node(fd);
	if (ret)
		goto err_close;

	dev = calloc(1, sizeof(*dev));
	if (!dev) {
		ret = -ENOMEM;
		goto err_close;
	}
	lpu_device_init(dev, fd);
	*out = dev;
	return 0;

err_close:
	close(fd);
	return ret;
}

int lpu_open(int index, struct lpu_device **out)
{
	struct lpu_card card;
	int ret;

	if (!out)
		return -EINVAL;
	*out = NULL;
	ret = lpu_card_get(index, &card);
	if (ret)
		return ret;
	return lpu_open_path(card.dev_path, out);
}

int lpu_close(struct lpu_device *dev)
{
	int ret = 0;

	if (!dev)
		return 0;
	lpu_device_fini(dev);
	/* Linux releases the fd even when close() reports an error. */
	if (close(dev->fd))
		ret = -errno;
	free(dev);
	return ret;
}

int lpu_fd(const struct lpu_device *dev)
{
	return dev ? dev->fd : -EINVAL;
}
