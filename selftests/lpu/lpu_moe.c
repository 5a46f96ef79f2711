// SPDX-License-Identifier: GPL-2.0
/*
 * Precompiled MoE schedules on the real driver and card, through liblpu,
 * against the independent numpy reference (tools/moe/reference.py) that
 * the host ran on the same checkpoints and inputs (test data in
 * /opt/lpu/moe, built by the top Makefile):
 *   - for each checkpoint style (Mixtral, DeepSeek with a shared expert)
 *     and weight dtype (f32, bf16, int8): router choices and expert
 *     load/dropped counters identical, int8 outputs bit-exact, f32 and
 *     bf16 within max|d - r| <= 1e-5 * max|r|;
 *   - two runs give identical bytes and identical device cycles (> 0);
 *   - several schedules loaded and in flight at once, and their SRAM
 *     back after unloading (sysfs sram_used_bytes);
 *   - asynchronous submit and wait, and their rules;
 *   - a schedule compiled for a newer card is refused by the loader, and a
 *     program the card refuses fails its run with a message naming the
 *     instruction, after which a valid schedule runs correctly.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lpu_schedule.h>
#include <npy.h>
#include <sched_file.h>

#include "kselftest_harness.h"
#include "lpu_fixture.h"
#include "lpu_mem.h"
#include "lpu_moe_common.h"

/* Every case the Makefile builds: <style>-<weight dtype>. */
static const char *const all_cases[] = {
	"mixtral-f32", "mixtral-bf16", "mixtral-int8",
	"deepseek-f32", "deepseek-bf16", "deepseek-int8",
	"tie-int8", "sigmoid-f32",
};

#define NCASES	ARRAY_SIZE(all_cases)
/* The small schedule of the refusal tests (and the mutation test). */
#define SMALL	"tiny-f32"

FIXTURE(moe) {
	struct lpu_card card;
	struct lpu_device *dev;
	char msg[LPU_MSG_LEN];
};

FIXTURE_VARIANT(moe) {
	const char *name;
	int exact;	/* int8: bit-exact with the reference's integer math */
};

FIXTURE_VARIANT_ADD(moe, mixtral_f32) { .name = "mixtral-f32" };
FIXTURE_VARIANT_ADD(moe, mixtral_bf16) { .name = "mixtral-bf16" };
FIXTURE_VARIANT_ADD(moe, mixtral_int8) { .name = "mixtral-int8", .exact = 1 };
FIXTURE_VARIANT_ADD(moe, deepseek_f32) { .name = "deepseek-f32" };
FIXTURE_VARIANT_ADD(moe, deepseek_bf16) { .name = "deepseek-bf16" };
FIXTURE_VARIANT_ADD(moe, deepseek_int8) { .name = "deepseek-int8", .exact = 1 };
/* Gate rows in equal pairs: the top-k tie-break decides every token. */
FIXTURE_VARIANT_ADD(moe, tie_int8) { .name = "tie-int8", .exact = 1 };
/* DeepSeek's sigmoid scoring, top-k weights renormalised. */
FIXTURE_VARIANT_ADD(moe, sigmoid_f32) { .name = "sigmoid-f32" };

FIXTURE_SETUP(moe)
{
	int ret = find_card(&self->card);

	ASSERT_EQ(0, ret) TH_LOG("no LPU card found: %s", lpu_strerror(ret));
	ret = lpu_open(0, &self->dev);
	ASSERT_EQ(0, ret) TH_LOG("lpu_open: %s", lpu_strerror(ret));
}

FIXTURE_TEARDOWN(moe)
{
	lpu_close(self->dev);
}

/* lpu_schedule_compare_dir()'s lines, in the test's output. */
static void print_compare(void *ctx, const char *name, int bad,
			  const char *line)
{
	(void)ctx;
	ksft_print_msg("  %s %-26s %s\n", bad ? "!!" : "ok", name, line);
}

TEST_F_TIMEOUT(moe, matches_reference_and_repeats, 300)
{
	struct lpu_schedule_result r1, r2;
	struct lpu_schedule_info in;
	struct lpu_tensor_info t;
	unsigned int i, outputs;
	struct lpu_schedule *s;
	uint32_t *load, *dropped, b, e, sum;
	uint8_t *snap1, *snap2;
	size_t n1, n2;
	int ret;

	ret = moe_load_case(self->dev, variant->name, &s, self->msg, sizeof(self->msg));
	ASSERT_EQ(0, ret) TH_LOG("%s", self->msg);
	ASSERT_EQ(0, lpu_schedule_info(s, &in));
	ret = lpu_schedule_run(s, &r1);
	ASSERT_EQ(0, ret) TH_LOG("run: %s", r1.message);
	EXPECT_LT(0, r1.cycles);
	EXPECT_EQ(in.insn_count, r1.insns);
	EXPECT_STREQ("", r1.message);
	/* y, and per block router choices, expert load and dropped. */
	for (i = 0, outputs = 0; !lpu_schedule_tensor(s, i, &t); i++)
		outputs += t.direction == LPU_IO_OUTPUT;
	EXPECT_EQ(1 + 3 * in.num_blocks, outputs);
	ret = moe_compare(s, variant->name, variant->exact, self->msg,
			  sizeof(self->msg));
	EXPECT_EQ(0, ret) TH_LOG("%s: %d outputs differ from the reference; %s",
				 variant->name, ret, self->msg);

	/* Every token is routed to k experts; at most C stay per expert. */
	load = calloc(in.num_experts, sizeof(*load));
	dropped = calloc(in.num_experts, sizeof(*dropped));
	ASSERT_TRUE(load && dropped);
	for (b = 0; b < in.num_blocks; b++) {
		ASSERT_EQ((int)in.num_experts,
			  lpu_schedule_expert_counts(s, b, load, dropped,
						     in.num_experts));
		for (e = 0, sum = 0; e < in.num_experts; e++) {
			sum += load[e];
			EXPECT_LE(load[e] - dropped[e], in.capacity);
			EXPECT_LE(dropped[e], load[e]);
		}
		EXPECT_EQ(in.tokens * in.top_k, sum);
	}
	free(load);
	free(dropped);

	snap1 = moe_snapshot(s, &n1);
	ASSERT_NE(NULL, snap1);
	ret = lpu_schedule_run(s, &r2);
	ASSERT_EQ(0, ret) TH_LOG("second run: %s", r2.message);
	snap2 = moe_snapshot(s, &n2);
	ASSERT_NE(NULL, snap2);
	ASSERT_EQ(n1, n2);
	EXPECT_EQ(0, memcmp(snap1, snap2, n1))
		TH_LOG("two runs on the same input gave different outputs");
	EXPECT_EQ(r1.cycles, r2.cycles);
	ksft_print_msg("%s: %llu device cycles, %u instructions, %.1f MiB SRAM\n",
		       variant->name, (unsigned long long)r1.cycles, r1.insns,
		       in.sram_bytes / 1048576.0);
	free(snap1);
	free(snap2);
	EXPECT_EQ(0, lpu_schedule_unload(s));
}

/* Submit and wait, and what the library refuses while a run is in flight. */
TEST_F_TIMEOUT(moe, async_submit_wait, 300)
{
	struct lpu_schedule_result res;
	struct lpu_fence fence, other;
	struct lpu_tensor_info x;
	struct lpu_schedule *s;
	void *buf;
	int ret;

	ret = moe_load_case(self->dev, variant->name, &s, self->msg, sizeof(self->msg));
	ASSERT_EQ(0, ret) TH_LOG("%s", self->msg);
	ASSERT_EQ(0, lpu_schedule_find(s, "x", &x));
	buf = calloc(1, x.bytes);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, lpu_schedule_submit(s, &fence));
	EXPECT_LT(0, fence.seq);
	EXPECT_EQ(-EBUSY, lpu_schedule_submit(s, &other));
	EXPECT_EQ(-EBUSY, lpu_schedule_set_input(s, "x", buf, x.bytes));
	/* y is [T, H] like x. */
	EXPECT_EQ(-EBUSY, lpu_schedule_get_output(s, "y", buf, x.bytes));
	free(buf);
	/* A poll returns at once: done already, or not yet. */
	ret = lpu_schedule_wait(s, &fence, 0, &res);
	EXPECT_TRUE(ret == 0 || ret == -ETIME) TH_LOG("poll: %d", ret);
	if (ret == -ETIME)
		ASSERT_EQ(0, lpu_schedule_wait(s, &fence, LPU_WAIT_FOREVER, &res));
	ASSERT_EQ(0, res.status) TH_LOG("%s", res.message);
	EXPECT_LT(0, res.cycles);
	ret = moe_compare(s, variant->name, variant->exact, self->msg,
			  sizeof(self->msg));
	EXPECT_EQ(0, ret) TH_LOG("%s", self->msg);
	/* Waited for: the next submission is accepted. */
	ASSERT_EQ(0, lpu_schedule_submit(s, &other));
	EXPECT_LT(fence.seq, other.seq);
	ASSERT_EQ(0, lpu_schedule_wait(s, &other, LPU_WAIT_FOREVER, &res));
	EXPECT_EQ(0, res.status);
	EXPECT_EQ(0, lpu_schedule_unload(s));
}

FIXTURE(moe_all) {
	struct lpu_card card;
	struct lpu_device *dev;
	char msg[LPU_MSG_LEN];
};

FIXTURE_SETUP(moe_all)
{
	int ret = find_card(&self->card);

	ASSERT_EQ(0, ret) TH_LOG("no LPU card found: %s", lpu_strerror(ret));
	ret = lpu_open(0, &self->dev);
	ASSERT_EQ(0, ret) TH_LOG("lpu_open: %s", lpu_strerror(ret));
}

FIXTURE_TEARDOWN(moe_all)
{
	lpu_close(self->dev);
}

/*
 * Every case loaded at once (one of them twice), all submitted before any
 * is waited for, each still matching its reference; unloading gives every
 * byte of SRAM back.
 */
TEST_F_TIMEOUT(moe_all, several_loaded_at_once, 600)
{
	struct lpu_schedule *s[NCASES + 1];
	struct lpu_fence f[NCASES + 1];
	struct lpu_schedule_result res;
	struct lpu_schedule_info in;
	struct lpu_info card;
	uint64_t before, during, sum = 0, got;
	const char *name;
	unsigned int i;
	int ret, settled;

	/*
	 * SRAM the earlier tests freed counts as used until the card has
	 * scrubbed it (slower on a debug kernel): start from a settled card.
	 */
	ret = wait_sram_used(&self->card, 0, 10000, &before);
	ASSERT_TRUE(!ret || ret == -ETIMEDOUT) TH_LOG("sram_used_bytes: %d", ret);
	settled = !ret;
	for (i = 0; i <= NCASES; i++) {
		name = all_cases[i % NCASES];
		ret = moe_load_case(self->dev, name, &s[i], self->msg, sizeof(self->msg));
		ASSERT_EQ(0, ret) TH_LOG("%s", self->msg);
		ASSERT_EQ(0, lpu_schedule_info(s[i], &in));
		sum += in.sram_bytes;
	}
	ASSERT_EQ(0, sram_attr(&self->card, "sram_used_bytes", &during));
	/* A card still scrubbing at the start may finish meanwhile. */
	if (settled) {
		EXPECT_EQ(before + sum, during)
			TH_LOG("SRAM in use %llu, expected %llu + %llu",
			       (unsigned long long)during,
			       (unsigned long long)before,
			       (unsigned long long)sum);
	} else {
		ksft_print_msg("card still scrubbing: no exact SRAM check\n");
	}
	/* Spread over the queues: runs of different queues overlap. */
	ASSERT_EQ(0, lpu_query(self->dev, &card));
	for (i = 0; i <= NCASES; i++) {
		ASSERT_EQ(0, lpu_schedule_set_queue(s[i], i % card.num_queues));
		ASSERT_EQ(0, lpu_schedule_submit(s[i], &f[i]));
	}
	for (i = 0; i <= NCASES; i++) {
		name = all_cases[i % NCASES];
		ASSERT_EQ(0, lpu_schedule_wait(s[i], &f[i], LPU_WAIT_FOREVER, &res));
		EXPECT_EQ(0, res.status) TH_LOG("%s: %s", name, res.message);
		ret = moe_compare(s[i], name, !!strstr(name, "int8"),
				  self->msg, sizeof(self->msg));
		EXPECT_EQ(0, ret) TH_LOG("%s: %s", name, self->msg);
	}
	for (i = 0; i <= NCASES; i++)
		EXPECT_EQ(0, lpu_schedule_unload(s[i]));
	ret = wait_sram_used(&self->card, before, 5000, &got);
	EXPECT_EQ(0, ret) TH_LOG("SRAM in use %llu after unloading, %llu before",
				 (unsigned long long)got,
				 (unsigned long long)before);
}

/* The small schedule loads, runs and matches its reference (after @what). */
static void small_runs_correctly(struct __test_metadata *_metadata,
				 struct lpu_device *dev, const char *what)
{
	struct lpu_schedule_result res;
	struct lpu_schedule *s;
	char msg[LPU_MSG_LEN];
	int ret;

	ret = moe_load_case(dev, SMALL, &s, msg, sizeof(msg));
	ASSERT_EQ(0, ret) TH_LOG("%s", msg);
	ret = lpu_schedule_run(s, &res);
	ASSERT_EQ(0, ret) TH_LOG("valid run after %s: %s", what, res.message);
	ret = moe_compare(s, SMALL, 0, msg, sizeof(msg));
	EXPECT_EQ(0, ret) TH_LOG("%s", msg);
	EXPECT_EQ(0, lpu_schedule_unload(s));
}

/* A copy of the small schedule's file, with its parsed view. */
static uint8_t *small_file(struct __test_metadata *_metadata, size_t *size,
			   struct lpu_sched_view *v)
{
	char path[512], msg[256];
	uint8_t *data;
	int ret;

	moe_path(SMALL, "schedule.lpus", path, sizeof(path));
	ret = moe_read_file(path, &data, size);
	EXPECT_EQ(0, ret) TH_LOG("%s: %s", path, lpu_strerror(ret));
	if (ret)
		return NULL;
	ret = lpu_sched_parse(data, *size, v, msg, sizeof(msg));
	EXPECT_EQ(0, ret) TH_LOG("%s: %s", path, msg);
	if (ret) {
		free(data);
		return NULL;
	}
	return data;
}

TEST_F_TIMEOUT(moe_all, newer_target_refused, 120)
{
	struct lpu_sched_header *h;
	struct lpu_sched_view v;
	struct lpu_schedule *s = NULL;
	uint8_t *data;
	size_t size;

	data = small_file(_metadata, &size, &v);
	ASSERT_NE(NULL, data);
	h = (struct lpu_sched_header *)data;

	h->target_hw_version = htole32(4 << 16);
	ASSERT_EQ(0, lpu_sched_seal(data, size));
	EXPECT_EQ(-ENOEXEC, lpu_schedule_load_mem(self->dev, data, size, &s,
						  self->msg, sizeof(self->msg)));
	EXPECT_NE(NULL, strstr(self->msg, "4.0 but card is 3.0"))
		TH_LOG("message: %s", self->msg);
	EXPECT_EQ(NULL, s);

	h->target_hw_version = htole32(3 << 16 | 1);
	ASSERT_EQ(0, lpu_sched_seal(data, size));
	EXPECT_EQ(-ENOEXEC, lpu_schedule_load_mem(self->dev, data, size, &s,
						  self->msg, sizeof(self->msg)));
	EXPECT_NE(NULL, strstr(self->msg, "3.1 but card is 3.0"))
		TH_LOG("message: %s", self->msg);

	h->target_hw_version = htole32(LPU_HW_VERSION);
	ASSERT_EQ(0, lpu_sched_seal(data, size));
	data[size / 2] ^= 0x10;		/* and not resealed */
	EXPECT_EQ(-EBADMSG, lpu_schedule_load_mem(self->dev, data, size, &s,
						  self->msg, sizeof(self->msg)));
	EXPECT_NE(0, self->msg[0]);
	data[size / 2] ^= 0x10;
	ASSERT_EQ(0, lpu_schedule_load_mem(self->dev, data, size, &s,
					   self->msg, sizeof(self->msg)))
		TH_LOG("%s", self->msg);
	EXPECT_EQ(0, lpu_schedule_unload(s));
	free(data);
}

/*
 * A MATMUL whose weight operand points at a slot the run does not have:
 * the card refuses the program before running it, and the message names
 * the instruction, its opcode and the reason. The queue goes on: the
 * valid schedule then runs and matches its reference.
 */
TEST_F_TIMEOUT(moe_all, refused_instruction_named, 120)
{
	struct lpu_schedule_result res;
	struct lpu_sched_view v;
	struct lpu_schedule *s;
	struct lpu_insn *insn = NULL;
	char want[64];
	uint8_t *data;
	size_t size;
	uint32_t i;
	int ret;

	data = small_file(_metadata, &size, &v);
	ASSERT_NE(NULL, data);
	for (i = 0; i < v.insn_count; i++) {
		if (v.program[i].opcode == LPU_INSN_MATMUL) {
			insn = (struct lpu_insn *)&v.program[i];
			break;
		}
	}
	ASSERT_NE(NULL, insn) TH_LOG("the small schedule has no MATMUL");
	insn->op[1] = htole64(DRM_LPU_EXEC_SLOT_ADDR(v.slot_count + 2));
	ASSERT_EQ(0, lpu_sched_seal(data, size));
	ret = lpu_schedule_load_mem(self->dev, data, size, &s, self->msg,
				    sizeof(self->msg));
	ASSERT_EQ(0, ret) TH_LOG("load: %s", self->msg);
	ret = moe_set_x(s, SMALL, self->msg, sizeof(self->msg));
	ASSERT_EQ(0, ret) TH_LOG("%s", self->msg);
	ASSERT_EQ(0, lpu_schedule_set_timeout(s, MOE_RUN_TIMEOUT_MS));
	ret = lpu_schedule_run(s, &res);
	EXPECT_EQ(-ENOEXEC, ret) TH_LOG("run: %s", res.message);
	EXPECT_EQ(i, res.error_insn);
	EXPECT_EQ(LPU_EXEC_E_OPERAND, res.error_reason);
	EXPECT_EQ(DRM_LPU_EXEC_SLOT_ADDR(v.slot_count + 2), res.fault_addr);
	snprintf(want, sizeof(want), "instruction %u (MATMUL): operand out of bounds", i);
	EXPECT_NE(NULL, strstr(res.message, want))
		TH_LOG("message '%s' lacks '%s'", res.message, want);
	ksft_print_msg("the card's refusal, as liblpu words it: %s\n", res.message);
	EXPECT_EQ(0, lpu_schedule_unload(s));
	free(data);

	small_runs_correctly(_metadata, self->dev, "the refusal");
}

/*
 * Unloading a schedule whose run is still in flight waits for the run,
 * then gives every byte of its SRAM back; the card goes on.
 */
TEST_F_TIMEOUT(moe_all, unload_while_in_flight, 300)
{
	struct lpu_schedule *s;
	struct lpu_fence fence;
	uint64_t before, got;
	int ret, settled;

	ret = wait_sram_used(&self->card, 0, 10000, &before);
	ASSERT_TRUE(!ret || ret == -ETIMEDOUT) TH_LOG("sram_used_bytes: %d", ret);
	settled = !ret;
	ret = moe_load_case(self->dev, "mixtral-f32", &s, self->msg,
			    sizeof(self->msg));
	ASSERT_EQ(0, ret) TH_LOG("%s", self->msg);
	ASSERT_EQ(0, lpu_schedule_submit(s, &fence));
	EXPECT_EQ(0, lpu_schedule_unload(s));
	if (settled) {
		ret = wait_sram_used(&self->card, before, 10000, &got);
		EXPECT_EQ(0, ret) TH_LOG("SRAM in use %llu after the unload, %llu before",
					 (unsigned long long)got,
					 (unsigned long long)before);
	}
	small_runs_correctly(_metadata, self->dev, "the unload");
}

/* Copy file @from to @to; 0 or -errno. */
static int copy_file(const char *from, const char *to)
{
	uint8_t *data;
	size_t size;
	FILE *f;
	int ret;

	ret = moe_read_file(from, &data, &size);
	if (ret)
		return ret;
	f = fopen(to, "wb");
	if (!f) {
		ret = -errno;
	} else {
		if (fwrite(data, 1, size, f) != size)
			ret = -EIO;
		if (fclose(f) && !ret)
			ret = -EIO;
	}
	free(data);
	return ret;
}

static int count_bad(struct lpu_schedule *s, const char *dir)
{
	return lpu_schedule_compare_dir(s, dir, 0, MOE_RTOL, print_compare,
					NULL);
}

/*
 * The comparison misses nothing: a reference the schedule has no output
 * for (a lost block's router choices) and an output without a reference
 * both count as differences.
 */
TEST_F_TIMEOUT(moe_all, compare_misses_nothing, 120)
{
	static const char *const refs[] = {
		"y", "block0.router_idx", "block0.expert_load",
		"block0.expert_dropped",
	};
	char dir[] = "/tmp/lpu-moe-ref-XXXXXX", from[512], to[600], file[96];
	struct lpu_schedule_result res;
	struct lpu_schedule *s;
	unsigned int i;
	int ret;

	ret = moe_load_case(self->dev, SMALL, &s, self->msg, sizeof(self->msg));
	ASSERT_EQ(0, ret) TH_LOG("%s", self->msg);
	ret = lpu_schedule_run(s, &res);
	ASSERT_EQ(0, ret) TH_LOG("run: %s", res.message);
	ASSERT_NE(NULL, mkdtemp(dir));
	for (i = 0; i < ARRAY_SIZE(refs); i++) {
		snprintf(file, sizeof(file), "ref/%s.npy", refs[i]);
		moe_path(SMALL, file, from, sizeof(from));
		snprintf(to, sizeof(to), "%s/%s.npy", dir, refs[i]);
		ASSERT_EQ(0, copy_file(from, to)) TH_LOG("%s", from);
	}
	EXPECT_EQ(0, count_bad(s, dir));
	/* A second block in the reference that the schedule lacks. */
	moe_path(SMALL, "ref/block0.router_idx.npy", from, sizeof(from));
	snprintf(to, sizeof(to), "%s/block1.router_idx.npy", dir);
	ASSERT_EQ(0, copy_file(from, to));
	EXPECT_EQ(1, count_bad(s, dir));
	/* And an output without its reference. */
	snprintf(to, sizeof(to), "%s/y.npy", dir);
	ASSERT_EQ(0, unlink(to));
	EXPECT_EQ(2, count_bad(s, dir));
	snprintf(to, sizeof(to), "%s/block1.router_idx.npy", dir);
	unlink(to);
	for (i = 1; i < ARRAY_SIZE(refs); i++) {
		snprintf(to, sizeof(to), "%s/%s.npy", dir, refs[i]);
		unlink(to);
	}
	EXPECT_EQ(0, rmdir(dir));
	EXPECT_EQ(0, lpu_schedule_unload(s));
}

/* Declared last: runs after every MoE test above. */
TEST_F(moe_all, kernel_not_tainted)
{
	expect_not_tainted(_metadata);
}

TEST_HARNESS_MAIN
