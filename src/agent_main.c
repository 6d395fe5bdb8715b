/* agent_main.c - tcpharness-agent: serves the agent protocol (agent.h) on stdin/stdout, so a lab host
 * is driven as `ssh labhost tcpharness-agent` and SSH does the authentication. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "agent_netns.h"
#include "clock_watch.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: tcpharness-agent [--netns-per-case IFACE] [--refuse-sock-destroy] [--clock-watch] | --help |\n"
		"       --version\n"
		"\n"
		"Performs socket calls for tcpharness: reads one request line per call on stdin and writes\n"
		"one reply line on stdout, until end of input. Run it in the network namespace or on the\n"
		"host under test; the harness starts it, usually as `ssh HOST tcpharness-agent`.\n"
		"\n"
		"  request: <id> <op> <handle> [key=value ...]\n"
		"  reply:   <id> <ret> <errno-name or -> <sec>.<nsec> [text]\n"
		"  try:     echo '1 hello -' | tcpharness-agent\n"
		"\n"
		"  --netns-per-case IFACE  every reset (the harness sends one before each case) starts a new\n"
		"      network namespace and moves IFACE into it with IFACE's IPv4 address and ARP flag; IFACE\n"
		"      returns at the next reset and at end of input. No socket outlives its case, on any\n"
		"      kernel, and purge (sock_diag SOCK_DESTROY) is refused. IFACE carries nothing else\n"
		"      meanwhile: never name the interface the harness's SSH session runs over.\n"
		"  --refuse-sock-destroy  send no SOCK_DESTROY: a purge fails with EOPNOTSUPP, as on a kernel\n"
		"      that cannot destroy the socket (4.9's tcp_abort refuses TIME_WAIT). A run against such\n"
		"      an agent shows that its cases need no SOCK_DESTROY.\n"
		"  --clock-watch  a real-time thread wakes every 10 ms and keeps the spans in which its wake\n"
		"      came late: where the machine ran nothing (a VM guest whose vCPU the host did not run).\n"
		"      The harness asks for them (op stalls) when a segment came late, and a late segment the\n"
		"      guest could not have sent in time is an ERROR, not a FAIL.\n");
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("tcpharness-agent, protocol version %d\n", AGENT_PROTOCOL_VERSION);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--refuse-sock-destroy") == 0) {
			agent_refuse_sock_destroy();
		} else if (strcmp(argv[i], "--clock-watch") == 0) {
			int err = clock_watch_start();
			if (err) {
				fprintf(stderr, "tcpharness-agent: --clock-watch: %s\n", strerror(err));
				return 2;
			}
		} else if (strcmp(argv[i], "--netns-per-case") == 0 && i + 1 < argc && !agent_netns_enabled()) {
			char *error = NULL;
			if (agent_netns_setup(argv[++i], &error) < 0) {
				fprintf(stderr, "tcpharness-agent: %s\n", error);
				return 2;
			}
		} else {
			usage(stderr);
			return 2;
		}
	}
	/* A harness that went away must end the loop through EPIPE, not kill the agent mid-call. */
	signal(SIGPIPE, SIG_IGN);
	return agent_serve(STDIN_FILENO, STDOUT_FILENO) == 0 ? 0 : 1;
}
