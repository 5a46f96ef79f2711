// SPDX-License-Identifier: GPL-2.0-only
/*
 * LPU v3 register access: identity check, device reset, the interrupt mask
 * and the device vector (device errors, firmware mailbox).
 */

#include <linux/bits.h>
#include <linux/interrupt.h>
#include <linux/iopoll.h>

#include <drm/drm_drv.h>
#include <drm/drm_print.h>

#include "drm/lpu_accel.h"
#include "lpu_regs.h"

/* A reset is a register write in the model; allow real silicon some time. */
#define LPU_RESET_POLL_US	100
#define LPU_RESET_TIMEOUT_MS	100

static const char * const lpu_err_names[LPU_ERR_COUNT] = {
	[LPU_ERR_OK]		= "OK",
	[LPU_ERR_BAD_OPCODE]	= "BAD_OPCODE",
	[LPU_ERR_BAD_FLAGS]	= "BAD_FLAGS",
	[LPU_ERR_RESERVED]	= "RESERVED",
	[LPU_ERR_FENCE_SLOT]	= "FENCE_SLOT",
	[LPU_ERR_DMA]		= "DMA",
	[LPU_ERR_RING_CONFIG]	= "RING_CONFIG",
	[LPU_ERR_TAIL_RANGE]	= "TAIL_RANGE",
	[LPU_ERR_UNSUPPORTED]	= "UNSUPPORTED",
	[LPU_ERR_RANGE]		= "RANGE",
	[LPU_ERR_FAULT]		= "FAULT",
	[LPU_ERR_SEG_TABLE]	= "SEG_TABLE",
	[LPU_ERR_OVERLAP]	= "OVERLAP",
	[LPU_ERR_EXEC]		= "EXEC",
};

static const char * const lpu_exec_reason_names[LPU_EXEC_E_COUNT] = {
	[LPU_EXEC_E_PROGRAM]	= "bad descriptor, program or stats address",
	[LPU_EXEC_E_OPCODE]	= "unknown opcode",
	[LPU_EXEC_E_FLAGS]	= "flag not defined for the opcode",
	[LPU_EXEC_E_RESERVED]	= "unused field not zero",
	[LPU_EXEC_E_DTYPE]	= "dtype not allowed for the opcode",
	[LPU_EXEC_E_SHAPE]	= "bad shape",
	[LPU_EXEC_E_OPERAND]	= "operand not inside one segment of the required kind",
	[LPU_EXEC_E_ALIGN]	= "operand not aligned",
	[LPU_EXEC_E_ALIAS]	= "output overlaps an operand",
	[LPU_EXEC_E_INDEX]	= "index out of range",
	[LPU_EXEC_E_LIMIT]	= "too many multiply-accumulates",
};

const char *lpu_hw_err_name(u32 code)
{
	if (code < ARRAY_SIZE(lpu_err_names) && lpu_err_names[code])
		return lpu_err_names[code];
	return "UNKNOWN";
}

/* Q_EXEC_REASON in words, for the log. */
const char *lpu_hw_exec_reason_name(u32 reason)
{
	if (reason < ARRAY_SIZE(lpu_exec_reason_names) &&
	    lpu_exec_reason_names[reason])
		return lpu_exec_reason_names[reason];
	return "unknown reason";
}

/*
 * Q_FAULT_INFO in uapi terms. The two sets of values are separate
 * definitions (hardware, ioctl ABI), so they are mapped one by one; a kind
 * the driver does not know is reported as 0 rather than passed through.
 */
u32 lpu_hw_fault_kind(u32 info)
{
	u32 kind;

	switch (info & LPU_FAULT_KIND_MASK) {
	case LPU_FAULT_NOT_MAPPED:
		kind = DRM_LPU_FAULT_NOT_MAPPED;
		break;
	case LPU_FAULT_OUT_OF_BOUNDS:
		kind = DRM_LPU_FAULT_OUT_OF_BOUNDS;
		break;
	default:
		kind = 0;
		break;
	}
	if (info & LPU_FAULT_WRITE)
		kind |= DRM_LPU_FAULT_WRITE;
	return kind;
}

const char *lpu_hw_fault_name(u32 info)
{
	switch (info & LPU_FAULT_KIND_MASK) {
	case LPU_FAULT_NOT_MAPPED:
		return "not mapped";
	case LPU_FAULT_OUT_OF_BOUNDS:
		return "out of bounds";
	}
	return "unknown kind";
}

/* Back to the boot ROM: every queue off, no firmware tables in force. */
int lpu_hw_reset(struct lpu_device *ldev)
{
	u32 status;
	int ret;

	lpu_write(ldev, LPU_REG_RESET, LPU_RESET_MAGIC);
	ret = readl_poll_timeout(ldev->regs + LPU_REG_STATUS, status,
				 status & LPU_STATUS_READY, LPU_RESET_POLL_US,
				 LPU_RESET_TIMEOUT_MS * 1000);
	if (ret)
		drm_err(&ldev->drm, "device not ready %u ms after reset (status 0x%08x)\n",
			LPU_RESET_TIMEOUT_MS, status);
	return ret;
}

/*
 * Check that BAR0 really is an LPU v3 before touching anything else, reset
 * the card to a known state and read what its hardware offers. What the
 * firmware offers (queues, ring size, reserved SRAM) reads 0 until it has
 * booted: lpu_hw_read_fw_config() reads it afterwards.
 */
int lpu_hw_init(struct lpu_device *ldev)
{
	/*
	 * Buffers need the DMA engine, freed SRAM the scrub engine, and
	 * EXEC jobs (driver 0.3) the tensor engine: all are required rather
	 * than probed per job, so no ioctl has a "not on this card" path.
	 */
	const u32 needed = LPU_CAP_QUEUES | LPU_CAP_FENCE | LPU_CAP_DMA |
			   LPU_CAP_SCRUB | LPU_CAP_EXEC;
	u32 id, version;
	int ret;

	id = lpu_read(ldev, LPU_REG_ID);
	if (id != LPU_ID_MAGIC) {
		drm_err(&ldev->drm, "ID register reads 0x%08x, expected 0x%08x: not an LPU v3\n",
			id, LPU_ID_MAGIC);
		return -ENODEV;
	}

	version = lpu_read(ldev, LPU_REG_VERSION);
	if (version >> 16 != LPU_HW_VERSION_MAJOR) {
		drm_err(&ldev->drm, "hardware version %u.%u not supported, driver needs %u.x\n",
			version >> 16, version & 0xffff, LPU_HW_VERSION_MAJOR);
		return -ENODEV;
	}
	ldev->hw_version = version;

	ret = lpu_hw_reset(ldev);
	if (ret)
		return ret;

	ldev->caps = lpu_read(ldev, LPU_REG_CAPS);
	if ((ldev->caps & needed) != needed) {
		drm_err(&ldev->drm, "capabilities 0x%08x lack queues, fences, DMA, scrub or tensor engine (need 0x%08x)\n",
			ldev->caps, needed);
		return -ENODEV;
	}

	/* Reading LO first is harmless here: the size is constant. */
	ldev->sram_size = lpu_read(ldev, LPU_REG_SRAM_SIZE_LO) |
			  (u64)lpu_read(ldev, LPU_REG_SRAM_SIZE_HI) << 32;
	return 0;
}

/*
 * After the firmware booted: the queues it runs, its largest ring and the
 * SRAM it keeps at the top. The boot ROM checked the image's values; these
 * checks only keep a broken card from confusing the driver.
 */
int lpu_hw_read_fw_config(struct lpu_device *ldev)
{
	u32 nq = lpu_read(ldev, LPU_REG_NUM_QUEUES);
	u32 max_ring = lpu_read(ldev, LPU_REG_MAX_RING_ENTRIES);
	u32 reserved = lpu_read(ldev, LPU_REG_SRAM_RESERVED);

	if (!nq || nq > LPU_NUM_QUEUES) {
		drm_err(&ldev->drm, "firmware %s offers %u queues: expected 1 to %u\n",
			ldev->fw.name, nq, LPU_NUM_QUEUES);
		return -ENODEV;
	}
	if (!is_power_of_2(max_ring) || max_ring < LPU_RING_ENTRIES_MIN ||
	    max_ring > LPU_MAX_RING_ENTRIES) {
		drm_err(&ldev->drm, "firmware %s allows rings of %u entries: expected a power of two from %u to %u\n",
			ldev->fw.name, max_ring, LPU_RING_ENTRIES_MIN,
			LPU_MAX_RING_ENTRIES);
		return -ENODEV;
	}
	if (!IS_ALIGNED(reserved, LPU_PAGE_SIZE) || reserved >= ldev->sram_size) {
		drm_err(&ldev->drm, "firmware %s reserves %u bytes of SRAM: expected a multiple of %u below %llu\n",
			ldev->fw.name, reserved, LPU_PAGE_SIZE, ldev->sram_size);
		return -ENODEV;
	}
	ldev->num_queues = nq;
	ldev->max_ring_entries = max_ring;
	ldev->sram_reserved = reserved;
	return 0;
}

static void lpu_hw_report_error(struct lpu_device *ldev)
{
	u32 code = lpu_read(ldev, LPU_REG_ERROR_CODE);
	u32 queue = lpu_read(ldev, LPU_REG_ERROR_QUEUE);

	/* Acknowledge first, so the next error can latch. */
	lpu_write(ldev, LPU_REG_ERROR_ACK, 1);

	/*
	 * A halted queue raises its own vector too, and that handler logs
	 * the one line with queue, descriptor and job; don't say it twice.
	 */
	if (queue < ldev->num_queues)
		drm_dbg_driver(&ldev->drm, "device error %s (%u) on queue %u\n",
			       lpu_hw_err_name(code), code, queue);
	else
		drm_err_ratelimited(&ldev->drm, "device error %s (%u)\n",
				    lpu_hw_err_name(code), code);
}

static irqreturn_t lpu_hw_irq(int irq, void *arg)
{
	struct lpu_device *ldev = arg;
	u32 status;
	int idx;

	if (!drm_dev_enter(&ldev->drm, &idx))
		return IRQ_NONE;

	/* Queue bits belong to the queue vectors; leave them alone. */
	status = lpu_read(ldev, LPU_REG_IRQ_STATUS) &
		 (LPU_IRQ_ERROR | LPU_IRQ_MAILBOX);
	if (status)
		lpu_write(ldev, LPU_REG_IRQ_STATUS, status);

	if (status & LPU_IRQ_ERROR)
		lpu_hw_report_error(ldev);
	if (status & LPU_IRQ_MAILBOX)
		drm_dbg_driver(&ldev->drm, "firmware mailbox interrupt\n");

	drm_dev_exit(idx);
	return status ? IRQ_HANDLED : IRQ_NONE;
}

int lpu_hw_request_irq(struct lpu_device *ldev)
{
	struct pci_dev *pdev = ldev->pdev;
	int ret;

	ret = devm_request_irq(&pdev->dev,
			       pci_irq_vector(pdev, LPU_MSIX_VEC_DEVICE),
			       lpu_hw_irq, 0, "lpu-device", ldev);
	if (ret)
		drm_err(&ldev->drm, "cannot request device interrupt: %d\n", ret);
	return ret;
}

void lpu_hw_irq_enable(struct lpu_device *ldev)
{
	/* Drop anything latched before we were ready to handle it. */
	lpu_write(ldev, LPU_REG_IRQ_STATUS, LPU_IRQ_ALL);
	lpu_write(ldev, LPU_REG_IRQ_MASK,
		  LPU_IRQ_ERROR | GENMASK(ldev->num_queues - 1, 0));
}

void lpu_hw_irq_disable(struct lpu_device *ldev)
{
	lpu_write(ldev, LPU_REG_IRQ_MASK, 0);
}

/* Mask interrupts and reset: the card forgets every host address it knows. */
void lpu_hw_quiesce(struct lpu_device *ldev)
{
	lpu_hw_irq_disable(ldev);
	lpu_write(ldev, LPU_REG_RESET, LPU_RESET_MAGIC);
}

/* Runs on unbind (and on a failed probe) before the ring memory is freed. */
static void lpu_hw_quiesce_action(void *arg)
{
	lpu_hw_quiesce(arg);
}

int lpu_hw_quiesce_on_unbind(struct lpu_device *ldev)
{
	return devm_add_action_or_reset(&ldev->pdev->dev, lpu_hw_quiesce_action,
					ldev);
}
