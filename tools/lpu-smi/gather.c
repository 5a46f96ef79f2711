// SPDX-License-Identifier: MIT
/* lpu-smi: collect one card's information from liblpu, libdrm and sysfs. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xf86drm.h>

#include "smi.h"

static void find_symlink(struct smi_card *c)
{
	char path[64], real[PATH_MAX];
	unsigned int i;

	/* udev names the link after the minor (SYMLINK+="lpu%n"). */
	for (i = c->card.minor; i <= c->card.minor + 8; i++) {
		snprintf(path, sizeof(path), "/dev/lpu%u", i);
		if (realpath(path, real) && !strcmp(real, c->card.dev_path)) {
			snprintf(c->symlink, sizeof(c->symlink), "%s", path);
			return;
		}
	}
}

static void read_revision(struct smi_card *c)
{
	char path[PATH_MAX];
	unsigned int rev;
	FILE *f;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/revision",
		 lpu_sysfs_root(), c->card.pci_addr);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fscanf(f, "%x", &rev) == 1)
		c->revision = rev;
	fclose(f);
}

/* The driver's SRAM allocator, as the driver exports it in sysfs. */
static void read_sram_used(struct smi_card *c)
{
	char path[PATH_MAX];
	unsigned long long used;
	FILE *f;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/sram_used_bytes",
		 lpu_sysfs_root(), c->card.pci_addr);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fscanf(f, "%llu", &used) == 1) {
		c->sram_used = used;
		c->sram_used_known = true;
	}
	fclose(f);
}

static void read_drm_version(struct smi_card *c, int fd)
{
	drmVersionPtr v = drmGetVersion(fd);

	if (!v)
		return;
	snprintf(c->drm_name, sizeof(c->drm_name), "%s", v->name ?: "");
	snprintf(c->drm_desc, sizeof(c->drm_desc), "%s", v->desc ?: "");
	c->drm_major = v->version_major;
	c->drm_minor = v->version_minor;
	c->drm_patch = v->version_patchlevel;
	drmFreeVersion(v);
}

int smi_gather(struct smi_card *c, const struct lpu_card *card)
{
	struct lpu_device *dev;

	memset(c, 0, sizeof(*c));
	c->card = *card;
	find_symlink(c);
	read_revision(c);
	smi_pcie_link(card->pci_addr, &c->link);
	read_sram_used(c);
	c->num_procs = smi_find_processes(card->pci_addr, c->procs,
					  SMI_MAX_PROCS);
	if (c->num_procs < 0)
		c->num_procs = 0;

	/* Without access to the node (not root, not in group render) only
	 * the sysfs view is shown; the caller reports why.
	 */
	c->open_err = lpu_open_path(card->dev_path, &dev);
	if (c->open_err)
		return c->open_err;
	c->open_err = lpu_query(dev, &c->info);
	if (!c->open_err)
		read_drm_version(c, lpu_fd(dev));
	lpu_close(dev);
	return c->open_err;
}
