// SPDX-License-Identifier: MIT
/*
 * config.json of a Hugging Face MoE checkpoint. Two families:
 * - Mixtral (num_local_experts): every decoder layer is an MoE block with
 *   a softmax router whose top-k weights are renormalised.
 * - DeepSeek-MoE / Qwen-MoE (n_routed_experts or num_experts): routed
 *   experts of moe_intermediate_size, shared experts (DeepSeek's
 *   n_shared_experts of that width, or Qwen's one of
 *   shared_expert_intermediate_size), scoring_func softmax | sigmoid,
 *   norm_topk_prob; the MoE layers are those DeepSeek's
 *   first_k_dense_replace / moe_layer_freq and Qwen's decoder_sparse_step /
 *   mlp_only_layers select.
 * Every missing or malformed field is an error that names it.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "compile.h"

#define CFG_MAX_SIZE	(16U << 20)

struct cfg {
	struct json_object *root;
};

static int field(struct cfg *c, const char *key, struct json_object **out)
{
	return json_object_object_get_ex(c->root, key, out) &&
	       !json_object_is_type(*out, json_type_null);
}

/* Integer field @key in [min, max]; @def if absent and @def >= 0. */
static int get_uint(struct cfg *c, const char *key, long long def,
		    long long min, long long max, uint32_t *out)
{
	struct json_object *o;
	int64_t v;

	if (!field(c, key, &o)) {
		if (def < 0)
			return err("config.json: missing field '%s'", key);
		*out = (uint32_t)def;
		return 0;
	}
	if (!json_object_is_type(o, json_type_int))
		return err("config.json: field '%s' must be an integer", key);
	v = json_object_get_int64(o);
	if (v < min || v > max)
		return err("config.json: field '%s' = %lld not in %lld..%lld", key,
			   (long long)v, min, max);
	*out = (uint32_t)v;
	return 0;
}

static int get_dim(struct cfg *c, const char *key, uint32_t *out)
{
	return get_uint(c, key, -1, 1, LPU_EXEC_MAX_DIM, out);
}

static int get_bool(struct cfg *c, const char *key, int def, int *out)
{
	struct json_object *o;

	if (!field(c, key, &o)) {
		*out = def;
		return 0;
	}
	if (!json_object_is_type(o, json_type_boolean))
		return err("config.json: field '%s' must be true or false", key);
	*out = json_object_get_boolean(o);
	return 0;
}

static int get_number(struct cfg *c, const char *key, double *out)
{
	struct json_object *o;

	if (!field(c, key, &o))
		return err("config.json: missing field '%s'", key);
	if (!json_object_is_type(o, json_type_double) &&
	    !json_object_is_type(o, json_type_int))
		return err("config.json: field '%s' must be a number", key);
	*out = json_object_get_double(o);
	return 0;
}

/* A string field that, if present, must be one of two values. */
static int get_choice(struct cfg *c, const char *key, const char *def,
		      const char *other, int *is_other)
{
	struct json_object *o;
	const char *s;

	*is_other = 0;
	if (!field(c, key, &o))
		return 0;
	s = json_object_is_type(o, json_type_string) ? json_object_get_string(o) : NULL;
	if (s && !strcmp(s, def))
		return 0;
	if (s && other && !strcmp(s, other)) {
		*is_other = 1;
		return 0;
	}
	return err("config.json: field '%s' must be \"%s\"%s%s%s", key, def,
		   other ? " or \"" : "", other ? other : "", other ? "\"" : "");
}

static int in_list(struct cfg *c, const char *key, uint32_t layer, int *found)
{
	struct json_object *o;
	size_t i;

	*found = 0;
	if (!field(c, key, &o))
		return 0;
	if (!json_object_is_type(o, json_type_array))
		return err("config.json: field '%s' must be a list of layer numbers", key);
	for (i = 0; i < json_object_array_length(o); i++) {
		struct json_object *e = json_object_array_get_idx(o, i);

		if (!json_object_is_type(e, json_type_int))
			return err("config.json: field '%s' must be a list of layer numbers", key);
		if (json_object_get_int64(e) == layer)
			*found = 1;
	}
	return 0;
}

static int read_deepseek(struct cfg *c, struct moe_config *m)
{
	uint32_t first, freq, step, shared_width;
	struct json_object *o;
	int sigmoid = 0, renorm = 0, other, dense, ret;
	double scaling;
	uint32_t l;

	if (field(c, "n_routed_experts", &o))
		ret = get_dim(c, "n_routed_experts", &m->experts);
	else if (field(c, "num_experts", &o))
		ret = get_dim(c, "num_experts", &m->experts);
	else
		return err("config.json: missing field 'num_local_experts', 'n_routed_experts' or 'num_experts' (the expert count)");
	ret = ret ? ret : get_dim(c, "moe_intermediate_size", &m->ffn);
	ret = ret ? ret : get_choice(c, "scoring_func", "softmax", "sigmoid", &sigmoid);
	ret = ret ? ret : get_bool(c, "norm_topk_prob", 0, &renorm);
	ret = ret ? ret : get_choice(c, "topk_method", "greedy", NULL, &other);
	ret = ret ? ret : get_uint(c, "first_k_dense_replace", 0, 0, UINT32_MAX, &first);
	ret = ret ? ret : get_uint(c, "moe_layer_freq", 1, 1, UINT32_MAX, &freq);
	ret = ret ? ret : get_uint(c, "decoder_sparse_step", 1, 1, UINT32_MAX, &step);
	if (ret)
		return ret;
	if (field(c, "routed_scaling_factor", &o)) {
		ret = get_number(c, "routed_scaling_factor", &scaling);
		if (ret)
			return ret;
		if (scaling != 1.0)
			return err("config.json: field 'routed_scaling_factor' = %g is not supported (only 1)",
				   scaling);
	}
	m->router_flags = (sigmoid ? LPU_TOPK_SIGMOID : 0) | (renorm ? LPU_TOPK_RENORM : 0);
	if (field(c, "n_shared_experts", &o)) {
		ret = get_uint(c, "n_shared_experts", -1, 0, LPU_EXEC_MAX_DIM, &m->num_shared);
		if (ret)
			return ret;
		m->shared_ffn = m->num_shared ? m->ffn : 0;
		m->shared_prefix = "mlp.shared_experts.";
	} else if (field(c, "shared_expert_intermediate_size", &o)) {
		ret = get_uint(c, "shared_expert_intermediate_size", -1, 0,
			       LPU_EXEC_MAX_DIM, &shared_width);
		if (ret)
			return ret;
		m->num_shared = shared_width ? 1 : 0;
		m->shared_ffn = shared_width;
		m->shared_prefix = "mlp.shared_expert.";
	}
	if ((uint64_t)m->num_shared * m->shared_ffn > LPU_EXEC_MAX_DIM)
		return err("config.json: shared experts %u x %u wider than %u",
			   m->num_shared, m->shared_ffn, LPU_EXEC_MAX_DIM);
	for (l = 0; l < m->layers; l++) {
		ret = in_list(c, "mlp_only_layers", l, &dense);
		if (ret)
			return ret;
		if (l < first || l % freq || (l + 1) % step || dense)
			continue;
		if (m->n_moe == ARRAY_SIZE(m->moe_layers))
			break;
		m->moe_layers[m->n_moe++] = l;
	}
	return 0;
}

int config_read(const char *dir, struct moe_config *m)
{
	struct json_tokener *tok;
	struct cfg c = { NULL };
	struct json_object *o;
	char path[4096], *text;
	double eps;
	FILE *f;
	long len;
	int ret;
	uint32_t l;

	memset(m, 0, sizeof(*m));
	snprintf(path, sizeof(path), "%s/config.json", dir);
	f = fopen(path, "re");
	if (!f)
		return err("%s: %s", path, strerror(errno));
	len = fseek(f, 0, SEEK_END) ? -1 : ftell(f);
	if (len < 0 || len > CFG_MAX_SIZE || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return err("%s: unreadable or larger than %u bytes", path, CFG_MAX_SIZE);
	}
	text = malloc((size_t)len + 1);
	if (!text || fread(text, 1, (size_t)len, f) != (size_t)len) {
		fclose(f);
		free(text);
		return err("%s: cannot read", path);
	}
	fclose(f);
	text[len] = '\0';
	tok = json_tokener_new();
	if (!tok) {
		ret = err("out of memory");
		goto out;
	}
	c.root = json_tokener_parse_ex(tok, text, (int)len);
	if (!c.root || json_tokener_get_error(tok) != json_tokener_success) {
		ret = err("config.json: not valid JSON: %s (near byte %zu)",
			  json_error(tok), json_tokener_get_parse_end(tok));
		goto out;
	}
	if (!only_space(text + json_tokener_get_parse_end(tok),
			(size_t)len - json_tokener_get_parse_end(tok))) {
		ret = err("config.json: not valid JSON: bytes after the object (near byte %zu)",
			  json_tokener_get_parse_end(tok));
		goto out;
	}
	if (!json_object_is_type(c.root, json_type_object)) {
		ret = err("config.json: not a JSON object");
		goto out;
	}
	if (field(&c, "model_type", &o) && json_object_is_type(o, json_type_string))
		snprintf(m->model_type, sizeof(m->model_type), "%s",
			 json_object_get_string(o));
	ret = get_dim(&c, "hidden_size", &m->hidden);
	ret = ret ? ret : get_dim(&c, "num_hidden_layers", &m->layers);
	ret = ret ? ret : get_uint(&c, "num_experts_per_tok", -1, 1, LPU_EXEC_MAX_TOPK,
				   &m->top_k);
	ret = ret ? ret : get_number(&c, "rms_norm_eps", &eps);
	if (ret)
		goto out;
	m->eps = (float)eps;
	if (!(eps >= 0) || !isfinite(m->eps)) {
		ret = err("config.json: field 'rms_norm_eps' = %g must be finite and >= 0", eps);
		goto out;
	}
	if (field(&c, "num_local_experts", &o)) {
		m->arch = LPU_SCHED_ARCH_MIXTRAL;
		ret = get_dim(&c, "num_local_experts", &m->experts);
		ret = ret ? ret : get_dim(&c, "intermediate_size", &m->ffn);
		m->router_flags = LPU_TOPK_RENORM;
		for (l = 0; l < m->layers && l < ARRAY_SIZE(m->moe_layers); l++)
			m->moe_layers[m->n_moe++] = l;
	} else {
		m->arch = LPU_SCHED_ARCH_DEEPSEEK;
		ret = read_deepseek(&c, m);
	}
	if (ret)
		goto out;
	if (m->top_k > m->experts)
		ret = err("config.json: field 'num_experts_per_tok' = %u larger than the %u experts",
			  m->top_k, m->experts);
	else if (!m->n_moe)
		ret = err("config.json: no decoder layer is an MoE block");
out:
	json_object_put(c.root);
	if (tok)
		json_tokener_free(tok);
	free(text);
	return ret;
}

void layer_names(const struct moe_config *cfg, uint32_t layer,
		 struct layer_names *n)
{
	const char *moe = cfg->arch == LPU_SCHED_ARCH_MIXTRAL ? "block_sparse_moe" : "mlp";

	memset(n, 0, sizeof(*n));
	snprintf(n->gamma, sizeof(n->gamma),
		 "model.layers.%u.post_attention_layernorm.weight", layer);
	snprintf(n->gate, sizeof(n->gate), "model.layers.%u.%s.gate.weight", layer, moe);
	if (!cfg->num_shared)
		return;
	snprintf(n->shared[0], sizeof(n->shared[0]), "model.layers.%u.%sgate_proj.weight",
		 layer, cfg->shared_prefix);
	snprintf(n->shared[1], sizeof(n->shared[1]), "model.layers.%u.%sup_proj.weight",
		 layer, cfg->shared_prefix);
	snprintf(n->shared[2], sizeof(n->shared[2]), "model.layers.%u.%sdown_proj.weight",
		 layer, cfg->shared_prefix);
	snprintf(n->shared_gate, sizeof(n->shared_gate),
		 "model.layers.%u.mlp.shared_expert_gate.weight", layer);
}

void expert_names(const struct moe_config *cfg, uint32_t layer, uint32_t e,
		  char names[3][128])
{
	static const char *const mixtral[3] = { "w1", "w3", "w2" };
	static const char *const deepseek[3] = { "gate_proj", "up_proj", "down_proj" };
	int i;

	for (i = 0; i < 3; i++) {
		if (cfg->arch == LPU_SCHED_ARCH_MIXTRAL)
			snprintf(names[i], 128,
				 "model.layers.%u.block_sparse_moe.experts.%u.%s.weight",
				 layer, e, mixtral[i]);
		else
			snprintf(names[i], 128, "model.layers.%u.mlp.experts.%u.%s.weight",
				 layer, e, deepseek[i]);
	}
}
