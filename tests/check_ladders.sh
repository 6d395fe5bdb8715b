#!/usr/bin/env bash
# Ladders that fit: every case of the catalogue with two peers or more runs once (every family) into one
# HTML report, which headless Chromium lays out in a 1280 px window, shut in an empty network namespace
# so the page could fetch nothing; tests/check_ladder_fit.py measures where it put every column, label
# and note: all inside the window, each label between the columns its arrow joins, the notes right of
# the stack. One page for all the cases keeps it to one browser start.
# usage: check_ladders.sh HARNESS SOURCE_DIR
set -u
harness=$1 source_dir=$2
if ! unshare --net true 2>/dev/null; then
	echo "SKIP: cannot create a network namespace (needs root)"
	exit 77
fi
for tool in chromium python3; do
	command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing; scripts/install-deps.sh --test installs it"; exit 1; }
done
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

cases=()
while IFS= read -r file; do
	[ "$(grep -cE '^[[:space:]]*peer[[:space:]]' "$file")" -ge 2 ] && cases+=("$file")
done < <(find "$source_dir/cases" -name '*.tc' | sort)
[ "${#cases[@]}" -ge 2 ] || { echo "FAIL: only ${#cases[@]} cases with two peers or more found"; exit 1; }
echo "${#cases[@]} cases with two peers or more"
# The verdicts are other tests' business; a SKIP draws no ladder, the rest each draw one.
"$harness" run --captures "$scratch/captures" --report html="$scratch/report" "${cases[@]}" >"$scratch/console" 2>&1
[ -s "$scratch/report/index.html" ] || { echo "FAIL: no report:"; tail -5 "$scratch/console"; exit 1; }
tail -n 1 "$scratch/console"
unshare --net python3 "$source_dir/tests/check_ladder_fit.py" "$scratch/report"
