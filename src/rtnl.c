/* rtnl.c - see rtnl.h. */
#include "rtnl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

/* Big enough for the largest skb the kernel builds for a dump (32 KiB); a smaller buffer makes a
 * large reply arrive truncated. */
#define RTNL_RECEIVE_SIZE 32768

/* What one request's answer said, gathered by the callbacks below. */
struct answer {
	mnl_cb_t on_reply;
	void *data;
	int reply_errno;    /* on_reply rejected a message; the rest of the answer is still drained */
	int kernel_errno;   /* the kernel refused the request; 0 while it has not */
	char kernel_text[256];
};

static int fail(char **error, const char *what, int err, const char *text)
{
	if (error) {
		int rc = text[0] ? asprintf(error, "%s: %s (%s)", what, strerror(err), text)
				 : asprintf(error, "%s: %s", what, strerror(err));
		if (rc < 0)
			*error = NULL;
	}
	errno = err;
	return -1;
}

int rtnl_only_link(struct rtnl *rtnl, int ifindex, char **error)
{
	/* A link notification's ifinfomsg follows its header; classic BPF loads words in network order. */
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NLMSG_HDRLEN + offsetof(struct ifinfomsg, ifi_index)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ntohl((uint32_t)ifindex), 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffffu),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog program = { (unsigned short)(sizeof code / sizeof code[0]), code };
	if (setsockopt(mnl_socket_get_fd(rtnl->socket), SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) < 0)
		return fail(error, "rtnetlink filter", errno, "");
	return 0;
}

int rtnl_open(struct rtnl *rtnl, unsigned int groups, char **error)
{
	int on = 1;

	rtnl->seq = 0;
	rtnl->socket = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!rtnl->socket)
		return fail(error, "rtnetlink socket", errno, "");
	if (mnl_socket_bind(rtnl->socket, groups, MNL_SOCKET_AUTOPID) < 0) {
		int err = errno;
		rtnl_close(rtnl);
		return fail(error, "rtnetlink bind", err, "");
	}
	/* Both are diagnostics only (the kernel's explanation, and ACKs without an echo of the request):
	 * a kernel without them still answers with the errno. */
	(void)mnl_socket_setsockopt(rtnl->socket, NETLINK_EXT_ACK, &on, sizeof on);
	(void)mnl_socket_setsockopt(rtnl->socket, NETLINK_CAP_ACK, &on, sizeof on);
	rtnl->portid = mnl_socket_get_portid(rtnl->socket);
	return 0;
}

void rtnl_close(struct rtnl *rtnl)
{
	if (rtnl->socket)
		mnl_socket_close(rtnl->socket);
	rtnl->socket = NULL;
}

struct nlmsghdr *rtnl_request(struct rtnl *rtnl, void *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	memset(buf, 0, RTNL_REQUEST_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++rtnl->seq;
	return nlh;
}

static int on_data(const struct nlmsghdr *nlh, void *data)
{
	struct answer *answer = data;

	if (answer->on_reply && !answer->reply_errno) {
		errno = 0;
		if (answer->on_reply(nlh, answer->data) < 0)
			answer->reply_errno = errno ? errno : EBADMSG;
	}
	/* Keep reading even after a rejected message: the ACK still waits in the socket, and leaving
	 * it there would answer the next request. */
	return MNL_CB_OK;
}

static int on_extack_attr(const struct nlattr *attr, void *data)
{
	struct answer *answer = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		snprintf(answer->kernel_text, sizeof answer->kernel_text, "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

/* NLMSG_ERROR is both the ACK (error 0) and the refusal; a refusal may carry extack attributes
 * after the echoed request header (whole request unless the kernel capped it). */
static int on_error(const struct nlmsghdr *nlh, void *data)
{
	struct answer *answer = data;
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	size_t payload_len = mnl_nlmsg_get_payload_len(nlh);
	size_t tlv_offset = sizeof *err;

	if (payload_len < sizeof *err) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (err->error == 0)
		return MNL_CB_STOP;
	answer->kernel_errno = err->error < 0 ? -err->error : err->error;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return MNL_CB_STOP;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (err->msg.nlmsg_len < sizeof err->msg)
			return MNL_CB_STOP;
		tlv_offset += NLMSG_ALIGN(err->msg.nlmsg_len) - sizeof err->msg;
	}
	if (tlv_offset < payload_len)
		mnl_attr_parse(nlh, tlv_offset, on_extack_attr, answer);
	return MNL_CB_STOP;
}

/* The end of a dump; a dump that failed half way says so with a negative errno in its payload. */
static int on_done(const struct nlmsghdr *nlh, void *data)
{
	struct answer *answer = data;
	int status;

	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof status) {
		memcpy(&status, mnl_nlmsg_get_payload(nlh), sizeof status);
		if (status < 0)
			answer->kernel_errno = -status;
	}
	return MNL_CB_STOP;
}

int rtnl_talk(struct rtnl *rtnl, const struct nlmsghdr *request, mnl_cb_t on_reply, void *data,
	      const char *what, char **error)
{
	char buf[RTNL_RECEIVE_SIZE];
	/* libmnl applies no default to a control type left NULL here, so both terminators are set. */
	mnl_cb_t controls[NLMSG_MIN_TYPE] = { [NLMSG_ERROR] = on_error, [NLMSG_DONE] = on_done };
	struct answer answer = { .on_reply = on_reply, .data = data };
	int rc = MNL_CB_OK;

	if (mnl_socket_sendto(rtnl->socket, request, request->nlmsg_len) < 0)
		return fail(error, what, errno, "");
	do {
		ssize_t n = mnl_socket_recvfrom(rtnl->socket, buf, sizeof buf);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return fail(error, what, errno, "");
		}
		rc = mnl_cb_run2(buf, (size_t)n, request->nlmsg_seq, rtnl->portid, on_data, &answer,
				 controls, NLMSG_MIN_TYPE);
		if (rc < 0)
			return fail(error, what, errno, "");
	} while (rc != MNL_CB_STOP);
	if (answer.kernel_errno)
		return fail(error, what, answer.kernel_errno, answer.kernel_text);
	if (answer.reply_errno)
		return fail(error, what, answer.reply_errno, "malformed reply");
	return 0;
}

static long long now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

int rtnl_wait_event(struct rtnl *rtnl, mnl_cb_t on_event, void *data, int timeout_ms,
		    const char *what, char **error)
{
	char buf[RTNL_RECEIVE_SIZE];
	struct pollfd pfd = { .fd = mnl_socket_get_fd(rtnl->socket), .events = POLLIN };
	long long deadline = now_ms() + timeout_ms;
	int rc = MNL_CB_OK;

	while (rc != MNL_CB_STOP) {
		long long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0)
			return fail(error, what, ETIMEDOUT, "");
		rc = poll(&pfd, 1, (int)left);
		if (rc < 0 && errno != EINTR)
			return fail(error, what, errno, "");
		if (rc <= 0) {
			rc = MNL_CB_OK;
			continue;
		}
		n = mnl_socket_recvfrom(rtnl->socket, buf, sizeof buf);
		if (n < 0)
			return fail(error, what, errno, "");
		/* Notifications carry no sequence number or port of ours to check. */
		errno = 0;
		rc = mnl_cb_run(buf, (size_t)n, 0, 0, on_event, data);
		if (rc < 0)
			return fail(error, what, errno ? errno : EBADMSG, "");
	}
	return 0;
}
