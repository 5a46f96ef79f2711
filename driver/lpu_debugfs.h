/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * LPU v3 debugfs: queue state and the fault injection hook the selftests use.
 */
#ifndef __LPU_DEBUGFS_H__
#define __LPU_DEBUGFS_H__

struct lpu_device;

void lpu_debugfs_init(struct lpu_device *ldev);
void lpu_debugfs_fini(struct lpu_device *ldev);

#endif /* __LPU_DEBUGFS_H__ */
