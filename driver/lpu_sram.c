// SPDX-License-Identifier: GPL-2.0-only
/*
 * LPU v3 SRAM allocator and scrubbing.
 *
 * SRAM buffers are ranges of a drm_mm over the card's SRAM, page aligned and
 * placed best-fit, so that small buffers fill small holes and large holes
 * stay large. A freed range is zeroed by the card's scrub engine before it
 * goes back to the allocator, and the whole SRAM is zeroed at probe: SRAM
 * survives device resets and driver reloads, and no client may ever read
 * what another one left there. A range whose scrub fails is quarantined,
 * never handed out again, rather than risk a leak.
 */

#include <linux/io.h>
#include <linux/iopoll.h>
#include <linux/math64.h>
#include <linux/pci.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include <drm/drm_drv.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>

#include "drm/lpu_accel.h"
#include "lpu_drv.h"
#include "lpu_regs.h"
#include "lpu_sram.h"

#define LPU_SCRUB_POLL_US	20
/* A whole-SRAM scrub takes a few ms of device time; be generous. */
#define LPU_SCRUB_TIMEOUT_MIN_US	(1000 * 1000)

/* Poll budget for zeroing @size bytes: 20x the modelled time, at least 1 s. */
static u64 lpu_scrub_timeout_us(u64 size)
{
	u64 cycles = div64_u64(size + LPU_SCRUB_BYTES_PER_CYCLE - 1,
			       LPU_SCRUB_BYTES_PER_CYCLE);
	u64 us = div64_u64(cycles * 20, LPU_CLOCK_MHZ);

	return max_t(u64, us, LPU_SCRUB_TIMEOUT_MIN_US);
}

static int lpu_scrub_poll_idle(struct lpu_device *ldev, u64 size, u32 *status)
{
	return readl_poll_timeout(ldev->regs + LPU_REG_SCRUB_STATUS, *status,
				  !(*status & LPU_SCRUB_STATUS_BUSY),
				  LPU_SCRUB_POLL_US, lpu_scrub_timeout_us(size));
}

/*
 * Wait for the engine to go idle. The budget follows modelled device time,
 * but an emulated card is slower on a loaded host: a miss is logged and
 * waited out once more before the caller gives up (and quarantines the
 * range, for good), so a slow host costs time, not SRAM.
 */
static int lpu_scrub_wait_idle(struct lpu_device *ldev, u64 size, u32 *status)
{
	int ret;

	ret = lpu_scrub_poll_idle(ldev, size, status);
	if (ret != -ETIMEDOUT)
		return ret;
	drm_warn(&ldev->drm, "scrub engine still busy after %llu us (status 0x%x); waiting once more\n",
		 lpu_scrub_timeout_us(size), *status);
	ret = lpu_scrub_poll_idle(ldev, size, status);
	if (ret)
		drm_err(&ldev->drm, "scrub engine still busy after twice %llu us (status 0x%x): timed out\n",
			lpu_scrub_timeout_us(size), *status);
	return ret;
}

static int lpu_scrub_engine(struct lpu_device *ldev, u64 offset, u64 size)
{
	u32 status;
	int ret;

	/* An earlier scrub that timed out may still run: START would be ignored. */
	ret = lpu_scrub_wait_idle(ldev, ldev->sram.size, &status);
	if (ret)
		goto timeout;

	lpu_write(ldev, LPU_REG_SCRUB_OFFSET_LO, lower_32_bits(offset));
	lpu_write(ldev, LPU_REG_SCRUB_OFFSET_HI, upper_32_bits(offset));
	lpu_write(ldev, LPU_REG_SCRUB_SIZE_LO, lower_32_bits(size));
	lpu_write(ldev, LPU_REG_SCRUB_SIZE_HI, upper_32_bits(size));
	lpu_write(ldev, LPU_REG_SCRUB_CTRL, LPU_SCRUB_CMD_START);

	ret = lpu_scrub_wait_idle(ldev, size, &status);
	if (ret)
		goto timeout;
	if (status & LPU_SCRUB_STATUS_ERROR) {
		drm_err(&ldev->drm, "scrub of SRAM 0x%llx+0x%llx refused by the card (status 0x%x)\n",
			offset, size, status);
		return -EIO;
	}
	return 0;

timeout:
	drm_err(&ldev->drm, "scrub of SRAM 0x%llx+0x%llx timed out (status 0x%x)\n",
		offset, size, status);
	return ret;
}

/* Zero [offset, offset + size) of SRAM; the caller is inside drm_dev_enter(). */
static int lpu_sram_scrub(struct lpu_device *ldev, u64 offset, u64 size)
{
	struct lpu_sram *sram = &ldev->sram;
	int ret;

	mutex_lock(&sram->scrub_lock);
	/* Not while the card resets: the scrub would fail and cost SRAM. */
	while (sram->paused) {
		mutex_unlock(&sram->scrub_lock);
		wait_event(sram->unpaused, !READ_ONCE(sram->paused));
		mutex_lock(&sram->scrub_lock);
	}
	ret = lpu_scrub_engine(ldev, offset, size);
	mutex_unlock(&sram->scrub_lock);

	if (!ret) {
		mutex_lock(&sram->lock);
		sram->scrubs++;
		mutex_unlock(&sram->lock);
	}
	return ret;
}

/*
 * Around a device reset (lpu_pm.c): wait for a scrub in progress, and keep
 * new ones waiting until the card is back. A flag rather than holding the
 * lock, since suspend and resume may run in different threads.
 */
void lpu_sram_pause(struct lpu_device *ldev)
{
	struct lpu_sram *sram = &ldev->sram;

	mutex_lock(&sram->scrub_lock);
	WRITE_ONCE(sram->paused, true);
	mutex_unlock(&sram->scrub_lock);
}

void lpu_sram_unpause(struct lpu_device *ldev)
{
	struct lpu_sram *sram = &ldev->sram;

	mutex_lock(&sram->scrub_lock);
	WRITE_ONCE(sram->paused, false);
	mutex_unlock(&sram->scrub_lock);
	wake_up_all(&sram->unpaused);
}

struct lpu_sram_range *lpu_sram_alloc(struct lpu_device *ldev, u64 size)
{
	struct lpu_sram *sram = &ldev->sram;
	struct lpu_sram_range *range;
	int ret;

	range = kzalloc(sizeof(*range), GFP_KERNEL);
	if (!range)
		return ERR_PTR(-ENOMEM);
	INIT_LIST_HEAD(&range->link);

	mutex_lock(&sram->lock);
	ret = drm_mm_insert_node_in_range(&sram->mm, &range->node, size,
					  LPU_PAGE_SIZE, 0, 0, sram->size,
					  DRM_MM_INSERT_BEST);
	if (!ret)
		sram->used += size;
	mutex_unlock(&sram->lock);

	if (ret) {
		kfree(range);
		return ERR_PTR(ret);
	}
	return range;
}

/*
 * Give @range back once it is zeroed. Runs when a buffer's last reference
 * goes, in process context. After removal nothing is scrubbed (the card is
 * gone, and the next driver instance scrubs all of it at probe), and the
 * range only leaves the allocator, which is torn down with the device.
 */
void lpu_sram_free(struct lpu_device *ldev, struct lpu_sram_range *range)
{
	struct lpu_sram *sram = &ldev->sram;
	u64 start = range->node.start, size = range->node.size;
	int idx, ret = 0;

	if (drm_dev_enter(&ldev->drm, &idx)) {
		ret = lpu_sram_scrub(ldev, start, size);
		drm_dev_exit(idx);
	}

	mutex_lock(&sram->lock);
	sram->used -= size;
	if (ret) {
		if (!sram->quarantined)
			drm_err(&ldev->drm, "SRAM 0x%llx+0x%llx could not be scrubbed: quarantined, never reused (see debugfs sram)\n",
				start, size);
		list_add_tail(&range->link, &sram->quarantine);
		sram->quarantined += size;
		range = NULL;
	} else {
		drm_mm_remove_node(&range->node);
	}
	mutex_unlock(&sram->lock);
	kfree(range);
}

u64 lpu_sram_used(struct lpu_device *ldev)
{
	u64 used;

	mutex_lock(&ldev->sram.lock);
	used = ldev->sram.used;
	mutex_unlock(&ldev->sram.lock);
	return used;
}

/* debugfs: counters, then the allocator's own dump of its ranges. */
void lpu_sram_show(struct lpu_device *ldev, struct seq_file *m)
{
	struct lpu_sram *sram = &ldev->sram;
	struct drm_printer p = drm_seq_file_printer(m);
	struct lpu_sram_range *range;

	mutex_lock(&sram->lock);
	seq_printf(m, "total=%llu used=%llu scrubs=%llu quarantined=%llu\n",
		   sram->size, sram->used, sram->scrubs, sram->quarantined);
	list_for_each_entry(range, &sram->quarantine, link)
		seq_printf(m, "quarantined 0x%llx+0x%llx\n", range->node.start,
			   range->node.size);
	drm_mm_print(&sram->mm, &p);
	mutex_unlock(&sram->lock);
}

static void lpu_sram_fini(struct drm_device *drm, void *arg)
{
	struct lpu_sram *sram = arg;
	struct lpu_sram_range *range, *tmp;

	/* Every buffer is gone: only quarantined ranges are left. */
	list_for_each_entry_safe(range, tmp, &sram->quarantine, link) {
		drm_mm_remove_node(&range->node);
		kfree(range);
	}
	if (sram->ready)
		drm_mm_takedown(&sram->mm);
	mutex_destroy(&sram->lock);
	mutex_destroy(&sram->scrub_lock);
}

static ssize_t sram_total_bytes_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	struct lpu_device *ldev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%llu\n", ldev->sram.size);
}
static DEVICE_ATTR_RO(sram_total_bytes);

static ssize_t sram_used_bytes_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct lpu_device *ldev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%llu\n", lpu_sram_used(ldev));
}
static DEVICE_ATTR_RO(sram_used_bytes);

static struct attribute *lpu_sram_attrs[] = {
	&dev_attr_sram_total_bytes.attr,
	&dev_attr_sram_used_bytes.attr,
	NULL
};

static const struct attribute_group lpu_sram_group = {
	.attrs = lpu_sram_attrs,
};

/*
 * Probe: find the SRAM BAR, zero all of SRAM (a previous driver instance's
 * clients may have left data there) and set up the allocator.
 */
int lpu_sram_init(struct lpu_device *ldev)
{
	struct lpu_sram *sram = &ldev->sram;
	struct pci_dev *pdev = ldev->pdev;
	resource_size_t len = pci_resource_len(pdev, LPU_BAR_SRAM);
	int ret;

	mutex_init(&sram->lock);
	mutex_init(&sram->scrub_lock);
	init_waitqueue_head(&sram->unpaused);
	INIT_LIST_HEAD(&sram->quarantine);
	ret = drmm_add_action_or_reset(&ldev->drm, lpu_sram_fini, sram);
	if (ret)
		return ret;

	if (!ldev->sram_size || !IS_ALIGNED(ldev->sram_size, LPU_PAGE_SIZE) ||
	    len < ldev->sram_size ||
	    !(pci_resource_flags(pdev, LPU_BAR_SRAM) & IORESOURCE_MEM)) {
		drm_err(&ldev->drm, "SRAM of %llu bytes does not fit BAR%d of %llu bytes\n",
			ldev->sram_size, LPU_BAR_SRAM, (unsigned long long)len);
		return -ENODEV;
	}
	ret = pcim_request_region(pdev, LPU_BAR_SRAM, DRM_LPU_DRIVER_NAME);
	if (ret) {
		drm_err(&ldev->drm, "cannot claim BAR%d: %d\n", LPU_BAR_SRAM, ret);
		return ret;
	}
	sram->bar_start = pci_resource_start(pdev, LPU_BAR_SRAM);
	/*
	 * The firmware keeps the top of SRAM for itself; the card refuses
	 * segments, copies and scrubs touching it, so it is not ours to
	 * hand out (lpu_hw_read_fw_config() checked it is below the size).
	 */
	sram->size = ldev->sram_size - ldev->sram_reserved;

	ret = lpu_sram_scrub(ldev, 0, sram->size);
	if (ret) {
		drm_err(&ldev->drm, "cannot zero SRAM at probe: %d\n", ret);
		return ret;
	}

	drm_mm_init(&sram->mm, 0, sram->size);
	sram->ready = true;

	ret = devm_device_add_group(&pdev->dev, &lpu_sram_group);
	if (ret)
		drm_err(&ldev->drm, "cannot add SRAM sysfs files: %d\n", ret);
	return ret;
}
