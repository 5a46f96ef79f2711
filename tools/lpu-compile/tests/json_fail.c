// SPDX-License-Identifier: MIT
/*
 * LD_PRELOAD shim for the host tests of lpu-compile --describe: the
 * JSON_FAIL_AT-th call (counted from 1) of the json-c constructors that
 * describe.c uses returns NULL, as json-c does when out of memory. With
 * JSON_FAIL_COUNT set, the number of calls is printed on stderr at exit,
 * so a test can aim at each one.
 *   cc -shared -fPIC -o json_fail.so json_fail.c
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct json_object;

static unsigned long calls, fail_at;
static int counting;

static __attribute__((constructor)) void setup(void)
{
	const char *at = getenv("JSON_FAIL_AT");

	fail_at = at ? strtoul(at, NULL, 10) : 0;
	counting = !!getenv("JSON_FAIL_COUNT");
}

static __attribute__((destructor)) void report(void)
{
	if (counting)
		fprintf(stderr, "json_fail: %lu calls\n", calls);
}

static int fail_now(void)
{
	return ++calls == fail_at;
}

/* The real constructor @name, looked up once. */
#define REAL(name) ({							\
	static void *fn;						\
	if (!fn)							\
		fn = dlsym(RTLD_NEXT, name);				\
	if (!fn)							\
		abort();						\
	fn;								\
})

typedef struct json_object *(*new_void_fn)(void);
typedef struct json_object *(*new_int_fn)(int n);
typedef struct json_object *(*new_str_fn)(const char *s);
typedef struct json_object *(*new_u64_fn)(uint64_t v);
typedef struct json_object *(*new_double_fn)(double d);

struct json_object *json_object_new_object(void)
{
	new_void_fn real = REAL("json_object_new_object");

	return fail_now() ? NULL : real();
}

struct json_object *json_object_new_array(void)
{
	new_void_fn real = REAL("json_object_new_array");

	return fail_now() ? NULL : real();
}

struct json_object *json_object_new_array_ext(int n)
{
	new_int_fn real = REAL("json_object_new_array_ext");

	return fail_now() ? NULL : real(n);
}

struct json_object *json_object_new_string(const char *s)
{
	new_str_fn real = REAL("json_object_new_string");

	return fail_now() ? NULL : real(s);
}

struct json_object *json_object_new_uint64(uint64_t v)
{
	new_u64_fn real = REAL("json_object_new_uint64");

	return fail_now() ? NULL : real(v);
}

struct json_object *json_object_new_double(double d)
{
	new_double_fn real = REAL("json_object_new_double");

	return fail_now() ? NULL : real(d);
}
