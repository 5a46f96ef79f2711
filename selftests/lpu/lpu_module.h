/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loading and unloading lpu.ko from the destructive selftests, through the
 * module syscalls themselves so that their exact errno is checked, and
 * reading its parameters back from sysfs.
 */
#ifndef LPU_MODULE_H
#define LPU_MODULE_H

#include "lpu_util.h"

/* udev and the driver core get this long to add or remove a node. */
#define UDEV_TIMEOUT_MS	30000
#define LPU_SYMLINK	"/dev/lpu0"

/* $LPU_MODULE, or /opt/lpu/lpu.ko (the guest's). */
const char *module_path(void);
/* delete_module(2); 0 or -errno. */
int sys_delete_module(const char *name, unsigned int flags);
/* finit_module(2) of @path with parameter string @params; 0 or -errno. */
int sys_finit_module(const char *path, const char *params);
/* Unload lpu (no file may be open) and wait until it is gone; 0 or -errno. */
int unload_module(void);
/*
 * Unload lpu.ko and load it again with @params; 0 once the card is back
 * with its node, or a step-specific -errno.
 */
int reload_module(const char *params, struct lpu_card *card);
/* /sys/module/lpu/parameters/@name as text without its newline. */
int module_param_str(const char *name, char *buf, size_t len);
int module_param_ulong(const char *name, unsigned long *val);

#endif /* LPU_MODULE_H */
