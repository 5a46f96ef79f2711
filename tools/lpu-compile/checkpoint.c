// SPDX-License-Identifier: MIT
/*
 * The *.safetensors files of a checkpoint directory, read with pread():
 * the headers when the directory is opened, a tensor's data when it is
 * loaded. Nothing is mapped: a mapped file that is truncated while
 * lpu-compile runs raises SIGBUS, a read just comes up short, which is an
 * error naming the file and the tensor. A file is an 8-byte little-endian
 * header length N, N bytes of JSON ({name: {"dtype", "shape",
 * "data_offsets": [begin, end]}} plus an optional "__metadata__"), then
 * the data; offsets count from the data's start. Every header is checked
 * before any tensor is used: the length fits, the JSON parses, each entry
 * is complete, its bytes agree with its shape and dtype and lie inside the
 * data, no two tensors overlap, and no name appears in two files.
 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json.h>

#include "compile.h"

/* Anything bigger is no header: real ones are kilobytes to a few MiB. */
#define ST_MAX_HEADER	(100U << 20)

static int dtype_size(const char *dt)
{
	static const struct {
		const char *name;
		int size;
	} sizes[] = {
		{ "F64", 8 }, { "F32", 4 }, { "F16", 2 }, { "BF16", 2 },
		{ "I64", 8 }, { "I32", 4 }, { "I16", 2 }, { "I8", 1 },
		{ "U64", 8 }, { "U32", 4 }, { "U16", 2 }, { "U8", 1 },
		{ "BOOL", 1 }, { "F8_E4M3", 1 }, { "F8_E5M2", 1 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		if (!strcmp(dt, sizes[i].name))
			return sizes[i].size;
	return 0;
}

static int get_u64(struct json_object *o, uint64_t *out)
{
	int64_t v;

	if (!json_object_is_type(o, json_type_int))
		return -1;
	v = json_object_get_int64(o);
	if (v < 0)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

/*
 * All @len bytes at @off of @fd into @buf: 0, or -1 with a message naming
 * @path and @what (a file that got shorter since it was opened included).
 */
static int read_at(int fd, const char *path, const char *what, uint64_t off,
		   void *buf, uint64_t len)
{
	uint8_t *p = buf;
	uint64_t done = 0;
	ssize_t n;

	while (done < len) {
		size_t chunk = len - done > (1U << 30) ? 1U << 30 : (size_t)(len - done);

		n = pread(fd, p + done, chunk, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err("%s: %s: read at %llu: %s", path, what,
				   (unsigned long long)(off + done), strerror(errno));
		if (!n)
			return err("%s: %s: the file ends before byte %llu of %llu at offset %llu (truncated since it was opened?)",
				   path, what, (unsigned long long)done,
				   (unsigned long long)len, (unsigned long long)off);
		done += (uint64_t)n;
	}
	return 0;
}

/*
 * One header entry into @t; @data_len bytes of data follow the header, from
 * @data_at in the file.
 */
static int parse_entry(const struct st_file *f, const char *name,
		       struct json_object *ent, uint64_t data_at,
		       uint64_t data_len, struct st_tensor *t)
{
	struct json_object *dt, *shape, *offs;
	const char *path = f->path;
	uint64_t begin, end, elems = 1;
	size_t i, n;
	int size;

	if (!json_object_is_type(ent, json_type_object))
		return err("%s: tensor '%s': header entry is not a JSON object", path, name);
	if (!json_object_object_get_ex(ent, "dtype", &dt) ||
	    !json_object_is_type(dt, json_type_string) ||
	    json_object_get_string_len(dt) >= (int)sizeof(t->dtype))
		return err("%s: tensor '%s': missing or bad field 'dtype'", path, name);
	if (!json_object_object_get_ex(ent, "shape", &shape) ||
	    !json_object_is_type(shape, json_type_array) ||
	    json_object_array_length(shape) > ST_MAX_RANK)
		return err("%s: tensor '%s': missing or bad field 'shape'", path, name);
	if (!json_object_object_get_ex(ent, "data_offsets", &offs) ||
	    !json_object_is_type(offs, json_type_array) ||
	    json_object_array_length(offs) != 2 ||
	    get_u64(json_object_array_get_idx(offs, 0), &begin) ||
	    get_u64(json_object_array_get_idx(offs, 1), &end))
		return err("%s: tensor '%s': missing or bad field 'data_offsets'", path, name);

	t->name = strdup(name);
	if (!t->name)
		return err("out of memory");
	snprintf(t->dtype, sizeof(t->dtype), "%s", json_object_get_string(dt));
	t->file = path;
	t->fd = f->fd;
	n = json_object_array_length(shape);
	t->rank = (uint32_t)n;
	for (i = 0; i < n; i++) {
		if (get_u64(json_object_array_get_idx(shape, i), &t->shape[i]))
			return err("%s: tensor '%s': shape[%zu] is not a non-negative integer",
				   path, name, i);
		if (t->shape[i] && elems > UINT64_MAX / 8 / t->shape[i])
			return err("%s: tensor '%s': shape too large", path, name);
		elems *= t->shape[i];
	}
	if (begin > end || end > data_len)
		return err("%s: tensor '%s': data_offsets [%llu, %llu] outside the data (%llu bytes; truncated file?)",
			   path, name, (unsigned long long)begin,
			   (unsigned long long)end, (unsigned long long)data_len);
	size = dtype_size(t->dtype);
	if (size && end - begin != elems * (uint64_t)size)
		return err("%s: tensor '%s': %llu bytes do not match shape and dtype %s (%llu bytes)",
			   path, name, (unsigned long long)(end - begin),
			   t->dtype, (unsigned long long)(elems * size));
	t->offset = data_at + begin;
	t->bytes = end - begin;
	return 0;
}

static int cmp_data(const void *a, const void *b)
{
	const struct st_tensor *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int cmp_name(const void *a, const void *b)
{
	const struct st_tensor *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int parse_header(struct checkpoint *ck, struct st_file *f)
{
	struct json_tokener *tok = NULL;
	struct json_object *root = NULL;
	uint64_t hlen, data_len;
	size_t first = ck->ntensors, i, end;
	char *text;
	void *grown;
	int ret = 0;

	if (f->size < 8)
		return err("%s: truncated: %llu bytes, no header length", f->path,
			   (unsigned long long)f->size);
	if (read_at(f->fd, f->path, "header length", 0, &hlen, 8))
		return -1;
	hlen = le64toh(hlen);
	if (hlen < 2 || hlen > f->size - 8)
		return err("%s: header length %llu does not fit in the file (%llu bytes; truncated?)",
			   f->path, (unsigned long long)hlen, (unsigned long long)f->size);
	if (hlen > ST_MAX_HEADER)
		return err("%s: header length %llu larger than %u bytes", f->path,
			   (unsigned long long)hlen, ST_MAX_HEADER);
	data_len = f->size - 8 - hlen;
	text = malloc(hlen);
	if (!text)
		return err("out of memory");
	if (read_at(f->fd, f->path, "header", 8, text, hlen)) {
		free(text);
		return -1;
	}

	tok = json_tokener_new();
	if (!tok) {
		ret = err("out of memory");
		goto out;
	}
	root = json_tokener_parse_ex(tok, text, (int)hlen);
	if (!root || json_tokener_get_error(tok) != json_tokener_success) {
		ret = err("%s: header is not valid JSON: %s", f->path, json_error(tok));
		goto out;
	}
	/* safetensors pads the header with spaces; nothing else may follow */
	end = json_tokener_get_parse_end(tok);
	if (!only_space(text + end, hlen - end)) {
		ret = err("%s: header has bytes after its JSON object", f->path);
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) {
		ret = err("%s: header is not a JSON object", f->path);
		goto out;
	}
	grown = realloc(ck->tensors, (ck->ntensors + json_object_object_length(root) + 1) *
			sizeof(*ck->tensors));
	if (!grown) {
		ret = err("out of memory");
		goto out;
	}
	ck->tensors = grown;
	{
		json_object_object_foreach(root, key, val) {
			struct st_tensor *t = &ck->tensors[ck->ntensors];

			if (!strcmp(key, "__metadata__"))
				continue;
			memset(t, 0, sizeof(*t));
			ck->ntensors++;
			ret = parse_entry(f, key, val, 8 + hlen, data_len, t);
			if (ret)
				goto out;
		}
	}
	/* no two tensors of this file share a byte */
	qsort(ck->tensors + first, ck->ntensors - first, sizeof(*ck->tensors), cmp_data);
	for (i = first + 1; i < ck->ntensors; i++) {
		const struct st_tensor *a = &ck->tensors[i - 1], *b = &ck->tensors[i];

		if (b->offset < a->offset + a->bytes) {
			ret = err("%s: tensors '%s' and '%s' overlap", f->path, a->name, b->name);
			goto out;
		}
	}
out:
	json_object_put(root);
	if (tok)
		json_tokener_free(tok);
	free(text);
	return ret;
}

static int open_file(struct st_file *f)
{
	struct stat st;

	f->fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0)
		return err("%s: %s", f->path, strerror(errno));
	if (fstat(f->fd, &st) || !S_ISREG(st.st_mode))
		return err("%s: not a regular file", f->path);
	f->size = (uint64_t)st.st_size;
	if (!f->size)
		return err("%s: empty file", f->path);
	return 0;
}

static int is_safetensors(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 12 && !strcmp(d->d_name + n - 12, ".safetensors");
}

int ckpt_open(struct checkpoint *ck, const char *dir)
{
	struct dirent **list;
	int n, i, ret = 0;
	size_t k;

	memset(ck, 0, sizeof(*ck));
	n = scandir(dir, &list, is_safetensors, alphasort);
	if (n < 0)
		return err("%s: %s", dir, strerror(errno));
	if (!n) {
		free(list);
		return err("%s: no *.safetensors file", dir);
	}
	ck->files = calloc((size_t)n, sizeof(*ck->files));
	for (i = 0; i < n; i++) {
		if (ck->files && !ret) {
			struct st_file *f = &ck->files[ck->nfiles++];

			f->fd = -1;
			if (asprintf(&f->path, "%s/%s", dir, list[i]->d_name) < 0) {
				f->path = NULL;
				ret = err("out of memory");
			} else {
				ret = open_file(f);
				ret = ret ? ret : parse_header(ck, f);
			}
		}
		free(list[i]);
	}
	free(list);
	if (!ck->files)
		return err("out of memory");
	if (ret) {
		ckpt_close(ck);
		return ret;
	}
	qsort(ck->tensors, ck->ntensors, sizeof(*ck->tensors), cmp_name);
	for (k = 1; k < ck->ntensors; k++)
		if (!strcmp(ck->tensors[k - 1].name, ck->tensors[k].name)) {
			ret = err("tensor '%s' is in both %s and %s",
				  ck->tensors[k].name, ck->tensors[k - 1].file,
				  ck->tensors[k].file);
			ckpt_close(ck);
			return ret;
		}
	return 0;
}

void ckpt_close(struct checkpoint *ck)
{
	size_t i;

	for (i = 0; i < ck->ntensors; i++)
		free(ck->tensors[i].name);
	free(ck->tensors);
	for (i = 0; i < ck->nfiles; i++) {
		if (ck->files[i].fd >= 0)
			close(ck->files[i].fd);
		free(ck->files[i].path);
	}
	free(ck->files);
	memset(ck, 0, sizeof(*ck));
}

static const struct st_tensor *find(const struct checkpoint *ck, const char *name)
{
	struct st_tensor key = { .name = (char *)name };

	return bsearch(&key, ck->tensors, ck->ntensors, sizeof(key), cmp_name);
}

int ckpt_has(const struct checkpoint *ck, const char *name)
{
	return !!find(ck, name);
}

static void shape_str(char *buf, size_t len, uint32_t rank, const uint64_t *shape)
{
	size_t at = 0;
	uint32_t i;

	at += snprintf(buf + at, len - at, "[");
	for (i = 0; i < rank && at < len; i++)
		at += snprintf(buf + at, len - at, "%s%llu", i ? ", " : "",
			       (unsigned long long)shape[i]);
	if (at < len)
		snprintf(buf + at, len - at, "]");
}

int ckpt_load(const struct checkpoint *ck, const char *name, uint32_t rank,
	      const uint64_t *shape, float *out)
{
	const struct st_tensor *t = find(ck, name);
	char got[160], want[160];
	uint64_t i, n = 1;
	uint32_t r;

	if (!t)
		return err("missing tensor '%s'", name);
	if (strcmp(t->dtype, "F32") && strcmp(t->dtype, "BF16"))
		return err("tensor '%s': dtype %s not supported (F32 or BF16)",
			   name, t->dtype);
	for (r = 0; r < rank; r++)
		n *= shape[r];
	if (t->rank != rank || memcmp(t->shape, shape, rank * sizeof(*shape))) {
		shape_str(got, sizeof(got), t->rank, t->shape);
		shape_str(want, sizeof(want), rank, shape);
		return err("tensor '%s': shape %s, expected %s", name, got, want);
	}
	/* the shape was checked against the bytes when the file was opened */
	snprintf(got, sizeof(got), "tensor '%s'", name);
	if (read_at(t->fd, t->file, got, t->offset, out, t->bytes))
		return -1;
	if (!strcmp(t->dtype, "F32")) {
		for (i = 0; i < n; i++) {
			uint32_t bits;

			memcpy(&bits, &out[i], 4);
			bits = le32toh(bits);
			memcpy(&out[i], &bits, 4);
		}
		return 0;
	}
	/*
	 * BF16 widened in place from the back: out[i] covers the 16-bit
	 * values 2i and 2i + 1, which are no longer needed once value i is read.
	 */
	for (i = n; i-- > 0;) {
		uint16_t h;
		uint32_t bits;

		memcpy(&h, (uint8_t *)out + 2 * i, 2);
		bits = (uint32_t)le16toh(h) << 16;
		memcpy(&out[i], &bits, 4);
	}
	return 0;
}
