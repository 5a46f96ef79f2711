// SPDX-License-Identifier: GPL-2.0
/*
 * Firmware tests, destructive (they reload lpu.ko): every bad image of
 * /lib/firmware/lpu/test/ makes probe fail with one kernel line naming the
 * file, what was expected and what was found, binds no card, oopses
 * nothing and leaves rmmod working; a firmware installed after a failed
 * probe comes up through a sysfs bind; the good image's version, ABI,
 * build id and reserved SRAM reach sysfs and GET_INFO; an image offering
 * two queues gives two queues; an image with another cost table changes
 * the cycles the same EXEC program reports, by what the tables predict;
 * a PCI reset and a suspend/resume boot the firmware again.
 *
 * Expected values come from the image files themselves (firmware/lpu_fw.h),
 * never from numbers written here. Each test ends with lpu.ko loaded again
 * with its default parameters and the card working.
 */
#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lpu_fixture.h"
#include "lpu_fwimage.h"
#include "lpu_mem.h"
#include "lpu_module.h"

#define TEST_DIR	"lpu/test"
/* A name no image has, installed by bind_after_installing_the_image. */
#define LATE_NAME	TEST_DIR "/installed-late.bin"
/* Records for the failed probe stop coming within this much quiet. */
#define KMSG_QUIET_MS	500

static void sysfs_dev_path(const char *pci_addr, const char *attr, char *buf,
			   size_t len)
{
	snprintf(buf, len, "%s/bus/pci/devices/%s/%s", lpu_sysfs_root(),
		 pci_addr, attr);
}

/* A sysfs attribute of the PCI function as text without its newline. */
static int dev_attr_str(const char *pci_addr, const char *attr, char *buf,
			size_t len)
{
	char path[PATH_MAX];
	int ret;

	sysfs_dev_path(pci_addr, attr, path, sizeof(path));
	ret = read_text(path, buf, len);
	if (ret < 0)
		return ret;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int dev_attr_ulong(const char *pci_addr, const char *attr,
			  unsigned long *val)
{
	char text[64], *end;
	int ret = dev_attr_str(pci_addr, attr, text, sizeof(text));

	if (ret)
		return ret;
	errno = 0;
	*val = strtoul(text, &end, 0);
	return errno || end == text || *end ? -EINVAL : 0;
}

static void fw_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", FW_DIR, name);
}

/*
 * Does @line hold @v as a number of its own, in decimal or in hex with 0x
 * (any width, any case)? Messages print sizes and codes either way.
 */
static bool has_num(const char *line, uint64_t v)
{
	const char *p = line;
	unsigned long long got;
	char *end;

	for (; *p; p++) {
		if (!isdigit((unsigned char)*p) ||
		    (p > line && isalnum((unsigned char)p[-1])))
			continue;
		errno = 0;
		got = strtoull(p, &end, 0);
		if (!errno && end != p && !isalnum((unsigned char)*end) &&
		    got == v)
			return true;
	}
	return false;
}

/* Unload lpu.ko if it is loaded (a failed probe's test unloads it). */
static int ensure_unloaded(void)
{
	return access("/sys/module/lpu", F_OK) ? 0 : unload_module();
}

/* What every test of this file works with. */
struct fw_ctx {
	char pci_addr[32];
	char late_path[PATH_MAX];
	struct lpu_card card;
	int fd;
	int kmsg;
};

static void ctx_setup(struct __test_metadata *_metadata, struct fw_ctx *c)
{
	c->fd = -1;
	c->kmsg = -1;
	fw_path(LATE_NAME, c->late_path, sizeof(c->late_path));
	ASSERT_EQ(0, access(module_path(), R_OK)) TH_LOG("LPU_MODULE %s",
							 module_path());
	ASSERT_EQ(0, find_card(&c->card));
	snprintf(c->pci_addr, sizeof(c->pci_addr), "%s", c->card.pci_addr);
}

/*
 * Even after a failure: lpu.ko with its defaults, and a working card.
 * Runs in the harness's parent process (FIXTURE_TEARDOWN_PARENT): the
 * 6.12 harness skips a child's teardown after a failed ASSERT. The test's
 * process has exited, so its files (c->fd, c->kmsg) are closed already.
 */
static void ctx_teardown(struct __test_metadata *_metadata, struct fw_ctx *c)
{
	char name[256] = "";
	struct lpu_card card;

	unlink(c->late_path);
	EXPECT_EQ(0, ensure_unloaded());
	EXPECT_EQ(0, sys_finit_module(module_path(), ""));
	EXPECT_EQ(0, wait_for_card(&card, UDEV_TIMEOUT_MS));
	EXPECT_EQ(0, module_param_str("firmware", name, sizeof(name)));
	EXPECT_STREQ(LPU_FW_NAME, name);
	EXPECT_EQ(0, card_works(&card));
}

/*
 * Unload lpu.ko and load it with firmware=@name (and @extra parameters).
 * The module
 * itself loads: only the probe of the card may fail. c->kmsg is left at
 * the records from before the load.
 */
static void load_with(struct __test_metadata *_metadata, struct fw_ctx *c,
		      const char *name, const char *extra)
{
	char params[512];
	int ret;

	snprintf(params, sizeof(params), "firmware=%s%s%s", name,
		 extra ? " " : "", extra ?: "");
	ret = ensure_unloaded();
	ASSERT_EQ(0, ret) TH_LOG("unloading lpu: %d", ret);
	if (c->kmsg >= 0)
		close(c->kmsg);
	c->kmsg = kmsg_open_at_end();
	ASSERT_LE(0, c->kmsg);
	ret = sys_finit_module(module_path(), params);
	ASSERT_EQ(0, ret) TH_LOG("loading lpu %s: %d", params, ret);
}

/*
 * After load_with(): the probe failed cleanly. No driver is bound, no
 * accel node exists, the kernel logged exactly one warning-or-worse line
 * for the device (not even the driver core's "probe with driver lpu
 * failed", which -ENODEV spares), it names the file and says what was
 * expected and found, and the kernel is not tainted. The line is copied to @line.
 */
static void assert_probe_failed(struct __test_metadata *_metadata,
				struct fw_ctx *c, const char *name,
				char *line, size_t len)
{
	char drv[64], prefix[300];
	unsigned long taint;
	int n;

	n = kmsg_count_device(c->kmsg, c->pci_addr, 4, NULL, line, len,
			      KMSG_QUIET_MS);
	ASSERT_EQ(1, n) TH_LOG("%d kernel lines for %s, first: %s", n,
			       c->pci_addr, line);
	TH_LOG("%s", line);
	snprintf(prefix, sizeof(prefix), "firmware %s: ", name);
	EXPECT_NE(NULL, strstr(line, prefix)) TH_LOG("no \"%s\"", prefix);
	EXPECT_NE(NULL, strstr(line, "expected "));
	EXPECT_NE(NULL, strstr(line, "found "));
	/* "expected" comes before "found", both after the file's name. */
	if (strstr(line, prefix) && strstr(line, "expected ") &&
	    strstr(line, "found "))
		EXPECT_LT(strstr(line, "expected "), strstr(line, "found "));

	EXPECT_EQ(-ENOENT, pci_driver_of(c->pci_addr, drv, sizeof(drv)))
		TH_LOG("%s is bound to %s", c->pci_addr, drv);
	EXPECT_EQ(0, lpu_card_count());
	EXPECT_EQ(0, wait_for_path(LPU_SYMLINK, false, UDEV_TIMEOUT_MS));
	ASSERT_EQ(0, read_taint(&taint));
	EXPECT_EQ(0, taint & LPU_BAD_TAINT) TH_LOG("tainted: %#lx", taint);
	/* The module holds nothing of the card: it unloads. */
	EXPECT_EQ(0, unload_module());
}

/* ---- every bad image: its own line, and nothing bound ---------------- */

/*
 * What one variant's line must say besides the file's name, "expected"
 * and "found": checked against values read from the image files.
 */
typedef void (*line_check_t)(struct __test_metadata *_metadata,
			     const char *name, const char *line);

FIXTURE(lpu_fw_bad) {
	struct fw_ctx c;
};

FIXTURE_SETUP(lpu_fw_bad)
{
	ctx_setup(_metadata, &self->c);
}

FIXTURE_TEARDOWN_PARENT(lpu_fw_bad)
{
	ctx_teardown(_metadata, &self->c);
}

FIXTURE_VARIANT(lpu_fw_bad) {
	const char *file;	/* under lpu/test/ */
	line_check_t check;
};

/* Case-insensitive: "Bad magic", "bad magic" and "MAGIC" all name it. */
static void expect_word(struct __test_metadata *_metadata, const char *line,
			const char *word)
{
	EXPECT_NE(NULL, strcasestr(line, word)) TH_LOG("no \"%s\"", word);
}

/* The text after "expected " and after "found " in @line. */
static const char *after(const char *line, const char *key)
{
	const char *p = strstr(line, key);

	return p ? p + strlen(key) : "";
}

/* The text between "expected " and "found " of @line, into @buf. */
static void expected_part(const char *line, char *buf, size_t len)
{
	char *cut;

	snprintf(buf, len, "%s", after(line, "expected "));
	cut = strstr(buf, "found ");
	if (cut)
		*cut = '\0';
}

/* @line says "expected <@exp ...>, found <@found ...>" in that order. */
static void expect_values(struct __test_metadata *_metadata, const char *line,
			  uint64_t exp, uint64_t found)
{
	const char *f = after(line, "found ");
	char e[256];

	expected_part(line, e, sizeof(e));
	EXPECT_TRUE(has_num(e, exp)) TH_LOG("expected %#llx not in \"%s\"",
					    (unsigned long long)exp, e);
	EXPECT_TRUE(has_num(f, found)) TH_LOG("found %#llx not in \"%s\"",
					      (unsigned long long)found, f);
}

static void load_variant(struct __test_metadata *_metadata, const char *name,
			 struct fw_image *img)
{
	char path[PATH_MAX];
	int ret;

	fw_path(name, path, sizeof(path));
	ret = fw_image_load(path, img);
	ASSERT_EQ(0, ret) TH_LOG("reading %s: %d", path, ret);
}

static void load_good(struct __test_metadata *_metadata, struct fw_image *img)
{
	load_variant(_metadata, LPU_FW_NAME, img);
}

static off_t file_size(struct __test_metadata *_metadata, const char *name)
{
	char path[PATH_MAX];
	struct stat st = { .st_size = -1 };

	fw_path(name, path, sizeof(path));
	EXPECT_EQ(0, stat(path, &st)) TH_LOG("stat %s: %s", path,
					     strerror(errno));
	return st.st_size;
}

static void check_missing(struct __test_metadata *_metadata,
			  const char *name, const char *line)
{
	(void)name;
	expect_word(_metadata, line, "not found");
	EXPECT_NE(NULL, strstr(line, "expected a file under " FW_DIR));
	EXPECT_NE(NULL, strstr(line, "found none"));
	EXPECT_NE(NULL, strstr(line, "(-2)")) TH_LOG("no -ENOENT");
}

static void check_empty(struct __test_metadata *_metadata, const char *name,
			const char *line)
{
	EXPECT_EQ(0, file_size(_metadata, name));
	expect_word(_metadata, line, "empty");
	EXPECT_TRUE(has_num(after(line, "found "), 0));
}

static void check_truncated(struct __test_metadata *_metadata,
			    const char *name, const char *line)
{
	struct fw_image good;
	off_t size = file_size(_metadata, name);

	/* The header says the whole image; the file holds half of it. */
	load_good(_metadata, &good);
	ASSERT_GT((off_t)good.size, size);
	expect_values(_metadata, line, le32toh(good.hdr->image_size), size);
	fw_image_free(&good);
}

static void check_bad_magic(struct __test_metadata *_metadata,
			    const char *name, const char *line)
{
	char path[PATH_MAX];
	uint32_t magic = 0;
	FILE *f;

	fw_path(name, path, sizeof(path));
	f = fopen(path, "re");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(1, fread(&magic, sizeof(magic), 1, f));
	fclose(f);
	ASSERT_NE(LPU_FW_MAGIC, le32toh(magic));
	expect_word(_metadata, line, "magic");
	expect_values(_metadata, line, LPU_FW_MAGIC, le32toh(magic));
}

static void check_bad_digest(struct __test_metadata *_metadata,
			     const char *name, const char *line)
{
	const uint8_t *d;
	struct fw_image img;
	uint32_t want;
	char e[256];

	/* Expected: the first 4 bytes of the header's digest, big-endian. */
	load_variant(_metadata, name, &img);
	d = img.hdr->payload_sha256;
	want = (uint32_t)d[0] << 24 | d[1] << 16 | d[2] << 8 | d[3];
	fw_image_free(&img);
	expect_word(_metadata, line, "digest");
	expected_part(line, e, sizeof(e));
	EXPECT_TRUE(has_num(e, want)) TH_LOG("header digest %#x not in \"%s\"",
					     want, e);
	EXPECT_FALSE(has_num(after(line, "found "), want))
		TH_LOG("the computed digest cannot be the header's");
}

static void check_signature(struct __test_metadata *_metadata,
			    const char *name, const char *line)
{
	(void)name;
	expect_word(_metadata, line, "signature");
}

static void check_chip_rev(struct __test_metadata *_metadata,
			   const char *name, const char *line)
{
	struct fw_image img;
	uint32_t image_chip;

	load_variant(_metadata, name, &img);
	image_chip = (uint32_t)le16toh(img.hdr->chip_device) << 16 |
		     le16toh(img.hdr->chip_rev);
	fw_image_free(&img);
	expect_word(_metadata, line, "chip");
	/* The card's is its PCI device ID and revision. */
	expect_values(_metadata, line,
		      (uint32_t)LPU_PCI_DEVICE_ID_V3 << 16 | LPU_PCI_REVISION_V3,
		      image_chip);
	EXPECT_NE(LPU_PCI_REVISION_V3, image_chip & 0xffff);
}

static void check_abi(struct __test_metadata *_metadata, const char *name,
		      const char *line)
{
	char abi[64], found[64];
	struct fw_image img;

	load_variant(_metadata, name, &img);
	snprintf(abi, sizeof(abi), "ABI %u.%u", le16toh(img.hdr->abi_major),
		 le16toh(img.hdr->abi_minor));
	snprintf(found, sizeof(found), "found %u.%u",
		 le16toh(img.hdr->abi_major), le16toh(img.hdr->abi_minor));
	fw_image_free(&img);
	EXPECT_NE(NULL, strstr(line, abi)) TH_LOG("no \"%s\"", abi);
	EXPECT_NE(NULL, strstr(line, found)) TH_LOG("no \"%s\"", found);
	EXPECT_NE(NULL, strstr(after(line, "expected "), "1."))
		TH_LOG("the host ABI major %u is not what is expected",
		       LPU_HOST_ABI_MAJOR);
}

static void check_too_large(struct __test_metadata *_metadata,
			    const char *name, const char *line)
{
	off_t size = file_size(_metadata, name);

	ASSERT_LT(LPU_FW_MAX_SIZE, size);
	expect_values(_metadata, line, LPU_FW_MAX_SIZE, size);
}

static void check_bad_section(struct __test_metadata *_metadata,
			      const char *name, const char *line)
{
	const struct lpu_fw_engine *eng;
	struct fw_image img;
	uint32_t queues;

	load_variant(_metadata, name, &img);
	eng = fw_image_section(&img, LPU_FW_SEC_ENGINE, sizeof(*eng));
	ASSERT_NE(NULL, eng);
	queues = le32toh(eng->num_queues);
	fw_image_free(&img);
	ASSERT_LT(LPU_NUM_QUEUES, queues);
	expect_word(_metadata, line, "section");
	expect_values(_metadata, line, LPU_NUM_QUEUES, queues);
}

FIXTURE_VARIANT_ADD(lpu_fw_bad, missing) { "missing.bin", check_missing };
FIXTURE_VARIANT_ADD(lpu_fw_bad, empty) { "empty.bin", check_empty };
FIXTURE_VARIANT_ADD(lpu_fw_bad, truncated) { "truncated.bin", check_truncated };
FIXTURE_VARIANT_ADD(lpu_fw_bad, bad_magic) { "bad-magic.bin", check_bad_magic };
FIXTURE_VARIANT_ADD(lpu_fw_bad, bad_digest) { "bad-digest.bin", check_bad_digest };
FIXTURE_VARIANT_ADD(lpu_fw_bad, bad_signature) { "bad-signature.bin", check_signature };
FIXTURE_VARIANT_ADD(lpu_fw_bad, untrusted) { "untrusted.bin", check_signature };
FIXTURE_VARIANT_ADD(lpu_fw_bad, chip_rev) { "chip-rev.bin", check_chip_rev };
FIXTURE_VARIANT_ADD(lpu_fw_bad, abi_new) { "abi-new.bin", check_abi };
FIXTURE_VARIANT_ADD(lpu_fw_bad, abi_old) { "abi-old.bin", check_abi };
FIXTURE_VARIANT_ADD(lpu_fw_bad, too_large) { "too-large.bin", check_too_large };
FIXTURE_VARIANT_ADD(lpu_fw_bad, bad_section) { "bad-section.bin", check_bad_section };

TEST_F_TIMEOUT(lpu_fw_bad, fails_probe_with_one_line, 120)
{
	char name[128], path[PATH_MAX], line[1024];

	snprintf(name, sizeof(name), "%s/%s", TEST_DIR, variant->file);
	fw_path(name, path, sizeof(path));
	/* Only "missing" names no file; every other variant must exist. */
	ASSERT_EQ(variant->check == check_missing, access(path, F_OK) != 0)
		TH_LOG("%s", path);
	load_with(_metadata, &self->c, name, NULL);
	assert_probe_failed(_metadata, &self->c, name, line, sizeof(line));
	variant->check(_metadata, name, line);
}

/* ---- the good image, and images that change what the card offers ----- */

FIXTURE(lpu_fw) {
	struct fw_ctx c;
};

FIXTURE_SETUP(lpu_fw)
{
	ctx_setup(_metadata, &self->c);
}

FIXTURE_TEARDOWN_PARENT(lpu_fw)
{
	ctx_teardown(_metadata, &self->c);
}

/*
 * After load_with() of an image the card runs: the card is back, with
 * exactly one info line and no warning or error for it; opens it into
 * c->fd and reads GET_INFO.
 */
static void assert_probe_ok(struct __test_metadata *_metadata,
			    struct fw_ctx *c, struct drm_lpu_info *info)
{
	char line[1024];
	int n;

	ASSERT_EQ(0, wait_for_card(&c->card, UDEV_TIMEOUT_MS));
	n = kmsg_count_device(c->kmsg, c->pci_addr, 4, NULL, line,
			      sizeof(line), KMSG_QUIET_MS);
	EXPECT_EQ(0, n) TH_LOG("%d warnings or errors, first: %s", n, line);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = open_card(&c->card);
	ASSERT_LE(0, c->fd);
	ASSERT_EQ(0, raw_info(c->fd, info));
}

/*
 * A probe that failed for want of the file succeeds once it is installed,
 * by a bind through sysfs, without reloading anything.
 */
TEST_F_TIMEOUT(lpu_fw, bind_after_installing_the_image, 120)
{
	char line[1024], drv[64], cmd[PATH_MAX * 2 + 16], good_path[PATH_MAX];
	struct drm_lpu_info info;
	struct fw_image good;
	unsigned long boots;

	ASSERT_NE(0, access(self->c.late_path, F_OK)) TH_LOG("%s exists",
							     self->c.late_path);
	load_with(_metadata, &self->c, LATE_NAME, NULL);
	assert_probe_failed(_metadata, &self->c, LATE_NAME, line, sizeof(line));
	check_missing(_metadata, LATE_NAME, line);
	/* assert_probe_failed() unloaded it: load it again, still failing. */
	load_with(_metadata, &self->c, LATE_NAME, NULL);
	EXPECT_EQ(-ENOENT, pci_driver_of(self->c.pci_addr, drv, sizeof(drv)));
	EXPECT_EQ(1, kmsg_count_device(self->c.kmsg, self->c.pci_addr, 4,
				       NULL, line, sizeof(line),
				       KMSG_QUIET_MS)) TH_LOG("%s", line);

	fw_path(LPU_FW_NAME, good_path, sizeof(good_path));
	snprintf(cmd, sizeof(cmd), "cp %s %s", good_path, self->c.late_path);
	ASSERT_EQ(0, system(cmd));
	snprintf(cmd, sizeof(cmd), "%s/bus/pci/drivers/lpu/bind",
		 lpu_sysfs_root());
	ASSERT_EQ(0, write_text(cmd, self->c.pci_addr));

	assert_probe_ok(_metadata, &self->c, &info);
	ASSERT_EQ(0, pci_driver_of(self->c.pci_addr, drv, sizeof(drv)));
	EXPECT_STREQ("lpu", drv);
	load_good(_metadata, &good);
	EXPECT_EQ(LPU_VERSION_ENCODE(1, 0, 0), fw_image_version(&good));
	EXPECT_EQ(fw_image_version(&good), info.fw_version);
	fw_image_free(&good);
	ASSERT_EQ(0, dev_attr_str(self->c.pci_addr, "fw_name", line,
				  sizeof(line)));
	EXPECT_STREQ(LATE_NAME, line);
	ASSERT_EQ(0, dev_attr_ulong(self->c.pci_addr, "fw_boots", &boots));
	EXPECT_EQ(1, boots);
	EXPECT_EQ(0, card_works(&self->c.card));
}

/* A bad module parameter fails probe the same way, naming the file. */
TEST_F_TIMEOUT(lpu_fw, zero_boot_timeout_fails_probe, 120)
{
	char line[1024];

	load_with(_metadata, &self->c, LPU_FW_NAME, "fw_boot_timeout_ms=0");
	assert_probe_failed(_metadata, &self->c, LPU_FW_NAME, line,
			    sizeof(line));
	EXPECT_NE(NULL, strstr(line, "fw_boot_timeout_ms=0"));
	EXPECT_TRUE(has_num(after(line, "found "), 0));
}

/* sysfs and GET_INFO say what the image's header and sections say. */
TEST_F_TIMEOUT(lpu_fw, good_image_in_sysfs_and_info, 120)
{
	char text[128], want[128];
	const struct lpu_fw_engine *eng;
	struct drm_lpu_info info;
	struct fw_image img;
	unsigned long boots;

	load_with(_metadata, &self->c, LPU_FW_NAME, NULL);
	assert_probe_ok(_metadata, &self->c, &info);
	load_good(_metadata, &img);
	eng = fw_image_section(&img, LPU_FW_SEC_ENGINE, sizeof(*eng));
	ASSERT_NE(NULL, eng);

	snprintf(want, sizeof(want), "%u.%u.%u", le16toh(img.hdr->fw_major),
		 le16toh(img.hdr->fw_minor), le16toh(img.hdr->fw_patch));
	ASSERT_EQ(0, dev_attr_str(self->c.pci_addr, "fw_version", text,
				  sizeof(text)));
	EXPECT_STREQ(want, text);
	snprintf(want, sizeof(want), "%u.%u", le16toh(img.hdr->abi_major),
		 le16toh(img.hdr->abi_minor));
	ASSERT_EQ(0, dev_attr_str(self->c.pci_addr, "fw_abi_version", text,
				  sizeof(text)));
	EXPECT_STREQ(want, text);
	fw_image_build_id(&img, want, sizeof(want));
	ASSERT_EQ(0, dev_attr_str(self->c.pci_addr, "fw_build_id", text,
				  sizeof(text)));
	EXPECT_STREQ(want, text);
	EXPECT_LT(0, strlen(text));
	ASSERT_EQ(0, dev_attr_str(self->c.pci_addr, "fw_name", text,
				  sizeof(text)));
	EXPECT_STREQ(LPU_FW_NAME, text);
	ASSERT_EQ(0, dev_attr_ulong(self->c.pci_addr, "fw_boots", &boots));
	EXPECT_EQ(1, boots);

	EXPECT_EQ(fw_image_version(&img), info.fw_version);
	EXPECT_EQ(fw_image_abi(&img), info.fw_abi_version);
	EXPECT_EQ(le32toh(eng->sram_reserved), info.sram_reserved);
	EXPECT_EQ(le32toh(eng->num_queues), info.num_queues);
	fw_image_free(&img);
}

/* An image offering two queues: two queues, and the third refused. */
TEST_F_TIMEOUT(lpu_fw, two_queue_image_offers_two_queues, 120)
{
	const char *name = TEST_DIR "/queues-2.bin";
	const struct lpu_fw_engine *eng;
	struct drm_lpu_info info;
	struct fw_image img;
	uint64_t seq;
	int32_t status;
	unsigned int q;

	load_variant(_metadata, name, &img);
	eng = fw_image_section(&img, LPU_FW_SEC_ENGINE, sizeof(*eng));
	ASSERT_NE(NULL, eng);
	ASSERT_EQ(2, le32toh(eng->num_queues));
	fw_image_free(&img);

	load_with(_metadata, &self->c, name, NULL);
	assert_probe_ok(_metadata, &self->c, &info);
	EXPECT_EQ(2, info.num_queues);
	for (q = 0; q < 2; q++) {
		status = 1;
		ASSERT_EQ(0, raw_submit(self->c.fd, q, 0, &seq));
		EXPECT_EQ(0, wait_ms(self->c.fd, seq, 20000, &status));
		EXPECT_EQ(0, status) TH_LOG("queue %u", q);
	}
	EXPECT_EQ(-EINVAL, raw_submit(self->c.fd, 2, 0, &seq));
	EXPECT_EQ(-EINVAL, raw_submit(self->c.fd, LPU_NUM_QUEUES - 1, 0, &seq));
}

/* ---- the cost table decides the cycles ------------------------------- */

#define SLOT(i)		DRM_LPU_EXEC_SLOT_ADDR(i)
#define ADD_N		1000			/* floats */
#define ADD_BYTES	(ADD_N * 4)
#define ADD_INSNS	4

static struct lpu_insn insn_of(uint8_t opcode, uint8_t dtype, uint32_t dim0,
			       uint64_t a, uint64_t b, uint64_t out)
{
	struct lpu_insn i;

	memset(&i, 0, sizeof(i));
	i.opcode = opcode;
	i.dtype = dtype;
	i.dim[0] = htole32(dim0);
	i.op[0] = htole64(a);
	i.op[1] = htole64(b);
	i.op[2] = htole64(out);
	return i;
}

/*
 * Cycles of the add program (copy a and b into SRAM, add, copy the sum
 * back) by cost table @c, the formula of uapi/lpu_hw.h.
 */
static uint64_t add_cycles(const struct lpu_fw_cost *c)
{
	return fw_cost_cycles(c, LPU_COST_EXEC_SETUP,
			      ADD_INSNS * LPU_INSN_SIZE) +
	       3 * fw_cost_cycles(c, LPU_COST_COPY, ADD_BYTES) +
	       fw_cost_cycles(c, LPU_COST_ELEMENTWISE, ADD_N);
}

/*
 * Run the add program once on card @fd; 0 and the cycles the device
 * reported in its stats, or -errno / the job's status.
 */
static int run_add(int fd, uint64_t *cycles)
{
	struct tbo io = { 0 }, scr = { 0 }, prog = { 0 }, stats = { 0 };
	struct lpu_insn *p;
	uint32_t slots[4];
	struct drm_lpu_exec ex = {
		.slots = (uintptr_t)slots,
		.slot_count = 4,
		.insn_count = ADD_INSNS,
		.program = SLOT(2),
		.stats = SLOT(3),
	};
	struct drm_lpu_submit req = {
		.job_type = LPU_JOB_EXEC,
		.exec = (uintptr_t)&ex,
	};
	int32_t status = 1;
	float *a;
	int ret, i;

	ret = tbo_new(fd, DRM_LPU_BO_HOST, 16 * KiB, true, &io);
	if (!ret)
		ret = tbo_new(fd, DRM_LPU_BO_SRAM, 16 * KiB, true, &scr);
	if (!ret)
		ret = tbo_new(fd, DRM_LPU_BO_HOST, 4 * KiB, true, &prog);
	if (!ret)
		ret = tbo_new(fd, DRM_LPU_BO_HOST, 4 * KiB, true, &stats);
	if (ret)
		goto out;
	a = (float *)io.map;
	for (i = 0; i < 2 * ADD_N; i++)
		a[i + (i >= ADD_N ? 1024 - ADD_N : 0)] = (float)i * 0.5f;
	slots[0] = io.handle;
	slots[1] = scr.handle;
	slots[2] = prog.handle;
	slots[3] = stats.handle;
	p = (struct lpu_insn *)prog.map;
	p[0] = insn_of(LPU_INSN_COPY, LPU_DT_NONE, ADD_BYTES, SLOT(0),
		       SLOT(1), 0);
	p[1] = insn_of(LPU_INSN_COPY, LPU_DT_NONE, ADD_BYTES, SLOT(0) + 4096,
		       SLOT(1) + 4096, 0);
	p[2] = insn_of(LPU_INSN_ADD, LPU_DT_F32, ADD_N, SLOT(1),
		       SLOT(1) + 4096, SLOT(1) + 8192);
	p[3] = insn_of(LPU_INSN_COPY, LPU_DT_NONE, ADD_BYTES, SLOT(1) + 8192,
		       SLOT(0) + 8192, 0);
	ret = raw_ioctl(fd, DRM_IOCTL_LPU_SUBMIT, &req);
	if (!ret)
		ret = wait_ms(fd, req.seq, 60000, &status);
	if (!ret)
		ret = status;
	if (!ret) {
		const struct lpu_exec_stats *st = (void *)stats.map;

		*cycles = le64toh(st->cycles);
		/* The sum is right: the cycles are those of a real run. */
		if (((float *)io.map)[2048 + 7] != a[7] + a[1024 + 7])
			ret = -EIO;
	}
out:
	tbo_free(fd, &io);
	tbo_free(fd, &scr);
	tbo_free(fd, &prog);
	tbo_free(fd, &stats);
	return ret;
}

/* The COST section of image @name, copied to @cost. */
static void image_cost(struct __test_metadata *_metadata, const char *name,
		       struct lpu_fw_cost *cost)
{
	const struct lpu_fw_cost *c;
	struct fw_image img;

	load_variant(_metadata, name, &img);
	c = fw_image_section(&img, LPU_FW_SEC_COST, sizeof(*c));
	ASSERT_NE(NULL, c) TH_LOG("%s has no COST section", name);
	memcpy(cost, c, sizeof(*cost));
	fw_image_free(&img);
}

TEST_F_TIMEOUT(lpu_fw, cost_table_changes_cycles, 180)
{
	const char *x2 = TEST_DIR "/cost-x2.bin";
	struct lpu_fw_cost good_cost, x2_cost;
	uint64_t good_cycles = 0, x2_cycles = 0, want_good, want_x2;
	struct drm_lpu_info info;
	int ret;

	image_cost(_metadata, LPU_FW_NAME, &good_cost);
	image_cost(_metadata, x2, &x2_cost);
	want_good = add_cycles(&good_cost);
	want_x2 = add_cycles(&x2_cost);
	/* The images differ where this program spends its cycles. */
	ASSERT_LT(want_good, want_x2);

	load_with(_metadata, &self->c, LPU_FW_NAME, NULL);
	assert_probe_ok(_metadata, &self->c, &info);
	ret = run_add(self->c.fd, &good_cycles);
	ASSERT_EQ(0, ret) TH_LOG("add program on %s: %d", LPU_FW_NAME, ret);
	EXPECT_EQ(want_good, good_cycles);
	close(self->c.fd);
	self->c.fd = -1;

	load_with(_metadata, &self->c, x2, NULL);
	assert_probe_ok(_metadata, &self->c, &info);
	ret = run_add(self->c.fd, &x2_cycles);
	ASSERT_EQ(0, ret) TH_LOG("add program on %s: %d", x2, ret);
	EXPECT_EQ(want_x2, x2_cycles);
	/* More cycles, by the ratio the two tables predict. */
	EXPECT_LT(good_cycles, x2_cycles);
	EXPECT_EQ(want_x2 * good_cycles, want_good * x2_cycles);
	TH_LOG("%llu cycles on %s, %llu on %s (ratio %.3f)",
	       (unsigned long long)good_cycles, LPU_FW_NAME,
	       (unsigned long long)x2_cycles, x2,
	       (double)x2_cycles / (double)(good_cycles ?: 1));
}

/* ---- the firmware boots again after a reset and on resume ------------ */

TEST_F_TIMEOUT(lpu_fw, pci_reset_boots_firmware_again, 120)
{
	unsigned long before = 0, after = 0;
	struct drm_lpu_info info;
	char path[PATH_MAX];

	load_with(_metadata, &self->c, LPU_FW_NAME, NULL);
	assert_probe_ok(_metadata, &self->c, &info);
	ASSERT_EQ(0, card_works(&self->c.card));
	ASSERT_EQ(0, dev_attr_ulong(self->c.pci_addr, "fw_boots", &before));
	sysfs_dev_path(self->c.pci_addr, "reset", path, sizeof(path));
	ASSERT_EQ(0, write_text(path, "1\n"));
	ASSERT_EQ(0, dev_attr_ulong(self->c.pci_addr, "fw_boots", &after));
	EXPECT_EQ(before + 1, after);
	/* The open file and a new one both run jobs on the rebooted card. */
	EXPECT_EQ(0, card_works(&self->c.card));
	ASSERT_EQ(0, raw_info(self->c.fd, &info));
	EXPECT_NE(0, info.fw_version);
	EXPECT_EQ(0, kmsg_count_device(self->c.kmsg, self->c.pci_addr, 3,
				       NULL, path, sizeof(path),
				       KMSG_QUIET_MS)) TH_LOG("%s", path);
}

/*
 * The sleep state to test with, if the kernel can suspend devices without
 * sleeping for real (pm_test "devices"); NULL and the reason otherwise.
 */
static const char *sleep_state(char *why, size_t len)
{
	char states[128], tests[256];

	if (read_text("/sys/power/state", states, sizeof(states)) < 0) {
		snprintf(why, len, "no /sys/power/state (CONFIG_SUSPEND off)");
		return NULL;
	}
	if (read_text("/sys/power/pm_test", tests, sizeof(tests)) < 0 ||
	    !strstr(tests, "devices")) {
		snprintf(why, len, "no /sys/power/pm_test with \"devices\" (CONFIG_PM_DEBUG off)");
		return NULL;
	}
	if (strstr(states, "mem"))
		return "mem";
	if (strstr(states, "freeze"))
		return "freeze";
	snprintf(why, len, "/sys/power/state offers neither mem nor freeze: %s",
		 states);
	return NULL;
}

TEST_F_TIMEOUT(lpu_fw, suspend_resume_boots_firmware_again, 120)
{
	unsigned long before = 0, after = 0;
	struct drm_lpu_info info;
	const char *state;
	char why[256];
	int ret;

	state = sleep_state(why, sizeof(why));
	if (!state)
		SKIP(return, "%s", why);
	load_with(_metadata, &self->c, LPU_FW_NAME, NULL);
	assert_probe_ok(_metadata, &self->c, &info);
	ASSERT_EQ(0, dev_attr_ulong(self->c.pci_addr, "fw_boots", &before));
	/* Suspend every device, then resume at once: no real sleep. */
	ASSERT_EQ(0, write_text("/sys/power/pm_test", "devices"));
	ret = write_text("/sys/power/state", state);
	EXPECT_EQ(0, write_text("/sys/power/pm_test", "none"));
	ASSERT_EQ(0, ret) TH_LOG("echo %s > /sys/power/state: %d", state, ret);
	ASSERT_EQ(0, dev_attr_ulong(self->c.pci_addr, "fw_boots", &after));
	EXPECT_EQ(before + 1, after);
	EXPECT_EQ(0, card_works(&self->c.card));
	ASSERT_EQ(0, raw_info(self->c.fd, &info));
	EXPECT_NE(0, info.fw_version);
	EXPECT_EQ(0, kmsg_count_device(self->c.kmsg, self->c.pci_addr, 3,
				       NULL, why, sizeof(why),
				       KMSG_QUIET_MS)) TH_LOG("%s", why);
}

/* Last (the harness runs global TESTs first): nothing above tainted it. */
TEST_F(lpu_fw, kernel_not_tainted)
{
	expect_not_tainted(_metadata);
}

TEST_HARNESS_MAIN
