// SPDX-License-Identifier: MIT
/*
 * lpu-run SCHEDULE: load a compiled schedule, set its inputs from .npy
 * files, run it (--repeat N times), then report device cycles, wall time,
 * tokens per second and every MoE block's expert load, write the outputs
 * as DIR/<name>.npy and compare them with reference .npy files.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lpu.h>
#include <lpu_hw.h>
#include <lpu_schedule.h>
#include <npy.h>

#include "run.h"

static void print_summary(const struct lpu_schedule_info *in)
{
	printf("schedule: %s (%s), %u block%s, hidden %u, %u experts of ffn %u, top-%u",
	       in->model[0] ? in->model : "unnamed",
	       in->arch == LPU_SCHED_ARCH_MIXTRAL ? "Mixtral-style" :
	       in->arch == LPU_SCHED_ARCH_DEEPSEEK ? "DeepSeek-style" : "?",
	       in->num_blocks, in->num_blocks == 1 ? "" : "s", in->hidden,
	       in->num_experts, in->ffn, in->top_k);
	if (in->num_shared)
		printf(", %u shared of ffn %u", in->num_shared, in->shared_ffn);
	printf("\n  %u tokens per run, capacity %u per expert, %s weights, %u instructions\n",
	       in->tokens, in->capacity, lpu_dtype_name(in->weight_dtype),
	       in->insn_count);
	printf("  %u buffers: %.1f MiB of SRAM, %.1f KiB of host memory\n",
	       in->slot_count, in->sram_bytes / 1048576.0,
	       in->host_bytes / 1024.0);
}

static int set_inputs(struct lpu_schedule *s, const struct sched_args *a)
{
	struct lpu_tensor_info t;
	char msg[LPU_MSG_LEN];
	unsigned int i;

	for (i = 0; i < a->n_inputs; i++) {
		if (lpu_schedule_input_npy(s, a->input_name[i], a->input_file[i],
					   msg, sizeof(msg))) {
			fprintf(stderr, "lpu-run: %s\n", msg);
			return 1;
		}
	}
	/* Every input must be given: a run on zeroes proves nothing. */
	for (i = 0; !lpu_schedule_tensor(s, i, &t); i++) {
		unsigned int j;

		if (t.direction != LPU_IO_INPUT)
			continue;
		for (j = 0; j < a->n_inputs; j++)
			if (!strcmp(a->input_name[j], t.name))
				break;
		if (j == a->n_inputs) {
			fprintf(stderr, "lpu-run: input '%s' is not given: --input %s=FILE.npy\n",
				t.name, t.name);
			return 1;
		}
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void print_counts(struct lpu_schedule *s,
			 const struct lpu_schedule_info *in)
{
	uint32_t *load, *dropped, b, e;

	load = calloc(in->num_experts, sizeof(*load));
	dropped = calloc(in->num_experts, sizeof(*dropped));
	if (!load || !dropped)
		goto out;
	for (b = 0; b < in->num_blocks; b++) {
		if (lpu_schedule_expert_counts(s, b, load, dropped,
					       in->num_experts) < 0)
			continue;
		printf("block %u expert load:   ", b);
		for (e = 0; e < in->num_experts; e++)
			printf(" %3u", load[e]);
		printf("\nblock %u expert dropped:", b);
		for (e = 0; e < in->num_experts; e++)
			printf(" %3u", dropped[e]);
		printf("\n");
	}
out:
	free(load);
	free(dropped);
}

/* Output names become file names: nothing that leaves the directory. */
static int safe_name(const char *name)
{
	return name[0] && name[0] != '.' && !strchr(name, '/');
}

static int write_outputs(struct lpu_schedule *s, const char *dir)
{
	struct lpu_tensor_info t;
	char path[4096], msg[256];
	uint64_t shape[4];
	unsigned int i, d;
	void *buf;
	int ret;

	if (mkdir(dir, 0777) && errno != EEXIST) {
		fprintf(stderr, "lpu-run: cannot create %s: %s\n", dir,
			strerror(errno));
		return 1;
	}
	for (i = 0; !lpu_schedule_tensor(s, i, &t); i++) {
		if (t.direction != LPU_IO_OUTPUT)
			continue;
		if (!safe_name(t.name)) {
			fprintf(stderr, "lpu-run: output name '%s' is no file name\n",
				t.name);
			return 1;
		}
		buf = malloc(t.bytes);
		if (!buf)
			return 1;
		ret = lpu_schedule_get_output(s, t.name, buf, t.bytes);
		for (d = 0; d < t.rank; d++)
			shape[d] = t.shape[d];
		snprintf(path, sizeof(path), "%s/%s.npy", dir, t.name);
		if (!ret)
			ret = lpu_npy_write(path, t.dtype, t.rank, shape, buf,
					    msg, sizeof(msg));
		else
			snprintf(msg, sizeof(msg), "%s", lpu_strerror(ret));
		free(buf);
		if (ret) {
			fprintf(stderr, "lpu-run: output '%s': %s\n", t.name, msg);
			return 1;
		}
	}
	printf("outputs written to %s/\n", dir);
	return 0;
}

static void print_compare(void *ctx, const char *name, int bad,
			  const char *line)
{
	(void)ctx;
	(void)bad;
	printf("compare %-28s %s\n", name, line);
}

static int compare_outputs(struct lpu_schedule *s, const struct sched_args *a)
{
	int bad = lpu_schedule_compare_dir(s, a->compare_dir, a->exact, a->rtol,
					   print_compare, NULL);

	if (bad)
		printf("%d output%s differ from the reference in %s\n", bad,
		       bad == 1 ? "" : "s", a->compare_dir);
	else
		printf("all outputs match the reference in %s\n", a->compare_dir);
	return bad ? 3 : 0;
}

int run_schedule(struct lpu_device *dev, const struct sched_args *a)
{
	struct lpu_schedule_result res;
	struct lpu_schedule_info in;
	struct lpu_schedule *s;
	uint64_t cycles0 = 0;
	double t0, load_ms, *wall = NULL, med;
	char msg[LPU_MSG_LEN];
	unsigned long i;
	int ret, rc = 1;

	t0 = run_now_us();
	ret = lpu_schedule_load(dev, a->path, &s, msg, sizeof(msg));
	if (ret) {
		fprintf(stderr, "lpu-run: cannot load %s\n", msg);
		return 1;
	}
	load_ms = (run_now_us() - t0) / 1e3;
	lpu_schedule_info(s, &in);
	print_summary(&in);
	printf("  loaded in %.1f ms (weights uploaded by DMA)\n", load_ms);
	ret = lpu_schedule_set_queue(s, a->queue);
	if (!ret)
		ret = lpu_schedule_set_timeout(s, a->timeout_ms);
	if (ret) {
		fprintf(stderr, "lpu-run: queue %u, timeout %lu ms: %s\n", a->queue,
			a->timeout_ms, lpu_strerror(ret));
		goto out;
	}
	if (set_inputs(s, a))
		goto out;

	wall = calloc(a->repeat, sizeof(*wall));
	if (!wall) {
		fprintf(stderr, "lpu-run: out of memory for %lu run times\n",
			a->repeat);
		goto out;
	}
	for (i = 0; i < a->repeat; i++) {
		t0 = run_now_us();
		ret = lpu_schedule_run(s, &res);
		wall[i] = run_now_us() - t0;
		if (ret) {
			fprintf(stderr, "lpu-run: run %lu failed (%s): %s\n",
				i + 1, lpu_strerror(ret), res.message);
			goto out;
		}
		if (i && res.cycles != cycles0) {
			fprintf(stderr, "lpu-run: run %lu took %llu device cycles, run 1 took %llu: not deterministic\n",
				i + 1, (unsigned long long)res.cycles,
				(unsigned long long)cycles0);
			goto out;
		}
		cycles0 = res.cycles;
	}
	qsort(wall, a->repeat, sizeof(*wall), cmp_double);
	med = wall[a->repeat / 2];
	printf("device cycles: %" PRIu64 " per run (%.3f ms at %u MHz), %u instructions\n",
	       cycles0, cycles0 / (LPU_CLOCK_MHZ * 1e3), LPU_CLOCK_MHZ, res.insns);
	printf("wall time: %.3f ms per run (median of %lu; min %.3f, max %.3f)\n",
	       med / 1e3, a->repeat, wall[0] / 1e3, wall[a->repeat - 1] / 1e3);
	printf("tokens/s: %.0f (wall), %.0f (device cycles)\n",
	       in.tokens / (med / 1e6),
	       cycles0 ? in.tokens / (cycles0 / (LPU_CLOCK_MHZ * 1e6)) : 0.0);
	print_counts(s, &in);
	rc = 0;
	if (a->output_dir)
		rc = write_outputs(s, a->output_dir);
	if (!rc && a->compare_dir)
		rc = compare_outputs(s, a);
out:
	free(wall);
	ret = lpu_schedule_unload(s);
	if (ret && !rc) {
		fprintf(stderr, "lpu-run: unload: %s\n", lpu_strerror(ret));
		rc = 1;
	}
	return rc;
}
