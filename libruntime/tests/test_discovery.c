// SPDX-License-Identifier: MIT
/*
 * Card discovery against fake sysfs trees: no accel class, an empty class,
 * two cards (ordered by numeric minor), a foreign accel driver, and broken
 * or unbound entries that must be skipped without failing the scan.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <lpu_hw.h>

#include "lpu.h"
#include "fake_sysfs.h"
#include "tap.h"

#define VID LPU_PCI_VENDOR_ID
#define DID LPU_PCI_DEVICE_ID_V3

static void test_no_class(void)
{
	fake_sysfs_create();
	tap_is(lpu_card_count(), 0, "no accel class: 0 cards");
	fake_sysfs_destroy();
}

static void test_missing_root(void)
{
	setenv("LPU_SYSFS_ROOT", "/nonexistent/lpu-sysfs-root", 1);
	tap_is(lpu_card_count(), 0, "nonexistent sysfs root: 0 cards");
	unsetenv("LPU_SYSFS_ROOT");
}

static void test_empty_class(void)
{
	struct lpu_card card;

	fake_sysfs_create();
	fake_add_accel_class();
	tap_is(lpu_card_count(), 0, "empty accel class: 0 cards");
	tap_is(lpu_card_get(0, &card), -ENODEV,
	       "empty accel class: card 0 is -ENODEV");
	fake_sysfs_destroy();
}

static void test_two_cards(void)
{
	struct lpu_card card;
	char want[512];
	const char *root = fake_sysfs_create();

	/* Minor 10 is created first and sorts after 2 ("accel10" < "accel2"). */
	fake_add_pci("0000:00:05.0", VID, DID, "lpu");
	fake_add_accel(10, "0000:00:05.0");
	fake_add_pci("0000:00:03.0", VID, DID, "lpu");
	fake_add_accel(2, "0000:00:03.0");

	tap_is(lpu_card_count(), 2, "two cards: count is 2");

	memset(&card, 0xa5, sizeof(card));
	tap_is(lpu_card_get(0, &card), 0, "two cards: get card 0");
	tap_is(card.index, 0, "card 0: index");
	tap_is(card.minor, 2, "card 0: lowest minor first (numeric order)");
	tap_ok(!strcmp(card.pci_addr, "0000:00:03.0"),
	       "card 0: PCI address from the device link (%s)", card.pci_addr);
	tap_is(card.vendor_id, VID, "card 0: vendor id from sysfs");
	tap_is(card.device_id, DID, "card 0: device id from sysfs");
	snprintf(want, sizeof(want), "%s/accel/accel2", root);
	tap_ok(!strcmp(card.dev_path, want), "card 0: node path %s",
	       card.dev_path);

	tap_is(lpu_card_get(1, &card), 0, "two cards: get card 1");
	tap_is(card.index, 1, "card 1: index");
	tap_is(card.minor, 10, "card 1: minor 10");
	tap_ok(!strcmp(card.pci_addr, "0000:00:05.0"),
	       "card 1: PCI address (%s)", card.pci_addr);

	tap_is(lpu_card_get(2, &card), -ENODEV, "two cards: card 2 is -ENODEV");
	fake_sysfs_destroy();
}

/* Five cards created out of order: indexes follow numeric minor order. */
static void test_many_cards_sorted(void)
{
	static const unsigned int minors[] = { 10, 2, 33, 1, 7 };
	static const unsigned int sorted[] = { 1, 2, 7, 10, 33 };
	struct lpu_card card;
	char addr[32];
	unsigned int i;
	int ok = 1;

	fake_sysfs_create();
	for (i = 0; i < 5; i++) {
		snprintf(addr, sizeof(addr), "0000:%02x:00.0", minors[i] + 1);
		fake_add_pci(addr, VID, DID, "lpu");
		fake_add_accel(minors[i], addr);
	}
	tap_is(lpu_card_count(), 5, "five cards: count is 5");
	for (i = 0; i < 5; i++) {
		snprintf(addr, sizeof(addr), "0000:%02x:00.0", sorted[i] + 1);
		if (lpu_card_get(i, &card) || card.minor != sorted[i] ||
		    card.index != i || strcmp(card.pci_addr, addr)) {
			printf("#   index %u: minor %u addr %s\n", i, card.minor,
			       card.pci_addr);
			ok = 0;
		}
	}
	tap_ok(ok, "five cards: index order is minor order 1 2 7 10 33");
	fake_sysfs_destroy();
}

static void test_foreign_driver(void)
{
	struct lpu_card card;

	fake_sysfs_create();
	fake_add_pci("0000:00:02.0", 0x8086, 0x7d1d, "intel_vpu");
	fake_add_accel(0, "0000:00:02.0");
	tap_is(lpu_card_count(), 0, "only a foreign accel device: 0 cards");

	fake_add_pci("0000:00:04.0", VID, DID, "lpu");
	fake_add_accel(1, "0000:00:04.0");
	tap_is(lpu_card_count(), 1, "foreign + lpu device: 1 card");
	tap_is(lpu_card_get(0, &card), 0, "foreign + lpu: get card 0");
	tap_is(card.minor, 1, "foreign + lpu: card 0 is accel1");
	fake_sysfs_destroy();
}

static void test_broken_entries(void)
{
	struct lpu_card card;

	fake_sysfs_create();
	/* class link to nowhere */
	fake_add_dangling_class_link("accel3");
	/* device link to a PCI function that does not exist */
	fake_add_accel(4, "0000:00:09.0");
	/* an lpu-capable function without any driver bound */
	fake_add_pci("0000:00:06.0", VID, DID, NULL);
	fake_add_accel(5, "0000:00:06.0");
	/* names that are not accel devices */
	fake_add_dangling_class_link("accel");
	fake_add_dangling_class_link("accel07");
	fake_add_dangling_class_link("accelx");
	tap_is(lpu_card_count(), 0, "broken and unbound entries: 0 cards");

	fake_add_pci("0000:00:07.0", VID, DID, "lpu");
	fake_add_accel(6, "0000:00:07.0");
	tap_is(lpu_card_count(), 1, "broken entries + 1 card: 1 card");
	tap_is(lpu_card_get(0, &card), 0, "broken entries: get card 0");
	tap_is(card.minor, 6, "broken entries: the good card is found");
	fake_sysfs_destroy();
}

static void test_open_by_index(void)
{
	struct lpu_device *dev = (struct lpu_device *)&dev;

	fake_sysfs_create();
	fake_add_pci("0000:00:03.0", VID, DID, "lpu");
	fake_add_accel(0, "0000:00:03.0");
	tap_is(lpu_open(0, &dev), -ENOENT,
	       "open card whose node is missing: -ENOENT");
	tap_ok(!dev, "failed open leaves *out NULL");

	fake_add_dev_file(0);
	tap_is(lpu_open(0, &dev), -LPU_E_NOT_LPU,
	       "open card whose node is a regular file: -LPU_E_NOT_LPU");
	tap_is(lpu_open(1, &dev), -ENODEV, "open card 1 of 1: -ENODEV");
	fake_sysfs_destroy();
}

int main(void)
{
	test_no_class();
	test_missing_root();
	test_empty_class();
	test_two_cards();
	test_many_cards_sorted();
	test_foreign_driver();
	test_broken_entries();
	test_open_by_index();
	return tap_done();
}
