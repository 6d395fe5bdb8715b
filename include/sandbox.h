/* sandbox.h - the per-case test bed: two fresh network namespaces joined by a veth pair, built over
 * rtnetlink. The harness end has no address; the target end has the stack under test's address. */
#ifndef TCPHARNESS_SANDBOX_H
#define TCPHARNESS_SANDBOX_H

#include <net/if.h>
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
	bool offloads;              /* keep TX checksum/TSO/GSO on the target end (a .pkt's link_offloads) */
};

/* A harness end that outlives its cases: a namespace of its own with a bridge in it, whose address is
 * the harness's; the harness end of each sandbox made on it joins the bridge, so that one capture on
 * the bridge, opened once, serves every case with the frames as they are on the case's link. Each
 * case's target end has a MAC of its own (the kernel's random one), which tells its frames from those
 * of earlier cases (whose links go with their namespaces, a moment later). */
struct sandbox_link {
	int harness_netns_fd;
	char bridge_ifname[IF_NAMESIZE];
	int bridge_ifindex;
	uint8_t bridge_mac[6];
	unsigned mtu;               /* the bridge's MTU now: the last case's */
	int next_ifindex;           /* the next case's harness end's: never one used before in the namespace */
};

struct sandbox {
	struct sandbox_link *link;  /* the link the sandbox is made on, or NULL: the namespaces are its own */
	int harness_netns_fd;       /* namespace of the injecting/capturing end (the link's, on a link) */
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
 * the target end (unless config->offloads), address + on-link route, neighbours; returns once the harness end can transmit.
 * Every peer must lie in the target's on-link prefix, in its family.
 * The calling thread ends in the namespace it started in. Returns 0, or -1 with *error a malloc'd
 * message (e.g. "sysctl net.ipv4.tcp_foo=1: No such file or directory") after undoing everything it
 * had made; out's fds are then -1. */
int sandbox_create(const struct sandbox_config *config, struct sandbox *out, char **error);

/* Makes a link: its namespace (IPv6 off, lo up) and the bridge, up and running. Every case made on it
 * pays only for its target namespace and its pair. Returns 0, or -1 with *error malloc'd and nothing
 * left. */
int sandbox_link_open(struct sandbox_link *link, char **error);

/* Closes the link (its namespace goes, the pair with it). No sandbox may still borrow it. Safe on a
 * closed or zeroed link. */
void sandbox_link_close(struct sandbox_link *link);

/* As sandbox_create, with link's namespace instead of a new harness namespace: the harness end joins the
 * link's bridge (which takes the case's MTU), and harness_mac, what the target's neighbour entries
 * name, is the bridge's. out->link is link. Any number of sandboxes may share a link. */
int sandbox_create_on(struct sandbox_link *link, const struct sandbox_config *config, struct sandbox *out,
		      char **error);

/* Removes what sandbox_create made (closing the namespace fds destroys them; a link's namespace stays,
 * and the pair leaves its bridge when the target namespace is gone). Safe on a zeroed or already
 * destroyed sandbox. */
void sandbox_destroy(struct sandbox *sandbox);

/* 1 when /proc/sys/<key as path> exists inside netns_fd's namespace, 0 when it does not, -1 on error. */
int sandbox_sysctl_exists(int netns_fd, const char *key);

/* Reads a sysctl inside netns_fd's namespace into value (trailing newline stripped). 0 or -1/errno. */
int sandbox_sysctl_read(int netns_fd, const char *key, char *value, size_t size);

#endif
