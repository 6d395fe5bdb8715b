# Sourced by the lab checks (check_lab.sh, check_lab_safety.sh) with their arguments HARNESS AGENT
# CASES_DIR: reruns the caller in a network namespace of its own, and gives it scratch, fail, lab hosts
# (namespaces held by a sleeping process) and a capture on a link, all gone when the caller exits.
if [ $# -ne 3 ]; then
	echo "usage: $(basename "$0") HARNESS AGENT CASES_DIR" >&2
	exit 2
fi
if [ -z "${TCPHARNESS_LAB_INSIDE:-}" ]; then
	exec env TCPHARNESS_LAB_INSIDE=1 unshare --net -- "$0" "$@"
fi
harness=$1
agent=$2
cases=$3
scratch=$(mktemp -d)
host_pids=()
capture_pid=
cleanup() {
	[ -z "$capture_pid" ] || kill "$capture_pid" 2>/dev/null || true
	local pid
	for pid in "${host_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	rm -rf "$scratch"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# new_host VAR: a lab host, its holder's PID in VAR (and killed on exit).
new_host() {
	unshare --net sleep infinity &
	local pid=$!
	host_pids+=("$pid")
	while [ "$(readlink /proc/$pid/ns/net)" = "$(readlink /proc/self/ns/net)" ]; do sleep 0.01; done
	printf -v "$1" %s "$pid"
}
in_ns() { local pid=$1; shift; nsenter --net="/proc/$pid/ns/net" "$@"; }
# quiet_ipv6 PID: the host speaks IPv6 as a configured one does, without a fresh link's chatter (DAD,
# router solicitations); its links made afterwards take these settings.
quiet_ipv6() {
	in_ns "$1" sysctl -qw net.ipv6.conf.default.addr_gen_mode=1 net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.router_solicitations=0 \
		net.ipv6.conf.default.router_solicitations=0
}
# link_mac IF [PID]: IF's MAC, in PID's namespace if given. (/sys/class/net shows the namespace sysfs
# was mounted in, not ours.)
link_mac() {
	local ns=()
	[ $# -lt 2 ] || ns=(nsenter --net="/proc/$2/ns/net")
	"${ns[@]}" ip -o link show "$1" | sed -n 's|.*link/ether \([0-9a-f:]*\).*|\1|p'
}

# start_capture IF FILE: tshark records IF into FILE until stop_capture.
start_capture() {
	rm -f "$2"
	tshark -q -i "$1" -w "$2" >"$scratch/tshark.log" 2>&1 &
	capture_pid=$!
	until grep -q "Capturing on" "$scratch/tshark.log" 2>/dev/null; do sleep 0.05; done
}
stop_capture() {
	sleep 0.2
	kill "$capture_pid"
	wait "$capture_pid" 2>/dev/null || true
	capture_pid=
}
