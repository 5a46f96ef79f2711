// SPDX-License-Identifier: GPL-2.0
/*
 * Seeded ioctl fuzzer for the lpu driver.
 *
 * Several processes share the card. Each draws, from its own PRNG seeded by
 * (seed, process index), either a malformed call (random ioctl number,
 * direction, struct size, flags, handles and pointers, including NULL,
 * unmapped and kernel addresses and buffers that end at an inaccessible page)
 * or a step of a valid sequence (open, info, submit, wait, close, buffer
 * create/info/wait/mmap/close, copies that are valid, refused by the driver
 * or faulted by the device, chained through syncobjs, EXEC jobs over random
 * slots running random or mutated programs, which the driver refuses, the
 * device refuses or runs, or their own short timeout stops) in random
 * order. The
 * run passes if no process crashed or hung, and the card still runs a job
 * afterwards; the debug lane then reads the kernel's own detectors
 * (KASAN, UBSAN, lockdep, kmemleak) for anything the calls broke.
 *
 * Replay a failure with the seed it printed:
 *   fuzz_lpu --seed S --calls N --procs P
 *
 * New ioctls must be added to fuzz_ioctl_nrs[] and to valid_step().
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <drm/lpu_accel.h>
#include <lpu.h>
#include <lpu_hw.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MAX_FDS		8
#define MAX_SEQS	64
#define MAX_BOS		16
/* A single call may legitimately block for at most a 1 s NOP and a wait. */
#define CALL_WATCHDOG_S	20

struct fuzz_state {
	uint64_t rng;
	int fds[MAX_FDS];
	uint64_t seqs[MAX_FDS][MAX_SEQS];
	unsigned int nseqs[MAX_FDS];
	uint32_t bos[MAX_FDS][MAX_BOS];	/* GEM handles, 0 = free slot */
	uint64_t bo_size[MAX_FDS][MAX_BOS];
	uint32_t syncobj[MAX_FDS];	/* 0 until a COPY step made one */
	unsigned char *buf;	/* two pages; the second one is PROT_NONE */
	size_t page;
	const char *node;
	unsigned long calls, valid, rejected;
};

/* xorshift64*: tiny, seedable, and the same sequence on every machine. */
static uint64_t rnd(struct fuzz_state *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 0x2545f4914f6cdd1dULL;
}

static uint64_t rnd_below(struct fuzz_state *s, uint64_t n)
{
	return n ? rnd(s) % n : 0;
}

/* Values that tend to find edge cases in size and range checks. */
static uint64_t interesting(struct fuzz_state *s)
{
	static const uint64_t v[] = {
		0, 1, 2, 3, 4, 7, 8, 63, 64, 255, 256, 4095, 4096,
		0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ULL,
		DRM_LPU_NOP_MAX_CYCLES, DRM_LPU_NOP_MAX_CYCLES + 1ULL,
		INT64_MAX, (uint64_t)INT64_MIN, UINT64_MAX,
	};

	if (rnd_below(s, 3) == 0)
		return rnd(s);
	return v[rnd_below(s, ARRAY_SIZE(v))];
}

static int pick_fd(struct fuzz_state *s, unsigned int *slot)
{
	unsigned int i, start = rnd_below(s, MAX_FDS);

	for (i = 0; i < MAX_FDS; i++) {
		unsigned int k = (start + i) % MAX_FDS;

		if (s->fds[k] >= 0) {
			*slot = k;
			return s->fds[k];
		}
	}
	return -1;
}

/* A pointer argument: mostly a valid buffer, sometimes hostile. */
static void *pick_ptr(struct fuzz_state *s, size_t size)
{
	switch (rnd_below(s, 8)) {
	case 0:
		return NULL;
	case 1:
		return (void *)(uintptr_t)interesting(s);
	case 2:
		return (void *)0xffff888000000000ULL;	/* kernel direct map */
	case 3:
		/* Ends inside the PROT_NONE page: a partial copy must fault. */
		return s->buf + s->page - (size ? rnd_below(s, size) + 1 : 1);
	default:
		return s->buf + s->page - (size < s->page ? size : s->page);
	}
}

static const unsigned int fuzz_ioctl_nrs[] = {
	DRM_LPU_GET_INFO, DRM_LPU_SUBMIT, DRM_LPU_WAIT,
	DRM_LPU_BO_CREATE, DRM_LPU_BO_INFO, DRM_LPU_BO_WAIT,
};

/* A handle of @slot's file (0 if it has none), sometimes any number. */
static uint32_t pick_bo(struct fuzz_state *s, unsigned int slot,
			uint64_t *size)
{
	unsigned int i, start = rnd_below(s, MAX_BOS);

	*size = 0;
	if (rnd_below(s, 16) == 0)
		return rnd_below(s, 2) ? rnd_below(s, 40) : interesting(s);
	for (i = 0; i < MAX_BOS; i++) {
		unsigned int k = (start + i) % MAX_BOS;

		if (s->bos[slot][k]) {
			*size = s->bo_size[slot][k];
			return s->bos[slot][k];
		}
	}
	return 0;
}

/*
 * Random copies between @slot's buffers in s->buf (the page before the
 * PROT_NONE one): mostly in range, sometimes off by a little or a lot, in
 * handle or device-address mode. Returns how many were written.
 */
static unsigned int random_copies(struct fuzz_state *s, unsigned int slot)
{
	struct drm_lpu_copy *c = (struct drm_lpu_copy *)s->buf;
	unsigned int n = 1 + rnd_below(s, DRM_LPU_MAX_COPIES), i;
	uint64_t ssz, dsz;

	for (i = 0; i < n; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].src_handle = pick_bo(s, slot, &ssz);
		c[i].dst_handle = pick_bo(s, slot, &dsz);
		c[i].size = 1 + rnd_below(s, ssz < dsz ? ssz : dsz);
		c[i].src_offset = rnd_below(s, ssz ? ssz - c[i].size + 1 : 1);
		c[i].dst_offset = rnd_below(s, dsz ? dsz - c[i].size + 1 : 1);
		switch (rnd_below(s, 8)) {
		case 0:	/* the driver refuses it */
			c[i].src_offset += rnd_below(s, 2) ? 1 : interesting(s);
			break;
		case 1:
			c[i].size = interesting(s);
			break;
		case 2:	/* the device faults it (or it is in range) */
			c[i].flags = DRM_LPU_COPY_DEVICE_ADDRESSES;
			c[i].src_offset += (uint64_t)c[i].src_handle << 32;
			c[i].dst_offset += (uint64_t)c[i].dst_handle << 32;
			if (rnd_below(s, 2))
				c[i].dst_offset += rnd_below(s, 3) ?
						   ssz + dsz : interesting(s);
			break;
		case 3:
			c[i].flags = rnd_below(s, 2) ? interesting(s) : 0;
			c[i].pad = rnd_below(s, 2) ? interesting(s) : 0;
			break;
		default:	/* valid unless the ranges overlap */
			break;
		}
	}
	return n;
}

/* Where EXEC requests live in s->buf: clear of the copies and the submit. */
#define EXEC_REQ_OFF	2048
#define EXEC_SLOTS_OFF	3072

/* Instructions a fuzzed program is made of, valid ones and not. */
static const uint8_t fuzz_opcodes[] = {
	LPU_INSN_COPY, LPU_INSN_MATMUL, LPU_INSN_EXPERT_FFN, LPU_INSN_ADD,
	LPU_INSN_MUL, LPU_INSN_SILU, LPU_INSN_SWIGLU, LPU_INSN_RMSNORM,
	LPU_INSN_SOFTMAX, LPU_INSN_TOPK, LPU_INSN_DISPATCH, LPU_INSN_COMBINE,
	0x00, 0x7f, 0xff,
};

/*
 * A device address in one of @nslots slots (sometimes beyond them), at a
 * 64-byte aligned offset within @size bytes, now and then misaligned or
 * anywhere.
 */
static uint64_t fuzz_addr(struct fuzz_state *s, unsigned int nslots,
			  uint64_t size)
{
	uint64_t slot = rnd_below(s, nslots + (rnd_below(s, 8) ? 0 : 2));
	uint64_t off = rnd_below(s, size ? size / 64 : 1) * 64;

	switch (rnd_below(s, 16)) {
	case 0:
		return interesting(s);
	case 1:
		off += 1 + rnd_below(s, 63);
		break;
	case 2:
		off = size - 64 * rnd_below(s, 3);
		break;
	}
	return DRM_LPU_EXEC_SLOT_ADDR(slot) + off;
}

/*
 * @n instructions into @p: opcodes and dtypes mostly valid, small shapes
 * (so that a valid one computes briefly), operands in the slots, then a
 * few bit flips anywhere.
 */
static void random_program(struct fuzz_state *s, struct lpu_insn *p,
			   unsigned int n, unsigned int nslots, uint64_t size)
{
	const float eps = 0.000001f;	/* RMSNORM epsilon */
	unsigned int i, j, flips;

	for (i = 0; i < n; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].opcode = fuzz_opcodes[rnd_below(s, ARRAY_SIZE(fuzz_opcodes))];
		p[i].dtype = rnd_below(s, 4) ? LPU_DT_F32 : rnd_below(s, 6);
		if (p[i].opcode == LPU_INSN_COPY && rnd_below(s, 4))
			p[i].dtype = LPU_DT_NONE;
		if (rnd_below(s, 8) == 0)
			p[i].flags = rnd_below(s, 4);
		for (j = 0; j < 5; j++)
			p[i].dim[j] = 1 + rnd_below(s, rnd_below(s, 4) ? 16 : 256);
		if (p[i].opcode == LPU_INSN_RMSNORM)
			memcpy(&p[i].dim[2], &eps, sizeof(eps));
		for (j = 0; j < 5; j++)
			p[i].op[j] = fuzz_addr(s, nslots, size);
	}
	flips = rnd_below(s, 3) ? 0 : 1 + rnd_below(s, 4);
	for (i = 0; i < flips; i++) {
		uint8_t *b = (uint8_t *)p + rnd_below(s, n * sizeof(*p));

		*b ^= 1U << rnd_below(s, 8);
	}
}

/*
 * An EXEC request of @slot's file in s->buf: random slots (mostly its own
 * buffers, sometimes unknown handles), a random program written into one
 * of them, mostly valid counts and addresses. Returns the request.
 */
static struct drm_lpu_exec *random_exec(struct fuzz_state *s, unsigned int slot)
{
	struct drm_lpu_exec *ex = (struct drm_lpu_exec *)(s->buf + EXEC_REQ_OFF);
	uint32_t *slots = (uint32_t *)(s->buf + EXEC_SLOTS_OFF);
	unsigned int nslots = 1 + rnd_below(s, 6), i, k, prog = 0;
	uint64_t size, prog_size = 0;
	struct lpu_insn *p;

	memset(ex, 0, sizeof(*ex));
	for (i = 0; i < nslots; i++) {
		slots[i] = pick_bo(s, slot, &size);
		if (size && (!prog_size || rnd_below(s, 2))) {
			prog = i;
			prog_size = size;
		}
	}
	ex->slots = (uintptr_t)slots;
	ex->slot_count = nslots;
	ex->insn_count = 1 + rnd_below(s, 8);
	ex->program = DRM_LPU_EXEC_SLOT_ADDR(prog);
	ex->stats = fuzz_addr(s, nslots, prog_size);
	/* Mostly the default timeout, sometimes one short enough to hit. */
	ex->timeout_ms = rnd_below(s, 4) ? 0 : 1 + rnd_below(s, 100);

	/* The program goes into the chosen slot's buffer, at offset 0. */
	for (k = 0; prog_size && k < MAX_BOS; k++) {
		struct drm_lpu_bo_info info = { .handle = slots[prog] };
		size_t len = ex->insn_count * sizeof(*p);

		if (s->bos[slot][k] != slots[prog])
			continue;
		if (len > prog_size ||
		    ioctl(s->fds[slot], DRM_IOCTL_LPU_BO_INFO, &info))
			break;
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			 s->fds[slot], (off_t)info.mmap_offset);
		if (p == MAP_FAILED)
			break;
		random_program(s, p, ex->insn_count, nslots, prog_size);
		munmap(p, len);
		break;
	}

	switch (rnd_below(s, 12)) {
	case 0:
		ex->slot_count = interesting(s);
		break;
	case 1:
		ex->insn_count = interesting(s);
		break;
	case 2:
		ex->flags = interesting(s);
		break;
	case 3:
		ex->timeout_ms = interesting(s);
		break;
	case 4:
		ex->slots = (uintptr_t)pick_ptr(s, nslots * sizeof(*slots));
		break;
	case 5:
		ex->program = interesting(s);
		break;
	}
	return ex;
}

/* One malformed call: number, direction, size, contents and pointer. */
static void hostile_step(struct fuzz_state *s)
{
	static const unsigned int dirs[] = {
		_IOC_NONE, _IOC_READ, _IOC_WRITE, _IOC_READ | _IOC_WRITE,
	};
	unsigned int slot, nr, dir, size, i;
	unsigned long cmd;
	void *arg;
	int fd = pick_fd(s, &slot);

	if (fd < 0)
		return;
	switch (rnd_below(s, 4)) {
	case 0:	/* any number in DRM's space, core ioctls included */
		nr = rnd_below(s, 256);
		break;
	default:
		nr = DRM_COMMAND_BASE +
		     fuzz_ioctl_nrs[rnd_below(s, ARRAY_SIZE(fuzz_ioctl_nrs))];
		if (rnd_below(s, 8) == 0)
			nr = DRM_COMMAND_BASE + rnd_below(s, 0x60);
		break;
	}
	dir = rnd_below(s, 4) ? (_IOC_READ | _IOC_WRITE) : dirs[rnd_below(s, 4)];
	size = rnd_below(s, 2) ? rnd_below(s, 64) : rnd_below(s, _IOC_SIZEMASK + 1);
	if (size > s->page)
		size = rnd_below(s, 2) ? size : s->page;
	cmd = _IOC(dir, DRM_IOCTL_BASE, nr, size);

	for (i = 0; i < s->page; i += 8) {
		uint64_t v = rnd_below(s, 2) ? 0 : interesting(s);

		memcpy(s->buf + i, &v, 8);
	}
	/* Sometimes a plausible struct with a few hostile fields. */
	if (rnd_below(s, 2)) {
		struct drm_lpu_submit sub = {
			.queue = rnd_below(s, 2) ? rnd_below(s, 6) : interesting(s),
			.job_type = rnd_below(s, 2) ? LPU_JOB_NOP : interesting(s),
			.nop_cycles = rnd_below(s, 4) ? rnd_below(s, 5000) : interesting(s),
			.flags = rnd_below(s, 4) ? 0 : interesting(s),
		};

		if (rnd_below(s, 2)) {
			/* A COPY job with hostile copies, counts or syncobjs. */
			sub.job_type = LPU_JOB_COPY;
			sub.nop_cycles = rnd_below(s, 8) ? 0 : interesting(s);
			sub.copy_count = rnd_below(s, 4) ?
				random_copies(s, slot) : interesting(s);
			sub.copies = rnd_below(s, 4) ? (uintptr_t)s->buf :
				(uintptr_t)pick_ptr(s, sub.copy_count *
						    sizeof(struct drm_lpu_copy));
			sub.in_syncobj = rnd_below(s, 4) ? 0 : interesting(s);
			sub.out_syncobj = rnd_below(s, 4) ? 0 : interesting(s);
		} else if (rnd_below(s, 2)) {
			/* An EXEC job, or any job, with a hostile exec. */
			if (rnd_below(s, 4))
				sub.job_type = LPU_JOB_EXEC;
			sub.exec = rnd_below(s, 2) ? (uintptr_t)random_exec(s, slot) :
				(uintptr_t)pick_ptr(s, sizeof(struct drm_lpu_exec));
			if (rnd_below(s, 4) == 0)
				sub.copy_count = interesting(s);
		}
		memcpy(s->buf + s->page - sizeof(sub), &sub, sizeof(sub));
	}
	arg = pick_ptr(s, size);
	if (ioctl(fd, cmd, arg))
		s->rejected++;
}

/* Absolute deadline: a poll, or at most 100 ms from now. */
static int64_t short_deadline(struct fuzz_state *s)
{
	struct timespec ts;

	if (rnd_below(s, 2))
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec +
	       rnd_below(s, 100000000);
}

/* Create, describe, wait for, map or close a buffer of some file. */
static void buffer_step(struct fuzz_state *s)
{
	unsigned int slot, k;
	uint64_t size;
	int fd = pick_fd(s, &slot);

	if (fd < 0)
		return;
	switch (rnd_below(s, 5)) {
	case 0: {
		struct drm_lpu_bo_create c = {
			.domain = rnd_below(s, 16) ? 1 + rnd_below(s, 2) :
						     interesting(s),
			.size = rnd_below(s, 16) ?
				4096 * (1 + rnd_below(s, 256)) : interesting(s),
		};

		for (k = 0; k < MAX_BOS && s->bos[slot][k]; k++)
			;
		if (k == MAX_BOS || ioctl(fd, DRM_IOCTL_LPU_BO_CREATE, &c))
			break;
		s->bos[slot][k] = c.handle;
		s->bo_size[slot][k] = c.size;
		break;
	}
	case 1: {
		struct drm_lpu_bo_info info = { .handle = pick_bo(s, slot, &size) };

		ioctl(fd, DRM_IOCTL_LPU_BO_INFO, &info);
		break;
	}
	case 2: {
		struct drm_lpu_bo_wait w = { .handle = pick_bo(s, slot, &size) };

		w.timeout_ns = short_deadline(s);
		ioctl(fd, DRM_IOCTL_LPU_BO_WAIT, &w);
		break;
	}
	case 3: {	/* map, touch and unmap, possibly past the end */
		struct drm_lpu_bo_info info = { .handle = pick_bo(s, slot, &size) };
		size_t len = size ? size : 4096;
		volatile uint8_t *p;

		if (ioctl(fd, DRM_IOCTL_LPU_BO_INFO, &info))
			break;
		if (rnd_below(s, 4) == 0)
			len += 4096;
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			 (off_t)info.mmap_offset);
		if (p == MAP_FAILED)
			break;
		p[0] = p[len - 1] + 1;
		munmap((void *)p, len);
		break;
	}
	default: {	/* close, possibly while a copy uses it */
		struct drm_gem_close c = { .handle = pick_bo(s, slot, &size) };

		if (ioctl(fd, DRM_IOCTL_GEM_CLOSE, &c))
			break;
		for (k = 0; k < MAX_BOS; k++)
			if (s->bos[slot][k] == c.handle)
				s->bos[slot][k] = 0;
		break;
	}
	}
}

/* One step of a valid sequence, in random order with the others. */
static void valid_step(struct fuzz_state *s)
{
	unsigned int slot, i;
	int fd;

	switch (rnd_below(s, 14)) {
	case 0:	/* open another fd */
		for (i = 0; i < MAX_FDS; i++) {
			if (s->fds[i] < 0) {
				s->fds[i] = open(s->node, O_RDWR | O_CLOEXEC);
				s->nseqs[i] = 0;
				s->syncobj[i] = 0;
				memset(s->bos[i], 0, sizeof(s->bos[i]));
				break;
			}
		}
		break;
	case 1:	/* close one, possibly with jobs in flight */
		fd = pick_fd(s, &slot);
		if (fd >= 0 && rnd_below(s, 3) == 0) {
			close(fd);
			s->fds[slot] = -1;
		}
		break;
	case 2: {
		struct drm_lpu_info info = { 0 };

		fd = pick_fd(s, &slot);
		if (fd >= 0)
			ioctl(fd, DRM_IOCTL_LPU_GET_INFO, &info);
		break;
	}
	case 3:
	case 4: {
		struct drm_lpu_submit sub = {
			.queue = rnd_below(s, 4),
			.job_type = LPU_JOB_NOP,
			.nop_cycles = rnd_below(s, 16) ? rnd_below(s, 20000) :
				      rnd_below(s, 50000000),
		};

		fd = pick_fd(s, &slot);
		if (fd >= 0 && !ioctl(fd, DRM_IOCTL_LPU_SUBMIT, &sub))
			s->seqs[slot][s->nseqs[slot]++ % MAX_SEQS] = sub.seq;
		break;
	}
	case 6:
	case 7:
		buffer_step(s);
		break;
	case 8:
	case 9: {
		struct drm_lpu_submit sub = { .job_type = LPU_JOB_COPY };

		fd = pick_fd(s, &slot);
		if (fd < 0)
			break;
		sub.queue = rnd_below(s, 4);
		sub.copy_count = random_copies(s, slot);
		sub.copies = (uintptr_t)s->buf;
		/* Chain jobs through one syncobj per file, across queues. */
		if (!s->syncobj[slot]) {
			struct drm_syncobj_create sc = { 0 };

			if (!ioctl(fd, DRM_IOCTL_SYNCOBJ_CREATE, &sc))
				s->syncobj[slot] = sc.handle;
		}
		if (rnd_below(s, 2))
			sub.in_syncobj = s->syncobj[slot];
		if (rnd_below(s, 2))
			sub.out_syncobj = s->syncobj[slot];
		if (!ioctl(fd, DRM_IOCTL_LPU_SUBMIT, &sub))
			s->seqs[slot][s->nseqs[slot]++ % MAX_SEQS] = sub.seq;
		break;
	}
	case 10:
	case 11: {
		struct drm_lpu_submit sub = { .job_type = LPU_JOB_EXEC };

		fd = pick_fd(s, &slot);
		if (fd < 0)
			break;
		sub.queue = rnd_below(s, 4);
		sub.exec = (uintptr_t)random_exec(s, slot);
		if (s->syncobj[slot] && rnd_below(s, 4) == 0)
			sub.in_syncobj = s->syncobj[slot];
		if (!ioctl(fd, DRM_IOCTL_LPU_SUBMIT, &sub))
			s->seqs[slot][s->nseqs[slot]++ % MAX_SEQS] = sub.seq;
		break;
	}
	default: {
		struct drm_lpu_wait w = { 0 };
		struct timespec ts;

		fd = pick_fd(s, &slot);
		if (fd < 0 || !s->nseqs[slot])
			break;
		w.seq = s->seqs[slot][rnd_below(s, s->nseqs[slot] < MAX_SEQS ?
						   s->nseqs[slot] : MAX_SEQS)];
		clock_gettime(CLOCK_MONOTONIC, &ts);
		/* Poll, or wait at most 100 ms. */
		w.timeout_ns = rnd_below(s, 2) ? 0 :
			(int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec +
			rnd_below(s, 100000000);
		ioctl(fd, DRM_IOCTL_LPU_WAIT, &w);
		break;
	}
	}
	s->valid++;
}

static void on_watchdog(int sig)
{
	(void)sig;
	/* async-signal-safe: a hung call ends the process with a clear mark */
	static const char msg[] = "# fuzz_lpu: a call blocked too long (hang)\n";

	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(3);
	_exit(3);
}

static int fuzz_process(const char *node, uint64_t seed, unsigned int idx,
			unsigned long calls)
{
	struct fuzz_state s = { .node = node };
	unsigned int i;

	s.rng = seed ^ (0x9e3779b97f4a7c15ULL * (idx + 1));
	if (!s.rng)
		s.rng = 1;
	s.page = (size_t)sysconf(_SC_PAGESIZE);
	s.buf = mmap(NULL, 2 * s.page, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s.buf == MAP_FAILED || mprotect(s.buf + s.page, s.page, PROT_NONE))
		return 2;
	for (i = 0; i < MAX_FDS; i++)
		s.fds[i] = -1;
	s.fds[0] = open(node, O_RDWR | O_CLOEXEC);
	if (s.fds[0] < 0)
		return 2;

	signal(SIGALRM, on_watchdog);
	for (s.calls = 0; s.calls < calls; s.calls++) {
		alarm(CALL_WATCHDOG_S);
		if (rnd_below(&s, 10) < 4)
			hostile_step(&s);
		else
			valid_step(&s);
	}
	alarm(0);
	for (i = 0; i < MAX_FDS; i++)
		if (s.fds[i] >= 0)
			close(s.fds[i]);
	return 0;
}

/* After the storm, a fresh open must still run a job to completion. */
static int card_still_works(const char *node)
{
	struct lpu_job_result res = { 0 };
	struct lpu_device *dev;
	uint64_t seq;
	int ret;

	ret = lpu_open_path(node, &dev);
	if (ret)
		return ret;
	ret = lpu_submit_nop(dev, 0, 0, &seq);
	if (!ret)
		ret = lpu_wait(dev, seq, 10LL * 1000000000LL, &res);
	if (!ret)
		ret = res.status;
	lpu_close(dev);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "calls", required_argument, NULL, 'n' },
		{ "procs", required_argument, NULL, 'p' },
		{ "device", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long calls = 4000, procs = 4, i, bad = 0;
	const char *node = "/dev/lpu0";
	uint64_t seed;
	struct timespec ts;
	int c, ret;

	clock_gettime(CLOCK_REALTIME, &ts);
	seed = (uint64_t)ts.tv_sec * 1000003ULL ^ (uint64_t)ts.tv_nsec;
	while ((c = getopt_long(argc, argv, "s:n:p:d:", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			calls = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			procs = strtoul(optarg, NULL, 0);
			break;
		case 'd':
			node = optarg;
			break;
		default:
			fprintf(stderr,
				"usage: fuzz_lpu [--seed S] [--calls N] [--procs P] [--device NODE]\n");
			return 2;
		}
	}
	if (!procs || procs > 64 || !calls) {
		fprintf(stderr, "fuzz_lpu: --procs must be 1..64 and --calls > 0\n");
		return 2;
	}

	printf("TAP version 13\n1..2\n");
	printf("# fuzz_lpu --seed %" PRIu64 " --calls %lu --procs %lu --device %s\n",
	       seed, calls, procs, node);
	fflush(stdout);
	for (i = 0; i < procs; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0)
			_exit(fuzz_process(node, seed, i, calls));
	}
	for (i = 0; i < procs; i++) {
		int status;
		pid_t pid = wait(&status);

		if (pid < 0)
			break;
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			printf("# process %d ended with %s %d\n", pid,
			       WIFEXITED(status) ? "status" : "signal",
			       WIFEXITED(status) ? WEXITSTATUS(status) :
						   WTERMSIG(status));
			bad++;
		}
	}
	printf("%s 1 fuzz: %lu calls in %lu processes, seed %" PRIu64 ", none crashed or hung\n",
	       bad ? "not ok" : "ok", calls * procs, procs, seed);
	ret = card_still_works(node);
	if (ret)
		printf("not ok 2 the card runs a job after fuzzing: %s\n",
		       lpu_strerror(ret));
	else
		printf("ok 2 the card runs a job after fuzzing\n");
	return bad || ret ? 1 : 0;
}
