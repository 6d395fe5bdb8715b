/* lwip_stack.h - brings up Debian's lwIP (threaded liblwip) on an existing TAP device, so the lwIP
 * variant of the agent can serve the agent protocol through lwIP's socket API (lwip_socket...). */
#ifndef TCPHARNESS_LWIP_STACK_H
#define TCPHARNESS_LWIP_STACK_H

#include <stdint.h>

/* The name lwIP reads from the environment (tapif's PRECONFIGURED_TAPIF); lwip_stack_start sets it. */
#define LWIP_STACK_TAP_ENV "PRECONFIGURED_TAPIF"

struct lwip_stack_config {
	const char *tap_name; /* an existing TAP device (ip tuntap add mode tap), up, not attached elsewhere */
	uint32_t ip;          /* lwIP's IPv4 address, host byte order */
	unsigned prefix_len;  /* 0..32 */
	uint32_t gateway;     /* host byte order; 0: none (on-link peers only) */
	const uint8_t *ip6;   /* lwIP's IPv6 address (16 bytes, network order, its /64 on-link), or NULL */
	unsigned mtu;         /* the TAP's and lwIP's MTU; 0: tapif's 1500 */
};

struct lwip_stack_info {
	uint8_t mac[6];       /* lwIP's own Ethernet address (tapif's fixed 02:12:34:56:78:ab) */
	unsigned mtu;
	char netif_name[8];   /* lwIP's name for the interface, e.g. "tp0" */
};

/* Starts lwIP's threads (tcpip_init, waiting until the core runs), attaches lwIP's tapif to the TAP
 * named in config, gives it the address, makes it up and default, and fills *info. Sets
 * PRECONFIGURED_TAPIF to tap_name in this process's environment, because that is the only way this
 * build's tapif takes a device name and without it tapif would run ifconfig on "tap0".
 * Once per process: lwIP cannot be stopped, so its threads and the TAP descriptor live until exit.
 * Returns 0, or -1 with *error malloc'd (the caller frees it) and errno set; a second call fails
 * with EALREADY. The checks before attaching turn tapif's exit(1) cases (no TAP, not a TAP, attached
 * elsewhere, no permission) and a TAP that is down (every frame would fail with EIO) into errors, but
 * a failure between check and attach still ends the process, as tapif_init does. */
int lwip_stack_start(const struct lwip_stack_config *config, struct lwip_stack_info *info, char **error);

/* Writes mac as "aa:bb:cc:dd:ee:ff" into out (18 bytes with the NUL). Returns out; nothing to free. */
char *lwip_stack_format_mac(const uint8_t mac[6], char out[18]);

#endif
