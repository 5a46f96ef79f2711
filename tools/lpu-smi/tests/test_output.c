// SPDX-License-Identifier: MIT
/*
 * Host tests (TAP) of lpu-smi's outputs for cards in three states: the
 * firmware running (version, ABI, reserved SRAM), only the boot ROM
 * ("not running"), and a node that could not be opened. The --json test
 * is the schema's: schema 1.1, and exactly the documented keys per card,
 * so that a field cannot appear, vanish or change type unnoticed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "smi.h"
#include "tap.h"

/* Run @fn(cards, n) with stdout captured; returns a malloc'd string. */
static char *capture(void (*fn)(const struct smi_card *, int),
		     int (*jfn)(const struct smi_card *, int),
		     const struct smi_card *cards, int n)
{
	FILE *f = tmpfile();
	int saved, len;
	char *out;

	if (!f)
		return NULL;
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	dup2(fileno(f), STDOUT_FILENO);
	if (fn)
		fn(cards, n);
	else
		jfn(cards, n);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	len = (int)ftell(f);
	out = calloc(1, len + 1);
	rewind(f);
	if (out && fread(out, 1, len, f) != (size_t)len) {
		free(out);
		out = NULL;
	}
	fclose(f);
	return out;
}

static void make_cards(struct smi_card *c)
{
	int i;

	memset(c, 0, 3 * sizeof(*c));
	for (i = 0; i < 3; i++) {
		c[i].card.index = i;
		c[i].card.minor = i;
		c[i].card.vendor_id = 0x4c50;
		c[i].card.device_id = 3;
		snprintf(c[i].card.pci_addr, sizeof(c[i].card.pci_addr), "0000:00:0%d.0", i + 3);
		snprintf(c[i].card.dev_path, sizeof(c[i].card.dev_path), "/dev/accel/accel%d", i);
		c[i].revision = 1;
		c[i].info.vendor_id = 0x4c50;
		c[i].info.device_id = 3;
		c[i].info.num_queues = 4;
		c[i].info.hw_version = 0x30000;
		c[i].info.ring_entries = 4096;
		c[i].info.sram_size = 256ULL << 20;
		c[i].info.driver_version = 0x000400;
	}
	c[0].info.fw_version = 0x010203;	/* 1.2.3 */
	c[0].info.fw_abi_version = 0x010500;	/* ABI 1.5 */
	c[0].info.sram_reserved = 65536;
	c[2].open_err = -13;			/* EACCES */
}

static int has_line(const char *text, const char *line)
{
	const char *p = text;
	size_t n = strlen(line);

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || !p[n]))
			return 1;
		p++;
	}
	return 0;
}

static void test_query(const struct smi_card *c)
{
	char *out = capture(smi_print_query, NULL, c, 3);

	if (!tap_ok(!!out, "-q output captured"))
		return;
	tap_ok(has_line(out, "    Firmware              : 1.2.3"), "-q: firmware version");
	tap_ok(has_line(out, "    Firmware ABI          : 1.5"), "-q: firmware ABI");
	tap_ok(has_line(out, "    SRAM for firmware     : 64 KiB (65536 bytes)"),
	       "-q: SRAM reserved by the firmware");
	tap_ok(has_line(out, "    Firmware              : not running"),
	       "-q: \"not running\" without firmware");
	tap_ok(has_line(out, "    Firmware ABI          : N/A"), "-q: no ABI without firmware");
	free(out);
}

static void test_table(const struct smi_card *c)
{
	char *out = capture(smi_print_table, NULL, c, 3), *l1, *l2, *l3;

	if (!tap_ok(!!out, "table output captured"))
		return;
	l1 = strstr(out, "/dev/accel/accel0");
	l2 = strstr(out, "/dev/accel/accel1");
	l3 = strstr(out, "/dev/accel/accel2");
	tap_ok(!!strstr(out, "Firmware     FW ABI"), "table: Firmware and FW ABI columns");
	tap_ok(l1 && l2 && strstr(l1, "1.2.3        1.5") && strstr(l1, "1.2.3") < l2,
	       "table: card 0 runs 1.2.3 with ABI 1.5");
	tap_ok(l2 && l3 && strstr(l2, "not running  N/A") && strstr(l2, "not running") < l3,
	       "table: card 1 \"not running\"");
	free(out);
}

static const char *const card_keys[] = {
	"index", "node", "symlink", "accel_minor", "pci_address", "vendor_id",
	"device_id", "revision", "pcie_link", "error", "sram_bytes",
	"sram_used_bytes", "processes", "num_queues", "ring_entries",
	"capabilities", "hw_version", "driver_version", "firmware_version",
	"firmware_running", "firmware_abi_version", "sram_reserved_bytes",
};

static void test_json(const struct smi_card *c)
{
	char *out = capture(NULL, smi_print_json, c, 3);
	json_object *root, *cards, *o, *v;
	unsigned int i, keys_ok = 1;

	root = out ? json_tokener_parse(out) : NULL;
	if (!tap_ok(!!root, "--json output parses")) {
		free(out);
		return;
	}
	tap_ok(json_object_object_get_ex(root, "schema_version", &v) &&
	       json_object_get_int(v) == 1, "schema_version 1");
	tap_ok(json_object_object_get_ex(root, "schema_version_minor", &v) &&
	       json_object_get_int(v) == 1, "schema_version_minor 1");
	tap_ok(json_object_object_get_ex(root, "cards", &cards) &&
	       json_object_array_length(cards) == 3, "three cards");
	for (i = 0; i < 3; i++) {
		unsigned int k;

		o = json_object_array_get_idx(cards, i);
		for (k = 0; k < ARRAY_SIZE(card_keys); k++)
			keys_ok &= json_object_object_get_ex(o, card_keys[k], NULL);
		keys_ok &= json_object_object_length(o) == (int)ARRAY_SIZE(card_keys);
	}
	tap_ok(keys_ok, "every card has exactly the %zu keys of schema 1.1",
	       ARRAY_SIZE(card_keys));

	o = json_object_array_get_idx(cards, 0);
	tap_ok(json_object_object_get_ex(o, "firmware_version", &v) &&
	       !strcmp(json_object_get_string(v), "1.2.3"), "card 0: firmware_version \"1.2.3\"");
	tap_ok(json_object_object_get_ex(o, "firmware_abi_version", &v) &&
	       json_object_is_type(v, json_type_string) &&
	       !strcmp(json_object_get_string(v), "1.5"), "card 0: firmware_abi_version \"1.5\"");
	tap_ok(json_object_object_get_ex(o, "sram_reserved_bytes", &v) &&
	       json_object_is_type(v, json_type_int) && json_object_get_int64(v) == 65536,
	       "card 0: sram_reserved_bytes 65536");
	tap_ok(json_object_object_get_ex(o, "firmware_running", &v) &&
	       json_object_get_boolean(v), "card 0: firmware_running true");

	o = json_object_array_get_idx(cards, 1);
	tap_ok(json_object_object_get_ex(o, "firmware_running", &v) &&
	       json_object_is_type(v, json_type_boolean) && !json_object_get_boolean(v),
	       "card 1: firmware_running false");
	tap_ok(json_object_object_get_ex(o, "firmware_version", &v) && !v &&
	       json_object_object_get_ex(o, "firmware_abi_version", &v) && !v &&
	       json_object_object_get_ex(o, "sram_reserved_bytes", &v) && !v,
	       "card 1: firmware_version, firmware_abi_version, sram_reserved_bytes null");

	o = json_object_array_get_idx(cards, 2);
	tap_ok(json_object_object_get_ex(o, "firmware_running", &v) && !v &&
	       json_object_object_get_ex(o, "firmware_abi_version", &v) && !v,
	       "card 2 (no access): firmware fields null");
	json_object_put(root);
	free(out);
}

int main(void)
{
	struct smi_card *c = calloc(3, sizeof(*c));

	if (!c)
		return 1;
	make_cards(c);
	test_query(c);
	test_table(c);
	test_json(c);
	/* A driver before 0.4 does not report the ABI: N/A, null. */
	c[0].info.fw_abi_version = 0;
	{
		char buf[24];

		tap_ok(!strcmp(smi_fw_abi_str(&c[0], buf, sizeof(buf)), "N/A"),
		       "firmware running, ABI unknown (driver before 0.4): N/A");
	}
	free(c);
	return tap_done();
}
