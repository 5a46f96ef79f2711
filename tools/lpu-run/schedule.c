// SPDX-License-Identifier: MIT
/*
 * lpu-run SCHEDULE: load a compiled schedule, set its inputs from .npy
 * files, run it (--repeat N times), then report device cycles, wall time,
 * tokens per second and every MoE block's expert load, write the outputs
 * as DIR/<name>.npy and compare them with reference .npy files.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>	/* isnan, INFINITY: macros, no libm */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lpu.h>
#include <lpu_hw.h>
#include <lpu_schedule.h>
#include <npy.h>

#include "run.h"

static const char *dtype_name(uint32_t dt)
{
	switch (dt) {
	case LPU_DT_F32: return "f32";
	case LPU_DT_BF16: return "bf16";
	case LPU_DT_I8: return "int8";
	case LPU_DT_I32: return "i32";
	default: return "?";
	}
}

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
	       in->tokens, in->capacity, dtype_name(in->weight_dtype),
	       in->insn_count);
	printf("  %u buffers: %.1f MiB of SRAM, %.1f KiB of host memory\n",
	       in->slot_count, in->sram_bytes / 1048576.0,
	       in->host_bytes / 1024.0);
}

/* Shapes of a tensor and a .npy file agree exactly. */
static int same_shape(const struct lpu_tensor_info *t, const struct lpu_npy *n)
{
	uint32_t i;

	if (t->rank != n->rank || t->dtype != n->dtype)
		return 0;
	for (i = 0; i < t->rank; i++)
		if (t->shape[i] != n->shape[i])
			return 0;
	return 1;
}

static void shape_str(const struct lpu_tensor_info *t, char *buf, size_t len)
{
	size_t n = 0;
	uint32_t i;

	n += snprintf(buf + n, len - n, "%s [", dtype_name(t->dtype));
	for (i = 0; i < t->rank && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%u", i ? ", " : "",
			      t->shape[i]);
	if (n < len)
		snprintf(buf + n, len - n, "]");
}

static int set_inputs(struct lpu_schedule *s, const struct sched_args *a)
{
	struct lpu_tensor_info t;
	char msg[256], shape[64];
	struct lpu_npy n;
	unsigned int i;
	int ret;

	for (i = 0; i < a->n_inputs; i++) {
		if (lpu_schedule_find(s, a->input_name[i], &t) ||
		    t.direction != LPU_IO_INPUT) {
			fprintf(stderr, "lpu-run: the schedule has no input '%s'\n",
				a->input_name[i]);
			return 1;
		}
		ret = lpu_npy_read(a->input_file[i], &n, msg, sizeof(msg));
		if (ret) {
			fprintf(stderr, "lpu-run: input '%s': %s\n", t.name, msg);
			return 1;
		}
		shape_str(&t, shape, sizeof(shape));
		if (!same_shape(&t, &n)) {
			fprintf(stderr, "lpu-run: input '%s': %s does not hold %s\n",
				t.name, a->input_file[i], shape);
			lpu_npy_free(&n);
			return 1;
		}
		ret = lpu_schedule_set_input(s, t.name, n.data, n.bytes);
		lpu_npy_free(&n);
		if (ret) {
			fprintf(stderr, "lpu-run: input '%s': %s\n", t.name,
				lpu_strerror(ret));
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
			shape_str(&t, shape, sizeof(shape));
			fprintf(stderr, "lpu-run: input '%s' (%s) is not given: --input %s=FILE.npy\n",
				t.name, shape, t.name);
			return 1;
		}
	}
	return 0;
}

static double absd(double x)
{
	return x < 0 ? -x : x;
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

/* Flat index @i of a tensor as "[a, b, c]". */
static void index_str(const struct lpu_tensor_info *t, uint64_t i, char *buf,
		      size_t len)
{
	uint64_t idx[4] = { 0 };
	size_t n = 0;
	int d;

	for (d = (int)t->rank - 1; d >= 0; d--) {
		idx[d] = i % t->shape[d];
		i /= t->shape[d];
	}
	n += snprintf(buf, len, "[");
	for (d = 0; d < (int)t->rank && n < len; d++)
		n += snprintf(buf + n, len - n, "%s%" PRIu64, d ? ", " : "",
			      idx[d]);
	if (n < len)
		snprintf(buf + n, len - n, "]");
}

/* One output against its reference; 0 if it matches, 1 if not. */
static int compare_one(const struct lpu_tensor_info *t, const void *got,
		       const struct lpu_npy *ref, const struct sched_args *a)
{
	double worst = 0, maxref = 0, d;
	uint64_t i, wi = 0, diffs = 0;
	char where[64];

	if (t->dtype == LPU_DT_I32 || a->exact) {
		const uint32_t *g = got, *r = ref->data;

		for (i = 0; i < ref->count; i++) {
			if (g[i] == r[i])
				continue;
			if (!diffs++)
				wi = i;
		}
		if (!diffs) {
			printf("compare %-28s exact match (%" PRIu64 " elements)\n",
			       t->name, ref->count);
			return 0;
		}
		index_str(t, wi, where, sizeof(where));
		if (t->dtype == LPU_DT_I32)
			printf("compare %-28s MISMATCH: %" PRIu64 " of %" PRIu64 " elements differ, first at %s: got %d, want %d\n",
			       t->name, diffs, ref->count, where,
			       ((const int32_t *)got)[wi],
			       ((const int32_t *)ref->data)[wi]);
		else
			printf("compare %-28s MISMATCH: %" PRIu64 " of %" PRIu64 " elements differ bitwise, first at %s: got %.9g, want %.9g\n",
			       t->name, diffs, ref->count, where,
			       ((const float *)got)[wi],
			       ((const float *)ref->data)[wi]);
		return 1;
	}
	for (i = 0; i < ref->count; i++) {
		double r = ((const float *)ref->data)[i];

		if (absd(r) > maxref)
			maxref = absd(r);
	}
	for (i = 0; i < ref->count; i++) {
		double g = ((const float *)got)[i];
		double r = ((const float *)ref->data)[i];

		d = absd(g - r);
		if (isnan(d) || d > worst) {
			worst = isnan(d) ? INFINITY : d;
			wi = i;
		}
	}
	index_str(t, wi, where, sizeof(where));
	if (ref->count && worst <= a->rtol * maxref) {
		printf("compare %-28s match: max|d| %.3g <= %.3g * max|ref| %.6g\n",
		       t->name, worst, a->rtol, maxref);
		return 0;
	}
	printf("compare %-28s MISMATCH: max|d| %.3g > %.3g * max|ref| %.6g; worst at %s: got %.9g, want %.9g\n",
	       t->name, worst, a->rtol, maxref, where,
	       ((const float *)got)[wi], ((const float *)ref->data)[wi]);
	return 1;
}

static int compare_outputs(struct lpu_schedule *s, const struct sched_args *a)
{
	struct lpu_tensor_info t;
	char path[4096], msg[256], shape[64];
	unsigned int i, bad = 0;
	struct lpu_npy ref;
	void *buf;

	for (i = 0; !lpu_schedule_tensor(s, i, &t); i++) {
		if (t.direction != LPU_IO_OUTPUT)
			continue;
		if (!safe_name(t.name)) {
			printf("compare %-28s MISMATCH: no file name\n", t.name);
			bad++;
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s.npy", a->compare_dir, t.name);
		if (lpu_npy_read(path, &ref, msg, sizeof(msg))) {
			printf("compare %-28s MISMATCH: no reference: %s\n",
			       t.name, msg);
			bad++;
			continue;
		}
		shape_str(&t, shape, sizeof(shape));
		buf = malloc(t.bytes);
		if (!same_shape(&t, &ref) || !buf ||
		    lpu_schedule_get_output(s, t.name, buf, t.bytes)) {
			printf("compare %-28s MISMATCH: the reference is not %s\n",
			       t.name, shape);
			bad++;
		} else {
			bad += compare_one(&t, buf, &ref, a);
		}
		free(buf);
		lpu_npy_free(&ref);
	}
	if (bad)
		printf("%u output%s differ from the reference in %s\n", bad,
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
	if (lpu_schedule_set_queue(s, a->queue) ||
	    lpu_schedule_set_timeout(s, a->timeout_ms))
		goto out;
	if (set_inputs(s, a))
		goto out;

	wall = calloc(a->repeat, sizeof(*wall));
	if (!wall)
		goto out;
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
