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

int moe_load_case(struct lpu_device *dev, const char *name,
		  struct lpu_schedule **s, char *msg, size_t len)
{
	char dir[512], m[LPU_MSG_LEN];
	int ret;

	moe_path(name, "", dir, sizeof(dir));
	ret = lpu_schedule_load_case(dev, dir, MOE_RUN_TIMEOUT_MS, s, m,
				     sizeof(m));
	if (ret)
		snprintf(msg, len, "%s: %.200s", name, m);
	return ret;
}

int moe_set_x(struct lpu_schedule *s, const char *name, char *msg,
	      size_t len)
{
	char path[512];

	moe_path(name, "x.npy", path, sizeof(path));
	return lpu_schedule_input_npy(s, "x", path, msg, len);
}

struct first_bad {
	char *msg;
	size_t len;
	int seen;
};

static void keep_first_bad(void *ctx, const char *name, int bad,
			   const char *line)
{
	struct first_bad *f = ctx;

	if (bad && !f->seen++)
		snprintf(f->msg, f->len, "%s: %s", name, line);
}

int moe_compare(struct lpu_schedule *s, const char *name, int exact,
		char *msg, size_t len)
{
	struct first_bad f = { .msg = msg, .len = len };
	char dir[512];

	msg[0] = '\0';
	moe_path(name, "ref", dir, sizeof(dir));
	return lpu_schedule_compare_dir(s, dir, exact, MOE_RTOL,
					keep_first_bad, &f);
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
