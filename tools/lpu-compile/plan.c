// SPDX-License-Identifier: MIT
/*
 * The buffer plan: slots (one buffer each per run) and the tensors placed
 * in them, LPU_EXEC_ALIGN aligned one after the other. Weights go to
 * weights slots, a new one whenever the current one would pass
 * DRM_LPU_BO_MAX_SIZE; their images are laid out back to back in the
 * WEIGHTS section, each slot's from a page-aligned offset, so the loader
 * can copy a slot's image as "the section from init_offset, up to the
 * slot's size".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

int plan_slot(struct plan *p, uint32_t role, uint32_t domain)
{
	struct plan_slot *s;

	if (p->nslots == DRM_LPU_MAX_SLOTS)
		return err("more than %u buffer slots needed (weights larger than %u GiB?)",
			   DRM_LPU_MAX_SLOTS,
			   (unsigned int)((DRM_LPU_MAX_SLOTS - 5) *
					  (DRM_LPU_BO_MAX_SIZE >> 30)));
	s = &p->slots[p->nslots];
	memset(s, 0, sizeof(*s));
	s->role = role;
	s->domain = domain;
	return (int)p->nslots++;
}

static uint64_t bytes_of(uint32_t dtype, uint32_t rank, const uint32_t *shape)
{
	uint64_t rows = 1, k = shape[rank - 1];
	uint32_t i;

	for (i = 0; i + 1 < rank; i++)
		rows *= shape[i];
	switch (dtype) {
	case LPU_DT_BF16:
		return rows * k * 2;
	case LPU_DT_I8:
		return LPU_QBLOCK_SIZE(1, rows, k);
	default:
		return rows * k * 4;
	}
}

int plan_tensor_at(struct plan *p, uint32_t slot, uint64_t offset,
		   const char *name, uint32_t dtype, uint32_t rank,
		   const uint32_t *shape)
{
	struct lpu_sched_tensor *t;
	uint64_t bytes = bytes_of(dtype, rank, shape);
	uint32_t i;

	if (p->ntensors == PLAN_MAX_TENSORS)
		return err("more than %u tensors", PLAN_MAX_TENSORS);
	if (strlen(name) >= LPU_SCHED_NAME_LEN)
		return err("tensor name '%s' longer than %u bytes", name,
			   LPU_SCHED_NAME_LEN - 1);
	if (offset + bytes > DRM_LPU_BO_MAX_SIZE)
		return err("tensor '%s' (%llu bytes) does not fit in a %llu MiB buffer",
			   name, (unsigned long long)bytes,
			   (unsigned long long)(DRM_LPU_BO_MAX_SIZE >> 20));
	t = &p->tensors[p->ntensors];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->slot = slot;
	t->dtype = dtype;
	t->offset = offset;
	t->bytes = bytes;
	t->rank = rank;
	for (i = 0; i < rank; i++)
		t->shape[i] = shape[i];
	if (p->slots[slot].size < offset + bytes)
		p->slots[slot].size = offset + bytes;
	return (int)p->ntensors++;
}

int plan_tensor(struct plan *p, uint32_t slot, const char *name,
		uint32_t dtype, uint32_t rank, const uint32_t *shape)
{
	return plan_tensor_at(p, slot, align_up(p->slots[slot].size, LPU_EXEC_ALIGN),
			      name, dtype, rank, shape);
}

int plan_weight(struct plan *p, const char *name, uint32_t dtype,
		uint32_t rank, const uint32_t *shape)
{
	uint64_t bytes = bytes_of(dtype, rank, shape);
	int slot = -1;
	uint32_t i;

	for (i = 0; i < p->nslots; i++)
		if (p->slots[i].role == LPU_SLOT_WEIGHTS)
			slot = (int)i;
	if (slot < 0 || align_up(p->slots[slot].size, LPU_EXEC_ALIGN) + bytes >
	    DRM_LPU_BO_MAX_SIZE) {
		slot = plan_slot(p, LPU_SLOT_WEIGHTS, DRM_LPU_BO_SRAM);
		if (slot < 0)
			return -1;
	}
	return plan_tensor(p, (uint32_t)slot, name, dtype, rank, shape);
}

int plan_finish(struct plan *p)
{
	uint64_t image = 0, last_used = 0;
	uint32_t i;

	for (i = 0; i < p->nslots; i++) {
		struct plan_slot *s = &p->slots[i];
		uint64_t used = s->size;

		s->size = align_up(used ? used : 1, DRM_LPU_BO_ALIGN);
		if (s->role != LPU_SLOT_WEIGHTS)
			continue;
		s->image_offset = image;
		last_used = used;
		image += s->size;
	}
	if (!image)
		return 0;
	/*
	 * The last image needs only its used bytes, rounded up: slot images
	 * are LPU_SCHED_ALIGN multiples (lpu_sched_parse() checks that).
	 */
	for (i = p->nslots; i-- > 0;)
		if (p->slots[i].role == LPU_SLOT_WEIGHTS) {
			p->weights_size = p->slots[i].image_offset +
					  align_up(last_used, LPU_SCHED_ALIGN);
			break;
		}
	p->weights = calloc(1, p->weights_size);
	if (!p->weights)
		return err("out of memory for %llu bytes of weights",
			   (unsigned long long)p->weights_size);
	return 0;
}

uint64_t plan_addr(const struct plan *p, int tensor)
{
	const struct lpu_sched_tensor *t = &p->tensors[tensor];

	return DRM_LPU_EXEC_SLOT_ADDR(t->slot) + t->offset;
}

uint64_t plan_bytes(const struct plan *p, int tensor)
{
	return p->tensors[tensor].bytes;
}

uint8_t *plan_weight_data(struct plan *p, int tensor)
{
	const struct lpu_sched_tensor *t = &p->tensors[tensor];

	return p->weights + p->slots[t->slot].image_offset + t->offset;
}
