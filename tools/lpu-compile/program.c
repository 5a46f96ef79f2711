// SPDX-License-Identifier: MIT
/*
 * The program: scratch tensors, the instruction stream and the inputs and
 * outputs of a run (uapi/lpu_schedule.md, "The program"):
 *
 *   COPY input x -> scratch.x
 *   per block b:
 *     RMSNORM(scratch.x, block{b}.gamma) -> scratch.h
 *     MATMUL(scratch.h, block{b}.router) -> scratch.logits     [T, E]
 *     TOPK -> block{b}.idx [T, k], scratch.weight [T, k]
 *     DISPATCH(scratch.h, idx, weight) -> scratch.xe, block{b}.routing
 *     EXPERT_FFN(scratch.xe, w13, w2, routing) -> scratch.ye
 *     shared experts: EXPERT_FFN(scratch.h; G 1, C T) -> scratch.ys,
 *                     ADD(scratch.x, scratch.ys) -> scratch.x
 *     COMBINE(scratch.ye, routing) into scratch.x
 *   COPY scratch.x -> output y; per block COPY idx -> block{b}.router_idx
 *   and the routing table whole, whose load and dropped counters are the
 *   outputs block{b}.expert_load and block{b}.expert_dropped.
 *
 * Control flow never depends on data; every expert runs C slots.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "sched_capacity.h"

uint32_t capacity_for(float cf, uint32_t tokens, uint32_t k, uint32_t experts)
{
	/* The loader checks a manifest's C with the same function. */
	return lpu_sched_capacity(cf, tokens, k, experts);
}

static int emit(struct compile *c, uint8_t opcode, uint8_t dtype,
		uint16_t flags, const uint32_t dim[5], const uint64_t op[5])
{
	struct lpu_insn *in;
	int i;

	if (c->ninsns == LPU_EXEC_MAX_INSNS)
		return err("program longer than %u instructions", LPU_EXEC_MAX_INSNS);
	if (c->ninsns == c->insn_cap) {
		uint32_t cap = c->insn_cap ? 2 * c->insn_cap : 64;
		void *grown = realloc(c->insns, cap * sizeof(*c->insns));

		if (!grown)
			return err("out of memory");
		c->insns = grown;
		c->insn_cap = cap;
	}
	in = &c->insns[c->ninsns++];
	memset(in, 0, sizeof(*in));
	in->opcode = opcode;
	in->dtype = dtype;
	in->flags = flags;	/* host order here; the container converts */
	for (i = 0; i < 5; i++) {
		in->dim[i] = dim[i];
		in->op[i] = op[i];
	}
	return 0;
}

#define EMIT(c, opc, dt, fl, d0, d1, d2, d3, d4, o0, o1, o2, o3, o4)	\
	emit(c, opc, dt, fl, (const uint32_t[5]) { d0, d1, d2, d3, d4 },	\
	     (const uint64_t[5]) { o0, o1, o2, o3, o4 })

/* COPY, which moves up to LPU_COPY_MAX_SIZE bytes at once. */
static int copy(struct compile *c, uint64_t dst, uint64_t src, uint64_t bytes)
{
	while (bytes) {
		uint64_t n = bytes < LPU_COPY_MAX_SIZE ? bytes : LPU_COPY_MAX_SIZE;
		int ret = EMIT(c, LPU_INSN_COPY, 0, 0, (uint32_t)n, 0, 0, 0, 0,
			       src, dst, 0, 0, 0);

		if (ret)
			return ret;
		src += n;
		dst += n;
		bytes -= n;
	}
	return 0;
}

/* out = a + b over @n floats, in pieces of at most LPU_EXEC_MAX_DIM. */
static int add(struct compile *c, uint64_t out, uint64_t a, uint64_t b, uint64_t n)
{
	while (n) {
		uint64_t m = n < LPU_EXEC_MAX_DIM ? n : LPU_EXEC_MAX_DIM;
		int ret = EMIT(c, LPU_INSN_ADD, LPU_DT_F32, 0, (uint32_t)m, 0, 0, 0, 0,
			       a, b, out, 0, 0);

		if (ret)
			return ret;
		a += 4 * m;
		b += 4 * m;
		out += 4 * m;
		n -= m;
	}
	return 0;
}

struct scratch {
	int x, h, logits, weight, xe, ye, ys;
	int idx[MAX_BLOCKS], routing[MAX_BLOCKS];
};

static int plan_scratch(struct compile *c, struct scratch *s)
{
	const struct moe_config *m = &c->cfg;
	struct plan *p = &c->plan;
	uint32_t sl = c->slot_scratch, t = c->opt.tokens, h = m->hidden;
	uint32_t e = m->experts, k = m->top_k, cap = c->capacity, b;
	uint64_t routing = LPU_ROUTING_SIZE(e, cap) / 4;
	char name[LPU_SCHED_NAME_LEN];

	if (routing > UINT32_MAX)
		return err("routing table of %u experts x %u slots too large", e, cap);
	s->x = plan_tensor(p, sl, "scratch.x", LPU_DT_F32, 2, (uint32_t[]){ t, h });
	s->h = plan_tensor(p, sl, "scratch.h", LPU_DT_F32, 2, (uint32_t[]){ t, h });
	s->logits = plan_tensor(p, sl, "scratch.logits", LPU_DT_F32, 2,
				(uint32_t[]){ t, e });
	s->weight = plan_tensor(p, sl, "scratch.weight", LPU_DT_F32, 2,
				(uint32_t[]){ t, k });
	s->xe = plan_tensor(p, sl, "scratch.xe", LPU_DT_F32, 3, (uint32_t[]){ e, cap, h });
	s->ye = plan_tensor(p, sl, "scratch.ye", LPU_DT_F32, 3, (uint32_t[]){ e, cap, h });
	s->ys = m->num_shared ?
		plan_tensor(p, sl, "scratch.ys", LPU_DT_F32, 2, (uint32_t[]){ t, h }) : 0;
	if (s->x < 0 || s->h < 0 || s->logits < 0 || s->weight < 0 || s->xe < 0 ||
	    s->ye < 0 || s->ys < 0)
		return -1;
	for (b = 0; b < c->opt.blocks; b++) {
		snprintf(name, sizeof(name), "block%u.idx", b);
		s->idx[b] = plan_tensor(p, sl, name, LPU_DT_I32, 2, (uint32_t[]){ t, k });
		/* i32 token[E][C], f32 weight[E][C], i32 load[E], i32 dropped[E] */
		snprintf(name, sizeof(name), "block%u.routing", b);
		s->routing[b] = plan_tensor(p, sl, name, LPU_DT_I32, 1,
					    (uint32_t[]){ (uint32_t)routing });
		if (s->idx[b] < 0 || s->routing[b] < 0)
			return -1;
	}
	return 0;
}

static int add_io(struct compile *c, int tensor, uint32_t dir, uint32_t kind,
		  uint32_t block)
{
	struct lpu_sched_io *io;

	if (tensor < 0)
		return -1;
	if (c->nio == LPU_SCHED_MAX_IO)
		return err("more than %u inputs and outputs", LPU_SCHED_MAX_IO);
	io = &c->io[c->nio++];
	io->tensor = (uint32_t)tensor;
	io->direction = dir;
	io->kind = kind;
	io->block = block;
	return 0;
}

static int block_program(struct compile *c, const struct scratch *s, uint32_t b)
{
	const struct moe_config *m = &c->cfg;
	const struct block_weights *w = &c->blk[b];
	const struct plan *p = &c->plan;
	uint32_t t = c->opt.tokens, h = m->hidden, e = m->experts, k = m->top_k;
	uint32_t cap = c->capacity, dt = c->opt.dtype, eps;
	uint32_t fs = m->num_shared * m->shared_ffn;
	uint64_t x = plan_addr(p, s->x), hn = plan_addr(p, s->h);
	uint64_t idx = plan_addr(p, s->idx[b]), rt = plan_addr(p, s->routing[b]);
	int ret;

	memcpy(&eps, &m->eps, 4);
	ret = EMIT(c, LPU_INSN_RMSNORM, LPU_DT_F32, 0, t, h, eps, 0, 0,
		   x, plan_addr(p, w->gamma), hn, 0, 0);
	ret = ret ? ret : EMIT(c, LPU_INSN_MATMUL, dt, 0, t, e, h, 1, 0,
			       hn, plan_addr(p, w->router), plan_addr(p, s->logits), 0, 0);
	ret = ret ? ret : EMIT(c, LPU_INSN_TOPK, LPU_DT_F32, m->router_flags, t, e, k, 0, 0,
			       plan_addr(p, s->logits), idx, plan_addr(p, s->weight), 0, 0);
	ret = ret ? ret : EMIT(c, LPU_INSN_DISPATCH, LPU_DT_F32, 0, t, h, e, k, cap,
			       hn, idx, plan_addr(p, s->weight), plan_addr(p, s->xe), rt);
	ret = ret ? ret : EMIT(c, LPU_INSN_EXPERT_FFN, dt, 0, e, cap, h, m->ffn, 0,
			       plan_addr(p, s->xe), plan_addr(p, w->w13),
			       plan_addr(p, w->w2), plan_addr(p, s->ye), rt);
	if (!ret && fs) {
		ret = EMIT(c, LPU_INSN_EXPERT_FFN, dt, 0, 1, t, h, fs, 0,
			   hn, plan_addr(p, w->shared_w13), plan_addr(p, w->shared_w2),
			   plan_addr(p, s->ys), 0);
		ret = ret ? ret : add(c, x, x, plan_addr(p, s->ys), (uint64_t)t * h);
	}
	return ret ? ret : EMIT(c, LPU_INSN_COMBINE, LPU_DT_F32, 0, t, h, e, cap, 0,
				plan_addr(p, s->ye), rt, x, 0, 0);
}

/* The limits the device enforces, checked here with a clear message. */
static int check_limits(const struct compile *c)
{
	const struct moe_config *m = &c->cfg;
	uint64_t t = c->opt.tokens, fs = (uint64_t)m->num_shared * m->shared_ffn;
	uint64_t ffn = (uint64_t)m->experts * c->capacity * 3 * m->hidden * m->ffn;

	if ((uint64_t)m->experts * m->hidden * t > LPU_EXEC_MAX_MACS ||
	    ffn > LPU_EXEC_MAX_MACS || t * 3 * m->hidden * fs > LPU_EXEC_MAX_MACS)
		return err("an instruction would do more than %llu multiply-accumulates: fewer tokens",
			   (unsigned long long)LPU_EXEC_MAX_MACS);
	if ((uint64_t)m->experts * c->capacity * m->hidden * 4 > DRM_LPU_BO_MAX_SIZE)
		return err("expert slots (%u x %u x %u floats) larger than one buffer",
			   m->experts, c->capacity, m->hidden);
	return 0;
}

int program_build(struct compile *c)
{
	const struct moe_config *m = &c->cfg;
	struct plan *p = &c->plan;
	uint32_t t = c->opt.tokens, h = m->hidden, e = m->experts, k = m->top_k;
	uint64_t rbytes = LPU_ROUTING_SIZE(e, c->capacity);
	struct routing_layout rl = routing_layout(e, c->capacity);
	char name[LPU_SCHED_NAME_LEN];
	struct scratch s = { 0 };
	int in, y, ret, slot;
	uint32_t b;

	ret = check_limits(c);
	if (ret)
		return ret;
	slot = plan_slot(p, LPU_SLOT_SCRATCH, DRM_LPU_BO_SRAM);
	c->slot_scratch = (uint32_t)slot;
	ret = slot < 0 ? slot : plan_scratch(c, &s);
	if (ret)
		return ret;
	slot = plan_slot(p, LPU_SLOT_INPUT, DRM_LPU_BO_HOST);
	if (slot < 0)
		return -1;
	c->slot_input = (uint32_t)slot;
	in = plan_tensor(p, c->slot_input, "x", LPU_DT_F32, 2, (uint32_t[]){ t, h });
	ret = add_io(c, in, LPU_IO_INPUT, LPU_IO_DATA, 0);
	slot = ret ? -1 : plan_slot(p, LPU_SLOT_OUTPUT, DRM_LPU_BO_HOST);
	if (slot < 0)
		return -1;
	c->slot_output = (uint32_t)slot;
	y = plan_tensor(p, c->slot_output, "y", LPU_DT_F32, 2, (uint32_t[]){ t, h });
	ret = add_io(c, y, LPU_IO_OUTPUT, LPU_IO_DATA, 0);

	ret = ret ? ret : copy(c, plan_addr(p, s.x), plan_addr(p, in), plan_bytes(p, in));
	for (b = 0; b < c->opt.blocks && !ret; b++)
		ret = block_program(c, &s, b);
	ret = ret ? ret : copy(c, plan_addr(p, y), plan_addr(p, s.x), plan_bytes(p, y));
	for (b = 0; b < c->opt.blocks && !ret; b++) {
		uint64_t table;
		int out;

		snprintf(name, sizeof(name), "block%u.router_idx", b);
		out = plan_tensor(p, c->slot_output, name, LPU_DT_I32, 2,
				  (uint32_t[]){ t, k });
		ret = add_io(c, out, LPU_IO_OUTPUT, LPU_IO_ROUTER_INDEX, b);
		ret = ret ? ret : copy(c, plan_addr(p, out), plan_addr(p, s.idx[b]),
				       plan_bytes(p, out));
		if (ret)
			break;
		/* the whole table: its counters need not be 64-byte aligned */
		table = (p->slots[c->slot_output].size + LPU_EXEC_ALIGN - 1) &
			~(uint64_t)(LPU_EXEC_ALIGN - 1);
		snprintf(name, sizeof(name), "block%u.expert_load", b);
		out = plan_tensor_at(p, c->slot_output, table + rl.load, name,
				     LPU_DT_I32, 1, (uint32_t[]){ e });
		ret = add_io(c, out, LPU_IO_OUTPUT, LPU_IO_EXPERT_LOAD, b);
		snprintf(name, sizeof(name), "block%u.expert_dropped", b);
		out = ret ? -1 : plan_tensor_at(p, c->slot_output, table + rl.dropped,
						name, LPU_DT_I32, 1, (uint32_t[]){ e });
		ret = ret ? ret : add_io(c, out, LPU_IO_OUTPUT, LPU_IO_EXPERT_DROPPED, b);
		ret = ret ? ret : copy(c, DRM_LPU_EXEC_SLOT_ADDR(c->slot_output) + table,
				       plan_addr(p, s.routing[b]), rbytes);
	}
	if (ret)
		return ret;

	slot = plan_slot(p, LPU_SLOT_PROGRAM,
			 c->opt.program_host ? DRM_LPU_BO_HOST : DRM_LPU_BO_SRAM);
	if (slot < 0)
		return -1;
	c->slot_program = (uint32_t)slot;
	p->slots[slot].size = (uint64_t)c->ninsns * LPU_INSN_SIZE;
	slot = plan_slot(p, LPU_SLOT_STATS, DRM_LPU_BO_HOST);
	if (slot < 0)
		return -1;
	c->slot_stats = (uint32_t)slot;
	p->slots[slot].size = LPU_EXEC_STATS_SIZE;
	return 0;
}
