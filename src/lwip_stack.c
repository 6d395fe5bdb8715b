/* lwip_stack.c - see lwip_stack.h. Build flags: `pkg-config --cflags --libs lwip` (docs/lwip-notes.md).
 * Debian builds liblwip with LWIP_TCPIP_CORE_LOCKING and core-lock assertions that abort(), so every
 * call into lwIP's core from this thread (netif_*) happens between LOCK_TCPIP_CORE and its unlock. */
#include "lwip_stack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lwip/ip4_addr.h"
#include "lwip/ip6_addr.h"
#include "lwip/netif.h"
#include "lwip/sys.h"
#include "lwip/tcpip.h"
#include "netif/tapif.h"

#include "error_text.h"

/* tapif keeps a pointer to the netif in its reader thread for the rest of the process. */
static struct netif tap_netif;
static atomic_bool started;

/* A TAP that is down answers every write with EIO: lwIP would run but nothing it sends would arrive. */
static int check_up(const char *name, char **error)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return error_set(error, "cannot make a socket to read '%s''s flags: %s", name, strerror(errno));
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
	int rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
	int err = errno;
	close(fd);
	errno = err;
	if (rc < 0)
		return error_set(error, "cannot read the flags of '%s': %s", name, strerror(err));
	if (!(ifr.ifr_flags & IFF_UP)) {
		errno = ENETDOWN;
		return error_set(error, "TAP '%s' is down: bring it up before lwIP attaches", name);
	}
	return 0;
}

/* The kernel's end must take frames as large as lwIP's: the harness injects through it. */
static int set_mtu(const char *name, unsigned mtu, char **error)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
	ifr.ifr_mtu = (int)mtu;
	int rc = fd < 0 ? -1 : ioctl(fd, SIOCSIFMTU, &ifr);
	int err = errno;
	if (fd >= 0)
		close(fd);
	errno = err;
	return rc < 0 ? error_set(error, "cannot set the MTU of '%s' to %u: %s", name, mtu, strerror(err)) : 0;
}

/* tapif_init calls exit(1) when it cannot attach; the same attach done here first, on a descriptor
 * closed right after, turns the usual reasons into an error the caller can report. */
static int check_tap(const char *name, char **error)
{
	if (if_nametoindex(name) == 0)
		return error_set(error, "no network device named '%s': %s", name, strerror(errno));
	if (check_up(name, error) < 0)
		return -1;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return error_set(error, "cannot open /dev/net/tun: %s", strerror(errno));
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	int rc = ioctl(fd, TUNSETIFF, &ifr);
	int err = errno;
	close(fd);
	if (rc == 0)
		return 0;
	errno = err;
	const char *why = err == EBUSY	  ? " (another process holds it)"
			  : err == EINVAL ? " (not a TAP device)"
			  : err == EPERM  ? " (owned by another user, or CAP_NET_ADMIN missing)"
					  : "";
	return error_set(error, "cannot attach to TAP '%s': %s%s", name, strerror(err), why);
}

static void core_running(void *arg)
{
	sys_sem_signal((sys_sem_t *)arg);
}

/* tcpip_init returns before its thread runs; waiting for the callback means the core lock exists
 * and the thread is marked, so the assertions in netif_add see a consistent core. */
static int start_core(char **error)
{
	sys_sem_t running;
	if (sys_sem_new(&running, 0) != ERR_OK)
		return error_set(error, "lwIP: no semaphore for tcpip_init");
	tcpip_init(core_running, &running);
	sys_sem_wait(&running);
	sys_sem_free(&running);
	return 0;
}

static uint32_t netmask_of(unsigned prefix_len)
{
	return prefix_len == 0 ? 0 : UINT32_MAX << (32 - prefix_len);
}

int lwip_stack_start(const struct lwip_stack_config *config, struct lwip_stack_info *info, char **error)
{
	if (!config->tap_name || config->tap_name[0] == '\0' || strlen(config->tap_name) >= IFNAMSIZ) {
		errno = EINVAL;
		return error_set(error, "TAP name must have 1 to %d characters", IFNAMSIZ - 1);
	}
	if (config->prefix_len > 32) {
		errno = EINVAL;
		return error_set(error, "prefix length %u is above 32", config->prefix_len);
	}
	if (atomic_exchange(&started, true)) {
		errno = EALREADY;
		return error_set(error, "lwIP is already running in this process");
	}
	if (check_tap(config->tap_name, error) < 0 || (config->mtu && set_mtu(config->tap_name, config->mtu, error) < 0))
		goto not_started;
	if (setenv(LWIP_STACK_TAP_ENV, config->tap_name, 1) < 0) {
		error_set(error, "cannot set %s: %s", LWIP_STACK_TAP_ENV, strerror(errno));
		goto not_started;
	}
	if (start_core(error) < 0)
		return -1; /* lwIP's state is half made: no second try */

	ip4_addr_t ip, mask, gw;
	ip4_addr_set_u32(&ip, htonl(config->ip));
	ip4_addr_set_u32(&mask, htonl(netmask_of(config->prefix_len)));
	ip4_addr_set_u32(&gw, htonl(config->gateway));
	LOCK_TCPIP_CORE();
	struct netif *netif = netif_add(&tap_netif, &ip, &mask, &gw, NULL, tapif_init, tcpip_input);
	if (netif) {
		netif_set_default(netif);
		if (config->mtu) {
			netif->mtu = (u16_t)config->mtu;
#if LWIP_IPV6 && LWIP_ND6_ALLOW_RA_UPDATES
			netif->mtu6 = (u16_t)config->mtu;
#endif
		}
		/* Preferred at once: the build does no DAD (lwipopts.h); lwIP takes the address's /64 as
		 * on-link (nd6_is_prefix_in_netif), so the peers there are resolved directly. */
		if (config->ip6) {
			ip6_addr_t ip6;
			memcpy(&ip6.addr, config->ip6, 16);
			ip6_addr_clear_zone(&ip6);
			netif_ip6_addr_set(netif, 0, &ip6);
			netif_ip6_addr_set_state(netif, 0, IP6_ADDR_PREFERRED);
		}
		netif_set_up(netif);
		memcpy(info->mac, netif->hwaddr, sizeof info->mac);
		info->mtu = netif->mtu;
		snprintf(info->netif_name, sizeof info->netif_name, "%c%c%u", netif->name[0], netif->name[1],
			 (unsigned)netif->num);
	}
	UNLOCK_TCPIP_CORE();
	if (!netif) {
		errno = ENOMEM;
		return error_set(error, "lwIP: netif_add on TAP '%s' failed (tapif_init out of memory)",
				 config->tap_name);
	}
	return 0;

not_started:
	atomic_store(&started, false);
	return -1;
}

char *lwip_stack_format_mac(const uint8_t mac[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return out;
}
