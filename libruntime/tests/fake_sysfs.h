/* SPDX-License-Identifier: MIT */
/*
 * Builds a fake sysfs tree in a temporary directory, shaped like the real
 * one (class/accel links into devices/, device and driver links), so that
 * liblpu's discovery can be tested on a host without any card.
 */
#ifndef LPU_FAKE_SYSFS_H
#define LPU_FAKE_SYSFS_H

/* Create an empty root and point LPU_SYSFS_ROOT and LPU_DEV_ROOT at it. */
const char *fake_sysfs_create(void);
/* Remove the whole tree and unset the environment. */
void fake_sysfs_destroy(void);

/* class/accel itself (an accel driver is loaded, maybe without cards). */
int fake_add_accel_class(void);
/* A PCI function, bound to @driver unless it is NULL. */
int fake_add_pci(const char *addr, unsigned int vendor, unsigned int device,
		 const char *driver);
/* accel<minor> below the PCI function @addr (which need not exist). */
int fake_add_accel(unsigned int minor, const char *addr);
/* class/accel/<name> as a link to nowhere. */
int fake_add_dangling_class_link(const char *name);
/* A regular file at <dev root>/accel/accel<minor>. */
int fake_add_dev_file(unsigned int minor);

#endif /* LPU_FAKE_SYSFS_H */
