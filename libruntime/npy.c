// SPDX-License-Identifier: MIT
/*
 * .npy reader and writer (see npy.h). The reader trusts nothing: the
 * magic, the version, the header length against the file, the dict with
 * exactly the three keys, a supported descr, C order, a shape of at most
 * LPU_NPY_MAX_RANK dimensions whose product cannot overflow, and a data
 * part of exactly the size the shape says.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lpu_hw.h>

#include "lpu_internal.h"
#include "npy.h"

#define NPY_MAGIC	"\x93NUMPY"
#define NPY_MAGIC_LEN	6
/* Largest file the reader takes: far above any schedule's tensors. */
#define NPY_MAX_FILE	0x80000000ULL

/* A cursor over the header dict. */
struct cur {
	const char *p, *end;
};

static void skip_ws(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
}

static int take(struct cur *c, char ch)
{
	skip_ws(c);
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return 1;
	}
	return 0;
}

/* A quoted string ('...' or "..."), no escapes; 0 or -EINVAL. */
static int take_str(struct cur *c, char *out, size_t len)
{
	char q;
	size_t n = 0;

	skip_ws(c);
	if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
		return -EINVAL;
	q = *c->p++;
	while (c->p < c->end && *c->p != q) {
		if (*c->p == '\\' || n + 1 >= len)
			return -EINVAL;
		out[n++] = *c->p++;
	}
	if (c->p >= c->end)
		return -EINVAL;
	c->p++;
	out[n] = '\0';
	return 0;
}

static int take_word(struct cur *c, const char *w)
{
	size_t n = strlen(w);

	skip_ws(c);
	if ((size_t)(c->end - c->p) >= n && !memcmp(c->p, w, n)) {
		c->p += n;
		return 1;
	}
	return 0;
}

/* (d0, d1, ...) with an optional trailing comma; () is a scalar. */
static int take_shape(struct cur *c, struct lpu_npy *n)
{
	if (!take(c, '('))
		return -EINVAL;
	n->rank = 0;
	for (;;) {
		uint64_t v = 0;
		int digits = 0;

		if (take(c, ')'))
			return 0;
		skip_ws(c);
		while (c->p < c->end && isdigit((unsigned char)*c->p)) {
			if (v > (UINT64_MAX - 9) / 10)
				return -EINVAL;
			v = v * 10 + (*c->p++ - '0');
			digits++;
		}
		if (!digits || n->rank == LPU_NPY_MAX_RANK)
			return -EINVAL;
		n->shape[n->rank++] = v;
		if (take(c, ','))
			continue;
		if (take(c, ')'))
			return 0;
		return -EINVAL;
	}
}

static int parse_dict(const char *h, size_t hlen, struct lpu_npy *n,
		      char *msg, size_t len)
{
	struct cur c = { h, h + hlen };
	int have_descr = 0, have_order = 0, have_shape = 0;
	char key[32], descr[16];

	/* The dict ends with a newline, after optional spaces. */
	if (!hlen || h[hlen - 1] != '\n')
		return lpu_msg(msg, len, -EINVAL, "header does not end in a newline");
	c.end--;
	if (!take(&c, '{'))
		return lpu_msg(msg, len, -EINVAL, "header is not a dict");
	for (;;) {
		if (take(&c, '}'))
			break;
		if (take_str(&c, key, sizeof(key)) || !take(&c, ':'))
			return lpu_msg(msg, len, -EINVAL, "header: bad key");
		if (!strcmp(key, "descr") && !have_descr++) {
			if (take_str(&c, descr, sizeof(descr)))
				return lpu_msg(msg, len, -EINVAL, "header: bad descr");
			if (!strcmp(descr, "<f4"))
				n->dtype = LPU_DT_F32;
			else if (!strcmp(descr, "<i4"))
				n->dtype = LPU_DT_I32;
			else
				return lpu_msg(msg, len, -EINVAL,
					       "dtype '%s' is not supported (only <f4 and <i4)",
					       descr);
		} else if (!strcmp(key, "fortran_order") && !have_order++) {
			if (take_word(&c, "True"))
				return lpu_msg(msg, len, -EINVAL,
					       "Fortran order is not supported");
			if (!take_word(&c, "False"))
				return lpu_msg(msg, len, -EINVAL, "header: bad fortran_order");
		} else if (!strcmp(key, "shape") && !have_shape++) {
			if (take_shape(&c, n))
				return lpu_msg(msg, len, -EINVAL,
					       "header: bad shape (at most %d non-negative dimensions)",
					       LPU_NPY_MAX_RANK);
		} else {
			return lpu_msg(msg, len, -EINVAL,
				       "header: unknown or repeated key '%s'", key);
		}
		if (take(&c, ','))
			continue;
		if (take(&c, '}'))
			break;
		return lpu_msg(msg, len, -EINVAL, "header: expected ',' or '}'");
	}
	skip_ws(&c);
	if (c.p != c.end)
		return lpu_msg(msg, len, -EINVAL, "header: text after the dict");
	if (!have_descr || !have_order || !have_shape)
		return lpu_msg(msg, len, -EINVAL,
			       "header: descr, fortran_order and shape are all required");
	return 0;
}

int lpu_npy_parse(const void *buf, size_t len, struct lpu_npy *out,
		  char *msg, size_t msglen)
{
	const uint8_t *b = buf;
	struct lpu_npy n;
	uint64_t hlen, data_off, count = 1;
	uint32_t i;
	int ret;

	if (!out)
		return lpu_msg(msg, msglen, -EINVAL, "no output");
	memset(out, 0, sizeof(*out));
	memset(&n, 0, sizeof(n));
	if (!buf || len < NPY_MAGIC_LEN + 4 || memcmp(b, NPY_MAGIC, NPY_MAGIC_LEN))
		return lpu_msg(msg, msglen, -EINVAL, "not a .npy file (bad magic)");
	if (b[6] == 1 && b[7] == 0) {
		hlen = b[8] | (uint32_t)b[9] << 8;
		data_off = 10 + hlen;
	} else if ((b[6] == 2 || b[6] == 3) && b[7] == 0) {
		if (len < 12)
			return lpu_msg(msg, msglen, -EINVAL, "truncated header");
		hlen = b[8] | (uint32_t)b[9] << 8 | (uint32_t)b[10] << 16 |
			(uint32_t)b[11] << 24;
		data_off = 12 + hlen;
	} else {
		return lpu_msg(msg, msglen, -EINVAL,
			       "unsupported .npy version %u.%u", b[6], b[7]);
	}
	if (data_off > len)
		return lpu_msg(msg, msglen, -EINVAL,
			       "header of %" PRIu64 " bytes runs past the end of the %zu-byte file",
			       hlen, len);
	ret = parse_dict((const char *)b + data_off - hlen, hlen, &n, msg, msglen);
	if (ret)
		return ret;
	for (i = 0; i < n.rank; i++) {
		if (n.shape[i] && count > UINT64_MAX / 4 / n.shape[i])
			return lpu_msg(msg, msglen, -EINVAL, "shape is too large");
		count *= n.shape[i];
	}
	n.count = count;
	n.bytes = count * 4;
	if (len - data_off != n.bytes)
		return lpu_msg(msg, msglen, -EINVAL,
			       "%zu data bytes, the shape needs %" PRIu64,
			       (size_t)(len - data_off), n.bytes);
	n.data = malloc(n.bytes ? n.bytes : 1);
	if (!n.data)
		return lpu_msg(msg, msglen, -ENOMEM, "out of memory");
	memcpy(n.data, b + data_off, n.bytes);
	*out = n;
	return 0;
}

int lpu_npy_read(const char *path, struct lpu_npy *out, char *msg,
		 size_t msglen)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	ssize_t r;
	int fd, ret;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!path || !out)
		return lpu_msg(msg, msglen, -EINVAL, "no path");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lpu_msg(msg, msglen, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > NPY_MAX_FILE) {
		ret = lpu_msg(msg, msglen, -EINVAL,
			      "%s: not a regular file of at most 2 GiB", path);
		goto out;
	}
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf) {
		ret = lpu_msg(msg, msglen, -ENOMEM, "%s: out of memory", path);
		goto out;
	}
	while (got < (size_t)st.st_size) {
		r = read(fd, buf + got, st.st_size - got);
		if (r <= 0) {
			ret = lpu_msg(msg, msglen, r ? -errno : -EIO,
				      "%s: read failed", path);
			goto out;
		}
		got += r;
	}
	ret = lpu_npy_parse(buf, got, out, msg, msglen);
	if (ret && msg && msglen) {
		char inner[256];

		snprintf(inner, sizeof(inner), "%s", msg);
		snprintf(msg, msglen, "%s: %s", path, inner);
	}
out:
	free(buf);
	close(fd);
	return ret;
}

int lpu_npy_write(const char *path, uint32_t dtype, uint32_t rank,
		  const uint64_t *shape, const void *data, char *msg,
		  size_t msglen)
{
	char hdr[256], dims[160];
	uint64_t count = 1;
	size_t n = 0, hl, total;
	uint32_t i;
	FILE *f;
	int ok;

	if (!path || (rank && !shape) || rank > LPU_NPY_MAX_RANK ||
	    (dtype != LPU_DT_F32 && dtype != LPU_DT_I32))
		return lpu_msg(msg, msglen, -EINVAL, "bad dtype, rank or shape");
	dims[0] = '\0';
	for (i = 0; i < rank; i++) {
		n += snprintf(dims + n, sizeof(dims) - n, "%" PRIu64 "%s",
			      shape[i], rank == 1 || i + 1 < rank ? ", " : "");
		if (shape[i] && count > UINT64_MAX / 4 / shape[i])
			return lpu_msg(msg, msglen, -EINVAL, "shape is too large");
		count *= shape[i];
	}
	if (rank == 1)	/* "(5, )" is not Python's spelling: "(5,)" */
		dims[n - 1] = '\0';
	else if (rank)
		dims[n] = '\0';
	if (count && !data)
		return lpu_msg(msg, msglen, -EINVAL, "no data");
	hl = snprintf(hdr, sizeof(hdr),
		      "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }",
		      dtype == LPU_DT_F32 ? "<f4" : "<i4", dims);
	/* Pad with spaces and a newline so the data starts 64-aligned. */
	total = (10 + hl + 1 + 63) / 64 * 64;
	memset(hdr + hl, ' ', total - 10 - hl - 1);
	hdr[total - 10 - 1] = '\n';
	hl = total - 10;

	f = fopen(path, "we");
	if (!f)
		return lpu_msg(msg, msglen, -errno, "%s: %s", path, strerror(errno));
	ok = fwrite(NPY_MAGIC "\x01\x00", 1, 8, f) == 8 &&
		fputc(hl & 0xff, f) != EOF && fputc(hl >> 8, f) != EOF &&
		fwrite(hdr, 1, hl, f) == hl &&
		(!count || fwrite(data, 4, count, f) == count);
	if (fclose(f) || !ok)
		return lpu_msg(msg, msglen, -EIO, "%s: write failed", path);
	return 0;
}

void lpu_npy_free(struct lpu_npy *n)
{
	if (!n)
		return;
	free(n->data);
	n->data = NULL;
}
