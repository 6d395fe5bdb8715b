/* target_backend.h - what a remote target's backend (lab, VM) fills in for target.c: the link to the
 * stack and the agent; target.c does the per-case upkeep the same way for all of them. */
#ifndef TCPHARNESS_TARGET_BACKEND_H
#define TCPHARNESS_TARGET_BACKEND_H

#include "arp_proxy.h"
#include "target.h"

struct target {
	enum target_kind kind;
	char label[160];
	char stack[32];                        /* target_stack() */
	char greeting[128];                    /* gvisor: runsc's version; lwip: the agent's hello */
	int ts_hz;                             /* the stack's TCP timestamp clock (ts_clock.h) */
	uint32_t release;                      /* target_release() */
	/* gvisor, lwip: what each case's sandbox runs. */
	char launcher[4096];                   /* gvisor-run-agent.sh */
	char agent_binary[4096];
	char workdir[64];                      /* gvisor: the launcher's bundles */
	/* Remote targets only. */
	int harness_netns_fd;
	char ifname[IF_NAMESIZE];
	uint8_t harness_mac[6];
	uint32_t target_ip;                    /* as a case writes it */
	bool ipv6;                             /* lab: reached over IPv6, at family_address(ipv6, target_ip) */
	struct agent agent;
	struct arp_proxy *arp;                 /* IPv4 on the wire */
	struct nd_proxy *nd;                   /* lab over IPv6 */
	uint8_t target_mac[6];                 /* lab dry run: resolved by a probe; vm: the guest's NIC */
	/* lab: the addresses the run claims (as the cases write them), when they were last probed, and
	 * why it stopped claiming. */
	uint32_t claimed[ARP_PROBE_MAX];
	int claimed_count;
	uint32_t in_use_allowed[TARGET_MAX_IN_USE_ALLOWED];
	int in_use_allowed_count;
	int64_t probed_at_ns;                  /* CLOCK_MONOTONIC */
	char *refusal;
	uint32_t max_pps;
	char vcpu_schedstat[64];               /* vm: its vCPU thread's /proc/PID/task/TID/schedstat, or "" */
	void *backend;                         /* the VM's QEMU */
	void (*backend_stop)(void *backend);   /* after the agent and the proxy are gone */
};

/* The family on a lab host's wire: IPv6 at an IPv6 --target-ip, else IPv4 (ipv4 and mapped). */
enum address_family target_wire_family(const struct target *t);

/* Starts the ARP proxy on t's link (harness_netns_fd, ifname, harness_mac, target_ip set). 0 or -1. */
int target_attach_link(struct target *t, char **error);

/* Boots the VM (target_vm.c) and fills t's link and agent. 0, or -1 with *error malloc'd; what was
 * started is left in t for target_close. */
int target_vm_start(const struct target_options *options, struct target *t, char **error);

/* The image of options->vm_kernel (and vm_modules), built or found up to date in the user's cache;
 * its directory in image. 0, or -1 with *error malloc'd. */
int target_vm_image_of_kernel(const struct target_options *options, char *image, size_t size, char **error);

/* Whether the VM's guest runs cases in family: its agent gives every case a namespace of its own,
 * IPv6 in it on request (agent_netns_fresh). */
bool target_vm_runs_family(enum address_family family);

#endif
