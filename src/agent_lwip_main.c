/* agent_lwip_main.c - tcpharness-agent-lwip: starts lwIP on an existing TAP device and serves the agent
 * protocol (agent.h) on stdin/stdout through lwIP's sockets, so lwIP is the stack the harness tests. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "agent_lwip.h"
#include "lwip_stack.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: tcpharness-agent-lwip --tap IFNAME --ip A.B.C.D/LEN [--ip6 IPV6ADDR] [--mtu N]\n"
		"       tcpharness-agent-lwip --help | --version\n"
		"\n"
		"Starts lwIP on the TAP device IFNAME (it must exist, be up and have no other user) with\n"
		"the address A.B.C.D/LEN (and IPV6ADDR, its /64 on-link; the TAP's and lwIP's MTU N),\n"
		"then performs socket calls for tcpharness with lwIP's sockets:\n"
		"one request line per call on stdin, one reply line on stdout, until end of input.\n"
		"The kernel side of the TAP is where the harness injects and captures; give it no IPv4\n"
		"address. lwIP has no sysctls and no counters: those requests answer ENOENT.\n"
		"\n"
		"  try: ip tuntap add mode tap name thlw0 && ip link set thlw0 up\n"
		"       echo '1 hello -' | tcpharness-agent-lwip --tap thlw0 --ip 192.0.2.1/24\n");
}

/* "A.B.C.D/LEN" into host-order ip and prefix length. 0, or -1 when it is anything else. */
static int parse_prefix(const char *text, uint32_t *ip, unsigned *prefix_len)
{
	const char *slash = strchr(text, '/');
	char address[INET_ADDRSTRLEN];
	if (!slash || (size_t)(slash - text) >= sizeof address || slash[1] < '0' || slash[1] > '9')
		return -1;
	memcpy(address, text, (size_t)(slash - text));
	address[slash - text] = '\0';
	struct in_addr a;
	char *end;
	unsigned long len = strtoul(slash + 1, &end, 10);
	if (inet_pton(AF_INET, address, &a) != 1 || *end != '\0' || len > 32)
		return -1;
	*ip = ntohl(a.s_addr);
	*prefix_len = (unsigned)len;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "tap", required_argument, NULL, 't' },
		{ "ip", required_argument, NULL, 'i' },
		{ "ip6", required_argument, NULL, '6' },
		{ "mtu", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct lwip_stack_config config = { 0 };
	const char *prefix = NULL, *ip6_text = NULL, *mtu_text = NULL;
	struct in6_addr ip6;
	int opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 't': config.tap_name = optarg; break;
		case 'i': prefix = optarg; break;
		case '6': ip6_text = optarg; break;
		case 'm': mtu_text = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V':
			printf("tcpharness-agent-lwip, protocol version %d\n", AGENT_PROTOCOL_VERSION);
			return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || !config.tap_name || !prefix) {
		usage(stderr);
		return 2;
	}
	if (parse_prefix(prefix, &config.ip, &config.prefix_len) < 0) {
		fprintf(stderr, "tcpharness-agent-lwip: --ip wants A.B.C.D/LEN, not '%s'\n", prefix);
		return 2;
	}

	if (ip6_text && inet_pton(AF_INET6, ip6_text, &ip6) != 1) {
		fprintf(stderr, "tcpharness-agent-lwip: --ip6 wants an IPv6 address, not '%s'\n", ip6_text);
		return 2;
	}
	config.ip6 = ip6_text ? ip6.s6_addr : NULL;
	char *end = NULL;
	unsigned long mtu = mtu_text ? strtoul(mtu_text, &end, 10) : 0;
	if (mtu_text && (*end != '\0' || mtu < 1280 || mtu > 65535)) {
		fprintf(stderr, "tcpharness-agent-lwip: --mtu wants 1280 to 65535, not '%s'\n", mtu_text);
		return 2;
	}
	config.mtu = (unsigned)mtu;

	/* lwIP prints its assertions (and tapif its complaints) on stdout: they must land on stderr, not
	 * in the middle of the protocol. */
	int protocol_out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	if (protocol_out < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
		perror("tcpharness-agent-lwip: cannot set stdout aside");
		return 1;
	}
	struct lwip_stack_info info;
	char *error = NULL;
	if (lwip_stack_start(&config, &info, &error) < 0) {
		fprintf(stderr, "tcpharness-agent-lwip: %s\n", error ? error : "lwIP did not start");
		free(error);
		return 1;
	}
	/* A harness that went away must end the loop through EPIPE, not kill the agent mid-call. */
	signal(SIGPIPE, SIG_IGN);
	return agent_serve_stack(STDIN_FILENO, protocol_out, &agent_stack_lwip) == 0 ? 0 : 1;
}
