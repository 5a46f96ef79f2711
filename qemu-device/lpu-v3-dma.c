/*
 * LPU v3 inference accelerator: the DMA engine (COPY descriptors)
 *
 * A COPY names its source and destination by device address. Every byte
 * is translated through the segment table the descriptor points to: SRAM
 * segments map straight onto the SRAM RAM block, host segments through a
 * two-level page table of bus addresses. Everything is checked before a
 * byte moves (the table, both ranges, their overlap and every page-table
 * entry the copy will use), so a bad request changes nothing.
 *
 * The data then moves from the queue's timer, at most a budget of bytes
 * per callback, in runs of physically contiguous pages: the progress lives
 * in the queue's in-flight state (and migrates with it).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/log.h"
#include "exec/memory.h"
#include "lpu-v3.h"
#include "trace.h"

QEMU_BUILD_BUG_ON(sizeof(struct lpu_segment) != LPU_SEGMENT_SIZE);

/* Host to host copies go through a bounce buffer of this size. */
#define LPU_V3_BOUNCE_SIZE      (64 * 1024)

#define LPU_V3_PAGE_MASK        ((uint64_t)LPU_PAGE_SIZE - 1)

int64_t lpu_v3_copy_ns(uint64_t size)
{
    int64_t cycles = LPU_COPY_BASE_CYCLES +
                     DIV_ROUND_UP(size, LPU_DMA_BYTES_PER_CYCLE);

    return cycles * 1000 / LPU_CLOCK_MHZ;
}

/* Why @seg breaks the segment rules, or NULL if it is fine. */
const char *lpu_v3_segment_error(const LpuV3State *s, const LpuV3Segment *seg)
{
    if (!seg->va || (seg->va & LPU_V3_PAGE_MASK)) {
        return "segment va is 0 or not page aligned";
    }
    if (!seg->size || (seg->size & LPU_V3_PAGE_MASK) ||
        seg->size > LPU_SEG_MAX_SIZE) {
        return "segment size is not a page multiple in 1..LPU_SEG_MAX_SIZE";
    }
    if (seg->va + seg->size < seg->va) {
        return "segment wraps around the device address space";
    }
    switch (seg->kind) {
    case LPU_SEG_SRAM:
        /* Operands are then aligned in SRAM as in device address space. */
        if (seg->base & LPU_V3_PAGE_MASK) {
            return "SRAM segment base is not page aligned";
        }
        if (seg->base > lpu_v3_sram_usable(s) ||
            seg->size > lpu_v3_sram_usable(s) - seg->base) {
            return "SRAM segment runs past the end of SRAM or into the "
                   "firmware's reserved top (SRAM_RESERVED)";
        }
        break;
    case LPU_SEG_HOST:
        if (seg->base & LPU_V3_PAGE_MASK) {
            return "page directory is not page aligned";
        }
        break;
    default:
        return "unknown segment kind";
    }
    return NULL;
}

/* Read and check the table; fills @segs. Returns an LPU_ERR_*. */
uint32_t lpu_v3_read_table(LpuV3Queue *q, uint64_t table, uint32_t count,
                           LpuV3Segment *segs, const char **why)
{
    g_autofree struct lpu_segment *raw = g_new(struct lpu_segment, count);
    uint64_t bytes = (uint64_t)count * LPU_SEGMENT_SIZE;
    uint32_t i;

    if (table & (LPU_SEGMENT_SIZE - 1)) {
        *why = "segment table is not 32-byte aligned";
        return LPU_ERR_SEG_TABLE;
    }
    if (table + bytes - 1 < table) {
        *why = "segment table wraps around the address space";
        return LPU_ERR_SEG_TABLE;
    }
    if (pci_dma_read(PCI_DEVICE(q->dev), table, raw, bytes) != MEMTX_OK) {
        *why = "segment table read failed";
        return LPU_ERR_DMA;
    }
    for (i = 0; i < count; i++) {
        LpuV3Segment *seg = &segs[i];

        seg->va = le64_to_cpu(raw[i].va);
        seg->size = le64_to_cpu(raw[i].size);
        seg->base = le64_to_cpu(raw[i].base);
        seg->kind = le32_to_cpu(raw[i].kind);
        *why = lpu_v3_segment_error(q->dev, seg);
        if (!*why && raw[i].rsvd) {
            *why = "segment rsvd is not 0";
        }
        /* Sorted and disjoint: each starts at or after the previous end. */
        if (!*why && i && seg->va < segs[i - 1].va + segs[i - 1].size) {
            *why = "segments are not sorted by va or overlap";
        }
        if (*why) {
            return LPU_ERR_SEG_TABLE;
        }
    }
    return LPU_ERR_OK;
}

/*
 * The segment of a checked table (sorted, disjoint) that holds @addr, or
 * NULL. Binary search: an EXEC looks up every operand of every instruction.
 */
const LpuV3Segment *lpu_v3_seg_find(const LpuV3Segment *segs, uint32_t count,
                                    uint64_t addr)
{
    uint32_t lo = 0, hi = count, mid;

    /* Find the last segment starting at or below @addr. */
    while (hi - lo > 1) {
        mid = lo + (hi - lo) / 2;
        if (segs[mid].va <= addr) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    if (!count || addr < segs[lo].va || addr - segs[lo].va >= segs[lo].size) {
        return NULL;
    }
    return &segs[lo];
}

/* Does [addr, addr + size) lie inside @seg, which holds @addr? */
bool lpu_v3_seg_holds(const LpuV3Segment *seg, uint64_t addr, uint64_t size)
{
    return size <= seg->size - (addr - seg->va);
}

/*
 * Check that [addr, addr + size) lies inside one segment; on success
 * *@seg is that segment. Otherwise sets the queue's fault registers.
 */
static uint32_t lpu_v3_check_range(LpuV3Queue *q, const LpuV3Segment *segs,
                                   uint32_t count, uint64_t addr,
                                   uint64_t size, uint32_t write,
                                   LpuV3Segment *seg, const char **why)
{
    const LpuV3Segment *found = lpu_v3_seg_find(segs, count, addr);

    if (!found) {
        q->fault_addr = addr;
        q->fault_info = LPU_FAULT_NOT_MAPPED | write;
        *why = write ? "destination not mapped" : "source not mapped";
        return LPU_ERR_FAULT;
    }
    if (!lpu_v3_seg_holds(found, addr, size)) {
        q->fault_addr = found->va + found->size;
        q->fault_info = LPU_FAULT_OUT_OF_BOUNDS | write;
        *why = write ? "destination runs past its segment" :
                       "source runs past its segment";
        return LPU_ERR_FAULT;
    }
    *seg = *found;
    return LPU_ERR_OK;
}

/*
 * Translation of one segment, with the leaf page last used cached: a copy
 * walks its pages in order, so each leaf is read once per callback.
 */
typedef struct LpuV3Walk {
    const LpuV3Segment *seg;
    uint64_t leaf;              /* index of the cached leaf, or UINT64_MAX */
    uint32_t count;             /* entries of it that the segment uses */
    uint64_t entry[LPU_PT_ENTRIES_PER_PAGE];
} LpuV3Walk;

/* Where a piece of a segment lives: SRAM offset or bus address. */
typedef struct LpuV3Run {
    bool sram;
    uint64_t addr;
    uint64_t len;
} LpuV3Run;

static void lpu_v3_walk_init(LpuV3Walk *w, const LpuV3Segment *seg)
{
    w->seg = seg;
    w->leaf = UINT64_MAX;
    w->count = 0;
}

static uint32_t lpu_v3_walk_leaf(LpuV3State *s, LpuV3Walk *w, uint64_t leaf,
                                 const char **why)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    uint64_t pages = w->seg->size / LPU_PAGE_SIZE;
    uint32_t n = MIN(LPU_PT_ENTRIES_PER_PAGE,
                     pages - leaf * LPU_PT_ENTRIES_PER_PAGE);
    uint64_t dir;
    uint32_t i;

    w->leaf = UINT64_MAX;
    if (pci_dma_read(pdev, w->seg->base + leaf * sizeof(dir), &dir,
                     sizeof(dir)) != MEMTX_OK) {
        *why = "page directory read failed";
        return LPU_ERR_DMA;
    }
    dir = le64_to_cpu(dir);
    if (dir & LPU_V3_PAGE_MASK) {
        *why = "leaf page address is not page aligned";
        return LPU_ERR_SEG_TABLE;
    }
    if (pci_dma_read(pdev, dir, w->entry, n * sizeof(w->entry[0])) !=
        MEMTX_OK) {
        *why = "leaf page read failed";
        return LPU_ERR_DMA;
    }
    for (i = 0; i < n; i++) {
        w->entry[i] = le64_to_cpu(w->entry[i]);
    }
    w->leaf = leaf;
    w->count = n;
    return LPU_ERR_OK;
}

/*
 * Translate @off of the walk's segment: the run starting there, at most
 * @max bytes, that is contiguous in SRAM or in bus address space.
 */
static uint32_t lpu_v3_translate(LpuV3State *s, LpuV3Walk *w, uint64_t off,
                                 uint64_t max, LpuV3Run *run,
                                 const char **why)
{
    uint64_t page = off / LPU_PAGE_SIZE;
    uint64_t leaf = page / LPU_PT_ENTRIES_PER_PAGE;
    uint32_t i = page % LPU_PT_ENTRIES_PER_PAGE;
    uint64_t len;
    uint32_t code;

    if (w->seg->kind == LPU_SEG_SRAM) {
        run->sram = true;
        run->addr = w->seg->base + off;
        run->len = max;
        return LPU_ERR_OK;
    }
    if (w->leaf != leaf) {
        code = lpu_v3_walk_leaf(s, w, leaf, why);
        if (code != LPU_ERR_OK) {
            return code;
        }
    }
    if (w->entry[i] & LPU_V3_PAGE_MASK) {
        *why = "data page address is not page aligned";
        return LPU_ERR_SEG_TABLE;
    }
    run->sram = false;
    run->addr = w->entry[i] + off % LPU_PAGE_SIZE;
    len = LPU_PAGE_SIZE - off % LPU_PAGE_SIZE;
    /* Following pages that are physically adjacent join the run. */
    while (len < max && i + 1 < w->count &&
           w->entry[i + 1] == w->entry[i] + LPU_PAGE_SIZE) {
        i++;
        len += LPU_PAGE_SIZE;
    }
    run->len = MIN(len, max);
    return LPU_ERR_OK;
}

/* Check every page-table entry that [off, off + size) of @seg uses. */
uint32_t lpu_v3_check_pages(LpuV3State *s, const LpuV3Segment *seg,
                            uint64_t off, uint64_t size, const char **why)
{
    g_autofree LpuV3Walk *w = g_new(LpuV3Walk, 1);
    uint64_t end = off + size;
    LpuV3Run run;
    uint32_t code;

    if (seg->kind != LPU_SEG_HOST) {
        return LPU_ERR_OK;
    }
    lpu_v3_walk_init(w, seg);
    while (off < end) {
        code = lpu_v3_translate(s, w, off, end - off, &run, why);
        if (code != LPU_ERR_OK) {
            return code;
        }
        off += run.len;
    }
    return LPU_ERR_OK;
}

uint32_t lpu_v3_copy_prepare(LpuV3Queue *q, const struct lpu_desc_copy *d,
                             const char **why)
{
    LpuV3Inflight *f = &q->inflight;
    uint64_t src = le64_to_cpu(d->src);
    uint64_t dst = le64_to_cpu(d->dst);
    uint64_t size = le64_to_cpu(d->size);
    uint32_t count = le32_to_cpu(d->seg_count);
    g_autofree LpuV3Segment *segs = g_new(LpuV3Segment, count);
    uint32_t code;

    code = lpu_v3_read_table(q, le64_to_cpu(d->seg_table), count, segs, why);
    if (code == LPU_ERR_OK) {
        code = lpu_v3_check_range(q, segs, count, src, size, 0,
                                  &f->src_seg, why);
    }
    if (code == LPU_ERR_OK) {
        code = lpu_v3_check_range(q, segs, count, dst, size, LPU_FAULT_WRITE,
                                  &f->dst_seg, why);
    }
    if (code == LPU_ERR_FAULT) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu-v3: queue %u entry %u: COPY fault at device "
                      "address 0x%" PRIx64 ", info 0x%x\n", q->index,
                      q->head, q->fault_addr, q->fault_info);
        trace_lpu_v3_copy_fault(q->index, q->head, q->fault_addr,
                                q->fault_info);
        return code;
    }
    if (code != LPU_ERR_OK) {
        return code;
    }
    /* Both ranges are inside a segment, so neither wraps. */
    if (src < dst + size && dst < src + size) {
        *why = "source and destination overlap";
        return LPU_ERR_OVERLAP;
    }
    code = lpu_v3_check_pages(q->dev, &f->src_seg, src - f->src_seg.va, size,
                              why);
    if (code == LPU_ERR_OK) {
        code = lpu_v3_check_pages(q->dev, &f->dst_seg, dst - f->dst_seg.va,
                                  size, why);
    }
    if (code != LPU_ERR_OK) {
        return code;
    }
    f->src = src;
    f->dst = dst;
    f->size = size;
    f->copied = 0;
    trace_lpu_v3_copy_start(q->index, q->head, src, dst, size);
    return LPU_ERR_OK;
}

/*
 * Move @n bytes from @src to @dst; both runs are at least @n long. Host to
 * host goes through *@bounce, allocated on first use.
 */
static uint32_t lpu_v3_move(LpuV3State *s, const LpuV3Run *src,
                            const LpuV3Run *dst, uint64_t n,
                            uint8_t **bounce, const char **why)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    uint8_t *sram = memory_region_get_ram_ptr(&s->sram);
    uint64_t done, piece;

    if (src->sram && dst->sram) {
        memmove(sram + dst->addr, sram + src->addr, n);
    } else if (dst->sram) {
        if (pci_dma_read(pdev, src->addr, sram + dst->addr, n) != MEMTX_OK) {
            *why = "source page read failed";
            memory_region_set_dirty(&s->sram, dst->addr, n);
            return LPU_ERR_DMA;
        }
    } else if (src->sram) {
        if (pci_dma_write(pdev, dst->addr, sram + src->addr, n) != MEMTX_OK) {
            *why = "destination page write failed";
            return LPU_ERR_DMA;
        }
        return LPU_ERR_OK;
    } else {
        if (!*bounce) {
            *bounce = g_malloc(LPU_V3_BOUNCE_SIZE);
        }
        for (done = 0; done < n; done += piece) {
            piece = MIN(n - done, LPU_V3_BOUNCE_SIZE);
            if (pci_dma_read(pdev, src->addr + done, *bounce, piece) !=
                MEMTX_OK) {
                *why = "source page read failed";
                return LPU_ERR_DMA;
            }
            if (pci_dma_write(pdev, dst->addr + done, *bounce, piece) !=
                MEMTX_OK) {
                *why = "destination page write failed";
                return LPU_ERR_DMA;
            }
        }
        return LPU_ERR_OK;
    }
    /* SRAM written behind the memory core's back: tell migration. */
    memory_region_set_dirty(&s->sram, dst->addr, n);
    return LPU_ERR_OK;
}

/*
 * Move @n bytes from offset @soff of segment @sseg to offset @doff of
 * @dseg; both ranges lie inside their segments. Used by COPY descriptors
 * and the tensor engine's COPY instruction. The page tables were checked
 * (or are checked here, entry by entry, as the walk reaches them); if one
 * fails, the bytes before it have moved.
 */
uint32_t lpu_v3_seg_move(LpuV3State *s, const LpuV3Segment *sseg,
                         uint64_t soff, const LpuV3Segment *dseg,
                         uint64_t doff, uint64_t n, const char **why)
{
    g_autofree LpuV3Walk *sw = g_new(LpuV3Walk, 1);
    g_autofree LpuV3Walk *dw = g_new(LpuV3Walk, 1);
    g_autofree uint8_t *bounce = NULL;
    uint64_t done = 0;
    LpuV3Run src, dst;
    uint32_t code;

    lpu_v3_walk_init(sw, sseg);
    lpu_v3_walk_init(dw, dseg);
    while (done < n) {
        code = lpu_v3_translate(s, sw, soff + done, n - done, &src, why);
        if (code == LPU_ERR_OK) {
            code = lpu_v3_translate(s, dw, doff + done, src.len, &dst, why);
        }
        if (code == LPU_ERR_OK) {
            code = lpu_v3_move(s, &src, &dst, dst.len, &bounce, why);
        }
        if (code != LPU_ERR_OK) {
            return code;
        }
        done += dst.len;
    }
    return LPU_ERR_OK;
}

/*
 * Read (or with @write, write) @len bytes at offset @off of @seg from (to)
 * @buf; the range lies inside the segment.
 */
uint32_t lpu_v3_seg_access(LpuV3State *s, const LpuV3Segment *seg,
                           uint64_t off, void *buf, uint64_t len, bool write,
                           const char **why)
{
    g_autofree LpuV3Walk *w = g_new(LpuV3Walk, 1);
    uint8_t *sram = memory_region_get_ram_ptr(&s->sram);
    uint8_t *p = buf;
    uint64_t done = 0;
    LpuV3Run run;
    uint32_t code;
    MemTxResult res;

    lpu_v3_walk_init(w, seg);
    while (done < len) {
        code = lpu_v3_translate(s, w, off + done, len - done, &run, why);
        if (code != LPU_ERR_OK) {
            return code;
        }
        if (run.sram && write) {
            memcpy(sram + run.addr, p + done, run.len);
            memory_region_set_dirty(&s->sram, run.addr, run.len);
        } else if (run.sram) {
            memcpy(p + done, sram + run.addr, run.len);
        } else {
            res = write ?
                  pci_dma_write(PCI_DEVICE(s), run.addr, p + done, run.len) :
                  pci_dma_read(PCI_DEVICE(s), run.addr, p + done, run.len);
            if (res != MEMTX_OK) {
                *why = write ? "host page write failed" :
                               "host page read failed";
                return LPU_ERR_DMA;
            }
        }
        done += run.len;
    }
    return LPU_ERR_OK;
}

/*
 * Copy the next bytes of the COPY on the engine, at most *@budget of them;
 * *@budget is reduced by what moved. The page tables were checked when
 * the COPY started and the driver must not change them while it runs; if
 * it does anyway, the copy halts with what has moved so far.
 */
uint32_t lpu_v3_copy_run(LpuV3Queue *q, uint64_t *budget, const char **why)
{
    LpuV3Inflight *f = &q->inflight;
    uint64_t n = MIN(*budget, f->size - f->copied);
    uint32_t code;

    code = lpu_v3_seg_move(q->dev, &f->src_seg,
                           f->src - f->src_seg.va + f->copied,
                           &f->dst_seg, f->dst - f->dst_seg.va + f->copied,
                           n, why);
    if (code != LPU_ERR_OK) {
        return code;
    }
    f->copied += n;
    *budget -= n;
    if (f->copied == f->size) {
        trace_lpu_v3_copy_done(q->index, q->head, f->size);
    }
    return LPU_ERR_OK;
}

/* Why the migrated COPY on the engine is impossible, or NULL. */
const char *lpu_v3_copy_check_state(const LpuV3Queue *q)
{
    const LpuV3Inflight *f = &q->inflight;

    if (f->flags) {
        return "in-flight COPY has flags";
    }
    if (!f->size || f->size > LPU_COPY_MAX_SIZE || f->copied > f->size) {
        return "in-flight COPY size or progress out of range";
    }
    if (lpu_v3_segment_error(q->dev, &f->src_seg) ||
        lpu_v3_segment_error(q->dev, &f->dst_seg)) {
        return "in-flight COPY segment is invalid";
    }
    if (f->size > f->src_seg.size || f->src < f->src_seg.va ||
        f->src - f->src_seg.va > f->src_seg.size - f->size ||
        f->size > f->dst_seg.size || f->dst < f->dst_seg.va ||
        f->dst - f->dst_seg.va > f->dst_seg.size - f->size) {
        return "in-flight COPY range outside its segment";
    }
    if (f->src < f->dst + f->size && f->dst < f->src + f->size) {
        return "in-flight COPY ranges overlap";
    }
    if (f->done_ns - f->start_ns != lpu_v3_copy_ns(f->size)) {
        return "in-flight COPY time does not match its size";
    }
    return NULL;
}
