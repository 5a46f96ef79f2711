// SPDX-License-Identifier: GPL-2.0
/*
 * LPU DMA engine tests: COPY jobs between host and SRAM buffers checked
 * byte for byte against a CPU copy, the driver's checks of every copy,
 * multi-copy jobs, syncobjs in and out, implicit ordering through the
 * buffers' reservation objects, BO_WAIT, and buffers freed under a job.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xf86drm.h>

#include "lpu_fixture.h"
#include "lpu_mem.h"

#define BIG		(64 * MiB)
#define GUARD		4096
/* A slow job to queue work behind: 1 s of device time. */
#define LONG_NOP	DRM_LPU_NOP_MAX_CYCLES

static const uint32_t domains[] = { DRM_LPU_BO_SRAM, DRM_LPU_BO_HOST };

static const char *dom_name(uint32_t d)
{
	return d == DRM_LPU_BO_SRAM ? "sram" : "host";
}

/*
 * Compare @bo with its CPU shadow around [off, off + n): the copied bytes
 * and GUARD bytes on each side, which must be untouched.
 */
static size_t check_window(const struct tbo *bo, const uint8_t *shadow,
			   uint64_t off, uint64_t n)
{
	uint64_t lo = off > GUARD ? off - GUARD : 0;
	uint64_t hi = off + n + GUARD < bo->size ? off + n + GUARD : bo->size;
	size_t d = first_diff(bo->map + lo, shadow + lo, hi - lo);

	return d == hi - lo ? SIZE_MAX : lo + d;
}

/* A size from 1 byte to @max, spread evenly over the powers of two. */
static uint64_t rnd_size(uint64_t *s, uint64_t max)
{
	unsigned int bits = 1 + rnd64(s) % 26;	/* up to 64 MiB */
	uint64_t n = rnd64(s) & ((1ULL << bits) - 1);

	n = n ? n : 1;
	return n > max ? max : n;
}

TEST_F_TIMEOUT(lpu, copy_round_trip_random_sizes_and_offsets, 600)
{
	/* Fixed sizes first (edges, 64 MiB whole), then random ones. */
	const uint64_t fixed[] = { 1, 2, 3, 4095, 4096, 4097, 65537,
				   MiB + 3, BIG };
	const unsigned int rounds = ARRAY_SIZE(fixed) + 24;
	uint8_t *sh_s1, *sh_s2, *sh_h2;
	struct tbo h1, s1, s2, h2;
	uint64_t rng = 0x5eed, n, o1, o2, o3, o4;
	unsigned int i;
	int32_t st;
	size_t bad;

	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, BIG, true, &h1));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, BIG, true, &s1));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, BIG, true, &s2));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, BIG, true, &h2));
	sh_s1 = calloc(1, BIG);
	sh_s2 = calloc(1, BIG);
	sh_h2 = calloc(1, BIG);
	ASSERT_NE(NULL, sh_s1);
	ASSERT_NE(NULL, sh_s2);
	ASSERT_NE(NULL, sh_h2);
	fill_pattern(h1.map, BIG, 1);

	for (i = 0; i < rounds; i++) {
		n = i < ARRAY_SIZE(fixed) ? fixed[i] : rnd_size(&rng, BIG);
		o1 = rnd64(&rng) % (BIG - n + 1);
		o2 = rnd64(&rng) % (BIG - n + 1);
		o3 = rnd64(&rng) % (BIG - n + 1);
		o4 = rnd64(&rng) % (BIG - n + 1);

		/* host -> SRAM -> SRAM -> host, each against memcpy(). */
		ASSERT_EQ(0, copy_sync(self->fd, i % 4, s1.handle, o2,
				       h1.handle, o1, n, &st));
		ASSERT_EQ(0, st) TH_LOG("host->sram %llu bytes",
					(unsigned long long)n);
		memcpy(sh_s1 + o2, h1.map + o1, n);
		ASSERT_EQ(0, copy_sync(self->fd, (i + 1) % 4, s2.handle, o3,
				       s1.handle, o2, n, &st));
		ASSERT_EQ(0, st);
		memcpy(sh_s2 + o3, sh_s1 + o2, n);
		ASSERT_EQ(0, copy_sync(self->fd, (i + 2) % 4, h2.handle, o4,
				       s2.handle, o3, n, &st));
		ASSERT_EQ(0, st);
		memcpy(sh_h2 + o4, sh_s2 + o3, n);

		bad = check_window(&h2, sh_h2, o4, n);
		ASSERT_EQ(SIZE_MAX, bad)
			TH_LOG("round %u: %llu bytes %llu->%llu->%llu->%llu: host byte %zu differs",
			       i, (unsigned long long)n,
			       (unsigned long long)o1, (unsigned long long)o2,
			       (unsigned long long)o3, (unsigned long long)o4,
			       bad);
		bad = check_window(&s1, sh_s1, o2, n);
		ASSERT_EQ(SIZE_MAX, bad) TH_LOG("round %u: SRAM byte %zu", i, bad);
	}
	/* Nothing anywhere else was touched either. */
	EXPECT_EQ(BIG, first_diff(s1.map, sh_s1, BIG));
	EXPECT_EQ(BIG, first_diff(s2.map, sh_s2, BIG));
	EXPECT_EQ(BIG, first_diff(h2.map, sh_h2, BIG));
	free(sh_s1);
	free(sh_s2);
	free(sh_h2);
	tbo_free(self->fd, &h1);
	tbo_free(self->fd, &s1);
	tbo_free(self->fd, &s2);
	tbo_free(self->fd, &h2);
}

TEST_F(lpu, copy_device_time_follows_the_size)
{
	struct tbo h, s;
	struct drm_lpu_copy c;
	struct job_result r;
	uint64_t seq;

	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, 16 * MiB, false, &h));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, 16 * MiB, false, &s));
	c = copy_desc(s.handle, 0, h.handle, 0, 16 * MiB);
	ASSERT_EQ(0, submit_copies(self->fd, 0, &c, 1, 0, 0, &seq));
	ASSERT_EQ(0, wait_result(self->fd, seq, COPY_WAIT_MS, &r));
	ASSERT_EQ(0, r.status);
	/* Never faster than the model: base + size / 32 B per cycle. */
	EXPECT_LE(LPU_COPY_BASE_CYCLES + 16 * MiB / LPU_DMA_BYTES_PER_CYCLE,
		  r.device_ns);
	EXPECT_EQ(0, r.fault_addr);
	EXPECT_EQ(0, r.fault_kind);
	tbo_free(self->fd, &h);
	tbo_free(self->fd, &s);
}

TEST_F(lpu, copy_at_both_ends_unaligned_every_direction)
{
	const uint64_t size = 16 * KiB, lens[] = { 1, 7, 4097, size };
	uint8_t *shadow = malloc(size), *src_data = malloc(size);
	unsigned int a, b, l, e;
	struct tbo src, dst;
	uint64_t n, soff, doff;
	int32_t st;

	ASSERT_NE(NULL, shadow);
	ASSERT_NE(NULL, src_data);
	for (a = 0; a < ARRAY_SIZE(domains); a++) {
		for (b = 0; b < ARRAY_SIZE(domains); b++) {
			ASSERT_EQ(0, tbo_new(self->fd, domains[a], size, true,
					     &src));
			ASSERT_EQ(0, tbo_new(self->fd, domains[b], size, true,
					     &dst));
			fill_pattern(src_data, size, a * 2 + b);
			memcpy(src.map, src_data, size);
			memset(dst.map, 0xee, size);
			memset(shadow, 0xee, size);
			for (l = 0; l < ARRAY_SIZE(lens); l++) {
				for (e = 0; e < 4; e++) {
					n = lens[l];
					/* start/end of src x start/end of dst */
					soff = e & 1 ? size - n : 0;
					doff = e & 2 ? size - n : 0;
					if (n < size && !(e & 1))
						soff = 1;	/* unaligned */
					if (soff + n > size)
						soff = size - n;
					ASSERT_EQ(0, copy_sync(self->fd, 0,
							       dst.handle, doff,
							       src.handle, soff,
							       n, &st));
					ASSERT_EQ(0, st);
					memcpy(shadow + doff, src_data + soff, n);
					ASSERT_EQ(size, first_diff(dst.map,
								   shadow, size))
						TH_LOG("%s->%s %llu bytes %llu->%llu",
						       dom_name(domains[a]),
						       dom_name(domains[b]),
						       (unsigned long long)n,
						       (unsigned long long)soff,
						       (unsigned long long)doff);
				}
			}
			/* The source is never written. */
			EXPECT_EQ(size, first_diff(src.map, src_data, size));
			tbo_free(self->fd, &src);
			tbo_free(self->fd, &dst);
		}
	}
	free(shadow);
	free(src_data);
}

/* ---- the driver's checks --------------------------------------------- */

/* SUBMIT of one copy; the job, if one was queued, is waited for. */
static int try_copy(int fd, struct drm_lpu_copy c)
{
	struct job_result r;
	uint64_t seq;
	int ret = submit_copies(fd, 0, &c, 1, 0, 0, &seq);

	if (!ret)
		wait_result(fd, seq, COPY_WAIT_MS, &r);
	return ret;
}

TEST_F(lpu, copy_invalid_handle_is_einval)
{
	struct tbo a, b, gone;
	uint64_t seq;

	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, 8192, false, &a));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, 8192, false, &b));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, 8192, false, &gone));
	tbo_free(self->fd, &gone);
	EXPECT_EQ(-EINVAL, try_copy(self->fd, copy_desc(0, 0, b.handle, 0, 16)));
	EXPECT_EQ(-EINVAL, try_copy(self->fd, copy_desc(a.handle, 0, 0, 0, 16)));
	EXPECT_EQ(-EINVAL, try_copy(self->fd, copy_desc(a.handle, 0, 9999, 0, 16)));
	EXPECT_EQ(-EINVAL, try_copy(self->fd,
				    copy_desc(a.handle, 0, UINT32_MAX, 0, 16)));
	/* A handle that existed once. */
	EXPECT_EQ(-EINVAL, try_copy(self->fd, copy_desc(a.handle, 0,
							b.handle + 1, 0, 16)));
	/* No refused copy used up a sequence number. */
	ASSERT_EQ(0, raw_submit(self->fd, 0, 0, &seq));
	EXPECT_EQ(1, seq);
	tbo_free(self->fd, &a);
	tbo_free(self->fd, &b);
}

TEST_F(lpu, copy_out_of_range_or_wrapping_is_einval)
{
	const uint64_t sz = 8192;
	struct {
		uint64_t soff, doff, size;
	} bad[] = {
		{ 0, 0, sz + 1 },		/* longer than both */
		{ 1, 0, sz },			/* source runs past its end */
		{ 0, 1, sz },			/* destination runs past */
		{ sz, 0, 1 },			/* starts at the end */
		{ 0, sz, 1 },
		{ sz - 1, 0, 2 },
		{ UINT64_MAX, 0, 1 },
		{ 0, UINT64_MAX, 1 },
		{ UINT64_MAX - 15, 0, 32 },	/* offset + size wraps to 16 */
		{ 0, UINT64_MAX - 15, 32 },
		{ 16, 0, UINT64_MAX },		/* wraps to 15 */
		{ 0, 0, UINT64_MAX },
		{ 1ULL << 32, 0, 16 },		/* the next buffer's window */
		{ 0, 1ULL << 32, 16 },
	};
	struct tbo s, h;
	unsigned int i;

	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, sz, false, &s));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, sz, false, &h));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, try_copy(self->fd,
					    copy_desc(s.handle, bad[i].doff,
						      h.handle, bad[i].soff,
						      bad[i].size)))
			TH_LOG("case %u: src %#llx dst %#llx size %#llx", i,
			       (unsigned long long)bad[i].soff,
			       (unsigned long long)bad[i].doff,
			       (unsigned long long)bad[i].size);
		EXPECT_EQ(-EINVAL, try_copy(self->fd,
					    copy_desc(h.handle, bad[i].doff,
						      s.handle, bad[i].soff,
						      bad[i].size)))
			TH_LOG("case %u, SRAM to host", i);
	}
	/* The exact edges are fine. */
	EXPECT_EQ(0, try_copy(self->fd, copy_desc(s.handle, sz - 1, h.handle,
						  sz - 1, 1)));
	EXPECT_EQ(0, try_copy(self->fd, copy_desc(s.handle, 0, h.handle, 0, sz)));
	tbo_free(self->fd, &s);
	tbo_free(self->fd, &h);
}

TEST_F(lpu, copy_size_zero_flags_pad_are_einval)
{
	struct drm_lpu_copy c;
	struct tbo s, h;

	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, 8192, false, &s));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, 8192, false, &h));
	EXPECT_EQ(-EINVAL, try_copy(self->fd, copy_desc(s.handle, 0, h.handle,
							0, 0)));
	c = copy_desc(s.handle, 0, h.handle, 0, 16);
	c.flags = 1U << 1;
	EXPECT_EQ(-EINVAL, try_copy(self->fd, c));
	c.flags = 1U << 31;
	EXPECT_EQ(-EINVAL, try_copy(self->fd, c));
	c.flags = 0;
	c.pad = 1;
	EXPECT_EQ(-EINVAL, try_copy(self->fd, c));
	c.pad = 0;
	EXPECT_EQ(0, try_copy(self->fd, c));
	tbo_free(self->fd, &s);
	tbo_free(self->fd, &h);
}

TEST_F(lpu, copy_overlap_in_one_buffer_is_einval)
{
	const uint64_t sz = 16 * KiB;
	uint8_t *want = malloc(sz);
	unsigned int d;
	struct tbo b;
	int32_t st;

	ASSERT_NE(NULL, want);
	for (d = 0; d < ARRAY_SIZE(domains); d++) {
		ASSERT_EQ(0, tbo_new(self->fd, domains[d], sz, true, &b));
		fill_pattern(b.map, sz, 7 + d);
		memcpy(want, b.map, sz);
		EXPECT_EQ(-EINVAL, try_copy(self->fd, copy_desc(b.handle, 0,
								b.handle, 0, 16)));
		EXPECT_EQ(-EINVAL, try_copy(self->fd, copy_desc(b.handle, 100,
								b.handle, 0, 101)));
		EXPECT_EQ(-EINVAL, try_copy(self->fd, copy_desc(b.handle, 0,
								b.handle, 100, 101)));
		EXPECT_EQ(-EINVAL, try_copy(self->fd, copy_desc(b.handle, 1,
								b.handle, 0,
								sz - 1)));
		/* Adjacent but not overlapping: allowed, and done right. */
		ASSERT_EQ(0, copy_sync(self->fd, 1, b.handle, 100, b.handle, 0,
				       100, &st));
		EXPECT_EQ(0, st);
		memcpy(want + 100, want, 100);
		ASSERT_EQ(0, copy_sync(self->fd, 1, b.handle, 0, b.handle,
				       sz / 2, sz / 2, &st));
		EXPECT_EQ(0, st);
		memcpy(want, want + sz / 2, sz / 2);
		EXPECT_EQ(sz, first_diff(b.map, want, sz))
			TH_LOG("%s", dom_name(domains[d]));
		tbo_free(self->fd, &b);
	}
	free(want);
}

TEST_F(lpu, copy_count_and_pointer_errors)
{
	struct drm_lpu_copy c[DRM_LPU_MAX_COPIES + 1];
	struct drm_lpu_submit sub;
	struct tbo s, h;
	unsigned int i;
	uint64_t seq;
	void *unmapped;

	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, 8192, false, &s));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, 8192, false, &h));
	for (i = 0; i <= DRM_LPU_MAX_COPIES; i++)
		c[i] = copy_desc(s.handle, i * 16, h.handle, i * 16, 16);
	EXPECT_EQ(-EINVAL, submit_copies(self->fd, 0, c, 0, 0, 0, &seq));
	EXPECT_EQ(-EINVAL, submit_copies(self->fd, 0, c, DRM_LPU_MAX_COPIES + 1,
					 0, 0, &seq));
	EXPECT_EQ(-EINVAL, submit_copies(self->fd, 0, c, UINT32_MAX, 0, 0,
					 &seq));
	/* 0 is "no array" (as for NOP jobs): a missing argument. */
	EXPECT_EQ(-EINVAL, submit_copies(self->fd, 0, NULL, 1, 0, 0, &seq));
	/* Pointers that cannot be read, whole or in part. */
	EXPECT_EQ(-EFAULT, submit_copies(self->fd, 0, (void *)8, 1, 0, 0, &seq));
	unmapped = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	ASSERT_NE(MAP_FAILED, unmapped);
	munmap(unmapped, 4096);
	EXPECT_EQ(-EFAULT, submit_copies(self->fd, 0, unmapped, 1, 0, 0, &seq));
	EXPECT_EQ(-EFAULT, submit_copies(self->fd, 0,
					 (void *)0xffffffff81000000UL, 1, 0, 0,
					 &seq));
	/* COPY fields on a NOP, NOP cycles on a COPY. */
	memset(&sub, 0, sizeof(sub));
	sub.job_type = LPU_JOB_NOP;
	sub.copies = (uintptr_t)c;
	EXPECT_EQ(-EINVAL, raw_ioctl(self->fd, DRM_IOCTL_LPU_SUBMIT, &sub));
	sub.copies = 0;
	sub.copy_count = 1;
	EXPECT_EQ(-EINVAL, raw_ioctl(self->fd, DRM_IOCTL_LPU_SUBMIT, &sub));
	memset(&sub, 0, sizeof(sub));
	sub.job_type = LPU_JOB_COPY;
	sub.copies = (uintptr_t)c;
	sub.copy_count = 1;
	sub.nop_cycles = 1;
	EXPECT_EQ(-EINVAL, raw_ioctl(self->fd, DRM_IOCTL_LPU_SUBMIT, &sub));
	sub.nop_cycles = 0;
	sub.pad = 1;
	EXPECT_EQ(-EINVAL, raw_ioctl(self->fd, DRM_IOCTL_LPU_SUBMIT, &sub));
	/* One bad copy among good ones refuses the whole job. */
	c[5].size = 0;
	EXPECT_EQ(-EINVAL, submit_copies(self->fd, 0, c, 8, 0, 0, &seq));
	c[5].size = 16;
	/* Nothing above was queued. */
	ASSERT_EQ(0, submit_copies(self->fd, 0, c, DRM_LPU_MAX_COPIES, 0, 0,
				   &seq));
	EXPECT_EQ(1, seq);
	EXPECT_EQ(0, wait_ms(self->fd, seq, COPY_WAIT_MS, NULL));
	tbo_free(self->fd, &s);
	tbo_free(self->fd, &h);
}

TEST_F(lpu, multi_copy_job_runs_copies_in_order)
{
	const uint64_t chunk = 64 * KiB;
	struct drm_lpu_copy c[DRM_LPU_MAX_COPIES];
	struct tbo h1, s1, s2, h2;
	uint8_t *want = malloc(13 * chunk);
	struct job_result r;
	unsigned int i;
	uint64_t seq;

	ASSERT_NE(NULL, want);
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, 16 * chunk, true, &h1));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, 16 * chunk, false, &s1));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, 16 * chunk, false, &s2));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, 16 * chunk, true, &h2));
	fill_pattern(h1.map, 16 * chunk, 99);
	/*
	 * Each copy reads what the one before it wrote: only an in-order
	 * engine ends with the source data in h2.
	 */
	c[0] = copy_desc(s1.handle, 0, h1.handle, 0, 13 * chunk);
	c[1] = copy_desc(s2.handle, 0, s1.handle, 0, 13 * chunk);
	for (i = 2; i < DRM_LPU_MAX_COPIES - 1; i++)	/* 13 chunks */
		c[i] = copy_desc(h2.handle, (i - 2) * chunk, s2.handle,
				 (i - 2) * chunk, chunk);
	/* Then overwrite chunk 0 of s1: too late to change h2. */
	c[DRM_LPU_MAX_COPIES - 1] = copy_desc(s1.handle, 0, h1.handle,
					      15 * chunk, chunk);
	ASSERT_EQ(0, submit_copies(self->fd, 2 % self->info.num_queues, c, DRM_LPU_MAX_COPIES, 0, 0,
				   &seq));
	ASSERT_EQ(0, wait_result(self->fd, seq, COPY_WAIT_MS, &r));
	ASSERT_EQ(0, r.status);
	memcpy(want, h1.map, 13 * chunk);
	EXPECT_EQ(13 * chunk, first_diff(h2.map, want, 13 * chunk));
	EXPECT_EQ(3 * chunk, first_nonzero(h2.map + 13 * chunk, 3 * chunk));
	free(want);
	tbo_free(self->fd, &h1);
	tbo_free(self->fd, &s1);
	tbo_free(self->fd, &s2);
	tbo_free(self->fd, &h2);
}

/* ---- synchronisation -------------------------------------------------- */

TEST_F(lpu, out_syncobj_signals_when_the_copy_is_done)
{
	struct drm_lpu_copy c;
	struct tbo h, s, h2;
	uint32_t so, first;
	uint64_t seq, nop;
	int32_t st;

	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, MiB, true, &h));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, MiB, false, &s));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, MiB, true, &h2));
	fill_pattern(h.map, MiB, 5);
	ASSERT_EQ(0, drmSyncobjCreate(self->fd, 0, &so));
	c = copy_desc(s.handle, 0, h.handle, 0, MiB);
	/* Unknown syncobjs are refused. */
	EXPECT_EQ(-ENOENT, submit_copies(self->fd, 0, &c, 1, 0, so + 100, &seq));
	/* Behind a slow NOP, so that it is seen unsignalled first. */
	ASSERT_EQ(0, raw_submit(self->fd, 0, LONG_NOP, &nop));
	ASSERT_EQ(0, submit_copies(self->fd, 0, &c, 1, 0, so, &seq));
	EXPECT_EQ(-ETIME, drmSyncobjWait(self->fd, &so, 1, 0, 0, &first));
	EXPECT_EQ(0, drmSyncobjWait(self->fd, &so, 1, now_ns() + 30 * NSEC_PER_SEC,
				    0, &first));
	EXPECT_EQ(0, first);
	/* Signalled means done: the job reports done, the data is there. */
	EXPECT_EQ(0, raw_wait(self->fd, seq, 0, &st, NULL));
	EXPECT_EQ(0, st);
	ASSERT_EQ(0, copy_sync(self->fd, 1, h2.handle, 0, s.handle, 0, MiB, &st));
	EXPECT_EQ(0, st);
	EXPECT_EQ(MiB, first_diff(h2.map, h.map, MiB));
	drmSyncobjDestroy(self->fd, so);
	tbo_free(self->fd, &h);
	tbo_free(self->fd, &s);
	tbo_free(self->fd, &h2);
}

TEST_F(lpu, in_syncobj_holds_a_job_back)
{
	struct drm_lpu_copy c;
	struct drm_lpu_submit sub = { .job_type = LPU_JOB_NOP };
	uint32_t so, empty;
	struct tbo h, s;
	uint64_t seq, nop;
	int32_t st;

	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, 64 * KiB, true, &h));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, 64 * KiB, true, &s));
	fill_pattern(h.map, 64 * KiB, 11);
	ASSERT_EQ(0, drmSyncobjCreate(self->fd, 0, &so));
	ASSERT_EQ(0, drmSyncobjCreate(self->fd, 0, &empty));
	c = copy_desc(s.handle, 0, h.handle, 0, 64 * KiB);
	EXPECT_EQ(-ENOENT, submit_copies(self->fd, 1, &c, 1, so + 100, 0, &seq));
	/* A syncobj without a fence is refused too. */
	EXPECT_EQ(-ENOENT, submit_copies(self->fd, 1, &c, 1, empty, 0, &seq));

	/* A slow NOP on queue 0 signals so; the copy on idle queue 1 waits. */
	sub.queue = 0;
	sub.nop_cycles = LONG_NOP;
	sub.out_syncobj = so;
	ASSERT_EQ(0, raw_ioctl(self->fd, DRM_IOCTL_LPU_SUBMIT, &sub));
	nop = sub.seq;
	ASSERT_EQ(0, submit_copies(self->fd, 1, &c, 1, so, 0, &seq));
	usleep(100000);
	EXPECT_EQ(-ETIME, raw_wait(self->fd, seq, 0, NULL, NULL))
		TH_LOG("the copy ran before its in_syncobj signalled");
	EXPECT_EQ(-ETIME, raw_wait(self->fd, nop, 0, NULL, NULL));
	EXPECT_EQ(64 * KiB, first_nonzero(s.map, 64 * KiB));
	ASSERT_EQ(0, wait_ms(self->fd, seq, 30000, &st));
	EXPECT_EQ(0, st);
	/* The NOP finished first. */
	EXPECT_EQ(0, raw_wait(self->fd, nop, 0, &st, NULL));
	EXPECT_EQ(64 * KiB, first_diff(s.map, h.map, 64 * KiB));
	drmSyncobjDestroy(self->fd, so);
	drmSyncobjDestroy(self->fd, empty);
	tbo_free(self->fd, &h);
	tbo_free(self->fd, &s);
}

TEST_F(lpu, buffers_order_copies_across_queues)
{
	struct drm_lpu_copy c;
	struct tbo h1, s, h2;
	uint64_t nop, s1, s2;
	int32_t st;

	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, MiB, true, &h1));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, MiB, false, &s));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, MiB, true, &h2));
	fill_pattern(h1.map, MiB, 21);
	/* h1 -> s waits behind a slow NOP on queue 0... */
	ASSERT_EQ(0, raw_submit(self->fd, 0, LONG_NOP, &nop));
	c = copy_desc(s.handle, 0, h1.handle, 0, MiB);
	ASSERT_EQ(0, submit_copies(self->fd, 0, &c, 1, 0, 0, &s1));
	/* ...and s -> h2 on idle queue 1 must wait for that write to s. */
	c = copy_desc(h2.handle, 0, s.handle, 0, MiB);
	ASSERT_EQ(0, submit_copies(self->fd, 1, &c, 1, 0, 0, &s2));
	ASSERT_EQ(0, wait_ms(self->fd, s2, 30000, &st));
	EXPECT_EQ(0, st);
	EXPECT_EQ(0, raw_wait(self->fd, s1, 0, &st, NULL))
		TH_LOG("the reader finished before the writer");
	EXPECT_EQ(MiB, first_diff(h2.map, h1.map, MiB));
	tbo_free(self->fd, &h1);
	tbo_free(self->fd, &s);
	tbo_free(self->fd, &h2);
}

TEST_F(lpu, bo_wait_semantics)
{
	struct drm_lpu_bo_wait w = { 0 };
	struct drm_lpu_copy c;
	struct tbo h, s, other;
	uint64_t nop, seq;
	int64_t t0;
	int32_t st;

	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, 64 * KiB, false, &h));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, 64 * KiB, false, &s));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, 64 * KiB, false,
			     &other));
	/* Idle buffers: a poll succeeds. */
	EXPECT_EQ(0, bo_wait(self->fd, s.handle, 0));
	EXPECT_EQ(-ENOENT, bo_wait(self->fd, 9999, 0));
	w.handle = s.handle;
	w.flags = 1;
	EXPECT_EQ(-EINVAL, raw_ioctl(self->fd, DRM_IOCTL_LPU_BO_WAIT, &w));

	ASSERT_EQ(0, raw_submit(self->fd, 3 % self->info.num_queues, LONG_NOP, &nop));
	c = copy_desc(s.handle, 0, h.handle, 0, 64 * KiB);
	ASSERT_EQ(0, submit_copies(self->fd, 3 % self->info.num_queues, &c, 1, 0, 0, &seq));
	/* Busy destination and source; an unrelated buffer stays idle. */
	EXPECT_EQ(-ETIME, bo_wait(self->fd, s.handle, 0));
	EXPECT_EQ(-ETIME, bo_wait(self->fd, h.handle, 0));
	EXPECT_EQ(0, bo_wait(self->fd, other.handle, 0));
	t0 = now_ns();
	EXPECT_EQ(-ETIME, bo_wait(self->fd, s.handle, t0 + 50 * NSEC_PER_MSEC));
	EXPECT_LE(50 * NSEC_PER_MSEC, now_ns() - t0);
	/* A deadline in the past polls, never "forever". */
	EXPECT_EQ(-ETIME, bo_wait(self->fd, s.handle, -1));
	EXPECT_EQ(0, bo_wait(self->fd, s.handle, now_ns() + 30 * NSEC_PER_SEC));
	/* Idle means the job is done. */
	EXPECT_EQ(0, raw_wait(self->fd, seq, 0, &st, NULL));
	EXPECT_EQ(0, st);
	EXPECT_EQ(0, bo_wait(self->fd, h.handle, 0));
	tbo_free(self->fd, &h);
	tbo_free(self->fd, &s);
	tbo_free(self->fd, &other);
}

TEST_F_TIMEOUT(lpu, freeing_buffers_under_a_job_is_safe, 60)
{
	const uint64_t sz = 4 * MiB;
	uint8_t *want = malloc(sz);
	struct drm_lpu_copy c[2];
	struct tbo h1, s, h2;
	uint64_t used0, used, nop, seq;
	int32_t st;

	ASSERT_NE(NULL, want);
	ASSERT_EQ(0, sram_attr(&self->card, "sram_used_bytes", &used0));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, sz, true, &h1));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, sz, false, &s));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, sz, true, &h2));
	fill_pattern(h1.map, sz, 33);
	memcpy(want, h1.map, sz);

	ASSERT_EQ(0, raw_submit(self->fd, 0, LONG_NOP, &nop));
	c[0] = copy_desc(s.handle, 0, h1.handle, 0, sz);
	c[1] = copy_desc(h2.handle, 0, s.handle, 0, sz);
	ASSERT_EQ(0, submit_copies(self->fd, 0, c, 2, 0, 0, &seq));
	/* Drop every handle and the source's mapping while it waits. */
	tbo_free(self->fd, &h1);
	tbo_free(self->fd, &s);
	ASSERT_EQ(0, bo_close(self->fd, h2.handle));
	h2.handle = 0;
	/* New buffers must not be given the SRAM the job still uses. */
	ASSERT_EQ(0, sram_attr(&self->card, "sram_used_bytes", &used));
	EXPECT_EQ(used0 + sz, used) TH_LOG("SRAM of a busy buffer was freed");

	ASSERT_EQ(0, wait_ms(self->fd, seq, 30000, &st));
	EXPECT_EQ(0, st);
	/* The data went through the freed SRAM buffer into h2. */
	EXPECT_EQ(sz, first_diff(h2.map, want, sz));
	/* And the SRAM is released once the job is done. */
	EXPECT_EQ(0, wait_sram_used(&self->card, used0, 5000, &used));
	tbo_free(self->fd, &h2);
	free(want);
}

TEST_F_TIMEOUT(lpu, closing_the_file_with_copies_queued_frees_all, 60)
{
	struct drm_lpu_copy c[2];
	struct tbo h, s;
	uint64_t used0, used, seq;
	int32_t st;
	int fd2;

	ASSERT_EQ(0, sram_attr(&self->card, "sram_used_bytes", &used0));
	fd2 = open_card(&self->card);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, tbo_new(fd2, DRM_LPU_BO_HOST, 4 * MiB, true, &h));
	ASSERT_EQ(0, tbo_new(fd2, DRM_LPU_BO_SRAM, 4 * MiB, false, &s));
	memset(h.map, 0x42, 4 * MiB);
	ASSERT_EQ(0, raw_submit(fd2, 2, LONG_NOP, &seq));
	c[0] = copy_desc(s.handle, 0, h.handle, 0, 4 * MiB);
	c[1] = copy_desc(h.handle, 0, s.handle, 0, 4 * MiB);
	ASSERT_EQ(0, submit_copies(fd2, 2, c, 2, 0, 0, &seq));
	/* Everything goes at once: mapping, handles, file. */
	tbo_free(fd2, &h);
	tbo_free(fd2, &s);
	close(fd2);
	EXPECT_EQ(0, wait_sram_used(&self->card, used0, 30000, &used))
		TH_LOG("SRAM of a closed file's buffers: %llu, was %llu",
		       (unsigned long long)used, (unsigned long long)used0);
	/* The queue still runs copies for others. */
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, MiB, false, &h));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, MiB, false, &s));
	ASSERT_EQ(0, copy_sync(self->fd, 2 % self->info.num_queues, s.handle, 0,
			       h.handle, 0, MiB, &st));
	EXPECT_EQ(0, st);
	tbo_free(self->fd, &h);
	tbo_free(self->fd, &s);
}

/* ---- the runtime API ------------------------------------------------- */

TEST_F(lpu, liblpu_copy_sync_and_async)
{
	struct lpu_bo *h, *s, *h2;
	struct lpu_copy_status cs;
	struct lpu_copy_op op;
	struct lpu_device *dev;
	struct lpu_fence f;
	uint8_t *ph, *ph2;

	ASSERT_EQ(0, lpu_open_path(self->card.dev_path, &dev));
	ASSERT_EQ(0, lpu_bo_alloc(dev, LPU_BO_HOST, MiB, 0, &h));
	ASSERT_EQ(0, lpu_bo_alloc(dev, LPU_BO_SRAM, MiB, 0, &s));
	ASSERT_EQ(0, lpu_bo_alloc(dev, LPU_BO_HOST, MiB, 0, &h2));
	ASSERT_EQ(0, lpu_bo_map(h, (void **)&ph));
	ASSERT_EQ(0, lpu_bo_map(h2, (void **)&ph2));
	fill_pattern(ph, MiB, 77);

	op = (struct lpu_copy_op){ .dst = s, .src = h, .size = MiB };
	ASSERT_EQ(0, lpu_copy(dev, 0, &op, 1, &cs));
	EXPECT_EQ(0, cs.status);
	op = (struct lpu_copy_op){ .dst = h2, .dst_offset = 3, .src = s,
				   .src_offset = 1, .size = MiB - 5 };
	ASSERT_EQ(0, lpu_copy_async(dev, 2, &op, 1, &f));
	EXPECT_LT(0, f.seq);
	ASSERT_EQ(0, lpu_fence_wait(dev, &f, 30 * NSEC_PER_SEC, &cs));
	EXPECT_EQ(0, cs.status);
	EXPECT_EQ(MiB - 5, first_diff(ph2 + 3, ph + 1, MiB - 5));
	EXPECT_EQ(0, lpu_bo_wait(h2, 0));

	/* The driver's range check comes back as -EINVAL. */
	op.size = MiB;
	EXPECT_EQ(-EINVAL, lpu_copy(dev, 0, &op, 1, &cs));
	/* A device-address copy past the end: the job's -EFAULT, with detail. */
	op = (struct lpu_copy_op){
		.dst = h2, .dst_offset = lpu_bo_device_address(h2),
		.src = s, .src_offset = lpu_bo_device_address(s) + MiB - 16,
		.size = 32, .flags = LPU_COPY_DEVICE_ADDRESSES,
	};
	EXPECT_EQ(-EFAULT, lpu_copy(dev, 0, &op, 1, &cs));
	EXPECT_EQ(-EFAULT, cs.status);
	EXPECT_EQ(lpu_bo_device_address(s) + MiB, cs.fault_addr);
	EXPECT_EQ(DRM_LPU_FAULT_OUT_OF_BOUNDS, cs.fault_kind);

	EXPECT_EQ(0, lpu_bo_free(h));
	EXPECT_EQ(0, lpu_bo_free(s));
	EXPECT_EQ(0, lpu_bo_free(h2));
	EXPECT_EQ(0, lpu_close(dev));
}

TEST_F(lpu, kernel_not_tainted)
{
	expect_not_tainted(_metadata);
}

TEST_HARNESS_MAIN
