// SPDX-License-Identifier: GPL-2.0-only
/*
 * LPU v3 debugfs, in the accel device directory DRM creates,
 * /sys/kernel/debug/accel/<PCI address>/, reachable as accel/<minor> too:
 *
 *   queues                 one line per queue: index, head, tail, done
 *                          (device registers), state, and driver counters
 *   sram                   SRAM used, scrubs done, quarantined ranges and the
 *                          allocator's map of ranges
 *   inject_bad_descriptor  write a queue index: the next job submitted on
 *                          queue is emitted with an invalid opcode, so the
 *                          device halts the queue and the driver recovers
 */

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/seq_file.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>

#include "lpu_debugfs.h"
#include "lpu_drv.h"
#include "lpu_queue.h"
#include "lpu_sram.h"

static int lpu_queues_show(struct seq_file *m, void *unused)
{
	struct lpu_device *ldev = m->private;
	u32 i;
	int idx;

	if (!drm_dev_enter(&ldev->drm, &idx))
		return -ENODEV;
	for (i = 0; i < ldev->num_queues; i++)
		lpu_queue_show(&ldev->queues[i], m);
	drm_dev_exit(idx);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(lpu_queues);

static int lpu_sram_debugfs_show(struct seq_file *m, void *unused)
{
	lpu_sram_show(m->private, m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(lpu_sram_debugfs);

/* Host memory pinned for jobs, and its limit (module parameter pin_limit_mb). */
static int lpu_pinned_show(struct seq_file *m, void *unused)
{
	struct lpu_device *ldev = m->private;

	seq_printf(m, "pinned=%lld limit=%llu\n",
		   (long long)atomic64_read(&ldev->pinned), ldev->pin_limit);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(lpu_pinned);

static ssize_t lpu_inject_bad_write(struct file *file, const char __user *buf,
				    size_t count, loff_t *pos)
{
	struct lpu_device *ldev = file->private_data;
	unsigned int queue;
	int ret, idx;

	ret = kstrtouint_from_user(buf, count, 10, &queue);
	if (ret)
		return ret;
	if (queue >= ldev->num_queues)
		return -EINVAL;

	if (!drm_dev_enter(&ldev->drm, &idx))
		return -ENODEV;
	lpu_queue_inject_bad(&ldev->queues[queue]);
	drm_dev_exit(idx);
	return count;
}

static const struct file_operations lpu_inject_bad_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = lpu_inject_bad_write,
	.llseek = noop_llseek,
};

void lpu_debugfs_init(struct lpu_device *ldev)
{
	struct dentry *root = ldev->drm.debugfs_root;
	char name[16];

	if (IS_ERR_OR_NULL(root))
		return;

	debugfs_create_file("queues", 0444, root, ldev, &lpu_queues_fops);
	debugfs_create_file("sram", 0444, root, ldev, &lpu_sram_debugfs_fops);
	debugfs_create_file("pinned", 0444, root, ldev, &lpu_pinned_fops);
	debugfs_create_file("inject_bad_descriptor", 0200, root, ldev,
			    &lpu_inject_bad_fops);

	/*
	 * 6.12 names an accel device's directory after its parent device
	 * and has no per-minor alias; add one so tools can find it from
	 * /dev/accel/accelN alone.
	 */
	snprintf(name, sizeof(name), "%d", ldev->drm.accel->index);
	ldev->debugfs_link = debugfs_create_symlink(name, root->d_parent,
						    ldev->drm.unique);
}

void lpu_debugfs_fini(struct lpu_device *ldev)
{
	debugfs_remove(ldev->debugfs_link);
	ldev->debugfs_link = NULL;
}
