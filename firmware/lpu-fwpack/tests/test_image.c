// SPDX-License-Identifier: MIT
/*
 * Host unit tests of lpu-fwpack's image builder and checker (TAP): an image
 * packed from firmware/lpu-v3.json passes every boot ROM check, and each
 * check of the table in firmware/lpu_fw.md refuses a mutated image with its
 * code, expected, found and offset. Mutations behind the digest or the
 * signature are re-sealed so that they reach the check they aim at. Then
 * seeded random bit flips, every truncation, and a foreign key.
 *   test_lpu_fwpack REPO-DIR
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwpack.h"
#include "tap.h"

#define HOFF(f)		((uint32_t)offsetof(struct lpu_fw_header, f))

static struct fw_source src;
static EVP_PKEY *key, *untrusted;
static uint8_t *good;
static size_t good_size;
static struct fw_card card;

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

/* A fresh copy of the good image in a buffer of @cap bytes. */
static uint8_t *copy_good(size_t cap)
{
	uint8_t *img = calloc(1, cap);

	if (!img) {
		perror("calloc");
		exit(2);
	}
	memcpy(img, good, cap < good_size ? cap : good_size);
	return img;
}

/* Offset of section @type's body in the good image (table order). */
static uint32_t sec(uint32_t type)
{
	uint32_t i;

	for (i = 0; i < 3; i++)
		if (fw_le32(good + LPU_FW_HEADER_SIZE + 16 * i) == type)
			return fw_le32(good + LPU_FW_HEADER_SIZE + 16 * i + 4);
	return 0;
}

/* The checker's verdict on @img of @size against @c matches the rest. */
static void expect(const char *name, const uint8_t *img, size_t size,
		   const struct fw_card *c, uint32_t code, uint32_t expected,
		   uint32_t found, uint32_t where, const char *what)
{
	struct fw_verdict v;
	int ret = fw_check(img, size, c, &v);

	if (!tap_ok(ret == -1 && v.code == code && v.expected == expected &&
		    v.found == found && v.where == where &&
		    strstr(v.what, what), "%s: %s", name, fw_error_name(code)))
		printf("#   got ret %d %s expected %u found %u where %u '%s'\n"
		       "#   want %s expected %u found %u where %u '%s'\n",
		       ret, fw_error_name(v.code), v.expected, v.found, v.where,
		       v.what, fw_error_name(code), expected, found, where, what);
}

/* Mutate a copy with @fn, re-seal it if @reseal, expect the verdict. */
#define MUTATE(name, reseal, code, exp, fnd, where, what, ...) do {	\
	uint8_t *img = copy_good(good_size);				\
	const char *mname = (name);					\
	__VA_ARGS__;							\
	if ((reseal) && fw_image_seal(img, good_size, key))		\
		tap_ok(0, "%s: re-seal", mname);			\
	else								\
		expect(mname, img, good_size, &card, code, exp, fnd,	\
		       where, what);					\
	free(img);							\
} while (0)

static void test_round_trip(void)
{
	struct fw_verdict v;
	uint8_t *again;
	size_t n;

	tap_ok(fw_check(good, good_size, &card, &v) == 0,
	       "the packed source passes every boot ROM check");
	tap_is(good_size, fw_le32(good + HOFF(image_size)), "image_size is the image's size");
	tap_is(fw_le32(good + HOFF(magic)), LPU_FW_MAGIC, "magic");
	tap_is(fw_le16(good + HOFF(fw_major)) << 16 | fw_le16(good + HOFF(fw_minor)) << 8 |
	       fw_le16(good + HOFF(fw_patch)), 0x010000, "version 1.0.0 from the source");
	tap_is(fw_le16(good + HOFF(abi_major)) << 8 | fw_le16(good + HOFF(abi_minor)),
	       LPU_HOST_ABI_MAJOR << 8 | LPU_HOST_ABI_MINOR, "ABI 1.0 from the source");
	tap_is(fw_le32(good + sec(LPU_FW_SEC_COST) + 8 * LPU_COST_MATMUL_F32 + 4),
	       src.units_per_cycle[LPU_COST_MATMUL_F32], "COST holds MATMUL_F32's rate");
	tap_is(fw_le32(good + sec(LPU_FW_SEC_ENGINE)), src.num_queues,
	       "ENGINE holds num_queues");
	tap_is(fw_le32(good + sec(LPU_FW_SEC_THERMAL) + 16), src.clock_idle_mhz,
	       "THERMAL holds clock_idle_mhz");
	tap_ok(!memcmp(good + HOFF(build_id), "test-build\0", 11), "build id");
	again = fw_image_pack(&src, "test-build", key, &n);
	tap_ok(again && n == good_size && !memcmp(again, good, n),
	       "packing is reproducible byte for byte");
	free(again);
}

static void test_size_checks(void)
{
	uint8_t *big = copy_good(LPU_FW_MAX_SIZE + 1);
	struct fw_verdict v;

	expect("FW_SIZE 0", good, 0, &card, LPU_FW_E_EMPTY, 256, 0, 0, "empty");
	expect("FW_SIZE above 1 MiB", big, LPU_FW_MAX_SIZE + 1, &card,
	       LPU_FW_E_TOO_LARGE, LPU_FW_MAX_SIZE, LPU_FW_MAX_SIZE + 1, 0, "too large");
	tap_ok(fw_check(big, LPU_FW_MAX_SIZE, &card, &v) == -1 &&
	       v.code == LPU_FW_E_LAYOUT, "exactly 1 MiB is not too large (LAYOUT: trailing bytes)");
	expect("FW_SIZE 255", good, 255, &card, LPU_FW_E_TRUNCATED, 256, 255, 0,
	       "shorter than the header");
	expect("FW_SIZE below image_size", good, good_size - 1, &card,
	       LPU_FW_E_TRUNCATED, good_size, good_size - 1, HOFF(image_size),
	       "shorter than image_size");
	expect("FW_SIZE above image_size", big, good_size + 8, &card,
	       LPU_FW_E_LAYOUT, good_size, good_size + 8, HOFF(image_size),
	       "bytes after image_size");
	free(big);
}

static void test_header_checks(void)
{
	struct fw_card rev2 = card;
	uint32_t soff = fw_le32(good + HOFF(sig_offset));

	MUTATE("magic", 0, LPU_FW_E_MAGIC, LPU_FW_MAGIC, 0x4657504c, 0, "bad magic",
	       put32(img, 0x4657504c));
	MUTATE("format_major 2", 0, LPU_FW_E_FORMAT, 1, 2, HOFF(format_major),
	       "format", put16(img + HOFF(format_major), 2));
	MUTATE("header_size 255", 0, LPU_FW_E_LAYOUT, 256, 255, HOFF(header_size),
	       "header_size", put32(img + HOFF(header_size), 255));
	rev2.chip = LPU_PCI_DEVICE_ID_V3 << 16 | 2;
	expect("image for rev 1 on a rev 2 card", good, good_size, &rev2, LPU_FW_E_CHIP,
	       rev2.chip, card.chip, HOFF(chip_device), "another chip");
	MUTATE("chip_device 4", 0, LPU_FW_E_CHIP, card.chip, 4 << 16 | 1,
	       HOFF(chip_device), "another chip", put16(img + HOFF(chip_device), 4));

	/* Check 11, in its order. */
	MUTATE("payload_offset 264", 0, LPU_FW_E_LAYOUT, 256, 264, HOFF(payload_offset),
	       "payload_offset", put32(img + HOFF(payload_offset), 264));
	MUTATE("section_count 0", 0, LPU_FW_E_LAYOUT, 1, 0, HOFF(section_count),
	       "section_count", put32(img + HOFF(section_count), 0));
	MUTATE("section_count 17", 0, LPU_FW_E_LAYOUT, 16, 17, HOFF(section_count),
	       "section_count", put32(img + HOFF(section_count), 17));
	MUTATE("payload_size below the table", 0, LPU_FW_E_LAYOUT, 48, 47,
	       HOFF(payload_size), "payload_size", put32(img + HOFF(payload_size), 47));
	MUTATE("sig_offset not the payload's end", 0, LPU_FW_E_LAYOUT, soff, soff + 8,
	       HOFF(sig_offset), "sig_offset", put32(img + HOFF(sig_offset), soff + 8));
	/* Expected: the sig_size that ends the image; found: sig_size. */
	MUTATE("sig_offset + sig_size past image_size", 0, LPU_FW_E_LAYOUT,
	       good_size - soff, good_size - soff + 1, HOFF(sig_size), "does not end",
	       put32(img + HOFF(sig_size), good_size - soff + 1));
	MUTATE("sig_offset + sig_size wraps around", 0, LPU_FW_E_LAYOUT,
	       good_size - soff, UINT32_MAX, HOFF(sig_size), "does not end",
	       put32(img + HOFF(sig_size), UINT32_MAX));
	/* sig_offset past the image: expected is the image size itself. */
	MUTATE("sig_offset past the image", 0, LPU_FW_E_LAYOUT, good_size,
	       fw_le32(good + HOFF(sig_size)), HOFF(sig_size), "does not end",
	       put32(img + HOFF(payload_size), good_size);
	       put32(img + HOFF(sig_offset), good_size + 256));
	MUTATE("payload_size wraps sig_offset", 0, LPU_FW_E_LAYOUT, 255, soff,
	       HOFF(sig_offset), "sig_offset",
	       put32(img + HOFF(payload_size), UINT32_MAX));
	{
		/* sig_size 0: the image ends at sig_offset. */
		uint8_t *img = copy_good(good_size);

		put32(img + HOFF(sig_size), 0);
		put32(img + HOFF(image_size), soff);
		expect("sig_size 0", img, soff, &card, LPU_FW_E_LAYOUT, 1, 0,
		       HOFF(sig_size), "bad sig_size");
		free(img);
	}
	{
		uint8_t *img = copy_good(soff + 513);

		put32(img + HOFF(sig_size), 513);
		put32(img + HOFF(image_size), soff + 513);
		expect("sig_size 513", img, soff + 513, &card, LPU_FW_E_LAYOUT, 512, 513,
		       HOFF(sig_size), "bad sig_size");
		free(img);
	}
	/* Reserved fields: the first non-zero byte, at its own offset. */
	MUTATE("rsvd0", 0, LPU_FW_E_LAYOUT, 0, 1, HOFF(rsvd0), "reserved",
	       put16(img + HOFF(rsvd0), 1));
	MUTATE("rsvd0 high byte", 0, LPU_FW_E_LAYOUT, 0, 0x12, HOFF(rsvd0) + 1,
	       "reserved", put16(img + HOFF(rsvd0), 0x1200));
	MUTATE("rsvd0 both bytes", 0, LPU_FW_E_LAYOUT, 0, 0x34, HOFF(rsvd0),
	       "reserved", put16(img + HOFF(rsvd0), 0x1234));
	MUTATE("rsvd[127]", 0, LPU_FW_E_LAYOUT, 0, 0x80, HOFF(rsvd) + 127, "reserved",
	       img[HOFF(rsvd) + 127] = 0x80);
	MUTATE("build id byte 0x7f", 0, LPU_FW_E_LAYOUT, 0x7e, 0x7f, HOFF(build_id) + 2,
	       "build id", img[HOFF(build_id) + 2] = 0x7f);
	MUTATE("build id control character", 0, LPU_FW_E_LAYOUT, 0x20, 0x0a,
	       HOFF(build_id) + 0, "build id", img[HOFF(build_id)] = '\n');
	MUTATE("build id text after the NUL padding", 0, LPU_FW_E_LAYOUT, 0, 'x',
	       HOFF(build_id) + 39, "build id", img[HOFF(build_id) + 39] = 'x');
	/* The last checks of 11: FW_VERSION and FW_ABI have a byte each. */
	MUTATE("fw_minor 256", 0, LPU_FW_E_LAYOUT, 0xff, 256, HOFF(fw_minor),
	       "fw_minor above 255", put16(img + HOFF(fw_minor), 256));
	MUTATE("fw_patch 0xffff", 0, LPU_FW_E_LAYOUT, 0xff, 0xffff, HOFF(fw_patch),
	       "fw_patch above 255", put16(img + HOFF(fw_patch), 0xffff));
	MUTATE("abi_minor 300", 0, LPU_FW_E_LAYOUT, 0xff, 300, HOFF(abi_minor),
	       "abi_minor above 255", put16(img + HOFF(abi_minor), 300));
	MUTATE("fw_patch and abi_minor 256: fw_patch first", 0, LPU_FW_E_LAYOUT, 0xff,
	       256, HOFF(fw_patch), "fw_patch",
	       put16(img + HOFF(abi_minor), 256); put16(img + HOFF(fw_patch), 256));
	MUTATE("build id before the versions", 0, LPU_FW_E_LAYOUT, 0x20, 1,
	       HOFF(build_id), "build id",
	       put16(img + HOFF(fw_minor), 256); img[HOFF(build_id)] = 1);
	MUTATE("fw_minor 256 before the digest", 0, LPU_FW_E_LAYOUT, 0xff, 256,
	       HOFF(fw_minor), "fw_minor",
	       put16(img + HOFF(fw_minor), 256); img[sec(LPU_FW_SEC_COST)] ^= 1);
	{
		uint8_t *img = copy_good(good_size);
		struct fw_verdict v;

		put16(img + HOFF(fw_major), 0xffff);
		put16(img + HOFF(fw_minor), 0xff);
		put16(img + HOFF(fw_patch), 0xff);
		put16(img + HOFF(abi_major), 0xffff);
		put16(img + HOFF(abi_minor), 0xff);
		tap_ok(!fw_image_seal(img, good_size, key) &&
		       !fw_check(img, good_size, &card, &v),
		       "versions 65535.255.255, ABI 65535.255 boot");
		free(img);
	}
	{
		uint8_t *img = copy_good(good_size);
		struct fw_verdict v;

		memset(img + HOFF(build_id), 'a', LPU_FW_BUILD_ID_LEN);
		tap_ok(!fw_image_seal(img, good_size, key) &&
		       !fw_check(img, good_size, &card, &v),
		       "a build id of 40 printable bytes, no NUL, boots");
		free(img);
	}
}

static void test_seal_checks(void)
{
	uint32_t soff = fw_le32(good + HOFF(sig_offset));
	uint32_t ssize = fw_le32(good + HOFF(sig_size));
	const uint8_t *d = good + HOFF(payload_sha256);
	uint32_t want = (uint32_t)d[0] << 24 | d[1] << 16 | d[2] << 8 | d[3];
	uint8_t digest[LPU_FW_SHA256_SIZE];
	struct fw_card nokey = card;
	uint8_t *img;

	img = copy_good(good_size);
	img[sec(LPU_FW_SEC_ENGINE)] ^= 1;
	fw_sha256(img + 256, fw_le32(good + HOFF(payload_size)), digest);
	expect("a payload byte flipped", img, good_size, &card, LPU_FW_E_DIGEST, want,
	       (uint32_t)digest[0] << 24 | digest[1] << 16 | digest[2] << 8 | digest[3],
	       HOFF(payload_sha256), "digest");
	free(img);
	nokey.key = NULL;
	expect("a card without a key", good, good_size, &nokey, LPU_FW_E_NO_KEY, 0, 0, 0,
	       "no public key");
	MUTATE("sig_type 2", 0, LPU_FW_E_SIGNATURE, 1, 2, HOFF(sig_type), "sig_type",
	       put32(img + HOFF(sig_type), 2));
	{
		/* A consistent layout with a 256-byte signature: not the key's. */
		size_t n = soff + 256;

		img = copy_good(n);
		put32(img + HOFF(sig_size), 256);
		put32(img + HOFF(image_size), n);
		expect("sig_size not the key's", img, n, &card, LPU_FW_E_SIGNATURE,
		       ssize, 256, HOFF(sig_size), "not the key's");
		free(img);
	}
	MUTATE("a signature byte flipped", 0, LPU_FW_E_SIGNATURE, 0, 0, soff,
	       "does not verify", img[soff + ssize - 1] ^= 0x10);
	MUTATE("a header byte changed after signing", 0, LPU_FW_E_SIGNATURE, 0, 0, soff,
	       "does not verify", put16(img + HOFF(format_minor), 7));
	img = copy_good(good_size);
	tap_ok(fw_image_seal(img, good_size, untrusted) == 0, "signed with untrusted-key.pem");
	expect("signed with an untrusted key", img, good_size, &card, LPU_FW_E_SIGNATURE,
	       0, 0, soff, "does not verify");
	free(img);
}

static void test_table_checks(void)
{
	const uint32_t t = LPU_FW_HEADER_SIZE;	/* the table */
	uint32_t cost = sec(LPU_FW_SEC_COST), engine = sec(LPU_FW_SEC_ENGINE);
	uint32_t pend = t + fw_le32(good + HOFF(payload_size));

	MUTATE("unknown section type 4", 1, LPU_FW_E_SECTION, 3, 4, t + 16,
	       "unknown type", put32(img + t + 16, 4));
	MUTATE("section type 0", 1, LPU_FW_E_SECTION, 3, 0, t, "unknown type",
	       put32(img + t, 0));
	/* Expected: the first section of the type; found: this one's offset. */
	MUTATE("section repeated", 1, LPU_FW_E_SECTION, cost, engine, t + 16,
	       "repeated", put32(img + t + 16, LPU_FW_SEC_COST));
	MUTATE("section rsvd", 1, LPU_FW_E_SECTION, 0, 5, t + 12, "reserved",
	       put32(img + t + 12, 5));
	MUTATE("section offset misaligned", 1, LPU_FW_E_SECTION, engine + 8, engine + 4,
	       t + 16 + 4, "aligned", put32(img + t + 16 + 4, engine + 4));
	MUTATE("section inside the table", 1, LPU_FW_E_SECTION, t + 48, t + 40, t + 4,
	       "overlaps", put32(img + t + 4, t + 40));
	MUTATE("section overlapping the previous one", 1, LPU_FW_E_SECTION, engine,
	       engine - 8, t + 16 + 4, "overlaps", put32(img + t + 16 + 4, engine - 8));
	/* Expected: the bytes left to the payload's end; found: size. */
	MUTATE("section past the payload", 1, LPU_FW_E_SECTION, 24, 32, t + 32 + 8,
	       "past the payload",
	       put32(img + t + 32 + 4, fw_le32(good + t + 32 + 4) + 8));
	MUTATE("section starting past the payload", 1, LPU_FW_E_SECTION, -8U, 32,
	       t + 32 + 8, "past the payload", put32(img + t + 32 + 4, pend + 8));
	MUTATE("section offset near 4 GiB", 1, LPU_FW_E_SECTION, pend - 0xfffffff8U, 32,
	       t + 32 + 8, "past the payload", put32(img + t + 32 + 4, 0xfffffff8U));
	MUTATE("section of the wrong size", 1, LPU_FW_E_SECTION, 16, 8, t + 16 + 8,
	       "wrong size", put32(img + t + 16 + 8, 8));
	/* A missing type is blamed on section_count. */
	MUTATE("THERMAL missing", 1, LPU_FW_E_SECTION, LPU_FW_SEC_THERMAL, 0,
	       HOFF(section_count), "THERMAL missing",
	       put32(img + HOFF(section_count), 2));
	MUTATE("ENGINE missing (COST listed twice)", 1, LPU_FW_E_SECTION, cost, engine,
	       t + 16, "repeated", put32(img + t + 16, 1));
}

struct range_case {
	const char *name;
	uint32_t type;		/* section */
	uint32_t field;		/* offset in it */
	uint32_t value;
	uint32_t expected;
	const char *what;
};

static void test_value_checks(void)
{
	static const struct range_case cases[] = {
		{ "cost EXEC_SETUP units_per_cycle 0", LPU_FW_SEC_COST, 4, 0, 1, "too small" },
		{ "cost COMBINE units_per_cycle 2^20 + 1", LPU_FW_SEC_COST,
		  8 * LPU_COST_COMBINE + 4, LPU_FW_COST_MAX_RATE + 1, LPU_FW_COST_MAX_RATE,
		  "cost COMBINE units_per_cycle too large" },
		{ "cost MATMUL_I8 base_cycles 2^20 + 1", LPU_FW_SEC_COST,
		  8 * LPU_COST_MATMUL_I8, LPU_FW_COST_MAX_BASE + 1, LPU_FW_COST_MAX_BASE,
		  "cost MATMUL_I8 base_cycles too large" },
		{ "engine num_queues 0", LPU_FW_SEC_ENGINE, 0, 0, 1, "num_queues too small" },
		{ "engine num_queues 9", LPU_FW_SEC_ENGINE, 0, 9, LPU_NUM_QUEUES,
		  "num_queues too large" },
		{ "engine max_ring_entries 1", LPU_FW_SEC_ENGINE, 4, 1, LPU_MIN_RING_ENTRIES,
		  "max_ring_entries too small" },
		{ "engine max_ring_entries 8192", LPU_FW_SEC_ENGINE, 4, 8192,
		  LPU_MAX_RING_ENTRIES, "max_ring_entries too large" },
		/* Not a power of two / page multiple: the next valid value below. */
		{ "engine max_ring_entries 24", LPU_FW_SEC_ENGINE, 4, 24, 16,
		  "not a power of two" },
		{ "engine max_ring_entries 3000", LPU_FW_SEC_ENGINE, 4, 3000, 2048,
		  "not a power of two" },
		{ "engine sram_reserved 4095", LPU_FW_SEC_ENGINE, 8, 4095, 0,
		  "not a multiple" },
		{ "engine sram_reserved 4097", LPU_FW_SEC_ENGINE, 8, 4097, 4096,
		  "not a multiple" },
		{ "engine sram_reserved 64 MiB", LPU_FW_SEC_ENGINE, 8,
		  LPU_FW_SRAM_RESERVED_MAX, LPU_FW_SRAM_RESERVED_MAX,
		  "sram_reserved too large" },
		{ "engine rsvd", LPU_FW_SEC_ENGINE, 12, 1, 0, "reserved" },
		{ "thermal temp_busy below temp_idle", LPU_FW_SEC_THERMAL, 4, 39999, 40000,
		  "temp_busy_mc too small" },
		{ "thermal temp_idle above 150 C", LPU_FW_SEC_THERMAL, 0,
		  LPU_FW_TEMP_MAX_MC + 1, LPU_FW_TEMP_MAX_MC, "temp_idle_mc too large" },
		{ "thermal power_idle above 1 kW", LPU_FW_SEC_THERMAL, 8,
		  LPU_FW_POWER_MAX_MW + 1, LPU_FW_POWER_MAX_MW, "power_idle_mw too large" },
		{ "thermal temp_busy above 150 C", LPU_FW_SEC_THERMAL, 4,
		  LPU_FW_TEMP_MAX_MC + 1, LPU_FW_TEMP_MAX_MC, "temp_busy_mc too large" },
		{ "thermal power_busy below power_idle", LPU_FW_SEC_THERMAL, 12, 19999, 20000,
		  "power_busy_mw too small" },
		{ "thermal power_busy above 1 kW", LPU_FW_SEC_THERMAL, 12,
		  LPU_FW_POWER_MAX_MW + 1, LPU_FW_POWER_MAX_MW, "power_busy_mw too large" },
		{ "thermal clock_idle 0", LPU_FW_SEC_THERMAL, 16, 0, 1,
		  "clock_idle_mhz too small" },
		{ "thermal clock_idle 1001", LPU_FW_SEC_THERMAL, 16, 1001, LPU_CLOCK_MHZ,
		  "clock_idle_mhz too large" },
		{ "thermal rsvd[2]", LPU_FW_SEC_THERMAL, 28, 3, 0, "reserved" },
	};
	struct fw_card small = card;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct range_case *c = &cases[i];
		uint32_t at = sec(c->type) + c->field;

		MUTATE(c->name, 1, LPU_FW_E_SECTION, c->expected, c->value, at, c->what,
		       put32(img + at, c->value));
	}
	/* Reserved fields: the first non-zero byte, at its own offset. */
	MUTATE("engine rsvd byte 2", 1, LPU_FW_E_SECTION, 0, 0x56,
	       sec(LPU_FW_SEC_ENGINE) + 14, "engine reserved",
	       put32(img + sec(LPU_FW_SEC_ENGINE) + 12, 0x00560000));
	MUTATE("engine rsvd 0x1234", 1, LPU_FW_E_SECTION, 0, 0x34,
	       sec(LPU_FW_SEC_ENGINE) + 12, "engine reserved",
	       put32(img + sec(LPU_FW_SEC_ENGINE) + 12, 0x1234));
	MUTATE("thermal rsvd[1] high byte", 1, LPU_FW_E_SECTION, 0, 0x80,
	       sec(LPU_FW_SEC_THERMAL) + 27, "thermal reserved",
	       put32(img + sec(LPU_FW_SEC_THERMAL) + 24, 0x80000000));
	/* Idle is checked before busy, temperature before power. */
	MUTATE("thermal temp_idle and temp_busy above 150 C: idle first", 1,
	       LPU_FW_E_SECTION, LPU_FW_TEMP_MAX_MC, LPU_FW_TEMP_MAX_MC + 2,
	       sec(LPU_FW_SEC_THERMAL), "temp_idle_mc too large",
	       put32(img + sec(LPU_FW_SEC_THERMAL), LPU_FW_TEMP_MAX_MC + 2);
	       put32(img + sec(LPU_FW_SEC_THERMAL) + 4, LPU_FW_TEMP_MAX_MC + 1));
	MUTATE("thermal temp_busy before power_idle", 1, LPU_FW_E_SECTION,
	       40000, 0, sec(LPU_FW_SEC_THERMAL) + 4, "temp_busy_mc too small",
	       put32(img + sec(LPU_FW_SEC_THERMAL) + 8, LPU_FW_POWER_MAX_MW + 1);
	       put32(img + sec(LPU_FW_SEC_THERMAL) + 4, 0));
	/* Sections in type order: a bad COST before a bad ENGINE. */
	MUTATE("cost before engine", 1, LPU_FW_E_SECTION, 1, 0,
	       sec(LPU_FW_SEC_COST) + 4, "units_per_cycle too small",
	       put32(img + sec(LPU_FW_SEC_ENGINE), 9);
	       put32(img + sec(LPU_FW_SEC_COST) + 4, 0));
	/* sram_reserved below the card's SRAM: expected is the SRAM size. */
	small.sram_size = 65536;
	expect("sram_reserved 64 KiB on a card of 64 KiB", good, good_size, &small,
	       LPU_FW_E_SECTION, 65536, 65536, sec(LPU_FW_SEC_ENGINE) + 8,
	       "not below the card's SRAM");
	{
		uint8_t *img = copy_good(good_size);

		put32(img + sec(LPU_FW_SEC_ENGINE) + 8, LPU_FW_SRAM_RESERVED_MAX);
		if (fw_image_seal(img, good_size, key))
			tap_ok(0, "re-seal");
		else
			expect("sram_reserved 64 MiB on a card of 64 KiB: the 64 MiB limit first",
			       img, good_size, &small, LPU_FW_E_SECTION,
			       LPU_FW_SRAM_RESERVED_MAX, LPU_FW_SRAM_RESERVED_MAX,
			       sec(LPU_FW_SEC_ENGINE) + 8, "not below 67108864");
		free(img);
	}
}

/* xorshift64: the same flips on every run. */
static uint64_t rng_state = 0x4c50465750414b31ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void test_damage(void)
{
	unsigned int i, bad = 0, codes[LPU_FW_E_COUNT] = { 0 };
	struct fw_verdict v;
	uint8_t *img;
	size_t n;

	for (i = 0; i < 600; i++) {
		size_t bit = rng() % (good_size * 8);

		img = copy_good(good_size);
		img[bit / 8] ^= 1U << (bit % 8);
		if (fw_check(img, good_size, &card, &v) != -1 || !v.code) {
			bad++;
			printf("#   flip of bit %zu accepted\n", bit);
		} else {
			codes[v.code]++;
		}
		free(img);
	}
	tap_ok(!bad, "600 seeded random bit flips are all refused");
	tap_ok(codes[LPU_FW_E_SIGNATURE] && codes[LPU_FW_E_DIGEST] &&
	       codes[LPU_FW_E_MAGIC],
	       "... by several checks (signature %u, digest %u, magic %u, layout %u)",
	       codes[LPU_FW_E_SIGNATURE], codes[LPU_FW_E_DIGEST], codes[LPU_FW_E_MAGIC],
	       codes[LPU_FW_E_LAYOUT]);

	bad = 0;
	for (n = 0; n < good_size; n++) {
		/* An exact-size copy, so that ASan sees any read past it. */
		img = malloc(n ? n : 1);
		memcpy(img, good, n);
		if (fw_check(img, n, &card, &v) != -1 ||
		    v.code != (n ? LPU_FW_E_TRUNCATED : LPU_FW_E_EMPTY) ||
		    v.found != n) {
			bad++;
			printf("#   %zu bytes: %s\n", n, fw_error_name(v.code));
		}
		free(img);
	}
	tap_ok(!bad, "all %zu truncations are refused as EMPTY or TRUNCATED", good_size);

	/*
	 * Signed damage to the section table: any other value of any one byte
	 * breaks a rule of check 17 or 18 (8 values per byte keep the signing
	 * time down).
	 */
	bad = 0;
	for (i = 0; i < 48 * 8; i++) {
		static const uint8_t vals[8] = { 0, 1, 2, 3, 4, 0x80, 0xff, 0x10 };
		uint32_t at = LPU_FW_HEADER_SIZE + i / 8;

		if (vals[i % 8] == good[at])
			continue;
		img = copy_good(good_size);
		img[at] = vals[i % 8];
		if (fw_image_seal(img, good_size, key) ||
		    fw_check(img, good_size, &card, &v) != -1 ||
		    v.code != LPU_FW_E_SECTION) {
			bad++;
			printf("#   table byte %u = %u: %s\n", at, vals[i % 8],
			       fw_error_name(v.code));
		}
		free(img);
	}
	tap_ok(!bad, "signed images with any section table byte changed are refused (SECTION)");
}

static EVP_PKEY *key_or_die(const char *repo, const char *name)
{
	char path[4096];
	EVP_PKEY *k;

	snprintf(path, sizeof(path), "%s/firmware/keys/%s", repo, name);
	k = fw_load_private_key(path);
	if (!k) {
		printf("Bail out! cannot load %s\n", path);
		exit(1);
	}
	return k;
}

int main(int argc, char **argv)
{
	char path[4096];

	if (argc != 2) {
		fprintf(stderr, "usage: %s REPO-DIR\n", argv[0]);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/firmware/lpu-v3.json", argv[1]);
	if (fw_source_read(path, NULL, 0, true, &src)) {
		printf("Bail out! cannot read %s\n", path);
		return 1;
	}
	key = key_or_die(argv[1], "test-signing-key.pem");
	untrusted = key_or_die(argv[1], "untrusted-key.pem");
	good = fw_image_pack(&src, "test-build", key, &good_size);
	if (!good) {
		printf("Bail out! cannot pack\n");
		return 1;
	}
	card.chip = LPU_PCI_DEVICE_ID_V3 << 16 | LPU_PCI_REVISION_V3;
	card.sram_size = LPU_SRAM_SIZE_DEFAULT;
	card.key = key;

	test_round_trip();
	test_size_checks();
	test_header_checks();
	test_seal_checks();
	test_table_checks();
	test_value_checks();
	test_damage();

	free(good);
	EVP_PKEY_free(key);
	EVP_PKEY_free(untrusted);
	return tap_done();
}
