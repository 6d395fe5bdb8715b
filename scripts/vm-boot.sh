#!/usr/bin/env bash
# Boots the VM target from scripts/vm-image.sh in a private network namespace with a TAP link, checks
# the agent answers over virtio-serial, and measures boot-to-ready time (manual and test helper).
set -euo pipefail

usage() {
	cat >&2 <<-EOF
	usage: $0 [-M pc|q35|microvm] [-c CPU] [-n RUNS] [-k KERNEL] [-p PCAP] VMDIR

	Boots VMDIR's kernel and initrd.img under QEMU (TCG) RUNS times (default 1). Each time it waits
	for TCPHARNESS-READY on the console, sends "1 hello -" over the virtio-serial socket and prints the
	reply, pings the guest, and checks that the next connection gets a fresh agent. Prints each
	boot-to-ready time and their median. All of it runs in a network namespace of its own
	(unshare --net), so nothing is left behind.
	  -M  machine type (default q35)         -c  QEMU -cpu model (default qemu64)
	      (microvm boots ~0.1 s faster but under TCG hangs in about 1 boot of 8: TSC calibration)
	  -k  kernel image (default VMDIR/vmlinux, else VMDIR/vmlinuz)
	  -p  capture the TAP into PCAP (dumpcap) to check the guest sends nothing unasked
	EOF
	exit 2
}

args=("$@")
machine=q35
cpu=qemu64
runs=1
kernel=
pcap=
while getopts M:c:n:k:p:h opt; do
	case $opt in
	M) machine=$OPTARG ;;
	c) cpu=$OPTARG ;;
	n) runs=$OPTARG ;;
	k) kernel=$OPTARG ;;
	p) pcap=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || usage
case $machine in pc | q35 | microvm) ;; *) usage ;; esac
[ -d "$1" ] || usage
vmdir=$(cd "$1" && pwd)
# The uncompressed ELF boots ~0.3 s faster (PVH entry, no decompressor under TCG).
if [ -z "$kernel" ]; then
	kernel=$vmdir/vmlinux
	[ -f "$kernel" ] || kernel=$vmdir/vmlinuz
fi
for f in "$kernel" "$vmdir/initrd.img"; do
	[ -f "$f" ] || { echo "vm-boot: $f missing (run scripts/vm-image.sh first)" >&2; exit 2; }
done

# Re-run inside an anonymous network namespace: the TAP and every packet vanish with this process.
if [ "${TCPHARNESS_VM_BOOT_INNER:-}" != 1 ]; then
	TCPHARNESS_VM_BOOT_INNER=1 exec unshare --net bash "$0" "${args[@]}"
fi

tap=tap0
guest_ip=192.0.2.1
host_ip=192.0.2.254
guest_mac=52:54:00:00:02:01
work=$(mktemp -d)
qpid=
cappid=
client_pid=
cleanup() {
	[ -z "$client_pid" ] || kill "$client_pid" 2>/dev/null || true
	[ -z "$qpid" ] || { kill "$qpid" 2>/dev/null && wait "$qpid" 2>/dev/null; } || true
	[ -z "$cappid" ] || { kill "$cappid" 2>/dev/null && wait "$cappid" 2>/dev/null; } || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM # bash skips the EXIT trap when a signal kills it

# The host end of the TAP is an interface too: with IPv6 on it would add its own DAD and MLD frames.
echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6
echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6
ip link set lo up
ip tuntap add dev "$tap" mode tap
ip addr add "$host_ip/24" dev "$tap"
ip link set "$tap" up

if [ -n "$pcap" ]; then
	setpriv --pdeathsig KILL dumpcap -q -i "$tap" -w "$pcap" 2>"$work/dumpcap.log" &
	cappid=$!
	# dumpcap needs a moment before it sees frames; a boot takes seconds anyway.
	sleep 0.5
fi

case $machine in
microvm)
	machine_opts=(-M microvm)
	net_dev=virtio-net-device
	serial_dev=virtio-serial-device
	;;
*)
	machine_opts=(-M "$machine")
	# romfile= drops the iPXE option ROM: with -kernel nothing would run it, but SeaBIOS still loads it.
	net_dev=virtio-net-pci,romfile=
	serial_dev=virtio-serial-pci
	;;
esac

# One request/reply exchange per line of stdin on a fresh connection; prints each reply line.
# socat must not half-close the socket at end of input: QEMU takes a read of 0 as the client's
# disconnect, and the guest then gets EOF before it has replied.
exchange() {
	local line reply
	coproc CLIENT { exec socat - "UNIX-CONNECT:$work/agent.sock"; }
	# shellcheck disable=SC2153 # coproc sets CLIENT_PID
	client_pid=$CLIENT_PID
	while read -r line; do
		printf '%s\n' "$line" >&"${CLIENT[1]}"
		if ! read -r -t 20 reply <&"${CLIENT[0]}"; then
			echo "vm-boot: no reply to '$line' within 20 s" >&2
			return 1
		fi
		printf '%s\n' "$reply"
	done
	kill "$client_pid" 2>/dev/null || true
	wait "$client_pid" 2>/dev/null || true
	client_pid=
}

indent() { sed 's/^/  /'; }

times=()
for run in $(seq "$runs"); do
	console=$work/console.log
	rm -f "$console" "$work/agent.sock"
	start=$EPOCHREALTIME
	# pdeathsig: even a SIGKILLed script takes QEMU, and with it the namespace, along.
	# -m 1024: below ~1 GiB the kernel sizes tcp_rmem[2] (hence wscale) and tcp_max_tw_buckets down.
	setpriv --pdeathsig KILL qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot \
		-accel tcg "${machine_opts[@]}" -cpu "$cpu" -smp 1 -m 1024 \
		-kernel "$kernel" -initrd "$vmdir/initrd.img" \
		-append "console=ttyS0 quiet panic=-1 no_timer_check tcpharness.ip=$guest_ip/24" \
		-chardev "file,id=con,path=$console" -serial chardev:con \
		-netdev "tap,id=net0,ifname=$tap,script=no,downscript=no,vnet_hdr=off" \
		-device "$net_dev,netdev=net0,mac=$guest_mac" \
		-device "$serial_dev,id=vser" \
		-chardev "socket,id=agent,path=$work/agent.sock,server=on,wait=off" \
		-device virtserialport,bus=vser.0,chardev=agent,name=tcpharness.agent \
		2>"$work/qemu.err" &
	qpid=$!
	status=
	while [ -z "$status" ]; do
		if grep -q '^TCPHARNESS-READY' "$console" 2>/dev/null; then
			status=ready
		elif grep -q '^TCPHARNESS-FAILED' "$console" 2>/dev/null || ! kill -0 "$qpid" 2>/dev/null; then
			status=failed
		elif [ "${EPOCHREALTIME%.*}" -ge $((${start%.*} + 120)) ]; then
			status=timeout
		else
			sleep 0.02
		fi
	done
	ready=$EPOCHREALTIME
	if [ "$status" != ready ]; then
		echo "vm-boot: run $run: $status; console and QEMU's stderr:" >&2
		cat "$console" "$work/qemu.err" >&2 2>/dev/null || true
		exit 1
	fi
	ms=$(((${ready/./} - ${start/./}) / 1000))
	times+=("$ms")
	echo "run $run: ready after $ms ms: $(grep '^TCPHARNESS-READY' "$console")"

	# hello must come from the guest's kernel (any Linux release); socket s and the sysctl prove the next connection's agent
	# is a fresh one (its handle table is empty and the first agent restored the sysctl at EOF).
	first=$(printf '%s\n' '1 hello -' '2 socket s' '3 sysctl-set - key=net.ipv4.tcp_rfc1337 value=1' | exchange)
	indent <<<"$first"
	hello=$(sed -n 1p <<<"$first")
	[[ "$hello" =~ ^1\ [0-9]+\ -\ [0-9]+\.[0-9]{9}\ Linux\ [0-9]+\.[0-9]+ ]] || { echo "vm-boot: bad hello reply" >&2; exit 1; }
	second=$(printf '%s\n' '1 socket s' '2 sysctl-get - key=net.ipv4.tcp_rfc1337' | exchange)
	indent <<<"$second"
	if ! [[ "$(sed -n 1p <<<"$second")" =~ ^1\ [0-9]+\ -\  ]] || ! [[ "$(sed -n 2p <<<"$second")" =~ \ 0$ ]]; then
		echo "vm-boot: second connection did not get a fresh agent" >&2
		exit 1
	fi
	# busybox's ping: iputils-ping is not among the dependencies.
	busybox ping -c 1 -W 5 -q "$guest_ip" >/dev/null || { echo "vm-boot: guest does not answer ping" >&2; exit 1; }
	echo "  ping $guest_ip ok; second connection got a fresh agent"

	kill "$qpid"
	wait "$qpid" 2>/dev/null || true
	qpid=
done

if [ -n "$cappid" ]; then
	# dumpcap hands packets over a ring block at a time, with a 1 s timeout; a kill earlier would
	# lose the last block.
	sleep 1.5
	kill "$cappid"
	wait "$cappid" 2>/dev/null || true
	cappid=
	echo "capture: $pcap"
fi
mapfile -t sorted < <(printf '%s\n' "${times[@]}" | sort -n)
echo "machine $machine, cpu $cpu: boot-to-ready ms: ${times[*]}; median ${sorted[$((runs / 2))]}"
