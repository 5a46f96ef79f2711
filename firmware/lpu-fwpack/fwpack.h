/* SPDX-License-Identifier: MIT */
/*
 * lpu-fwpack: packs firmware/lpu-v3.json into a signed image
 * (firmware/lpu_fw.h), and checks images the way the card's boot ROM does
 * (firmware/lpu_fw.md, "Boot"). One file per concern:
 *   source.c  the JSON source: read, override (--set), validate
 *   image.c   the image: layout, header, sections, digest
 *   crypto.c  SHA-256, RSA PKCS#1 v1.5 signing and verification (libcrypto)
 *   check.c   the boot ROM's checks, in the boot ROM's order
 *   info.c    `info`: what an image holds
 *   main.c    the command line
 */
#ifndef LPU_FWPACK_H
#define LPU_FWPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "lpu_fw.h"

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

/* What the source describes, in host byte order. */
struct fw_source {
	uint32_t fw_major, fw_minor, fw_patch;
	uint32_t abi_major, abi_minor;
	uint32_t chip_device, chip_rev;
	uint32_t num_queues, max_ring_entries, sram_reserved;
	uint32_t temp_idle_mc, temp_busy_mc;
	uint32_t power_idle_mw, power_busy_mw;
	uint32_t clock_idle_mhz;
	uint32_t base_cycles[LPU_COST_COUNT];
	uint32_t units_per_cycle[LPU_COST_COUNT];
};

/* source.c */
/* Name of cost class @cls (LPU_COST_*), e.g. "MATMUL_F32"; NULL if none. */
const char *fw_cost_name(unsigned int cls);
/*
 * Read @path into @src, applying the @nset "PATH=VALUE" overrides first.
 * With @check_ranges false, only the JSON shape and field widths are
 * checked (--unchecked). Returns 0, or -1 after printing one message that
 * names the field.
 */
int fw_source_read(const char *path, const char *const *sets, int nset,
		   bool check_ranges, struct fw_source *src);

/* image.c */
/* Bytes of the image @src packs into with a signature of @sig_size. */
size_t fw_image_size(size_t sig_size);
/*
 * Lay out header and payload of @src into @img (fw_image_size() bytes,
 * zeroed by the caller), with the payload digest filled in; the signature
 * bytes are left to the caller.
 */
int fw_image_build(const struct fw_source *src, const char *build_id,
		   size_t sig_size, uint8_t *img, size_t img_size);
/*
 * Recompute the payload digest and the signature of @img in place, where
 * its header says they are; -1 if the header's layout does not allow it.
 */
int fw_image_seal(uint8_t *img, size_t size, EVP_PKEY *key);
/* A new signed image of @src (free() it), *size its bytes; NULL on error. */
uint8_t *fw_image_pack(const struct fw_source *src, const char *build_id,
		       EVP_PKEY *key, size_t *size);

/* crypto.c */
int fw_sha256(const void *data, size_t len, uint8_t out[LPU_FW_SHA256_SIZE]);
EVP_PKEY *fw_load_private_key(const char *path);
EVP_PKEY *fw_load_public_key(const char *path);
/* RSA modulus bytes of @key: the signature size. */
size_t fw_key_size(const EVP_PKEY *key);
int fw_sign(EVP_PKEY *key, const void *data, size_t len, uint8_t *sig,
	    size_t sig_size);
/* 1 if @sig verifies, else 0 (a setup failure is reported, -1). */
int fw_verify(EVP_PKEY *key, const void *data, size_t len, const uint8_t *sig,
	      size_t sig_size);
/* Prints the libcrypto error queue after @what. */
void fw_crypto_error(const char *what);

/* check.c */
/* The card an image is checked against. */
struct fw_card {
	uint32_t chip;		/* chip_device << 16 | chip_rev */
	uint64_t sram_size;
	EVP_PKEY *key;		/* NULL: the card has none */
};

/* The outcome of the boot ROM's checks: what FW_ERROR & co. would read. */
struct fw_verdict {
	uint32_t code;		/* LPU_FW_E_* */
	uint32_t expected;
	uint32_t found;
	uint32_t where;
	char what[96];		/* the problem, e.g. "bad magic" */
};

/* Runs every check; 0 if the image boots, else -1 with @v filled. */
int fw_check(const uint8_t *img, size_t size, const struct fw_card *card,
	     struct fw_verdict *v);
const char *fw_error_name(uint32_t code);

/* info.c */
/* @img holds the first @size bytes of a file of @file_size bytes. */
void fw_print_info(const uint8_t *img, size_t size, size_t file_size);

/* Little-endian fields of the image. */
static inline uint32_t fw_le32(const void *p)
{
	const uint8_t *b = p;

	return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline uint16_t fw_le16(const void *p)
{
	const uint8_t *b = p;

	return b[0] | b[1] << 8;
}

#endif /* LPU_FWPACK_H */
