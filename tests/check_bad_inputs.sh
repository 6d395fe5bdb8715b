#!/usr/bin/env bash
# Every malformed case file is refused before anything runs: exit status 2, the first line of the
# diagnostic exactly as listed in EXPECTED (`file:line:col: message`), and no capture directory made.
set -u
harness=$1 dir=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0 checked=0
while IFS= read -r expected; do
	case $expected in "" | "#"*) continue ;; esac
	file=${expected%%:*}
	path="$dir/$(basename "$file")"
	for command in check run; do
		"$harness" "$command" --captures "$scratch/captures" "$path" >"$scratch/out" 2>"$scratch/err"
		status=$?
		first=$(head -n 1 "$scratch/err" | sed "s|^$dir/|tests/bad/|")
		if [ "$status" -ne 2 ] || [ "$first" != "$expected" ]; then
			echo "FAIL $command $path: status $status, first line: $first"
			echo "     expected: $expected"
			failures=$((failures + 1))
		fi
		if [ -e "$scratch/captures" ]; then
			echo "FAIL $command $path: created a capture directory"
			failures=$((failures + 1))
		fi
	done
	checked=$((checked + 1))
done <"$dir/EXPECTED"
echo "$checked malformed files checked, $failures failures"
[ "$checked" -gt 0 ] && [ "$failures" -eq 0 ]
