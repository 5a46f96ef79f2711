// SPDX-License-Identifier: MIT
/*
 * The schedule container (uapi/lpu_schedule.h, uapi/lpu_schedule.md):
 * CRC32C, sealing, and the parser every loader and the compiler's own
 * self-check go through. The parser trusts nothing: every count, offset
 * and size is checked with overflow-safe arithmetic before it is used, and
 * the first broken rule is reported in one line that names the field.
 */
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l/crc.h>

#include "drm/lpu_accel.h"
#include "sched_capacity.h"
#include "sched_file.h"

/* crc32_iscsi() takes an int length: feed it at most this much at once. */
#define CRC_CHUNK	0x40000000U

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len)
{
	/* ISA-L's API takes a non-const pointer but only reads the buffer. */
	unsigned char *p = (unsigned char *)buf;

	while (len) {
		size_t n = len < CRC_CHUNK ? len : CRC_CHUNK;

		crc = crc32_iscsi(p, (int)n, crc);
		p += n;
		len -= n;
	}
	return crc;
}

uint32_t lpu_crc32c(const void *buf, size_t len)
{
	return crc32c_update(0xffffffffU, buf, len) ^ 0xffffffffU;
}

/* The file's CRC32C with the four bytes of header.file_crc32c as zero. */
static uint32_t file_crc(const uint8_t *data, size_t size)
{
	static const uint8_t zero[4];
	size_t at = offsetof(struct lpu_sched_header, file_crc32c);
	uint32_t crc = 0xffffffffU;

	crc = crc32c_update(crc, data, at);
	crc = crc32c_update(crc, zero, sizeof(zero));
	crc = crc32c_update(crc, data + at + 4, size - at - 4);
	return crc ^ 0xffffffffU;
}

/* [off, off + len) inside [0, size), without overflowing. */
static bool range_inside(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	if (!alen || !blen)
		return false;
	return a < b + blen && b < a + alen;
}

static bool all_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	while (len--)
		if (*b++)
			return false;
	return true;
}

struct parse {
	struct lpu_sched_view *v;
	char *err;
	size_t errlen;
	/* index in the section table of each known type, or -1 */
	int sec[LPU_SCHED_SEC_WEIGHTS + 1];
};

__attribute__((format(printf, 3, 4)))
static int fail(struct parse *p, int errnum, const char *fmt, ...)
{
	va_list ap;

	if (p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err, p->errlen, fmt, ap);
		va_end(ap);
	}
	return -errnum;
}

static const char *sec_name(uint32_t type)
{
	static const char *const names[] = {
		[LPU_SCHED_SEC_MANIFEST] = "MANIFEST",
		[LPU_SCHED_SEC_SLOTS] = "SLOTS",
		[LPU_SCHED_SEC_TENSORS] = "TENSORS",
		[LPU_SCHED_SEC_PROGRAM] = "PROGRAM",
		[LPU_SCHED_SEC_IO] = "IO",
		[LPU_SCHED_SEC_WEIGHTS] = "WEIGHTS",
	};

	if (type < ARRAY_SIZE(names) && names[type])
		return names[type];
	return "unknown";
}

static int check_header(struct parse *p)
{
	const struct lpu_sched_header *h = p->v->hdr;
	uint64_t table, table_len;
	uint32_t count;

	if (memcmp(h->magic, LPU_SCHED_MAGIC, sizeof(h->magic)))
		return fail(p, EINVAL, "header: bad magic (not a schedule file)");
	if (le16toh(h->version_major) != LPU_SCHED_VERSION_MAJOR)
		return fail(p, EPROTONOSUPPORT,
			    "header: version_major %u not supported (this reader knows %u)",
			    le16toh(h->version_major), LPU_SCHED_VERSION_MAJOR);
	if (le32toh(h->header_size) != sizeof(*h))
		return fail(p, EINVAL, "header: header_size %u, expected %zu",
			    le32toh(h->header_size), sizeof(*h));
	if (le64toh(h->file_size) != p->v->size)
		return fail(p, EINVAL,
			    "header: file_size %llu but the file has %zu bytes (truncated or padded)",
			    (unsigned long long)le64toh(h->file_size), p->v->size);
	if (le32toh(h->file_crc32c) != file_crc(p->v->data, p->v->size))
		return fail(p, EBADMSG, "header: file_crc32c mismatch (file corrupted)");
	if (le32toh(h->flags))
		return fail(p, EINVAL, "header: flags 0x%x not zero",
			    le32toh(h->flags));
	if (!all_zero(h->rsvd, sizeof(h->rsvd)))
		return fail(p, EINVAL, "header: rsvd not zero");

	count = le32toh(h->section_count);
	if (count < 1 || count > LPU_SCHED_MAX_SECTIONS)
		return fail(p, EINVAL, "header: section_count %u not in 1..%u",
			    count, LPU_SCHED_MAX_SECTIONS);
	table = le64toh(h->section_table);
	table_len = (uint64_t)count * sizeof(struct lpu_sched_section);
	if (table % 8)
		return fail(p, EINVAL, "header: section_table 0x%llx not 8-byte aligned",
			    (unsigned long long)table);
	if (table < sizeof(*h) || !range_inside(table, table_len, p->v->size))
		return fail(p, EINVAL,
			    "header: section_table at 0x%llx (%u entries) outside the file after the header",
			    (unsigned long long)table, count);
	p->v->sections = (const void *)(p->v->data + table);
	p->v->section_count = count;
	return 0;
}

static int check_sections(struct parse *p)
{
	const struct lpu_sched_view *v = p->v;
	uint64_t table = le64toh(v->hdr->section_table);
	uint64_t table_len = (uint64_t)v->section_count * sizeof(*v->sections);
	uint32_t i, j;

	for (i = 0; i < ARRAY_SIZE(p->sec); i++)
		p->sec[i] = -1;

	for (i = 0; i < v->section_count; i++) {
		const struct lpu_sched_section *s = &v->sections[i];
		uint32_t type = le32toh(s->type), flags = le32toh(s->flags);
		uint64_t off = le64toh(s->offset), len = le64toh(s->size);

		if (flags & ~LPU_SCHED_SEC_OPTIONAL)
			return fail(p, EINVAL, "section %u (%s): unknown flags 0x%x",
				    i, sec_name(type), flags);
		if (le32toh(s->rsvd))
			return fail(p, EINVAL, "section %u (%s): rsvd not zero",
				    i, sec_name(type));
		if (off % LPU_SCHED_ALIGN)
			return fail(p, EINVAL,
				    "section %u (%s): offset 0x%llx not a multiple of %u",
				    i, sec_name(type), (unsigned long long)off,
				    LPU_SCHED_ALIGN);
		if (!range_inside(off, len, v->size))
			return fail(p, EINVAL,
				    "section %u (%s): [0x%llx, +0x%llx) runs past the end of the file (%zu bytes)",
				    i, sec_name(type), (unsigned long long)off,
				    (unsigned long long)len, v->size);
		if (ranges_overlap(off, len, 0, sizeof(*v->hdr)))
			return fail(p, EINVAL, "section %u (%s): overlaps the header",
				    i, sec_name(type));
		if (ranges_overlap(off, len, table, table_len))
			return fail(p, EINVAL,
				    "section %u (%s): overlaps the section table",
				    i, sec_name(type));
		for (j = 0; j < i; j++) {
			const struct lpu_sched_section *o = &v->sections[j];

			if (ranges_overlap(off, len, le64toh(o->offset),
					   le64toh(o->size)))
				return fail(p, EINVAL,
					    "section %u (%s): overlaps section %u (%s)",
					    i, sec_name(type), j,
					    sec_name(le32toh(o->type)));
		}
		if (type >= LPU_SCHED_SEC_MANIFEST && type <= LPU_SCHED_SEC_WEIGHTS) {
			if (p->sec[type] >= 0)
				return fail(p, EINVAL,
					    "section %u (%s): duplicate, section %d has the same type",
					    i, sec_name(type), p->sec[type]);
			p->sec[type] = (int)i;
		} else if (!(flags & LPU_SCHED_SEC_OPTIONAL)) {
			return fail(p, EINVAL,
				    "section %u: unknown type %u and not optional",
				    i, type);
		}
		if (le32toh(s->crc32c) != lpu_crc32c(v->data + off, len))
			return fail(p, EBADMSG, "section %u (%s): crc32c mismatch",
				    i, sec_name(type));
	}
	for (i = LPU_SCHED_SEC_MANIFEST; i < LPU_SCHED_SEC_WEIGHTS; i++)
		if (p->sec[i] < 0)
			return fail(p, EINVAL, "section table: no %s section",
				    sec_name(i));
	return 0;
}

/*
 * Point @out at the entries of section @type: the size must be a multiple
 * of @entry and the count within [min, max].
 */
static int section_array(struct parse *p, uint32_t type, size_t entry,
			 uint32_t min, uint32_t max, const void **out,
			 uint32_t *count)
{
	const struct lpu_sched_section *s = &p->v->sections[p->sec[type]];
	uint64_t len = le64toh(s->size);

	if (len % entry)
		return fail(p, EINVAL,
			    "%s section: size %llu not a multiple of the %zu-byte entry",
			    sec_name(type), (unsigned long long)len, entry);
	if (len / entry < min || len / entry > max)
		return fail(p, EINVAL, "%s section: %llu entries, not in %u..%u",
			    sec_name(type), (unsigned long long)(len / entry),
			    min, max);
	*out = p->v->data + le64toh(s->offset);
	*count = (uint32_t)(len / entry);
	return 0;
}

static int check_arrays(struct parse *p)
{
	struct lpu_sched_view *v = p->v;
	const struct lpu_sched_section *m = &v->sections[p->sec[LPU_SCHED_SEC_MANIFEST]];
	const void *ptr;
	int ret;

	if (le64toh(m->size) != sizeof(*v->manifest))
		return fail(p, EINVAL, "MANIFEST section: size %llu, expected %zu",
			    (unsigned long long)le64toh(m->size),
			    sizeof(*v->manifest));
	v->manifest = (const void *)(v->data + le64toh(m->offset));

	ret = section_array(p, LPU_SCHED_SEC_SLOTS, sizeof(*v->slots), 1,
			    DRM_LPU_MAX_SLOTS, &ptr, &v->slot_count);
	if (ret)
		return ret;
	v->slots = ptr;
	ret = section_array(p, LPU_SCHED_SEC_TENSORS, sizeof(*v->tensors), 0,
			    LPU_SCHED_MAX_TENSORS, &ptr, &v->tensor_count);
	if (ret)
		return ret;
	v->tensors = ptr;
	ret = section_array(p, LPU_SCHED_SEC_PROGRAM, sizeof(*v->program), 1,
			    LPU_EXEC_MAX_INSNS, &ptr, &v->insn_count);
	if (ret)
		return ret;
	v->program = ptr;
	ret = section_array(p, LPU_SCHED_SEC_IO, sizeof(*v->io), 0,
			    LPU_SCHED_MAX_IO, &ptr, &v->io_count);
	if (ret)
		return ret;
	v->io = ptr;
	return 0;
}

static float f32_of(uint32_t bits)
{
	float f;

	memcpy(&f, &bits, sizeof(f));
	return f;
}

/* A manifest dimension: 1..LPU_EXEC_MAX_DIM. */
static int check_dim(struct parse *p, const char *field, uint32_t val)
{
	if (val < 1 || val > LPU_EXEC_MAX_DIM)
		return fail(p, EINVAL, "manifest: %s %u not in 1..%u", field, val,
			    LPU_EXEC_MAX_DIM);
	return 0;
}

static int check_manifest(struct parse *p)
{
	const struct lpu_sched_manifest *m = p->v->manifest;
	uint32_t arch = le32toh(m->arch), dt = le32toh(m->weight_dtype);
	uint32_t e = le32toh(m->num_experts), k = le32toh(m->top_k);
	uint32_t t = le32toh(m->tokens), c = le32toh(m->capacity);
	uint32_t ns = le32toh(m->num_shared), sf = le32toh(m->shared_ffn);
	float eps = f32_of(le32toh(m->rms_eps));
	float cf = f32_of(le32toh(m->capacity_factor));
	int ret;

	if (arch != LPU_SCHED_ARCH_MIXTRAL && arch != LPU_SCHED_ARCH_DEEPSEEK)
		return fail(p, EINVAL, "manifest: arch %u unknown", arch);
	ret = check_dim(p, "num_blocks", le32toh(m->num_blocks));
	ret = ret ? ret : check_dim(p, "hidden", le32toh(m->hidden));
	ret = ret ? ret : check_dim(p, "ffn", le32toh(m->ffn));
	ret = ret ? ret : check_dim(p, "num_experts", e);
	ret = ret ? ret : check_dim(p, "tokens", t);
	ret = ret ? ret : check_dim(p, "capacity", c);
	if (ret)
		return ret;
	if (k < 1 || k > e || k > LPU_EXEC_MAX_TOPK)
		return fail(p, EINVAL, "manifest: top_k %u not in 1..min(num_experts %u, %u)",
			    k, e, LPU_EXEC_MAX_TOPK);
	if (!ns != !sf)
		return fail(p, EINVAL,
			    "manifest: num_shared %u and shared_ffn %u must be both zero or both non-zero",
			    ns, sf);
	if (ns && (uint64_t)ns * sf > LPU_EXEC_MAX_DIM)
		return fail(p, EINVAL,
			    "manifest: num_shared %u * shared_ffn %u larger than %u",
			    ns, sf, LPU_EXEC_MAX_DIM);
	if (dt != LPU_DT_F32 && dt != LPU_DT_BF16 && dt != LPU_DT_I8)
		return fail(p, EINVAL, "manifest: weight_dtype %u not F32, BF16 or I8",
			    dt);
	if (le32toh(m->act_dtype) != LPU_DT_F32)
		return fail(p, EINVAL, "manifest: act_dtype %u not F32",
			    le32toh(m->act_dtype));
	if (le32toh(m->router_flags) & ~(LPU_TOPK_SIGMOID | LPU_TOPK_RENORM))
		return fail(p, EINVAL, "manifest: router_flags 0x%x unknown",
			    le32toh(m->router_flags));
	if (!isfinite(eps) || eps < 0)
		return fail(p, EINVAL, "manifest: rms_eps not finite and >= 0");
	if (!isfinite(cf) || cf <= 0)
		return fail(p, EINVAL, "manifest: capacity_factor not finite and > 0");
	if (c > t)
		return fail(p, EINVAL, "manifest: capacity %u larger than tokens %u",
			    c, t);
	/* The compiler's rule: a C it does not give is not its program's. */
	if (c != lpu_sched_capacity(cf, t, k, e))
		return fail(p, EINVAL,
			    "manifest: capacity %u but ceil(capacity_factor %g * tokens %u * top_k %u / num_experts %u) is %u",
			    c, (double)cf, t, k, e, lpu_sched_capacity(cf, t, k, e));
	if (le32toh(m->insn_count) != p->v->insn_count)
		return fail(p, EINVAL,
			    "manifest: insn_count %u but the PROGRAM section holds %u",
			    le32toh(m->insn_count), p->v->insn_count);
	if (!memchr(m->model, '\0', sizeof(m->model)))
		return fail(p, EINVAL, "manifest: model not NUL-terminated");
	if (!all_zero(m->rsvd, sizeof(m->rsvd)))
		return fail(p, EINVAL, "manifest: rsvd not zero");
	return 0;
}

static const char *role_name(uint32_t role)
{
	static const char *const names[] = {
		[LPU_SLOT_WEIGHTS] = "weights", [LPU_SLOT_SCRATCH] = "scratch",
		[LPU_SLOT_PROGRAM] = "program", [LPU_SLOT_INPUT] = "input",
		[LPU_SLOT_OUTPUT] = "output", [LPU_SLOT_STATS] = "stats",
	};

	if (role < ARRAY_SIZE(names) && names[role])
		return names[role];
	return "unknown";
}

static int check_slot(struct parse *p, uint32_t i)
{
	const struct lpu_sched_view *v = p->v;
	const struct lpu_sched_slot *s = &v->slots[i];
	uint64_t size = le64toh(s->size), init_off = le64toh(s->init_offset);
	uint64_t image;
	uint32_t dom = le32toh(s->domain), role = le32toh(s->role);
	uint32_t init = le32toh(s->init_section);
	uint32_t want_dom, want_sec = LPU_SCHED_NO_INIT;
	const struct lpu_sched_section *sec;

	if (!size || size % DRM_LPU_BO_ALIGN || size > DRM_LPU_BO_MAX_SIZE)
		return fail(p, EINVAL,
			    "slot %u: size %llu not a non-zero multiple of %u up to %llu",
			    i, (unsigned long long)size, DRM_LPU_BO_ALIGN,
			    (unsigned long long)DRM_LPU_BO_MAX_SIZE);
	switch (role) {
	case LPU_SLOT_WEIGHTS:
		want_sec = (uint32_t)p->sec[LPU_SCHED_SEC_WEIGHTS];
		want_dom = DRM_LPU_BO_SRAM;
		break;
	case LPU_SLOT_SCRATCH:
		want_dom = DRM_LPU_BO_SRAM;
		break;
	case LPU_SLOT_PROGRAM:
		want_sec = (uint32_t)p->sec[LPU_SCHED_SEC_PROGRAM];
		want_dom = dom;	/* SRAM or host: the device reads either */
		break;
	case LPU_SLOT_INPUT:
	case LPU_SLOT_OUTPUT:
	case LPU_SLOT_STATS:
		want_dom = DRM_LPU_BO_HOST;
		break;
	default:
		return fail(p, EINVAL, "slot %u: role %u unknown", i, role);
	}
	if (dom != DRM_LPU_BO_SRAM && dom != DRM_LPU_BO_HOST)
		return fail(p, EINVAL, "slot %u (%s): domain %u unknown", i,
			    role_name(role), dom);
	if (dom != want_dom)
		return fail(p, EINVAL, "slot %u (%s): domain must be %s", i,
			    role_name(role),
			    want_dom == DRM_LPU_BO_SRAM ? "SRAM" : "HOST");
	if (le32toh(s->rsvd))
		return fail(p, EINVAL, "slot %u (%s): rsvd not zero", i,
			    role_name(role));
	if (init == LPU_SCHED_NO_INIT) {
		if (role == LPU_SLOT_WEIGHTS || role == LPU_SLOT_PROGRAM)
			return fail(p, EINVAL,
				    "slot %u (%s): has no initial contents",
				    i, role_name(role));
		if (init_off)
			return fail(p, EINVAL,
				    "slot %u (%s): init_offset set without init_section",
				    i, role_name(role));
		return 0;
	}
	if (want_sec == LPU_SCHED_NO_INIT || init != want_sec)
		return fail(p, EINVAL,
			    "slot %u (%s): init_section %u is not the %s section",
			    i, role_name(role), init,
			    role == LPU_SLOT_WEIGHTS ? "WEIGHTS" :
			    role == LPU_SLOT_PROGRAM ? "PROGRAM" : "(none)");
	sec = &v->sections[init];
	if (init_off % LPU_SCHED_ALIGN || init_off >= le64toh(sec->size))
		return fail(p, EINVAL,
			    "slot %u (%s): init_offset 0x%llx not aligned to %u or not inside section %u (%llu bytes)",
			    i, role_name(role), (unsigned long long)init_off,
			    LPU_SCHED_ALIGN, init, (unsigned long long)le64toh(sec->size));
	/*
	 * The image is the rest of the section from init_offset, cut at the
	 * slot's size (several slots may share one WEIGHTS section); its size
	 * is a multiple of LPU_SCHED_ALIGN, as the header states. A program
	 * is loaded whole, so it must fit.
	 */
	image = le64toh(sec->size) - init_off;
	if (image > size)
		image = size;
	if (image % LPU_SCHED_ALIGN)
		return fail(p, EINVAL,
			    "slot %u (%s): image of %llu bytes (section %u from init_offset %llu, at most the slot's %llu) not a multiple of %u",
			    i, role_name(role), (unsigned long long)image, init,
			    (unsigned long long)init_off, (unsigned long long)size,
			    LPU_SCHED_ALIGN);
	if (role == LPU_SLOT_PROGRAM && (init_off || le64toh(sec->size) > size))
		return fail(p, EINVAL,
			    "slot %u (program): the PROGRAM section (%llu bytes from init_offset %llu) must be loaded whole at offset 0",
			    i, (unsigned long long)le64toh(sec->size),
			    (unsigned long long)init_off);
	return 0;
}

/* A device address of the run's address space: slot index and offset. */
static int resolve(struct parse *p, const char *field, uint64_t addr,
		   uint64_t len, uint32_t role, uint32_t *slot, uint64_t *off)
{
	const struct lpu_sched_view *v = p->v;
	uint64_t s = (addr >> 32) - 1, o = addr & 0xffffffffULL;

	if ((addr >> 32) < 1 || s >= v->slot_count)
		return fail(p, EINVAL, "manifest: %s 0x%llx is in no slot",
			    field, (unsigned long long)addr);
	if (le32toh(v->slots[s].role) != role)
		return fail(p, EINVAL, "manifest: %s 0x%llx is in slot %llu (%s), not a %s slot",
			    field, (unsigned long long)addr, (unsigned long long)s,
			    role_name(le32toh(v->slots[s].role)), role_name(role));
	if (o % LPU_EXEC_ALIGN || !range_inside(o, len, le64toh(v->slots[s].size)))
		return fail(p, EINVAL,
			    "manifest: %s 0x%llx (%llu bytes) not aligned to %u or not inside slot %llu",
			    field, (unsigned long long)addr, (unsigned long long)len,
			    LPU_EXEC_ALIGN, (unsigned long long)s);
	*slot = (uint32_t)s;
	*off = o;
	return 0;
}

static int check_slots(struct parse *p)
{
	const struct lpu_sched_view *v = p->v;
	const struct lpu_sched_manifest *m = v->manifest;
	uint32_t i, slot;
	uint64_t off;
	int ret;

	for (i = 0; i < v->slot_count; i++) {
		ret = check_slot(p, i);
		if (ret)
			return ret;
	}
	ret = resolve(p, "program", le64toh(m->program),
		      (uint64_t)v->insn_count * LPU_INSN_SIZE, LPU_SLOT_PROGRAM,
		      &slot, &off);
	if (ret)
		return ret;
	/* The slot holds the PROGRAM section from offset 0 (check_slot). */
	if (off)
		return fail(p, EINVAL,
			    "manifest: program 0x%llx is not the start of its slot, where the PROGRAM section is loaded",
			    (unsigned long long)le64toh(m->program));
	return resolve(p, "stats", le64toh(m->stats), LPU_EXEC_STATS_SIZE,
		       LPU_SLOT_STATS, &slot, &off);
}

/* Bytes a tensor of @dtype and shape takes; 0 if it overflows. */
static uint64_t tensor_bytes(uint32_t dtype, const uint32_t *shape, uint32_t rank)
{
	uint64_t rows = 1, k = shape[rank - 1], elems;
	uint32_t i;

	/* each dim < 2^32 and rank <= 4: bound the product as we go */
	for (i = 0; i + 1 < rank; i++) {
		if (rows > UINT64_MAX / shape[i])
			return 0;
		rows *= shape[i];
	}
	if (rows > (UINT64_MAX / 8) / k)
		return 0;
	elems = rows * k;
	switch (dtype) {
	case LPU_DT_F32:
	case LPU_DT_I32:
		return elems * 4;
	case LPU_DT_BF16:
		return elems * 2;
	case LPU_DT_I8:
		/* a qblock: the values, padding to 64, one scale per row */
		if (elems > UINT64_MAX / 2 || rows > UINT64_MAX / 16)
			return 0;
		return ((elems + LPU_EXEC_ALIGN - 1) &
			~(uint64_t)(LPU_EXEC_ALIGN - 1)) + rows * 4;
	}
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	const struct lpu_sched_tensor *x = *(const struct lpu_sched_tensor *const *)a;
	const struct lpu_sched_tensor *y = *(const struct lpu_sched_tensor *const *)b;

	return strncmp(x->name, y->name, LPU_SCHED_NAME_LEN);
}

static int check_tensor(struct parse *p, uint32_t i)
{
	const struct lpu_sched_view *v = p->v;
	const struct lpu_sched_tensor *t = &v->tensors[i];
	const char *nul = memchr(t->name, '\0', sizeof(t->name));
	uint32_t slot = le32toh(t->slot), dt = le32toh(t->dtype);
	uint32_t rank = le32toh(t->rank), shape[4], r, align;
	uint64_t off = le64toh(t->offset), bytes = le64toh(t->bytes), want;

	if (!nul)
		return fail(p, EINVAL, "tensor %u: name not NUL-terminated", i);
	if (nul == t->name)
		return fail(p, EINVAL, "tensor %u: empty name", i);
	if (!all_zero(nul, sizeof(t->name) - (size_t)(nul - t->name)))
		return fail(p, EINVAL, "tensor %u '%s': name not NUL-padded", i,
			    t->name);
	if (slot >= v->slot_count)
		return fail(p, EINVAL, "tensor '%s': slot %u, only %u slots",
			    t->name, slot, v->slot_count);
	if (dt != LPU_DT_F32 && dt != LPU_DT_BF16 && dt != LPU_DT_I8 &&
	    dt != LPU_DT_I32)
		return fail(p, EINVAL, "tensor '%s': dtype %u unknown", t->name, dt);
	if (rank < 1 || rank > 4)
		return fail(p, EINVAL, "tensor '%s': rank %u not in 1..4", t->name,
			    rank);
	for (r = 0; r < 4; r++) {
		bool used = r < rank;

		shape[r] = le32toh(t->shape[r]);
		if (used == !shape[r])
			return fail(p, EINVAL,
				    "tensor '%s': shape[%u] = %u (rank %u: dims must be non-zero, the rest zero)",
				    t->name, r, shape[r], rank);
	}
	if (le32toh(t->rsvd))
		return fail(p, EINVAL, "tensor '%s': rsvd not zero", t->name);
	want = tensor_bytes(dt, shape, rank);
	if (!want || bytes != want)
		return fail(p, EINVAL,
			    "tensor '%s': bytes %llu but its shape and dtype need %llu",
			    t->name, (unsigned long long)bytes,
			    (unsigned long long)want);
	/*
	 * Natural alignment; an I8 qblock is only ever a weight operand. The
	 * device wants LPU_EXEC_ALIGN for every instruction operand and checks
	 * that itself: an output such as expert_load may sit inside a table
	 * copied whole (it lies at 8 * E * C bytes into a routing table).
	 */
	align = dt == LPU_DT_I8 ? LPU_EXEC_ALIGN : dt == LPU_DT_BF16 ? 2 : 4;
	if (off % align)
		return fail(p, EINVAL, "tensor '%s': offset 0x%llx not a multiple of %u",
			    t->name, (unsigned long long)off, align);
	if (!range_inside(off, bytes, le64toh(v->slots[slot].size)))
		return fail(p, EINVAL,
			    "tensor '%s': [0x%llx, +%llu) outside slot %u (%llu bytes)",
			    t->name, (unsigned long long)off,
			    (unsigned long long)bytes, slot,
			    (unsigned long long)le64toh(v->slots[slot].size));
	return 0;
}

static int check_tensors(struct parse *p)
{
	const struct lpu_sched_view *v = p->v;
	const struct lpu_sched_tensor **sorted;
	uint32_t i;
	int ret;

	for (i = 0; i < v->tensor_count; i++) {
		ret = check_tensor(p, i);
		if (ret)
			return ret;
	}
	if (v->tensor_count < 2)
		return 0;
	/* Names are how callers find inputs and outputs: no duplicates. */
	sorted = malloc(v->tensor_count * sizeof(*sorted));
	if (!sorted)
		return fail(p, ENOMEM, "out of memory checking tensor names");
	for (i = 0; i < v->tensor_count; i++)
		sorted[i] = &v->tensors[i];
	qsort(sorted, v->tensor_count, sizeof(*sorted), cmp_names);
	ret = 0;
	for (i = 1; i < v->tensor_count && !ret; i++)
		if (!cmp_names(&sorted[i - 1], &sorted[i]))
			ret = fail(p, EINVAL, "tensor '%s': name used twice",
				   sorted[i]->name);
	free(sorted);
	return ret;
}

static int check_io(struct parse *p, uint32_t i)
{
	const struct lpu_sched_view *v = p->v;
	const struct lpu_sched_io *io = &v->io[i];
	uint32_t ti = le32toh(io->tensor), dir = le32toh(io->direction);
	uint32_t kind = le32toh(io->kind), block = le32toh(io->block);
	const struct lpu_sched_tensor *t;
	uint32_t role, want_role, dt;

	if (ti >= v->tensor_count)
		return fail(p, EINVAL, "io %u: tensor %u, only %u tensors", i, ti,
			    v->tensor_count);
	t = &v->tensors[ti];
	role = le32toh(v->slots[le32toh(t->slot)].role);
	dt = le32toh(t->dtype);
	if (dir == LPU_IO_INPUT)
		want_role = LPU_SLOT_INPUT;
	else if (dir == LPU_IO_OUTPUT)
		want_role = LPU_SLOT_OUTPUT;
	else
		return fail(p, EINVAL, "io %u '%s': direction %u unknown", i,
			    t->name, dir);
	if (role != want_role)
		return fail(p, EINVAL, "io %u '%s': an %s in a %s slot", i, t->name,
			    dir == LPU_IO_INPUT ? "input" : "output",
			    role_name(role));
	switch (kind) {
	case LPU_IO_DATA:
		if (dt != LPU_DT_F32)
			return fail(p, EINVAL, "io %u '%s': data must be F32", i,
				    t->name);
		if (block)
			return fail(p, EINVAL, "io %u '%s': data with block %u",
				    i, t->name, block);
		return 0;
	case LPU_IO_ROUTER_INDEX:
	case LPU_IO_EXPERT_LOAD:
	case LPU_IO_EXPERT_DROPPED:
		if (dir != LPU_IO_OUTPUT || dt != LPU_DT_I32)
			return fail(p, EINVAL,
				    "io %u '%s': kind %u must be an I32 output",
				    i, t->name, kind);
		if (block >= le32toh(v->manifest->num_blocks))
			return fail(p, EINVAL, "io %u '%s': block %u, only %u blocks",
				    i, t->name, block,
				    le32toh(v->manifest->num_blocks));
		return 0;
	}
	return fail(p, EINVAL, "io %u '%s': kind %u unknown", i, t->name, kind);
}

/*
 * A host slot is pinned by the kernel for every run: it may be no larger
 * than what it holds (its tensors, the stats record, the program) rounded
 * up to whole pages, so a file cannot make a guest pin gigabytes.
 */
static int check_host_slots(struct parse *p)
{
	const struct lpu_sched_view *v = p->v;
	uint64_t need, end, size, stats = le64toh(v->manifest->stats);
	uint32_t i, t, role;

	for (i = 0; i < v->slot_count; i++) {
		if (le32toh(v->slots[i].domain) != DRM_LPU_BO_HOST)
			continue;
		role = le32toh(v->slots[i].role);
		need = 0;
		if (role == LPU_SLOT_PROGRAM)
			need = (uint64_t)v->insn_count * LPU_INSN_SIZE;
		if ((stats >> 32) == i + 1)
			need = (stats & 0xffffffffULL) + LPU_EXEC_STATS_SIZE;
		for (t = 0; t < v->tensor_count; t++) {
			if (le32toh(v->tensors[t].slot) != i)
				continue;
			/* check_tensor: inside the slot, so no overflow */
			end = le64toh(v->tensors[t].offset) +
			      le64toh(v->tensors[t].bytes);
			if (end > need)
				need = end;
		}
		need = (need + DRM_LPU_BO_ALIGN - 1) / DRM_LPU_BO_ALIGN *
		       DRM_LPU_BO_ALIGN;
		size = le64toh(v->slots[i].size);
		if (size > need)
			return fail(p, EINVAL,
				    "slot %u (%s): %llu bytes of host memory, but what it holds needs %llu",
				    i, role_name(role), (unsigned long long)size,
				    (unsigned long long)need);
	}
	return 0;
}

int lpu_sched_parse(const void *data, size_t size, struct lpu_sched_view *view,
		    char *err, size_t errlen)
{
	struct parse p = { .v = view, .err = err, .errlen = errlen };
	uint32_t i;
	int ret;

	if (errlen)
		err[0] = '\0';
	if (!view)
		return -EINVAL;
	memset(view, 0, sizeof(*view));
	if (!data)
		return fail(&p, EINVAL, "no data");
	if ((uintptr_t)data % 8)
		return fail(&p, EINVAL, "data not 8-byte aligned in memory");
	if (size < sizeof(struct lpu_sched_header))
		return fail(&p, EINVAL, "file too small (%zu bytes) for the %zu-byte header",
			    size, sizeof(struct lpu_sched_header));
	view->data = data;
	view->size = size;
	view->hdr = data;

	ret = check_header(&p);
	ret = ret ? ret : check_sections(&p);
	ret = ret ? ret : check_arrays(&p);
	ret = ret ? ret : check_manifest(&p);
	ret = ret ? ret : check_slots(&p);
	ret = ret ? ret : check_tensors(&p);
	ret = ret ? ret : check_host_slots(&p);
	for (i = 0; !ret && i < view->io_count; i++)
		ret = check_io(&p, i);
	if (ret)
		memset(view, 0, sizeof(*view));
	return ret;
}

/*
 * The header and the section table are written through struct pointers,
 * so @data must be 8-byte aligned like the parser's (the table offset is a
 * multiple of 8): anything else is refused with -EINVAL, not accessed.
 */
int lpu_sched_seal(void *data, size_t size)
{
	struct lpu_sched_header *h = data;
	struct lpu_sched_section *s;
	uint64_t table, count, off, len;
	uint32_t i;

	if (!data || (uintptr_t)data % 8 || size < sizeof(*h))
		return -EINVAL;
	table = le64toh(h->section_table);
	count = le32toh(h->section_count);
	if (count > LPU_SCHED_MAX_SECTIONS || table % 8 ||
	    !range_inside(table, count * sizeof(*s), size))
		return -EINVAL;
	s = (struct lpu_sched_section *)((uint8_t *)data + table);
	for (i = 0; i < count; i++) {
		off = le64toh(s[i].offset);
		len = le64toh(s[i].size);
		/* never read outside the buffer, whatever the table says */
		if (range_inside(off, len, size))
			s[i].crc32c = htole32(lpu_crc32c((uint8_t *)data + off, len));
	}
	h->file_crc32c = htole32(file_crc(data, size));
	return 0;
}
