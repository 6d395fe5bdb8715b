#!/usr/bin/env bash
# Runs tcpharness-agent under gVisor (runsc, gVisor's own netstack) on the veth of a target network
# namespace; the agent speaks the protocol on this script's stdin/stdout, so this is an agent command.
set -euo pipefail

usage() {
	cat >&2 <<'EOF'
usage: gvisor-run-agent.sh [options] NETNS IP/PREFIX WORKDIR

  NETNS      target network namespace: a path (/proc/PID/ns/net, /run/netns/NAME) or a name in /run/netns
  IP/PREFIX  the address gVisor takes, e.g. 192.0.2.1/24 or 2001:db8::c000:201/64 (set on the veth
             before every start)
  WORKDIR    directory for the per-run bundle and runsc state (created; each run uses its own subdirectory)

options:
  --agent PATH     agent binary (default: tcpharness-agent-static, else tcpharness-agent, next to this
                   script when it is installed or in a build directory, else in the source tree's build/)
  --dev IFACE      the veth in NETNS (default: its only non-loopback link)
  --debug-dir DIR  runsc --debug logs into DIR (kept after the run)
  --rx-csum-offload  let gVisor trust RX checksums (runsc's default: it then accepts segments with a
                   bad TCP checksum); without it gVisor verifies them like Linux does

Runs as root. The agent's stdin/stdout are this script's; stderr gets runsc's errors. The container
and its state are removed on exit, on SIGTERM, SIGINT and SIGHUP.
EOF
	exit 2
}

here=$(cd "$(dirname "$0")" && pwd)
agent=
dev=
debug_dir=
rx_csum=false
while [ $# -gt 0 ]; do
	case $1 in
	--agent) [ $# -ge 2 ] || usage; agent=$2; shift 2 ;;
	--dev) [ $# -ge 2 ] || usage; dev=$2; shift 2 ;;
	--debug-dir) [ $# -ge 2 ] || usage; debug_dir=$2; shift 2 ;;
	--rx-csum-offload) rx_csum=true; shift ;;
	--help | -h) usage ;;
	--) shift; break ;;
	-*) echo "gvisor-run-agent: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
done
[ $# -eq 3 ] || usage
netns=$1 addr=$2 workdir=$3
if [[ $addr =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}$ ]]; then
	family=4
elif [[ $addr =~ ^[0-9a-fA-F:.]*:[0-9a-fA-F:.]*/[0-9]{1,3}$ ]]; then
	family=6
else
	echo "gvisor-run-agent: bad IP/PREFIX '$addr'" >&2
	usage
fi
case $netns in
*/*) ;;
*) netns=/run/netns/$netns ;;
esac
[ -e "$netns" ] || { echo "gvisor-run-agent: no network namespace at $netns" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "gvisor-run-agent: needs root (runsc --network=sandbox)" >&2; exit 2; }
command -v runsc >/dev/null || { echo "gvisor-run-agent: runsc missing; run scripts/install-deps.sh --target gvisor" >&2; exit 2; }
if [ -z "$agent" ]; then
	for agent in "$here"/tcpharness-agent-static "$here"/tcpharness-agent "$here"/../build/tcpharness-agent-static \
		"$here"/../build/tcpharness-agent; do
		[ ! -x "$agent" ] || break
	done
fi
[ -x "$agent" ] || { echo "gvisor-run-agent: no agent binary at $agent" >&2; exit 2; }

in_ns() { nsenter --net="$netns" "$@"; }

if [ -z "$dev" ]; then
	links=$(in_ns ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); if ($2 != "lo") print $2 }')
	[ "$(printf '%s\n' "$links" | grep -c .)" -eq 1 ] ||
		{ echo "gvisor-run-agent: want exactly one non-loopback link in $netns, found: ${links:-none}; use --dev" >&2; exit 2; }
	dev=$links
fi

mkdir -p "$workdir"
workdir=$(cd "$workdir" && pwd)

# A run whose script died without its trap (SIGKILL) leaves its directory with an unlocked lock file:
# remove what it left. A run being set up is still named tmp-*, so it is never mistaken for one.
for old in "$workdir"/thgv-*; do
	[ -f "$old/lock" ] || continue
	flock -n "$old/lock" true 2>/dev/null || continue
	# Its `runsc run` may still serve a harness that kept the pipes open; the sandbox and the gofer die
	# with it (PDEATHSIG), so killing that one process ends the container.
	pid=$(cat "$old/runsc.pid" 2>/dev/null || true)
	if [ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF " run --bundle $old/bundle "; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -rf "$old"
done

# A run killed while it was still being set up (SIGKILL before its rename) leaves tmp-<pid>-*: its
# script is gone, so nobody will finish it.
for old in "$workdir"/tmp-*; do
	[ -d "$old" ] || continue
	pid=${old##*/tmp-}
	pid=${pid%%-*}
	[[ $pid =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null && rm -rf "$old"
done

# The lock is held from before the directory gets its final name until this script ends.
tmp=$(mktemp -d "$workdir/tmp-$$-XXXXXX")
exec {lock}>"$tmp/lock"
flock -n "$lock"
run=$workdir/thgv-${tmp##*/tmp-}
mv "$tmp" "$run"
id=${run##*/}
runsc_pid=
cat_in=

# shellcheck disable=SC2317  # reached through the traps
cleanup() {
	local status=$?
	trap '' INT TERM HUP
	trap - EXIT
	if [ -n "$runsc_pid" ] && kill -0 "$runsc_pid" 2>/dev/null; then
		# The sandbox's control socket is an abstract Unix socket, reachable only from the target netns
		# (elsewhere runsc takes the container for stopped). `delete -force` hangs 5 s there too
		# ("context deadline exceeded"); `kill` returns at once and `runsc run` removes its own state.
		timeout 2 nsenter --net="$netns" runsc --root="$run/state" kill "$id" KILL >/dev/null 2>&1 || true
		for _ in $(seq 200); do
			kill -0 "$runsc_pid" 2>/dev/null || break
			sleep 0.01
		done
		# The sandbox and the gofer die with `runsc run` (PDEATHSIG).
		kill -KILL "$runsc_pid" 2>/dev/null || true
		wait "$runsc_pid" 2>/dev/null || true
	fi
	# A cat copying a terminal to the agent would otherwise wait for one more line after we are gone.
	[ -z "$cat_in" ] || kill "$cat_in" 2>/dev/null || true
	rm -rf "$run"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# A static agent needs nothing else; a dynamic one gets exactly the libraries ldd names.
rootfs=$run/bundle/rootfs
mkdir -p "$rootfs/proc" "$rootfs/dev" "$rootfs/tmp"
cp "$agent" "$rootfs/tcpharness-agent"
{ ldd "$agent" 2>/dev/null || true; } | { grep -o '/[^ ]*' || true; } | while read -r lib; do
	mkdir -p "$rootfs$(dirname "$lib")"
	cp -L "$lib" "$rootfs$lib"
done

caps='"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN"'
cat >"$run/bundle/config.json" <<EOF
{
	"ociVersion": "1.0.2",
	"process": {
		"terminal": false,
		"user": { "uid": 0, "gid": 0 },
		"args": [ "/tcpharness-agent" ],
		"env": [ "PATH=/" ],
		"cwd": "/",
		"capabilities": { "bounding": [ $caps ], "effective": [ $caps ], "permitted": [ $caps ] },
		"noNewPrivileges": true
	},
	"root": { "path": "rootfs", "readonly": true },
	"hostname": "gvisor",
	"mounts": [ { "destination": "/proc", "type": "proc", "source": "proc" } ],
	"linux": {
		"namespaces": [
			{ "type": "pid" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" },
			{ "type": "network", "path": "$netns" }
		]
	}
}
EOF

# Two sandboxes on one veth would both answer every segment: refuse while another runsc holds a
# packet socket on it (a live run, or one started by hand). A sandbox swept above dies with its
# `runsc run` (PDEATHSIG) a moment later, hence the grace period.
attached() { in_ns ss -0 -n -p 2>/dev/null | awk -v dev="$dev" '$4 == "*:" dev' | grep -q '"runsc'; }
for _ in $(seq 100); do
	attached || break
	sleep 0.02
done
if attached; then
	echo "gvisor-run-agent: another runsc sandbox is already attached to $dev in $netns" >&2
	exit 1
fi

# runsc copies the veth's addresses and routes at start and then deletes them from the veth, so the
# address is put back before every start. For an IPv4 address IPv6 stays off on the veth: runsc
# ignores link-local addresses, and the kernel would otherwise send its own DAD/RS/MLD frames from the
# veth's MAC. An IPv6 address goes on without DAD (nodad) into a namespace that sends no router
# solicitation and makes no link-local address (tcpharness's sandbox sets that up); the NOARP veth
# joins no solicited-node group, so no MLD report either. gVisor itself then resolves its peers.
if [ "$family" = 4 ]; then
	[ ! -e /proc/sys/net/ipv6 ] || in_ns sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
	in_ns ip -4 addr flush dev "$dev"
	in_ns ip addr add "$addr" dev "$dev"
else
	in_ns ip -6 addr flush dev "$dev" scope global
	in_ns ip addr add "$addr" dev "$dev" nodad
fi
in_ns ip link set "$dev" up
in_ns ip link set lo up

flags=(--root="$run/state" --network=sandbox --platform=ptrace --ignore-cgroups
	--gso=false --software-gso=false --tx-checksum-offload=false --rx-checksum-offload="$rx_csum")
[ -z "$debug_dir" ] || { mkdir -p "$debug_dir"; flags+=(--debug --debug-log="$(cd "$debug_dir" && pwd)/"); }

# runsc fchowns the stdio it donates to the sandbox to nobody (65534): harmless on a pipe or socket,
# but it would take over a terminal, a log file or /dev/null, so anything else goes through cat
# (which must not inherit the lock, or a SIGKILLed run would look alive to the sweep above).
plain() { [ -p "/dev/fd/$1" ] || [ -S "/dev/fd/$1" ]; }
if plain 0; then exec {in}<&0; else exec {in}< <(exec cat {lock}>&-) && cat_in=$!; fi
if plain 1; then exec {out}>&1; else exec {out}> >(exec cat {lock}>&-); fi
if plain 2; then exec {err}>&2; else exec {err}> >(exec cat >&2 {lock}>&-); fi

# runsc decides "root network namespace, refusing" when /proc/sys/net/core/rmem_default exists
# (google/gvisor#10704), yet newer kernels (6.18 here) show it in every namespace: an empty tmpfs
# over /proc/sys/net/core, mounted in a private mount namespace after entering the target netns
# (/proc/sys/net shows the looking task's namespace), hides it from this runsc only.
nsenter --net="$netns" unshare --mount --propagation private -- \
	sh -c 'mount -t tmpfs -o size=4k,mode=0555 thgv-hide /proc/sys/net/core && exec "$@"' sh \
	runsc "${flags[@]}" run --bundle "$run/bundle" "$id" <&"$in" >&"$out" 2>&"$err" {lock}>&- {in}<&- {out}>&- {err}>&- &
runsc_pid=$!
echo "$runsc_pid" >"$run/runsc.pid"
# Only runsc holds the harness's pipes now, so the harness sees EOF the moment the agent is gone.
exec {in}<&- {out}>&- {err}>&- </dev/null >/dev/null
set +e
wait "$runsc_pid"
status=$?
set -e
runsc_pid=
exit "$status"
