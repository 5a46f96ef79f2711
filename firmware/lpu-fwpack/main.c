// SPDX-License-Identifier: MIT
/*
 * lpu-fwpack: the LPU v3 firmware packer and image checker.
 *   lpu-fwpack pack SOURCE.json --key KEY.pem -o OUT [--build-id ID]
 *              [--set PATH=VALUE]... [--unchecked]
 *   lpu-fwpack check IMAGE [--pubkey PUB.der] [--chip-rev N]
 *   lpu-fwpack info IMAGE
 * Exit status: 0 success (for check: the image boots), 1 refused or
 * failed, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fwpack.h"

#define MAX_SETS		64

static int print_usage(void)
{
	fprintf(stderr,
		"usage: lpu-fwpack pack SOURCE.json --key KEY.pem -o OUT [--build-id ID]\n"
		"                  [--set PATH=VALUE]... [--unchecked]\n"
		"       lpu-fwpack check IMAGE [--pubkey PUB.der] [--chip-rev N]\n"
		"       lpu-fwpack info IMAGE\n"
		"pack refuses an image the boot ROM would refuse unless --unchecked;\n"
		"check makes the boot ROM's checks (firmware/lpu_fw.md) against a card\n"
		"of revision N (default %d) holding PUB.der (without it: no key).\n",
		LPU_PCI_REVISION_V3);
	return 2;
}

/*
 * Read an image file: at most LPU_FW_MAX_SIZE bytes are kept, the rest is
 * only counted (*size is the whole file), as the boot ROM looks at no more.
 */
static uint8_t *read_image(const char *path, size_t *size)
{
	uint8_t *buf = malloc(LPU_FW_MAX_SIZE), skip[4096];
	FILE *f;
	size_t n;

	if (!buf) {
		fprintf(stderr, "%s: out of memory\n", path);
		return NULL;
	}
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		free(buf);
		return NULL;
	}
	n = fread(buf, 1, LPU_FW_MAX_SIZE, f);
	while (!ferror(f) && !feof(f))
		n += fread(skip, 1, sizeof(skip), f);
	if (ferror(f)) {
		fprintf(stderr, "%s: read error\n", path);
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	*size = n;
	return buf;
}

static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long x;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || *end || x > max)
		return -1;
	*out = (uint32_t)x;
	return 0;
}

static void print_verdict(const char *path, const struct fw_verdict *v)
{
	/* Magic numbers, chip IDs and digests read best in hex. */
	bool hex = v->code == LPU_FW_E_MAGIC || v->code == LPU_FW_E_CHIP ||
		   v->code == LPU_FW_E_DIGEST;

	printf(hex ? "%s: %s: expected 0x%08x, found 0x%08x (%s, offset %u)\n" :
	       "%s: %s: expected %u, found %u (%s, offset %u)\n",
	       path, v->what, v->expected, v->found, fw_error_name(v->code),
	       v->where);
}

#define HFIELD(img, f)	fw_le16((img) + offsetof(struct lpu_fw_header, f))

static void print_good(const char *path, const uint8_t *img)
{
	printf("%s: good: firmware %u.%u.%u, ABI %u.%u, chip 0x%04x revision %u\n",
	       path, HFIELD(img, fw_major), HFIELD(img, fw_minor),
	       HFIELD(img, fw_patch), HFIELD(img, abi_major),
	       HFIELD(img, abi_minor), HFIELD(img, chip_device),
	       HFIELD(img, chip_rev));
}

static int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pubkey", required_argument, NULL, 'p' },
		{ "chip-rev", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct fw_card card = {
		.chip = LPU_PCI_DEVICE_ID_V3 << 16 | LPU_PCI_REVISION_V3,
		.sram_size = LPU_SRAM_SIZE_DEFAULT,
	};
	const char *pubkey = NULL;
	struct fw_verdict v;
	uint32_t rev;
	uint8_t *img;
	size_t size;
	int c, ret;

	while ((c = getopt_long(argc, argv, "p:r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pubkey = optarg;
			break;
		case 'r':
			if (parse_u32(optarg, 0xffff, &rev)) {
				fprintf(stderr, "lpu-fwpack: --chip-rev '%s': expected 0 to 65535\n",
					optarg);
				return 2;
			}
			card.chip = LPU_PCI_DEVICE_ID_V3 << 16 | rev;
			break;
		default:
			return print_usage();
		}
	}
	if (optind != argc - 1)
		return print_usage();
	if (pubkey) {
		card.key = fw_load_public_key(pubkey);
		if (!card.key)
			return 1;
	}
	img = read_image(argv[optind], &size);
	if (!img) {
		EVP_PKEY_free(card.key);
		return 1;
	}
	ret = fw_check(img, size, &card, &v);
	if (ret)
		print_verdict(argv[optind], &v);
	else
		print_good(argv[optind], img);
	free(img);
	EVP_PKEY_free(card.key);
	return ret ? 1 : 0;
}

static int cmd_info(int argc, char **argv)
{
	uint8_t *img;
	size_t size;

	if (argc != 2 || argv[1][0] == '-')
		return print_usage();
	img = read_image(argv[1], &size);
	if (!img)
		return 1;
	fw_print_info(img, size < LPU_FW_MAX_SIZE ? size : LPU_FW_MAX_SIZE, size);
	free(img);
	return 0;
}

/*
 * The default build id: the first 20 hex digits of the SHA-256 of the
 * source file and the --set overrides, so the same inputs give the same
 * image whatever the key.
 */
static int default_build_id(const char *path, const char *const *sets, int nset,
			    char id[LPU_FW_BUILD_ID_LEN + 1])
{
	uint8_t digest[LPU_FW_SHA256_SIZE];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char buf[4096];
	size_t n;
	FILE *f;
	int i, ok;

	f = fopen(path, "rb");
	if (!f || !ctx) {
		fprintf(stderr, "%s: %s\n", path, f ? "out of memory" : strerror(errno));
		if (f)
			fclose(f);
		EVP_MD_CTX_free(ctx);
		return -1;
	}
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while (ok && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		ok = EVP_DigestUpdate(ctx, buf, n);
	ok = ok && !ferror(f);
	fclose(f);
	for (i = 0; ok && i < nset; i++)
		ok = EVP_DigestUpdate(ctx, "", 1) &&
		     EVP_DigestUpdate(ctx, sets[i], strlen(sets[i]));
	ok = ok && EVP_DigestFinal_ex(ctx, digest, NULL);
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		fw_crypto_error("hashing the source failed");
		return -1;
	}
	for (i = 0; i < 10; i++)
		snprintf(id + 2 * i, 3, "%02x", digest[i]);
	return 0;
}

static int valid_build_id(const char *id)
{
	const char *p;

	if (strlen(id) > LPU_FW_BUILD_ID_LEN)
		return 0;
	for (p = id; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return 0;
	return 1;
}

static int write_image(const char *out, const uint8_t *img, size_t size)
{
	char tmp[4096];
	FILE *f;
	int ok;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", out) >= (int)sizeof(tmp)) {
		fprintf(stderr, "%s: path too long\n", out);
		return -1;
	}
	f = fopen(tmp, "wb");
	if (!f) {
		fprintf(stderr, "%s: %s\n", tmp, strerror(errno));
		return -1;
	}
	ok = fwrite(img, 1, size, f) == size;
	ok = !fclose(f) && ok;
	if (!ok || rename(tmp, out)) {
		fprintf(stderr, "%s: %s\n", ok ? out : tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

struct pack_args {
	const char *source, *key, *out, *build_id;
	const char *sets[MAX_SETS];
	int nset;
	bool unchecked;
};

static int pack(const struct pack_args *a)
{
	char id[LPU_FW_BUILD_ID_LEN + 1] = "";
	struct fw_source src;
	struct fw_verdict v;
	struct fw_card card;
	EVP_PKEY *key;
	uint8_t *img = NULL;
	size_t size;
	int ret = 1;

	if (fw_source_read(a->source, a->sets, a->nset, !a->unchecked, &src))
		return 1;
	if (a->build_id)
		snprintf(id, sizeof(id), "%s", a->build_id);
	else if (default_build_id(a->source, a->sets, a->nset, id))
		return 1;
	key = fw_load_private_key(a->key);
	if (!key)
		return 1;
	img = fw_image_pack(&src, id, key, &size);
	if (!img)
		goto out;
	/* The image must boot on the card it is built for, with this key. */
	card.chip = src.chip_device << 16 | src.chip_rev;
	card.sram_size = LPU_SRAM_SIZE_DEFAULT;
	card.key = key;
	if (!a->unchecked && fw_check(img, size, &card, &v)) {
		fprintf(stderr, "%s: the boot ROM would refuse the image: %s: expected %u, found %u (%s, offset %u)\n",
			a->source, v.what, v.expected, v.found,
			fw_error_name(v.code), v.where);
		goto out;
	}
	if (write_image(a->out, img, size))
		goto out;
	ret = 0;
out:
	free(img);
	EVP_PKEY_free(key);
	return ret;
}

static int cmd_pack(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "output", required_argument, NULL, 'o' },
		{ "build-id", required_argument, NULL, 'b' },
		{ "set", required_argument, NULL, 's' },
		{ "unchecked", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct pack_args a = { 0 };
	int c;

	while ((c = getopt_long(argc, argv, "k:o:b:s:uh", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			a.key = optarg;
			break;
		case 'o':
			a.out = optarg;
			break;
		case 'b':
			if (!valid_build_id(optarg)) {
				fprintf(stderr, "lpu-fwpack: --build-id '%s': expected at most %d printable ASCII characters\n",
					optarg, LPU_FW_BUILD_ID_LEN);
				return 2;
			}
			a.build_id = optarg;
			break;
		case 's':
			if (a.nset == MAX_SETS) {
				fprintf(stderr, "lpu-fwpack: more than %d --set options\n",
					MAX_SETS);
				return 2;
			}
			a.sets[a.nset++] = optarg;
			break;
		case 'u':
			a.unchecked = true;
			break;
		default:
			return print_usage();
		}
	}
	if (optind != argc - 1 || !a.key || !a.out)
		return print_usage();
	a.source = argv[optind];
	return pack(&a);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return print_usage();
	/* Each command parses its own options, after the command word. */
	if (!strcmp(argv[1], "pack"))
		return cmd_pack(argc - 1, argv + 1);
	if (!strcmp(argv[1], "check"))
		return cmd_check(argc - 1, argv + 1);
	if (!strcmp(argv[1], "info"))
		return cmd_info(argc - 1, argv + 1);
	return print_usage();
}
