/*
 * LPU v3 inference accelerator: telemetry
 *
 * Counters are exact. Temperature, power and clock are a model: they follow
 * the engines' utilisation over the last complete telemetry window of
 * device time, so they are deterministic for a given sequence of work.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/timer.h"
#include "lpu-v3.h"

#define LPU_V3_PPM              1000000

static int64_t lpu_v3_overlap(int64_t start, int64_t end,
                              int64_t win_start, int64_t win_end)
{
    int64_t a = MAX(start, win_start);
    int64_t b = MIN(end, win_end);

    return b > a ? b - a : 0;
}

/* Move the window bookkeeping forward to the window holding @now. */
static void lpu_v3_telemetry_roll(LpuV3State *s, int64_t now)
{
    int64_t index = now / LPU_TELEMETRY_WINDOW_NS;

    if (index <= s->window_index) {
        return;
    }
    s->prev_window_busy_ns = index == s->window_index + 1 ?
                             s->window_busy_ns : 0;
    s->window_busy_ns = 0;
    s->window_index = index;
}

void lpu_v3_telemetry_reset(LpuV3State *s)
{
    s->busy_ns = 0;
    s->desc_done = 0;
    s->error_count = 0;
    s->busy_ns_hi_latch = 0;
    s->desc_done_hi_latch = 0;
    s->window_index = 0;
    s->window_busy_ns = 0;
    s->prev_window_busy_ns = 0;
}

/* Account a descriptor that kept an engine busy over [start_ns, done_ns). */
void lpu_v3_telemetry_retire(LpuV3State *s, int64_t start_ns, int64_t done_ns)
{
    int64_t win;

    lpu_v3_telemetry_roll(s, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
    win = s->window_index * LPU_TELEMETRY_WINDOW_NS;
    s->prev_window_busy_ns += lpu_v3_overlap(start_ns, done_ns,
                                             win - LPU_TELEMETRY_WINDOW_NS,
                                             win);
    s->window_busy_ns += lpu_v3_overlap(start_ns, done_ns, win,
                                        win + LPU_TELEMETRY_WINDOW_NS);
    s->busy_ns += done_ns - start_ns;
    s->desc_done++;
}

/* Average utilisation of all engines over the last complete window, ppm. */
static uint64_t lpu_v3_utilisation_ppm(LpuV3State *s)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    int64_t win, busy;
    unsigned i;

    lpu_v3_telemetry_roll(s, now);
    win = s->window_index * LPU_TELEMETRY_WINDOW_NS;
    busy = s->prev_window_busy_ns;
    /* Descriptors still on an engine count for the time they have run. */
    for (i = 0; i < LPU_NUM_QUEUES; i++) {
        const LpuV3Inflight *f = &s->queues[i].inflight;

        if (f->valid) {
            busy += lpu_v3_overlap(f->start_ns, MIN(f->done_ns, now),
                                   win - LPU_TELEMETRY_WINDOW_NS, win);
        }
    }
    return MIN((uint64_t)busy * LPU_V3_PPM /
               (LPU_TELEMETRY_WINDOW_NS * LPU_NUM_QUEUES), LPU_V3_PPM);
}

static bool lpu_v3_any_queue_busy(LpuV3State *s)
{
    unsigned i;

    for (i = 0; i < LPU_NUM_QUEUES; i++) {
        if (lpu_v3_queue_busy(&s->queues[i])) {
            return true;
        }
    }
    return false;
}

/* @idle + (@busy - @idle) * @ppm / 1e6; the firmware keeps busy >= idle. */
static uint32_t lpu_v3_lerp(uint32_t idle, uint32_t busy, uint64_t ppm)
{
    return idle + (uint64_t)(busy - idle) * ppm / LPU_V3_PPM;
}

/* Reads of the telemetry block; false if @addr is not one of its registers */
bool lpu_v3_telemetry_read(LpuV3State *s, hwaddr addr, uint32_t *val)
{
    const LpuV3Thermal *th = &s->fw_thermal;
    uint64_t util;

    switch (addr) {
    /*
     * The model's constants are the firmware's (struct lpu_fw_thermal);
     * before it boots nothing is modelled, and these read 0.
     */
    case LPU_REG_TEMP_MC:
        *val = lpu_v3_fw_ready(s) ?
               lpu_v3_lerp(th->temp_idle_mc, th->temp_busy_mc,
                           lpu_v3_utilisation_ppm(s)) : 0;
        return true;
    case LPU_REG_POWER_MW:
        *val = lpu_v3_fw_ready(s) ?
               lpu_v3_lerp(th->power_idle_mw, th->power_busy_mw,
                           lpu_v3_utilisation_ppm(s)) : 0;
        return true;
    case LPU_REG_CLOCK_MHZ:
        if (!lpu_v3_fw_ready(s)) {
            *val = 0;
            return true;
        }
        util = lpu_v3_utilisation_ppm(s);
        /* The core clock is gated down while no engine works. */
        *val = util || lpu_v3_any_queue_busy(s) ? LPU_CLOCK_MHZ :
                                                  th->clock_idle_mhz;
        return true;
    case LPU_REG_BUSY_NS_LO:
        s->busy_ns_hi_latch = extract64(s->busy_ns, 32, 32);
        *val = extract64(s->busy_ns, 0, 32);
        return true;
    case LPU_REG_BUSY_NS_HI:
        *val = s->busy_ns_hi_latch;
        return true;
    case LPU_REG_DESC_DONE_LO:
        s->desc_done_hi_latch = extract64(s->desc_done, 32, 32);
        *val = extract64(s->desc_done, 0, 32);
        return true;
    case LPU_REG_DESC_DONE_HI:
        *val = s->desc_done_hi_latch;
        return true;
    case LPU_REG_ERROR_COUNT:
        *val = s->error_count;
        return true;
    default:
        return false;
    }
}

/*
 * Why migrated telemetry state is impossible, or NULL if it is fine. The
 * window arithmetic above relies on these bounds: a window index whose
 * start (plus a window) overflows int64_t, or a negative busy time that
 * turns into a huge unsigned one, must never reach it.
 */
const char *lpu_v3_telemetry_check_state(const LpuV3State *s)
{
    if (s->window_index < 0 ||
        s->window_index > LPU_V3_TIME_MAX_NS / LPU_TELEMETRY_WINDOW_NS) {
        return "window_index out of range";
    }
    /* Four engines are busy at most four windows' worth per window. */
    if (s->window_busy_ns < 0 ||
        s->window_busy_ns > LPU_NUM_QUEUES * LPU_TELEMETRY_WINDOW_NS) {
        return "window_busy_ns out of range";
    }
    if (s->prev_window_busy_ns < 0 ||
        s->prev_window_busy_ns > LPU_NUM_QUEUES * LPU_TELEMETRY_WINDOW_NS) {
        return "prev_window_busy_ns out of range";
    }
    return NULL;
}
