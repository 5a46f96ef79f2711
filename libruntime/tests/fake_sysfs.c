// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake_sysfs.h"

static char root[PATH_MAX];

/* snprintf() into a path buffer, failing instead of truncating. */
__attribute__((format(printf, 3, 4)))
static int pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	char *p;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) ? -errno : 0;
}

const char *fake_sysfs_create(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(root, sizeof(root), "%s/lpu-sysfs-XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(root))
		return NULL;
	setenv("LPU_SYSFS_ROOT", root, 1);
	setenv("LPU_DEV_ROOT", root, 1);
	return root;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void fake_sysfs_destroy(void)
{
	if (root[0])
		nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	root[0] = '\0';
	unsetenv("LPU_SYSFS_ROOT");
	unsetenv("LPU_DEV_ROOT");
}

int fake_add_accel_class(void)
{
	char path[PATH_MAX];

	if (pathf(path, sizeof(path), "%s/class/accel", root))
		return -ENAMETOOLONG;
	return mkdir_p(path);
}

int fake_add_pci(const char *addr, unsigned int vendor, unsigned int device,
		 const char *driver)
{
	char dir[PATH_MAX], path[PATH_MAX], text[16];
	int ret;

	if (pathf(dir, sizeof(dir), "%s/devices/pci0000:00/%s", root, addr))
		return -ENAMETOOLONG;
	ret = mkdir_p(dir);
	if (ret)
		return ret;
	snprintf(text, sizeof(text), "0x%04x\n", vendor & 0xffff);
	if (pathf(path, sizeof(path), "%s/vendor", dir))
		return -ENAMETOOLONG;
	ret = write_file(path, text);
	if (ret)
		return ret;
	snprintf(text, sizeof(text), "0x%04x\n", device & 0xffff);
	if (pathf(path, sizeof(path), "%s/device", dir))
		return -ENAMETOOLONG;
	ret = write_file(path, text);
	if (ret || !driver)
		return ret;

	if (pathf(path, sizeof(path), "%s/bus/pci/drivers/%s", root, driver))
		return -ENAMETOOLONG;
	ret = mkdir_p(path);
	if (ret)
		return ret;
	if (pathf(path, sizeof(path), "%s/driver", dir) ||
	    pathf(dir, sizeof(dir), "../../../bus/pci/drivers/%s", driver))
		return -ENAMETOOLONG;
	return symlink(dir, path) ? -errno : 0;
}

int fake_add_accel(unsigned int minor, const char *addr)
{
	char dir[PATH_MAX], path[PATH_MAX], target[PATH_MAX];
	int ret;

	ret = fake_add_accel_class();
	if (ret)
		return ret;
	if (pathf(dir, sizeof(dir), "%s/devices/pci0000:00/%s/accel/accel%u",
		  root, addr, minor))
		return -ENAMETOOLONG;
	ret = mkdir_p(dir);
	if (ret)
		return ret;
	if (pathf(path, sizeof(path), "%s/device", dir) ||
	    pathf(target, sizeof(target), "../../../%s", addr))
		return -ENAMETOOLONG;
	if (symlink(target, path))
		return -errno;
	if (pathf(path, sizeof(path), "%s/class/accel/accel%u", root, minor) ||
	    pathf(target, sizeof(target),
		  "../../devices/pci0000:00/%s/accel/accel%u", addr, minor))
		return -ENAMETOOLONG;
	return symlink(target, path) ? -errno : 0;
}

int fake_add_dangling_class_link(const char *name)
{
	char path[PATH_MAX];
	int ret;

	ret = fake_add_accel_class();
	if (ret)
		return ret;
	if (pathf(path, sizeof(path), "%s/class/accel/%s", root, name))
		return -ENAMETOOLONG;
	return symlink("../../devices/nowhere", path) ? -errno : 0;
}

int fake_add_dev_file(unsigned int minor)
{
	char path[PATH_MAX];
	int ret;

	if (pathf(path, sizeof(path), "%s/accel", root))
		return -ENAMETOOLONG;
	ret = mkdir_p(path);
	if (ret)
		return ret;
	if (pathf(path, sizeof(path), "%s/accel/accel%u", root, minor))
		return -ENAMETOOLONG;
	return write_file(path, "not a device\n");
}
