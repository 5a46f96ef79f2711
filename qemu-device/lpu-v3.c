/*
 * LPU v3 inference accelerator: PCIe function, BAR0 registers, interrupts,
 * reset and migration
 *
 * The hardware interface is defined by lpu_hw.h (register map, descriptors,
 * error codes); the queue engines live in lpu-v3-queue.c and the telemetry
 * model in lpu-v3-telemetry.c.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/host-utils.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "hw/pci/msix.h"
#include "hw/pci/pcie.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "system/qtest.h"
#include "lpu-v3.h"
#include "trace.h"

/* Config space layout: PM, then PCI Express; MSI-X is placed after them. */
#define LPU_V3_PM_CAP_OFFSET    0x40
#define LPU_V3_PCIE_CAP_OFFSET  0x50

/*
 * The tensor engine uses binary32 tensors in SRAM (little-endian) in
 * place, so it is only offered on little-endian hosts.
 */
#define LPU_V3_CAPS (LPU_CAP_QUEUES | LPU_CAP_FENCE | LPU_CAP_TIMESTAMPS | \
                     LPU_CAP_TELEMETRY | LPU_CAP_FW_MAILBOX | \
                     LPU_CAP_DMA | LPU_CAP_SCRUB | \
                     (HOST_BIG_ENDIAN ? 0 : LPU_CAP_EXEC))

/* Send the MSI-X messages for @bits; masked vectors become pending. */
static void lpu_v3_notify(LpuV3State *s, uint32_t bits)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    unsigned q;

    for (q = 0; q < LPU_NUM_QUEUES; q++) {
        if (bits & LPU_IRQ_QUEUE(q)) {
            trace_lpu_v3_irq(LPU_MSIX_VEC_QUEUE(q), bits);
            msix_notify(pdev, LPU_MSIX_VEC_QUEUE(q));
        }
    }
    if (bits & (LPU_IRQ_ERROR | LPU_IRQ_MAILBOX)) {
        trace_lpu_v3_irq(LPU_MSIX_VEC_DEVICE, bits);
        msix_notify(pdev, LPU_MSIX_VEC_DEVICE);
    }
}

/*
 * Every event sends its message, even if its IRQ_STATUS bit is already set:
 * a driver that acknowledges and then looks for work never misses one.
 */
void lpu_v3_raise_irq(LpuV3State *s, uint32_t bits)
{
    s->irq_status |= bits;
    lpu_v3_notify(s, bits & s->irq_mask);
}

void lpu_v3_latch_error(LpuV3State *s, unsigned qidx, uint32_t code)
{
    if (!s->error_latched) {
        s->error_latched = true;
        s->error_code = code;
        s->error_queue = qidx;
    }
    s->error_count++;
    lpu_v3_raise_irq(s, LPU_IRQ_QUEUE(qidx) | LPU_IRQ_ERROR);
}

static bool lpu_v3_busy(LpuV3State *s)
{
    unsigned q;

    for (q = 0; q < LPU_NUM_QUEUES; q++) {
        if (lpu_v3_queue_busy(&s->queues[q])) {
            return true;
        }
    }
    return false;
}

/* Device state reset, shared by the RESET register and system reset. */
static void lpu_v3_reset_state(LpuV3State *s)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    unsigned i;

    trace_lpu_v3_reset();
    for (i = 0; i < LPU_NUM_QUEUES; i++) {
        LpuV3Queue *q = &s->queues[i];

        lpu_v3_queue_reset(q);
        q->ring_base = 0;
        q->ring_size = 0;
        q->fence_base = 0;
        q->fence_count = 0;
    }
    s->scratch = 0;
    s->error_latched = false;
    s->error_code = LPU_ERR_OK;
    s->error_queue = 0;
    s->irq_status = 0;
    s->irq_mask = 0;
    lpu_v3_fw_reset(s);
    lpu_v3_scrub_reset(s);
    lpu_v3_telemetry_reset(s);

    /* Drop messages still pending from before the reset. */
    msix_unuse_all_vectors(pdev);
    for (i = 0; i < LPU_MSIX_NUM_VECTORS; i++) {
        msix_vector_use(pdev, i);
    }
}

static uint32_t lpu_v3_reg_read(LpuV3State *s, hwaddr addr)
{
    uint32_t val;

    if (addr >= LPU_REG_QUEUE_BASE && addr < LPU_REG_QUEUE(LPU_NUM_QUEUES)) {
        addr -= LPU_REG_QUEUE_BASE;
        return lpu_v3_queue_read(&s->queues[addr / LPU_REG_QUEUE_STRIDE],
                                 addr % LPU_REG_QUEUE_STRIDE);
    }
    if (lpu_v3_fw_read(s, addr, &val) ||
        lpu_v3_telemetry_read(s, addr, &val) ||
        lpu_v3_scrub_read(s, addr, &val)) {
        return val;
    }

    switch (addr) {
    case LPU_REG_ID:
        return LPU_ID_MAGIC;
    case LPU_REG_VERSION:
        return LPU_HW_VERSION;
    case LPU_REG_CAPS:
        return LPU_V3_CAPS;
    case LPU_REG_SRAM_SIZE_LO:
        return extract64(s->sram_size, 0, 32);
    case LPU_REG_SRAM_SIZE_HI:
        return extract64(s->sram_size, 32, 32);
    case LPU_REG_SCRATCH:
        return s->scratch;
    case LPU_REG_STATUS:
        return LPU_STATUS_READY |
               (s->error_latched ? LPU_STATUS_ERROR : 0) |
               (lpu_v3_busy(s) ? LPU_STATUS_BUSY : 0);
    case LPU_REG_ERROR_CODE:
        return s->error_code;
    case LPU_REG_ERROR_QUEUE:
        return s->error_queue;
    case LPU_REG_IRQ_STATUS:
        return s->irq_status;
    case LPU_REG_IRQ_MASK:
        return s->irq_mask;
    case LPU_REG_RESET:
    case LPU_REG_ERROR_ACK:
        return 0;       /* write-only */
    default:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu-v3: read of undefined register 0x%" HWADDR_PRIx
                      "\n", addr);
        return 0;
    }
}

static void lpu_v3_write_irq_mask(LpuV3State *s, uint32_t val)
{
    uint32_t unmasked;

    if (val & ~LPU_IRQ_ALL) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu-v3: undefined IRQ_MASK bits 0x%x ignored\n",
                      val & ~LPU_IRQ_ALL);
        val &= LPU_IRQ_ALL;
    }
    /* Unmasking an interrupt that is already pending delivers it. */
    unmasked = val & ~s->irq_mask & s->irq_status;
    s->irq_mask = val;
    lpu_v3_notify(s, unmasked);
}

static void lpu_v3_reg_write(LpuV3State *s, hwaddr addr, uint32_t val)
{
    if (addr >= LPU_REG_QUEUE_BASE && addr < LPU_REG_QUEUE(LPU_NUM_QUEUES)) {
        addr -= LPU_REG_QUEUE_BASE;
        lpu_v3_queue_write(&s->queues[addr / LPU_REG_QUEUE_STRIDE],
                           addr % LPU_REG_QUEUE_STRIDE, val);
        return;
    }
    if (lpu_v3_fw_write(s, addr, val) || lpu_v3_scrub_write(s, addr, val)) {
        return;
    }

    switch (addr) {
    case LPU_REG_SCRATCH:
        s->scratch = val;
        break;
    case LPU_REG_RESET:
        if (val == LPU_RESET_MAGIC) {
            lpu_v3_reset_state(s);
        } else {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "lpu-v3: RESET write 0x%x without the magic value "
                          "ignored\n", val);
        }
        break;
    case LPU_REG_ERROR_ACK:
        s->error_latched = false;
        s->error_code = LPU_ERR_OK;
        s->error_queue = 0;
        break;
    case LPU_REG_IRQ_STATUS:
        s->irq_status &= ~val;
        break;
    case LPU_REG_IRQ_MASK:
        lpu_v3_write_irq_mask(s, val);
        break;
    case LPU_REG_ID:
    case LPU_REG_VERSION:
    case LPU_REG_CAPS:
    case LPU_REG_SRAM_SIZE_LO:
    case LPU_REG_SRAM_SIZE_HI:
    case LPU_REG_STATUS:
    case LPU_REG_ERROR_CODE:
    case LPU_REG_ERROR_QUEUE:
    case LPU_REG_TEMP_MC:
    case LPU_REG_POWER_MW:
    case LPU_REG_CLOCK_MHZ:
    case LPU_REG_BUSY_NS_LO:
    case LPU_REG_BUSY_NS_HI:
    case LPU_REG_DESC_DONE_LO:
    case LPU_REG_DESC_DONE_HI:
    case LPU_REG_ERROR_COUNT:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu-v3: write to read-only register 0x%" HWADDR_PRIx
                      "\n", addr);
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu-v3: write to undefined register 0x%" HWADDR_PRIx
                      "\n", addr);
        break;
    }
}

/*
 * The memory core lets every access size and alignment through to these
 * handlers so that the device itself rejects (and logs) the ones the
 * hardware interface does not allow.
 */
static bool lpu_v3_access_ok(hwaddr addr, unsigned size, const char *what)
{
    if (size == 4 && !(addr & 3)) {
        return true;
    }
    qemu_log_mask(LOG_GUEST_ERROR,
                  "lpu-v3: %u-byte %s at 0x%" HWADDR_PRIx " ignored, "
                  "registers take aligned 4-byte accesses only\n",
                  size, what, addr);
    return false;
}

static uint64_t lpu_v3_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    LpuV3State *s = opaque;
    uint32_t val;

    if (!lpu_v3_access_ok(addr, size, "read")) {
        return 0;
    }
    val = lpu_v3_reg_read(s, addr);
    trace_lpu_v3_mmio_read(addr, val);
    return val;
}

static void lpu_v3_mmio_write(void *opaque, hwaddr addr, uint64_t val,
                              unsigned size)
{
    LpuV3State *s = opaque;

    if (!lpu_v3_access_ok(addr, size, "write")) {
        return;
    }
    trace_lpu_v3_mmio_write(addr, val);
    lpu_v3_reg_write(s, addr, val);
}

static const MemoryRegionOps lpu_v3_mmio_ops = {
    .read = lpu_v3_mmio_read,
    .write = lpu_v3_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 1,
        .max_access_size = 8,
        .unaligned = true,
    },
    .impl = {
        .min_access_size = 1,
        .max_access_size = 8,
        .unaligned = true,
    },
};

static void lpu_v3_realize(PCIDevice *pdev, Error **errp)
{
    LpuV3State *s = LPU_V3(pdev);
    unsigned i;

    if (!is_power_of_2(s->sram_size) || s->sram_size < LPU_V3_SRAM_SIZE_MIN ||
        s->sram_size > LPU_V3_SRAM_SIZE_MAX) {
        error_setg(errp, "sram-size must be a power of two between "
                   "1 MiB and 16 GiB, got %" PRIu64 " bytes", s->sram_size);
        return;
    }
    if (!lpu_v3_fw_realize(s, errp)) {
        return;
    }

    memory_region_init_io(&s->regs, OBJECT(s), &lpu_v3_mmio_ops, s,
                          "lpu-v3-regs", LPU_REGS_SIZE);
    pci_register_bar(pdev, LPU_BAR_REGS, PCI_BASE_ADDRESS_SPACE_MEMORY,
                     &s->regs);

    /* Plain RAM, so that a guest can map the aperture directly. */
    if (!memory_region_init_ram(&s->sram, OBJECT(s), "lpu-v3-sram",
                                s->sram_size, errp)) {
        return;
    }
    pci_register_bar(pdev, LPU_BAR_SRAM,
                     PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64 |
                     PCI_BASE_ADDRESS_MEM_PREFETCH, &s->sram);

    if (pci_pm_init(pdev, LPU_V3_PM_CAP_OFFSET, errp) < 0) {
        return;
    }
    if (pcie_endpoint_cap_init(pdev, LPU_V3_PCIE_CAP_OFFSET) < 0) {
        error_setg(errp, "cannot add the PCI Express capability");
        return;
    }
    /* Function level reset returns the card to its boot ROM. */
    pcie_cap_flr_init(pdev);
    if (msix_init_exclusive_bar(pdev, LPU_MSIX_NUM_VECTORS, LPU_BAR_MSIX,
                                errp)) {
        return;
    }
    for (i = 0; i < LPU_MSIX_NUM_VECTORS; i++) {
        msix_vector_use(pdev, i);
    }
    s->exec_wait = s->exec_wait_prop == ON_OFF_AUTO_ON ||
                   (s->exec_wait_prop == ON_OFF_AUTO_AUTO && qtest_enabled());
    for (i = 0; i < LPU_NUM_QUEUES; i++) {
        lpu_v3_queue_init(s, i);
    }
    lpu_v3_scrub_init(s);
    lpu_v3_fw_reset(s);
}

static void lpu_v3_exit(PCIDevice *pdev)
{
    LpuV3State *s = LPU_V3(pdev);
    unsigned i;

    for (i = 0; i < LPU_NUM_QUEUES; i++) {
        lpu_v3_queue_finalize(&s->queues[i]);
    }
    lpu_v3_scrub_finalize(s);
    lpu_v3_fw_exit(s);
    msix_unuse_all_vectors(pdev);
    msix_uninit_exclusive_bar(pdev);
}

/* Key and timer may outlive a realize that failed half way. */
static void lpu_v3_instance_finalize(Object *obj)
{
    lpu_v3_fw_finalize(LPU_V3(obj));
}

static void lpu_v3_config_write(PCIDevice *pdev, uint32_t addr, uint32_t val,
                                int len)
{
    pci_default_write_config(pdev, addr, val, len);
    pcie_cap_flr_write_config(pdev, addr, val, len);
}

static void lpu_v3_reset_hold(Object *obj, ResetType type)
{
    lpu_v3_reset_state(LPU_V3(obj));
}

/* Why migrated device-level state is impossible, or NULL if it is fine. */
static const char *lpu_v3_check_state(const LpuV3State *s)
{
    if (s->error_code >= LPU_ERR_COUNT) {
        return "unknown error code";
    }
    if (s->error_queue >= LPU_NUM_QUEUES) {
        return "ERROR_QUEUE beyond the last queue";
    }
    /* Only real errors latch, and ERROR_ACK clears all three together. */
    if (s->error_latched != (s->error_code != LPU_ERR_OK) ||
        (!s->error_latched && s->error_queue)) {
        return "latched error state is inconsistent";
    }
    if ((s->irq_mask | s->irq_status) & ~LPU_IRQ_ALL) {
        return "undefined interrupt bits";
    }
    /* The firmware first: the others' limits depend on its tables. */
    return lpu_v3_fw_check_state(s) ?: lpu_v3_scrub_check_state(s) ?:
           lpu_v3_telemetry_check_state(s) ?: lpu_v3_cost_check_state(s);
}

/*
 * A migration stream is untrusted input: every field is checked before the
 * device runs with it, and a stream the device could never have produced
 * fails the migration rather than the device.
 */
static int lpu_v3_post_load(void *opaque, int version_id)
{
    LpuV3State *s = opaque;
    const char *why;
    unsigned i;

    why = lpu_v3_check_state(s);
    if (why) {
        error_report("lpu-v3: invalid migration state: %s", why);
        goto refuse;
    }
    for (i = 0; i < LPU_NUM_QUEUES; i++) {
        why = lpu_v3_queue_check_state(&s->queues[i]);
        if (why) {
            error_report("lpu-v3: invalid migration state: queue %u: %s",
                         i, why);
            goto refuse;
        }
    }
    for (i = 0; i < LPU_NUM_QUEUES; i++) {
        lpu_v3_queue_post_load(&s->queues[i]);
    }
    lpu_v3_scrub_post_load(s);
    lpu_v3_fw_post_load(s);
    return 0;

refuse:
    /*
     * The fields are already overwritten (and the timers armed) by the
     * refused stream; whatever might still run this device must not
     * inherit any of it, not even the "scrub cut short" a reset of a
     * busy scrub engine reports.
     */
    s->scrub_busy = false;
    lpu_v3_reset_state(s);
    return -EINVAL;
}

static const VMStateDescription vmstate_lpu_v3 = {
    .name = TYPE_LPU_V3,
    .version_id = 4,
    .minimum_version_id = 4,
    .post_load = lpu_v3_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, LpuV3State),
        VMSTATE_MSIX(parent_obj, LpuV3State),
        VMSTATE_UINT32(scratch, LpuV3State),
        VMSTATE_BOOL(error_latched, LpuV3State),
        VMSTATE_UINT32(error_code, LpuV3State),
        VMSTATE_UINT32(error_queue, LpuV3State),
        VMSTATE_UINT32(irq_status, LpuV3State),
        VMSTATE_UINT32(irq_mask, LpuV3State),
        VMSTATE_UINT32(fw_state, LpuV3State),
        VMSTATE_UINT32(fw_error, LpuV3State),
        VMSTATE_UINT32(fw_expected, LpuV3State),
        VMSTATE_UINT32(fw_found, LpuV3State),
        VMSTATE_UINT32(fw_where, LpuV3State),
        VMSTATE_INT64(fw_boot_ns, LpuV3State),
        VMSTATE_UINT32(fw_version, LpuV3State),
        VMSTATE_UINT32(fw_abi, LpuV3State),
        VMSTATE_UINT32(fw_num_queues, LpuV3State),
        VMSTATE_UINT32(fw_max_ring, LpuV3State),
        VMSTATE_UINT32(fw_sram_reserved, LpuV3State),
        VMSTATE_UINT32(fw_thermal.temp_idle_mc, LpuV3State),
        VMSTATE_UINT32(fw_thermal.temp_busy_mc, LpuV3State),
        VMSTATE_UINT32(fw_thermal.power_idle_mw, LpuV3State),
        VMSTATE_UINT32(fw_thermal.power_busy_mw, LpuV3State),
        VMSTATE_UINT32(fw_thermal.clock_idle_mhz, LpuV3State),
        VMSTATE_UINT64(fw_addr, LpuV3State),
        VMSTATE_UINT32(fw_size, LpuV3State),
        VMSTATE_UINT64(busy_ns, LpuV3State),
        VMSTATE_UINT64(desc_done, LpuV3State),
        VMSTATE_UINT32(error_count, LpuV3State),
        VMSTATE_UINT32(busy_ns_hi_latch, LpuV3State),
        VMSTATE_UINT32(desc_done_hi_latch, LpuV3State),
        VMSTATE_INT64(window_index, LpuV3State),
        VMSTATE_INT64(window_busy_ns, LpuV3State),
        VMSTATE_INT64(prev_window_busy_ns, LpuV3State),
        VMSTATE_STRUCT_ARRAY(queues, LpuV3State, LPU_NUM_QUEUES, 2,
                             vmstate_lpu_v3_queue, LpuV3Queue),
        VMSTATE_UINT64(scrub_offset, LpuV3State),
        VMSTATE_UINT64(scrub_size, LpuV3State),
        VMSTATE_BOOL(scrub_busy, LpuV3State),
        VMSTATE_BOOL(scrub_error, LpuV3State),
        VMSTATE_INT64(scrub_done_ns, LpuV3State),
        VMSTATE_UINT64(scrub_next, LpuV3State),
        VMSTATE_UINT64(scrub_end, LpuV3State),
        VMSTATE_UINT32_ARRAY(cost.base, LpuV3State, LPU_COST_COUNT),
        VMSTATE_UINT32_ARRAY(cost.rate, LpuV3State, LPU_COST_COUNT),
        VMSTATE_END_OF_LIST()
    }
};

static const Property lpu_v3_properties[] = {
    DEFINE_PROP_SIZE("sram-size", LpuV3State, sram_size,
                     LPU_SRAM_SIZE_DEFAULT),
    DEFINE_PROP_STRING("fw-pubkey", LpuV3State, fw_pubkey),
    DEFINE_PROP_BOOL("x-fw-boot-hang", LpuV3State, fw_boot_hang, false),
    DEFINE_PROP_ON_OFF_AUTO("x-exec-wait", LpuV3State, exec_wait_prop,
                            ON_OFF_AUTO_AUTO),
};

static void lpu_v3_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    k->realize = lpu_v3_realize;
    k->exit = lpu_v3_exit;
    k->config_write = lpu_v3_config_write;
    k->vendor_id = LPU_PCI_VENDOR_ID;
    k->device_id = LPU_PCI_DEVICE_ID_V3;
    k->revision = LPU_PCI_REVISION_V3;
    k->class_id = LPU_PCI_CLASS_ACCEL;
    k->subsystem_vendor_id = LPU_PCI_VENDOR_ID;
    k->subsystem_id = LPU_PCI_DEVICE_ID_V3;
    rc->phases.hold = lpu_v3_reset_hold;
    dc->desc = "LPU v3 inference accelerator";
    dc->vmsd = &vmstate_lpu_v3;
    device_class_set_props(dc, lpu_v3_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo lpu_v3_info = {
    .name = TYPE_LPU_V3,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(LpuV3State),
    .instance_finalize = lpu_v3_instance_finalize,
    .class_init = lpu_v3_class_init,
    .interfaces = (InterfaceInfo[]) {
        { INTERFACE_PCIE_DEVICE },
        { }
    },
};

static void lpu_v3_register_types(void)
{
    type_register_static(&lpu_v3_info);
}

type_init(lpu_v3_register_types)
