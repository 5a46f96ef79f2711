// SPDX-License-Identifier: MIT
/* Error messages for liblpu return values. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lpu_internal.h"

static const char *const lpu_messages[] = {
	[LPU_E_NOT_LPU - LPU_E_BASE] =
		"Not an LPU device (node is not driven by the lpu driver)",
	[LPU_E_DRIVER_VERSION - LPU_E_BASE] =
		"Unsupported lpu driver version (ioctl ABI major differs)",
};

const char *lpu_strerror(int err)
{
	const char *msg;

	if (err == INT_MIN)
		return "Unknown error";
	if (err < 0)
		err = -err;
	if (err == 0)
		return "Success";
	if (err >= LPU_E_BASE && err < LPU_E_MAX)
		return lpu_messages[err - LPU_E_BASE];
	/* strerrordesc_np() is thread-safe and NULL for unknown values. */
	msg = strerrordesc_np(err);
	return msg ? msg : "Unknown error";
}

int lpu_msg(char *msg, size_t len, int err, const char *fmt, ...)
{
	va_list ap;

	if (msg && len) {
		va_start(ap, fmt);
		vsnprintf(msg, len, fmt, ap);
		va_end(ap);
	}
	return err;
}
