// SPDX-License-Identifier: GPL-2.0
/*
 * LPU buffer object tests: BO_CREATE / BO_INFO / GEM close rules and their
 * errno, SRAM exhaustion and fragmentation, alloc/free cycles without a
 * leak, mmap in both domains, and the SRAM accounting in sysfs and fdinfo.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <xf86drm.h>

#include "lpu_fixture.h"
#include "lpu_mem.h"

static const uint32_t domains[] = { DRM_LPU_BO_SRAM, DRM_LPU_BO_HOST };

/* ---- BO_CREATE, BO_INFO and GEM close -------------------------------- */

TEST_F(lpu, bo_create_bad_size_is_einval)
{
	const uint64_t bad[] = {
		0, 1, 4095, 4097, DRM_LPU_BO_ALIGN + 512, 3 * MiB + 8,
		DRM_LPU_BO_MAX_SIZE + DRM_LPU_BO_ALIGN, 2 * DRM_LPU_BO_MAX_SIZE,
		1ULL << 63, UINT64_MAX, UINT64_MAX - 4095,
	};
	struct sysinfo si;
	unsigned int d, i;
	uint32_t h;

	for (d = 0; d < ARRAY_SIZE(domains); d++) {
		for (i = 0; i < ARRAY_SIZE(bad); i++) {
			EXPECT_EQ(-EINVAL, bo_create(self->fd, domains[d],
						     bad[i], &h))
				TH_LOG("domain %u size %#llx accepted",
				       domains[d], (unsigned long long)bad[i]);
		}
	}
	/*
	 * SRAM buffers can never be larger than the SRAM, nor reach into
	 * what the firmware reserves at its top.
	 */
	if (self->info.sram_size < DRM_LPU_BO_MAX_SIZE) {
		EXPECT_EQ(-EINVAL, bo_create(self->fd, DRM_LPU_BO_SRAM,
					     self->info.sram_size +
					     DRM_LPU_BO_ALIGN, &h));
		EXPECT_EQ(-EINVAL, bo_create(self->fd, DRM_LPU_BO_SRAM,
					     sram_usable(&self->info) +
					     DRM_LPU_BO_ALIGN, &h));
	}
	/* Large host buffers are fine: their memory is not touched yet. */
	ASSERT_EQ(0, bo_create(self->fd, DRM_LPU_BO_HOST, 256 * MiB, &h));
	EXPECT_EQ(0, bo_close(self->fd, h));
	ASSERT_EQ(0, bo_create(self->fd, DRM_LPU_BO_SRAM, DRM_LPU_BO_ALIGN, &h));
	EXPECT_EQ(0, bo_close(self->fd, h));
	/* A valid size that the machine's RAM cannot hold is -ENOMEM. */
	ASSERT_EQ(0, sysinfo(&si));
	if ((uint64_t)si.totalram * si.mem_unit < DRM_LPU_BO_MAX_SIZE)
		EXPECT_EQ(-ENOMEM, bo_create(self->fd, DRM_LPU_BO_HOST,
					     DRM_LPU_BO_MAX_SIZE, &h));
}

TEST_F(lpu, bo_create_unknown_domain_flags_pad_is_einval)
{
	struct drm_lpu_bo_create req = { .size = 4096 };
	const uint32_t bad_domains[] = { 0, 3, 4, 0x100, UINT32_MAX };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad_domains); i++) {
		req.domain = bad_domains[i];
		EXPECT_EQ(-EINVAL, raw_ioctl(self->fd, DRM_IOCTL_LPU_BO_CREATE,
					     &req))
			TH_LOG("domain %u accepted", bad_domains[i]);
	}
	for (i = 0; i < 32; i++) {
		memset(&req, 0, sizeof(req));
		req.size = 4096;
		req.domain = DRM_LPU_BO_HOST;
		req.flags = 1U << i;
		EXPECT_EQ(-EINVAL, raw_ioctl(self->fd, DRM_IOCTL_LPU_BO_CREATE,
					     &req)) TH_LOG("flag bit %u", i);
	}
	memset(&req, 0, sizeof(req));
	req.size = 4096;
	req.domain = DRM_LPU_BO_SRAM;
	req.pad = 1;
	EXPECT_EQ(-EINVAL, raw_ioctl(self->fd, DRM_IOCTL_LPU_BO_CREATE, &req));
	/* The same request without the bad field works. */
	req.pad = 0;
	EXPECT_EQ(0, raw_ioctl(self->fd, DRM_IOCTL_LPU_BO_CREATE, &req));
	EXPECT_NE(0, req.handle);
}

TEST_F(lpu, bo_info_describes_the_buffer)
{
	struct drm_lpu_bo_info a, b, c;
	uint32_t ha, hb, hc;

	ASSERT_EQ(0, bo_create(self->fd, DRM_LPU_BO_SRAM, 64 * KiB, &ha));
	ASSERT_EQ(0, bo_create(self->fd, DRM_LPU_BO_HOST, 12 * KiB, &hb));
	ASSERT_EQ(0, bo_create(self->fd, DRM_LPU_BO_SRAM, 4 * KiB, &hc));
	EXPECT_NE(ha, hb);
	ASSERT_EQ(0, bo_info(self->fd, ha, &a));
	ASSERT_EQ(0, bo_info(self->fd, hb, &b));
	ASSERT_EQ(0, bo_info(self->fd, hc, &c));
	EXPECT_EQ(64 * KiB, a.size);
	EXPECT_EQ(12 * KiB, b.size);
	EXPECT_EQ(DRM_LPU_BO_SRAM, a.domain);
	EXPECT_EQ(DRM_LPU_BO_HOST, b.domain);
	/* The design's address space: handle << 32, one window each. */
	EXPECT_EQ((uint64_t)ha << 32, a.device_addr);
	EXPECT_EQ((uint64_t)hb << 32, b.device_addr);
	EXPECT_EQ((uint64_t)hc << 32, c.device_addr);
	/* mmap offsets: page aligned, non-zero, distinct. */
	EXPECT_EQ(0, a.mmap_offset % 4096);
	EXPECT_EQ(0, b.mmap_offset % 4096);
	EXPECT_NE(0, a.mmap_offset);
	EXPECT_NE(a.mmap_offset, b.mmap_offset);
	EXPECT_NE(a.mmap_offset, c.mmap_offset);
	EXPECT_EQ(0, a.flags);
	EXPECT_EQ(0, a.pad);
	/* Stable for the life of the handle. */
	ASSERT_EQ(0, bo_info(self->fd, ha, &b));
	EXPECT_EQ(a.mmap_offset, b.mmap_offset);
	EXPECT_EQ(a.device_addr, b.device_addr);
}

TEST_F(lpu, bo_info_bad_handle_flags_pad)
{
	struct drm_lpu_bo_info info;
	uint32_t h;

	EXPECT_EQ(-ENOENT, bo_info(self->fd, 0, &info));
	EXPECT_EQ(-ENOENT, bo_info(self->fd, 1, &info));
	EXPECT_EQ(-ENOENT, bo_info(self->fd, UINT32_MAX, &info));
	ASSERT_EQ(0, bo_create(self->fd, DRM_LPU_BO_HOST, 4096, &h));
	EXPECT_EQ(-ENOENT, bo_info(self->fd, h + 1, &info));
	memset(&info, 0, sizeof(info));
	info.handle = h;
	info.flags = 1;
	EXPECT_EQ(-EINVAL, raw_ioctl(self->fd, DRM_IOCTL_LPU_BO_INFO, &info));
	memset(&info, 0, sizeof(info));
	info.handle = h;
	info.pad = 1;
	EXPECT_EQ(-EINVAL, raw_ioctl(self->fd, DRM_IOCTL_LPU_BO_INFO, &info));
	/* Closed handles are gone. */
	ASSERT_EQ(0, bo_close(self->fd, h));
	EXPECT_EQ(-ENOENT, bo_info(self->fd, h, &info));
}

TEST_F(lpu, gem_close_unknown_or_twice_is_einval)
{
	uint32_t h;

	EXPECT_EQ(-EINVAL, bo_close(self->fd, 0));
	EXPECT_EQ(-EINVAL, bo_close(self->fd, 77));
	ASSERT_EQ(0, bo_create(self->fd, DRM_LPU_BO_SRAM, 4096, &h));
	EXPECT_EQ(0, bo_close(self->fd, h));
	EXPECT_EQ(-EINVAL, bo_close(self->fd, h));
}

TEST_F(lpu, new_buffers_read_zero_through_mmap)
{
	uint64_t sizes[] = { 4 * KiB, 64 * KiB, 1 * MiB };
	unsigned int d, i;
	struct tbo bo;

	for (d = 0; d < ARRAY_SIZE(domains); d++) {
		for (i = 0; i < ARRAY_SIZE(sizes); i++) {
			ASSERT_EQ(0, tbo_new(self->fd, domains[d], sizes[i],
					     true, &bo));
			EXPECT_EQ(sizes[i], first_nonzero(bo.map, sizes[i]))
				TH_LOG("domain %u size %llu", domains[d],
				       (unsigned long long)sizes[i]);
			/* Dirty it for the next allocation to inherit. */
			memset(bo.map, 0xa5, sizes[i]);
			tbo_free(self->fd, &bo);
		}
	}
}

/* ---- SRAM exhaustion and fragmentation ------------------------------- */

/* Allocate @size SRAM buffers until -ENOSPC; count them in *n. */
static int fill_sram(int fd, uint64_t size, uint32_t *handles,
		     unsigned int max, unsigned int *n)
{
	int ret;

	for (*n = 0; *n < max; (*n)++) {
		ret = bo_create(fd, DRM_LPU_BO_SRAM, size, &handles[*n]);
		if (ret)
			return ret;
	}
	return 0;
}

TEST_F_TIMEOUT(lpu, sram_enospc_then_free_and_allocate_again, 120)
{
	const uint64_t chunk = 4 * MiB;
	const uint64_t usable = sram_usable(&self->info);
	unsigned int max = usable / chunk + 2, n, n2, i;
	uint32_t *h = calloc(max, sizeof(*h));
	uint64_t used0, used;
	uint32_t extra;

	ASSERT_NE(NULL, h);
	ASSERT_EQ(0, sram_attr(&self->card, "sram_used_bytes", &used0));
	EXPECT_EQ(-ENOSPC, fill_sram(self->fd, chunk, h, max, &n));
	/* Everything not used by others was handed out. */
	EXPECT_LE((usable - used0) / chunk - 1, n);
	EXPECT_GE((usable - used0) / chunk, n);
	ASSERT_EQ(0, sram_attr(&self->card, "sram_used_bytes", &used));
	EXPECT_EQ(used0 + n * chunk, used);
	/* A small request fails too when not even 4 KiB is left. */
	if (used == usable)
		EXPECT_EQ(-ENOSPC, bo_create(self->fd, DRM_LPU_BO_SRAM, 4096,
					     &extra));
	/* Host memory is a different pool: still available. */
	ASSERT_EQ(0, bo_create(self->fd, DRM_LPU_BO_HOST, chunk, &extra));
	EXPECT_EQ(0, bo_close(self->fd, extra));

	for (i = 0; i < n; i++)
		ASSERT_EQ(0, bo_close(self->fd, h[i]));
	EXPECT_EQ(0, wait_sram_used(&self->card, used0, 5000, &used))
		TH_LOG("used %llu, was %llu", (unsigned long long)used,
		       (unsigned long long)used0);
	/* The same amount fits again. */
	EXPECT_EQ(-ENOSPC, fill_sram(self->fd, chunk, h, max, &n2));
	EXPECT_EQ(n, n2);
	for (i = 0; i < n2; i++)
		ASSERT_EQ(0, bo_close(self->fd, h[i]));
	free(h);
}

TEST_F_TIMEOUT(lpu, sram_fragmentation_mixed_sizes, 120)
{
	/* Pieces of 1 MiB and 3 MiB alternating fill the SRAM. */
	unsigned int max = self->info.sram_size / MiB + 2, n = 0, i, holes;
	uint32_t *h = calloc(max, sizeof(*h)), big;
	uint64_t *sz = calloc(max, sizeof(*sz)), used0, used, left;
	int ret = 0;

	ASSERT_NE(NULL, h);
	ASSERT_NE(NULL, sz);
	ASSERT_EQ(0, sram_attr(&self->card, "sram_used_bytes", &used0));
	for (n = 0; n < max; n++) {
		sz[n] = n % 2 ? 3 * MiB : 1 * MiB;
		ret = bo_create(self->fd, DRM_LPU_BO_SRAM, sz[n], &h[n]);
		if (ret == -ENOSPC && sz[n] > MiB) {
			/* 3 MiB no longer fits: top up with 1 MiB pieces. */
			sz[n] = MiB;
			ret = bo_create(self->fd, DRM_LPU_BO_SRAM, sz[n], &h[n]);
		}
		if (ret)
			break;
	}
	ASSERT_EQ(-ENOSPC, ret);
	ASSERT_EQ(0, sram_attr(&self->card, "sram_used_bytes", &used));
	ASSERT_GT(MiB, sram_usable(&self->info) - used);

	/*
	 * Free every other 1 MiB piece (indices 0, 4, 8, ...): lots of free
	 * SRAM, but each hole is walled in by 3 + 1 + 3 MiB still in use.
	 * (Pieces of a fresh allocator are handed out in address order.)
	 */
	for (i = 0, holes = 0; i + 3 < n; i += 4) {
		if (sz[i] != MiB || sz[i + 1] != 3 * MiB)
			break;
		ASSERT_EQ(0, bo_close(self->fd, h[i]));
		h[i] = 0;
		holes++;
	}
	ASSERT_LE(4, holes);
	ASSERT_EQ(0, wait_sram_used(&self->card, used - holes * MiB, 5000,
				    &left));
	EXPECT_EQ(-ENOSPC, bo_create(self->fd, DRM_LPU_BO_SRAM, 2 * MiB, &big))
		TH_LOG("a 2 MiB buffer out of 1 MiB holes");
	/* Every hole takes a 1 MiB buffer again. */
	for (i = 0; i < n; i++) {
		if (h[i])
			continue;
		ASSERT_EQ(0, bo_create(self->fd, DRM_LPU_BO_SRAM, MiB, &h[i]))
			TH_LOG("hole %u of %u", i, n);
	}
	ASSERT_EQ(0, sram_attr(&self->card, "sram_used_bytes", &left));
	EXPECT_EQ(used, left);

	/* Freeing pieces 1, 2, 3 (3 + 1 + 3 MiB) merges them: 7 MiB. */
	EXPECT_EQ(-ENOSPC, bo_create(self->fd, DRM_LPU_BO_SRAM, 7 * MiB, &big));
	ASSERT_EQ(3 * MiB, sz[1]);
	ASSERT_EQ(MiB, sz[2]);
	ASSERT_EQ(3 * MiB, sz[3]);
	for (i = 1; i <= 3; i++) {
		ASSERT_EQ(0, bo_close(self->fd, h[i]));
		h[i] = 0;
	}
	ASSERT_EQ(0, wait_sram_used(&self->card, used - 7 * MiB, 5000, &left));
	EXPECT_EQ(0, bo_create(self->fd, DRM_LPU_BO_SRAM, 7 * MiB, &big))
		TH_LOG("adjacent free ranges were not merged");

	for (i = 0; i < n; i++)
		if (h[i])
			ASSERT_EQ(0, bo_close(self->fd, h[i]));
	ASSERT_EQ(0, bo_close(self->fd, big));
	EXPECT_EQ(0, wait_sram_used(&self->card, used0, 5000, &used));
	free(h);
	free(sz);
}

/* ---- no leak over many cycles ---------------------------------------- */

static void alloc_free_cycles(struct __test_metadata *_metadata,
			      const struct lpu_card *card, int fd,
			      uint32_t domain)
{
	const uint64_t sizes[] = { 4 * KiB, 8 * KiB, 64 * KiB, 1 * MiB };
	const unsigned int cycles = 10000;
	char key[32];
	uint64_t used0, used, total0, total;
	unsigned int i;
	uint32_t h;

	snprintf(key, sizeof(key), "drm-total-%s",
		 domain == DRM_LPU_BO_SRAM ? "sram" : "host");
	ASSERT_EQ(0, sram_attr(card, "sram_used_bytes", &used0));
	ASSERT_EQ(0, fdinfo_bytes(fd, key, &total0));
	for (i = 0; i < cycles; i++) {
		ASSERT_EQ(0, bo_create(fd, domain, sizes[i % 4], &h))
			TH_LOG("cycle %u", i);
		/* Touch it through the kernel, so it is not a no-op. */
		if (i % 1000 == 0) {
			struct drm_lpu_bo_info info;

			ASSERT_EQ(0, bo_info(fd, h, &info));
			ASSERT_EQ(sizes[i % 4], info.size);
		}
		ASSERT_EQ(0, bo_close(fd, h)) TH_LOG("cycle %u", i);
	}
	EXPECT_EQ(0, wait_sram_used(card, used0, 5000, &used));
	ASSERT_EQ(0, fdinfo_bytes(fd, key, &total));
	EXPECT_EQ(total0, total);
	/* Handles are not exhausted or leaked either: one more works. */
	ASSERT_EQ(0, bo_create(fd, domain, 4096, &h));
	EXPECT_EQ(0, bo_close(fd, h));
}

TEST_F_TIMEOUT(lpu, sram_10000_alloc_free_cycles_no_leak, 300)
{
	alloc_free_cycles(_metadata, &self->card, self->fd, DRM_LPU_BO_SRAM);
}

TEST_F_TIMEOUT(lpu, host_10000_alloc_free_cycles_no_leak, 300)
{
	alloc_free_cycles(_metadata, &self->card, self->fd, DRM_LPU_BO_HOST);
}

/* ---- mmap ------------------------------------------------------------- */

static void mmap_patterns(struct __test_metadata *_metadata, int fd,
			  uint32_t domain)
{
	const uint64_t size = 256 * KiB;
	uint8_t *want = malloc(size);
	struct tbo bo;
	uint32_t *w;
	size_t i;

	ASSERT_NE(NULL, want);
	ASSERT_EQ(0, tbo_new(fd, domain, size, true, &bo));
	/* Bytes, unaligned words and a random pattern. */
	for (i = 0; i < size; i++)
		bo.map[i] = (uint8_t)(i * 7 + 3);
	for (i = 0; i < size; i++)
		ASSERT_EQ((uint8_t)(i * 7 + 3), bo.map[i]) TH_LOG("byte %zu", i);
	memset(bo.map, 0xff, size);
	EXPECT_EQ(size, first_diff(bo.map, memset(want, 0xff, size), size));
	w = (uint32_t *)(bo.map + 4096);
	for (i = 0; i < 1024; i++)
		w[i] = 0xdead0000 | i;
	for (i = 0; i < 1024; i++)
		ASSERT_EQ(0xdead0000 | i, w[i]);
	fill_pattern(want, size, domain);
	memcpy(bo.map, want, size);
	EXPECT_EQ(size, first_diff(bo.map, want, size));

	/* A second mapping of the same buffer sees the same bytes. */
	{
		uint8_t *again = bo_mmap(fd, bo.handle, size);

		ASSERT_NE(NULL, again);
		EXPECT_NE(bo.map, again);
		EXPECT_EQ(size, first_diff(again, want, size));
		again[size - 1] ^= 0xff;
		EXPECT_EQ(want[size - 1] ^ 0xff, bo.map[size - 1]);
		munmap(again, size);
	}
	tbo_free(fd, &bo);
	free(want);
}

TEST_F(lpu, mmap_sram_write_and_read_back)
{
	mmap_patterns(_metadata, self->fd, DRM_LPU_BO_SRAM);
}

TEST_F(lpu, mmap_host_write_and_read_back)
{
	mmap_patterns(_metadata, self->fd, DRM_LPU_BO_HOST);
}

TEST_F(lpu, mmap_outside_the_buffer_fails)
{
	struct drm_lpu_bo_info info;
	unsigned int d;
	uint32_t h;
	void *p;

	for (d = 0; d < ARRAY_SIZE(domains); d++) {
		ASSERT_EQ(0, bo_create(self->fd, domains[d], 8192, &h));
		ASSERT_EQ(0, bo_info(self->fd, h, &info));
		/* Larger than the buffer. */
		p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->fd, (off_t)info.mmap_offset);
		EXPECT_EQ(MAP_FAILED, p) TH_LOG("domain %u", domains[d]);
		if (p != MAP_FAILED)
			munmap(p, 3 * 4096);
		/* An offset that is no buffer's. */
		p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->fd,
			 (off_t)info.mmap_offset + (1ULL << 40));
		EXPECT_EQ(MAP_FAILED, p);
		/* A private (copy-on-write) mapping is refused. */
		p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE,
			 self->fd, (off_t)info.mmap_offset);
		EXPECT_EQ(MAP_FAILED, p);
		if (p != MAP_FAILED)
			munmap(p, 8192);
		EXPECT_EQ(0, bo_close(self->fd, h));
		/* The closed buffer's offset maps nothing any more. */
		p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->fd,
			 (off_t)info.mmap_offset);
		EXPECT_EQ(MAP_FAILED, p);
	}
}

TEST_F(lpu, munmap_after_close_keeps_the_memory)
{
	const uint64_t size = 1 * MiB;
	uint64_t used0, used;
	unsigned int d;
	struct tbo bo;
	uint8_t *want = malloc(size);

	ASSERT_NE(NULL, want);
	for (d = 0; d < ARRAY_SIZE(domains); d++) {
		ASSERT_EQ(0, sram_attr(&self->card, "sram_used_bytes", &used0));
		ASSERT_EQ(0, tbo_new(self->fd, domains[d], size, true, &bo));
		fill_pattern(want, size, 40 + d);
		memcpy(bo.map, want, size);
		/* Close the handle: the mapping keeps the buffer. */
		ASSERT_EQ(0, bo_close(self->fd, bo.handle));
		bo.handle = 0;
		EXPECT_EQ(size, first_diff(bo.map, want, size));
		bo.map[17] = 0x42;
		EXPECT_EQ(0x42, bo.map[17]);
		if (domains[d] == DRM_LPU_BO_SRAM) {
			ASSERT_EQ(0, sram_attr(&self->card, "sram_used_bytes",
					       &used));
			EXPECT_EQ(used0 + size, used)
				TH_LOG("SRAM released while still mapped");
		}
		/* The last reference goes with the mapping. */
		EXPECT_EQ(0, munmap(bo.map, size));
		bo.map = NULL;
		EXPECT_EQ(0, wait_sram_used(&self->card, used0, 5000, &used));
	}
	free(want);
}

/* ---- accounting: sysfs and fdinfo ------------------------------------ */

TEST_F(lpu, sysfs_sram_used_and_total)
{
	uint64_t total, used0, used;
	uint32_t a, b, c;

	ASSERT_EQ(0, sram_attr(&self->card, "sram_total_bytes", &total));
	/* The firmware's reserved top is never the driver's to hand out. */
	EXPECT_EQ(sram_usable(&self->info), total);
	ASSERT_EQ(0, sram_attr(&self->card, "sram_used_bytes", &used0));
	EXPECT_GE(total, used0);
	ASSERT_EQ(0, bo_create(self->fd, DRM_LPU_BO_SRAM, 1 * MiB, &a));
	ASSERT_EQ(0, bo_create(self->fd, DRM_LPU_BO_SRAM, 12 * KiB, &b));
	/* Host buffers do not count. */
	ASSERT_EQ(0, bo_create(self->fd, DRM_LPU_BO_HOST, 4 * MiB, &c));
	ASSERT_EQ(0, sram_attr(&self->card, "sram_used_bytes", &used));
	EXPECT_EQ(used0 + MiB + 12 * KiB, used);
	ASSERT_EQ(0, bo_close(self->fd, a));
	EXPECT_EQ(0, wait_sram_used(&self->card, used0 + 12 * KiB, 5000,
				    &used));
	ASSERT_EQ(0, bo_close(self->fd, b));
	ASSERT_EQ(0, bo_close(self->fd, c));
	EXPECT_EQ(0, wait_sram_used(&self->card, used0, 5000, &used));
}

TEST_F(lpu, fdinfo_memory_keys)
{
	uint64_t ts, rs, th, rh, v;
	char text[128], pdev[64];
	struct tbo s, h;
	int fd2;

	ASSERT_EQ(0, fdinfo_str(self->fd, "drm-driver", text, sizeof(text)));
	EXPECT_STREQ("lpu", text);
	ASSERT_EQ(0, fdinfo_str(self->fd, "drm-pdev", pdev, sizeof(pdev)));
	EXPECT_STREQ(self->card.pci_addr, pdev);
	ASSERT_EQ(0, fdinfo_str(self->fd, "drm-client-id", text, sizeof(text)));

	/* A fresh file owns nothing. */
	ASSERT_EQ(0, fdinfo_bytes(self->fd, "drm-total-sram", &ts));
	ASSERT_EQ(0, fdinfo_bytes(self->fd, "drm-total-host", &th));
	EXPECT_EQ(0, ts);
	EXPECT_EQ(0, th);

	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, 2 * MiB, false, &s));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, 3 * MiB, true, &h));
	ASSERT_EQ(0, fdinfo_bytes(self->fd, "drm-total-sram", &ts));
	ASSERT_EQ(0, fdinfo_bytes(self->fd, "drm-resident-sram", &rs));
	EXPECT_EQ(2 * MiB, ts);
	/* SRAM is always resident. */
	EXPECT_EQ(2 * MiB, rs);
	ASSERT_EQ(0, fdinfo_bytes(self->fd, "drm-total-host", &th));
	EXPECT_EQ(3 * MiB, th);
	/* Touch every host page: then all of it is resident. */
	memset(h.map, 1, h.size);
	ASSERT_EQ(0, fdinfo_bytes(self->fd, "drm-resident-host", &rh));
	EXPECT_GE(th, rh);
	EXPECT_EQ(3 * MiB, rh);

	/* Another file's buffers are not counted here, nor ours there. */
	fd2 = open_card(&self->card);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, fdinfo_bytes(fd2, "drm-total-sram", &v));
	EXPECT_EQ(0, v);
	ASSERT_EQ(0, fdinfo_str(fd2, "drm-client-id", pdev, sizeof(pdev)));
	EXPECT_STRNE(text, pdev);
	close(fd2);

	tbo_free(self->fd, &s);
	tbo_free(self->fd, &h);
	ASSERT_EQ(0, fdinfo_bytes(self->fd, "drm-total-sram", &ts));
	ASSERT_EQ(0, fdinfo_bytes(self->fd, "drm-total-host", &th));
	EXPECT_EQ(0, ts);
	EXPECT_EQ(0, th);
}

/* ---- the runtime API ------------------------------------------------- */

TEST_F(lpu, liblpu_bo_alloc_map_free)
{
	struct lpu_device *dev;
	struct drm_lpu_bo_info info;
	struct lpu_bo *bo, *bo2;
	uint64_t used0, used;
	void *p, *q;

	ASSERT_EQ(0, lpu_open_path(self->card.dev_path, &dev));
	ASSERT_EQ(0, sram_attr(&self->card, "sram_used_bytes", &used0));
	/* Rounded up to the 4 KiB granule. */
	ASSERT_EQ(0, lpu_bo_alloc(dev, LPU_BO_SRAM, 5000, 0, &bo));
	EXPECT_EQ(8192, lpu_bo_size(bo));
	EXPECT_EQ(LPU_BO_SRAM, lpu_bo_domain(bo));
	ASSERT_EQ(0, bo_info(lpu_fd(dev), lpu_bo_handle(bo), &info));
	EXPECT_EQ(info.device_addr, lpu_bo_device_address(bo));
	ASSERT_EQ(0, sram_attr(&self->card, "sram_used_bytes", &used));
	EXPECT_EQ(used0 + 8192, used);

	ASSERT_EQ(0, lpu_bo_map(bo, &p));
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, lpu_bo_map(bo, &q));
	EXPECT_EQ(p, q);
	memset(p, 0x3c, 8192);
	EXPECT_EQ(0x3c, ((uint8_t *)p)[8191]);
	EXPECT_EQ(0, lpu_bo_unmap(bo));
	/* Idle buffer: a poll says so. */
	EXPECT_EQ(0, lpu_bo_wait(bo, 0));
	EXPECT_EQ(0, lpu_bo_free(bo));
	EXPECT_EQ(0, wait_sram_used(&self->card, used0, 5000, &used));

	EXPECT_EQ(-EINVAL, lpu_bo_alloc(dev, LPU_BO_HOST, 0, 0, &bo));
	/* With one page taken, the whole SRAM is too much. */
	ASSERT_EQ(0, lpu_bo_alloc(dev, LPU_BO_SRAM, 4096, 0, &bo));
	ASSERT_EQ(0, lpu_bo_map(bo, &p));
	EXPECT_EQ(-ENOSPC, lpu_bo_alloc(dev, LPU_BO_SRAM,
					sram_usable(&self->info), 0, &bo2));
	EXPECT_EQ(NULL, bo2);
	/* lpu_close() releases what is left, mapped or not. */
	EXPECT_EQ(0, lpu_close(dev));
	EXPECT_EQ(0, wait_sram_used(&self->card, used0, 5000, &used));
}

TEST_F(lpu, kernel_not_tainted)
{
	expect_not_tainted(_metadata);
}

TEST_HARNESS_MAIN
