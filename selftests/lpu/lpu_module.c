// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lpu_module.h"

const char *module_path(void)
{
	return getenv("LPU_MODULE") ?: "/opt/lpu/lpu.ko";
}

int sys_delete_module(const char *name, unsigned int flags)
{
	return syscall(__NR_delete_module, name, flags) ? -errno : 0;
}

int sys_finit_module(const char *path, const char *params)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = syscall(__NR_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	return ret;
}

int unload_module(void)
{
	int ret = sys_delete_module("lpu", O_NONBLOCK);

	return ret ?: wait_for_path("/sys/module/lpu", false, UDEV_TIMEOUT_MS);
}

int reload_module(const char *params, struct lpu_card *card)
{
	int ret = unload_module();

	if (ret)
		return ret;
	ret = sys_finit_module(module_path(), params);
	if (ret)
		return ret;
	return wait_for_card(card, UDEV_TIMEOUT_MS);
}

int module_param_str(const char *name, char *buf, size_t len)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "/sys/module/lpu/parameters/%s", name);
	ret = read_text(path, buf, len);
	if (ret < 0)
		return ret;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int module_param_ulong(const char *name, unsigned long *val)
{
	char text[32], *end;
	int ret = module_param_str(name, text, sizeof(text));

	if (ret)
		return ret;
	errno = 0;
	*val = strtoul(text, &end, 10);
	return errno || end == text ? -EINVAL : 0;
}
