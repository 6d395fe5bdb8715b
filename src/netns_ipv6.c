/* netns_ipv6.c - see netns_ipv6.h. */
#include "netns_ipv6.h"

#include <errno.h>
#include <stddef.h>

#include "sysctl_file.h"

struct setting {
	const char *key, *value;
};

static const struct setting ipv6_off[] = {
	{ "net.ipv6.conf.all.disable_ipv6", "1" },
	{ "net.ipv6.conf.default.disable_ipv6", "1" },
};
static const struct setting ipv6_quiet[] = {
	{ "net.ipv6.conf.default.addr_gen_mode", "1" },
	{ "net.ipv6.conf.all.accept_dad", "0" },
	{ "net.ipv6.conf.default.accept_dad", "0" },
	{ "net.ipv6.conf.all.router_solicitations", "0" },
	{ "net.ipv6.conf.default.router_solicitations", "0" },
	{ "net.ipv6.conf.all.accept_ra", "0" },
	{ "net.ipv6.conf.default.accept_ra", "0" },
};

int netns_ipv6_quiet(bool ipv6, const char **failed)
{
	const struct setting *settings = ipv6 ? ipv6_quiet : ipv6_off;
	size_t count = ipv6 ? sizeof ipv6_quiet / sizeof ipv6_quiet[0] : sizeof ipv6_off / sizeof ipv6_off[0];
	for (size_t i = 0; i < count; i++)
		if (sysctl_file_write(settings[i].key, settings[i].value) < 0 && errno != ENOENT) {
			*failed = settings[i].key;
			return -1;
		}
	return 0;
}
