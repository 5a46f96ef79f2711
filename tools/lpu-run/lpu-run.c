// SPDX-License-Identifier: MIT
/*
 * lpu-run: submit a job to an LPU card and report how it went.
 *
 * --nop runs NOP jobs, the smallest thing that travels the whole path:
 * submit ioctl -> ring -> doorbell -> device -> MSI-X -> fence -> wait.
 * It shows that the completion came by interrupt by reading the queue's
 * MSI-X vector count in /proc/interrupts before and after.
 * --copy SIZE moves SIZE bytes host -> SRAM -> host with the card's DMA
 * engine and checks them (copy.c).
 * SCHEDULE runs a compiled MoE schedule on .npy inputs (schedule.c).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <drm/lpu_accel.h>
#include <lpu.h>
#include <lpu_hw.h>

#include "run.h"

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: lpu-run SCHEDULE [--input NAME=FILE.npy]... [--output-dir DIR]\n"
		"               [--repeat N] [--compare DIR [--rtol R | --exact]]\n"
		"               [--timeout MS] [-d DEV | -i INDEX] [-q QUEUE]\n"
		"       lpu-run --nop [-d DEV | -i INDEX] [-q QUEUE] [-c CYCLES] [-n COUNT]\n"
		"       lpu-run --copy SIZE [-d DEV | -i INDEX] [-q QUEUE]\n"
		"  SCHEDULE       a schedule written by lpu-compile: load it, run it on\n"
		"                 the inputs, print device cycles, wall time, tokens/s\n"
		"                 and every block's expert load\n"
		"  --input NAME=FILE.npy  input NAME of the schedule (all are required)\n"
		"  --output-dir DIR  write every output as DIR/<name>.npy\n"
		"  --repeat N     run N times (default 1); cycles must not change\n"
		"  --compare DIR  compare every output with DIR/<name>.npy: i32 exactly,\n"
		"                 f32 within max|d| <= R * max|ref|; exit 3 on mismatch\n"
		"  --rtol R       the R of --compare (default 1e-5)\n"
		"  --exact        f32 outputs must match bit for bit\n"
		"  --timeout MS   per-run timeout, 1..%d (default: the driver's)\n"
		"  --nop          run NOP jobs\n"
		"  --copy SIZE    DMA round trip host -> SRAM -> host of SIZE bytes\n"
		"                 (suffix K or M), checked byte for byte\n"
		"  -d, --device   device node (default: card 0)\n"
		"  -i, --index    card index as listed by lpu-smi\n"
		"  -q, --queue    hardware queue (default 0)\n"
		"  -c, --cycles   extra device cycles each NOP occupies (default 0)\n"
		"  -n, --count    jobs to run one after another (default 1)\n",
		DRM_LPU_EXEC_MAX_TIMEOUT_MS);
}

static int parse_uint(const char *s, const char *what, unsigned long max,
		      unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *s == '\0' || *end != '\0' || s[0] == '-' || v > max) {
		fprintf(stderr, "lpu-run: invalid %s '%s' (0..%lu)\n", what, s, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* --rtol: a finite number in (0, 1]. */
static int parse_rtol(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *s == '\0' || *end != '\0' || !(v > 0 && v <= 1)) {
		fprintf(stderr, "lpu-run: invalid rtol '%s' (a number in (0, 1])\n", s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* --input NAME=FILE: split at the first '='; both parts non-empty. */
static int parse_input(char *arg, struct sched_args *a)
{
	char *eq = strchr(arg, '=');
	unsigned int i;

	if (!eq || eq == arg || !eq[1] || eq - arg >= 48) {
		fprintf(stderr, "lpu-run: invalid --input '%s' (NAME=FILE.npy)\n", arg);
		return -EINVAL;
	}
	if (a->n_inputs == RUN_MAX_INPUTS) {
		fprintf(stderr, "lpu-run: more than %d --input options\n",
			RUN_MAX_INPUTS);
		return -EINVAL;
	}
	*eq = '\0';
	for (i = 0; i < a->n_inputs; i++) {
		if (!strcmp(a->input_name[i], arg)) {
			fprintf(stderr, "lpu-run: --input %s given twice\n", arg);
			return -EINVAL;
		}
	}
	a->input_name[a->n_inputs] = arg;
	a->input_file[a->n_inputs++] = eq + 1;
	return 0;
}

/*
 * Interrupts delivered so far on MSI-X vector @vec of PCI function @pci,
 * summed over CPUs, or -1 if /proc/interrupts has no such line.
 */
static long long msix_count(const char *pci, unsigned int vec)
{
	char chip[64], hwirq[32], line[4096];
	long long total = -1;
	FILE *f;

	snprintf(chip, sizeof(chip), "PCI-MSIX-%s", pci);
	snprintf(hwirq, sizeof(hwirq), " %u-edge", vec);
	f = fopen("/proc/interrupts", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':');
		long long sum = 0;

		if (!p || !strstr(line, chip) || !strstr(line, hwirq))
			continue;
		for (p++;;) {
			char *end;
			long long v = strtoll(p, &end, 10);

			if (end == p)
				break;
			sum += v;
			p = end;
		}
		total = sum;
		break;
	}
	fclose(f);
	return total;
}

/* "64M", "4K", "100": bytes, 1 .. 1 GiB. */
static int parse_size(const char *s, uint64_t *out)
{
	unsigned long v;
	char num[32], *end;
	size_t n = strlen(s);
	unsigned int shift = 0;

	if (n && (s[n - 1] == 'K' || s[n - 1] == 'M')) {
		shift = s[n - 1] == 'K' ? 10 : 20;
		n--;
	}
	if (!n || n >= sizeof(num))
		goto bad;
	memcpy(num, s, n);
	num[n] = '\0';
	errno = 0;
	v = strtoul(num, &end, 10);
	if (errno || *end || num[0] == '-' || !v || v > (1UL << 30) ||
	    (uint64_t)v << shift > DRM_LPU_BO_MAX_SIZE)
		goto bad;
	*out = (uint64_t)v << shift;
	return 0;
bad:
	fprintf(stderr, "lpu-run: invalid size '%s' (1 byte .. 1024M)\n", s);
	return -EINVAL;
}

double run_now_us(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC with a valid pointer cannot fail on Linux. */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nop", no_argument, NULL, 'N' },
		{ "copy", required_argument, NULL, 'C' },
		{ "device", required_argument, NULL, 'd' },
		{ "index", required_argument, NULL, 'i' },
		{ "queue", required_argument, NULL, 'q' },
		{ "cycles", required_argument, NULL, 'c' },
		{ "count", required_argument, NULL, 'n' },
		{ "input", required_argument, NULL, 'I' },
		{ "output-dir", required_argument, NULL, 'O' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "compare", required_argument, NULL, 'M' },
		{ "rtol", required_argument, NULL, 'R' },
		{ "exact", no_argument, NULL, 'X' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long index = 0, queue = 0, cycles = 0, count = 1, i;
	const char *path = NULL;
	struct lpu_device *dev;
	struct lpu_card card;
	struct lpu_info info;
	struct sched_args sa = { .rtol = 0.00001, .repeat = 1 };
	int nop = 0, have_rtol = 0, sched_opt = 0, c, ret;
	uint64_t copy_size = 0;
	long long irq_before, irq_after;

	while ((c = getopt_long(argc, argv, "d:i:q:c:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'N':
			nop = 1;
			break;
		case 'C':
			if (parse_size(optarg, &copy_size))
				return 2;
			break;
		case 'd':
			path = optarg;
			break;
		case 'i':
			if (parse_uint(optarg, "card index", 255, &index))
				return 2;
			break;
		case 'q':
			if (parse_uint(optarg, "queue", 255, &queue))
				return 2;
			break;
		case 'c':
			if (parse_uint(optarg, "cycles", DRM_LPU_NOP_MAX_CYCLES, &cycles))
				return 2;
			break;
		case 'n':
			if (parse_uint(optarg, "count", 1000000, &count) || !count)
				return 2;
			break;
		case 'I':
			if (parse_input(optarg, &sa))
				return 2;
			sched_opt = 1;
			break;
		case 'O':
			sa.output_dir = optarg;
			sched_opt = 1;
			break;
		case 'r':
			if (parse_uint(optarg, "repeat", 1000000, &sa.repeat))
				return 2;
			if (!sa.repeat) {
				fprintf(stderr, "lpu-run: invalid repeat '0' (1..1000000)\n");
				return 2;
			}
			sched_opt = 1;
			break;
		case 'M':
			sa.compare_dir = optarg;
			sched_opt = 1;
			break;
		case 'R':
			if (parse_rtol(optarg, &sa.rtol))
				return 2;
			have_rtol = 1;
			break;
		case 'X':
			sa.exact = 1;
			break;
		case 'T':
			if (parse_uint(optarg, "timeout (ms)",
				       DRM_LPU_EXEC_MAX_TIMEOUT_MS, &sa.timeout_ms))
				return 2;
			if (!sa.timeout_ms) {
				fprintf(stderr, "lpu-run: invalid timeout (ms) '0' (1..%d)\n",
					DRM_LPU_EXEC_MAX_TIMEOUT_MS);
				return 2;
			}
			sched_opt = 1;
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		default:
			print_usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		sa.path = argv[optind++];
	/* Exactly one job kind; schedule options only with a schedule. */
	if (nop + !!copy_size + !!sa.path != 1 || optind != argc ||
	    ((sched_opt || have_rtol || sa.exact) && !sa.path)) {
		print_usage(stderr);
		return 2;
	}
	if ((have_rtol || sa.exact) && !sa.compare_dir) {
		fprintf(stderr, "lpu-run: --rtol and --exact need --compare DIR\n");
		return 2;
	}
	if (have_rtol && sa.exact) {
		fprintf(stderr, "lpu-run: --rtol and --exact exclude each other\n");
		return 2;
	}

	ret = path ? lpu_open_path(path, &dev) : lpu_open(index, &dev);
	if (ret) {
		fprintf(stderr, "lpu-run: cannot open %s: %s\n",
			path ? path : "card", lpu_strerror(ret));
		return 1;
	}
	ret = lpu_query(dev, &info);
	if (ret) {
		fprintf(stderr, "lpu-run: query failed: %s\n", lpu_strerror(ret));
		goto out;
	}
	if (queue >= info.num_queues) {
		fprintf(stderr, "lpu-run: queue %lu does not exist, the card has %u\n",
			queue, info.num_queues);
		ret = -EINVAL;
		goto out;
	}
	/* The PCI address names the card's MSI-X lines in /proc/interrupts. */
	card.pci_addr[0] = '\0';
	if (!path && lpu_card_get(index, &card))
		card.pci_addr[0] = '\0';	/* then the count is just not shown */
	if (copy_size) {
		ret = run_copy(dev, queue, copy_size, card.pci_addr);
		goto out;
	}
	if (sa.path) {
		sa.queue = queue;
		c = run_schedule(dev, &sa);
		lpu_close(dev);
		return c;
	}
	irq_before = card.pci_addr[0] ?
		msix_count(card.pci_addr, LPU_MSIX_VEC_QUEUE(queue)) : -1;

	for (i = 0; i < count; i++) {
		struct lpu_job_result res;
		uint64_t seq;
		double t0, t1;

		t0 = run_now_us();
		ret = lpu_submit_nop(dev, queue, cycles, &seq);
		if (ret) {
			fprintf(stderr, "lpu-run: submit failed: %s\n", lpu_strerror(ret));
			goto out;
		}
		ret = lpu_wait(dev, seq, 10LL * 1000 * 1000 * 1000, &res);
		t1 = run_now_us();
		if (ret) {
			fprintf(stderr, "lpu-run: wait for job %" PRIu64 " failed: %s\n",
				seq, lpu_strerror(ret));
			goto out;
		}
		printf("job %" PRIu64 ": NOP on queue %lu %s, round trip %.1f us, device time %.3f us\n",
		       seq, queue, res.status ? lpu_strerror(res.status) : "completed",
		       t1 - t0, res.device_ns / 1e3);
		if (res.status) {
			ret = res.status;
			goto out;
		}
	}
	irq_after = irq_before >= 0 ?
		msix_count(card.pci_addr, LPU_MSIX_VEC_QUEUE(queue)) : -1;
	if (irq_after >= 0)
		printf("queue %lu MSI-X vector %u (%s): %lld interrupts during the run\n",
		       queue, (unsigned int)LPU_MSIX_VEC_QUEUE(queue), card.pci_addr,
		       irq_after - irq_before);
out:
	lpu_close(dev);
	return ret ? 1 : 0;
}
