/* error_text.c - see error_text.h. */
#include "error_text.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

int error_set(char **error, const char *fmt, ...)
{
	int err = errno;
	if (error) {
		va_list ap;
		va_start(ap, fmt);
		if (vasprintf(error, fmt, ap) < 0)
			*error = NULL;
		va_end(ap);
	}
	errno = err;
	return -1;
}
