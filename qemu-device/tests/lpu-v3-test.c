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
#include <math.h>
#include "qemu/bswap.h"
#include "qemu/units.h"
#include "crypto/akcipher.h"
#include "crypto/hash.h"
#include "crypto/init.h"
#include "qapi/error.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "libqos/pci.h"
#include "libqos/pci-pc.h"
#include "libqos/malloc-pc.h"
#include "hw/pci/pci_regs.h"
#include "lpu_hw.h"
#include "lpu_fw.h"
#include "lpu-v3-plan.h"

#define LPU_DEVFN           QPCI_DEVFN(4, 0)
#define NOP_NS(cycles)      ((int64_t)LPU_NOP_BASE_CYCLES + (cycles))
#define FENCE_NS            ((int64_t)LPU_FENCE_CYCLES)
#define MSI_DATA(vec)       (0x4c500000u + (vec))
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

/* The TEST key pair's directory (firmware/keys), from tools/build-qemu.sh. */
static const char *fw_key_dir(void)
{
    const char *dir = g_getenv("LPU_FW_KEY_DIR");

    g_assert(dir);
    return dir;
}

/* The device's fw-pubkey property, for QEMU command lines. */
static char *fw_pubkey_prop(void)
{
    return g_strdup_printf(",fw-pubkey=%s/test-signing-key.pub.der",
                           fw_key_dir());
}

/* Start QEMU with the card in its boot ROM; @key: give it the test key. */
static void lpu_launch(Lpu *l, const char *extra, bool key)
{
    g_autofree char *pub = key ? fw_pubkey_prop() : g_strdup("");

    memset(l, 0, sizeof(*l));
    l->qts = qtest_initf("-M q35 -nodefaults -device lpu-v3,addr=04.0%s%s",
                         pub, extra ? extra : "");
    step(l, 1);
    pc_alloc_init(&l->alloc, l->qts, ALLOC_NO_FLAGS);
    l->bus = qpci_new_pc(l->qts, &l->alloc);
    lpu_map(l);
}

typedef struct FwVals FwVals;
static const FwVals fw_good;
static void fw_boot_ok(Lpu *l, const FwVals *v);

/* Start QEMU with a card that booted the firmware of @v. */
static void lpu_start_fw(Lpu *l, const char *extra, const FwVals *v)
{
    lpu_launch(l, extra, true);
    fw_boot_ok(l, v);
}

/* The usual start: the card runs the good firmware, as after a probe. */
static void lpu_start(Lpu *l, const char *extra)
{
    lpu_start_fw(l, extra, &fw_good);
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


/* ---- firmware images ---------------------------------------------------- */

/*
 * The qtests build their images themselves from a table of values: the
 * header, the COST, ENGINE and THERMAL sections in that order, the
 * payload's SHA-256 and a signature by the TEST key (firmware/keys), all
 * with QEMU's crypto API.
 */
struct FwVals {
    uint16_t fw[3];                     /* major, minor, patch */
    uint16_t abi[2];
    uint16_t chip_device;
    uint16_t chip_rev;
    uint32_t cost[LPU_COST_COUNT][2];   /* base_cycles, units_per_cycle */
    uint32_t num_queues;
    uint32_t max_ring;
    uint32_t sram_reserved;
    uint32_t thermal[5];                /* struct lpu_fw_thermal order */
};

/* The values of firmware/lpu-v3.json. */
static const FwVals fw_good = {
    .fw = { 1, 0, 0 },
    .abi = { 1, 0 },
    .chip_device = LPU_PCI_DEVICE_ID_V3,
    .chip_rev = LPU_PCI_REVISION_V3,
    .cost = {
        [LPU_COST_EXEC_SETUP] = { 256, 32 },
        [LPU_COST_COPY] = { 256, 32 },
        [LPU_COST_MATMUL_F32] = { 128, 1024 },
        [LPU_COST_MATMUL_BF16] = { 128, 2048 },
        [LPU_COST_MATMUL_I8] = { 128, 8192 },
        [LPU_COST_FFN_F32] = { 256, 1024 },
        [LPU_COST_FFN_BF16] = { 256, 2048 },
        [LPU_COST_FFN_I8] = { 256, 8192 },
        [LPU_COST_ELEMENTWISE] = { 32, 256 },
        [LPU_COST_RMSNORM] = { 64, 128 },
        [LPU_COST_SOFTMAX] = { 64, 64 },
        [LPU_COST_TOPK] = { 64, 64 },
        [LPU_COST_DISPATCH] = { 64, 256 },
        [LPU_COST_COMBINE] = { 64, 256 },
    },
    .num_queues = 4,
    .max_ring = 4096,
    .sram_reserved = 64 * KiB,
    .thermal = { 40000, 85000, 20000, 75000, 400 },
};

/* The firmware the card of the running test booted (for cost_of()). */
static const FwVals *fw_running = &fw_good;

/* Where the image builder puts things. */
#define FW_NSEC             3
#define FW_TABLE            LPU_FW_HEADER_SIZE
#define FW_COST             (FW_TABLE + FW_NSEC * 16)
#define FW_ENGINE           (FW_COST + (int)sizeof(struct lpu_fw_cost))
#define FW_THERMAL          (FW_ENGINE + (int)sizeof(struct lpu_fw_engine))
#define FW_SIG              (FW_THERMAL + (int)sizeof(struct lpu_fw_thermal))
#define FW_KEY_BYTES        384         /* the RSA-3072 test key */
#define FW_LEN              (FW_SIG + FW_KEY_BYTES)
#define HDR(field)          offsetof(struct lpu_fw_header, field)
#define SEC(i, field)       (FW_TABLE + 16 * (i) + \
                             offsetof(struct lpu_fw_section, field))

typedef struct FwImg {
    uint8_t *b;
    size_t len;
} FwImg;

static void put32(FwImg *im, size_t off, uint32_t v)
{
    g_assert_cmpuint(off + 4, <=, im->len);
    stl_le_p(im->b + off, v);
}

static void put16(FwImg *im, size_t off, uint16_t v)
{
    g_assert_cmpuint(off + 2, <=, im->len);
    stw_le_p(im->b + off, v);
}

static uint32_t get32(const FwImg *im, size_t off)
{
    return ldl_le_p(im->b + off);
}

static void sha256(const uint8_t *p, size_t len, uint8_t out[32])
{
    uint8_t *res = out;
    size_t n = 32;

    g_assert_cmpint(qcrypto_hash_bytes(QCRYPTO_HASH_ALGO_SHA256,
                                       (const char *)p, len, &res, &n,
                                       &error_abort), ==, 0);
}

/* The payload digest into the header (after the payload changed). */
static void fw_digest(FwImg *im)
{
    sha256(im->b + LPU_FW_HEADER_SIZE, get32(im, HDR(payload_size)),
           im->b + HDR(payload_sha256));
}

/* DER: the content of the TLV with @tag at *p; *p moves past it. */
static const uint8_t *der_take(const uint8_t **p, const uint8_t *end,
                               uint8_t tag, size_t *len)
{
    const uint8_t *q = *p;
    size_t n, k;

    g_assert_cmpint(end - q, >=, 2);
    g_assert_cmphex(q[0], ==, tag);
    n = q[1];
    q += 2;
    if (n & 0x80) {
        k = n & 0x7f;
        g_assert(k >= 1 && k <= 2 && (size_t)(end - q) >= k);
        for (n = 0; k; k--) {
            n = n << 8 | *q++;
        }
    }
    g_assert_cmpuint(end - q, >=, n);
    *p = q + n;
    *len = n;
    return q;
}

static QCryptoAkCipher *rsa_private(const uint8_t *der, size_t len)
{
    QCryptoAkCipherOptions opts = {
        .alg = QCRYPTO_AK_CIPHER_ALGO_RSA,
        .u.rsa = {
            .padding_alg = QCRYPTO_RSA_PADDING_ALGO_PKCS1,
            .hash_alg = QCRYPTO_HASH_ALGO_SHA256,
        },
    };
    QCryptoAkCipher *key;

    key = qcrypto_akcipher_new(&opts, QCRYPTO_AK_CIPHER_KEY_TYPE_PRIVATE,
                               der, len, &error_abort);
    g_assert_cmpint(qcrypto_akcipher_max_signature_len(key), ==,
                    FW_KEY_BYTES);
    return key;
}

/* The TEST signing key (PKCS#1 DER, as QEMU's crypto API reads it). */
static QCryptoAkCipher *fw_test_key(void)
{
    static QCryptoAkCipher *key;
    g_autofree char *path = NULL;
    g_autofree char *der = NULL;
    gsize len;

    if (!key) {
        path = g_build_filename(fw_key_dir(), "test-signing-key.der", NULL);
        g_assert_true(g_file_get_contents(path, &der, &len, NULL));
        key = rsa_private((const uint8_t *)der, len);
    }
    return key;
}

/*
 * untrusted-key.pem, a key the card does not trust: PEM of a PKCS#8
 * PrivateKeyInfo, whose privateKey OCTET STRING is the PKCS#1 key.
 */
static QCryptoAkCipher *fw_untrusted_key(void)
{
    static QCryptoAkCipher *key;
    g_autofree char *path = NULL;
    g_autofree char *pem = NULL;
    g_autofree uint8_t *der = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GString) b64 = g_string_new("");
    const uint8_t *p, *end, *inner;
    size_t len, n;
    unsigned i;

    if (key) {
        return key;
    }
    path = g_build_filename(fw_key_dir(), "untrusted-key.pem", NULL);
    g_assert_true(g_file_get_contents(path, &pem, NULL, NULL));
    lines = g_strsplit(pem, "\n", -1);
    for (i = 0; lines[i]; i++) {
        if (!g_str_has_prefix(lines[i], "-----")) {
            g_string_append(b64, g_strstrip(lines[i]));
        }
    }
    der = g_base64_decode(b64->str, &len);
    p = der;
    end = der + len;
    p = der_take(&p, end, 0x30, &n);            /* PrivateKeyInfo */
    end = p + n;
    der_take(&p, end, 0x02, &n);                /* version */
    der_take(&p, end, 0x30, &n);                /* privateKeyAlgorithm */
    inner = der_take(&p, end, 0x04, &n);        /* privateKey */
    key = rsa_private(inner, n);
    return key;
}

/* Sign the header with @key, into the signature area. */
static void fw_sign_with(FwImg *im, QCryptoAkCipher *key)
{
    uint8_t digest[32];

    sha256(im->b, LPU_FW_HEADER_SIZE, digest);
    g_assert_cmpuint(FW_SIG + FW_KEY_BYTES, <=, im->len);
    g_assert_cmpint(qcrypto_akcipher_sign(key, digest, sizeof(digest),
                                          im->b + FW_SIG, FW_KEY_BYTES,
                                          &error_abort), ==, FW_KEY_BYTES);
}

static void fw_sign(FwImg *im)
{
    fw_sign_with(im, fw_test_key());
}

static void fw_seal(FwImg *im)
{
    fw_digest(im);
    fw_sign(im);
}

/* A signed image of @v; free im->b with g_free. */
static FwImg fw_build(const FwVals *v)
{
    FwImg im = { g_malloc0(FW_LEN), FW_LEN };
    static const char build_id[] = "qtest lpu-v3-test.c";
    unsigned i;

    put32(&im, HDR(magic), LPU_FW_MAGIC);
    put16(&im, HDR(format_major), LPU_FW_FORMAT_MAJOR);
    put16(&im, HDR(format_minor), LPU_FW_FORMAT_MINOR);
    put32(&im, HDR(header_size), LPU_FW_HEADER_SIZE);
    put32(&im, HDR(image_size), FW_LEN);
    put16(&im, HDR(fw_major), v->fw[0]);
    put16(&im, HDR(fw_minor), v->fw[1]);
    put16(&im, HDR(fw_patch), v->fw[2]);
    put16(&im, HDR(abi_major), v->abi[0]);
    put16(&im, HDR(abi_minor), v->abi[1]);
    put16(&im, HDR(chip_device), v->chip_device);
    put16(&im, HDR(chip_rev), v->chip_rev);
    put32(&im, HDR(section_count), FW_NSEC);
    put32(&im, HDR(payload_offset), LPU_FW_HEADER_SIZE);
    put32(&im, HDR(payload_size), FW_SIG - LPU_FW_HEADER_SIZE);
    put32(&im, HDR(sig_type), LPU_FW_SIG_RSA_PKCS1_SHA256);
    put32(&im, HDR(sig_offset), FW_SIG);
    put32(&im, HDR(sig_size), FW_KEY_BYTES);
    memcpy(im.b + HDR(build_id), build_id, sizeof(build_id) - 1);
    put32(&im, SEC(0, type), LPU_FW_SEC_COST);
    put32(&im, SEC(0, offset), FW_COST);
    put32(&im, SEC(0, size), sizeof(struct lpu_fw_cost));
    put32(&im, SEC(1, type), LPU_FW_SEC_ENGINE);
    put32(&im, SEC(1, offset), FW_ENGINE);
    put32(&im, SEC(1, size), sizeof(struct lpu_fw_engine));
    put32(&im, SEC(2, type), LPU_FW_SEC_THERMAL);
    put32(&im, SEC(2, offset), FW_THERMAL);
    put32(&im, SEC(2, size), sizeof(struct lpu_fw_thermal));
    for (i = 0; i < LPU_COST_COUNT; i++) {
        put32(&im, FW_COST + 8 * i, v->cost[i][0]);
        put32(&im, FW_COST + 8 * i + 4, v->cost[i][1]);
    }
    put32(&im, FW_ENGINE, v->num_queues);
    put32(&im, FW_ENGINE + 4, v->max_ring);
    put32(&im, FW_ENGINE + 8, v->sram_reserved);
    for (i = 0; i < 5; i++) {
        put32(&im, FW_THERMAL + 4 * i, v->thermal[i]);
    }
    fw_seal(&im);
    return im;
}

/*
 * BOOT the @size bytes at guest address @addr; returns the state once
 * the boot ROM's LPU_FW_BOOT_NS have passed (BOOTING until then).
 */
static uint32_t fw_boot_at(Lpu *l, uint64_t addr, uint32_t size)
{
    wr(l, LPU_REG_FW_ADDR_LO, (uint32_t)addr);
    wr(l, LPU_REG_FW_ADDR_HI, addr >> 32);
    wr(l, LPU_REG_FW_SIZE, size);
    wr(l, LPU_REG_FW_CMD, LPU_FW_CMD_BOOT);
    g_assert_cmpuint(rd(l, LPU_REG_FW_STATUS), ==, LPU_FW_STATE_BOOTING);
    step(l, LPU_FW_BOOT_NS - 1);
    g_assert_cmpuint(rd(l, LPU_REG_FW_STATUS), ==, LPU_FW_STATE_BOOTING);
    step(l, 1);
    return rd(l, LPU_REG_FW_STATUS);
}

/* Copy @im into guest memory and BOOT it with FW_SIZE @size. */
static uint32_t fw_boot_img(Lpu *l, const FwImg *im, uint32_t size)
{
    uint64_t addr = lpu_alloc(l, MAX(im->len, 1));

    qtest_memwrite(l->qts, addr, im->b, im->len);
    return fw_boot_at(l, addr, size);
}

/* Boot the firmware of @v; it must reach READY. */
static void fw_boot_ok(Lpu *l, const FwVals *v)
{
    FwImg im = fw_build(v);

    g_assert_cmpuint(fw_boot_img(l, &im, im.len), ==, LPU_FW_STATE_READY);
    g_assert_cmpuint(rd(l, LPU_REG_FW_ERROR), ==, LPU_FW_E_NONE);
    /* The boot left IRQ_MAILBOX behind; tests start from a clean slate. */
    wr(l, LPU_REG_IRQ_STATUS, LPU_IRQ_MAILBOX);
    fw_running = v;
    g_free(im.b);
}

/* The card's FW_ERROR and its details. */
static void fw_assert_error(Lpu *l, uint32_t code, uint32_t expected,
                            uint32_t found, uint32_t where)
{
    g_assert_cmpuint(rd(l, LPU_REG_FW_STATUS), ==, LPU_FW_STATE_ERROR);
    g_assert_cmpuint(rd(l, LPU_REG_FW_ERROR), ==, code);
    g_assert_cmphex(rd(l, LPU_REG_FW_EXPECTED), ==, expected);
    g_assert_cmphex(rd(l, LPU_REG_FW_FOUND), ==, found);
    g_assert_cmphex(rd(l, LPU_REG_FW_WHERE), ==, where);
    /* No table of a failed image is in force. */
    g_assert_cmpuint(rd(l, LPU_REG_NUM_QUEUES), ==, 0);
    g_assert_cmpuint(rd(l, LPU_REG_FW_VERSION), ==, 0);
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

/* Like ring_setup(), for a queue the device may refuse to enable. */
static void ring_try(Lpu *l, Ring *r, unsigned q, uint32_t size,
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
                    LPU_CAP_TELEMETRY | LPU_CAP_FW_MAILBOX | LPU_CAP_DMA |
                    LPU_CAP_SCRUB | LPU_CAP_EXEC);
    g_assert_cmpuint(rd(&l, LPU_REG_NUM_QUEUES), ==, LPU_NUM_QUEUES);
    g_assert_cmphex(rd(&l, LPU_REG_SRAM_SIZE_LO), ==,
                    (uint32_t)LPU_SRAM_SIZE_DEFAULT);
    g_assert_cmphex(rd(&l, LPU_REG_SRAM_SIZE_HI), ==,
                    LPU_SRAM_SIZE_DEFAULT >> 32);
    g_assert_cmpuint(rd(&l, LPU_REG_MAX_RING_ENTRIES), ==,
                     LPU_MAX_RING_ENTRIES);
    g_assert_cmphex(rd(&l, LPU_REG_STATUS), ==, LPU_STATUS_READY);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_STATUS), ==, LPU_FW_STATE_READY);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_VERSION), ==, 0x010000);
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
    /* RESET returned the card to its boot ROM. */
    g_assert_cmpuint(rd(&l, LPU_REG_FW_STATUS), ==, LPU_FW_STATE_ROM);
    g_assert_cmpuint(rd(&l, LPU_REG_NUM_QUEUES), ==, 0);
    /* Firmware mailbox: storage, and an unknown command is refused. */
    wr(&l, LPU_REG_FW_ADDR_LO, 0x1000);
    wr(&l, LPU_REG_FW_ADDR_HI, 0x2);
    wr(&l, LPU_REG_FW_SIZE, 4096);
    g_assert_cmphex(rd(&l, LPU_REG_FW_ADDR_LO), ==, 0x1000);
    g_assert_cmphex(rd(&l, LPU_REG_FW_ADDR_HI), ==, 0x2);
    g_assert_cmphex(rd(&l, LPU_REG_FW_SIZE), ==, 4096);
    wr(&l, LPU_REG_FW_CMD, 2);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_ERROR), ==, LPU_FW_E_COMMAND);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_FOUND), ==, 2);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_STATUS), ==, LPU_FW_STATE_ROM);
    g_assert_cmphex(rd(&l, LPU_REG_IRQ_STATUS), ==, LPU_IRQ_MAILBOX);
    lpu_stop(&l);
}

/* Only aligned 4-byte accesses count; the rest read 0 and change nothing. */
static void test_bad_access(void)
{
    static const uint64_t undefined[] = {
        0x0034, 0x00fc, 0x0130, 0x0318, 0x0ffc, 0x1044, 0x10fc, 0x1400, 0x2000,
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

static void bad_exec(union lpu_desc *d)
{
    d->hdr.opcode = LPU_OP_EXEC;
}

static void bad_copy_flags(union lpu_desc *d)
{
    d->hdr.opcode = LPU_OP_COPY;
    d->hdr.flags = LPU_DESC_F_IRQ;
    d->copy.rsvd2 = cpu_to_le32(1);     /* flags are checked first */
}

static void bad_copy_rsvd2(union lpu_desc *d)
{
    d->hdr.opcode = LPU_OP_COPY;
    d->copy.rsvd2 = cpu_to_le32(1);
}

static void bad_copy_rsvd3(union lpu_desc *d)
{
    d->hdr.opcode = LPU_OP_COPY;
    d->copy.rsvd3[1] = cpu_to_le64(1ULL << 40);
    d->copy.size = 0;                   /* reserved fields come first */
}

static void bad_copy_size_zero(union lpu_desc *d)
{
    d->hdr.opcode = LPU_OP_COPY;
    d->copy.seg_count = cpu_to_le32(1);
}

static void bad_copy_size_big(union lpu_desc *d)
{
    d->hdr.opcode = LPU_OP_COPY;
    d->copy.size = cpu_to_le64(LPU_COPY_MAX_SIZE + 1);
    d->copy.seg_count = cpu_to_le32(1);
}

static void bad_copy_count_zero(union lpu_desc *d)
{
    d->hdr.opcode = LPU_OP_COPY;
    d->copy.size = cpu_to_le64(1);
}

static void bad_copy_count_big(union lpu_desc *d)
{
    d->hdr.opcode = LPU_OP_COPY;
    d->copy.size = cpu_to_le64(1);
    d->copy.seg_count = cpu_to_le32(LPU_MAX_SEGMENTS + 1);
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
    { "exec", LPU_ERR_EXEC, bad_exec },
    { "copy-flags", LPU_ERR_BAD_FLAGS, bad_copy_flags },
    { "copy-rsvd2", LPU_ERR_RESERVED, bad_copy_rsvd2 },
    { "copy-rsvd3", LPU_ERR_RESERVED, bad_copy_rsvd3 },
    { "copy-size-zero", LPU_ERR_RANGE, bad_copy_size_zero },
    { "copy-size-big", LPU_ERR_RANGE, bad_copy_size_big },
    { "copy-seg-count-zero", LPU_ERR_RANGE, bad_copy_count_zero },
    { "copy-seg-count-big", LPU_ERR_RANGE, bad_copy_count_big },
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
    fw_boot_ok(&l, &fw_good);
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

/* ---- DMA protection ---------------------------------------------------- */

/* Clear a halted queue, the device error and IRQ_STATUS for the next case. */
static void clear_halt(Lpu *l, unsigned q)
{
    qwr(l, q, LPU_Q_CTRL, LPU_Q_CTRL_RESET);
    wr(l, LPU_REG_ERROR_ACK, 1);
    wr(l, LPU_REG_IRQ_STATUS, LPU_IRQ_ALL);
    lpu_msi_fired(l, LPU_MSIX_VEC_QUEUE(q));
    lpu_msi_fired(l, LPU_MSIX_VEC_DEVICE);
}

static uint32_t msix_entry_rd(Lpu *l, unsigned v, unsigned off)
{
    return qpci_io_readl(l->dev, l->dev->msix_table_bar,
                         l->dev->msix_table_off + v * PCI_MSIX_ENTRY_SIZE +
                         off);
}

/*
 * The engine must never reach its own registers or MSI-X table: a ring, a
 * fence area or an MSI-X address aimed at them fails (LPU_ERR_DMA, or the
 * message is dropped) and changes nothing. The SRAM aperture is plain
 * memory and stays a valid DMA target.
 */
static void test_dma_own_bars(void)
{
    Lpu l;
    Ring r;
    QPCIBar sram;
    struct lpu_fence_record rec;
    uint32_t table[4];
    unsigned i;

    lpu_start(&l, NULL);
    lpu_msix_setup(&l);
    wr(&l, LPU_REG_IRQ_MASK, LPU_IRQ_ALL);
    wr(&l, LPU_REG_SCRATCH, 0xc0ffee00);

    g_test_message("fence area on BAR 0");
    r.q = 0;
    r.size = 4;
    r.count = 1;
    r.tail = 0;
    r.base = lpu_alloc(&l, r.size * LPU_DESC_SIZE);
    r.fence = l.bar.addr;   /* the record would cover SCRATCH at 0x1c */
    ring_config(&l, &r);
    qwr(&l, 0, LPU_Q_CTRL, LPU_Q_CTRL_ENABLE);
    put_fence(&l, &r, 0, 0xdeadbeefcafef00dULL, LPU_DESC_F_IRQ);
    ring_doorbell(&l, &r);
    step(&l, 10000);
    assert_halted(&l, &r, LPU_ERR_DMA, 0, 1);
    g_assert_cmpuint(qrd(&l, 0, LPU_Q_DONE), ==, 0);
    g_assert_cmphex(rd(&l, LPU_REG_SCRATCH), ==, 0xc0ffee00);
    clear_halt(&l, 0);

    g_test_message("ring on BAR 0");
    r.q = 1;
    r.base = l.bar.addr + LPU_REG_QUEUE(1);
    r.fence = lpu_alloc(&l, LPU_FENCE_RECORD_SIZE);
    ring_config(&l, &r);
    qwr(&l, 1, LPU_Q_CTRL, LPU_Q_CTRL_ENABLE);
    qwr(&l, 1, LPU_Q_TAIL, 1);
    qwr(&l, 1, LPU_Q_DOORBELL, 1);
    step(&l, 10000);
    assert_halted(&l, &r, LPU_ERR_DMA, 0, 2);
    g_assert(fence_area_zero(&l, &r));
    clear_halt(&l, 1);

    g_test_message("fence area on the MSI-X table");
    for (i = 0; i < 4; i++) {
        table[i] = msix_entry_rd(&l, 0, 4 * i);
    }
    r.q = 2;
    r.base = lpu_alloc(&l, r.size * LPU_DESC_SIZE);
    r.fence = l.dev->msix_table_bar.addr + l.dev->msix_table_off;
    r.tail = 0;
    ring_config(&l, &r);
    qwr(&l, 2, LPU_Q_CTRL, LPU_Q_CTRL_ENABLE);
    put_fence(&l, &r, 0, 0x1111111111111111ULL, 0);
    ring_doorbell(&l, &r);
    step(&l, 10000);
    assert_halted(&l, &r, LPU_ERR_DMA, 0, 3);
    for (i = 0; i < 4; i++) {
        g_assert_cmphex(msix_entry_rd(&l, 0, 4 * i), ==, table[i]);
    }
    clear_halt(&l, 2);

    g_test_message("MSI-X message aimed at SCRATCH");
    qpci_io_writel(l.dev, l.dev->msix_table_bar,
                   l.dev->msix_table_off +
                   LPU_MSIX_VEC_QUEUE(3) * PCI_MSIX_ENTRY_SIZE +
                   PCI_MSIX_ENTRY_LOWER_ADDR, l.bar.addr + LPU_REG_SCRATCH);
    qpci_io_writel(l.dev, l.dev->msix_table_bar,
                   l.dev->msix_table_off +
                   LPU_MSIX_VEC_QUEUE(3) * PCI_MSIX_ENTRY_SIZE +
                   PCI_MSIX_ENTRY_UPPER_ADDR, 0);
    ring_setup(&l, &r, 3, 4, 1);
    put_fence(&l, &r, 0, 3, LPU_DESC_F_IRQ);
    ring_doorbell(&l, &r);
    step(&l, 10000);
    read_fence(&l, &r, 0, &rec);
    g_assert_cmphex(rec.seq, ==, 3);
    g_assert_cmphex(rd(&l, LPU_REG_IRQ_STATUS), ==, LPU_IRQ_QUEUE(3));
    g_assert_cmphex(rd(&l, LPU_REG_SCRATCH), ==, 0xc0ffee00);
    qwr(&l, 3, LPU_Q_CTRL, 0);

    g_test_message("fence area in the SRAM aperture");
    sram = qpci_iomap(l.dev, LPU_BAR_SRAM, NULL);
    r.q = 0;
    r.base = lpu_alloc(&l, r.size * LPU_DESC_SIZE);
    r.fence = sram.addr + 4096;
    r.tail = 0;
    ring_config(&l, &r);
    qwr(&l, 0, LPU_Q_CTRL, LPU_Q_CTRL_ENABLE);
    put_fence(&l, &r, 0, 0x5a5a0123, 0);
    ring_doorbell(&l, &r);
    step(&l, 10000);
    g_assert_cmphex(qrd(&l, 0, LPU_Q_STATUS), ==, LPU_Q_STATUS_ENABLED);
    g_assert_cmphex(qpci_io_readq(l.dev, sram, 4096), ==, 0x5a5a0123);
    g_assert_cmpuint(rd(&l, LPU_REG_ERROR_COUNT), ==, 3);
    lpu_stop(&l);
}

static void set_bus_master(Lpu *l, bool on)
{
    uint16_t cmd = qpci_config_readw(l->dev, PCI_COMMAND);

    cmd = on ? cmd | PCI_COMMAND_MASTER : cmd & ~PCI_COMMAND_MASTER;
    qpci_config_writew(l->dev, PCI_COMMAND, cmd);
}

/*
 * Without bus mastering the function may not touch memory: descriptor
 * fetches and fence writes fail with LPU_ERR_DMA, and (PCI) no MSI-X
 * message goes out; IRQ_STATUS still records the error.
 */
static void test_bus_master_off(void)
{
    Lpu l;
    Ring r;

    lpu_start(&l, NULL);
    lpu_msix_setup(&l);
    wr(&l, LPU_REG_IRQ_MASK, LPU_IRQ_ALL);
    ring_setup(&l, &r, 0, 8, 4);

    g_test_message("descriptor fetch");
    put_fence(&l, &r, 0, 1, LPU_DESC_F_IRQ);
    set_bus_master(&l, false);
    ring_doorbell(&l, &r);
    step(&l, 10000);
    g_assert_cmphex(qrd(&l, 0, LPU_Q_STATUS), ==,
                    LPU_Q_STATUS_ENABLED | LPU_Q_STATUS_HALTED);
    g_assert_cmpuint(qrd(&l, 0, LPU_Q_ERROR), ==, LPU_ERR_DMA);
    g_assert_cmpuint(qrd(&l, 0, LPU_Q_ERROR_HEAD), ==, 0);
    g_assert_cmpuint(qrd(&l, 0, LPU_Q_DONE), ==, 0);
    g_assert_cmpuint(rd(&l, LPU_REG_ERROR_CODE), ==, LPU_ERR_DMA);
    g_assert_cmphex(rd(&l, LPU_REG_IRQ_STATUS), ==,
                    LPU_IRQ_QUEUE(0) | LPU_IRQ_ERROR);
    g_assert(fence_area_zero(&l, &r));
    g_assert_false(lpu_msi_fired(&l, LPU_MSIX_VEC_QUEUE(0)));
    g_assert_false(lpu_msi_fired(&l, LPU_MSIX_VEC_DEVICE));
    set_bus_master(&l, true);
    recover(&l, &r);

    g_test_message("fence write, bus mastering dropped mid-descriptor");
    qwr(&l, 0, LPU_Q_CTRL, LPU_Q_CTRL_RESET | LPU_Q_CTRL_ENABLE);
    r.tail = 0;
    put_nop(&l, &r, 1000);
    put_fence(&l, &r, 1, 2, LPU_DESC_F_IRQ);
    ring_doorbell(&l, &r);
    /* The NOP has retired and the FENCE has been fetched onto the engine. */
    step(&l, NOP_NS(1000) + 1);
    g_assert_cmpuint(qrd(&l, 0, LPU_Q_HEAD), ==, 1);
    g_assert(qrd(&l, 0, LPU_Q_STATUS) & LPU_Q_STATUS_BUSY);
    set_bus_master(&l, false);
    step(&l, 10000);
    g_assert_cmphex(qrd(&l, 0, LPU_Q_STATUS), ==,
                    LPU_Q_STATUS_ENABLED | LPU_Q_STATUS_HALTED);
    g_assert_cmpuint(qrd(&l, 0, LPU_Q_ERROR), ==, LPU_ERR_DMA);
    g_assert_cmpuint(qrd(&l, 0, LPU_Q_ERROR_HEAD), ==, 1);
    g_assert_cmpuint(qrd(&l, 0, LPU_Q_DONE), ==, 1);
    g_assert(fence_area_zero(&l, &r));
    g_assert_false(lpu_msi_fired(&l, LPU_MSIX_VEC_QUEUE(0)));
    lpu_stop(&l);
}

/* ---- interrupts -------------------------------------------------------- */

static void msix_function_mask(Lpu *l, bool masked)
{
    uint8_t cap = qpci_find_capability(l->dev, PCI_CAP_ID_MSIX, 0);
    uint16_t flags = qpci_config_readw(l->dev, cap + PCI_MSIX_FLAGS);

    flags = masked ? flags | PCI_MSIX_FLAGS_MASKALL :
                     flags & ~PCI_MSIX_FLAGS_MASKALL;
    qpci_config_writew(l->dev, cap + PCI_MSIX_FLAGS, flags);
}

/* One FENCE with F_IRQ on @r, run to completion. */
static void fence_irq(Lpu *l, Ring *r, uint64_t seq)
{
    put_fence(l, r, 0, seq, LPU_DESC_F_IRQ);
    ring_doorbell(l, r);
    step(l, 1000);
    g_assert_cmpuint(qrd(l, r->q, LPU_Q_HEAD), ==, r->tail);
}

static void test_irq_delivery(void)
{
    Lpu l;
    Ring r, r2;
    unsigned v;

    lpu_start(&l, NULL);
    lpu_msix_setup(&l);
    ring_setup(&l, &r, 1, 16, 1);
    ring_setup(&l, &r2, 2, 4, 1);

    g_test_message("IRQ_MASK: masked causes are recorded, not sent");
    wr(&l, LPU_REG_IRQ_MASK, LPU_IRQ_QUEUE(2));
    fence_irq(&l, &r, 1);
    fence_irq(&l, &r, 2);
    g_assert_cmphex(rd(&l, LPU_REG_IRQ_STATUS), ==, LPU_IRQ_QUEUE(1));
    for (v = 0; v < LPU_MSIX_NUM_VECTORS; v++) {
        g_assert_false(lpu_msi_fired(&l, v));
        g_assert_false(qpci_msix_pending(l.dev, v));
    }
    /* Another, unmasked cause is not held up by the masked one. */
    fence_irq(&l, &r2, 3);
    g_assert(lpu_msi_fired(&l, LPU_MSIX_VEC_QUEUE(2)));
    g_assert_false(lpu_msi_fired(&l, LPU_MSIX_VEC_QUEUE(1)));
    /* Unmasking the pending cause sends it once, and only it. */
    wr(&l, LPU_REG_IRQ_MASK, LPU_IRQ_QUEUE(2) | LPU_IRQ_QUEUE(1));
    g_assert(lpu_msi_fired(&l, LPU_MSIX_VEC_QUEUE(1)));
    for (v = 0; v < LPU_MSIX_NUM_VECTORS; v++) {
        g_assert_false(lpu_msi_fired(&l, v));
    }
    /* Rewriting the mask does not send it again. */
    wr(&l, LPU_REG_IRQ_MASK, LPU_IRQ_QUEUE(2) | LPU_IRQ_QUEUE(1));
    g_assert_false(lpu_msi_fired(&l, LPU_MSIX_VEC_QUEUE(1)));
    /* Every event sends, even with its status bit still set. */
    fence_irq(&l, &r, 4);
    g_assert(lpu_msi_fired(&l, LPU_MSIX_VEC_QUEUE(1)));
    /* A cause acknowledged while masked is not sent on unmask. */
    wr(&l, LPU_REG_IRQ_MASK, 0);
    fence_irq(&l, &r, 5);
    wr(&l, LPU_REG_IRQ_STATUS, LPU_IRQ_ALL);
    wr(&l, LPU_REG_IRQ_MASK, LPU_IRQ_ALL);
    g_assert_false(lpu_msi_fired(&l, LPU_MSIX_VEC_QUEUE(1)));

    g_test_message("MSI-X vector mask: pending, delivered on unmask");
    lpu_msix_mask(&l, LPU_MSIX_VEC_QUEUE(1), true);
    fence_irq(&l, &r, 6);
    g_assert(qpci_msix_pending(l.dev, LPU_MSIX_VEC_QUEUE(1)));
    g_assert_false(lpu_msi_fired(&l, LPU_MSIX_VEC_QUEUE(1)));
    /* Acknowledging IRQ_STATUS does not withdraw the message. */
    wr(&l, LPU_REG_IRQ_STATUS, LPU_IRQ_ALL);
    lpu_msix_mask(&l, LPU_MSIX_VEC_QUEUE(1), false);
    g_assert_false(qpci_msix_pending(l.dev, LPU_MSIX_VEC_QUEUE(1)));
    g_assert(lpu_msi_fired(&l, LPU_MSIX_VEC_QUEUE(1)));

    g_test_message("MSI-X function mask");
    msix_function_mask(&l, true);
    fence_irq(&l, &r, 7);
    g_assert(qpci_msix_pending(l.dev, LPU_MSIX_VEC_QUEUE(1)));
    g_assert_false(lpu_msi_fired(&l, LPU_MSIX_VEC_QUEUE(1)));
    msix_function_mask(&l, false);
    g_assert_false(qpci_msix_pending(l.dev, LPU_MSIX_VEC_QUEUE(1)));
    g_assert(lpu_msi_fired(&l, LPU_MSIX_VEC_QUEUE(1)));

    g_test_message("error causes: queue and device vectors separately");
    wr(&l, LPU_REG_IRQ_STATUS, LPU_IRQ_ALL);
    wr(&l, LPU_REG_IRQ_MASK, LPU_IRQ_QUEUE(1));
    qwr(&l, 1, LPU_Q_TAIL, r.size);
    g_assert_cmphex(rd(&l, LPU_REG_IRQ_STATUS), ==,
                    LPU_IRQ_QUEUE(1) | LPU_IRQ_ERROR);
    g_assert(lpu_msi_fired(&l, LPU_MSIX_VEC_QUEUE(1)));
    g_assert_false(lpu_msi_fired(&l, LPU_MSIX_VEC_DEVICE));
    wr(&l, LPU_REG_IRQ_MASK, LPU_IRQ_ALL);
    g_assert(lpu_msi_fired(&l, LPU_MSIX_VEC_DEVICE));
    /* Mailbox completion uses the device vector. */
    wr(&l, LPU_REG_IRQ_STATUS, LPU_IRQ_ALL);
    wr(&l, LPU_REG_FW_CMD, LPU_FW_CMD_BOOT);
    g_assert_cmphex(rd(&l, LPU_REG_IRQ_STATUS), ==, LPU_IRQ_MAILBOX);
    g_assert(lpu_msi_fired(&l, LPU_MSIX_VEC_DEVICE));

    g_test_message("device reset drops pending messages");
    lpu_msix_mask(&l, LPU_MSIX_VEC_DEVICE, true);
    wr(&l, LPU_REG_FW_CMD, LPU_FW_CMD_BOOT);
    g_assert(qpci_msix_pending(l.dev, LPU_MSIX_VEC_DEVICE));
    wr(&l, LPU_REG_RESET, LPU_RESET_MAGIC);
    g_assert_false(qpci_msix_pending(l.dev, LPU_MSIX_VEC_DEVICE));
    lpu_msix_mask(&l, LPU_MSIX_VEC_DEVICE, false);
    g_assert_false(lpu_msi_fired(&l, LPU_MSIX_VEC_DEVICE));
    lpu_stop(&l);
}

/* ---- DMA engine (COPY) ------------------------------------------------- */

static bool all_zero(const uint8_t *buf, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (buf[i]) {
            return false;
        }
    }
    return true;
}

#define COPY_NS(size)       ((int64_t)LPU_COPY_BASE_CYCLES + \
                             DIV_ROUND_UP((size), LPU_DMA_BYTES_PER_CYCLE))
#define PAGE                ((uint64_t)LPU_PAGE_SIZE)
#define VA(n)               ((uint64_t)(n) << 32)

/*
 * A buffer the device reaches through one segment. Host buffers get real
 * page tables with their data pages deliberately out of order (runs of
 * four adjacent pages, then four in reverse), so translation and the
 * coalescing of contiguous pages both matter. @shadow is what the test
 * expects the buffer to hold.
 */
typedef struct Buf {
    struct lpu_segment seg;
    uint64_t size;
    uint64_t sram_base;         /* SRAM: guest physical address of byte 0 */
    uint64_t *page;             /* host: bus address of each data page */
    uint8_t *shadow;
} Buf;

static uint64_t page_alloc(Lpu *l, uint64_t pages)
{
    uint64_t addr = guest_alloc(&l->alloc, (pages + 1) * PAGE);

    g_assert(addr);
    return ROUND_UP(addr, PAGE);
}

/* @sram: where BAR 2 is mapped (qpci_iomap() it once per device). */
static void buf_sram(uint64_t sram, Buf *b, uint64_t va, uint64_t size,
                     uint64_t offset)
{
    memset(b, 0, sizeof(*b));
    b->seg.va = cpu_to_le64(va);
    b->seg.size = cpu_to_le64(size);
    b->seg.base = cpu_to_le64(offset);
    b->seg.kind = cpu_to_le32(LPU_SEG_SRAM);
    b->size = size;
    b->sram_base = sram + offset;
    b->shadow = g_malloc0(size);
}

/* Page i of the buffer lives at data page perm(i) of one allocation. */
static uint64_t buf_perm(uint64_t i, uint64_t pages)
{
    uint64_t j = i % 8 < 4 ? i : i - i % 8 + 11 - i % 8;

    return j < pages ? j : i;
}

static void buf_host(Lpu *l, Buf *b, uint64_t va, uint64_t size)
{
    uint64_t pages = size / PAGE;
    uint64_t data = page_alloc(l, pages), dir = page_alloc(l, 1);
    uint64_t i, leaf = 0;

    memset(b, 0, sizeof(*b));
    b->seg.va = cpu_to_le64(va);
    b->seg.size = cpu_to_le64(size);
    b->seg.base = cpu_to_le64(dir);
    b->seg.kind = cpu_to_le32(LPU_SEG_HOST);
    b->size = size;
    b->page = g_new(uint64_t, pages);
    b->shadow = g_malloc0(size);
    qtest_memset(l->qts, dir, 0, PAGE);
    for (i = 0; i < pages; i++) {
        if (i % 512 == 0) {
            leaf = page_alloc(l, 1);
            qtest_writeq(l->qts, dir + i / 512 * 8, leaf);
        }
        b->page[i] = data + buf_perm(i, pages) * PAGE;
        qtest_writeq(l->qts, leaf + i % 512 * 8, b->page[i]);
    }
    qtest_memset(l->qts, data, 0, size);
}

static void buf_free(Buf *b)
{
    g_free(b->page);
    g_free(b->shadow);
}

static uint64_t buf_va(const Buf *b)
{
    return le64_to_cpu(b->seg.va);
}

/* Move bytes between the test and the buffer through its pages. */
static void buf_io(Lpu *l, Buf *b, uint64_t off, uint8_t *data, uint64_t len,
                   bool write)
{
    uint64_t n;

    while (len) {
        uint64_t addr;

        if (b->page) {
            addr = b->page[off / PAGE] + off % PAGE;
            n = MIN(len, PAGE - off % PAGE);
        } else {
            addr = b->sram_base + off;
            n = len;
        }
        if (write) {
            qtest_bufwrite(l->qts, addr, data, n);
        } else {
            qtest_bufread(l->qts, addr, data, n);
        }
        off += n;
        data += n;
        len -= n;
    }
}

/* Fill the whole buffer (and its shadow) with a pattern from @seed. */
static void buf_fill(Lpu *l, Buf *b, uint32_t seed)
{
    uint64_t i;

    for (i = 0; i < b->size; i++) {
        b->shadow[i] = (i * 7 + seed + (i >> 9)) & 0xff;
    }
    buf_io(l, b, 0, b->shadow, b->size, true);
}

/* The whole buffer holds exactly what the test expects. */
static void buf_check(Lpu *l, Buf *b)
{
    g_autofree uint8_t *now = g_malloc(b->size);
    uint64_t i;

    buf_io(l, b, 0, now, b->size, false);
    for (i = 0; i < b->size; i++) {
        if (now[i] != b->shadow[i]) {
            g_test_message("segment 0x%" PRIx64 " byte 0x%" PRIx64
                           ": 0x%02x, expected 0x%02x", buf_va(b), i,
                           now[i], b->shadow[i]);
            g_assert_not_reached();
        }
    }
}

/* Write a segment table of @n entries; returns its bus address. */
static uint64_t table_put(Lpu *l, const struct lpu_segment *segs, unsigned n)
{
    uint64_t addr = lpu_alloc(l, n * sizeof(*segs));

    qtest_memwrite(l->qts, addr, segs, n * sizeof(*segs));
    return addr;
}

/* A table of the buffers, in the order given (sorted by va). */
static uint64_t table_of(Lpu *l, Buf **bufs, unsigned n)
{
    g_autofree struct lpu_segment *segs = g_new(struct lpu_segment, n);
    unsigned i;

    for (i = 0; i < n; i++) {
        segs[i] = bufs[i]->seg;
    }
    return table_put(l, segs, n);
}

static void put_copy(Lpu *l, Ring *r, uint64_t src, uint64_t dst,
                     uint64_t size, uint64_t table, uint32_t count)
{
    union lpu_desc d = { 0 };

    d.hdr.opcode = LPU_OP_COPY;
    d.copy.src = cpu_to_le64(src);
    d.copy.dst = cpu_to_le64(dst);
    d.copy.size = cpu_to_le64(size);
    d.copy.seg_table = cpu_to_le64(table);
    d.copy.seg_count = cpu_to_le32(count);
    put_desc(l, r, &d);
}

/* What a correct copy does to the shadows. */
static void shadow_copy(Buf *sb, uint64_t soff, Buf *db, uint64_t doff,
                        uint64_t size)
{
    memmove(db->shadow + doff, sb->shadow + soff, size);
}

typedef struct DmaEnv {
    Lpu l;
    Ring r;
    uint64_t sram;
    Buf sram_a, sram_b, host_a, host_b;
    Buf *bufs[4];
    uint64_t table;             /* what dma_copy_ok() uses */
    uint32_t count;
} DmaEnv;

/*
 * Four buffers in one table: two SRAM (1 MiB each), two host (256 KiB
 * each), filled with distinct patterns.
 */
static void dma_env_start(DmaEnv *e, const char *extra)
{
    Lpu *l = &e->l;

    lpu_start(l, extra);
    lpu_msix_setup(l);
    wr(l, LPU_REG_IRQ_MASK, LPU_IRQ_ALL);
    ring_setup(l, &e->r, 1, 16, 8);
    e->sram = qpci_iomap(l->dev, LPU_BAR_SRAM, NULL).addr;
    buf_sram(e->sram, &e->sram_a, VA(1), 1 * MiB, 0);
    buf_sram(e->sram, &e->sram_b, VA(2), 1 * MiB, 3 * MiB);
    buf_host(l, &e->host_a, VA(3), 256 * KiB);
    buf_host(l, &e->host_b, VA(4) + 64 * KiB, 256 * KiB);
    e->bufs[0] = &e->sram_a;
    e->bufs[1] = &e->sram_b;
    e->bufs[2] = &e->host_a;
    e->bufs[3] = &e->host_b;
    buf_fill(l, &e->sram_a, 1);
    buf_fill(l, &e->sram_b, 2);
    buf_fill(l, &e->host_a, 3);
    buf_fill(l, &e->host_b, 4);
    e->table = table_of(l, e->bufs, 4);
    e->count = 4;
}

static void dma_env_check(DmaEnv *e)
{
    unsigned i;

    for (i = 0; i < 4; i++) {
        buf_check(&e->l, e->bufs[i]);
    }
}

static void dma_env_stop(DmaEnv *e)
{
    unsigned i;

    for (i = 0; i < 4; i++) {
        buf_free(e->bufs[i]);
    }
    lpu_stop(&e->l);
}

/*
 * Run one COPY and a FENCE behind it on the env's ring; asserts that it
 * completed, at its modelled time, and returns the FENCE's record.
 */
static void dma_copy_ok(DmaEnv *e, Buf *sb, uint64_t soff, Buf *db,
                        uint64_t doff, uint64_t size)
{
    Lpu *l = &e->l;
    struct lpu_fence_record rec;
    uint32_t done = qrd(l, e->r.q, LPU_Q_DONE);
    int64_t db_ns;

    put_copy(l, &e->r, buf_va(sb) + soff, buf_va(db) + doff, size, e->table,
             e->count);
    put_fence(l, &e->r, 0, done + 2, 0);
    db_ns = ring_doorbell(l, &e->r);
    step(l, COPY_NS(size) + FENCE_NS + 10);
    g_assert_cmphex(qrd(l, e->r.q, LPU_Q_STATUS), ==, LPU_Q_STATUS_ENABLED);
    g_assert_cmpuint(qrd(l, e->r.q, LPU_Q_DONE), ==, done + 2);
    read_fence(l, &e->r, 0, &rec);
    g_assert_cmpuint(rec.seq, ==, done + 2);
    g_assert_cmpint(rec.complete_ns, ==, db_ns + COPY_NS(size) + FENCE_NS);
    shadow_copy(sb, soff, db, doff, size);
}

/* Every direction moves exactly the right bytes, nothing around them. */
static void test_copy_data(void)
{
    DmaEnv e;
    Lpu *l = &e.l;
    uint32_t busy;

    dma_env_start(&e, NULL);
    g_test_message("host to SRAM, unaligned, across pages");
    dma_copy_ok(&e, &e.host_a, 123, &e.sram_a, 4095, 70000);
    busy = rd(l, LPU_REG_BUSY_NS_LO);
    g_assert_cmpuint(busy, ==, COPY_NS(70000) + FENCE_NS);
    g_test_message("SRAM to host");
    dma_copy_ok(&e, &e.sram_a, 4095, &e.host_b, 5, 70000);
    g_test_message("SRAM to SRAM");
    dma_copy_ok(&e, &e.sram_a, 1, &e.sram_b, 777, 12345);
    g_test_message("host to host");
    dma_copy_ok(&e, &e.host_a, 4000, &e.host_b, 100000, 33333);
    g_test_message("one byte, at the very ends of the buffers");
    dma_copy_ok(&e, &e.host_a, 256 * KiB - 1, &e.sram_b, 0, 1);
    dma_copy_ok(&e, &e.sram_b, 1 * MiB - 1, &e.host_a, 0, 1);
    g_test_message("whole buffers");
    dma_copy_ok(&e, &e.host_b, 0, &e.host_a, 0, 256 * KiB);
    dma_copy_ok(&e, &e.sram_b, 0, &e.sram_a, 0, 1 * MiB);
    dma_copy_ok(&e, &e.host_a, 0, &e.sram_b, 512 * KiB, 256 * KiB);
    dma_copy_ok(&e, &e.sram_a, 3, &e.host_b, 0, 256 * KiB);
    g_test_message("within one buffer, not overlapping");
    dma_copy_ok(&e, &e.sram_a, 0, &e.sram_a, 4096 * 3 + 1, 4096 * 3 + 1);
    dma_copy_ok(&e, &e.host_b, 200000, &e.host_b, 3, 50000);
    dma_env_check(&e);
    g_assert_cmpuint(rd(l, LPU_REG_ERROR_COUNT), ==, 0);
    g_assert_cmpuint(rd(l, LPU_REG_DESC_DONE_LO), ==, 2 * 12);
    dma_env_stop(&e);
}

typedef struct BadCopy {
    const char *name;
    Buf *(*src)(DmaEnv *e, uint64_t *off);
    Buf *(*dst)(DmaEnv *e, uint64_t *off);
    uint64_t src_va;            /* if src is NULL */
    uint64_t dst_va;            /* if dst is NULL */
    uint64_t size;
    uint64_t fault_addr;        /* 0: the buffer end, see below */
    uint32_t fault_info;
} BadCopy;

static void assert_fault(Lpu *l, Ring *r, uint64_t addr, uint32_t info)
{
    g_assert_cmpuint(qrd(l, r->q, LPU_Q_ERROR), ==, LPU_ERR_FAULT);
    g_assert_cmphex(qrd(l, r->q, LPU_Q_FAULT_ADDR_LO), ==, (uint32_t)addr);
    g_assert_cmphex(qrd(l, r->q, LPU_Q_FAULT_ADDR_HI), ==, addr >> 32);
    g_assert_cmphex(qrd(l, r->q, LPU_Q_FAULT_INFO), ==, info);
}

/*
 * Run a COPY that must halt the env's queue with @code at entry 1 (a FENCE
 * goes first, another after), then recover. Nothing may have changed.
 */
static void dma_copy_bad(DmaEnv *e, uint64_t src, uint64_t dst, uint64_t size,
                         uint64_t table, uint32_t count, uint32_t code)
{
    Lpu *l = &e->l;
    struct lpu_fence_record rec;
    uint32_t errors = rd(l, LPU_REG_ERROR_COUNT);

    qwr(l, e->r.q, LPU_Q_CTRL, LPU_Q_CTRL_RESET | LPU_Q_CTRL_ENABLE);
    e->r.tail = 0;
    qtest_memset(l->qts, e->r.fence, 0, e->r.count * LPU_FENCE_RECORD_SIZE);
    put_fence(l, &e->r, 0, 0x51, 0);
    put_copy(l, &e->r, src, dst, size, table, count);
    put_fence(l, &e->r, 1, 0x52, LPU_DESC_F_IRQ);
    ring_doorbell(l, &e->r);
    step(l, COPY_NS(MIN(size, 64 * MiB)) + 10000);
    assert_halted(l, &e->r, code, 1, errors + 1);
    read_fence(l, &e->r, 0, &rec);
    g_assert_cmphex(rec.seq, ==, 0x51);
    read_fence(l, &e->r, 1, &rec);
    g_assert_cmphex(rec.seq, ==, 0);
    g_assert_cmpuint(qrd(l, e->r.q, LPU_Q_DONE), ==, 1);
    if (code != LPU_ERR_FAULT) {
        g_assert_cmphex(qrd(l, e->r.q, LPU_Q_FAULT_ADDR_LO), ==, 0);
        g_assert_cmphex(qrd(l, e->r.q, LPU_Q_FAULT_ADDR_HI), ==, 0);
        g_assert_cmphex(qrd(l, e->r.q, LPU_Q_FAULT_INFO), ==, 0);
    }
}

/* Recover the env's queue after dma_copy_bad(); the fault is forgotten. */
static void dma_recover(DmaEnv *e)
{
    Lpu *l = &e->l;

    qwr(l, e->r.q, LPU_Q_CTRL, LPU_Q_CTRL_RESET | LPU_Q_CTRL_ENABLE);
    g_assert_cmphex(qrd(l, e->r.q, LPU_Q_FAULT_ADDR_LO), ==, 0);
    g_assert_cmphex(qrd(l, e->r.q, LPU_Q_FAULT_ADDR_HI), ==, 0);
    g_assert_cmphex(qrd(l, e->r.q, LPU_Q_FAULT_INFO), ==, 0);
    wr(l, LPU_REG_ERROR_ACK, 1);
    wr(l, LPU_REG_IRQ_STATUS, LPU_IRQ_ALL);
    e->r.tail = 0;
}

/*
 * A copy reaching outside its segments faults before a byte moves, with
 * the address and kind of the first bad access; the queue then works.
 */
static void test_copy_fault(void)
{
    DmaEnv e;
    Lpu *l = &e.l;
    const struct {
        const char *name;
        uint64_t src, dst, size, addr;
        uint32_t info;
    } cases[] = {
        { "source not mapped", VA(5), 0, 16, VA(5), LPU_FAULT_NOT_MAPPED },
        { "source below the first segment", 4096, 0, 16, 4096,
          LPU_FAULT_NOT_MAPPED },
        { "source in the gap before a segment", VA(4) + 4096, 0, 16,
          VA(4) + 4096, LPU_FAULT_NOT_MAPPED },
        { "source past the end", VA(1) + MiB - 10, 0, 11, VA(1) + MiB,
          LPU_FAULT_OUT_OF_BOUNDS },
        { "source runs into the next segment", VA(3) + 255 * KiB, VA(1),
          2 * KiB, VA(3) + 256 * KiB, LPU_FAULT_OUT_OF_BOUNDS },
        { "destination not mapped", VA(1), VA(1) + MiB, 16, VA(1) + MiB,
          LPU_FAULT_NOT_MAPPED | LPU_FAULT_WRITE },
        { "destination past the end", VA(1), VA(4) + 64 * KiB + 256 * KiB - 1,
          2, VA(4) + 64 * KiB + 256 * KiB,
          LPU_FAULT_OUT_OF_BOUNDS | LPU_FAULT_WRITE },
        { "huge copy: the source's end is reported", VA(2), VA(3), 1 * GiB,
          VA(2) + MiB, LPU_FAULT_OUT_OF_BOUNDS },
        { "both bad: the source is reported", VA(6), VA(7), 1, VA(6),
          LPU_FAULT_NOT_MAPPED },
    };
    unsigned i;

    dma_env_start(&e, NULL);
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        uint64_t dst = cases[i].dst;

        if (!dst) {
            dst = VA(1) + 8192;
        }
        g_test_message("fault: %s", cases[i].name);
        dma_copy_bad(&e, cases[i].src, dst, cases[i].size, e.table, 4,
                     LPU_ERR_FAULT);
        assert_fault(l, &e.r, cases[i].addr, cases[i].info);
        dma_env_check(&e);
        dma_recover(&e);
    }

    g_test_message("a good copy on the recovered queue");
    dma_copy_ok(&e, &e.host_a, 1, &e.sram_b, 2, 3 * PAGE);
    dma_copy_ok(&e, &e.sram_b, 0, &e.host_b, 0, 8 * PAGE);
    dma_env_check(&e);
    g_assert_cmpuint(rd(l, LPU_REG_ERROR_COUNT), ==, ARRAY_SIZE(cases));
    dma_env_stop(&e);
}

/* Run a COPY that must fail on the env's queue, then check and recover. */
static void dma_expect(DmaEnv *e, uint64_t src, uint64_t dst, uint64_t size,
                       uint64_t table, uint32_t count, uint32_t code)
{
    dma_copy_bad(e, src, dst, size, table, count, code);
    dma_env_check(e);
    dma_recover(e);
}

/* Every rule of the segment table, checked before anything moves. */
static void test_copy_seg_table(void)
{
    static const struct {
        const char *name;
        uint64_t va, size, base;
        uint32_t kind, rsvd;
    } bad_extra[] = {
        /* Appended after the env's four segments (all below VA(5)). */
        { "va zero", 0, PAGE, 0, LPU_SEG_SRAM, 0 },
        { "va not page aligned", VA(9) + 8, PAGE, 0, LPU_SEG_SRAM, 0 },
        { "size zero", VA(9), 0, 0, LPU_SEG_SRAM, 0 },
        { "size not a page multiple", VA(9), PAGE + 1, 0, LPU_SEG_SRAM, 0 },
        { "size above LPU_SEG_MAX_SIZE", VA(9), LPU_SEG_MAX_SIZE + PAGE, 0,
          LPU_SEG_SRAM, 0 },
        { "kind zero", VA(9), PAGE, 0, 0, 0 },
        { "kind unknown", VA(9), PAGE, 0, 3, 0 },
        { "rsvd not zero", VA(9), PAGE, 0, LPU_SEG_SRAM, 1 },
        { "va + size wraps", -PAGE, 2 * PAGE, 0, LPU_SEG_SRAM, 0 },
        { "ends at 2^64", -PAGE, PAGE, 0, LPU_SEG_SRAM, 0 },
        { "SRAM past the end", VA(9), 2 * PAGE, 256 * MiB - PAGE,
          LPU_SEG_SRAM, 0 },
        { "SRAM base beyond SRAM", VA(9), PAGE, -PAGE, LPU_SEG_SRAM, 0 },
        { "SRAM base 1", VA(9), PAGE, 1, LPU_SEG_SRAM, 0 },
        { "SRAM base 4", VA(9), PAGE, 4, LPU_SEG_SRAM, 0 },
        { "SRAM base half a page", VA(9), PAGE, PAGE / 2, LPU_SEG_SRAM, 0 },
        { "directory not page aligned", VA(9), PAGE, 0x100008, LPU_SEG_HOST,
          0 },
        { "overlaps the previous segment", VA(4) + 128 * KiB, PAGE, 0,
          LPU_SEG_SRAM, 0 },
        { "not sorted", VA(4), PAGE, 0, LPU_SEG_SRAM, 0 },
    };
    DmaEnv e;
    Lpu *l = &e.l;
    struct lpu_segment segs[5];
    uint64_t table;
    unsigned i;

    dma_env_start(&e, NULL);
    for (i = 0; i < 4; i++) {
        segs[i] = e.bufs[i]->seg;
    }
    for (i = 0; i < ARRAY_SIZE(bad_extra); i++) {
        g_test_message("segment table: %s", bad_extra[i].name);
        segs[4].va = cpu_to_le64(bad_extra[i].va);
        segs[4].size = cpu_to_le64(bad_extra[i].size);
        segs[4].base = cpu_to_le64(bad_extra[i].base);
        segs[4].kind = cpu_to_le32(bad_extra[i].kind);
        segs[4].rsvd = cpu_to_le32(bad_extra[i].rsvd);
        table = table_put(l, segs, 5);
        dma_expect(&e, VA(3), VA(1), 2 * PAGE, table, 5, LPU_ERR_SEG_TABLE);
    }

    g_test_message("segment table: unsorted first entries");
    segs[0] = e.sram_b.seg;
    segs[1] = e.sram_a.seg;
    table = table_put(l, segs, 4);
    dma_expect(&e, VA(3), VA(1), 2 * PAGE, table, 4, LPU_ERR_SEG_TABLE);

    g_test_message("segment table: not 32-byte aligned");
    dma_expect(&e, VA(3), VA(1), 16, e.table + 16, 4, LPU_ERR_SEG_TABLE);
    g_test_message("segment table: wraps the address space");
    dma_expect(&e, VA(3), VA(1), 16, -(uint64_t)LPU_SEGMENT_SIZE, 4,
               LPU_ERR_SEG_TABLE);
    g_test_message("segment table: nothing decodes it");
    dma_expect(&e, VA(3), VA(1), 16, 0x7fff00000000ULL, 4, LPU_ERR_DMA);
    g_test_message("segment table: in the device's own BAR 0");
    wr(l, LPU_REG_SCRATCH, 0x5ca7c400);
    dma_expect(&e, VA(3), VA(1), 16, l->bar.addr, 4, LPU_ERR_DMA);
    g_assert_cmphex(rd(l, LPU_REG_SCRATCH), ==, 0x5ca7c400);

    g_test_message("a good table of LPU_MAX_SEGMENTS entries works");
    {
        g_autofree struct lpu_segment *many =
            g_new0(struct lpu_segment, LPU_MAX_SEGMENTS);

        for (i = 0; i < LPU_MAX_SEGMENTS; i++) {
            many[i] = e.sram_a.seg;
            many[i].va = cpu_to_le64(VA(16) + i * 2 * PAGE);
            many[i].size = cpu_to_le64(PAGE);
            many[i].base = cpu_to_le64(i * PAGE);
        }
        many[LPU_MAX_SEGMENTS - 1] = e.host_a.seg;
        many[LPU_MAX_SEGMENTS - 1].va = cpu_to_le64(VA(20));
        e.table = table_put(l, many, LPU_MAX_SEGMENTS);
        e.count = LPU_MAX_SEGMENTS;
        put_copy(l, &e.r, VA(20) + 10, VA(16) + 2 * PAGE * 255 - 2 * PAGE + 1,
                 100, e.table, LPU_MAX_SEGMENTS);
        put_fence(l, &e.r, 0, 0x99, 0);
        ring_doorbell(l, &e.r);
        step(l, 10000);
        g_assert_cmphex(qrd(l, e.r.q, LPU_Q_STATUS), ==,
                        LPU_Q_STATUS_ENABLED);
        /* Segment 254 maps SRAM page 254, i.e. sram_a's page 254. */
        shadow_copy(&e.host_a, 10, &e.sram_a, 254 * PAGE + 1, 100);
        dma_env_check(&e);
    }
    dma_env_stop(&e);
}

/* Ranges that overlap in device address space are refused. */
static void test_copy_overlap(void)
{
    DmaEnv e;

    dma_env_start(&e, NULL);
    g_test_message("same address");
    dma_expect(&e, VA(1) + 64, VA(1) + 64, 1, e.table, 4, LPU_ERR_OVERLAP);
    g_test_message("destination inside the source");
    dma_expect(&e, VA(3), VA(3) + 100, 200, e.table, 4, LPU_ERR_OVERLAP);
    g_test_message("source inside the destination, by one byte");
    dma_expect(&e, VA(2) + 4095, VA(2), 4096, e.table, 4, LPU_ERR_OVERLAP);
    g_test_message("a fault is reported before the overlap");
    dma_copy_bad(&e, VA(1) + MiB - 8, VA(1) + MiB - 16, 16, e.table, 4,
                 LPU_ERR_FAULT);
    assert_fault(&e.l, &e.r, VA(1) + MiB, LPU_FAULT_OUT_OF_BOUNDS);
    dma_recover(&e);
    g_test_message("touching ranges are fine");
    dma_copy_ok(&e, &e.host_a, 0, &e.host_a, 4096, 4096);
    dma_env_check(&e);
    dma_env_stop(&e);
}

/* The page-table leaf of host buffer @b covering page @page. */
static uint64_t buf_leaf(Lpu *l, Buf *b, uint64_t page)
{
    return qtest_readq(l->qts, le64_to_cpu(b->seg.base) + page / 512 * 8);
}

/*
 * Broken page tables: SEG_TABLE for misaligned entries, DMA for ones that
 * cannot be read, checked for the whole copy before anything moves.
 */
static void test_copy_page_tables(void)
{
    DmaEnv e;
    Lpu *l = &e.l;
    uint64_t leaf, dir, entry, page;
    struct lpu_segment segs[5];
    uint64_t table;
    unsigned i;

    dma_env_start(&e, NULL);
    leaf = buf_leaf(l, &e.host_a, 0);
    dir = le64_to_cpu(e.host_a.seg.base);

    g_test_message("the last data page of the source is misaligned");
    entry = qtest_readq(l->qts, leaf + 8 * 9);
    qtest_writeq(l->qts, leaf + 8 * 9, entry + 8);
    dma_expect(&e, VA(3) + 10, VA(1), 9 * PAGE, e.table, 4,
               LPU_ERR_SEG_TABLE);
    g_test_message("... and of the destination");
    dma_expect(&e, VA(1), VA(3) + 10, 9 * PAGE, e.table, 4,
               LPU_ERR_SEG_TABLE);
    g_test_message("pages the copy does not use are not checked");
    dma_copy_ok(&e, &e.host_a, 0, &e.sram_a, 0, 9 * PAGE);
    qtest_writeq(l->qts, leaf + 8 * 9, entry);

    g_test_message("leaf page misaligned");
    qtest_writeq(l->qts, dir, leaf + 64);
    dma_expect(&e, VA(3), VA(1), 1, e.table, 4, LPU_ERR_SEG_TABLE);
    g_test_message("leaf page where nothing decodes");
    qtest_writeq(l->qts, dir, 0x7fff00000000ULL);
    dma_expect(&e, VA(3), VA(1), 1, e.table, 4, LPU_ERR_DMA);
    qtest_writeq(l->qts, dir, leaf);

    g_test_message("directory where nothing decodes");
    for (i = 0; i < 4; i++) {
        segs[i] = e.bufs[i]->seg;
    }
    segs[2].base = cpu_to_le64(0x7fff00000000ULL);
    table = table_put(l, segs, 4);
    dma_expect(&e, VA(1), VA(3), 1, table, 4, LPU_ERR_DMA);

    g_test_message("a data page in the device's own BAR 0");
    page = page_alloc(l, 2);
    qtest_memset(l->qts, page, 0, PAGE);
    qtest_writeq(l->qts, page, page + PAGE);
    qtest_writeq(l->qts, page + PAGE, l->bar.addr);
    for (i = 0; i < 4; i++) {
        segs[i] = e.bufs[i]->seg;
    }
    segs[4] = e.host_a.seg;
    segs[4].va = cpu_to_le64(VA(9));
    segs[4].size = cpu_to_le64(PAGE);
    segs[4].base = cpu_to_le64(page);
    table = table_put(l, segs, 5);
    wr(l, LPU_REG_SCRATCH, 0x0badf00d);
    dma_copy_bad(&e, VA(1), VA(9) + LPU_REG_SCRATCH, 4, table, 5,
                 LPU_ERR_DMA);
    g_assert_cmphex(rd(l, LPU_REG_SCRATCH), ==, 0x0badf00d);
    dma_recover(&e);
    dma_env_check(&e);
    dma_env_stop(&e);
}

/* Without bus mastering the engine reaches no host memory. */
static void test_copy_bus_master(void)
{
    DmaEnv e;
    Lpu *l = &e.l;
    Buf big, dst;
    Buf *bufs[2];
    struct lpu_fence_record rec;
    g_autofree uint8_t *sample = g_malloc(PAGE);

    dma_env_start(&e, NULL);
    g_test_message("bus mastering off before the doorbell");
    set_bus_master(l, false);
    put_copy(l, &e.r, VA(3), VA(1), 3 * PAGE, e.table, 4);
    ring_doorbell(l, &e.r);
    step(l, 10000);
    set_bus_master(l, true);
    g_assert_cmpuint(qrd(l, e.r.q, LPU_Q_ERROR), ==, LPU_ERR_DMA);
    dma_env_check(&e);
    dma_recover(&e);

    g_test_message("bus mastering dropped in the middle of a long copy");
    buf_host(l, &big, VA(8), 12 * MiB);
    buf_fill(l, &big, 9);
    buf_sram(e.sram, &dst, VA(10), 12 * MiB, 16 * MiB);
    bufs[0] = &big;
    bufs[1] = &dst;
    e.table = table_of(l, bufs, 2);
    put_copy(l, &e.r, VA(8), VA(10), 12 * MiB, e.table, 2);
    put_fence(l, &e.r, 0, 0x77, 0);
    ring_doorbell(l, &e.r);
    /* Two chunks have moved (one per callback, each a nanosecond apart). */
    step(l, 1);
    set_bus_master(l, false);
    step(l, COPY_NS(12 * MiB) + 10000);
    set_bus_master(l, true);
    g_assert_cmpuint(qrd(l, e.r.q, LPU_Q_ERROR), ==, LPU_ERR_DMA);
    g_assert_cmpuint(qrd(l, e.r.q, LPU_Q_ERROR_HEAD), ==, 0);
    read_fence(l, &e.r, 0, &rec);
    g_assert_cmphex(rec.seq, ==, 0);
    /* What moved is right, and the tail never arrived. */
    qtest_bufread(l->qts, e.sram + 16 * MiB, sample, PAGE);
    g_assert(!memcmp(sample, big.shadow, PAGE));
    qtest_bufread(l->qts, e.sram + 28 * MiB - PAGE, sample, PAGE);
    g_assert(all_zero(sample, PAGE));
    buf_free(&big);
    buf_free(&dst);
    dma_env_stop(&e);
}

/*
 * A copy of many chunks and several page-table leaves, both ways: right
 * data, completion exactly at its modelled time.
 */
static void test_copy_large(void)
{
    const uint64_t size = 9 * MiB + 3 * PAGE;
    DmaEnv e;
    Lpu *l = &e.l;
    Buf big, sram;
    Buf *bufs[2];
    uint64_t busy;

    dma_env_start(&e, NULL);
    buf_host(l, &big, VA(8), 10 * MiB);
    buf_fill(l, &big, 5);
    buf_sram(e.sram, &sram, VA(10), 10 * MiB, 100 * MiB);
    buf_fill(l, &sram, 6);
    bufs[0] = &big;
    bufs[1] = &sram;
    e.table = table_of(l, bufs, 2);
    e.count = 2;
    busy = rd(l, LPU_REG_BUSY_NS_LO);
    /* dma_copy_ok() asserts completion at the modelled time. */
    dma_copy_ok(&e, &big, 7, &sram, PAGE - 3, size);
    buf_check(l, &sram);
    qtest_memset(l->qts, big.page[0], 0, PAGE);
    memset(big.shadow, 0, PAGE);
    dma_copy_ok(&e, &sram, 1, &big, 2, size + 5);
    buf_check(l, &big);
    g_assert_cmpuint(rd(l, LPU_REG_BUSY_NS_LO) - busy, ==,
                     COPY_NS(size) + COPY_NS(size + 5) + 2 * FENCE_NS);
    buf_free(&big);
    buf_free(&sram);
    dma_env_stop(&e);
}

/* Fill SRAM [off, off + len) with a pattern that names each page. */
static void sram_pattern(Lpu *l, uint64_t sram, uint64_t off, uint64_t len,
                         uint8_t seed)
{
    g_autofree uint8_t *buf = g_malloc(MiB);
    uint64_t done, i;

    for (done = 0; done < len; done += MiB) {
        for (i = 0; i < MiB; i++) {
            buf[i] = ((done + i) / PAGE * 13 + i + seed) & 0xff;
        }
        qtest_bufwrite(l->qts, sram + off + done, buf, MIN(MiB, len - done));
    }
}

/* How many of the 1 MiB pieces of [off, off + len) hold the pattern. */
static unsigned sram_pattern_count(Lpu *l, uint64_t sram, uint64_t off,
                                   uint64_t len, uint8_t seed)
{
    g_autofree uint8_t *buf = g_malloc(MiB);
    g_autofree uint8_t *want = g_malloc(MiB);
    uint64_t done, i;
    unsigned n = 0;

    for (done = 0; done < len; done += MiB) {
        for (i = 0; i < MiB; i++) {
            want[i] = ((done + i) / PAGE * 13 + i + seed) & 0xff;
        }
        qtest_bufread(l->qts, sram + off + done, buf, MiB);
        if (!memcmp(buf, want, MiB)) {
            n++;
        } else {
            g_assert(all_zero(buf, MiB));
        }
    }
    return n;
}

/* A long copy stopped by a reset writes nothing after the reset. */
static void test_copy_reset_mid_copy(void)
{
    const uint64_t size = 32 * MiB;
    Lpu l;
    Ring r;
    uint64_t sram, table;
    struct lpu_segment seg = {
        .va = cpu_to_le64(VA(1)),
        .size = cpu_to_le64(2 * size),
        .base = 0,
        .kind = cpu_to_le32(LPU_SEG_SRAM),
    };
    unsigned moved;

    lpu_start(&l, NULL);
    sram = qpci_iomap(l.dev, LPU_BAR_SRAM, NULL).addr;
    ring_setup(&l, &r, 2, 8, 4);
    sram_pattern(&l, sram, 0, size, 3);
    table = table_put(&l, &seg, 1);

    g_test_message("device reset");
    put_copy(&l, &r, VA(1), VA(1) + size, size, table, 1);
    put_fence(&l, &r, 0, 1, 0);
    ring_doorbell(&l, &r);
    step(&l, 1);
    wr(&l, LPU_REG_RESET, LPU_RESET_MAGIC);
    moved = sram_pattern_count(&l, sram, size, size, 3);
    g_assert_cmpuint(moved, >, 0);
    g_assert_cmpuint(moved, <, size / MiB);
    step(&l, COPY_NS(size) * 2);
    g_assert_cmpuint(sram_pattern_count(&l, sram, size, size, 3), ==, moved);
    g_assert(fence_area_zero(&l, &r));
    g_assert_cmpuint(rd(&l, LPU_REG_BUSY_NS_LO), ==, 0);

    g_test_message("queue reset");
    qtest_memset(l.qts, sram + size, 0, size);
    fw_boot_ok(&l, &fw_good);
    ring_setup(&l, &r, 2, 8, 4);
    put_copy(&l, &r, VA(1), VA(1) + size, size, table, 1);
    put_fence(&l, &r, 0, 1, 0);
    ring_doorbell(&l, &r);
    step(&l, 1);
    qwr(&l, 2, LPU_Q_CTRL, LPU_Q_CTRL_RESET);
    moved = sram_pattern_count(&l, sram, size, size, 3);
    g_assert_cmpuint(moved, >, 0);
    g_assert_cmpuint(moved, <, size / MiB);
    step(&l, COPY_NS(size) * 2);
    g_assert_cmpuint(sram_pattern_count(&l, sram, size, size, 3), ==, moved);
    g_assert(fence_area_zero(&l, &r));
    lpu_stop(&l);
}

/* ---- SRAM scrub engine ------------------------------------------------- */

static void scrub(Lpu *l, uint64_t offset, uint64_t size)
{
    wr(l, LPU_REG_SCRUB_OFFSET_LO, offset);
    wr(l, LPU_REG_SCRUB_OFFSET_HI, offset >> 32);
    wr(l, LPU_REG_SCRUB_SIZE_LO, size);
    wr(l, LPU_REG_SCRUB_SIZE_HI, size >> 32);
    wr(l, LPU_REG_SCRUB_CTRL, LPU_SCRUB_CMD_START);
}

#define SCRUB_NS(size)      ((int64_t)DIV_ROUND_UP((size), \
                                                   LPU_SCRUB_BYTES_PER_CYCLE))

/* The good firmware, but keeping no SRAM: scrubs may cover all of it. */
static const FwVals *fw_no_reserve(void)
{
    static FwVals v;

    v = fw_good;
    v.sram_reserved = 0;
    return &v;
}

static void test_scrub(void)
{
    static const struct {
        const char *name;
        uint64_t offset, size;
    } bad[] = {
        { "offset not page aligned", 0x10, PAGE },
        { "size not a page multiple", 0, PAGE + 64 },
        { "size zero", PAGE, 0 },
        { "past the end of SRAM", 2 * MiB - PAGE, 2 * PAGE },
        { "offset beyond SRAM", 2 * MiB, PAGE },
        { "wraps", -PAGE, 2 * PAGE },
        { "huge", PAGE, -PAGE },
    };
    Lpu l;
    uint64_t sram;
    unsigned i;

    lpu_start_fw(&l, ",sram-size=2M", fw_no_reserve());
    sram = qpci_iomap(l.dev, LPU_BAR_SRAM, NULL).addr;
    g_assert_cmphex(rd(&l, LPU_REG_SCRUB_STATUS), ==, 0);
    sram_pattern(&l, sram, 0, 2 * MiB, 1);

    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        g_test_message("bad scrub: %s", bad[i].name);
        scrub(&l, bad[i].offset, bad[i].size);
        g_assert_cmphex(rd(&l, LPU_REG_SCRUB_STATUS), ==,
                        LPU_SCRUB_STATUS_ERROR);
        g_assert_cmphex(rd(&l, LPU_REG_SCRUB_OFFSET_LO), ==,
                        (uint32_t)bad[i].offset);
        g_assert_cmphex(rd(&l, LPU_REG_SCRUB_SIZE_HI), ==,
                        bad[i].size >> 32);
    }
    g_assert_cmpuint(sram_pattern_count(&l, sram, 0, 2 * MiB, 1), ==, 2);

    g_test_message("good scrub: busy for its modelled time, then zero");
    scrub(&l, MiB + PAGE, 3 * PAGE);
    g_assert_cmphex(rd(&l, LPU_REG_SCRUB_STATUS), ==, LPU_SCRUB_STATUS_BUSY);
    g_assert_cmphex(rd(&l, LPU_REG_SCRUB_CTRL), ==, 0);
    g_test_message("START while busy is ignored");
    scrub(&l, 0, PAGE);
    step(&l, SCRUB_NS(3 * PAGE) - 1);
    g_assert_cmphex(rd(&l, LPU_REG_SCRUB_STATUS), ==, LPU_SCRUB_STATUS_BUSY);
    step(&l, 1);
    g_assert_cmphex(rd(&l, LPU_REG_SCRUB_STATUS), ==, 0);
    {
        g_autofree uint8_t *buf = g_malloc(5 * PAGE);

        qtest_bufread(l.qts, sram + MiB, buf, 5 * PAGE);
        g_assert(!all_zero(buf, PAGE));
        g_assert(all_zero(buf + PAGE, 3 * PAGE));
        g_assert(!all_zero(buf + 4 * PAGE, PAGE));
    }
    g_assert_cmpuint(sram_pattern_count(&l, sram, 0, MiB, 1), ==, 1);

    g_test_message("the whole SRAM; a refused START clears nothing");
    scrub(&l, 0, 2 * MiB);
    g_assert_cmphex(rd(&l, LPU_REG_SCRUB_STATUS), ==, LPU_SCRUB_STATUS_BUSY);
    step(&l, SCRUB_NS(2 * MiB));
    g_assert_cmphex(rd(&l, LPU_REG_SCRUB_STATUS), ==, 0);
    g_assert_cmpuint(sram_pattern_count(&l, sram, 0, 2 * MiB, 1), ==, 0);
    scrub(&l, 0, 0);
    g_assert_cmphex(rd(&l, LPU_REG_SCRUB_STATUS), ==, LPU_SCRUB_STATUS_ERROR);
    scrub(&l, 0, PAGE);
    g_assert_cmphex(rd(&l, LPU_REG_SCRUB_STATUS), ==, LPU_SCRUB_STATUS_BUSY);

    g_test_message("device reset stops it, says so and clears its range");
    wr(&l, LPU_REG_RESET, LPU_RESET_MAGIC);
    g_assert_cmphex(rd(&l, LPU_REG_SCRUB_STATUS), ==, LPU_SCRUB_STATUS_ERROR);
    g_assert_cmphex(rd(&l, LPU_REG_SCRUB_OFFSET_LO), ==, 0);
    g_assert_cmphex(rd(&l, LPU_REG_SCRUB_SIZE_LO), ==, 0);
    /* SRAM survives the reset. */
    sram_pattern(&l, sram, 0, MiB, 4);
    wr(&l, LPU_REG_RESET, LPU_RESET_MAGIC);
    g_assert_cmpuint(sram_pattern_count(&l, sram, 0, MiB, 4), ==, 1);
    lpu_stop(&l);
}

/*
 * Scrubbing a whole 256 MiB SRAM is done in steps, off the register
 * write; a reset in the middle stops it where it is.
 */
static void test_scrub_large(void)
{
    const uint64_t size = LPU_SRAM_SIZE_DEFAULT;
    Lpu l;
    uint64_t sram;

    lpu_start_fw(&l, NULL, fw_no_reserve());
    sram = qpci_iomap(l.dev, LPU_BAR_SRAM, NULL).addr;
    sram_pattern(&l, sram, 0, MiB, 1);
    sram_pattern(&l, sram, size - MiB, MiB, 2);
    scrub(&l, 0, size);
    g_assert_cmpuint(sram_pattern_count(&l, sram, size - MiB, MiB, 2), ==, 1);
    step(&l, SCRUB_NS(size) - 1);
    g_assert_cmphex(rd(&l, LPU_REG_SCRUB_STATUS), ==, LPU_SCRUB_STATUS_BUSY);
    step(&l, 1);
    g_assert_cmphex(rd(&l, LPU_REG_SCRUB_STATUS), ==, 0);
    g_assert_cmpuint(sram_pattern_count(&l, sram, 0, MiB, 1), ==, 0);
    g_assert_cmpuint(sram_pattern_count(&l, sram, size - MiB, MiB, 2), ==, 0);

    g_test_message("device reset in the middle");
    sram_pattern(&l, sram, 0, MiB, 3);
    sram_pattern(&l, sram, size - MiB, MiB, 4);
    scrub(&l, 0, size);
    step(&l, 1);
    g_assert_cmpuint(sram_pattern_count(&l, sram, 0, MiB, 3), ==, 0);
    wr(&l, LPU_REG_RESET, LPU_RESET_MAGIC);
    /* Cut short, not done: a poller must not mistake this for success. */
    g_assert_cmphex(rd(&l, LPU_REG_SCRUB_STATUS), ==, LPU_SCRUB_STATUS_ERROR);
    step(&l, SCRUB_NS(size));
    g_assert_cmpuint(sram_pattern_count(&l, sram, size - MiB, MiB, 4), ==, 1);

    g_test_message("a reset with the engine idle leaves ERROR clear");
    scrub(&l, 0, MiB);
    step(&l, SCRUB_NS(MiB));
    g_assert_cmphex(rd(&l, LPU_REG_SCRUB_STATUS), ==, 0);
    wr(&l, LPU_REG_RESET, LPU_RESET_MAGIC);
    g_assert_cmphex(rd(&l, LPU_REG_SCRUB_STATUS), ==, 0);
    lpu_stop(&l);
}

/* ---- migration --------------------------------------------------------- */

/*
 * Migration goes through a file: the source saves with "migrate" to a
 * file: URI, the destination loads it with "migrate-incoming". A file can
 * be edited between the two, which is how the invalid-state cases make a
 * stream the device could never have produced.
 */

static const char *migrate_status(QTestState *qts)
{
    static char status[32];
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'query-migrate' }");
    QDict *ret = qdict_get_qdict(rsp, "return");

    g_assert(ret);
    g_strlcpy(status, qdict_haskey(ret, "status") ?
              qdict_get_str(ret, "status") : "none", sizeof(status));
    qobject_unref(rsp);
    return status;
}

/* Wait for a migration to end; true if it completed, false if it failed. */
static bool migrate_wait(QTestState *qts)
{
    int64_t end = g_get_monotonic_time() + 60 * G_TIME_SPAN_SECOND;
    const char *st;

    for (;;) {
        st = migrate_status(qts);
        if (!strcmp(st, "completed")) {
            return true;
        }
        if (!strcmp(st, "failed")) {
            return false;
        }
        g_assert_cmpint(g_get_monotonic_time(), <, end);
        g_usleep(10 * 1000);
    }
}

static void migrate_to_file(Lpu *l, const char *path)
{
    g_autofree char *uri = g_strdup_printf("file:%s", path);

    qtest_qmp_assert_success(l->qts,
                             "{ 'execute': 'migrate', 'arguments': "
                             "{ 'uri': %s } }", uri);
    g_assert_true(migrate_wait(l->qts));
}

/*
 * Start a destination and load @path into it; its stderr goes to
 * @errpath. On success @dst drives the migrated device like @src did.
 */
static bool migrate_from_file(Lpu *dst, const Lpu *src, const char *path,
                              const char *errpath)
{
    g_autofree char *uri = g_strdup_printf("file:%s", path);
    g_autofree char *pub = fw_pubkey_prop();
    bool ok;

    memset(dst, 0, sizeof(*dst));
    /* libqtest starts QEMU through sh -c, so the redirection applies. */
    dst->qts = qtest_initf("-M q35 -nodefaults -device lpu-v3,addr=04.0%s "
                           "-incoming defer 2>%s", pub, errpath);
    qtest_qmp_assert_success(dst->qts,
                             "{ 'execute': 'migrate-incoming', 'arguments': "
                             "{ 'uri': %s, 'exit-on-error': false } }", uri);
    ok = migrate_wait(dst->qts);
    pc_alloc_init(&dst->alloc, dst->qts, ALLOC_NO_FLAGS);
    dst->bus = qpci_new_pc(dst->qts, &dst->alloc);
    dst->dev = qpci_device_find(dst->bus, LPU_DEVFN);
    g_assert(dst->dev);
    /* The BARs and MSI-X setup came with the state: no re-enumeration. */
    dst->bar = src->bar;
    dst->dev->msix_enabled = src->dev->msix_enabled;
    dst->dev->msix_table_bar = src->dev->msix_table_bar;
    dst->dev->msix_pba_bar = src->dev->msix_pba_bar;
    dst->dev->msix_table_off = src->dev->msix_table_off;
    dst->dev->msix_pba_off = src->dev->msix_pba_off;
    memcpy(dst->msi_addr, src->msi_addr, sizeof(dst->msi_addr));
    dst->now = qtest_clock_step(dst->qts, 1);
    return ok;
}

/* Queued and in-flight work survives migration and completes on time. */
static void test_migrate_queued_work(void)
{
    const int64_t cost = NOP_NS(1000000) + FENCE_NS;
    g_autofree char *dir = g_dir_make_tmp("lpu-v3-migrate-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "stream", NULL);
    g_autofree char *errpath = g_build_filename(dir, "stderr", NULL);
    Lpu src, dst;
    Ring r, bad;
    struct lpu_fence_record rec;
    int64_t db;

    lpu_start(&src, NULL);
    lpu_msix_setup(&src);
    wr(&src, LPU_REG_IRQ_MASK, LPU_IRQ_QUEUE(0) | LPU_IRQ_ERROR);
    wr(&src, LPU_REG_SCRATCH, 0x600dcafe);
    ring_setup(&src, &r, 0, 8, 4);
    put_nop(&src, &r, 1000000);
    put_fence(&src, &r, 2, 0x7777, LPU_DESC_F_IRQ);
    db = ring_doorbell(&src, &r);
    /* A latched error on another queue travels too. */
    bad.q = 3;
    bad.base = 0;
    bad.size = 8;
    bad.fence = 0;
    bad.count = 1;
    ring_config(&src, &bad);
    qwr(&src, 3, LPU_Q_CTRL, LPU_Q_CTRL_ENABLE);
    g_assert(lpu_msi_fired(&src, LPU_MSIX_VEC_DEVICE));
    step(&src, 300000);
    g_assert(qrd(&src, 0, LPU_Q_STATUS) & LPU_Q_STATUS_BUSY);
    migrate_to_file(&src, path);

    g_assert_true(migrate_from_file(&dst, &src, path, errpath));
    lpu_stop(&src);
    g_assert_cmphex(rd(&dst, LPU_REG_SCRATCH), ==, 0x600dcafe);
    g_assert_cmphex(rd(&dst, LPU_REG_IRQ_MASK), ==,
                    LPU_IRQ_QUEUE(0) | LPU_IRQ_ERROR);
    g_assert_cmpuint(rd(&dst, LPU_REG_ERROR_CODE), ==, LPU_ERR_RING_CONFIG);
    g_assert_cmpuint(rd(&dst, LPU_REG_ERROR_QUEUE), ==, 3);
    g_assert_cmphex(qrd(&dst, 3, LPU_Q_STATUS), ==, LPU_Q_STATUS_HALTED);
    g_assert_cmphex(qrd(&dst, 0, LPU_Q_STATUS), ==,
                    LPU_Q_STATUS_ENABLED | LPU_Q_STATUS_BUSY);
    g_assert_cmpuint(qrd(&dst, 0, LPU_Q_HEAD), ==, 0);
    g_assert_cmpuint(qrd(&dst, 0, LPU_Q_TAIL), ==, 2);
    read_fence(&dst, &r, 2, &rec);
    g_assert_cmphex(rec.seq, ==, 0);

    /* The destination's clock may differ: run well past completion. */
    step(&dst, db + 2 * cost);
    read_fence(&dst, &r, 2, &rec);
    g_assert_cmphex(rec.seq, ==, 0x7777);
    g_assert_cmpint(rec.doorbell_ns, ==, db);
    g_assert_cmpint(rec.complete_ns, ==, db + cost);
    g_assert_cmpuint(qrd(&dst, 0, LPU_Q_HEAD), ==, 2);
    g_assert_cmpuint(qrd(&dst, 0, LPU_Q_DONE), ==, 2);
    g_assert_cmpuint(rd(&dst, LPU_REG_DESC_DONE_LO), ==, 2);
    g_assert(lpu_msi_fired(&dst, LPU_MSIX_VEC_QUEUE(0)));
    lpu_stop(&dst);
    unlink(path);
    unlink(errpath);
    rmdir(dir);
}

/*
 * A long COPY migrated half done completes on the destination with the
 * right data at its modelled time; a busy scrub engine migrates too.
 */
static void test_migrate_mid_copy(void)
{
    const uint64_t size = 16 * MiB;
    const int64_t cost = COPY_NS(size) + FENCE_NS;
    g_autofree char *dir = g_dir_make_tmp("lpu-v3-migrate-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "stream", NULL);
    g_autofree char *errpath = g_build_filename(dir, "stderr", NULL);
    struct lpu_segment seg = {
        .va = cpu_to_le64(VA(1)),
        .size = cpu_to_le64(2 * size),
        .base = 0,
        .kind = cpu_to_le32(LPU_SEG_SRAM),
    };
    Lpu src, dst;
    Ring r;
    struct lpu_fence_record rec;
    uint64_t sram, table;
    unsigned moved;
    int64_t db, scrub_done;

    lpu_start(&src, NULL);
    sram = qpci_iomap(src.dev, LPU_BAR_SRAM, NULL).addr;
    ring_setup(&src, &r, 0, 8, 4);
    sram_pattern(&src, sram, 0, size, 7);
    sram_pattern(&src, sram, 64 * MiB, MiB, 8);
    table = table_put(&src, &seg, 1);
    put_copy(&src, &r, VA(1), VA(1) + size, size, table, 1);
    put_fence(&src, &r, 1, 0x1234, 0);
    db = ring_doorbell(&src, &r);
    step(&src, 1);
    scrub(&src, 64 * MiB, MiB);
    scrub_done = src.now + SCRUB_NS(MiB);
    moved = sram_pattern_count(&src, sram, size, size, 7);
    g_assert_cmpuint(moved, >, 0);
    g_assert_cmpuint(moved, <, size / MiB);
    migrate_to_file(&src, path);

    g_assert_true(migrate_from_file(&dst, &src, path, errpath));
    lpu_stop(&src);
    g_assert_cmphex(qrd(&dst, 0, LPU_Q_STATUS), ==,
                    LPU_Q_STATUS_ENABLED | LPU_Q_STATUS_BUSY);
    g_assert_cmphex(rd(&dst, LPU_REG_SCRUB_STATUS), ==,
                    LPU_SCRUB_STATUS_BUSY);
    step(&dst, scrub_done - dst.now - 1);
    g_assert_cmphex(rd(&dst, LPU_REG_SCRUB_STATUS), ==,
                    LPU_SCRUB_STATUS_BUSY);
    step(&dst, 1);
    g_assert_cmphex(rd(&dst, LPU_REG_SCRUB_STATUS), ==, 0);
    step(&dst, db + cost - dst.now + 10);
    read_fence(&dst, &r, 1, &rec);
    g_assert_cmphex(rec.seq, ==, 0x1234);
    g_assert_cmpint(rec.complete_ns, ==, db + cost);
    g_assert_cmpuint(sram_pattern_count(&dst, sram, size, size, 7), ==,
                     size / MiB);
    {
        g_autofree uint8_t *page = g_malloc(PAGE);

        qtest_bufread(dst.qts, sram + 64 * MiB + MiB - PAGE, page, PAGE);
        g_assert(all_zero(page, PAGE));
    }
    lpu_stop(&dst);
    unlink(path);
    unlink(errpath);
    rmdir(dir);
}

/* Offsets in the device's section, from the fw_addr marker on. */
#define MIG_MARK_FW_ADDR        0x4c5055334d494752ULL  /* "LPU3MIGR" */
#define MIG_MARK_FW_SIZE        0x5eedf00du
#define MIG_OFF_FW_SIZE         8
#define MIG_OFF_WINDOW_INDEX    40
#define MIG_OFF_WINDOW_BUSY     48
#define MIG_OFF_PREV_BUSY       56
#define MIG_OFF_Q0              64      /* struct LpuV3Queue of queue 0 */
#define MIG_Q_RING_SIZE         8
#define MIG_Q_ENABLED           24
#define MIG_Q_HEAD              26
#define MIG_Q_ENGINE_NS         50
#define MIG_Q_VALID             58
#define MIG_Q_OPCODE            59
#define MIG_Q_START_NS          81
#define MIG_Q_DONE_NS           89
#define MIG_Q_SRC               97
#define MIG_Q_SIZE              113
#define MIG_Q_COPIED            121
#define MIG_Q_SRC_SEG           129     /* va, size, base, kind */
#define MIG_Q_DST_SEG           157
#define MIG_Q_VISIBLE_NS        185
#define MIG_Q_FAULT_INFO        32969
#define MIG_Q_STRIDE            40197   /* with the EXEC state (idle) */
#define MIG_OFF_Q1              (MIG_OFF_Q0 + MIG_Q_STRIDE)
#define MIG_OFF_SCRUB           (MIG_OFF_Q0 + 4 * MIG_Q_STRIDE)
#define MIG_SCRUB_BUSY          16
#define MIG_SCRUB_ERROR         17
#define MIG_SCRUB_DONE_NS       18
#define MIG_SCRUB_NEXT          26
#define MIG_SCRUB_END           34
#define MIG_COPY_SIZE           (16 * MiB)

typedef struct BadState {
    const char *message;        /* what the destination must report */
    size_t offset;              /* from the fw_addr marker */
    unsigned size;              /* big-endian field of 1, 4 or 8 bytes */
    uint64_t value;
    bool add;                   /* add @value to what was saved */
} BadState;

/* Firmware fields come before the marker: offsets back from it. */
#define MIG_FW(back)            ((size_t)0 - (back))

static const BadState bad_states[] = {
    { "firmware state and FW_ERROR disagree", MIG_FW(68), 4, 7 },
    { "firmware state and FW_ERROR disagree", MIG_FW(64), 4, 99 },
    { "firmware tables without a running firmware", MIG_FW(68), 4,
      LPU_FW_STATE_ROM },
    { "firmware boot deadline outside BOOTING", MIG_FW(48), 8, 1000 },
    { "firmware NUM_QUEUES out of range", MIG_FW(32), 4, 0 },
    { "firmware MAX_RING_ENTRIES out of range", MIG_FW(28), 4, 3 },
    { "firmware SRAM_RESERVED out of range", MIG_FW(24), 4, 4095 },
    { "firmware thermal model out of range", MIG_FW(4), 4, 0 },
    { "window_index out of range", MIG_OFF_WINDOW_INDEX, 8, INT64_MAX },
    { "window_index out of range", MIG_OFF_WINDOW_INDEX, 8, -1ULL },
    { "window_busy_ns out of range", MIG_OFF_WINDOW_BUSY, 8, -1ULL },
    { "window_busy_ns out of range", MIG_OFF_WINDOW_BUSY, 8,
      4 * LPU_TELEMETRY_WINDOW_NS + 1 },
    { "prev_window_busy_ns out of range", MIG_OFF_PREV_BUSY, 8,
      (uint64_t)INT64_MIN },
    { "queue 0: ring index beyond RING_SIZE", MIG_OFF_Q0 + MIG_Q_HEAD, 4, 8 },
    { "queue 0: ring index beyond LPU_MAX_RING_ENTRIES",
      MIG_OFF_Q0 + MIG_Q_HEAD, 4, LPU_MAX_RING_ENTRIES },
    { "queue 0: engine time out of range", MIG_OFF_Q0 + MIG_Q_ENGINE_NS, 8,
      -1ULL },
    { "queue 0: in-flight opcode", MIG_OFF_Q0 + MIG_Q_OPCODE, 1, 0x7f },
    { "queue 0: in-flight EXEC program size is invalid",
      MIG_OFF_Q0 + MIG_Q_OPCODE, 1, LPU_OP_EXEC },
    { "queue 0: in-flight time out of range", MIG_OFF_Q0 + MIG_Q_DONE_NS, 8,
      INT64_MAX },
    { "queue 0: in-flight times out of order", MIG_OFF_Q0 + MIG_Q_START_NS,
      8, 0 },
    { "queue 0: doorbell time out of range",
      MIG_OFF_Q0 + MIG_Q_VISIBLE_NS + 8 * 5, 8, (uint64_t)INT64_MIN },
    { "queue 0: fault registers set without a fault",
      MIG_OFF_Q0 + MIG_Q_FAULT_INFO, 4, LPU_FAULT_NOT_MAPPED },
    { "queue 1: in-flight COPY size or progress out of range",
      MIG_OFF_Q1 + MIG_Q_COPIED, 8, MIG_COPY_SIZE + 1 },
    { "queue 1: in-flight COPY size or progress out of range",
      MIG_OFF_Q1 + MIG_Q_SIZE, 8, 0 },
    { "queue 1: in-flight COPY segment is invalid",
      MIG_OFF_Q1 + MIG_Q_SRC_SEG + 24, 4, 7 },
    { "queue 1: in-flight COPY segment is invalid",
      MIG_OFF_Q1 + MIG_Q_DST_SEG + 16, 8, 255 * MiB },
    { "queue 1: in-flight COPY range outside its segment",
      MIG_OFF_Q1 + MIG_Q_SRC, 8, 0 },
    { "queue 1: in-flight COPY time does not match its size",
      MIG_OFF_Q1 + MIG_Q_DONE_NS, 8, 1, true },
    { "scrub busy and in error", MIG_OFF_SCRUB + MIG_SCRUB_ERROR, 1, 1 },
    { "scrub completion time out of range",
      MIG_OFF_SCRUB + MIG_SCRUB_DONE_NS, 8, -1ULL },
    { "scrub progress out of range", MIG_OFF_SCRUB + MIG_SCRUB_NEXT, 8,
      128 * MiB + PAGE },
    { "scrub progress out of range", MIG_OFF_SCRUB + MIG_SCRUB_END, 8,
      512 * MiB },
};

static uint64_t be_get(const uint8_t *p, unsigned size)
{
    uint64_t v = 0;
    unsigned i;

    for (i = 0; i < size; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

static void be_put(uint8_t *p, unsigned size, uint64_t v)
{
    unsigned i;

    for (i = size; i > 0; i--) {
        p[i - 1] = v;
        v >>= 8;
    }
}

/* Where the device section's fw_addr is in @buf; the marker is unique. */
static size_t find_marker(const uint8_t *buf, size_t len)
{
    uint8_t mark[8];
    size_t i, at = 0;
    unsigned found = 0;

    be_put(mark, 8, MIG_MARK_FW_ADDR);
    for (i = 0; i + 8 <= len; i++) {
        if (!memcmp(buf + i, mark, 8)) {
            at = i;
            found++;
        }
    }
    g_assert_cmpuint(found, ==, 1);
    g_assert_cmpuint(at + MIG_OFF_SCRUB + MIG_SCRUB_END + 8, <=, len);
    return at;
}

/* A stream the device could not have produced is refused, with a reason. */
static void test_migrate_invalid_state(void)
{
    g_autofree char *dir = g_dir_make_tmp("lpu-v3-migrate-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "stream", NULL);
    g_autofree char *badpath = g_build_filename(dir, "bad", NULL);
    g_autofree char *errpath = g_build_filename(dir, "stderr", NULL);
    g_autofree uint8_t *buf = NULL;
    g_autofree uint8_t *copy = NULL;
    Lpu src, dst;
    Ring r, r1;
    struct lpu_segment seg = {
        .va = cpu_to_le64(VA(1)),
        .size = cpu_to_le64(2 * MIG_COPY_SIZE),
        .base = 0,
        .kind = cpu_to_le32(LPU_SEG_SRAM),
    };
    size_t len, at;
    unsigned i;

    /*
     * Queue 0 holds a NOP on its engine and a FENCE behind it, queue 1 a
     * COPY whose data has moved, and the scrub engine is busy.
     */
    lpu_start(&src, NULL);
    wr(&src, LPU_REG_FW_ADDR_LO, (uint32_t)MIG_MARK_FW_ADDR);
    wr(&src, LPU_REG_FW_ADDR_HI, MIG_MARK_FW_ADDR >> 32);
    wr(&src, LPU_REG_FW_SIZE, MIG_MARK_FW_SIZE);
    ring_setup(&src, &r, 0, 8, 4);
    put_nop(&src, &r, 1000000);
    put_fence(&src, &r, 0, 1, 0);
    ring_doorbell(&src, &r);
    ring_setup(&src, &r1, 1, 8, 4);
    put_copy(&src, &r1, VA(1), VA(1) + MIG_COPY_SIZE, MIG_COPY_SIZE,
             table_put(&src, &seg, 1), 1);
    ring_doorbell(&src, &r1);
    scrub(&src, 0, 128 * MiB);
    step(&src, 1000);
    migrate_to_file(&src, path);

    g_assert(g_file_get_contents(path, (char **)&buf, &len, NULL));
    at = find_marker(buf, len);
    /* The layout this test edits is the one the device saved. */
    g_assert_cmphex(be_get(buf + at + MIG_OFF_FW_SIZE, 4), ==,
                    MIG_MARK_FW_SIZE);
    g_assert_cmpuint(be_get(buf + at + MIG_OFF_Q0 + MIG_Q_RING_SIZE, 4), ==,
                     8);
    g_assert_cmpuint(buf[at + MIG_OFF_Q0 + MIG_Q_ENABLED], ==, 1);
    g_assert_cmpuint(be_get(buf + at + MIG_OFF_Q0 + MIG_Q_HEAD, 4), ==, 0);
    g_assert_cmpuint(buf[at + MIG_OFF_Q0 + MIG_Q_VALID], ==, 1);
    g_assert_cmpuint(buf[at + MIG_OFF_Q0 + MIG_Q_OPCODE], ==, LPU_OP_NOP);
    g_assert_cmpint(be_get(buf + at + MIG_OFF_Q0 + MIG_Q_DONE_NS, 8) -
                    be_get(buf + at + MIG_OFF_Q0 + MIG_Q_START_NS, 8), ==,
                    NOP_NS(1000000));
    g_assert_cmpuint(buf[at + MIG_OFF_Q1 + MIG_Q_OPCODE], ==, LPU_OP_COPY);
    g_assert_cmpuint(be_get(buf + at + MIG_OFF_Q1 + MIG_Q_SIZE, 8), ==,
                     MIG_COPY_SIZE);
    g_assert_cmpuint(be_get(buf + at + MIG_OFF_Q1 + MIG_Q_COPIED, 8), ==,
                     MIG_COPY_SIZE);
    g_assert_cmpuint(be_get(buf + at + MIG_OFF_Q1 + MIG_Q_SRC_SEG + 24, 4),
                     ==, LPU_SEG_SRAM);
    g_assert_cmpuint(buf[at + MIG_OFF_SCRUB + MIG_SCRUB_BUSY], ==, 1);
    g_assert_cmpuint(be_get(buf + at + MIG_OFF_SCRUB + MIG_SCRUB_END, 8), ==,
                     128 * MiB);

    /* The unedited stream loads: any failure below is the edit's. */
    g_assert_true(migrate_from_file(&dst, &src, path, errpath));
    g_assert_cmpuint(rd(&dst, LPU_REG_FW_SIZE), ==, MIG_MARK_FW_SIZE);
    lpu_stop(&dst);

    for (i = 0; i < ARRAY_SIZE(bad_states); i++) {
        const BadState *b = &bad_states[i];
        g_autofree char *err = NULL;

        g_test_message("invalid state: %s = 0x%" PRIx64, b->message,
                       b->value);
        copy = g_memdup2(buf, len);
        be_put(copy + at + b->offset, b->size, b->value +
               (b->add ? be_get(buf + at + b->offset, b->size) : 0));
        g_assert(g_file_set_contents(badpath, (char *)copy, len, NULL));
        g_clear_pointer(&copy, g_free);

        g_assert_false(migrate_from_file(&dst, &src, badpath, errpath));
        /* Still alive, and nothing of the refused stream stayed. */
        g_assert_cmphex(rd(&dst, LPU_REG_ID), ==, LPU_ID_MAGIC);
        g_assert_cmphex(rd(&dst, LPU_REG_FW_SIZE), ==, 0);
        g_assert_cmphex(qrd(&dst, 0, LPU_Q_STATUS), ==, 0);
        g_assert_cmphex(qrd(&dst, 1, LPU_Q_STATUS), ==, 0);
        g_assert_cmphex(rd(&dst, LPU_REG_SCRUB_STATUS), ==, 0);
        /* The refused card is back in its boot ROM. */
        g_assert_cmpuint(rd(&dst, LPU_REG_FW_STATUS), ==, LPU_FW_STATE_ROM);
        g_assert_cmpuint(rd(&dst, LPU_REG_TEMP_MC), ==, 0);
        lpu_stop(&dst);
        g_assert(g_file_get_contents(errpath, &err, NULL, NULL));
        g_assert_nonnull(strstr(err, "lpu-v3: invalid migration state: "));
        g_assert_nonnull(strstr(err, b->message));
    }
    lpu_stop(&src);
    unlink(path);
    unlink(badpath);
    unlink(errpath);
    rmdir(dir);
}

/* ---- tensor engine (EXEC) ---------------------------------------------- */

/*
 * Every EXEC test runs on one segment table: VA(1) is 64 MiB of SRAM from
 * offset 0 (tensors below X_TOP, the stats record at X_STATS, programs at
 * X_PROG), VA(2) 1 MiB of SRAM at 96 MiB, VA(3) a 256 KiB host buffer and
 * VA(5) 1 MiB of SRAM at offset 0 again, i.e. the start of VA(1) under a
 * second name. Expected values are computed here, in plain loops that
 * follow lpu_hw.h's numerics rules.
 */
#define X_TOP               (60 * MiB)
#define X_STATS             (62 * MiB)
#define X_PROG              (63 * MiB)
#define X_SRAM2             (96 * MiB)

typedef struct Exec {
    Lpu l;
    Ring r;
    uint64_t sram;              /* where BAR 2 is mapped */
    Buf host;
    uint64_t table;
    uint32_t nsegs;
    uint64_t next;              /* bump allocator in VA(1) */
    uint32_t seed;
} Exec;

#define DIMS(...)           ((const uint32_t[5]) { __VA_ARGS__ })
#define OPS(...)            ((const uint64_t[5]) { __VA_ARGS__ })
#define F32                 LPU_DT_F32

static struct lpu_insn mk(uint8_t opcode, uint8_t dtype, uint16_t flags,
                          const uint32_t *dim, const uint64_t *op)
{
    struct lpu_insn in;
    unsigned i;

    memset(&in, 0, sizeof(in));
    in.opcode = opcode;
    in.dtype = dtype;
    in.flags = cpu_to_le16(flags);
    for (i = 0; i < 5; i++) {
        in.dim[i] = cpu_to_le32(dim[i]);
        in.op[i] = cpu_to_le64(op[i]);
    }
    return in;
}

static struct lpu_segment sram_seg(uint64_t va, uint64_t size, uint64_t base)
{
    struct lpu_segment seg = {
        .va = cpu_to_le64(va),
        .size = cpu_to_le64(size),
        .base = cpu_to_le64(base),
        .kind = cpu_to_le32(LPU_SEG_SRAM),
    };

    return seg;
}

static void exec_start_fw(Exec *x, const char *extra, const FwVals *v)
{
    struct lpu_segment segs[4];

    memset(x, 0, sizeof(*x));
    lpu_start_fw(&x->l, extra, v);
    lpu_msix_setup(&x->l);
    wr(&x->l, LPU_REG_IRQ_MASK, LPU_IRQ_ALL);
    ring_setup(&x->l, &x->r, 1, 16, 8);
    x->sram = qpci_iomap(x->l.dev, LPU_BAR_SRAM, NULL).addr;
    buf_host(&x->l, &x->host, VA(3), 256 * KiB);
    segs[0] = sram_seg(VA(1), 64 * MiB, 0);
    segs[1] = sram_seg(VA(2), MiB, X_SRAM2);
    segs[2] = x->host.seg;
    segs[3] = sram_seg(VA(5), MiB, 0);
    x->table = table_put(&x->l, segs, 4);
    x->nsegs = 4;
    x->seed = 1;
}

static void exec_start_with(Exec *x, const char *extra)
{
    exec_start_fw(x, extra, &fw_good);
}

static void exec_start(Exec *x)
{
    exec_start_with(x, NULL);
}

static void exec_stop(Exec *x)
{
    buf_free(&x->host);
    lpu_stop(&x->l);
}

/* SRAM offset of device address @va in one of the SRAM segments. */
static uint64_t x_sram(uint64_t va)
{
    if (va >= VA(5)) {
        return va - VA(5);
    }
    if (va >= VA(2)) {
        return X_SRAM2 + va - VA(2);
    }
    return va - VA(1);
}

static void x_put(Exec *x, uint64_t va, const void *p, size_t len)
{
    qtest_bufwrite(x->l.qts, x->sram + x_sram(va), p, len);
}

static void x_get(Exec *x, uint64_t va, void *p, size_t len)
{
    qtest_bufread(x->l.qts, x->sram + x_sram(va), p, len);
}

/* A tensor of @bytes in VA(1), filled with 0xee (a NaN pattern). */
static uint64_t x_new(Exec *x, uint64_t bytes)
{
    uint64_t off = ROUND_UP(x->next, LPU_EXEC_ALIGN);
    g_autofree uint8_t *fill = g_malloc(bytes);

    x->next = off + bytes;
    g_assert_cmpuint(x->next, <=, X_TOP);
    memset(fill, 0xee, bytes);
    qtest_bufwrite(x->l.qts, x->sram + off, fill, bytes);
    return VA(1) + off;
}

/* Pseudo-random floats in [-@scale, @scale). */
static float x_rand(Exec *x, float scale)
{
    x->seed = x->seed * 1103515245u + 12345u;
    return ((int32_t)(x->seed >> 8) - (1 << 23)) / (float)(1 << 23) * scale;
}

static float *x_floats(Exec *x, size_t n, float scale)
{
    float *v = g_new(float, n);
    size_t i;

    for (i = 0; i < n; i++) {
        v[i] = x_rand(x, scale);
    }
    return v;
}

/* A new tensor holding @n floats of @v. */
static uint64_t x_tensor(Exec *x, const float *v, size_t n)
{
    uint64_t va = x_new(x, n * 4);

    x_put(x, va, v, n * 4);
    return va;
}

static float *x_read(Exec *x, uint64_t va, size_t n)
{
    float *v = g_new(float, n);

    x_get(x, va, v, n * 4);
    return v;
}

static void put_exec(Lpu *l, Ring *r, uint64_t program, uint32_t count,
                     uint64_t table, uint32_t nsegs, uint64_t stats)
{
    union lpu_desc d = { 0 };

    d.hdr.opcode = LPU_OP_EXEC;
    d.exec.program = cpu_to_le64(program);
    d.exec.insn_count = cpu_to_le32(count);
    d.exec.seg_table = cpu_to_le64(table);
    d.exec.seg_count = cpu_to_le32(nsegs);
    d.exec.stats = cpu_to_le64(stats);
    put_desc(l, r, &d);
}

/* The cost formula of lpu_hw.h, with the running firmware's table. */
static uint64_t cost_of(unsigned cls, uint64_t units)
{
    return fw_running->cost[cls][0] +
           DIV_ROUND_UP(units, fw_running->cost[cls][1]);
}

static uint64_t ref_cycles(const struct lpu_insn *p, unsigned n)
{
    uint64_t cycles = cost_of(LPU_COST_EXEC_SETUP, n * LPU_INSN_SIZE);
    unsigned i;

    for (i = 0; i < n; i++) {
        uint64_t d[5];
        unsigned j, dt = p[i].dtype;

        for (j = 0; j < 5; j++) {
            d[j] = le32_to_cpu(p[i].dim[j]);
        }
        switch (p[i].opcode) {
        case LPU_INSN_COPY:
            cycles += cost_of(LPU_COST_COPY, d[0]);
            break;
        case LPU_INSN_MATMUL:
            cycles += cost_of(dt == LPU_DT_F32 ? LPU_COST_MATMUL_F32 :
                              dt == LPU_DT_BF16 ? LPU_COST_MATMUL_BF16 :
                              LPU_COST_MATMUL_I8, d[0] * d[1] * d[2] * d[3]);
            break;
        case LPU_INSN_EXPERT_FFN:
            cycles += cost_of(dt == LPU_DT_F32 ? LPU_COST_FFN_F32 :
                              dt == LPU_DT_BF16 ? LPU_COST_FFN_BF16 :
                              LPU_COST_FFN_I8, d[0] * d[1] * 3 * d[2] * d[3]);
            break;
        case LPU_INSN_ADD:
        case LPU_INSN_MUL:
        case LPU_INSN_SILU:
        case LPU_INSN_SWIGLU:
            cycles += cost_of(LPU_COST_ELEMENTWISE, d[0]);
            break;
        case LPU_INSN_RMSNORM:
            cycles += cost_of(LPU_COST_RMSNORM, d[0] * d[1]);
            break;
        case LPU_INSN_SOFTMAX:
            cycles += cost_of(LPU_COST_SOFTMAX, d[0] * d[1]);
            break;
        case LPU_INSN_TOPK:
            cycles += cost_of(LPU_COST_TOPK, d[0] * d[1]);
            break;
        case LPU_INSN_DISPATCH:
            cycles += cost_of(LPU_COST_DISPATCH, d[2] * d[4] * d[1]);
            break;
        case LPU_INSN_COMBINE:
            cycles += cost_of(LPU_COST_COMBINE, d[2] * d[3] * d[1]);
            break;
        default:
            g_assert_not_reached();
        }
    }
    return cycles;
}

static void exec_submit(Exec *x, const struct lpu_insn *prog, unsigned n)
{
    x_put(x, VA(1) + X_PROG, prog, n * LPU_INSN_SIZE);
    qtest_memset(x->l.qts, x->sram + X_STATS, 0xff, LPU_EXEC_STATS_SIZE);
    put_exec(&x->l, &x->r, VA(1) + X_PROG, n, x->table, x->nsegs,
             VA(1) + X_STATS);
}

/* Read the stats record, asserting its reserved fields are 0. */
static void exec_stats(Exec *x, struct lpu_exec_stats *st)
{
    x_get(x, VA(1) + X_STATS, st, sizeof(*st));
    g_assert_cmpuint(st->rsvd0, ==, 0);
    g_assert(all_zero((uint8_t *)st->rsvd1, sizeof(st->rsvd1)));
}

/*
 * Run a program that must succeed, with a FENCE behind it: it completes
 * at exactly its modelled time and reports its cycles. Returns them.
 */
static uint64_t exec_run(Exec *x, const struct lpu_insn *prog, unsigned n)
{
    Lpu *l = &x->l;
    uint64_t cycles = ref_cycles(prog, n);
    uint32_t done = qrd(l, x->r.q, LPU_Q_DONE);
    struct lpu_fence_record rec;
    struct lpu_exec_stats st;
    int64_t db;

    exec_submit(x, prog, n);
    put_fence(l, &x->r, 0, done + 2, 0);
    db = ring_doorbell(l, &x->r);
    step(l, cycles + FENCE_NS + 10);
    g_assert_cmphex(qrd(l, x->r.q, LPU_Q_STATUS), ==, LPU_Q_STATUS_ENABLED);
    g_assert_cmpuint(qrd(l, x->r.q, LPU_Q_DONE), ==, done + 2);
    read_fence(l, &x->r, 0, &rec);
    g_assert_cmpuint(rec.seq, ==, done + 2);
    g_assert_cmpint(rec.complete_ns, ==, db + cycles + FENCE_NS);
    exec_stats(x, &st);
    g_assert_cmpuint(le64_to_cpu(st.cycles), ==, cycles);
    g_assert_cmpuint(le32_to_cpu(st.insns), ==, n);
    return cycles;
}

/* ---- reference arithmetic, from lpu_hw.h ------------------------------- */

static float ref_silu(float x)
{
    return (float)((double)x / (1.0 + exp(-(double)x)));
}

static float ref_quant(const float *v, size_t k, int8_t *q)
{
    float amax = 0, scale;
    size_t i;

    for (i = 0; i < k; i++) {
        amax = MAX(amax, fabsf(v[i]));
    }
    scale = amax == 0 ? 1.0f : amax / 127.0f;
    for (i = 0; i < k; i++) {
        float r = nearbyintf(v[i] / scale);

        q[i] = r > 127 ? 127 : r < -127 ? -127 : (int8_t)r;
    }
    return scale;
}

/* A weight matrix [n, k] of any dtype, as the test holds it. */
typedef struct Weights {
    unsigned dtype;
    size_t g, n, k;
    float *f32;                 /* F32 */
    uint16_t *bf16;             /* BF16 */
    int8_t *i8;                 /* I8 ... */
    float *scale;               /* ... and its per-row scales */
} Weights;

static void weights_new(Exec *x, Weights *w, unsigned dtype, size_t g,
                        size_t n, size_t k)
{
    size_t i, len = g * n * k;

    memset(w, 0, sizeof(*w));
    w->dtype = dtype;
    w->g = g;
    w->n = n;
    w->k = k;
    switch (dtype) {
    case LPU_DT_F32:
        w->f32 = x_floats(x, len, 0.5f);
        break;
    case LPU_DT_BF16:
        w->bf16 = g_new(uint16_t, len);
        for (i = 0; i < len; i++) {
            float f = x_rand(x, 0.5f);
            uint32_t bits;

            memcpy(&bits, &f, 4);
            w->bf16[i] = bits >> 16;
        }
        break;
    default:
        w->i8 = g_new(int8_t, len);
        w->scale = g_new(float, g * n);
        /* Stored weights are any int8, -128 included. */
        for (i = 0; i < len; i++) {
            w->i8[i] = (int8_t)floorf(x_rand(x, 128.0f));
        }
        for (i = 0; i < g * n; i++) {
            w->scale[i] = fabsf(x_rand(x, 0.01f)) + 0.0001f;
        }
        break;
    }
}

static void weights_free(Weights *w)
{
    g_free(w->f32);
    g_free(w->bf16);
    g_free(w->i8);
    g_free(w->scale);
}

/* Put the weights in a new tensor in the device's layout. */
static uint64_t weights_put(Exec *x, const Weights *w)
{
    size_t len = w->g * w->n * w->k;
    uint64_t va;

    switch (w->dtype) {
    case LPU_DT_F32:
        return x_tensor(x, w->f32, len);
    case LPU_DT_BF16:
        va = x_new(x, len * 2);
        x_put(x, va, w->bf16, len * 2);
        return va;
    default:
        va = x_new(x, LPU_QBLOCK_SIZE(w->g, w->n, w->k));
        x_put(x, va, w->i8, len);
        qtest_memset(x->l.qts, x->sram + x_sram(va) + len, 0,
                     LPU_QBLOCK_SCALES_OFFSET(w->g, w->n, w->k) - len);
        x_put(x, va + LPU_QBLOCK_SCALES_OFFSET(w->g, w->n, w->k), w->scale,
              w->g * w->n * 4);
        return va;
    }
}

static float weight_f(const Weights *w, size_t i)
{
    uint32_t bits;
    float f;

    if (w->dtype == LPU_DT_F32) {
        return w->f32[i];
    }
    bits = (uint32_t)w->bf16[i] << 16;
    memcpy(&f, &bits, 4);
    return f;
}

/*
 * out[m][n] = a[m] . w_g[n] with the weights' dtype. I8 is exact; F32 and
 * BF16 are summed in double here, in some order in the device, so
 * @bound gets sum |a * w| per element for the comparison.
 */
static void ref_matmul(const Weights *w, size_t g, const float *a, size_t m,
                       float *out, double *bound)
{
    size_t n = w->n, k = w->k, i, j, l;
    g_autofree int8_t *qa = g_new(int8_t, k);

    for (i = 0; i < m; i++) {
        float sa = 1;

        if (w->dtype == LPU_DT_I8) {
            sa = ref_quant(a + i * k, k, qa);
        }
        for (j = 0; j < n; j++) {
            size_t row = (g * n + j) * k;
            double sum = 0, abs = 0;
            int64_t acc = 0;

            for (l = 0; l < k; l++) {
                if (w->dtype == LPU_DT_I8) {
                    acc += qa[l] * w->i8[row + l];
                } else {
                    double p = (double)a[i * k + l] * weight_f(w, row + l);

                    sum += p;
                    abs += fabs(p);
                }
            }
            if (w->dtype == LPU_DT_I8) {
                out[i * n + j] = ((float)acc * sa) * w->scale[g * n + j];
                abs = 0;
            } else {
                out[i * n + j] = sum;
            }
            if (bound) {
                bound[i * n + j] = abs;
            }
        }
    }
}

/* Device results against the reference: I8 bit for bit, else 1e-5. */
static void check_close(unsigned dtype, const float *got, const float *want,
                        const double *bound, size_t n, const char *what)
{
    size_t i;

    for (i = 0; i < n; i++) {
        bool ok = dtype == LPU_DT_I8 ?
                  !memcmp(&got[i], &want[i], 4) :
                  fabs((double)got[i] - want[i]) <=
                  0.00001 * (bound[i] + fabs(want[i]));

        if (!ok) {
            g_test_message("%s[%zu]: %.9g, expected %.9g", what, i, got[i],
                           want[i]);
            g_assert_not_reached();
        }
    }
}

/* ---- results ----------------------------------------------------------- */

static void exec_matmul_case(Exec *x, unsigned dtype, size_t g, size_t m,
                             size_t n, size_t k)
{
    g_autofree float *a = x_floats(x, g * m * k, 2.0f);
    g_autofree float *want = g_new(float, g * m * n);
    g_autofree double *bound = g_new(double, g * m * n);
    g_autofree float *got = NULL;
    struct lpu_insn prog[1];
    uint64_t va, vw, vo;
    Weights w;
    size_t i;

    g_test_message("MATMUL dtype %u G %zu M %zu N %zu K %zu", dtype, g, m, n,
                   k);
    x->next = 0;
    if (dtype == LPU_DT_I8) {
        /* A row of zeroes quantises with scale 1. */
        memset(a, 0, k * 4);
    }
    weights_new(x, &w, dtype, g, n, k);
    va = x_tensor(x, a, g * m * k);
    vw = weights_put(x, &w);
    vo = x_new(x, g * m * n * 4);
    prog[0] = mk(LPU_INSN_MATMUL, dtype, 0, DIMS(m, n, k, g),
                 OPS(va, vw, vo));
    exec_run(x, prog, 1);
    for (i = 0; i < g; i++) {
        ref_matmul(&w, i, a + i * m * k, m, want + i * m * n,
                   bound + i * m * n);
    }
    got = x_read(x, vo, g * m * n);
    check_close(dtype, got, want, bound, g * m * n, "out");
    weights_free(&w);
}

static void test_exec_matmul(void)
{
    Exec x;

    exec_start(&x);
    exec_matmul_case(&x, LPU_DT_F32, 2, 3, 5, 7);
    exec_matmul_case(&x, LPU_DT_F32, 1, 17, 33, 129);
    exec_matmul_case(&x, LPU_DT_BF16, 1, 4, 3, 33);
    exec_matmul_case(&x, LPU_DT_BF16, 3, 2, 9, 64);
    exec_matmul_case(&x, LPU_DT_I8, 2, 3, 5, 70);
    exec_matmul_case(&x, LPU_DT_I8, 1, 5, 7, 1040);
    /* Above 1040 the exact sums go through slices of K. */
    exec_matmul_case(&x, LPU_DT_I8, 2, 3, 4, 1100);
    exec_matmul_case(&x, LPU_DT_I8, 1, 2, 3, 2100);
    /* 128 rows a chunk at N = K = 512: three chunks per batch. */
    exec_matmul_case(&x, LPU_DT_I8, 2, 300, 512, 512);
    exec_matmul_case(&x, LPU_DT_F32, 1, 300, 512, 512);
    g_assert_cmpuint(rd(&x.l, LPU_REG_ERROR_COUNT), ==, 0);
    exec_stop(&x);
}

/*
 * EXPERT_FFN of G experts with C slots, with and without a routing table
 * (in which some slots hold no token).
 */
static void exec_ffn_case(Exec *x, unsigned dtype, bool routed, size_t g,
                          size_t c, size_t h, size_t f)
{
    g_autofree float *xin = x_floats(x, g * c * h, 1.0f);
    g_autofree float *gu = g_new(float, c * 2 * f);
    g_autofree float *act = g_new(float, c * f);
    g_autofree float *want = g_new(float, g * c * h);
    g_autofree double *bound = g_new(double, g * c * h);
    g_autofree double *b2 = g_new(double, c * 2 * f);
    g_autofree float *got = NULL;
    g_autofree int32_t *routing = g_new0(int32_t, LPU_ROUTING_SIZE(g, c) / 4);
    struct lpu_insn prog[1];
    uint64_t vx, v13, v2, vo, vr = 0;
    Weights w13, w2;
    size_t e, r, i, empty = 0;

    g_test_message("EXPERT_FFN dtype %u G %zu C %zu H %zu F %zu%s", dtype, g,
                   c, h, f, routed ? ", routed" : "");
    x->next = 0;
    weights_new(x, &w13, dtype, g, 2 * f, h);
    weights_new(x, &w2, dtype, g, h, f);
    vx = x_tensor(x, xin, g * c * h);
    v13 = weights_put(x, &w13);
    v2 = weights_put(x, &w2);
    vo = x_new(x, g * c * h * 4);
    if (routed) {
        for (i = 0; i < g * c; i++) {
            routing[i] = (i % 5 == 2 || i % 7 == 3) ? -1 : i % 11;
        }
        vr = x_new(x, LPU_ROUTING_SIZE(g, c));
        x_put(x, vr, routing, LPU_ROUTING_SIZE(g, c));
    }
    prog[0] = mk(LPU_INSN_EXPERT_FFN, dtype, 0, DIMS(g, c, h, f),
                 OPS(vx, v13, v2, vo, vr));
    exec_run(x, prog, 1);

    for (e = 0; e < g; e++) {
        ref_matmul(&w13, e, xin + e * c * h, c, gu, b2);
        for (r = 0; r < c; r++) {
            for (i = 0; i < f; i++) {
                act[r * f + i] = ref_silu(gu[r * 2 * f + i]) *
                                 gu[r * 2 * f + f + i];
            }
        }
        ref_matmul(&w2, e, act, c, want + e * c * h, bound + e * c * h);
        for (r = 0; r < c; r++) {
            for (i = 0; i < h; i++) {
                /* Error carried over from the first product. */
                bound[(e * c + r) * h + i] *= 4;
            }
            if (routed && routing[e * c + r] == -1) {
                memset(want + (e * c + r) * h, 0, h * 4);
                empty++;
            }
        }
    }
    got = x_read(x, vo, g * c * h);
    check_close(dtype, got, want, bound, g * c * h, "out");
    /* Slots without a token are exactly zero. */
    for (i = 0; routed && i < g * c; i++) {
        if (routing[i] == -1) {
            g_assert(all_zero((uint8_t *)(got + i * h), h * 4));
        }
    }
    g_assert(!routed || empty);
    weights_free(&w13);
    weights_free(&w2);
}

static void test_exec_ffn(void)
{
    static const unsigned dtypes[] = { LPU_DT_F32, LPU_DT_BF16, LPU_DT_I8 };
    Exec x;
    unsigned i;

    exec_start(&x);
    for (i = 0; i < ARRAY_SIZE(dtypes); i++) {
        exec_ffn_case(&x, dtypes[i], false, 2, 3, 16, 8);
        exec_ffn_case(&x, dtypes[i], true, 2, 3, 16, 8);
        /* Expert 2's only slot is empty: its weights are never needed. */
        exec_ffn_case(&x, dtypes[i], true, 3, 1, 16, 8);
    }
    /* 85 slots a chunk at H 256, F 512: three chunks per expert. */
    exec_ffn_case(&x, LPU_DT_I8, true, 2, 200, 256, 512);
    exec_ffn_case(&x, LPU_DT_BF16, false, 1, 90, 256, 512);
    /* Both products sliced along K (H and F above 1032). */
    exec_ffn_case(&x, LPU_DT_I8, true, 2, 5, 1100, 1050);
    /*
     * H * F at LPU_EXEC_MAX_FFN_HF: a chunk of two slots (I8) or one
     * (BF16, F at LPU_EXEC_MAX_DIM), each expert's weights widened once.
     */
    exec_ffn_case(&x, LPU_DT_I8, true, 2, 5, 2048, 2048);
    exec_ffn_case(&x, LPU_DT_BF16, false, 1, 3, 4, 1 << 20);
    exec_stop(&x);
}

static void check_exact(const float *got, const float *want, size_t n,
                        const char *what)
{
    check_close(LPU_DT_I8, got, want, NULL, n, what);
}

/* ADD, MUL, SILU, SWIGLU, RMSNORM and SOFTMAX, also in place. */
static void test_exec_elementwise(void)
{
    const size_t n = 1024, rm = 3, rn = 50, sm = 4, sn = 37;
    const float eps = 0.000001f;
    Exec x;
    g_autofree float *a = NULL;
    g_autofree float *b = NULL;
    g_autofree float *gamma = NULL;
    g_autofree float *want = g_new(float, 6 * n);
    g_autofree float *got = NULL;
    struct lpu_insn prog[9];
    uint64_t va, vb, vg, vadd, vmul, vsilu, vswi, vrms, vsm, vin;
    uint32_t eps_bits;
    size_t i, r;

    exec_start(&x);
    a = x_floats(&x, n, 8.0f);
    b = x_floats(&x, n, 2.0f);
    gamma = x_floats(&x, rn, 1.5f);
    va = x_tensor(&x, a, n);
    vb = x_tensor(&x, b, n);
    vg = x_tensor(&x, gamma, rn);
    vin = x_tensor(&x, a, n);          /* a copy of a, changed in place */
    vadd = x_new(&x, n * 4);
    vmul = x_new(&x, n * 4);
    vsilu = x_new(&x, n * 4);
    vswi = x_new(&x, n * 4);
    vrms = x_new(&x, rm * rn * 4);
    vsm = x_new(&x, sm * sn * 4);
    memcpy(&eps_bits, &eps, 4);
    prog[0] = mk(LPU_INSN_ADD, LPU_DT_F32, 0, DIMS(n), OPS(va, vb, vadd));
    prog[1] = mk(LPU_INSN_MUL, LPU_DT_F32, 0, DIMS(n), OPS(va, vb, vmul));
    prog[2] = mk(LPU_INSN_SILU, LPU_DT_F32, 0, DIMS(n), OPS(va, vsilu));
    prog[3] = mk(LPU_INSN_SWIGLU, LPU_DT_F32, 0, DIMS(n),
                 OPS(va, vb, vswi));
    prog[4] = mk(LPU_INSN_RMSNORM, LPU_DT_F32, 0, DIMS(rm, rn, eps_bits),
                 OPS(va, vg, vrms));
    prog[5] = mk(LPU_INSN_SOFTMAX, LPU_DT_F32, 0, DIMS(sm, sn),
                 OPS(va, vsm));
    /* In place: vin = vin + b, then silu(vin) * b, then rmsnorm. */
    prog[6] = mk(LPU_INSN_ADD, LPU_DT_F32, 0, DIMS(n), OPS(vin, vb, vin));
    prog[7] = mk(LPU_INSN_SWIGLU, LPU_DT_F32, 0, DIMS(n),
                 OPS(vin, vb, vin));
    prog[8] = mk(LPU_INSN_RMSNORM, LPU_DT_F32, 0, DIMS(rm, rn, eps_bits),
                 OPS(vin, vg, vin));
    exec_run(&x, prog, 9);

    for (i = 0; i < n; i++) {
        want[i] = a[i] + b[i];
        want[n + i] = a[i] * b[i];
        want[2 * n + i] = ref_silu(a[i]);
        want[3 * n + i] = ref_silu(a[i]) * b[i];
        want[5 * n + i] = ref_silu(a[i] + b[i]) * b[i];
    }
    got = x_read(&x, vadd, 4 * n);
    check_exact(got, want, 4 * n, "add, mul, silu, swiglu");
    g_free(got);

    for (r = 0; r < rm; r++) {
        for (i = 0; i < 2; i++) {
            const float *row = i ? want + 5 * n + r * rn : a + r * rn;
            float *o = i ? want + 5 * n + r * rn : want + 4 * n + r * rn;
            double ss = 0, q;
            size_t j;

            for (j = 0; j < rn; j++) {
                ss += (double)row[j] * row[j];
            }
            q = 1.0 / sqrt(ss / rn + (double)eps);
            for (j = 0; j < rn; j++) {
                o[j] = (float)(row[j] * q) * gamma[j];
            }
        }
    }
    got = x_read(&x, vrms, rm * rn);
    check_exact(got, want + 4 * n, rm * rn, "rmsnorm");
    g_free(got);
    got = x_read(&x, vin, n);
    check_exact(got, want + 5 * n, n, "in place");
    g_free(got);

    for (r = 0; r < sm; r++) {
        const float *row = a + r * sn;
        double e[37], s = 0;
        float mx = row[0];
        size_t j;

        for (j = 1; j < sn; j++) {
            mx = MAX(mx, row[j]);
        }
        for (j = 0; j < sn; j++) {
            e[j] = exp((double)row[j] - mx);
            s += e[j];
        }
        for (j = 0; j < sn; j++) {
            want[r * sn + j] = (float)(e[j] / s);
        }
    }
    got = x_read(&x, vsm, sm * sn);
    check_exact(got, want, sm * sn, "softmax");
    exec_stop(&x);
}

/* The router: TOPK, DISPATCH with overflow, COMBINE. */
static void ref_topk(const float *x, size_t e, size_t k, unsigned flags,
                     int32_t *idx, float *w)
{
    float s[16];
    bool taken[16] = { 0 };
    double d = 0;
    size_t i, r;

    if (flags & LPU_TOPK_SIGMOID) {
        for (i = 0; i < e; i++) {
            s[i] = (float)(1.0 / (1.0 + exp(-(double)x[i])));
        }
    } else {
        double ex[16], sum = 0;
        float mx = x[0];

        for (i = 1; i < e; i++) {
            mx = MAX(mx, x[i]);
        }
        for (i = 0; i < e; i++) {
            ex[i] = exp((double)x[i] - mx);
            sum += ex[i];
        }
        for (i = 0; i < e; i++) {
            s[i] = (float)(ex[i] / sum);
        }
    }
    for (r = 0; r < k; r++) {
        int best = -1;

        for (i = 0; i < e; i++) {
            if (!taken[i] && (best < 0 || s[i] > s[best])) {
                best = i;
            }
        }
        taken[best] = true;
        idx[r] = best;
        w[r] = s[best];
        d += (double)s[best];
    }
    if (flags & LPU_TOPK_RENORM) {
        for (r = 0; r < k; r++) {
            w[r] = (float)((double)w[r] / d);
        }
    }
}

static void test_exec_router(void)
{
    enum { T = 6, E = 8, K = 3, H = 4, DE = 4, DK = 2, C = 2 };
    static const unsigned flags[3] = {
        0, LPU_TOPK_RENORM, LPU_TOPK_SIGMOID | LPU_TOPK_RENORM,
    };
    /* DISPATCH input: expert 0 is wanted 4 times, expert 3 never. */
    static const int32_t didx[T][DK] = {
        { 0, 1 }, { 0, 2 }, { 1, 0 }, { 2, 1 }, { 0, 2 }, { 1, 2 },
    };
    Exec x;
    g_autofree float *logits = NULL;
    g_autofree float *dx = NULL;
    g_autofree float *dw = NULL;
    g_autofree float *ye = NULL;
    g_autofree float *out0 = NULL;
    struct lpu_insn prog[5];
    uint64_t vl, vi[3], vw[3], vdx, vdi, vdw, vxe, vrt, vye, vout;
    int32_t idx[T * K], widx[T * K], rt_tok[DE * C], rt_load[DE], rt_drop[DE];
    float w[T * K], ww[T * K], rt_w[DE * C], want_xe[DE * C * H];
    float want_out[T * H], got_xe[DE * C * H], got_out[T * H];
    uint8_t rt[LPU_ROUTING_SIZE(DE, C)];
    unsigned i, t, r, e, c, h;

    exec_start(&x);
    logits = x_floats(&x, T * E, 3.0f);
    /* Ties: equal logits give equal scores; the lower expert ranks first. */
    for (i = 0; i < E; i++) {
        logits[i] = x_rand(&x, 2.0f);
    }
    logits[0] = logits[5] = logits[6] = 2.5f;
    logits[E + 1] = logits[E + 2] = logits[E + 3] = logits[E + 4] = -1.0f;
    for (i = 0; i < E; i++) {
        logits[2 * E + i] = 0.25f;      /* a row of all ties */
    }
    vl = x_tensor(&x, logits, T * E);
    for (i = 0; i < 3; i++) {
        vi[i] = x_new(&x, T * K * 4);
        vw[i] = x_new(&x, T * K * 4);
        prog[i] = mk(LPU_INSN_TOPK, LPU_DT_F32, flags[i], DIMS(T, E, K),
                     OPS(vl, vi[i], vw[i]));
    }

    dx = x_floats(&x, T * H, 1.0f);
    dw = x_floats(&x, T * DK, 1.0f);
    vdx = x_tensor(&x, dx, T * H);
    vdi = x_new(&x, sizeof(didx));
    x_put(&x, vdi, didx, sizeof(didx));
    vdw = x_tensor(&x, dw, T * DK);
    vxe = x_new(&x, DE * C * H * 4);
    vrt = x_new(&x, sizeof(rt));
    prog[3] = mk(LPU_INSN_DISPATCH, LPU_DT_F32, 0, DIMS(T, H, DE, DK, C),
                 OPS(vdx, vdi, vdw, vxe, vrt));
    ye = x_floats(&x, DE * C * H, 1.0f);
    out0 = x_floats(&x, T * H, 1.0f);
    vye = x_tensor(&x, ye, DE * C * H);
    vout = x_tensor(&x, out0, T * H);
    prog[4] = mk(LPU_INSN_COMBINE, LPU_DT_F32, 0, DIMS(T, H, DE, C),
                 OPS(vye, vrt, vout));
    exec_run(&x, prog, 5);

    for (i = 0; i < 3; i++) {
        g_test_message("TOPK flags 0x%x", flags[i]);
        for (t = 0; t < T; t++) {
            ref_topk(logits + t * E, E, K, flags[i], widx + t * K,
                     ww + t * K);
        }
        x_get(&x, vi[i], idx, sizeof(idx));
        x_get(&x, vw[i], w, sizeof(w));
        g_assert_cmpmem(idx, sizeof(idx), widx, sizeof(widx));
        check_exact(w, ww, T * K, "topk weight");
        /* The tie rule, spelt out. */
        g_assert_cmpint(idx[0], ==, 0);
        g_assert_cmpint(idx[1], ==, 5);
        g_assert_cmpint(idx[2], ==, 6);
        g_assert_cmpint(idx[2 * K], ==, 0);
        g_assert_cmpint(idx[2 * K + 1], ==, 1);
        g_assert_cmpint(idx[2 * K + 2], ==, 2);
    }

    /* DISPATCH, by the rule: tokens in order, then ranks. */
    for (i = 0; i < DE * C; i++) {
        rt_tok[i] = -1;
        rt_w[i] = 0;
    }
    memset(rt_load, 0, sizeof(rt_load));
    memset(rt_drop, 0, sizeof(rt_drop));
    memset(want_xe, 0, sizeof(want_xe));
    for (t = 0; t < T; t++) {
        for (r = 0; r < DK; r++) {
            e = didx[t][r];
            if (rt_load[e] < C) {
                c = rt_load[e];
                rt_tok[e * C + c] = t;
                rt_w[e * C + c] = dw[t * DK + r];
                memcpy(want_xe + (e * C + c) * H, dx + t * H, H * 4);
            } else {
                rt_drop[e]++;
            }
            rt_load[e]++;
        }
    }
    g_assert_cmpint(rt_load[0], ==, 4);
    g_assert_cmpint(rt_drop[0], ==, 2);
    g_assert_cmpint(rt_load[3], ==, 0);
    x_get(&x, vrt, rt, sizeof(rt));
    g_assert_cmpmem(rt, DE * C * 4, rt_tok, sizeof(rt_tok));
    g_assert_cmpmem(rt + DE * C * 4, DE * C * 4, rt_w, sizeof(rt_w));
    g_assert_cmpmem(rt + DE * C * 8, DE * 4, rt_load, sizeof(rt_load));
    g_assert_cmpmem(rt + DE * C * 8 + DE * 4, DE * 4, rt_drop,
                    sizeof(rt_drop));
    x_get(&x, vxe, got_xe, sizeof(got_xe));
    g_assert_cmpmem(got_xe, sizeof(got_xe), want_xe, sizeof(want_xe));

    /* COMBINE: experts in order, slots in order, two roundings each. */
    memcpy(want_out, out0, sizeof(want_out));
    for (i = 0; i < DE * C; i++) {
        if (rt_tok[i] < 0) {
            continue;
        }
        for (h = 0; h < H; h++) {
            float p = rt_w[i] * ye[i * H + h];

            want_out[rt_tok[i] * H + h] = want_out[rt_tok[i] * H + h] + p;
        }
    }
    x_get(&x, vout, got_out, sizeof(got_out));
    check_exact(got_out, want_out, T * H, "combine");
    exec_stop(&x);
}

/*
 * DISPATCH and COMBINE over more slots than one chunk holds (128 rows of
 * H = 16384): the routing chunk, then two chunks of slot rows each.
 */
static void test_exec_router_chunks(void)
{
    enum { T = 64, H = 16384, E = 4, K = 2, C = 40 };
    Exec x;
    g_autofree float *xin = NULL;
    g_autofree float *w = NULL;
    g_autofree float *out0 = NULL;
    g_autofree float *want_xe = g_new0(float, E * C * H);
    g_autofree float *want = NULL;
    g_autofree float *got = NULL;
    int32_t idx[T * K], token[E * C], load[E] = { 0 };
    float slot_w[E * C];
    struct lpu_insn prog[2];
    uint64_t vx, vi, vw, vxe, vrt, vout;
    unsigned i, t, e, h;

    exec_start(&x);
    xin = x_floats(&x, T * H, 1.0f);
    w = x_floats(&x, T * K, 1.0f);
    out0 = x_floats(&x, T * H, 1.0f);
    for (i = 0; i < T * K; i++) {
        /* Expert 0 twice as popular: it overflows, the others do not. */
        idx[i] = (i * 7 + i / 5) % (E + 2) % E;
    }
    vx = x_tensor(&x, xin, T * H);
    vi = x_new(&x, sizeof(idx));
    x_put(&x, vi, idx, sizeof(idx));
    vw = x_tensor(&x, w, T * K);
    vxe = x_new(&x, E * C * H * 4);
    vrt = x_new(&x, LPU_ROUTING_SIZE(E, C));
    vout = x_tensor(&x, out0, T * H);
    prog[0] = mk(LPU_INSN_DISPATCH, F32, 0, DIMS(T, H, E, K, C),
                 OPS(vx, vi, vw, vxe, vrt));
    prog[1] = mk(LPU_INSN_COMBINE, F32, 0, DIMS(T, H, E, C),
                 OPS(vxe, vrt, vout));
    exec_run(&x, prog, 2);

    for (i = 0; i < E * C; i++) {
        token[i] = -1;
        slot_w[i] = 0;
    }
    for (i = 0; i < T * K; i++) {
        e = idx[i];
        if (load[e] < C) {
            token[e * C + load[e]] = i / K;
            slot_w[e * C + load[e]] = w[i];
            memcpy(want_xe + (e * C + load[e]) * H, xin + i / K * H, H * 4);
        }
        load[e]++;
    }
    g_assert_cmpint(load[0], >, C);
    got = x_read(&x, vxe, E * C * H);
    g_assert(!memcmp(got, want_xe, E * C * H * 4));
    g_free(got);

    want = g_memdup2(out0, T * H * 4);
    for (i = 0; i < E * C; i++) {
        t = token[i];
        for (h = 0; token[i] >= 0 && h < H; h++) {
            float p = slot_w[i] * want_xe[i * H + h];

            want[t * H + h] = want[t * H + h] + p;
        }
    }
    got = x_read(&x, vout, T * H);
    check_exact(got, want, T * H, "combine");
    exec_stop(&x);
}

/*
 * TOPK on rows full of ties, infinities and NaNs, against the plain
 * k-pass selection of the rules: the engine ranks with a heap, which must
 * give the very same indices and weights.
 */
static void test_exec_topk_ties(void)
{
    enum { T = 96, E = 16 };
    static const uint32_t vals[] = {
        0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x7fc00000,
        0x7f800000, 0xff800000, 0x40000000,
    };
    static const unsigned ks[] = { 1, 3, 8, 16 };
    Exec x;
    float logits[T * E];
    int32_t idx[T * E], want_idx[E];
    float w[T * E], want_w[E];
    struct lpu_insn prog[1];
    uint64_t vl, vi, vw;
    unsigned i, t, f, ki;

    exec_start(&x);
    for (i = 0; i < T * E; i++) {
        /* Few values, many NaNs in some rows, none in others. */
        uint32_t b = vals[(i * 2654435761u >> 7) % (i / E % 3 ? 8 : 4)];

        memcpy(&logits[i], &b, 4);
    }
    vl = x_tensor(&x, logits, T * E);
    vi = x_new(&x, sizeof(idx));
    vw = x_new(&x, sizeof(w));
    for (f = 0; f < 4; f++) {
        for (ki = 0; ki < ARRAY_SIZE(ks); ki++) {
            unsigned k = ks[ki];

            g_test_message("TOPK flags %u k %u", f, k);
            prog[0] = mk(LPU_INSN_TOPK, F32, f, DIMS(T, E, k),
                         OPS(vl, vi, vw));
            exec_run(&x, prog, 1);
            x_get(&x, vi, idx, T * k * 4);
            x_get(&x, vw, w, T * k * 4);
            for (t = 0; t < T; t++) {
                ref_topk(logits + t * E, E, k, f, want_idx, want_w);
                g_assert(!memcmp(idx + t * k, want_idx, k * 4));
                /* NaN payloads and signs are the rules' business. */
                for (i = 0; i < k; i++) {
                    g_assert(isnan(w[t * k + i]) ?
                             isnan(want_w[i]) :
                             !memcmp(&w[t * k + i], &want_w[i], 4));
                }
            }
        }
    }
    exec_stop(&x);
}

/* COPY instructions between host memory and SRAM. */
static void test_exec_copy(void)
{
    const uint64_t big = 5 * MiB + 100;
    Exec x;
    struct lpu_insn prog[4];
    g_autofree uint8_t *got = g_malloc(big);
    g_autofree uint8_t *want = NULL;
    uint64_t v1, v2, vbig;
    uint64_t i;

    exec_start(&x);
    buf_fill(&x.l, &x.host, 9);
    v1 = x_new(&x, 3000);
    vbig = x_new(&x, big);
    v2 = x_new(&x, big);
    want = g_malloc(big);
    for (i = 0; i < big; i++) {
        want[i] = i * 31 + (i >> 12);
    }
    x_put(&x, vbig, want, big);
    prog[0] = mk(LPU_INSN_COPY, 0, 0, DIMS(3000), OPS(VA(3) + 640, v1));
    prog[1] = mk(LPU_INSN_COPY, 0, 0, DIMS(3000), OPS(v1, VA(3) + 64 * KiB));
    prog[2] = mk(LPU_INSN_COPY, 0, 0, DIMS(big), OPS(vbig, v2));
    prog[3] = mk(LPU_INSN_COPY, 0, 0, DIMS(4096), OPS(VA(3), VA(2) + 128));
    exec_run(&x, prog, 4);
    shadow_copy(&x.host, 640, &x.host, 64 * KiB, 3000);
    buf_check(&x.l, &x.host);
    x_get(&x, v1, got, 3000);
    g_assert_cmpmem(got, 3000, x.host.shadow + 640, 3000);
    x_get(&x, v2, got, big);
    g_assert(!memcmp(got, want, big));
    x_get(&x, VA(2) + 128, got, 4096);
    g_assert_cmpmem(got, 4096, x.host.shadow, 4096);
    exec_stop(&x);
}

/* Stats cycles and completion time follow the documented table. */
static void test_exec_cycles(void)
{
    Exec x;
    struct lpu_insn prog[3];
    uint64_t a, b, o, w;

    exec_start(&x);
    a = x_new(&x, 4 * 16 * 4);
    w = x_new(&x, 8 * 16 * 4);
    o = x_new(&x, 4 * 8 * 4);
    b = x_new(&x, 1000 * 4);
    prog[0] = mk(LPU_INSN_MATMUL, LPU_DT_F32, 0, DIMS(4, 8, 16, 1),
                 OPS(a, w, o));
    /* Setup 256 + 64/32, MATMUL 128 + ceil(512 / 1024). */
    g_assert_cmpuint(exec_run(&x, prog, 1), ==, 258 + 129);
    prog[1] = mk(LPU_INSN_ADD, LPU_DT_F32, 0, DIMS(1000), OPS(b, b, b));
    prog[2] = mk(LPU_INSN_COPY, 0, 0, DIMS(1000), OPS(b, VA(3)));
    /* + ADD 32 + ceil(1000 / 256), COPY 256 + ceil(1000 / 32). */
    g_assert_cmpuint(exec_run(&x, prog, 3), ==, 256 + 6 + 129 + 36 + 288);
    g_assert_cmpuint(rd(&x.l, LPU_REG_DESC_DONE_LO), ==, 4);
    exec_stop(&x);
}

/* ---- refusals ----------------------------------------------------------- */

/*
 * Submit @d (an EXEC) between two FENCEs on a freshly reset queue; it must
 * halt the queue with LPU_ERR_EXEC, @insn and @reason (and @fault for
 * LPU_EXEC_E_OPERAND), and, unless @ran says the program started,
 * nothing may have changed: tensors, stats record, host buffer.
 */
static void exec_refused(Exec *x, const union lpu_desc *d, uint32_t insn,
                         uint32_t reason, uint64_t fault, bool ran)
{
    Lpu *l = &x->l;
    uint32_t errors = rd(l, LPU_REG_ERROR_COUNT);
    uint64_t len = MAX(x->next, 64);
    g_autofree uint8_t *before = g_malloc(len);
    g_autofree uint8_t *after = g_malloc(len);
    g_autofree uint8_t *host = g_malloc(x->host.size);
    struct lpu_fence_record rec;
    uint8_t stats[LPU_EXEC_STATS_SIZE];

    qtest_memset(l->qts, x->sram + X_STATS, 0xff, sizeof(stats));
    qtest_bufread(l->qts, x->sram, before, len);
    qwr(l, x->r.q, LPU_Q_CTRL, LPU_Q_CTRL_RESET | LPU_Q_CTRL_ENABLE);
    x->r.tail = 0;
    qtest_memset(l->qts, x->r.fence, 0, x->r.count * LPU_FENCE_RECORD_SIZE);
    put_fence(l, &x->r, 0, 0x51, 0);
    put_desc(l, &x->r, d);
    put_fence(l, &x->r, 1, 0x52, LPU_DESC_F_IRQ);
    ring_doorbell(l, &x->r);
    step(l, 100000);
    assert_halted(l, &x->r, LPU_ERR_EXEC, 1, errors + 1);
    g_assert_cmphex(qrd(l, x->r.q, LPU_Q_EXEC_INSN), ==, insn);
    g_assert_cmpuint(qrd(l, x->r.q, LPU_Q_EXEC_REASON), ==, reason);
    g_assert_cmphex(qrd(l, x->r.q, LPU_Q_FAULT_ADDR_LO), ==,
                    reason == LPU_EXEC_E_OPERAND ? (uint32_t)fault : 0);
    g_assert_cmphex(qrd(l, x->r.q, LPU_Q_FAULT_ADDR_HI), ==,
                    reason == LPU_EXEC_E_OPERAND ? fault >> 32 : 0);
    g_assert_cmphex(qrd(l, x->r.q, LPU_Q_FAULT_INFO), ==, 0);
    read_fence(l, &x->r, 0, &rec);
    g_assert_cmphex(rec.seq, ==, 0x51);
    read_fence(l, &x->r, 1, &rec);
    g_assert_cmphex(rec.seq, ==, 0);
    g_assert_cmpuint(qrd(l, x->r.q, LPU_Q_DONE), ==, 1);
    qtest_bufread(l->qts, x->sram + X_STATS, stats, sizeof(stats));
    g_assert(stats[0] == 0xff && !memcmp(stats, stats + 1,
                                         sizeof(stats) - 1));
    if (!ran) {
        qtest_bufread(l->qts, x->sram, after, len);
        g_assert(!memcmp(before, after, len));
    }
    buf_io(l, &x->host, 0, host, x->host.size, false);
    g_assert(!memcmp(host, x->host.shadow, x->host.size));

    /* A queue reset forgets the error; the queue works again. */
    qwr(l, x->r.q, LPU_Q_CTRL, LPU_Q_CTRL_RESET | LPU_Q_CTRL_ENABLE);
    g_assert_cmphex(qrd(l, x->r.q, LPU_Q_EXEC_INSN), ==, 0);
    g_assert_cmphex(qrd(l, x->r.q, LPU_Q_EXEC_REASON), ==, 0);
    g_assert_cmphex(qrd(l, x->r.q, LPU_Q_FAULT_ADDR_LO), ==, 0);
    wr(l, LPU_REG_ERROR_ACK, 1);
    wr(l, LPU_REG_IRQ_STATUS, LPU_IRQ_ALL);
    x->r.tail = 0;
}

static void exec_desc(Exec *x, union lpu_desc *d, uint32_t count)
{
    memset(d, 0, sizeof(*d));
    d->hdr.opcode = LPU_OP_EXEC;
    d->exec.program = cpu_to_le64(VA(1) + X_PROG);
    d->exec.insn_count = cpu_to_le32(count);
    d->exec.seg_table = cpu_to_le64(x->table);
    d->exec.seg_count = cpu_to_le32(x->nsegs);
    d->exec.stats = cpu_to_le64(VA(1) + X_STATS);
}

typedef struct BadInsn {
    const char *name;
    uint32_t reason;
    unsigned fault_op;          /* LPU_EXEC_E_OPERAND: which op[] */
    struct lpu_insn insn;
} BadInsn;

/* Operands of the refusal table, at fixed places in VA(1). */
#define XA                  (VA(1) + 0x10000)   /* 64 KiB each */
#define XB                  (VA(1) + 0x20000)
#define XO                  (VA(1) + 0x30000)
#define XR                  (VA(1) + 0x40000)
#define X_NAN               0x7fc00000u
#define X_MINUS1            0xbf800000u
#define X_INF               0x7f800000u

static void test_exec_refusals(void)
{
    const BadInsn bad[] = {
        { "opcode 0x7f", LPU_EXEC_E_OPCODE, 0,
          mk(0x7f, F32, 0, DIMS(16), OPS(XA, XB, XO)) },
        { "a zeroed instruction", LPU_EXEC_E_OPCODE, 0,
          mk(0, 0, 0, DIMS(0), OPS(0)) },
        { "ADD with a flag", LPU_EXEC_E_FLAGS, 0,
          mk(LPU_INSN_ADD, F32, 1, DIMS(16), OPS(XA, XB, XO)) },
        { "TOPK with an undefined flag", LPU_EXEC_E_FLAGS, 0,
          mk(LPU_INSN_TOPK, F32, 4, DIMS(4, 8, 2), OPS(XA, XB, XO)) },
        { "ADD dim[1]", LPU_EXEC_E_RESERVED, 0,
          mk(LPU_INSN_ADD, F32, 0, DIMS(16, 1), OPS(XA, XB, XO)) },
        { "ADD op[3]", LPU_EXEC_E_RESERVED, 0,
          mk(LPU_INSN_ADD, F32, 0, DIMS(16), OPS(XA, XB, XO, XR)) },
        { "COPY dim[4]", LPU_EXEC_E_RESERVED, 0,
          mk(LPU_INSN_COPY, 0, 0, DIMS(16, 0, 0, 0, 1), OPS(XA, XO)) },
        { "MATMUL dim[4]", LPU_EXEC_E_RESERVED, 0,
          mk(LPU_INSN_MATMUL, F32, 0, DIMS(2, 2, 2, 1, 1), OPS(XA, XB, XO)) },
        { "ADD dtype I8", LPU_EXEC_E_DTYPE, 0,
          mk(LPU_INSN_ADD, LPU_DT_I8, 0, DIMS(16), OPS(XA, XB, XO)) },
        { "COPY dtype F32", LPU_EXEC_E_DTYPE, 0,
          mk(LPU_INSN_COPY, F32, 0, DIMS(16), OPS(XA, XO)) },
        { "MATMUL dtype I32", LPU_EXEC_E_DTYPE, 0,
          mk(LPU_INSN_MATMUL, LPU_DT_I32, 0, DIMS(2, 2, 2, 1),
             OPS(XA, XB, XO)) },
        { "MATMUL dtype 0", LPU_EXEC_E_DTYPE, 0,
          mk(LPU_INSN_MATMUL, 0, 0, DIMS(2, 2, 2, 1), OPS(XA, XB, XO)) },
        { "dtype 200", LPU_EXEC_E_DTYPE, 0,
          mk(LPU_INSN_SOFTMAX, 200, 0, DIMS(2, 2), OPS(XA, XO)) },
        { "ADD of 0 elements", LPU_EXEC_E_SHAPE, 0,
          mk(LPU_INSN_ADD, F32, 0, DIMS(0), OPS(XA, XB, XO)) },
        { "ADD above LPU_EXEC_MAX_DIM", LPU_EXEC_E_SHAPE, 0,
          mk(LPU_INSN_ADD, F32, 0, DIMS(LPU_EXEC_MAX_DIM + 1),
             OPS(XA, XB, XO)) },
        { "MATMUL K 0", LPU_EXEC_E_SHAPE, 0,
          mk(LPU_INSN_MATMUL, F32, 0, DIMS(2, 2, 0, 1), OPS(XA, XB, XO)) },
        { "MATMUL G 0", LPU_EXEC_E_SHAPE, 0,
          mk(LPU_INSN_MATMUL, F32, 0, DIMS(2, 2, 2, 0), OPS(XA, XB, XO)) },
        { "COPY of 0 bytes", LPU_EXEC_E_SHAPE, 0,
          mk(LPU_INSN_COPY, 0, 0, DIMS(0), OPS(XA, XO)) },
        { "COPY above LPU_COPY_MAX_SIZE", LPU_EXEC_E_SHAPE, 0,
          mk(LPU_INSN_COPY, 0, 0, DIMS(LPU_COPY_MAX_SIZE + 1), OPS(XA, XO)) },
        { "TOPK k > E", LPU_EXEC_E_SHAPE, 0,
          mk(LPU_INSN_TOPK, F32, 0, DIMS(4, 8, 9), OPS(XA, XB, XO)) },
        { "TOPK k 0", LPU_EXEC_E_SHAPE, 0,
          mk(LPU_INSN_TOPK, F32, 0, DIMS(4, 8, 0), OPS(XA, XB, XO)) },
        { "TOPK k > LPU_EXEC_MAX_TOPK", LPU_EXEC_E_SHAPE, 0,
          mk(LPU_INSN_TOPK, F32, 0, DIMS(4, 64, LPU_EXEC_MAX_TOPK + 1),
             OPS(XA, XB, XO)) },
        { "DISPATCH k > E", LPU_EXEC_E_SHAPE, 0,
          mk(LPU_INSN_DISPATCH, F32, 0, DIMS(4, 4, 2, 3, 2),
             OPS(XA, XB, XO, XR, XR + 0x8000)) },
        { "RMSNORM epsilon NaN", LPU_EXEC_E_SHAPE, 0,
          mk(LPU_INSN_RMSNORM, F32, 0, DIMS(2, 8, X_NAN), OPS(XA, XB, XO)) },
        { "RMSNORM epsilon -1", LPU_EXEC_E_SHAPE, 0,
          mk(LPU_INSN_RMSNORM, F32, 0, DIMS(2, 8, X_MINUS1),
             OPS(XA, XB, XO)) },
        { "RMSNORM epsilon infinite", LPU_EXEC_E_SHAPE, 0,
          mk(LPU_INSN_RMSNORM, F32, 0, DIMS(2, 8, X_INF), OPS(XA, XB, XO)) },
        { "MATMUL of 2^40 MACs", LPU_EXEC_E_LIMIT, 0,
          mk(LPU_INSN_MATMUL, F32, 0, DIMS(1024, 1024, 1024, 1024),
             OPS(XA, XB, XO)) },
        { "EXPERT_FFN of 3 * 2^36 MACs", LPU_EXEC_E_LIMIT, 0,
          mk(LPU_INSN_EXPERT_FFN, LPU_DT_I8, 0, DIMS(1, 1 << 16, 1024, 1024),
             OPS(XA, XB, XO, XR)) },
        { "EXPERT_FFN H * F above LPU_EXEC_MAX_FFN_HF", LPU_EXEC_E_LIMIT, 0,
          mk(LPU_INSN_EXPERT_FFN, LPU_DT_I8, 0, DIMS(1, 1, 4096, 1025),
             OPS(XA, XB, XO, XR)) },
        { "EXPERT_FFN H * F above the limit, F32, one slot",
          LPU_EXEC_E_LIMIT, 0,
          mk(LPU_INSN_EXPERT_FFN, F32, 0, DIMS(1, 1, 1 << 20, 5),
             OPS(XA, XB, XO, XR)) },
        { "ADD op[1] misaligned", LPU_EXEC_E_ALIGN, 0,
          mk(LPU_INSN_ADD, F32, 0, DIMS(16), OPS(XA, XB + 4, XO)) },
        { "COPY destination misaligned", LPU_EXEC_E_ALIGN, 0,
          mk(LPU_INSN_COPY, 0, 0, DIMS(16), OPS(XA, XO + 1)) },
        { "ADD operand in a host segment", LPU_EXEC_E_OPERAND, 1,
          mk(LPU_INSN_ADD, F32, 0, DIMS(16), OPS(XA, VA(3), XO)) },
        { "MATMUL output in a host segment", LPU_EXEC_E_OPERAND, 2,
          mk(LPU_INSN_MATMUL, F32, 0, DIMS(2, 2, 2, 1), OPS(XA, XB, VA(3))) },
        { "ADD operand not mapped", LPU_EXEC_E_OPERAND, 2,
          mk(LPU_INSN_ADD, F32, 0, DIMS(16), OPS(XA, XB, VA(6))) },
        { "ADD operand at 0", LPU_EXEC_E_OPERAND, 0,
          mk(LPU_INSN_ADD, F32, 0, DIMS(16), OPS(0, XB, XO)) },
        { "ADD output past its segment's end", LPU_EXEC_E_OPERAND, 2,
          mk(LPU_INSN_ADD, F32, 0, DIMS(32), OPS(XA, XB, VA(2) + MiB - 64)) },
        { "COPY into the next segment", LPU_EXEC_E_OPERAND, 0,
          mk(LPU_INSN_COPY, 0, 0, DIMS(128), OPS(VA(3) + 256 * KiB - 64,
                                                 XO)) },
        { "RMSNORM of 4 TiB", LPU_EXEC_E_OPERAND, 0,
          mk(LPU_INSN_RMSNORM, F32, 0, DIMS(1 << 20, 1 << 20, 0),
             OPS(XA, XB, XO)) },
        { "I8 weights run past the segment", LPU_EXEC_E_OPERAND, 1,
          mk(LPU_INSN_MATMUL, LPU_DT_I8, 0, DIMS(1, 1024, 1024, 1),
             OPS(XA, VA(2) + 1024, XO)) },
        { "ADD output overlaps an input", LPU_EXEC_E_ALIAS, 0,
          mk(LPU_INSN_ADD, F32, 0, DIMS(32), OPS(XA, XB, XA + 64)) },
        { "MATMUL output is its input", LPU_EXEC_E_ALIAS, 0,
          mk(LPU_INSN_MATMUL, F32, 0, DIMS(4, 4, 4, 1), OPS(XA, XB, XA)) },
        { "ADD output overlaps through another segment", LPU_EXEC_E_ALIAS, 0,
          mk(LPU_INSN_ADD, F32, 0, DIMS(32), OPS(XA, XB,
                                                 VA(5) + 0x10000 + 64)) },
        { "TOPK index and weight overlap", LPU_EXEC_E_ALIAS, 0,
          mk(LPU_INSN_TOPK, F32, 0, DIMS(16, 8, 2), OPS(XA, XB, XB + 64)) },
        { "DISPATCH xe overlaps the routing table", LPU_EXEC_E_ALIAS, 0,
          mk(LPU_INSN_DISPATCH, F32, 0, DIMS(4, 8, 2, 2, 2),
             OPS(XA, XB, XB + 64, XR, XR + 64)) },
        { "COMBINE output overlaps ye", LPU_EXEC_E_ALIAS, 0,
          mk(LPU_INSN_COMBINE, F32, 0, DIMS(4, 8, 2, 2),
             OPS(XA, XB, XA + 64)) },
        { "COPY ranges overlap", LPU_EXEC_E_ALIAS, 0,
          mk(LPU_INSN_COPY, 0, 0, DIMS(128), OPS(XA, XA + 64)) },
        { "COPY ranges overlap in SRAM through another segment",
          LPU_EXEC_E_ALIAS, 0,
          mk(LPU_INSN_COPY, 0, 0, DIMS(128), OPS(XA, VA(5) + 0x10000 + 64)) },
        { "COPY onto itself through another segment", LPU_EXEC_E_ALIAS, 0,
          mk(LPU_INSN_COPY, 0, 0, DIMS(64), OPS(VA(5) + 0x10000, XA)) },
        { "EXPERT_FFN output overlaps the routing table", LPU_EXEC_E_ALIAS, 0,
          mk(LPU_INSN_EXPERT_FFN, F32, 0, DIMS(1, 2, 4, 4),
             OPS(XA, XB, XB + 0x1000, XR, XR)) },
    };
    Exec x;
    union lpu_desc d;
    struct lpu_insn prog[2];
    unsigned i;
    int32_t idx[8] = { 0, 1, 1, 0, 1, 2, 0, 0 };  /* 2 is out of range */
    int32_t token[8] = { 0, 1, 2, -1, 3, -1, -1, -1 };

    exec_start(&x);
    buf_fill(&x.l, &x.host, 5);
    x.next = 0x50000;
    qtest_memset(x.l.qts, x.sram, 0x3c, x.next);

    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        g_test_message("refused: %s", bad[i].name);
        /* A good instruction first: it must not run either. */
        prog[0] = mk(LPU_INSN_ADD, F32, 0, DIMS(16), OPS(XA, XB, XO));
        prog[1] = bad[i].insn;
        x_put(&x, VA(1) + X_PROG, prog, sizeof(prog));
        exec_desc(&x, &d, 2);
        exec_refused(&x, &d, 1, bad[i].reason,
                     le64_to_cpu(bad[i].insn.op[bad[i].fault_op]), false);
    }

    g_test_message("refused: instruction 0 of 1");
    prog[0] = bad[0].insn;
    x_put(&x, VA(1) + X_PROG, prog, LPU_INSN_SIZE);
    exec_desc(&x, &d, 1);
    exec_refused(&x, &d, 0, LPU_EXEC_E_OPCODE, 0, false);

    /* The descriptor itself: LPU_EXEC_INSN_NONE. */
    prog[0] = mk(LPU_INSN_ADD, F32, 0, DIMS(16), OPS(XA, XB, XO));
    x_put(&x, VA(1) + X_PROG, prog, LPU_INSN_SIZE);
    for (i = 0; i < 11; i++) {
        static const char *const what[] = {
            "insn_count 0", "insn_count above LPU_EXEC_MAX_INSNS",
            "seg_count 0", "seg_count above LPU_MAX_SEGMENTS",
            "program misaligned", "stats misaligned", "program not mapped",
            "program runs past its segment", "stats not mapped",
            "stats at the very end of a segment", "reserved field",
        };

        g_test_message("refused descriptor: %s", what[i]);
        exec_desc(&x, &d, 1);
        switch (i) {
        case 0:
            d.exec.insn_count = 0;
            break;
        case 1:
            d.exec.insn_count = cpu_to_le32(LPU_EXEC_MAX_INSNS + 1);
            break;
        case 2:
            d.exec.seg_count = 0;
            break;
        case 3:
            d.exec.seg_count = cpu_to_le32(LPU_MAX_SEGMENTS + 1);
            break;
        case 4:
            d.exec.program = cpu_to_le64(VA(1) + X_PROG + 32);
            break;
        case 5:
            d.exec.stats = cpu_to_le64(VA(1) + X_STATS + 8);
            break;
        case 6:
            d.exec.program = cpu_to_le64(VA(6));
            break;
        case 7:
            d.exec.program = cpu_to_le64(VA(2) + MiB - 64);
            d.exec.insn_count = cpu_to_le32(2);
            break;
        case 8:
            d.exec.stats = cpu_to_le64(VA(4));
            break;
        case 9:
            d.exec.stats = cpu_to_le64(VA(2) + MiB);
            break;
        default:
            d.exec.rsvd2[2] = cpu_to_le64(1);
            break;
        }
        exec_refused(&x, &d, LPU_EXEC_INSN_NONE, LPU_EXEC_E_PROGRAM, 0,
                     false);
    }

    /*
     * Indices read from memory are checked as the program runs: the
     * instructions before ran, the faulty one wrote nothing.
     */
    g_test_message("DISPATCH index out of range");
    x_put(&x, XB, idx, sizeof(idx));
    prog[0] = mk(LPU_INSN_ADD, F32, 0, DIMS(16), OPS(XA, XA, XO));
    prog[1] = mk(LPU_INSN_DISPATCH, F32, 0, DIMS(4, 4, 2, 2, 2),
                 OPS(XA, XB, XA, XR, XR + 0x1000));
    x_put(&x, VA(1) + X_PROG, prog, sizeof(prog));
    exec_desc(&x, &d, 2);
    {
        g_autofree uint8_t *rt = g_malloc(0x2000);
        g_autofree uint8_t *now = g_malloc(0x2000);

        qtest_bufread(x.l.qts, x.sram + 0x40000, rt, 0x2000);
        exec_refused(&x, &d, 1, LPU_EXEC_E_INDEX, 0, true);
        qtest_bufread(x.l.qts, x.sram + 0x40000, now, 0x2000);
        g_assert(!memcmp(rt, now, 0x2000));
    }
    g_test_message("COMBINE token out of range");
    x_put(&x, XB, token, sizeof(token));
    prog[1] = mk(LPU_INSN_COMBINE, F32, 0, DIMS(3, 4, 4, 2),
                 OPS(XA, XB, XR));
    x_put(&x, VA(1) + X_PROG, prog, sizeof(prog));
    {
        g_autofree uint8_t *out = g_malloc(48);
        g_autofree uint8_t *now = g_malloc(48);

        qtest_bufread(x.l.qts, x.sram + 0x40000, out, 48);
        exec_refused(&x, &d, 1, LPU_EXEC_E_INDEX, 0, true);
        qtest_bufread(x.l.qts, x.sram + 0x40000, now, 48);
        g_assert(!memcmp(out, now, 48));
    }
    g_test_message("... and with tokens in range it runs");
    token[2] = 1;
    token[4] = 0;
    x_put(&x, XB, token, sizeof(token));
    exec_run(&x, prog, 2);
    g_assert_cmpuint(rd(&x.l, LPU_REG_ERROR_COUNT), ==,
                     ARRAY_SIZE(bad) + 1 + 11 + 2);
    exec_stop(&x);
}

/*
 * I8 products whose partial sums reach 1032 * 127 * 128: every activation
 * quantises to +-127 and the weights are -128 (some -127, so that sums
 * are odd). Exact at K = 1032 in one GEMM, and above it in slices.
 */
static void exec_i8_extreme_case(Exec *x, size_t k)
{
    const size_t m = 3, n = 4;
    g_autofree float *a = g_new(float, m * k);
    g_autofree float *want = g_new(float, m * n);
    g_autofree float *got = NULL;
    struct lpu_insn prog[1];
    uint64_t va, vw, vo;
    Weights w;
    size_t i;

    g_test_message("MATMUL I8 with -128 weights, K %zu", k);
    x->next = 0;
    for (i = 0; i < m * k; i++) {
        /* Row 0 all 127, row 1 all -127, row 2 127 but one 0. */
        a[i] = i / k == 1 ? -3.0f : 3.0f;
    }
    a[2 * k + k / 2] = 0;
    weights_new(x, &w, LPU_DT_I8, 1, n, k);
    for (i = 0; i < n * k; i++) {
        /* Row 0 all -128; the others have an odd number of -127. */
        w.i8[i] = i / k == 0 || (i % k) % (i / k + 1) ? -128 : -127;
    }
    for (i = 0; i < n; i++) {
        w.scale[i] = 1.0f;
    }
    va = x_tensor(x, a, m * k);
    vw = weights_put(x, &w);
    vo = x_new(x, m * n * 4);
    prog[0] = mk(LPU_INSN_MATMUL, LPU_DT_I8, 0, DIMS(m, n, k, 1),
                 OPS(va, vw, vo));
    exec_run(x, prog, 1);
    ref_matmul(&w, 0, a, m, want, NULL);
    got = x_read(x, vo, m * n);
    check_close(LPU_DT_I8, got, want, NULL, m * n, "out");
    weights_free(&w);
}

static void test_exec_i8_extreme(void)
{
    static const size_t ks[] = { 1032, 1033, 1040, 2064, 2065 };
    Exec x;
    size_t i;

    exec_start(&x);
    for (i = 0; i < ARRAY_SIZE(ks); i++) {
        exec_i8_extreme_case(&x, ks[i]);
    }
    exec_stop(&x);
}

/*
 * The engine's chunk plan (lpu-v3-plan.h) for the largest shapes the
 * rules allow: no chunk does more work than one step of the engine, the
 * chunks cover the instruction, and the last one is not empty. The work
 * of a chunk is counted here from lpu-v3-plan.h's units, independently of
 * the plan's own helpers.
 */
static void plan_check(uint8_t opcode, unsigned dtype, const uint32_t *d)
{
    const uint64_t step = LPU_V3_EXEC_STEP_WORK, ew = LPU_V3_EXEC_ELEM_WORK;
    uint64_t wk = dtype != LPU_DT_F32 ? 1 : 0, qk = dtype == LPU_DT_I8;
    uint64_t work = 0, m = 0, n, e, c, pairs;
    LpuV3Plan p;

    lpu_v3_plan_dims(opcode, dtype, d, &p);
    g_assert_cmpuint(p.rows, >=, 1);
    g_assert_cmpuint(p.cols, >=, 1);
    switch (opcode) {
    case LPU_INSN_COPY:
        m = d[0];
        work = p.rows * LPU_V3_EXEC_BYTE_WORK;
        break;
    case LPU_INSN_MATMUL:
        m = d[0];
        n = d[1];
        g_assert(p.cols == n || p.rows == 1);
        g_assert_cmpuint(p.cols, <=, n);
        g_assert_cmpuint((p.col_chunks - 1) * p.cols, <, n);
        g_assert_cmpuint(p.col_chunks * p.cols, >=, n);
        g_assert_cmpuint(p.chunks, ==, d[3] * p.row_chunks * p.col_chunks);
        work = p.rows * p.cols * d[2] + wk * p.cols * d[2] +
               qk * p.rows * d[2];
        break;
    case LPU_INSN_EXPERT_FFN:
        m = d[1];
        g_assert_cmpuint(p.chunks, ==, d[0] * p.row_chunks);
        /* Two products, quantising x and act rows, silu of act. */
        work = p.rows * (3ULL * d[2] * d[3] + qk * (d[2] + d[3]) +
                         ew * d[3]);
        /* Widening W13_g and W2_g is a step of its own. */
        g_assert_cmpuint(wk * 3ULL * d[2] * d[3], <=, step);
        break;
    case LPU_INSN_ADD:
    case LPU_INSN_SILU:
        m = d[0];
        work = p.rows * ew;
        break;
    case LPU_INSN_RMSNORM:
        m = d[0];
        work = p.rows * d[1] * ew;
        break;
    case LPU_INSN_TOPK:
        /*
         * A row's scores, then its ranking: a heap of k, so at most
         * 1 + 2 * (bit length of k) comparisons per element, and two
         * scans for the lowest free index.
         */
        m = d[0];
        for (n = 0; d[2] >> n; n++) {
            continue;
        }
        work = p.rows * d[1] * (ew + 3 + 2 * n);
        break;
    case LPU_INSN_DISPATCH:
    case LPU_INSN_COMBINE:
        e = d[2];
        c = opcode == LPU_INSN_DISPATCH ? d[4] : d[3];
        pairs = opcode == LPU_INSN_DISPATCH ? (uint64_t)d[0] * d[3] : 0;
        m = e * c;
        g_assert_cmpuint(p.entries * ew, <=, step);
        g_assert_cmpuint(p.check_chunks * p.entries, >=,
                         pairs ? pairs : m);
        g_assert_cmpuint(p.assign_chunks * p.entries, >=, pairs);
        g_assert_cmpuint(p.init_chunks * p.entries, >=,
                         pairs ? 2 * m + 2 * e : 0);
        g_assert_cmpuint(p.chunks, ==, p.check_chunks + p.init_chunks +
                         p.assign_chunks + p.row_chunks);
        work = p.rows * d[1] * ew;
        break;
    default:
        g_assert_not_reached();
    }
    if (opcode != LPU_INSN_MATMUL && opcode != LPU_INSN_EXPERT_FFN &&
        opcode != LPU_INSN_DISPATCH && opcode != LPU_INSN_COMBINE) {
        g_assert_cmpuint(p.chunks, ==, p.row_chunks);
    }
    g_assert_cmpuint(p.rows, <=, m);
    g_assert_cmpuint(p.row_chunks * p.rows, >=, m);
    g_assert_cmpuint((p.row_chunks - 1) * p.rows, <, m);
    if (work > step) {
        g_test_message("opcode 0x%x dtype %u dims %u %u %u %u %u: a chunk "
                       "of %" PRIu64 " units", opcode, dtype, d[0], d[1],
                       d[2], d[3], d[4], work);
        g_assert_not_reached();
    }
}

static void test_exec_plan_bounds(void)
{
    static const uint32_t sizes[] = {
        1, 3, 1024, 1032, 4096, 65535, LPU_EXEC_MAX_DIM
    };
    const uint32_t max = LPU_EXEC_MAX_DIM;
    unsigned dt, i, j, l;

    for (dt = LPU_DT_F32; dt <= LPU_DT_I8; dt++) {
        for (i = 0; i < ARRAY_SIZE(sizes); i++) {
            for (j = 0; j < ARRAY_SIZE(sizes); j++) {
                for (l = 0; l < ARRAY_SIZE(sizes); l++) {
                    plan_check(LPU_INSN_MATMUL, dt,
                               DIMS(sizes[i], sizes[j], sizes[l], 1));
                }
            }
        }
        /* EXPERT_FFN: every split of H * F = LPU_EXEC_MAX_FFN_HF. */
        for (i = 2; i <= 20; i++) {
            uint32_t h = 1u << i, f = LPU_EXEC_MAX_FFN_HF / h;

            for (j = 0; j < ARRAY_SIZE(sizes); j++) {
                plan_check(LPU_INSN_EXPERT_FFN, dt,
                           DIMS(64, sizes[j], h, f));
                plan_check(LPU_INSN_EXPERT_FFN, dt,
                           DIMS(1, sizes[j], h - 1, f));
            }
        }
    }
    for (i = 0; i < ARRAY_SIZE(sizes); i++) {
        plan_check(LPU_INSN_ADD, F32, DIMS(sizes[i]));
        plan_check(LPU_INSN_SILU, F32, DIMS(sizes[i]));
        for (j = 0; j < ARRAY_SIZE(sizes); j++) {
            plan_check(LPU_INSN_RMSNORM, F32, DIMS(sizes[i], sizes[j], 0));
            plan_check(LPU_INSN_TOPK, F32,
                       DIMS(sizes[i], sizes[j],
                            MIN(sizes[j], LPU_EXEC_MAX_TOPK)));
            plan_check(LPU_INSN_DISPATCH, F32,
                       DIMS(max, sizes[i], sizes[j], MIN(sizes[j], 32),
                            sizes[i]));
            plan_check(LPU_INSN_COMBINE, F32,
                       DIMS(max, sizes[i], sizes[j], sizes[i]));
        }
    }
    plan_check(LPU_INSN_COPY, 0, DIMS(1));
    plan_check(LPU_INSN_COPY, 0, DIMS(LPU_COPY_MAX_SIZE));
    /* A table chunk, elementwise or row block covers all it can. */
    {
        LpuV3Plan p;

        lpu_v3_plan_dims(LPU_INSN_ADD, F32, DIMS(max), &p);
        g_assert_cmpuint(p.chunks, ==, 1);
        lpu_v3_plan_dims(LPU_INSN_DISPATCH, F32, DIMS(max, 1, 32, 32, 1),
                         &p);
        g_assert_cmpuint(p.check_chunks, ==, 16);
        g_assert_cmpuint(p.assign_chunks, ==, 16);
        g_assert_cmpuint(p.init_chunks, ==, 1);
    }
}

/* An EXEC whose segment table maps SRAM at base @base. */
static void exec_seg_base_case(Exec *x, uint64_t base, uint32_t want)
{
    Lpu *l = &x->l;
    uint32_t errors = rd(l, LPU_REG_ERROR_COUNT);
    struct lpu_segment segs[4];
    struct lpu_insn prog[1];
    struct lpu_fence_record rec;
    union lpu_desc d;
    uint64_t table;

    g_test_message("SRAM segment base 0x%" PRIx64, base);
    segs[0] = sram_seg(VA(1), 64 * MiB, 0);
    segs[1] = sram_seg(VA(2), MiB, base);
    segs[2] = x->host.seg;
    segs[3] = sram_seg(VA(5), MiB, 0);
    table = table_put(l, segs, 4);
    prog[0] = mk(LPU_INSN_ADD, F32, 0, DIMS(16), OPS(XA, XB, VA(2)));
    x_put(x, VA(1) + X_PROG, prog, sizeof(prog));
    qtest_memset(l->qts, x->sram + X_STATS, 0xff, LPU_EXEC_STATS_SIZE);
    exec_desc(x, &d, 1);
    d.exec.seg_table = cpu_to_le64(table);
    qtest_memset(l->qts, x->r.fence, 0, x->r.count * LPU_FENCE_RECORD_SIZE);
    x->r.tail = 0;
    qwr(l, x->r.q, LPU_Q_CTRL, LPU_Q_CTRL_RESET | LPU_Q_CTRL_ENABLE);
    put_desc(l, &x->r, &d);
    put_fence(l, &x->r, 0, 0x77, 0);
    ring_doorbell(l, &x->r);
    step(l, 100000);
    if (want == LPU_ERR_OK) {
        g_assert_cmphex(qrd(l, x->r.q, LPU_Q_STATUS), ==,
                        LPU_Q_STATUS_ENABLED);
        read_fence(l, &x->r, 0, &rec);
        g_assert_cmphex(rec.seq, ==, 0x77);
        return;
    }
    assert_halted(l, &x->r, want, 0, errors + 1);
    read_fence(l, &x->r, 0, &rec);
    g_assert_cmphex(rec.seq, ==, 0);
    qwr(l, x->r.q, LPU_Q_CTRL, LPU_Q_CTRL_RESET | LPU_Q_CTRL_ENABLE);
    wr(l, LPU_REG_ERROR_ACK, 1);
    wr(l, LPU_REG_IRQ_STATUS, LPU_IRQ_ALL);
}

/*
 * An SRAM segment's base must be page aligned (else operands could be
 * misaligned in SRAM although aligned in device address space).
 */
static void test_exec_seg_base(void)
{
    Exec x;

    exec_start(&x);
    exec_seg_base_case(&x, 1, LPU_ERR_SEG_TABLE);
    exec_seg_base_case(&x, 4, LPU_ERR_SEG_TABLE);
    exec_seg_base_case(&x, X_SRAM2 + 64, LPU_ERR_SEG_TABLE);
    exec_seg_base_case(&x, X_SRAM2 + PAGE, LPU_ERR_OK);
    exec_stop(&x);
}

/*
 * DISPATCH and COMBINE of more (token, rank) pairs than one table chunk
 * takes: the result is that of one pass, and an index out of range in the
 * last chunk is found before anything is written.
 */
static void test_exec_dispatch_table_chunks(void)
{
    enum { T = 65600, H = 1, E = 32, K = 32, C = 80 };
    Exec x;
    union lpu_desc d;
    g_autofree float *xin = NULL;
    g_autofree float *w = NULL;
    g_autofree float *out0 = NULL;
    g_autofree int32_t *idx = g_new(int32_t, T * K);
    g_autofree int32_t *rt = g_new(int32_t, LPU_ROUTING_SIZE(E, C) / 4);
    g_autofree int32_t *want_rt = g_new(int32_t, LPU_ROUTING_SIZE(E, C) / 4);
    g_autofree float *want = NULL;
    g_autofree float *got = NULL;
    int32_t *token = want_rt, *load = want_rt + 2 * E * C;
    int32_t *dropped = load + E;
    float *slot_w = (float *)want_rt + E * C;
    struct lpu_insn prog[2];
    uint64_t vx, vi, vw, vxe, vrt, vout;
    unsigned i, t, e;

    g_assert_cmpuint((uint64_t)T * K, >, LPU_V3_PLAN_ENTRIES);
    exec_start(&x);
    xin = x_floats(&x, T * H, 1.0f);
    w = x_floats(&x, T * K, 1.0f);
    out0 = x_floats(&x, T * H, 1.0f);
    for (i = 0; i < T * K; i++) {
        idx[i] = (i * 7 + i / 3) % E;
    }
    vx = x_tensor(&x, xin, T * H);
    vi = x_new(&x, T * K * 4);
    x_put(&x, vi, idx, T * K * 4);
    vw = x_tensor(&x, w, T * K);
    vxe = x_new(&x, E * C * H * 4);
    vrt = x_new(&x, LPU_ROUTING_SIZE(E, C));
    vout = x_tensor(&x, out0, T * H);
    prog[0] = mk(LPU_INSN_DISPATCH, F32, 0, DIMS(T, H, E, K, C),
                 OPS(vx, vi, vw, vxe, vrt));
    prog[1] = mk(LPU_INSN_COMBINE, F32, 0, DIMS(T, H, E, C),
                 OPS(vxe, vrt, vout));

    g_test_message("index out of range in the last table chunk");
    x_put(&x, vi + (T * K - 1) * 4, &(int32_t){ E }, 4);
    x_put(&x, VA(1) + X_PROG, prog, sizeof(prog));
    exec_desc(&x, &d, 2);
    exec_refused(&x, &d, 0, LPU_EXEC_E_INDEX, 0, false);
    x_put(&x, vi + (T * K - 1) * 4, &idx[T * K - 1], 4);

    g_test_message("%u pairs dispatched and combined", T * K);
    exec_run(&x, prog, 2);
    memset(want_rt, 0, LPU_ROUTING_SIZE(E, C));
    for (i = 0; i < E * C; i++) {
        token[i] = -1;
    }
    for (i = 0; i < T * K; i++) {
        e = idx[i];
        if (load[e] < C) {
            token[e * C + load[e]] = i / K;
            slot_w[e * C + load[e]] = w[i];
        } else {
            dropped[e]++;
        }
        load[e]++;
    }
    x_get(&x, vrt, rt, LPU_ROUTING_SIZE(E, C));
    g_assert(!memcmp(rt, want_rt, LPU_ROUTING_SIZE(E, C)));
    want = g_memdup2(out0, T * H * 4);
    for (i = 0; i < E * C; i++) {
        t = token[i];
        if (token[i] >= 0) {
            float p = slot_w[i] * xin[t * H];

            want[t * H] = want[t * H] + p;
        }
    }
    got = x_read(&x, vout, T * H);
    check_exact(got, want, T * H, "combine");
    exec_stop(&x);
}

/* ---- long programs: reset, migration, determinism ---------------------- */

/*
 * Six I8 MATMULs of 2^25 multiply-accumulates each: one timer callback
 * each, so a program stopped after a few callbacks has written some
 * outputs and not others. I8 results are exact, so they are checked
 * against the reference bit for bit.
 */
#define LONG_INSNS          6
#define LONG_M              128
#define LONG_N              512
#define LONG_K              512

typedef struct LongProg {
    Weights w;
    float *a;
    uint64_t va, vw, vo[LONG_INSNS];
    struct lpu_insn prog[LONG_INSNS];
    float *want;                /* [LONG_INSNS][M][N] */
} LongProg;

static void long_prog(Exec *x, LongProg *p)
{
    unsigned i;

    x->next = 0;
    x->seed = 77;
    p->a = x_floats(x, LONG_INSNS * LONG_M * LONG_K, 4.0f);
    weights_new(x, &p->w, LPU_DT_I8, 1, LONG_N, LONG_K);
    p->va = x_tensor(x, p->a, LONG_INSNS * LONG_M * LONG_K);
    p->vw = weights_put(x, &p->w);
    p->want = g_new(float, LONG_INSNS * LONG_M * LONG_N);
    for (i = 0; i < LONG_INSNS; i++) {
        p->vo[i] = x_new(x, LONG_M * LONG_N * 4);
        p->prog[i] = mk(LPU_INSN_MATMUL, LPU_DT_I8, 0,
                        DIMS(LONG_M, LONG_N, LONG_K, 1),
                        OPS(p->va + i * LONG_M * LONG_K * 4, p->vw,
                            p->vo[i]));
        ref_matmul(&p->w, 0, p->a + i * LONG_M * LONG_K, LONG_M,
                   p->want + i * LONG_M * LONG_N, NULL);
    }
}

/* Back to the fill pattern. */
static void long_reset(Exec *x, const LongProg *p)
{
    unsigned i;

    for (i = 0; i < LONG_INSNS; i++) {
        qtest_memset(x->l.qts, x->sram + x_sram(p->vo[i]), 0xee,
                     LONG_M * LONG_N * 4);
    }
}

static void long_free(LongProg *p)
{
    weights_free(&p->w);
    g_free(p->a);
    g_free(p->want);
}

/*
 * How many outputs hold their final values; the others must still hold
 * the fill pattern, entirely or (the one being computed) in part.
 */
static unsigned long_done(Exec *x, const LongProg *p)
{
    const size_t n = LONG_M * LONG_N;
    g_autofree float *got = g_new(float, n);
    unsigned i, done = 0;

    for (i = 0; i < LONG_INSNS; i++) {
        x_get(x, p->vo[i], got, n * 4);
        if (!memcmp(got, p->want + i * n, n * 4)) {
            done++;
        }
    }
    return done;
}

/* Is the last output untouched (all fill pattern)? */
static bool long_last_untouched(Exec *x, const LongProg *p)
{
    const size_t n = LONG_M * LONG_N * 4;
    g_autofree uint8_t *got = g_malloc(n);
    size_t i;

    x_get(x, p->vo[LONG_INSNS - 1], got, n);
    for (i = 0; i < n; i++) {
        if (got[i] != 0xee) {
            return false;
        }
    }
    return true;
}

static void test_exec_reset_mid_program(void)
{
    Exec x;
    LongProg p;
    uint8_t stats[LPU_EXEC_STATS_SIZE];
    unsigned done, pass;

    exec_start(&x);
    long_prog(&x, &p);
    for (pass = 0; pass < 2; pass++) {
        g_test_message("%s reset", pass ? "queue" : "device");
        long_reset(&x, &p);
        exec_submit(&x, p.prog, LONG_INSNS);
        put_fence(&x.l, &x.r, 0, 1, 0);
        ring_doorbell(&x.l, &x.r);
        step(&x.l, 1);
        done = long_done(&x, &p);
        g_assert_cmpuint(done, >, 0);
        g_assert_cmpuint(done, <, LONG_INSNS);
        g_assert(long_last_untouched(&x, &p));
        if (pass) {
            qwr(&x.l, x.r.q, LPU_Q_CTRL, LPU_Q_CTRL_RESET);
        } else {
            wr(&x.l, LPU_REG_RESET, LPU_RESET_MAGIC);
        }
        step(&x.l, 10 * ref_cycles(p.prog, LONG_INSNS));
        g_assert_cmpuint(long_done(&x, &p), ==, done);
        g_assert(long_last_untouched(&x, &p));
        g_assert(fence_area_zero(&x.l, &x.r));
        x_get(&x, VA(1) + X_STATS, stats, sizeof(stats));
        g_assert(stats[0] == 0xff && !memcmp(stats, stats + 1,
                                             sizeof(stats) - 1));
        if (!pass) {
            fw_boot_ok(&x.l, &fw_good);
        }
        ring_setup(&x.l, &x.r, 1, 16, 8);
    }
    g_test_message("the next job runs normally");
    exec_run(&x, p.prog, LONG_INSNS);
    g_assert_cmpuint(long_done(&x, &p), ==, LONG_INSNS);
    long_free(&p);
    exec_stop(&x);
}

/* The EXEC state of queue 1 in the stream, from the fw_addr marker. */
#define MIG_Q_EXEC_INSN         32973
#define MIG_Q_EXEC              32981
#define MIG_EXEC_COUNT          8
#define MIG_EXEC_STATS          16
#define MIG_EXEC_CYCLES         24
#define MIG_EXEC_PC             32
#define MIG_EXEC_SUB            36
#define MIG_EXEC_SEGS           44      /* 256 of va, size, base, kind */
#define MIG_EXEC_BYTES          7212
#define MIG_EXEC_INSNS          7216
#define MIG_X(off)              (MIG_OFF_Q1 + MIG_Q_EXEC + (off))

static const BadState bad_exec_states[] = {
    { "queue 1: in-flight EXEC progress out of range",
      MIG_X(MIG_EXEC_PC), 4, LONG_INSNS + 1 },
    { "queue 1: in-flight EXEC progress out of range",
      MIG_X(MIG_EXEC_SUB), 8, 1000 },   /* a MATMUL of two chunks */
    { "queue 1: in-flight EXEC time does not match its program",
      MIG_X(MIG_EXEC_CYCLES), 8, 1, true },
    { "queue 1: in-flight EXEC program size is invalid",
      MIG_X(MIG_EXEC_COUNT), 4, LONG_INSNS - 1 },
    { "queue 1: in-flight EXEC program is invalid",
      MIG_X(MIG_EXEC_INSNS + 3 * LPU_INSN_SIZE), 1, 0x7f },
    { "queue 1: in-flight EXEC program is invalid",
      MIG_X(MIG_EXEC_INSNS + 4 * LPU_INSN_SIZE + 8), 4, 0 },
    { "queue 1: in-flight EXEC segment table is invalid",
      MIG_X(MIG_EXEC_SEGS + 24), 4, 7 },
    { "queue 1: in-flight EXEC stats record is not inside a segment",
      MIG_X(MIG_EXEC_STATS), 8, VA(6) },
    { "queue 1: EXEC program without an EXEC in flight",
      MIG_OFF_Q1 + MIG_Q_OPCODE, 1, LPU_OP_NOP },
    { "queue 0: EXEC error registers set without an EXEC error",
      MIG_OFF_Q0 + MIG_Q_EXEC_INSN, 4, 3 },
    { "units_per_cycle not 1 to", 0, 4, 0 },   /* offset set below */
};

/* A stream whose program size field claims 4 GiB fails to load. */
static void copy_and_load_fails(Exec *x, const uint8_t *buf, size_t len,
                                size_t off, const char *badpath,
                                const char *errpath)
{
    g_autofree uint8_t *copy = g_memdup2(buf, len);
    Lpu dst;

    be_put(copy + off, 4, 0xffffffc0);
    g_assert(g_file_set_contents(badpath, (char *)copy, len, NULL));
    g_assert_false(migrate_from_file(&dst, &x->l, badpath, errpath));
    g_assert_cmphex(rd(&dst, LPU_REG_ID), ==, LPU_ID_MAGIC);
    lpu_stop(&dst);
}

/*
 * Streams with a program in flight that the device could not have saved
 * are refused; the one saved at @path (an EXEC on queue 1, part done)
 * loads.
 */
static void exec_migrate_invalid(Exec *x, const char *path,
                                 const char *errpath)
{
    g_autofree char *badpath = g_strdup_printf("%s.bad", path);
    g_autofree uint8_t *buf = NULL;
    size_t len, at, cost_at;
    unsigned i;
    Lpu dst;

    g_assert(g_file_get_contents(path, (char **)&buf, &len, NULL));
    at = find_marker(buf, len);
    g_assert_cmpuint(buf[at + MIG_OFF_Q1 + MIG_Q_OPCODE], ==, LPU_OP_EXEC);
    g_assert_cmpuint(be_get(buf + at + MIG_X(MIG_EXEC_COUNT), 4), ==,
                     LONG_INSNS);
    g_assert_cmpuint(be_get(buf + at + MIG_X(MIG_EXEC_BYTES), 4), ==,
                     LONG_INSNS * LPU_INSN_SIZE);
    g_assert_cmpuint(buf[at + MIG_X(MIG_EXEC_INSNS)], ==, LPU_INSN_MATMUL);
    /* The cost table closes the section: base[14], then rate[14]. */
    cost_at = MIG_OFF_SCRUB + LONG_INSNS * LPU_INSN_SIZE + MIG_SCRUB_END + 8 +
              LPU_COST_COUNT * 4;
    g_assert_cmpuint(be_get(buf + at + cost_at, 4), ==, 32);

    for (i = 0; i < ARRAY_SIZE(bad_exec_states); i++) {
        const BadState *b = &bad_exec_states[i];
        size_t off = b->offset ? b->offset : cost_at;
        g_autofree uint8_t *copy = g_memdup2(buf, len);
        g_autofree char *err = NULL;

        g_test_message("invalid state: %s", b->message);
        be_put(copy + at + off, b->size, b->value +
               (b->add ? be_get(buf + at + off, b->size) : 0));
        g_assert(g_file_set_contents(badpath, (char *)copy, len, NULL));
        g_assert_false(migrate_from_file(&dst, &x->l, badpath, errpath));
        g_assert_cmphex(rd(&dst, LPU_REG_ID), ==, LPU_ID_MAGIC);
        g_assert_cmphex(qrd(&dst, 1, LPU_Q_STATUS), ==, 0);
        lpu_stop(&dst);
        g_assert(g_file_get_contents(errpath, &err, NULL, NULL));
        g_assert_nonnull(strstr(err, "lpu-v3: invalid migration state: "));
        g_assert_nonnull(strstr(err, b->message));
    }

    g_test_message("invalid state: program larger than any");
    copy_and_load_fails(x, buf, len, at + MIG_X(MIG_EXEC_BYTES), badpath,
                        errpath);
    unlink(badpath);
}

static void test_exec_migrate_mid_program(void)
{
    g_autofree char *dir = g_dir_make_tmp("lpu-v3-migrate-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "stream", NULL);
    g_autofree char *errpath = g_build_filename(dir, "stderr", NULL);
    Exec x;
    Lpu dst;
    LongProg p;
    struct lpu_fence_record rec;
    struct lpu_exec_stats st;
    uint64_t cycles;
    unsigned done;
    int64_t db;

    exec_start(&x);
    wr(&x.l, LPU_REG_FW_ADDR_LO, (uint32_t)MIG_MARK_FW_ADDR);
    wr(&x.l, LPU_REG_FW_ADDR_HI, MIG_MARK_FW_ADDR >> 32);
    long_prog(&x, &p);
    cycles = ref_cycles(p.prog, LONG_INSNS);
    exec_submit(&x, p.prog, LONG_INSNS);
    put_fence(&x.l, &x.r, 0, 0x4d, 0);
    db = ring_doorbell(&x.l, &x.r);
    step(&x.l, 1);
    done = long_done(&x, &p);
    g_assert_cmpuint(done, >, 0);
    g_assert_cmpuint(done, <, LONG_INSNS);
    migrate_to_file(&x.l, path);

    g_assert_true(migrate_from_file(&dst, &x.l, path, errpath));
    lpu_stop(&x.l);
    x.l = dst;
    g_assert_cmphex(qrd(&x.l, 1, LPU_Q_STATUS), ==,
                    LPU_Q_STATUS_ENABLED | LPU_Q_STATUS_BUSY);
    /* Loading stepped the clock by 1 ns: the engine went on from there. */
    g_assert_cmpuint(long_done(&x, &p), >=, done);
    step(&x.l, db + cycles + FENCE_NS + 10 - x.l.now);
    read_fence(&x.l, &x.r, 0, &rec);
    g_assert_cmphex(rec.seq, ==, 0x4d);
    g_assert_cmpint(rec.complete_ns, ==, db + cycles + FENCE_NS);
    g_assert_cmpuint(long_done(&x, &p), ==, LONG_INSNS);
    exec_stats(&x, &st);
    g_assert_cmpuint(le64_to_cpu(st.cycles), ==, cycles);
    g_assert_cmpuint(le32_to_cpu(st.insns), ==, LONG_INSNS);
    exec_migrate_invalid(&x, path, errpath);
    long_free(&p);
    exec_stop(&x);
    unlink(path);
    unlink(errpath);
    rmdir(dir);
}

/*
 * An I8 EXPERT_FFN migrated between two of its chunks: the widened weights
 * of the current expert are device scratch, not migration state, so the
 * destination widens them again; the result is bit for bit that of a run
 * without migration.
 */
static void test_exec_migrate_mid_ffn(void)
{
    enum { G = 2, C = 5, H = 2048, F = 2048 };
    g_autofree char *dir = g_dir_make_tmp("lpu-v3-migrate-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "stream", NULL);
    g_autofree char *errpath = g_build_filename(dir, "stderr", NULL);
    g_autofree float *xin = NULL;
    g_autofree float *whole = NULL;
    g_autofree float *got = NULL;
    g_autofree uint8_t *fill = g_malloc(G * C * H * 4);
    struct lpu_fence_record rec;
    struct lpu_insn prog[1];
    uint64_t vx, v13, v2, vo, cycles;
    Weights w13, w2;
    Exec x;
    Lpu dst;
    int64_t db;

    exec_start(&x);
    xin = x_floats(&x, G * C * H, 1.0f);
    weights_new(&x, &w13, LPU_DT_I8, G, 2 * F, H);
    weights_new(&x, &w2, LPU_DT_I8, G, H, F);
    vx = x_tensor(&x, xin, G * C * H);
    v13 = weights_put(&x, &w13);
    v2 = weights_put(&x, &w2);
    vo = x_new(&x, G * C * H * 4);
    prog[0] = mk(LPU_INSN_EXPERT_FFN, LPU_DT_I8, 0, DIMS(G, C, H, F),
                 OPS(vx, v13, v2, vo, 0));
    cycles = exec_run(&x, prog, 1);
    whole = x_read(&x, vo, G * C * H);

    memset(fill, 0xee, G * C * H * 4);
    x_put(&x, vo, fill, G * C * H * 4);
    exec_submit(&x, prog, 1);
    put_fence(&x.l, &x.r, 0, 0x4e, 0);
    db = ring_doorbell(&x.l, &x.r);
    step(&x.l, 1);
    got = x_read(&x, vo, G * C * H);
    /* Expert 0 has started, expert 1 not. */
    g_assert(memcmp(got, fill, C * H * 4));
    g_assert(!memcmp(got + C * H, fill, C * H * 4));
    migrate_to_file(&x.l, path);
    g_assert_true(migrate_from_file(&dst, &x.l, path, errpath));
    lpu_stop(&x.l);
    x.l = dst;
    step(&x.l, db + cycles + FENCE_NS + 10 - x.l.now);
    read_fence(&x.l, &x.r, 0, &rec);
    g_assert_cmphex(rec.seq, ==, 0x4e);
    g_free(got);
    got = x_read(&x, vo, G * C * H);
    g_assert(!memcmp(got, whole, G * C * H * 4));
    weights_free(&w13);
    weights_free(&w2);
    exec_stop(&x);
    unlink(path);
    unlink(errpath);
    rmdir(dir);
}

/*
 * A MoE block as a compiler would emit it (RMSNORM, router, TOPK,
 * DISPATCH, expert FFN over the slots, COMBINE into the residual), with
 * its outputs [start, start + len) in VA(1).
 */
typedef struct MoeProg {
    Weights gate, w13, w2;
    struct lpu_insn prog[8];
    uint64_t start, len;
} MoeProg;

static void moe_prog(Exec *x, MoeProg *m, unsigned dtype)
{
    enum { T = 24, H = 64, E = 8, K = 2, C = 8, F = 96 };
    g_autofree float *xin = x_floats(x, T * H, 2.0f);
    g_autofree float *gamma = x_floats(x, H, 1.0f);
    uint64_t vx, vres, vg, vgate, v13, v2, vh, vlog, vidx, vw, vxe, vrt, vye;
    uint32_t eps_bits = 0x358637bd;     /* 1e-6f */

    weights_new(x, &m->gate, dtype, 1, E, H);
    weights_new(x, &m->w13, dtype, E, 2 * F, H);
    weights_new(x, &m->w2, dtype, E, H, F);
    vx = x_tensor(x, xin, T * H);
    vg = x_tensor(x, gamma, H);
    vgate = weights_put(x, &m->gate);
    v13 = weights_put(x, &m->w13);
    v2 = weights_put(x, &m->w2);
    m->start = ROUND_UP(x->next, 64);
    vres = x_new(x, T * H * 4);
    vh = x_new(x, T * H * 4);
    vlog = x_new(x, T * E * 4);
    vidx = x_new(x, T * K * 4);
    vw = x_new(x, T * K * 4);
    vxe = x_new(x, E * C * H * 4);
    vrt = x_new(x, LPU_ROUTING_SIZE(E, C));
    vye = x_new(x, E * C * H * 4);
    m->len = x->next - m->start;
    m->prog[0] = mk(LPU_INSN_COPY, 0, 0, DIMS(T * H * 4), OPS(vx, vres));
    m->prog[1] = mk(LPU_INSN_RMSNORM, F32, 0, DIMS(T, H, eps_bits),
                    OPS(vres, vg, vh));
    m->prog[2] = mk(LPU_INSN_MATMUL, dtype, 0, DIMS(T, E, H, 1),
                    OPS(vh, vgate, vlog));
    m->prog[3] = mk(LPU_INSN_TOPK, F32, LPU_TOPK_RENORM, DIMS(T, E, K),
                    OPS(vlog, vidx, vw));
    m->prog[4] = mk(LPU_INSN_DISPATCH, F32, 0, DIMS(T, H, E, K, C),
                    OPS(vh, vidx, vw, vxe, vrt));
    m->prog[5] = mk(LPU_INSN_EXPERT_FFN, dtype, 0, DIMS(E, C, H, F),
                    OPS(vxe, v13, v2, vye, vrt));
    m->prog[6] = mk(LPU_INSN_COMBINE, F32, 0, DIMS(T, H, E, C),
                    OPS(vye, vrt, vres));
    m->prog[7] = mk(LPU_INSN_SILU, F32, 0, DIMS(T * H), OPS(vres, vres));
}

static void moe_free(MoeProg *m)
{
    weights_free(&m->gate);
    weights_free(&m->w13);
    weights_free(&m->w2);
}

/* Run the block with its outputs first filled with @fill; read them. */
static void moe_run(Exec *x, MoeProg *m, uint8_t fill, uint8_t *out)
{
    g_autofree uint8_t *buf = g_malloc(m->len);

    memset(buf, fill, m->len);
    qtest_bufwrite(x->l.qts, x->sram + m->start, buf, m->len);
    exec_run(x, m->prog, 8);
    qtest_bufread(x->l.qts, x->sram + m->start, out, m->len);
}

/*
 * The same program twice on the same inputs gives the same bytes, and
 * nothing depends on what the outputs held before.
 */
/* long_done(), cheaply: outputs whose last element is final. */
static unsigned long_done_quick(Exec *x, const LongProg *p)
{
    const size_t n = LONG_M * LONG_N;
    unsigned i, done = 0;
    float got;

    for (i = 0; i < LONG_INSNS; i++) {
        x_get(x, p->vo[i] + (n - 1) * 4, &got, 4);
        if (!memcmp(&got, p->want + i * n + n - 1, 4)) {
            done++;
        }
    }
    return done;
}

/*
 * Run the long program with the timer not waiting for the worker (as
 * outside qtest), reading registers all the while; returns how many
 * polls saw the program part done. Device work then no longer waits for
 * clock steps, so the fence completes at its modelled time or later.
 */
static unsigned long_run_async(Exec *x, const LongProg *p, uint32_t slot,
                               uint64_t seq)
{
    Lpu *l = &x->l;
    uint64_t cycles = ref_cycles(p->prog, LONG_INSNS);
    uint32_t retired = qrd(l, x->r.q, LPU_Q_DONE);
    struct lpu_fence_record rec;
    struct lpu_exec_stats st;
    unsigned done, mid = 0, polls = 0;
    int64_t db;

    long_reset(x, p);
    exec_submit(x, p->prog, LONG_INSNS);
    put_fence(l, &x->r, slot, seq, 0);
    db = ring_doorbell(l, &x->r);
    do {
        step(l, 1);
        /* The main loop answers while the worker computes. */
        g_assert_cmphex(qrd(l, x->r.q, LPU_Q_STATUS), ==,
                        LPU_Q_STATUS_ENABLED | LPU_Q_STATUS_BUSY);
        rd(l, LPU_REG_BUSY_NS_LO);
        done = long_done_quick(x, p);
        if (done && done < LONG_INSNS) {
            mid++;
        }
        g_assert_cmpuint(++polls, <, 100000);
    } while (done < LONG_INSNS);
    g_test_message("%u polls answered with the program part done", mid);
    step(l, db + cycles + FENCE_NS - l->now);
    while (qrd(l, x->r.q, LPU_Q_DONE) != retired + 2) {
        step(l, 1000);
        g_assert_cmpuint(++polls, <, 200000);
    }
    g_assert_cmphex(qrd(l, x->r.q, LPU_Q_STATUS), ==, LPU_Q_STATUS_ENABLED);
    read_fence(l, &x->r, slot, &rec);
    g_assert_cmphex(rec.seq, ==, seq);
    g_assert_cmpint(rec.complete_ns, >=, db + cycles + FENCE_NS);
    exec_stats(x, &st);
    g_assert_cmpuint(le64_to_cpu(st.cycles), ==, cycles);
    g_assert_cmpuint(le32_to_cpu(st.insns), ==, LONG_INSNS);
    g_assert_cmpuint(long_done(x, p), ==, LONG_INSNS);
    return mid;
}

/*
 * x-exec-wait=off, the default outside qtest: the compute of EXEC steps
 * runs in the queue's worker thread, off the BQL. Registers read and
 * memory accesses are answered while the long program runs, a queue
 * reset in the middle of a worker step waits for it and stops the
 * program, and the results are bit for bit the reference's.
 */
static void test_exec_worker_async(void)
{
    Exec x;
    LongProg p;
    struct lpu_fence_record rec;
    unsigned done;

    exec_start_with(&x, ",x-exec-wait=off");
    long_prog(&x, &p);
    /*
     * The timer waiting for each step (x-exec-wait=on) would answer one
     * poll per step, each instruction being one step: at most
     * LONG_INSNS - 1 polls would see the program part done.
     */
    g_assert_cmpuint(long_run_async(&x, &p, 0, 0x5a), >, 2 * LONG_INSNS);

    g_test_message("queue reset while the worker runs a step");
    long_reset(&x, &p);
    exec_submit(&x, p.prog, LONG_INSNS);
    put_fence(&x.l, &x.r, 1, 0x5b, 0);
    ring_doorbell(&x.l, &x.r);
    step(&x.l, 1);
    qwr(&x.l, x.r.q, LPU_Q_CTRL, LPU_Q_CTRL_RESET);
    g_assert_cmphex(qrd(&x.l, x.r.q, LPU_Q_STATUS), ==, 0);
    done = long_done(&x, &p);
    g_assert_cmpuint(done, <, LONG_INSNS);
    step(&x.l, 10 * ref_cycles(p.prog, LONG_INSNS));
    g_usleep(200 * 1000);
    step(&x.l, 1);
    g_assert_cmpuint(long_done(&x, &p), ==, done);
    read_fence(&x.l, &x.r, 1, &rec);
    g_assert_cmphex(rec.seq, ==, 0);

    g_test_message("the next job runs normally");
    ring_setup(&x.l, &x.r, 1, 16, 8);
    g_assert_cmpuint(long_run_async(&x, &p, 2, 0x5c), >, 2 * LONG_INSNS);
    long_free(&p);
    exec_stop(&x);
}

static void test_exec_determinism(void)
{
    static const unsigned dtypes[] = { LPU_DT_F32, LPU_DT_BF16, LPU_DT_I8 };
    Exec x;
    unsigned i;

    exec_start(&x);
    for (i = 0; i < ARRAY_SIZE(dtypes); i++) {
        MoeProg m;
        g_autofree uint8_t *first = NULL;
        g_autofree uint8_t *again = NULL;

        g_test_message("MoE block, weights dtype %u", dtypes[i]);
        x.next = 0;
        moe_prog(&x, &m, dtypes[i]);
        first = g_malloc(m.len);
        again = g_malloc(m.len);
        moe_run(&x, &m, 0xee, first);
        moe_run(&x, &m, 0x11, again);
        g_assert(!memcmp(first, again, m.len));
        moe_free(&m);
    }
    exec_stop(&x);
}

/*
 * Mutated programs (bit flips in any field of any instruction) either run
 * or are refused with LPU_ERR_EXEC; the device survives all of them and
 * then runs the original program to the same bytes as before.
 */
static void test_exec_mutations(void)
{
    const unsigned rounds = 300;
    Exec x;
    MoeProg m;
    g_autofree uint8_t *first = NULL;
    g_autofree uint8_t *again = NULL;
    g_autofree uint8_t *inputs = NULL;
    unsigned i, ran = 0, refused = 0;
    uint32_t rng = 12345;

    exec_start(&x);
    moe_prog(&x, &m, LPU_DT_I8);
    first = g_malloc(m.len);
    again = g_malloc(m.len);
    inputs = g_malloc(m.start);
    qtest_bufread(x.l.qts, x.sram, inputs, m.start);
    moe_run(&x, &m, 0, first);
    for (i = 0; i < rounds; i++) {
        struct lpu_insn prog[8];
        uint8_t *bytes = (uint8_t *)prog;
        uint32_t err, flips = 1 + i % 3, j;
        int64_t waited = 0;

        memcpy(prog, m.prog, sizeof(prog));
        for (j = 0; j < flips; j++) {
            rng = rng * 1103515245u + 12345u;
            bytes[(rng >> 8) % sizeof(prog)] ^= 1u << ((rng >> 4) & 7);
        }
        qwr(&x.l, x.r.q, LPU_Q_CTRL, LPU_Q_CTRL_RESET | LPU_Q_CTRL_ENABLE);
        x.r.tail = 0;
        exec_submit(&x, prog, 8);
        put_fence(&x.l, &x.r, 0, i, 0);
        ring_doorbell(&x.l, &x.r);
        /* Valid mutants may cost more than the original: wait them out. */
        do {
            step(&x.l, 1000000);
            waited += 1000000;
        } while ((qrd(&x.l, x.r.q, LPU_Q_STATUS) & LPU_Q_STATUS_BUSY) &&
                 waited < 100 * NS_PER_SEC);
        g_assert_false(qrd(&x.l, x.r.q, LPU_Q_STATUS) & LPU_Q_STATUS_BUSY);
        err = qrd(&x.l, x.r.q, LPU_Q_ERROR);
        if (err == LPU_ERR_OK) {
            ran++;
        } else {
            g_assert_cmpuint(err, ==, LPU_ERR_EXEC);
            g_assert_cmpuint(qrd(&x.l, x.r.q, LPU_Q_EXEC_REASON), >=,
                             LPU_EXEC_E_OPCODE);
            g_assert_cmpuint(qrd(&x.l, x.r.q, LPU_Q_EXEC_REASON), <,
                             LPU_EXEC_E_COUNT);
            refused++;
        }
        wr(&x.l, LPU_REG_ERROR_ACK, 1);
    }
    g_test_message("%u mutants ran, %u were refused", ran, refused);
    g_assert_cmpuint(refused, >, rounds / 2);
    /* Mutants that ran may have written over the inputs. */
    qtest_bufwrite(x.l.qts, x.sram, inputs, m.start);
    qwr(&x.l, x.r.q, LPU_Q_CTRL, LPU_Q_CTRL_RESET | LPU_Q_CTRL_ENABLE);
    x.r.tail = 0;
    moe_run(&x, &m, 0, again);
    g_assert(!memcmp(first, again, m.len));
    moe_free(&m);
    exec_stop(&x);
}

/* ---- firmware boot ROM -------------------------------------------------- */

/* A good image: READY, and its versions and tables in force. */
static void test_fw_boot_good(void)
{
    FwVals v = fw_good;
    FwImg im;
    Lpu l;
    Ring r;

    v.fw[0] = 1;
    v.fw[1] = 2;
    v.fw[2] = 3;
    v.abi[1] = 5;
    v.num_queues = 3;
    v.max_ring = 256;
    v.sram_reserved = 128 * KiB;
    v.thermal[0] = 41000;
    v.thermal[4] = 300;
    im = fw_build(&v);
    lpu_launch(&l, NULL, true);
    /* The boot ROM alone: nothing offered, nothing modelled. */
    g_assert_cmpuint(rd(&l, LPU_REG_FW_STATUS), ==, LPU_FW_STATE_ROM);
    g_assert_cmpuint(rd(&l, LPU_REG_NUM_QUEUES), ==, 0);
    g_assert_cmpuint(rd(&l, LPU_REG_MAX_RING_ENTRIES), ==, 0);
    g_assert_cmpuint(rd(&l, LPU_REG_SRAM_RESERVED), ==, 0);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_ABI), ==, 0);
    g_assert_cmpuint(rd(&l, LPU_REG_TEMP_MC), ==, 0);
    g_assert_cmpuint(rd(&l, LPU_REG_POWER_MW), ==, 0);
    g_assert_cmpuint(rd(&l, LPU_REG_CLOCK_MHZ), ==, 0);
    g_assert_cmpuint(fw_boot_img(&l, &im, im.len), ==, LPU_FW_STATE_READY);
    g_assert_cmphex(rd(&l, LPU_REG_IRQ_STATUS), ==, LPU_IRQ_MAILBOX);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_ERROR), ==, LPU_FW_E_NONE);
    g_assert_cmphex(rd(&l, LPU_REG_FW_VERSION), ==, 0x010203);
    g_assert_cmphex(rd(&l, LPU_REG_FW_ABI), ==, 0x010500);
    g_assert_cmpuint(rd(&l, LPU_REG_NUM_QUEUES), ==, 3);
    g_assert_cmpuint(rd(&l, LPU_REG_MAX_RING_ENTRIES), ==, 256);
    g_assert_cmpuint(rd(&l, LPU_REG_SRAM_RESERVED), ==, 128 * KiB);
    step(&l, 3 * LPU_TELEMETRY_WINDOW_NS);
    g_assert_cmpuint(rd(&l, LPU_REG_TEMP_MC), ==, 41000);
    g_assert_cmpuint(rd(&l, LPU_REG_POWER_MW), ==, 20000);
    g_assert_cmpuint(rd(&l, LPU_REG_CLOCK_MHZ), ==, 300);

    /* BOOT while READY is refused and changes nothing. */
    wr(&l, LPU_REG_IRQ_STATUS, LPU_IRQ_ALL);
    wr(&l, LPU_REG_FW_CMD, LPU_FW_CMD_BOOT);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_STATUS), ==, LPU_FW_STATE_READY);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_ERROR), ==, LPU_FW_E_STATE);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_EXPECTED), ==, LPU_FW_STATE_ROM);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_FOUND), ==, LPU_FW_STATE_READY);
    g_assert_cmphex(rd(&l, LPU_REG_IRQ_STATUS), ==, LPU_IRQ_MAILBOX);
    g_assert_cmpuint(rd(&l, LPU_REG_NUM_QUEUES), ==, 3);
    /* An unknown command. */
    wr(&l, LPU_REG_FW_CMD, 9);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_STATUS), ==, LPU_FW_STATE_READY);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_ERROR), ==, LPU_FW_E_COMMAND);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_EXPECTED), ==, LPU_FW_CMD_BOOT);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_FOUND), ==, 9);
    /* Read-only registers stay. */
    wr(&l, LPU_REG_NUM_QUEUES, 1);
    wr(&l, LPU_REG_SRAM_RESERVED, 0);
    g_assert_cmpuint(rd(&l, LPU_REG_NUM_QUEUES), ==, 3);
    g_assert_cmpuint(rd(&l, LPU_REG_SRAM_RESERVED), ==, 128 * KiB);

    /* Queue 3 is not offered; rings above MAX_RING_ENTRIES are refused. */
    lpu_msix_setup(&l);
    wr(&l, LPU_REG_IRQ_MASK, LPU_IRQ_ALL);
    ring_try(&l, &r, 3, 8, 2);
    g_assert_cmpuint(qrd(&l, 3, LPU_Q_ERROR), ==, LPU_ERR_NO_FW);
    g_assert_cmpuint(rd(&l, LPU_REG_ERROR_CODE), ==, LPU_ERR_NO_FW);
    g_assert_cmpuint(rd(&l, LPU_REG_ERROR_QUEUE), ==, 3);
    wr(&l, LPU_REG_ERROR_ACK, 1);
    ring_try(&l, &r, 0, 512, 2);
    g_assert_cmpuint(qrd(&l, 0, LPU_Q_ERROR), ==, LPU_ERR_RING_CONFIG);
    wr(&l, LPU_REG_ERROR_ACK, 1);
    ring_setup(&l, &r, 2, 256, 2);
    g_assert_cmphex(qrd(&l, 2, LPU_Q_STATUS), ==, LPU_Q_STATUS_ENABLED);
    put_fence(&l, &r, 1, 42, 0);
    ring_doorbell(&l, &r);
    step(&l, 10000);
    g_assert_cmpuint(qrd(&l, 2, LPU_Q_DONE), ==, 1);
    g_free(im.b);
    lpu_stop(&l);
}

typedef struct FwBad {
    const char *what;
    void (*mutate)(FwVals *v, FwImg *im);
    bool reseal;                /* digest and sign after mutate */
    int64_t size;               /* FW_SIZE: -1 the image's length */
    uint32_t code;
    uint32_t expected;
    uint32_t found;
    uint32_t where;
} FwBad;

static void m_none(FwVals *v, FwImg *im)
{
}

static void m_magic(FwVals *v, FwImg *im)
{
    put32(im, HDR(magic), 0x12345678);
}

static void m_format(FwVals *v, FwImg *im)
{
    put16(im, HDR(format_major), 2);
}

static void m_header_size(FwVals *v, FwImg *im)
{
    put32(im, HDR(header_size), 255);
}

static void m_grow(FwVals *v, FwImg *im)
{
    im->b = g_realloc(im->b, im->len + 52);
    memset(im->b + im->len, 0, 52);
    im->len += 52;
}

static void m_chip(FwVals *v, FwImg *im)
{
    v->chip_rev = 2;
}

static void m_chip_device(FwVals *v, FwImg *im)
{
    v->chip_device = 4;
}

static void m_payload_offset(FwVals *v, FwImg *im)
{
    put32(im, HDR(payload_offset), 264);
}

static void m_count0(FwVals *v, FwImg *im)
{
    put32(im, HDR(section_count), 0);
}

static void m_count17(FwVals *v, FwImg *im)
{
    put32(im, HDR(section_count), 17);
}

static void m_count16(FwVals *v, FwImg *im)
{
    put32(im, HDR(section_count), 16);
}

static void m_sig_offset(FwVals *v, FwImg *im)
{
    put32(im, HDR(sig_offset), FW_SIG + 8);
}

static void m_sig_size(FwVals *v, FwImg *im)
{
    put32(im, HDR(sig_size), FW_KEY_BYTES - 1);
}

/* No signature at all: the image ends where it would start. */
static void m_sig_size0(FwVals *v, FwImg *im)
{
    put32(im, HDR(sig_size), 0);
    put32(im, HDR(image_size), FW_SIG);
    im->len = FW_SIG;
}

/* A 600-byte signature (and image to match). */
static void m_sig_size600(FwVals *v, FwImg *im)
{
    im->b = g_realloc(im->b, FW_SIG + 600);
    im->len = FW_SIG + 600;
    put32(im, HDR(sig_size), 600);
    put32(im, HDR(image_size), FW_SIG + 600);
}

static void m_rsvd0(FwVals *v, FwImg *im)
{
    put16(im, HDR(rsvd0), 1);
}

static void m_rsvd(FwVals *v, FwImg *im)
{
    im->b[HDR(rsvd) + 5] = 7;
}

static void m_build_id_ctrl(FwVals *v, FwImg *im)
{
    im->b[HDR(build_id)] = 7;
}

static void m_build_id_gap(FwVals *v, FwImg *im)
{
    memcpy(im->b + HDR(build_id), "ab\0c", 4);
}

static void m_build_id_high(FwVals *v, FwImg *im)
{
    im->b[HDR(build_id) + 1] = 0x80;
}

static void m_fw_minor(FwVals *v, FwImg *im)
{
    put16(im, HDR(fw_minor), 256);
}

static void m_payload(FwVals *v, FwImg *im)
{
    im->b[FW_COST + 9] ^= 1;
}

static void m_sig_type(FwVals *v, FwImg *im)
{
    put32(im, HDR(sig_type), 2);
}

/* A 256-byte signature: the layout holds, the key is 384 bytes. */
static void m_sig_256(FwVals *v, FwImg *im)
{
    im->len = FW_SIG + 256;
    put32(im, HDR(sig_size), 256);
    put32(im, HDR(image_size), FW_SIG + 256);
}

static void m_sig_flip(FwVals *v, FwImg *im)
{
    im->b[FW_SIG + 100] ^= 0x10;
}

/* Signed, then the header changed: a signature of other contents. */
static void m_sig_other(FwVals *v, FwImg *im)
{
    im->b[HDR(build_id)] = 'Q';
}

static void m_sec_unknown(FwVals *v, FwImg *im)
{
    put32(im, SEC(0, type), 7);
}

static void m_sec_repeated(FwVals *v, FwImg *im)
{
    put32(im, SEC(2, type), LPU_FW_SEC_COST);
}

static void m_sec_rsvd(FwVals *v, FwImg *im)
{
    put32(im, SEC(1, rsvd), 1);
}

static void m_sec_misaligned(FwVals *v, FwImg *im)
{
    put32(im, SEC(1, offset), FW_ENGINE + 1);
}

static void m_sec_overlap(FwVals *v, FwImg *im)
{
    put32(im, SEC(1, offset), FW_ENGINE - 8);
}

static void m_sec_in_table(FwVals *v, FwImg *im)
{
    put32(im, SEC(0, offset), FW_COST - 8);
}

static void m_sec_outside(FwVals *v, FwImg *im)
{
    put32(im, SEC(2, offset), FW_THERMAL + 8);
}

static void m_sec_size(FwVals *v, FwImg *im)
{
    put32(im, SEC(2, size), 24);
}

static void m_sec_missing(FwVals *v, FwImg *im)
{
    put32(im, HDR(section_count), 2);
}

static void m_queues0(FwVals *v, FwImg *im)
{
    v->num_queues = 0;
}

static void m_queues9(FwVals *v, FwImg *im)
{
    v->num_queues = 9;
}

static void m_ring_pow2(FwVals *v, FwImg *im)
{
    v->max_ring = 3000;
}

static void m_ring_big(FwVals *v, FwImg *im)
{
    v->max_ring = 8192;
}

static void m_ring_small(FwVals *v, FwImg *im)
{
    v->max_ring = 1;
}

static void m_sram_page(FwVals *v, FwImg *im)
{
    v->sram_reserved = 4097;
}

static void m_sram_big(FwVals *v, FwImg *im)
{
    v->sram_reserved = 64 * MiB;
}

static void m_engine_rsvd(FwVals *v, FwImg *im)
{
    put32(im, FW_ENGINE + 12, 3);
}

static void m_cost_rate0(FwVals *v, FwImg *im)
{
    v->cost[2][1] = 0;
}

static void m_cost_rate_big(FwVals *v, FwImg *im)
{
    v->cost[13][1] = (1U << 20) + 1;
}

static void m_cost_base(FwVals *v, FwImg *im)
{
    v->cost[0][0] = (1U << 20) + 1;
}

static void m_temp_order(FwVals *v, FwImg *im)
{
    v->thermal[1] = 30000;
}

static void m_temp_max(FwVals *v, FwImg *im)
{
    v->thermal[1] = 150001;
}

static void m_power_max(FwVals *v, FwImg *im)
{
    v->thermal[3] = 1000001;
}

static void m_power_order(FwVals *v, FwImg *im)
{
    v->thermal[2] = 80000;
}

static void m_clock0(FwVals *v, FwImg *im)
{
    v->thermal[4] = 0;
}

static void m_clock_max(FwVals *v, FwImg *im)
{
    v->thermal[4] = 1001;
}

static void m_thermal_rsvd(FwVals *v, FwImg *im)
{
    put32(im, FW_THERMAL + 24, 5);
}

#define CHIP(d, r)          ((uint32_t)(d) << 16 | (r))

/* Every check of firmware/lpu_fw.md, with its code and details. */
static const FwBad fw_bads[] = {
    { "empty", m_none, false, 0, LPU_FW_E_EMPTY, 256, 0, 0 },
    { "too large", m_none, false, LPU_FW_MAX_SIZE + 1, LPU_FW_E_TOO_LARGE,
      LPU_FW_MAX_SIZE, LPU_FW_MAX_SIZE + 1, 0 },
    { "shorter than a header", m_none, false, 100, LPU_FW_E_TRUNCATED,
      256, 100, 0 },
    { "magic", m_magic, false, -1, LPU_FW_E_MAGIC, LPU_FW_MAGIC,
      0x12345678, 0 },
    { "format", m_format, false, -1, LPU_FW_E_FORMAT, 1, 2, 4 },
    { "header size", m_header_size, false, -1, LPU_FW_E_LAYOUT, 256, 255,
      8 },
    { "shorter than image_size", m_none, false, FW_LEN - 1,
      LPU_FW_E_TRUNCATED, FW_LEN, FW_LEN - 1, 12 },
    { "longer than image_size", m_grow, false, -1, LPU_FW_E_LAYOUT,
      FW_LEN, FW_LEN + 52, 12 },
    { "chip revision", m_chip, true, -1, LPU_FW_E_CHIP,
      CHIP(LPU_PCI_DEVICE_ID_V3, 1), CHIP(LPU_PCI_DEVICE_ID_V3, 2), 28 },
    { "chip device", m_chip_device, true, -1, LPU_FW_E_CHIP,
      CHIP(LPU_PCI_DEVICE_ID_V3, 1), CHIP(4, 1), 28 },
    { "payload offset", m_payload_offset, false, -1, LPU_FW_E_LAYOUT, 256,
      264, 36 },
    { "no sections", m_count0, false, -1, LPU_FW_E_LAYOUT, 1, 0, 32 },
    { "17 sections", m_count17, false, -1, LPU_FW_E_LAYOUT, 16, 17, 32 },
    { "table beyond the payload", m_count16, false, -1, LPU_FW_E_LAYOUT,
      256, FW_SIG - 256, 40 },
    { "sig offset", m_sig_offset, false, -1, LPU_FW_E_LAYOUT, FW_SIG,
      FW_SIG + 8, 48 },
    { "sig size and image size", m_sig_size, false, -1, LPU_FW_E_LAYOUT,
      FW_KEY_BYTES, FW_KEY_BYTES - 1, 52 },
    { "sig size 0", m_sig_size0, false, -1, LPU_FW_E_LAYOUT, 1, 0, 52 },
    { "sig size 600", m_sig_size600, false, -1, LPU_FW_E_LAYOUT, 512, 600,
      52 },
    { "rsvd0", m_rsvd0, false, -1, LPU_FW_E_LAYOUT, 0, 1, 22 },
    { "rsvd", m_rsvd, false, -1, LPU_FW_E_LAYOUT, 0, 7, 133 },
    { "build id control", m_build_id_ctrl, false, -1, LPU_FW_E_LAYOUT,
      0x20, 7, 56 },
    { "build id above ASCII", m_build_id_high, false, -1, LPU_FW_E_LAYOUT,
      0x7e, 0x80, 57 },
    { "build id after NUL", m_build_id_gap, false, -1, LPU_FW_E_LAYOUT, 0,
      'c', 59 },
    { "fw minor", m_fw_minor, false, -1, LPU_FW_E_LAYOUT, 255, 256, 18 },
    { "digest", m_payload, false, -1, LPU_FW_E_DIGEST, 0, 0, 96 },
    { "sig type", m_sig_type, false, -1, LPU_FW_E_SIGNATURE, 1, 2, 44 },
    { "sig size not the key's", m_sig_256, false, -1, LPU_FW_E_SIGNATURE,
      FW_KEY_BYTES, 256, 52 },
    { "bad signature", m_sig_flip, false, -1, LPU_FW_E_SIGNATURE, 0, 0,
      FW_SIG },
    { "signature of other contents", m_sig_other, false, -1,
      LPU_FW_E_SIGNATURE, 0, 0, FW_SIG },
    { "unknown section", m_sec_unknown, true, -1, LPU_FW_E_SECTION, 3, 7,
      SEC(0, type) },
    { "repeated section", m_sec_repeated, true, -1, LPU_FW_E_SECTION,
      FW_COST, FW_THERMAL, SEC(2, type) },
    { "section rsvd", m_sec_rsvd, true, -1, LPU_FW_E_SECTION, 0, 1,
      SEC(1, rsvd) },
    { "misaligned section", m_sec_misaligned, true, -1, LPU_FW_E_SECTION,
      FW_ENGINE + 8, FW_ENGINE + 1, SEC(1, offset) },
    { "overlapping sections", m_sec_overlap, true, -1, LPU_FW_E_SECTION,
      FW_ENGINE, FW_ENGINE - 8, SEC(1, offset) },
    { "section in the table", m_sec_in_table, true, -1, LPU_FW_E_SECTION,
      FW_COST, FW_COST - 8, SEC(0, offset) },
    { "section beyond the payload", m_sec_outside, true, -1,
      LPU_FW_E_SECTION, 24, 32, SEC(2, size) },
    { "section size", m_sec_size, true, -1, LPU_FW_E_SECTION, 32, 24,
      SEC(2, size) },
    { "missing section", m_sec_missing, true, -1, LPU_FW_E_SECTION,
      LPU_FW_SEC_THERMAL, 0, 32 },
    { "num_queues 0", m_queues0, true, -1, LPU_FW_E_SECTION, 1, 0,
      FW_ENGINE },
    { "num_queues 9", m_queues9, true, -1, LPU_FW_E_SECTION, 4, 9,
      FW_ENGINE },
    { "max ring not a power of two", m_ring_pow2, true, -1,
      LPU_FW_E_SECTION, 2048, 3000, FW_ENGINE + 4 },
    { "max ring too big", m_ring_big, true, -1, LPU_FW_E_SECTION, 4096,
      8192, FW_ENGINE + 4 },
    { "max ring too small", m_ring_small, true, -1, LPU_FW_E_SECTION, 2, 1,
      FW_ENGINE + 4 },
    { "sram reserved not pages", m_sram_page, true, -1, LPU_FW_E_SECTION,
      4096, 4097, FW_ENGINE + 8 },
    { "sram reserved too big", m_sram_big, true, -1, LPU_FW_E_SECTION,
      64 * MiB, 64 * MiB, FW_ENGINE + 8 },
    { "engine rsvd", m_engine_rsvd, true, -1, LPU_FW_E_SECTION, 0, 3,
      FW_ENGINE + 12 },
    { "cost rate 0", m_cost_rate0, true, -1, LPU_FW_E_SECTION, 1, 0,
      FW_COST + 2 * 8 + 4 },
    { "cost rate too big", m_cost_rate_big, true, -1, LPU_FW_E_SECTION,
      1U << 20, (1U << 20) + 1, FW_COST + 13 * 8 + 4 },
    { "cost base too big", m_cost_base, true, -1, LPU_FW_E_SECTION,
      1U << 20, (1U << 20) + 1, FW_COST },
    { "busy below idle temperature", m_temp_order, true, -1,
      LPU_FW_E_SECTION, 40000, 30000, FW_THERMAL + 4 },
    { "temperature too high", m_temp_max, true, -1, LPU_FW_E_SECTION,
      150000, 150001, FW_THERMAL + 4 },
    { "idle above busy power", m_power_order, true, -1, LPU_FW_E_SECTION,
      80000, 75000, FW_THERMAL + 12 },
    { "power too high", m_power_max, true, -1, LPU_FW_E_SECTION, 1000000,
      1000001, FW_THERMAL + 12 },
    { "idle clock 0", m_clock0, true, -1, LPU_FW_E_SECTION, 1, 0,
      FW_THERMAL + 16 },
    { "idle clock too fast", m_clock_max, true, -1, LPU_FW_E_SECTION, 1000,
      1001, FW_THERMAL + 16 },
    { "thermal rsvd", m_thermal_rsvd, true, -1, LPU_FW_E_SECTION, 0, 5,
      FW_THERMAL + 24 },
};

/* The first 4 bytes of a digest, big-endian, as FW_EXPECTED/FOUND. */
static uint32_t digest_word(const uint8_t *p, size_t len)
{
    uint8_t d[32];

    sha256(p, len, d);
    return ldl_be_p(d);
}

/*
 * Every failure of the check table gives its code and details, and the
 * card stays usable: each case BOOTs from the ERROR of the one before,
 * and a good image boots at the end.
 */
static void test_fw_boot_errors(void)
{
    Lpu l;
    unsigned i;

    lpu_launch(&l, NULL, true);
    for (i = 0; i < ARRAY_SIZE(fw_bads); i++) {
        const FwBad *b = &fw_bads[i];
        FwVals v = fw_good;
        FwImg im = fw_build(&v);
        uint32_t expected = b->expected, found = b->found;

        g_test_message("bad image: %s", b->what);
        b->mutate(&v, &im);
        if (memcmp(&v, &fw_good, sizeof(v))) {
            g_free(im.b);
            im = fw_build(&v);
        }
        if (b->reseal) {
            fw_seal(&im);
        }
        if (b->code == LPU_FW_E_DIGEST) {
            expected = ldl_be_p(im.b + HDR(payload_sha256));
            found = digest_word(im.b + FW_TABLE, FW_SIG - FW_TABLE);
            g_assert_cmphex(expected, !=, found);
        }
        wr(&l, LPU_REG_IRQ_STATUS, LPU_IRQ_ALL);
        g_assert_cmpuint(fw_boot_img(&l, &im, b->size < 0 ? im.len : b->size),
                         ==, LPU_FW_STATE_ERROR);
        fw_assert_error(&l, b->code, expected, found, b->where);
        g_assert_cmphex(rd(&l, LPU_REG_IRQ_STATUS), ==, LPU_IRQ_MAILBOX);
        g_free(im.b);
    }

    g_test_message("signed by a key the card does not trust");
    {
        FwImg im = fw_build(&fw_good);
        uint8_t good_sig[FW_KEY_BYTES];

        memcpy(good_sig, im.b + FW_SIG, FW_KEY_BYTES);
        fw_sign_with(&im, fw_untrusted_key());
        g_assert(memcmp(good_sig, im.b + FW_SIG, FW_KEY_BYTES));
        g_assert_cmpuint(fw_boot_img(&l, &im, im.len), ==,
                         LPU_FW_STATE_ERROR);
        fw_assert_error(&l, LPU_FW_E_SIGNATURE, 0, 0, FW_SIG);
        g_free(im.b);
    }

    g_test_message("DMA failure");
    g_assert_cmpuint(fw_boot_at(&l, 0x7fff00001000ULL, FW_LEN), ==,
                     LPU_FW_STATE_ERROR);
    fw_assert_error(&l, LPU_FW_E_DMA, 0, 0x00001000, 0);

    g_test_message("a good image after all that");
    fw_boot_ok(&l, &fw_good);
    g_assert_cmpuint(rd(&l, LPU_REG_NUM_QUEUES), ==, 4);
    g_assert_cmphex(rd(&l, LPU_REG_FW_VERSION), ==, 0x010000);
    lpu_stop(&l);
}

/* Without fw-pubkey nothing boots, whatever the image. */
static void test_fw_no_key(void)
{
    FwImg im = fw_build(&fw_good);
    Lpu l;

    lpu_launch(&l, NULL, false);
    g_assert_cmpuint(fw_boot_img(&l, &im, im.len), ==, LPU_FW_STATE_ERROR);
    fw_assert_error(&l, LPU_FW_E_NO_KEY, 0, 0, 0);
    /* Checks before the key still come first. */
    put32(&im, HDR(magic), 0);
    g_assert_cmpuint(fw_boot_img(&l, &im, im.len), ==, LPU_FW_STATE_ERROR);
    fw_assert_error(&l, LPU_FW_E_MAGIC, LPU_FW_MAGIC, 0, 0);
    g_free(im.b);
    lpu_stop(&l);
}

/*
 * fw-pubkey must name a readable RSA public key: QEMU refuses to start,
 * with a message naming the file, rather than boot nothing later.
 */
static void test_fw_bad_key_prop(void)
{
    g_autofree char *priv = g_build_filename(fw_key_dir(),
                                             "test-signing-key.der", NULL);
    g_autofree char *pem = g_build_filename(fw_key_dir(),
                                            "untrusted-key.pem", NULL);
    const char *files[] = { "/nonexistent/lpu-key.der", priv, pem };
    const char *why[] = { "cannot read", "is not a DER PKCS#1 RSA public key",
                          "is not a DER PKCS#1 RSA public key" };
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(files); i++) {
        g_autofree char *dev = g_strdup_printf("lpu-v3,fw-pubkey=%s",
                                               files[i]);
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        const char *argv[] = {
            g_getenv("QTEST_QEMU_BINARY"), "-M", "q35", "-nodefaults",
            "-display", "none", "-S", "-device", dev, NULL,
        };
        int status;

        g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL,
                                   &out, &err, &status, NULL));
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, 1);
        g_assert_nonnull(strstr(err, files[i]));
        g_assert_nonnull(strstr(err, why[i]));
    }
}

/* x-fw-boot-hang: BOOTING until a reset. */
static void test_fw_boot_hang(void)
{
    FwImg im = fw_build(&fw_good);
    uint64_t addr;
    Lpu l;

    lpu_launch(&l, ",x-fw-boot-hang=on", true);
    addr = lpu_alloc(&l, im.len);
    qtest_memwrite(l.qts, addr, im.b, im.len);
    g_assert_cmpuint(fw_boot_at(&l, addr, im.len), ==, LPU_FW_STATE_BOOTING);
    step(&l, 100 * LPU_FW_BOOT_NS);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_STATUS), ==, LPU_FW_STATE_BOOTING);
    g_assert_cmphex(rd(&l, LPU_REG_IRQ_STATUS), ==, 0);
    /* BOOT while BOOTING is refused. */
    wr(&l, LPU_REG_FW_CMD, LPU_FW_CMD_BOOT);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_STATUS), ==, LPU_FW_STATE_BOOTING);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_ERROR), ==, LPU_FW_E_STATE);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_FOUND), ==, LPU_FW_STATE_BOOTING);
    wr(&l, LPU_REG_RESET, LPU_RESET_MAGIC);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_STATUS), ==, LPU_FW_STATE_ROM);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_ERROR), ==, LPU_FW_E_NONE);
    step(&l, 10 * LPU_FW_BOOT_NS);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_STATUS), ==, LPU_FW_STATE_ROM);
    g_free(im.b);
    lpu_stop(&l);
}

/* No queue runs before a boot, nor beyond the firmware's NUM_QUEUES. */
static void test_fw_queues(void)
{
    FwVals v = fw_good;
    Lpu l;
    Ring r;

    lpu_launch(&l, NULL, true);
    lpu_msix_setup(&l);
    wr(&l, LPU_REG_IRQ_MASK, LPU_IRQ_ALL);
    ring_try(&l, &r, 0, 8, 2);
    g_assert_cmphex(qrd(&l, 0, LPU_Q_STATUS), ==, LPU_Q_STATUS_HALTED);
    g_assert_cmpuint(qrd(&l, 0, LPU_Q_ERROR), ==, LPU_ERR_NO_FW);
    g_assert_cmpuint(rd(&l, LPU_REG_ERROR_CODE), ==, LPU_ERR_NO_FW);
    g_assert(lpu_msi_fired(&l, LPU_MSIX_VEC_DEVICE));
    wr(&l, LPU_REG_ERROR_ACK, 1);
    qwr(&l, 0, LPU_Q_CTRL, LPU_Q_CTRL_RESET);

    v.num_queues = 2;
    fw_boot_ok(&l, &v);
    ring_try(&l, &r, 2, 8, 2);
    g_assert_cmpuint(qrd(&l, 2, LPU_Q_ERROR), ==, LPU_ERR_NO_FW);
    g_assert_cmpuint(rd(&l, LPU_REG_ERROR_QUEUE), ==, 2);
    ring_setup(&l, &r, 1, 8, 2);
    put_fence(&l, &r, 0, 7, 0);
    ring_doorbell(&l, &r);
    step(&l, 10000);
    g_assert_cmpuint(qrd(&l, 1, LPU_Q_DONE), ==, 1);
    lpu_stop(&l);
}

/* SRAM_RESERVED: no segment, COPY or scrub touches the firmware's top. */
static void test_fw_sram_reserved(void)
{
    const uint64_t top = 2 * MiB - 64 * KiB;
    struct lpu_segment segs[2];
    uint64_t table;
    Lpu l;
    Ring r;

    lpu_start(&l, ",sram-size=2M");
    g_assert_cmpuint(rd(&l, LPU_REG_SRAM_RESERVED), ==, 64 * KiB);
    scrub(&l, top, PAGE);
    g_assert_cmphex(rd(&l, LPU_REG_SCRUB_STATUS), ==, LPU_SCRUB_STATUS_ERROR);
    scrub(&l, top - PAGE, 2 * PAGE);
    g_assert_cmphex(rd(&l, LPU_REG_SCRUB_STATUS), ==, LPU_SCRUB_STATUS_ERROR);
    scrub(&l, 0, top);
    g_assert_cmphex(rd(&l, LPU_REG_SCRUB_STATUS), ==, LPU_SCRUB_STATUS_BUSY);
    step(&l, SCRUB_NS(top) + 1);
    g_assert_cmphex(rd(&l, LPU_REG_SCRUB_STATUS), ==, 0);

    lpu_msix_setup(&l);
    wr(&l, LPU_REG_IRQ_MASK, LPU_IRQ_ALL);
    ring_setup(&l, &r, 0, 8, 2);
    segs[0] = sram_seg(VA(1), PAGE, 0);
    segs[1] = sram_seg(VA(2), 2 * PAGE, top - PAGE);
    table = table_put(&l, segs, 2);
    put_copy(&l, &r, VA(1), VA(2), 64, table, 2);
    ring_doorbell(&l, &r);
    step(&l, 100000);
    g_assert_cmpuint(qrd(&l, 0, LPU_Q_ERROR), ==, LPU_ERR_SEG_TABLE);
    /* Just below the reserved top is fine. */
    wr(&l, LPU_REG_ERROR_ACK, 1);
    qwr(&l, 0, LPU_Q_CTRL, LPU_Q_CTRL_RESET);
    ring_setup(&l, &r, 0, 8, 2);
    segs[1] = sram_seg(VA(2), 2 * PAGE, top - 2 * PAGE);
    table = table_put(&l, segs, 2);
    put_copy(&l, &r, VA(1), VA(2), 64, table, 2);
    ring_doorbell(&l, &r);
    step(&l, 100000);
    g_assert_cmpuint(qrd(&l, 0, LPU_Q_ERROR), ==, LPU_ERR_OK);
    g_assert_cmpuint(qrd(&l, 0, LPU_Q_DONE), ==, 1);
    lpu_stop(&l);
}

/* The same EXEC costs what the running firmware's table says. */
static void test_fw_cost_table(void)
{
    FwVals x2 = fw_good;
    struct lpu_insn prog[2];
    uint64_t a, w, o, b, c1 = 0, c2 = 0;
    Exec x;
    unsigned i, pass;

    /* Every rate halved: about twice the cycles (cost-x2.bin). */
    for (i = 0; i < LPU_COST_COUNT; i++) {
        x2.cost[i][1] = MAX(x2.cost[i][1] / 2, 1);
    }
    for (pass = 0; pass < 2; pass++) {
        exec_start_fw(&x, NULL, pass ? &x2 : &fw_good);
        a = x_new(&x, 64 * 256 * 4);
        w = x_new(&x, 128 * 256 * 4);
        o = x_new(&x, 64 * 128 * 4);
        b = x_new(&x, 100000 * 4);
        prog[0] = mk(LPU_INSN_MATMUL, LPU_DT_F32, 0, DIMS(64, 128, 256, 1),
                     OPS(a, w, o));
        prog[1] = mk(LPU_INSN_ADD, LPU_DT_F32, 0, DIMS(100000),
                     OPS(b, b, b));
        if (pass) {
            c2 = exec_run(&x, prog, 2);
        } else {
            c1 = exec_run(&x, prog, 2);
        }
        g_assert_cmpuint(pass ? c2 : c1, ==, ref_cycles(prog, 2));
        exec_stop(&x);
    }
    fw_running = &fw_good;
    /* Setup 256 + 4, MATMUL 128 + 2048, ADD 32 + 391 ... */
    g_assert_cmpuint(c1, ==, 260 + 2176 + 423);
    /* ... and 256 + 8, 128 + 4096, 32 + 782. */
    g_assert_cmpuint(c2, ==, 264 + 4224 + 814);
}

/* RESET, system reset and FLR return the card to its boot ROM. */
static void test_fw_reset_flr(void)
{
    uint8_t cap;
    Lpu l;
    Ring r;

    lpu_start(&l, NULL);
    wr(&l, LPU_REG_RESET, LPU_RESET_MAGIC);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_STATUS), ==, LPU_FW_STATE_ROM);
    g_assert_cmpuint(rd(&l, LPU_REG_NUM_QUEUES), ==, 0);
    g_assert_cmpuint(rd(&l, LPU_REG_MAX_RING_ENTRIES), ==, 0);
    g_assert_cmpuint(rd(&l, LPU_REG_SRAM_RESERVED), ==, 0);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_VERSION), ==, 0);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_ABI), ==, 0);
    lpu_msix_setup(&l);
    wr(&l, LPU_REG_IRQ_MASK, LPU_IRQ_ALL);
    ring_try(&l, &r, 0, 8, 2);
    g_assert_cmpuint(qrd(&l, 0, LPU_Q_ERROR), ==, LPU_ERR_NO_FW);

    g_test_message("function level reset");
    fw_boot_ok(&l, &fw_good);
    cap = qpci_find_capability(l.dev, PCI_CAP_ID_EXP, 0);
    g_assert(cap);
    g_assert(qpci_config_readl(l.dev, cap + PCI_EXP_DEVCAP) &
             PCI_EXP_DEVCAP_FLR);
    qpci_config_writew(l.dev, cap + PCI_EXP_DEVCTL,
                       qpci_config_readw(l.dev, cap + PCI_EXP_DEVCTL) |
                       PCI_EXP_DEVCTL_BCR_FLR);
    /* FLR cleared the BARs and the command register too. */
    g_free(l.dev);
    lpu_map(&l);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_STATUS), ==, LPU_FW_STATE_ROM);
    g_assert_cmpuint(rd(&l, LPU_REG_NUM_QUEUES), ==, 0);
    g_assert_cmpuint(qrd(&l, 0, LPU_Q_STATUS), ==, 0);

    g_test_message("system reset");
    fw_boot_ok(&l, &fw_good);
    qtest_qmp_assert_success(l.qts, "{ 'execute': 'system_reset' }");
    g_free(l.dev);
    lpu_map(&l);
    g_assert_cmpuint(rd(&l, LPU_REG_FW_STATUS), ==, LPU_FW_STATE_ROM);
    fw_boot_ok(&l, &fw_good);
    lpu_stop(&l);
}

/* A READY card and a BOOTING one migrate; the boot goes on after it. */
static void test_fw_migrate(void)
{
    g_autofree char *dir = g_dir_make_tmp("lpu-v3-fw-migrate-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "stream", NULL);
    g_autofree char *errpath = g_build_filename(dir, "stderr", NULL);
    FwVals v = fw_good;
    FwImg im;
    uint64_t addr;
    Lpu src, dst;
    Ring r;

    v.num_queues = 2;
    v.sram_reserved = 8 * KiB;
    lpu_start_fw(&src, NULL, &v);
    migrate_to_file(&src, path);
    g_assert_true(migrate_from_file(&dst, &src, path, errpath));
    lpu_stop(&src);
    g_assert_cmpuint(rd(&dst, LPU_REG_FW_STATUS), ==, LPU_FW_STATE_READY);
    g_assert_cmpuint(rd(&dst, LPU_REG_NUM_QUEUES), ==, 2);
    g_assert_cmpuint(rd(&dst, LPU_REG_SRAM_RESERVED), ==, 8 * KiB);
    g_assert_cmphex(rd(&dst, LPU_REG_FW_VERSION), ==, 0x010000);
    lpu_msix_setup(&dst);
    ring_try(&dst, &r, 2, 8, 2);
    g_assert_cmpuint(qrd(&dst, 2, LPU_Q_ERROR), ==, LPU_ERR_NO_FW);
    ring_setup(&dst, &r, 1, 8, 2);
    put_fence(&dst, &r, 0, 9, 0);
    ring_doorbell(&dst, &r);
    step(&dst, 10000);
    g_assert_cmpuint(qrd(&dst, 1, LPU_Q_DONE), ==, 1);
    lpu_stop(&dst);
    unlink(path);

    g_test_message("migration while BOOTING");
    im = fw_build(&v);
    lpu_launch(&src, NULL, true);
    addr = lpu_alloc(&src, im.len);
    qtest_memwrite(src.qts, addr, im.b, im.len);
    wr(&src, LPU_REG_FW_ADDR_LO, addr);
    wr(&src, LPU_REG_FW_ADDR_HI, addr >> 32);
    wr(&src, LPU_REG_FW_SIZE, im.len);
    wr(&src, LPU_REG_FW_CMD, LPU_FW_CMD_BOOT);
    step(&src, LPU_FW_BOOT_NS / 2);
    migrate_to_file(&src, path);
    g_assert_true(migrate_from_file(&dst, &src, path, errpath));
    lpu_stop(&src);
    g_assert_cmpuint(rd(&dst, LPU_REG_FW_STATUS), ==, LPU_FW_STATE_BOOTING);
    step(&dst, LPU_FW_BOOT_NS);
    g_assert_cmpuint(rd(&dst, LPU_REG_FW_STATUS), ==, LPU_FW_STATE_READY);
    g_assert_cmpuint(rd(&dst, LPU_REG_NUM_QUEUES), ==, 2);
    g_free(im.b);
    lpu_stop(&dst);
    unlink(path);
    unlink(errpath);
    rmdir(dir);
}

/*
 * Seeded random byte flips and truncations of a good image: every one
 * ends in ERROR with a defined code (never READY), and QEMU survives.
 */
static void test_fw_mutations(void)
{
    FwImg good = fw_build(&fw_good);
    g_autofree uint8_t *buf = g_malloc(good.len);
    GRand *rnd = g_rand_new_with_seed(0x4c505546);
    unsigned counts[LPU_FW_E_COUNT] = { 0 };
    uint64_t addr;
    unsigned i, n, k;
    uint32_t size, code;
    Lpu l;

    lpu_launch(&l, NULL, true);
    addr = lpu_alloc(&l, good.len);
    for (i = 0; i < 300; i++) {
        memcpy(buf, good.b, good.len);
        size = good.len;
        if (g_rand_int_range(rnd, 0, 8) == 0) {
            size = g_rand_int_range(rnd, 1, good.len);
        } else {
            n = g_rand_int_range(rnd, 1, 5);
            for (k = 0; k < n; k++) {
                buf[g_rand_int_range(rnd, 0, good.len)] ^=
                    g_rand_int_range(rnd, 1, 256);
            }
        }
        qtest_memwrite(l.qts, addr, buf, size);
        if (size == good.len && !memcmp(buf, good.b, good.len)) {
            continue;       /* flips that cancelled out */
        }
        g_assert_cmpuint(fw_boot_at(&l, addr, size), ==, LPU_FW_STATE_ERROR);
        code = rd(&l, LPU_REG_FW_ERROR);
        g_assert_cmpuint(code, >=, LPU_FW_E_EMPTY);
        g_assert_cmpuint(code, <=, LPU_FW_E_SECTION);
        counts[code]++;
    }
    for (i = 0; i < LPU_FW_E_COUNT; i++) {
        if (counts[i]) {
            g_test_message("FW_ERROR %u: %u images", i, counts[i]);
        }
    }
    /* The mutations reached the signature, not just the header. */
    g_assert_cmpuint(counts[LPU_FW_E_SIGNATURE], >, 0);
    g_assert_cmpuint(counts[LPU_FW_E_DIGEST], >, 0);
    qtest_memwrite(l.qts, addr, good.b, good.len);
    g_assert_cmpuint(fw_boot_at(&l, addr, good.len), ==, LPU_FW_STATE_READY);
    g_rand_free(rnd);
    g_free(good.b);
    lpu_stop(&l);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_assert_cmpint(qcrypto_init(NULL), ==, 0);

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
    qtest_add_func("lpu-v3/dma-own-bars", test_dma_own_bars);
    qtest_add_func("lpu-v3/bus-master-off", test_bus_master_off);
    qtest_add_func("lpu-v3/irq-delivery", test_irq_delivery);
    qtest_add_func("lpu-v3/copy-data", test_copy_data);
    qtest_add_func("lpu-v3/copy-fault", test_copy_fault);
    qtest_add_func("lpu-v3/copy-seg-table", test_copy_seg_table);
    qtest_add_func("lpu-v3/copy-overlap", test_copy_overlap);
    qtest_add_func("lpu-v3/copy-page-tables", test_copy_page_tables);
    qtest_add_func("lpu-v3/copy-bus-master", test_copy_bus_master);
    qtest_add_func("lpu-v3/copy-large", test_copy_large);
    qtest_add_func("lpu-v3/copy-reset-mid-copy", test_copy_reset_mid_copy);
    qtest_add_func("lpu-v3/scrub", test_scrub);
    qtest_add_func("lpu-v3/scrub-large", test_scrub_large);
    qtest_add_func("lpu-v3/migrate-queued-work", test_migrate_queued_work);
    qtest_add_func("lpu-v3/migrate-mid-copy", test_migrate_mid_copy);
    qtest_add_func("lpu-v3/migrate-invalid-state",
                   test_migrate_invalid_state);
    qtest_add_func("lpu-v3/exec-matmul", test_exec_matmul);
    qtest_add_func("lpu-v3/exec-expert-ffn", test_exec_ffn);
    qtest_add_func("lpu-v3/exec-elementwise-norm", test_exec_elementwise);
    qtest_add_func("lpu-v3/exec-router", test_exec_router);
    qtest_add_func("lpu-v3/exec-router-chunks", test_exec_router_chunks);
    qtest_add_func("lpu-v3/exec-topk-ties", test_exec_topk_ties);
    qtest_add_func("lpu-v3/exec-copy", test_exec_copy);
    qtest_add_func("lpu-v3/exec-cycles", test_exec_cycles);
    qtest_add_func("lpu-v3/exec-refusals", test_exec_refusals);
    qtest_add_func("lpu-v3/exec-i8-extreme", test_exec_i8_extreme);
    qtest_add_func("lpu-v3/exec-plan-bounds", test_exec_plan_bounds);
    qtest_add_func("lpu-v3/exec-seg-base", test_exec_seg_base);
    qtest_add_func("lpu-v3/exec-dispatch-table-chunks",
                   test_exec_dispatch_table_chunks);
    qtest_add_func("lpu-v3/exec-reset-mid-program",
                   test_exec_reset_mid_program);
    qtest_add_func("lpu-v3/exec-migrate-mid-program",
                   test_exec_migrate_mid_program);
    qtest_add_func("lpu-v3/exec-migrate-mid-ffn", test_exec_migrate_mid_ffn);
    qtest_add_func("lpu-v3/exec-determinism", test_exec_determinism);
    qtest_add_func("lpu-v3/exec-worker-async", test_exec_worker_async);
    qtest_add_func("lpu-v3/exec-mutations", test_exec_mutations);

    qtest_add_func("lpu-v3/fw-boot-good", test_fw_boot_good);
    qtest_add_func("lpu-v3/fw-boot-errors", test_fw_boot_errors);
    qtest_add_func("lpu-v3/fw-no-key", test_fw_no_key);
    qtest_add_func("lpu-v3/fw-bad-key-property", test_fw_bad_key_prop);
    qtest_add_func("lpu-v3/fw-boot-hang", test_fw_boot_hang);
    qtest_add_func("lpu-v3/fw-queues", test_fw_queues);
    qtest_add_func("lpu-v3/fw-sram-reserved", test_fw_sram_reserved);
    qtest_add_func("lpu-v3/fw-cost-table", test_fw_cost_table);
    qtest_add_func("lpu-v3/fw-reset-flr", test_fw_reset_flr);
    qtest_add_func("lpu-v3/fw-migrate", test_fw_migrate);
    qtest_add_func("lpu-v3/fw-mutations", test_fw_mutations);
    return g_test_run();
}
