#!/usr/bin/env bash
# tcpharness against packetdrill on a suite of packetdrill scripts (google/packetdrill's
# gtests/net/tcp, the kernel's tools/testing/selftests/net/packetdrill): per family (the first
# directory, or the kernel's tcp_<family>_ prefix), the scripts tcpharness runs (not SKIP), how many of
# them get packetdrill's own verdict, the SKIPs by construct, and the wall time of tcpharness running
# them (-j, default: CPUs) against packetdrill running them one after another, each in its own network
# namespace (`unshare -n`, as the kernel's ksft_runner.sh does; never the host's). Both run the scripts
# in IPv4, packetdrill's default; a script that pins --ip_version=ipv6 runs so under both. packetdrill
# gets the flags its own runner gives an IPv4 run (run_all.py: the addresses its TFO_COOKIE was made
# for, and the defines scripts use), or PACKETDRILL_FLAGS; a script that names its own addresses keeps
# them (packetdrill's command line would override its --local_ip/--remote_ip lines).
# usage: packetdrill-compare.sh HARNESS PACKETDRILL SUITE_DIR [OUT_DIR]
# PACKETDRILL is a packetdrill binary you built yourself; nothing here builds or fetches it.
# Exit status: 0 when every script both ran agrees, 1 otherwise, 2 on usage errors.
set -u
harness=$(realpath -e "$1") packetdrill=$(realpath -e "$2") suite=${3%/} out=${4:-$(mktemp -d)}
[ -x "$harness" ] && [ -x "$packetdrill" ] && [ -d "$suite" ] || {
	echo "usage: packetdrill-compare.sh HARNESS PACKETDRILL SUITE_DIR [OUT_DIR]" >&2
	exit 2
}
mkdir -p "$out"
family_of() { # ./fast_recovery/x.pkt -> fast_recovery; tcp_fast_recovery_x.pkt -> fast_recovery
	local path=${1#./}
	case $path in
	*/*) echo "${path%%/*}" ;;
	*)
		local rest=${path#tcp_} two
		two=$(echo "$rest" | cut -d_ -f1-2)
		# The kernel's flat names keep google/packetdrill's directory, some of two words.
		case $two in
		fast_recovery | fast_retransmit | limited_transmit | slow_start | cwnd_moderation | ts_recent | \
			user_timeout | syscall_bad_arg | notsent_lowat | mtu_probe) echo "$two" ;;
		*) echo "${rest%%_*}" ;;
		esac
		;;
	esac
}
now() { date +%s.%N; }
read -r -a packetdrill_flags <<<"${PACKETDRILL_FLAGS:---ip_version=ipv4 --local_ip=192.168.0.1 --remote_ip=192.0.2.1 -D TFO_COOKIE=3021b9d889017eeb -D CODE=host_unreachable -D CMSG_LEVEL_IP=SOL_IP -D CMSG_TYPE_RECVERR=IP_RECVERR}"

(cd "$suite" && find . -name '*.pkt' | sort) >"$out/all"
"$harness" check "$suite" >"$out/check" 2>&1
sed -n 's|^'"$suite"'/\(.*\.pkt\):[0-9]*:[0-9]*: unsupported: .*|./\1|p' "$out/check" | sort -u >"$out/skipped"
comm -23 "$out/all" "$out/skipped" >"$out/runnable"

start=$(now)
(cd "$suite" && sed 's|^\./||' "$out/runnable" | xargs "$harness" run -j "${JOBS:-$(nproc)}" --family 4 --captures "$out/captures") >"$out/harness" 2>&1
harness_seconds=$(echo "$(now) - $start" | bc)

start=$(now)
: >"$out/packetdrill"
while read -r script; do
	flags=("${packetdrill_flags[@]}")
	if grep -q '^--\(local\|remote\)_ip' "$suite/$script"; then
		flags=()
		for flag in "${packetdrill_flags[@]}"; do
			case $flag in --local_ip=* | --remote_ip=*) ;; *) flags+=("$flag") ;; esac
		done
	fi
	(cd "$suite/$(dirname "$script")" &&
		timeout 300 unshare -n "$packetdrill" "${flags[@]}" "$(basename "$script")" >/dev/null 2>&1)
	echo "$script $?" >>"$out/packetdrill"
done <"$out/runnable"
packetdrill_seconds=$(echo "$(now) - $start" | bc)

declare -A total ran agree
disagreements=0
while read -r script; do
	f=$(family_of "$script")
	total[$f]=$((${total[$f]:-0} + 1))
done <"$out/all"
while read -r script status; do
	f=$(family_of "$script")
	ran[$f]=$((${ran[$f]:-0} + 1))
	# run_case_name: the file name with one directory level, as the console names it.
	name=${script#./}
	name=${name%.pkt}
	case $name in */*/*) name=${name#"${name%/*/*}/"} ;; esac
	# A flat suite's names carry its directory (packetdrill/tcp_x): the last component is enough.
	verdict=$(awk -v name="$name" '$2 == name || substr($2, length($2) - length(name)) == "/" name { print $1; exit }' \
		"$out/harness")
	# FLAKY passed on a retry after a harness ERROR (a busy machine).
	mine=$([ "$verdict" = PASS ] || [ "$verdict" = FLAKY ] && echo 0 || echo 1)
	want=$([ "$status" -eq 0 ] && echo 0 || echo 1)
	if [ "$mine" = "$want" ] && [ "$verdict" != SKIP ] && [ -n "$verdict" ]; then
		agree[$f]=$((${agree[$f]:-0} + 1))
	else
		echo "disagree: $script tcpharness ${verdict:-?} packetdrill exit $status" >>"$out/disagreements"
		disagreements=$((disagreements + 1))
	fi
done <"$out/packetdrill"

all=$(wc -l <"$out/all") runnable=$(wc -l <"$out/runnable")
echo "| family | scripts | run by tcpharness | packetdrill's verdict |"
echo "|---|---:|---:|---:|"
for f in $(printf '%s\n' "${!total[@]}" | sort); do
	echo "| $f | ${total[$f]} | ${ran[$f]:-0} | ${agree[$f]:-0} of ${ran[$f]:-0} |"
done
echo "| all | $all | $runnable | $((runnable - disagreements)) of $runnable |"
echo
echo "SKIPs by construct (scripts whose first unsupported construct it is):"
sed -n 's|^\([^:]*\):[0-9]*:[0-9]*: unsupported: \(.*\)|\1\t\2|p' "$out/check" | awk -F '\t' '!seen[$1]++' |
	cut -f2 | sed -E "s/^[^ ]*\.sh:[0-9]+: //" | sort | uniq -c | sort -rn
echo
printf 'wall time over the %d scripts run: tcpharness %.1f s, packetdrill one by one %.1f s (ratio %.2f)\n' \
	"$runnable" "$harness_seconds" "$packetdrill_seconds" "$(echo "$packetdrill_seconds / $harness_seconds" | bc -l)"
[ -s "$out/disagreements" ] && cat "$out/disagreements"
echo "details: $out"
[ "$disagreements" -eq 0 ]
