/* SPDX-License-Identifier: MIT */
/*
 * lpu-compile: Hugging Face MoE checkpoint -> LPU schedule (uapi/lpu_schedule.h).
 *
 * checkpoint.c  the safetensors files of a directory, every header checked
 * config.c      config.json: dimensions, router, which layers are MoE
 * convert.c     weight conversion: BF16 rounding, the int8 quant rule
 * plan.c        buffer slots and the tensors placed in them
 * model.c       the weights: located by naming, checked, converted
 * program.c     scratch tensors, the instruction stream, inputs/outputs
 * container.c   the schedule file, sealed and checked by lpu_sched_parse()
 * check.c       --check: a schedule file read and checked as a loader would
 * describe.c    --describe: a checked schedule file as a JSON document
 */
#ifndef LPU_COMPILE_H
#define LPU_COMPILE_H

#include <stddef.h>
#include <stdint.h>

#include "drm/lpu_accel.h"
#include "lpu_hw.h"
#include "lpu_schedule.h"

#define COMPILE_VERSION_MAJOR	0
#define COMPILE_VERSION_MINOR	1
#define COMPILE_VERSION_PATCH	0

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define ST_MAX_RANK		8
#define MAX_BLOCKS		64	/* 2 + 3 * blocks I/O entries <= 256 */

/* Print "lpu-compile: <message>" on stderr; returns -1 for "return err(..)". */
__attribute__((format(printf, 1, 2)))
int err(const char *fmt, ...);

struct json_tokener;
/* Why json-c stopped, worded for a person (incomplete input included). */
const char *json_error(struct json_tokener *tok);
/* Only JSON whitespace in @len bytes at @s. */
int only_space(const char *s, size_t len);

/* ---- checkpoint.c ---- */
struct st_tensor {
	char *name;
	char dtype[16];			/* as the header says: "F32", "BF16", ... */
	uint32_t rank;
	uint64_t shape[ST_MAX_RANK];
	uint64_t offset;		/* of the data in the file */
	uint64_t bytes;
	const char *file;
	int fd;				/* the file's, open until ckpt_close() */
};

struct st_file {
	char *path;
	int fd;				/* -1 if not open */
	uint64_t size;			/* when opened */
};

struct checkpoint {
	struct st_file *files;
	unsigned int nfiles;
	struct st_tensor *tensors;	/* sorted by name */
	size_t ntensors;
};

int ckpt_open(struct checkpoint *ck, const char *dir);
void ckpt_close(struct checkpoint *ck);
/*
 * Tensor @name as binary32 into @out, checked: present, F32 or BF16, of
 * @rank dims @shape. Errors name the tensor.
 */
int ckpt_load(const struct checkpoint *ck, const char *name, uint32_t rank,
	      const uint64_t *shape, float *out);
int ckpt_has(const struct checkpoint *ck, const char *name);

/* ---- config.c ---- */
struct moe_config {
	uint32_t arch;			/* LPU_SCHED_ARCH_* */
	uint32_t hidden, ffn, experts, top_k, layers;
	uint32_t num_shared, shared_ffn;	/* shared width: their product */
	uint32_t router_flags;		/* LPU_TOPK_* */
	float eps;
	uint32_t moe_layers[MAX_BLOCKS * 4];	/* decoder layers that are MoE */
	uint32_t n_moe;
	const char *shared_prefix;	/* "mlp.shared_experts." or "mlp.shared_expert." */
	char model_type[32];
};

int config_read(const char *dir, struct moe_config *cfg);

/* Checkpoint names of one MoE layer's tensors. */
struct layer_names {
	char gamma[128], gate[128];
	char shared[3][128];		/* gate (w1), up (w3), down (w2) */
	char shared_gate[128];		/* Qwen's gated shared expert: refused */
};

void layer_names(const struct moe_config *cfg, uint32_t layer,
		 struct layer_names *n);
/* Expert @e's gate (w1), up (w3) and down (w2) weights. */
void expert_names(const struct moe_config *cfg, uint32_t layer, uint32_t e,
		  char names[3][128]);

/* ---- convert.c ---- */
uint16_t f32_to_bf16(float f);
/* The LPU quant rule on one row of @k values. */
void quant_row(const float *v, uint64_t k, int8_t *q, float *scale);
/*
 * Store @rows rows of @k binary32 weights as @dtype at row @first of a
 * [rows_total, k] weight tensor at @dst (an I8 tensor is a qblock).
 */
void store_rows(void *dst, uint32_t dtype, uint64_t rows_total, uint64_t k,
		uint64_t first, uint64_t rows, const float *w);

/* ---- plan.c ---- */
#define PLAN_MAX_TENSORS	LPU_SCHED_MAX_TENSORS

struct plan_slot {
	uint64_t size;			/* bytes used, then rounded to a page */
	uint32_t domain, role;
	uint64_t image_offset;		/* weights slots: offset in the image */
};

struct plan {
	struct plan_slot slots[DRM_LPU_MAX_SLOTS];
	uint32_t nslots;
	struct lpu_sched_tensor tensors[PLAN_MAX_TENSORS];
	uint32_t ntensors;
	uint8_t *weights;		/* the WEIGHTS section image */
	uint64_t weights_size;
};

int plan_slot(struct plan *p, uint32_t role, uint32_t domain);
/* Place a tensor at the end of slot @slot; returns its index or -1. */
int plan_tensor(struct plan *p, uint32_t slot, const char *name,
		uint32_t dtype, uint32_t rank, const uint32_t *shape);
/* Place a tensor at a given offset of a slot (inside a copied table). */
int plan_tensor_at(struct plan *p, uint32_t slot, uint64_t offset,
		   const char *name, uint32_t dtype, uint32_t rank,
		   const uint32_t *shape);
/* A weight, in the current weights slot or a new one when it is full. */
int plan_weight(struct plan *p, const char *name, uint32_t dtype,
		uint32_t rank, const uint32_t *shape);
/* Round the slot sizes up and lay the weights slots out in one image. */
int plan_finish(struct plan *p);
uint64_t plan_addr(const struct plan *p, int tensor);
uint64_t plan_bytes(const struct plan *p, int tensor);
/* Where a weight tensor's bytes go in the image (after plan_finish). */
uint8_t *plan_weight_data(struct plan *p, int tensor);

/* ---- model.c / program.c ---- */
struct options {
	const char *dir, *out;
	uint32_t tokens, blocks;
	float capacity_factor;
	uint32_t dtype;			/* LPU_DT_F32, _BF16, _I8 */
	int program_host;
	const char *dump_name, *dump_file;
	const char *check;
	const char *describe;
	int quiet;
};

struct block_weights {
	int gamma, router, w13, w2, shared_w13, shared_w2;
};

struct compile {
	struct options opt;
	struct moe_config cfg;
	uint32_t capacity;
	struct plan plan;
	struct block_weights blk[MAX_BLOCKS];
	struct lpu_insn *insns;
	uint32_t ninsns, insn_cap;
	struct lpu_sched_io io[LPU_SCHED_MAX_IO];
	uint32_t nio;
	uint32_t slot_scratch, slot_program, slot_input, slot_output, slot_stats;
};

uint32_t capacity_for(float cf, uint32_t tokens, uint32_t k, uint32_t experts);
int model_plan(struct compile *c);
int model_fill(struct compile *c, const struct checkpoint *ck);
/*
 * Refuse checkpoint tensors of decoder layers >= num_hidden_layers or of
 * routed experts >= E: config.json and the checkpoint disagree.
 */
int model_check_names(const struct moe_config *m, const struct checkpoint *ck);
int program_build(struct compile *c);

/*
 * Where the parts of a routing table of @e experts x @c slots start (the
 * DISPATCH rule of uapi/lpu_hw.h: i32 token[E][C], f32 weight[E][C],
 * i32 load[E], i32 dropped[E]; LPU_ROUTING_SIZE(e, c) bytes in all).
 * Callers keep e and c within LPU_EXEC_MAX_DIM, so nothing overflows.
 */
struct routing_layout {
	uint64_t token, weight, load, dropped;
};

static inline struct routing_layout routing_layout(uint64_t e, uint64_t c)
{
	struct routing_layout r = {
		.token = LPU_ROUTING_TOKEN_OFFSET,
		.weight = LPU_ROUTING_WEIGHT_OFFSET(e, c),
		.load = LPU_ROUTING_LOAD_OFFSET(e, c),
		.dropped = LPU_ROUTING_DROPPED_OFFSET(e, c),
	};

	return r;
}

/* ---- check.c ---- */
struct lpu_sched_view;
/*
 * Read @path and check it with lpu_sched_parse(); on success *@buf holds
 * the file (free() it after the view). Errors are printed, returns -1.
 */
int sched_read(const char *path, uint8_t **buf, struct lpu_sched_view *v);
int check_file(const char *path);

/* ---- describe.c ---- */
/* Print the checked schedule @path as JSON on stdout; -1 if refused. */
int describe_file(const char *path);

/* ---- container.c ---- */
int container_write(const struct compile *c, const char *path);

#endif /* LPU_COMPILE_H */
