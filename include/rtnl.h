/* rtnl.h - one rtnetlink request at a time: send it, read its answer up to the acknowledgement, and
 * turn a refusal into a message carrying the kernel's own explanation (extended ACK). */
#ifndef TCPHARNESS_RTNL_H
#define TCPHARNESS_RTNL_H

#include <libmnl/libmnl.h>
#include <stdint.h>

/* Room for any request this project builds (a veth pair with names and a namespace is ~150 bytes). */
#define RTNL_REQUEST_SIZE 1024

struct rtnl {
	struct mnl_socket *socket;
	unsigned int portid;
	unsigned int seq;
};

/* Opens an rtnetlink socket in the calling thread's current network namespace; it keeps talking to
 * that namespace after the thread moves elsewhere. groups (RTMGRP_* bits) subscribes it to
 * notifications for rtnl_wait_event; a socket used with rtnl_talk passes 0. Returns 0, or -1 with
 * *error a malloc'd message. */
int rtnl_open(struct rtnl *rtnl, unsigned int groups, char **error);

/* Lets only notifications about the link ifindex reach a socket opened with RTMGRP_LINK: in a namespace
 * where other links come and go, the others' notifications could fill its buffer (ENOBUFS) before the
 * one awaited arrives. 0, or -1 with *error malloc'd. */
int rtnl_only_link(struct rtnl *rtnl, int ifindex, char **error);

/* Closes the socket (dropping its hold on the namespace). Safe on a closed or zeroed rtnl. */
void rtnl_close(struct rtnl *rtnl);

/* Starts a request of the given type in buf (RTNL_REQUEST_SIZE bytes, zeroed here) with
 * NLM_F_REQUEST | NLM_F_ACK | flags and the next sequence number; the caller adds the rest. */
struct nlmsghdr *rtnl_request(struct rtnl *rtnl, void *buf, uint16_t type, uint16_t flags);

/* Sends request and reads its answer until the kernel's ACK or, for a dump, NLMSG_DONE. Each data
 * message goes to on_reply (may be NULL), which must validate it. Returns 0, or -1 with *error
 * "<what>: <strerror>[ (<kernel's extack text>)]", malloc'd. */
int rtnl_talk(struct rtnl *rtnl, const struct nlmsghdr *request, mnl_cb_t on_reply, void *data,
	      const char *what, char **error);

/* Reads notifications until on_event (which must validate each) returns MNL_CB_STOP, at most
 * timeout_ms. Returns 0, or -1 with *error "<what>: <strerror>" (ETIMEDOUT when time ran out). */
int rtnl_wait_event(struct rtnl *rtnl, mnl_cb_t on_event, void *data, int timeout_ms,
		    const char *what, char **error);

#endif
