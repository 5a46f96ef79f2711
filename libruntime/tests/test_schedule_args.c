// SPDX-License-Identifier: MIT
/*
 * Argument validation of the schedule API, without a card.
 *
 * A device handle is built around /dev/null, where every ioctl fails with
 * ENOTTY, so a check the library makes itself shows as its own errno and
 * a message, and a call that got as far as the driver as -ENOTTY. The
 * input/output calls run on a schedule assembled in memory around plain
 * host memory (no buffer objects), to check names, sizes, directions and
 * the in-flight rule.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schedule.h"
#include "tap.h"

static struct lpu_device dev;
static char msg[LPU_MSG_LEN];

static void test_load_args(void)
{
	struct lpu_schedule *s = (struct lpu_schedule *)&s;
	static uint64_t junk[64];
	char path[] = "/tmp/lpu-sched-XXXXXX";
	int fd;

	tap_is(lpu_schedule_load(&dev, "/x", NULL, msg, sizeof(msg)), -EINVAL,
	       "load: NULL out is -EINVAL");
	tap_ok(msg[0], "load: ... with a message (%s)", msg);
	tap_is(lpu_schedule_load(NULL, "/x", &s, msg, sizeof(msg)), -EINVAL,
	       "load: NULL device is -EINVAL");
	tap_ok(!s, "load: failure clears *out");
	tap_is(lpu_schedule_load(&dev, "", &s, NULL, 0), -EINVAL,
	       "load: empty path is -EINVAL (no message buffer is fine)");
	tap_is(lpu_schedule_load(&dev, "/nonexistent/x.lpus", &s, msg,
				 sizeof(msg)), -ENOENT,
	       "load: missing file is -ENOENT");
	tap_ok(!!strstr(msg, "/nonexistent/x.lpus"),
	       "load: ... and the message names the file (%s)", msg);
	tap_is(lpu_schedule_load(&dev, "/tmp", &s, msg, sizeof(msg)), -EINVAL,
	       "load: a directory is -EINVAL");

	fd = mkstemp(path);
	tap_ok(fd >= 0, "temporary file");
	tap_is(lpu_schedule_load(&dev, path, &s, msg, sizeof(msg)), -EINVAL,
	       "load: an empty file is -EINVAL");
	memcpy(junk, "LPUSCHED", 8);
	if (write(fd, junk, sizeof(junk)) != (ssize_t)sizeof(junk))
		tap_ok(0, "write temporary file");
	close(fd);
	tap_ok(lpu_schedule_load(&dev, path, &s, msg, sizeof(msg)) < 0 && !s,
	       "load: 512 bytes of header-shaped junk are refused");
	tap_ok(strstr(msg, path) && strlen(msg) > strlen(path) + 2,
	       "load: ... with the parser's message after the path (%s)", msg);
	unlink(path);

	tap_is(lpu_schedule_load_mem(&dev, NULL, 10, &s, msg, sizeof(msg)),
	       -EINVAL, "load_mem: NULL data is -EINVAL");
	tap_is(lpu_schedule_load_mem(&dev, junk, 0, &s, msg, sizeof(msg)),
	       -EINVAL, "load_mem: size 0 is -EINVAL");
	tap_ok(lpu_schedule_load_mem(&dev, (uint8_t *)junk + 1, 100, &s, msg,
				     sizeof(msg)) < 0 && msg[0] && !s,
	       "load_mem: unaligned junk is copied, parsed and refused (%s)",
	       msg);
	/* Refused on its size alone: nothing of the buffer is read. */
	tap_ok(lpu_schedule_load_mem(&dev, junk, (2UL << 30) + 1, &s, msg,
				     sizeof(msg)) == -EINVAL && !s,
	       "load_mem: more than 2 GiB is -EINVAL (%s)", msg);
}

static void test_null_schedule(void)
{
	struct lpu_schedule_result res;
	struct lpu_schedule_info info;
	struct lpu_tensor_info ti;
	struct lpu_fence fence = { 1 };
	uint32_t load[8];
	float x[4];

	tap_is(lpu_schedule_unload(NULL), 0, "unload(NULL) is a no-op");
	tap_is(lpu_schedule_info(NULL, &info), -EINVAL, "info(NULL) is -EINVAL");
	tap_is(lpu_schedule_tensor(NULL, 0, &ti), -EINVAL,
	       "tensor(NULL) is -EINVAL");
	tap_is(lpu_schedule_find(NULL, "x", &ti), -EINVAL,
	       "find(NULL) is -EINVAL");
	tap_is(lpu_schedule_set_input(NULL, "x", x, sizeof(x)), -EINVAL,
	       "set_input(NULL) is -EINVAL");
	tap_is(lpu_schedule_get_output(NULL, "y", x, sizeof(x)), -EINVAL,
	       "get_output(NULL) is -EINVAL");
	tap_is(lpu_schedule_set_queue(NULL, 0), -EINVAL,
	       "set_queue(NULL) is -EINVAL");
	tap_is(lpu_schedule_set_timeout(NULL, 1), -EINVAL,
	       "set_timeout(NULL) is -EINVAL");
	tap_is(lpu_schedule_run(NULL, &res), -EINVAL, "run(NULL) is -EINVAL");
	tap_is(lpu_schedule_submit(NULL, &fence), -EINVAL,
	       "submit(NULL) is -EINVAL");
	tap_ok(fence.seq == 0, "submit: failure clears the fence");
	fence.seq = 1;
	tap_is(lpu_schedule_wait(NULL, &fence, 0, &res), -EINVAL,
	       "wait(NULL) is -EINVAL");
	tap_is(lpu_schedule_expert_counts(NULL, 0, load, NULL, 8), -EINVAL,
	       "expert_counts(NULL) is -EINVAL");
}

/* A schedule with input x f32 [2, 2] and output y i32 [4] in host memory. */
static struct lpu_schedule *fake_schedule(uint8_t *mem)
{
	struct lpu_schedule *s = calloc(1, sizeof(*s));
	struct sched_io *io = calloc(2, sizeof(*io));

	s->dev = &dev;
	s->io = io;
	s->io_count = 2;
	s->info.slot_count = 1;
	s->info.num_experts = 4;
	s->info.num_blocks = 1;
	s->slots[0].map = mem;
	s->slots[0].domain = LPU_BO_HOST;
	s->stats = (struct lpu_exec_stats *)(mem + 64);
	snprintf(io[0].info.name, sizeof(io[0].info.name), "x");
	io[0].info.direction = LPU_IO_INPUT;
	io[0].info.dtype = LPU_DT_F32;
	io[0].info.rank = 2;
	io[0].info.shape[0] = 2;
	io[0].info.shape[1] = 2;
	io[0].info.bytes = 16;
	snprintf(io[1].info.name, sizeof(io[1].info.name), "block0.expert_load");
	io[1].info.direction = LPU_IO_OUTPUT;
	io[1].info.kind = LPU_IO_EXPERT_LOAD;
	io[1].info.dtype = LPU_DT_I32;
	io[1].info.rank = 1;
	io[1].info.shape[0] = 4;
	io[1].info.bytes = 16;
	io[1].offset = 16;
	return s;
}

static void test_io(void)
{
	static uint8_t mem[4096];
	struct lpu_schedule *s = fake_schedule(mem);
	struct lpu_schedule_result res;
	struct lpu_tensor_info ti;
	struct lpu_fence fence;
	float x[4] = { 1, 2, 3, 4 };
	uint32_t out[4] = { 0 }, load[4], dropped[4];
	int32_t ld[4] = { 3, 0, 1, 4 };

	tap_is(lpu_schedule_tensor(s, 0, &ti), 0, "tensor 0 exists");
	tap_ok(!strcmp(ti.name, "x") && ti.bytes == 16, "tensor 0 is x");
	tap_is(lpu_schedule_tensor(s, 2, &ti), -ENOENT, "tensor 2 is -ENOENT");
	tap_is(lpu_schedule_find(s, "block0.expert_load", &ti), 0,
	       "find by name");
	tap_is(lpu_schedule_find(s, "nope", &ti), -ENOENT,
	       "find of an unknown name is -ENOENT");
	tap_is(lpu_schedule_set_input(s, "x", x, sizeof(x)), 0, "set_input x");
	tap_ok(!memcmp(mem, x, sizeof(x)), "... lands in its slot");
	tap_is(lpu_schedule_set_input(s, "x", x, 12), -EINVAL,
	       "set_input with too few bytes is -EINVAL");
	tap_is(lpu_schedule_set_input(s, "x", x, 20), -EINVAL,
	       "set_input with too many bytes is -EINVAL");
	tap_is(lpu_schedule_set_input(s, "x", NULL, 16), -EINVAL,
	       "set_input with NULL data is -EINVAL");
	tap_is(lpu_schedule_set_input(s, "y", x, 16), -ENOENT,
	       "set_input of an unknown name is -ENOENT");
	tap_is(lpu_schedule_set_input(s, "block0.expert_load", x, 16), -EINVAL,
	       "set_input of an output is -EINVAL");
	tap_is(lpu_schedule_get_output(s, "x", out, 16), -EINVAL,
	       "get_output of an input is -EINVAL");
	memcpy(mem + 16, ld, sizeof(ld));
	tap_is(lpu_schedule_get_output(s, "block0.expert_load", out, 16), 0,
	       "get_output");
	tap_ok(!memcmp(out, ld, sizeof(ld)), "... reads its slot");
	tap_is(lpu_schedule_expert_counts(s, 0, load, dropped, 4), 4,
	       "expert_counts of block 0 is E = 4");
	tap_ok(load[0] == 3 && load[3] == 4, "... with the load output");
	tap_is(lpu_schedule_expert_counts(s, 0, load, NULL, 3), -EINVAL,
	       "expert_counts with room for 3 of 4 experts is -EINVAL");
	tap_is(lpu_schedule_expert_counts(s, 1, load, NULL, 4), -ENOENT,
	       "expert_counts of a block without counters is -ENOENT");
	tap_is(lpu_schedule_set_timeout(s, DRM_LPU_EXEC_MAX_TIMEOUT_MS + 1),
	       -EINVAL, "set_timeout above the maximum is -EINVAL");
	tap_is(lpu_schedule_set_timeout(s, DRM_LPU_EXEC_MAX_TIMEOUT_MS), 0,
	       "set_timeout of the maximum");

	/* The ioctl fails on /dev/null: the run's message says so. */
	tap_is(lpu_schedule_run(s, &res), -ENOTTY, "run reaches the driver");
	tap_ok(res.status == -ENOTTY && strstr(res.message, "submit"),
	       "... and the result says submitting failed (%s)", res.message);
	tap_is(lpu_schedule_submit(s, NULL), -EINVAL,
	       "submit with NULL fence is -EINVAL");
	fence.seq = 0;
	tap_is(lpu_schedule_wait(s, &fence, 0, &res), -EINVAL,
	       "wait for fence 0 is -EINVAL");

	/* A run in flight owns the inputs and outputs. */
	s->in_flight = 5;
	tap_is(lpu_schedule_set_input(s, "x", x, 16), -EBUSY,
	       "set_input while a run is in flight is -EBUSY");
	tap_is(lpu_schedule_get_output(s, "block0.expert_load", out, 16),
	       -EBUSY, "get_output while a run is in flight is -EBUSY");
	tap_is(lpu_schedule_submit(s, &fence), -EBUSY,
	       "a second submit before the wait is -EBUSY");
	tap_is(lpu_schedule_expert_counts(s, 0, load, NULL, 4), -EBUSY,
	       "expert_counts while a run is in flight is -EBUSY");
	s->in_flight = 0;
	free(s->io);
	free(s);
}

int main(void)
{
	int fd = open("/dev/null", O_RDWR);

	lpu_device_init(&dev, fd);
	test_load_args();
	test_null_schedule();
	test_io();
	lpu_device_fini(&dev);
	close(fd);
	return tap_done();
}
