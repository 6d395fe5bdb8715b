/* outcome.c - see outcome.h. */
#include "outcome.h"

#include <errno.h>
#include <stdio.h>

#include "segment.h"
#include "symbols.h"

const char *outcome_of_segment(uint8_t flags)
{
	if (flags & TCP_FLAG_RST)
		return "RST";
	if ((flags & TCP_FLAG_SYN) && (flags & TCP_FLAG_ACK))
		return "ACCEPT";
	if (flags & TCP_FLAG_SYN)
		return "SYN";
	if (flags & TCP_FLAG_FIN)
		return "FIN";
	if (flags & TCP_FLAG_ACK)
		return "ACK";
	return "SEGMENT";
}

void outcome_of_app(enum app_op op, int err, int64_t ret, char out[OUTCOME_MAX])
{
	if (err && !(op == APP_CONNECT && err == EINPROGRESS))
		snprintf(out, OUTCOME_MAX, "%s", errno_name(err));
	else if (op == APP_RECV && ret == 0)
		snprintf(out, OUTCOME_MAX, "EOF");
	else
		snprintf(out, OUTCOME_MAX, "OK");
}
