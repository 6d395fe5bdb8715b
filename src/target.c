/* target.c - see target.h. The local sandbox, the lab host's safety checks, and the per-case upkeep
 * every remote target shares. */
#include "target_backend.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "companion.h"
#include "error_text.h"
#include "nd_proxy.h"
#include "netns_ipv6.h"
#include "ts_clock.h"
#include "worker_link.h"

/* Where gvisor-run-agent.sh keeps each run's bundle; it sweeps what a killed run left there. */
#define GVISOR_WORKDIR "/tmp/tcpharness-gvisor"
/* The catalogue's own addresses: the preflight's sandbox looks like a case's. */
#define PREFLIGHT_TARGET_IP 0xc0000201u
#define PREFLIGHT_PEER_IP 0xc000020au
/* Every lwIP case has a namespace of its own, so one name serves them all. */
#define LWIP_TAP_NAME "thlw0"

/* Long enough for a lab host behind a switch, short enough to fail fast when the address is wrong. */
#define ANNOUNCE_TIMEOUT_MS 2000
/* Who holds an address can change during a long run (a host boots, DHCP hands it out): a case that
 * starts this long after the last probe probes its peers again first. */
#define REPROBE_AFTER_NS (60 * 1000000000LL)

static const char *const kind_names[] = { [TARGET_LOCAL] = "local", [TARGET_LAB] = "lab", [TARGET_VM] = "vm",
					  [TARGET_GVISOR] = "gvisor", [TARGET_LWIP] = "lwip" };
#define KIND_COUNT (int)(sizeof kind_names / sizeof kind_names[0])

const char *target_kind_name(enum target_kind kind)
{
	return (int)kind >= 0 && (int)kind < KIND_COUNT ? kind_names[kind] : NULL;
}

int target_kind_from_name(const char *name)
{
	for (int i = 0; i < KIND_COUNT; i++)
		if (strcmp(kind_names[i], name) == 0)
			return i;
	return -1;
}

static const char *ip_text(uint32_t ip, char buf[INET_ADDRSTRLEN])
{
	struct in_addr a = { htonl(ip) };
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* 1 when ip is one of this namespace's own addresses: its kernel would answer the target itself. */
static int is_local_address(const struct ip_address *ip)
{
	struct ifaddrs *list;
	if (getifaddrs(&list) < 0)
		return -1;
	int found = 0;
	for (struct ifaddrs *a = list; a && !found; a = a->ifa_next) {
		if (!a->ifa_addr)
			continue;
		struct ip_address own;
		if (a->ifa_addr->sa_family == AF_INET)
			own = ip_address_from_ipv4(ntohl(((struct sockaddr_in *)a->ifa_addr)->sin_addr.s_addr));
		else if (a->ifa_addr->sa_family == AF_INET6)
			memcpy(own.bytes, &((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr, 16);
		else
			continue;
		found = ip_address_equal(&own, ip);
	}
	freeifaddrs(list);
	return found;
}

/* 1 when /proc/net/route sends this namespace's default route out of ifname. */
static int carries_default_route(const char *ifname)
{
	FILE *f = fopen("/proc/net/route", "r");
	if (!f)
		return -1;
	char line[256], iface[IF_NAMESIZE + 1];
	unsigned long destination, mask;
	int found = 0;
	while (!found && fgets(line, sizeof line, f))
		if (sscanf(line, "%16s %lx %*x %*x %*d %*d %*d %lx", iface, &destination, &mask) == 3)
			found = destination == 0 && mask == 0 && strcmp(iface, ifname) == 0;
	fclose(f);
	return found;
}

static int interface_mac(const char *ifname, uint8_t mac[6], char **error)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
	int rc = fd < 0 ? -1 : ioctl(fd, SIOCGIFHWADDR, &ifr);
	int err = errno;
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		return error_set(error, "interface %s: %s", ifname, strerror(err));
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

int target_attach_link(struct target *t, char **error)
{
	t->arp = arp_proxy_start(t->harness_netns_fd, t->ifname, t->harness_mac, t->target_ip, error);
	return t->arp ? 0 : -1;
}

static int64_t monotonic_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Every case@variant that will run stays within the send budget: refused as a whole before anything
 * is sent, like a malformed case. */
static int check_budget(const struct target_options *o, char **error)
{
	for (int i = 0; i < o->case_count; i++) {
		const struct case_file *c = &o->cases[i];
		for (int v = c->variant_count ? 0 : -1; v < c->variant_count; v++)
			if ((!o->variant_filter || (v >= 0 && !strcmp(o->variant_filter, c->variants[v].name))) &&
			    send_budget_check(c, v, &o->budget, error) < 0)
				return -1;
	}
	return 0;
}

enum address_family target_wire_family(const struct target *t)
{
	return t->ipv6 ? FAMILY_IPV6 : FAMILY_IPV4;
}

/* The distinct peer addresses of the run's cases: what the run will claim on the link. */
static int collect_claimed(const struct target_options *o, struct target *t, char **error)
{
	char ip[IP_ADDRESS_TEXT_MAX];
	for (int i = 0; i < o->case_count; i++)
		for (int p = 0; p < o->cases[i].peer_count; p++) {
			uint32_t peer = o->cases[i].peers[p].ip;
			int known = 0;
			while (known < t->claimed_count && t->claimed[known] != peer)
				known++;
			if (known < t->claimed_count)
				continue;
			if (t->claimed_count == ARP_PROBE_MAX)
				return error_set(error, "the cases use more than %d peer addresses", ARP_PROBE_MAX);
			struct ip_address on_wire = family_address(target_wire_family(t), peer);
			if (is_local_address(&on_wire) == 1)
				return error_set(error, "peer %s is this host's own address: its kernel would answer the "
							"target's segments", ip_address_format(&on_wire, ip));
			t->claimed[t->claimed_count++] = peer;
		}
	return 0;
}

static bool in_use_allowed(const struct target *t, uint32_t ip)
{
	for (int i = 0; i < t->in_use_allowed_count; i++)
		if (t->in_use_allowed[i] == ip)
			return true;
	return false;
}

static void mac_text(const uint8_t mac[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

/* Address probes for ips (as the cases write them) in the link's family, RFC 5227 ARP probes or RFC
 * 4862 DAD solicitations: an address someone answers for is refused (every one named, with the MAC
 * that answered) unless --allow-address-in-use names it. 0, or -1 with *error malloc'd. */
static int probe_addresses(struct target *t, const uint32_t *ips, int count, char **error)
{
	struct address_conflict conflicts[ARP_PROBE_MAX];
	struct ip_address on_wire[ARP_PROBE_MAX];
	for (int i = 0; i < count && i < ARP_PROBE_MAX; i++)
		on_wire[i] = family_address(target_wire_family(t), ips[i]);
	int held = t->nd ? nd_proxy_probe(t->nd, on_wire, count, conflicts, error)
			 : arp_proxy_probe(t->arp, ips, count, conflicts, error);
	if (held < 0)
		return -1;
	t->probed_at_ns = monotonic_ns();
	char refused[1024] = "";
	size_t used = 0;
	for (int i = 0; i < held; i++) {
		char ip[IP_ADDRESS_TEXT_MAX], mac[18];
		ip_address_format(&conflicts[i].ip, ip);
		mac_text(conflicts[i].mac, mac);
		if (in_use_allowed(t, ip_address_case_ipv4(&conflicts[i].ip))) {
			fprintf(stderr, "tcpharness: lab: %s is in use by %s; claimed anyway (--allow-address-in-use)\n", ip,
				mac);
			continue;
		}
		int n = snprintf(refused + used, sizeof refused - used, "%speer address %s is in use on %s: %s answered "
					 "%s", used ? "; " : "", ip, t->ifname, mac,
				 t->nd ? "a duplicate address probe for it (RFC 4862)" : "an ARP probe for it (RFC 5227)");
		used += n > 0 && (size_t)n < sizeof refused - used ? (size_t)n : 0;
	}
	if (used)
		return error_set(error, "%s. Refusing to claim it: that host would lose its traffic to this harness. "
					"Pick free addresses, or pass --allow-address-in-use ADDR if you accept that",
				 refused);
	return 0;
}

/* A lab host's link speaks the family of its --target-ip: IPv4 carries ipv4 and mapped (whose AF_INET6
 * sockets talk to ::ffff:a.b.c.d), IPv6 carries ipv6, with the host's neighbour discovery answered
 * for the peers and the address-in-use probes done the RFC 4862 way. */
static bool lab_runs_family(const struct target *t, enum address_family family)
{
	return t->ipv6 ? family == FAMILY_IPV6 : family != FAMILY_IPV6;
}

/* The link's proxy: ARP for an IPv4 host, neighbour discovery for an IPv6 one. 0 or -1. */
static int lab_attach_link(struct target *t, char **error)
{
	if (!t->ipv6)
		return target_attach_link(t, error);
	struct ip_address target = family_address(FAMILY_IPV6, t->target_ip);
	t->nd = nd_proxy_start(t->harness_netns_fd, t->ifname, t->harness_mac, &target, NULL, 0, error);
	return t->nd ? 0 : -1;
}

/* Lab mode's refusals come first: nothing is sent before every one of them has passed, and no peer
 * address is claimed before a probe found it free. A dry run stops after the probe, which also
 * resolves the target (it answers a probe for its own address), without starting the agent. */
static int lab_start(const struct target_options *o, struct target *t, char **error)
{
	char ip[IP_ADDRESS_TEXT_MAX];
	if (!o->iface || !o->target_ip || !o->agent_command)
		return error_set(error, "lab mode needs --iface, --target-ip and --agent");
	if (strlen(o->iface) >= sizeof t->ifname || if_nametoindex(o->iface) == 0)
		return error_set(error, "--iface %s: no such interface here", o->iface);
	int route = carries_default_route(o->iface);
	if (route < 0)
		return error_set(error, "cannot read /proc/net/route: %s", strerror(errno));
	if (route && !o->allow_default_route)
		return error_set(error, "refusing --iface %s: it carries this host's default route, so crafted segments "
					"could reach other hosts; pass --allow-default-route-iface if that link is a lab "
					"network", o->iface);
	t->ipv6 = o->target_ipv6;
	struct ip_address target = family_address(target_wire_family(t), o->target_ip);
	if (is_local_address(&target) == 1)
		return error_set(error, "--target-ip %s is this host's own address", ip_address_format(&target, ip));
	if (check_budget(o, error) < 0 || collect_claimed(o, t, error) < 0)
		return -1;
	snprintf(t->ifname, sizeof t->ifname, "%s", o->iface);
	t->target_ip = o->target_ip;
	t->max_pps = o->budget.max_pps;
	memcpy(t->in_use_allowed, o->in_use_allowed, sizeof t->in_use_allowed);
	t->in_use_allowed_count = o->in_use_allowed_count;
	if (interface_mac(t->ifname, t->harness_mac, error) < 0)
		return -1;
	t->harness_netns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (t->harness_netns_fd < 0)
		return error_set(error, "cannot open this namespace: %s", strerror(errno));
	if (lab_attach_link(t, error) < 0 || probe_addresses(t, t->claimed, t->claimed_count, error) < 0)
		return -1;
	if (o->dry_run) {
		struct address_conflict answer;
		int answered = t->nd ? nd_proxy_probe(t->nd, &target, 1, &answer, error)
				     : arp_proxy_probe(t->arp, &t->target_ip, 1, &answer, error);
		if (answered < 0)
			return -1;
		if (answered == 0)
			return error_set(error, "the target %s did not answer %s on %s", ip, t->nd ? "a duplicate address "
					 "probe" : "an ARP probe", t->ifname);
		memcpy(t->target_mac, answer.mac, 6);
		snprintf(t->greeting, sizeof t->greeting, "dry run, %s", ip);
		return 0;
	}
	return agent_spawn_command(o->agent_command, &t->agent, error);
}

/* Every family: gVisor's netstack takes an IPv6 address from the veth (gvisor-run-agent.sh), and the
 * Linux agent's AF_INET6 sockets there accept v4-mapped peers as Linux's do. */
static bool gvisor_runs_family(enum address_family family)
{
	(void)family;
	return true;
}

/* gVisor runs the Linux agent inside runsc: statically linked when that build exists, since the
 * sandbox's root holds nothing but the agent. */
static int gvisor_parts(struct target *t, char **error)
{
	char *missing = NULL;
	if (companion_find("gvisor-run-agent.sh", t->launcher, sizeof t->launcher, &missing) < 0 ||
	    (companion_find("tcpharness-agent-static", t->agent_binary, sizeof t->agent_binary, NULL) < 0 &&
	     companion_find("tcpharness-agent", t->agent_binary, sizeof t->agent_binary, &missing) < 0)) {
		error_set(error, "gvisor: %s", missing ? missing : "out of memory");
		free(missing);
		return -1;
	}
	if (system("command -v runsc >/dev/null 2>&1") != 0)
		return error_set(error, "gvisor: runsc is not installed (scripts/install-deps.sh --target gvisor installs it)");
	snprintf(t->workdir, sizeof t->workdir, "%s", GVISOR_WORKDIR);
	if (mkdir(t->workdir, 0700) < 0 && errno != EEXIST)
		return error_set(error, "gvisor: mkdir %s: %s", t->workdir, strerror(errno));
	return 0;
}

static int lwip_parts(struct target *t, char **error)
{
	char *missing = NULL;
	if (companion_find("tcpharness-agent-lwip", t->agent_binary, sizeof t->agent_binary, &missing) < 0) {
		error_set(error, "lwip: %s; it is built from lwIP's Debian source package "
				 "(scripts/install-deps.sh --target lwip, then rebuild)", missing ? missing : "out of memory");
		free(missing);
		return -1;
	}
	return 0;
}

/* For stacks that resolve the peers themselves (gVisor and lwIP ignore the sandbox's permanent
 * neighbours): a proxy answers ARP (IPv4 on the wire: ipv4, mapped) or neighbour solicitations
 * (ipv6) for the case's peers and learns the stack's MAC. */
static int start_link_proxy(const struct case_file *c, enum address_family family, struct target_case *tc,
			    char **error)
{
	if (family == FAMILY_IPV6) {
		struct ip_address peers[CASE_MAX_PEERS], target = family_address(family, c->target_ip);
		for (int i = 0; i < c->peer_count; i++)
			peers[i] = family_address(family, c->peers[i].ip);
		tc->nd = nd_proxy_start(tc->harness_netns_fd, tc->ifname, tc->harness_mac, &target, peers, c->peer_count,
					error);
		return tc->nd ? nd_proxy_announce(tc->nd, tc->target_mac, ANNOUNCE_TIMEOUT_MS, error) : -1;
	}
	uint32_t peer_ips[CASE_MAX_PEERS];
	for (int i = 0; i < c->peer_count; i++)
		peer_ips[i] = c->peers[i].ip;
	tc->arp = arp_proxy_start(tc->harness_netns_fd, tc->ifname, tc->harness_mac, c->target_ip, error);
	if (!tc->arp)
		return -1;
	arp_proxy_set_peers(tc->arp, peer_ips, c->peer_count);
	return arp_proxy_announce(tc->arp, tc->target_mac, ANNOUNCE_TIMEOUT_MS, error);
}

/* Paths go into a shell command line between single quotes. */
static int shell_safe(const char *path, char **error)
{
	return strchr(path, '\'') ? error_set(error, "path %s holds a quote", path) : 0;
}

/* The agent under runsc on the sandbox's target veth; the script sets the address itself (runsc
 * takes it off the veth on every start), with the sandbox's prefix. */
static int gvisor_spawn(const struct target *t, struct target_case *tc, const struct ip_address *ip, char **error)
{
	char command[3 * 4096], addr[IP_ADDRESS_TEXT_MAX];
	if (shell_safe(t->launcher, error) < 0 || shell_safe(t->agent_binary, error) < 0)
		return -1;
	snprintf(command, sizeof command, "exec '%s' --agent '%s' /proc/%d/fd/%d %s/%d %s", t->launcher,
		 t->agent_binary, (int)getpid(), tc->sandbox.target_netns_fd, ip_address_format(ip, addr),
		 ip_address_is_ipv4(ip) ? 24 : 64, t->workdir);
	return agent_spawn_command(command, &tc->own_agent, error);
}

static int sandbox_begin(struct target *t, const struct case_file *c, enum address_family family,
			 struct target_case *tc, char **error)
{
	struct ip_address peers[CASE_MAX_PEERS];
	for (int i = 0; i < c->peer_count; i++)
		peers[i] = family_address(family, c->peers[i].ip);
	/* gVisor reads its veth frame by frame: only the local kernel's sandbox keeps the offloads a .pkt asks for. */
	struct sandbox_config config = { family_address(family, c->target_ip), peers, c->peer_count, NULL, 0,
					 c->link_offloads && t->kind == TARGET_LOCAL };
	/* gVisor keeps namespaces of its own: runsc's sandbox was only ever tried on them. Where no worker
	 * link can be made (a kernel without bridges), a case makes its namespaces and wire as before. */
	struct worker_link *wl = t->kind == TARGET_LOCAL ? worker_link_get(NULL) : NULL;
	if (wl) {
		if (sandbox_create_on(&wl->link, &config, &tc->sandbox, error) < 0)
			return -1;
		tc->wire = wl->wire;
	} else if (sandbox_create(&config, &tc->sandbox, error) < 0) {
		return -1;
	}
	tc->sandbox_made = true;
	tc->harness_netns_fd = tc->sandbox.harness_netns_fd;
	snprintf(tc->ifname, sizeof tc->ifname, "%s", tc->sandbox.harness_ifname);
	memcpy(tc->harness_mac, tc->sandbox.harness_mac, 6);
	memcpy(tc->target_mac, tc->sandbox.target_mac, 6);
	tc->target_ip = c->target_ip;
	tc->agent = &tc->own_agent;
	/* gVisor keeps its own clock: its replies are timed when they arrive. */
	tc->same_clock = t->kind == TARGET_LOCAL;
	if (t->kind == TARGET_GVISOR)
		return gvisor_spawn(t, tc, &config.target, error) < 0 ? -1 : start_link_proxy(c, family, tc, error);
	if (wl) {
		tc->agent = worker_link_agent(wl, tc->sandbox.target_netns_fd, error);
		return tc->agent ? 0 : -1;
	}
	return agent_spawn_local(tc->sandbox.target_netns_fd, &tc->own_agent, error);
}

/* Every family: lwIP 2.1.3 is built with IPv6 (lwipopts.h), and its AF_INET6 sockets are dual stack
 * (agent_lwip.c), which is the mapped family. */
static bool lwip_runs_family(enum address_family family)
{
	(void)family;
	return true;
}

/* lwIP on a TAP in a namespace of its own: it answers ARP and neighbour solicitations itself and
 * asks for the peers', which the proxy answers. Its IPv4 address stays in the ipv6 family, unused. */
static int lwip_begin(struct target *t, const struct case_file *c, enum address_family family,
		      struct target_case *tc, char **error)
{
	int tap_fd;
	if (tap_link_create(LWIP_TAP_NAME, true, &tc->tap, &tap_fd, error) < 0)
		return -1;
	close(tap_fd);
	tc->harness_netns_fd = tc->tap.netns_fd;
	snprintf(tc->ifname, sizeof tc->ifname, "%s", tc->tap.ifname);
	memcpy(tc->harness_mac, tc->tap.mac, 6);
	tc->target_ip = c->target_ip;
	tc->agent = &tc->own_agent;
	char command[2 * 4096], addr[INET_ADDRSTRLEN], ip6_text[IP_ADDRESS_TEXT_MAX], ipv6[IP_ADDRESS_TEXT_MAX + 32] = "";
	if (shell_safe(t->agent_binary, error) < 0)
		return -1;
	struct ip_address ip6 = family_address(FAMILY_IPV6, c->target_ip);
	if (family == FAMILY_IPV6)
		snprintf(ipv6, sizeof ipv6, " --ip6 %s --mtu %d", ip_address_format(&ip6, ip6_text), NETNS_IPV6_LINK_MTU);
	snprintf(command, sizeof command, "exec nsenter --net=/proc/%d/fd/%d '%s' --tap %s --ip %s/24%s", (int)getpid(),
		 tc->tap.netns_fd, t->agent_binary, LWIP_TAP_NAME, ip_text(c->target_ip, addr), ipv6);
	if (agent_spawn_command(command, &tc->own_agent, error) < 0)
		return -1;
	return start_link_proxy(c, family, tc, error);
}

static bool fresh_per_case(const struct target *t)
{
	return t->kind == TARGET_LOCAL || t->kind == TARGET_GVISOR || t->kind == TARGET_LWIP;
}

/* The first line `runsc --version` prints, without "runsc version ". */
static void runsc_version(char *out, size_t size)
{
	snprintf(out, size, "?");
	FILE *p = popen("runsc --version 2>/dev/null", "r");
	if (!p)
		return;
	char line[128];
	if (fgets(line, sizeof line, p)) {
		line[strcspn(line, "\n")] = '\0';
		const char *v = strncmp(line, "runsc version ", 14) == 0 ? line + 14 : line;
		snprintf(out, size, "%.60s", v);
	}
	pclose(p);
}

/* `expect clock` compares TSvals in the stack's ticks: 1 kHz since Linux 4.13, jiffies before. A
 * stack that cannot tell (lwIP, gVisor without TCP_TIMESTAMP), or has no agent running (a lab dry
 * run), ticks in ms. agent NULL: the harness's own kernel. */
static int learn_ts_clock(struct target *t, struct agent *agent, char **error)
{
	int hz = TS_CLOCK_DEFAULT_HZ;
	if (agent && agent->fd >= 0 && agent_ts_clock_hz(agent, &hz, error) < 0)
		return -1;
	if (!agent && ts_clock_hz(&hz) != 0)
		hz = TS_CLOCK_DEFAULT_HZ;
	t->ts_hz = hz;
	return 0;
}

/* One throwaway case's sandbox and agent, so a missing part fails here, before any case runs, and
 * the agent's greeting can label the target. */
static int preflight(struct target *t, char **error)
{
	struct case_file probe = { .target_ip = PREFLIGHT_TARGET_IP, .peer_count = 1 };
	probe.peers[0].ip = PREFLIGHT_PEER_IP;
	struct target_case tc;
	int rc = target_case_begin(t, &probe, FAMILY_IPV4, &tc, error);
	if (rc == 0)
		rc = learn_ts_clock(t, tc.agent, error);
	if (rc == 0) {
		if (t->kind == TARGET_GVISOR)
			runsc_version(t->greeting, sizeof t->greeting);
		else
			snprintf(t->greeting, sizeof t->greeting, "%s", tc.agent->stack);
	}
	target_case_end(t, &tc);
	return rc;
}

int target_open(const struct target_options *options, struct target **out, char **error)
{
	*out = NULL;
	struct target *t = calloc(1, sizeof *t);
	if (!t)
		return error_set(error, "out of memory");
	t->kind = options->kind;
	t->harness_netns_fd = -1;
	t->agent = (struct agent){ .pid = -1, .fd = -1 };
	int rc = 0;
	switch (options->kind) {
	case TARGET_LOCAL:
		break;
	case TARGET_LAB:
		rc = lab_start(options, t, error);
		break;
	case TARGET_VM:
		rc = target_vm_start(options, t, error);
		break;
	case TARGET_GVISOR:
		rc = gvisor_parts(t, error) < 0 ? -1 : preflight(t, error);
		break;
	case TARGET_LWIP:
		rc = lwip_parts(t, error) < 0 ? -1 : preflight(t, error);
		break;
	default:
		rc = error_set(error, "unknown target kind %d", (int)options->kind);
	}
	/* local: the harness's own kernel; lab and vm: through their agent; the others did in preflight. */
	if (rc == 0 && !t->ts_hz)
		rc = learn_ts_clock(t, t->kind == TARGET_LOCAL ? NULL : &t->agent, error);
	if (rc < 0) {
		target_close(t);
		return -1;
	}
	struct utsname u;
	if (t->kind == TARGET_LOCAL)
		snprintf(t->label, sizeof t->label, "local: %.60s %.60s", uname(&u) == 0 ? u.sysname : "?",
			 uname(&u) == 0 ? u.release : "?");
	else if (t->kind == TARGET_GVISOR)
		/* gVisor's uname is a fixed "Linux 4.4.0": runsc's version says which netstack it is. */
		snprintf(t->label, sizeof t->label, "gvisor: runsc %s", t->greeting);
	else
		snprintf(t->label, sizeof t->label, "%s: %s", target_kind_name(t->kind),
			 t->greeting[0] ? t->greeting : t->agent.stack);
	if (t->kind == TARGET_LAB) {
		/* hello starts with the lab host's uname sysname. */
		size_t i = 0;
		for (; i < sizeof t->stack - 1 && t->agent.stack[i] && t->agent.stack[i] != ' '; i++)
			t->stack[i] = (char)tolower((unsigned char)t->agent.stack[i]);
		t->stack[i] = '\0';
	} else {
		snprintf(t->stack, sizeof t->stack, "%s", t->kind == TARGET_GVISOR ? "gvisor" :
							  t->kind == TARGET_LWIP ? "lwip" : "linux");
	}
	/* The kernel's release: uname here, the agent's hello ("Linux 6.1.0-57-cloud-amd64") on a lab
	 * host or VM; gVisor's fixed uname and lwIP say nothing about a kernel. */
	const char *space = strchr(t->agent.stack, ' ');
	if (t->kind == TARGET_LOCAL && uname(&u) == 0)
		release_scan(u.release, strlen(u.release), &t->release);
	else if ((t->kind == TARGET_LAB || t->kind == TARGET_VM) && space)
		release_scan(space + 1, strlen(space + 1), &t->release);
	*out = t;
	return 0;
}

int target_prepare(struct target_options *options, char *image, size_t size, char **error)
{
	if (options->kind != TARGET_VM || !options->vm_kernel)
		return 0;
	if (target_vm_image_of_kernel(options, image, size, error) < 0)
		return -1;
	options->vm_image = image;
	options->vm_kernel = options->vm_modules = NULL;
	return 0;
}

const char *target_label(const struct target *t)
{
	return t->label;
}

const char *target_stack(const struct target *t)
{
	return t->stack;
}

uint32_t target_release(const struct target *t)
{
	return t->release;
}

bool target_runs_cases_in_parallel(const struct target *t)
{
	return fresh_per_case(t);
}

/* The previous case's connections (TIME_WAIT, orphans retransmitting a FIN) must not answer this
 * one's segments. An agent that gave the case a fresh namespace left none; otherwise SOCK_DESTROY
 * removes them, where the kernel allows it (4.9's tcp_abort refuses TIME_WAIT and skips orphans). */
static int purge_peers(struct target *t, const struct case_file *c, enum address_family family, char **error)
{
	if (t->agent.fresh_netns)
		return 0;
	for (int i = 0; i < c->peer_count; i++) {
		int destroyed;
		struct ip_address peer = family_address(family, c->peers[i].ip);
		if (agent_purge(&t->agent, &peer, &destroyed, error) < 0)
			return -1;
	}
	return 0;
}

/* An IPv6 case's peers: the agent's case namespace runs IPv6 on a NOARP link (no neighbour
 * discovery on the wire) and pins each peer at the harness's MAC, as the sandbox does locally. */
static int pin_peers(struct target *t, const struct case_file *c, char **error)
{
	for (int i = 0; i < c->peer_count; i++) {
		struct ip_address peer = family_address(FAMILY_IPV6, c->peers[i].ip);
		if (agent_neigh_add(&t->agent, &peer, t->harness_mac, error) < 0)
			return -1;
	}
	return 0;
}

static int remote_begin(struct target *t, const struct case_file *c, enum address_family family,
			struct target_case *tc, char **error)
{
	uint32_t peer_ips[CASE_MAX_PEERS];
	struct ip_address peers[CASE_MAX_PEERS];
	for (int i = 0; i < c->peer_count; i++) {
		peer_ips[i] = c->peers[i].ip;
		peers[i] = family_address(family, peer_ips[i]);
	}
	if (t->kind == TARGET_LAB) {
		if (!t->refusal && monotonic_ns() - t->probed_at_ns > REPROBE_AFTER_NS &&
		    probe_addresses(t, peer_ips, c->peer_count, &t->refusal) < 0 && !t->refusal)
			t->refusal = strdup("the re-probe failed");
		if (t->refusal)
			return error_set(error, "%s", t->refusal);
	}
	if (t->nd)
		nd_proxy_set_peers(t->nd, peers, c->peer_count);
	else
		arp_proxy_set_peers(t->arp, peer_ips, c->peer_count);
	if (agent_reset(&t->agent, family, error) < 0 || purge_peers(t, c, family, error) < 0)
		return -1;
	/* A lab host resolves the peers itself (the proxy answers); the VM's case namespace has them pinned. */
	if (t->nd) {
		if (nd_proxy_announce(t->nd, tc->target_mac, ANNOUNCE_TIMEOUT_MS, error) < 0)
			return -1;
	} else if (family == FAMILY_IPV6) {
		if (pin_peers(t, c, error) < 0)
			return -1;
		memcpy(tc->target_mac, t->target_mac, 6);
	} else if (arp_proxy_announce(t->arp, tc->target_mac, ANNOUNCE_TIMEOUT_MS, error) < 0) {
		return -1;
	}
	tc->harness_netns_fd = t->harness_netns_fd;
	snprintf(tc->ifname, sizeof tc->ifname, "%s", t->ifname);
	memcpy(tc->harness_mac, t->harness_mac, 6);
	tc->target_ip = t->target_ip;
	tc->shared_link = t->kind == TARGET_LAB;
	tc->agent = &t->agent;
	tc->vcpu_schedstat = t->vcpu_schedstat[0] ? t->vcpu_schedstat : NULL;
	tc->c = c;
	return 0;
}

/* Each kind's own answer, next to its code: gvisor_runs_family, lwip_runs_family, lab_runs_family,
 * target_vm_runs_family. */
bool target_runs_family(const struct target *t, enum address_family family)
{
	switch (t->kind) {
	case TARGET_LOCAL:
		return true;
	case TARGET_LAB:
		return lab_runs_family(t, family);
	case TARGET_VM:
		return target_vm_runs_family(family);
	case TARGET_GVISOR:
		return gvisor_runs_family(family);
	case TARGET_LWIP:
		return lwip_runs_family(family);
	}
	return false;
}

int target_case_begin(struct target *t, const struct case_file *c, enum address_family family,
		      struct target_case *tc, char **error)
{
	memset(tc, 0, sizeof *tc);
	tc->ts_hz = t->ts_hz ? t->ts_hz : TS_CLOCK_DEFAULT_HZ;
	tc->harness_netns_fd = -1;
	tc->own_agent = (struct agent){ .pid = -1, .fd = -1 };
	tc->sandbox.harness_netns_fd = tc->sandbox.target_netns_fd = -1;
	tc->tap.netns_fd = -1;
	int rc = t->kind == TARGET_LWIP      ? lwip_begin(t, c, family, tc, error)
		 : fresh_per_case(t) ? sandbox_begin(t, c, family, tc, error)
				     : remote_begin(t, c, family, tc, error);
	if (rc == 0)
		tc->family = tc->agent->family = family;
	return rc;
}

void target_case_end(struct target *t, struct target_case *tc)
{
	if (fresh_per_case(t)) {
		/* The worker's agent serves its next case, unless this one left it out of step. */
		if (tc->agent && tc->agent != &tc->own_agent && tc->agent->awaiting)
			agent_stop(tc->agent);
		agent_stop(&tc->own_agent);
		arp_proxy_stop(tc->arp);
		tc->arp = NULL;
		nd_proxy_stop(tc->nd);
		tc->nd = NULL;
		tap_link_destroy(&tc->tap);
		if (tc->sandbox_made)
			sandbox_destroy(&tc->sandbox);
		tc->sandbox_made = false;
		tc->wire = NULL;
		return;
	}
	char *error = NULL;
	if (tc->c && (agent_reset(&t->agent, FAMILY_IPV4, &error) < 0 || purge_peers(t, tc->c, tc->family, &error) < 0)) {
		fprintf(stderr, "tcpharness: %s: %s\n", t->label, error ? error : "reset failed");
		free(error);
	}
}

uint32_t target_max_pps(const struct target *t)
{
	return t->kind == TARGET_LAB ? t->max_pps : 0;
}

const char *target_refusal(const struct target *t)
{
	return t->refusal;
}

/* After a lab run the host's neighbour entries for the peers still name this harness's MAC (until
 * they age out): the agent deletes them, and the user is told. Gratuitous ARP on the peers' behalf
 * would be a claim of their addresses by someone who does not hold them; deleting is the host's own
 * business. The proxy is already stopped, so nothing answers if the host asks again. */
static void forget_peers(struct target *t)
{
	int total = 0;
	for (int i = 0; i < t->claimed_count; i++) {
		int flushed = 0;
		char *error = NULL;
		struct ip_address peer = family_address(target_wire_family(t), t->claimed[i]);
		if (agent_neigh_flush(&t->agent, &peer, &flushed, &error) < 0) {
			fprintf(stderr, "tcpharness: lab: the lab host could not forget its neighbour entries for the peers: "
					"%s\n", error ? error : "?");
			free(error);
			return;
		}
		total += flushed;
	}
	char ip[IP_ADDRESS_TEXT_MAX];
	struct ip_address target = family_address(target_wire_family(t), t->target_ip);
	fprintf(stderr, "tcpharness: lab: %s forgot its neighbour entries for the %d peer address%s (%d flushed)\n",
		ip_address_format(&target, ip), t->claimed_count, t->claimed_count == 1 ? "" : "es", total);
}

void target_close(struct target *t)
{
	if (!t)
		return;
	arp_proxy_stop(t->arp);
	nd_proxy_stop(t->nd);
	if (t->kind == TARGET_LAB && t->agent.fd >= 0 && t->claimed_count)
		forget_peers(t);
	free(t->refusal);
	agent_stop(&t->agent);
	if (t->backend_stop)
		t->backend_stop(t->backend);
	if (t->harness_netns_fd >= 0)
		close(t->harness_netns_fd);
	/* Shared with other harness runs: it goes only when none of them has a bundle in it. */
	if (t->workdir[0])
		rmdir(t->workdir);
	free(t);
}
