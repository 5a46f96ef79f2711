// SPDX-License-Identifier: MIT
/* lpu-smi: human-readable outputs (table, -L list, -q full detail). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <lpu_hw.h>

#include "smi.h"

const char *smi_version_str(uint32_t v, char *buf, unsigned long len)
{
	snprintf(buf, len, "%u.%u.%u", (v >> 16) & 0xffff, (v >> 8) & 0xff,
		 v & 0xff);
	return buf;
}

const char *smi_size_str(uint64_t bytes, char *buf, unsigned long len)
{
	if (bytes >= (1ULL << 30) && !(bytes & ((1ULL << 30) - 1)))
		snprintf(buf, len, "%" PRIu64 " GiB", bytes >> 30);
	else if (bytes >= (1ULL << 20))
		snprintf(buf, len, "%" PRIu64 " MiB", bytes >> 20);
	else
		snprintf(buf, len, "%" PRIu64 " KiB", bytes >> 10);
	return buf;
}

const char *smi_link_str(const struct smi_link *l, char *buf,
			 unsigned long len)
{
	if (!l->known)
		snprintf(buf, len, "N/A");
	else if (l->no_link)
		snprintf(buf, len, "integrated");
	else
		snprintf(buf, len, "%s x%u", l->speed, l->width);
	return buf;
}

const char *smi_fw_str(const struct smi_card *c, char *buf,
		       unsigned long len)
{
	if (c->open_err)
		return "N/A";
	if (!c->info.fw_version)
		return "not running";
	return smi_version_str(c->info.fw_version, buf, len);
}

/* 0 with firmware running: a driver before 0.4, which does not say. */
const char *smi_fw_abi_str(const struct smi_card *c, char *buf,
			   unsigned long len)
{
	uint32_t v = c->info.fw_abi_version;

	if (c->open_err || !c->info.fw_version || !v)
		return "N/A";
	snprintf(buf, len, "%u.%u", LPU_FW_VERSION_MAJOR(v),
		 LPU_FW_VERSION_MINOR(v));
	return buf;
}

/* "12 MiB / 256 MiB", or just the total when the driver does not say. */
static const char *sram_str(const struct smi_card *c, char *buf,
			    unsigned long len)
{
	char used[24], total[24];

	smi_size_str(c->info.sram_size, total, sizeof(total));
	if (!c->sram_used_known)
		snprintf(buf, len, "%s", total);
	else
		snprintf(buf, len, "%s / %s",
			 smi_size_str(c->sram_used, used, sizeof(used)), total);
	return buf;
}

/* nvidia-smi style: one row per open file of a process on a card. */
static void print_processes(const struct smi_card *cards, int n)
{
	char sram[24], host[24];
	int i, j, rows = 0;

	printf("\nProcesses:\n");
	printf("%-3s  %-8s  %-8s  %-16s  %-9s  %-9s\n", "LPU", "PID",
	       "Client", "Process", "SRAM", "Host");
	for (i = 0; i < n; i++) {
		for (j = 0; j < cards[i].num_procs; j++) {
			const struct smi_proc *p = &cards[i].procs[j];

			printf("%-3u  %-8d  %-8" PRIu64 "  %-16s  %-9s  %-9s\n",
			       cards[i].card.index, p->pid, p->client_id,
			       p->comm,
			       smi_size_str(p->sram_bytes, sram, sizeof(sram)),
			       smi_size_str(p->host_bytes, host, sizeof(host)));
			rows++;
		}
	}
	if (!rows)
		printf("No process has a card open (or none this user may inspect).\n");
}

void smi_print_table(const struct smi_card *cards, int n)
{
	char link[48], sram[40], drv[24], fw[24], abi[24], q[8];
	int denied = 0;
	int i;

	printf("%-3s  %-18s  %-12s  %-9s  %-14s  %-17s  %-6s  %-7s  %-11s  %-6s\n",
	       "LPU", "Node", "PCI", "ID", "PCIe link", "SRAM", "Queues",
	       "Driver", "Firmware", "FW ABI");
	for (i = 0; i < n; i++) {
		const struct smi_card *c = &cards[i];
		char id[16];

		snprintf(id, sizeof(id), "%04x:%04x", c->card.vendor_id,
			 c->card.device_id);
		if (c->open_err) {
			denied = c->open_err;
			snprintf(sram, sizeof(sram), "N/A");
			snprintf(q, sizeof(q), "N/A");
			snprintf(drv, sizeof(drv), "N/A");
		} else {
			sram_str(c, sram, sizeof(sram));
			snprintf(q, sizeof(q), "%u", c->info.num_queues);
			smi_version_str(c->info.driver_version, drv, sizeof(drv));
		}
		printf("%-3u  %-18s  %-12s  %-9s  %-14s  %-17s  %-6s  %-7s  %-11s  %-6s\n",
		       c->card.index, c->symlink[0] ? c->symlink : c->card.dev_path,
		       c->card.pci_addr, id,
		       smi_link_str(&c->link, link, sizeof(link)), sram, q, drv,
		       smi_fw_str(c, fw, sizeof(fw)),
		       smi_fw_abi_str(c, abi, sizeof(abi)));
	}
	if (denied == -EACCES || denied == -EPERM)
		printf("N/A: no access to the node (%s); root or members of group 'render' can open it.\n",
		       lpu_strerror(denied));
	else if (denied)
		printf("N/A: the node could not be used: %s\n",
		       lpu_strerror(denied));
	print_processes(cards, n);
}

void smi_print_list(const struct smi_card *cards, int n)
{
	int i;

	for (i = 0; i < n; i++)
		printf("LPU %u: %s (%s) [%04x:%04x]\n", cards[i].card.index,
		       cards[i].card.pci_addr, cards[i].card.dev_path,
		       cards[i].card.vendor_id, cards[i].card.device_id);
}

static void print_caps(uint64_t caps)
{
	static const char *const names[] = {
		"queues", "fence", "timestamps", "telemetry", "fw-mailbox",
		"dma", "exec", "scrub",
	};
	unsigned int b;

	printf("    %-22s: 0x%" PRIx64 " (", "Capabilities", caps);
	for (b = 0; b < 64; b++) {
		if (!(caps & (1ULL << b)))
			continue;
		if (b < ARRAY_SIZE(names))
			printf(" %s", names[b]);
		else
			printf(" bit%u", b);
	}
	printf(" )\n");
}

static void print_one(const struct smi_card *c)
{
	const struct lpu_info *in = &c->info;
	char buf[48], buf2[48];

	printf("LPU %u\n", c->card.index);
	printf("    %-22s: %s\n", "Node", c->card.dev_path);
	printf("    %-22s: %s\n", "Symlink", c->symlink[0] ? c->symlink : "none");
	printf("  PCI\n");
	printf("    %-22s: %s\n", "Bus address", c->card.pci_addr);
	printf("    %-22s: %04x:%04x\n", "Vendor:Device", c->card.vendor_id,
	       c->card.device_id);
	printf("    %-22s: 0x%02x\n", "Revision", c->revision);
	if (!c->link.known) {
		printf("    %-22s: N/A\n", "Link");
	} else if (c->link.no_link) {
		printf("    %-22s: none (root complex integrated endpoint)\n",
		       "Link");
	} else {
		printf("    %-22s: %s (max %s)\n", "Link speed", c->link.speed,
		       c->link.max_speed);
		printf("    %-22s: x%u (max x%u)\n", "Link width", c->link.width,
		       c->link.max_width);
	}
	if (c->link.known)
		printf("    %-22s: %s\n", "Link read from", c->link.source);
	if (c->open_err) {
		printf("  Device: N/A, cannot open %s: %s\n", c->card.dev_path,
		       lpu_strerror(c->open_err));
		return;
	}
	printf("  Hardware\n");
	printf("    %-22s: %u.%u\n", "Hardware version", in->hw_version >> 16,
	       in->hw_version & 0xffff);
	print_caps(in->capabilities);
	printf("    %-22s: %u\n", "Queues", in->num_queues);
	printf("    %-22s: %u\n", "Ring entries", in->ring_entries);
	printf("    %-22s: %s (%" PRIu64 " bytes)\n", "SRAM",
	       smi_size_str(in->sram_size, buf, sizeof(buf)), in->sram_size);
	if (c->sram_used_known)
		printf("    %-22s: %s (%" PRIu64 " bytes)\n", "SRAM used",
		       smi_size_str(c->sram_used, buf, sizeof(buf)),
		       c->sram_used);
	else
		printf("    %-22s: N/A\n", "SRAM used");
	printf("    %-22s: %d\n", "Processes", c->num_procs);
	printf("  Software\n");
	printf("    %-22s: %s %s\n", "Driver", c->drm_name,
	       smi_version_str(in->driver_version, buf, sizeof(buf)));
	printf("    %-22s: %d.%d.%d (%s)\n", "DRM version", c->drm_major,
	       c->drm_minor, c->drm_patch, c->drm_desc);
	printf("    %-22s: %s\n", "Firmware", smi_fw_str(c, buf2, sizeof(buf2)));
	printf("    %-22s: %s\n", "Firmware ABI",
	       smi_fw_abi_str(c, buf2, sizeof(buf2)));
	if (in->fw_version && in->fw_abi_version)
		printf("    %-22s: %s (%" PRIu64 " bytes)\n", "SRAM for firmware",
		       smi_size_str(in->sram_reserved, buf, sizeof(buf)),
		       in->sram_reserved);
}

void smi_print_query(const struct smi_card *cards, int n)
{
	int i;

	printf("lpu-smi %s, %d card%s\n\n", SMI_VERSION, n, n == 1 ? "" : "s");
	for (i = 0; i < n; i++) {
		print_one(&cards[i]);
		if (i + 1 < n)
			printf("\n");
	}
}
