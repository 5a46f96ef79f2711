// SPDX-License-Identifier: GPL-2.0-only
/*
 * LPU v3 DRM accel driver: module, PCI probe and removal, DRM registration,
 * file operations and the ioctl table.
 */

#include <linux/compat.h>
#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/pci.h>
#include <linux/uaccess.h>
#include <linux/wait_bit.h>

#include <drm/drm_accel.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>

#include "drm/lpu_accel.h"
#include "lpu_debugfs.h"
#include "lpu_drv.h"
#include "lpu_fw.h"
#include "lpu_gem.h"
#include "lpu_job.h"
#include "lpu_pm.h"
#include "lpu_queue.h"
#include "lpu_regs.h"
#include "lpu_space.h"

unsigned int lpu_job_timeout_ms = 5000;
module_param_named(job_timeout_ms, lpu_job_timeout_ms, uint, 0444);
MODULE_PARM_DESC(job_timeout_ms,
		 "Time a job may run before its queue is reset, ms (0: no limit; default 5000)");

unsigned int lpu_ring_entries = 256;
module_param_named(ring_entries, lpu_ring_entries, uint, 0444);
MODULE_PARM_DESC(ring_entries,
		 "Descriptors per hardware ring, a power of two >= 4 (default 256)");

unsigned int lpu_pin_limit_mb;
module_param_named(pin_limit_mb, lpu_pin_limit_mb, uint, 0444);
MODULE_PARM_DESC(pin_limit_mb,
		 "Host memory jobs may pin per device, MiB (0: half of RAM, the default)");

struct workqueue_struct *lpu_wq;

/* Devices whose DRM release has not run yet; module unload waits for 0. */
static atomic_t lpu_devices = ATOMIC_INIT(0);

static int lpu_ioctl_get_info(struct drm_device *drm, void *data,
			      struct drm_file *file)
{
	struct lpu_device *ldev = to_lpu_device(drm);
	struct drm_lpu_info *args = data;
	int idx;

	if (args->flags || args->pad) {
		drm_dbg_driver(drm, "GET_INFO: flags 0x%x and pad 0x%x must be 0\n",
			       args->flags, args->pad);
		return -EINVAL;
	}

	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;

	args->vendor_id = ldev->pdev->vendor;
	args->device_id = ldev->pdev->device;
	args->revision = ldev->pdev->revision;
	args->num_queues = ldev->num_queues;
	args->hw_version = ldev->hw_version;
	args->ring_entries = ldev->ring_entries;
	args->capabilities = ldev->caps;
	args->sram_size = ldev->sram_size;
	args->driver_version = LPU_VERSION_ENCODE(LPU_DRIVER_MAJOR,
						  LPU_DRIVER_MINOR,
						  LPU_DRIVER_PATCH);
	/*
	 * Read live: 0 if a reboot after a reset or resume failed and the
	 * card runs its boot ROM only.
	 */
	args->fw_version = lpu_read(ldev, LPU_REG_FW_VERSION);
	args->fw_abi_version = lpu_read(ldev, LPU_REG_FW_ABI);
	args->sram_reserved = ldev->sram_reserved;

	drm_dev_exit(idx);
	return 0;
}

static const struct drm_ioctl_desc lpu_drm_ioctls[] = {
	DRM_IOCTL_DEF_DRV(LPU_GET_INFO, lpu_ioctl_get_info, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(LPU_SUBMIT, lpu_ioctl_submit, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(LPU_WAIT, lpu_ioctl_wait, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(LPU_BO_CREATE, lpu_ioctl_bo_create, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(LPU_BO_INFO, lpu_ioctl_bo_info, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(LPU_BO_WAIT, lpu_ioctl_bo_wait, DRM_RENDER_ALLOW),
};

/*
 * Size of the first version of each argument struct: the smallest size
 * userspace may pass. Structs only ever grow at their end.
 */
static const u16 lpu_ioctl_min_size[] = {
	[DRM_LPU_GET_INFO] = offsetofend(struct drm_lpu_info, fw_version),
	[DRM_LPU_SUBMIT] = offsetofend(struct drm_lpu_submit, seq),
	[DRM_LPU_WAIT] = offsetofend(struct drm_lpu_wait, device_ns),
	[DRM_LPU_BO_CREATE] = sizeof(struct drm_lpu_bo_create),
	[DRM_LPU_BO_INFO] = sizeof(struct drm_lpu_bo_info),
	[DRM_LPU_BO_WAIT] = sizeof(struct drm_lpu_bo_wait),
};

static_assert(ARRAY_SIZE(lpu_ioctl_min_size) == ARRAY_SIZE(lpu_drm_ioctls));

/*
 * DRM core ioctls an accel client may use. DRM core hands every core ioctl
 * to accel nodes too, and on 6.12 some of them assume a DRM master, which
 * accel files never have: DRM_IOCTL_GET_MAGIC and DRM_IOCTL_GET_UNIQUE
 * dereference a NULL file_priv->master, an oops any user of the node can
 * trigger (found by selftests/lpu/fuzz_lpu.c). Only what makes sense on a
 * compute node goes through: GEM_CLOSE and PRIME for buffer objects (they
 * need DRIVER_GEM: without it DRM core never initialises the file's GEM
 * handle table, yet 6.12's PRIME ioctl still takes its lock), and the
 * syncobj ioctls (DRIVER_SYNCOBJ). Not FLINK/OPEN: global names would share
 * a buffer with anyone who guesses the name, and sharing must be explicit.
 */
static bool lpu_core_ioctl_allowed(struct drm_device *drm, unsigned int nr)
{
	switch (nr) {
	case _IOC_NR(DRM_IOCTL_GEM_CLOSE):
	case _IOC_NR(DRM_IOCTL_PRIME_HANDLE_TO_FD):
	case _IOC_NR(DRM_IOCTL_PRIME_FD_TO_HANDLE):
		return drm_core_check_feature(drm, DRIVER_GEM);
	case _IOC_NR(DRM_IOCTL_VERSION):
	case _IOC_NR(DRM_IOCTL_GET_CAP):
	case _IOC_NR(DRM_IOCTL_SET_CLIENT_CAP):
	case _IOC_NR(DRM_IOCTL_SYNCOBJ_CREATE):
	case _IOC_NR(DRM_IOCTL_SYNCOBJ_DESTROY):
	case _IOC_NR(DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD):
	case _IOC_NR(DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE):
	case _IOC_NR(DRM_IOCTL_SYNCOBJ_WAIT):
	case _IOC_NR(DRM_IOCTL_SYNCOBJ_RESET):
	case _IOC_NR(DRM_IOCTL_SYNCOBJ_SIGNAL):
	case _IOC_NR(DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT):
	case _IOC_NR(DRM_IOCTL_SYNCOBJ_QUERY):
	case _IOC_NR(DRM_IOCTL_SYNCOBJ_TRANSFER):
	case _IOC_NR(DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL):
	case _IOC_NR(DRM_IOCTL_SYNCOBJ_EVENTFD):
		return true;
	}
	return false;
}

/* Where each syncobj array ioctl keeps its count_handles. */
static int lpu_syncobj_count_offset(unsigned int nr)
{
	switch (nr) {
	case _IOC_NR(DRM_IOCTL_SYNCOBJ_WAIT):
		return offsetof(struct drm_syncobj_wait, count_handles);
	case _IOC_NR(DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT):
		return offsetof(struct drm_syncobj_timeline_wait, count_handles);
	case _IOC_NR(DRM_IOCTL_SYNCOBJ_RESET):
	case _IOC_NR(DRM_IOCTL_SYNCOBJ_SIGNAL):
		return offsetof(struct drm_syncobj_array, count_handles);
	case _IOC_NR(DRM_IOCTL_SYNCOBJ_QUERY):
	case _IOC_NR(DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL):
		return offsetof(struct drm_syncobj_timeline_array, count_handles);
	}
	return -1;
}

/*
 * DRM core's syncobj array ioctls (6.12) kmalloc_array() count_handles
 * entries without __GFP_NOWARN, so a huge count makes the page allocator
 * WARN (found by selftests/lpu/fuzz_lpu.c once DRIVER_SYNCOBJ was set).
 * Refuse counts above DRM_LPU_MAX_SYNCOBJ_HANDLES before DRM core copies
 * the arguments. A second thread that raises the count between this read
 * and DRM core's copy still gets through; only DRM core can close that, so
 * this stops every single-threaded caller and accidental misuse.
 */
static int lpu_syncobj_count_check(struct drm_device *drm, unsigned int nr,
				   void __user *uarg)
{
	int off = lpu_syncobj_count_offset(nr);
	u32 count;

	if (off < 0)
		return 0;
	if (get_user(count, (u32 __user *)(uarg + off)))
		return -EFAULT;
	if (count > DRM_LPU_MAX_SYNCOBJ_HANDLES) {
		drm_dbg_driver(drm, "syncobj ioctl 0x%02x: %u handles, at most %u\n",
			       nr, count, DRM_LPU_MAX_SYNCOBJ_HANDLES);
		return -EINVAL;
	}
	return 0;
}

/*
 * The size rules of uapi/drm/lpu_accel.h, checked before DRM core copies
 * the arguments: too small is -EINVAL, larger than the kernel's struct is
 * fine only if the extra bytes are zero (-E2BIG otherwise). DRM core then
 * copies min(user, kernel) bytes and zero-fills the rest. DRM core ioctls
 * pass only if lpu_core_ioctl_allowed(); other driver numbers are left to
 * DRM core, which rejects them.
 */
static int lpu_ioctl_check(struct file *filp, unsigned int cmd,
			   void __user *uarg)
{
	struct drm_file *file = filp->private_data;
	struct drm_device *drm = file->minor->dev;
	unsigned int nr = _IOC_NR(cmd);
	unsigned int index, usize, ksize, kcmd;
	int ret;

	if (_IOC_TYPE(cmd) != DRM_IOCTL_BASE)
		return 0;
	if (nr < DRM_COMMAND_BASE || nr >= DRM_COMMAND_END) {
		if (!lpu_core_ioctl_allowed(drm, nr)) {
			drm_dbg_driver(drm, "DRM core ioctl 0x%02x is not for accel nodes\n",
				       nr);
			return -EINVAL;
		}
		return lpu_syncobj_count_check(drm, nr, uarg);
	}
	if (nr >= DRM_COMMAND_BASE + ARRAY_SIZE(lpu_drm_ioctls))
		return 0;

	index = array_index_nospec(nr - DRM_COMMAND_BASE,
				   ARRAY_SIZE(lpu_drm_ioctls));
	kcmd = lpu_drm_ioctls[index].cmd;
	usize = _IOC_SIZE(cmd);
	ksize = _IOC_SIZE(kcmd);

	if (_IOC_DIR(cmd) != _IOC_DIR(kcmd)) {
		drm_dbg_driver(drm, "%s: direction bits %u, expected %u\n",
			       lpu_drm_ioctls[index].name, _IOC_DIR(cmd),
			       _IOC_DIR(kcmd));
		return -EINVAL;
	}
	if (usize < lpu_ioctl_min_size[index]) {
		drm_dbg_driver(drm, "%s: argument of %u bytes, at least %u needed\n",
			       lpu_drm_ioctls[index].name, usize,
			       lpu_ioctl_min_size[index]);
		return -EINVAL;
	}
	if (usize > ksize) {
		ret = check_zeroed_user(uarg + ksize, usize - ksize);
		if (ret < 0)
			return ret;
		if (!ret) {
			drm_dbg_driver(drm, "%s: bytes %u..%u unknown to the kernel not zero\n",
				       lpu_drm_ioctls[index].name, ksize,
				       usize - 1);
			return -E2BIG;
		}
	}
	return 0;
}

static long lpu_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	int ret;

	ret = lpu_ioctl_check(filp, cmd, (void __user *)arg);
	if (ret)
		return ret;
	return drm_ioctl(filp, cmd, arg);
}

#ifdef CONFIG_COMPAT
static long lpu_compat_ioctl(struct file *filp, unsigned int cmd,
			     unsigned long arg)
{
	int ret;

	ret = lpu_ioctl_check(filp, cmd, compat_ptr(arg));
	if (ret)
		return ret;
	return drm_compat_ioctl(filp, cmd, arg);
}
#else
#define lpu_compat_ioctl NULL
#endif

/* DRM_ACCEL_FOPS with our ioctl wrapper and fdinfo. */
static const struct file_operations lpu_fops = {
	.owner = THIS_MODULE,
	.open = accel_open,
	.release = drm_release,
	.unlocked_ioctl = lpu_ioctl,
	.compat_ioctl = lpu_compat_ioctl,
	.poll = drm_poll,
	.read = drm_read,
	.llseek = noop_llseek,
	.mmap = drm_gem_mmap,
	.show_fdinfo = drm_show_fdinfo,
	.fop_flags = FOP_UNSIGNED_OFFSET,
};

static int lpu_drm_open(struct drm_device *drm, struct drm_file *file)
{
	return lpu_file_open(to_lpu_device(drm), file);
}

static void lpu_drm_postclose(struct drm_device *drm, struct drm_file *file)
{
	lpu_file_close(file);
}

static const struct drm_driver lpu_drm_driver = {
	.driver_features = DRIVER_COMPUTE_ACCEL | DRIVER_GEM | DRIVER_SYNCOBJ,
	.open = lpu_drm_open,
	.postclose = lpu_drm_postclose,
	.show_fdinfo = lpu_file_show_fdinfo,
	.gem_create_object = lpu_gem_create_object,
	.gem_prime_import = lpu_gem_prime_import,
	.ioctls = lpu_drm_ioctls,
	.num_ioctls = ARRAY_SIZE(lpu_drm_ioctls),
	.fops = &lpu_fops,
	.name = DRM_LPU_DRIVER_NAME,
	.desc = LPU_DRIVER_DESC,
	.major = LPU_DRIVER_MAJOR,
	.minor = LPU_DRIVER_MINOR,
	.patchlevel = LPU_DRIVER_PATCH,
};

static int lpu_pick_ring_entries(struct lpu_device *ldev)
{
	u32 max = min_t(u32, ldev->max_ring_entries, LPU_MAX_RING_ENTRIES);
	u32 n = lpu_ring_entries;

	/* Jobs take at least two descriptors; the ring needs one spare pair. */
	if (!is_power_of_2(n) || n < LPU_RING_ENTRIES_MIN ||
	    n > LPU_MAX_RING_ENTRIES) {
		drm_err(&ldev->drm, "ring_entries=%u invalid: need a power of two in [%u, %u]\n",
			n, LPU_RING_ENTRIES_MIN, LPU_MAX_RING_ENTRIES);
		return -EINVAL;
	}
	/* The firmware's limit is the card's, not a mistake of the user's. */
	if (n > max) {
		drm_info(&ldev->drm, "ring_entries=%u above the firmware's limit: using %u\n",
			 n, max);
		n = max;
	}
	ldev->ring_entries = n;
	return 0;
}

/* The last step of a device's DRM release (the first action registered). */
static void lpu_device_released(struct drm_device *drm, void *unused)
{
	if (atomic_dec_and_test(&lpu_devices))
		wake_up_var(&lpu_devices);
}

static int lpu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct lpu_device *ldev;
	struct drm_device *drm;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret) {
		dev_err(&pdev->dev, "cannot enable PCI device: %d\n", ret);
		return ret;
	}

	ldev = devm_drm_dev_alloc(&pdev->dev, &lpu_drm_driver,
				  struct lpu_device, drm);
	if (IS_ERR(ldev))
		return PTR_ERR(ldev);
	drm = &ldev->drm;
	ldev->pdev = pdev;
	pci_set_drvdata(pdev, ldev);
	atomic_inc(&lpu_devices);
	ret = drmm_add_action_or_reset(drm, lpu_device_released, NULL);
	if (ret)
		return ret;

	if (pci_resource_len(pdev, LPU_BAR_REGS) < LPU_REGS_SIZE) {
		drm_err(drm, "BAR%d is %llu bytes, registers need %u\n",
			LPU_BAR_REGS,
			(unsigned long long)pci_resource_len(pdev, LPU_BAR_REGS),
			LPU_REGS_SIZE);
		return -ENODEV;
	}
	ldev->regs = pcim_iomap_region(pdev, LPU_BAR_REGS, DRM_LPU_DRIVER_NAME);
	if (IS_ERR(ldev->regs)) {
		ret = PTR_ERR(ldev->regs);
		drm_err(drm, "cannot map BAR%d: %d\n", LPU_BAR_REGS, ret);
		return ret;
	}

	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret) {
		drm_err(drm, "64-bit DMA not available: %d\n", ret);
		return ret;
	}
	/*
	 * The device reads host buffers page by page through page tables, so
	 * a scatterlist segment may be of any length.
	 */
	dma_set_max_seg_size(&pdev->dev, UINT_MAX);
	pci_set_master(pdev);

	ret = lpu_hw_init(ldev);
	if (ret)
		return ret;
	/*
	 * The card runs no queue, and NUM_QUEUES, MAX_RING_ENTRIES and
	 * SRAM_RESERVED read 0, until its firmware booted: boot it first.
	 */
	ret = lpu_fw_init(ldev);
	if (ret)
		/*
		 * Its one line said what is wrong. With -ENODEV the driver
		 * core adds no "probe failed" error line of its own.
		 */
		return ret == -ENOMEM ? ret : -ENODEV;
	/*
	 * A probe that fails from here on must not leave the firmware
	 * running on an unbound card: reset it on the way out too (the
	 * action registered last, below, covers the queues on unbind).
	 */
	ret = lpu_hw_quiesce_on_unbind(ldev);
	if (ret)
		return ret;
	ret = lpu_hw_read_fw_config(ldev);
	if (ret)
		return ret;
	ret = lpu_pick_ring_entries(ldev);
	if (ret)
		return ret;
	ret = drmm_mutex_init(drm, &ldev->space_lock);
	if (ret)
		return ret;
	INIT_LIST_HEAD(&ldev->spaces);
	init_rwsem(&ldev->space_release_sem);
	/* Pinned pages cannot be swapped: leave the rest of RAM to others. */
	ldev->pin_limit = lpu_pin_limit_mb ? (u64)lpu_pin_limit_mb << 20 :
			  ((u64)totalram_pages() << PAGE_SHIFT) / 2;
	atomic64_set(&ldev->pinned, 0);
	ret = lpu_sram_init(ldev);
	if (ret)
		return ret;

	ret = pci_alloc_irq_vectors(pdev, LPU_MSIX_NUM_VECTORS,
				    LPU_MSIX_NUM_VECTORS, PCI_IRQ_MSIX);
	if (ret < 0) {
		drm_err(drm, "cannot allocate %d MSI-X vectors: %d\n",
			LPU_MSIX_NUM_VECTORS, ret);
		return ret;
	}

	ret = lpu_hw_request_irq(ldev);
	if (ret)
		return ret;
	ret = lpu_queues_init(ldev);
	if (ret)
		return ret;
	/* Registered last so that on unbind it runs before anything is freed. */
	ret = lpu_hw_quiesce_on_unbind(ldev);
	if (ret)
		return ret;
	lpu_hw_irq_enable(ldev);
	ret = lpu_fw_sysfs_init(ldev);
	if (ret)
		return ret;

	ret = drm_dev_register(drm, 0);
	if (ret) {
		drm_err(drm, "cannot register DRM device: %d\n", ret);
		return ret;
	}
	lpu_debugfs_init(ldev);

	drm_info(drm, "LPU v%u.%u bound as accel%d: %llu MiB SRAM (%llu KiB kept by the firmware), %u queues of %u descriptors\n",
		 ldev->hw_version >> 16, ldev->hw_version & 0xffff,
		 drm->accel->index, ldev->sram_size >> 20,
		 ldev->sram_reserved >> 10, ldev->num_queues,
		 ldev->ring_entries);
	return 0;
}

static void lpu_remove(struct pci_dev *pdev)
{
	struct lpu_device *ldev = pci_get_drvdata(pdev);
	u32 failed;

	lpu_debugfs_fini(ldev);
	/* Waits for every ioctl, interrupt and run_job() inside the device. */
	drm_dev_unplug(&ldev->drm);
	lpu_hw_irq_disable(ldev);
	failed = lpu_queues_shutdown(ldev);
	/* Nothing runs on the card any more: take back the jobs' DMA memory. */
	lpu_hw_quiesce(ldev);
	lpu_space_release_all_dma(ldev);
	drm_info(&ldev->drm, "removed: %u jobs on the card failed with -ENODEV; open files get -ENODEV until closed\n",
		 failed);
	/* devres now resets the card, then frees interrupts and rings. */
}

/*
 * Reboot or kexec: the device stays bound, but no DMA may survive into the
 * next kernel. Fail what is in flight, keep recovery from re-arming any
 * queue, then reset the card and stop its bus mastering.
 */
static void lpu_shutdown(struct pci_dev *pdev)
{
	struct lpu_device *ldev = pci_get_drvdata(pdev);

	lpu_hw_irq_disable(ldev);
	lpu_queues_shutdown(ldev);
	lpu_hw_quiesce(ldev);
	pci_clear_master(pdev);
}

static const struct pci_device_id lpu_pci_ids[] = {
	{ PCI_DEVICE(LPU_PCI_VENDOR_ID, LPU_PCI_DEVICE_ID_V3) },
	{ }
};
MODULE_DEVICE_TABLE(pci, lpu_pci_ids);

static struct pci_driver lpu_pci_driver = {
	.name = DRM_LPU_DRIVER_NAME,
	.id_table = lpu_pci_ids,
	.probe = lpu_probe,
	.remove = lpu_remove,
	.shutdown = lpu_shutdown,
	.err_handler = &lpu_pci_err_handlers,
	.driver.pm = pm_sleep_ptr(&lpu_pm_ops),
};

static int __init lpu_init(void)
{
	int ret;

	lpu_wq = alloc_workqueue("lpu", WQ_UNBOUND, 0);
	if (!lpu_wq)
		return -ENOMEM;
	ret = pci_register_driver(&lpu_pci_driver);
	if (ret)
		destroy_workqueue(lpu_wq);
	return ret;
}
module_init(lpu_init);

static void __exit lpu_exit(void)
{
	pci_unregister_driver(&lpu_pci_driver);
	/*
	 * A job keeps its device past unbind until the scheduler has freed
	 * it, which needs no hardware (remove() failed everything in flight)
	 * and no open file (none can be open while the module unloads), so
	 * this ends. Then drain the releases, which run driver code.
	 */
	wait_var_event(&lpu_devices, !atomic_read(&lpu_devices));
	destroy_workqueue(lpu_wq);
}
module_exit(lpu_exit);

MODULE_DESCRIPTION("DRM accel driver for the LPU v3 inference accelerator");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DMA_BUF);
