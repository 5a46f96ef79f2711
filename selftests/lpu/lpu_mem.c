// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lpu_mem.h"

int bo_create(int fd, uint32_t domain, uint64_t size, uint32_t *handle)
{
	struct drm_lpu_bo_create req = { .size = size, .domain = domain };
	int ret = raw_ioctl(fd, DRM_IOCTL_LPU_BO_CREATE, &req);

	if (!ret && handle)
		*handle = req.handle;
	return ret;
}

int bo_info(int fd, uint32_t handle, struct drm_lpu_bo_info *info)
{
	memset(info, 0, sizeof(*info));
	info->handle = handle;
	return raw_ioctl(fd, DRM_IOCTL_LPU_BO_INFO, info);
}

int bo_close(int fd, uint32_t handle)
{
	struct drm_gem_close req = { .handle = handle };

	return raw_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &req);
}

void *bo_mmap(int fd, uint32_t handle, uint64_t size)
{
	struct drm_lpu_bo_info info;
	void *p;

	if (bo_info(fd, handle, &info))
		return NULL;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)info.mmap_offset);
	return p == MAP_FAILED ? NULL : p;
}

int bo_wait(int fd, uint32_t handle, int64_t deadline)
{
	struct drm_lpu_bo_wait req = { .handle = handle, .timeout_ns = deadline };

	return raw_ioctl(fd, DRM_IOCTL_LPU_BO_WAIT, &req);
}

int tbo_new(int fd, uint32_t domain, uint64_t size, bool map, struct tbo *bo)
{
	int ret;

	memset(bo, 0, sizeof(*bo));
	ret = bo_create(fd, domain, size, &bo->handle);
	if (ret)
		return ret;
	bo->domain = domain;
	bo->size = size;
	if (map) {
		bo->map = bo_mmap(fd, bo->handle, size);
		if (!bo->map) {
			ret = -errno;
			bo_close(fd, bo->handle);
			bo->handle = 0;
			return ret ? ret : -EIO;
		}
	}
	return 0;
}

void tbo_free(int fd, struct tbo *bo)
{
	if (bo->map)
		munmap(bo->map, bo->size);
	if (bo->handle)
		bo_close(fd, bo->handle);
	memset(bo, 0, sizeof(*bo));
}

struct drm_lpu_copy copy_desc(uint32_t dst, uint64_t dst_off, uint32_t src,
			      uint64_t src_off, uint64_t size)
{
	struct drm_lpu_copy c = {
		.src_handle = src, .dst_handle = dst,
		.src_offset = src_off, .dst_offset = dst_off, .size = size,
	};

	return c;
}

int submit_copies(int fd, uint32_t queue, const struct drm_lpu_copy *c,
		  uint32_t n, uint32_t in_syncobj, uint32_t out_syncobj,
		  uint64_t *seq)
{
	struct drm_lpu_submit req = {
		.queue = queue,
		.job_type = LPU_JOB_COPY,
		.copies = (uintptr_t)c,
		.copy_count = n,
		.in_syncobj = in_syncobj,
		.out_syncobj = out_syncobj,
	};
	int ret = raw_ioctl(fd, DRM_IOCTL_LPU_SUBMIT, &req);

	if (!ret && seq)
		*seq = req.seq;
	return ret;
}

int wait_result(int fd, uint64_t seq, int64_t ms, struct job_result *r)
{
	struct drm_lpu_wait req = {
		.seq = seq,
		.timeout_ns = now_ns() + ms * NSEC_PER_MSEC,
	};
	int ret = raw_ioctl(fd, DRM_IOCTL_LPU_WAIT, &req);

	r->status = req.status;
	r->fault_kind = req.fault_kind;
	r->fault_addr = req.fault_addr;
	r->device_ns = req.device_ns;
	return ret;
}

int copy_sync(int fd, uint32_t queue, uint32_t dst, uint64_t dst_off,
	      uint32_t src, uint64_t src_off, uint64_t size, int32_t *status)
{
	struct drm_lpu_copy c = copy_desc(dst, dst_off, src, src_off, size);
	struct job_result r;
	uint64_t seq;
	int ret;

	*status = 1;
	ret = submit_copies(fd, queue, &c, 1, 0, 0, &seq);
	if (ret)
		return ret;
	ret = wait_result(fd, seq, COPY_WAIT_MS, &r);
	if (!ret)
		*status = r.status;
	return ret;
}

static int parse_u64(const char *text, uint64_t *val)
{
	char *end;

	errno = 0;
	*val = strtoull(text, &end, 0);
	return errno || end == text ? -EINVAL : 0;
}

int sram_attr(const struct lpu_card *card, const char *name, uint64_t *val)
{
	char path[PATH_MAX], text[64];
	int ret;

	/* The PCI function first, then the accel device. */
	ret = pci_path(card, name, path, sizeof(path));
	if (ret)
		return ret;
	ret = read_text(path, text, sizeof(text));
	if (ret == -ENOENT) {
		snprintf(path, sizeof(path), "%s/class/accel/accel%u/%s",
			 lpu_sysfs_root(), card->minor, name);
		ret = read_text(path, text, sizeof(text));
	}
	if (ret < 0)
		return ret;
	return parse_u64(text, val);
}

int wait_sram_used(const struct lpu_card *card, uint64_t want,
		   int timeout_ms, uint64_t *got)
{
	int64_t end = now_ns() + timeout_ms * NSEC_PER_MSEC;
	int ret;

	for (;;) {
		ret = sram_attr(card, "sram_used_bytes", got);
		if (ret)
			return ret;
		if (*got == want)
			return 0;
		if (now_ns() > end)
			return -ETIMEDOUT;
		usleep(10000);
	}
}

int settled_sram_used(const struct lpu_card *card, unsigned int num_queues,
		      int timeout_ms, uint64_t *used)
{
	int64_t end = now_ns() + timeout_ms * NSEC_PER_MSEC;
	unsigned int left, same = 0;
	uint64_t last;
	int ret;

	ret = wait_queues_idle(card, num_queues, timeout_ms, &left);
	if (ret)
		return ret;
	ret = sram_attr(card, "sram_used_bytes", &last);
	while (!ret && same < 10) {
		if (now_ns() > end)
			return -ETIMEDOUT;
		usleep(20000);
		ret = sram_attr(card, "sram_used_bytes", used);
		same = *used == last ? same + 1 : 0;
		last = *used;
	}
	return ret;
}

int fdinfo_str(int fd, const char *key, char *buf, size_t len)
{
	char path[64], text[4096], *line, *save, *p;
	size_t klen = strlen(key);
	int ret;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	ret = read_text(path, text, sizeof(text));
	if (ret < 0)
		return ret;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, key, klen) || line[klen] != ':')
			continue;
		p = line + klen + 1;
		while (*p == ' ' || *p == '\t')
			p++;
		snprintf(buf, len, "%s", p);
		return 0;
	}
	return -ENOENT;
}

int fdinfo_bytes(int fd, const char *key, uint64_t *val)
{
	char text[128], *end;
	int ret = fdinfo_str(fd, key, text, sizeof(text));

	if (ret)
		return ret;
	errno = 0;
	*val = strtoull(text, &end, 10);
	if (errno || end == text)
		return -EINVAL;
	while (*end == ' ')
		end++;
	if (!strcmp(end, "KiB"))
		*val *= KiB;
	else if (!strcmp(end, "MiB"))
		*val *= MiB;
	else if (!strcmp(end, "GiB"))
		*val *= GiB;
	else if (*end)
		return -EINVAL;
	return 0;
}

uint64_t rnd64(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

void fill_pattern(void *buf, size_t n, uint64_t seed)
{
	uint64_t s = seed * 0x9e3779b97f4a7c15ULL + 1, v;
	uint8_t *p = buf;
	size_t i = 0;

	/* Random words: a shifted or stale copy never matches by chance. */
	for (; i + 8 <= n; i += 8) {
		v = rnd64(&s);
		memcpy(p + i, &v, 8);
	}
	for (v = rnd64(&s); i < n; i++, v >>= 8)
		p[i] = (uint8_t)v | 1;
}

size_t first_diff(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	size_t i = 0;

	/* Whole words first: these compare tens of MiB under emulation. */
	for (; i + 8 <= n; i += 8)
		if (memcmp(x + i, y + i, 8))
			break;
	for (; i < n; i++)
		if (x[i] != y[i])
			return i;
	return n;
}

size_t first_nonzero(const void *a, size_t n)
{
	const uint8_t *x = a;
	uint64_t w;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, x + i, 8);
		if (w)
			break;
	}
	for (; i < n; i++)
		if (x[i])
			return i;
	return n;
}
