/* agent.c - the harness side of the agent: a child serving the protocol inside the target namespace,
 * and the request/reply exchanges with it. */
#include "agent.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error_text.h"
#include "agent_protocol.h"
#include "symbols.h"

/* Beyond a call's own timeout: the agent's poll, the syscall and the stream's latency. */
#define REPLY_MARGIN_MS 2000

/* Exit codes the child uses before it can speak the protocol. */
#define CHILD_EXIT_BROKEN_STREAM 1
#define CHILD_EXIT_ORPHANED 2
#define CHILD_EXIT_NO_NAMESPACE 3

/* The child is a copy of the harness: it must not run the harness's signal handlers (cleanup on
 * SIGINT would run twice), nor hold other streams open (their agents would never see EOF). */
static void __attribute__((noreturn)) run_child(pid_t parent, int netns_fd, int stream_fd)
{
	/* PDEATHSIG follows the forking thread: spawn from a thread that outlives the agent. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(CHILD_EXIT_ORPHANED);
	if (setns(netns_fd, CLONE_NEWNET) < 0)
		_exit(CHILD_EXIT_NO_NAMESPACE);
	if (stream_fd > 3)
		close_range(3, (unsigned)stream_fd - 1, 0);
	close_range((unsigned)stream_fd + 1, ~0u, 0);

	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	/* A harness that went away must read as EPIPE on the next reply, not kill the agent mid-call. */
	signal(SIGPIPE, SIG_IGN);

	_exit(agent_serve(stream_fd, stream_fd) == 0 ? 0 : CHILD_EXIT_BROKEN_STREAM);
}

static unsigned take_id(struct agent *agent)
{
	if (agent->next_id == 0)
		agent->next_id = 1;
	return agent->next_id++;
}

static int64_t ms_until(const struct timespec *deadline)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

static int send_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Waits until agent->inbuf holds a whole line and returns its length without the '\n'. request is the
 * line sent, for messages. */
static int read_line(struct agent *agent, const struct timespec *deadline, int64_t wait_ms, const char *request,
		     size_t *line_len, char **error)
{
	for (;;) {
		char *newline = memchr(agent->inbuf, '\n', agent->inlen);
		if (newline) {
			*line_len = (size_t)(newline - agent->inbuf);
			return 0;
		}
		if (agent->inlen == sizeof agent->inbuf)
			return error_set(error, "agent: reply to '%s' is longer than %zu bytes", request,
				    sizeof agent->inbuf - 1);
		int64_t left = ms_until(deadline);
		if (left < 0)
			left = 0;
		struct pollfd p = { .fd = agent->fd, .events = POLLIN };
		int ready = poll(&p, 1, (int)left);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0)
			return error_set(error, "agent: waiting for the reply to '%s': %s", request, strerror(errno));
		if (ready == 0)
			return error_set(error, "agent: no reply to '%s' within %lld ms", request, (long long)wait_ms);
		ssize_t n = read(agent->fd, agent->inbuf + agent->inlen, sizeof agent->inbuf - agent->inlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_set(error, "agent: reading the reply to '%s': %s", request, strerror(errno));
		if (n == 0)
			return error_set(error, "agent: stream closed before the reply to '%s'", request);
		agent->inlen += (size_t)n;
	}
}

/* Sends req and waits up to wait_ms for its reply. */
static int exchange(struct agent *agent, const struct agent_request *req, int64_t wait_ms,
		    struct agent_reply *reply, char **error)
{
	if (agent->fd < 0)
		return error_set(error, "agent: not running");
	char request[AGENT_LINE_MAX];
	int len = agent_format_request(req, request, sizeof request, error);
	if (len < 0)
		return -1;
	if (send_all(agent->fd, request, (size_t)len) < 0)
		return error_set(error, "agent: sending '%.*s': %s", len - 1, request, strerror(errno));
	request[len - 1] = '\0';

	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += wait_ms / 1000;
	deadline.tv_nsec += (wait_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	size_t line_len = 0;
	if (read_line(agent, &deadline, wait_ms, request, &line_len, error) < 0)
		return -1;

	unsigned id;
	char *why = NULL;
	int rc = agent_parse_reply(agent->inbuf, line_len, &id, reply, &why);
	if (rc < 0)
		error_set(error, "agent: bad reply to '%s': %s", request, why ? why : "out of memory");
	else if (id != req->id)
		rc = error_set(error, "agent: reply id %u to '%s' (want %u)%s%s", id, request, req->id,
			  reply->text[0] ? ": " : "", reply->text);
	free(why);
	agent->inlen -= line_len + 1;
	memmove(agent->inbuf, agent->inbuf + line_len + 1, agent->inlen);
	return rc;
}

static const char *child_exit_reason(int status)
{
	if (!WIFEXITED(status))
		return "killed";
	switch (WEXITSTATUS(status)) {
	case CHILD_EXIT_ORPHANED: return "its parent was gone before it started";
	case CHILD_EXIT_NO_NAMESPACE: return "it could not enter the target network namespace";
	default: return "it exited";
	}
}

int agent_spawn_local(int target_netns_fd, struct agent *out, char **error)
{
	*out = (struct agent){ .pid = -1, .fd = -1, .next_id = 1 };
	if (target_netns_fd < 0)
		return error_set(error, "agent: no target namespace descriptor");
	int pair[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
		return error_set(error, "agent: socketpair: %s", strerror(errno));
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int err = errno;
		close(pair[0]);
		close(pair[1]);
		return error_set(error, "agent: fork: %s", strerror(err));
	}
	if (pid == 0)
		run_child(parent, target_netns_fd, pair[1]);
	close(pair[1]);
	out->pid = pid;
	out->fd = pair[0];

	/* A child that failed to start says so only by exiting; hello turns that into an error here. */
	struct agent_request hello = { .id = take_id(out), .op = AGENT_OP_HELLO };
	struct agent_reply reply;
	char *why = NULL;
	if (exchange(out, &hello, REPLY_MARGIN_MS, &reply, &why) == 0) {
		if (reply.ret == AGENT_PROTOCOL_VERSION)
			return 0;
		free(why);
		why = NULL;
		error_set(&why, "agent speaks protocol %lld, want %d", (long long)reply.ret, AGENT_PROTOCOL_VERSION);
	}
	close(out->fd);
	out->fd = -1;
	kill(pid, SIGKILL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	out->pid = -1;
	error_set(error, "agent: child did not start (%s): %s", child_exit_reason(status), why ? why : "out of memory");
	free(why);
	return -1;
}

int agent_call(struct agent *agent, const struct app_call *call, struct agent_reply *reply, char **error)
{
	struct agent_request req;
	if (agent_request_from_call(take_id(agent), call, &req, error) < 0)
		return -1;
	return exchange(agent, &req, (int64_t)req.timeout_ms + REPLY_MARGIN_MS, reply, error);
}

static int sysctl_request(struct agent *agent, enum agent_op op, const char *key, const char *value,
			  struct agent_reply *reply, char **error)
{
	struct agent_request req = { .id = take_id(agent), .op = op };
	if (strlen(key) >= sizeof req.key)
		return error_set(error, "agent: sysctl key '%s' is too long", key);
	if (value && strlen(value) >= sizeof req.value)
		return error_set(error, "agent: value '%s' for %s is too long", value, key);
	strcpy(req.key, key);
	if (value)
		strcpy(req.value, value);
	if (exchange(agent, &req, REPLY_MARGIN_MS, reply, error) < 0)
		return -1;
	if (reply->err)
		return error_set(error, "agent: %s %s: %s%s%s", agent_op_name(op), key, errno_name(reply->err),
			    reply->text[0] ? ": " : "", reply->text);
	return 0;
}

int agent_sysctl_get(struct agent *agent, const char *key, char *value, size_t size, char **error)
{
	struct agent_reply reply;
	if (sysctl_request(agent, AGENT_OP_SYSCTL_GET, key, NULL, &reply, error) < 0)
		return -1;
	size_t len = strlen(reply.text);
	if (len >= size)
		return error_set(error, "agent: %s = '%s' does not fit in %zu bytes", key, reply.text, size);
	memcpy(value, reply.text, len + 1);
	return 0;
}

int agent_sysctl_set(struct agent *agent, const char *key, const char *value, char **error)
{
	struct agent_reply reply;
	return sysctl_request(agent, AGENT_OP_SYSCTL_SET, key, value, &reply, error);
}

void agent_stop(struct agent *agent)
{
	if (agent->fd >= 0)
		close(agent->fd);
	agent->fd = -1;
	agent->inlen = 0;
	if (agent->pid > 0) {
		kill(agent->pid, SIGKILL);
		while (waitpid(agent->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	agent->pid = -1;
}
