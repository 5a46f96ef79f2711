/*
 * LPU v3 inference accelerator: SRAM scrub engine
 *
 * The driver zeroes freed SRAM with it before the range goes back to its
 * allocator, so no client ever sees another client's data. SCRUB_STATUS
 * reports BUSY for the modelled time, ceil(size /
 * LPU_SCRUB_BYTES_PER_CYCLE) cycles of QEMU_CLOCK_VIRTUAL, and until the
 * whole range is zero. The zeroing runs from the engine's timer, at most
 * LPU_V3_SCRUB_CHUNK bytes per callback: scrubbing all of a 16 GiB SRAM
 * must not hold the vCPU (and the BQL) in one register write.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "exec/memory.h"
#include "lpu-v3.h"
#include "trace.h"

#define LPU_V3_PAGE_MASK        ((uint64_t)LPU_PAGE_SIZE - 1)

static void lpu_v3_scrub_run(void *opaque)
{
    LpuV3State *s = opaque;
    uint8_t *sram = memory_region_get_ram_ptr(&s->sram);
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    uint64_t n = MIN(s->scrub_end - s->scrub_next, LPU_V3_SCRUB_CHUNK);

    if (n) {
        memset(sram + s->scrub_next, 0, n);
        /* SRAM written behind the memory core's back: tell migration. */
        memory_region_set_dirty(&s->sram, s->scrub_next, n);
        s->scrub_next += n;
    }
    if (s->scrub_next < s->scrub_end) {
        /* Yield; a timer due "now" would run again in this same walk. */
        timer_mod(s->scrub_timer, now + 1);
        return;
    }
    if (now < s->scrub_done_ns) {
        timer_mod(s->scrub_timer, s->scrub_done_ns);
        return;
    }
    s->scrub_busy = false;
    trace_lpu_v3_scrub_done();
}

/* Why the programmed range cannot be scrubbed, or NULL if it can. */
static const char *lpu_v3_scrub_range_error(const LpuV3State *s)
{
    if ((s->scrub_offset | s->scrub_size) & LPU_V3_PAGE_MASK) {
        return "offset or size is not a multiple of LPU_PAGE_SIZE";
    }
    if (!s->scrub_size) {
        return "size is 0";
    }
    if (s->scrub_offset > lpu_v3_sram_usable(s) ||
        s->scrub_size > lpu_v3_sram_usable(s) - s->scrub_offset) {
        return "range runs past the end of SRAM or into the firmware's "
               "reserved top (SRAM_RESERVED)";
    }
    return NULL;
}

static void lpu_v3_scrub_start(LpuV3State *s)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    const char *why;

    if (s->scrub_busy) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu-v3: scrub START while busy ignored\n");
        return;
    }
    why = lpu_v3_scrub_range_error(s);
    if (why) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu-v3: scrub of SRAM 0x%" PRIx64 " size 0x%" PRIx64
                      " refused: %s\n", s->scrub_offset, s->scrub_size, why);
        trace_lpu_v3_scrub_refused(s->scrub_offset, s->scrub_size);
        s->scrub_error = true;
        return;
    }
    s->scrub_error = false;
    s->scrub_busy = true;
    s->scrub_next = s->scrub_offset;
    s->scrub_end = s->scrub_offset + s->scrub_size;
    s->scrub_done_ns = now + DIV_ROUND_UP(s->scrub_size,
                                          LPU_SCRUB_BYTES_PER_CYCLE) *
                             1000 / LPU_CLOCK_MHZ;
    timer_mod(s->scrub_timer, now);
    trace_lpu_v3_scrub_start(s->scrub_offset, s->scrub_size,
                             s->scrub_done_ns);
}

bool lpu_v3_scrub_read(LpuV3State *s, hwaddr addr, uint32_t *val)
{
    switch (addr) {
    case LPU_REG_SCRUB_OFFSET_LO:
        *val = extract64(s->scrub_offset, 0, 32);
        return true;
    case LPU_REG_SCRUB_OFFSET_HI:
        *val = extract64(s->scrub_offset, 32, 32);
        return true;
    case LPU_REG_SCRUB_SIZE_LO:
        *val = extract64(s->scrub_size, 0, 32);
        return true;
    case LPU_REG_SCRUB_SIZE_HI:
        *val = extract64(s->scrub_size, 32, 32);
        return true;
    case LPU_REG_SCRUB_CTRL:
        *val = 0;       /* write-only */
        return true;
    case LPU_REG_SCRUB_STATUS:
        *val = (s->scrub_busy ? LPU_SCRUB_STATUS_BUSY : 0) |
               (s->scrub_error ? LPU_SCRUB_STATUS_ERROR : 0);
        return true;
    default:
        return false;
    }
}

/* Writes to the scrub block; false if @addr is not one of its registers. */
bool lpu_v3_scrub_write(LpuV3State *s, hwaddr addr, uint32_t val)
{
    switch (addr) {
    case LPU_REG_SCRUB_OFFSET_LO:
        s->scrub_offset = deposit64(s->scrub_offset, 0, 32, val);
        return true;
    case LPU_REG_SCRUB_OFFSET_HI:
        s->scrub_offset = deposit64(s->scrub_offset, 32, 32, val);
        return true;
    case LPU_REG_SCRUB_SIZE_LO:
        s->scrub_size = deposit64(s->scrub_size, 0, 32, val);
        return true;
    case LPU_REG_SCRUB_SIZE_HI:
        s->scrub_size = deposit64(s->scrub_size, 32, 32, val);
        return true;
    case LPU_REG_SCRUB_CTRL:
        if (val == LPU_SCRUB_CMD_START) {
            lpu_v3_scrub_start(s);
        } else {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "lpu-v3: unknown SCRUB_CTRL command %u\n", val);
        }
        return true;
    case LPU_REG_SCRUB_STATUS:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu-v3: write to read-only SCRUB_STATUS\n");
        return true;
    default:
        return false;
    }
}

void lpu_v3_scrub_init(LpuV3State *s)
{
    s->scrub_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, lpu_v3_scrub_run, s);
}

void lpu_v3_scrub_finalize(LpuV3State *s)
{
    timer_free(s->scrub_timer);
    s->scrub_timer = NULL;
}

/*
 * The engine stops; what it zeroed so far stays zeroed, the rest of the
 * range is left as it is (SRAM survives reset). A scrub cut short this way
 * reads back as ERROR, not as idle: a driver polling for BUSY to clear
 * must not take a half-zeroed range for a clean one.
 */
void lpu_v3_scrub_reset(LpuV3State *s)
{
    bool aborted = s->scrub_busy;

    timer_del(s->scrub_timer);
    s->scrub_offset = 0;
    s->scrub_size = 0;
    s->scrub_busy = false;
    s->scrub_error = aborted;
    s->scrub_done_ns = 0;
    s->scrub_next = 0;
    s->scrub_end = 0;
}

/* Why migrated scrub state is impossible, or NULL if it is fine. */
const char *lpu_v3_scrub_check_state(const LpuV3State *s)
{
    if (!lpu_v3_time_ok(s->scrub_done_ns)) {
        return "scrub completion time out of range";
    }
    /* BUSY only follows a START the engine accepted, which clears ERROR. */
    if (s->scrub_busy && s->scrub_error) {
        return "scrub busy and in error";
    }
    /* What is left to zero lies inside SRAM; an idle engine has nothing. */
    if (s->scrub_next > s->scrub_end || s->scrub_end > s->sram_size ||
        (!s->scrub_busy && s->scrub_next != s->scrub_end)) {
        return "scrub progress out of range";
    }
    return NULL;
}

void lpu_v3_scrub_post_load(LpuV3State *s)
{
    if (s->scrub_busy) {
        timer_mod(s->scrub_timer, s->scrub_next < s->scrub_end ?
                  qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) : s->scrub_done_ns);
    } else {
        timer_del(s->scrub_timer);
    }
}
