/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the LPU selftests: finding the card, raw ioctls that
 * return -errno (no retry, so -EINTR stays visible), sysfs/debugfs/kmsg
 * access, and the clock.
 */
#ifndef LPU_UTIL_H
#define LPU_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include <drm/lpu_accel.h>
#include <lpu_hw.h>
#include "lpu.h"

#define LPU_ACCEL_MAJOR		261
#define NSEC_PER_MSEC		1000000LL
#define NSEC_PER_SEC		1000000000LL

/* An LPU ioctl number with an arbitrary argument size (ABI edge cases). */
#define LPU_IOC_SIZED(nr, size) \
	_IOC(_IOC_READ | _IOC_WRITE, DRM_IOCTL_BASE, \
	     DRM_COMMAND_BASE + (nr), (size))

int64_t now_ns(void);

/* Card 0 from liblpu's sysfs discovery; 0 or -errno. */
int find_card(struct lpu_card *card);
/* open() of card 0's node; fd or -errno. */
int open_card(const struct lpu_card *card);

/* Exactly one ioctl(); 0 (or its result) or -errno. */
int raw_ioctl(int fd, unsigned long cmd, void *arg);
int raw_info(int fd, struct drm_lpu_info *info);
int raw_submit(int fd, uint32_t queue, uint32_t nop_cycles, uint64_t *seq);
/* @deadline is the ABI's absolute CLOCK_MONOTONIC time (0 polls). */
int raw_wait(int fd, uint64_t seq, int64_t deadline, int32_t *status,
	     uint64_t *device_ns);
/* Wait with a relative timeout of @ms milliseconds. */
int wait_ms(int fd, uint64_t seq, int64_t ms, int32_t *status);

/*
 * How many 1 s NOPs at the head of a queue outlast submitting @jobs more
 * jobs on this kernel (twice the measured time, plus 3 s), or -errno. A
 * KASAN + lockdep kernel under TCG takes submissions many times slower than
 * Debian's, so tests that need work to stay unfinished measure it first.
 * Uses (and waits for) a few jobs on @queue of @fd. More than
 * LONG_JOBS_MAX (a minute of work) means the kernel is too slow for such a
 * test to finish in its time limit: -E2BIG.
 */
#define LONG_JOBS_MAX		60
int long_jobs_to_outlast(int fd, unsigned int queue, unsigned int jobs);
/*
 * Queue @count 1 s jobs on @queue through file @from, and give file @to a
 * new syncobj (*@syncobj) holding the last one's fence: a job of @to that
 * waits for it cannot finish for @count seconds however slowly its caller
 * goes meanwhile, and the jobs don't count against @to's job limit.
 */
int hold_fence(int from, unsigned int queue, unsigned int count, int to,
	       uint32_t *syncobj);

/*
 * The card answers GET_INFO and runs a NOP on queue 0 of a fresh file;
 * 0, the job's failed status, or -errno.
 */
int card_works(const struct lpu_card *card);

/*
 * PCI address of the first LPU function on the bus, bound to a driver or
 * not (liblpu finds bound cards only); 0 or -ENODEV.
 */
int find_lpu_pci_addr(char *buf, size_t len);
/* Name of the driver bound to PCI function @pci_addr, or -ENOENT. */
int pci_driver_of(const char *pci_addr, char *buf, size_t len);

/* Path of sysfs attribute @attr of the card's PCI function. */
int pci_path(const struct lpu_card *card, const char *attr, char *buf,
	     size_t len);
/* sysfs attribute of the card's PCI function as a number (base 0). */
int pci_attr_ulong(const struct lpu_card *card, const char *attr,
		   unsigned long *val);
/* Size of BAR @bar from the PCI function's "resource" file. */
int pci_bar_size(const struct lpu_card *card, int bar, uint64_t *size);
/* Write @text to a file (sysfs/debugfs); 0 or -errno. */
int write_text(const char *path, const char *text);
/* Read a whole small file into @buf (NUL-terminated); length or -errno. */
int read_text(const char *path, char *buf, size_t len);
/* Path of debugfs file @name of the card's accel minor. */
void debugfs_path(const struct lpu_card *card, const char *name, char *buf,
		  size_t len);

/*
 * Sum of the inflight= counters of the debugfs queues file, which must list
 * exactly @num_queues queues; 0 or -errno.
 */
int queues_inflight(const struct lpu_card *card, unsigned int num_queues,
		    unsigned int *total);
/* Poll until no queue has a job in flight; 0, -ETIMEDOUT or -errno. */
int wait_queues_idle(const struct lpu_card *card, unsigned int num_queues,
		     int timeout_ms, unsigned int *left);

/* Poll until @path exists (@want) or is gone (!@want); 0 or -ETIMEDOUT. */
int wait_for_path(const char *path, bool want, int timeout_ms);
/* Poll until liblpu finds a card with its node present; 0 or -ETIMEDOUT. */
int wait_for_card(struct lpu_card *card, int timeout_ms);

/* /dev/kmsg reader positioned at the end of the log. */
int kmsg_open_at_end(void);
/*
 * Read new records until one contains every non-NULL needle, for up to
 * @timeout_ms; copies that record to @line. 0 if found, -ENOENT if not.
 */
int kmsg_find(int fd, const char *n1, const char *n2, char *line,
	      size_t len, int timeout_ms);

/*
 * Read every new record, until none came for @quiet_ms, and count those
 * at log level @max_level or worse (3: err, 4: warning) whose message
 * names PCI device @pci_addr and contains no @except text (if not NULL);
 * the first is copied to @first. A count, or -errno.
 */
int kmsg_count_device(int fd, const char *pci_addr, int max_level,
		      const char *except, char *first, size_t len,
		      int quiet_ms);

/* Does kmsg record @line name queue @q ("queue 2", "queue=2", "queue: 2")? */
bool names_queue(const char *line, unsigned int q);
/*
 * Read new records until one from @card (its PCI address) contains @needle
 * (if not NULL) and names queue @q; 0 if found, -ENOENT if not.
 */
int kmsg_find_queue(int fd, const struct lpu_card *card, unsigned int q,
		    const char *needle, int timeout_ms);

/* Taint bits that mean a test broke the kernel: W, D, B, L. */
#define LPU_BAD_TAINT	((1UL << 9) | (1UL << 7) | (1UL << 5) | (1UL << 14))
int read_taint(unsigned long *taint);

#endif /* LPU_UTIL_H */
