// SPDX-License-Identifier: GPL-2.0
/*
 * LPU isolation tests: a job reaching outside the buffers it names faults
 * with the exact address and kind while other contexts keep working; one
 * file's buffers are out of reach of another file's jobs and mappings; and
 * SRAM is scrubbed, so a new buffer never shows a freed buffer's data.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lpu_fixture.h"
#include "lpu_mem.h"

#define SZ	(64 * KiB)

/* A device-address copy (DRM_LPU_COPY_DEVICE_ADDRESSES), waited for. */
static int dev_copy(int fd, uint32_t queue, uint32_t dst, uint64_t dst_addr,
		    uint32_t src, uint64_t src_addr, uint64_t size,
		    struct job_result *r)
{
	struct drm_lpu_copy c = copy_desc(dst, dst_addr, src, src_addr, size);
	uint64_t seq;
	int ret;

	c.flags = DRM_LPU_COPY_DEVICE_ADDRESSES;
	ret = submit_copies(fd, queue, &c, 1, 0, 0, &seq);
	if (ret)
		return ret;
	return wait_result(fd, seq, COPY_WAIT_MS, r);
}

static uint64_t dev_addr(int fd, uint32_t handle)
{
	struct drm_lpu_bo_info info;

	return bo_info(fd, handle, &info) ? 0 : info.device_addr;
}

TEST_F(lpu, device_address_copy_within_buffers_works)
{
	struct job_result r;
	struct tbo s, h;
	uint64_t as, ah;

	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, SZ, true, &s));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, SZ, true, &h));
	fill_pattern(h.map, SZ, 3);
	as = dev_addr(self->fd, s.handle);
	ah = dev_addr(self->fd, h.handle);
	ASSERT_NE(0, as);
	/* The last byte of one buffer to the first of the other, and more. */
	ASSERT_EQ(0, dev_copy(self->fd, 0, s.handle, as, h.handle,
			      ah + SZ - 1, 1, &r));
	EXPECT_EQ(0, r.status);
	EXPECT_EQ(h.map[SZ - 1], s.map[0]);
	ASSERT_EQ(0, dev_copy(self->fd, 0, s.handle, as + 5, h.handle, ah + 5,
			      SZ - 5, &r));
	EXPECT_EQ(0, r.status);
	EXPECT_EQ(SZ - 5, first_diff(s.map + 5, h.map + 5, SZ - 5));
	tbo_free(self->fd, &s);
	tbo_free(self->fd, &h);
}

TEST_F(lpu, reaching_past_a_buffer_faults_out_of_bounds)
{
	uint8_t tail[64];
	struct job_result r;
	struct tbo s, h;
	uint64_t as, ah, seq;

	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, SZ, true, &s));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, SZ, true, &h));
	fill_pattern(s.map, SZ, 8);
	memset(h.map, 0x77, SZ);
	as = dev_addr(self->fd, s.handle);
	ah = dev_addr(self->fd, h.handle);

	/* Source runs 16 bytes past the end of the SRAM buffer. */
	ASSERT_EQ(0, dev_copy(self->fd, 1, h.handle, ah, s.handle,
			      as + SZ - 16, 32, &r));
	EXPECT_EQ(-EFAULT, r.status);
	EXPECT_EQ(as + SZ, r.fault_addr);
	EXPECT_EQ(DRM_LPU_FAULT_OUT_OF_BOUNDS, r.fault_kind);
	/* Refused before a byte moved. */
	EXPECT_EQ(0x77, h.map[0]);

	/* Destination runs past the host buffer: a write fault. */
	memcpy(tail, h.map + SZ - 64, 64);
	ASSERT_EQ(0, dev_copy(self->fd, 1, h.handle, ah + SZ - 8, s.handle, as,
			      32, &r));
	EXPECT_EQ(-EFAULT, r.status);
	EXPECT_EQ(ah + SZ, r.fault_addr);
	EXPECT_EQ(DRM_LPU_FAULT_OUT_OF_BOUNDS | DRM_LPU_FAULT_WRITE,
		  r.fault_kind);
	EXPECT_EQ(0, memcmp(tail, h.map + SZ - 64, 64));

	/* Far past the end, one byte: OUT_OF_BOUNDS needs its start inside. */
	ASSERT_EQ(0, dev_copy(self->fd, 1, h.handle, ah, s.handle,
			      as + SZ, 1, &r));
	EXPECT_EQ(-EFAULT, r.status);
	EXPECT_EQ(DRM_LPU_FAULT_NOT_MAPPED, r.fault_kind);
	EXPECT_EQ(as + SZ, r.fault_addr);

	/* The queue was recovered: the next job on it works. */
	ASSERT_EQ(0, copy_sync(self->fd, 1, h.handle, 0, s.handle, 0, SZ,
			       &r.status));
	EXPECT_EQ(0, r.status);
	EXPECT_EQ(SZ, first_diff(h.map, s.map, SZ));
	/* A successful job reports no fault. */
	ASSERT_EQ(0, raw_submit(self->fd, 1, 0, &seq));
	ASSERT_EQ(0, wait_result(self->fd, seq, 10000, &r));
	EXPECT_EQ(0, r.fault_addr);
	EXPECT_EQ(0, r.fault_kind);
	tbo_free(self->fd, &s);
	tbo_free(self->fd, &h);
}

TEST_F(lpu, unnamed_buffer_of_the_same_file_is_not_mapped)
{
	struct job_result r;
	struct tbo a, b, secret;
	uint64_t aa, ab, asec;

	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, SZ, true, &a));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, SZ, true, &b));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, SZ, true, &secret));
	memset(secret.map, 0x5e, SZ);
	memset(b.map, 0, SZ);
	aa = dev_addr(self->fd, a.handle);
	ab = dev_addr(self->fd, b.handle);
	asec = dev_addr(self->fd, secret.handle);

	/* Reading a buffer the job does not name. */
	ASSERT_EQ(0, dev_copy(self->fd, 2, b.handle, ab, a.handle, asec, 16, &r));
	EXPECT_EQ(-EFAULT, r.status);
	EXPECT_EQ(asec, r.fault_addr);
	EXPECT_EQ(DRM_LPU_FAULT_NOT_MAPPED, r.fault_kind);
	EXPECT_EQ(SZ, first_nonzero(b.map, SZ));
	/* Writing it. */
	ASSERT_EQ(0, dev_copy(self->fd, 2, b.handle, asec + 8, a.handle, aa,
			      16, &r));
	EXPECT_EQ(-EFAULT, r.status);
	EXPECT_EQ(asec + 8, r.fault_addr);
	EXPECT_EQ(DRM_LPU_FAULT_NOT_MAPPED | DRM_LPU_FAULT_WRITE, r.fault_kind);
	EXPECT_EQ(0x5e, secret.map[8]);
	/* Addresses in no window at all: 0, and inside a's window past it. */
	ASSERT_EQ(0, dev_copy(self->fd, 2, b.handle, ab, a.handle, 0, 16, &r));
	EXPECT_EQ(-EFAULT, r.status);
	EXPECT_EQ(0, r.fault_addr);
	EXPECT_EQ(DRM_LPU_FAULT_NOT_MAPPED, r.fault_kind);
	ASSERT_EQ(0, dev_copy(self->fd, 2, b.handle, ab, a.handle,
			      aa + (1ULL << 31), 16, &r));
	EXPECT_EQ(-EFAULT, r.status);
	EXPECT_EQ(aa + (1ULL << 31), r.fault_addr);
	EXPECT_EQ(DRM_LPU_FAULT_NOT_MAPPED, r.fault_kind);
	tbo_free(self->fd, &a);
	tbo_free(self->fd, &b);
	tbo_free(self->fd, &secret);
}

TEST_F(lpu, fault_does_not_disturb_another_file_on_the_same_queue)
{
	struct drm_lpu_copy bad, good;
	struct job_result r;
	struct tbo a, b, c, d;
	uint64_t sbad, sgood, nop;
	unsigned int i;
	int fd2;

	fd2 = open_card(&self->card);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, SZ, false, &a));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, SZ, false, &b));
	ASSERT_EQ(0, tbo_new(fd2, DRM_LPU_BO_HOST, SZ, true, &c));
	ASSERT_EQ(0, tbo_new(fd2, DRM_LPU_BO_SRAM, SZ, true, &d));
	bad = copy_desc(b.handle, dev_addr(self->fd, b.handle), a.handle,
			dev_addr(self->fd, a.handle) + SZ, 64);
	bad.flags = DRM_LPU_COPY_DEVICE_ADDRESSES;

	for (i = 0; i < 8; i++) {
		/* A slow NOP first, so both jobs sit queued together. */
		ASSERT_EQ(0, raw_submit(self->fd, 0, 20000000, &nop));
		ASSERT_EQ(0, submit_copies(self->fd, 0, &bad, 1, 0, 0, &sbad));
		fill_pattern(c.map, SZ, 100 + i);
		good = copy_desc(d.handle, 0, c.handle, 0, SZ);
		ASSERT_EQ(0, submit_copies(fd2, 0, &good, 1, 0, 0, &sgood));

		ASSERT_EQ(0, wait_result(self->fd, sbad, COPY_WAIT_MS, &r));
		EXPECT_EQ(-EFAULT, r.status);
		EXPECT_EQ(DRM_LPU_FAULT_NOT_MAPPED, r.fault_kind);
		ASSERT_EQ(0, wait_result(fd2, sgood, COPY_WAIT_MS, &r));
		EXPECT_EQ(0, r.status) TH_LOG("round %u", i);
		EXPECT_EQ(0, r.fault_kind);
		EXPECT_EQ(SZ, first_diff(d.map, c.map, SZ)) TH_LOG("round %u", i);
	}
	tbo_free(self->fd, &a);
	tbo_free(self->fd, &b);
	tbo_free(fd2, &c);
	tbo_free(fd2, &d);
	close(fd2);
}

/* Child: @rounds verified copies on every queue; 0 or the failing step. */
static int copy_worker(const struct lpu_card *card, unsigned int rounds)
{
	struct tbo h, s, h2;
	unsigned int i;
	int32_t st;
	int fd = open_card(card);

	if (fd < 0)
		return 1;
	if (tbo_new(fd, DRM_LPU_BO_HOST, SZ, true, &h) ||
	    tbo_new(fd, DRM_LPU_BO_SRAM, SZ, false, &s) ||
	    tbo_new(fd, DRM_LPU_BO_HOST, SZ, true, &h2))
		return 2;
	for (i = 0; i < rounds; i++) {
		fill_pattern(h.map, SZ, 1000 + i);
		if (copy_sync(fd, i % 4, s.handle, 0, h.handle, 0, SZ, &st) || st)
			return 3;
		if (copy_sync(fd, (i + 1) % 4, h2.handle, 0, s.handle, 0, SZ,
			      &st) || st)
			return 4;
		if (first_diff(h2.map, h.map, SZ) != SZ)
			return 5;
	}
	close(fd);
	return 0;
}

TEST_F_TIMEOUT(lpu, faults_while_another_process_copies, 180)
{
	struct drm_lpu_copy bad;
	struct job_result r;
	struct tbo a, b;
	unsigned int i, faults = 0;
	uint64_t seq;
	int wstatus;
	pid_t pid;

	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, SZ, false, &a));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, SZ, false, &b));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(copy_worker(&self->card, 100));
	/* Fault on every queue, over and over, while the child copies. */
	for (i = 0; i < 100; i++) {
		bad = copy_desc(b.handle, dev_addr(self->fd, b.handle) + SZ - 1,
				a.handle, dev_addr(self->fd, a.handle), 2);
		bad.flags = DRM_LPU_COPY_DEVICE_ADDRESSES;
		ASSERT_EQ(0, submit_copies(self->fd, i % 4, &bad, 1, 0, 0, &seq));
		ASSERT_EQ(0, wait_result(self->fd, seq, COPY_WAIT_MS, &r));
		EXPECT_EQ(-EFAULT, r.status);
		EXPECT_EQ(dev_addr(self->fd, b.handle) + SZ, r.fault_addr);
		EXPECT_EQ(DRM_LPU_FAULT_OUT_OF_BOUNDS | DRM_LPU_FAULT_WRITE,
			  r.fault_kind);
		faults += r.status == -EFAULT;
	}
	ASSERT_EQ(pid, waitpid(pid, &wstatus, 0));
	ASSERT_TRUE(WIFEXITED(wstatus));
	EXPECT_EQ(0, WEXITSTATUS(wstatus)) TH_LOG("worker failed at step %d",
						  WEXITSTATUS(wstatus));
	EXPECT_EQ(100, faults);
	tbo_free(self->fd, &a);
	tbo_free(self->fd, &b);
}

TEST_F(lpu, another_files_buffers_are_out_of_reach)
{
	struct tbo mine, theirs, dummy, their2, out;
	struct drm_lpu_bo_info info;
	struct job_result r;
	void *p;
	int fd2;

	fd2 = open_card(&self->card);
	ASSERT_LE(0, fd2);
	/* Fresh files: both first handles get the same number (GEM: 1). */
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, SZ, true, &theirs));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, SZ, false, &dummy));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, SZ, true, &their2));
	ASSERT_EQ(0, tbo_new(fd2, DRM_LPU_BO_SRAM, SZ, true, &mine));
	ASSERT_EQ(theirs.handle, mine.handle);
	memset(theirs.map, 0xaa, SZ);
	memset(their2.map, 0xbb, SZ);
	memset(mine.map, 0x11, SZ);

	/* fd2's handle 1 is its own buffer, in both modes. */
	ASSERT_EQ(0, tbo_new(fd2, DRM_LPU_BO_HOST, SZ, true, &out));
	ASSERT_EQ(0, copy_sync(fd2, 0, out.handle, 0, mine.handle, 0, SZ,
			       &r.status));
	EXPECT_EQ(0, r.status);
	EXPECT_EQ(0x11, out.map[0]);
	EXPECT_EQ(0x11, out.map[SZ - 1]);
	/* fd2 has no buffer with the other file's third handle. */
	ASSERT_NE(their2.handle, out.handle);
	ASSERT_NE(their2.handle, mine.handle);
	EXPECT_EQ(-EINVAL, copy_sync(fd2, 0, out.handle, 0, their2.handle, 0,
				     16, &r.status));
	EXPECT_EQ(-ENOENT, bo_info(fd2, their2.handle, &info));
	/* Its device address, used from fd2, is in no fd2 window... */
	ASSERT_EQ(0, dev_copy(fd2, 0, out.handle, dev_addr(fd2, out.handle),
			      mine.handle,
			      dev_addr(self->fd, their2.handle), 16, &r));
	EXPECT_EQ(-EFAULT, r.status);
	EXPECT_EQ(dev_addr(self->fd, their2.handle), r.fault_addr);
	EXPECT_EQ(DRM_LPU_FAULT_NOT_MAPPED, r.fault_kind);
	EXPECT_EQ(0x11, out.map[0]);

	/* ...and its mmap offset maps nothing through fd2. */
	ASSERT_EQ(0, bo_info(self->fd, their2.handle, &info));
	p = mmap(NULL, SZ, PROT_READ, MAP_SHARED, fd2, (off_t)info.mmap_offset);
	EXPECT_EQ(MAP_FAILED, p) TH_LOG("fd2 mapped another file's buffer");
	if (p != MAP_FAILED)
		munmap(p, SZ);
	/* The owner's data is untouched. */
	EXPECT_EQ(0xaa, theirs.map[SZ / 2]);
	EXPECT_EQ(0xbb, their2.map[SZ / 2]);
	tbo_free(fd2, &mine);
	tbo_free(fd2, &out);
	tbo_free(self->fd, &theirs);
	tbo_free(self->fd, &dummy);
	tbo_free(self->fd, &their2);
	close(fd2);
}

/* ---- scrubbing -------------------------------------------------------- */

TEST_F_TIMEOUT(lpu, freed_sram_is_zero_when_reused_at_once, 120)
{
	const uint64_t sizes[] = { 4 * KiB, 8 * KiB, 64 * KiB, 256 * KiB, MiB };
	unsigned int i;
	struct tbo b;
	size_t nz;

	for (i = 0; i < 200; i++) {
		uint64_t sz = sizes[i % ARRAY_SIZE(sizes)];

		ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, sz, true, &b));
		nz = first_nonzero(b.map, sz);
		ASSERT_EQ(sz, nz) TH_LOG("round %u: byte %zu of %llu is %#x",
					 i, nz, (unsigned long long)sz,
					 b.map[nz < sz ? nz : 0]);
		/* Leave data behind for the next round to find. */
		memset(b.map, 0xc3, sz);
		tbo_free(self->fd, &b);
	}
}

/* A mapped SRAM buffer of *@sz, or of one page once *@sz no longer fits. */
static int sram_new_or_page(int fd, uint64_t *sz, struct tbo *bo)
{
	int ret = tbo_new(fd, DRM_LPU_BO_SRAM, *sz, true, bo);

	if (ret == -ENOSPC && *sz > 4 * KiB) {
		*sz = 4 * KiB;
		ret = tbo_new(fd, DRM_LPU_BO_SRAM, *sz, true, bo);
	}
	return ret;
}

/*
 * Fill all free SRAM with data (half written by the CPU, half by the DMA
 * engine), free it, then take all of it again in other sizes: every range
 * is reused, and every byte must read zero.
 */
static void scrub_round(struct __test_metadata *_metadata, int fd,
			const struct lpu_card *card, const uint64_t *sizes,
			unsigned int nsizes, unsigned int seed)
{
	unsigned int max = 4096, n = 0, i;
	struct tbo *b = calloc(max, sizeof(*b));
	struct tbo src, probe;
	uint64_t used0, used, total;
	int32_t st;
	int ret = 0;
	size_t nz;

	ASSERT_NE(NULL, b);
	ASSERT_EQ(0, sram_attr(card, "sram_used_bytes", &used0));
	ASSERT_EQ(0, tbo_new(fd, DRM_LPU_BO_HOST, MiB, true, &src));
	ASSERT_EQ(0, tbo_new(fd, DRM_LPU_BO_HOST, MiB, true, &probe));
	fill_pattern(src.map, MiB, seed);
	for (n = 0; n < max; n++) {
		uint64_t sz = sizes[(n + seed) % nsizes];

		ret = sram_new_or_page(fd, &sz, &b[n]);
		if (ret)
			break;
		if (n % 2) {
			memset(b[n].map, 0xff - n % 200, sz);
		} else {
			for (i = 0; i < sz / MiB + 1; i++) {
				uint64_t len = sz - i * MiB > MiB ? MiB :
					       sz - i * MiB;

				if (!len)
					break;
				ASSERT_EQ(0, copy_sync(fd, n % 4, b[n].handle,
						       i * MiB, src.handle, 0,
						       len, &st));
				ASSERT_EQ(0, st);
			}
		}
	}
	ASSERT_EQ(-ENOSPC, ret);
	/* All of it: not even 4 KiB is left. */
	ASSERT_EQ(0, sram_attr(card, "sram_used_bytes", &used));
	ASSERT_EQ(0, sram_attr(card, "sram_total_bytes", &total));
	EXPECT_GT(used + 4 * KiB, total);
	for (i = 0; i < n; i++)
		tbo_free(fd, &b[i]);
	ASSERT_EQ(0, wait_sram_used(card, used0, 10000, &used));

	/* Take it all back in a different order of sizes. */
	for (n = 0; n < max; n++) {
		uint64_t sz = sizes[(n * 7 + seed + 1) % nsizes];

		ret = sram_new_or_page(fd, &sz, &b[n]);
		if (ret)
			break;
		nz = first_nonzero(b[n].map, sz);
		ASSERT_EQ(sz, nz) TH_LOG("buffer %u (%llu bytes): byte %zu is %#x",
					 n, (unsigned long long)sz, nz,
					 b[n].map[nz < sz ? nz : 0]);
		/* The device's view too, not only the CPU's. */
		if (n % 16 == 0) {
			uint64_t len = sz < MiB ? sz : MiB;

			memset(probe.map, 0x99, len);
			ASSERT_EQ(0, copy_sync(fd, 0, probe.handle, 0,
					       b[n].handle, 0, len, &st));
			ASSERT_EQ(0, st);
			ASSERT_EQ(len, first_nonzero(probe.map, len));
		}
	}
	ASSERT_EQ(-ENOSPC, ret);
	for (i = 0; i < n; i++)
		tbo_free(fd, &b[i]);
	tbo_free(fd, &src);
	tbo_free(fd, &probe);
	free(b);
}

TEST_F_TIMEOUT(lpu, scrubbing_all_of_sram_leaks_nothing, 600)
{
	const uint64_t a[] = { 4 * KiB, 12 * KiB, 64 * KiB, MiB, 4 * MiB };
	const uint64_t b[] = { 8 * MiB, 20 * KiB, 3 * MiB, 256 * KiB };

	scrub_round(_metadata, self->fd, &self->card, a, ARRAY_SIZE(a), 1);
	scrub_round(_metadata, self->fd, &self->card, b, ARRAY_SIZE(b), 2);
}

TEST_F(lpu, new_host_buffers_read_zero_through_the_device)
{
	struct tbo h, s;
	unsigned int i;
	int32_t st;

	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, MiB, false, &h));
		ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, MiB, true, &s));
		memset(s.map, 0x6b, MiB);
		ASSERT_EQ(0, copy_sync(self->fd, i % 4, s.handle, 0, h.handle, 0,
				       MiB, &st));
		ASSERT_EQ(0, st);
		EXPECT_EQ(MiB, first_nonzero(s.map, MiB)) TH_LOG("round %u", i);
		tbo_free(self->fd, &s);
		/* Dirty host pages the next buffer might be given. */
		ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, MiB, true, &s));
		memset(s.map, 0x6c, MiB);
		tbo_free(self->fd, &s);
		tbo_free(self->fd, &h);
	}
}

TEST_F(lpu, kernel_not_tainted)
{
	expect_not_tainted(_metadata);
}

TEST_HARNESS_MAIN
