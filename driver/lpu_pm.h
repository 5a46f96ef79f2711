/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * LPU v3 device reset (PCI reset, FLR) and system sleep: the card loses its
 * firmware and queues, and the driver brings both back.
 */
#ifndef __LPU_PM_H__
#define __LPU_PM_H__

#include <linux/pci.h>
#include <linux/pm.h>

extern const struct pci_error_handlers lpu_pci_err_handlers;
extern const struct dev_pm_ops lpu_pm_ops;

#endif /* __LPU_PM_H__ */
