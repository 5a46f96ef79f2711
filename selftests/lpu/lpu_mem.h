/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the memory selftests (buffers, copies, isolation, sharing):
 * raw BO and COPY ioctls that return -errno, mapped test buffers, SRAM
 * accounting from sysfs and fdinfo, and data patterns.
 */
#ifndef LPU_MEM_H
#define LPU_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lpu_util.h"

#define KiB		1024ULL
#define MiB		(1024ULL * KiB)
#define GiB		(1024ULL * MiB)
/* Time any single copy job of a test gets to finish. */
#define COPY_WAIT_MS	60000

int bo_create(int fd, uint32_t domain, uint64_t size, uint32_t *handle);
int bo_info(int fd, uint32_t handle, struct drm_lpu_bo_info *info);
/* DRM_IOCTL_GEM_CLOSE. */
int bo_close(int fd, uint32_t handle);
/* mmap() of the whole buffer through BO_INFO's offset; NULL on failure. */
void *bo_mmap(int fd, uint32_t handle, uint64_t size);
/* DRM_IOCTL_LPU_BO_WAIT with absolute @deadline (0 polls). */
int bo_wait(int fd, uint32_t handle, int64_t deadline);

/* A buffer of a test, mapped unless created with map = false. */
struct tbo {
	uint32_t handle;
	uint32_t domain;
	uint64_t size;
	uint8_t *map;
};

int tbo_new(int fd, uint32_t domain, uint64_t size, bool map,
	    struct tbo *bo);
/* Unmap and close; safe on a zeroed or already freed struct. */
void tbo_free(int fd, struct tbo *bo);

/* A copy in handle mode. */
struct drm_lpu_copy copy_desc(uint32_t dst, uint64_t dst_off, uint32_t src,
			      uint64_t src_off, uint64_t size);
/* SUBMIT of an LPU_JOB_COPY job; 0 or -errno. */
int submit_copies(int fd, uint32_t queue, const struct drm_lpu_copy *c,
		  uint32_t n, uint32_t in_syncobj, uint32_t out_syncobj,
		  uint64_t *seq);

/* Outcome of a job, as DRM_IOCTL_LPU_WAIT reports it. */
struct job_result {
	int32_t status;
	uint32_t fault_kind;
	uint64_t fault_addr;
	uint64_t device_ns;
};

/* WAIT with a relative timeout; 0 once done, else -ETIME or -errno. */
int wait_result(int fd, uint64_t seq, int64_t ms, struct job_result *r);
/*
 * One copy, submitted on @queue and waited for: 0 and the job's status in
 * *@status, or the -errno of SUBMIT or WAIT.
 */
int copy_sync(int fd, uint32_t queue, uint32_t dst, uint64_t dst_off,
	      uint32_t src, uint64_t src_off, uint64_t size, int32_t *status);

/*
 * SRAM buffers may use: the aperture less what the running firmware
 * reserves at its top (GET_INFO sram_reserved).
 */
static inline uint64_t sram_usable(const struct drm_lpu_info *info)
{
	return info->sram_size - info->sram_reserved;
}

/*
 * SRAM accounting of the card in sysfs (sram_used_bytes, sram_total_bytes
 * of the PCI function or of the accel device); 0 or -errno.
 */
int sram_attr(const struct lpu_card *card, const char *name, uint64_t *val);
/*
 * Poll sram_used_bytes until it is @want (freed SRAM is scrubbed before it
 * counts as free, which the driver may finish a little after the close);
 * 0, or -ETIMEDOUT with the last value in *@got.
 */
int wait_sram_used(const struct lpu_card *card, uint64_t want,
		   int timeout_ms, uint64_t *got);
/*
 * sram_used_bytes once nothing is on its way out: a test that ran before
 * may leave jobs whose buffers the driver frees (and scrubs) only after the
 * job retired. Waits for all @num_queues queues to go idle, then for the
 * value to hold still for 200 ms; 0 or -errno (-ETIMEDOUT).
 */
int settled_sram_used(const struct lpu_card *card, unsigned int num_queues,
		      int timeout_ms, uint64_t *used);
/*
 * fdinfo value @key (e.g. "drm-total-sram") of @fd of this process in
 * bytes (with its " KiB"/" MiB" unit applied); -ENOENT without the key.
 */
int fdinfo_bytes(int fd, const char *key, uint64_t *val);
/* fdinfo string value of @key, copied to @buf; -ENOENT without the key. */
int fdinfo_str(int fd, const char *key, char *buf, size_t len);

/* xorshift64*: the same data on every run for a seed. */
uint64_t rnd64(uint64_t *state);
/* Fill @buf with a pattern unique to @seed and byte position. */
void fill_pattern(void *buf, size_t n, uint64_t seed);
/* Index of the first byte where @a and @b differ, or @n. */
size_t first_diff(const void *a, const void *b, size_t n);
/* Index of the first non-zero byte, or @n. */
size_t first_nonzero(const void *a, size_t n);

#endif /* LPU_MEM_H */
