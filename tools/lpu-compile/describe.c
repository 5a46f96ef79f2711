// SPDX-License-Identifier: MIT
/*
 * lpu-compile --describe FILE: a schedule file, checked by lpu_sched_parse(),
 * as one JSON document on stdout. It is how tools outside C (the host
 * interpreter tools/moe/sched_interp.py) read schedules: the byte layouts,
 * magic, enum values and address encoding stay in uapi/lpu_schedule.h,
 * uapi/lpu_hw.h and uapi/drm/lpu_accel.h, and a reader only sees names,
 * numbers and {slot, offset} operands. Slot images are not copied into
 * the JSON: each slot gives the file offset and length of its image.
 *
 * Instructions are not checked by the parser (the device checks them), so
 * a value without a name is printed as its number, an operand outside
 * every slot as {"address": N}, and an operand of 0 as null.
 */
#include <endian.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "compile.h"
#include "sched_file.h"

struct enum_name {
	uint32_t value;
	const char *name;
};

/* { LPU_INSN_COPY, "COPY" }: the value from the header, the name from its macro */
#define ENUM_NAME(prefix, name)	{ prefix##name, #name }

static const struct enum_name opcode_names[] = {
	ENUM_NAME(LPU_INSN_, COPY),
	ENUM_NAME(LPU_INSN_, MATMUL),
	ENUM_NAME(LPU_INSN_, EXPERT_FFN),
	ENUM_NAME(LPU_INSN_, ADD),
	ENUM_NAME(LPU_INSN_, MUL),
	ENUM_NAME(LPU_INSN_, SILU),
	ENUM_NAME(LPU_INSN_, SWIGLU),
	ENUM_NAME(LPU_INSN_, RMSNORM),
	ENUM_NAME(LPU_INSN_, SOFTMAX),
	ENUM_NAME(LPU_INSN_, TOPK),
	ENUM_NAME(LPU_INSN_, DISPATCH),
	ENUM_NAME(LPU_INSN_, COMBINE),
	{ 0, NULL }
};

static const struct enum_name dtype_names[] = {
	ENUM_NAME(LPU_DT_, NONE),
	ENUM_NAME(LPU_DT_, F32),
	ENUM_NAME(LPU_DT_, BF16),
	ENUM_NAME(LPU_DT_, I8),
	ENUM_NAME(LPU_DT_, I32),
	{ 0, NULL }
};

/* struct lpu_insn.flags of TOPK, and struct lpu_sched_manifest.router_flags */
static const struct enum_name topk_flag_names[] = {
	ENUM_NAME(LPU_TOPK_, SIGMOID),
	ENUM_NAME(LPU_TOPK_, RENORM),
	{ 0, NULL }
};

static const struct enum_name section_flag_names[] = {
	ENUM_NAME(LPU_SCHED_SEC_, OPTIONAL),
	{ 0, NULL }
};

static const struct enum_name no_flag_names[] = {
	{ 0, NULL }
};

static const struct enum_name arch_names[] = {
	ENUM_NAME(LPU_SCHED_ARCH_, MIXTRAL),
	ENUM_NAME(LPU_SCHED_ARCH_, DEEPSEEK),
	{ 0, NULL }
};

static const struct enum_name section_names[] = {
	ENUM_NAME(LPU_SCHED_SEC_, MANIFEST),
	ENUM_NAME(LPU_SCHED_SEC_, SLOTS),
	ENUM_NAME(LPU_SCHED_SEC_, TENSORS),
	ENUM_NAME(LPU_SCHED_SEC_, PROGRAM),
	ENUM_NAME(LPU_SCHED_SEC_, IO),
	ENUM_NAME(LPU_SCHED_SEC_, WEIGHTS),
	{ 0, NULL }
};

static const struct enum_name domain_names[] = {
	ENUM_NAME(DRM_LPU_BO_, SRAM),
	ENUM_NAME(DRM_LPU_BO_, HOST),
	{ 0, NULL }
};

static const struct enum_name role_names[] = {
	ENUM_NAME(LPU_SLOT_, WEIGHTS),
	ENUM_NAME(LPU_SLOT_, SCRATCH),
	ENUM_NAME(LPU_SLOT_, PROGRAM),
	ENUM_NAME(LPU_SLOT_, INPUT),
	ENUM_NAME(LPU_SLOT_, OUTPUT),
	ENUM_NAME(LPU_SLOT_, STATS),
	{ 0, NULL }
};

static const struct enum_name direction_names[] = {
	ENUM_NAME(LPU_IO_, INPUT),
	ENUM_NAME(LPU_IO_, OUTPUT),
	{ 0, NULL }
};

static const struct enum_name io_kind_names[] = {
	ENUM_NAME(LPU_IO_, DATA),
	ENUM_NAME(LPU_IO_, ROUTER_INDEX),
	ENUM_NAME(LPU_IO_, EXPERT_LOAD),
	ENUM_NAME(LPU_IO_, EXPERT_DROPPED),
	{ 0, NULL }
};

/*
 * json-c's constructors return NULL when out of memory, and adding to a
 * NULL object would abort in json-c. These wrappers note the failure in
 * @oom instead; describe_file() then refuses to print a partial document.
 * NULL stays a legitimate value (JSON null) where an address is 0 or a
 * number is not finite.
 */
static int oom;

static json_object *made(json_object *o)
{
	if (!o)
		oom = 1;
	return o;
}

static json_object *new_object(void)
{
	return made(json_object_new_object());
}

static json_object *new_array(void)
{
	return made(json_object_new_array());
}

static json_object *new_array_ext(int n)
{
	return made(json_object_new_array_ext(n));
}

static json_object *new_string(const char *s)
{
	return made(json_object_new_string(s));
}

static json_object *new_uint64(uint64_t v)
{
	return made(json_object_new_uint64(v));
}

static json_object *new_double(double d)
{
	return made(json_object_new_double(d));
}

/* @v into @o as @key; on failure @v is freed. */
static void add(json_object *o, const char *key, json_object *v)
{
	if (!o || json_object_object_add(o, key, v)) {
		json_object_put(v);
		oom = 1;
	}
}

/* @v appended to @a; on failure @v is freed. */
static void push(json_object *a, json_object *v)
{
	if (!a || json_object_array_add(a, v)) {
		json_object_put(v);
		oom = 1;
	}
}

static json_object *u64_json(uint64_t v)
{
	return new_uint64(v);
}

/* The name of @value, or the number itself when the table has none. */
static json_object *enum_json(const struct enum_name *t, uint32_t value)
{
	for (; t->name; t++)
		if (t->value == value)
			return new_string(t->name);
	return u64_json(value);
}

/* The names of the bits set in @flags; bits without a name as one number. */
static json_object *flags_json(const struct enum_name *t, uint32_t flags)
{
	json_object *a = new_array();

	for (; t->name; t++) {
		if (flags & t->value) {
			push(a, new_string(t->name));
			flags &= ~t->value;
		}
	}
	if (flags)
		push(a, u64_json(flags));
	return a;
}

/* binary32 bits as a number (printed with 17 digits: exact), null if not finite */
static json_object *f32_bits_json(uint32_t bits)
{
	float f;

	memcpy(&f, &bits, sizeof(f));
	return isfinite(f) ? new_double(f) : NULL;
}

static json_object *version_json(uint32_t major, uint32_t minor)
{
	json_object *o = new_object();

	add(o, "major", u64_json(major));
	add(o, "minor", u64_json(minor));
	return o;
}

/*
 * A device address of the run's address space: {slot, offset} when it is
 * inside slot i (DRM_LPU_EXEC_SLOT_ADDR(i), the slot's size bytes), null
 * for 0 (no operand), else {"address": N}.
 */
static json_object *addr_json(const struct lpu_sched_view *v, uint64_t addr)
{
	json_object *o;
	uint32_t i;

	if (!addr)
		return NULL;
	o = new_object();
	for (i = 0; i < v->slot_count; i++) {
		uint64_t base = DRM_LPU_EXEC_SLOT_ADDR(i);

		if (addr >= base && addr - base < le64toh(v->slots[i].size)) {
			add(o, "slot", u64_json(i));
			add(o, "offset", u64_json(addr - base));
			return o;
		}
	}
	add(o, "address", u64_json(addr));
	return o;
}

static json_object *header_json(const struct lpu_sched_view *v)
{
	const struct lpu_sched_header *h = v->hdr;
	uint32_t hw = le32toh(h->target_hw_version);
	uint32_t cv = le32toh(h->compiler_version);
	json_object *o = new_object(), *secs;
	char id[2 * sizeof(h->build_id) + 1], ver[32];
	uint32_t i;

	for (i = 0; i < sizeof(h->build_id); i++)
		snprintf(id + 2 * i, 3, "%02x", h->build_id[i]);
	snprintf(ver, sizeof(ver), "%u.%u.%u", cv >> 16, (cv >> 8) & 0xff, cv & 0xff);
	add(o, "format_version",
	    version_json(le16toh(h->version_major),
			 le16toh(h->version_minor)));
	add(o, "target_hw_version", version_json(hw >> 16, hw & 0xffff));
	add(o, "compiler_version", new_string(ver));
	add(o, "build_id", new_string(id));
	add(o, "file_size", u64_json(le64toh(h->file_size)));
	secs = new_array();
	for (i = 0; i < v->section_count; i++) {
		const struct lpu_sched_section *s = &v->sections[i];
		json_object *so = new_object();

		add(so, "index", u64_json(i));
		add(so, "type", enum_json(section_names, le32toh(s->type)));
		add(so, "flags", flags_json(section_flag_names, le32toh(s->flags)));
		add(so, "offset", u64_json(le64toh(s->offset)));
		add(so, "size", u64_json(le64toh(s->size)));
		push(secs, so);
	}
	add(o, "sections", secs);
	return o;
}

static json_object *manifest_json(const struct lpu_sched_view *v)
{
	const struct lpu_sched_manifest *m = v->manifest;
	json_object *o = new_object();
	char model[sizeof(m->model) + 1];

	memcpy(model, m->model, sizeof(m->model));
	model[sizeof(m->model)] = '\0';
	add(o, "arch", enum_json(arch_names, le32toh(m->arch)));
	add(o, "model", new_string(model));
	add(o, "num_blocks", u64_json(le32toh(m->num_blocks)));
	add(o, "hidden", u64_json(le32toh(m->hidden)));
	add(o, "ffn", u64_json(le32toh(m->ffn)));
	add(o, "num_experts", u64_json(le32toh(m->num_experts)));
	add(o, "top_k", u64_json(le32toh(m->top_k)));
	add(o, "num_shared", u64_json(le32toh(m->num_shared)));
	add(o, "shared_ffn", u64_json(le32toh(m->shared_ffn)));
	add(o, "tokens", u64_json(le32toh(m->tokens)));
	add(o, "capacity", u64_json(le32toh(m->capacity)));
	add(o, "weight_dtype", enum_json(dtype_names, le32toh(m->weight_dtype)));
	add(o, "act_dtype", enum_json(dtype_names, le32toh(m->act_dtype)));
	add(o, "router_flags", flags_json(topk_flag_names, le32toh(m->router_flags)));
	add(o, "rms_eps", f32_bits_json(le32toh(m->rms_eps)));
	add(o, "capacity_factor", f32_bits_json(le32toh(m->capacity_factor)));
	add(o, "insn_count", u64_json(le32toh(m->insn_count)));
	add(o, "program", addr_json(v, le64toh(m->program)));
	add(o, "stats", addr_json(v, le64toh(m->stats)));
	return o;
}

static json_object *slots_json(const struct lpu_sched_view *v)
{
	json_object *a = new_array();
	uint32_t i;

	for (i = 0; i < v->slot_count; i++) {
		const struct lpu_sched_slot *s = &v->slots[i];
		uint64_t size = le64toh(s->size), off = le64toh(s->init_offset);
		uint32_t sec = le32toh(s->init_section);
		json_object *o = new_object(), *init = NULL;

		add(o, "index", u64_json(i));
		add(o, "size", u64_json(size));
		add(o, "domain", enum_json(domain_names, le32toh(s->domain)));
		add(o, "role", enum_json(role_names, le32toh(s->role)));
		add(o, "device_address", u64_json(DRM_LPU_EXEC_SLOT_ADDR(i)));
		if (sec != LPU_SCHED_NO_INIT) {
			/*
			 * The parser checked the section index and that the
			 * offset is inside it. The image is the rest of the
			 * section, cut at the slot's size (as the loader does).
			 */
			const struct lpu_sched_section *ss = &v->sections[sec];
			uint64_t len = le64toh(ss->size) - off;

			if (len > size)
				len = size;
			init = new_object();
			add(init, "section", u64_json(sec));
			add(init, "section_type", enum_json(section_names, le32toh(ss->type)));
			add(init, "offset", u64_json(off));
			add(init, "file_offset", u64_json(le64toh(ss->offset) + off));
			add(init, "length", u64_json(len));
		}
		add(o, "init", init);
		push(a, o);
	}
	return a;
}

static json_object *tensors_json(const struct lpu_sched_view *v)
{
	json_object *a = new_array();
	uint32_t i, d;

	for (i = 0; i < v->tensor_count; i++) {
		const struct lpu_sched_tensor *t = &v->tensors[i];
		json_object *o = new_object();
		json_object *shape = new_array();

		/* the parser checked the NUL termination and the rank */
		for (d = 0; d < le32toh(t->rank); d++)
			push(shape, u64_json(le32toh(t->shape[d])));
		add(o, "index", u64_json(i));
		add(o, "name", new_string(t->name));
		add(o, "slot", u64_json(le32toh(t->slot)));
		add(o, "dtype", enum_json(dtype_names, le32toh(t->dtype)));
		add(o, "offset", u64_json(le64toh(t->offset)));
		add(o, "bytes", u64_json(le64toh(t->bytes)));
		add(o, "shape", shape);
		push(a, o);
	}
	return a;
}

static json_object *io_json(const struct lpu_sched_view *v)
{
	json_object *a = new_array();
	uint32_t i;

	for (i = 0; i < v->io_count; i++) {
		const struct lpu_sched_io *io = &v->io[i];
		uint32_t t = le32toh(io->tensor);	/* checked: < tensor_count */
		json_object *o = new_object();

		add(o, "tensor", u64_json(t));
		add(o, "name", new_string(v->tensors[t].name));
		add(o, "direction", enum_json(direction_names, le32toh(io->direction)));
		add(o, "kind", enum_json(io_kind_names, le32toh(io->kind)));
		add(o, "block", u64_json(le32toh(io->block)));
		push(a, o);
	}
	return a;
}

/*
 * An I8 weight operand [g, n, k] is a qblock (uapi/lpu_hw.h): add where
 * its scales start, so that a reader needs no layout rule.
 */
static void add_scales(const struct lpu_sched_view *v, json_object *op,
		       uint64_t addr, uint64_t g, uint64_t n, uint64_t k)
{
	uint64_t gn, gnk, scales;

	if (!op || __builtin_mul_overflow(g, n, &gn) ||
	    __builtin_mul_overflow(gn, k, &gnk) || gnk > UINT64_MAX - LPU_EXEC_ALIGN)
		return;
	scales = LPU_QBLOCK_SCALES_OFFSET(g, n, k);
	if (addr > UINT64_MAX - scales)
		return;
	add(op, "scales", addr_json(v, addr + scales));
}

/* A routing table operand of @e experts x @c slots: where its parts start. */
static void add_routing(const struct lpu_sched_view *v, json_object *op,
			uint64_t addr, uint32_t e, uint32_t c)
{
	struct routing_layout r;
	json_object *o;

	if (!op || e > LPU_EXEC_MAX_DIM || c > LPU_EXEC_MAX_DIM ||
	    addr > UINT64_MAX - LPU_ROUTING_SIZE(e, c))
		return;
	r = routing_layout(e, c);
	o = new_object();
	add(o, "token", addr_json(v, addr + r.token));
	add(o, "weight", addr_json(v, addr + r.weight));
	add(o, "load", addr_json(v, addr + r.load));
	add(o, "dropped", addr_json(v, addr + r.dropped));
	add(op, "routing", o);
}

/* The parts of an operand whose place follows from the opcode's rule. */
static void decorate_operands(const struct lpu_sched_view *v, const uint32_t d[5],
			      const uint64_t a[5], uint32_t opcode, uint32_t dtype,
			      json_object *ops[5])
{
	int i8 = dtype == LPU_DT_I8;

	switch (opcode) {
	case LPU_INSN_MATMUL:		/* W [G, N, K] */
		if (i8)
			add_scales(v, ops[1], a[1], d[3], d[1], d[2]);
		break;
	case LPU_INSN_EXPERT_FFN:	/* W13 [G, 2F, H], W2 [G, H, F] */
		if (i8) {
			add_scales(v, ops[1], a[1], d[0], 2ULL * d[3], d[2]);
			add_scales(v, ops[2], a[2], d[0], d[2], d[3]);
		}
		add_routing(v, ops[4], a[4], d[0], d[1]);
		break;
	case LPU_INSN_DISPATCH:		/* E dim[2], C dim[4] */
		add_routing(v, ops[4], a[4], d[2], d[4]);
		break;
	case LPU_INSN_COMBINE:		/* E dim[2], C dim[3] */
		add_routing(v, ops[1], a[1], d[2], d[3]);
		break;
	}
}

static json_object *insn_json(const struct lpu_sched_view *v, const struct lpu_insn *in)
{
	json_object *o = new_object(), *dims, *opa, *ops[5];
	uint32_t op = in->opcode, d[5];
	uint64_t a[5];
	int i;

	for (i = 0; i < 5; i++) {
		d[i] = le32toh(in->dim[i]);
		a[i] = le64toh(in->op[i]);
		ops[i] = addr_json(v, a[i]);
	}
	decorate_operands(v, d, a, op, in->dtype, ops);
	add(o, "opcode", enum_json(opcode_names, op));
	add(o, "dtype", enum_json(dtype_names, in->dtype));
	add(o, "flags",
	    flags_json(op == LPU_INSN_TOPK ? topk_flag_names :
		       no_flag_names, le16toh(in->flags)));
	dims = new_array();
	opa = new_array();
	for (i = 0; i < 5; i++) {
		push(dims, u64_json(d[i]));
		push(opa, ops[i]);
	}
	add(o, "dims", dims);
	add(o, "ops", opa);
	if (op == LPU_INSN_RMSNORM)	/* dim[2] holds epsilon's binary32 bits */
		add(o, "epsilon", f32_bits_json(d[2]));
	return o;
}

int describe_file(const char *path)
{
	struct lpu_sched_view v;
	json_object *root, *prog;
	const char *text;
	uint8_t *buf;
	uint32_t i;
	int ret = 0;

	if (sched_read(path, &buf, &v))
		return -1;
	oom = 0;
	root = new_object();
	add(root, "header", header_json(&v));
	add(root, "manifest", manifest_json(&v));
	add(root, "slots", slots_json(&v));
	add(root, "tensors", tensors_json(&v));
	add(root, "io", io_json(&v));
	prog = new_array_ext((int)v.insn_count);
	for (i = 0; i < v.insn_count; i++)
		push(prog, insn_json(&v, &v.program[i]));
	add(root, "program", prog);
	text = oom ? NULL :
	       json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text)
		ret = err("%s: out of memory for the description", path);
	else if (puts(text) == EOF || fflush(stdout))
		ret = err("%s: cannot write the description", path);
	json_object_put(root);
	free(buf);
	return ret;
}
