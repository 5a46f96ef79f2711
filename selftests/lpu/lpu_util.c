// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xf86drm.h>

#include "lpu_util.h"

int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

int find_card(struct lpu_card *card)
{
	return lpu_card_get(0, card);
}

int open_card(const struct lpu_card *card)
{
	int fd = open(card->dev_path, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int raw_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

int raw_info(int fd, struct drm_lpu_info *info)
{
	memset(info, 0, sizeof(*info));
	return raw_ioctl(fd, DRM_IOCTL_LPU_GET_INFO, info);
}

int raw_submit(int fd, uint32_t queue, uint32_t nop_cycles, uint64_t *seq)
{
	struct drm_lpu_submit req = {
		.queue = queue,
		.job_type = LPU_JOB_NOP,
		.nop_cycles = nop_cycles,
	};
	int ret = raw_ioctl(fd, DRM_IOCTL_LPU_SUBMIT, &req);

	if (!ret && seq)
		*seq = req.seq;
	return ret;
}

int raw_wait(int fd, uint64_t seq, int64_t deadline, int32_t *status,
	     uint64_t *device_ns)
{
	struct drm_lpu_wait req = {
		.seq = seq,
		.timeout_ns = deadline,
	};
	int ret = raw_ioctl(fd, DRM_IOCTL_LPU_WAIT, &req);

	if (status)
		*status = req.status;
	if (device_ns)
		*device_ns = req.device_ns;
	return ret;
}

int wait_ms(int fd, uint64_t seq, int64_t ms, int32_t *status)
{
	return raw_wait(fd, seq, now_ns() + ms * NSEC_PER_MSEC, status, NULL);
}

int pci_path(const struct lpu_card *card, const char *attr, char *buf,
	     size_t len)
{
	/* The same root liblpu discovered @card under, so both agree. */
	int n = snprintf(buf, len, "%s/bus/pci/devices/%s/%s",
			 lpu_sysfs_root(), card->pci_addr, attr);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int pci_attr_ulong(const struct lpu_card *card, const char *attr,
		   unsigned long *val)
{
	char path[PATH_MAX], text[64], *end;
	int ret;

	ret = pci_path(card, attr, path, sizeof(path));
	if (ret)
		return ret;
	ret = read_text(path, text, sizeof(text));
	if (ret < 0)
		return ret;
	errno = 0;
	*val = strtoul(text, &end, 0);
	if (errno || end == text)
		return -EINVAL;
	return 0;
}

int pci_bar_size(const struct lpu_card *card, int bar, uint64_t *size)
{
	unsigned long long start, end, flags;
	char path[PATH_MAX];
	int ret = -ENOENT, i;
	FILE *f;

	if (pci_path(card, "resource", path, sizeof(path)))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* One "start end flags" line per BAR, in BAR order. */
	for (i = 0; i <= bar; i++) {
		if (fscanf(f, "%llx %llx %llx", &start, &end, &flags) != 3) {
			ret = -EINVAL;
			break;
		}
		if (i == bar) {
			*size = end ? end - start + 1 : 0;
			ret = 0;
		}
	}
	fclose(f);
	return ret;
}

int write_text(const char *path, const char *text)
{
	size_t len = strlen(text);
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	return (size_t)n == len ? 0 : -EIO;
}

int read_text(const char *path, char *buf, size_t len)
{
	ssize_t n;
	size_t got = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (got < len - 1) {
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0) {
			n = -errno;
			close(fd);
			return n;
		}
		if (n == 0)
			break;
		got += n;
	}
	close(fd);
	buf[got] = '\0';
	return got;
}

void debugfs_path(const struct lpu_card *card, const char *name, char *buf,
		  size_t len)
{
	snprintf(buf, len, "/sys/kernel/debug/accel/%u/%s", card->minor, name);
}

/* The number after "inflight=" in one debugfs queues line, or -EINVAL. */
static int parse_inflight(const char *line)
{
	const char *p = strstr(line, "inflight=");
	unsigned long val;
	char *end;

	if (!p)
		return -EINVAL;
	p += strlen("inflight=");
	errno = 0;
	val = strtoul(p, &end, 10);
	if (errno || end == p || val > INT_MAX)
		return -EINVAL;
	return val;
}

int queues_inflight(const struct lpu_card *card, unsigned int num_queues,
		    unsigned int *total)
{
	char path[PATH_MAX], buf[4096], *line, *save, *end;
	unsigned int seen = 0;
	int ret;

	debugfs_path(card, "queues", path, sizeof(path));
	ret = read_text(path, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	*total = 0;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		/* Queue lines start with their index; skip any header. */
		strtoul(line, &end, 10);
		if (end == line)
			continue;
		ret = parse_inflight(line);
		if (ret < 0)
			return ret;
		*total += ret;
		seen++;
	}
	return seen == num_queues ? 0 : -EINVAL;
}

int wait_queues_idle(const struct lpu_card *card, unsigned int num_queues,
		     int timeout_ms, unsigned int *left)
{
	int64_t end = now_ns() + timeout_ms * NSEC_PER_MSEC;
	int ret;

	do {
		ret = queues_inflight(card, num_queues, left);
		if (ret || !*left)
			return ret;
		usleep(20000);
	} while (now_ns() < end);
	return -ETIMEDOUT;
}

int wait_for_path(const char *path, bool want, int timeout_ms)
{
	int64_t end = now_ns() + timeout_ms * NSEC_PER_MSEC;

	do {
		if ((access(path, F_OK) == 0) == want)
			return 0;
		usleep(20000);
	} while (now_ns() < end);
	return -ETIMEDOUT;
}

int wait_for_card(struct lpu_card *card, int timeout_ms)
{
	int64_t end = now_ns() + timeout_ms * NSEC_PER_MSEC;

	do {
		if (!find_card(card) && access(card->dev_path, F_OK) == 0)
			return 0;
		usleep(20000);
	} while (now_ns() < end);
	return -ETIMEDOUT;
}

int kmsg_open_at_end(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

int kmsg_find(int fd, const char *n1, const char *n2, char *line,
	      size_t len, int timeout_ms)
{
	int64_t end = now_ns() + timeout_ms * NSEC_PER_MSEC;
	char rec[2048];
	ssize_t n;

	for (;;) {
		/* Each read() returns exactly one record. */
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: skip ahead */
		if (n < 0) {
			if (errno != EAGAIN || now_ns() > end)
				return -ENOENT;
			usleep(20000);
			continue;
		}
		rec[n] = '\0';
		if ((!n1 || strstr(rec, n1)) && (!n2 || strstr(rec, n2))) {
			snprintf(line, len, "%s", rec);
			return 0;
		}
	}
}

bool names_queue(const char *line, unsigned int q)
{
	const char *p = line;
	char *end;

	while ((p = strstr(p, "queue"))) {
		p += 5;
		while (*p == ' ' || *p == '=' || *p == ':' || *p == '#')
			p++;
		if (*p >= '0' && *p <= '9' && strtoul(p, &end, 10) == q)
			return true;
	}
	return false;
}

int kmsg_find_queue(int fd, const struct lpu_card *card, unsigned int q,
		    const char *needle, int timeout_ms)
{
	char line[2048];

	while (!kmsg_find(fd, card->pci_addr, needle, line, sizeof(line),
			  timeout_ms)) {
		if (names_queue(line, q))
			return 0;
	}
	return -ENOENT;
}

int read_taint(unsigned long *taint)
{
	char text[64];
	int ret = read_text("/proc/sys/kernel/tainted", text, sizeof(text));

	if (ret < 0)
		return ret;
	*taint = strtoul(text, NULL, 10);
	return 0;
}

int long_jobs_to_outlast(int fd, unsigned int queue, unsigned int jobs)
{
	const unsigned int samples = 64;
	int64_t t0, per_submit;
	uint64_t seq = 0;
	int32_t status = 1;
	unsigned int i;
	int ret;

	t0 = now_ns();
	for (i = 0; i < samples; i++) {
		ret = raw_submit(fd, queue, 0, &seq);
		if (ret)
			return ret;
	}
	per_submit = (now_ns() - t0) / samples;
	ret = wait_ms(fd, seq, 20000, &status);
	if (ret)
		return ret;
	if (status)
		return status;
	jobs = 3 + 2 * per_submit * jobs / NSEC_PER_SEC;
	return jobs > LONG_JOBS_MAX ? -E2BIG : (int)jobs;
}

int hold_fence(int from, unsigned int queue, unsigned int count, int to,
	       uint32_t *syncobj)
{
	struct drm_lpu_submit req = {
		.queue = queue,
		.job_type = LPU_JOB_NOP,
		.nop_cycles = DRM_LPU_NOP_MAX_CYCLES,
	};
	uint32_t theirs;
	unsigned int i;
	int ret, sync_file;

	ret = drmSyncobjCreate(from, 0, &theirs);
	if (ret)
		return ret;
	for (i = 0; i < count && !ret; i++) {
		req.out_syncobj = i + 1 == count ? theirs : 0;
		ret = raw_ioctl(from, DRM_IOCTL_LPU_SUBMIT, &req);
	}
	if (!ret)
		ret = drmSyncobjExportSyncFile(from, theirs, &sync_file);
	drmSyncobjDestroy(from, theirs);
	if (ret)
		return ret;
	ret = drmSyncobjCreate(to, 0, syncobj);
	if (!ret)
		ret = drmSyncobjImportSyncFile(to, *syncobj, sync_file);
	close(sync_file);
	return ret;
}

int card_works(const struct lpu_card *card)
{
	struct drm_lpu_info info;
	int32_t status = 1;
	uint64_t seq;
	int fd, ret;

	fd = open_card(card);
	if (fd < 0)
		return fd;
	ret = raw_info(fd, &info);
	if (!ret)
		ret = raw_submit(fd, 0, 0, &seq);
	if (!ret)
		ret = wait_ms(fd, seq, 20000, &status);
	if (!ret)
		ret = status;
	close(fd);
	return ret;
}

int kmsg_count_device(int fd, const char *pci_addr, int max_level,
		      const char *except, char *first, size_t len,
		      int quiet_ms)
{
	int64_t end = now_ns() + quiet_ms * NSEC_PER_MSEC;
	char rec[2048], *msg;
	int count = 0;
	ssize_t n;

	if (first && len)
		first[0] = '\0';
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n < 0) {
			if (errno != EAGAIN)
				return -errno;
			if (now_ns() > end)
				return count;
			usleep(20000);
			continue;
		}
		end = now_ns() + quiet_ms * NSEC_PER_MSEC;
		rec[n] = '\0';
		/* "prio,seq,usec,flags;message\n KEY=value..." */
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		msg[strcspn(msg, "\n")] = '\0';
		if ((int)(strtoul(rec, NULL, 10) & 7) > max_level ||
		    !strstr(msg, pci_addr) || (except && strstr(msg, except)))
			continue;
		if (!count && first)
			snprintf(first, len, "%s", msg);
		count++;
	}
}

int find_lpu_pci_addr(char *buf, size_t len)
{
	char root[PATH_MAX], path[PATH_MAX + 300];
	unsigned long vendor, device;
	struct dirent *d;
	char text[32];
	int ret = -ENODEV;
	DIR *dir;

	snprintf(root, sizeof(root), "%s/bus/pci/devices", lpu_sysfs_root());
	dir = opendir(root);
	if (!dir)
		return -errno;
	while (ret && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/vendor", root, d->d_name);
		if (read_text(path, text, sizeof(text)) < 0)
			continue;
		vendor = strtoul(text, NULL, 0);
		snprintf(path, sizeof(path), "%s/%s/device", root, d->d_name);
		if (read_text(path, text, sizeof(text)) < 0)
			continue;
		device = strtoul(text, NULL, 0);
		if (vendor == LPU_PCI_VENDOR_ID &&
		    device == LPU_PCI_DEVICE_ID_V3) {
			snprintf(buf, len, "%s", d->d_name);
			ret = 0;
		}
	}
	closedir(dir);
	return ret;
}

int pci_driver_of(const char *pci_addr, char *buf, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver",
		 lpu_sysfs_root(), pci_addr);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	snprintf(buf, len, "%s", base ? base + 1 : target);
	return 0;
}
