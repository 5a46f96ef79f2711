/*
 * LPU v3 inference accelerator: firmware boot ROM and mailbox
 *
 * The card runs no queue until this boot ROM has booted a valid image
 * (firmware/lpu_fw.h): BOOT moves FW_STATUS from ROM or ERROR to BOOTING;
 * LPU_FW_BOOT_NS of device time later the ROM reads the image by DMA,
 * makes the checks of firmware/lpu_fw.md in their documented order, and
 * goes to READY with the image's tables in force, or to ERROR with the
 * first failed check in FW_ERROR, FW_EXPECTED, FW_FOUND and FW_WHERE.
 *
 * The image is guest memory, so every field is untrusted: the ROM copies
 * it into a buffer of its own (at most LPU_FW_MAX_SIZE bytes) and reads
 * only from that copy, with every offset checked before it is used.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/log.h"
#include "qapi/error.h"
#include "crypto/hash.h"
#include "hw/pci/pci_device.h"
#include "system/dma.h"
#include "lpu-v3.h"
#include "trace.h"

QEMU_BUILD_BUG_ON(sizeof(struct lpu_fw_header) != LPU_FW_HEADER_SIZE);
QEMU_BUILD_BUG_ON(sizeof(struct lpu_fw_section) != 16);
QEMU_BUILD_BUG_ON(sizeof(struct lpu_fw_cost) != 8 * LPU_COST_COUNT);
QEMU_BUILD_BUG_ON(sizeof(struct lpu_fw_engine) != 16);
QEMU_BUILD_BUG_ON(sizeof(struct lpu_fw_thermal) != 32);

#define HDR_OFF(field)          offsetof(struct lpu_fw_header, field)

/* The first check that failed: FW_ERROR and its details. */
typedef struct LpuV3FwFail {
    uint32_t code;
    uint32_t expected;
    uint32_t found;
    uint32_t where;
} LpuV3FwFail;

/* What a good image puts in force. */
typedef struct LpuV3FwTables {
    LpuV3Cost cost;
    uint32_t num_queues;
    uint32_t max_ring;
    uint32_t sram_reserved;
    LpuV3Thermal thermal;
} LpuV3FwTables;

static bool fail(LpuV3FwFail *f, uint32_t code, uint64_t expected,
                 uint64_t found, uint64_t where)
{
    /* Values wider than a register read back as their low 32 bits. */
    f->code = code;
    f->expected = expected;
    f->found = found;
    f->where = where;
    return false;
}

static uint32_t get32(const uint8_t *img, uint64_t off)
{
    return ldl_le_p(img + off);
}

static uint16_t get16(const uint8_t *img, uint64_t off)
{
    return lduw_le_p(img + off);
}

static uint32_t sec_type_size(uint32_t type)
{
    switch (type) {
    case LPU_FW_SEC_COST:
        return sizeof(struct lpu_fw_cost);
    case LPU_FW_SEC_ENGINE:
        return sizeof(struct lpu_fw_engine);
    case LPU_FW_SEC_THERMAL:
        return sizeof(struct lpu_fw_thermal);
    default:
        return 0;
    }
}

/* Bytes [@off, @off + @len) are zero; else fail with LAYOUT or SECTION. */
static bool check_zero(LpuV3FwFail *f, uint32_t code, const uint8_t *img,
                       uint64_t off, uint64_t len)
{
    uint64_t i;

    for (i = 0; i < len; i++) {
        if (img[off + i]) {
            return fail(f, code, 0, img[off + i], off + i);
        }
    }
    return true;
}

/* Check 11: everything in the header that locates or reserves something. */
static bool check_layout(LpuV3FwFail *f, const uint8_t *img, uint32_t size)
{
    uint32_t count = get32(img, HDR_OFF(section_count));
    uint32_t poff = get32(img, HDR_OFF(payload_offset));
    uint32_t psize = get32(img, HDR_OFF(payload_size));
    uint32_t soff = get32(img, HDR_OFF(sig_offset));
    uint32_t ssize = get32(img, HDR_OFF(sig_size));
    bool nul = false;
    unsigned i;

    if (poff != LPU_FW_HEADER_SIZE) {
        return fail(f, LPU_FW_E_LAYOUT, LPU_FW_HEADER_SIZE, poff,
                    HDR_OFF(payload_offset));
    }
    if (count < 1 || count > LPU_FW_MAX_SECTIONS) {
        return fail(f, LPU_FW_E_LAYOUT, count ? LPU_FW_MAX_SECTIONS : 1,
                    count, HDR_OFF(section_count));
    }
    if (psize < count * sizeof(struct lpu_fw_section)) {
        return fail(f, LPU_FW_E_LAYOUT, count * sizeof(struct lpu_fw_section),
                    psize, HDR_OFF(payload_size));
    }
    if (soff != (uint64_t)poff + psize) {
        return fail(f, LPU_FW_E_LAYOUT, (uint64_t)poff + psize, soff,
                    HDR_OFF(sig_offset));
    }
    if ((uint64_t)soff + ssize != size) {
        return fail(f, LPU_FW_E_LAYOUT, soff <= size ? size - soff : size,
                    ssize, HDR_OFF(sig_size));
    }
    if (ssize < 1 || ssize > LPU_FW_SIG_MAX_SIZE) {
        return fail(f, LPU_FW_E_LAYOUT, ssize ? LPU_FW_SIG_MAX_SIZE : 1,
                    ssize, HDR_OFF(sig_size));
    }
    if (!check_zero(f, LPU_FW_E_LAYOUT, img, HDR_OFF(rsvd0), 2) ||
        !check_zero(f, LPU_FW_E_LAYOUT, img, HDR_OFF(rsvd),
                    sizeof(((struct lpu_fw_header *)NULL)->rsvd))) {
        return false;
    }
    /* Printable ASCII, then NUL padding only. */
    for (i = 0; i < LPU_FW_BUILD_ID_LEN; i++) {
        uint8_t c = img[HDR_OFF(build_id) + i];

        if (nul && c) {
            return fail(f, LPU_FW_E_LAYOUT, 0, c, HDR_OFF(build_id) + i);
        }
        if (!c) {
            nul = true;
        } else if (c < 0x20 || c > 0x7e) {
            return fail(f, LPU_FW_E_LAYOUT, c < 0x20 ? 0x20 : 0x7e, c,
                        HDR_OFF(build_id) + i);
        }
    }
    /* LPU_FW_VERSION() has a byte for each minor and patch. */
    if (get16(img, HDR_OFF(fw_minor)) > 0xff) {
        return fail(f, LPU_FW_E_LAYOUT, 0xff, get16(img, HDR_OFF(fw_minor)),
                    HDR_OFF(fw_minor));
    }
    if (get16(img, HDR_OFF(fw_patch)) > 0xff) {
        return fail(f, LPU_FW_E_LAYOUT, 0xff, get16(img, HDR_OFF(fw_patch)),
                    HDR_OFF(fw_patch));
    }
    if (get16(img, HDR_OFF(abi_minor)) > 0xff) {
        return fail(f, LPU_FW_E_LAYOUT, 0xff, get16(img, HDR_OFF(abi_minor)),
                    HDR_OFF(abi_minor));
    }
    return true;
}

/* Checks 12 to 16: the payload digest and the header's signature. */
static bool check_signed(LpuV3State *s, LpuV3FwFail *f, const uint8_t *img)
{
    uint8_t digest[LPU_FW_SHA256_SIZE];
    uint8_t *out = digest;
    size_t len = sizeof(digest);
    uint32_t soff = get32(img, HDR_OFF(sig_offset));
    uint32_t ssize = get32(img, HDR_OFF(sig_size));
    uint32_t type = get32(img, HDR_OFF(sig_type));
    Error *err = NULL;

    if (qcrypto_hash_bytes(QCRYPTO_HASH_ALGO_SHA256,
                           (const char *)img + LPU_FW_HEADER_SIZE,
                           get32(img, HDR_OFF(payload_size)),
                           &out, &len, &error_abort) < 0 ||
        len != sizeof(digest)) {
        g_assert_not_reached();
    }
    if (memcmp(digest, img + HDR_OFF(payload_sha256), sizeof(digest))) {
        return fail(f, LPU_FW_E_DIGEST, ldl_be_p(img + HDR_OFF(payload_sha256)),
                    ldl_be_p(digest), HDR_OFF(payload_sha256));
    }
    if (!s->fw_key) {
        return fail(f, LPU_FW_E_NO_KEY, 0, 0, 0);
    }
    if (type != LPU_FW_SIG_RSA_PKCS1_SHA256) {
        return fail(f, LPU_FW_E_SIGNATURE, LPU_FW_SIG_RSA_PKCS1_SHA256, type,
                    HDR_OFF(sig_type));
    }
    if (ssize != s->fw_key_bytes) {
        return fail(f, LPU_FW_E_SIGNATURE, s->fw_key_bytes, ssize,
                    HDR_OFF(sig_size));
    }
    /* The signature is over the SHA-256 of the header. */
    if (qcrypto_hash_bytes(QCRYPTO_HASH_ALGO_SHA256, (const char *)img,
                           LPU_FW_HEADER_SIZE, &out, &len, &error_abort) < 0) {
        g_assert_not_reached();
    }
    if (qcrypto_akcipher_verify(s->fw_key, img + soff, ssize, digest,
                                sizeof(digest), &err) < 0) {
        trace_lpu_v3_fw_sig_refused(error_get_pretty(err));
        error_free(err);
        return fail(f, LPU_FW_E_SIGNATURE, 0, 0, soff);
    }
    return true;
}

/* Check 17: the section table; fills @where with each type's offset. */
static bool check_table(LpuV3FwFail *f, const uint8_t *img,
                        uint32_t where[LPU_FW_SEC_COUNT])
{
    uint32_t count = get32(img, HDR_OFF(section_count));
    uint64_t pend = LPU_FW_HEADER_SIZE +
                    (uint64_t)get32(img, HDR_OFF(payload_size));
    uint64_t next = LPU_FW_HEADER_SIZE +
                    (uint64_t)count * sizeof(struct lpu_fw_section);
    uint32_t i;

    memset(where, 0, LPU_FW_SEC_COUNT * sizeof(*where));
    for (i = 0; i < count; i++) {
        uint64_t e = LPU_FW_HEADER_SIZE + i * sizeof(struct lpu_fw_section);
        uint32_t type = get32(img, e + offsetof(struct lpu_fw_section, type));
        uint32_t off = get32(img, e + offsetof(struct lpu_fw_section, offset));
        uint32_t size = get32(img, e + offsetof(struct lpu_fw_section, size));
        uint32_t rsvd = get32(img, e + offsetof(struct lpu_fw_section, rsvd));

        if (!sec_type_size(type)) {
            return fail(f, LPU_FW_E_SECTION, LPU_FW_SEC_COUNT - 1, type,
                        e + offsetof(struct lpu_fw_section, type));
        }
        if (where[type]) {
            /* Expected: the first entry of that type. */
            return fail(f, LPU_FW_E_SECTION, where[type], off,
                        e + offsetof(struct lpu_fw_section, type));
        }
        if (rsvd) {
            return fail(f, LPU_FW_E_SECTION, 0, rsvd,
                        e + offsetof(struct lpu_fw_section, rsvd));
        }
        if (off % LPU_FW_SECTION_ALIGN) {
            return fail(f, LPU_FW_E_SECTION,
                        QEMU_ALIGN_UP((uint64_t)off, LPU_FW_SECTION_ALIGN),
                        off, e + offsetof(struct lpu_fw_section, offset));
        }
        if (off < next) {
            return fail(f, LPU_FW_E_SECTION, next, off,
                        e + offsetof(struct lpu_fw_section, offset));
        }
        if ((uint64_t)off + size > pend) {
            return fail(f, LPU_FW_E_SECTION, pend - off, size,
                        e + offsetof(struct lpu_fw_section, size));
        }
        if (size != sec_type_size(type)) {
            return fail(f, LPU_FW_E_SECTION, sec_type_size(type), size,
                        e + offsetof(struct lpu_fw_section, size));
        }
        where[type] = off;
        next = (uint64_t)off + size;
    }
    /* Check 18. */
    for (i = 1; i < LPU_FW_SEC_COUNT; i++) {
        if (!where[i]) {
            return fail(f, LPU_FW_E_SECTION, i, 0, HDR_OFF(section_count));
        }
    }
    return true;
}

/* @v at image offset @off in [@lo, @hi]; else fail with the nearer limit. */
static bool check_range(LpuV3FwFail *f, const uint8_t *img, uint64_t off,
                        uint32_t lo, uint32_t hi, uint32_t *out)
{
    uint32_t v = get32(img, off);

    if (v < lo || v > hi) {
        return fail(f, LPU_FW_E_SECTION, v < lo ? lo : hi, v, off);
    }
    *out = v;
    return true;
}

static bool check_cost(LpuV3FwFail *f, const uint8_t *img, uint32_t off,
                       LpuV3Cost *c)
{
    unsigned i;

    for (i = 0; i < LPU_COST_COUNT; i++) {
        uint64_t e = off + i * sizeof(struct lpu_cost);

        if (!check_range(f, img, e + offsetof(struct lpu_cost, base_cycles),
                         0, LPU_FW_COST_MAX_BASE, &c->base[i]) ||
            !check_range(f, img,
                         e + offsetof(struct lpu_cost, units_per_cycle),
                         1, LPU_FW_COST_MAX_RATE, &c->rate[i])) {
            return false;
        }
    }
    return true;
}

static bool check_engine(LpuV3State *s, LpuV3FwFail *f, const uint8_t *img,
                         uint32_t off, LpuV3FwTables *t)
{
    uint64_t ring = off + offsetof(struct lpu_fw_engine, max_ring_entries);
    uint64_t res = off + offsetof(struct lpu_fw_engine, sram_reserved);
    uint32_t v;

    if (!check_range(f, img, off + offsetof(struct lpu_fw_engine, num_queues),
                     1, LPU_NUM_QUEUES, &t->num_queues) ||
        !check_range(f, img, ring, LPU_MIN_RING_ENTRIES, LPU_MAX_RING_ENTRIES,
                     &t->max_ring)) {
        return false;
    }
    if (!is_power_of_2(t->max_ring)) {
        return fail(f, LPU_FW_E_SECTION, pow2floor(t->max_ring), t->max_ring,
                    ring);
    }
    v = get32(img, res);
    if (v % LPU_PAGE_SIZE) {
        return fail(f, LPU_FW_E_SECTION, QEMU_ALIGN_DOWN(v, LPU_PAGE_SIZE), v,
                    res);
    }
    if (v >= LPU_FW_SRAM_RESERVED_MAX) {
        return fail(f, LPU_FW_E_SECTION, LPU_FW_SRAM_RESERVED_MAX, v, res);
    }
    if (v >= s->sram_size) {
        return fail(f, LPU_FW_E_SECTION, s->sram_size, v, res);
    }
    t->sram_reserved = v;
    return check_zero(f, LPU_FW_E_SECTION, img,
                      off + offsetof(struct lpu_fw_engine, rsvd), 4);
}

static bool check_thermal(LpuV3FwFail *f, const uint8_t *img, uint32_t off,
                          LpuV3Thermal *th)
{
#define TH_OFF(field)   (off + offsetof(struct lpu_fw_thermal, field))
    uint32_t temp_idle = get32(img, TH_OFF(temp_idle_mc));
    uint32_t power_idle = get32(img, TH_OFF(power_idle_mw));

    if (!check_range(f, img, TH_OFF(temp_idle_mc), 0, LPU_FW_TEMP_MAX_MC,
                     &th->temp_idle_mc) ||
        !check_range(f, img, TH_OFF(temp_busy_mc), temp_idle,
                     LPU_FW_TEMP_MAX_MC, &th->temp_busy_mc) ||
        !check_range(f, img, TH_OFF(power_idle_mw), 0, LPU_FW_POWER_MAX_MW,
                     &th->power_idle_mw) ||
        !check_range(f, img, TH_OFF(power_busy_mw), power_idle,
                     LPU_FW_POWER_MAX_MW, &th->power_busy_mw) ||
        !check_range(f, img, TH_OFF(clock_idle_mhz), 1, LPU_CLOCK_MHZ,
                     &th->clock_idle_mhz)) {
        return false;
    }
    return check_zero(f, LPU_FW_E_SECTION, img, TH_OFF(rsvd),
                      sizeof(((struct lpu_fw_thermal *)NULL)->rsvd));
#undef TH_OFF
}

/*
 * The checks of firmware/lpu_fw.md after the DMA read (4 to 19), in that
 * order, on the ROM's own copy of @size bytes.
 */
static bool lpu_v3_fw_check(LpuV3State *s, const uint8_t *img, uint32_t size,
                            LpuV3FwFail *f, LpuV3FwTables *t)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    uint32_t where[LPU_FW_SEC_COUNT];
    uint32_t image_size, chip, card;

    if (size < LPU_FW_HEADER_SIZE) {
        return fail(f, LPU_FW_E_TRUNCATED, LPU_FW_HEADER_SIZE, size, 0);
    }
    if (get32(img, HDR_OFF(magic)) != LPU_FW_MAGIC) {
        return fail(f, LPU_FW_E_MAGIC, LPU_FW_MAGIC, get32(img, HDR_OFF(magic)),
                    HDR_OFF(magic));
    }
    if (get16(img, HDR_OFF(format_major)) != LPU_FW_FORMAT_MAJOR) {
        return fail(f, LPU_FW_E_FORMAT, LPU_FW_FORMAT_MAJOR,
                    get16(img, HDR_OFF(format_major)), HDR_OFF(format_major));
    }
    if (get32(img, HDR_OFF(header_size)) != LPU_FW_HEADER_SIZE) {
        return fail(f, LPU_FW_E_LAYOUT, LPU_FW_HEADER_SIZE,
                    get32(img, HDR_OFF(header_size)), HDR_OFF(header_size));
    }
    image_size = get32(img, HDR_OFF(image_size));
    if (image_size > size) {
        return fail(f, LPU_FW_E_TRUNCATED, image_size, size,
                    HDR_OFF(image_size));
    }
    if (image_size != size) {
        return fail(f, LPU_FW_E_LAYOUT, image_size, size, HDR_OFF(image_size));
    }
    card = pci_get_word(pdev->config + PCI_DEVICE_ID) << 16 |
           pdev->config[PCI_REVISION_ID];
    chip = get16(img, HDR_OFF(chip_device)) << 16 |
           get16(img, HDR_OFF(chip_rev));
    if (chip != card) {
        return fail(f, LPU_FW_E_CHIP, card, chip, HDR_OFF(chip_device));
    }
    if (!check_layout(f, img, size) || !check_signed(s, f, img) ||
        !check_table(f, img, where)) {
        return false;
    }
    /* Check 19, section by section in type order. */
    return check_cost(f, img, where[LPU_FW_SEC_COST], &t->cost) &&
           check_engine(s, f, img, where[LPU_FW_SEC_ENGINE], t) &&
           check_thermal(f, img, where[LPU_FW_SEC_THERMAL], &t->thermal);
}

/* Checks 1 to 3, then the image itself. */
static bool lpu_v3_fw_load(LpuV3State *s, LpuV3FwFail *f, LpuV3FwTables *t)
{
    g_autofree uint8_t *img = NULL;
    uint32_t size = s->fw_size;

    if (!size) {
        return fail(f, LPU_FW_E_EMPTY, LPU_FW_HEADER_SIZE, 0, 0);
    }
    if (size > LPU_FW_MAX_SIZE) {
        return fail(f, LPU_FW_E_TOO_LARGE, LPU_FW_MAX_SIZE, size, 0);
    }
    img = g_malloc(size);
    if (pci_dma_read(PCI_DEVICE(s), s->fw_addr, img, size) != MEMTX_OK) {
        return fail(f, LPU_FW_E_DMA, 0, s->fw_addr, 0);
    }
    if (!lpu_v3_fw_check(s, img, size, f, t)) {
        return false;
    }
    s->fw_version = LPU_FW_VERSION(get16(img, HDR_OFF(fw_major)),
                                          get16(img, HDR_OFF(fw_minor)),
                                          get16(img, HDR_OFF(fw_patch)));
    s->fw_abi = LPU_FW_VERSION(get16(img, HDR_OFF(abi_major)),
                                      get16(img, HDR_OFF(abi_minor)), 0);
    return true;
}

/* BOOTING ends: read and check the image, then READY or ERROR. */
static void lpu_v3_fw_boot_done(void *opaque)
{
    LpuV3State *s = opaque;
    LpuV3FwFail f = { 0 };
    LpuV3FwTables t = { 0 };

    s->fw_boot_ns = 0;
    if (lpu_v3_fw_load(s, &f, &t)) {
        s->fw_state = LPU_FW_STATE_READY;
        s->fw_error = LPU_FW_E_NONE;
        s->cost = t.cost;
        s->fw_num_queues = t.num_queues;
        s->fw_max_ring = t.max_ring;
        s->fw_sram_reserved = t.sram_reserved;
        s->fw_thermal = t.thermal;
        trace_lpu_v3_fw_ready(s->fw_version, s->fw_abi);
    } else {
        s->fw_state = LPU_FW_STATE_ERROR;
        s->fw_error = f.code;
        s->fw_expected = f.expected;
        s->fw_found = f.found;
        s->fw_where = f.where;
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu-v3: firmware boot failed: error %u, expected "
                      "0x%x, found 0x%x, at image offset 0x%x\n",
                      f.code, f.expected, f.found, f.where);
        trace_lpu_v3_fw_error(f.code, f.expected, f.found, f.where);
    }
    lpu_v3_raise_irq(s, LPU_IRQ_MAILBOX);
}

/* A command refused at once: @code with its details, state unchanged. */
static void lpu_v3_fw_refuse(LpuV3State *s, uint32_t code, uint32_t expected,
                             uint32_t found)
{
    s->fw_error = code;
    s->fw_expected = expected;
    s->fw_found = found;
    s->fw_where = 0;
    /* The command is over: tell the driver like any other outcome. */
    lpu_v3_raise_irq(s, LPU_IRQ_MAILBOX);
}

static void lpu_v3_fw_cmd(LpuV3State *s, uint32_t cmd)
{
    if (cmd != LPU_FW_CMD_BOOT) {
        qemu_log_mask(LOG_GUEST_ERROR, "lpu-v3: unknown FW_CMD %u\n", cmd);
        lpu_v3_fw_refuse(s, LPU_FW_E_COMMAND, LPU_FW_CMD_BOOT, cmd);
        return;
    }
    if (s->fw_state != LPU_FW_STATE_ROM && s->fw_state != LPU_FW_STATE_ERROR) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu-v3: BOOT in firmware state %u refused; a device "
                      "reset returns to ROM\n", s->fw_state);
        lpu_v3_fw_refuse(s, LPU_FW_E_STATE, LPU_FW_STATE_ROM, s->fw_state);
        return;
    }
    s->fw_state = LPU_FW_STATE_BOOTING;
    s->fw_error = LPU_FW_E_NONE;
    s->fw_expected = 0;
    s->fw_found = 0;
    s->fw_where = 0;
    s->fw_boot_ns = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + LPU_FW_BOOT_NS;
    trace_lpu_v3_fw_boot(s->fw_addr, s->fw_size);
    /* Fault injection: a boot that never ends, until a device reset. */
    if (!s->fw_boot_hang) {
        timer_mod(s->fw_timer, s->fw_boot_ns);
    }
}

bool lpu_v3_fw_read(LpuV3State *s, hwaddr addr, uint32_t *val)
{
    switch (addr) {
    case LPU_REG_FW_STATUS:
        *val = s->fw_state;
        return true;
    case LPU_REG_FW_ERROR:
        *val = s->fw_error;
        return true;
    case LPU_REG_FW_VERSION:
        *val = s->fw_version;
        return true;
    case LPU_REG_FW_CMD:
        *val = 0;       /* write-only */
        return true;
    case LPU_REG_FW_ADDR_LO:
        *val = extract64(s->fw_addr, 0, 32);
        return true;
    case LPU_REG_FW_ADDR_HI:
        *val = extract64(s->fw_addr, 32, 32);
        return true;
    case LPU_REG_FW_SIZE:
        *val = s->fw_size;
        return true;
    case LPU_REG_FW_ABI:
        *val = s->fw_abi;
        return true;
    case LPU_REG_FW_EXPECTED:
        *val = s->fw_expected;
        return true;
    case LPU_REG_FW_FOUND:
        *val = s->fw_found;
        return true;
    case LPU_REG_FW_WHERE:
        *val = s->fw_where;
        return true;
    case LPU_REG_SRAM_RESERVED:
        *val = s->fw_sram_reserved;
        return true;
    case LPU_REG_NUM_QUEUES:
        *val = s->fw_num_queues;
        return true;
    case LPU_REG_MAX_RING_ENTRIES:
        *val = s->fw_max_ring;
        return true;
    default:
        return false;
    }
}

bool lpu_v3_fw_write(LpuV3State *s, hwaddr addr, uint32_t val)
{
    switch (addr) {
    case LPU_REG_FW_CMD:
        lpu_v3_fw_cmd(s, val);
        return true;
    case LPU_REG_FW_ADDR_LO:
        s->fw_addr = deposit64(s->fw_addr, 0, 32, val);
        return true;
    case LPU_REG_FW_ADDR_HI:
        s->fw_addr = deposit64(s->fw_addr, 32, 32, val);
        return true;
    case LPU_REG_FW_SIZE:
        s->fw_size = val;
        return true;
    case LPU_REG_FW_STATUS:
    case LPU_REG_FW_ERROR:
    case LPU_REG_FW_VERSION:
    case LPU_REG_FW_ABI:
    case LPU_REG_FW_EXPECTED:
    case LPU_REG_FW_FOUND:
    case LPU_REG_FW_WHERE:
    case LPU_REG_SRAM_RESERVED:
    case LPU_REG_NUM_QUEUES:
    case LPU_REG_MAX_RING_ENTRIES:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu-v3: write to read-only register 0x%" HWADDR_PRIx
                      "\n", addr);
        return true;
    default:
        return false;
    }
}

/* Back to the boot ROM: no image, no tables. */
void lpu_v3_fw_reset(LpuV3State *s)
{
    timer_del(s->fw_timer);
    s->fw_boot_ns = 0;
    s->fw_state = LPU_FW_STATE_ROM;
    s->fw_error = LPU_FW_E_NONE;
    s->fw_expected = 0;
    s->fw_found = 0;
    s->fw_where = 0;
    s->fw_addr = 0;
    s->fw_size = 0;
    s->fw_version = 0;
    s->fw_abi = 0;
    s->fw_num_queues = 0;
    s->fw_max_ring = 0;
    s->fw_sram_reserved = 0;
    memset(&s->fw_thermal, 0, sizeof(s->fw_thermal));
    lpu_v3_cost_reset(s);
}

/*
 * The key of "fw-pubkey": a DER PKCS#1 RSAPublicKey, checked once here so
 * that a bad file is a clear start-up error and not a failed BOOT later.
 */
bool lpu_v3_fw_realize(LpuV3State *s, Error **errp)
{
    QCryptoAkCipherOptions opts = {
        .alg = QCRYPTO_AK_CIPHER_ALGO_RSA,
        .u.rsa = {
            .padding_alg = QCRYPTO_RSA_PADDING_ALGO_PKCS1,
            .hash_alg = QCRYPTO_HASH_ALGO_SHA256,
        },
    };
    g_autofree char *der = NULL;
    g_autoptr(GError) gerr = NULL;
    Error *err = NULL;
    gsize len;
    int bytes;

    s->fw_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, lpu_v3_fw_boot_done, s);
    if (!s->fw_pubkey) {
        return true;
    }
    if (!g_file_get_contents(s->fw_pubkey, &der, &len, &gerr)) {
        error_setg(errp, "fw-pubkey: cannot read '%s': %s", s->fw_pubkey,
                   gerr->message);
        return false;
    }
    s->fw_key = qcrypto_akcipher_new(&opts, QCRYPTO_AK_CIPHER_KEY_TYPE_PUBLIC,
                                     (const uint8_t *)der, len, &err);
    if (!s->fw_key) {
        error_setg(errp, "fw-pubkey: '%s' is not a DER PKCS#1 RSA public "
                   "key: %s", s->fw_pubkey, error_get_pretty(err));
        error_free(err);
        return false;
    }
    bytes = qcrypto_akcipher_max_signature_len(s->fw_key);
    if (bytes <= 0 || bytes > LPU_FW_SIG_MAX_SIZE) {
        error_setg(errp, "fw-pubkey: '%s' is a %d-byte RSA key; images carry "
                   "signatures of at most %u bytes", s->fw_pubkey, bytes,
                   LPU_FW_SIG_MAX_SIZE);
        qcrypto_akcipher_free(s->fw_key);
        s->fw_key = NULL;
        return false;
    }
    s->fw_key_bytes = bytes;
    return true;
}

void lpu_v3_fw_exit(LpuV3State *s)
{
    if (s->fw_timer) {
        timer_free(s->fw_timer);
        s->fw_timer = NULL;
    }
    if (s->fw_key) {
        qcrypto_akcipher_free(s->fw_key);
        s->fw_key = NULL;
    }
}

void lpu_v3_fw_finalize(LpuV3State *s)
{
    lpu_v3_fw_exit(s);
}

/* Which FW_ERROR codes each state can show. */
static bool lpu_v3_fw_error_ok(uint32_t state, uint32_t code)
{
    switch (state) {
    case LPU_FW_STATE_ROM:
        return code == LPU_FW_E_NONE || code == LPU_FW_E_COMMAND;
    case LPU_FW_STATE_BOOTING:
    case LPU_FW_STATE_READY:
        return code == LPU_FW_E_NONE || code == LPU_FW_E_STATE ||
               code == LPU_FW_E_COMMAND;
    case LPU_FW_STATE_ERROR:
        return code != LPU_FW_E_NONE && code != LPU_FW_E_STATE &&
               code < LPU_FW_E_COUNT;
    default:
        return false;
    }
}

/* Why migrated firmware state is impossible, or NULL if it is fine. */
const char *lpu_v3_fw_check_state(const LpuV3State *s)
{
    const LpuV3Thermal *th = &s->fw_thermal;
    static const LpuV3Thermal none;
    unsigned cls;
    bool rate;

    if (!lpu_v3_fw_error_ok(s->fw_state, s->fw_error)) {
        return "firmware state and FW_ERROR disagree";
    }
    if (s->fw_error == LPU_FW_E_NONE &&
        (s->fw_expected || s->fw_found || s->fw_where)) {
        return "FW_ERROR details without an error";
    }
    if (s->fw_state == LPU_FW_STATE_BOOTING) {
        if (!lpu_v3_time_ok(s->fw_boot_ns)) {
            return "firmware boot deadline out of range";
        }
    } else if (s->fw_boot_ns) {
        return "firmware boot deadline outside BOOTING";
    }
    if (!lpu_v3_fw_ready(s)) {
        if (s->fw_version || s->fw_abi || s->fw_num_queues ||
            s->fw_max_ring || s->fw_sram_reserved ||
            memcmp(th, &none, sizeof(none))) {
            return "firmware tables without a running firmware";
        }
        return NULL;
    }
    if (LPU_FW_VERSION_PATCH(s->fw_abi)) {
        return "firmware ABI has a patch level";
    }
    if (s->fw_num_queues < 1 || s->fw_num_queues > LPU_NUM_QUEUES) {
        return "firmware NUM_QUEUES out of range";
    }
    if (s->fw_max_ring < LPU_MIN_RING_ENTRIES ||
        s->fw_max_ring > LPU_MAX_RING_ENTRIES ||
        !is_power_of_2(s->fw_max_ring)) {
        return "firmware MAX_RING_ENTRIES out of range";
    }
    if (s->fw_sram_reserved % LPU_PAGE_SIZE ||
        s->fw_sram_reserved >= LPU_FW_SRAM_RESERVED_MAX ||
        s->fw_sram_reserved >= s->sram_size) {
        return "firmware SRAM_RESERVED out of range";
    }
    if (th->temp_busy_mc < th->temp_idle_mc ||
        th->temp_busy_mc > LPU_FW_TEMP_MAX_MC ||
        th->power_busy_mw < th->power_idle_mw ||
        th->power_busy_mw > LPU_FW_POWER_MAX_MW ||
        th->clock_idle_mhz < 1 || th->clock_idle_mhz > LPU_CLOCK_MHZ) {
        return "firmware thermal model out of range";
    }
    return lpu_v3_cost_error(&s->cost, &cls, &rate);
}

/* Called once the state passed lpu_v3_fw_check_state(). */
void lpu_v3_fw_post_load(LpuV3State *s)
{
    if (s->fw_state == LPU_FW_STATE_BOOTING && !s->fw_boot_hang) {
        timer_mod(s->fw_timer, s->fw_boot_ns);
    } else {
        timer_del(s->fw_timer);
    }
}
