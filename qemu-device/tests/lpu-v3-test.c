/*
 * QTest testcase for the LPU v3 inference accelerator (lpu-v3)
 *
 * Every test drives the device the way a driver would: through BAR0, the
 * MSI-X table and rings, fence areas and MSI-X message targets in guest RAM.
 * Device time is QEMU_CLOCK_VIRTUAL, which only moves with clock_step, so
 * completion times are asserted exactly.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "libqos/pci.h"
#include "libqos/pci-pc.h"
#include "libqos/malloc-pc.h"
#include "hw/pci/pci_regs.h"
#include "lpu_hw.h"

#define LPU_DEVFN           QPCI_DEVFN(4, 0)
#define NOP_NS(cycles)      ((int64_t)LPU_NOP_BASE_CYCLES + (cycles))
#define FENCE_NS            ((int64_t)LPU_FENCE_CYCLES)
#define MSI_DATA(vec)       (0x4c500000u + (vec))
/* The device model's telemetry window (documented in uapi/lpu_hw.md). */
#define LPU_TELEMETRY_WINDOW_NS 1000000
#define NS_PER_SEC          1000000000LL

typedef struct Lpu {
    QTestState *qts;
    QGuestAllocator alloc;
    QPCIBus *bus;
    QPCIDevice *dev;
    QPCIBar bar;
    uint64_t msi_addr[LPU_MSIX_NUM_VECTORS];
    int64_t now;                /* QEMU_CLOCK_VIRTUAL, moved only by step() */
} Lpu;

typedef struct Ring {
    unsigned q;
    uint64_t base;
    uint32_t size;
    uint64_t fence;
    uint32_t count;
    uint32_t tail;
} Ring;

/* ---- helpers ----------------------------------------------------------- */

/* qtest cannot step by 0 ns to read the clock, so keep track of it. */
static int64_t step(Lpu *l, int64_t ns)
{
    l->now = qtest_clock_step(l->qts, ns);
    return l->now;
}

static uint64_t lpu_alloc(Lpu *l, size_t size)
{
    uint64_t addr = guest_alloc(&l->alloc, size + 64);

    addr = ROUND_UP(addr, 64);
    qtest_memset(l->qts, addr, 0, size);
    return addr;
}

static void lpu_map(Lpu *l)
{
    l->dev = qpci_device_find(l->bus, LPU_DEVFN);
    g_assert(l->dev);
    qpci_device_enable(l->dev);
    l->bar = qpci_iomap(l->dev, LPU_BAR_REGS, NULL);
}

static void lpu_start(Lpu *l, const char *extra)
{
    memset(l, 0, sizeof(*l));
    l->qts = qtest_initf("-M q35 -nodefaults -device lpu-v3,addr=04.0%s",
                         extra ? extra : "");
    step(l, 1);
    pc_alloc_init(&l->alloc, l->qts, ALLOC_NO_FLAGS);
    l->bus = qpci_new_pc(l->qts, &l->alloc);
    lpu_map(l);
}

static void lpu_stop(Lpu *l)
{
    g_free(l->dev);
    qpci_free_pc(l->bus);
    alloc_destroy(&l->alloc);
    qtest_quit(l->qts);
}

static uint32_t rd(Lpu *l, uint64_t off)
{
    return qpci_io_readl(l->dev, l->bar, off);
}

static void wr(Lpu *l, uint64_t off, uint32_t val)
{
    qpci_io_writel(l->dev, l->bar, off, val);
}

static uint32_t qrd(Lpu *l, unsigned q, uint64_t off)
{
    return rd(l, LPU_REG_QUEUE(q) + off);
}

static void qwr(Lpu *l, unsigned q, uint64_t off, uint32_t val)
{
    wr(l, LPU_REG_QUEUE(q) + off, val);
}

/*
 * Enable MSI-X with every vector aimed at its own word of guest RAM: an
 * MSI-X message is a memory write, so "the interrupt was raised" is "the
 * word holds the vector's data". Vectors start unmasked.
 */
static void lpu_msix_setup(Lpu *l)
{
    unsigned v;

    qpci_msix_enable(l->dev);
    g_assert_cmpuint(qpci_msix_table_size(l->dev), ==, LPU_MSIX_NUM_VECTORS);
    for (v = 0; v < LPU_MSIX_NUM_VECTORS; v++) {
        uint64_t entry = l->dev->msix_table_off + v * PCI_MSIX_ENTRY_SIZE;

        l->msi_addr[v] = lpu_alloc(l, 4);
        qpci_io_writel(l->dev, l->dev->msix_table_bar,
                       entry + PCI_MSIX_ENTRY_LOWER_ADDR, l->msi_addr[v]);
        qpci_io_writel(l->dev, l->dev->msix_table_bar,
                       entry + PCI_MSIX_ENTRY_UPPER_ADDR,
                       l->msi_addr[v] >> 32);
        qpci_io_writel(l->dev, l->dev->msix_table_bar,
                       entry + PCI_MSIX_ENTRY_DATA, MSI_DATA(v));
        qpci_io_writel(l->dev, l->dev->msix_table_bar,
                       entry + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
    }
}

static void lpu_msix_mask(Lpu *l, unsigned v, bool masked)
{
    qpci_io_writel(l->dev, l->dev->msix_table_bar,
                   l->dev->msix_table_off + v * PCI_MSIX_ENTRY_SIZE +
                   PCI_MSIX_ENTRY_VECTOR_CTRL,
                   masked ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0);
}

/* Did vector @v send a message since the last call? */
static bool lpu_msi_fired(Lpu *l, unsigned v)
{
    uint32_t data = qtest_readl(l->qts, l->msi_addr[v]);

    g_assert(data == 0 || data == MSI_DATA(v));
    qtest_writel(l->qts, l->msi_addr[v], 0);
    return data == MSI_DATA(v);
}

static void ring_config(Lpu *l, Ring *r)
{
    qwr(l, r->q, LPU_Q_RING_BASE_LO, r->base);
    qwr(l, r->q, LPU_Q_RING_BASE_HI, r->base >> 32);
    qwr(l, r->q, LPU_Q_RING_SIZE, r->size);
    qwr(l, r->q, LPU_Q_FENCE_BASE_LO, r->fence);
    qwr(l, r->q, LPU_Q_FENCE_BASE_HI, r->fence >> 32);
    qwr(l, r->q, LPU_Q_FENCE_COUNT, r->count);
}

static void ring_setup(Lpu *l, Ring *r, unsigned q, uint32_t size,
                       uint32_t count)
{
    r->q = q;
    r->size = size;
    r->count = count;
    r->tail = 0;
    r->base = lpu_alloc(l, size * LPU_DESC_SIZE);
    r->fence = lpu_alloc(l, count * LPU_FENCE_RECORD_SIZE);
    ring_config(l, r);
    qwr(l, q, LPU_Q_CTRL, LPU_Q_CTRL_ENABLE);
    g_assert_cmphex(qrd(l, q, LPU_Q_STATUS), ==, LPU_Q_STATUS_ENABLED);
    g_assert_cmpuint(qrd(l, q, LPU_Q_HEAD), ==, 0);
}

static void put_desc(Lpu *l, Ring *r, const union lpu_desc *d)
{
    qtest_memwrite(l->qts, r->base + (uint64_t)r->tail * LPU_DESC_SIZE, d,
                   sizeof(*d));
    r->tail = (r->tail + 1) % r->size;
}

static void put_nop(Lpu *l, Ring *r, uint32_t cycles)
{
    union lpu_desc d = { 0 };

    d.hdr.opcode = LPU_OP_NOP;
    d.nop.cycles = cpu_to_le32(cycles);
    put_desc(l, r, &d);
}

static void put_fence(Lpu *l, Ring *r, uint32_t slot, uint64_t seq,
                      uint8_t flags)
{
    union lpu_desc d = { 0 };

    d.hdr.opcode = LPU_OP_FENCE;
    d.hdr.flags = flags;
    d.fence.slot = cpu_to_le32(slot);
    d.fence.seq = cpu_to_le64(seq);
    put_desc(l, r, &d);
}

/* Publish TAIL and ring; returns the doorbell's device time. */
static int64_t ring_doorbell(Lpu *l, Ring *r)
{
    qwr(l, r->q, LPU_Q_TAIL, r->tail);
    qwr(l, r->q, LPU_Q_DOORBELL, 1);
    return l->now;
}

static void read_fence(Lpu *l, Ring *r, uint32_t slot,
                       struct lpu_fence_record *rec)
{
    qtest_memread(l->qts, r->fence + (uint64_t)slot * LPU_FENCE_RECORD_SIZE,
                  rec, sizeof(*rec));
    rec->seq = le64_to_cpu(rec->seq);
    rec->status = le32_to_cpu(rec->status);
    rec->doorbell_ns = le64_to_cpu(rec->doorbell_ns);
    rec->complete_ns = le64_to_cpu(rec->complete_ns);
}

static bool fence_area_zero(Lpu *l, Ring *r)
{
    size_t len = r->count * LPU_FENCE_RECORD_SIZE;
    g_autofree uint8_t *buf = g_malloc(len);
    size_t i;

    qtest_memread(l->qts, r->fence, buf, len);
    for (i = 0; i < len; i++) {
        if (buf[i]) {
            return false;
        }
    }
    return true;
}

/* ---- identity ---------------------------------------------------------- */

static void test_identity(void)
{
    Lpu l;
    uint8_t cap;
    uint32_t bar2;

    lpu_start(&l, NULL);
    g_assert_cmphex(qpci_config_readw(l.dev, PCI_VENDOR_ID), ==,
                    LPU_PCI_VENDOR_ID);
    g_assert_cmphex(qpci_config_readw(l.dev, PCI_DEVICE_ID), ==,
                    LPU_PCI_DEVICE_ID_V3);
    g_assert_cmphex(qpci_config_readb(l.dev, PCI_REVISION_ID), ==,
                    LPU_PCI_REVISION_V3);
    g_assert_cmphex(qpci_config_readw(l.dev, PCI_CLASS_DEVICE), ==,
                    LPU_PCI_CLASS_ACCEL);
    g_assert_cmphex(qpci_find_capability(l.dev, PCI_CAP_ID_EXP, 0), !=, 0);
    g_assert_cmphex(qpci_find_capability(l.dev, PCI_CAP_ID_PM, 0), !=, 0);
    cap = qpci_find_capability(l.dev, PCI_CAP_ID_MSIX, 0);
    g_assert_cmphex(cap, !=, 0);
    /* MSI-X table and PBA both live in their own BAR. */
    g_assert_cmpuint(qpci_config_readl(l.dev, cap + PCI_MSIX_TABLE) &
                     PCI_MSIX_FLAGS_BIRMASK, ==, LPU_BAR_MSIX);
    g_assert_cmpuint(qpci_config_readl(l.dev, cap + PCI_MSIX_PBA) &
                     PCI_MSIX_FLAGS_BIRMASK, ==, LPU_BAR_MSIX);
    g_assert_cmpuint((qpci_config_readw(l.dev, cap + PCI_MSIX_FLAGS) &
                      PCI_MSIX_FLAGS_QSIZE) + 1, ==, LPU_MSIX_NUM_VECTORS);
    bar2 = qpci_config_readl(l.dev, PCI_BASE_ADDRESS_0 + 4 * LPU_BAR_SRAM);
    g_assert_cmphex(bar2 & PCI_BASE_ADDRESS_MEM_TYPE_MASK, ==,
                    PCI_BASE_ADDRESS_MEM_TYPE_64);
    g_assert(bar2 & PCI_BASE_ADDRESS_MEM_PREFETCH);

    g_assert_cmphex(rd(&l, LPU_REG_ID), ==, LPU_ID_MAGIC);
    g_assert_cmphex(rd(&l, LPU_REG_VERSION), ==, LPU_HW_VERSION);
    g_assert_cmphex(rd(&l, LPU_REG_CAPS), ==,
                    LPU_CAP_QUEUES | LPU_CAP_FENCE | LPU_CAP_TIMESTAMPS |
                    LPU_CAP_TELEMETRY | LPU_CAP_FW_MAILBOX);
    g_assert_cmpuint(rd(&l, LPU_REG_NUM_QUEUES), ==, LPU_NUM_QUEUES);
    g_assert_cmphex(rd(&l, LPU_REG_SRAM_SIZE_LO), ==,
                    (uint32_t)LPU_SRAM_SIZE_DEFAULT);
    g_assert_cmphex(rd(&l, LPU_REG_SRAM_SIZE_HI), ==,
                    LPU_SRAM_SIZE_DEFAULT >> 32);
    g_assert_cmpuint(rd(&l, LPU_REG_MAX_RING_ENTRIES), ==,
                     LPU_MAX_RING_ENTRIES);
    g_assert_cmphex(rd(&l, LPU_REG_STATUS), ==, LPU_STATUS_READY);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_STATUS), ==, LPU_FW_STATE_ROM);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_VERSION), ==, 0);
    /* Idle device: cool, low power, clock gated. */
    g_assert_cmpuint(rd(&l, LPU_REG_TEMP_MC), ==, 40000);
    g_assert_cmpuint(rd(&l, LPU_REG_CLOCK_MHZ), <, LPU_CLOCK_MHZ);
    lpu_stop(&l);
}

/* A non-default aperture: reported in registers, sized BAR, plain RAM. */
static void test_sram_size(void)
{
    Lpu l;
    uint64_t size = 0;
    QPCIBar sram;

    lpu_start(&l, ",sram-size=2M");
    g_assert_cmphex(rd(&l, LPU_REG_SRAM_SIZE_LO), ==, 2 * MiB);
    g_assert_cmphex(rd(&l, LPU_REG_SRAM_SIZE_HI), ==, 0);
    sram = qpci_iomap(l.dev, LPU_BAR_SRAM, &size);
    g_assert_cmphex(size, ==, 2 * MiB);
    qpci_io_writeq(l.dev, sram, 2 * MiB - 8, 0x0123456789abcdefULL);
    qpci_io_writel(l.dev, sram, 0, 0xfeedf00d);
    g_assert_cmphex(qpci_io_readq(l.dev, sram, 2 * MiB - 8), ==,
                    0x0123456789abcdefULL);
    g_assert_cmphex(qpci_io_readl(l.dev, sram, 0), ==, 0xfeedf00d);
    lpu_stop(&l);
}

/* Bad sram-size values must fail realize with a message naming it. */
static void test_sram_size_invalid(void)
{
    static const char *const bad[] = { "3M", "512K", "32G" };
    const char *qemu = g_getenv("QTEST_QEMU_BINARY");
    unsigned i;

    g_assert(qemu);
    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        g_autofree char *dev = g_strdup_printf("lpu-v3,sram-size=%s", bad[i]);
        const char *argv[] = {
            qemu, "-M", "q35", "-nodefaults", "-display", "none", "-S",
            "-device", dev, NULL
        };
        g_autofree char *err = NULL;
        g_autoptr(GError) gerr = NULL;
        int status;

        g_assert(g_spawn_sync(NULL, (char **)argv, NULL,
                              G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                              &err, &status, &gerr));
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), !=, 0);
        g_assert_nonnull(strstr(err, "sram-size must be a power of two"));
    }
}

/* ---- plain registers --------------------------------------------------- */

static void test_scratch_and_reset_magic(void)
{
    Lpu l;

    lpu_start(&l, NULL);
    wr(&l, LPU_REG_SCRATCH, 0xdeadbeef);
    g_assert_cmphex(rd(&l, LPU_REG_SCRATCH), ==, 0xdeadbeef);
    wr(&l, LPU_REG_SCRATCH, 0x12345678);
    g_assert_cmphex(rd(&l, LPU_REG_SCRATCH), ==, 0x12345678);
    /* Read-only registers keep their value. */
    wr(&l, LPU_REG_ID, 0);
    wr(&l, LPU_REG_NUM_QUEUES, 99);
    g_assert_cmphex(rd(&l, LPU_REG_ID), ==, LPU_ID_MAGIC);
    g_assert_cmpuint(rd(&l, LPU_REG_NUM_QUEUES), ==, LPU_NUM_QUEUES);
    /* A stray RESET value does nothing, the magic one resets. */
    wr(&l, LPU_REG_RESET, 1);
    g_assert_cmphex(rd(&l, LPU_REG_SCRATCH), ==, 0x12345678);
    wr(&l, LPU_REG_RESET, LPU_RESET_MAGIC);
    g_assert_cmphex(rd(&l, LPU_REG_SCRATCH), ==, 0);
    /* Firmware mailbox: storage, and BOOT is refused for now. */
    wr(&l, LPU_REG_FW_ADDR_LO, 0x1000);
    wr(&l, LPU_REG_FW_ADDR_HI, 0x2);
    wr(&l, LPU_REG_FW_SIZE, 4096);
    g_assert_cmphex(rd(&l, LPU_REG_FW_ADDR_LO), ==, 0x1000);
    g_assert_cmphex(rd(&l, LPU_REG_FW_ADDR_HI), ==, 0x2);
    g_assert_cmphex(rd(&l, LPU_REG_FW_SIZE), ==, 4096);
    wr(&l, LPU_REG_FW_CMD, LPU_FW_CMD_BOOT);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_ERROR), ==, LPU_ERR_UNSUPPORTED);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_STATUS), ==, LPU_FW_STATE_ROM);
    g_assert_cmphex(rd(&l, LPU_REG_IRQ_STATUS), ==, LPU_IRQ_MAILBOX);
    lpu_stop(&l);
}

/* Only aligned 4-byte accesses count; the rest read 0 and change nothing. */
static void test_bad_access(void)
{
    static const uint64_t undefined[] = {
        0x0034, 0x00fc, 0x011c, 0x0ffc, 0x1038, 0x10fc, 0x1400, 0x2000,
        0xfffc,
    };
    Lpu l;
    Ring r;
    unsigned i;

    lpu_start(&l, NULL);
    wr(&l, LPU_REG_SCRATCH, 0xa5a5a5a5);

    qpci_io_writeb(l.dev, l.bar, LPU_REG_SCRATCH, 0x11);
    qpci_io_writew(l.dev, l.bar, LPU_REG_SCRATCH, 0x2222);
    qpci_io_writeq(l.dev, l.bar, LPU_REG_MAX_RING_ENTRIES,
                   0x3333333333333333ULL);
    qpci_io_writeq(l.dev, l.bar, LPU_REG_SCRATCH, 0x4444444444444444ULL);
    qpci_io_writel(l.dev, l.bar, LPU_REG_SCRATCH + 1, 0x55555555);
    qpci_io_writel(l.dev, l.bar, LPU_REG_SCRATCH - 2, 0x66666666);
    g_assert_cmphex(rd(&l, LPU_REG_SCRATCH), ==, 0xa5a5a5a5);

    g_assert_cmphex(qpci_io_readb(l.dev, l.bar, LPU_REG_ID), ==, 0);
    g_assert_cmphex(qpci_io_readw(l.dev, l.bar, LPU_REG_ID), ==, 0);
    g_assert_cmphex(qpci_io_readq(l.dev, l.bar, LPU_REG_ID), ==, 0);
    g_assert_cmphex(qpci_io_readl(l.dev, l.bar, LPU_REG_ID + 2), ==, 0);

    /* Magic RESET through a wrong-sized write must not reset. */
    qpci_io_writeq(l.dev, l.bar, LPU_REG_RESET, LPU_RESET_MAGIC);
    g_assert_cmphex(rd(&l, LPU_REG_SCRATCH), ==, 0xa5a5a5a5);

    for (i = 0; i < ARRAY_SIZE(undefined); i++) {
        wr(&l, undefined[i], 0xffffffff);
        g_assert_cmphex(rd(&l, undefined[i]), ==, 0);
    }
    g_assert_cmphex(rd(&l, LPU_REG_SCRATCH), ==, 0xa5a5a5a5);
    g_assert_cmphex(rd(&l, LPU_REG_STATUS), ==, LPU_STATUS_READY);
    g_assert_cmphex(rd(&l, LPU_REG_IRQ_MASK), ==, 0);

    /* Config registers of an enabled queue are read-only. */
    ring_setup(&l, &r, 1, 16, 4);
    qwr(&l, 1, LPU_Q_RING_SIZE, 64);
    qwr(&l, 1, LPU_Q_RING_BASE_LO, 0x1000);
    qwr(&l, 1, LPU_Q_FENCE_COUNT, 1);
    g_assert_cmpuint(qrd(&l, 1, LPU_Q_RING_SIZE), ==, 16);
    g_assert_cmphex(qrd(&l, 1, LPU_Q_RING_BASE_LO), ==, (uint32_t)r.base);
    g_assert_cmpuint(qrd(&l, 1, LPU_Q_FENCE_COUNT), ==, 4);
    /* ... and so are the status registers. */
    qwr(&l, 1, LPU_Q_HEAD, 5);
    qwr(&l, 1, LPU_Q_DONE, 5);
    g_assert_cmpuint(qrd(&l, 1, LPU_Q_HEAD), ==, 0);
    g_assert_cmpuint(qrd(&l, 1, LPU_Q_DONE), ==, 0);
    lpu_stop(&l);
}

/* ---- descriptor processing --------------------------------------------- */

static void test_nop_fence_irq(void)
{
    Lpu l;
    Ring r;
    struct lpu_fence_record rec;
    int64_t db;

    lpu_start(&l, NULL);
    lpu_msix_setup(&l);
    wr(&l, LPU_REG_IRQ_MASK, LPU_IRQ_QUEUE(0));
    ring_setup(&l, &r, 0, 16, 8);

    put_nop(&l, &r, 100);
    put_fence(&l, &r, 3, 0x1122334455667788ULL, LPU_DESC_F_IRQ);
    db = ring_doorbell(&l, &r);

    /* Nothing retires before its cycles have elapsed. */
    read_fence(&l, &r, 3, &rec);
    g_assert_cmphex(rec.seq, ==, 0);
    g_assert(qrd(&l, 0, LPU_Q_STATUS) & LPU_Q_STATUS_BUSY);
    g_assert(rd(&l, LPU_REG_STATUS) & LPU_STATUS_BUSY);
    g_assert_false(lpu_msi_fired(&l, LPU_MSIX_VEC_QUEUE(0)));

    step(&l, 1000);
    read_fence(&l, &r, 3, &rec);
    g_assert_cmphex(rec.seq, ==, 0x1122334455667788ULL);
    g_assert_cmpuint(rec.status, ==, LPU_ERR_OK);
    g_assert_cmpint(rec.doorbell_ns, ==, db);
    g_assert_cmpint(rec.complete_ns - rec.doorbell_ns, ==,
                    NOP_NS(100) + FENCE_NS);
    g_assert_cmpuint(qrd(&l, 0, LPU_Q_HEAD), ==, 2);
    g_assert_cmpuint(qrd(&l, 0, LPU_Q_DONE), ==, 2);
    g_assert_cmphex(qrd(&l, 0, LPU_Q_STATUS), ==, LPU_Q_STATUS_ENABLED);
    g_assert_cmphex(rd(&l, LPU_REG_IRQ_STATUS), ==, LPU_IRQ_QUEUE(0));
    g_assert(lpu_msi_fired(&l, LPU_MSIX_VEC_QUEUE(0)));
    g_assert_false(lpu_msi_fired(&l, LPU_MSIX_VEC_DEVICE));
    g_assert_cmpuint(rd(&l, LPU_REG_DESC_DONE_LO), ==, 2);
    g_assert_cmpuint(rd(&l, LPU_REG_BUSY_NS_LO), ==, NOP_NS(100) + FENCE_NS);

    /* IRQ_STATUS is write-1-to-clear. */
    wr(&l, LPU_REG_IRQ_STATUS, LPU_IRQ_QUEUE(1));
    g_assert_cmphex(rd(&l, LPU_REG_IRQ_STATUS), ==, LPU_IRQ_QUEUE(0));
    wr(&l, LPU_REG_IRQ_STATUS, LPU_IRQ_QUEUE(0));
    g_assert_cmphex(rd(&l, LPU_REG_IRQ_STATUS), ==, 0);

    /* Without LPU_DESC_F_IRQ: record written, no interrupt. */
    put_fence(&l, &r, 4, 7, 0);
    ring_doorbell(&l, &r);
    step(&l, 1000);
    read_fence(&l, &r, 4, &rec);
    g_assert_cmphex(rec.seq, ==, 7);
    g_assert_cmphex(rd(&l, LPU_REG_IRQ_STATUS), ==, 0);
    g_assert_false(lpu_msi_fired(&l, LPU_MSIX_VEC_QUEUE(0)));

    /* A masked vector is left pending and delivered on unmask. */
    lpu_msix_mask(&l, LPU_MSIX_VEC_QUEUE(0), true);
    put_fence(&l, &r, 5, 8, LPU_DESC_F_IRQ);
    ring_doorbell(&l, &r);
    step(&l, 1000);
    g_assert(qpci_msix_pending(l.dev, LPU_MSIX_VEC_QUEUE(0)));
    g_assert_false(lpu_msi_fired(&l, LPU_MSIX_VEC_QUEUE(0)));
    lpu_msix_mask(&l, LPU_MSIX_VEC_QUEUE(0), false);
    g_assert_false(qpci_msix_pending(l.dev, LPU_MSIX_VEC_QUEUE(0)));
    g_assert(lpu_msi_fired(&l, LPU_MSIX_VEC_QUEUE(0)));

    /* IRQ_MASK gates delivery; unmasking a pending cause delivers it. */
    wr(&l, LPU_REG_IRQ_STATUS, LPU_IRQ_ALL);
    wr(&l, LPU_REG_IRQ_MASK, 0);
    put_fence(&l, &r, 6, 9, LPU_DESC_F_IRQ);
    ring_doorbell(&l, &r);
    step(&l, 1000);
    g_assert_cmphex(rd(&l, LPU_REG_IRQ_STATUS), ==, LPU_IRQ_QUEUE(0));
    g_assert_false(lpu_msi_fired(&l, LPU_MSIX_VEC_QUEUE(0)));
    wr(&l, LPU_REG_IRQ_MASK, LPU_IRQ_QUEUE(0));
    g_assert(lpu_msi_fired(&l, LPU_MSIX_VEC_QUEUE(0)));
    lpu_stop(&l);
}

/* A long NOP occupies the engine for exactly its modelled cost. */
static void test_long_nop_timing(void)
{
    const uint32_t cycles = 1000000;
    const int64_t cost = NOP_NS(cycles) + FENCE_NS;
    Lpu l;
    Ring r;
    struct lpu_fence_record rec;
    int64_t db, t;

    lpu_start(&l, NULL);
    ring_setup(&l, &r, 3, 4, 2);
    put_nop(&l, &r, cycles);
    put_fence(&l, &r, 1, 42, 0);
    db = ring_doorbell(&l, &r);

    t = step(&l, cycles / 2);
    g_assert_cmpint(t, ==, db + cycles / 2);
    g_assert_cmpuint(qrd(&l, 3, LPU_Q_HEAD), ==, 0);
    g_assert(qrd(&l, 3, LPU_Q_STATUS) & LPU_Q_STATUS_BUSY);
    g_assert_cmpuint(rd(&l, LPU_REG_CLOCK_MHZ), ==, LPU_CLOCK_MHZ);

    /* One nanosecond before the FENCE retires: still not written. */
    t = step(&l, db + cost - 1 - t);
    g_assert_cmpint(t, ==, db + cost - 1);
    g_assert_cmpuint(qrd(&l, 3, LPU_Q_HEAD), ==, 1);
    read_fence(&l, &r, 1, &rec);
    g_assert_cmphex(rec.seq, ==, 0);

    step(&l, 1);
    read_fence(&l, &r, 1, &rec);
    g_assert_cmphex(rec.seq, ==, 42);
    g_assert_cmpint(rec.doorbell_ns, ==, db);
    g_assert_cmpint(rec.complete_ns, ==, db + cost);
    g_assert_cmpuint(qrd(&l, 3, LPU_Q_HEAD), ==, 2);
    g_assert_cmphex(qrd(&l, 3, LPU_Q_STATUS), ==, LPU_Q_STATUS_ENABLED);

    /*
     * One telemetry window later, the last complete window overlaps the
     * millisecond of work: warmer than idle, clock up.
     */
    step(&l, LPU_TELEMETRY_WINDOW_NS);
    g_assert_cmpuint(rd(&l, LPU_REG_TEMP_MC), >, 40000);
    g_assert_cmpuint(rd(&l, LPU_REG_POWER_MW), >, 20000);
    g_assert_cmpuint(rd(&l, LPU_REG_CLOCK_MHZ), ==, LPU_CLOCK_MHZ);

    /* A few idle windows later the device is cool and gated again. */
    step(&l, 3 * LPU_TELEMETRY_WINDOW_NS);
    g_assert_cmpuint(rd(&l, LPU_REG_TEMP_MC), ==, 40000);
    g_assert_cmpuint(rd(&l, LPU_REG_POWER_MW), ==, 20000);
    g_assert_cmpuint(rd(&l, LPU_REG_CLOCK_MHZ), <, LPU_CLOCK_MHZ);

    /* Five 1 s NOPs: BUSY_NS crosses 2^32, HI is latched by reading LO. */
    put_nop(&l, &r, LPU_NOP_MAX_CYCLES);
    put_nop(&l, &r, LPU_NOP_MAX_CYCLES);
    put_nop(&l, &r, LPU_NOP_MAX_CYCLES);
    ring_doorbell(&l, &r);
    step(&l, 4 * NS_PER_SEC);
    put_nop(&l, &r, LPU_NOP_MAX_CYCLES);
    put_nop(&l, &r, LPU_NOP_MAX_CYCLES);
    ring_doorbell(&l, &r);
    step(&l, 3 * NS_PER_SEC);
    g_assert_cmpuint(qrd(&l, 3, LPU_Q_DONE), ==, 7);
    g_assert_cmpuint(rd(&l, LPU_REG_BUSY_NS_HI), ==, 0);
    t = cost + 5 * NOP_NS(LPU_NOP_MAX_CYCLES);
    g_assert_cmphex(rd(&l, LPU_REG_BUSY_NS_LO), ==, (uint32_t)t);
    g_assert_cmphex(rd(&l, LPU_REG_BUSY_NS_HI), ==, (uint64_t)t >> 32);
    g_assert_cmpuint(rd(&l, LPU_REG_DESC_DONE_LO), ==, 7);
    g_assert_cmpuint(rd(&l, LPU_REG_DESC_DONE_HI), ==, 0);
    lpu_stop(&l);
}

/* Many descriptors through a small ring, one doorbell per batch. */
static void test_ring_wrap(void)
{
    const uint32_t size = 8, count = 16, total = 203;
    Lpu l;
    Ring r;
    struct lpu_fence_record rec;
    uint32_t seq = 0, batch, i;
    int64_t last_complete = 0, db;

    lpu_start(&l, NULL);
    ring_setup(&l, &r, 1, size, count);
    while (seq < total) {
        /* Batches from 1 up to a full ring (size - 1 entries). */
        batch = MIN(1 + seq % (size - 1), total - seq);
        for (i = 0; i < batch; i++) {
            seq++;
            put_fence(&l, &r, seq % count, seq, 0);
        }
        db = ring_doorbell(&l, &r);
        step(&l, batch * FENCE_NS);
        g_assert_cmpuint(qrd(&l, 1, LPU_Q_HEAD), ==, seq % size);
        for (i = seq - batch + 1; i <= seq; i++) {
            read_fence(&l, &r, i % count, &rec);
            g_assert_cmpuint(rec.seq, ==, i);
            g_assert_cmpint(rec.doorbell_ns, ==, db);
            g_assert_cmpint(rec.complete_ns, ==,
                            db + (i - (seq - batch)) * FENCE_NS);
            g_assert_cmpint(rec.complete_ns, >, last_complete);
            last_complete = rec.complete_ns;
        }
    }
    g_assert_cmpuint(qrd(&l, 1, LPU_Q_DONE), ==, total);
    g_assert_cmpuint(rd(&l, LPU_REG_DESC_DONE_LO), ==, total);
    g_assert_cmphex(qrd(&l, 1, LPU_Q_STATUS), ==, LPU_Q_STATUS_ENABLED);
    g_assert_cmpuint(rd(&l, LPU_REG_ERROR_COUNT), ==, 0);
    lpu_stop(&l);
}

/* ---- errors ------------------------------------------------------------ */

typedef struct BadDesc {
    const char *name;
    uint32_t code;
    void (*make)(union lpu_desc *d);
} BadDesc;

static void bad_opcode(union lpu_desc *d)
{
    d->hdr.opcode = 0x7f;
}

static void bad_zero_slot(union lpu_desc *d)
{
    d->hdr.opcode = LPU_OP_INVALID;
}

static void bad_copy(union lpu_desc *d)
{
    d->hdr.opcode = LPU_OP_COPY;
}

static void bad_nop_flags(union lpu_desc *d)
{
    d->hdr.opcode = LPU_OP_NOP;
    d->hdr.flags = LPU_DESC_F_IRQ;
}

static void bad_fence_flags(union lpu_desc *d)
{
    d->hdr.opcode = LPU_OP_FENCE;
    d->hdr.flags = 0x80;
}

static void bad_hdr_rsvd(union lpu_desc *d)
{
    d->hdr.opcode = LPU_OP_NOP;
    d->hdr.rsvd1 = cpu_to_le32(1);
}

static void bad_fence_rsvd(union lpu_desc *d)
{
    d->hdr.opcode = LPU_OP_FENCE;
    d->fence.rsvd3[4] = cpu_to_le64(1ULL << 63);
}

static void bad_nop_rsvd(union lpu_desc *d)
{
    d->hdr.opcode = LPU_OP_NOP;
    d->nop.rsvd2 = cpu_to_le32(2);
}

static void bad_fence_slot(union lpu_desc *d)
{
    d->hdr.opcode = LPU_OP_FENCE;
    d->fence.slot = cpu_to_le32(4);     /* FENCE_COUNT is 4 */
}

static void bad_nop_cycles(union lpu_desc *d)
{
    d->hdr.opcode = LPU_OP_NOP;
    d->nop.cycles = cpu_to_le32(LPU_NOP_MAX_CYCLES + 1);
}

static const BadDesc bad_descs[] = {
    { "opcode", LPU_ERR_BAD_OPCODE, bad_opcode },
    { "zero-slot", LPU_ERR_BAD_OPCODE, bad_zero_slot },
    { "copy", LPU_ERR_BAD_OPCODE, bad_copy },
    { "nop-flags", LPU_ERR_BAD_FLAGS, bad_nop_flags },
    { "fence-flags", LPU_ERR_BAD_FLAGS, bad_fence_flags },
    { "hdr-reserved", LPU_ERR_RESERVED, bad_hdr_rsvd },
    { "fence-reserved", LPU_ERR_RESERVED, bad_fence_rsvd },
    { "nop-reserved", LPU_ERR_RESERVED, bad_nop_rsvd },
    { "fence-slot", LPU_ERR_FENCE_SLOT, bad_fence_slot },
    { "nop-cycles", LPU_ERR_RANGE, bad_nop_cycles },
};

static void assert_halted(Lpu *l, Ring *r, uint32_t code, uint32_t head,
                          uint32_t errors)
{
    g_assert_cmphex(qrd(l, r->q, LPU_Q_STATUS), ==,
                    LPU_Q_STATUS_ENABLED | LPU_Q_STATUS_HALTED);
    g_assert_cmpuint(qrd(l, r->q, LPU_Q_ERROR), ==, code);
    g_assert_cmpuint(qrd(l, r->q, LPU_Q_ERROR_HEAD), ==, head);
    g_assert_cmpuint(qrd(l, r->q, LPU_Q_HEAD), ==, head);
    g_assert_cmphex(rd(l, LPU_REG_STATUS), ==,
                    LPU_STATUS_READY | LPU_STATUS_ERROR);
    g_assert_cmpuint(rd(l, LPU_REG_ERROR_CODE), ==, code);
    g_assert_cmpuint(rd(l, LPU_REG_ERROR_QUEUE), ==, r->q);
    g_assert_cmpuint(rd(l, LPU_REG_ERROR_COUNT), ==, errors);
    g_assert_cmphex(rd(l, LPU_REG_IRQ_STATUS), ==,
                    LPU_IRQ_QUEUE(r->q) | LPU_IRQ_ERROR);
    g_assert(lpu_msi_fired(l, LPU_MSIX_VEC_QUEUE(r->q)));
    g_assert(lpu_msi_fired(l, LPU_MSIX_VEC_DEVICE));
}

/* Recover with Q_CTRL_RESET and ERROR_ACK, then prove the queue works. */
static void recover(Lpu *l, Ring *r)
{
    struct lpu_fence_record rec;

    qwr(l, r->q, LPU_Q_CTRL, LPU_Q_CTRL_RESET | LPU_Q_CTRL_ENABLE);
    g_assert_cmphex(qrd(l, r->q, LPU_Q_STATUS), ==, LPU_Q_STATUS_ENABLED);
    g_assert_cmpuint(qrd(l, r->q, LPU_Q_HEAD), ==, 0);
    g_assert_cmpuint(qrd(l, r->q, LPU_Q_TAIL), ==, 0);
    g_assert_cmpuint(qrd(l, r->q, LPU_Q_ERROR), ==, LPU_ERR_OK);
    wr(l, LPU_REG_ERROR_ACK, 1);
    wr(l, LPU_REG_IRQ_STATUS, LPU_IRQ_ALL);
    g_assert_cmphex(rd(l, LPU_REG_STATUS), ==, LPU_STATUS_READY);
    g_assert_cmpuint(rd(l, LPU_REG_ERROR_CODE), ==, LPU_ERR_OK);

    qtest_memset(l->qts, r->base, 0, r->size * LPU_DESC_SIZE);
    qtest_memset(l->qts, r->fence, 0, r->count * LPU_FENCE_RECORD_SIZE);
    r->tail = 0;
    put_fence(l, r, 0, 0xabc, LPU_DESC_F_IRQ);
    ring_doorbell(l, r);
    step(l, 1000);
    read_fence(l, r, 0, &rec);
    g_assert_cmphex(rec.seq, ==, 0xabc);
    g_assert(lpu_msi_fired(l, LPU_MSIX_VEC_QUEUE(r->q)));
    wr(l, LPU_REG_IRQ_STATUS, LPU_IRQ_ALL);
    qtest_memset(l->qts, r->fence, 0, r->count * LPU_FENCE_RECORD_SIZE);
}

static void test_bad_descriptors(void)
{
    Lpu l;
    Ring r;
    struct lpu_fence_record rec;
    unsigned i;

    lpu_start(&l, NULL);
    lpu_msix_setup(&l);
    wr(&l, LPU_REG_IRQ_MASK, LPU_IRQ_ALL);
    ring_setup(&l, &r, 2, 8, 4);

    for (i = 0; i < ARRAY_SIZE(bad_descs); i++) {
        union lpu_desc d = { 0 };

        g_test_message("bad descriptor: %s", bad_descs[i].name);
        put_fence(&l, &r, 0, 100 + i, 0);
        bad_descs[i].make(&d);
        put_desc(&l, &r, &d);
        put_fence(&l, &r, 1, 200 + i, LPU_DESC_F_IRQ);
        ring_doorbell(&l, &r);
        step(&l, 10000);

        read_fence(&l, &r, 0, &rec);
        g_assert_cmpuint(rec.seq, ==, 100 + i);
        assert_halted(&l, &r, bad_descs[i].code, 1, i + 1);
        /* Nothing after the bad descriptor was performed. */
        read_fence(&l, &r, 1, &rec);
        g_assert_cmphex(rec.seq, ==, 0);
        g_assert_cmpuint(qrd(&l, 2, LPU_Q_DONE), ==, 1);

        /* A halted queue ignores doorbells and TAIL. */
        qwr(&l, 2, LPU_Q_TAIL, 0);
        qwr(&l, 2, LPU_Q_DOORBELL, 1);
        step(&l, 10000);
        read_fence(&l, &r, 1, &rec);
        g_assert_cmphex(rec.seq, ==, 0);
        g_assert_cmpuint(qrd(&l, 2, LPU_Q_TAIL), ==, 3);

        recover(&l, &r);
        r.tail = 0;
        qwr(&l, 2, LPU_Q_CTRL, LPU_Q_CTRL_RESET | LPU_Q_CTRL_ENABLE);
    }
    lpu_stop(&l);
}

static void test_tail_range(void)
{
    Lpu l;
    Ring r;

    lpu_start(&l, NULL);
    lpu_msix_setup(&l);
    wr(&l, LPU_REG_IRQ_MASK, LPU_IRQ_ALL);
    ring_setup(&l, &r, 0, 8, 4);
    put_fence(&l, &r, 0, 1, 0);
    qwr(&l, 0, LPU_Q_TAIL, 8);
    qwr(&l, 0, LPU_Q_DOORBELL, 1);
    step(&l, 10000);
    assert_halted(&l, &r, LPU_ERR_TAIL_RANGE, 0, 1);
    g_assert_cmpuint(qrd(&l, 0, LPU_Q_TAIL), ==, 0);
    g_assert(fence_area_zero(&l, &r));
    recover(&l, &r);
    lpu_stop(&l);
}

/* The engine reads and writes only memory that works; else LPU_ERR_DMA. */
static void test_dma_error(void)
{
    Lpu l;
    Ring r;

    lpu_start(&l, NULL);
    lpu_msix_setup(&l);
    wr(&l, LPU_REG_IRQ_MASK, LPU_IRQ_ALL);
    /* The fence area points at an address nothing decodes. */
    r.q = 1;
    r.size = 4;
    r.count = 2;
    r.tail = 0;
    r.base = lpu_alloc(&l, r.size * LPU_DESC_SIZE);
    r.fence = 0x7fff00000000ULL;
    ring_config(&l, &r);
    qwr(&l, 1, LPU_Q_CTRL, LPU_Q_CTRL_ENABLE);
    put_nop(&l, &r, 0);
    put_fence(&l, &r, 1, 5, LPU_DESC_F_IRQ);
    ring_doorbell(&l, &r);
    step(&l, 10000);
    assert_halted(&l, &r, LPU_ERR_DMA, 1, 1);
    g_assert_cmpuint(qrd(&l, 1, LPU_Q_DONE), ==, 1);
    lpu_stop(&l);
}

static void test_bad_ring_config(void)
{
    static const struct {
        const char *name;
        uint64_t base_off;      /* added to a good, aligned base */
        uint32_t size;
        uint64_t fence_off;
        uint32_t count;
        bool base_abs;
    } cases[] = {
        { "ring-base-zero", 0, 8, 0, 4, true },
        { "ring-base-unaligned", 0x20, 8, 0, 4, false },
        { "ring-size-zero", 0, 0, 0, 4, false },
        { "ring-size-one", 0, 1, 0, 4, false },
        { "ring-size-npot", 0, 12, 0, 4, false },
        { "ring-size-big", 0, 2 * LPU_MAX_RING_ENTRIES, 0, 4, false },
        { "ring-wraps", 0xffffffffffffffc0ULL, 2, 0, 4, true },
        { "fence-count-zero", 0, 8, 0, 0, false },
        { "fence-count-big", 0, 8, 0, LPU_MAX_FENCE_RECORDS + 1, false },
        { "fence-unaligned", 0, 8, 0x10, 4, false },
        { "fence-overlaps-ring", 0, 8, ~0ULL, 4, false },
    };
    Lpu l;
    Ring r, good;
    unsigned i;

    lpu_start(&l, NULL);
    lpu_msix_setup(&l);
    wr(&l, LPU_REG_IRQ_MASK, LPU_IRQ_ALL);
    good.base = lpu_alloc(&l, 16 * LPU_DESC_SIZE);
    good.fence = lpu_alloc(&l, 4 * LPU_FENCE_RECORD_SIZE);

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        g_test_message("bad ring config: %s", cases[i].name);
        r.q = 3;
        r.base = cases[i].base_off;
        if (!cases[i].base_abs) {
            r.base += good.base;
        }
        r.size = cases[i].size;
        if (cases[i].fence_off == ~0ULL) {
            r.fence = good.base + LPU_DESC_SIZE;
        } else {
            r.fence = good.fence + cases[i].fence_off;
        }
        r.count = cases[i].count;
        ring_config(&l, &r);
        qwr(&l, 3, LPU_Q_CTRL, LPU_Q_CTRL_ENABLE);
        g_assert_cmphex(qrd(&l, 3, LPU_Q_STATUS), ==, LPU_Q_STATUS_HALTED);
        g_assert_cmpuint(qrd(&l, 3, LPU_Q_CTRL), ==, 0);
        g_assert_cmpuint(qrd(&l, 3, LPU_Q_ERROR), ==, LPU_ERR_RING_CONFIG);
        g_assert_cmpuint(rd(&l, LPU_REG_ERROR_CODE), ==, LPU_ERR_RING_CONFIG);
        g_assert_cmpuint(rd(&l, LPU_REG_ERROR_QUEUE), ==, 3);
        g_assert_cmpuint(rd(&l, LPU_REG_ERROR_COUNT), ==, i + 1);
        g_assert(rd(&l, LPU_REG_IRQ_STATUS) & LPU_IRQ_ERROR);
        g_assert(lpu_msi_fired(&l, LPU_MSIX_VEC_DEVICE));
        /* Halted: enabling again is refused until the queue is reset. */
        qwr(&l, 3, LPU_Q_CTRL, LPU_Q_CTRL_ENABLE);
        g_assert_cmphex(qrd(&l, 3, LPU_Q_STATUS), ==, LPU_Q_STATUS_HALTED);
        qwr(&l, 3, LPU_Q_CTRL, LPU_Q_CTRL_RESET);
        g_assert_cmphex(qrd(&l, 3, LPU_Q_STATUS), ==, 0);
        wr(&l, LPU_REG_ERROR_ACK, 0);
        wr(&l, LPU_REG_IRQ_STATUS, LPU_IRQ_ALL);
    }

    /* The smallest legal ring enables fine. */
    good.q = 3;
    good.size = LPU_MIN_RING_ENTRIES;
    good.count = 1;
    ring_config(&l, &good);
    qwr(&l, 3, LPU_Q_CTRL, LPU_Q_CTRL_ENABLE);
    g_assert_cmphex(qrd(&l, 3, LPU_Q_STATUS), ==, LPU_Q_STATUS_ENABLED);
    g_assert_cmphex(rd(&l, LPU_REG_STATUS), ==, LPU_STATUS_READY);
    lpu_stop(&l);
}

/* ---- reset ------------------------------------------------------------- */

static void assert_queues_reset(Lpu *l)
{
    unsigned q;

    for (q = 0; q < LPU_NUM_QUEUES; q++) {
        g_assert_cmphex(qrd(l, q, LPU_Q_STATUS), ==, 0);
        g_assert_cmphex(qrd(l, q, LPU_Q_CTRL), ==, 0);
        g_assert_cmpuint(qrd(l, q, LPU_Q_HEAD), ==, 0);
        g_assert_cmpuint(qrd(l, q, LPU_Q_TAIL), ==, 0);
        g_assert_cmpuint(qrd(l, q, LPU_Q_DONE), ==, 0);
        g_assert_cmpuint(qrd(l, q, LPU_Q_RING_SIZE), ==, 0);
        g_assert_cmpuint(qrd(l, q, LPU_Q_RING_BASE_LO), ==, 0);
    }
    g_assert_cmphex(rd(l, LPU_REG_STATUS), ==, LPU_STATUS_READY);
    g_assert_cmphex(rd(l, LPU_REG_IRQ_STATUS), ==, 0);
    g_assert_cmphex(rd(l, LPU_REG_IRQ_MASK), ==, 0);
    g_assert_cmpuint(rd(l, LPU_REG_DESC_DONE_LO), ==, 0);
    g_assert_cmpuint(rd(l, LPU_REG_BUSY_NS_LO), ==, 0);
}

/* Work in flight is dropped by a reset and never touches memory again. */
static void test_reset_mid_work(void)
{
    Lpu l;
    Ring r0, r1;
    struct lpu_fence_record rec;

    lpu_start(&l, NULL);
    lpu_msix_setup(&l);
    wr(&l, LPU_REG_IRQ_MASK, LPU_IRQ_ALL);
    ring_setup(&l, &r0, 0, 8, 4);
    ring_setup(&l, &r1, 1, 8, 4);
    put_fence(&l, &r0, 0, 1, 0);
    put_nop(&l, &r0, 1000000);
    put_fence(&l, &r0, 1, 2, LPU_DESC_F_IRQ);
    put_nop(&l, &r1, 2000000);
    put_fence(&l, &r1, 0, 3, LPU_DESC_F_IRQ);
    ring_doorbell(&l, &r0);
    ring_doorbell(&l, &r1);
    step(&l, 400000);
    read_fence(&l, &r0, 0, &rec);
    g_assert_cmpuint(rec.seq, ==, 1);
    qtest_memset(l.qts, r0.fence, 0, r0.count * LPU_FENCE_RECORD_SIZE);

    wr(&l, LPU_REG_RESET, LPU_RESET_MAGIC);
    assert_queues_reset(&l);
    step(&l, 10 * 1000000);
    g_assert(fence_area_zero(&l, &r0));
    g_assert(fence_area_zero(&l, &r1));
    g_assert_false(lpu_msi_fired(&l, LPU_MSIX_VEC_QUEUE(0)));
    g_assert_false(lpu_msi_fired(&l, LPU_MSIX_VEC_QUEUE(1)));
    assert_queues_reset(&l);

    /* Same through a system reset (Resettable), which also resets PCI. */
    wr(&l, LPU_REG_IRQ_MASK, LPU_IRQ_ALL);
    ring_setup(&l, &r0, 0, 8, 4);
    r0.tail = 0;
    put_nop(&l, &r0, 1000000);
    put_fence(&l, &r0, 2, 4, LPU_DESC_F_IRQ);
    ring_doorbell(&l, &r0);
    step(&l, 500000);
    qtest_qmp_assert_success(l.qts, "{ 'execute': 'system_reset' }");
    qtest_qmp_eventwait(l.qts, "RESET");
    g_free(l.dev);
    lpu_map(&l);
    assert_queues_reset(&l);
    step(&l, 10 * 1000000);
    g_assert(fence_area_zero(&l, &r0));
    lpu_stop(&l);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    qtest_add_func("lpu-v3/identity", test_identity);
    qtest_add_func("lpu-v3/sram-size", test_sram_size);
    qtest_add_func("lpu-v3/sram-size-invalid", test_sram_size_invalid);
    qtest_add_func("lpu-v3/scratch-reset-magic-mailbox",
                   test_scratch_and_reset_magic);
    qtest_add_func("lpu-v3/bad-access", test_bad_access);
    qtest_add_func("lpu-v3/nop-fence-irq", test_nop_fence_irq);
    qtest_add_func("lpu-v3/long-nop-timing", test_long_nop_timing);
    qtest_add_func("lpu-v3/ring-wrap", test_ring_wrap);
    qtest_add_func("lpu-v3/bad-descriptors", test_bad_descriptors);
    qtest_add_func("lpu-v3/tail-range", test_tail_range);
    qtest_add_func("lpu-v3/dma-error", test_dma_error);
    qtest_add_func("lpu-v3/bad-ring-config", test_bad_ring_config);
    qtest_add_func("lpu-v3/reset-mid-work", test_reset_mid_work);

    return g_test_run();
}
