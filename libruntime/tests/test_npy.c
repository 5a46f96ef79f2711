// SPDX-License-Identifier: MIT
/*
 * The .npy reader and writer: files NumPy writes are read back exactly,
 * and every malformed file (bad magic, version, header length, dict,
 * dtype, order, shape, data size) is refused with a message naming it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lpu_hw.h>

#include "npy.h"
#include "tap.h"

static char msg[256];

/* A version 1.0 file with header text @dict and @data_len data bytes. */
static size_t make(uint8_t *buf, const char *dict, size_t data_len)
{
	size_t hl = strlen(dict);

	memcpy(buf, "\x93NUMPY\x01\x00", 8);
	buf[8] = hl & 0xff;
	buf[9] = hl >> 8;
	memcpy(buf + 10, dict, hl);
	memset(buf + 10 + hl, 0x11, data_len);
	return 10 + hl + data_len;
}

static int parse(const uint8_t *buf, size_t len, struct lpu_npy *n)
{
	msg[0] = '\0';
	return lpu_npy_parse(buf, len, n, msg, sizeof(msg));
}

/* Refused with -EINVAL, a message containing @needle, and nothing out. */
static void bad(const char *name, const uint8_t *buf, size_t len,
		const char *needle)
{
	struct lpu_npy n;
	int ret = parse(buf, len, &n);

	if (!tap_ok(ret == -EINVAL && strstr(msg, needle) && !n.data,
		    "refused: %s", name))
		printf("#   ret %d, message '%s', want '%s'\n", ret, msg, needle);
	lpu_npy_free(&n);
}

static void test_good(void)
{
	static uint8_t buf[4096];
	struct lpu_npy n;
	size_t len;

	/* NumPy pads the dict with spaces before the newline. */
	len = make(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\x20\x20\n",
		   24);
	tap_is(parse(buf, len, &n), 0, "f32 [2, 3] is read");
	tap_ok(n.dtype == LPU_DT_F32 && n.rank == 2 && n.shape[0] == 2 &&
	       n.shape[1] == 3 && n.count == 6 && n.bytes == 24 &&
	       n.data && !memcmp(n.data, buf + len - 24, 24),
	       "f32 [2, 3]: dtype, shape and data");
	lpu_npy_free(&n);
	tap_ok(!n.data, "free clears the data pointer");

	len = make(buf, "{\"shape\": (5,), \"descr\": \"<i4\", \"fortran_order\": False}\n", 20);
	tap_is(parse(buf, len, &n), 0, "i32 [5], keys in another order, double quotes");
	tap_ok(n.dtype == LPU_DT_I32 && n.rank == 1 && n.shape[0] == 5,
	       "i32 [5]: dtype and shape");
	lpu_npy_free(&n);

	len = make(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n", 4);
	tap_is(parse(buf, len, &n), 0, "a scalar (shape ()) is read");
	tap_ok(n.rank == 0 && n.count == 1, "scalar: rank 0, one element");
	lpu_npy_free(&n);

	len = make(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 7), }\n", 0);
	tap_is(parse(buf, len, &n), 0, "an empty [0, 7] tensor is read");
	lpu_npy_free(&n);

	/* Version 2.0: a 4-byte header length. */
	memcpy(buf, "\x93NUMPY\x02\x00", 8);
	snprintf((char *)buf + 12, sizeof(buf) - 12, "%s",
		 "{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }\n");
	len = strlen((char *)buf + 12);
	buf[8] = len;
	buf[9] = 0;
	buf[10] = 0;
	buf[11] = 0;
	memset(buf + 12 + len, 0, 4);
	tap_is(parse(buf, 12 + len + 4, &n), 0, "version 2.0 is read");
	lpu_npy_free(&n);
}

static void test_bad(void)
{
	static uint8_t buf[4096];
	const char *ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n";
	size_t len;
	struct lpu_npy n;

	len = make(buf, ok, 24);
	bad("empty file", buf, 0, "magic");
	bad("9 bytes", buf, 9, "magic");
	buf[1] = 'n';
	bad("bad magic", buf, len, "magic");
	buf[1] = 'N';
	buf[6] = 4;
	bad("version 4.0", buf, len, "version 4.0");
	buf[6] = 1;
	buf[7] = 1;
	bad("version 1.1", buf, len, "version 1.1");
	buf[7] = 0;
	bad("truncated data", buf, len - 1, "23 data bytes");
	bad("header cut short", buf, 30, "runs past the end");
	len = make(buf, ok, 25);
	bad("trailing data", buf, len, "25 data bytes");
	buf[8] = 0xff;
	buf[9] = 0x7f;
	bad("header length beyond the file", buf, len, "runs past the end");

	len = make(buf, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n", 16);
	bad("f64", buf, len, "'<f8' is not supported");
	len = make(buf, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }\n", 8);
	bad("big-endian f32", buf, len, "'>f4' is not supported");
	len = make(buf, "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }\n", 8);
	bad("Fortran order", buf, len, "Fortran order");
	len = make(buf, "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }\n", 8);
	bad("fortran_order not a bool", buf, len, "fortran_order");
	len = make(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 2), }\n",
		   8);
	bad("rank 5", buf, len, "bad shape");
	len = make(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }\n", 8);
	bad("negative dimension", buf, len, "bad shape");
	len = make(buf,
		   "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }\n",
		   8);
	bad("dimension beyond 64 bits", buf, len, "bad shape");
	len = make(buf,
		   "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }\n",
		   8);
	bad("element count that overflows", buf, len, "too large");
	len = make(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (2 3), }\n", 24);
	bad("shape without comma", buf, len, "bad shape");
	len = make(buf, "{'descr': '<f4', 'shape': (2,), }\n", 8);
	bad("fortran_order missing", buf, len, "all required");
	len = make(buf,
		   "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n",
		   8);
	bad("repeated key", buf, len, "repeated key 'descr'");
	len = make(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}\n", 8);
	bad("unknown key", buf, len, "unknown or repeated key 'x'");
	len = make(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8);
	bad("header without newline", buf, len, "newline");
	len = make(buf, "['descr', '<f4']\n", 8);
	bad("header not a dict", buf, len, "not a dict");
	len = make(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } x\n", 8);
	bad("text after the dict", buf, len, "after the dict");
	len = make(buf, "{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}\n", 8);
	bad("missing comma between items", buf, len, "expected ',' or '}'");
	len = make(buf, "{'descr: '<f4', 'fortran_order': False, 'shape': (2,)}\n", 8);
	bad("unterminated quote", buf, len, "bad");
	len = make(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)\n", 8);
	bad("unterminated dict", buf, len, "expected");

	tap_is(lpu_npy_parse(NULL, 10, &n, msg, sizeof(msg)), -EINVAL,
	       "NULL buffer is -EINVAL");
	tap_is(lpu_npy_parse(buf, len, NULL, NULL, 0), -EINVAL,
	       "NULL output is -EINVAL (no message buffer is fine)");
}

static void test_write_read(void)
{
	char path[] = "/tmp/lpu-npy-XXXXXX";
	uint64_t shape[3] = { 2, 3, 4 }, one = 7;
	float f[24];
	int32_t i32[7];
	struct lpu_npy n;
	int fd, i;

	fd = mkstemp(path);
	if (fd >= 0)
		close(fd);
	for (i = 0; i < 24; i++)
		f[i] = i * 0.25f - 3;
	for (i = 0; i < 7; i++)
		i32[i] = -i * 1000;
	tap_is(lpu_npy_write(path, LPU_DT_F32, 3, shape, f, msg, sizeof(msg)),
	       0, "write f32 [2, 3, 4]");
	tap_is(lpu_npy_read(path, &n, msg, sizeof(msg)), 0, "read it back");
	tap_ok(n.dtype == LPU_DT_F32 && n.rank == 3 && n.shape[2] == 4 &&
	       n.bytes == sizeof(f) && !memcmp(n.data, f, sizeof(f)),
	       "f32 [2, 3, 4] round trip is exact");
	lpu_npy_free(&n);
	tap_is(lpu_npy_write(path, LPU_DT_I32, 1, &one, i32, msg, sizeof(msg)),
	       0, "write i32 [7]");
	tap_is(lpu_npy_read(path, &n, msg, sizeof(msg)), 0, "read it back");
	tap_ok(n.dtype == LPU_DT_I32 && n.rank == 1 && n.shape[0] == 7 &&
	       !memcmp(n.data, i32, sizeof(i32)), "i32 [7] round trip is exact");
	lpu_npy_free(&n);
	tap_is(lpu_npy_write(path, LPU_DT_BF16, 1, &one, i32, msg, sizeof(msg)),
	       -EINVAL, "write refuses dtype bf16");
	tap_is(lpu_npy_write(path, LPU_DT_F32, 5, shape, f, msg, sizeof(msg)),
	       -EINVAL, "write refuses rank 5");
	unlink(path);
	tap_ok(lpu_npy_read(path, &n, msg, sizeof(msg)) == -ENOENT &&
	       strstr(msg, path), "read of a missing file is -ENOENT naming it");
	tap_is(lpu_npy_read("/tmp", &n, msg, sizeof(msg)), -EINVAL,
	       "read of a directory is -EINVAL");
}

int main(void)
{
	test_good();
	test_bad();
	test_write_read();
	return tap_done();
}
