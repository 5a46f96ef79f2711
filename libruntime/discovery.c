// SPDX-License-Identifier: MIT
/*
 * Card discovery through sysfs.
 *
 * libdrm's drmGetDevices2() only scans /dev/dri, so accel nodes
 * (/dev/accel/accelN) have to be found from /sys/class/accel instead: each
 * entry's "device" link leads to the PCI function, whose "driver" link names
 * the bound driver. Every call rescans, so hot-plug is always reflected.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lpu_internal.h"

const char *lpu_sysfs_root(void)
{
	const char *root = getenv("LPU_SYSFS_ROOT");

	return root && *root ? root : "/sys";
}

const char *lpu_dev_root(void)
{
	const char *root = getenv("LPU_DEV_ROOT");

	return root && *root ? root : "/dev";
}

/* Parse "accelN" exactly; sysfs never pads, so "accel01" is not ours. */
static int parse_accel_name(const char *name, unsigned int *minor)
{
	unsigned long v;
	char *end;

	if (strncmp(name, "accel", 5) != 0)
		return -1;
	name += 5;
	if (*name < '0' || *name > '9' || (name[0] == '0' && name[1]))
		return -1;
	errno = 0;
	v = strtoul(name, &end, 10);
	if (errno || *end || v > UINT_MAX)
		return -1;
	*minor = v;
	return 0;
}

/* Basename of a symlink's target, or -errno (dangling links still read). */
static int link_basename(const char *path, char *buf, size_t len)
{
	char target[PATH_MAX];
	const char *base;
	ssize_t n;

	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	memcpy(buf, base, strlen(base) + 1);
	return 0;
}

static int is_pci_addr(const char *s)
{
	unsigned int dom, bus, dev, fn;
	int n = -1;

	if (sscanf(s, "%x:%x:%x.%x%n", &dom, &bus, &dev, &fn, &n) != 4)
		return 0;
	return n == (int)strlen(s) && bus < 256 && dev < 32 && fn < 8;
}

static uint16_t read_hex_id(const char *path)
{
	unsigned int v = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return 0;
	if (fscanf(f, "%x", &v) != 1 || v > 0xffff)
		v = 0;
	fclose(f);
	return v;
}

/* <class_dir>/accel<minor>/<leaf>; -ENAMETOOLONG rather than truncation. */
static int accel_path(char *buf, size_t len, const char *class_dir,
		      unsigned int minor, const char *leaf)
{
	int n = snprintf(buf, len, "%s/accel%u/%s", class_dir, minor, leaf);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/*
 * Fill @card from /sys/class/accel/accelN. Returns 1 if it is an lpu card,
 * 0 if it is something else or broken (skipped, never fatal).
 */
static int probe_accel(const char *class_dir, unsigned int minor,
		       struct lpu_card *card)
{
	char path[PATH_MAX], drv[64];
	int n;

	/* Unbound device or dangling device link: not a usable card. */
	if (accel_path(path, sizeof(path), class_dir, minor, "device/driver") ||
	    link_basename(path, drv, sizeof(drv)) ||
	    strcmp(drv, DRM_LPU_DRIVER_NAME))
		return 0;

	memset(card, 0, sizeof(*card));
	if (accel_path(path, sizeof(path), class_dir, minor, "device") ||
	    link_basename(path, card->pci_addr, sizeof(card->pci_addr)) ||
	    !is_pci_addr(card->pci_addr))
		return 0;

	card->minor = minor;
	if (!accel_path(path, sizeof(path), class_dir, minor, "device/vendor"))
		card->vendor_id = read_hex_id(path);
	if (!accel_path(path, sizeof(path), class_dir, minor, "device/device"))
		card->device_id = read_hex_id(path);
	n = snprintf(card->dev_path, sizeof(card->dev_path), "%s/accel/accel%u",
		     lpu_dev_root(), minor);
	return n > 0 && (size_t)n < sizeof(card->dev_path);
}

static int cmp_minor(const void *a, const void *b)
{
	const struct lpu_card *x = a, *y = b;

	return (x->minor > y->minor) - (x->minor < y->minor);
}

/* All lpu cards sorted by minor into *out (caller frees); count or -errno. */
static int scan_cards(struct lpu_card **out)
{
	struct lpu_card *cards = NULL, *tmp;
	char class_dir[PATH_MAX];
	struct dirent *de;
	int n = 0, cap = 0, i;
	unsigned int minor;
	DIR *dir;

	*out = NULL;
	if (snprintf(class_dir, sizeof(class_dir), "%s/class/accel",
		     lpu_sysfs_root()) >= (int)sizeof(class_dir))
		return -ENAMETOOLONG;
	dir = opendir(class_dir);
	if (!dir) {
		/* No accel driver loaded at all: simply no cards. */
		return errno == ENOENT ? 0 : -errno;
	}
	while ((de = readdir(dir))) {
		if (parse_accel_name(de->d_name, &minor))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 4;
			tmp = realloc(cards, cap * sizeof(*cards));
			if (!tmp) {
				free(cards);
				closedir(dir);
				return -ENOMEM;
			}
			cards = tmp;
		}
		if (probe_accel(class_dir, minor, &cards[n]))
			n++;
	}
	closedir(dir);
	/* qsort() wants a valid pointer even for no elements. */
	if (n)
		qsort(cards, n, sizeof(*cards), cmp_minor);
	for (i = 0; i < n; i++)
		cards[i].index = i;
	*out = cards;
	return n;
}

int lpu_card_count(void)
{
	struct lpu_card *cards;
	int n = scan_cards(&cards);

	free(cards);
	return n;
}

int lpu_card_get(int index, struct lpu_card *card)
{
	struct lpu_card *cards;
	int n;

	if (!card || index < 0)
		return -EINVAL;
	n = scan_cards(&cards);
	if (n >= 0 && index >= n)
		n = -ENODEV;
	if (n >= 0)
		*card = cards[index];
	free(cards);
	return n < 0 ? n : 0;
}
