/* neighbour.h - makes this host forget a neighbour: deletes its neighbour-table (ARP) entries for one
 * address on every interface, over rtnetlink with libc only (the agent may be linked statically). */
#ifndef TCPHARNESS_NEIGHBOUR_H
#define TCPHARNESS_NEIGHBOUR_H

#include <stdint.h>

/* Deletes the IPv4 neighbour entry for ip (host order) on each interface of the calling thread's
 * namespace (RTM_DELNEIGH); *flushed counts the entries that existed. Returns 0, or an errno with
 * *why malloc'd. */
int neighbour_forget(uint32_t ip, int *flushed, char **why);

#endif
