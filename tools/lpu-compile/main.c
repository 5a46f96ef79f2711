// SPDX-License-Identifier: MIT
/*
 * lpu-compile: compile the MoE blocks of a Hugging Face checkpoint
 * (config.json + *.safetensors, Mixtral or DeepSeek-MoE/Qwen-MoE naming)
 * into an LPU schedule for a fixed number of tokens per run.
 * Exit status: 0 written, 1 bad checkpoint or I/O error, 2 bad usage.
 * --check and --describe read a schedule instead (check.c, describe.c).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: lpu-compile CHECKPOINT_DIR -o OUT.lpus --tokens T [options]\n"
		"       lpu-compile --check FILE.lpus\n"
		"       lpu-compile --describe FILE.lpus\n"
		"  -o, --output FILE          the schedule to write\n"
		"  -t, --tokens T             tokens per run (rows of the input x)\n"
		"  -c, --capacity-factor F    expert capacity C = ceil(F * T * k / E),\n"
		"                             at most T (default 1.25)\n"
		"  -d, --dtype f32|bf16|int8  weight dtype (default f32); int8 is\n"
		"                             per-output-channel quantisation\n"
		"  -b, --blocks N             compile the first N MoE blocks (default all)\n"
		"      --program-host         keep the program in host memory, not SRAM\n"
		"      --dump-tensor NAME=FILE  also write the stored bytes of schedule\n"
		"                             tensor NAME (e.g. block0.w13) to FILE\n"
		"  -q, --quiet                no summary line\n"
		"      --check FILE           check a schedule as a loader would (exit 0 or 1)\n"
		"      --describe FILE        check a schedule, then print it as JSON: header,\n"
		"                             manifest, slots (with the file offset and length\n"
		"                             of each slot image), tensors, inputs/outputs and\n"
		"                             every instruction with names for opcodes, dtypes\n"
		"                             and flags and operands as {slot, offset}\n"
		"                             (exit 0, or 1 with the parser's message)\n"
		"  -h, --help                 this text\n"
		"  -V, --version              compiler and format version\n");
}

static int parse_u32(const char *s, const char *what, uint32_t max, uint32_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || !*s || *end || s[0] == '-' || !v || v > max) {
		fprintf(stderr, "lpu-compile: invalid %s '%s' (1..%u)\n", what, s, max);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "tokens", required_argument, NULL, 't' },
		{ "capacity-factor", required_argument, NULL, 'c' },
		{ "dtype", required_argument, NULL, 'd' },
		{ "blocks", required_argument, NULL, 'b' },
		{ "program-host", no_argument, NULL, 'P' },
		{ "dump-tensor", required_argument, NULL, 'D' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "check", required_argument, NULL, 'C' },
		{ "describe", required_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char *end, *eq;
	int opt;

	memset(o, 0, sizeof(*o));
	o->capacity_factor = 1.25f;
	o->dtype = LPU_DT_F32;
	while ((opt = getopt_long(argc, argv, "o:t:c:d:b:qhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			o->out = optarg;
			break;
		case 't':
			if (parse_u32(optarg, "token count", LPU_EXEC_MAX_DIM, &o->tokens))
				return 2;
			break;
		case 'c':
			errno = 0;
			o->capacity_factor = strtof(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(o->capacity_factor) ||
			    !(o->capacity_factor > 0) || o->capacity_factor > 1e6f) {
				fprintf(stderr, "lpu-compile: invalid capacity factor '%s' (> 0)\n",
					optarg);
				return 2;
			}
			break;
		case 'd':
			if (!strcmp(optarg, "f32")) {
				o->dtype = LPU_DT_F32;
			} else if (!strcmp(optarg, "bf16")) {
				o->dtype = LPU_DT_BF16;
			} else if (!strcmp(optarg, "int8")) {
				o->dtype = LPU_DT_I8;
			} else {
				fprintf(stderr, "lpu-compile: invalid dtype '%s' (f32, bf16 or int8)\n",
					optarg);
				return 2;
			}
			break;
		case 'b':
			if (parse_u32(optarg, "block count", MAX_BLOCKS, &o->blocks))
				return 2;
			break;
		case 'P':
			o->program_host = 1;
			break;
		case 'D':
			eq = strchr(optarg, '=');
			if (!eq || eq == optarg || !eq[1]) {
				fprintf(stderr, "lpu-compile: invalid --dump-tensor '%s' (NAME=FILE)\n",
					optarg);
				return 2;
			}
			*eq = '\0';
			o->dump_name = optarg;
			o->dump_file = eq + 1;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'C':
			o->check = optarg;
			break;
		case 'J':
			o->describe = optarg;
			break;
		case 'h':
			print_usage(stdout);
			exit(0);
		case 'V':
			printf("lpu-compile %d.%d.%d (schedule format %d.%d, target hw %d.%d)\n",
			       COMPILE_VERSION_MAJOR, COMPILE_VERSION_MINOR,
			       COMPILE_VERSION_PATCH, LPU_SCHED_VERSION_MAJOR,
			       LPU_SCHED_VERSION_MINOR, LPU_HW_VERSION_MAJOR,
			       LPU_HW_VERSION_MINOR);
			exit(0);
		default:
			print_usage(stderr);
			return 2;
		}
	}
	if (o->check && o->describe) {
		fprintf(stderr, "lpu-compile: --check or --describe, not both\n");
		return 2;
	}
	if (o->check || o->describe) {
		if (optind == argc)
			return 0;
		fprintf(stderr, "lpu-compile: --%s takes no checkpoint directory\n",
			o->check ? "check" : "describe");
		return 2;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "lpu-compile: %s\n", optind < argc ?
			"exactly one checkpoint directory" : "no checkpoint directory");
		print_usage(stderr);
		return 2;
	}
	o->dir = argv[optind];
	if (!o->out || !o->tokens) {
		fprintf(stderr, "lpu-compile: %s is required\n",
			!o->out ? "-o OUT" : "--tokens T");
		print_usage(stderr);
		return 2;
	}
	return 0;
}

static int dump_tensor(struct compile *c)
{
	const struct plan *p = &c->plan;
	FILE *f;
	uint32_t i;

	for (i = 0; i < p->ntensors; i++)
		if (!strcmp(p->tensors[i].name, c->opt.dump_name))
			break;
	if (i == p->ntensors || p->tensors[i].slot >= p->nslots ||
	    p->slots[p->tensors[i].slot].role != LPU_SLOT_WEIGHTS)
		return err("--dump-tensor: no weight tensor '%s'", c->opt.dump_name);
	f = fopen(c->opt.dump_file, "we");
	if (!f)
		return err("%s: %s", c->opt.dump_file, strerror(errno));
	if (fwrite(plan_weight_data(&c->plan, (int)i), 1, p->tensors[i].bytes, f) !=
	    p->tensors[i].bytes || fclose(f))
		return err("%s: write failed", c->opt.dump_file);
	return 0;
}

static const char *dtype_name(uint32_t dt)
{
	return dt == LPU_DT_I8 ? "int8" : dt == LPU_DT_BF16 ? "bf16" : "f32";
}

int main(int argc, char **argv)
{
	struct checkpoint ck;
	struct compile *c;
	int ret;

	c = calloc(1, sizeof(*c));
	if (!c) {
		err("out of memory");
		return 1;
	}
	ret = parse_args(argc, argv, &c->opt);
	if (ret || c->opt.check || c->opt.describe) {
		if (!ret && c->opt.check)
			ret = check_file(c->opt.check) ? 1 : 0;
		else if (!ret)
			ret = describe_file(c->opt.describe) ? 1 : 0;
		free(c);
		return ret;
	}
	ret = config_read(c->opt.dir, &c->cfg);
	if (!ret && c->opt.blocks > c->cfg.n_moe)
		ret = err("--blocks %u: the checkpoint has %u MoE blocks", c->opt.blocks,
			  c->cfg.n_moe);
	if (!ret && c->cfg.n_moe > MAX_BLOCKS && !c->opt.blocks)
		ret = err("%u MoE blocks: at most %u per schedule (--blocks)",
			  c->cfg.n_moe, MAX_BLOCKS);
	if (ret) {
		free(c);
		return 1;
	}
	if (!c->opt.blocks)
		c->opt.blocks = c->cfg.n_moe;
	c->capacity = capacity_for(c->opt.capacity_factor, c->opt.tokens,
				   c->cfg.top_k, c->cfg.experts);

	ret = ckpt_open(&ck, c->opt.dir);
	if (ret) {
		free(c);
		return 1;
	}
	ret = model_check_names(&c->cfg, &ck);
	ret = ret ? ret : model_plan(c);
	ret = ret ? ret : program_build(c);
	ret = ret ? ret : plan_finish(&c->plan);
	ret = ret ? ret : model_fill(c, &ck);
	ret = ret ? ret : container_write(c, c->opt.out);
	if (!ret && c->opt.dump_name)
		ret = dump_tensor(c);
	if (!ret && !c->opt.quiet)
		printf("lpu-compile: %s: %s, %u block%s, H %u, F %u, E %u, k %u, shared %u x %u, T %u, C %u, %s weights (%.1f MiB), %u instructions\n",
		       c->opt.out, c->cfg.arch == LPU_SCHED_ARCH_MIXTRAL ? "mixtral" : "deepseek",
		       c->opt.blocks, c->opt.blocks == 1 ? "" : "s", c->cfg.hidden, c->cfg.ffn,
		       c->cfg.experts, c->cfg.top_k, c->cfg.num_shared, c->cfg.shared_ffn,
		       c->opt.tokens, c->capacity, dtype_name(c->opt.dtype),
		       c->plan.weights_size / 1048576.0, c->ninsns);
	ckpt_close(&ck);
	free(c->plan.weights);
	free(c->insns);
	free(c);
	return ret ? 1 : 0;
}
