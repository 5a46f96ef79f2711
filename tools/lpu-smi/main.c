// SPDX-License-Identifier: MIT
/*
 * lpu-smi: status of the LPU cards in this machine.
 *
 * Exit status: 0 when every LPU PCI function is driven by lpu and was
 * listed; 1 when there is no card, a card has no lpu driver bound, or a
 * selected card does not exist; 2 for a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lpu_hw.h>

#include "smi.h"

enum smi_mode { MODE_TABLE, MODE_LIST, MODE_QUERY, MODE_JSON };

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [-L | -q | --json] [-i INDEX] [-h]\n"
		"Show the LPU cards of this machine.\n\n"
		"  (default)     one table row per card\n"
		"  -L, --list    one line per card\n"
		"  -q, --query   full details of each card\n"
		"  -j, --json    machine-readable output (schema %d.%d)\n"
		"  -i, --id N    only card N\n"
		"  -h, --help    this help\n",
		prog, SMI_JSON_SCHEMA, SMI_JSON_SCHEMA_MINOR);
}

static int parse_index(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 1024)
		return -EINVAL;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "list", no_argument, NULL, 'L' },
		{ "query", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "id", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum smi_mode mode = MODE_TABLE;
	struct smi_card *cards;
	struct lpu_card card;
	int index = -1, count, n = 0, i, c, problems, ret = 0;

	while ((c = getopt_long(argc, argv, "Lqji:h", opts, NULL)) != -1) {
		switch (c) {
		case 'L':
			mode = MODE_LIST;
			break;
		case 'q':
			mode = MODE_QUERY;
			break;
		case 'j':
			mode = MODE_JSON;
			break;
		case 'i':
			if (parse_index(optarg, &index)) {
				fprintf(stderr, "lpu-smi: invalid card index '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		default:
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "lpu-smi: unexpected argument '%s'\n", argv[optind]);
		usage(stderr, argv[0]);
		return 2;
	}

	count = lpu_card_count();
	if (count < 0) {
		fprintf(stderr, "lpu-smi: cannot list cards: %s\n",
			lpu_strerror(count));
		return 1;
	}
	cards = calloc(count ? count : 1, sizeof(*cards));
	if (!cards) {
		fprintf(stderr, "lpu-smi: out of memory\n");
		return 1;
	}
	if (index >= count) {
		fprintf(stderr, "lpu-smi: no LPU card with index %d (%d found)\n",
			index, count);
		free(cards);
		return 1;
	}
	for (i = 0; i < count; i++) {
		if (index >= 0 && i != index)
			continue;
		/* A card can vanish between count and get (hot unplug). */
		if (lpu_card_get(i, &card))
			continue;
		smi_gather(&cards[n++], &card);
	}

	/* LPU functions without the lpu driver explain themselves on stderr. */
	problems = smi_check_unbound(false);
	if (count == 0 && !problems)
		fprintf(stderr, "lpu-smi: no LPU device found (no PCI function with vendor ID %04x driven by lpu)\n",
			LPU_PCI_VENDOR_ID);

	switch (mode) {
	case MODE_LIST:
		smi_print_list(cards, n);
		break;
	case MODE_QUERY:
		if (n)
			smi_print_query(cards, n);
		break;
	case MODE_JSON:
		ret = smi_print_json(cards, n);
		break;
	case MODE_TABLE:
		if (n)
			smi_print_table(cards, n);
		break;
	}
	free(cards);
	if (ret) {
		fprintf(stderr, "lpu-smi: %s\n", lpu_strerror(ret));
		return 1;
	}
	return count == 0 || problems ? 1 : 0;
}
