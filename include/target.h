/* target.h - where the stack under test runs and how the harness reaches it: the link the wire
 * injects on, and the agent that drives the stack's application and reads its evidence. */
#ifndef TCPHARNESS_TARGET_H
#define TCPHARNESS_TARGET_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent.h"
#include "case.h"
#include "ip_address.h"
#include "sandbox.h"
#include "send_budget.h"
#include "tap_link.h"
#include "wire.h"

struct arp_proxy;
struct nd_proxy;

enum target_kind {
	TARGET_LOCAL,  /* the running kernel, in a fresh sandbox per case */
	TARGET_LAB,    /* a host the user names, over an interface the user names */
	TARGET_VM,     /* Debian's Linux 6.1 under QEMU, on a TAP in a namespace of the harness's own */
	TARGET_GVISOR, /* gVisor's netstack (runsc) in a fresh sandbox per case, on its veth */
	TARGET_LWIP,   /* lwIP (tcpharness-agent-lwip) in a fresh namespace per case, on a TAP */
};

#define TARGET_MAX_IN_USE_ALLOWED 16
#define TARGET_MAX_LAB_HOSTS 16 /* --target lab with several hosts: one case on each at a time */

/* What the command line says about the target. */
struct target_options {
	enum target_kind kind;
	const char *iface;          /* lab: the link to the lab host */
	uint32_t target_ip;         /* lab: the host's address, host order; it replaces the cases' own */
	bool target_ipv6;           /* lab: the host is reached at family_address(ipv6, target_ip) instead */
	const char *agent_command;  /* lab: `ssh lab1 tcpharness-agent` */
	bool allow_default_route;   /* lab: the link may carry the harness host's default route */
	const char *vm_image;       /* vm: the directory scripts/vm-image.sh wrote (vmlinux or vmlinuz, initrd.img) */
	const char *vm_kernel;      /* vm: a kernel file (bzImage or vmlinux) to make an image of instead */
	const char *vm_modules;     /* vm: its modules, a directory or the kernel's .deb (may be NULL) */
	/* lab: what keeps a shared network safe (docs/lab.md, "Safety on a shared network"). */
	const struct case_file *cases;  /* the run's cases: their peer addresses are probed, flushed after */
	int case_count;
	const char *variant_filter;     /* the variant that runs (NULL: all), for the send budget */
	uint32_t in_use_allowed[TARGET_MAX_IN_USE_ALLOWED]; /* --allow-address-in-use, as a case writes it */
	int in_use_allowed_count;
	struct send_budget budget;      /* --max-pps, --allow-storm */
	bool dry_run;                   /* probe and resolve, then print the frames instead of sending */
};

struct target;

/* One case's view of its target. */
struct target_case {
	int harness_netns_fd;           /* where the wire opens its sockets */
	char ifname[IF_NAMESIZE];
	uint8_t harness_mac[6], target_mac[6];
	uint32_t target_ip;             /* the stack's address in this case, as a case writes it (IPv4) */
	enum address_family family;     /* the family this case runs in */
	bool shared_link;               /* other hosts may listen: the wire sends only to target_ip */
	bool same_clock;                /* the agent's CLOCK_REALTIME is the harness's (local) */
	int ts_hz;                      /* how fast the stack's TSvals tick (1000 since Linux 4.13) */
	struct agent *agent;
	const char *vcpu_schedstat;     /* vm: the guest's vCPU thread (cpu_wait_watch_vcpu); NULL otherwise */
	const struct case_file *c;
	struct sandbox sandbox;         /* local (on the worker's link), gvisor */
	struct wire *wire;              /* local: the worker's wire, on the link's harness end; the case readies
					 * it (wire_begin_case) and never closes it. NULL: the case opens its own */
	bool sandbox_made;
	struct tap_link tap;            /* lwip */
	struct arp_proxy *arp;          /* gvisor, lwip: the peers' presence on the link (IPv4 on the wire) */
	struct nd_proxy *nd;            /* gvisor, lwip: the same in the ipv6 family */
	struct agent own_agent;         /* gvisor, lwip, local without a worker link: a fresh agent per case
					 * (a local case on a worker link uses its worker's agent) */
};

/* "local", "lab", "vm": the name the command line and the matrix use. NULL for an unknown kind. */
const char *target_kind_name(enum target_kind kind);
/* The kind named name; -1 when there is none. */
int target_kind_from_name(const char *name);

/* Prepares the target: for local nothing; for gvisor and lwip a check that their parts are here and
 * start (one throwaway sandbox, whose greeting labels the target); for the others the link, the ARP proxy and the agent (a VM
 * is booted here). Refuses unsafe lab settings. Returns 0 with *out, or -1 with *error
 * malloc'd; *out is then NULL. */
int target_open(const struct target_options *options, struct target **out, char **error);

/* Makes, once, what every target opened with options would otherwise make for itself: a VM's image of
 * a kernel file (scripts/vm-image.sh, which says on stderr what the kernel lacks), which options then
 * name instead, its path kept in image (size bytes). Several VMs of one run then boot one image
 * without each checking or building it in turn. 0, or -1 with *error malloc'd. */
int target_prepare(struct target_options *options, char *image, size_t size, char **error);

/* Label for reports: the kind and the stack the agent greeted with ("lab: Linux 6.1.0-28-cloud-amd64"). */
const char *target_label(const struct target *t);

/* The implementation under test, for per-stack lines in case files: "linux" (local, vm), "gvisor",
 * "lwip", or a lab host's system name in lower case ("linux", "freebsd"). */
const char *target_stack(const struct target *t);

/* The stack's kernel release as release_code() ("Linux 6.1.0-57-cloud-amd64" from the agent's hello,
 * uname locally), for `{linux<4.13}` lines; 0 for a stack that is no kernel (gvisor, lwip) or an
 * unreadable one. */
uint32_t target_release(const struct target *t);

/* How many cases may run on it at once: the kinds with a sandbox per case any number, lab and vm one
 * (one host, one set of sysctls). */
bool target_runs_cases_in_parallel(const struct target *t);

/* Whether case runs in family can run on t: each kind answers for itself (local, vm, gvisor and lwip
 * every family; a lab host ipv4 and mapped at an IPv4 --target-ip, ipv6 at an IPv6 one). */
bool target_runs_family(const struct target *t, enum address_family family);

/* Readies the target for case c in address family, one target_runs_family allows (its agent's calls
 * run in it): a fresh sandbox and
 * agent (local, gvisor, lwip), or the previous cases' sockets purged and the peers announced (the
 * others). Returns 0, or -1 with *error malloc'd (its text says "Operation not permitted" when
 * privileges are missing). */
int target_case_begin(struct target *t, const struct case_file *c, enum address_family family,
		      struct target_case *tc, char **error);

/* Ends the case: the sandbox destroyed, or the agent's sockets closed, its sysctls restored and the
 * peers' sockets purged. */
void target_case_end(struct target *t, struct target_case *tc);

/* Lab mode's pacing for storms (storm_plan.max_pps); 0 on targets that share no link with others. */
uint32_t target_max_pps(const struct target *t);

/* Why a lab target stopped claiming its peers' addresses during the run (a re-probe found one in use),
 * or NULL. Every case after that fails without sending; the run's exit status is then 2. */
const char *target_refusal(const struct target *t);

/* Releases everything target_open made; for a lab host, first makes it forget the peers' neighbour
 * entries (and says so on stderr). NULL is fine. */
void target_close(struct target *t);

#endif
