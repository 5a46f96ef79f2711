/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * LPU v3 hardware interface: PCI identity, BAR0 register map, queue ring
 * descriptors, fence records and device error codes.
 *
 * This is the single source of truth for the hardware interface. The kernel
 * driver (driver/), the QEMU device model (qemu-device/) and the tools that
 * decode device state all include this file; nothing copies from it.
 * The prose specification is uapi/lpu_hw.md.
 *
 * Everything the device reads from or writes to host memory is little-endian.
 */
#ifndef LPU_HW_H
#define LPU_HW_H

#include <linux/types.h>

/* ---- PCI identity ------------------------------------------------------ */

#define LPU_PCI_VENDOR_ID		0x4c50	/* "LP", not assigned in pci.ids */
#define LPU_PCI_DEVICE_ID_V3		0x0003
#define LPU_PCI_REVISION_V3		0x01
/* PCI base class 0x12 "processing accelerator", subclass 0x00 */
#define LPU_PCI_CLASS_ACCEL		0x1200

/* ---- BARs -------------------------------------------------------------- */

#define LPU_BAR_REGS			0	/* 32-bit MMIO, LPU_REGS_SIZE */
#define LPU_BAR_SRAM			2	/* 64-bit prefetchable SRAM aperture */
#define LPU_BAR_MSIX			4	/* MSI-X table and PBA, nothing else */

#define LPU_REGS_SIZE			0x10000
#define LPU_SRAM_SIZE_DEFAULT		(256ULL << 20)

/* ---- MSI-X vectors ----------------------------------------------------- */

/* Hardware queues; the running firmware may offer fewer (NUM_QUEUES). */
#define LPU_NUM_QUEUES			4
#define LPU_MSIX_VEC_DEVICE		0	/* device error, firmware mailbox */
#define LPU_MSIX_VEC_QUEUE(q)		(1 + (q))
#define LPU_MSIX_NUM_VECTORS		(1 + LPU_NUM_QUEUES)

/*
 * ---- BAR0 registers ----------------------------------------------------
 *
 * Every register is 32 bits wide and must be accessed with naturally aligned
 * 4-byte loads and stores. The device ignores (and logs) other access sizes;
 * reads of undefined offsets return 0.
 */

/* Identity */
#define LPU_REG_ID			0x0000	/* RO: LPU_ID_MAGIC */
#define LPU_REG_VERSION			0x0004	/* RO: major << 16 | minor */
#define LPU_REG_CAPS			0x0008	/* RO: LPU_CAP_* */
#define LPU_REG_NUM_QUEUES		0x000c	/* RO: the firmware's, 0 if none */
#define LPU_REG_SRAM_SIZE_LO		0x0010	/* RO: SRAM bytes, low half */
#define LPU_REG_SRAM_SIZE_HI		0x0014	/* RO: SRAM bytes, high half */
#define LPU_REG_MAX_RING_ENTRIES	0x0018	/* RO: largest Q_RING_SIZE, ditto */
#define LPU_REG_SCRATCH			0x001c	/* RW: liveness, no side effect */

#define LPU_ID_MAGIC			0x4c505533	/* "LPU3" */
#define LPU_HW_VERSION_MAJOR		3
#define LPU_HW_VERSION_MINOR		0
#define LPU_HW_VERSION			((LPU_HW_VERSION_MAJOR << 16) | \
					 LPU_HW_VERSION_MINOR)
#define LPU_MAX_RING_ENTRIES		4096

#define LPU_CAP_QUEUES			(1U << 0)	/* descriptor rings */
#define LPU_CAP_FENCE			(1U << 1)	/* FENCE descriptor */
#define LPU_CAP_TIMESTAMPS		(1U << 2)	/* fence records carry times */
#define LPU_CAP_TELEMETRY		(1U << 3)	/* telemetry block */
#define LPU_CAP_FW_MAILBOX		(1U << 4)	/* firmware boot mailbox */
#define LPU_CAP_DMA			(1U << 5)	/* COPY descriptors */
#define LPU_CAP_EXEC			(1U << 6)	/* EXEC: the tensor engine */
#define LPU_CAP_SCRUB			(1U << 7)	/* SRAM scrub engine */

/* Device status and control */
#define LPU_REG_STATUS			0x0020	/* RO: LPU_STATUS_* */
#define LPU_REG_RESET			0x0024	/* WO: LPU_RESET_MAGIC resets */
#define LPU_REG_ERROR_CODE		0x0028	/* RO: first latched LPU_ERR_* */
#define LPU_REG_ERROR_QUEUE		0x002c	/* RO: queue of that error */
#define LPU_REG_ERROR_ACK		0x0030	/* WO: any value clears error */

#define LPU_STATUS_READY		(1U << 0)
#define LPU_STATUS_ERROR		(1U << 1)	/* ERROR_CODE is valid */
#define LPU_STATUS_BUSY			(1U << 2)	/* some queue has work */

/* A magic value, so a stray write of 1 cannot wipe the device. */
#define LPU_RESET_MAGIC			0x52534554	/* "RSET" */

/* Interrupts */
#define LPU_REG_IRQ_STATUS		0x0040	/* RW1C: LPU_IRQ_* */
#define LPU_REG_IRQ_MASK		0x0044	/* RW: 1 = enabled */

#define LPU_IRQ_QUEUE(q)		(1U << (q))	/* completion or error */
#define LPU_IRQ_MAILBOX			(1U << 30)
#define LPU_IRQ_ERROR			(1U << 31)	/* device error latched */
#define LPU_IRQ_ALL			(LPU_IRQ_ERROR | LPU_IRQ_MAILBOX | \
					 ((1U << LPU_NUM_QUEUES) - 1))

/*
 * Firmware boot mailbox. The card runs no queue until its boot ROM has
 * booted a valid image (firmware/lpu_fw.h): the driver writes the image's
 * bus address and size, then LPU_FW_CMD_BOOT. The boot ROM reads the image
 * by DMA, checks it (uapi/lpu_hw.md, Firmware boot, lists the checks in
 * order), and FW_STATUS goes ROM or ERROR -> BOOTING -> READY or ERROR,
 * raising LPU_IRQ_MAILBOX when it leaves BOOTING. On ERROR, FW_ERROR says
 * which check failed and FW_EXPECTED, FW_FOUND and FW_WHERE what it wanted,
 * what it read and at which image offset. BOOT is accepted in ROM and
 * ERROR only; a running firmware is replaced through a device reset, which
 * returns the card to ROM.
 */
#define LPU_REG_FW_STATUS		0x0100	/* RO: LPU_FW_STATE_* */
#define LPU_REG_FW_ERROR		0x0104	/* RO: LPU_FW_E_* of last BOOT */
#define LPU_REG_FW_VERSION		0x0108	/* RO: running fw, 0 if none */
#define LPU_REG_FW_CMD			0x010c	/* WO: LPU_FW_CMD_* */
#define LPU_REG_FW_ADDR_LO		0x0110	/* RW: image bus address */
#define LPU_REG_FW_ADDR_HI		0x0114
#define LPU_REG_FW_SIZE			0x0118	/* RW: image bytes */
#define LPU_REG_FW_ABI			0x011c	/* RO: its host ABI, 0 if none */
#define LPU_REG_FW_EXPECTED		0x0120	/* RO: FW_ERROR detail */
#define LPU_REG_FW_FOUND		0x0124	/* RO: FW_ERROR detail */
#define LPU_REG_FW_WHERE		0x0128	/* RO: image offset checked */
#define LPU_REG_SRAM_RESERVED		0x012c	/* RO: fw's bytes atop SRAM */

#define LPU_FW_STATE_ROM		0	/* boot ROM only, no image */
#define LPU_FW_STATE_BOOTING		1
#define LPU_FW_STATE_READY		2
#define LPU_FW_STATE_ERROR		3	/* last BOOT failed: FW_ERROR */

#define LPU_FW_CMD_BOOT			1
/* Device time from BOOT to READY or ERROR. */
#define LPU_FW_BOOT_NS			2000000

/*
 * FW_VERSION and FW_ABI read LPU_FW_VERSION(major, minor, patch) (patch 0
 * for the ABI): major << 16 | minor << 8 | patch, the same encoding as the
 * driver's versions in uapi/drm/lpu_accel.h.
 */
#define LPU_FW_VERSION(major, minor, patch) \
	((__u32)(major) << 16 | (__u32)(minor) << 8 | (__u32)(patch))
#define LPU_FW_VERSION_MAJOR(v)		((v) >> 16)
#define LPU_FW_VERSION_MINOR(v)		(((v) >> 8) & 0xff)
#define LPU_FW_VERSION_PATCH(v)		((v) & 0xff)

/*
 * The host-interface ABI this header describes (rings, descriptors, fence
 * records, EXEC). A driver runs firmware whose ABI major equals
 * LPU_HOST_ABI_MAJOR and whose minor is at least LPU_HOST_ABI_MINOR.
 */
#define LPU_HOST_ABI_MAJOR		1
#define LPU_HOST_ABI_MINOR		0

/*
 * Boot errors (FW_ERROR). FW_EXPECTED, FW_FOUND and FW_WHERE (the image
 * offset of the field checked, 0 where none applies) say more; the check
 * table of firmware/lpu_fw.md defines them for every check, in the order
 * the boot ROM makes the checks.
 *
 *   STATE      BOOT while BOOTING or READY
 *   EMPTY      FW_SIZE is 0
 *   TOO_LARGE  FW_SIZE above LPU_FW_MAX_SIZE
 *   DMA        reading the image from host memory failed
 *   TRUNCATED  FW_SIZE below the header or image_size
 *   MAGIC      not LPU_FW_MAGIC
 *   FORMAT     format_major not LPU_FW_FORMAT_MAJOR
 *   LAYOUT     a header field inconsistent or out of range
 *   CHIP       built for another chip_device or chip_rev
 *   DIGEST     the payload's SHA-256 differs from the header's
 *   NO_KEY     the card has no key to verify with
 *   SIGNATURE  wrong scheme or size, or it does not verify
 *   SECTION    a section missing, repeated, unknown, misplaced, or a
 *              value out of range
 *   COMMAND    unknown FW_CMD
 */
#define LPU_FW_E_NONE			0	/* booted, or no BOOT yet */
#define LPU_FW_E_STATE			1
#define LPU_FW_E_EMPTY			2
#define LPU_FW_E_TOO_LARGE		3
#define LPU_FW_E_DMA			4
#define LPU_FW_E_TRUNCATED		5
#define LPU_FW_E_MAGIC			6
#define LPU_FW_E_FORMAT			7
#define LPU_FW_E_LAYOUT			8
#define LPU_FW_E_CHIP			9
#define LPU_FW_E_DIGEST			10
#define LPU_FW_E_NO_KEY			11
#define LPU_FW_E_SIGNATURE		12
#define LPU_FW_E_SECTION		13
#define LPU_FW_E_COMMAND		14
#define LPU_FW_E_COUNT			15

/* Telemetry: modelled, read-only */
#define LPU_REG_TEMP_MC			0x0200	/* die temperature, m°C */
#define LPU_REG_POWER_MW		0x0204	/* board power, mW */
#define LPU_REG_CLOCK_MHZ		0x0208	/* core clock */
#define LPU_REG_BUSY_NS_LO		0x0210	/* cumulative busy time: reading */
#define LPU_REG_BUSY_NS_HI		0x0214	/* LO latches HI */
#define LPU_REG_DESC_DONE_LO		0x0218	/* descriptors completed: reading */
#define LPU_REG_DESC_DONE_HI		0x021c	/* LO latches HI */
#define LPU_REG_ERROR_COUNT		0x0220	/* errors latched since reset */

/*
 * TEMP_MC, POWER_MW and CLOCK_MHZ follow the engines' utilisation over the
 * last complete window of this much device time (windows are aligned to
 * multiples of it).
 */
#define LPU_TELEMETRY_WINDOW_NS		1000000	/* 1 ms */

/*
 * SRAM scrub engine: zeroes a range of SRAM so that memory freed by one
 * client never shows up in another client's buffer. The driver writes the
 * range, then LPU_SCRUB_CMD_START to SCRUB_CTRL, and polls SCRUB_STATUS
 * until BUSY clears. Offset and size are multiples of LPU_PAGE_SIZE, size is
 * non-zero and the range lies inside SRAM; anything else sets
 * LPU_SCRUB_STATUS_ERROR and zeroes nothing. A START while BUSY is ignored.
 * A device reset stops the engine; if it cut a scrub short, ERROR reads 1,
 * so BUSY clearing without ERROR always means the whole range is zero.
 */
#define LPU_REG_SCRUB_OFFSET_LO		0x0300	/* RW: first SRAM byte */
#define LPU_REG_SCRUB_OFFSET_HI		0x0304
#define LPU_REG_SCRUB_SIZE_LO		0x0308	/* RW: bytes */
#define LPU_REG_SCRUB_SIZE_HI		0x030c
#define LPU_REG_SCRUB_CTRL		0x0310	/* WO: LPU_SCRUB_CMD_* */
#define LPU_REG_SCRUB_STATUS		0x0314	/* RO: LPU_SCRUB_STATUS_* */

#define LPU_SCRUB_CMD_START		1
#define LPU_SCRUB_STATUS_BUSY		(1U << 0)
#define LPU_SCRUB_STATUS_ERROR		(1U << 1)	/* last START refused */

/*
 * Per-queue registers, at LPU_REG_QUEUE(q) + offset.
 *
 * RING_BASE, RING_SIZE and FENCE_* may only be written while the queue is
 * disabled; the device validates them when Q_CTRL_ENABLE is set.
 */
#define LPU_REG_QUEUE_BASE		0x1000
#define LPU_REG_QUEUE_STRIDE		0x0100
#define LPU_REG_QUEUE(q)		(LPU_REG_QUEUE_BASE + \
					 (q) * LPU_REG_QUEUE_STRIDE)

#define LPU_Q_RING_BASE_LO		0x00	/* RW: 64-byte aligned */
#define LPU_Q_RING_BASE_HI		0x04
#define LPU_Q_RING_SIZE			0x08	/* RW: entries, power of 2 */
#define LPU_Q_FENCE_BASE_LO		0x0c	/* RW: 32-byte aligned */
#define LPU_Q_FENCE_BASE_HI		0x10
#define LPU_Q_FENCE_COUNT		0x14	/* RW: fence records */
#define LPU_Q_CTRL			0x18	/* RW: LPU_Q_CTRL_* */
#define LPU_Q_STATUS			0x1c	/* RO: LPU_Q_STATUS_* */
#define LPU_Q_HEAD			0x20	/* RO: next entry the device reads */
#define LPU_Q_TAIL			0x24	/* RW: next entry the driver writes */
#define LPU_Q_DOORBELL			0x28	/* WO: any value starts the queue */
#define LPU_Q_ERROR			0x2c	/* RO: LPU_ERR_* that halted it */
#define LPU_Q_ERROR_HEAD		0x30	/* RO: index of that descriptor */
#define LPU_Q_DONE			0x34	/* RO: descriptors completed */
#define LPU_Q_FAULT_ADDR_LO		0x38	/* RO: LPU_ERR_FAULT: address */
#define LPU_Q_FAULT_ADDR_HI		0x3c
#define LPU_Q_FAULT_INFO		0x40	/* RO: LPU_FAULT_* of that fault */
#define LPU_Q_EXEC_INSN			0x44	/* RO: LPU_ERR_EXEC: insn index */
#define LPU_Q_EXEC_REASON		0x48	/* RO: LPU_ERR_EXEC: LPU_EXEC_E_* */

#define LPU_Q_CTRL_ENABLE		(1U << 0)
#define LPU_Q_CTRL_RESET		(1U << 1)	/* self-clearing */

#define LPU_Q_STATUS_ENABLED		(1U << 0)
#define LPU_Q_STATUS_HALTED		(1U << 1)	/* Q_ERROR is valid */
#define LPU_Q_STATUS_BUSY		(1U << 2)

#define LPU_MIN_RING_ENTRIES		2
#define LPU_MAX_FENCE_RECORDS		4096

/*
 * ---- Queue ring descriptors --------------------------------------------
 *
 * A ring is RING_SIZE 64-byte descriptors in host memory. The driver writes
 * descriptors at TAIL, advances TAIL and writes DOORBELL; the device
 * consumes from HEAD to TAIL in order. Any field the opcode does not define
 * must be zero: the device rejects the descriptor otherwise, so that later
 * revisions can give those bits a meaning.
 */
#define LPU_DESC_SIZE			64

#define LPU_OP_INVALID			0x00	/* a zeroed slot is never valid */
#define LPU_OP_NOP			0x01
#define LPU_OP_FENCE			0x02
#define LPU_OP_COPY			0x10	/* DMA engine */
#define LPU_OP_EXEC			0x20	/* tensor engine program */

#define LPU_DESC_F_IRQ			(1U << 0)	/* FENCE: raise MSI-X */

/* Device clock: 1 cycle = 1 ns at LPU_CLOCK_MHZ. */
#define LPU_CLOCK_MHZ			1000
#define LPU_NOP_BASE_CYCLES		64
#define LPU_FENCE_CYCLES		128
#define LPU_NOP_MAX_CYCLES		1000000000U	/* 1 s */
/* COPY: LPU_COPY_BASE_CYCLES + ceil(size / LPU_DMA_BYTES_PER_CYCLE) */
#define LPU_COPY_BASE_CYCLES		256
#define LPU_DMA_BYTES_PER_CYCLE		32	/* 32 GB/s */
/* Scrub: busy for ceil(size / LPU_SCRUB_BYTES_PER_CYCLE) cycles */
#define LPU_SCRUB_BYTES_PER_CYCLE	64

struct lpu_desc_hdr {
	__u8 opcode;
	__u8 flags;
	__le16 rsvd0;
	__le32 rsvd1;
};

/*
 * NOP: occupies the engine for LPU_NOP_BASE_CYCLES + @cycles device cycles
 * and does nothing else. A long NOP is how tests make a job slow on purpose.
 */
struct lpu_desc_nop {
	struct lpu_desc_hdr hdr;
	__le32 cycles;		/* at most LPU_NOP_MAX_CYCLES */
	__le32 rsvd2;
	__le64 rsvd3[6];
};

/*
 * FENCE: write a struct lpu_fence_record for @seq at record @slot of the
 * queue's fence area, then, with LPU_DESC_F_IRQ, raise the queue's
 * interrupt. The device writes only inside the fence area that the driver
 * programmed, so a descriptor cannot name an arbitrary host address.
 */
struct lpu_desc_fence {
	struct lpu_desc_hdr hdr;
	__le32 slot;
	__le32 rsvd2;
	__le64 seq;
	__le64 rsvd3[5];
};

/*
 * ---- Device address spaces and the DMA engine ---------------------------
 *
 * The device never takes a bus address from a job. A COPY names its source
 * and destination by device address, and the device translates and checks
 * every byte against the segment table the descriptor points to. Only the
 * kernel writes descriptors and segment tables, so a job reaches exactly
 * the buffers the kernel put in its table: anything else faults the job
 * (LPU_ERR_FAULT) before a byte moves.
 *
 * A segment table is an array of struct lpu_segment, sorted by @va, with
 * no two segments overlapping. A segment maps [va, va + size) either to
 * SRAM at [base, base + size), or to host memory through a two-level page
 * table: @base is the bus address of a directory page of
 * LPU_PT_ENTRIES_PER_PAGE little-endian bus addresses of leaf pages, each
 * holding LPU_PT_ENTRIES_PER_PAGE bus addresses of LPU_PAGE_SIZE data pages
 * (page i of the segment is leaf[i / 512] entry i % 512). Directory, leaf
 * and data page addresses, and an SRAM segment's base, are LPU_PAGE_SIZE
 * aligned. A table that breaks these rules halts the queue with
 * LPU_ERR_SEG_TABLE: it is a driver bug, never a job's fault.
 */
#define LPU_PAGE_SIZE			4096
#define LPU_PT_ENTRIES_PER_PAGE		(LPU_PAGE_SIZE / 8)
/* Largest segment: what one directory page maps, 1 GiB. */
#define LPU_SEG_MAX_SIZE		((__u64)LPU_PT_ENTRIES_PER_PAGE * \
					 LPU_PT_ENTRIES_PER_PAGE * LPU_PAGE_SIZE)
#define LPU_MAX_SEGMENTS		256	/* entries in one table */
#define LPU_COPY_MAX_SIZE		LPU_SEG_MAX_SIZE

#define LPU_SEG_SRAM			1
#define LPU_SEG_HOST			2

struct lpu_segment {
	__le64 va;		/* LPU_PAGE_SIZE aligned, non-zero */
	__le64 size;		/* LPU_PAGE_SIZE multiple, 1..LPU_SEG_MAX_SIZE */
	__le64 base;		/* SRAM offset, or bus address of directory */
	__le32 kind;		/* LPU_SEG_* */
	__le32 rsvd;		/* must be 0 */
};

#define LPU_SEGMENT_SIZE		32

/*
 * COPY: copy @size bytes from device address @src to device address @dst,
 * both translated through the @seg_count segments at bus address
 * @seg_table (LPU_SEGMENT_SIZE aligned). Each range must lie inside one
 * segment, and the two ranges must not overlap in device address space.
 * Checks, in order: size 1..LPU_COPY_MAX_SIZE and seg_count
 * 1..LPU_MAX_SEGMENTS (LPU_ERR_RANGE); the table (LPU_ERR_SEG_TABLE; a
 * segment may not end beyond 2^64 - 1, so a fault address always fits);
 * source, then destination, mapped and in bounds (LPU_ERR_FAULT, with
 * Q_FAULT_ADDR/Q_FAULT_INFO); overlap (LPU_ERR_OVERLAP); then every
 * page-table entry the copy will use (misaligned: LPU_ERR_SEG_TABLE,
 * unreadable: LPU_ERR_DMA). Nothing moves until all of these pass. A data
 * page that cannot be accessed while the copy runs (bus mastering turned
 * off, nothing decodes it) halts the queue with LPU_ERR_DMA, and the bytes
 * before it may already have been copied.
 */
struct lpu_desc_copy {
	struct lpu_desc_hdr hdr;
	__le64 src;
	__le64 dst;
	__le64 size;
	__le64 seg_table;
	__le32 seg_count;
	__le32 rsvd2;
	__le64 rsvd3[2];
};

/*
 * Q_FAULT_INFO: what the faulting access was. Q_FAULT_ADDR is the device
 * address of the first byte that could not be translated: the start of the
 * access for NOT_MAPPED, the end of its segment for OUT_OF_BOUNDS.
 */
#define LPU_FAULT_KIND_MASK		0xff
#define LPU_FAULT_NOT_MAPPED		1	/* no segment holds the start */
#define LPU_FAULT_OUT_OF_BOUNDS		2	/* runs past its segment's end */
#define LPU_FAULT_WRITE			(1U << 8)	/* the destination */

/*
 * ---- The tensor engine: EXEC -------------------------------------------
 *
 * EXEC runs a program of @insn_count struct lpu_insn (64 bytes each) that
 * starts at device address @program, translated through the @seg_count
 * segments at bus address @seg_table exactly as for COPY. The kernel builds
 * that table from the job's buffer slots (see DRM_LPU_EXEC_SLOT_ADDR in
 * drm/lpu_accel.h); instruction operands are device addresses in it.
 *
 * The device first checks the descriptor, the program and the stats record
 * (LPU_EXEC_INSN_NONE in Q_EXEC_INSN), then fetches the whole program and
 * validates every instruction against the rules below and the segment
 * table. Nothing executes, and no byte of any buffer changes, unless the
 * whole program is valid. A refused program halts the queue with
 * LPU_ERR_EXEC; Q_EXEC_INSN holds the index of the offending instruction,
 * Q_EXEC_REASON an LPU_EXEC_E_* reason and, for LPU_EXEC_E_OPERAND,
 * Q_FAULT_ADDR the operand's device address. Only DISPATCH and COMBINE can
 * still fail while the program runs (LPU_EXEC_E_INDEX: an index read from
 * memory out of range), and COPY to or from host memory (LPU_ERR_DMA, or
 * LPU_ERR_SEG_TABLE for a misaligned page-table entry: COPY's page tables
 * are read while it runs, not up front).
 *
 * Control flow never depends on data: every instruction runs once, in
 * order, on shapes fixed in the program, so a program takes the same
 * number of cycles whatever its inputs. The engine runs off the vCPU in
 * bounded steps, so a long program never stalls the machine, and a queue
 * or device reset stops it between two steps.
 *
 * On success the device writes a struct lpu_exec_stats at device address
 * @stats (64-byte aligned, inside one segment of any kind), then the job
 * completes like any other descriptor.
 */
#define LPU_INSN_SIZE			64
#define LPU_EXEC_MAX_INSNS		65536
#define LPU_EXEC_ALIGN			64	/* every operand address */
#define LPU_EXEC_MAX_DIM		(1U << 20)	/* any one dim[] */
#define LPU_EXEC_MAX_TOPK		32
/* MATMUL and EXPERT_FFN: multiply-accumulates in one instruction. */
#define LPU_EXEC_MAX_MACS		(1ULL << 36)
/*
 * EXPERT_FFN: H * F at most this (LPU_EXEC_E_LIMIT), so that one slot row
 * of one expert, the engine's smallest step, stays a bounded amount of
 * work (3 * H * F multiply-accumulates).
 */
#define LPU_EXEC_MAX_FFN_HF		(1U << 22)

struct lpu_desc_exec {
	struct lpu_desc_hdr hdr;
	__le64 program;		/* device address, LPU_EXEC_ALIGN aligned */
	__le32 insn_count;	/* 1..LPU_EXEC_MAX_INSNS */
	__le32 seg_count;	/* 1..LPU_MAX_SEGMENTS */
	__le64 seg_table;	/* bus address, LPU_SEGMENT_SIZE aligned */
	__le64 stats;		/* device address of struct lpu_exec_stats */
	__le64 rsvd2[3];
};

/* Written by the device when an EXEC completes. */
struct lpu_exec_stats {
	__le64 cycles;		/* LPU_COST_EXEC_SETUP + every instruction */
	__le32 insns;		/* instructions executed (= insn_count) */
	__le32 rsvd0;
	__le64 rsvd1[6];	/* written as 0 */
};

#define LPU_EXEC_STATS_SIZE		64

/* Element types (struct lpu_insn.dtype, and the schedule format's). */
#define LPU_DT_NONE			0
#define LPU_DT_F32			1	/* IEEE-754 binary32 */
#define LPU_DT_BF16			2	/* upper half of a binary32 */
#define LPU_DT_I8			3
#define LPU_DT_I32			4

/*
 * One instruction. Fields an opcode does not list must be zero
 * (LPU_EXEC_E_RESERVED). Every operand op[i] is a device address,
 * LPU_EXEC_ALIGN aligned; the whole tensor it names (its size follows from
 * dim[] and the dtype) must lie inside one SRAM segment, except for COPY,
 * whose operands may also be in host segments. Tensors are dense,
 * row-major, little-endian. An output may be the very same range as an
 * input of an elementwise instruction (ADD, MUL, SILU, SWIGLU, RMSNORM,
 * SOFTMAX); any other overlap between an output and another operand of the
 * same instruction is refused (LPU_EXEC_E_ALIAS).
 *
 * Weights ("W" below) have the instruction's dtype: F32, BF16, or I8. An
 * I8 weight tensor of logical shape [G, N, K] is a quantised block: G*N*K
 * int8 values, zero padding up to the next LPU_EXEC_ALIGN boundary, then
 * G*N binary32 scales, one per output row (LPU_QBLOCK_SIZE).
 */
struct lpu_insn {
	__u8 opcode;		/* LPU_INSN_* */
	__u8 dtype;		/* LPU_DT_* where the opcode says so, else 0 */
	__le16 flags;		/* per opcode */
	__le32 dim[5];
	__le64 op[5];
};

static inline __u64 lpu_qblock_scales_offset(__u64 g, __u64 n, __u64 k)
{
	return (g * n * k + LPU_EXEC_ALIGN - 1) & ~(__u64)(LPU_EXEC_ALIGN - 1);
}

static inline __u64 lpu_qblock_size(__u64 g, __u64 n, __u64 k)
{
	return lpu_qblock_scales_offset(g, n, k) + g * n * 4;
}

/* Callers check that g * n * k cannot overflow before using these. */
#define LPU_QBLOCK_SCALES_OFFSET(g, n, k) lpu_qblock_scales_offset(g, n, k)
#define LPU_QBLOCK_SIZE(g, n, k)	lpu_qblock_size(g, n, k)

/*
 * Numerics. Every implementation of the engine (this device, and any
 * reference) must follow these rules exactly: with them the int8 path is
 * bit-exact, and the others differ only by summation order inside BLAS.
 * - Binary32 arithmetic is plain IEEE-754 binary32 with round to nearest
 *   even, one rounding per operation (no fused multiply-add).
 * - "double" below means IEEE-754 binary64; exp() is the C library's.
 * - silu(x) = (float)((double)x / (1.0 + exp(-(double)x))).
 * - Quantising a row v[0..K) of binary32 to int8 ("quant"): amax = max |v|;
 *   scale = amax / 127.0f (binary32), or 1.0f if amax is 0; then
 *   q[i] = (int8)clamp(nearbyint(v[i] / scale), -127, 127), round half to
 *   even, the division in binary32.
 * - Matrix product with dtype D: out[m][n] = sum over k of a[m][k] *
 *   w[n][k] (w is [N, K], a Hugging Face Linear weight). F32: binary32
 *   inputs and accumulation, any summation order. BF16: w widened exactly
 *   to binary32, then as F32. I8: each row of a is quantised (quant, giving
 *   qa and sa[m]); acc = exact integer sum of qa[m][k] * qw[n][k];
 *   out[m][n] = ((float)acc * sa[m]) * sw[n], left to right in binary32.
 */
#define LPU_INSN_COPY			0x01
#define LPU_INSN_MATMUL			0x10
#define LPU_INSN_EXPERT_FFN		0x11
#define LPU_INSN_ADD			0x20
#define LPU_INSN_MUL			0x21
#define LPU_INSN_SILU			0x22
#define LPU_INSN_SWIGLU			0x23
#define LPU_INSN_RMSNORM		0x30
#define LPU_INSN_SOFTMAX		0x31
#define LPU_INSN_TOPK			0x40
#define LPU_INSN_DISPATCH		0x41
#define LPU_INSN_COMBINE		0x42

/*
 * COPY: dim[0] bytes (1..LPU_COPY_MAX_SIZE) from op[0] to op[1]; either
 * may be an SRAM or a host segment, and they must not overlap. dtype 0.
 *
 * MATMUL (dtype F32, BF16 or I8): for g < G: out_g = a_g * W_g^T.
 *   dim[0] M, dim[1] N, dim[2] K, dim[3] G (batch, >= 1).
 *   op[0] a f32 [G, M, K], op[1] W [G, N, K], op[2] out f32 [G, M, N].
 *
 * EXPERT_FFN (dtype F32, BF16 or I8): a SwiGLU feed-forward per expert
 * over its capacity slots; a shared expert is the case G = 1, C = T.
 *   dim[0] G experts, dim[1] C rows per expert, dim[2] H, dim[3] F.
 *   op[0] x f32 [G, C, H]; op[1] W13 [G, 2F, H] (rows 0..F-1 the gate
 *   projection w1/gate_proj, rows F..2F-1 the up projection w3/up_proj);
 *   op[2] W2 [G, H, F] (w2/down_proj); op[3] out f32 [G, C, H];
 *   op[4] 0, or the routing table of the DISPATCH that filled x (with
 *   E = G and the same C): rows whose slot holds no token are written as
 *   zeroes without being computed (the cycle cost does not change).
 *   For each expert g: gu = x_g * W13_g^T [C, 2F] (matrix product with
 *   dtype); a[c][f] = silu(gu[c][f]) * gu[c][F + f] (binary32 multiply);
 *   out_g = a * W2_g^T (matrix product with dtype).
 *
 * ADD, MUL (dtype F32): out[i] = a[i] + b[i] (a[i] * b[i]), i < dim[0].
 *   op[0] a, op[1] b, op[2] out.
 * SILU (dtype F32): out[i] = silu(a[i]). op[0] a, op[1] out.
 * SWIGLU (dtype F32): out[i] = silu(a[i]) * b[i]. op[0] a, op[1] b,
 *   op[2] out.
 *
 * RMSNORM (dtype F32): rows of N. dim[0] M, dim[1] N, dim[2] epsilon as
 *   binary32 bits (finite, >= 0). op[0] x [M, N], op[1] gamma [N],
 *   op[2] out [M, N]. ss = sum of (double)x^2 in index order;
 *   r = 1.0 / sqrt(ss / N + (double)eps); out = (float)(x * r) * gamma
 *   (the last product in binary32).
 *
 * SOFTMAX (dtype F32): rows of N. dim[0] M, dim[1] N. op[0] x, op[1] out.
 *   mx = max of the row; e[i] = exp((double)x[i] - mx); s = sum of e in
 *   index order; out[i] = (float)(e[i] / s).
 *
 * TOPK (dtype F32): the router. dim[0] T tokens, dim[1] E experts,
 *   dim[2] k (1..min(E, LPU_EXEC_MAX_TOPK)). op[0] logits f32 [T, E],
 *   op[1] idx i32 [T, k], op[2] weight f32 [T, k].
 *   Scores: softmax of the row (as SOFTMAX), or with LPU_TOPK_SIGMOID
 *   s = (float)(1.0 / (1.0 + exp(-(double)x))). idx lists the k highest
 *   scores in descending order, the lower expert index first among equal
 *   scores; weight holds their scores, or with LPU_TOPK_RENORM
 *   (float)((double)s / d), d = the sum in rank order of the k (double)s.
 *
 * DISPATCH (dtype F32): gathers tokens into C slots per expert.
 *   dim[0] T, dim[1] H, dim[2] E, dim[3] k, dim[4] C.
 *   op[0] x f32 [T, H], op[1] idx i32 [T, k], op[2] weight f32 [T, k],
 *   op[3] xe f32 [E, C, H] (written), op[4] routing table (written,
 *   LPU_ROUTING_SIZE(E, C) bytes: i32 token[E][C], f32 weight[E][C],
 *   i32 load[E], i32 dropped[E]).
 *   k is 1..min(E, LPU_EXEC_MAX_TOPK), C at least 1.
 *   For t = 0..T-1, then r = 0..k-1: e = idx[t][r] (0 <= e < E, else
 *   LPU_EXEC_E_INDEX); load[e]++; if e has fewer than C tokens, the next
 *   slot c of e gets token t and weight[t][r], and xe[e][c] = x[t];
 *   otherwise dropped[e]++. Unused slots: token -1, weight 0, xe rows 0.
 *
 * COMBINE (dtype F32): the weighted scatter-add back to tokens.
 *   dim[0] T, dim[1] H, dim[2] E, dim[3] C. op[0] ye f32 [E, C, H],
 *   op[1] routing table, op[2] out f32 [T, H] (read and written).
 *   For e = 0..E-1, c = 0..C-1 with t = token[e][c] != -1 (-1 <= t < T,
 *   else LPU_EXEC_E_INDEX): out[t][h] = out[t][h] + w * ye[e][c][h], with
 *   w = weight[e][c], the product and the sum each rounded to binary32.
 */
#define LPU_TOPK_SIGMOID		(1U << 0)
#define LPU_TOPK_RENORM			(1U << 1)

/* Routing table parts: byte offsets from its start, then its size. */
#define LPU_ROUTING_TOKEN_OFFSET	0
#define LPU_ROUTING_WEIGHT_OFFSET(e, c)	((__u64)(e) * (c) * 4)
#define LPU_ROUTING_LOAD_OFFSET(e, c)	((__u64)(e) * (c) * 8)
#define LPU_ROUTING_DROPPED_OFFSET(e, c) ((__u64)(e) * ((__u64)(c) * 8 + 4))
#define LPU_ROUTING_SIZE(e, c)		((__u64)(e) * ((__u64)(c) + 1) * 8)

/* Q_EXEC_REASON */
#define LPU_EXEC_E_PROGRAM		1	/* descriptor, program or stats */
#define LPU_EXEC_E_OPCODE		2	/* unknown opcode */
#define LPU_EXEC_E_FLAGS		3	/* flag not defined for opcode */
#define LPU_EXEC_E_RESERVED		4	/* unused field not zero */
#define LPU_EXEC_E_DTYPE		5	/* dtype not allowed for opcode */
#define LPU_EXEC_E_SHAPE		6	/* dim 0, too large, inconsistent */
#define LPU_EXEC_E_OPERAND		7	/* outside a segment of its kind */
#define LPU_EXEC_E_ALIGN		8	/* operand not LPU_EXEC_ALIGN */
#define LPU_EXEC_E_ALIAS		9	/* output overlaps an operand */
#define LPU_EXEC_E_INDEX		10	/* index out of range (runtime) */
#define LPU_EXEC_E_LIMIT		11	/* over LPU_EXEC_MAX_MACS/_FFN_HF */
#define LPU_EXEC_E_COUNT		12

/* Q_EXEC_INSN when the descriptor itself is at fault */
#define LPU_EXEC_INSN_NONE		0xffffffffU

/*
 * ---- Cycle costs --------------------------------------------------------
 *
 * Each instruction costs base + ceil(units / units_per_cycle) cycles of
 * its cost class; an EXEC costs LPU_COST_EXEC_SETUP (units: program bytes)
 * plus its instructions. The base and rate of each class come from the
 * running firmware (firmware/lpu_fw.h struct lpu_fw_cost; the values are in
 * firmware/lpu-v3.json).
 *
 * class              units
 * EXEC_SETUP         insn_count * LPU_INSN_SIZE
 * COPY               bytes
 * MATMUL_F32/BF16/I8 G*M*N*K
 * FFN_F32/BF16/I8    G*C*3*H*F
 * ELEMENTWISE        elements (ADD, MUL, SILU, SWIGLU)
 * RMSNORM            M*N
 * SOFTMAX            M*N
 * TOPK               T*E
 * DISPATCH           E*C*H
 * COMBINE            E*C*H
 */
#define LPU_COST_EXEC_SETUP		0
#define LPU_COST_COPY			1
#define LPU_COST_MATMUL_F32		2
#define LPU_COST_MATMUL_BF16		3
#define LPU_COST_MATMUL_I8		4
#define LPU_COST_FFN_F32		5
#define LPU_COST_FFN_BF16		6
#define LPU_COST_FFN_I8			7
#define LPU_COST_ELEMENTWISE		8
#define LPU_COST_RMSNORM		9
#define LPU_COST_SOFTMAX		10
#define LPU_COST_TOPK			11
#define LPU_COST_DISPATCH		12
#define LPU_COST_COMBINE		13
#define LPU_COST_COUNT			14

union lpu_desc {
	struct lpu_desc_hdr hdr;
	struct lpu_desc_nop nop;
	struct lpu_desc_fence fence;
	struct lpu_desc_copy copy;
	struct lpu_desc_exec exec;
	__u8 bytes[LPU_DESC_SIZE];
};

/*
 * Fence record, written by the device. Times are the device clock in
 * nanoseconds: @doorbell_ns is the doorbell that made this FENCE visible,
 * @complete_ns is when the record was written (never before the modelled
 * completion), so their difference is the device's own share of a job's
 * round trip.
 */
struct lpu_fence_record {
	__le64 seq;
	__le32 status;		/* LPU_ERR_OK, or why the queue halted */
	__le32 rsvd;
	__le64 doorbell_ns;
	__le64 complete_ns;
};

#define LPU_FENCE_RECORD_SIZE		32

/* ---- Device error codes (ERROR_CODE, Q_ERROR, fence status) ----------- */

#define LPU_ERR_OK			0
#define LPU_ERR_BAD_OPCODE		1	/* unknown or reserved opcode */
#define LPU_ERR_BAD_FLAGS		2	/* flag not defined for opcode */
#define LPU_ERR_RESERVED		3	/* reserved field not zero */
#define LPU_ERR_FENCE_SLOT		4	/* slot >= FENCE_COUNT */
#define LPU_ERR_DMA			5	/* host memory access failed */
#define LPU_ERR_RING_CONFIG		6	/* bad base, size or fence area */
#define LPU_ERR_TAIL_RANGE		7	/* TAIL >= RING_SIZE */
#define LPU_ERR_UNSUPPORTED		8	/* command not implemented */
#define LPU_ERR_RANGE			9	/* argument beyond its limit */
#define LPU_ERR_FAULT			10	/* access outside the segments */
#define LPU_ERR_SEG_TABLE		11	/* malformed segment table */
#define LPU_ERR_OVERLAP			12	/* COPY ranges overlap */
#define LPU_ERR_EXEC			13	/* EXEC program refused or failed */
#define LPU_ERR_NO_FW			14	/* no firmware offers the queue */
#define LPU_ERR_COUNT			15

#endif /* LPU_HW_H */
