/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * LPU v3 firmware image format.
 *
 * This is the single source of truth for the image the driver hands to the
 * card's boot ROM (lpu/lpu-v3.bin). The packer (firmware/lpu-fwpack), the
 * QEMU device model's boot ROM (qemu-device/lpu-v3-fw.c) and the driver all
 * include this file; nothing copies from it. The prose specification, with
 * the checks the boot ROM makes in order, is firmware/lpu_fw.md.
 *
 * Everything is little-endian. Like uapi/lpu_hw.h this header holds only
 * fixed-width definitions with no implicit padding, so it compiles in the
 * kernel, in QEMU and in userspace alike.
 *
 * Layout of an image:
 *
 *   0                  struct lpu_fw_header (LPU_FW_HEADER_SIZE bytes)
 *   payload_offset     section table: section_count struct lpu_fw_section
 *                      the sections, each 8-byte aligned, in table order
 *   sig_offset         the signature (sig_size bytes), then end of image
 *
 * payload_sha256 is the SHA-256 of the payload_size bytes at payload_offset
 * (section table and sections). The signature covers the header, which
 * holds that digest, so it covers the whole image.
 */
#ifndef LPU_FW_H
#define LPU_FW_H

#include <linux/types.h>

#include "lpu_hw.h"

/* The name drivers request; a module parameter may override it. */
#define LPU_FW_NAME			"lpu/lpu-v3.bin"

#define LPU_FW_MAGIC			0x5746504c	/* "LPFW" */
#define LPU_FW_FORMAT_MAJOR		1	/* incompatible layout changes */
#define LPU_FW_FORMAT_MINOR		0
#define LPU_FW_HEADER_SIZE		256
/* Largest image the boot ROM reads (FW_SIZE above it: LPU_FW_E_TOO_LARGE). */
#define LPU_FW_MAX_SIZE			(1U << 20)
#define LPU_FW_MAX_SECTIONS		16
#define LPU_FW_SECTION_ALIGN		8
#define LPU_FW_BUILD_ID_LEN		40
#define LPU_FW_SHA256_SIZE		32

/*
 * Signature schemes (sig_type). RSA with PKCS#1 v1.5 padding over the
 * SHA-256 of the header; the key is the card's (a device property in the
 * model), sig_size is the modulus size in bytes.
 */
#define LPU_FW_SIG_RSA_PKCS1_SHA256	1
#define LPU_FW_SIG_MAX_SIZE		512	/* RSA-4096 */

/**
 * struct lpu_fw_header - the first LPU_FW_HEADER_SIZE bytes of an image
 * @magic: LPU_FW_MAGIC.
 * @format_major: LPU_FW_FORMAT_MAJOR; the boot ROM refuses any other.
 * @format_minor: compatible additions; any value is accepted.
 * @header_size: LPU_FW_HEADER_SIZE.
 * @image_size: bytes in the image, signature included; FW_SIZE must equal it.
 * @fw_major: firmware version, read back in LPU_REG_FW_VERSION ...
 * @fw_minor: ...
 * @fw_patch: ... as LPU_FW_VERSION(major, minor, patch), so each of
 *	minor and patch is below 256 and major below 65536.
 * @rsvd0: zero.
 * @abi_major: host-interface ABI the firmware speaks (LPU_HOST_ABI_*), read
 *	back in LPU_REG_FW_ABI; the driver, not the boot ROM, decides whether
 *	it speaks it too.
 * @abi_minor: ... below 256.
 * @chip_device: the PCI device ID the image is built for.
 * @chip_rev: the PCI revision it is built for.
 * @section_count: entries in the section table, 1 to LPU_FW_MAX_SECTIONS.
 * @payload_offset: LPU_FW_HEADER_SIZE: the section table follows the header.
 * @payload_size: bytes of section table and sections.
 * @sig_type: LPU_FW_SIG_*.
 * @sig_offset: payload_offset + payload_size.
 * @sig_size: signature bytes, at most LPU_FW_SIG_MAX_SIZE;
 *	sig_offset + sig_size == image_size.
 * @build_id: printable ASCII (0x20 to 0x7e), NUL-padded, not necessarily
 *	NUL-terminated; identifies the build (e.g. the packer's source hash).
 * @payload_sha256: SHA-256 of the payload.
 * @rsvd: zero.
 */
struct lpu_fw_header {
	__le32 magic;
	__le16 format_major;
	__le16 format_minor;
	__le32 header_size;
	__le32 image_size;
	__le16 fw_major;
	__le16 fw_minor;
	__le16 fw_patch;
	__le16 rsvd0;
	__le16 abi_major;
	__le16 abi_minor;
	__le16 chip_device;
	__le16 chip_rev;
	__le32 section_count;
	__le32 payload_offset;
	__le32 payload_size;
	__le32 sig_type;
	__le32 sig_offset;
	__le32 sig_size;
	__u8 build_id[LPU_FW_BUILD_ID_LEN];
	__u8 payload_sha256[LPU_FW_SHA256_SIZE];
	__u8 rsvd[128];
};

/**
 * struct lpu_fw_section - one entry of the section table
 * @type: LPU_FW_SEC_*; each type appears exactly once.
 * @offset: from the start of the image, LPU_FW_SECTION_ALIGN aligned,
 *	inside the payload, after the table and after the previous section.
 * @size: bytes; exactly the size of the type's struct.
 * @rsvd: zero.
 */
struct lpu_fw_section {
	__le32 type;
	__le32 offset;
	__le32 size;
	__le32 rsvd;
};

#define LPU_FW_SEC_COST			1	/* struct lpu_fw_cost */
#define LPU_FW_SEC_ENGINE		2	/* struct lpu_fw_engine */
#define LPU_FW_SEC_THERMAL		3	/* struct lpu_fw_thermal */
#define LPU_FW_SEC_COUNT		4	/* every type below it is required */

/*
 * The tensor engine's cycle cost of one class (uapi/lpu_hw.h LPU_COST_*):
 * base + ceil(units / units_per_cycle) cycles.
 */
struct lpu_cost {
	__le32 base_cycles;	/* at most LPU_FW_COST_MAX_BASE */
	__le32 units_per_cycle;	/* 1 to LPU_FW_COST_MAX_RATE */
};

#define LPU_FW_COST_MAX_BASE		(1U << 20)
#define LPU_FW_COST_MAX_RATE		(1U << 20)

/* LPU_FW_SEC_COST: one entry per cost class, indexed by LPU_COST_*. */
struct lpu_fw_cost {
	struct lpu_cost cls[LPU_COST_COUNT];
};

/**
 * struct lpu_fw_engine - LPU_FW_SEC_ENGINE: what the firmware offers
 * @num_queues: queues it runs, 1 to LPU_NUM_QUEUES (LPU_REG_NUM_QUEUES);
 *	queues from this index up refuse to be enabled.
 * @max_ring_entries: largest ring, a power of two from LPU_MIN_RING_ENTRIES
 *	to LPU_MAX_RING_ENTRIES (LPU_REG_MAX_RING_ENTRIES).
 * @sram_reserved: bytes at the top of SRAM the firmware keeps for itself,
 *	a multiple of LPU_PAGE_SIZE, below LPU_FW_SRAM_RESERVED_MAX and below
 *	the card's SRAM size (LPU_REG_SRAM_RESERVED). No segment, COPY or
 *	scrub may touch them.
 * @rsvd: zero.
 */
struct lpu_fw_engine {
	__le32 num_queues;
	__le32 max_ring_entries;
	__le32 sram_reserved;
	__le32 rsvd;
};

#define LPU_FW_SRAM_RESERVED_MAX	(64U << 20)

/**
 * struct lpu_fw_thermal - LPU_FW_SEC_THERMAL: the telemetry model
 * @temp_idle_mc: LPU_REG_TEMP_MC with every engine idle, m°C.
 * @temp_busy_mc: ... with every engine busy; at least @temp_idle_mc, at
 *	most LPU_FW_TEMP_MAX_MC.
 * @power_idle_mw: LPU_REG_POWER_MW with every engine idle, mW.
 * @power_busy_mw: ... with every engine busy; at least @power_idle_mw, at
 *	most LPU_FW_POWER_MAX_MW.
 * @clock_idle_mhz: LPU_REG_CLOCK_MHZ while no engine works, 1 to
 *	LPU_CLOCK_MHZ (busy, the clock is LPU_CLOCK_MHZ).
 * @rsvd: zero.
 *
 * Between idle and busy, temperature and power are linear in the engines'
 * utilisation (uapi/lpu_hw.md, Telemetry).
 */
struct lpu_fw_thermal {
	__le32 temp_idle_mc;
	__le32 temp_busy_mc;
	__le32 power_idle_mw;
	__le32 power_busy_mw;
	__le32 clock_idle_mhz;
	__le32 rsvd[3];
};

#define LPU_FW_TEMP_MAX_MC		150000
#define LPU_FW_POWER_MAX_MW		1000000

#endif /* LPU_FW_H */
