// SPDX-License-Identifier: GPL-2.0-only
/*
 * LPU v3 device reset and system sleep.
 *
 * A device reset (the card's RESET register, a PCI reset or FLR, power
 * lost in sleep) returns the card to its boot ROM: every queue off, no
 * firmware, NUM_QUEUES 0. The driver stays bound, so it brings the card
 * back the way probe did, in this order, and why:
 *
 *  1. park the queues (lpu_queues_suspend()): each is stopped where it is,
 *     so that HEAD tells which job the reset interrupts; finished jobs
 *     retire, the interrupted one fails with -EIO (running its copies
 *     twice is not idempotent), jobs behind it wait in line, and jobs
 *     submitted meanwhile only join the line. Before the reset, because
 *     afterwards the registers no longer say where the queues were;
 *  2. let a running SRAM scrub finish and hold back new ones (a scrub cut
 *     by the reset would fail, and its range be quarantined for good),
 *     mask the card's interrupts and wait for running handlers, so no
 *     handler reads registers while the card resets;
 *  3. reset the card (the PCI core does it between reset_prepare and
 *     reset_done; before sleep the driver does, so the card forgets every
 *     host address before power goes);
 *  4. boot the firmware again from the image kept in DMA memory since
 *     probe (the filesystem may not be back yet on resume): the card
 *     refuses to enable queues until it runs;
 *  5. check that it offers what the driver set up at probe (same image, so
 *     it must; a card that does not is not driven any more);
 *  6. unmask interrupts, then reprogram the queues and emit the waiting
 *     jobs: in this order, since unmasking drops latched interrupts, and
 *     the first completion may come right after the first doorbell; then
 *     let scrubs run again (after a failed boot too: the scrub engine is
 *     the card's, not the firmware's, so freed SRAM is still zeroed).
 */

#include <linux/interrupt.h>
#include <linux/pci.h>
#include <linux/pm.h>

#include <drm/drm_drv.h>
#include <drm/drm_print.h>

#include "lpu_drv.h"
#include "lpu_fw.h"
#include "lpu_pm.h"
#include "lpu_queue.h"
#include "lpu_regs.h"
#include "lpu_sram.h"

/* Steps 1 and 2. */
static void lpu_pm_quiesce(struct lpu_device *ldev)
{
	int i;

	lpu_queues_suspend(ldev);
	lpu_sram_pause(ldev);
	lpu_hw_irq_disable(ldev);
	for (i = 0; i < LPU_MSIX_NUM_VECTORS; i++)
		synchronize_irq(pci_irq_vector(ldev->pdev, i));
}

/* Step 5: what the firmware offers now is what the queues were set up for. */
static int lpu_pm_check_config(struct lpu_device *ldev)
{
	u32 nq = lpu_read(ldev, LPU_REG_NUM_QUEUES);
	u32 max_ring = lpu_read(ldev, LPU_REG_MAX_RING_ENTRIES);
	u32 reserved = lpu_read(ldev, LPU_REG_SRAM_RESERVED);

	if (nq != ldev->num_queues || max_ring != ldev->max_ring_entries ||
	    reserved != ldev->sram_reserved) {
		drm_err(&ldev->drm, "firmware %s after reset: queues, ring limit, reserved SRAM: expected %u, %u, %llu, found %u, %u, %u\n",
			ldev->fw.name, ldev->num_queues, ldev->max_ring_entries,
			ldev->sram_reserved, nq, max_ring, reserved);
		return -ENODEV;
	}
	return 0;
}

/* Steps 3 (again: harmless after an FLR, needed after sleep) to 6. */
static int lpu_pm_restart(struct lpu_device *ldev)
{
	int ret;

	ret = lpu_hw_reset(ldev);
	if (!ret)
		ret = lpu_fw_boot(ldev);
	if (!ret)
		ret = lpu_pm_check_config(ldev);
	if (ret)
		drm_err(&ldev->drm, "card not usable after reset (%d): jobs fail until the driver is bound again\n",
			ret);
	lpu_hw_irq_enable(ldev);
	lpu_queues_resume(ldev, ret);
	lpu_sram_unpause(ldev);
	return ret;
}

/* PCI reset (sysfs reset, FLR): the PCI core resets between the two. */
static void lpu_pci_reset_prepare(struct pci_dev *pdev)
{
	struct lpu_device *ldev = pci_get_drvdata(pdev);
	int idx;

	if (!drm_dev_enter(&ldev->drm, &idx))
		return;
	lpu_pm_quiesce(ldev);
	drm_dev_exit(idx);
}

static void lpu_pci_reset_done(struct pci_dev *pdev)
{
	struct lpu_device *ldev = pci_get_drvdata(pdev);
	int idx;

	if (!drm_dev_enter(&ldev->drm, &idx))
		return;
	lpu_pm_restart(ldev);
	drm_dev_exit(idx);
}

const struct pci_error_handlers lpu_pci_err_handlers = {
	.reset_prepare = lpu_pci_reset_prepare,
	.reset_done = lpu_pci_reset_done,
};

static int lpu_pm_suspend(struct device *dev)
{
	struct lpu_device *ldev = dev_get_drvdata(dev);
	int idx;

	if (!drm_dev_enter(&ldev->drm, &idx))
		return 0;
	lpu_pm_quiesce(ldev);
	/* Step 3: nothing of the host may be in the card when power goes. */
	lpu_hw_reset(ldev);
	drm_dev_exit(idx);
	return 0;
}

/*
 * The PCI core restored config space and bus mastering already. A card
 * that cannot run its firmware any more fails its jobs rather than the
 * resume: the rest of the system must still wake up.
 */
static int lpu_pm_resume(struct device *dev)
{
	struct lpu_device *ldev = dev_get_drvdata(dev);
	int idx;

	if (!drm_dev_enter(&ldev->drm, &idx))
		return 0;
	lpu_pm_restart(ldev);
	drm_dev_exit(idx);
	return 0;
}

DEFINE_SIMPLE_DEV_PM_OPS(lpu_pm_ops, lpu_pm_suspend, lpu_pm_resume);
