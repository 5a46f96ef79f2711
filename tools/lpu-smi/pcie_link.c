// SPDX-License-Identifier: MIT
/*
 * lpu-smi: PCIe link speed and width.
 *
 * As root, read the PCIe capability's Link Status/Capabilities through
 * libpci. A non-root user can read only the first 64 bytes of config space,
 * which do not reach the capability, so fall back to the kernel's
 * current_link_speed/width (and max_*) sysfs attributes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pci/pci.h>

#include "smi.h"

static const char *gts(unsigned int code)
{
	static const char *const speeds[] = {
		"unknown", "2.5 GT/s", "5.0 GT/s", "8.0 GT/s",
		"16.0 GT/s", "32.0 GT/s", "64.0 GT/s",
	};

	return code < ARRAY_SIZE(speeds) ? speeds[code] : "unknown";
}

static int link_from_libpci(const char *addr, struct smi_link *l)
{
	unsigned int dom, bus, dev, fn;
	struct pci_access *pacc;
	struct pci_cap *cap;
	struct pci_dev *d;
	uint16_t flags, sta;
	uint32_t lcap;
	int ret = -1;

	if (sscanf(addr, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
		return -1;
	pacc = pci_alloc();
	if (!pacc)
		return -1;
	pci_init(pacc);
	d = pci_get_dev(pacc, dom, bus, dev, fn);
	if (!d)
		goto out;
	pci_fill_info(d, PCI_FILL_IDENT | PCI_FILL_CLASS | PCI_FILL_CAPS);
	cap = pci_find_cap(d, PCI_CAP_ID_EXP, PCI_CAP_NORMAL);
	if (cap) {
		flags = pci_read_word(d, cap->addr + PCI_EXP_FLAGS);
		if (((flags & PCI_EXP_FLAGS_TYPE) >> 4) == PCI_EXP_TYPE_ROOT_INT_EP) {
			/* Integrated endpoints have no link registers. */
			l->no_link = true;
		} else {
			sta = pci_read_word(d, cap->addr + PCI_EXP_LNKSTA);
			lcap = pci_read_long(d, cap->addr + PCI_EXP_LNKCAP);
			snprintf(l->speed, sizeof(l->speed), "%s",
				 gts(sta & PCI_EXP_LNKSTA_SPEED));
			l->width = (sta & PCI_EXP_LNKSTA_WIDTH) >> 4;
			snprintf(l->max_speed, sizeof(l->max_speed), "%s",
				 gts(lcap & PCI_EXP_LNKCAP_SPEED));
			l->max_width = (lcap & PCI_EXP_LNKCAP_WIDTH) >> 4;
		}
		l->known = true;
		l->source = "libpci";
		ret = 0;
	}
	pci_free_dev(d);
out:
	pci_cleanup(pacc);
	return ret;
}

/* "2.5 GT/s PCIe" -> "2.5 GT/s"; 0 on success. */
static int sysfs_attr(const char *addr, const char *name, char *buf,
		      size_t len)
{
	char path[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/%s",
		 lpu_sysfs_root(), addr, name);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (!fgets(buf, len, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	p = strstr(buf, " PCIe");
	if (p)
		*p = '\0';
	return 0;
}

static int link_from_sysfs(const char *addr, struct smi_link *l)
{
	char w[16], mw[16];

	if (sysfs_attr(addr, "current_link_speed", l->speed, sizeof(l->speed)) ||
	    sysfs_attr(addr, "current_link_width", w, sizeof(w)))
		return -1;
	if (sysfs_attr(addr, "max_link_speed", l->max_speed,
		       sizeof(l->max_speed)))
		snprintf(l->max_speed, sizeof(l->max_speed), "unknown");
	l->width = strtoul(w, NULL, 10);
	if (!sysfs_attr(addr, "max_link_width", mw, sizeof(mw)))
		l->max_width = strtoul(mw, NULL, 10);
	/* Linux reports "Unknown" speed and width 0 when there is no link. */
	if (!strncmp(l->speed, "Unknown", 7) && l->width == 0)
		l->no_link = true;
	l->known = true;
	l->source = "sysfs";
	return 0;
}

void smi_pcie_link(const char *pci_addr, struct smi_link *link)
{
	memset(link, 0, sizeof(*link));
	if (geteuid() == 0 && !getenv("LPU_SYSFS_ROOT") &&
	    !link_from_libpci(pci_addr, link))
		return;
	memset(link, 0, sizeof(*link));
	link_from_sysfs(pci_addr, link);
}
