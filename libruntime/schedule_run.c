// SPDX-License-Identifier: MIT
/*
 * Running a loaded schedule: one LPU_JOB_EXEC job on the schedule's
 * buffers, its outcome from DRM_IOCTL_LPU_WAIT turned into a message that
 * names the instruction and the reason the card gave, and the cycles from
 * the stats record the card writes at the end of a successful run.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "schedule.h"

static const char *opcode_name(uint8_t op)
{
	switch (op) {
	case LPU_INSN_COPY: return "COPY";
	case LPU_INSN_MATMUL: return "MATMUL";
	case LPU_INSN_EXPERT_FFN: return "EXPERT_FFN";
	case LPU_INSN_ADD: return "ADD";
	case LPU_INSN_MUL: return "MUL";
	case LPU_INSN_SILU: return "SILU";
	case LPU_INSN_SWIGLU: return "SWIGLU";
	case LPU_INSN_RMSNORM: return "RMSNORM";
	case LPU_INSN_SOFTMAX: return "SOFTMAX";
	case LPU_INSN_TOPK: return "TOPK";
	case LPU_INSN_DISPATCH: return "DISPATCH";
	case LPU_INSN_COMBINE: return "COMBINE";
	default: return "unknown opcode";
	}
}

static const char *reason_text(uint32_t reason)
{
	static const char *const text[LPU_EXEC_E_COUNT] = {
		[LPU_EXEC_E_PROGRAM] = "descriptor, program or stats address refused",
		[LPU_EXEC_E_OPCODE] = "unknown opcode",
		[LPU_EXEC_E_FLAGS] = "flag not defined for the opcode",
		[LPU_EXEC_E_RESERVED] = "unused field not zero",
		[LPU_EXEC_E_DTYPE] = "dtype not allowed for the opcode",
		[LPU_EXEC_E_SHAPE] = "bad shape (a dimension 0, too large or inconsistent)",
		[LPU_EXEC_E_OPERAND] = "operand out of bounds (not inside one buffer of the required kind)",
		[LPU_EXEC_E_ALIGN] = "operand not 64-byte aligned",
		[LPU_EXEC_E_ALIAS] = "output overlaps another operand",
		[LPU_EXEC_E_INDEX] = "index read from memory out of range",
		[LPU_EXEC_E_LIMIT] = "more multiply-accumulates than one instruction may do",
	};

	return reason < LPU_EXEC_E_COUNT && text[reason] ? text[reason] :
		"unknown reason";
}

/* "slot 2 + 0x1000" for an address of the run's slots, else the number. */
static void describe_addr(const struct lpu_schedule *s, uint64_t addr,
			  char *buf, size_t len)
{
	uint64_t slot = addr >> 32;

	if (slot && slot <= s->info.slot_count)
		snprintf(buf, len, "slot %" PRIu64 " + 0x%" PRIx64 " (0x%" PRIx64 ")",
			 slot - 1, (uint64_t)(addr & 0xffffffffULL), addr);
	else
		snprintf(buf, len, "0x%" PRIx64 " (in no slot)", addr);
}

static void explain(const struct lpu_schedule *s,
		    struct lpu_schedule_result *r)
{
	char where[96];
	const char *op;

	switch (r->status) {
	case 0:
		r->message[0] = '\0';
		break;
	case -ENOEXEC:
		if (r->error_insn == LPU_EXEC_INSN_NONE) {
			snprintf(r->message, sizeof(r->message),
				 "the card refused the run: %s (program 0x%llx, %u instructions, stats 0x%llx)",
				 reason_text(r->error_reason),
				 (unsigned long long)s->program_addr,
				 s->info.insn_count,
				 (unsigned long long)s->stats_addr);
			break;
		}
		op = r->error_insn < s->info.insn_count ?
			opcode_name(s->program[r->error_insn].opcode) :
			"beyond the program";
		if (r->error_reason == LPU_EXEC_E_OPERAND) {
			describe_addr(s, r->fault_addr, where, sizeof(where));
			snprintf(r->message, sizeof(r->message),
				 "instruction %u (%s): %s at %s", r->error_insn,
				 op, reason_text(r->error_reason), where);
		} else {
			snprintf(r->message, sizeof(r->message),
				 "instruction %u (%s): %s", r->error_insn, op,
				 reason_text(r->error_reason));
		}
		break;
	case -EFAULT:
		describe_addr(s, r->fault_addr, where, sizeof(where));
		snprintf(r->message, sizeof(r->message),
			 "device fault: %s %s at %s",
			 r->fault_kind & DRM_LPU_FAULT_WRITE ? "write" : "read",
			 (r->fault_kind & 0xff) == DRM_LPU_FAULT_NOT_MAPPED ?
			 "of unmapped memory" : "past the end of a buffer",
			 where);
		break;
	case -ETIMEDOUT:
		snprintf(r->message, sizeof(r->message),
			 "the run did not finish within its timeout (%u ms, 0 = the driver's) and was stopped",
			 s->timeout_ms);
		break;
	default:
		snprintf(r->message, sizeof(r->message), "the run failed: %s",
			 lpu_strerror(r->status));
		break;
	}
}

int lpu_schedule_submit(struct lpu_schedule *s, struct lpu_fence *fence)
{
	struct drm_lpu_submit req;
	struct drm_lpu_exec ex;
	int ret;

	if (!fence)
		return -EINVAL;
	fence->seq = 0;
	if (!s)
		return -EINVAL;
	if (s->in_flight)
		return -EBUSY;
	/* A stale record must never pass for this run's. */
	memset(s->stats, 0, sizeof(*s->stats));

	memset(&ex, 0, sizeof(ex));
	ex.slots = (uintptr_t)s->handles;
	ex.slot_count = s->info.slot_count;
	ex.insn_count = s->info.insn_count;
	ex.program = s->program_addr;
	ex.stats = s->stats_addr;
	ex.timeout_ms = s->timeout_ms;
	memset(&req, 0, sizeof(req));
	req.queue = s->queue;
	req.job_type = LPU_JOB_EXEC;
	req.exec = (uintptr_t)&ex;
	ret = lpu_ioctl(s->dev, DRM_IOCTL_LPU_SUBMIT, &req);
	if (ret)
		return ret;
	s->in_flight = req.seq;
	s->last_seq = req.seq;
	fence->seq = req.seq;
	return 0;
}

int lpu_schedule_wait(struct lpu_schedule *s, const struct lpu_fence *fence,
		      int64_t timeout_ns, struct lpu_schedule_result *res)
{
	struct lpu_schedule_result r;
	struct drm_lpu_wait req;
	int ret;

	if (res)
		memset(res, 0, sizeof(*res));
	if (!s || !fence || !fence->seq)
		return -EINVAL;
	ret = lpu_wait_job(s->dev, fence->seq, timeout_ns, &req);
	if (ret)
		return ret;
	if (fence->seq == s->in_flight)
		s->in_flight = 0;

	memset(&r, 0, sizeof(r));
	r.status = req.status;
	r.device_ns = req.device_ns;
	r.error_insn = req.error_insn;
	r.error_reason = req.error_reason;
	r.fault_addr = req.fault_addr;
	r.fault_kind = req.fault_kind;
	/* The record is the newest run's: an older run's cycles are gone. */
	if (!r.status && fence->seq == s->last_seq) {
		r.cycles = le64toh(s->stats->cycles);
		r.insns = le32toh(s->stats->insns);
	}
	explain(s, &r);
	/* The card says it ran the program: it must have run all of it. */
	if (!r.status && fence->seq == s->last_seq &&
	    (r.insns != s->info.insn_count || !r.cycles)) {
		r.status = -EIO;
		snprintf(r.message, sizeof(r.message),
			 "the stats record says %u instructions in %" PRIu64 " cycles, the program has %u",
			 r.insns, r.cycles, s->info.insn_count);
	}
	if (res)
		*res = r;
	return 0;
}

/* lpu.h promises a status and a message on every failure; returns @err. */
static int run_failed(struct lpu_schedule_result *res, int err,
		      const char *step)
{
	if (res) {
		res->status = err;
		snprintf(res->message, sizeof(res->message),
			 "%s the run failed: %s", step, lpu_strerror(err));
	}
	return err;
}

int lpu_schedule_run(struct lpu_schedule *s, struct lpu_schedule_result *res)
{
	struct lpu_schedule_result r;
	struct lpu_fence fence;
	int ret;

	if (res)
		memset(res, 0, sizeof(*res));
	ret = lpu_schedule_submit(s, &fence);
	if (ret)
		return run_failed(res, ret, "submitting");
	ret = lpu_schedule_wait(s, &fence, LPU_WAIT_FOREVER, &r);
	if (ret)
		return run_failed(res, ret, "waiting for");
	if (res)
		*res = r;
	return r.status;
}

int lpu_schedule_expert_counts(struct lpu_schedule *s, unsigned int block,
			       uint32_t *load, uint32_t *dropped,
			       unsigned int count)
{
	const struct sched_io *io;
	unsigned int found = 0;
	uint32_t i, e, *dst;
	const uint8_t *p;

	if (!s)
		return -EINVAL;
	if (count < s->info.num_experts && (load || dropped))
		return -EINVAL;
	if (s->in_flight)
		return -EBUSY;
	for (i = 0; i < s->io_count; i++) {
		io = &s->io[i];
		if (io->info.block != block || io->info.direction != LPU_IO_OUTPUT)
			continue;
		if (io->info.kind == LPU_IO_EXPERT_LOAD)
			dst = load;
		else if (io->info.kind == LPU_IO_EXPERT_DROPPED)
			dst = dropped;
		else
			continue;
		found++;
		p = (const uint8_t *)s->slots[io->slot].map + io->offset;
		for (e = 0; dst && e < s->info.num_experts; e++) {
			uint32_t v;

			memcpy(&v, p + 4 * e, 4);
			dst[e] = le32toh(v);
		}
	}
	return found ? (int)s->info.num_experts : -ENOENT;
}
