/* neighbour.c - see neighbour.h. One RTM_DELNEIGH per interface: the kernel keys a neighbour entry by
 * (interface, address), and ENOENT from an interface that never learned it is the common answer. */
#include "neighbour.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error_text.h"
#include "ip_address.h"

/* The kernel's verdict on request seq: 0 or a positive errno; -1 when the answer was unreadable. */
static int read_ack(int fd, uint32_t seq)
{
	union {
		struct nlmsghdr header;
		char bytes[4096];
	} answer;
	for (;;) {
		ssize_t n = recv(fd, &answer, sizeof answer, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		/* An int length: NLMSG_NEXT may take it below zero, which NLMSG_OK then refuses. */
		int left = (int)n;
		for (struct nlmsghdr *h = &answer.header; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != seq || h->nlmsg_type != NLMSG_ERROR)
				continue;
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
				return -1;
			const struct nlmsgerr *e = NLMSG_DATA(h);
			return e->error <= 0 ? -e->error : -1;
		}
	}
}

/* Appends one attribute to the message in buf (room for it checked by the caller's sizing). */
static void put_attr(struct nlmsghdr *h, unsigned short type, const void *data, size_t len)
{
	struct rtattr *attr = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
	attr->rta_type = type;
	attr->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(attr), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(attr->rta_len);
}

/* An RTM_NEWNEIGH or RTM_DELNEIGH for ip on interface index in q, with mac when given. */
static void neighbour_request(struct nlmsghdr *q, uint16_t type, uint16_t flags, uint32_t seq, int index, uint16_t state,
			      const struct ip_address *ip, const uint8_t *mac)
{
	bool ipv4 = ip_address_is_ipv4(ip);
	*q = (struct nlmsghdr){ .nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg)), .nlmsg_type = type,
				.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags), .nlmsg_seq = seq };
	*(struct ndmsg *)NLMSG_DATA(q) = (struct ndmsg){
		.ndm_family = ipv4 ? AF_INET : AF_INET6, .ndm_ifindex = index, .ndm_state = state };
	put_attr(q, NDA_DST, ipv4 ? ip->bytes + 12 : ip->bytes, ipv4 ? 4 : 16);
	if (mac)
		put_attr(q, NDA_LLADDR, mac, 6);
}

/* Room for one neighbour_request. */
union neighbour_message {
	struct nlmsghdr header;
	char bytes[NLMSG_SPACE(sizeof(struct ndmsg)) + RTA_SPACE(16) + RTA_SPACE(6)];
};

int neighbour_forget(const struct ip_address *ip, int *flushed, char **why)
{
	*flushed = 0;
	struct if_nameindex *interfaces = if_nameindex();
	if (!interfaces) {
		int err = errno;
		error_set(why, "if_nameindex: %s", strerror(err));
		return err;
	}
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	int err = fd < 0 ? errno : 0;
	if (fd < 0)
		error_set(why, "rtnetlink: %s", strerror(err));
	for (struct if_nameindex *i = interfaces; fd >= 0 && !err && i->if_index; i++) {
		uint32_t seq = i->if_index;
		union neighbour_message q;
		neighbour_request(&q.header, RTM_DELNEIGH, 0, seq, (int)i->if_index, 0, ip, NULL);
		struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
		if (sendto(fd, &q, q.header.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
			err = errno;
			error_set(why, "RTM_DELNEIGH on %s: %s", i->if_name, strerror(err));
			break;
		}
		int verdict = read_ack(fd, seq);
		if (verdict == 0) {
			(*flushed)++;
		} else if (verdict != ENOENT) {
			err = verdict < 0 ? EPROTO : verdict;
			error_set(why, "RTM_DELNEIGH on %s: %s", i->if_name,
				  verdict < 0 ? "an unreadable answer" : strerror(verdict));
		}
	}
	if (fd >= 0)
		close(fd);
	if_freenameindex(interfaces);
	return err;
}

int neighbour_set_permanent(const char *ifname, const struct ip_address *ip, const uint8_t mac[6], char **why)
{
	unsigned index = if_nametoindex(ifname);
	if (index == 0) {
		int err = errno;
		error_set(why, "%s: %s", ifname, strerror(err));
		return err;
	}
	union neighbour_message q;
	neighbour_request(&q.header, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, 1, (int)index, NUD_PERMANENT, ip, mac);
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) {
		int err = errno;
		error_set(why, "rtnetlink: %s", strerror(err));
		return err;
	}
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	int err = 0;
	if (sendto(fd, &q, q.header.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
		err = errno;
	else if ((err = read_ack(fd, 1)) < 0)
		err = EPROTO;
	close(fd);
	if (err)
		error_set(why, "RTM_NEWNEIGH on %s: %s", ifname, strerror(err));
	return err;
}
