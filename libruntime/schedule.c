// SPDX-License-Identifier: MIT
/*
 * Loading and unloading precompiled schedules (uapi/lpu_schedule.h).
 *
 * The container code (sched_file.c) checks every rule of the format; this
 * file checks what only a loader can: the card the schedule targets, the
 * limits of a run (slots), and that every input, output and the stats
 * record lie where the library can reach them through a mapping. Then it
 * allocates one buffer per slot and uploads the slots' initial images,
 * SRAM ones by DMA through a host staging buffer. Instructions are the
 * card's to check: it refuses a bad program before running any of it.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sched_file.h"
#include "schedule.h"

/* Largest schedule file: SRAM-resident weights are far below this. */
#define SCHED_MAX_FILE		(2ULL << 30)
/* The staging buffer of the weight upload, and so the largest copy. */
#define STAGING_MAX		(16ULL << 20)

static const char *role_name(uint32_t role)
{
	static const char *const names[] = {
		[LPU_SLOT_WEIGHTS] = "weights", [LPU_SLOT_SCRATCH] = "scratch",
		[LPU_SLOT_PROGRAM] = "program", [LPU_SLOT_INPUT] = "input",
		[LPU_SLOT_OUTPUT] = "output", [LPU_SLOT_STATS] = "stats",
	};

	return role < ARRAY_SIZE(names) && names[role] ?
		names[role] : "unknown role";
}

const struct sched_io *sched_find_io(const struct lpu_schedule *s,
				     const char *name)
{
	uint32_t i;

	for (i = 0; i < s->io_count; i++)
		if (!strcmp(s->io[i].info.name, name))
			return &s->io[i];
	return NULL;
}

/* A card runs a schedule of its own major and a minor not above its own. */
static int check_target(struct lpu_device *dev, uint32_t target,
			struct lpu_info *card, char *msg, size_t len)
{
	int ret = lpu_query(dev, card);

	if (ret)
		return lpu_msg(msg, len, ret, "cannot query the card: %s",
			       lpu_strerror(ret));
	if (!(card->capabilities & LPU_CAP_EXEC))
		return lpu_msg(msg, len, -EOPNOTSUPP,
			       "the card has no tensor engine (LPU_CAP_EXEC)");
	if (target >> 16 != card->hw_version >> 16 ||
	    (target & 0xffff) > (card->hw_version & 0xffff))
		return lpu_msg(msg, len, -ENOEXEC,
			       "schedule targets hw %u.%u but card is %u.%u",
			       target >> 16, target & 0xffff,
			       card->hw_version >> 16,
			       card->hw_version & 0xffff);
	return 0;
}

/* Bytes of slot @i's initial image, from its section; 0 without one. */
static int slot_image(const struct lpu_sched_view *v, uint32_t i,
		      const uint8_t **img, uint64_t *n, char *msg, size_t len)
{
	const struct lpu_sched_slot *sl = &v->slots[i];
	uint32_t sec = le32toh(sl->init_section);
	uint64_t off = le64toh(sl->init_offset), ssize;
	const struct lpu_sched_section *se;
	uint32_t type;

	*img = NULL;
	*n = 0;
	if (sec == LPU_SCHED_NO_INIT)
		return 0;
	if (sec >= v->section_count)
		return lpu_msg(msg, len, -EINVAL,
			       "slot %u: initial image in section %u, the file has %u",
			       i, sec, v->section_count);
	se = &v->sections[sec];
	type = le32toh(se->type);
	ssize = le64toh(se->size);
	if (type != LPU_SCHED_SEC_WEIGHTS && type != LPU_SCHED_SEC_PROGRAM)
		return lpu_msg(msg, len, -EINVAL,
			       "slot %u: initial image in section %u of type %u, not PROGRAM or WEIGHTS",
			       i, sec, type);
	if (off >= ssize)
		return lpu_msg(msg, len, -EINVAL,
			       "slot %u: initial image at offset %" PRIu64 " of a %" PRIu64 "-byte section",
			       i, off, ssize);
	/* The image runs to the end of its section, at most a slot's worth. */
	*n = ssize - off;
	if (*n > le64toh(sl->size))
		*n = le64toh(sl->size);
	*img = v->data + le64toh(se->offset) + off;
	return 0;
}

/* Where a device address of a run lies: slot index and offset. */
static int addr_slot(const struct lpu_schedule *s, uint64_t addr,
		     uint64_t bytes, uint32_t *slot, uint64_t *off)
{
	uint64_t i = (addr >> 32);

	if (!i || i > s->info.slot_count)
		return -EINVAL;
	*slot = i - 1;
	*off = addr & 0xffffffffULL;
	if (*off > lpu_bo_size(s->slots[*slot].bo) ||
	    bytes > lpu_bo_size(s->slots[*slot].bo) - *off)
		return -EINVAL;
	return 0;
}

static int alloc_slots(struct lpu_schedule *s, const struct lpu_sched_view *v,
		       const struct lpu_info *card, char *msg, size_t len)
{
	uint32_t i;
	int ret;

	if (!v->slot_count || v->slot_count > DRM_LPU_MAX_SLOTS)
		return lpu_msg(msg, len, -EINVAL,
			       "%u buffer slots, a run passes 1..%u",
			       v->slot_count, DRM_LPU_MAX_SLOTS);
	s->info.slot_count = v->slot_count;
	for (i = 0; i < v->slot_count; i++) {
		const struct lpu_sched_slot *sl = &v->slots[i];
		struct sched_slot *ss = &s->slots[i];
		uint64_t size = le64toh(sl->size);

		ss->domain = le32toh(sl->domain);
		ss->role = le32toh(sl->role);
		if (ss->domain != LPU_BO_SRAM && ss->domain != LPU_BO_HOST)
			return lpu_msg(msg, len, -EINVAL,
				       "slot %u: unknown domain %u", i,
				       ss->domain);
		if (!size || size % DRM_LPU_BO_ALIGN || size > DRM_LPU_BO_MAX_SIZE)
			return lpu_msg(msg, len, -EINVAL,
				       "slot %u: size %" PRIu64 " is not a multiple of %u in 4 KiB..1 GiB",
				       i, size, DRM_LPU_BO_ALIGN);
		ret = lpu_bo_alloc(s->dev, ss->domain, size, 0, &ss->bo);
		if (ret == -ENOSPC)
			return lpu_msg(msg, len, ret,
				       "slot %u (%s): no free SRAM range of %llu KiB (schedule needs more SRAM than is free on the card's %llu MiB)",
				       i, role_name(ss->role),
				       (unsigned long long)size >> 10,
				       (unsigned long long)card->sram_size >> 20);
		if (ret)
			return lpu_msg(msg, len, ret,
				       "slot %u (%s): cannot allocate %" PRIu64 " KiB: %s",
				       i, role_name(ss->role), size >> 10,
				       lpu_strerror(ret));
		ss->handle = lpu_bo_handle(ss->bo);
		s->handles[i] = ss->handle;
		if (ss->domain == LPU_BO_SRAM) {
			s->info.sram_bytes += lpu_bo_size(ss->bo);
			continue;
		}
		s->info.host_bytes += lpu_bo_size(ss->bo);
		ret = lpu_bo_map(ss->bo, &ss->map);
		if (ret)
			return lpu_msg(msg, len, ret,
				       "slot %u (%s): cannot map it: %s", i,
				       role_name(ss->role), lpu_strerror(ret));
	}
	return 0;
}

/* Initial images: host slots by memcpy, SRAM slots by DMA. */
static int upload(struct lpu_schedule *s, const struct lpu_sched_view *v,
		  char *msg, size_t len)
{
	struct lpu_bo *staging = NULL;
	uint64_t n, done, chunk, stage_size = 0;
	struct lpu_copy_status st;
	const uint8_t *img;
	void *stage_map;
	uint32_t i;
	int ret = 0;

	for (i = 0; i < v->slot_count; i++) {
		ret = slot_image(v, i, &img, &n, msg, len);
		if (ret)
			return ret;
		if (n && s->slots[i].domain == LPU_BO_SRAM && n > stage_size)
			stage_size = n;
	}
	if (stage_size > STAGING_MAX)
		stage_size = STAGING_MAX;
	if (stage_size) {
		ret = lpu_bo_alloc(s->dev, LPU_BO_HOST, stage_size, 0, &staging);
		if (!ret)
			ret = lpu_bo_map(staging, &stage_map);
		if (ret) {
			lpu_msg(msg, len, ret,
				"staging buffer of the weights: %s",
				lpu_strerror(ret));
			goto out;
		}
	}
	for (i = 0; i < v->slot_count && !ret; i++) {
		struct sched_slot *ss = &s->slots[i];

		slot_image(v, i, &img, &n, NULL, 0);
		if (ss->domain == LPU_BO_HOST) {
			if (n)
				memcpy(ss->map, img, n);
			continue;
		}
		for (done = 0; done < n && !ret; done += chunk) {
			struct lpu_copy_op op = {
				.dst = ss->bo, .dst_offset = done,
				.src = staging, .src_offset = 0,
			};

			chunk = n - done < stage_size ? n - done : stage_size;
			op.size = chunk;
			memcpy(stage_map, img + done, chunk);
			ret = lpu_copy(s->dev, s->queue, &op, 1, &st);
			if (ret)
				lpu_msg(msg, len, ret,
					"slot %u (%s): DMA copy of its image failed at byte %llu: %s",
					i, role_name(ss->role),
					(unsigned long long)done,
					lpu_strerror(ret));
		}
	}
out:
	lpu_bo_free(staging);
	return ret;
}

/*
 * Inputs and outputs must agree with the manifest (what lpu-run and the
 * tests rely on): activations are f32 [T, H], router choices i32 [T, k],
 * expert counters i32 [E] of an existing block.
 */
static int check_io_kind(const struct lpu_schedule *s,
			 const struct lpu_tensor_info *t, char *msg, size_t len)
{
	const struct lpu_schedule_info *in = &s->info;

	switch (t->kind) {
	case LPU_IO_DATA:
		if (t->dtype == LPU_DT_F32 && t->rank == 2 &&
		    t->shape[0] == in->tokens && t->shape[1] == in->hidden &&
		    !t->block)
			return 0;
		return lpu_msg(msg, len, -EINVAL,
			       "I/O '%s': activations must be f32 [%u, %u] (tokens, hidden) of block 0",
			       t->name, in->tokens, in->hidden);
	case LPU_IO_ROUTER_INDEX:
		if (t->direction == LPU_IO_OUTPUT && t->dtype == LPU_DT_I32 &&
		    t->rank == 2 && t->shape[0] == in->tokens &&
		    t->shape[1] == in->top_k && t->block < in->num_blocks)
			return 0;
		return lpu_msg(msg, len, -EINVAL,
			       "I/O '%s': router choices must be an i32 [%u, %u] (tokens, top-k) output of a block below %u",
			       t->name, in->tokens, in->top_k, in->num_blocks);
	case LPU_IO_EXPERT_LOAD:
	case LPU_IO_EXPERT_DROPPED:
		if (t->direction == LPU_IO_OUTPUT && t->dtype == LPU_DT_I32 &&
		    t->rank == 1 && t->shape[0] == in->num_experts &&
		    t->block < in->num_blocks)
			return 0;
		return lpu_msg(msg, len, -EINVAL,
			       "I/O '%s': an expert counter must be an i32 [%u] output of a block below %u",
			       t->name, in->num_experts, in->num_blocks);
	default:
		return lpu_msg(msg, len, -EINVAL, "I/O '%s': unknown kind %u",
			       t->name, t->kind);
	}
}

static int load_io(struct lpu_schedule *s, const struct lpu_sched_view *v,
		   char *msg, size_t len)
{
	uint32_t i, d;
	int ret;

	s->io = calloc(v->io_count ? v->io_count : 1, sizeof(*s->io));
	if (!s->io)
		return lpu_msg(msg, len, -ENOMEM, "out of memory");
	for (i = 0; i < v->io_count; i++) {
		const struct lpu_sched_io *io = &v->io[i];
		struct sched_io *o = &s->io[i];
		struct lpu_tensor_info *ti = &o->info;
		const struct lpu_sched_tensor *t;
		uint32_t ti_idx = le32toh(io->tensor);
		uint64_t elems = 1;

		if (ti_idx >= v->tensor_count)
			return lpu_msg(msg, len, -EINVAL,
				       "I/O %u: tensor %u, the table has %u",
				       i, ti_idx, v->tensor_count);
		t = &v->tensors[ti_idx];
		if (!memchr(t->name, 0, sizeof(t->name)) || !t->name[0])
			return lpu_msg(msg, len, -EINVAL,
				       "I/O %u: tensor %u has no NUL-terminated name",
				       i, ti_idx);
		memcpy(ti->name, t->name, sizeof(ti->name));
		ti->direction = le32toh(io->direction);
		ti->kind = le32toh(io->kind);
		ti->block = le32toh(io->block);
		ti->dtype = le32toh(t->dtype);
		ti->rank = le32toh(t->rank);
		ti->bytes = le64toh(t->bytes);
		o->slot = le32toh(t->slot);
		o->offset = le64toh(t->offset);
		for (d = 0; d < i; d++)
			if (!strcmp(s->io[d].info.name, ti->name))
				return lpu_msg(msg, len, -EINVAL,
					       "I/O %u: the name '%s' is used twice",
					       i, ti->name);
		if (ti->direction != LPU_IO_INPUT && ti->direction != LPU_IO_OUTPUT)
			return lpu_msg(msg, len, -EINVAL,
				       "I/O '%s': unknown direction %u",
				       ti->name, ti->direction);
		if (ti->dtype != LPU_DT_F32 && ti->dtype != LPU_DT_I32)
			return lpu_msg(msg, len, -EINVAL,
				       "I/O '%s': dtype %u, not f32 or i32",
				       ti->name, ti->dtype);
		if (!ti->rank || ti->rank > 4)
			return lpu_msg(msg, len, -EINVAL,
				       "I/O '%s': rank %u, not 1..4",
				       ti->name, ti->rank);
		for (d = 0; d < ti->rank; d++) {
			ti->shape[d] = le32toh(t->shape[d]);
			elems *= ti->shape[d];	/* 4 x 32 bits: cannot wrap */
		}
		if (!elems || elems > UINT64_MAX / 4 || elems * 4 != ti->bytes)
			return lpu_msg(msg, len, -EINVAL,
				       "I/O '%s': %" PRIu64 " bytes for %" PRIu64 " elements of 4 bytes",
				       ti->name, ti->bytes, elems);
		if (o->slot >= s->info.slot_count ||
		    s->slots[o->slot].domain != LPU_BO_HOST)
			return lpu_msg(msg, len, -EINVAL,
				       "I/O '%s': slot %u is not a host slot of the schedule",
				       ti->name, o->slot);
		if (o->offset > lpu_bo_size(s->slots[o->slot].bo) ||
		    ti->bytes > lpu_bo_size(s->slots[o->slot].bo) - o->offset)
			return lpu_msg(msg, len, -EINVAL,
				       "I/O '%s': bytes %" PRIu64 "..+%" PRIu64 " are outside slot %u",
				       ti->name, o->offset, ti->bytes, o->slot);
		ret = check_io_kind(s, ti, msg, len);
		if (ret)
			return ret;
		if (ti->direction == LPU_IO_INPUT)
			s->info.num_inputs++;
		else
			s->info.num_outputs++;
	}
	s->io_count = v->io_count;
	return 0;
}

static void fill_info(struct lpu_schedule *s, const struct lpu_sched_view *v)
{
	const struct lpu_sched_manifest *m = v->manifest;
	struct lpu_schedule_info *in = &s->info;
	uint32_t bits;

	in->arch = le32toh(m->arch);
	in->num_blocks = le32toh(m->num_blocks);
	in->hidden = le32toh(m->hidden);
	in->ffn = le32toh(m->ffn);
	in->num_experts = le32toh(m->num_experts);
	in->top_k = le32toh(m->top_k);
	in->num_shared = le32toh(m->num_shared);
	in->shared_ffn = le32toh(m->shared_ffn);
	in->tokens = le32toh(m->tokens);
	in->capacity = le32toh(m->capacity);
	in->weight_dtype = le32toh(m->weight_dtype);
	in->router_flags = le32toh(m->router_flags);
	bits = le32toh(m->rms_eps);
	memcpy(&in->rms_eps, &bits, sizeof(bits));
	bits = le32toh(m->capacity_factor);
	memcpy(&in->capacity_factor, &bits, sizeof(bits));
	in->insn_count = le32toh(m->insn_count);
	in->target_hw_version = le32toh(v->hdr->target_hw_version);
	in->compiler_version = le32toh(v->hdr->compiler_version);
	memcpy(in->model, m->model, sizeof(in->model));
	in->model[sizeof(in->model) - 1] = '\0';
	s->program_addr = le64toh(m->program);
	s->stats_addr = le64toh(m->stats);
}

static int load_checked(struct lpu_schedule *s, const struct lpu_sched_view *v,
			char *msg, size_t len)
{
	struct lpu_info card;
	uint64_t off;
	uint32_t slot;
	int ret;

	fill_info(s, v);
	ret = check_target(s->dev, s->info.target_hw_version, &card, msg, len);
	if (ret)
		return ret;
	if (s->info.insn_count != v->insn_count)
		return lpu_msg(msg, len, -EINVAL,
			       "manifest says %u instructions, the program section holds %u",
			       s->info.insn_count, v->insn_count);
	s->program = calloc(v->insn_count ? v->insn_count : 1,
			    sizeof(*s->program));
	if (!s->program)
		return lpu_msg(msg, len, -ENOMEM, "out of memory");
	memcpy(s->program, v->program, (size_t)v->insn_count * sizeof(*s->program));

	ret = alloc_slots(s, v, &card, msg, len);
	if (ret)
		return ret;
	if (addr_slot(s, s->stats_addr, LPU_EXEC_STATS_SIZE, &slot, &off) ||
	    s->slots[slot].domain != LPU_BO_HOST)
		return lpu_msg(msg, len, -EINVAL,
			       "stats address 0x%" PRIx64 " is not inside a host slot",
			       s->stats_addr);
	s->stats = (struct lpu_exec_stats *)((uint8_t *)s->slots[slot].map + off);
	ret = load_io(s, v, msg, len);
	if (ret)
		return ret;
	return upload(s, v, msg, len);
}

static int load_view(struct lpu_device *dev, const void *data, size_t size,
		     struct lpu_schedule **out, char *msg, size_t len)
{
	char perr[LPU_MSG_LEN];
	struct lpu_sched_view v;
	struct lpu_schedule *s;
	int ret;

	perr[0] = '\0';
	ret = lpu_sched_parse(data, size, &v, perr, sizeof(perr));
	if (ret)
		return lpu_msg(msg, len, ret, "%s",
			       perr[0] ? perr : lpu_strerror(ret));
	s = calloc(1, sizeof(*s));
	if (!s)
		return lpu_msg(msg, len, -ENOMEM, "out of memory");
	s->dev = dev;
	ret = load_checked(s, &v, msg, len);
	if (ret) {
		lpu_schedule_unload(s);
		return ret;
	}
	*out = s;
	return 0;
}

int lpu_schedule_load_mem(struct lpu_device *dev, const void *data,
			  size_t size, struct lpu_schedule **out, char *msg,
			  size_t msglen)
{
	void *copy = NULL;
	int ret;

	lpu_msg(msg, msglen, 0, "%s", "");
	if (!out)
		return lpu_msg(msg, msglen, -EINVAL, "no place for the schedule");
	*out = NULL;
	if (!dev || !data || !size)
		return lpu_msg(msg, msglen, -EINVAL,
			       "no device or no data (%zu bytes)", size);
	/* The same limit as for files (lpu_schedule_load). */
	if (size > SCHED_MAX_FILE)
		return lpu_msg(msg, msglen, -EINVAL,
			       "%zu bytes: larger than a schedule may be (2 GiB)",
			       size);
	/* The parser needs 8-byte alignment; nothing is kept after loading. */
	if ((uintptr_t)data % 8) {
		copy = malloc(size);
		if (!copy)
			return lpu_msg(msg, msglen, -ENOMEM, "out of memory");
		memcpy(copy, data, size);
		data = copy;
	}
	ret = load_view(dev, data, size, out, msg, msglen);
	free(copy);
	return ret;
}

int lpu_schedule_load(struct lpu_device *dev, const char *path,
		      struct lpu_schedule **out, char *msg, size_t msglen)
{
	uint8_t *buf = NULL;
	size_t got = 0;
	struct stat st;
	ssize_t r;
	int fd, ret;

	lpu_msg(msg, msglen, 0, "%s", "");
	if (!out)
		return lpu_msg(msg, msglen, -EINVAL, "no place for the schedule");
	*out = NULL;
	if (!dev || !path || !*path)
		return lpu_msg(msg, msglen, -EINVAL, "no device or no path");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lpu_msg(msg, msglen, -errno, "%s: %s", path,
			       lpu_strerror(-errno));
	if (fstat(fd, &st)) {
		ret = lpu_msg(msg, msglen, -errno, "%s: %s", path,
			      lpu_strerror(-errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > SCHED_MAX_FILE) {
		ret = lpu_msg(msg, msglen, -EINVAL,
			      "%s: not a regular file of 1 byte .. 2 GiB", path);
		goto out;
	}
	buf = malloc(st.st_size);	/* malloc() aligns for any type */
	if (!buf) {
		ret = lpu_msg(msg, msglen, -ENOMEM, "%s: out of memory", path);
		goto out;
	}
	while (got < (size_t)st.st_size) {
		r = read(fd, buf + got, st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			ret = lpu_msg(msg, msglen, r ? -errno : -EIO,
				      "%s: read failed at byte %zu", path, got);
			goto out;
		}
		got += r;
	}
	ret = load_view(dev, buf, got, out, msg, msglen);
	if (ret && msg && msglen) {
		char inner[LPU_MSG_LEN];

		snprintf(inner, sizeof(inner), "%s", msg);
		snprintf(msg, msglen, "%s: %s", path, inner);
	}
out:
	free(buf);
	close(fd);
	return ret;
}

int lpu_schedule_unload(struct lpu_schedule *s)
{
	uint32_t i;
	int ret = 0, r;

	if (!s)
		return 0;
	/* Its buffers would outlive us in the job; wait so SRAM is free. */
	if (s->in_flight)
		lpu_wait(s->dev, s->in_flight, LPU_WAIT_FOREVER, NULL);
	for (i = 0; i < DRM_LPU_MAX_SLOTS; i++) {
		r = lpu_bo_free(s->slots[i].bo);
		if (r && !ret)
			ret = r;
	}
	free(s->io);
	free(s->program);
	free(s);
	return ret;
}

int lpu_schedule_info(const struct lpu_schedule *s,
		      struct lpu_schedule_info *info)
{
	if (!s || !info)
		return -EINVAL;
	*info = s->info;
	return 0;
}

int lpu_schedule_tensor(const struct lpu_schedule *s, unsigned int index,
			struct lpu_tensor_info *info)
{
	if (!s || !info)
		return -EINVAL;
	if (index >= s->io_count)
		return -ENOENT;
	*info = s->io[index].info;
	return 0;
}

int lpu_schedule_find(const struct lpu_schedule *s, const char *name,
		      struct lpu_tensor_info *info)
{
	const struct sched_io *o;

	if (!s || !name || !info)
		return -EINVAL;
	o = sched_find_io(s, name);
	if (!o)
		return -ENOENT;
	*info = o->info;
	return 0;
}

/* The mapping of I/O @name for @dir of exactly @bytes, or an error. */
static int io_map(struct lpu_schedule *s, const char *name, uint32_t dir,
		  uint64_t bytes, uint8_t **p)
{
	const struct sched_io *o;

	if (!s || !name)
		return -EINVAL;
	o = sched_find_io(s, name);
	if (!o)
		return -ENOENT;
	if (o->info.direction != dir || o->info.bytes != bytes)
		return -EINVAL;
	if (s->in_flight)
		return -EBUSY;
	*p = (uint8_t *)s->slots[o->slot].map + o->offset;
	return 0;
}

int lpu_schedule_set_input(struct lpu_schedule *s, const char *name,
			   const void *data, uint64_t bytes)
{
	uint8_t *p;
	int ret;

	if (!data)
		return -EINVAL;
	ret = io_map(s, name, LPU_IO_INPUT, bytes, &p);
	if (!ret)
		memcpy(p, data, bytes);
	return ret;
}

int lpu_schedule_get_output(struct lpu_schedule *s, const char *name,
			    void *data, uint64_t bytes)
{
	uint8_t *p;
	int ret;

	if (!data)
		return -EINVAL;
	ret = io_map(s, name, LPU_IO_OUTPUT, bytes, &p);
	if (!ret)
		memcpy(data, p, bytes);
	return ret;
}

int lpu_schedule_set_queue(struct lpu_schedule *s, unsigned int queue)
{
	if (!s)
		return -EINVAL;
	/* The number of queues is the driver's to check, at submission. */
	s->queue = queue;
	return 0;
}

int lpu_schedule_set_timeout(struct lpu_schedule *s, uint32_t timeout_ms)
{
	if (!s || timeout_ms > DRM_LPU_EXEC_MAX_TIMEOUT_MS)
		return -EINVAL;
	s->timeout_ms = timeout_ms;
	return 0;
}
