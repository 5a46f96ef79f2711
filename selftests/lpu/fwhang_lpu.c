// SPDX-License-Identifier: GPL-2.0
/*
 * Firmware boot timeout, on a card whose boot ROM never leaves BOOTING
 * (device property x-fw-boot-hang=on, so a guest of its own:
 * tools/check-fw-hang.sh). The guest boots without lpu.ko; each test loads
 * it, the probe must give up after fw_boot_timeout_ms (not much later)
 * with exactly one line "firmware <name>: no READY within <ms> ms:
 * expected state READY, found BOOTING", bind nothing, taint nothing, and
 * the module must unload. Not named lpu_*: the normal guest run, where the
 * card boots, must not pick it up.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lpu_fwimage.h"
#include "lpu_module.h"

/* Probe gets this much beyond its timeout (module load, TCG, printk). */
#define MARGIN_MS	5000

struct hang_ctx {
	char pci_addr[32];
	int kmsg;
};

FIXTURE(fwhang) {
	struct hang_ctx c;
};

FIXTURE_SETUP(fwhang)
{
	self->c.kmsg = -1;
	ASSERT_EQ(0, access(module_path(), R_OK)) TH_LOG("LPU_MODULE %s",
							 module_path());
	ASSERT_EQ(0, find_lpu_pci_addr(self->c.pci_addr,
				       sizeof(self->c.pci_addr)))
		TH_LOG("no LPU PCI function");
	ASSERT_NE(0, access("/sys/module/lpu", F_OK))
		TH_LOG("lpu.ko is loaded: boot the guest with --no-insmod");
}

/* In the parent: the 6.12 harness skips a child's after a failed ASSERT. */
FIXTURE_TEARDOWN_PARENT(fwhang)
{
	if (!access("/sys/module/lpu", F_OK))
		unload_module();
}

/*
 * Load lpu.ko with @params and check the probe timed out after
 * @timeout_ms with the one line.
 */
static void load_times_out(struct __test_metadata *_metadata,
			   struct hang_ctx *c, const char *params,
			   unsigned long timeout_ms)
{
	char line[1024], want[128], drv[64];
	unsigned long param = 0, taint;
	int64_t t0, ms;
	int n;

	if (c->kmsg >= 0)
		close(c->kmsg);
	c->kmsg = kmsg_open_at_end();
	ASSERT_LE(0, c->kmsg);
	t0 = now_ns();
	/* The probe runs inside finit_module(): its time is the probe's. */
	ASSERT_EQ(0, sys_finit_module(module_path(), params));
	ms = (now_ns() - t0) / NSEC_PER_MSEC;
	ASSERT_EQ(0, module_param_ulong("fw_boot_timeout_ms", &param));
	EXPECT_EQ(timeout_ms, param);
	EXPECT_LE((int64_t)timeout_ms, ms) TH_LOG("gave up after %lld ms",
						  (long long)ms);
	EXPECT_GT((int64_t)timeout_ms + MARGIN_MS, ms)
		TH_LOG("gave up after %lld ms", (long long)ms);

	n = kmsg_count_device(c->kmsg, c->pci_addr, 4, NULL, line,
			      sizeof(line), 500);
	ASSERT_EQ(1, n) TH_LOG("%d kernel lines for %s, first: %s", n,
			       c->pci_addr, line);
	TH_LOG("%s", line);
	snprintf(want, sizeof(want), "firmware %s: no READY within %lu ms",
		 LPU_FW_NAME, timeout_ms);
	EXPECT_NE(NULL, strstr(line, want)) TH_LOG("no \"%s\"", want);
	EXPECT_NE(NULL, strstr(line, "expected state READY"));
	EXPECT_NE(NULL, strstr(line, "found BOOTING"));

	EXPECT_EQ(-ENOENT, pci_driver_of(c->pci_addr, drv, sizeof(drv)))
		TH_LOG("bound to %s", drv);
	EXPECT_EQ(0, lpu_card_count());
	ASSERT_EQ(0, read_taint(&taint));
	EXPECT_EQ(0, taint & LPU_BAD_TAINT) TH_LOG("tainted: %#lx", taint);
	EXPECT_EQ(0, unload_module());
}

/* The driver's default, 2000 ms (the shared design of issue 6). */
TEST_F_TIMEOUT(fwhang, default_timeout_fails_probe, 60)
{
	load_times_out(_metadata, &self->c, "", 2000);
}

TEST_F_TIMEOUT(fwhang, short_timeout_fails_probe, 60)
{
	load_times_out(_metadata, &self->c, "fw_boot_timeout_ms=300", 300);
}

/* The hung boot left nothing behind: load and unload again. */
TEST_F_TIMEOUT(fwhang, reload_after_timeouts, 60)
{
	load_times_out(_metadata, &self->c, "fw_boot_timeout_ms=500", 500);
	load_times_out(_metadata, &self->c, "fw_boot_timeout_ms=500", 500);
}

/* Last (the harness runs global TESTs first): nothing above tainted it. */
TEST_F(fwhang, kernel_not_tainted)
{
	unsigned long taint;

	ASSERT_EQ(0, read_taint(&taint));
	EXPECT_EQ(0, taint & LPU_BAD_TAINT) TH_LOG("tainted: %#lx", taint);
}

TEST_HARNESS_MAIN
