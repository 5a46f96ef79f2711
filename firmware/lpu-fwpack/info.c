// SPDX-License-Identifier: MIT
/*
 * `lpu-fwpack info IMAGE`: every header field, the section table and the
 * sections' values, as "name: value" lines (tests and firmware/mkvariants.sh
 * read offsets from it). Only what lies inside the file is printed, so a
 * damaged image is shown as far as it goes; `check` judges it.
 */
#include <stdio.h>

#include "fwpack.h"

#define HOFF(field)	offsetof(struct lpu_fw_header, field)

static void print_cost(const uint8_t *p)
{
	unsigned int i;

	for (i = 0; i < LPU_COST_COUNT; i++)
		printf("cost %s: base_cycles %u units_per_cycle %u\n",
		       fw_cost_name(i), fw_le32(p + 8 * i), fw_le32(p + 8 * i + 4));
}

static void print_engine(const uint8_t *p)
{
	printf("engine: num_queues %u max_ring_entries %u sram_reserved %u\n",
	       fw_le32(p), fw_le32(p + 4), fw_le32(p + 8));
}

static void print_thermal(const uint8_t *p)
{
	printf("thermal: temp_idle_mc %u temp_busy_mc %u power_idle_mw %u power_busy_mw %u clock_idle_mhz %u\n",
	       fw_le32(p), fw_le32(p + 4), fw_le32(p + 8), fw_le32(p + 12),
	       fw_le32(p + 16));
}

static const struct {
	uint32_t type;
	const char *name;
	uint32_t size;
	void (*print)(const uint8_t *p);
} kinds[] = {
	{ LPU_FW_SEC_COST, "COST", sizeof(struct lpu_fw_cost), print_cost },
	{ LPU_FW_SEC_ENGINE, "ENGINE", sizeof(struct lpu_fw_engine), print_engine },
	{ LPU_FW_SEC_THERMAL, "THERMAL", sizeof(struct lpu_fw_thermal), print_thermal },
};

static void print_sections(const uint8_t *img, size_t size)
{
	uint32_t count = fw_le32(img + HOFF(section_count));
	uint32_t i, k;

	if (count > LPU_FW_MAX_SECTIONS)
		count = LPU_FW_MAX_SECTIONS;
	for (i = 0; i < count; i++) {
		size_t e = LPU_FW_HEADER_SIZE + i * sizeof(struct lpu_fw_section);
		uint32_t type, off, len;

		if (e + sizeof(struct lpu_fw_section) > size) {
			printf("section %u: past the end of the file\n", i);
			return;
		}
		type = fw_le32(img + e);
		off = fw_le32(img + e + 4);
		len = fw_le32(img + e + 8);
		for (k = 0; k < ARRAY_SIZE(kinds) && kinds[k].type != type; k++)
			;
		printf("section %u: type %u (%s) offset %u size %u\n", i, type,
		       k < ARRAY_SIZE(kinds) ? kinds[k].name : "unknown", off, len);
		if (k < ARRAY_SIZE(kinds) && len == kinds[k].size &&
		    (uint64_t)off + len <= size)
			kinds[k].print(img + off);
	}
}

void fw_print_info(const uint8_t *img, size_t size, size_t file_size)
{
	char id[LPU_FW_BUILD_ID_LEN + 1];
	const uint8_t *d;
	unsigned int i;

	printf("file_size: %zu\n", file_size);
	/* A limit of the format, for scripts that make oversized images. */
	printf("max_image_size: %u\n", LPU_FW_MAX_SIZE);
	if (size < LPU_FW_HEADER_SIZE) {
		printf("header: truncated (%zu of %d bytes)\n", size,
		       LPU_FW_HEADER_SIZE);
		return;
	}
	printf("magic: 0x%08x%s\n", fw_le32(img + HOFF(magic)),
	       fw_le32(img + HOFF(magic)) == LPU_FW_MAGIC ? " (LPFW)" : " (bad)");
	printf("format: %u.%u\n", fw_le16(img + HOFF(format_major)),
	       fw_le16(img + HOFF(format_minor)));
	printf("header_size: %u\n", fw_le32(img + HOFF(header_size)));
	printf("image_size: %u\n", fw_le32(img + HOFF(image_size)));
	printf("fw_version: %u.%u.%u\n", fw_le16(img + HOFF(fw_major)),
	       fw_le16(img + HOFF(fw_minor)), fw_le16(img + HOFF(fw_patch)));
	printf("abi_version: %u.%u\n", fw_le16(img + HOFF(abi_major)),
	       fw_le16(img + HOFF(abi_minor)));
	printf("chip: device 0x%04x revision %u\n", fw_le16(img + HOFF(chip_device)),
	       fw_le16(img + HOFF(chip_rev)));
	for (i = 0; i < LPU_FW_BUILD_ID_LEN; i++) {
		uint8_t c = img[HOFF(build_id) + i];

		id[i] = c >= 0x20 && c <= 0x7e ? (char)c : c ? '?' : '\0';
	}
	id[LPU_FW_BUILD_ID_LEN] = '\0';
	printf("build_id: %s\n", id);
	printf("section_count: %u\n", fw_le32(img + HOFF(section_count)));
	printf("payload_offset: %u\n", fw_le32(img + HOFF(payload_offset)));
	printf("payload_size: %u\n", fw_le32(img + HOFF(payload_size)));
	printf("payload_sha256: ");
	d = img + HOFF(payload_sha256);
	for (i = 0; i < LPU_FW_SHA256_SIZE; i++)
		printf("%02x", d[i]);
	printf("\n");
	printf("sig_type: %u%s\n", fw_le32(img + HOFF(sig_type)),
	       fw_le32(img + HOFF(sig_type)) == LPU_FW_SIG_RSA_PKCS1_SHA256 ?
	       " (RSA PKCS#1 v1.5 SHA-256)" : " (unknown)");
	printf("sig_offset: %u\n", fw_le32(img + HOFF(sig_offset)));
	printf("sig_size: %u\n", fw_le32(img + HOFF(sig_size)));
	print_sections(img, size);
}
