// SPDX-License-Identifier: MIT
/*
 * A loaded schedule's inputs and outputs as .npy files, shared by lpu-run,
 * lpu-bench and the MoE selftests (declared in npy.h, not exported from
 * liblpu.so): one input set from a file, a test case directory loaded, and
 * every output compared with a directory of reference files by the one
 * rule the issue states.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>	/* isnan, INFINITY: macros, no libm */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lpu_hw.h>
#include <lpu_schedule.h>

#include "lpu_internal.h"
#include "npy.h"

const char *lpu_dtype_name(uint32_t dt)
{
	switch (dt) {
	case LPU_DT_F32: return "f32";
	case LPU_DT_BF16: return "bf16";
	case LPU_DT_I8: return "int8";
	case LPU_DT_I32: return "i32";
	default: return "?";
	}
}

/* dtype and shape of @t as "f32 [8, 64]". */
static void shape_str(const struct lpu_tensor_info *t, char *buf, size_t len)
{
	size_t n = 0;
	uint32_t i;

	n += snprintf(buf + n, len - n, "%s [", lpu_dtype_name(t->dtype));
	for (i = 0; i < t->rank && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%u", i ? ", " : "",
			      t->shape[i]);
	if (n < len)
		snprintf(buf + n, len - n, "]");
}

/* Shapes and dtypes of a tensor and a .npy file agree exactly. */
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

int lpu_schedule_input_npy(struct lpu_schedule *s, const char *name,
			   const char *path, char *msg, size_t len)
{
	struct lpu_tensor_info t;
	char m[LPU_MSG_LEN], shape[64];
	struct lpu_npy n;
	int ret;

	if (lpu_schedule_find(s, name, &t) || t.direction != LPU_IO_INPUT)
		return lpu_msg(msg, len, -ENOENT,
			       "the schedule has no input '%s'", name);
	ret = lpu_npy_read(path, &n, m, sizeof(m));
	if (ret)
		return lpu_msg(msg, len, ret, "input '%s': %s", name, m);
	shape_str(&t, shape, sizeof(shape));
	if (!same_shape(&t, &n)) {
		lpu_npy_free(&n);
		return lpu_msg(msg, len, -EINVAL,
			       "input '%s': %s does not hold %s", name, path,
			       shape);
	}
	ret = lpu_schedule_set_input(s, name, n.data, n.bytes);
	lpu_npy_free(&n);
	if (ret)
		return lpu_msg(msg, len, ret, "input '%s': %s", name,
			       lpu_strerror(ret));
	return 0;
}

int lpu_schedule_load_case(struct lpu_device *dev, const char *dir,
			   uint32_t timeout_ms, struct lpu_schedule **s,
			   char *msg, size_t len)
{
	char path[4096];
	int ret;

	snprintf(path, sizeof(path), "%s/schedule.lpus", dir);
	ret = lpu_schedule_load(dev, path, s, msg, len);
	if (ret)
		return ret;
	ret = lpu_schedule_set_timeout(*s, timeout_ms);
	if (ret) {
		lpu_msg(msg, len, ret, "timeout %u ms: %s", timeout_ms,
			lpu_strerror(ret));
	} else {
		snprintf(path, sizeof(path), "%s/x.npy", dir);
		ret = lpu_schedule_input_npy(*s, "x", path, msg, len);
	}
	if (ret) {
		lpu_schedule_unload(*s);
		*s = NULL;
	}
	return ret;
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

static double absd(double x)
{
	return x < 0 ? -x : x;
}

/* One output against its reference; 0 if it matches, 1 if not, and why. */
static int compare_one(const struct lpu_tensor_info *t, const void *got,
		       const struct lpu_npy *ref, int exact, double rtol,
		       char *line, size_t len)
{
	double worst = 0, maxref = 0, d;
	uint64_t i, wi = 0, diffs = 0;
	char where[64];

	if (t->dtype == LPU_DT_I32 || exact) {
		const uint32_t *g = got, *r = ref->data;

		for (i = 0; i < ref->count; i++)
			if (g[i] != r[i] && !diffs++)
				wi = i;
		if (!diffs) {
			snprintf(line, len, "exact match (%" PRIu64 " elements)",
				 ref->count);
			return 0;
		}
		index_str(t, wi, where, sizeof(where));
		if (t->dtype == LPU_DT_I32)
			snprintf(line, len, "MISMATCH: %" PRIu64 " of %" PRIu64 " elements differ, first at %s: got %d, want %d",
				 diffs, ref->count, where,
				 ((const int32_t *)got)[wi],
				 ((const int32_t *)ref->data)[wi]);
		else
			snprintf(line, len, "MISMATCH: %" PRIu64 " of %" PRIu64 " elements differ bitwise, first at %s: got %.9g, want %.9g",
				 diffs, ref->count, where,
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
		d = absd((double)((const float *)got)[i] -
			 ((const float *)ref->data)[i]);
		if (isnan(d) || d > worst) {
			worst = isnan(d) ? INFINITY : d;
			wi = i;
		}
	}
	if (ref->count && worst <= rtol * maxref) {
		snprintf(line, len, "match: max|d| %.3g <= %.3g * max|ref| %.6g",
			 worst, rtol, maxref);
		return 0;
	}
	index_str(t, wi, where, sizeof(where));
	snprintf(line, len, "MISMATCH: max|d| %.3g > %.3g * max|ref| %.6g; worst at %s: got %.9g, want %.9g",
		 worst, rtol, maxref, where, ((const float *)got)[wi],
		 ((const float *)ref->data)[wi]);
	return 1;
}

/* Output names become file names: nothing that leaves the directory. */
static int safe_name(const char *name)
{
	return name[0] && name[0] != '.' && !strchr(name, '/');
}

/* Output @t against @dir/<name>.npy; 0 if it matches, else 1. */
static int compare_output(struct lpu_schedule *s,
			  const struct lpu_tensor_info *t, const char *dir,
			  int exact, double rtol, char *line, size_t len)
{
	char path[4096], m[LPU_MSG_LEN], shape[64];
	struct lpu_npy ref;
	void *buf;
	int bad;

	if (!safe_name(t->name)) {
		snprintf(line, len, "MISMATCH: no file name");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s.npy", dir, t->name);
	if (lpu_npy_read(path, &ref, m, sizeof(m))) {
		snprintf(line, len, "MISMATCH: no reference: %s", m);
		return 1;
	}
	shape_str(t, shape, sizeof(shape));
	buf = malloc(t->bytes);
	if (!same_shape(t, &ref) || !buf ||
	    lpu_schedule_get_output(s, t->name, buf, t->bytes)) {
		snprintf(line, len, "MISMATCH: the reference is not %s", shape);
		bad = 1;
	} else {
		bad = compare_one(t, buf, &ref, exact, rtol, line, len);
	}
	free(buf);
	lpu_npy_free(&ref);
	return bad;
}

/*
 * Every reference file in @dir must be an output of the schedule: a
 * schedule that lost an output (a block's router choices, say) must not
 * pass by comparing fewer things. Returns how many are not.
 */
static int missing_outputs(struct lpu_schedule *s, const char *dir,
			   lpu_compare_report report, void *ctx)
{
	struct lpu_tensor_info t;
	char name[LPU_TENSOR_NAME_LEN + 8];
	struct dirent *de;
	int missing = 0;
	size_t n;
	DIR *d;

	d = opendir(dir);
	if (!d) {
		report(ctx, dir, 1, "MISMATCH: cannot read the reference directory");
		return 1;
	}
	while ((de = readdir(d))) {
		n = strlen(de->d_name);
		if (n <= 4 || strcmp(de->d_name + n - 4, ".npy"))
			continue;
		if (n - 4 >= sizeof(name)) {
			report(ctx, de->d_name, 1, "MISMATCH: the schedule has no such output");
			missing++;
			continue;
		}
		memcpy(name, de->d_name, n - 4);
		name[n - 4] = '\0';
		if (lpu_schedule_find(s, name, &t) ||
		    t.direction != LPU_IO_OUTPUT) {
			report(ctx, name, 1, "MISMATCH: a reference, but the schedule has no such output");
			missing++;
		}
	}
	closedir(d);
	return missing;
}

int lpu_schedule_compare_dir(struct lpu_schedule *s, const char *dir,
			     int exact, double rtol, lpu_compare_report report,
			     void *ctx)
{
	struct lpu_tensor_info t;
	char line[LPU_MSG_LEN + 128];
	unsigned int i;
	int bad = 0, outputs = 0, b;

	for (i = 0; !lpu_schedule_tensor(s, i, &t); i++) {
		if (t.direction != LPU_IO_OUTPUT)
			continue;
		outputs++;
		b = compare_output(s, &t, dir, exact, rtol, line, sizeof(line));
		report(ctx, t.name, b, line);
		bad += b;
	}
	if (!outputs) {
		report(ctx, "(none)", 1, "MISMATCH: the schedule has no outputs");
		bad++;
	}
	return bad + missing_outputs(s, dir, report, ctx);
}
