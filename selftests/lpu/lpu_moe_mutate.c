// SPDX-License-Identifier: GPL-2.0
/*
 * Mutated schedules, through liblpu, on the real driver and card.
 *
 * A small valid schedule (the tiny-f32 case of /opt/lpu/moe) is mutated
 * well over a thousand times from a printed seed ($LPU_MUTATE_SEED
 * replays a run):
 *   - raw bit flips and truncations (and extensions): every one must be
 *     refused by the loader (checksums, file size), with a message;
 *   - mutations resealed with lpu_sched_seal(), so the checksums are right
 *     and only the rules can catch them: instruction fields (opcode,
 *     dtype, flags, huge or zero dimensions, operand addresses outside a
 *     slot, into unmapped space, misaligned, into host memory, aimed at
 *     other tensors), header and section table, slot, tensor and I/O
 *     tables, and manifest fields.
 * Every mutation is one the format or the card must refuse: a value no
 * valid schedule has (an unknown opcode or dtype, a field an opcode does
 * not use set, an operand outside every slot, a size the rules forbid, a
 * manifest the compiler's rules do not give, ...). Mutations that could
 * still make a valid program (another valid dtype or opcode, another
 * tensor's address, a bigger slot) are not made. So each one must be
 * refused by the loader with a non-empty message, or fail its run with
 * -ENOEXEC or -EFAULT and a message; a run that completes or times out is
 * a failure of the test. Each test makes a fixed number of mutations
 * (1,170 in all). Afterwards the valid schedule runs and matches the
 * reference. Counts per outcome are printed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lpu_schedule.h>
#include <npy.h>
#include <sched_file.h>

#include "kselftest_harness.h"
#include "lpu_fixture.h"
#include "lpu_mem.h"
#include "lpu_moe_common.h"

#define SMALL		"tiny-f32"
#define RUN_TIMEOUT_MS	10000

enum outcome {
	O_LOADER,	/* refused by the loader, with a message */
	O_ENOEXEC,	/* the card refused the program */
	O_EFAULT,	/* the card faulted the run */
	O_WRONG,	/* what must not happen: it ran, or timed out */
	O_COUNT
};

static const char *const outcome_name[O_COUNT] = {
	"refused by the loader", "refused by the card (-ENOEXEC)",
	"faulted on the card (-EFAULT)", "WRONG",
};

/* What every test of this file works on. */
struct mut_state {
	struct lpu_device *dev;
	uint8_t *base;
	size_t size;
	struct lpu_sched_view v;
	/* Offsets of the tables in the file (the view of the base). */
	size_t off_man, off_slots, off_tensors, off_prog, off_io, off_sec;
	struct lpu_npy x;
	uint64_t rng;
	struct lpu_card card;
	/* sram_used_bytes of a settled card before the test, or -1 */
	uint64_t sram_before;
	unsigned int count[O_COUNT];
	unsigned int wrong_shown;
	char desc[160];
	char msg[LPU_MSG_LEN];
	char example[O_COUNT][LPU_MSG_LEN + 200];
};

FIXTURE(mut) {
	struct mut_state s;
};

FIXTURE_SETUP(mut)
{
	struct mut_state *st = &self->s;
	const char *seed = getenv("LPU_MUTATE_SEED");
	char path[512];
	int ret;

	ASSERT_EQ(0, find_card(&st->card));
	/* Earlier tests' SRAM is scrubbed before it counts as free. */
	if (wait_sram_used(&st->card, 0, 10000, &st->sram_before))
		st->sram_before = (uint64_t)-1;
	ret = lpu_open(0, &st->dev);
	ASSERT_EQ(0, ret) TH_LOG("lpu_open: %s", lpu_strerror(ret));
	moe_path(SMALL, "schedule.lpus", path, sizeof(path));
	ret = moe_read_file(path, &st->base, &st->size);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", path, lpu_strerror(ret));
	ret = lpu_sched_parse(st->base, st->size, &st->v, st->msg,
			      sizeof(st->msg));
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", path, st->msg);
	st->off_man = (const uint8_t *)st->v.manifest - st->base;
	st->off_slots = (const uint8_t *)st->v.slots - st->base;
	st->off_tensors = (const uint8_t *)st->v.tensors - st->base;
	st->off_prog = (const uint8_t *)st->v.program - st->base;
	st->off_io = (const uint8_t *)st->v.io - st->base;
	st->off_sec = (const uint8_t *)st->v.sections - st->base;
	moe_path(SMALL, "x.npy", path, sizeof(path));
	ret = lpu_npy_read(path, &st->x, st->msg, sizeof(st->msg));
	ASSERT_EQ(0, ret) TH_LOG("%s", st->msg);
	st->rng = seed ? strtoull(seed, NULL, 0) : 1;
	if (!st->rng)
		st->rng = 1;
	ksft_print_msg("seed %llu (LPU_MUTATE_SEED), base %s: %zu bytes, %u insns, %u slots\n",
		       (unsigned long long)st->rng, SMALL, st->size,
		       st->v.insn_count, st->v.slot_count);
}

FIXTURE_TEARDOWN(mut)
{
	struct mut_state *st = &self->s;

	lpu_npy_free(&st->x);
	free(st->base);
	lpu_close(st->dev);
}

static uint32_t rnd(struct mut_state *st, uint32_t n)
{
	return n ? rnd64(&st->rng) % n : 0;
}

/* What each opcode uses: bit j of dims / ops is dim[j] / op[j]. */
static const struct {
	uint8_t opcode, dims, ops;
} insn_fields[] = {
	{ LPU_INSN_COPY, 0x01, 0x03 },
	{ LPU_INSN_MATMUL, 0x0f, 0x07 },
	{ LPU_INSN_EXPERT_FFN, 0x0f, 0x1f },
	{ LPU_INSN_ADD, 0x01, 0x07 },
	{ LPU_INSN_MUL, 0x01, 0x07 },
	{ LPU_INSN_SILU, 0x01, 0x03 },
	{ LPU_INSN_SWIGLU, 0x01, 0x07 },
	{ LPU_INSN_RMSNORM, 0x07, 0x07 },
	{ LPU_INSN_SOFTMAX, 0x03, 0x03 },
	{ LPU_INSN_TOPK, 0x07, 0x07 },
	{ LPU_INSN_DISPATCH, 0x1f, 0x1f },
	{ LPU_INSN_COMBINE, 0x0f, 0x07 },
};

static void insn_use(uint8_t opcode, unsigned int *dims, unsigned int *ops)
{
	size_t i;

	*dims = 0;
	*ops = 0;
	for (i = 0; i < ARRAY_SIZE(insn_fields); i++) {
		if (insn_fields[i].opcode == opcode) {
			*dims = insn_fields[i].dims;
			*ops = insn_fields[i].ops;
		}
	}
}

static int valid_opcode(uint8_t op)
{
	unsigned int d, o;

	insn_use(op, &d, &o);
	return o != 0;
}

/* Load, run and classify one mutated file, which must be refused. */
static void try_one(struct __test_metadata *_metadata, struct mut_state *st,
		    const uint8_t *data, size_t size)
{
	struct lpu_schedule_result res;
	struct lpu_schedule *s = NULL;
	enum outcome o;
	int ret;

	res.message[0] = '\0';
	ret = lpu_schedule_load_mem(st->dev, data, size, &s, st->msg,
				    sizeof(st->msg));
	if (ret) {
		o = st->msg[0] ? O_LOADER : O_WRONG;
		if (o == O_WRONG)
			snprintf(st->msg, sizeof(st->msg),
				 "loader refused it (%d) without a message", ret);
		goto done;
	}
	st->msg[0] = '\0';
	lpu_schedule_set_timeout(s, RUN_TIMEOUT_MS);
	/* The input may be gone or reshaped by the mutation: then zeroes. */
	lpu_schedule_set_input(s, "x", st->x.data, st->x.bytes);
	ret = lpu_schedule_run(s, &res);
	snprintf(st->msg, sizeof(st->msg), "%s", res.message);
	if ((ret == -ENOEXEC || ret == -EFAULT) && res.message[0]) {
		o = ret == -ENOEXEC ? O_ENOEXEC : O_EFAULT;
	} else if (!ret) {
		snprintf(st->msg, sizeof(st->msg),
			 "an invalid mutation ran to completion");
		o = O_WRONG;
	} else {
		snprintf(st->msg, sizeof(st->msg),
			 "run ended with %d (%s): '%.160s'", ret, lpu_strerror(ret),
			 res.message);
		o = O_WRONG;
	}
	ret = lpu_schedule_unload(s);
	if (ret) {
		snprintf(st->msg, sizeof(st->msg), "unload: %s",
			 lpu_strerror(ret));
		o = O_WRONG;
	}
done:
	st->count[o]++;
	if (!st->example[o][0])
		snprintf(st->example[o], sizeof(st->example[o]), "%s -> %s",
			 st->desc, st->msg);
	if (o == O_WRONG && st->wrong_shown++ < 10)
		TH_LOG("mutation '%s': %s", st->desc, st->msg);
}

/* Print the outcomes of @want mutations; none may be WRONG. */
static void report(struct __test_metadata *_metadata,
		   struct mut_state *st, const char *what, unsigned int want)
{
	unsigned int i, total = 0;

	for (i = 0; i < O_COUNT; i++)
		total += st->count[i];
	ksft_print_msg("%s: %u mutations\n", what, total);
	for (i = 0; i < O_COUNT; i++) {
		if (!st->count[i])
			continue;
		ksft_print_msg("  %5u %s; e.g. %s\n", st->count[i],
			       outcome_name[i], st->example[i]);
	}
	EXPECT_EQ(0, st->count[O_WRONG]);
	EXPECT_EQ(want, total);
	/* Every refused load and every run gave its SRAM back. */
	if (st->sram_before != (uint64_t)-1) {
		uint64_t got;

		EXPECT_EQ(0, wait_sram_used(&st->card, st->sram_before, 10000, &got))
			TH_LOG("SRAM in use %llu after the mutations, %llu before",
			       (unsigned long long)got,
			       (unsigned long long)st->sram_before);
	}
}

/* Any bits of the file, not resealed: the checksums must catch them. */
TEST_F_TIMEOUT(mut, raw_bit_flips_refused, 300)
{
	struct mut_state *st = &self->s;
	uint8_t *b = malloc(st->size);
	unsigned int i, j, n;

	ASSERT_NE(NULL, b);
	for (i = 0; i < 300; i++) {
		do {	/* again if two flips of one bit cancelled */
			memcpy(b, st->base, st->size);
			n = 1 + rnd(st, 4);
			for (j = 0; j < n; j++) {
				size_t at = rnd(st, st->size);

				b[at] ^= 1 << rnd(st, 8);
			}
		} while (!memcmp(b, st->base, st->size));
		snprintf(st->desc, sizeof(st->desc), "%u bit flip(s)", n);
		try_one(_metadata, st, b, st->size);
	}
	EXPECT_EQ(0, st->count[O_ENOEXEC] + st->count[O_EFAULT]);
	report(_metadata, st, "raw bit flips", 300);
	free(b);
}

TEST_F_TIMEOUT(mut, truncated_or_extended_refused, 300)
{
	struct mut_state *st = &self->s;
	uint8_t *b = calloc(1, st->size + 4096);
	unsigned int i;
	size_t n;

	ASSERT_NE(NULL, b);
	memcpy(b, st->base, st->size);
	for (i = 0; i < 100; i++) {
		n = i < 4 ? i : rnd(st, st->size);
		snprintf(st->desc, sizeof(st->desc), "truncated to %zu bytes", n);
		try_one(_metadata, st, b, n ? n : 1);
	}
	for (i = 0; i < 20; i++) {
		n = st->size + 1 + rnd(st, 4095);
		snprintf(st->desc, sizeof(st->desc), "extended to %zu bytes", n);
		try_one(_metadata, st, b, n);
	}
	EXPECT_EQ(st->count[O_LOADER], 120);
	report(_metadata, st, "truncations and extensions", 120);
	free(b);
}

/* Size of slot @i of the base. */
static uint64_t slot_size(struct mut_state *st, uint32_t i)
{
	return le64toh(st->v.slots[i].size);
}

/* First host slot of the base (inputs, outputs, stats live there). */
static uint32_t host_slot(struct mut_state *st)
{
	uint32_t i;

	for (i = 0; i < st->v.slot_count; i++)
		if (le32toh(st->v.slots[i].domain) == DRM_LPU_BO_HOST)
			return i;
	return 0;
}

/*
 * A dim that holds no size: RMSNORM's epsilon bits and COPY's byte count,
 * which a huge or zero value does not always make invalid.
 */
static int dim_not_a_size(uint8_t opcode, unsigned int j)
{
	return (opcode == LPU_INSN_RMSNORM && j == 2) ||
	       (opcode == LPU_INSN_COPY && j == 0);
}

/*
 * Mutate one field of a random instruction of @b to a value no valid
 * program has (a draw that could be valid is drawn again).
 */
static void mutate_insn(struct mut_state *st, uint8_t *b)
{
	uint32_t i = rnd(st, st->v.insn_count), j, v32;
	struct lpu_insn *in = (struct lpu_insn *)(b + st->off_prog) + i;
	unsigned int dims, ops, kind = rnd(st, 16);
	const char *name = "";
	uint64_t a, slot;

	insn_use(in->opcode, &dims, &ops);
	j = rnd(st, 5);
	switch (kind) {
	case 0:
		do
			v32 = rnd(st, 256);
		while (valid_opcode(v32));
		in->opcode = v32;
		name = "opcode unknown";
		break;
	case 1:
		in->flags = htole16(le16toh(in->flags) | 0xfffc);
		name = "flags every undefined bit";
		break;
	case 2:
		in->dtype = 5 + rnd(st, 251);
		name = "dtype unknown";
		break;
	case 3:
		if (dims & (1U << j))
			return mutate_insn(st, b);
		in->dim[j] = htole32(1 + rnd(st, 1000));
		name = "dim the opcode does not use set";
		break;
	case 4:
		in->flags = htole16(le16toh(in->flags) | 1U << (2 + rnd(st, 14)));
		name = "flags undefined bit";
		break;
	case 5:
		if (in->opcode == LPU_INSN_TOPK)
			return mutate_insn(st, b);
		in->flags = htole16(le16toh(in->flags) ^ (1U << rnd(st, 2)));
		name = "flags TOPK bit on another opcode";
		break;
	case 6:
		in->dim[j] = htole32(0xffffffff);
		name = "dim 0xffffffff";
		break;
	case 7:
		if (dim_not_a_size(in->opcode, j))
			return mutate_insn(st, b);
		in->dim[j] = htole32(LPU_EXEC_MAX_DIM + 1 + rnd(st, 1000));
		name = "dim above LPU_EXEC_MAX_DIM";
		break;
	case 8:
		if (!(dims & (1U << j)) || !in->dim[j] ||
		    dim_not_a_size(in->opcode, j))
			return mutate_insn(st, b);
		in->dim[j] = 0;
		name = "dim 0";
		break;
	case 9:
		if (dim_not_a_size(in->opcode, j))
			return mutate_insn(st, b);
		in->dim[j] = htole32(LPU_EXEC_MAX_DIM * (2 + rnd(st, 4000)));
		name = "dim a huge multiple of LPU_EXEC_MAX_DIM";
		break;
	case 10:
		in->op[j] = htole64(DRM_LPU_EXEC_SLOT_ADDR(st->v.slot_count + 1 +
							   rnd(st, 8)));
		name = "operand in an unmapped slot";
		break;
	case 11:
		/* EXPERT_FFN's routing table is optional. */
		if (!in->op[j] || (in->opcode == LPU_INSN_EXPERT_FFN && j == 4))
			return mutate_insn(st, b);
		in->op[j] = 0;
		name = "operand 0";
		break;
	case 12:
		in->op[j] = htole64(le64toh(in->op[j]) + 1 + rnd(st, 63));
		name = "operand misaligned";
		break;
	case 13:
		a = le64toh(in->op[j]);
		slot = a >> 32;
		if (!slot || slot > st->v.slot_count)
			return mutate_insn(st, b);
		in->op[j] = htole64(DRM_LPU_EXEC_SLOT_ADDR(slot - 1) +
				    slot_size(st, slot - 1));
		name = "operand at the end of its slot";
		break;
	case 14:
		in->op[j] = htole64(0xffffffffffffffc0ULL);
		name = "operand at the top of the address space";
		break;
	case 15:
		/* COPY may read and write host memory; compute may not. */
		if (in->opcode == LPU_INSN_COPY)
			return mutate_insn(st, b);
		in->op[j] = htole64(DRM_LPU_EXEC_SLOT_ADDR(host_slot(st)));
		name = "compute operand in host memory";
		break;
	}
	snprintf(st->desc, sizeof(st->desc), "insn %u (opcode 0x%02x) %s (field %u)",
		 i, ((struct lpu_insn *)(st->base + st->off_prog))[i].opcode,
		 name, j);
}

TEST_F_TIMEOUT(mut, instruction_fields_resealed, 900)
{
	struct mut_state *st = &self->s;
	uint8_t *b = malloc(st->size);
	unsigned int i;

	ASSERT_NE(NULL, b);
	for (i = 0; i < 450; i++) {
		do {
			memcpy(b, st->base, st->size);
			mutate_insn(st, b);
			ASSERT_EQ(0, lpu_sched_seal(b, st->size));
		} while (!memcmp(b, st->base, st->size));
		try_one(_metadata, st, b, st->size);
	}
	report(_metadata, st, "instruction fields (resealed)", 450);
	free(b);
}

/* A 32-bit field at @p: set it to @v. */
static void put32(void *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void put64(void *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static uint32_t get32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

/* Header, section, slot, tensor or I/O table field, to an invalid value. */
static void mutate_table(struct mut_state *st, uint8_t *b)
{
	struct lpu_sched_header *h = (struct lpu_sched_header *)b;
	unsigned int kind = rnd(st, 30), coin = rnd(st, 2);
	struct lpu_sched_section *se;
	struct lpu_sched_tensor *t;
	struct lpu_sched_slot *sl;
	struct lpu_sched_io *io;
	const char *name = "";
	uint32_t i;

	i = rnd(st, st->v.slot_count);
	sl = (struct lpu_sched_slot *)(b + st->off_slots) + i;
	if (kind >= 8 && kind < 18)
		i = rnd(st, st->v.tensor_count);
	t = (struct lpu_sched_tensor *)(b + st->off_tensors) + i;
	if (kind >= 18 && kind < 23)
		i = rnd(st, st->v.io_count);
	io = (struct lpu_sched_io *)(b + st->off_io) + i;
	if (kind >= 23)
		i = rnd(st, st->v.section_count);
	se = (struct lpu_sched_section *)(b + st->off_sec) + i;

	switch (kind) {
	case 0:
		put64(&sl->size, 0);
		name = "slot size 0";
		break;
	case 1:
		put64(&sl->size, le64toh(sl->size) + 1 + rnd(st, 4095));
		name = "slot size unaligned";
		break;
	case 2:
		put64(&sl->size, 2ULL << 30);
		name = "slot size 2 GiB";
		break;
	case 3:
		put64(&sl->size, DRM_LPU_BO_MAX_SIZE + 4096 * (1 + rnd(st, 1000)));
		name = "slot size above DRM_LPU_BO_MAX_SIZE";
		break;
	case 4:
		put32(&sl->domain, coin ? 0 : 3 + rnd(st, 100));
		name = "slot domain unknown";
		break;
	case 5:
		/* Only the program may live in either. */
		if (get32(&sl->role) == LPU_SLOT_PROGRAM)
			return mutate_table(st, b);
		put32(&sl->domain, 3 - le32toh(sl->domain));
		name = "slot domain swapped (not its role's)";
		break;
	case 6:
		put32(&sl->role, coin ? 0 : 7 + rnd(st, 100));
		name = "slot role unknown";
		break;
	case 7:
		if (coin) {
			put32(&sl->init_section,
			      st->v.section_count + rnd(st, 100));
			name = "slot init_section beyond the table";
		} else {
			put64(&sl->init_offset,
			      le64toh(sl->init_offset) + 1 + rnd(st, 63));
			name = "slot init_offset misaligned";
		}
		break;
	case 8:
		memset(t->name, 'A', sizeof(t->name));
		name = "tensor name without NUL";
		break;
	case 9:
		put32(&t->slot, st->v.slot_count + rnd(st, 100));
		name = "tensor slot beyond the table";
		break;
	case 10:
		put32(&t->dtype, 5 + rnd(st, 1000));
		name = "tensor dtype unknown";
		break;
	case 11:
		put64(&t->offset, slot_size(st, get32(&t->slot)));
		name = "tensor offset at the end of its slot";
		break;
	case 12:
		put64(&t->offset, 1ULL << (40 + rnd(st, 24)));
		name = "tensor offset huge";
		break;
	case 13:
		put64(&t->bytes, coin ? 0 : 1ULL << (33 + rnd(st, 30)));
		name = "tensor bytes 0 or huge";
		break;
	case 14:
		put32(&t->rank, coin ? 0 : 5 + rnd(st, 100));
		name = "tensor rank 0 or above 4";
		break;
	case 15:
		put32(&t->shape[0], 0);
		name = "tensor shape[0] 0";
		break;
	case 16:
		if (get32(&t->rank) >= 4)
			return mutate_table(st, b);
		put32(&t->shape[get32(&t->rank)], 1 + rnd(st, 100));
		name = "tensor shape beyond its rank";
		break;
	case 17:
		put32(&t->shape[0], get32(&t->shape[0]) * 2);
		name = "tensor shape[0] doubled (not its bytes)";
		break;
	case 18:
		put32(&io->tensor, st->v.tensor_count + rnd(st, 100));
		name = "I/O tensor beyond the table";
		break;
	case 19:
		put32(&io->direction, coin ? 0 : 3 + rnd(st, 100));
		name = "I/O direction unknown";
		break;
	case 20:
		put32(&io->kind, coin ? 0 : 5 + rnd(st, 100));
		name = "I/O kind unknown";
		break;
	case 21:
		put32(&io->block, get32(&st->v.manifest->num_blocks) +
		      rnd(st, 100));
		name = "I/O block beyond the schedule";
		break;
	case 22:
		put32(&io->direction, 3 - get32(&io->direction));
		name = "I/O direction swapped (not its slot's)";
		break;
	case 23:
		put32(&se->type, 7 + rnd(st, 1000));
		name = "section type unknown";
		break;
	case 24:
		put64(&se->offset, le64toh(se->offset) + 64 * (1 + rnd(st, 4)));
		name = "section offset moved";
		break;
	case 25:
		put64(&se->size, le64toh(se->size) + st->size);
		name = "section size beyond the file";
		break;
	case 26:
		put32(&se->rsvd, 1 + rnd(st, 100));
		name = "section rsvd set";
		break;
	case 27:
		put32(&h->section_count, coin ? 0 : LPU_SCHED_MAX_SECTIONS + 1);
		name = "header section_count 0 or too many";
		break;
	case 28:
		put64(&h->file_size, le64toh(h->file_size) + 64);
		name = "header file_size wrong";
		break;
	default:
		if (coin) {
			put32(&h->version_major, 2 + rnd(st, 100));
			name = "header major version";
		} else {
			put32(&h->rsvd[rnd(st, 3)], 1);
			name = "header rsvd set";
		}
		break;
	}
	snprintf(st->desc, sizeof(st->desc), "%s (entry %u)", name, i);
}

TEST_F_TIMEOUT(mut, tables_and_header_resealed, 600)
{
	struct mut_state *st = &self->s;
	uint8_t *b = malloc(st->size);
	unsigned int i;

	ASSERT_NE(NULL, b);
	for (i = 0; i < 200; i++) {
		do {
			memcpy(b, st->base, st->size);
			mutate_table(st, b);
			/* A header too broken to seal is still a file to refuse. */
			lpu_sched_seal(b, st->size);
		} while (!memcmp(b, st->base, st->size));
		try_one(_metadata, st, b, st->size);
	}
	report(_metadata, st, "tables and header (resealed)", 200);
	free(b);
}

/* One manifest field, to a value the rules refuse. */
static void mutate_manifest(struct mut_state *st, uint8_t *b)
{
	struct lpu_sched_manifest *m =
		(struct lpu_sched_manifest *)(b + st->off_man);
	unsigned int kind = rnd(st, 16);
	const char *name = "";

	switch (kind) {
	case 0:
		put32(&m->insn_count, get32(&m->insn_count) + (rnd(st, 2) ? 1 : -1));
		name = "insn_count off by one";
		break;
	case 1:
		put64(&m->program, le64toh(m->program) + 64);
		name = "program address moved";
		break;
	case 2:
		put64(&m->program, DRM_LPU_EXEC_SLOT_ADDR(st->v.slot_count + 1));
		name = "program in an unmapped slot";
		break;
	case 3:
		put64(&m->stats, DRM_LPU_EXEC_SLOT_ADDR(st->v.slot_count + 1));
		name = "stats in an unmapped slot";
		break;
	case 4:
		put64(&m->stats, le64toh(m->stats) + 1 + rnd(st, 63));
		name = "stats misaligned";
		break;
	case 5:
		put32(&m->num_experts, get32(&m->num_experts) + 1);
		name = "num_experts + 1";
		break;
	case 6:
		put32(&m->top_k, get32(&m->top_k) + 1);
		name = "top_k + 1";
		break;
	case 7:
		put32(&m->tokens, get32(&m->tokens) + 1);
		name = "tokens + 1";
		break;
	case 8:
		put32(&m->hidden, get32(&m->hidden) * 2);
		name = "hidden doubled";
		break;
	case 9:
		put32(&m->num_blocks, 0);
		name = "num_blocks 0";
		break;
	case 10:
		put32(&m->rms_eps, 0x7fc00000);
		name = "rms_eps NaN";
		break;
	case 11:
		put32(&m->capacity_factor, 0);
		name = "capacity_factor 0";
		break;
	case 12:
		put32(&m->rsvd[rnd(st, 28)], 1 + rnd(st, 100));
		name = "rsvd set";
		break;
	case 13:
		put32(&m->weight_dtype, 5 + rnd(st, 100));
		name = "weight_dtype unknown";
		break;
	case 14:
		memset(m->model, 'M', sizeof(m->model));
		name = "model name without NUL";
		break;
	default:
		put32(&m->capacity, get32(&m->capacity) + 1);
		name = "capacity + 1 (not the compiler's rule)";
		break;
	}
	snprintf(st->desc, sizeof(st->desc), "manifest %s", name);
}

TEST_F_TIMEOUT(mut, manifest_resealed, 600)
{
	struct mut_state *st = &self->s;
	uint8_t *b = malloc(st->size);
	unsigned int i;

	ASSERT_NE(NULL, b);
	for (i = 0; i < 100; i++) {
		memcpy(b, st->base, st->size);
		mutate_manifest(st, b);
		ASSERT_EQ(0, lpu_sched_seal(b, st->size));
		try_one(_metadata, st, b, st->size);
	}
	report(_metadata, st, "manifest fields (resealed)", 100);
	free(b);
}

/* After all of that, the valid schedule still runs correctly. */
TEST_F_TIMEOUT(mut, valid_schedule_runs_after, 120)
{
	struct mut_state *st = &self->s;
	struct lpu_schedule_result res;
	struct lpu_schedule *s;
	int ret;

	ret = lpu_schedule_load_mem(st->dev, st->base, st->size, &s,
				    st->msg, sizeof(st->msg));
	ASSERT_EQ(0, ret) TH_LOG("%s", st->msg);
	ASSERT_EQ(0, lpu_schedule_set_input(s, "x", st->x.data, st->x.bytes));
	ret = lpu_schedule_run(s, &res);
	ASSERT_EQ(0, ret) TH_LOG("%s", res.message);
	ret = moe_compare(s, SMALL, 0, st->msg, sizeof(st->msg));
	EXPECT_EQ(0, ret) TH_LOG("%s", st->msg);
	EXPECT_EQ(0, lpu_schedule_unload(s));
}

/* Declared last: runs after every MoE test above. */
TEST_F(mut, kernel_not_tainted)
{
	expect_not_tainted(_metadata);
}

TEST_HARNESS_MAIN
