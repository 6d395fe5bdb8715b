#!/usr/bin/env bash
# Fetches lwIP as Debian 12 ships it -- the source package lwip 2.1.3+dfsg1-2, Debian's patches applied
# (its unix port, the socket-limit patch, the CVE fix) -- into DEST, for the lwip target's build with
# TCP timestamps, window scaling and SACK on (cmake/lwip.cmake, docs/lwip-notes.md). Debian's binary
# liblwip is built with those options off, so a case that needs them could only SKIP there.
#
# A private apt configuration with one deb-src line does the download, so the machine's own apt
# sources are left as they are; apt checks the files against the archive's signed Sources index and
# dpkg-source checks them against the .dsc. Does nothing when DEST already holds that version.
# usage: lwip-source.sh [DEST]     (DEST default /var/cache/tcpharness/lwip-2.1.3+dfsg1-2)
set -euo pipefail
version=2.1.3+dfsg1-2
dest=${1:-/var/cache/tcpharness/lwip-$version}
stamp=$dest/.tcpharness-source

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "lwip $version" ]; then
	echo "lwip-source: $dest holds lwip $version"
	exit 0
fi
command -v dpkg-source >/dev/null || { echo "lwip-source: dpkg-source missing (package dpkg-dev)" >&2; exit 2; }

scratch=$(mktemp -d /tmp/tcpharness-lwip-source.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/lists/partial" "$scratch/download"
echo "deb-src http://deb.debian.org/debian bookworm main" >"$scratch/sources.list"
apt_private=(-o "Dir::Etc::SourceList=$scratch/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$scratch/lists" -o APT::Sandbox::User=root)
apt-get "${apt_private[@]}" -qq update
(cd "$scratch/download" && apt-get "${apt_private[@]}" -qq source --download-only "lwip=$version" >/dev/null)
# apt has authenticated the files; dpkg-source checks their sums against the .dsc (the .dsc's own
# signature needs debian-keyring, which is not worth a dependency here, so its warning goes to the log).
dpkg-source -x "$scratch/download/lwip_$version.dsc" "$scratch/lwip" >"$scratch/unpack.log" 2>&1 ||
	{ cat "$scratch/unpack.log" >&2; exit 1; }
[ -f "$scratch/lwip/src/Filelists.cmake" ] && [ -f "$scratch/lwip/port/sys_arch.c" ] ||
	{ echo "lwip-source: lwip $version unpacked without its unix port" >&2; exit 1; }
echo "lwip $version" >"$scratch/lwip/.tcpharness-source"
mkdir -p "$(dirname "$dest")"
rm -rf "$dest"
mv "$scratch/lwip" "$dest"
echo "lwip-source: lwip $version in $dest"
