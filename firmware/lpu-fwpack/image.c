// SPDX-License-Identifier: MIT
/*
 * Image layout (lpu_fw.h): the header, then the section table and the
 * COST, ENGINE and THERMAL sections, each LPU_FW_SECTION_ALIGN aligned,
 * then the signature. Everything is written little-endian.
 */
#include <endian.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwpack.h"

/* The sections, in table order. */
static const struct {
	uint32_t type;
	uint32_t size;
} sections[] = {
	{ LPU_FW_SEC_COST, sizeof(struct lpu_fw_cost) },
	{ LPU_FW_SEC_ENGINE, sizeof(struct lpu_fw_engine) },
	{ LPU_FW_SEC_THERMAL, sizeof(struct lpu_fw_thermal) },
};

#define TABLE_SIZE		(ARRAY_SIZE(sections) * sizeof(struct lpu_fw_section))

static size_t align_up(size_t x, size_t a)
{
	return (x + a - 1) / a * a;
}

static size_t section_offset(unsigned int i)
{
	size_t off = LPU_FW_HEADER_SIZE + TABLE_SIZE;
	unsigned int k;

	for (k = 0; k <= i; k++) {
		off = align_up(off, LPU_FW_SECTION_ALIGN);
		if (k < i)
			off += sections[k].size;
	}
	return off;
}

static size_t payload_size(void)
{
	unsigned int last = ARRAY_SIZE(sections) - 1;

	return section_offset(last) + sections[last].size - LPU_FW_HEADER_SIZE;
}

size_t fw_image_size(size_t sig_size)
{
	return LPU_FW_HEADER_SIZE + payload_size() + sig_size;
}

static void fill_cost(const struct fw_source *src, struct lpu_fw_cost *c)
{
	unsigned int i;

	for (i = 0; i < LPU_COST_COUNT; i++) {
		c->cls[i].base_cycles = htole32(src->base_cycles[i]);
		c->cls[i].units_per_cycle = htole32(src->units_per_cycle[i]);
	}
}

static void fill_engine(const struct fw_source *src, struct lpu_fw_engine *e)
{
	e->num_queues = htole32(src->num_queues);
	e->max_ring_entries = htole32(src->max_ring_entries);
	e->sram_reserved = htole32(src->sram_reserved);
}

static void fill_thermal(const struct fw_source *src, struct lpu_fw_thermal *t)
{
	t->temp_idle_mc = htole32(src->temp_idle_mc);
	t->temp_busy_mc = htole32(src->temp_busy_mc);
	t->power_idle_mw = htole32(src->power_idle_mw);
	t->power_busy_mw = htole32(src->power_busy_mw);
	t->clock_idle_mhz = htole32(src->clock_idle_mhz);
}

int fw_image_build(const struct fw_source *src, const char *build_id,
		   size_t sig_size, uint8_t *img, size_t img_size)
{
	struct lpu_fw_header h;
	struct lpu_fw_section s;
	struct lpu_fw_cost cost;
	struct lpu_fw_engine engine;
	struct lpu_fw_thermal thermal;
	const void *body[ARRAY_SIZE(sections)] = { &cost, &engine, &thermal };
	size_t psize = payload_size(), id_len = strlen(build_id);
	unsigned int i;

	if (img_size != fw_image_size(sig_size) || sig_size > LPU_FW_SIG_MAX_SIZE ||
	    id_len > LPU_FW_BUILD_ID_LEN)
		return -1;
	memset(&cost, 0, sizeof(cost));
	memset(&engine, 0, sizeof(engine));
	memset(&thermal, 0, sizeof(thermal));
	fill_cost(src, &cost);
	fill_engine(src, &engine);
	fill_thermal(src, &thermal);

	for (i = 0; i < ARRAY_SIZE(sections); i++) {
		memset(&s, 0, sizeof(s));
		s.type = htole32(sections[i].type);
		s.offset = htole32((uint32_t)section_offset(i));
		s.size = htole32(sections[i].size);
		memcpy(img + LPU_FW_HEADER_SIZE + i * sizeof(s), &s, sizeof(s));
		memcpy(img + section_offset(i), body[i], sections[i].size);
	}

	memset(&h, 0, sizeof(h));
	h.magic = htole32(LPU_FW_MAGIC);
	h.format_major = htole16(LPU_FW_FORMAT_MAJOR);
	h.format_minor = htole16(LPU_FW_FORMAT_MINOR);
	h.header_size = htole32(LPU_FW_HEADER_SIZE);
	h.image_size = htole32((uint32_t)img_size);
	h.fw_major = htole16((uint16_t)src->fw_major);
	h.fw_minor = htole16((uint16_t)src->fw_minor);
	h.fw_patch = htole16((uint16_t)src->fw_patch);
	h.abi_major = htole16((uint16_t)src->abi_major);
	h.abi_minor = htole16((uint16_t)src->abi_minor);
	h.chip_device = htole16((uint16_t)src->chip_device);
	h.chip_rev = htole16((uint16_t)src->chip_rev);
	h.section_count = htole32(ARRAY_SIZE(sections));
	h.payload_offset = htole32(LPU_FW_HEADER_SIZE);
	h.payload_size = htole32((uint32_t)psize);
	h.sig_type = htole32(LPU_FW_SIG_RSA_PKCS1_SHA256);
	h.sig_offset = htole32((uint32_t)(LPU_FW_HEADER_SIZE + psize));
	h.sig_size = htole32((uint32_t)sig_size);
	memcpy(h.build_id, build_id, id_len);
	if (fw_sha256(img + LPU_FW_HEADER_SIZE, psize, h.payload_sha256))
		return -1;
	memcpy(img, &h, sizeof(h));
	return 0;
}

int fw_image_seal(uint8_t *img, size_t size, EVP_PKEY *key)
{
	uint32_t psize, soff, ssize;

	if (size < LPU_FW_HEADER_SIZE)
		return -1;
	psize = fw_le32(img + offsetof(struct lpu_fw_header, payload_size));
	soff = fw_le32(img + offsetof(struct lpu_fw_header, sig_offset));
	ssize = fw_le32(img + offsetof(struct lpu_fw_header, sig_size));
	if (fw_le32(img + offsetof(struct lpu_fw_header, payload_offset)) !=
	    LPU_FW_HEADER_SIZE || psize > size - LPU_FW_HEADER_SIZE ||
	    soff > size || ssize > size - soff || ssize != fw_key_size(key))
		return -1;
	if (fw_sha256(img + LPU_FW_HEADER_SIZE, psize,
		      img + offsetof(struct lpu_fw_header, payload_sha256)))
		return -1;
	return fw_sign(key, img, LPU_FW_HEADER_SIZE, img + soff, ssize);
}

uint8_t *fw_image_pack(const struct fw_source *src, const char *build_id,
		       EVP_PKEY *key, size_t *size)
{
	size_t sig_size = fw_key_size(key);
	uint8_t *img;

	*size = fw_image_size(sig_size);
	img = calloc(1, *size);
	if (!img) {
		fprintf(stderr, "lpu-fwpack: out of memory\n");
		return NULL;
	}
	if (fw_image_build(src, build_id, sig_size, img, *size) ||
	    fw_image_seal(img, *size, key)) {
		free(img);
		return NULL;
	}
	return img;
}
