/* SPDX-License-Identifier: MIT */
/* lpu-run: what its job kinds share. */
#ifndef LPU_RUN_H
#define LPU_RUN_H

#include <stdint.h>

struct lpu_device;

double run_now_us(void);
/* copy.c: host -> SRAM -> host round trip of @size bytes; 0 or -errno. */
int run_copy(struct lpu_device *dev, unsigned int queue, uint64_t size,
	     const char *pci);

#endif /* LPU_RUN_H */
