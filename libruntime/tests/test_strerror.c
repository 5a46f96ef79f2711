// SPDX-License-Identifier: MIT
/* lpu_strerror(): errno values, library codes, sign handling, garbage. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "lpu.h"
#include "tap.h"

int main(void)
{
	const char *a, *b;

	tap_ok(!strcmp(lpu_strerror(0), "Success"), "0 is Success");

	a = lpu_strerror(-EINVAL);
	b = lpu_strerror(EINVAL);
	tap_ok(a && b && !strcmp(a, b), "sign is ignored (%s)", a ? a : "NULL");
	tap_ok(!strcmp(a, strerror(EINVAL)), "-EINVAL matches strerror()");
	tap_ok(!strcmp(lpu_strerror(-ETIME), strerror(ETIME)),
	       "-ETIME matches strerror()");
	tap_ok(!strcmp(lpu_strerror(-ENODEV), strerror(ENODEV)),
	       "-ENODEV matches strerror()");

	a = lpu_strerror(-LPU_E_NOT_LPU);
	tap_ok(a && strstr(a, "Not an LPU device"), "not-an-lpu message: %s", a);
	b = lpu_strerror(-LPU_E_DRIVER_VERSION);
	tap_ok(b && strstr(b, "driver version") && strcmp(a, b),
	       "driver-version message is distinct: %s", b);

	tap_ok(!strcmp(lpu_strerror(-LPU_E_MAX), "Unknown error"),
	       "first code past the library range is unknown");
	tap_ok(!strcmp(lpu_strerror(-4095 + 1000), "Unknown error"),
	       "unassigned errno is unknown");
	tap_ok(!strcmp(lpu_strerror(INT_MIN), "Unknown error"),
	       "INT_MIN does not overflow");
	tap_ok(!strcmp(lpu_strerror(INT_MAX), "Unknown error"),
	       "INT_MAX is unknown");
	return tap_done();
}
