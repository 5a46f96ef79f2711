// SPDX-License-Identifier: MIT
/*
 * lpu-compile --check FILE: run a schedule file through lpu_sched_parse(),
 * the loader's own checks, and say what it holds or why it is refused.
 * sched_read() is also how --describe reads its file.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compile.h"
#include "sched_file.h"

/* Schedules the loader would take: slot images are at most 16 GiB. */
#define CHECK_MAX_SIZE	(17ULL << 30)

int sched_read(const char *path, uint8_t **bufp, struct lpu_sched_view *v)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	char msg[256];
	int fd, ret = -1;

	*bufp = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err("%s: %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (unsigned long long)st.st_size > CHECK_MAX_SIZE) {
		close(fd);
		return err("%s: not a regular file of at most %llu bytes", path,
			   CHECK_MAX_SIZE);
	}
	/* the parser would say so too, but an empty buffer cannot be allocated */
	if ((size_t)st.st_size < sizeof(struct lpu_sched_header)) {
		close(fd);
		return err("%s: too small for a schedule: %lld bytes, the header alone is %zu",
			   path, (long long)st.st_size, sizeof(struct lpu_sched_header));
	}
	/* the parser wants 8-byte aligned data */
	buf = aligned_alloc(LPU_SCHED_ALIGN, ((size_t)st.st_size + 63) & ~(size_t)63);
	if (!buf) {
		close(fd);
		return err("%s: out of memory for %lld bytes", path, (long long)st.st_size);
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = err("%s: cannot read: %s", path, strerror(errno));
			break;
		}
		if (!n) {
			ret = err("%s: cannot read: the file ends at %zu of %lld bytes (truncated while reading?)",
				  path, got, (long long)st.st_size);
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		free(buf);
		return ret;
	}
	ret = lpu_sched_parse(buf, got, v, msg, sizeof(msg));
	if (ret) {
		free(buf);
		return err("%s: %s (%s)", path, msg, strerror(-ret));
	}
	*bufp = buf;
	return 0;
}

int check_file(const char *path)
{
	const struct lpu_sched_manifest *m;
	struct lpu_sched_view v;
	uint8_t *buf;

	if (sched_read(path, &buf, &v))
		return -1;
	m = v.manifest;
	printf("%s: schedule %u.%u for hw %u.%u, %s '%s': %u blocks, H %u, F %u, E %u, k %u, shared %u x %u, T %u, C %u, weights dtype %u; %u slots, %u tensors, %u instructions, %u inputs/outputs\n",
	       path, le16toh(v.hdr->version_major), le16toh(v.hdr->version_minor),
	       le32toh(v.hdr->target_hw_version) >> 16,
	       le32toh(v.hdr->target_hw_version) & 0xffff,
	       le32toh(m->arch) == LPU_SCHED_ARCH_MIXTRAL ? "mixtral" : "deepseek",
	       m->model, le32toh(m->num_blocks), le32toh(m->hidden), le32toh(m->ffn),
	       le32toh(m->num_experts), le32toh(m->top_k), le32toh(m->num_shared),
	       le32toh(m->shared_ffn), le32toh(m->tokens), le32toh(m->capacity),
	       le32toh(m->weight_dtype), v.slot_count, v.tensor_count, v.insn_count,
	       v.io_count);
	free(buf);
	return 0;
}
