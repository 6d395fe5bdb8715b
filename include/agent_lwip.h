/* agent_lwip.h - the agent's stack table (agent_stack.h) on lwIP's socket API, so tcpharness-agent-lwip
 * serves the agent protocol with Debian's lwIP 2.1.3 as the stack under test (docs/lwip-notes.md). */
#ifndef TCPHARNESS_AGENT_LWIP_H
#define TCPHARNESS_AGENT_LWIP_H

#include "agent_stack.h"

/* lwIP's sockets, PCB lists and tcp_abort; usable once lwip_stack_start (lwip_stack.h) succeeded.
 * It has no sysctls and no counters (sysctl-get/-set and counter answer ENOENT). */
extern const struct agent_stack agent_stack_lwip;

#endif
