/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Firmware images as the selftests see them: read an image file, find its
 * sections (format: firmware/lpu_fw.h), and the cycle cost of an
 * instruction by the image's COST section. Tests compare what the card and
 * the driver report against the image file itself, never against numbers
 * written into the test.
 */
#ifndef LPU_FWIMAGE_H
#define LPU_FWIMAGE_H

#include <stddef.h>
#include <stdint.h>

#include <lpu_fw.h>

/* Where request_firmware() looks for a name (no usermode helper). */
#define FW_DIR		"/lib/firmware"

struct fw_image {
	uint8_t *data;
	size_t size;
	const struct lpu_fw_header *hdr;	/* at data */
};

/*
 * Read the image at @path; 0, or -errno (-EINVAL for a file too small for
 * a header or without LPU_FW_MAGIC). Only what the tests read is checked:
 * the card's boot ROM is the authority on the rest.
 */
int fw_image_load(const char *path, struct fw_image *img);
void fw_image_free(struct fw_image *img);
/*
 * The section of @type (LPU_FW_SEC_*), which must be @size bytes and lie
 * inside the image; NULL if there is no such section.
 */
const void *fw_image_section(const struct fw_image *img, uint32_t type,
			     size_t size);
/* The image's firmware version as LPU_VERSION_ENCODE() (FW_VERSION). */
uint32_t fw_image_version(const struct fw_image *img);
/* Its host-interface ABI as LPU_VERSION_ENCODE(major, minor, 0). */
uint32_t fw_image_abi(const struct fw_image *img);
/* Its build id as a NUL-terminated string (@buf of at least 41 bytes). */
void fw_image_build_id(const struct fw_image *img, char *buf, size_t len);

/*
 * Cycles of one instruction of cost class @cls (LPU_COST_*) over @units:
 * base + ceil(units / units_per_cycle), as uapi/lpu_hw.h documents.
 */
uint64_t fw_cost_cycles(const struct lpu_fw_cost *cost, unsigned int cls,
			uint64_t units);

/*
 * Path of the image lpu.ko booted the card with: FW_DIR/ + its firmware=
 * parameter, or LPU_FW_NAME if the module has no such parameter set.
 */
int fw_running_path(char *buf, size_t len);
/* The COST section of that image, copied to @cost; 0 or -errno. */
int fw_running_cost(struct lpu_fw_cost *cost);

#endif /* LPU_FWIMAGE_H */
