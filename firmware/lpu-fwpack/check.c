// SPDX-License-Identifier: MIT
/*
 * The boot ROM's checks (firmware/lpu_fw.md, "Boot"), in its order, with
 * the LPU_FW_E_* code and FW_EXPECTED / FW_FOUND / FW_WHERE each sets, so
 * that `lpu-fwpack check` says about an image what the card would say.
 * Check 3 (the DMA read) has no counterpart for a file. Nothing past the
 * header is read before the image's size and layout have been checked.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "fwpack.h"

#define HOFF(field)	((uint32_t)offsetof(struct lpu_fw_header, field))
#define H32(img, field)	fw_le32((img) + HOFF(field))
#define H16(img, field)	fw_le16((img) + HOFF(field))

static const char *const error_names[LPU_FW_E_COUNT] = {
	[LPU_FW_E_NONE] = "NONE",
	[LPU_FW_E_STATE] = "STATE",
	[LPU_FW_E_EMPTY] = "EMPTY",
	[LPU_FW_E_TOO_LARGE] = "TOO_LARGE",
	[LPU_FW_E_DMA] = "DMA",
	[LPU_FW_E_TRUNCATED] = "TRUNCATED",
	[LPU_FW_E_MAGIC] = "MAGIC",
	[LPU_FW_E_FORMAT] = "FORMAT",
	[LPU_FW_E_LAYOUT] = "LAYOUT",
	[LPU_FW_E_CHIP] = "CHIP",
	[LPU_FW_E_DIGEST] = "DIGEST",
	[LPU_FW_E_NO_KEY] = "NO_KEY",
	[LPU_FW_E_SIGNATURE] = "SIGNATURE",
	[LPU_FW_E_SECTION] = "SECTION",
	[LPU_FW_E_COMMAND] = "COMMAND",
};

const char *fw_error_name(uint32_t code)
{
	return code < LPU_FW_E_COUNT ? error_names[code] : "?";
}

__attribute__((format(printf, 6, 7)))
static int refuse(struct fw_verdict *v, uint32_t code, uint32_t expected,
		  uint32_t found, uint32_t where, const char *fmt, ...)
{
	va_list ap;

	v->code = code;
	v->expected = expected;
	v->found = found;
	v->where = where;
	va_start(ap, fmt);
	vsnprintf(v->what, sizeof(v->what), fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Bytes [@off, @off + @len) are zero; else refused at the first non-zero
 * byte: expected 0, found that byte, where its offset.
 */
static int check_zero(const uint8_t *img, uint32_t code, uint32_t off,
		      uint32_t len, const char *name, struct fw_verdict *v)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		if (img[off + i])
			return refuse(v, code, 0, img[off + i], off + i,
				      "%s not zero", name);
	return 0;
}

/* A version part FW_VERSION / FW_ABI encode in one byte. */
static int check_byte(const uint8_t *img, uint32_t off, const char *name,
		      struct fw_verdict *v)
{
	uint16_t x = fw_le16(img + off);

	if (x > 0xff)
		return refuse(v, LPU_FW_E_LAYOUT, 0xff, x, off,
			      "%s above 255", name);
	return 0;
}

/* Check 11: the header's own consistency, @size bytes (= image_size). */
static int check_header_layout(const uint8_t *img, uint32_t size,
			       struct fw_verdict *v)
{
	uint32_t count = H32(img, section_count);
	uint32_t poff = H32(img, payload_offset);
	uint32_t psize = H32(img, payload_size);
	uint32_t soff = H32(img, sig_offset);
	uint32_t ssize = H32(img, sig_size);
	uint64_t table = (uint64_t)count * sizeof(struct lpu_fw_section);
	uint64_t pend = (uint64_t)poff + psize;
	uint32_t i;
	bool nul = false;

	if (poff != LPU_FW_HEADER_SIZE)
		return refuse(v, LPU_FW_E_LAYOUT, LPU_FW_HEADER_SIZE, poff,
			      HOFF(payload_offset), "bad payload_offset");
	if (count < 1 || count > LPU_FW_MAX_SECTIONS)
		return refuse(v, LPU_FW_E_LAYOUT, count ? LPU_FW_MAX_SECTIONS : 1,
			      count, HOFF(section_count), "bad section_count");
	if (psize < table)
		return refuse(v, LPU_FW_E_LAYOUT, (uint32_t)table, psize,
			      HOFF(payload_size),
			      "payload_size too small for the section table");
	if (soff != pend)
		return refuse(v, LPU_FW_E_LAYOUT, (uint32_t)pend, soff,
			      HOFF(sig_offset), "sig_offset is not the payload's end");
	/* Expected: the sig_size that would end the image there. */
	if ((uint64_t)soff + ssize != size)
		return refuse(v, LPU_FW_E_LAYOUT, soff <= size ? size - soff : size,
			      ssize, HOFF(sig_size),
			      "signature does not end the image");
	if (ssize < 1 || ssize > LPU_FW_SIG_MAX_SIZE)
		return refuse(v, LPU_FW_E_LAYOUT, ssize ? LPU_FW_SIG_MAX_SIZE : 1,
			      ssize, HOFF(sig_size), "bad sig_size");
	if (check_zero(img, LPU_FW_E_LAYOUT, HOFF(rsvd0), 2,
		       "reserved header field", v) ||
	    check_zero(img, LPU_FW_E_LAYOUT, HOFF(rsvd),
		       sizeof(((struct lpu_fw_header *)0)->rsvd),
		       "reserved header field", v))
		return -1;
	/* Printable ASCII, then only NULs. */
	for (i = 0; i < LPU_FW_BUILD_ID_LEN; i++) {
		uint8_t c = img[HOFF(build_id) + i];

		if (!c) {
			nul = true;
		} else if (nul || c < 0x20 || c > 0x7e) {
			return refuse(v, LPU_FW_E_LAYOUT, nul ? 0 : c < 0x20 ? 0x20 : 0x7e,
				      c, HOFF(build_id) + i,
				      "build id not printable ASCII padded with NULs");
		}
	}
	/* FW_VERSION and FW_ABI have one byte for each minor and patch. */
	if (check_byte(img, HOFF(fw_minor), "fw_minor", v) ||
	    check_byte(img, HOFF(fw_patch), "fw_patch", v) ||
	    check_byte(img, HOFF(abi_minor), "abi_minor", v))
		return -1;
	return 0;
}

static const uint32_t section_sizes[LPU_FW_SEC_COUNT] = {
	[LPU_FW_SEC_COST] = sizeof(struct lpu_fw_cost),
	[LPU_FW_SEC_ENGINE] = sizeof(struct lpu_fw_engine),
	[LPU_FW_SEC_THERMAL] = sizeof(struct lpu_fw_thermal),
};

static const char *const section_names[LPU_FW_SEC_COUNT] = {
	[LPU_FW_SEC_COST] = "COST",
	[LPU_FW_SEC_ENGINE] = "ENGINE",
	[LPU_FW_SEC_THERMAL] = "THERMAL",
};

/* Checks 17 and 18: the table; @at receives each type's offset. */
static int check_table(const uint8_t *img, uint32_t at[LPU_FW_SEC_COUNT],
		       struct fw_verdict *v)
{
	uint32_t count = H32(img, section_count);
	uint32_t pend = LPU_FW_HEADER_SIZE + H32(img, payload_size);
	uint32_t next = LPU_FW_HEADER_SIZE + count * sizeof(struct lpu_fw_section);
	uint32_t i, t;

	memset(at, 0, LPU_FW_SEC_COUNT * sizeof(at[0]));
	for (i = 0; i < count; i++) {
		uint32_t e = LPU_FW_HEADER_SIZE + i * sizeof(struct lpu_fw_section);
		uint32_t type = fw_le32(img + e + offsetof(struct lpu_fw_section, type));
		uint32_t off = fw_le32(img + e + offsetof(struct lpu_fw_section, offset));
		uint32_t size = fw_le32(img + e + offsetof(struct lpu_fw_section, size));
		uint32_t rsvd = fw_le32(img + e + offsetof(struct lpu_fw_section, rsvd));

		if (type < 1 || type >= LPU_FW_SEC_COUNT)
			return refuse(v, LPU_FW_E_SECTION, LPU_FW_SEC_COUNT - 1, type,
				      e, "section %u: unknown type", i);
		/* Expected: where the first section of that type is. */
		if (at[type])
			return refuse(v, LPU_FW_E_SECTION, at[type], off, e,
				      "section %u: %s repeated", i, section_names[type]);
		if (rsvd)
			return refuse(v, LPU_FW_E_SECTION, 0, rsvd,
				      e + offsetof(struct lpu_fw_section, rsvd),
				      "section %u: reserved field not zero", i);
		e += offsetof(struct lpu_fw_section, offset);
		if (off % LPU_FW_SECTION_ALIGN)
			return refuse(v, LPU_FW_E_SECTION, off / LPU_FW_SECTION_ALIGN *
				      LPU_FW_SECTION_ALIGN + LPU_FW_SECTION_ALIGN, off, e,
				      "section %u: offset not %u-byte aligned", i,
				      LPU_FW_SECTION_ALIGN);
		if (off < next)
			return refuse(v, LPU_FW_E_SECTION, next, off, e,
				      "section %u: overlaps the table or the previous section",
				      i);
		/* Expected: the room left (modulo 2^32 if @off is past it). */
		if ((uint64_t)off + size > pend)
			return refuse(v, LPU_FW_E_SECTION, pend - off, size, e + 4,
				      "section %u: runs past the payload", i);
		if (size != section_sizes[type])
			return refuse(v, LPU_FW_E_SECTION, section_sizes[type], size,
				      e + 4, "section %u: %s of the wrong size", i,
				      section_names[type]);
		at[type] = off;
		next = off + size;
	}
	for (t = 1; t < LPU_FW_SEC_COUNT; t++)
		if (!at[t])
			return refuse(v, LPU_FW_E_SECTION, t, 0,
				      HOFF(section_count),
				      "section %s missing", section_names[t]);
	return 0;
}

/* One value of a section: in [min, max], else refused naming it. */
static int in_range(const uint8_t *img, uint32_t off, uint32_t min,
		    uint32_t max, const char *name, struct fw_verdict *v)
{
	uint32_t x = fw_le32(img + off);

	if (x < min)
		return refuse(v, LPU_FW_E_SECTION, min, x, off, "%s too small", name);
	if (x > max)
		return refuse(v, LPU_FW_E_SECTION, max, x, off, "%s too large", name);
	return 0;
}

#define FOFF(type, field)	((uint32_t)offsetof(type, field))

static int check_cost(const uint8_t *img, uint32_t at, struct fw_verdict *v)
{
	char name[64];
	unsigned int i;

	for (i = 0; i < LPU_COST_COUNT; i++) {
		uint32_t c = at + i * sizeof(struct lpu_cost);

		snprintf(name, sizeof(name), "cost %s base_cycles", fw_cost_name(i));
		if (in_range(img, c + FOFF(struct lpu_cost, base_cycles), 0,
			     LPU_FW_COST_MAX_BASE, name, v))
			return -1;
		snprintf(name, sizeof(name), "cost %s units_per_cycle", fw_cost_name(i));
		if (in_range(img, c + FOFF(struct lpu_cost, units_per_cycle), 1,
			     LPU_FW_COST_MAX_RATE, name, v))
			return -1;
	}
	return 0;
}

/*
 * Expected values of the refusals that are no plain range: the nearest
 * valid value below (power of two, page multiple), or the limit crossed.
 */
static int check_engine(const uint8_t *img, uint32_t at, uint64_t sram_size,
			struct fw_verdict *v)
{
	uint32_t ring = at + FOFF(struct lpu_fw_engine, max_ring_entries);
	uint32_t res = at + FOFF(struct lpu_fw_engine, sram_reserved);
	uint32_t x;

	if (in_range(img, at + FOFF(struct lpu_fw_engine, num_queues), 1,
		     LPU_NUM_QUEUES, "engine num_queues", v) ||
	    in_range(img, ring, LPU_MIN_RING_ENTRIES, LPU_MAX_RING_ENTRIES,
		     "engine max_ring_entries", v))
		return -1;
	x = fw_le32(img + ring);
	if (x & (x - 1)) {
		uint32_t floor = x;

		while (floor & (floor - 1))
			floor &= floor - 1;
		return refuse(v, LPU_FW_E_SECTION, floor, x, ring,
			      "engine max_ring_entries not a power of two");
	}
	x = fw_le32(img + res);
	if (x % LPU_PAGE_SIZE)
		return refuse(v, LPU_FW_E_SECTION, x / LPU_PAGE_SIZE * LPU_PAGE_SIZE,
			      x, res, "engine sram_reserved not a multiple of %u",
			      LPU_PAGE_SIZE);
	if (x >= LPU_FW_SRAM_RESERVED_MAX)
		return refuse(v, LPU_FW_E_SECTION, LPU_FW_SRAM_RESERVED_MAX, x, res,
			      "engine sram_reserved too large: not below %u",
			      LPU_FW_SRAM_RESERVED_MAX);
	if (x >= sram_size)
		return refuse(v, LPU_FW_E_SECTION, (uint32_t)sram_size, x, res,
			      "engine sram_reserved too large: not below the card's SRAM");
	return check_zero(img, LPU_FW_E_SECTION,
			  at + FOFF(struct lpu_fw_engine, rsvd),
			  sizeof(((struct lpu_fw_engine *)0)->rsvd),
			  "engine reserved field", v);
}

static int check_thermal(const uint8_t *img, uint32_t at, struct fw_verdict *v)
{
	uint32_t t_idle = fw_le32(img + at + FOFF(struct lpu_fw_thermal, temp_idle_mc));
	uint32_t p_idle = fw_le32(img + at + FOFF(struct lpu_fw_thermal, power_idle_mw));

	/* Idle before busy: busy's lower limit is a valid idle value. */
	if (in_range(img, at + FOFF(struct lpu_fw_thermal, temp_idle_mc), 0,
		     LPU_FW_TEMP_MAX_MC, "thermal temp_idle_mc", v) ||
	    in_range(img, at + FOFF(struct lpu_fw_thermal, temp_busy_mc), t_idle,
		     LPU_FW_TEMP_MAX_MC, "thermal temp_busy_mc", v) ||
	    in_range(img, at + FOFF(struct lpu_fw_thermal, power_idle_mw), 0,
		     LPU_FW_POWER_MAX_MW, "thermal power_idle_mw", v) ||
	    in_range(img, at + FOFF(struct lpu_fw_thermal, power_busy_mw), p_idle,
		     LPU_FW_POWER_MAX_MW, "thermal power_busy_mw", v) ||
	    in_range(img, at + FOFF(struct lpu_fw_thermal, clock_idle_mhz), 1,
		     LPU_CLOCK_MHZ, "thermal clock_idle_mhz", v))
		return -1;
	return check_zero(img, LPU_FW_E_SECTION,
			  at + FOFF(struct lpu_fw_thermal, rsvd),
			  sizeof(((struct lpu_fw_thermal *)0)->rsvd),
			  "thermal reserved field", v);
}

/* Checks 12 to 16: digest, key, signature. */
static int check_seal(const uint8_t *img, const struct fw_card *card,
		      struct fw_verdict *v)
{
	uint32_t psize = H32(img, payload_size);
	uint32_t ssize = H32(img, sig_size);
	uint32_t soff = H32(img, sig_offset);
	uint8_t digest[LPU_FW_SHA256_SIZE];
	const uint8_t *want = img + HOFF(payload_sha256);

	if (fw_sha256(img + LPU_FW_HEADER_SIZE, psize, digest))
		return refuse(v, LPU_FW_E_DIGEST, 0, 0, HOFF(payload_sha256),
			      "cannot compute SHA-256");
	if (memcmp(digest, want, sizeof(digest)))
		return refuse(v, LPU_FW_E_DIGEST,
			      (uint32_t)want[0] << 24 | want[1] << 16 | want[2] << 8 | want[3],
			      (uint32_t)digest[0] << 24 | digest[1] << 16 |
			      digest[2] << 8 | digest[3],
			      HOFF(payload_sha256), "payload digest mismatch");
	if (!card->key)
		return refuse(v, LPU_FW_E_NO_KEY, 0, 0, 0, "the card has no public key");
	if (H32(img, sig_type) != LPU_FW_SIG_RSA_PKCS1_SHA256)
		return refuse(v, LPU_FW_E_SIGNATURE, LPU_FW_SIG_RSA_PKCS1_SHA256,
			      H32(img, sig_type), HOFF(sig_type), "unknown sig_type");
	if (ssize != fw_key_size(card->key))
		return refuse(v, LPU_FW_E_SIGNATURE, (uint32_t)fw_key_size(card->key),
			      ssize, HOFF(sig_size),
			      "signature size is not the key's");
	if (fw_verify(card->key, img, LPU_FW_HEADER_SIZE, img + soff, ssize) != 1)
		return refuse(v, LPU_FW_E_SIGNATURE, 0, 0, soff,
			      "signature does not verify with the card's key");
	return 0;
}

int fw_check(const uint8_t *img, size_t size, const struct fw_card *card,
	     struct fw_verdict *v)
{
	uint32_t at[LPU_FW_SEC_COUNT];
	uint32_t isize, chip;

	memset(v, 0, sizeof(*v));
	if (!size)
		return refuse(v, LPU_FW_E_EMPTY, LPU_FW_HEADER_SIZE, 0, 0, "empty image");
	if (size > LPU_FW_MAX_SIZE)
		return refuse(v, LPU_FW_E_TOO_LARGE, LPU_FW_MAX_SIZE,
			      size > UINT32_MAX ? UINT32_MAX : (uint32_t)size, 0,
			      "image too large");
	if (size < LPU_FW_HEADER_SIZE)
		return refuse(v, LPU_FW_E_TRUNCATED, LPU_FW_HEADER_SIZE, (uint32_t)size,
			      0, "truncated: shorter than the header");
	if (H32(img, magic) != LPU_FW_MAGIC)
		return refuse(v, LPU_FW_E_MAGIC, LPU_FW_MAGIC, H32(img, magic),
			      HOFF(magic), "bad magic");
	if (H16(img, format_major) != LPU_FW_FORMAT_MAJOR)
		return refuse(v, LPU_FW_E_FORMAT, LPU_FW_FORMAT_MAJOR,
			      H16(img, format_major), HOFF(format_major),
			      "unsupported format version");
	if (H32(img, header_size) != LPU_FW_HEADER_SIZE)
		return refuse(v, LPU_FW_E_LAYOUT, LPU_FW_HEADER_SIZE,
			      H32(img, header_size), HOFF(header_size),
			      "bad header_size");
	isize = H32(img, image_size);
	if (isize > size)
		return refuse(v, LPU_FW_E_TRUNCATED, isize, (uint32_t)size,
			      HOFF(image_size), "truncated: shorter than image_size");
	if (isize != size)
		return refuse(v, LPU_FW_E_LAYOUT, isize, (uint32_t)size,
			      HOFF(image_size), "bytes after image_size");
	chip = (uint32_t)H16(img, chip_device) << 16 | H16(img, chip_rev);
	if (chip != card->chip)
		return refuse(v, LPU_FW_E_CHIP, card->chip, chip, HOFF(chip_device),
			      "built for another chip");
	if (check_header_layout(img, isize, v) || check_seal(img, card, v) ||
	    check_table(img, at, v) ||
	    check_cost(img, at[LPU_FW_SEC_COST], v) ||
	    check_engine(img, at[LPU_FW_SEC_ENGINE], card->sram_size, v) ||
	    check_thermal(img, at[LPU_FW_SEC_THERMAL], v))
		return -1;
	return 0;
}
