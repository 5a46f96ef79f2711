// SPDX-License-Identifier: MIT
/*
 * lpu-bench: latency and throughput of NOP jobs, run inside the guest.
 *
 * Output: one line per figure,
 *   BENCH <name> <value> <unit> baseline=<value> ratio=<value/baseline>
 *
 * Figures and their baselines (all from the same run):
 *   ioctl_version_rtt_p50  us     DRM_IOCTL_VERSION round trip: the floor
 *                                 of any ioctl. Baseline: itself.
 *   nop_device_p50         us     the device's own doorbell-to-completion
 *                                 time of a NOP (device_ns from WAIT): the
 *                                 floor of a job. Baseline: nop_rtt_p50.
 *   nop_rtt_p50/p99        us     NOP round trip as an application sees it:
 *                                 submit -> doorbell -> device -> MSI-X ->
 *                                 fence -> wait returns. Baseline of p50:
 *                                 ioctl_version_rtt_p50 (so ratio = how many
 *                                 bare ioctls a job costs); of p99: p50.
 *   nop_rtt_driver_share   %      share of nop_rtt_p50 spent outside the
 *                                 device, i.e. in driver, runtime, IRQ and
 *                                 scheduling: (rtt - device) / rtt.
 *                                 Baseline: 100 %.
 *   nop_throughput_qd1     jobs/s submit, wait, repeat. Baseline: itself.
 *   nop_throughput_qd<D>   jobs/s D jobs kept in flight (default 64).
 *                                 Baseline: qd1, so ratio is the speed-up
 *                                 from pipelining.
 *
 * Then the DMA engine and mmap'd SRAM against memcpy() (see dma.c):
 *   dma_h2s_<size>, dma_s2h_<size>, sram_mmap_write_<size>  MiB/s
 *
 * With --moe DIR it runs only the MoE schedule figures instead (moe.c):
 *   moe_tokens_per_s, moe_cycles_e8/e16/e64
 *
 * Defaults (200 round trips, 1000 jobs per throughput run) finish in a few
 * seconds under TCG emulation; the DMA figures take longer (64 MiB copies).
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [-d CARD] [-q QUEUE] [-n RTT_ITERS] [-t JOBS]\n"
		"          [-w WARMUP] [-D DEPTH] [-h]\n"
		"       %s --moe DIR --moe-baseline TOKENS_PER_S [--moe-repeat N] [-d CARD]\n"
		"  -d CARD       card index (default 0)\n"
		"  -q QUEUE      hardware queue (default 0)\n"
		"  -n RTT_ITERS  round trips per latency figure (default 200)\n"
		"  -t JOBS       jobs per throughput run (default 1000)\n"
		"  -w WARMUP     untimed jobs first (default 20)\n"
		"  -D DEPTH      jobs in flight for the pipelined run (default 64)\n"
		"  --moe DIR     MoE schedules of DIR (tput-f32, e8-f32, e16-f32, e64-f32)\n"
		"  --moe-baseline V  the numpy reference's tokens/s on the host\n"
		"  --moe-repeat N    timed runs (default 5)\n",
		prog, prog);
}

static int parse_uint(const char *s, unsigned int min, unsigned int max,
		      unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

void bench_line(const char *name, double value, const char *unit,
		double baseline)
{
	printf("BENCH %s %.2f %s baseline=%.2f ratio=%.3f\n", name, value,
	       unit, baseline, baseline > 0 ? value / baseline : 0);
	fflush(stdout);
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "lpu-bench: %s: %s\n", what, lpu_strerror(err));
	return 1;
}

int main(int argc, char **argv)
{
	struct bench_opts o = {
		.rtt_iters = 200, .tput_jobs = 1000, .warmup = 20, .depth = 64,
	};
	double ver_p50, rtt_p50, rtt_p99, dev_p50, share, qd1, qdn;
	uint64_t *ver, *rtt, *devns;
	struct lpu_device *dev;
	unsigned int card = 0;
	char name[48];
	int c, ret;

	static const struct option longopts[] = {
		{ "moe", required_argument, NULL, 'M' },
		{ "moe-baseline", required_argument, NULL, 'B' },
		{ "moe-repeat", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *moe_dir = NULL;
	double moe_base = -1;
	unsigned int moe_reps = 5;
	char *end;

	while ((c = getopt_long(argc, argv, "d:q:n:t:w:D:h", longopts,
				NULL)) != -1) {
		unsigned int *dst = NULL, min = 0, max = 10000000;

		switch (c) {
		case 'M':
			moe_dir = optarg;
			continue;
		case 'B':
			moe_base = strtod(optarg, &end);
			if (*end || end == optarg || !(moe_base > 0)) {
				fprintf(stderr, "lpu-bench: bad value '%s' for --moe-baseline\n",
					optarg);
				return 2;
			}
			continue;
		case 'R':
			dst = &moe_reps;
			min = 1;
			max = 1000;
			break;
		case 'd':
			dst = &card;
			max = 1024;
			break;
		case 'q':
			dst = &o.queue;
			max = 1024;
			break;
		case 'n':
			dst = &o.rtt_iters;
			min = 1;
			break;
		case 't':
			dst = &o.tput_jobs;
			min = 1;
			break;
		case 'w':
			dst = &o.warmup;
			break;
		case 'D':
			dst = &o.depth;
			min = 2;
			max = 65536;
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		default:
			usage(stderr, argv[0]);
			return 2;
		}
		if (parse_uint(optarg, min, max, dst)) {
			fprintf(stderr, "lpu-bench: bad value '%s' for -%c\n",
				optarg, c);
			return 2;
		}
	}
	o.card = card;
	/* --moe and --moe-baseline only make sense together. */
	if (optind != argc || (moe_dir && moe_base < 0) ||
	    (!moe_dir && moe_base >= 0)) {
		usage(stderr, argv[0]);
		return 2;
	}
	if (moe_dir) {
		ret = lpu_open(o.card, &dev);
		if (ret)
			return fail("open card", ret);
		ret = bench_moe(dev, moe_dir, moe_base, moe_reps);
		lpu_close(dev);
		return ret ? fail("MoE schedules", ret) : 0;
	}

	ret = lpu_open(o.card, &dev);
	if (ret)
		return fail("open card", ret);
	ver = calloc(o.rtt_iters, sizeof(*ver));
	rtt = calloc(o.rtt_iters, sizeof(*rtt));
	devns = calloc(o.rtt_iters, sizeof(*devns));
	if (!ver || !rtt || !devns)
		return fail("allocate", -ENOMEM);

	/* Warm caches, the scheduler's workers and the device's queue. */
	if (o.warmup) {
		uint64_t *w = calloc(o.warmup, sizeof(*w));

		ret = w ? bench_nop_rtt(dev, o.queue, w, NULL, o.warmup) : -ENOMEM;
		free(w);
		if (ret)
			return fail("warm-up", ret);
	}

	ret = bench_version_rtt(lpu_fd(dev), ver, o.rtt_iters);
	if (ret)
		return fail("DRM_IOCTL_VERSION", ret);
	ret = bench_nop_rtt(dev, o.queue, rtt, devns, o.rtt_iters);
	if (ret)
		return fail("NOP round trip", ret);

	ver_p50 = bench_percentile(ver, o.rtt_iters, 50) / 1e3;
	rtt_p50 = bench_percentile(rtt, o.rtt_iters, 50) / 1e3;
	rtt_p99 = bench_percentile(rtt, o.rtt_iters, 99) / 1e3;
	dev_p50 = bench_percentile(devns, o.rtt_iters, 50) / 1e3;
	share = rtt_p50 > 0 ? 100.0 * (rtt_p50 - dev_p50) / rtt_p50 : 0;

	bench_line("ioctl_version_rtt_p50", ver_p50, "us", ver_p50);
	bench_line("nop_device_p50", dev_p50, "us", rtt_p50);
	bench_line("nop_rtt_p50", rtt_p50, "us", ver_p50);
	bench_line("nop_rtt_p99", rtt_p99, "us", rtt_p50);
	bench_line("nop_rtt_driver_share", share, "%", 100.0);

	ret = bench_nop_throughput(dev, o.queue, o.tput_jobs, 1, &qd1);
	if (ret)
		return fail("throughput, 1 in flight", ret);
	ret = bench_nop_throughput(dev, o.queue, o.tput_jobs, o.depth, &qdn);
	if (ret)
		return fail("throughput, many in flight", ret);
	bench_line("nop_throughput_qd1", qd1, "jobs/s", qd1);
	snprintf(name, sizeof(name), "nop_throughput_qd%u", o.depth);
	bench_line(name, qdn, "jobs/s", qd1);

	ret = bench_dma_all(dev, o.queue);
	if (ret)
		return fail("DMA bandwidth", ret);

	free(ver);
	free(rtt);
	free(devns);
	ret = lpu_close(dev);
	return ret ? fail("close", ret) : 0;
}
