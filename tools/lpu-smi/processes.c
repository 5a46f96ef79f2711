// SPDX-License-Identifier: MIT
/*
 * lpu-smi: which processes use a card, and how much memory their open
 * files hold, from the standard DRM fdinfo keys (drm-driver, drm-pdev,
 * drm-client-id, drm-total-<region>). Only processes whose fdinfo the
 * caller may read are seen; for other users' processes that means root.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <drm/lpu_accel.h>

#include "smi.h"

/* "drm-total-sram:\t12 MiB" -> bytes; the kernel prints no unit, KiB or MiB. */
static uint64_t fdinfo_size(const char *val)
{
	unsigned long long n;
	char unit[8] = "";

	if (sscanf(val, "%llu %7s", &n, unit) < 1)
		return 0;
	if (!strcmp(unit, "KiB"))
		return (uint64_t)n << 10;
	if (!strcmp(unit, "MiB"))
		return (uint64_t)n << 20;
	return n;
}

struct fdinfo {
	bool is_lpu;
	char pdev[32];
	uint64_t client_id;
	uint64_t sram, host;
};

static void parse_fdinfo(FILE *f, struct fdinfo *fi)
{
	char line[256], *val;

	memset(fi, 0, sizeof(*fi));
	while (fgets(line, sizeof(line), f)) {
		val = strchr(line, ':');
		if (!val)
			continue;
		*val++ = '\0';
		val += strspn(val, " \t");
		val[strcspn(val, "\n")] = '\0';
		if (!strcmp(line, "drm-driver"))
			fi->is_lpu = !strcmp(val, DRM_LPU_DRIVER_NAME);
		else if (!strcmp(line, "drm-pdev"))
			snprintf(fi->pdev, sizeof(fi->pdev), "%s", val);
		else if (!strcmp(line, "drm-client-id"))
			fi->client_id = strtoull(val, NULL, 10);
		else if (!strcmp(line, "drm-total-sram"))
			fi->sram = fdinfo_size(val);
		else if (!strcmp(line, "drm-total-host"))
			fi->host = fdinfo_size(val);
	}
}

static void read_comm(int pid, char *comm, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(comm, len, "?");
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(comm, len, f))
		comm[strcspn(comm, "\n")] = '\0';
	fclose(f);
}

/* Every dup()ed or inherited fd of one client shows the same client id. */
static bool seen(const struct smi_proc *procs, int n, int pid, uint64_t id)
{
	int i;

	for (i = 0; i < n; i++)
		if (procs[i].pid == pid && procs[i].client_id == id)
			return true;
	return false;
}

static int scan_pid(int pid, const char *pci_addr, struct smi_proc *procs,
		    int n, int max)
{
	char path[64], fpath[PATH_MAX];
	struct fdinfo fi;
	struct dirent *e;
	DIR *d;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo", pid);
	d = opendir(path);
	if (!d)
		return n;
	while (n < max && (e = readdir(d))) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(fpath, sizeof(fpath), "%s/%s", path, e->d_name);
		f = fopen(fpath, "re");
		if (!f)
			continue;
		parse_fdinfo(f, &fi);
		fclose(f);
		if (!fi.is_lpu || strcmp(fi.pdev, pci_addr) ||
		    seen(procs, n, pid, fi.client_id))
			continue;
		procs[n].pid = pid;
		procs[n].client_id = fi.client_id;
		procs[n].sram_bytes = fi.sram;
		procs[n].host_bytes = fi.host;
		read_comm(pid, procs[n].comm, sizeof(procs[n].comm));
		n++;
	}
	closedir(d);
	return n;
}

int smi_find_processes(const char *pci_addr, struct smi_proc *procs, int max)
{
	struct dirent *e;
	int n = 0;
	DIR *d;

	d = opendir("/proc");
	if (!d)
		return -errno;
	while (n < max && (e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		/* Our own files (inherited ones too) are not a user's. */
		if (*end || pid <= 0 || pid > INT_MAX || pid == getpid())
			continue;
		n = scan_pid(pid, pci_addr, procs, n, max);
	}
	closedir(d);
	return n;
}
