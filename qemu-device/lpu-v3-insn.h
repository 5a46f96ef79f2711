/*
 * LPU v3 inference accelerator: the tensor engine's instruction set
 *
 * Decoding and validation of struct lpu_insn against a segment table, the
 * cycle cost of each instruction, and how each is cut into chunks of
 * bounded work (lpu-v3-insn.c). The EXEC descriptor and the step machine
 * that runs the chunks are in lpu-v3-exec.c, the arithmetic in
 * lpu-v3-tensor.c.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_LPU_V3_INSN_H
#define HW_MISC_LPU_V3_INSN_H

#include "lpu-v3.h"

#define LPU_V3_MAX_OPS          5

/* What an instruction does with an operand. */
enum {
    LPU_V3_IN,          /* read */
    LPU_V3_OUT,         /* written */
    LPU_V3_OUT_SAME,    /* written, may be the very same range as an input */
    LPU_V3_INOUT,       /* read and written (COMBINE's out) */
};

/* A decoded instruction that passed validation. */
typedef struct LpuV3Insn {
    uint8_t opcode;
    uint8_t dtype;
    uint16_t flags;
    uint32_t dim[5];
    uint64_t op[LPU_V3_MAX_OPS];
    uint64_t bytes[LPU_V3_MAX_OPS];     /* size of each operand's tensor */
    uint8_t role[LPU_V3_MAX_OPS];
    unsigned nops;                      /* op[0..nops) are used */
    /* Where each operand lives: its segment, and its offset in SRAM. */
    const LpuV3Segment *seg[LPU_V3_MAX_OPS];
    uint64_t sram[LPU_V3_MAX_OPS];
    unsigned cost_class;
    uint64_t units;                     /* cost units */
} LpuV3Insn;

uint64_t lpu_v3_sat_add(uint64_t a, uint64_t b);
uint64_t lpu_v3_cost(const LpuV3State *s, unsigned c, uint64_t units);
int64_t lpu_v3_cycles_ns(uint64_t cycles);
uint64_t lpu_v3_qblock_scales(uint64_t g, uint64_t n, uint64_t k);
uint32_t lpu_v3_insn_decode(const LpuV3Segment *segs, uint32_t nsegs,
                            const struct lpu_insn *raw, LpuV3Insn *in,
                            uint64_t *fault);
void lpu_v3_plan(const LpuV3Insn *in, LpuV3Plan *p);

#endif
