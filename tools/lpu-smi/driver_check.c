// SPDX-License-Identifier: MIT
/*
 * lpu-smi: explain cards that liblpu cannot see. Scans the PCI bus with
 * libpci for functions with the LPU vendor ID whose bound driver is not
 * "lpu", and asks libkmod whether the lpu module is loaded at all, so the
 * message says what to do (load the module, or look at the probe error).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libkmod.h>
#include <pci/pci.h>
#include <lpu_hw.h>

#include "smi.h"

/* "live", "builtin", "coming", "going" or "not loaded". */
static const char *module_state(void)
{
	struct kmod_module *mod = NULL;
	struct kmod_ctx *ctx;
	const char *state = "unknown";
	int s;

	ctx = kmod_new(NULL, NULL);
	if (!ctx)
		return state;
	if (kmod_module_new_from_name(ctx, "lpu", &mod) == 0) {
		s = kmod_module_get_initstate(mod);
		state = s < 0 ? "not loaded" : kmod_module_initstate_str(s);
		kmod_module_unref(mod);
	}
	kmod_unref(ctx);
	return state;
}

int smi_check_unbound(bool quiet)
{
	struct pci_access *pacc;
	const char *mstate = NULL;
	struct pci_dev *d;
	char addr[32];
	int problems = 0;

	pacc = pci_alloc();
	if (!pacc)
		return 0;
	pci_init(pacc);
	pci_scan_bus(pacc);
	for (d = pacc->devices; d; d = d->next) {
		const char *drv;

		pci_fill_info(d, PCI_FILL_IDENT | PCI_FILL_DRIVER);
		if (d->vendor_id != LPU_PCI_VENDOR_ID)
			continue;
		drv = pci_get_string_property(d, PCI_FILL_DRIVER);
		if (drv && !strcmp(drv, "lpu"))
			continue;
		problems++;
		if (quiet)
			continue;
		if (!mstate)
			mstate = module_state();
		snprintf(addr, sizeof(addr), "%04x:%02x:%02x.%d", d->domain,
			 d->bus, d->dev, d->func);
		if (drv)
			fprintf(stderr,
				"lpu-smi: LPU device %s [%04x:%04x] is bound to driver '%s', not 'lpu'\n",
				addr, d->vendor_id, d->device_id, drv);
		else if (!strcmp(mstate, "not loaded"))
			fprintf(stderr,
				"lpu-smi: LPU device %s [%04x:%04x] found, but the lpu kernel module is not loaded (try: modprobe lpu)\n",
				addr, d->vendor_id, d->device_id);
		else
			fprintf(stderr,
				"lpu-smi: LPU device %s [%04x:%04x] has no driver bound although module lpu is %s; see dmesg for the probe error\n",
				addr, d->vendor_id, d->device_id, mstate);
	}
	pci_cleanup(pacc);
	return problems;
}
