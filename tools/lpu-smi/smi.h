/* SPDX-License-Identifier: MIT */
/*
 * lpu-smi: shared types. One struct smi_card per card holds everything the
 * output formats print, so gathering and printing stay separate.
 */
#ifndef LPU_SMI_H
#define LPU_SMI_H

#include <stdbool.h>
#include <stdint.h>

#include "lpu.h"

#define SMI_VERSION		"0.3.0"
/*
 * --json schema: the major changes when a field is removed or changes
 * meaning, the minor when fields are added (1.1: firmware_abi_version,
 * sram_reserved_bytes).
 */
#define SMI_JSON_SCHEMA		1
#define SMI_JSON_SCHEMA_MINOR	1

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

struct smi_link {
	bool known;
	bool no_link;		/* root-complex integrated endpoint */
	char speed[24];		/* "2.5 GT/s" */
	unsigned int width;
	char max_speed[24];
	unsigned int max_width;
	const char *source;	/* "libpci" or "sysfs" */
};

/* One open file of a process on a card (from /proc/PID/fdinfo). */
struct smi_proc {
	int pid;
	char comm[32];
	uint64_t client_id;
	uint64_t sram_bytes;
	uint64_t host_bytes;
};

#define SMI_MAX_PROCS		64

struct smi_card {
	struct lpu_card card;
	char symlink[64];	/* "/dev/lpuN" pointing at the node, or "" */
	int open_err;		/* 0, or why the node could not be used */
	struct lpu_info info;	/* valid when open_err == 0 */
	char drm_name[32];
	char drm_desc[64];
	int drm_major, drm_minor, drm_patch;
	struct smi_link link;
	unsigned int revision;
	bool sram_used_known;	/* sysfs sram_used_bytes was readable */
	uint64_t sram_used;
	int num_procs;
	struct smi_proc procs[SMI_MAX_PROCS];
};

/* gather.c */
int smi_gather(struct smi_card *c, const struct lpu_card *card);

/* processes.c: open files of @pci_addr's card; count or -errno. */
int smi_find_processes(const char *pci_addr, struct smi_proc *procs, int max);

/* pcie_link.c */
void smi_pcie_link(const char *pci_addr, struct smi_link *link);

/* driver_check.c: explains missing or unbound cards; count of problems. */
int smi_check_unbound(bool quiet);

/* output_text.c */
void smi_print_table(const struct smi_card *cards, int n);
void smi_print_list(const struct smi_card *cards, int n);
void smi_print_query(const struct smi_card *cards, int n);
/* output_json.c; 0 or -errno */
int smi_print_json(const struct smi_card *cards, int n);

/* format helpers (output_text.c) */
const char *smi_version_str(uint32_t v, char *buf, unsigned long len);
const char *smi_size_str(uint64_t bytes, char *buf, unsigned long len);
const char *smi_link_str(const struct smi_link *l, char *buf,
			 unsigned long len);
/* "1.0.0", "not running" (no firmware), or "N/A" (no access). */
const char *smi_fw_str(const struct smi_card *c, char *buf,
		       unsigned long len);
/* The firmware's host-interface ABI, "1.0", or "N/A" when unknown. */
const char *smi_fw_abi_str(const struct smi_card *c, char *buf,
			   unsigned long len);

#endif /* LPU_SMI_H */
