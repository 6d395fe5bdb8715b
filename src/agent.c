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
#include <time.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error_text.h"
#include "agent_protocol.h"
#include "symbols.h"

/* Beyond a call's own timeout: the agent's poll, the syscall and the stream's latency. */
#define REPLY_MARGIN_MS 2000
/* A reset may move an interface between namespaces and wait for an IPv6 address to come into use
 * (agent_netns_fresh, 2 s at most), on a machine that may be loaded. */
#define RESET_REPLY_MS (REPLY_MARGIN_MS + 8000)
/* A guest whose vCPU the host does not run answers once it runs again, and how long it stood still is
 * the question: worth waiting for. */
#define STALLS_REPLY_MS (REPLY_MARGIN_MS + 30000)
/* tsclock samples the clock 200 ms apart. */
#define TS_CLOCK_REPLY_MS (REPLY_MARGIN_MS + 200)

/* Exit codes the child uses before it can speak the protocol. */
#define CHILD_EXIT_BROKEN_STREAM 1
#define CHILD_EXIT_ORPHANED 2
#define CHILD_EXIT_NO_NAMESPACE 3
#define CHILD_EXIT_NO_COMMAND 127

/* A command agent may start over ssh, or as a whole gVisor sandbox: its first reply may take a while,
 * more than 15 s for runsc on a 2-core machine busy with other test runs (load 30). */
#define AGENT_START_MS 60000
/* How long a stopping agent gets to restore its sysctls after EOF before it is killed. */
#define AGENT_STOP_MS 3000

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

	agent_allow_netns();
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
static int send_request(struct agent *agent, const struct agent_request *req, int64_t wait_ms,
			struct agent_pending *pending, char **error)
{
	agent->last_err = 0;
	if (agent->fd < 0)
		return error_set(error, "agent: not running");
	int len = agent_format_request(req, pending->request, sizeof pending->request, error);
	if (len < 0)
		return -1;
	agent->awaiting = true;
	if (send_all(agent->fd, pending->request, (size_t)len) < 0)
		return error_set(error, "agent: sending '%.*s': %s", len - 1, pending->request, strerror(errno));
	pending->request[len - 1] = '\0';
	pending->id = req->id;
	pending->wait_ms = wait_ms;
	return 0;
}

static int receive_reply(struct agent *agent, const struct agent_pending *pending, struct agent_reply *reply,
			 char **error)
{
	int64_t wait_ms = pending->wait_ms;
	const char *request = pending->request;
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += wait_ms / 1000;
	deadline.tv_nsec += (wait_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	/* A reply older than req's answers a request that timed out before it came: it is dropped, so
	 * one slow call does not leave every later one reading its predecessor's reply. */
	for (;;) {
		size_t line_len = 0;
		if (read_line(agent, &deadline, wait_ms, request, &line_len, error) < 0)
			return -1; /* still awaiting: the stream is out of step or gone */
		unsigned id;
		char *why = NULL;
		int rc = agent_parse_reply(agent->inbuf, line_len, &id, reply, &why);
		bool stale = rc == 0 && id < pending->id;
		if (rc < 0)
			error_set(error, "agent: bad reply to '%s': %s", request, why ? why : "out of memory");
		else if (id != pending->id && !stale)
			rc = error_set(error, "agent: reply id %u to '%s' (want %u)%s%s", id, request, pending->id,
				       reply->text[0] ? ": " : "", reply->text);
		else if (!stale)
			agent->last_err = reply->err;
		free(why);
		agent->inlen -= line_len + 1;
		memmove(agent->inbuf, agent->inbuf + line_len + 1, agent->inlen);
		if (!stale) {
			agent->awaiting = rc < 0;
			return rc;
		}
	}
}

static int exchange(struct agent *agent, const struct agent_request *req, int64_t wait_ms,
		    struct agent_reply *reply, char **error)
{
	struct agent_pending pending;
	if (send_request(agent, req, wait_ms, &pending, error) < 0)
		return -1;
	return receive_reply(agent, &pending, reply, error);
}

static const char *child_exit_reason(int status)
{
	if (!WIFEXITED(status))
		return "killed";
	switch (WEXITSTATUS(status)) {
	case CHILD_EXIT_ORPHANED: return "its parent was gone before it started";
	case CHILD_EXIT_NO_NAMESPACE: return "it could not enter the target network namespace";
	case CHILD_EXIT_NO_COMMAND: return "the command was not found";
	default: return "it exited";
	}
}

/* A child that failed to start says so only by exiting; hello turns that into an error here. */
static int handshake(struct agent *agent, char **why)
{
	struct agent_request hello = { .id = take_id(agent), .op = AGENT_OP_HELLO };
	struct agent_reply reply;
	if (exchange(agent, &hello, AGENT_START_MS, &reply, why) < 0)
		return -1;
	if (reply.ret != AGENT_PROTOCOL_VERSION)
		return error_set(why, "agent speaks protocol %lld, want %d", (long long)reply.ret,
				 AGENT_PROTOCOL_VERSION);
	snprintf(agent->stack, sizeof agent->stack, "%.127s", reply.text);
	return 0;
}

static int started_or_stopped(struct agent *agent, const char *what, char **error)
{
	char *why = NULL;
	if (handshake(agent, &why) == 0)
		return 0;
	close(agent->fd);
	agent->fd = -1;
	kill(agent->pid, SIGKILL);
	int status = 0;
	while (waitpid(agent->pid, &status, 0) < 0 && errno == EINTR)
		;
	agent->pid = -1;
	error_set(error, "agent: %s did not start (%s): %s", what, child_exit_reason(status),
		  why ? why : "out of memory");
	free(why);
	return -1;
}

static int fork_with_stream(struct agent *out, int *child_end, char **error)
{
	*out = (struct agent){ .pid = -1, .fd = -1, .next_id = 1 };
	int pair[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
		return error_set(error, "agent: socketpair: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0) {
		int err = errno;
		close(pair[0]);
		close(pair[1]);
		return error_set(error, "agent: fork: %s", strerror(err));
	}
	if (pid == 0) {
		close(pair[0]);
		*child_end = pair[1];
		return 0;
	}
	close(pair[1]);
	out->pid = pid;
	out->fd = pair[0];
	return 0;
}

int agent_spawn_local(int target_netns_fd, struct agent *out, char **error)
{
	if (target_netns_fd < 0)
		return error_set(error, "agent: no target namespace descriptor");
	pid_t parent = getpid();
	int child_end = -1;
	if (fork_with_stream(out, &child_end, error) < 0)
		return -1;
	if (out->pid < 0)
		run_child(parent, target_netns_fd, child_end);
	return started_or_stopped(out, "child", error);
}

/* The command's stdin and stdout are one end of a socketpair; stderr stays the harness's, so ssh's
 * own complaints reach the user. It is killed with the harness (PDEATHSIG), and an ssh that dies
 * closes the remote agent's input, which restores the lab host's sysctls. */
int agent_spawn_command(const char *command, struct agent *out, char **error)
{
	pid_t parent = getpid();
	int child_end = -1;
	if (fork_with_stream(out, &child_end, error) < 0)
		return -1;
	if (out->pid < 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
			_exit(CHILD_EXIT_ORPHANED);
		if (dup2(child_end, STDIN_FILENO) < 0 || dup2(child_end, STDOUT_FILENO) < 0)
			_exit(CHILD_EXIT_BROKEN_STREAM);
		close_range(3, ~0u, 0);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (int sig = 1; sig < NSIG; sig++)
			signal(sig, SIG_DFL);
		/* Ctrl-C in the harness's terminal must not cut the agent off before its restore. */
		setpgid(0, 0);
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
		_exit(CHILD_EXIT_NO_COMMAND);
	}
	return started_or_stopped(out, command, error);
}

int agent_attach_stream(int fd, struct agent *out, char **error)
{
	*out = (struct agent){ .pid = -1, .fd = fd, .next_id = 1 };
	char *why = NULL;
	if (handshake(out, &why) == 0)
		return 0;
	close(fd);
	out->fd = -1;
	error_set(error, "agent: %s", why ? why : "out of memory");
	free(why);
	return -1;
}

int agent_call_start(struct agent *agent, const struct app_call *call, struct agent_pending *pending, char **error)
{
	struct agent_request req;
	if (agent_request_from_call(take_id(agent), call, agent->family, &req, error) < 0)
		return -1;
	return send_request(agent, &req, (int64_t)req.timeout_ms + REPLY_MARGIN_MS, pending, error);
}

int agent_call_finish(struct agent *agent, const struct agent_pending *pending, struct agent_reply *reply,
		      char **error)
{
	return receive_reply(agent, pending, reply, error);
}

int agent_call(struct agent *agent, const struct app_call *call, struct agent_reply *reply, char **error)
{
	struct agent_pending pending;
	if (agent_call_start(agent, call, &pending, error) < 0)
		return -1;
	return agent_call_finish(agent, &pending, reply, error);
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

int agent_sysctl_exists(struct agent *agent, const char *key, char **error)
{
	struct agent_request req = { .id = take_id(agent), .op = AGENT_OP_SYSCTL_GET };
	if (strlen(key) >= sizeof req.key)
		return error_set(error, "agent: sysctl key '%s' is too long", key);
	strcpy(req.key, key);
	struct agent_reply reply;
	if (exchange(agent, &req, REPLY_MARGIN_MS, &reply, error) < 0)
		return -1;
	return reply.err != ENOENT;
}

int agent_sysctl_set(struct agent *agent, const char *key, const char *value, char **error)
{
	struct agent_reply reply;
	return sysctl_request(agent, AGENT_OP_SYSCTL_SET, key, value, &reply, error);
}

/* Whether pid (our child) exits within ms. Waiting on its pidfd wakes at the exit itself; a kernel
 * without pidfd_open (before 5.3) is polled every millisecond instead. */
static bool exits_within(pid_t pid, int ms)
{
	int fd = pidfd_open(pid, 0);
	if (fd < 0) {
		for (int waited_ms = 0; waited_ms < ms; waited_ms++) {
			if (waitpid(pid, NULL, WNOHANG) != 0)
				return true;
			usleep(1000);
		}
		return false;
	}
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	int64_t end_ns = (int64_t)deadline.tv_sec * 1000000000 + deadline.tv_nsec + (int64_t)ms * 1000000;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int rc;
	for (;;) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t left_ns = end_ns - ((int64_t)now.tv_sec * 1000000000 + now.tv_nsec);
		struct timespec left = { left_ns > 0 ? left_ns / 1000000000 : 0, left_ns > 0 ? left_ns % 1000000000 : 0 };
		rc = ppoll(&pfd, 1, &left, NULL);
		if (rc >= 0 || errno != EINTR)
			break;
	}
	close(fd);
	return rc > 0;
}

/* EOF first: the agent restores what it changed and exits; only one that hangs is killed. */
void agent_stop(struct agent *agent)
{
	if (agent->fd >= 0)
		close(agent->fd);
	agent->fd = -1;
	agent->inlen = 0;
	if (agent->pid > 0) {
		if (!exits_within(agent->pid, AGENT_STOP_MS))
			kill(agent->pid, SIGKILL);
		while (waitpid(agent->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	agent->pid = -1;
}

/* One exchange for the stack-wide ops; a refusal (reply->err) is an error here. */
static int stack_request(struct agent *agent, struct agent_request *req, int64_t wait_ms, struct agent_reply *reply,
			 char **error)
{
	req->id = take_id(agent);
	if (exchange(agent, req, wait_ms, reply, error) < 0)
		return -1;
	if (reply->err)
		return error_set(error, "agent: %s: %s%s%s", agent_op_name(req->op), errno_name(reply->err),
				 reply->text[0] ? ": " : "", reply->text);
	return 0;
}

int agent_socket_state(struct agent *agent, const struct ip_address *local_ip, uint16_t local_port,
		       const struct ip_address *remote_ip, uint16_t remote_port, struct socket_evidence *out,
		       char **error)
{
	struct agent_request req = { .op = AGENT_OP_STATE, .ip = *local_ip, .port = local_port,
				     .remote_ip = *remote_ip, .remote_port = remote_port };
	struct agent_reply reply;
	if (stack_request(agent, &req, REPLY_MARGIN_MS, &reply, error) < 0)
		return -1;
	char name[32];
	long long timer_ms;
	if (sscanf(reply.text, "%31s %lld", name, &timer_ms) != 2 || tcp_state_from_name(name) < 0)
		return error_set(error, "agent: state reply '%s' is not '<STATE> <timer ms>'", reply.text);
	out->state = tcp_state_from_name(name);
	out->timer_ms = timer_ms;
	return 0;
}

int agent_counter(struct agent *agent, const char *name, int64_t *value, char **error)
{
	struct agent_request req = { .op = AGENT_OP_COUNTER };
	if (strlen(name) >= sizeof req.counter)
		return error_set(error, "agent: counter name '%s' is too long", name);
	strcpy(req.counter, name);
	struct agent_reply reply;
	req.id = take_id(agent);
	if (exchange(agent, &req, REPLY_MARGIN_MS, &reply, error) < 0)
		return -1;
	if (reply.err == ENOENT)
		return 0;
	if (reply.err)
		return error_set(error, "agent: counter %s: %s%s%s", name, errno_name(reply.err),
				 reply.text[0] ? ": " : "", reply.text);
	*value = reply.ret;
	return 1;
}

int agent_purge(struct agent *agent, const struct ip_address *remote_ip, int *destroyed, char **error)
{
	struct agent_request req = { .op = AGENT_OP_PURGE, .ip = *remote_ip };
	struct agent_reply reply;
	if (stack_request(agent, &req, REPLY_MARGIN_MS, &reply, error) < 0)
		return -1;
	*destroyed = (int)reply.ret;
	return 0;
}

int agent_neigh_flush(struct agent *agent, const struct ip_address *ip, int *flushed, char **error)
{
	struct agent_request req = { .op = AGENT_OP_NEIGH_FLUSH, .ip = *ip };
	struct agent_reply reply;
	if (stack_request(agent, &req, REPLY_MARGIN_MS, &reply, error) < 0)
		return -1;
	*flushed = (int)reply.ret;
	return 0;
}

int agent_neigh_add(struct agent *agent, const struct ip_address *ip, const uint8_t mac[6], char **error)
{
	struct agent_request req = { .op = AGENT_OP_NEIGH_ADD, .ip = *ip };
	memcpy(req.lladdr, mac, 6);
	struct agent_reply reply;
	return stack_request(agent, &req, REPLY_MARGIN_MS, &reply, error) < 0 ? -1 : 0;
}

int agent_enter_netns(struct agent *agent, int netns_fd, char **error)
{
	struct agent_request req = { .op = AGENT_OP_NETNS };
	snprintf(req.value, sizeof req.value, "/proc/%d/fd/%d", (int)getpid(), netns_fd);
	struct agent_reply reply;
	return stack_request(agent, &req, REPLY_MARGIN_MS, &reply, error);
}

int agent_reset(struct agent *agent, enum address_family family, char **error)
{
	struct agent_request req = { .op = AGENT_OP_RESET, .inet6 = family == FAMILY_IPV6 };
	struct agent_reply reply;
	if (stack_request(agent, &req, RESET_REPLY_MS, &reply, error) < 0)
		return -1;
	agent->fresh_netns = strcmp(reply.text, "fresh-netns") == 0;
	return 0;
}

int agent_ts_clock_hz(struct agent *agent, int *hz, char **error)
{
	struct agent_request req = { .op = AGENT_OP_TSCLOCK, .id = take_id(agent) };
	struct agent_reply reply;
	if (exchange(agent, &req, TS_CLOCK_REPLY_MS, &reply, error) < 0)
		return -1;
	if (reply.err || reply.ret <= 0)
		return 0;
	*hz = (int)reply.ret;
	return 1;
}

int agent_stalls(struct agent *agent, char *text, size_t size, char **error)
{
	struct agent_request req = { .op = AGENT_OP_STALLS, .id = take_id(agent) };
	struct agent_reply reply;
	if (exchange(agent, &req, STALLS_REPLY_MS, &reply, error) < 0)
		return -1;
	if (reply.err)
		return 0;
	snprintf(text, size, "%s", reply.text);
	return 1;
}

int agent_accept_close(struct agent *agent, const char *listener, uint32_t count, int timeout_ms, int64_t *closed,
		       char **error)
{
	struct agent_request req = { .op = AGENT_OP_ACCEPT_CLOSE, .count = count, .timeout_ms = timeout_ms };
	if (strlen(listener) >= sizeof req.handle)
		return error_set(error, "agent: handle '%s' is too long", listener);
	strcpy(req.handle, listener);
	struct agent_reply reply;
	if (stack_request(agent, &req, (int64_t)timeout_ms + REPLY_MARGIN_MS, &reply, error) < 0)
		return -1;
	*closed = reply.ret;
	return 0;
}
