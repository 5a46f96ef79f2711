// SPDX-License-Identifier: GPL-2.0
/* Helpers of the MoE schedule selftests; see lpu_moe_common.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lpu_hw.h>
#include <lpu_schedule.h>
#include <npy.h>

#include "lpu_moe_common.h"

void moe_path(const char *name, const char *file, char *buf, size_t len)
{
	const char *root = getenv("LPU_MOE_DIR");

	snprintf(buf, len, "%s/%s/%s", root && *root ? root : MOE_DIR_DEFAULT,
		 name, file);
}

int moe_read_file(const char *path, uint8_t **data, size_t *size)
{
	struct stat st;
	size_t got = 0;
	ssize_t r;
	int fd, ret = 0;

	*data = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size <= 0) {
		close(fd);
		return -EINVAL;
	}
	*data = malloc(st.st_size);
	if (!*data) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		r = read(fd, *data + got, st.st_size - got);
		if (r <= 0) {
			ret = r ? -errno : -EIO;
			break;
		}
		got += r;
	}
	close(fd);
	if (ret) {
		free(*data);
		*data = NULL;
		return ret;
	}
	*size = got;
	return 0;
}

int moe_load(struct lpu_device *dev, const char *name,
	     struct lpu_schedule **s, char *msg, size_t len)
{
	char path[512];
	int ret;

	moe_path(name, "schedule.lpus", path, sizeof(path));
	ret = lpu_schedule_load(dev, path, s, msg, len);
	if (!ret)
		ret = lpu_schedule_set_timeout(*s, MOE_RUN_TIMEOUT_MS);
	return ret;
}

int moe_set_x(struct lpu_schedule *s, const char *name, char *msg,
	      size_t len)
{
	char path[512];
	struct lpu_npy n;
	int ret;

	moe_path(name, "x.npy", path, sizeof(path));
	ret = lpu_npy_read(path, &n, msg, len);
	if (ret)
		return ret;
	ret = lpu_schedule_set_input(s, "x", n.data, n.bytes);
	if (ret)
		snprintf(msg, len, "set_input x (%llu bytes from %s): %s",
			 (unsigned long long)n.bytes, path, lpu_strerror(ret));
	lpu_npy_free(&n);
	return ret;
}

static double absd(double v)
{
	return v < 0 ? -v : v;
}

/* 0 if @got matches @ref for tensor @t, else 1 and a message. */
static int compare_tensor(const struct lpu_tensor_info *t, const void *got,
			  const struct lpu_npy *ref, int exact, char *msg,
			  size_t len)
{
	double worst = 0, maxref = 0;
	uint64_t i, wi = 0;

	if (t->dtype == LPU_DT_I32 || exact) {
		for (i = 0; i < ref->count; i++)
			if (memcmp((const uint8_t *)got + 4 * i,
				   (const uint8_t *)ref->data + 4 * i, 4))
				break;
		if (i == ref->count)
			return 0;
		if (t->dtype == LPU_DT_I32)
			snprintf(msg, len, "%s: element %llu is %d, the reference %d",
				 t->name, (unsigned long long)i,
				 ((const int32_t *)got)[i],
				 ((const int32_t *)ref->data)[i]);
		else
			snprintf(msg, len,
				 "%s: element %llu is %.9g, the reference %.9g (bit-exact)",
				 t->name, (unsigned long long)i,
				 ((const float *)got)[i],
				 ((const float *)ref->data)[i]);
		return 1;
	}
	for (i = 0; i < ref->count; i++) {
		double g = ((const float *)got)[i];
		double r = ((const float *)ref->data)[i];

		if (absd(r) > maxref)
			maxref = absd(r);
		if (!(absd(g - r) <= worst)) {	/* NaN counts as worst */
			worst = g == g ? absd(g - r) : 1e300;
			wi = i;
		}
	}
	if (worst <= 0.00001 * maxref)
		return 0;
	snprintf(msg, len,
		 "%s: max|d| %.3g > 1e-5 * max|ref| %.6g at element %llu: %.9g vs %.9g",
		 t->name, worst, maxref, (unsigned long long)wi,
		 ((const float *)got)[wi], ((const float *)ref->data)[wi]);
	return 1;
}

int moe_compare(struct lpu_schedule *s, const char *name, int exact,
		char *msg, size_t len)
{
	struct lpu_tensor_info t;
	char path[512], file[96], m[256];
	struct lpu_npy ref;
	unsigned int i, d;
	int bad = 0, outputs = 0, ret;
	void *buf;

	msg[0] = '\0';
	for (i = 0; !lpu_schedule_tensor(s, i, &t); i++) {
		if (t.direction != LPU_IO_OUTPUT)
			continue;
		outputs++;
		snprintf(file, sizeof(file), "ref/%s.npy", t.name);
		moe_path(name, file, path, sizeof(path));
		ret = lpu_npy_read(path, &ref, m, sizeof(m));
		if (ret) {
			if (!bad++)
				snprintf(msg, len, "no reference: %s", m);
			continue;
		}
		ret = ref.dtype != t.dtype || ref.rank != t.rank;
		for (d = 0; d < t.rank && !ret; d++)
			ret = ref.shape[d] != t.shape[d];
		buf = malloc(t.bytes);
		if (ret || !buf || lpu_schedule_get_output(s, t.name, buf, t.bytes)) {
			if (!bad++)
				snprintf(msg, len, "%s: reference %s has another dtype or shape",
					 t.name, path);
		} else if (compare_tensor(&t, buf, &ref, exact, m, sizeof(m))) {
			if (!bad++)
				snprintf(msg, len, "%s", m);
		}
		free(buf);
		lpu_npy_free(&ref);
	}
	if (!outputs) {
		snprintf(msg, len, "the schedule has no outputs");
		return 1;
	}
	return bad;
}

uint8_t *moe_snapshot(struct lpu_schedule *s, size_t *size)
{
	struct lpu_tensor_info t;
	uint8_t *buf = NULL, *nb;
	size_t n = 0;
	unsigned int i;

	for (i = 0; !lpu_schedule_tensor(s, i, &t); i++) {
		if (t.direction != LPU_IO_OUTPUT)
			continue;
		nb = realloc(buf, n + t.bytes);
		if (!nb || lpu_schedule_get_output(s, t.name, nb + n, t.bytes)) {
			free(nb ? nb : buf);
			return NULL;
		}
		buf = nb;
		n += t.bytes;
	}
	*size = n;
	return buf;
}
