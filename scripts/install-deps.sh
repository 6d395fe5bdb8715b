#!/usr/bin/env bash
# Installs what tcpharness needs, from Debian 12 packages only. Without options: what building it and
# running the catalogue against this kernel need (scripts/quickstart.sh). --target T adds what the
# vm, gvisor or lwip target needs; --test adds everything scripts/test.sh needs (every target too).
# Skips apt entirely when every package is already there, so repeated runs cost nothing.
set -euo pipefail

usage() {
	echo "usage: install-deps.sh [--target vm|gvisor|lwip]... [--test] [--list]" >&2
	exit 2
}

build=(build-essential cmake pkg-config libnet1-dev libpcap-dev libmnl-dev libjansson-dev) # compiler, build, libraries (jansson: merge reads JSON reports)
vm=(qemu-system-x86 busybox-static cpio socat lz4 user-mode-linux)        # Debian's 6.1 kernel as a VM (vm-image.sh)
gvisor=(runsc iproute2 ethtool)                                            # runsc; gvisor-run-agent.sh's ip and ss
lwip=(dpkg-dev)                                                            # lwIP's Debian source package, unpacked (lwip-source.sh)
test=(
	libcmocka-dev iproute2 man-db                          # unit tests, namespaces by hand, man -l of the man pages
	tshark valgrind bc                                     # pcapng (frame comments, capinfos) and leak checks, bench
	perl libxml2-utils python3 chromium                    # report checks: prove (TAP), xmllint (JUnit), JSON, HTML DOM, ladder layout
	clang stress-ng                                        # fuzzers (libFuzzer), soak under load
	python3-scapy hping3                                   # the benchmark's comparison senders
	"${vm[@]}" "${gvisor[@]}" "${lwip[@]}"                 # the tests run every target
)

packages=("${build[@]}")
list=false
lwip_source=false
while [ $# -gt 0 ]; do
	case $1 in
	--target)
		[ $# -ge 2 ] || usage
		case $2 in
		vm) packages+=("${vm[@]}") ;;
		gvisor) packages+=("${gvisor[@]}") ;;
		lwip) packages+=("${lwip[@]}"); lwip_source=true ;;
		*) echo "install-deps: unknown target '$2' (vm, gvisor or lwip)" >&2; usage ;;
		esac
		shift 2 ;;
	--test) packages+=("${test[@]}"); lwip_source=true; shift ;;
	--list) list=true; shift ;;
	*) usage ;;
	esac
done
mapfile -t packages < <(printf '%s\n' "${packages[@]}" | awk '!seen[$0]++')
if $list; then
	printf '%s\n' "${packages[@]}"
	exit 0
fi

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# lwIP as a target stack is built from Debian's own source package with TCP timestamps and SACK on
# (docs/lwip-notes.md); lwip-source.sh does nothing when the source is already there.
fetch_lwip_source() { if $lwip_source; then "$(dirname "$0")/lwip-source.sh"; fi; }
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
