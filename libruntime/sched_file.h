/* SPDX-License-Identifier: MIT */
/*
 * The schedule container (uapi/lpu_schedule.h): checksums, sealing and a
 * parser that checks every rule of the format before anything trusts it.
 * Used by liblpu's loader and by lpu-compile's writer (which links
 * liblpu.a), so the format is read and written by one piece of code.
 */
#ifndef LPU_SCHED_FILE_H
#define LPU_SCHED_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "lpu_hw.h"
#include "lpu_schedule.h"

/* CRC32C (Castagnoli, as iSCSI): CRC32C("123456789") == 0xe3069283. */
uint32_t lpu_crc32c(const void *buf, size_t len);

/*
 * A checked schedule. Every pointer points into the caller's buffer, which
 * must outlive the view. Counts are entries, not bytes.
 */
struct lpu_sched_view {
	const uint8_t *data;
	size_t size;
	const struct lpu_sched_header *hdr;
	const struct lpu_sched_section *sections;
	uint32_t section_count;
	const struct lpu_sched_manifest *manifest;
	const struct lpu_sched_slot *slots;
	uint32_t slot_count;
	const struct lpu_sched_tensor *tensors;
	uint32_t tensor_count;
	const struct lpu_insn *program;
	uint32_t insn_count;
	const struct lpu_sched_io *io;
	uint32_t io_count;
};

/*
 * Check @size bytes at @data against every rule of uapi/lpu_schedule.h
 * (magic, version, sizes, checksums, section table, manifest, slots,
 * tensors, I/O) and fill @view. The data must be 8-byte aligned. Returns 0,
 * or a negative errno (-EINVAL for a malformed file, -EBADMSG for a
 * checksum mismatch, -EPROTONOSUPPORT for an unsupported major version)
 * with a one-line message naming the problem in @err (@errlen bytes, may
 * be 0). Instructions are not interpreted: the device checks them.
 */
int lpu_sched_parse(const void *data, size_t size,
		    struct lpu_sched_view *view, char *err, size_t errlen);

/*
 * Recompute every section's CRC32C from the section table, then the
 * file's, in place. Returns 0, or -EINVAL if @data is not 8-byte aligned
 * or the header or section table does not fit in @size bytes (nothing
 * else is checked).
 */
int lpu_sched_seal(void *data, size_t size);

#endif /* LPU_SCHED_FILE_H */
