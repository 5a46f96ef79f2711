// SPDX-License-Identifier: MIT
/*
 * The weights of the MoE blocks: planned in the weights slots, then read
 * from the checkpoint (every tensor checked for presence, dtype and shape
 * against config.json, and for finite values, also in bf16), converted to the schedule's
 * weight dtype and stored. Tensors of decoder layers or routed experts that
 * config.json does not have are a mismatch, refused rather than ignored.
 * Per block b (MoE layer l):
 *   block{b}.gamma       F32 [H]            post_attention_layernorm
 *   block{b}.router      W   [E, H]         gate
 *   block{b}.w13         W   [E, 2F, H]     rows 0..F-1 w1/gate_proj,
 *                                           F..2F-1 w3/up_proj
 *   block{b}.w2          W   [E, H, F]      w2/down_proj
 *   block{b}.shared_w13  W   [1, 2Fs, H]    shared experts, if any
 *   block{b}.shared_w2   W   [1, H, Fs]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"

static int weight(struct compile *c, uint32_t b, const char *what,
		  uint32_t dtype, uint32_t rank, uint32_t d0, uint32_t d1,
		  uint32_t d2)
{
	uint32_t shape[3] = { d0, d1, d2 };
	char name[LPU_SCHED_NAME_LEN];

	snprintf(name, sizeof(name), "block%u.%s", b, what);
	return plan_weight(&c->plan, name, dtype, rank, shape);
}

int model_plan(struct compile *c)
{
	const struct moe_config *m = &c->cfg;
	uint32_t dt = c->opt.dtype, fs = m->num_shared * m->shared_ffn, b;

	for (b = 0; b < c->opt.blocks; b++) {
		struct block_weights *w = &c->blk[b];

		w->gamma = weight(c, b, "gamma", LPU_DT_F32, 1, m->hidden, 0, 0);
		w->router = weight(c, b, "router", dt, 2, m->experts, m->hidden, 0);
		w->w13 = weight(c, b, "w13", dt, 3, m->experts, 2 * m->ffn, m->hidden);
		w->w2 = weight(c, b, "w2", dt, 3, m->experts, m->hidden, m->ffn);
		w->shared_w13 = -1;
		w->shared_w2 = -1;
		if (w->gamma < 0 || w->router < 0 || w->w13 < 0 || w->w2 < 0)
			return -1;
		if (!fs)
			continue;
		w->shared_w13 = weight(c, b, "shared_w13", dt, 3, 1, 2 * fs, m->hidden);
		w->shared_w2 = weight(c, b, "shared_w2", dt, 3, 1, m->hidden, fs);
		if (w->shared_w13 < 0 || w->shared_w2 < 0)
			return -1;
	}
	return 0;
}

/*
 * Checkpoint tensor @name, [rows, k], into rows @first.. of the schedule
 * tensor @t ([rows_total, k] as stored).
 */
static int load(struct compile *c, const struct checkpoint *ck, float *buf,
		const char *name, uint64_t rows, uint64_t k, int t,
		uint64_t rows_total, uint64_t first)
{
	const struct lpu_sched_tensor *st = &c->plan.tensors[t];
	uint64_t shape[2] = { rows, k }, i;
	int ret;

	/* a norm weight is 1-D in the checkpoint */
	ret = ckpt_load(ck, name, rows == 1 && st->rank == 1 ? 1 : 2,
			rows == 1 && st->rank == 1 ? &shape[1] : shape, buf);
	if (ret)
		return ret;
	for (i = 0; i < rows * k; i++) {
		if (!isfinite(buf[i]))
			return err("tensor '%s': element %llu is not finite", name,
				   (unsigned long long)i);
		/* rounding to bf16 must not make it infinite either */
		if (st->dtype == LPU_DT_BF16 && (f32_to_bf16(buf[i]) & 0x7fff) == 0x7f80)
			return err("tensor '%s': element %llu (%g) overflows bf16", name,
				   (unsigned long long)i, buf[i]);
	}
	store_rows(plan_weight_data(&c->plan, t), st->dtype, rows_total, k, first,
		   rows, buf);
	return 0;
}

static int fill_block(struct compile *c, const struct checkpoint *ck,
		      uint32_t b, float *buf)
{
	const struct moe_config *m = &c->cfg;
	const struct block_weights *w = &c->blk[b];
	uint32_t layer = m->moe_layers[b], e, h = m->hidden, f = m->ffn;
	uint32_t fs = m->num_shared * m->shared_ffn;
	struct layer_names n;
	char ex[3][128];
	int ret;

	layer_names(m, layer, &n);
	ret = load(c, ck, buf, n.gamma, 1, h, w->gamma, 1, 0);
	ret = ret ? ret : load(c, ck, buf, n.gate, m->experts, h, w->router,
			       m->experts, 0);
	for (e = 0; e < m->experts && !ret; e++) {
		uint64_t rows13 = 2ULL * f * m->experts;

		expert_names(m, layer, e, ex);
		ret = load(c, ck, buf, ex[0], f, h, w->w13, rows13, 2ULL * f * e);
		ret = ret ? ret : load(c, ck, buf, ex[1], f, h, w->w13, rows13,
				       2ULL * f * e + f);
		ret = ret ? ret : load(c, ck, buf, ex[2], h, f, w->w2,
				       (uint64_t)h * m->experts, (uint64_t)h * e);
	}
	if (ret || !fs)
		return ret;
	if (ckpt_has(ck, n.shared_gate))
		return err("tensor '%s': a gated shared expert (Qwen) is not supported by the instruction set",
			   n.shared_gate);
	ret = load(c, ck, buf, n.shared[0], fs, h, w->shared_w13, 2ULL * fs, 0);
	ret = ret ? ret : load(c, ck, buf, n.shared[1], fs, h, w->shared_w13,
			       2ULL * fs, fs);
	return ret ? ret : load(c, ck, buf, n.shared[2], h, fs, w->shared_w2, h, 0);
}

/*
 * A decimal index at *@s followed by '.', e.g. the "12." of
 * "model.layers.12.mlp"; *@s moves past the dot. Returns 0 if there is none.
 */
static int index_at(const char **s, uint64_t *out)
{
	const char *p = *s;
	uint64_t v = 0;

	if (*p < '0' || *p > '9')
		return 0;
	for (; *p >= '0' && *p <= '9'; p++)
		v = v > UINT32_MAX ? v : v * 10 + (uint64_t)(*p - '0');
	if (*p != '.')
		return 0;
	*out = v;
	*s = p + 1;
	return 1;
}

static int skip(const char **s, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(*s, prefix, n))
		return 0;
	*s += n;
	return 1;
}

int model_check_names(const struct moe_config *m, const struct checkpoint *ck)
{
	const char *experts = m->arch == LPU_SCHED_ARCH_MIXTRAL ?
			      "block_sparse_moe.experts." : "mlp.experts.";
	uint64_t layer, e;
	size_t i;

	for (i = 0; i < ck->ntensors; i++) {
		const char *name = ck->tensors[i].name, *s = name;

		if (!skip(&s, "model.layers.") || !index_at(&s, &layer))
			continue;
		if (layer >= m->layers)
			return err("tensor '%s': layer %llu, but config.json has num_hidden_layers %u",
				   name, (unsigned long long)layer, m->layers);
		if (skip(&s, experts) && index_at(&s, &e) && e >= m->experts)
			return err("tensor '%s': expert %llu, but config.json has %u experts",
				   name, (unsigned long long)e, m->experts);
	}
	return 0;
}

int model_fill(struct compile *c, const struct checkpoint *ck)
{
	const struct moe_config *m = &c->cfg;
	uint64_t fmax = m->ffn > m->num_shared * m->shared_ffn ?
			m->ffn : (uint64_t)m->num_shared * m->shared_ffn;
	uint64_t most = (uint64_t)m->hidden * (fmax > m->experts ? fmax : m->experts);
	float *buf = malloc(most * sizeof(float));
	uint32_t b;
	int ret = 0;

	if (!buf)
		return err("out of memory");
	for (b = 0; b < c->opt.blocks && !ret; b++)
		ret = fill_block(c, ck, b, buf);
	free(buf);
	return ret;
}
