/* SPDX-License-Identifier: MIT */
/*
 * LPU precompiled schedule: the file format lpu-compile writes and liblpu
 * loads. This is the single source of truth for the format; the prose
 * specification with byte layouts is uapi/lpu_schedule.md.
 *
 * A schedule is a container: a header, a section table and sections. It
 * carries everything needed to run a fixed-shape Mixture-of-Experts
 * computation on the card: the buffer slots to allocate, what to upload
 * into them, the program for the tensor engine (struct lpu_insn of
 * uapi/lpu_hw.h) and where the inputs and outputs live.
 *
 * Instruction operands are device addresses DRM_LPU_EXEC_SLOT_ADDR(slot) +
 * offset (uapi/drm/lpu_accel.h): the kernel maps slot i to the i-th buffer
 * of the job, so a program needs no relocation at load time. The loader
 * allocates one buffer per slot, uploads each slot's initial contents, and
 * passes the buffers in slot order with every run.
 *
 * All integers are little-endian. Every offset is from the start of the
 * file. Reserved fields and padding are zero.
 */
#ifndef LPU_SCHEDULE_H
#define LPU_SCHEDULE_H

#include <linux/types.h>

#define LPU_SCHED_MAGIC			"LPUSCHED"	/* 8 bytes, no NUL */
#define LPU_SCHED_VERSION_MAJOR		1	/* readers refuse others */
#define LPU_SCHED_VERSION_MINOR		0	/* readers accept any */
/*
 * Section offsets, slot init_offsets and slot image sizes
 * (min(slot size, section size - init_offset)) are multiples of this.
 */
#define LPU_SCHED_ALIGN			64
#define LPU_SCHED_MAX_SECTIONS		32
#define LPU_SCHED_MAX_TENSORS		4096
#define LPU_SCHED_MAX_IO		256
#define LPU_SCHED_NAME_LEN		48

/*
 * struct lpu_sched_header - at offset 0 (80 bytes)
 * @file_crc32c is the CRC32C (Castagnoli, as iSCSI) of the whole file,
 * computed with these four bytes taken as zero.
 * @target_hw_version is the LPU_HW_VERSION (major << 16 | minor) the
 * program was compiled for: a card runs it if its major is the same and
 * its minor is not lower.
 */
struct lpu_sched_header {
	__u8 magic[8];
	__le16 version_major;
	__le16 version_minor;
	__le32 header_size;		/* sizeof(struct lpu_sched_header) */
	__le32 target_hw_version;
	__le32 compiler_version;	/* major << 16 | minor << 8 | patch */
	__le32 flags;			/* 0 */
	__le32 section_count;		/* 1..LPU_SCHED_MAX_SECTIONS */
	__le64 section_table;		/* offset of the section table */
	__le64 file_size;		/* exact size of the file */
	__u8 build_id[16];		/* identifies the compiler build */
	__le32 file_crc32c;
	__le32 rsvd[3];
};

/*
 * struct lpu_sched_section - one entry of the section table (32 bytes)
 * Sections lie inside the file, LPU_SCHED_ALIGN aligned, and do not
 * overlap each other, the header or the section table. Every type below
 * except LPU_SCHED_SEC_WEIGHTS appears exactly once; WEIGHTS at most once.
 * A section of a type the reader does not know is refused, unless it has
 * LPU_SCHED_SEC_OPTIONAL, which later minor versions set on what older
 * readers may skip.
 */
struct lpu_sched_section {
	__le32 type;			/* LPU_SCHED_SEC_* */
	__le32 flags;			/* LPU_SCHED_SEC_OPTIONAL or 0 */
	__le64 offset;
	__le64 size;
	__le32 crc32c;			/* of the section's bytes */
	__le32 rsvd;
};

#define LPU_SCHED_SEC_MANIFEST		1	/* struct lpu_sched_manifest */
#define LPU_SCHED_SEC_SLOTS		2	/* struct lpu_sched_slot[] */
#define LPU_SCHED_SEC_TENSORS		3	/* struct lpu_sched_tensor[] */
#define LPU_SCHED_SEC_PROGRAM		4	/* struct lpu_insn[] */
#define LPU_SCHED_SEC_IO		5	/* struct lpu_sched_io[] */
#define LPU_SCHED_SEC_WEIGHTS		6	/* raw slot images */

#define LPU_SCHED_SEC_OPTIONAL		(1U << 0)

/* struct lpu_sched_manifest.arch: which checkpoint naming it came from */
#define LPU_SCHED_ARCH_MIXTRAL		1
#define LPU_SCHED_ARCH_DEEPSEEK		2	/* also Qwen-MoE */

/*
 * struct lpu_sched_manifest - what the schedule computes (256 bytes)
 * @num_blocks MoE blocks run one after the other on T tokens of width H:
 * x = x + shared_ffn(rmsnorm(x)) + sum over the top-k routed experts of
 * weight * expert_ffn(rmsnorm(x)). Each routed expert runs exactly
 * @capacity slots; tokens beyond them are dropped for that expert (and
 * counted). @program, @insn_count and @stats are what a run passes in its
 * struct drm_lpu_exec.
 */
struct lpu_sched_manifest {
	__le32 arch;			/* LPU_SCHED_ARCH_* */
	__le32 num_blocks;
	__le32 hidden;			/* H */
	__le32 ffn;			/* F of one routed expert */
	__le32 num_experts;		/* E */
	__le32 top_k;			/* k */
	__le32 num_shared;		/* shared experts, 0 if none */
	__le32 shared_ffn;		/* F of one shared expert */
	__le32 tokens;			/* T, tokens per run */
	__le32 capacity;		/* C, slots per expert */
	__le32 weight_dtype;		/* LPU_DT_F32, _BF16 or _I8 */
	__le32 act_dtype;		/* LPU_DT_F32 */
	__le32 router_flags;		/* LPU_TOPK_* */
	__le32 rms_eps;			/* binary32 bits */
	__le32 capacity_factor;		/* binary32 bits */
	__le32 insn_count;
	__le64 program;			/* device address */
	__le64 stats;			/* device address */
	char model[64];			/* NUL-terminated, informational */
	__le32 rsvd[28];
};

/* struct lpu_sched_slot.role */
#define LPU_SLOT_WEIGHTS		1	/* SRAM, uploaded once at load */
#define LPU_SLOT_SCRATCH		2	/* SRAM, activations */
#define LPU_SLOT_PROGRAM		3	/* the instruction stream */
#define LPU_SLOT_INPUT			4	/* host, written before a run */
#define LPU_SLOT_OUTPUT			5	/* host, read after a run */
#define LPU_SLOT_STATS			6	/* host, struct lpu_exec_stats */

/* Initial contents: none, the slot starts zeroed. */
#define LPU_SCHED_NO_INIT		0xffffffffU

/*
 * struct lpu_sched_slot - one buffer of every run (32 bytes)
 * Slot i of the table is the buffer at DRM_LPU_EXEC_SLOT_ADDR(i).
 * @size is a multiple of DRM_LPU_BO_ALIGN. Unless @init_section is
 * LPU_SCHED_NO_INIT, the loader copies the bytes of that section (a PROGRAM
 * or WEIGHTS section) from @init_offset on, at most @size of them, into the
 * slot at offset 0 before the first run, so several slots can take their
 * images from one section.
 */
struct lpu_sched_slot {
	__le64 size;
	__le32 domain;			/* DRM_LPU_BO_SRAM or _HOST */
	__le32 role;			/* LPU_SLOT_* */
	__le32 init_section;		/* section index or LPU_SCHED_NO_INIT */
	__le32 rsvd;
	__le64 init_offset;		/* LPU_SCHED_ALIGN multiple */
};

/*
 * struct lpu_sched_tensor - where a tensor lives: the SRAM plan (96 bytes)
 * @shape has @rank (1..4) non-zero leading entries and zeroes after them.
 * @bytes is the whole tensor, LPU_QBLOCK_SIZE() for an I8 weight block.
 * The tensor [offset, offset + bytes) lies inside its slot.
 */
struct lpu_sched_tensor {
	char name[LPU_SCHED_NAME_LEN];	/* NUL-terminated, NUL-padded */
	__le32 slot;
	__le32 dtype;			/* LPU_DT_* */
	__le64 offset;
	__le64 bytes;
	__le32 rank;
	__le32 shape[4];
	__le32 rsvd;
};

#define LPU_IO_INPUT			1
#define LPU_IO_OUTPUT			2

/* struct lpu_sched_io.kind: what an output holds */
#define LPU_IO_DATA			1	/* activations */
#define LPU_IO_ROUTER_INDEX		2	/* i32 [T, k] chosen experts */
#define LPU_IO_EXPERT_LOAD		3	/* i32 [E] tokens routed */
#define LPU_IO_EXPERT_DROPPED		4	/* i32 [E] over capacity */

/*
 * struct lpu_sched_io - an input or output of a run (16 bytes)
 * @tensor indexes the tensor table; it lives in an LPU_SLOT_INPUT slot for
 * an input and an LPU_SLOT_OUTPUT slot for an output. @block is the MoE
 * block a router index or expert counter belongs to, 0 for data.
 */
struct lpu_sched_io {
	__le32 tensor;
	__le32 direction;		/* LPU_IO_INPUT or _OUTPUT */
	__le32 kind;			/* LPU_IO_* */
	__le32 block;
};

#endif /* LPU_SCHEDULE_H */
