// SPDX-License-Identifier: MIT
/*
 * The schedule container code (sched_file.c): the CRC32C check value, a
 * well-formed schedule that parses, and one malformed file per rule of
 * uapi/lpu_schedule.h, each refused with its errno and a message naming
 * the field. Finally random bit flips and truncations (resealed, so they
 * get past the checksums) never crash the parser.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drm/lpu_accel.h"
#include "sched_file.h"
#include "tap.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define SLOT_W		0	/* weights, SRAM, from WEIGHTS */
#define SLOT_S		1	/* scratch, SRAM */
#define SLOT_P		2	/* program, host, from PROGRAM */
#define SLOT_I		3	/* input, host */
#define SLOT_O		4	/* output, host */
#define SLOT_ST		5	/* stats, host */
#define NSLOTS_BASE	6

#define NTENSORS	4	/* x, y, w (I8 qblock), idx */
#define NIO		3	/* x in, y out, idx out */
#define NINSNS		2
#define WEIGHTS_SIZE	LPU_QBLOCK_SIZE(1, 4, 64)	/* 272: not a multiple of 64 */

/* Where the builder put everything, so tests can poke at it. */
struct layout {
	size_t size;
	size_t table, sec_off[LPU_SCHED_MAX_SECTIONS];
	uint32_t nsec, nslots;
};

static struct layout L;

/* Size of the WEIGHTS section build() writes; 0: the tensor padded to 64. */
static size_t weights_sec;

static size_t align64(size_t v)
{
	return (v + 63) & ~(size_t)63;
}

/*
 * A small well-formed schedule (not a meaningful program: the parser does
 * not interpret instructions). @extra_slots scratch slots are appended.
 */
static void set_name(char *dst, const char *name)
{
	snprintf(dst, LPU_SCHED_NAME_LEN, "%s", name);
}

static uint8_t *build(uint32_t extra_slots)
{
	static const uint32_t types[] = {
		LPU_SCHED_SEC_MANIFEST, LPU_SCHED_SEC_SLOTS, LPU_SCHED_SEC_TENSORS,
		LPU_SCHED_SEC_PROGRAM, LPU_SCHED_SEC_IO, LPU_SCHED_SEC_WEIGHTS,
	};
	uint32_t nslots = NSLOTS_BASE + extra_slots;
	size_t sizes[6] = {
		sizeof(struct lpu_sched_manifest),
		nslots * sizeof(struct lpu_sched_slot),
		NTENSORS * sizeof(struct lpu_sched_tensor),
		NINSNS * sizeof(struct lpu_insn),
		NIO * sizeof(struct lpu_sched_io),
		weights_sec ? weights_sec : align64(WEIGHTS_SIZE),
	};
	struct lpu_sched_header *h;
	struct lpu_sched_section *s;
	struct lpu_sched_manifest *m;
	struct lpu_sched_slot *sl;
	struct lpu_sched_tensor *t;
	struct lpu_insn *in;
	struct lpu_sched_io *io;
	/* capacity factor 2: C = ceil(2 * T 4 * k 2 / E 8) = 2 */
	float cf = 2.0f, eps = 0.00001f;
	size_t at;
	uint8_t *buf;
	uint32_t i, bits;

	memset(&L, 0, sizeof(L));
	L.nsec = 6;
	L.nslots = nslots;
	L.table = sizeof(*h);
	at = align64(L.table + L.nsec * sizeof(*s));
	for (i = 0; i < L.nsec; i++) {
		L.sec_off[i] = at;
		at = align64(at + sizes[i]);
	}
	L.size = at;
	buf = aligned_alloc(64, L.size);
	if (!buf)
		abort();
	memset(buf, 0, L.size);

	h = (void *)buf;
	memcpy(h->magic, LPU_SCHED_MAGIC, 8);
	h->version_major = htole16(LPU_SCHED_VERSION_MAJOR);
	h->version_minor = htole16(LPU_SCHED_VERSION_MINOR);
	h->header_size = htole32(sizeof(*h));
	h->target_hw_version = htole32(LPU_HW_VERSION);
	h->compiler_version = htole32(1 << 16);
	h->section_count = htole32(L.nsec);
	h->section_table = htole64(L.table);
	h->file_size = htole64(L.size);
	s = (void *)(buf + L.table);
	for (i = 0; i < L.nsec; i++) {
		s[i].type = htole32(types[i]);
		s[i].offset = htole64(L.sec_off[i]);
		s[i].size = htole64(sizes[i]);
	}

	m = (void *)(buf + L.sec_off[0]);
	m->arch = htole32(LPU_SCHED_ARCH_MIXTRAL);
	m->num_blocks = htole32(1);
	m->hidden = htole32(64);
	m->ffn = htole32(4);
	m->num_experts = htole32(8);
	m->top_k = htole32(2);
	m->tokens = htole32(4);
	m->capacity = htole32(2);
	m->weight_dtype = htole32(LPU_DT_I8);
	m->act_dtype = htole32(LPU_DT_F32);
	m->router_flags = htole32(LPU_TOPK_RENORM);
	memcpy(&bits, &eps, 4);
	m->rms_eps = htole32(bits);
	memcpy(&bits, &cf, 4);
	m->capacity_factor = htole32(bits);
	m->insn_count = htole32(NINSNS);
	m->program = htole64(DRM_LPU_EXEC_SLOT_ADDR(SLOT_P));
	m->stats = htole64(DRM_LPU_EXEC_SLOT_ADDR(SLOT_ST) + 64);
	set_name(m->model, "test");

	sl = (void *)(buf + L.sec_off[1]);
	for (i = 0; i < nslots; i++) {
		sl[i].size = htole64(4096);
		sl[i].domain = htole32(DRM_LPU_BO_SRAM);
		sl[i].role = htole32(LPU_SLOT_SCRATCH);
		sl[i].init_section = htole32(LPU_SCHED_NO_INIT);
	}
	sl[SLOT_W].role = htole32(LPU_SLOT_WEIGHTS);
	sl[SLOT_W].init_section = htole32(5);
	sl[SLOT_P].role = htole32(LPU_SLOT_PROGRAM);
	sl[SLOT_P].domain = htole32(DRM_LPU_BO_HOST);
	sl[SLOT_P].init_section = htole32(3);
	sl[SLOT_I].role = htole32(LPU_SLOT_INPUT);
	sl[SLOT_I].domain = htole32(DRM_LPU_BO_HOST);
	sl[SLOT_O].role = htole32(LPU_SLOT_OUTPUT);
	sl[SLOT_O].domain = htole32(DRM_LPU_BO_HOST);
	sl[SLOT_ST].role = htole32(LPU_SLOT_STATS);
	sl[SLOT_ST].domain = htole32(DRM_LPU_BO_HOST);

	t = (void *)(buf + L.sec_off[2]);
	set_name(t[0].name, "x");
	t[0].slot = htole32(SLOT_I);
	t[0].dtype = htole32(LPU_DT_F32);
	t[0].bytes = htole64(4 * 64 * 4);
	t[0].rank = htole32(2);
	t[0].shape[0] = htole32(4);
	t[0].shape[1] = htole32(64);
	t[1] = t[0];
	set_name(t[1].name, "y");
	t[1].slot = htole32(SLOT_O);
	set_name(t[2].name, "w");
	t[2].slot = htole32(SLOT_W);
	t[2].dtype = htole32(LPU_DT_I8);
	t[2].bytes = htole64(WEIGHTS_SIZE);
	t[2].rank = htole32(3);
	t[2].shape[0] = htole32(1);
	t[2].shape[1] = htole32(4);
	t[2].shape[2] = htole32(64);
	set_name(t[3].name, "block0.router_idx");
	t[3].slot = htole32(SLOT_O);
	t[3].dtype = htole32(LPU_DT_I32);
	t[3].offset = htole64(1024);
	t[3].bytes = htole64(4 * 2 * 4);
	t[3].rank = htole32(2);
	t[3].shape[0] = htole32(4);
	t[3].shape[1] = htole32(2);

	in = (void *)(buf + L.sec_off[3]);
	in[0].opcode = LPU_INSN_COPY;
	in[0].dim[0] = htole32(1024);
	in[0].op[0] = htole64(DRM_LPU_EXEC_SLOT_ADDR(SLOT_I));
	in[0].op[1] = htole64(DRM_LPU_EXEC_SLOT_ADDR(SLOT_S));
	in[1] = in[0];
	in[1].op[0] = htole64(DRM_LPU_EXEC_SLOT_ADDR(SLOT_S));
	in[1].op[1] = htole64(DRM_LPU_EXEC_SLOT_ADDR(SLOT_O));

	io = (void *)(buf + L.sec_off[4]);
	io[0].tensor = htole32(0);
	io[0].direction = htole32(LPU_IO_INPUT);
	io[0].kind = htole32(LPU_IO_DATA);
	io[1].tensor = htole32(1);
	io[1].direction = htole32(LPU_IO_OUTPUT);
	io[1].kind = htole32(LPU_IO_DATA);
	io[2].tensor = htole32(3);
	io[2].direction = htole32(LPU_IO_OUTPUT);
	io[2].kind = htole32(LPU_IO_ROUTER_INDEX);

	memset(buf + L.sec_off[5], 0x5a, WEIGHTS_SIZE);
	if (lpu_sched_seal(buf, L.size))
		abort();
	return buf;
}

static struct lpu_sched_header *hdr(uint8_t *b)
{
	return (void *)b;
}

static struct lpu_sched_section *sec(uint8_t *b, uint32_t i)
{
	return (struct lpu_sched_section *)(b + L.table) + i;
}

static struct lpu_sched_manifest *man(uint8_t *b)
{
	return (void *)(b + L.sec_off[0]);
}

static struct lpu_sched_slot *slot(uint8_t *b, uint32_t i)
{
	return (struct lpu_sched_slot *)(b + L.sec_off[1]) + i;
}

static struct lpu_sched_tensor *tensor(uint8_t *b, uint32_t i)
{
	return (struct lpu_sched_tensor *)(b + L.sec_off[2]) + i;
}

static struct lpu_sched_io *iod(uint8_t *b, uint32_t i)
{
	return (struct lpu_sched_io *)(b + L.sec_off[4]) + i;
}

/* Recompute only the file CRC: a section CRC stays as it was. */
static void fix_file_crc(uint8_t *b, size_t size)
{
	hdr(b)->file_crc32c = 0;
	hdr(b)->file_crc32c = htole32(lpu_crc32c(b, size));
}

/* Parse @b (@size bytes) and check the errno and the message. */
static void expect(uint8_t *b, size_t size, int want, const char *msg,
		   const char *name)
{
	struct lpu_sched_view v;
	char err[256];
	int ret = lpu_sched_parse(b, size, &v, err, sizeof(err));

	if (!tap_ok(ret == want && (!msg || strstr(err, msg)), "%s", name))
		printf("#   got %d '%s', want %d '%s'\n", ret, err, want,
		       msg ? msg : "");
}

typedef void (*mutate_fn)(uint8_t *b);

/* Build, mutate, reseal, expect. */
static void bad(mutate_fn fn, int want, const char *msg, const char *name)
{
	uint8_t *b = build(0);

	fn(b);
	/* a broken section table cannot be sealed: fix the file CRC alone */
	if (lpu_sched_seal(b, L.size))
		fix_file_crc(b, L.size);
	expect(b, L.size, want, msg, name);
	free(b);
}

#define MUT(id, stmt) static void id(uint8_t *b) { stmt; }

MUT(m_magic, hdr(b)->magic[0] = 'X')
MUT(m_major, hdr(b)->version_major = htole16(2))
MUT(m_minor, hdr(b)->version_minor = htole16(9))
MUT(m_hsize, hdr(b)->header_size = htole32(88))
MUT(m_hflags, hdr(b)->flags = htole32(1))
MUT(m_hrsvd, hdr(b)->rsvd[2] = htole32(1))
MUT(m_nsec0, hdr(b)->section_count = 0)
MUT(m_nsec33, hdr(b)->section_count = htole32(33))
MUT(m_table_unal, hdr(b)->section_table = htole64(L.table + 4))
MUT(m_table_hdr, hdr(b)->section_table = htole64(8))
MUT(m_table_end, hdr(b)->section_table = htole64(L.size - 64))
MUT(m_table_huge, hdr(b)->section_table = htole64(~0ULL - 7))
MUT(m_sec_flags, sec(b, 2)->flags = htole32(2))
MUT(m_sec_rsvd, sec(b, 2)->rsvd = htole32(2))
MUT(m_sec_unal, sec(b, 4)->offset = htole64(L.sec_off[4] + 16))
MUT(m_sec_past, sec(b, 5)->size = htole64(L.size))
MUT(m_sec_wrap, sec(b, 5)->offset = htole64(~0ULL - 63);
	sec(b, 5)->size = htole64(128))
MUT(m_sec_hdr, sec(b, 4)->offset = 0)
MUT(m_sec_table, sec(b, 4)->offset = htole64(128))
MUT(m_sec_overlap, sec(b, 4)->offset = htole64(L.sec_off[3]))
MUT(m_sec_dup, sec(b, 5)->type = htole32(LPU_SCHED_SEC_IO))
MUT(m_sec_unknown, sec(b, 5)->type = htole32(77))
MUT(m_sec_optional, sec(b, 5)->type = htole32(77);
	sec(b, 5)->flags = htole32(LPU_SCHED_SEC_OPTIONAL);
	slot(b, SLOT_W)->role = htole32(LPU_SLOT_SCRATCH);
	slot(b, SLOT_W)->init_section = htole32(LPU_SCHED_NO_INIT);
	tensor(b, 2)->slot = htole32(SLOT_S))
MUT(m_sec_missing, sec(b, 3)->type = htole32(77);
	sec(b, 3)->flags = htole32(LPU_SCHED_SEC_OPTIONAL))
MUT(m_man_size, sec(b, 0)->size = htole64(192))
MUT(m_slots_mult, sec(b, 1)->size = htole64(NSLOTS_BASE * 32 - 8))
MUT(m_slots_zero, sec(b, 1)->size = 0)
MUT(m_tens_mult, sec(b, 2)->size = htole64(NTENSORS * 96 - 1))
MUT(m_prog_mult, sec(b, 3)->size = htole64(NINSNS * 64 - 32))
MUT(m_io_mult, sec(b, 4)->size = htole64(NIO * 16 + 4))
MUT(m_arch, man(b)->arch = htole32(3))
MUT(m_blocks0, man(b)->num_blocks = 0)
MUT(m_hidden0, man(b)->hidden = 0)
MUT(m_hidden_big, man(b)->hidden = htole32(LPU_EXEC_MAX_DIM + 1))
MUT(m_ffn0, man(b)->ffn = 0)
MUT(m_experts0, man(b)->num_experts = 0)
MUT(m_tokens0, man(b)->tokens = 0)
MUT(m_cap0, man(b)->capacity = 0)
MUT(m_cap_big, man(b)->capacity = htole32(5))
MUT(m_cap_rule, man(b)->capacity = htole32(3))
MUT(m_cap_cf, man(b)->capacity_factor = htole32(0x3f800000))
MUT(m_topk0, man(b)->top_k = 0)
MUT(m_topk_big, man(b)->top_k = htole32(9))
MUT(m_shared, man(b)->num_shared = htole32(1))
MUT(m_shared_ffn, man(b)->shared_ffn = htole32(16))
MUT(m_wdtype, man(b)->weight_dtype = htole32(LPU_DT_I32))
MUT(m_adtype, man(b)->act_dtype = htole32(LPU_DT_BF16))
MUT(m_rflags, man(b)->router_flags = htole32(4))
MUT(m_eps_nan, man(b)->rms_eps = htole32(0x7fc00000))
MUT(m_eps_neg, man(b)->rms_eps = htole32(0xbf800000))
MUT(m_cf_zero, man(b)->capacity_factor = 0)
MUT(m_insns, man(b)->insn_count = htole32(3))
MUT(m_model, memset(man(b)->model, 'a', 64))
MUT(m_man_rsvd, man(b)->rsvd[27] = htole32(1))
MUT(m_prog_addr0, man(b)->program = 0)
MUT(m_prog_noslot, man(b)->program = htole64(DRM_LPU_EXEC_SLOT_ADDR(40)))
MUT(m_prog_role, man(b)->program = htole64(DRM_LPU_EXEC_SLOT_ADDR(SLOT_S)))
MUT(m_prog_off, man(b)->program = htole64(DRM_LPU_EXEC_SLOT_ADDR(SLOT_P) + 64))
MUT(m_stats_unal, man(b)->stats = htole64(DRM_LPU_EXEC_SLOT_ADDR(SLOT_ST) + 8))
MUT(m_stats_end, man(b)->stats = htole64(DRM_LPU_EXEC_SLOT_ADDR(SLOT_ST) + 4096 - 32))
MUT(m_stats_role, man(b)->stats = htole64(DRM_LPU_EXEC_SLOT_ADDR(SLOT_O)))
MUT(m_slot_size0, slot(b, SLOT_S)->size = 0)
MUT(m_slot_unal, slot(b, SLOT_S)->size = htole64(4096 + 64))
MUT(m_slot_huge, slot(b, SLOT_S)->size = htole64(DRM_LPU_BO_MAX_SIZE + 4096))
MUT(m_slot_dom, slot(b, SLOT_S)->domain = htole32(7))
MUT(m_host_page, slot(b, SLOT_O)->size = htole64(le64toh(slot(b, SLOT_O)->size) + 4096))
MUT(m_host_gib, slot(b, SLOT_ST)->size = htole64(DRM_LPU_BO_MAX_SIZE))
MUT(m_slot_role, slot(b, SLOT_S)->role = htole32(9))
MUT(m_slot_role_dom, slot(b, SLOT_I)->domain = htole32(DRM_LPU_BO_SRAM))
MUT(m_slot_w_host, slot(b, SLOT_W)->domain = htole32(DRM_LPU_BO_HOST))
MUT(m_slot_rsvd, slot(b, SLOT_S)->rsvd = htole32(1))
MUT(m_slot_noinit_off, slot(b, SLOT_S)->init_offset = htole64(64))
MUT(m_slot_w_noinit, slot(b, SLOT_W)->init_section = htole32(LPU_SCHED_NO_INIT))
MUT(m_slot_w_wrongsec, slot(b, SLOT_W)->init_section = htole32(3))
MUT(m_slot_s_init, slot(b, SLOT_S)->init_section = htole32(5))
MUT(m_slot_init_big, slot(b, SLOT_W)->init_section = htole32(31))
MUT(m_slot_init_off, slot(b, SLOT_W)->init_offset = htole64(align64(WEIGHTS_SIZE) + 64))
MUT(m_slot_init_unal, slot(b, SLOT_W)->init_offset = htole64(8))
MUT(m_slot_p_off, slot(b, SLOT_P)->init_offset = htole64(64))
MUT(m_t_nonul, memset(tensor(b, 0)->name, 'x', LPU_SCHED_NAME_LEN))
MUT(m_t_empty, tensor(b, 0)->name[0] = 0)
MUT(m_t_pad, tensor(b, 0)->name[40] = 'q')
MUT(m_t_slot, tensor(b, 0)->slot = htole32(6))
MUT(m_t_dtype, tensor(b, 0)->dtype = htole32(9))
MUT(m_t_rank0, tensor(b, 0)->rank = 0)
MUT(m_t_rank5, tensor(b, 0)->rank = htole32(5))
MUT(m_t_shape0, tensor(b, 0)->shape[1] = 0)
MUT(m_t_shape_tail, tensor(b, 0)->shape[3] = htole32(1))
MUT(m_t_bytes, tensor(b, 0)->bytes = htole64(4 * 64 * 4 + 4))
MUT(m_t_i8_bytes, tensor(b, 2)->bytes = htole64(4 * 64 + 64 + 16))
MUT(m_t_bf16_bytes, tensor(b, 0)->dtype = htole32(LPU_DT_BF16))
MUT(m_t_huge, tensor(b, 0)->rank = htole32(4);
	memset(tensor(b, 0)->shape, 0xff, sizeof(tensor(b, 0)->shape)))
MUT(m_t_off_unal, tensor(b, 3)->offset = htole64(1026))
MUT(m_t_off_i32, tensor(b, 3)->offset = htole64(1028))
MUT(m_t_off_i8, tensor(b, 2)->offset = htole64(32);
	slot(b, SLOT_W)->size = htole64(8192))
MUT(m_t_outside, tensor(b, 3)->offset = htole64(4096))
MUT(m_t_off_huge, tensor(b, 3)->offset = htole64(~0ULL - 63))
MUT(m_t_rsvd, tensor(b, 3)->rsvd = htole32(1))
MUT(m_t_dupname, set_name(tensor(b, 1)->name, "x"))
MUT(m_io_tensor, iod(b, 1)->tensor = htole32(NTENSORS))
MUT(m_io_dir, iod(b, 1)->direction = htole32(3))
MUT(m_io_in_out, iod(b, 0)->direction = htole32(LPU_IO_OUTPUT))
MUT(m_io_out_in, iod(b, 1)->direction = htole32(LPU_IO_INPUT))
MUT(m_io_kind, iod(b, 1)->kind = htole32(5))
MUT(m_io_idx_f32, iod(b, 1)->kind = htole32(LPU_IO_EXPERT_LOAD))
MUT(m_io_block, iod(b, 2)->block = htole32(1))
MUT(m_io_data_block, iod(b, 1)->block = htole32(1))
MUT(m_io_w, iod(b, 1)->tensor = htole32(2))

static const struct {
	mutate_fn fn;
	int err;
	const char *msg;
	const char *name;
} cases[] = {
	{ m_magic, -EINVAL, "bad magic", "bad magic" },
	{ m_major, -EPROTONOSUPPORT, "version_major 2", "major version 2" },
	{ m_hsize, -EINVAL, "header_size 88", "header_size" },
	{ m_hflags, -EINVAL, "header: flags", "header flags" },
	{ m_hrsvd, -EINVAL, "header: rsvd", "header rsvd" },
	{ m_nsec0, -EINVAL, "section_count 0", "no sections" },
	{ m_nsec33, -EINVAL, "section_count 33", "33 sections" },
	{ m_table_unal, -EINVAL, "not 8-byte aligned", "section table misaligned" },
	{ m_table_hdr, -EINVAL, "section_table", "section table inside the header" },
	{ m_table_end, -EINVAL, "section_table", "section table past the end" },
	{ m_table_huge, -EINVAL, "section_table", "section table offset wraps" },
	{ m_sec_flags, -EINVAL, "section 2 (TENSORS): unknown flags", "section flags" },
	{ m_sec_rsvd, -EINVAL, "section 2 (TENSORS): rsvd", "section rsvd" },
	{ m_sec_unal, -EINVAL, "section 4 (IO): offset", "section offset misaligned" },
	{ m_sec_past, -EINVAL, "section 5 (WEIGHTS): [", "section past the end" },
	{ m_sec_wrap, -EINVAL, "section 5 (WEIGHTS): [", "section offset + size wraps" },
	{ m_sec_hdr, -EINVAL, "section 4 (IO): overlaps the header", "section over the header" },
	{ m_sec_table, -EINVAL, "section 4 (IO): overlaps the section table",
	  "section over the table" },
	{ m_sec_overlap, -EINVAL, "section 4 (IO): overlaps section 3 (PROGRAM)",
	  "sections overlap" },
	{ m_sec_dup, -EINVAL, "duplicate", "duplicate section type" },
	{ m_sec_unknown, -EINVAL, "unknown type 77", "unknown section not optional" },
	{ m_sec_optional, 0, "", "unknown optional section is skipped" },
	{ m_sec_missing, -EINVAL, "no PROGRAM section", "missing PROGRAM section" },
	{ m_man_size, -EINVAL, "MANIFEST section: size 192", "manifest size" },
	{ m_slots_mult, -EINVAL, "SLOTS section: size", "slots size not a multiple" },
	{ m_slots_zero, -EINVAL, "SLOTS section: 0 entries", "no slots" },
	{ m_tens_mult, -EINVAL, "TENSORS section: size", "tensors size not a multiple" },
	{ m_prog_mult, -EINVAL, "PROGRAM section: size", "program size not a multiple" },
	{ m_io_mult, -EINVAL, "IO section: size", "io size not a multiple" },
	{ m_arch, -EINVAL, "manifest: arch 3", "manifest arch" },
	{ m_blocks0, -EINVAL, "manifest: num_blocks 0", "manifest num_blocks 0" },
	{ m_hidden0, -EINVAL, "manifest: hidden 0", "manifest hidden 0" },
	{ m_hidden_big, -EINVAL, "manifest: hidden 1048577", "manifest hidden too big" },
	{ m_ffn0, -EINVAL, "manifest: ffn 0", "manifest ffn 0" },
	{ m_experts0, -EINVAL, "manifest: num_experts 0", "manifest num_experts 0" },
	{ m_tokens0, -EINVAL, "manifest: tokens 0", "manifest tokens 0" },
	{ m_cap0, -EINVAL, "manifest: capacity 0", "manifest capacity 0" },
	{ m_cap_big, -EINVAL, "capacity 5 larger than tokens 4", "manifest capacity > tokens" },
	{ m_cap_rule, -EINVAL,
	  "manifest: capacity 3 but ceil(capacity_factor 2 * tokens 4 * top_k 2 / num_experts 8) is 2",
	  "manifest capacity + 1: not the compiler's rule" },
	{ m_cap_cf, -EINVAL, "capacity 2 but ceil(capacity_factor 1 * tokens 4 * top_k 2 / num_experts 8) is 1",
	  "manifest capacity factor changed: not the compiler's rule" },
	{ m_topk0, -EINVAL, "manifest: top_k 0", "manifest top_k 0" },
	{ m_topk_big, -EINVAL, "manifest: top_k 9", "manifest top_k > experts" },
	{ m_shared, -EINVAL, "num_shared 1 and shared_ffn 0", "shared experts without width" },
	{ m_shared_ffn, -EINVAL, "num_shared 0 and shared_ffn 16", "shared width without experts" },
	{ m_wdtype, -EINVAL, "weight_dtype 4", "manifest weight dtype" },
	{ m_adtype, -EINVAL, "act_dtype 2", "manifest act dtype" },
	{ m_rflags, -EINVAL, "router_flags 0x4", "manifest router flags" },
	{ m_eps_nan, -EINVAL, "rms_eps", "manifest rms_eps NaN" },
	{ m_eps_neg, -EINVAL, "rms_eps", "manifest rms_eps negative" },
	{ m_cf_zero, -EINVAL, "capacity_factor", "manifest capacity factor 0" },
	{ m_insns, -EINVAL, "insn_count 3 but the PROGRAM section holds 2", "manifest insn_count" },
	{ m_model, -EINVAL, "model not NUL-terminated", "manifest model" },
	{ m_man_rsvd, -EINVAL, "manifest: rsvd", "manifest rsvd" },
	{ m_prog_addr0, -EINVAL, "program 0x0 is in no slot", "program address 0" },
	{ m_prog_noslot, -EINVAL, "program 0x2900000000 is in no slot",
	  "program address beyond the slots" },
	{ m_prog_role, -EINVAL, "not a program slot", "program in a scratch slot" },
	{ m_prog_off, -EINVAL, "not the start of its slot", "program not at its slot's start" },
	{ m_stats_unal, -EINVAL, "stats", "stats misaligned" },
	{ m_stats_end, -EINVAL, "stats", "stats past its slot" },
	{ m_stats_role, -EINVAL, "not a stats slot", "stats in an output slot" },
	{ m_slot_size0, -EINVAL, "slot 1: size 0", "slot size 0" },
	{ m_slot_unal, -EINVAL, "slot 1: size 4160", "slot size not page aligned" },
	{ m_slot_huge, -EINVAL, "slot 1: size 1073745920", "slot above 1 GiB" },
	{ m_slot_dom, -EINVAL, "slot 1 (scratch): domain 7", "slot domain" },
	{ m_host_page, -EINVAL, "bytes of host memory, but what it holds needs",
	  "an output slot a page larger than its tensors" },
	{ m_host_gib, -EINVAL, "(stats): 1073741824 bytes of host memory, but what it holds needs 4096",
	  "a stats slot of 1 GiB" },
	{ m_slot_role, -EINVAL, "slot 1: role 9", "slot role" },
	{ m_slot_role_dom, -EINVAL, "slot 3 (input): domain must be HOST", "input slot in SRAM" },
	{ m_slot_w_host, -EINVAL, "slot 0 (weights): domain must be SRAM",
	  "weights slot on the host" },
	{ m_slot_rsvd, -EINVAL, "slot 1 (scratch): rsvd", "slot rsvd" },
	{ m_slot_noinit_off, -EINVAL, "init_offset set without init_section",
	  "init_offset without init" },
	{ m_slot_w_noinit, -EINVAL, "slot 0 (weights): has no initial contents",
	  "weights without contents" },
	{ m_slot_w_wrongsec, -EINVAL, "slot 0 (weights): init_section 3 is not the WEIGHTS section",
	  "weights from PROGRAM" },
	{ m_slot_s_init, -EINVAL, "slot 1 (scratch): init_section 5", "scratch with contents" },
	{ m_slot_init_big, -EINVAL, "init_section 31", "init_section out of range" },
	{ m_slot_init_off, -EINVAL, "slot 0 (weights): init_offset",
	  "init_offset past the section" },
	{ m_slot_init_unal, -EINVAL, "slot 0 (weights): init_offset 0x8",
	  "init_offset misaligned" },
	{ m_slot_p_off, -EINVAL, "slot 2 (program): the PROGRAM section",
	  "program image not whole" },
	{ m_t_nonul, -EINVAL, "tensor 0: name not NUL-terminated", "tensor name without NUL" },
	{ m_t_empty, -EINVAL, "tensor 0: empty name", "tensor empty name" },
	{ m_t_pad, -EINVAL, "tensor 0 'x': name not NUL-padded", "tensor name padding" },
	{ m_t_slot, -EINVAL, "tensor 'x': slot 6", "tensor slot out of range" },
	{ m_t_dtype, -EINVAL, "tensor 'x': dtype 9", "tensor dtype" },
	{ m_t_rank0, -EINVAL, "tensor 'x': rank 0", "tensor rank 0" },
	{ m_t_rank5, -EINVAL, "tensor 'x': rank 5", "tensor rank 5" },
	{ m_t_shape0, -EINVAL, "tensor 'x': shape[1] = 0", "tensor zero dim" },
	{ m_t_shape_tail, -EINVAL, "tensor 'x': shape[3] = 1", "tensor dim beyond rank" },
	{ m_t_bytes, -EINVAL, "tensor 'x': bytes 1028 but its shape and dtype need 1024",
	  "tensor bytes" },
	{ m_t_i8_bytes, -EINVAL, "tensor 'w': bytes 336 but its shape and dtype need 272",
	  "I8 qblock bytes" },
	{ m_t_bf16_bytes, -EINVAL, "need 512", "BF16 tensor bytes" },
	{ m_t_huge, -EINVAL, "tensor 'x': bytes", "tensor shape overflows" },
	{ m_t_off_unal, -EINVAL, "tensor 'block0.router_idx': offset 0x402",
	  "tensor offset misaligned" },
	{ m_t_off_i32, 0, NULL, "an I32 tensor at a 4-byte offset is fine" },
	{ m_t_off_i8, -EINVAL, "tensor 'w': offset 0x20 not a multiple of 64",
	  "an I8 qblock not 64-byte aligned" },
	{ m_t_outside, -EINVAL, "tensor 'block0.router_idx': [0x1000, +32) outside slot 4",
	  "tensor past its slot" },
	{ m_t_off_huge, -EINVAL, "outside slot 4", "tensor offset wraps" },
	{ m_t_rsvd, -EINVAL, "tensor 'block0.router_idx': rsvd", "tensor rsvd" },
	{ m_t_dupname, -EINVAL, "tensor 'x': name used twice", "duplicate tensor name" },
	{ m_io_tensor, -EINVAL, "io 1: tensor 4, only 4 tensors", "io tensor index" },
	{ m_io_dir, -EINVAL, "io 1 'y': direction 3", "io direction" },
	{ m_io_in_out, -EINVAL, "io 0 'x': an output in a input slot", "output in the input slot" },
	{ m_io_out_in, -EINVAL, "io 1 'y': an input in a output slot", "input in the output slot" },
	{ m_io_kind, -EINVAL, "io 1 'y': kind 5", "io kind" },
	{ m_io_idx_f32, -EINVAL, "io 1 'y': kind 3 must be an I32 output",
	  "expert load that is F32" },
	{ m_io_block, -EINVAL, "block 1, only 1 blocks", "io block out of range" },
	{ m_io_data_block, -EINVAL, "data with block 1", "data with a block" },
	{ m_io_w, -EINVAL, "io 1 'w': an output in a weights slot", "output in the weights slot" },
};

static void test_crc(void)
{
	static const char check[] = "123456789";
	uint8_t *big;
	size_t i;

	tap_is(lpu_crc32c(check, 9), 0xe3069283, "CRC32C check value");
	tap_is(lpu_crc32c(check, 0), 0, "CRC32C of nothing is 0");
	/* a known vector: 32 zero bytes (RFC 3720 B.4) */
	big = calloc(1, 32);
	tap_is(lpu_crc32c(big, 32), 0x8a9136aa, "CRC32C of 32 zero bytes");
	memset(big, 0xff, 32);
	tap_is(lpu_crc32c(big, 32), 0x62a8ab43, "CRC32C of 32 0xff bytes");
	for (i = 0; i < 32; i++)
		big[i] = (uint8_t)i;
	tap_is(lpu_crc32c(big, 32), 0x46dd794e, "CRC32C of 0..31");
	free(big);
}

static void test_good(void)
{
	struct lpu_sched_view v;
	char err[256] = "junk";
	uint8_t *b = build(0);
	int ret = lpu_sched_parse(b, L.size, &v, err, sizeof(err));

	tap_is(ret, 0, "a well-formed schedule parses");
	tap_ok(!err[0], "no message on success");
	tap_ok(v.hdr == (void *)b && v.size == L.size, "view covers the file");
	tap_is(v.section_count, 6, "6 sections");
	tap_is(v.slot_count, NSLOTS_BASE, "slot count");
	tap_is(v.tensor_count, NTENSORS, "tensor count");
	tap_is(v.insn_count, NINSNS, "insn count");
	tap_is(v.io_count, NIO, "io count");
	tap_ok(v.program && v.program[1].opcode == LPU_INSN_COPY,
	       "program points at the instructions");
	tap_ok(v.manifest && le32toh(v.manifest->hidden) == 64,
	       "manifest points at the manifest");
	tap_ok(v.tensors && !strcmp(v.tensors[3].name, "block0.router_idx"),
	       "tensors point at the table");
	tap_is(lpu_sched_parse(b, L.size, &v, NULL, 0), 0,
	       "parse without a message buffer");
	free(b);

	b = build(DRM_LPU_MAX_SLOTS - NSLOTS_BASE);
	expect(b, L.size, 0, NULL, "16 slots parse");
	free(b);
	b = build(DRM_LPU_MAX_SLOTS - NSLOTS_BASE + 1);
	expect(b, L.size, -EINVAL, "SLOTS section: 17 entries", "17 slots refused");
	free(b);
}

static void test_sealing(void)
{
	uint8_t *b = build(0), *c;
	struct lpu_sched_view v;
	uint32_t keep;

	b[L.sec_off[5] + 7] ^= 1;
	expect(b, L.size, -EBADMSG, "file_crc32c mismatch", "a flipped bit fails the file CRC");
	keep = sec(b, 5)->crc32c;
	lpu_sched_seal(b, L.size);
	sec(b, 5)->crc32c = keep;
	fix_file_crc(b, L.size);
	expect(b, L.size, -EBADMSG, "section 5 (WEIGHTS): crc32c mismatch",
	       "a flipped bit with only the file CRC fixed fails the section CRC");
	lpu_sched_seal(b, L.size);
	expect(b, L.size, 0, NULL, "resealed, it parses again");

	hdr(b)->file_crc32c ^= htole32(0x100);
	expect(b, L.size, -EBADMSG, "file_crc32c", "a wrong file CRC");
	lpu_sched_seal(b, L.size);

	tap_is(lpu_sched_seal(b, 79), -EINVAL, "seal: too small for the header");
	tap_is(lpu_sched_seal(NULL, 100), -EINVAL, "seal: NULL");
	c = aligned_alloc(64, L.size + 64);
	if (!c)
		abort();
	memcpy(c + 4, b, L.size);
	tap_is(lpu_sched_seal(c + 4, L.size), -EINVAL, "seal: data not 8-byte aligned");
	tap_ok(!memcmp(c + 4, b, L.size), "seal: misaligned data left untouched");
	free(c);
	tap_is(lpu_sched_seal(b, L.table + 32), -EINVAL,
	       "seal: section table past the end");
	/* a section that lies past the buffer is left alone, not read */
	c = build(0);
	sec(c, 5)->size = htole64(1ULL << 40);
	tap_is(lpu_sched_seal(c, L.size), 0, "seal skips a section past the end");
	expect(c, L.size, -EINVAL, "section 5 (WEIGHTS)", "and parse refuses it");
	free(c);

	tap_is(lpu_sched_parse(b, L.size, NULL, NULL, 0), -EINVAL, "parse: NULL view");
	expect(NULL, 100, -EINVAL, "no data", "parse: NULL data");
	expect(b + 4, L.size - 8, -EINVAL, "8-byte aligned", "parse: misaligned data");
	expect(b, 79, -EINVAL, "file too small", "parse: 79 bytes");
	expect(b, 0, -EINVAL, "file too small", "parse: 0 bytes");
	expect(b, L.size - 64, -EINVAL, "file_size", "parse: truncated by 64 bytes");
	(void)v;
	free(b);

	/* file_size agreeing with a truncation still fails a section bound */
	b = build(0);
	hdr(b)->file_size = htole64(L.size - 64);
	lpu_sched_seal(b, L.size - 64);
	expect(b, L.size - 64, -EINVAL, "runs past the end of the file",
	       "truncated file with matching file_size");
	free(b);
}

/*
 * Slot images are multiples of LPU_SCHED_ALIGN: an image is the section
 * from init_offset, cut at the slot's size, so only what is copied counts.
 */
static void image_case(size_t sec_size, uint64_t init_off, int want,
		       const char *msg, const char *name)
{
	size_t keep = weights_sec;
	uint8_t *b;

	weights_sec = sec_size;
	b = build(0);
	weights_sec = keep;
	slot(b, SLOT_W)->init_offset = htole64(init_off);
	lpu_sched_seal(b, L.size);
	expect(b, L.size, want, msg, name);
	free(b);
}

static void test_images(void)
{
	image_case(WEIGHTS_SIZE, 0, -EINVAL,
		   "slot 0 (weights): image of 272 bytes (section 5 from init_offset 0, at most the slot's 4096) not a multiple of 64",
		   "a weights image of 272 bytes is refused");
	image_case(WEIGHTS_SIZE + 8, 0, -EINVAL, "image of 280 bytes",
		   "a weights image of 280 bytes is refused");
	image_case(4096 + 72, 0, 0, NULL,
		   "a section longer than the slot: the image is cut at 4096");
	image_case(4096 + 72, 64, 0, NULL,
		   "from init_offset 64 the image is still cut at 4096");
	image_case(4096 + 72, 4096, -EINVAL, "image of 72 bytes",
		   "from init_offset 4096 the image is the 72 bytes left");
	image_case(4096 + 128, 4096, 0, NULL,
		   "from init_offset 4096 an image of 128 bytes");
}

/* Random damage, resealed: the parser never crashes and always explains. */
static void test_random(void)
{
	unsigned int seed = 12345, n, i, ok = 0, refused = 0, silent = 0;
	struct lpu_sched_view v;
	char err[256];
	uint8_t *b;
	size_t size;
	int ret;

	for (n = 0; n < 3000; n++) {
		b = build(0);
		size = L.size;
		for (i = 0; i < 1 + (unsigned int)rand_r(&seed) % 4; i++) {
			size_t at = (size_t)rand_r(&seed) % 1300;

			switch (rand_r(&seed) % 3) {
			case 0:
				b[at] ^= (uint8_t)(1u << (rand_r(&seed) % 8));
				break;
			case 1:
				b[at] = (uint8_t)rand_r(&seed);
				break;
			default:
				b[at & ~3] = 0xff;
				b[(at & ~3) + 1] = 0xff;
				b[(at & ~3) + 2] = 0xff;
				b[(at & ~3) + 3] = 0x7f;
				break;
			}
		}
		if (n % 7 == 0)
			size = (size_t)rand_r(&seed) % L.size & ~(size_t)7;
		if (n % 2)
			lpu_sched_seal(b, size);
		err[0] = 0;
		ret = lpu_sched_parse(b, size, &v, err, sizeof(err));
		if (!ret)
			ok++;
		else if (err[0] && (ret == -EINVAL || ret == -EBADMSG ||
				    ret == -EPROTONOSUPPORT))
			refused++;
		else
			silent++;
		free(b);
	}
	tap_is(silent, 0, "3000 random mutations: every refusal has a message and a known errno");
	printf("# %u accepted (harmless flips), %u refused\n", ok, refused);
	tap_ok(refused > 2000, "most random mutations are refused");
}

int main(void)
{
	size_t i;

	test_crc();
	test_good();
	test_sealing();
	test_images();
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		bad(cases[i].fn, cases[i].err, cases[i].msg, cases[i].name);
	{
		uint8_t *b = build(0);

		m_minor(b);
		lpu_sched_seal(b, L.size);
		expect(b, L.size, 0, NULL, "a higher minor version is accepted");
		free(b);
	}
	test_random();
	return tap_done();
}
