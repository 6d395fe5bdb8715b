/* sandbox.h - the per-case test bed: two fresh network namespaces joined by a veth pair, built over
 * rtnetlink. The harness end has no address; the target end has the stack under test's address. */
#ifndef TCPHARNESS_SANDBOX_H
#define TCPHARNESS_SANDBOX_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "case.h"
#include "ip_address.h"

/* Interface names: SANDBOX_IFNAME_PREFIX, the owner PID, a per-process counter, and h/t for the end. */
#define SANDBOX_IFNAME_PREFIX "th"

struct sandbox_config {
	struct ip_address target;   /* the target end gets target/24 (IPv4) or target/64 (IPv6) */
	const struct ip_address *peers; /* a permanent neighbour entry (-> harness MAC) for each */
	int peer_count;
	const struct sysctl_setting *sysctls; /* written inside the target namespace only, in order */
	int sysctl_count;
};

/* A harness end that outlives its cases: a namespace of its own and a veth pair whose target end each
 * sandbox made on it borrows (moved into the case's fresh target namespace, given back at its end), so
 * that a capture opened once on the harness end serves every case. Its target end gets a new MAC per
 * sandbox, so that a frame of an earlier case can always be told from one of the current case. */
struct sandbox_link {
	int harness_netns_fd;
	char harness_ifname[IF_NAMESIZE], target_ifname[IF_NAMESIZE];
	int harness_ifindex, target_ifindex;
	uint8_t harness_mac[6];
	unsigned mtu;               /* both ends' MTU now; 0: the kernel's default */
	bool lent;                  /* the target end is in a sandbox's namespace */
	bool broken;                /* a sandbox could not give the target end back: only closing is left */
};

struct sandbox {
	struct sandbox_link *link;  /* the link the sandbox borrows, or NULL: the pair is its own */
	int harness_netns_fd;       /* namespace of the injecting/capturing end (the link's, when borrowed) */
	int target_netns_fd;        /* namespace of the stack under test */
	char harness_ifname[IF_NAMESIZE];
	char target_ifname[IF_NAMESIZE];
	int harness_ifindex, target_ifindex;
	uint8_t harness_mac[6], target_mac[6];
};

/* Builds the sandbox: both namespaces anonymous (held only by the fds, so they vanish with this
 * process even after SIGKILL), IPv6 off in both (for an IPv6 target: on in the target namespace but
 * silent: no link-local address, DAD, router solicitation or MLD report, the target end NOARP, the link's
 * MTU 1520 so that the MSS is 1460 as over IPv4) and the
 * sysctls written before any link exists, lo up in both, veth up, TX checksum/TSO/GSO offload off on
 * the target end, address + on-link route, neighbours; returns once the harness end can transmit.
 * Every peer must lie in the target's on-link prefix, in its family.
 * The calling thread ends in the namespace it started in. Returns 0, or -1 with *error a malloc'd
 * message (e.g. "sysctl net.ipv4.tcp_foo=1: No such file or directory") after undoing everything it
 * had made; out's fds are then -1. */
int sandbox_create(const struct sandbox_config *config, struct sandbox *out, char **error);

/* Makes a link: its namespace (IPv6 off, lo up) and the veth pair, both ends there, the target end
 * down. Every case made on it pays only for its target namespace. Returns 0, or -1 with *error
 * malloc'd and nothing left. */
int sandbox_link_open(struct sandbox_link *link, char **error);

/* Closes the link (its namespace goes, the pair with it). No sandbox may still borrow it. Safe on a
 * closed or zeroed link. */
void sandbox_link_close(struct sandbox_link *link);

/* As sandbox_create, with link's harness end instead of a new namespace and pair: the target end gets
 * the case's MTU and a new random MAC, moves into the fresh target namespace and is set up there as
 * sandbox_create sets up its own. The link must not be lent. out->link is link. */
int sandbox_create_on(struct sandbox_link *link, const struct sandbox_config *config, struct sandbox *out,
		      char **error);

/* Removes what sandbox_create made (closing the namespace fds destroys them); a borrowed link's
 * target end goes back to the link first (the link is marked broken when it cannot). Safe on a
 * zeroed or already destroyed sandbox. */
void sandbox_destroy(struct sandbox *sandbox);

/* 1 when /proc/sys/<key as path> exists inside netns_fd's namespace, 0 when it does not, -1 on error. */
int sandbox_sysctl_exists(int netns_fd, const char *key);

/* Reads a sysctl inside netns_fd's namespace into value (trailing newline stripped). 0 or -1/errno. */
int sandbox_sysctl_read(int netns_fd, const char *key, char *value, size_t size);

#endif
