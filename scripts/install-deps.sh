#!/usr/bin/env bash
# Installs everything tcpharness needs to build and test, from Debian 12 packages only.
# Skips apt entirely when every package is already there, so repeated runs cost nothing.
set -euo pipefail
packages=(
	build-essential cmake pkg-config libnet1-dev libpcap-dev libmnl-dev libcmocka-dev iproute2 # build, run
	tshark valgrind bc                                                                       # pcap and leak checks, bench
	perl libxml2-utils python3 chromium                    # report checks: prove (TAP), xmllint (JUnit), JSON, HTML DOM
	clang stress-ng                                        # fuzzers (libFuzzer), soak under load
	python3-scapy hping3                                   # the benchmark's comparison senders
	qemu-system-x86 busybox-static cpio socat lz4 user-mode-linux # Debian's 6.1 kernel as a VM target (vm-image.sh)
	runsc ethtool                                          # gVisor target (scripts/gvisor-run-agent.sh), veth offloads
	dpkg-dev                                               # lwIP's Debian source package, unpacked (scripts/lwip-source.sh)
)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# lwIP as a target stack is built from Debian's own source package with TCP timestamps and SACK on
# (docs/lwip-notes.md); lwip-source.sh does nothing when the source is already there.
fetch_lwip_source() { "$(dirname "$0")/lwip-source.sh"; }
if [ "${#missing[@]}" -eq 0 ]; then
	echo "install-deps: all ${#packages[@]} packages present"
	fetch_lwip_source
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages (${missing[*]}); run as root or with sudo" >&2
	exit 2
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# tshark asks whether non-root users may capture; the default (no) is right for a test machine.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fetch_lwip_source
