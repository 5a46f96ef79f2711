// SPDX-License-Identifier: GPL-2.0
/*
 * LPU sharing tests: handles are private to their file, a dma-buf export is
 * the only way to share a buffer, and a shared buffer works in both
 * processes, in both domains, and outlives either side.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xf86drm.h>

#include "lpu_fixture.h"
#include "lpu_mem.h"

#define SZ	(256 * KiB)

static const uint32_t domains[] = { DRM_LPU_BO_SRAM, DRM_LPU_BO_HOST };

static int export_fd(int fd, uint32_t handle)
{
	int dmabuf = -1;

	if (drmPrimeHandleToFD(fd, handle, DRM_CLOEXEC | DRM_RDWR, &dmabuf))
		return -errno;
	return dmabuf;
}

/* Exit status of child @pid: its _exit() step, or 255 if it died. */
static int reap(pid_t pid)
{
	int wstatus;

	if (waitpid(pid, &wstatus, 0) != pid || !WIFEXITED(wstatus))
		return 255;
	return WEXITSTATUS(wstatus);
}

/*
 * In a child: import @dmabuf into a new file of @card, check it holds
 * @seed's pattern (through mmap and through the DMA engine), then fill it
 * with @seed + 1's pattern by DMA. 0, or the failing step.
 */
static int child_use_shared(const struct lpu_card *card, int dmabuf,
			    uint32_t domain, uint64_t seed)
{
	uint8_t *want = malloc(SZ), *map;
	struct drm_lpu_bo_info info;
	struct tbo own;
	uint32_t h;
	int32_t st;
	int fd = open_card(card);

	if (fd < 0 || !want)
		return 1;
	if (drmPrimeFDToHandle(fd, dmabuf, &h))
		return 2;
	if (bo_info(fd, h, &info) || info.size != SZ || info.domain != domain)
		return 3;
	fill_pattern(want, SZ, seed);
	map = bo_mmap(fd, h, SZ);
	if (!map || first_diff(map, want, SZ) != SZ)
		return 4;
	if (tbo_new(fd, DRM_LPU_BO_HOST, SZ, true, &own))
		return 5;
	if (copy_sync(fd, 1, own.handle, 0, h, 0, SZ, &st) || st)
		return 6;
	if (first_diff(own.map, want, SZ) != SZ)
		return 7;
	fill_pattern(own.map, SZ, seed + 1);
	if (copy_sync(fd, 2, h, 0, own.handle, 0, SZ, &st) || st)
		return 8;
	munmap(map, SZ);
	close(fd);
	return 0;
}

TEST_F(lpu, child_cannot_use_parent_handles)
{
	struct tbo first, b;
	pid_t pid;

	/* b gets handle 2; the child's only buffer will be its handle 1. */
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, 4096, false, &first));
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, SZ, true, &b));
	fill_pattern(b.map, SZ, 50);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct drm_lpu_bo_info info;
		struct tbo own;
		int32_t st;
		int fd = open_card(&self->card), dmabuf;

		if (fd < 0 || tbo_new(fd, DRM_LPU_BO_HOST, SZ, true, &own))
			_exit(1);
		/* Handle numbers mean nothing in another file. */
		if (own.handle == b.handle)
			_exit(2);
		if (bo_info(fd, b.handle, &info) != -ENOENT)
			_exit(3);
		if (copy_sync(fd, 0, own.handle, 0, b.handle, 0, 16, &st) !=
		    -EINVAL)
			_exit(4);
		if (drmPrimeHandleToFD(fd, b.handle, DRM_CLOEXEC, &dmabuf) == 0 ||
		    errno != ENOENT)
			_exit(5);
		if (bo_close(fd, b.handle) != -EINVAL)
			_exit(6);
		if (bo_wait(fd, b.handle, 0) != -ENOENT)
			_exit(7);
		_exit(first_nonzero(own.map, SZ) == SZ ? 0 : 8);
	}
	EXPECT_EQ(0, reap(pid));
	/* The parent's buffer is as it was. */
	{
		uint8_t *want = malloc(SZ);

		ASSERT_NE(NULL, want);
		fill_pattern(want, SZ, 50);
		EXPECT_EQ(SZ, first_diff(b.map, want, SZ));
		free(want);
	}
	tbo_free(self->fd, &b);
	tbo_free(self->fd, &first);
}

TEST_F(lpu, dmabuf_shares_buffers_between_processes)
{
	uint8_t *want = malloc(SZ);
	unsigned int d;
	struct tbo b;
	int dmabuf;
	pid_t pid;

	ASSERT_NE(NULL, want);
	for (d = 0; d < ARRAY_SIZE(domains); d++) {
		ASSERT_EQ(0, tbo_new(self->fd, domains[d], SZ, true, &b));
		fill_pattern(b.map, SZ, 60 + d);
		dmabuf = export_fd(self->fd, b.handle);
		ASSERT_LE(0, dmabuf) TH_LOG("export: %s", strerror(-dmabuf));
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			_exit(child_use_shared(&self->card, dmabuf, domains[d],
					       60 + d));
		EXPECT_EQ(0, reap(pid)) TH_LOG("domain %u", domains[d]);
		/* The child's DMA write shows in the parent's mapping. */
		fill_pattern(want, SZ, 61 + d);
		EXPECT_EQ(SZ, first_diff(b.map, want, SZ));
		close(dmabuf);
		tbo_free(self->fd, &b);
	}
	free(want);
}

TEST_F(lpu, closing_the_exporter_leaves_the_importer_intact)
{
	uint64_t used0, used;
	int go[2], dmabuf;
	unsigned int d;
	struct tbo b;
	pid_t pid;
	char c;

	for (d = 0; d < ARRAY_SIZE(domains); d++) {
		ASSERT_EQ(0, sram_attr(&self->card, "sram_used_bytes", &used0));
		ASSERT_EQ(0, pipe(go));
		ASSERT_EQ(0, tbo_new(self->fd, domains[d], SZ, true, &b));
		fill_pattern(b.map, SZ, 70 + d);
		dmabuf = export_fd(self->fd, b.handle);
		ASSERT_LE(0, dmabuf);
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			close(go[1]);
			/* Runs once the parent let go of everything. */
			if (read(go[0], &c, 1) != 1)
				_exit(20);
			_exit(child_use_shared(&self->card, dmabuf,
					       domains[d], 70 + d));
		}
		close(go[0]);
		/* Handle, mapping and dma-buf fd: all gone on this side. */
		close(dmabuf);
		tbo_free(self->fd, &b);
		close(self->fd);
		self->fd = -1;
		ASSERT_EQ(1, write(go[1], "g", 1));
		close(go[1]);
		EXPECT_EQ(0, reap(pid)) TH_LOG("domain %u", domains[d]);
		/* Now both sides are closed: the SRAM is free again. */
		EXPECT_EQ(0, wait_sram_used(&self->card, used0, 5000, &used));
		self->fd = open_card(&self->card);
		ASSERT_LE(0, self->fd);
	}
}

TEST_F(lpu, closing_the_importer_leaves_the_exporter_intact)
{
	uint8_t *want = malloc(SZ);
	struct tbo b;
	int fd2, dmabuf;
	uint32_t h2;
	int32_t st;

	ASSERT_NE(NULL, want);
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, SZ, true, &b));
	fill_pattern(b.map, SZ, 80);
	memcpy(want, b.map, SZ);
	dmabuf = export_fd(self->fd, b.handle);
	ASSERT_LE(0, dmabuf);
	fd2 = open_card(&self->card);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, drmPrimeFDToHandle(fd2, dmabuf, &h2));
	close(dmabuf);
	/* The importer closes its handle and its whole file. */
	ASSERT_EQ(0, bo_close(fd2, h2));
	close(fd2);
	EXPECT_EQ(SZ, first_diff(b.map, want, SZ));
	/* Still a working buffer of the exporter. */
	{
		struct tbo h;

		ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_HOST, SZ, true, &h));
		ASSERT_EQ(0, copy_sync(self->fd, 0, h.handle, 0, b.handle, 0,
				       SZ, &st));
		EXPECT_EQ(0, st);
		EXPECT_EQ(SZ, first_diff(h.map, want, SZ));
		tbo_free(self->fd, &h);
	}
	tbo_free(self->fd, &b);
	free(want);
}

/* Send @fd over unix socket @sock (SCM_RIGHTS); 0 or -errno. */
static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, byte = 'f';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

/* Receive one fd from @sock; the fd or -errno. */
static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))], byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -errno;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -EBADMSG;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

TEST_F(lpu, dmabuf_passed_over_a_socket)
{
	uint8_t *want = malloc(SZ);
	int sv[2], dmabuf;
	struct tbo b;
	pid_t pid;

	ASSERT_NE(NULL, want);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	/* The child exists before the buffer: it inherits nothing of it. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		close(sv[0]);
		fd = recv_fd(sv[1]);
		if (fd < 0)
			_exit(30);
		_exit(child_use_shared(&self->card, fd, DRM_LPU_BO_SRAM, 90));
	}
	close(sv[1]);
	ASSERT_EQ(0, tbo_new(self->fd, DRM_LPU_BO_SRAM, SZ, true, &b));
	fill_pattern(b.map, SZ, 90);
	dmabuf = export_fd(self->fd, b.handle);
	ASSERT_LE(0, dmabuf);
	ASSERT_EQ(0, send_fd(sv[0], dmabuf));
	close(dmabuf);
	EXPECT_EQ(0, reap(pid));
	fill_pattern(want, SZ, 91);
	EXPECT_EQ(SZ, first_diff(b.map, want, SZ));
	close(sv[0]);
	tbo_free(self->fd, &b);
	free(want);
}

TEST_F(lpu, import_rules)
{
	struct drm_lpu_bo_info i1, i2;
	uint32_t h, again, other;
	int dmabuf, fd2, bad;

	ASSERT_EQ(0, bo_create(self->fd, DRM_LPU_BO_HOST, SZ, &h));
	dmabuf = export_fd(self->fd, h);
	ASSERT_LE(0, dmabuf);
	/* Into the exporting file: the same handle, not a second one. */
	ASSERT_EQ(0, drmPrimeFDToHandle(self->fd, dmabuf, &again));
	EXPECT_EQ(h, again);
	/* Into another file: its own handle and address, the same buffer. */
	fd2 = open_card(&self->card);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, bo_create(fd2, DRM_LPU_BO_SRAM, 4096, NULL));
	ASSERT_EQ(0, drmPrimeFDToHandle(fd2, dmabuf, &other));
	ASSERT_EQ(0, bo_info(self->fd, h, &i1));
	ASSERT_EQ(0, bo_info(fd2, other, &i2));
	EXPECT_EQ(i1.size, i2.size);
	EXPECT_EQ(i1.domain, i2.domain);
	EXPECT_EQ((uint64_t)other << 32, i2.device_addr);
	/* Exporting what does not exist, importing what is no dma-buf. */
	EXPECT_NE(0, drmPrimeHandleToFD(self->fd, 9999, DRM_CLOEXEC, &bad));
	EXPECT_EQ(ENOENT, errno);
	bad = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, bad);
	EXPECT_NE(0, drmPrimeFDToHandle(self->fd, bad, &again));
	close(bad);
	EXPECT_NE(0, drmPrimeFDToHandle(self->fd, 1000, &again));
	close(dmabuf);
	close(fd2);
	EXPECT_EQ(0, bo_close(self->fd, h));
}

TEST_F(lpu, liblpu_export_import)
{
	struct lpu_device *a, *b;
	struct lpu_bo *x, *y, *y2;
	uint8_t *px, *py;
	int dmabuf;

	ASSERT_EQ(0, lpu_open_path(self->card.dev_path, &a));
	ASSERT_EQ(0, lpu_open_path(self->card.dev_path, &b));
	ASSERT_EQ(0, lpu_bo_alloc(a, LPU_BO_SRAM, SZ, 0, &x));
	ASSERT_EQ(0, lpu_bo_map(x, (void **)&px));
	fill_pattern(px, SZ, 95);
	ASSERT_EQ(0, lpu_bo_export(x, &dmabuf));
	ASSERT_LE(0, dmabuf);
	EXPECT_EQ(FD_CLOEXEC, fcntl(dmabuf, F_GETFD) & FD_CLOEXEC);
	ASSERT_EQ(0, lpu_bo_import(b, dmabuf, &y));
	EXPECT_EQ(SZ, lpu_bo_size(y));
	EXPECT_EQ(LPU_BO_SRAM, lpu_bo_domain(y));
	/* A second import into the same device is the same object. */
	ASSERT_EQ(0, lpu_bo_import(b, dmabuf, &y2));
	EXPECT_EQ(y, y2);
	close(dmabuf);
	ASSERT_EQ(0, lpu_bo_map(y, (void **)&py));
	EXPECT_EQ(SZ, first_diff(py, px, SZ));
	/* Freed once: the handle lives on for the other reference. */
	EXPECT_EQ(0, lpu_bo_free(y2));
	EXPECT_EQ(0, lpu_bo_unmap(y));
	ASSERT_EQ(0, lpu_bo_map(y, (void **)&py));
	EXPECT_EQ(px[SZ - 1], py[SZ - 1]);
	/* Exporter gone: the importer still has the data. */
	EXPECT_EQ(0, lpu_bo_free(x));
	EXPECT_EQ(0, lpu_close(a));
	{
		uint8_t *want = malloc(SZ);

		ASSERT_NE(NULL, want);
		fill_pattern(want, SZ, 95);
		EXPECT_EQ(SZ, first_diff(py, want, SZ));
		free(want);
	}
	EXPECT_EQ(0, lpu_bo_free(y));
	EXPECT_EQ(0, lpu_close(b));
}

TEST_F(lpu, kernel_not_tainted)
{
	expect_not_tainted(_metadata);
}

TEST_HARNESS_MAIN
