/* neighbour.h - this host's neighbour table: forgetting a neighbour's entries, or pinning one, over
 * rtnetlink with libc only (the agent may be linked statically). */
#ifndef TCPHARNESS_NEIGHBOUR_H
#define TCPHARNESS_NEIGHBOUR_H

#include <stdint.h>

#include "ip_address.h"

/* Deletes the neighbour entry for ip (either family) on each interface of the calling thread's
 * namespace (RTM_DELNEIGH); *flushed counts the entries that existed. Returns 0, or an errno with
 * *why malloc'd. */
int neighbour_forget(const struct ip_address *ip, int *flushed, char **why);

/* A permanent neighbour entry for ip (either family) at mac on ifname, replacing any there was
 * (RTM_NEWNEIGH, NUD_PERMANENT): the stack then never asks for it. Returns 0, or an errno with
 * *why malloc'd. */
int neighbour_set_permanent(const char *ifname, const struct ip_address *ip, const uint8_t mac[6], char **why);

#endif
