/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * LPU v3 register access, identity check, device reset and interrupts of
 * the device vector. The register map itself lives in uapi/lpu_hw.h.
 */
#ifndef __LPU_REGS_H__
#define __LPU_REGS_H__

#include <linux/io.h>
#include <linux/types.h>

#include "lpu_drv.h"

static inline u32 lpu_read(struct lpu_device *ldev, u32 reg)
{
	return readl(ldev->regs + reg);
}

static inline void lpu_write(struct lpu_device *ldev, u32 reg, u32 val)
{
	writel(val, ldev->regs + reg);
}

static inline u32 lpu_q_read(struct lpu_queue *q, u32 reg)
{
	return readl(q->regs + reg);
}

static inline void lpu_q_write(struct lpu_queue *q, u32 reg, u32 val)
{
	writel(val, q->regs + reg);
}

const char *lpu_hw_err_name(u32 code);
const char *lpu_hw_exec_reason_name(u32 reason);
u32 lpu_hw_fault_kind(u32 info);
const char *lpu_hw_fault_name(u32 info);
int lpu_hw_init(struct lpu_device *ldev);
int lpu_hw_reset(struct lpu_device *ldev);
int lpu_hw_read_fw_config(struct lpu_device *ldev);
int lpu_hw_request_irq(struct lpu_device *ldev);
void lpu_hw_irq_enable(struct lpu_device *ldev);
void lpu_hw_irq_disable(struct lpu_device *ldev);
void lpu_hw_quiesce(struct lpu_device *ldev);
int lpu_hw_quiesce_on_unbind(struct lpu_device *ldev);

#endif /* __LPU_REGS_H__ */
