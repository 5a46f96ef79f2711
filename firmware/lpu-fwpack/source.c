// SPDX-License-Identifier: MIT
/*
 * The firmware source: a JSON file (firmware/lpu-v3.json) read with json-c.
 * Every field is required, nothing unknown is accepted, and every value is
 * held to the boot ROM's limits (lpu_fw.h), so that a typo never becomes an
 * image the card refuses. Each refusal is one message naming the field.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fwpack.h"

/* The source's names of the cost classes: LPU_COST_<name>. */
static const char *const cost_names[LPU_COST_COUNT] = {
	[LPU_COST_EXEC_SETUP] = "EXEC_SETUP",
	[LPU_COST_COPY] = "COPY",
	[LPU_COST_MATMUL_F32] = "MATMUL_F32",
	[LPU_COST_MATMUL_BF16] = "MATMUL_BF16",
	[LPU_COST_MATMUL_I8] = "MATMUL_I8",
	[LPU_COST_FFN_F32] = "FFN_F32",
	[LPU_COST_FFN_BF16] = "FFN_BF16",
	[LPU_COST_FFN_I8] = "FFN_I8",
	[LPU_COST_ELEMENTWISE] = "ELEMENTWISE",
	[LPU_COST_RMSNORM] = "RMSNORM",
	[LPU_COST_SOFTMAX] = "SOFTMAX",
	[LPU_COST_TOPK] = "TOPK",
	[LPU_COST_DISPATCH] = "DISPATCH",
	[LPU_COST_COMBINE] = "COMBINE",
};

const char *fw_cost_name(unsigned int cls)
{
	return cls < LPU_COST_COUNT ? cost_names[cls] : NULL;
}

struct reader {
	const char *path;
	bool check_ranges;
};

__attribute__((format(printf, 2, 3)))
static int fail(const struct reader *r, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", r->path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* The member @key of object @obj (named @where), which must be there. */
static int member(const struct reader *r, json_object *obj, const char *where,
		  const char *key, json_type type, json_object **out)
{
	char name[128];

	snprintf(name, sizeof(name), "%s%s%s", where, *where ? "." : "", key);
	if (!json_object_object_get_ex(obj, key, out))
		return fail(r, "missing field '%s'", name);
	if (!json_object_is_type(*out, type))
		return fail(r, "field '%s': expected %s, found %s", name,
			    json_type_to_name(type),
			    json_type_to_name(json_object_get_type(*out)));
	return 0;
}

/* Every key of @obj must be one of the NULL-terminated @known. */
static int only_known(const struct reader *r, json_object *obj,
		      const char *where, const char *const *known)
{
	json_object_object_foreach(obj, key, val) {
		const char *const *k;

		(void)val;
		for (k = known; *k; k++)
			if (!strcmp(*k, key))
				break;
		if (!*k)
			return fail(r, "unknown field '%s%s%s'", where,
				    *where ? "." : "", key);
	}
	return 0;
}

/*
 * Integer member @key of @obj into @out. It must fit the image's field
 * (@width_max) always, and lie in [@min, @max] unless --unchecked.
 */
static int integer(const struct reader *r, json_object *obj, const char *where,
		   const char *key, uint32_t min, uint32_t max,
		   uint32_t width_max, uint32_t *out)
{
	json_object *v;
	int64_t x;

	if (member(r, obj, where, key, json_type_int, &v))
		return -1;
	x = json_object_get_int64(v);
	if (x < 0 || x > width_max || json_object_get_uint64(v) > width_max)
		return fail(r, "field '%s.%s': %s does not fit the image's field (0 to %u)",
			    where, key, json_object_to_json_string(v), width_max);
	if (r->check_ranges && (x < min || x > max))
		return fail(r, "field '%s.%s': %lld out of range (expected %u to %u)",
			    where, key, (long long)x, min, max);
	*out = (uint32_t)x;
	return 0;
}

/*
 * "MAJOR.MINOR[.PATCH]": @n decimal numbers, each fitting its 16-bit header
 * field always and at most @max[i] (FW_VERSION's encoding) unless
 * --unchecked.
 */
static int read_version(const struct reader *r, json_object *obj,
			const char *key, int n, const uint32_t *max,
			uint32_t *out)
{
	const char *s, *p;
	json_object *v;
	int i;

	if (member(r, obj, "", key, json_type_string, &v))
		return -1;
	s = json_object_get_string(v);
	p = s;
	for (i = 0; i < n; i++) {
		unsigned long x = 0;
		const char *start = p;

		while (*p >= '0' && *p <= '9' && p - start < 6)
			x = x * 10 + (unsigned long)(*p++ - '0');
		if (p == start || (*p >= '0' && *p <= '9') ||
		    (i < n - 1 && *p != '.') || (i == n - 1 && *p))
			return fail(r, "field '%s': '%s' is not a version %s", key, s,
				    n == 3 ? "MAJOR.MINOR.PATCH" : "MAJOR.MINOR");
		if (x > 0xffff || (r->check_ranges && x > max[i]))
			return fail(r, "field '%s': '%s': part %d is %lu, above %u",
				    key, s, i + 1, x,
				    r->check_ranges ? max[i] : 0xffff);
		out[i] = (uint32_t)x;
		if (*p == '.')
			p++;
	}
	return 0;
}

static int read_engine(const struct reader *r, json_object *root,
		       struct fw_source *src)
{
	static const char *const known[] = {
		"num_queues", "max_ring_entries", "sram_reserved_bytes", NULL
	};
	uint32_t m;
	json_object *o;

	if (member(r, root, "", "engine", json_type_object, &o) ||
	    only_known(r, o, "engine", known) ||
	    integer(r, o, "engine", "num_queues", 1, LPU_NUM_QUEUES, UINT32_MAX,
		    &src->num_queues) ||
	    integer(r, o, "engine", "max_ring_entries", LPU_MIN_RING_ENTRIES,
		    LPU_MAX_RING_ENTRIES, UINT32_MAX, &src->max_ring_entries) ||
	    integer(r, o, "engine", "sram_reserved_bytes", 0,
		    LPU_FW_SRAM_RESERVED_MAX - 1, UINT32_MAX, &src->sram_reserved))
		return -1;
	if (!r->check_ranges)
		return 0;
	m = src->max_ring_entries;
	if (m & (m - 1))
		return fail(r, "field 'engine.max_ring_entries': %u is not a power of two",
			    m);
	if (src->sram_reserved % LPU_PAGE_SIZE)
		return fail(r, "field 'engine.sram_reserved_bytes': %u is not a multiple of %u",
			    src->sram_reserved, LPU_PAGE_SIZE);
	return 0;
}

static int read_thermal(const struct reader *r, json_object *root,
			struct fw_source *src)
{
	static const char *const known[] = {
		"temp_idle_mc", "temp_busy_mc", "power_idle_mw", "power_busy_mw",
		"clock_idle_mhz", NULL
	};
	json_object *o;

	if (member(r, root, "", "thermal", json_type_object, &o) ||
	    only_known(r, o, "thermal", known) ||
	    integer(r, o, "thermal", "temp_idle_mc", 0, LPU_FW_TEMP_MAX_MC,
		    UINT32_MAX, &src->temp_idle_mc) ||
	    integer(r, o, "thermal", "temp_busy_mc", src->temp_idle_mc,
		    LPU_FW_TEMP_MAX_MC, UINT32_MAX, &src->temp_busy_mc) ||
	    integer(r, o, "thermal", "power_idle_mw", 0, LPU_FW_POWER_MAX_MW,
		    UINT32_MAX, &src->power_idle_mw) ||
	    integer(r, o, "thermal", "power_busy_mw", src->power_idle_mw,
		    LPU_FW_POWER_MAX_MW, UINT32_MAX, &src->power_busy_mw) ||
	    integer(r, o, "thermal", "clock_idle_mhz", 1, LPU_CLOCK_MHZ,
		    UINT32_MAX, &src->clock_idle_mhz))
		return -1;
	return 0;
}

static int read_cost(const struct reader *r, json_object *root,
		     struct fw_source *src)
{
	static const char *const known[] = {
		"base_cycles", "units_per_cycle", NULL
	};
	char where[64];
	json_object *o, *c;
	unsigned int i;

	if (member(r, root, "", "cost", json_type_object, &o))
		return -1;
	json_object_object_foreach(o, key, val) {
		(void)val;
		for (i = 0; i < LPU_COST_COUNT; i++)
			if (!strcmp(key, cost_names[i]))
				break;
		if (i == LPU_COST_COUNT)
			return fail(r, "unknown cost class 'cost.%s'", key);
	}
	for (i = 0; i < LPU_COST_COUNT; i++) {
		snprintf(where, sizeof(where), "cost.%s", cost_names[i]);
		if (member(r, o, "cost", cost_names[i], json_type_object, &c) ||
		    only_known(r, c, where, known) ||
		    integer(r, c, where, "base_cycles", 0, LPU_FW_COST_MAX_BASE,
			    UINT32_MAX, &src->base_cycles[i]) ||
		    integer(r, c, where, "units_per_cycle", 1,
			    LPU_FW_COST_MAX_RATE, UINT32_MAX,
			    &src->units_per_cycle[i]))
			return -1;
	}
	return 0;
}

static int read_root(const struct reader *r, json_object *root,
		     struct fw_source *src)
{
	static const char *const known[] = {
		"comment", "version", "abi", "chip", "engine", "thermal", "cost",
		NULL
	};
	/* FW_VERSION's and FW_ABI's encoding (lpu_fw.h); fields are 16 bits. */
	static const uint32_t vmax[3] = { 0xffff, 0xff, 0xff };
	static const uint32_t amax[2] = { 0xffff, 0xff };
	uint32_t v[3];
	json_object *o;

	if (!json_object_is_type(root, json_type_object))
		return fail(r, "expected a JSON object, found %s",
			    json_type_to_name(json_object_get_type(root)));
	if (only_known(r, root, "", known))
		return -1;
	if (json_object_object_get_ex(root, "comment", &o) &&
	    !json_object_is_type(o, json_type_string))
		return fail(r, "field 'comment': expected string, found %s",
			    json_type_to_name(json_object_get_type(o)));
	if (read_version(r, root, "version", 3, vmax, v))
		return -1;
	src->fw_major = v[0];
	src->fw_minor = v[1];
	src->fw_patch = v[2];
	if (read_version(r, root, "abi", 2, amax, v))
		return -1;
	src->abi_major = v[0];
	src->abi_minor = v[1];
	if (member(r, root, "", "chip", json_type_object, &o) ||
	    only_known(r, o, "chip", (const char *const[]){ "device", "revision", NULL }) ||
	    integer(r, o, "chip", "device", 0, 0xffff, 0xffff, &src->chip_device) ||
	    integer(r, o, "chip", "revision", 0, 0xffff, 0xffff, &src->chip_rev))
		return -1;
	if (read_engine(r, root, src) || read_thermal(r, root, src) ||
	    read_cost(r, root, src))
		return -1;
	return 0;
}

/*
 * --set PATH=VALUE: the field PATH (dot-separated) must exist; VALUE takes
 * its type, so "abi=2.0" stays a string and "engine.num_queues=9" an
 * integer. The result is validated like any source.
 */
static int apply_set(const struct reader *r, json_object *root, const char *set)
{
	const char *eq = strchr(set, '=');
	char path[256], *key, *dot;
	json_object *parent = root, *leaf, *nv;

	if (!eq || eq == set || (size_t)(eq - set) >= sizeof(path))
		return fail(r, "--set '%s': expected PATH=VALUE", set);
	memcpy(path, set, eq - set);
	path[eq - set] = '\0';
	key = path;
	while ((dot = strchr(key, '.'))) {
		*dot = '\0';
		if (!json_object_is_type(parent, json_type_object) ||
		    !json_object_object_get_ex(parent, key, &parent))
			return fail(r, "--set '%s': no field '%s' in the source", set, key);
		key = dot + 1;
	}
	if (!json_object_is_type(parent, json_type_object) ||
	    !json_object_object_get_ex(parent, key, &leaf))
		return fail(r, "--set '%s': no field '%s' in the source", set, key);
	if (json_object_is_type(leaf, json_type_string)) {
		nv = json_object_new_string(eq + 1);
	} else if (json_object_is_type(leaf, json_type_int)) {
		char *end;
		long long x;

		errno = 0;
		x = strtoll(eq + 1, &end, 0);
		if (errno || end == eq + 1 || *end)
			return fail(r, "--set '%s': '%s' is not an integer", set, eq + 1);
		nv = json_object_new_int64(x);
	} else {
		return fail(r, "--set '%s': field '%s' is a %s; set one of its fields",
			    set, key, json_type_to_name(json_object_get_type(leaf)));
	}
	if (!nv || json_object_object_add(parent, key, nv))
		return fail(r, "--set '%s': out of memory", set);
	return 0;
}

static char *read_file(const struct reader *r, size_t *len)
{
	FILE *f = fopen(r->path, "rb");
	size_t cap = 4096, n = 0;
	char *buf = NULL, *nb;

	if (!f) {
		fail(r, "cannot open: %s", strerror(errno));
		return NULL;
	}
	for (;;) {
		nb = realloc(buf, cap + 1);
		if (!nb) {
			fail(r, "out of memory");
			break;
		}
		buf = nb;
		n += fread(buf + n, 1, cap - n, f);
		if (ferror(f)) {
			fail(r, "read error");
			break;
		}
		if (n < cap) {
			fclose(f);
			buf[n] = '\0';
			*len = n;
			return buf;
		}
		if (cap >= (16U << 20)) {
			fail(r, "larger than 16 MiB: not a firmware source");
			break;
		}
		cap *= 2;
	}
	fclose(f);
	free(buf);
	return NULL;
}

/* Strict JSON, one object, only whitespace after it; NULL after a message. */
static json_object *parse_json(const struct reader *r, const char *text,
			       size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *root;
	enum json_tokener_error e;
	size_t end, i;

	if (!tok) {
		fail(r, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, text, (int)len);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (root)
		return root;
	/*
	 * Strict parsing refuses bytes after the object as "unexpected"; say
	 * "trailing garbage" when the text up to them is a complete object.
	 */
	for (i = end; i > 0 && strchr(" \t\r\n", text[i - 1]); i--)
		;
	tok = json_tokener_new();
	if (tok && e == json_tokener_error_parse_unexpected && i > 0) {
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
		root = json_tokener_parse_ex(tok, text, (int)i);
		if (root && json_tokener_get_parse_end(tok) == i) {
			json_object_put(root);
			json_tokener_free(tok);
			fail(r, "trailing garbage after the JSON object at byte %zu", end);
			return NULL;
		}
		json_object_put(root);
	}
	json_tokener_free(tok);
	fail(r, "not valid JSON at byte %zu: %s", end,
	     e == json_tokener_continue ? "unexpected end of file" :
	     json_tokener_error_desc(e));
	return NULL;
}

int fw_source_read(const char *path, const char *const *sets, int nset,
		   bool check_ranges, struct fw_source *src)
{
	struct reader r = { .path = path, .check_ranges = check_ranges };
	json_object *root = NULL;
	size_t len;
	char *text;
	int ret = -1, k;

	memset(src, 0, sizeof(*src));
	text = read_file(&r, &len);
	if (!text)
		return -1;
	if (strlen(text) != len) {
		fail(&r, "NUL byte at offset %zu: not a JSON text", strlen(text));
		goto out;
	}
	root = parse_json(&r, text, len);
	if (!root)
		goto out;
	for (k = 0; k < nset; k++)
		if (apply_set(&r, root, sets[k]))
			goto out;
	ret = read_root(&r, root, src);
out:
	json_object_put(root);
	free(text);
	return ret;
}
