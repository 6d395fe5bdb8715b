#!/usr/bin/env bash
# Issue 19: the Debian package. Builds it with CPack from BUILD_DIR, installs it with `dpkg -i` and
# `apt-get -f install`, runs the installed catalogue (and a gvisor case, when runsc is here) from an
# unrelated directory, finds both man pages, then removes and purges it and checks that none of its
# files is left. The package is purged on every exit, so the machine is left as it was found; a
# tcpharness package installed before the test is never touched (the test is then skipped).
# usage: check_deb.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "skipped: installing a package needs root"; exit 77; }
installed() { dpkg-query -W -f='${Status}' tcpharness 2>/dev/null | grep -q 'ok installed'; }
if dpkg-query -W tcpharness >/dev/null 2>&1; then
	echo "skipped: a tcpharness package is already known to dpkg here; this test leaves it alone"
	exit 77
fi
tmp=$(mktemp -d /tmp/tcpharness-deb.XXXXXX)
ours=false
cleanup() {
	local status=$?
	if $ours && dpkg-query -W tcpharness >/dev/null 2>&1; then
		dpkg --purge tcpharness >/dev/null 2>&1 || echo "check_deb: could not purge tcpharness" >&2
	fi
	rm -rf "$tmp"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

(cd "$tmp" && cpack --config "$build/CPackConfig.cmake" -G DEB -B "$tmp/out" >"$tmp/cpack.log") ||
	{ cat "$tmp/cpack.log" >&2; exit 1; }
deb=$(echo "$tmp"/out/tcpharness_*.deb)
[ -f "$deb" ] || { echo "FAIL: cpack made no tcpharness_*.deb" >&2; exit 1; }
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libnet1 libpcap0.8 libmnl0 libjansson4; do
	grep -qw "$lib" <<<"$depends" || { echo "FAIL: Depends lacks $lib: $depends" >&2; exit 1; }
done
grep -qw runsc <<<"$(dpkg-deb -f "$deb" Suggests)" || { echo "FAIL: Suggests lacks runsc" >&2; exit 1; }

ours=true
dpkg -i "$deb" || true
DEBIAN_FRONTEND=noninteractive apt-get -f install -y -qq --no-install-recommends >/dev/null
installed || { echo "FAIL: tcpharness is not installed after dpkg -i and apt-get -f install" >&2; exit 1; }
files=$(dpkg -L tcpharness | while read -r f; do [ -d "$f" ] || echo "$f"; done)
[ "$(command -v tcpharness)" = /usr/bin/tcpharness ] || { echo "FAIL: tcpharness is not /usr/bin/tcpharness" >&2; exit 1; }
man -w tcpharness | grep -q '^/usr/share/man/man1/tcpharness\.1' || { echo "FAIL: man finds no tcpharness(1)" >&2; exit 1; }
man -w 5 tcpharness-cases | grep -q '^/usr/share/man/man5/' || { echo "FAIL: man finds no tcpharness-cases(5)" >&2; exit 1; }

mkdir "$tmp/elsewhere"
cd "$tmp/elsewhere"
tcpharness --version
tcpharness run /usr/share/tcpharness/cases >"$tmp/run.out" 2>&1 || { tail -20 "$tmp/run.out" >&2; echo "FAIL: the installed catalogue" >&2; exit 1; }
tail -1 "$tmp/run.out"
if command -v runsc >/dev/null; then
	tcpharness run --target gvisor /usr/share/tcpharness/cases/stacks/time_wait_syn.tc | tail -1
fi
cd /

dpkg -r tcpharness >/dev/null
! installed || { echo "FAIL: still installed after dpkg -r" >&2; exit 1; }
# Without conffiles `dpkg -r` already forgets the package; purge whatever is left.
! dpkg-query -W tcpharness >/dev/null 2>&1 || dpkg --purge tcpharness >/dev/null
! dpkg-query -W tcpharness >/dev/null 2>&1 || { echo "FAIL: dpkg still knows tcpharness after the purge" >&2; exit 1; }
left=$(while read -r f; do [ ! -e "$f" ] || echo "$f"; done <<<"$files")
[ -z "$left" ] || { echo "FAIL: left after the purge: $left" >&2; exit 1; }
echo "deb: $(basename "$deb") built, installed, ran the catalogue, removed and purged; $(wc -l <<<"$files") files gone"
