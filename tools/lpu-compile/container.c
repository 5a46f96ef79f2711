// SPDX-License-Identifier: MIT
/*
 * The schedule file: header, section table, then MANIFEST, SLOTS, TENSORS,
 * PROGRAM, IO and WEIGHTS, each LPU_SCHED_ALIGN aligned, all little-endian.
 * lpu_sched_seal() fills in the checksums and lpu_sched_parse() - the very
 * code every loader runs - checks the result before it is written, so
 * lpu-compile never leaves a file a loader would refuse.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compile.h"
#include "sched_file.h"

#ifndef LPU_COMPILE_BUILD_ID
#define LPU_COMPILE_BUILD_ID "unknown"
#endif

enum { SEC_MANIFEST, SEC_SLOTS, SEC_TENSORS, SEC_PROGRAM, SEC_IO, SEC_WEIGHTS, NSEC };

static uint64_t align64(uint64_t v)
{
	return (v + LPU_SCHED_ALIGN - 1) & ~(uint64_t)(LPU_SCHED_ALIGN - 1);
}

static uint32_t f32_bits(float f)
{
	uint32_t b;

	memcpy(&b, &f, 4);
	return b;
}

static void fill_manifest(const struct compile *c, struct lpu_sched_manifest *m)
{
	const struct moe_config *cfg = &c->cfg;
	char dir[256], *base;
	size_t n;

	/* informational: "<model_type> <checkpoint directory name>" */
	snprintf(dir, sizeof(dir), "%s", c->opt.dir);
	for (n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--)
		dir[n - 1] = '\0';
	base = strrchr(dir, '/');
	base = base && base[1] ? base + 1 : dir;
	m->arch = htole32(cfg->arch);
	m->num_blocks = htole32(c->opt.blocks);
	m->hidden = htole32(cfg->hidden);
	m->ffn = htole32(cfg->ffn);
	m->num_experts = htole32(cfg->experts);
	m->top_k = htole32(cfg->top_k);
	m->num_shared = htole32(cfg->num_shared);
	m->shared_ffn = htole32(cfg->shared_ffn);
	m->tokens = htole32(c->opt.tokens);
	m->capacity = htole32(c->capacity);
	m->weight_dtype = htole32(c->opt.dtype);
	m->act_dtype = htole32(LPU_DT_F32);
	m->router_flags = htole32(cfg->router_flags);
	m->rms_eps = htole32(f32_bits(cfg->eps));
	m->capacity_factor = htole32(f32_bits(c->opt.capacity_factor));
	m->insn_count = htole32(c->ninsns);
	m->program = htole64(DRM_LPU_EXEC_SLOT_ADDR(c->slot_program));
	m->stats = htole64(DRM_LPU_EXEC_SLOT_ADDR(c->slot_stats));
	snprintf(m->model, sizeof(m->model), "%s %s",
		 cfg->model_type[0] ? cfg->model_type :
		 cfg->arch == LPU_SCHED_ARCH_MIXTRAL ? "mixtral" : "deepseek", base);
}

static void fill_slots(const struct compile *c, struct lpu_sched_slot *s)
{
	const struct plan *p = &c->plan;
	uint32_t i;

	for (i = 0; i < p->nslots; i++) {
		const struct plan_slot *ps = &p->slots[i];

		s[i].size = htole64(ps->size);
		s[i].domain = htole32(ps->domain);
		s[i].role = htole32(ps->role);
		s[i].init_section = htole32(LPU_SCHED_NO_INIT);
		if (ps->role == LPU_SLOT_WEIGHTS) {
			s[i].init_section = htole32(SEC_WEIGHTS);
			s[i].init_offset = htole64(ps->image_offset);
		} else if (ps->role == LPU_SLOT_PROGRAM) {
			s[i].init_section = htole32(SEC_PROGRAM);
		}
	}
}

static void fill_tensors(const struct plan *p, struct lpu_sched_tensor *t)
{
	uint32_t i, r;

	for (i = 0; i < p->ntensors; i++) {
		const struct lpu_sched_tensor *src = &p->tensors[i];

		memcpy(t[i].name, src->name, sizeof(t[i].name));
		t[i].slot = htole32(src->slot);
		t[i].dtype = htole32(src->dtype);
		t[i].offset = htole64(src->offset);
		t[i].bytes = htole64(src->bytes);
		t[i].rank = htole32(src->rank);
		for (r = 0; r < 4; r++)
			t[i].shape[r] = htole32(src->shape[r]);
	}
}

static void fill_program(const struct compile *c, struct lpu_insn *out)
{
	uint32_t i, j;

	for (i = 0; i < c->ninsns; i++) {
		const struct lpu_insn *in = &c->insns[i];

		out[i].opcode = in->opcode;
		out[i].dtype = in->dtype;
		out[i].flags = htole16(in->flags);
		for (j = 0; j < 5; j++) {
			out[i].dim[j] = htole32(in->dim[j]);
			out[i].op[j] = htole64(in->op[j]);
		}
	}
}

static void fill_io(const struct compile *c, struct lpu_sched_io *io)
{
	uint32_t i;

	for (i = 0; i < c->nio; i++) {
		io[i].tensor = htole32(c->io[i].tensor);
		io[i].direction = htole32(c->io[i].direction);
		io[i].kind = htole32(c->io[i].kind);
		io[i].block = htole32(c->io[i].block);
	}
}

static int write_file(const char *path, const void *data, size_t size)
{
	char tmp[4096];
	const uint8_t *p = data;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return err("%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return err("%s: %s", tmp, strerror(errno));
	while (size) {
		ssize_t n = write(fd, p, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err("%s: write: %s", tmp, n < 0 ? strerror(errno) : "short write");
			close(fd);
			unlink(tmp);
			return -1;
		}
		p += n;
		size -= (size_t)n;
	}
	if (close(fd) || rename(tmp, path)) {
		err("%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int container_write(const struct compile *c, const char *path)
{
	const struct plan *p = &c->plan;
	uint64_t sizes[NSEC] = {
		sizeof(struct lpu_sched_manifest),
		p->nslots * sizeof(struct lpu_sched_slot),
		p->ntensors * sizeof(struct lpu_sched_tensor),
		c->ninsns * sizeof(struct lpu_insn),
		c->nio * sizeof(struct lpu_sched_io),
		p->weights_size,
	};
	static const uint32_t types[NSEC] = {
		LPU_SCHED_SEC_MANIFEST, LPU_SCHED_SEC_SLOTS, LPU_SCHED_SEC_TENSORS,
		LPU_SCHED_SEC_PROGRAM, LPU_SCHED_SEC_IO, LPU_SCHED_SEC_WEIGHTS,
	};
	uint64_t off[NSEC], at, table = sizeof(struct lpu_sched_header);
	struct lpu_sched_section *sec;
	struct lpu_sched_header *h;
	struct lpu_sched_view view;
	char msg[256];
	uint8_t *buf;
	int i, ret;

	at = align64(table + NSEC * sizeof(*sec));
	for (i = 0; i < NSEC; i++) {
		off[i] = at;
		at = align64(at + sizes[i]);
	}
	buf = aligned_alloc(LPU_SCHED_ALIGN, at);
	if (!buf)
		return err("out of memory for a %llu-byte schedule", (unsigned long long)at);
	memset(buf, 0, at);

	h = (struct lpu_sched_header *)buf;
	memcpy(h->magic, LPU_SCHED_MAGIC, sizeof(h->magic));
	h->version_major = htole16(LPU_SCHED_VERSION_MAJOR);
	h->version_minor = htole16(LPU_SCHED_VERSION_MINOR);
	h->header_size = htole32(sizeof(*h));
	h->target_hw_version = htole32(LPU_HW_VERSION);
	h->compiler_version = htole32(COMPILE_VERSION_MAJOR << 16 |
				      COMPILE_VERSION_MINOR << 8 | COMPILE_VERSION_PATCH);
	h->section_count = htole32(NSEC);
	h->section_table = htole64(table);
	h->file_size = htole64(at);
	memcpy(h->build_id, LPU_COMPILE_BUILD_ID,
	       strlen(LPU_COMPILE_BUILD_ID) < sizeof(h->build_id) ?
	       strlen(LPU_COMPILE_BUILD_ID) : sizeof(h->build_id));
	sec = (struct lpu_sched_section *)(buf + table);
	for (i = 0; i < NSEC; i++) {
		sec[i].type = htole32(types[i]);
		sec[i].offset = htole64(off[i]);
		sec[i].size = htole64(sizes[i]);
	}
	fill_manifest(c, (struct lpu_sched_manifest *)(buf + off[SEC_MANIFEST]));
	fill_slots(c, (struct lpu_sched_slot *)(buf + off[SEC_SLOTS]));
	fill_tensors(p, (struct lpu_sched_tensor *)(buf + off[SEC_TENSORS]));
	fill_program(c, (struct lpu_insn *)(buf + off[SEC_PROGRAM]));
	fill_io(c, (struct lpu_sched_io *)(buf + off[SEC_IO]));
	if (p->weights_size)
		memcpy(buf + off[SEC_WEIGHTS], p->weights, p->weights_size);

	ret = lpu_sched_seal(buf, at);
	if (!ret) {
		ret = lpu_sched_parse(buf, at, &view, msg, sizeof(msg));
		if (ret)
			err("internal error: the schedule fails its own check: %s", msg);
	}
	if (!ret)
		ret = write_file(path, buf, at);
	free(buf);
	return ret;
}
