#!/usr/bin/env bash
# Runs the catalogue (default cases/) N times and reports every case@variant whose verdict was not PASS
# (or SKIP) in every iteration: a table of verdict counts (PASS, FAIL, SKIP, ERROR, FLAKY) with the
# first failure's text, then
#   soak: N iterations, M case@variants, K unsteady; runs: P passed, F failed, S skipped, X flaky, E errors
# A FLAKY (passed on a retry) and an ERROR (the harness's fault) count as unsteady, never as passes.
# Exit status: 0 no FAIL (FLAKYs and ERRORs are counted, and say how late the harness was), 1 when a
# case@variant FAILed in any iteration, 2 usage or a run that broke down (the harness exited with 2, or
# was killed).
#   --load          load the machine meanwhile: stress-ng with 2 CPU, 1 I/O and 1 VM worker (stopped when
#                   the script ends)
#   --harness PATH  the binary to soak (default build/tcpharness, built by scripts/build.sh if missing)
#   --jobs N        run N case@variants at once (`run -j N`; default: the harness's own, one per CPU)
#   --family F      the address families every case runs in (`run --family F`; default all)
#   --keep DIR      keep every iteration's output, and the pcaps of iterations that had a FAIL, in DIR
#   --minutes M     start no iteration after M minutes: N is then at most, and the summary counts the
#                   iterations that ran
# usage: scripts/soak.sh [--load] [--harness PATH] [--jobs N] [--family F] [--keep DIR] [--minutes M] N [PATH...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
usage() { sed -n 's/^# usage: //p' "$0" >&2; exit 2; }

load=false harness="" keep="" jobs=() family=() minutes=""
while [ $# -gt 0 ]; do
	case $1 in
	--load) load=true; shift ;;
	--harness) [ $# -ge 2 ] || usage; harness=$2; shift 2 ;;
	--keep) [ $# -ge 2 ] || usage; keep=$2; shift 2 ;;
	--jobs) [ $# -ge 2 ] || usage; jobs=(-j "$2"); shift 2 ;;
	--family) [ $# -ge 2 ] || usage; family=(--family "$2"); shift 2 ;;
	--minutes) [ $# -ge 2 ] && [[ $2 =~ ^[1-9][0-9]*$ ]] || usage; minutes=$2; shift 2 ;;
	-*) usage ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] && [[ $1 =~ ^[1-9][0-9]*$ ]] || usage
iterations=$1
shift
paths=("${@:-$root/cases/}")
if [ -z "$harness" ]; then
	harness=$root/build/tcpharness
	[ -x "$harness" ] || "$root/scripts/build.sh" >/dev/null
fi
[ -x "$harness" ] || { echo "soak: $harness is not an executable" >&2; exit 2; }

work=$(mktemp -d)
stress_pid=""
cleanup() {
	# Only the stress-ng this script started, by its PID; it stops its own workers on SIGTERM.
	if [ -n "$stress_pid" ]; then
		kill "$stress_pid" 2>/dev/null || true
		wait "$stress_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if [ -n "$keep" ]; then
	mkdir -p "$keep"
	out_dir=$keep
else
	out_dir=$work
fi

label=""
if $load; then
	label=" loaded"
	command -v stress-ng >/dev/null || { echo "soak: --load needs stress-ng (scripts/install-deps.sh --test)" >&2; exit 2; }
	# Killed with this script even when the script cannot trap it (SIGKILL, a CTest timeout).
	setpriv --pdeathsig KILL stress-ng --cpu 2 --io 1 --vm 1 --vm-bytes 256M --quiet &
	stress_pid=$!
	sleep 1
	kill -0 "$stress_pid" 2>/dev/null || { stress_pid=""; echo "soak: stress-ng did not start" >&2; exit 2; }
fi

soak_start=$(date +%s)
for i in $(seq "$iterations"); do
	if [ -n "$minutes" ] && [ $(($(date +%s) - soak_start)) -ge $((minutes * 60)) ]; then
		echo "soak: $minutes minutes are up after $((i - 1)) of $iterations iterations" >&2
		iterations=$((i - 1))
		break
	fi
	out=$out_dir/iteration-$i.out
	captures=$work/captures-$i
	start=$(date +%s%N)
	status=0
	"$harness" run "${jobs[@]}" "${family[@]}" --captures "$captures" "${paths[@]}" >"$out" 2>&1 || status=$?
	seconds=$(( ($(date +%s%N) - start) / 1000000 ))
	# 0 passed, 1 a FAIL, 3 an ERROR, 4 every case skipped: verdicts to count. Anything else broke down.
	if [ "$status" -ne 0 ] && [ "$status" -ne 1 ] && [ "$status" -ne 3 ] && [ "$status" -ne 4 ]; then
		cat "$out" >&2
		echo "soak: iteration $i: the harness exited $status; stopping" >&2
		exit 2
	fi
	if [ "$status" -ne 0 ] && [ -n "$keep" ]; then
		mv "$captures" "$keep/captures-$i"
	fi
	rm -rf "$captures"
	printf 'soak: iteration %d/%d%s: %s (%d.%03d s)\n' "$i" "$iterations" "$label" \
		"$(tail -n 1 "$out")" $((seconds / 1000)) $((seconds % 1000)) >&2
done

# One record per verdict line: iteration, case@variant, verdict, and for anything but a PASS its first
# diagnostic line (the indented lines under it: a FLAKY's first try), so an unsteady case shows how it
# went wrong.
for i in $(seq "$iterations"); do
	awk -v it="$i" '
		function flush() { if (name != "") print it "\t" name "\t" verdict "\t" why; name = "" }
		/^(PASS|FAIL|SKIP|ERROR|FLAKY) / { flush(); verdict = $1; name = $2; why = ""; next }
		/^    / && name != "" && why == "" && verdict != "PASS" { why = substr($0, 5); next }
		/^[0-9]+ passed, / { flush() }
		END { flush() }' "$out_dir/iteration-$i.out"
done >"$work/verdicts"

awk -F'\t' -v n="$iterations" '
	BEGIN { split("PASS FAIL SKIP ERROR FLAKY", kinds, " ") }
	{
		if (!($2 in seen)) { seen[$2] = 1; order[++names] = $2 }
		count[$2, $3]++
		total[$3]++
		if ($3 != "PASS" && $3 != "SKIP" && !(($2) in first_bad)) { first_bad[$2] = $1; why[$2] = $3 ": " $4 }
		if ($3 == "SKIP" && !(($2) in skip_why)) skip_why[$2] = $4
	}
	END {
		unsteady = 0; broken = 0
		for (k = 1; k <= names; k++) {
			name = order[k]
			missing = n
			for (v = 1; v <= 5; v++) missing -= count[name, kinds[v]]
			fail = count[name, "FAIL"] + 0
			steady = (count[name, "PASS"] == n || count[name, "SKIP"] == n)
			if (!steady && fail < n) {
				if (unsteady++ == 0)
					printf "%-48s %5s %5s %5s %5s %5s %7s  %s\n", "case@variant", "PASS", "FAIL", "SKIP",
						"ERROR", "FLAKY", "missing", "first non-pass"
				detail = (name in first_bad) ? sprintf("iteration %d: %s", first_bad[name], why[name]) \
							     : (count[name, "SKIP"] ? "SKIP: " skip_why[name] : "")
				printf "%-48s %5d %5d %5d %5d %5d %7d  %s\n", name, count[name, "PASS"], fail,
					count[name, "SKIP"], count[name, "ERROR"], count[name, "FLAKY"], missing, detail
			} else if (fail == n) {
				broken++
				printf "always FAIL: %s: %s\n", name, why[name]
			}
		}
		printf "soak: %d iterations, %d case@variants, %d unsteady%s; runs: %d passed, %d failed, %d skipped, " \
			"%d flaky, %d errors\n", n, names, unsteady,
			broken ? sprintf(", %d failing in every iteration", broken) : "", total["PASS"], total["FAIL"],
			total["SKIP"], total["FLAKY"], total["ERROR"]
		exit total["FAIL"] > 0
	}' "$work/verdicts"
