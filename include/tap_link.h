/* tap_link.h - a TAP device alone in a fresh network namespace of the harness's own: the link to a
 * stack that reads its frames from a descriptor (a QEMU guest, lwIP). */
#ifndef TCPHARNESS_TAP_LINK_H
#define TCPHARNESS_TAP_LINK_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

struct tap_link {
	int netns_fd;              /* the namespace; closing it (once nothing else is inside) removes both */
	char ifname[IF_NAMESIZE];  /* the TAP's kernel side, where the wire injects and captures */
	uint8_t mac[6];            /* the kernel side's MAC: the peers' MAC on this link */
};

/* Makes the namespace (IPv6 off before the TAP exists, so its kernel side never speaks), the TAP
 * named ifname in it, up. *tap_fd is the TAP's descriptor; with persist the device outlives it, so
 * another process can attach by name. The calling thread stays in its own namespace. Returns 0, or
 * -1 with *error malloc'd after undoing what it made. */
int tap_link_create(const char *ifname, bool persist, struct tap_link *out, int *tap_fd, char **error);

/* Closes the namespace fd. Safe on a link whose netns_fd is -1. */
void tap_link_destroy(struct tap_link *link);

#endif
