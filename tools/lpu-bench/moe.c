// SPDX-License-Identifier: MIT
/*
 * lpu-bench --moe DIR: Mixture-of-Experts schedules on the card.
 *
 *   moe_tokens_per_s     tokens/s  one MoE block (DIR/tput-f32) through the
 *                                  card: load once, then runs of T tokens
 *                                  timed from submit to wait return (input
 *                                  and outputs stay in the schedule's host
 *                                  buffers); the best of BATCHES batches of
 *                                  --moe-repeat runs, as other work on the
 *                                  host only ever slows a batch down.
 *                                  Baseline: the numpy reference on the
 *                                  host in the same make bench run, same
 *                                  thread count, best of as many batches
 *                                  (--moe-baseline).
 *   moe_cycles_e<E>      cycles    device cycles of one run for E = 8, 16,
 *                                  64 experts at top-2 with C * E fixed
 *                                  (DIR/e<E>-f32). Baseline: E = 8. Compute
 *                                  follows k, not E: the goal is a ratio
 *                                  within 5 % of 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <npy.h>

#include "bench.h"

/* Timed batches of the tokens/s figure (make bench does as many of numpy). */
#define BATCHES		3

/* Load @dir/<case>/schedule.lpus with its x.npy input set. */
static int load_case(struct lpu_device *dev, const char *dir, const char *name,
		     struct lpu_schedule **s, struct lpu_schedule_info *in)
{
	char path[4096], msg[LPU_MSG_LEN];
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ret = lpu_schedule_load_case(dev, path, 60000, s, msg, sizeof(msg));
	if (ret)
		fprintf(stderr, "lpu-bench: %s: %s\n", name, msg);
	else
		lpu_schedule_info(*s, in);
	return ret;
}

static int run_once(struct lpu_schedule *s, const char *name, uint64_t *cycles)
{
	struct lpu_schedule_result res;
	int ret = lpu_schedule_run(s, &res);

	if (ret) {
		fprintf(stderr, "lpu-bench: %s: %s\n", name, res.message);
		return ret;
	}
	*cycles = res.cycles;
	return 0;
}

static int bench_tokens(struct lpu_device *dev, const char *dir,
			double baseline, unsigned int reps)
{
	struct lpu_schedule_info in;
	struct lpu_schedule *s;
	int64_t t0, dt, best = INT64_MAX;
	unsigned int i, b;
	uint64_t cycles;
	int ret;

	ret = load_case(dev, dir, "tput-f32", &s, &in);
	if (ret)
		return ret;
	ret = run_once(s, "tput-f32", &cycles);	/* warm-up: pins, caches */
	for (b = 0; b < BATCHES && !ret; b++) {
		t0 = bench_now_ns();
		for (i = 0; i < reps && !ret; i++)
			ret = run_once(s, "tput-f32", &cycles);
		dt = bench_now_ns() - t0;
		printf("# moe tput-f32 batch %u: %u tokens x %u runs in %.3f s: %.1f tokens/s\n",
		       b + 1, in.tokens, reps, dt / 1e9,
		       (double)in.tokens * reps * 1e9 / dt);
		if (dt < best)
			best = dt;
	}
	if (!ret) {
		printf("# moe tput-f32: %llu device cycles per run, hidden %u, ffn %u, %u experts, top-%u, capacity %u\n",
		       (unsigned long long)cycles, in.hidden, in.ffn,
		       in.num_experts, in.top_k, in.capacity);
		bench_line("moe_tokens_per_s", (double)in.tokens * reps * 1e9 / best,
			   "tokens/s", baseline);
	}
	lpu_schedule_unload(s);
	return ret;
}

static int bench_experts(struct lpu_device *dev, const char *dir)
{
	static const unsigned int experts[] = { 8, 16, 64, 0 };
	struct lpu_schedule_info in;
	struct lpu_schedule *s;
	uint64_t c1, c2, base = 0;
	char name[32];
	unsigned int i;
	int ret;

	for (i = 0; experts[i]; i++) {
		snprintf(name, sizeof(name), "e%u-f32", experts[i]);
		ret = load_case(dev, dir, name, &s, &in);
		if (ret)
			return ret;
		ret = run_once(s, name, &c1);
		if (!ret)
			ret = run_once(s, name, &c2);
		lpu_schedule_unload(s);
		if (ret)
			return ret;
		if (c1 != c2) {
			fprintf(stderr, "lpu-bench: %s: %llu then %llu cycles\n",
				name, (unsigned long long)c1,
				(unsigned long long)c2);
			return -EIO;
		}
		if (!base)
			base = c1;
		printf("# moe %s: %u experts, top-%u, %u tokens, capacity %u (C*E = %u)\n",
		       name, in.num_experts, in.top_k, in.tokens, in.capacity,
		       in.capacity * in.num_experts);
		snprintf(name, sizeof(name), "moe_cycles_e%u", experts[i]);
		bench_line(name, c1, "cycles", base);
	}
	return 0;
}

int bench_moe(struct lpu_device *dev, const char *dir, double baseline,
	      unsigned int reps)
{
	int ret = bench_tokens(dev, dir, baseline, reps);

	return ret ? ret : bench_experts(dev, dir);
}
