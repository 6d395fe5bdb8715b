/* agent_test_support.h - assertions the agent's kernel tests share (Linux agent, lwIP agent).
 * Include after <cmocka.h>; everything here is static, one copy per test program. */
#ifndef TCPHARNESS_AGENT_TEST_SUPPORT_H
#define TCPHARNESS_AGENT_TEST_SUPPORT_H

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "symbols.h"

/* An agent reply must be exactly ret and err (0: success); the message shows both sides. */
#define assert_reply(reply, want_ret, want_err)                                                               \
	do {                                                                                                  \
		struct agent_reply r_ = (reply);                                                              \
		if (r_.ret != (want_ret) || r_.err != (want_err))                                             \
			fail_msg("got %lld %s '%s', want %lld %s", (long long)r_.ret,                         \
				 r_.err ? errno_name(r_.err) : "-", r_.text, (long long)(want_ret),            \
				 (want_err) ? errno_name(want_err) : "-");                                    \
	} while (0)

/* Waits up to 2 s for an agent whose stream ended to exit; returns its wait status. */
static int wait_exit(pid_t pid)
{
	int status;
	for (int i = 0; i < 200; i++) {
		pid_t got = waitpid(pid, &status, WNOHANG);
		assert_true(got >= 0);
		if (got == pid)
			return status;
		usleep(10000);
	}
	fail_msg("agent %d still running 2 s after its stream ended", (int)pid);
	return -1;
}

/* Takes the error's address: the call filling it must run before the message is read. */
static void assert_error_mentions(int rc, char **error, const char *want)
{
	assert_int_equal(rc, -1);
	assert_non_null(*error);
	if (!strstr(*error, want))
		fail_msg("message '%s' does not mention '%s'", *error, want);
	free(*error);
	*error = NULL;
}

#endif
