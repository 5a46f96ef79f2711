// SPDX-License-Identifier: MIT
/* Messages: every error is one line on stderr that names what is wrong. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json.h>

#include "compile.h"

int err(const char *fmt, ...)
{
	va_list ap;

	fputs("lpu-compile: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

const char *json_error(struct json_tokener *tok)
{
	enum json_tokener_error e = json_tokener_get_error(tok);

	/* json-c reports input that stops inside a value as "continue" */
	if (e == json_tokener_continue || e == json_tokener_success)
		return "unexpected end (truncated?)";
	return json_tokener_error_desc(e);
}

int only_space(const char *s, size_t len)
{
	while (len--)
		if (!strchr(" \t\r\n", *s++))
			return 0;
	return 1;
}
