#!/usr/bin/env bash
# tcpharness against packetdrill on a suite of packetdrill scripts (google/packetdrill's
# gtests/net/tcp, the kernel's tools/testing/selftests/net/packetdrill): per script family (the first
# directory, or the kernel's tcp_<family>_ prefix) and per address family (ipv4, ipv6, mapped), the
# scripts tcpharness runs (not SKIP), how many of them get packetdrill's own verdict, the SKIPs by
# construct, and the wall time of tcpharness running them (-j, default: CPUs) against packetdrill
# running them one after another, each in its own network namespace (`unshare -n`, as the kernel's
# ksft_runner.sh does; never the host's). packetdrill gets the flags its own runner gives each address
# family (run_all.py and the kernel's ksft_runner.sh: the addresses its TFO_COOKIE was made for, and
# the defines scripts use); a script that names its own addresses keeps them (packetdrill's command
# line would override its --local_ip/--remote_ip lines) and runs in their family only, and one that
# pins --ip_version runs in that family only, under both. The kernel's runner runs ipv4 and ipv6:
# FAMILIES="4 6" for its suite.
# usage: packetdrill-compare.sh HARNESS PACKETDRILL SUITE_DIR [OUT_DIR]
# FAMILIES (default "4 6 mapped") chooses the address families.
# PACKETDRILL is a packetdrill binary you built yourself; nothing here builds or fetches it. A script
# tcpharness gives ERROR (it could not place the stack's timing: a busy machine) is counted apart.
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
			user_timeout | syscall_bad_arg | notsent_lowat | mtu_probe | tcp_info) echo "$two" ;;
		*) echo "${rest%%[_.-]*}" ;;
		esac
		;;
	esac
}
# run_all.py's flags for each address family.
flags_of() {
	case $1 in
	4) echo "--ip_version=ipv4 --local_ip=192.168.0.1 --gateway_ip=192.168.0.1 --netmask_ip=255.255.0.0 --remote_ip=192.0.2.1 -D TFO_COOKIE=3021b9d889017eeb -D TFO_COOKIE_ZERO=b7c12350a90dc8f5 -D CODE=host_unreachable -D CMSG_LEVEL_IP=SOL_IP -D CMSG_TYPE_RECVERR=IP_RECVERR" ;;
	6) echo "--ip_version=ipv6 --mtu=1520 --local_ip=fd3d:0a0b:17d6::1 --gateway_ip=fd3d:0a0b:17d6:8888::1 --remote_ip=fd3d:fa7b:d17d::1 -D TFO_COOKIE=c1d1e9742a47a9bc -D TFO_COOKIE_ZERO=82af1a8f9a205c34 -D CMSG_LEVEL_IP=SOL_IPV6 -D CMSG_TYPE_RECVERR=IPV6_RECVERR" ;;
	mapped) echo "--ip_version=ipv4-mapped-ipv6 --local_ip=192.168.0.1 --gateway_ip=192.168.0.1 --netmask_ip=255.255.0.0 --remote_ip=192.0.2.1 -D TFO_COOKIE=3021b9d889017eeb -D TFO_COOKIE_ZERO=b7c12350a90dc8f5 -D CODE=host_unreachable -D CMSG_LEVEL_IP=SOL_IPV6 -D CMSG_TYPE_RECVERR=IPV6_RECVERR" ;;
	esac
}
version_of() { case $1 in 4) echo ipv4 ;; 6) echo ipv6 ;; mapped) echo ipv4-mapped-ipv6 ;; esac; }
now() { date +%s.%N; }
read -r -a families <<<"${FAMILIES:-4 6 mapped}"

(cd "$suite" && find . -name '*.pkt' | sort) >"$out/all"
"$harness" check "$suite" >"$out/check" 2>&1
sed -n 's|^'"$suite"'/\(.*\.pkt\):[0-9]*:[0-9]*: unsupported: .*|./\1|p' "$out/check" | sort -u >"$out/skipped"
comm -23 "$out/all" "$out/skipped" >"$out/runnable"

declare -A total ran judged agree
harness_seconds=0 packetdrill_seconds=0 disagreements=0 runs=0
while read -r script; do
	f=$(family_of "$script")
	total[$f]=$((${total[$f]:-0} + 1))
done <"$out/all"
: >"$out/disagreements"
: >"$out/errors"
: >"$out/run_skips"
for fam in "${families[@]}"; do
	version=$(version_of "$fam")
	# A script pinning another --ip_version runs in its own family only.
	: >"$out/runnable.$fam"
	while read -r script; do
		pinned=$(sed -n 's/^--ip_version=\([a-z0-9-]*\).*/\1/p' "$suite/$script" | head -n 1)
		# A script naming its own IPv4 addresses is an IPv4 one (packetdrill cannot set them up in ipv6).
		[ -z "$pinned" ] && grep -q '^--\(local\|remote\)_ip=[0-9.]*$' "$suite/$script" && [ "$fam" = 6 ] && continue
		[ -z "$pinned" ] || [ "$pinned" = "$version" ] && echo "$script" >>"$out/runnable.$fam"
	done <"$out/runnable"

	start=$(now)
	(cd "$suite" && sed 's|^\./||' "$out/runnable.$fam" |
		xargs "$harness" run -j "${JOBS:-$(nproc)}" --family "$fam" --captures "$out/captures.$fam") >"$out/harness.$fam" 2>&1
	harness_seconds=$(echo "$harness_seconds + $(now) - $start" | bc)

	read -r -a packetdrill_flags <<<"$(flags_of "$fam")"
	start=$(now)
	: >"$out/packetdrill.$fam"
	while read -r script; do
		flags=("${packetdrill_flags[@]}")
		if grep -q '^--\(local\|remote\)_ip' "$suite/$script"; then
			flags=()
			for flag in "${packetdrill_flags[@]}"; do
				case $flag in --local_ip=* | --remote_ip=* | --gateway_ip=* | --netmask_ip=*) ;; *) flags+=("$flag") ;; esac
			done
		fi
		(cd "$suite/$(dirname "$script")" &&
			timeout 300 unshare -n "$packetdrill" "${flags[@]}" "$(basename "$script")" >/dev/null 2>&1)
		echo "$script $?" >>"$out/packetdrill.$fam"
	done <"$out/runnable.$fam"
	packetdrill_seconds=$(echo "$packetdrill_seconds + $(now) - $start" | bc)

	while read -r script status; do
		f=$(family_of "$script")
		ran[$f.$fam]=$((${ran[$f.$fam]:-0} + 1))
		runs=$((runs + 1))
		# run_case_name: the file name with one directory level, as the console names it.
		name=${script#./}
		name=${name%.pkt}
		case $name in */*/*) name=${name#"${name%/*/*}/"} ;; esac
		# A flat suite's names carry its directory (packetdrill/tcp_x): the last component is enough.
		verdict=$(awk -v name="$name" '$2 == name || substr($2, length($2) - length(name)) == "/" name { print $1; exit }' \
			"$out/harness.$fam")
		# FLAKY passed on a retry after a harness ERROR (a busy machine). An ERROR judged nothing (the
		# harness could not place the stack's timing): counted apart, neither agreeing nor not.
		if [ "$verdict" = ERROR ]; then
			echo "($version) $script" >>"$out/errors"
			continue
		fi
		# A SKIP at run time: the stack lacks what the script needs (a sysctl value it refuses).
		if [ "$verdict" = SKIP ]; then
			reason=$(awk -v name="$name" '$1 == "SKIP" && ($2 == name || substr($2, length($2) - length(name)) == "/" name) {
				getline; sub(/^ +/, ""); print; exit }' "$out/harness.$fam")
			echo "($version) $script: $reason" >>"$out/run_skips"
			continue
		fi
		judged[$f.$fam]=$((${judged[$f.$fam]:-0} + 1))
		mine=$([ "$verdict" = PASS ] || [ "$verdict" = FLAKY ] && echo 0 || echo 1)
		want=$([ "$status" -eq 0 ] && echo 0 || echo 1)
		if [ "$mine" = "$want" ] && [ "$verdict" != SKIP ] && [ -n "$verdict" ]; then
			agree[$f.$fam]=$((${agree[$f.$fam]:-0} + 1))
		else
			echo "disagree ($version): $script tcpharness ${verdict:-?} packetdrill exit $status" >>"$out/disagreements"
			disagreements=$((disagreements + 1))
		fi
	done <"$out/packetdrill.$fam"
done

all=$(wc -l <"$out/all") runnable=$(wc -l <"$out/runnable")
header="| family | scripts | run by tcpharness |" rule="|---|---:|---:|"
for fam in "${families[@]}"; do
	header="$header $(version_of "$fam"): packetdrill's verdict |"
	rule="$rule---:|"
done
echo "$header"
echo "$rule"
for f in $(printf '%s\n' "${!total[@]}" | sort); do
	most=0 row=""
	for fam in "${families[@]}"; do
		[ "${ran[$f.$fam]:-0}" -gt "$most" ] && most=${ran[$f.$fam]}
		row="$row ${agree[$f.$fam]:-0} of ${judged[$f.$fam]:-0} |"
	done
	echo "| $f | ${total[$f]} | $most |$row"
done
row=""
for fam in "${families[@]}"; do
	n=$(wc -l <"$out/runnable.$fam") bad=$(grep -c "^disagree ($(version_of "$fam")):" "$out/disagreements")
	errors=$(grep -c "^($(version_of "$fam")) " "$out/errors" "$out/run_skips" | awk -F: '{ n += $2 } END { print n }')
	row="$row $((n - errors - bad)) of $((n - errors)) |"
done
echo "| all | $all | $runnable |$row"
echo
echo "SKIPs by construct (scripts whose first unsupported construct it is):"
sed -n 's|^\([^:]*\):[0-9]*:[0-9]*: unsupported: \(.*\)|\1\t\2|p' "$out/check" | awk -F '\t' '!seen[$1]++' |
	cut -f2 | sed -E "s/^[^ ]*\.sh:[0-9]+: //" | sort | uniq -c | sort -rn
echo
printf 'wall time over the %d runs (%d scripts in %d families): tcpharness %.1f s, packetdrill one by one %.1f s (ratio %.2f)\n' \
	"$runs" "$runnable" "${#families[@]}" "$harness_seconds" "$packetdrill_seconds" \
	"$(echo "$packetdrill_seconds / $harness_seconds" | bc -l)"
cat "$out/disagreements"
[ -s "$out/run_skips" ] && echo "SKIPs at run time (not counted): $(wc -l <"$out/run_skips")" && sed 's/^/  /' "$out/run_skips"
[ -s "$out/errors" ] && echo "harness ERRORs (the harness could not judge; not counted): $(wc -l <"$out/errors")" &&
	sed 's/^/  /' "$out/errors"
echo "details: $out"
[ "$disagreements" -eq 0 ]
