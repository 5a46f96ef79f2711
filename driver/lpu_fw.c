// SPDX-License-Identifier: GPL-2.0-only
/*
 * LPU v3 card firmware.
 *
 * The card runs no queue until its boot ROM has booted a signed image
 * (firmware/lpu_fw.md). At probe the driver requests the file, refuses what
 * it can tell is wrong without the card (missing, empty, larger than the
 * boot ROM reads), copies it into coherent DMA memory that stays allocated
 * while the device is bound, and boots it: FW_ADDR and FW_SIZE, then BOOT,
 * then FW_STATUS is polled until READY or ERROR. The boot ROM is the
 * authority on the image; the driver only turns what it reports into one
 * log line, and checks that the firmware speaks a host interface it knows.
 *
 * Every failure is exactly one error line of the form
 *   firmware <name>: <what>: expected <x>, found <y>
 * so that whoever installs firmware learns from one line what is wrong.
 */

#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/firmware.h>
#include <linux/iopoll.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include <drm/drm_print.h>

#include "lpu_drv.h"
#include "lpu_fw.h"
#include "lpu_regs.h"

/* The boot ROM needs LPU_FW_BOOT_NS (2 ms) of device time: poll gently. */
#define LPU_FW_POLL_US		1000

static char *lpu_fw_name = LPU_FW_NAME;
module_param_named(firmware, lpu_fw_name, charp, 0444);
MODULE_PARM_DESC(firmware,
		 "Card firmware file under /lib/firmware (default " LPU_FW_NAME ")");

static unsigned int lpu_fw_boot_timeout_ms = 2000;
module_param_named(fw_boot_timeout_ms, lpu_fw_boot_timeout_ms, uint, 0444);
MODULE_PARM_DESC(fw_boot_timeout_ms,
		 "Time the card may take to boot its firmware, ms (default 2000)");

MODULE_FIRMWARE(LPU_FW_NAME);

static const char * const lpu_fw_state_names[] = {
	[LPU_FW_STATE_ROM]	= "ROM",
	[LPU_FW_STATE_BOOTING]	= "BOOTING",
	[LPU_FW_STATE_READY]	= "READY",
	[LPU_FW_STATE_ERROR]	= "ERROR",
};

static const char *lpu_fw_state_name(u32 state)
{
	if (state < ARRAY_SIZE(lpu_fw_state_names))
		return lpu_fw_state_names[state];
	return "UNKNOWN";
}

/* What each boot ROM check found wrong, as the log line names it. */
static const char * const lpu_fw_err_what[LPU_FW_E_COUNT] = {
	[LPU_FW_E_NONE]		= "boot failed without an error code",
	[LPU_FW_E_STATE]	= "boot refused in this card state",
	[LPU_FW_E_EMPTY]	= "empty image",
	[LPU_FW_E_TOO_LARGE]	= "too large",
	[LPU_FW_E_DMA]		= "card cannot read the image by DMA",
	[LPU_FW_E_TRUNCATED]	= "truncated",
	[LPU_FW_E_MAGIC]	= "bad magic",
	[LPU_FW_E_FORMAT]	= "unsupported image format",
	[LPU_FW_E_LAYOUT]	= "bad header or section table",
	[LPU_FW_E_CHIP]		= "built for another chip (PCI device << 16 | revision)",
	[LPU_FW_E_DIGEST]	= "bad digest (payload SHA-256, first 4 bytes)",
	[LPU_FW_E_NO_KEY]	= "card has no public key to verify with",
	[LPU_FW_E_SIGNATURE]	= "bad signature",
	[LPU_FW_E_SECTION]	= "bad section",
	[LPU_FW_E_COMMAND]	= "unknown boot command",
};

/*
 * The one line for a boot the ROM refused: FW_ERROR says which check,
 * FW_EXPECTED and FW_FOUND what it wanted and read, FW_WHERE at which
 * image offset (firmware/lpu_fw.md, the boot ROM check order).
 */
static void lpu_fw_report_error(struct lpu_device *ldev)
{
	const char *name = ldev->fw.name;
	u32 err = lpu_read(ldev, LPU_REG_FW_ERROR);
	u32 exp = lpu_read(ldev, LPU_REG_FW_EXPECTED);
	u32 found = lpu_read(ldev, LPU_REG_FW_FOUND);
	u32 where = lpu_read(ldev, LPU_REG_FW_WHERE);
	struct drm_device *drm = &ldev->drm;

	switch (err) {
	case LPU_FW_E_STATE:
		drm_err(drm, "firmware %s: %s: expected state %s, found %s\n",
			name, lpu_fw_err_what[err], lpu_fw_state_name(exp),
			lpu_fw_state_name(found));
		break;
	case LPU_FW_E_EMPTY:
	case LPU_FW_E_TOO_LARGE:
	case LPU_FW_E_TRUNCATED:
		drm_err(drm, "firmware %s: %s: expected %s%u bytes, found %u\n",
			name, lpu_fw_err_what[err],
			err == LPU_FW_E_TOO_LARGE ? "at most " : "", exp, found);
		break;
	case LPU_FW_E_DMA:
		drm_err(drm, "firmware %s: %s: expected a readable bus address, found 0x%08x (bits 31:0)\n",
			name, lpu_fw_err_what[err], found);
		break;
	case LPU_FW_E_MAGIC:
	case LPU_FW_E_CHIP:
	case LPU_FW_E_DIGEST:
		drm_err(drm, "firmware %s: %s: expected 0x%08x, found 0x%08x\n",
			name, lpu_fw_err_what[err], exp, found);
		break;
	case LPU_FW_E_NO_KEY:
		drm_err(drm, "firmware %s: %s: expected a key (the card's fw-pubkey), found none\n",
			name, lpu_fw_err_what[err]);
		break;
	case LPU_FW_E_SIGNATURE:
		/* Three checks share the code; their expected values differ. */
		if (exp == LPU_FW_SIG_RSA_PKCS1_SHA256)
			drm_err(drm, "firmware %s: unknown signature type at offset 0x%x: expected %u, found %u\n",
				name, where, exp, found);
		else if (exp || found)
			drm_err(drm, "firmware %s: signature size at offset 0x%x: expected %u bytes (the card's key), found %u\n",
				name, where, exp, found);
		else
			drm_err(drm, "firmware %s: %s at offset 0x%x: expected one made with the card's key, found one that does not verify\n",
				name, lpu_fw_err_what[err], where);
		break;
	case LPU_FW_E_FORMAT:
	case LPU_FW_E_LAYOUT:
	case LPU_FW_E_SECTION:
		drm_err(drm, "firmware %s: %s at offset 0x%x: expected %u, found %u\n",
			name, lpu_fw_err_what[err], where, exp, found);
		break;
	case LPU_FW_E_COMMAND:
		drm_err(drm, "firmware %s: %s: expected %u, found %u\n",
			name, lpu_fw_err_what[err], LPU_FW_CMD_BOOT, found);
		break;
	default:
		drm_err(drm, "firmware %s: boot error %u at offset 0x%x: expected 0x%08x, found 0x%08x\n",
			name, err, where, exp, found);
		break;
	}
}

/* The header's build id, which the boot ROM checked is printable ASCII. */
static void lpu_fw_read_build_id(struct lpu_fw *fw)
{
	const struct lpu_fw_header *hdr = fw->image;
	size_t i;

	for (i = 0; i < LPU_FW_BUILD_ID_LEN; i++) {
		u8 c = hdr->build_id[i];

		if (!c)
			break;
		/* Never trust it for the log: the check is the card's. */
		fw->build_id[i] = c >= 0x20 && c <= 0x7e ? c : '?';
	}
	fw->build_id[i] = '\0';
}

/**
 * lpu_fw_boot - boot the kept image on a card in ROM state
 * @ldev: the device, reset (by lpu_hw_init(), a PCI reset or resume)
 *
 * Logs one line either way. On a timeout or an ABI the driver does not
 * speak the card is reset, so that it runs nothing and no longer reads
 * the image.
 *
 * Return: 0 once READY with a supported ABI, -ETIMEDOUT, -ENOEXEC (the
 * boot ROM refused the image) or -EPROTO (unsupported ABI).
 */
int lpu_fw_boot(struct lpu_device *ldev)
{
	struct lpu_fw *fw = &ldev->fw;
	struct drm_device *drm = &ldev->drm;
	u32 state, version, abi;
	int ret;

	/* Until this boot succeeds, sysfs says no firmware runs (0.0.0). */
	WRITE_ONCE(fw->version, 0);
	WRITE_ONCE(fw->abi, 0);
	lpu_write(ldev, LPU_REG_FW_ADDR_LO, lower_32_bits(fw->image_dma));
	lpu_write(ldev, LPU_REG_FW_ADDR_HI, upper_32_bits(fw->image_dma));
	lpu_write(ldev, LPU_REG_FW_SIZE, fw->size);
	lpu_write(ldev, LPU_REG_FW_CMD, LPU_FW_CMD_BOOT);

	ret = read_poll_timeout(lpu_read, state,
				state == LPU_FW_STATE_READY ||
				state == LPU_FW_STATE_ERROR,
				LPU_FW_POLL_US,
				(u64)lpu_fw_boot_timeout_ms * USEC_PER_MSEC,
				false, ldev, LPU_REG_FW_STATUS);
	if (ret) {
		/* A boot ROM still BOOTING may still read the image: stop it. */
		lpu_hw_reset(ldev);
		drm_err(drm, "firmware %s: no READY within %u ms: expected state READY, found %s\n",
			fw->name, lpu_fw_boot_timeout_ms, lpu_fw_state_name(state));
		return -ETIMEDOUT;
	}
	if (state == LPU_FW_STATE_ERROR) {
		lpu_fw_report_error(ldev);
		return -ENOEXEC;
	}

	version = lpu_read(ldev, LPU_REG_FW_VERSION);
	abi = lpu_read(ldev, LPU_REG_FW_ABI);
	if (LPU_FW_VERSION_MAJOR(abi) != LPU_HOST_ABI_MAJOR ||
	    LPU_FW_VERSION_MINOR(abi) < LPU_HOST_ABI_MINOR) {
		/* Its rings and descriptors may mean other things: run nothing. */
		lpu_hw_reset(ldev);
		drm_err(drm, "firmware %s: host-interface ABI %u.%u not supported: expected %u.x with x >= %u, found %u.%u\n",
			fw->name, LPU_FW_VERSION_MAJOR(abi),
			LPU_FW_VERSION_MINOR(abi), LPU_HOST_ABI_MAJOR,
			LPU_HOST_ABI_MINOR, LPU_FW_VERSION_MAJOR(abi),
			LPU_FW_VERSION_MINOR(abi));
		return -EPROTO;
	}

	/* The same image each boot: the build id never changes once read. */
	lpu_fw_read_build_id(fw);
	WRITE_ONCE(fw->version, version);
	WRITE_ONCE(fw->abi, abi);
	atomic_inc(&fw->boots);
	drm_info(drm, "firmware %s: version %u.%u.%u, ABI %u.%u, build %s\n",
		 fw->name, LPU_FW_VERSION_MAJOR(version),
		 LPU_FW_VERSION_MINOR(version), LPU_FW_VERSION_PATCH(version),
		 LPU_FW_VERSION_MAJOR(abi), LPU_FW_VERSION_MINOR(abi),
		 fw->build_id);
	return 0;
}

/*
 * Copy the file into DMA memory the card can read. What the driver can
 * tell without the card is refused here, before any DMA: the boot ROM
 * would refuse it too, but need not see it.
 */
static int lpu_fw_copy(struct lpu_device *ldev, const struct firmware *file)
{
	struct lpu_fw *fw = &ldev->fw;

	if (!file->size) {
		drm_err(&ldev->drm, "firmware %s: empty file: expected at least %u bytes, found 0\n",
			fw->name, LPU_FW_HEADER_SIZE);
		return -EINVAL;
	}
	if (file->size > LPU_FW_MAX_SIZE) {
		drm_err(&ldev->drm, "firmware %s: too large: expected at most %u bytes, found %zu\n",
			fw->name, LPU_FW_MAX_SIZE, file->size);
		return -EFBIG;
	}

	/* devres frees it on unbind, after the card was reset (lpu_drv.c). */
	fw->image = dmam_alloc_coherent(&ldev->pdev->dev, file->size,
					&fw->image_dma, GFP_KERNEL);
	if (!fw->image)
		return -ENOMEM;
	memcpy(fw->image, file->data, file->size);
	fw->size = file->size;
	return 0;
}

/**
 * lpu_fw_init - request the firmware file and boot it
 * @ldev: the device, identified and reset by lpu_hw_init()
 *
 * Return: 0 once the card runs the firmware; on failure an error code,
 * and exactly one error line was logged.
 */
int lpu_fw_init(struct lpu_device *ldev)
{
	struct lpu_fw *fw = &ldev->fw;
	const struct firmware *file;
	int ret;

	/* The parameter may change before the next probe: keep our copy. */
	fw->name = devm_kstrdup(&ldev->pdev->dev, lpu_fw_name, GFP_KERNEL);
	if (!fw->name)
		return -ENOMEM;
	atomic_set(&fw->boots, 0);

	if (!lpu_fw_boot_timeout_ms) {
		drm_err(&ldev->drm, "firmware %s: fw_boot_timeout_ms=0: expected at least 1 ms, found 0\n",
			fw->name);
		return -EINVAL;
	}

	/* No usermode helper fallback: the file is there or it is not. */
	ret = request_firmware_direct(&file, fw->name, &ldev->pdev->dev);
	if (ret == -EINVAL && fw->name[0]) {
		/* The loader itself refuses a file of 0 bytes with -EINVAL. */
		drm_err(&ldev->drm, "firmware %s: empty file: expected at least %u bytes, found 0 (%d)\n",
			fw->name, LPU_FW_HEADER_SIZE, ret);
		return ret;
	}
	if (ret) {
		drm_err(&ldev->drm, "firmware %s: not found: expected a file under /lib/firmware, found none (%d)\n",
			fw->name, ret);
		return ret;
	}
	ret = lpu_fw_copy(ldev, file);
	release_firmware(file);
	if (ret)
		return ret;

	return lpu_fw_boot(ldev);
}

static ssize_t fw_version_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct lpu_device *ldev = dev_get_drvdata(dev);
	u32 v = READ_ONCE(ldev->fw.version);

	return sysfs_emit(buf, "%u.%u.%u\n", LPU_FW_VERSION_MAJOR(v),
			  LPU_FW_VERSION_MINOR(v), LPU_FW_VERSION_PATCH(v));
}
static DEVICE_ATTR_RO(fw_version);

static ssize_t fw_abi_version_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	struct lpu_device *ldev = dev_get_drvdata(dev);
	u32 v = READ_ONCE(ldev->fw.abi);

	return sysfs_emit(buf, "%u.%u\n", LPU_FW_VERSION_MAJOR(v),
			  LPU_FW_VERSION_MINOR(v));
}
static DEVICE_ATTR_RO(fw_abi_version);

static ssize_t fw_build_id_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct lpu_device *ldev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%s\n", ldev->fw.build_id);
}
static DEVICE_ATTR_RO(fw_build_id);

static ssize_t fw_name_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	struct lpu_device *ldev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%s\n", ldev->fw.name);
}
static DEVICE_ATTR_RO(fw_name);

static ssize_t fw_boots_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct lpu_device *ldev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%d\n", atomic_read(&ldev->fw.boots));
}
static DEVICE_ATTR_RO(fw_boots);

static struct attribute *lpu_fw_attrs[] = {
	&dev_attr_fw_version.attr,
	&dev_attr_fw_abi_version.attr,
	&dev_attr_fw_build_id.attr,
	&dev_attr_fw_name.attr,
	&dev_attr_fw_boots.attr,
	NULL
};

static const struct attribute_group lpu_fw_group = {
	.attrs = lpu_fw_attrs,
};

/* sysfs on the PCI device, next to sram_used_bytes; removed on unbind. */
int lpu_fw_sysfs_init(struct lpu_device *ldev)
{
	int ret;

	ret = devm_device_add_group(&ldev->pdev->dev, &lpu_fw_group);
	if (ret)
		drm_err(&ldev->drm, "cannot add firmware sysfs files: %d\n", ret);
	return ret;
}
