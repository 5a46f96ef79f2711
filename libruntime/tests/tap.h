/* SPDX-License-Identifier: MIT */
/*
 * Minimal TAP producer for liblpu's host unit tests: one "ok N - name" or
 * "not ok N - name" line per check, the plan at the end, and an exit status
 * that is non-zero when any check failed.
 */
#ifndef LPU_TAP_H
#define LPU_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_count;
static int tap_failed;

__attribute__((format(printf, 2, 3)))
static inline int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

/* Integer comparison that prints both values when it fails. */
#define tap_is(got, want, name) do {					\
	long long __g = (got), __w = (want);				\
	if (!tap_ok(__g == __w, "%s", name))				\
		printf("#   got %lld, want %lld\n", __g, __w);	\
} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	if (tap_failed)
		printf("# %d of %d checks failed\n", tap_failed, tap_count);
	return tap_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif /* LPU_TAP_H */
