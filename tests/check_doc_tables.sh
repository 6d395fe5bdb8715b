#!/usr/bin/env bash
# The documentation checks (issue 24) hold on another machine and still catch a changed behaviour:
# README.md's two-kernel table and docs/stacks.md's three-stack table, compared by
# scripts/doc-block.sh as kernel:vm and kernel:stacks compare them, pass when the run's header names
# another build of the same versions (another kernel build string, another Debian 6.1 revision,
# another runsc date, another lwIP 2.1 release) and when the page still records a full release
# string; they fail when one cell changes or a version's major.minor does.
# usage: check_doc_tables.sh SOURCE_DIR
set -uo pipefail
source_dir=$1
doc_block=$source_dir/scripts/doc-block.sh
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# expect PASS|FAIL WHAT PAGE BLOCK WRITER TABLES: the check's verdict on PAGE's BLOCK against TABLES.
expect() {
	local want=$1 what=$2 status=0
	shift 2
	"$doc_block" check "$@" >"$scratch/out" 2>&1 || status=$?
	case $want in
	PASS) [ "$status" -eq 0 ] || fail "$what: the check failed (exit $status): $(cat "$scratch/out")" ;;
	FAIL)
		[ "$status" -eq 1 ] || fail "$what: the check exited $status, expected 1: $(cat "$scratch/out")"
		grep -qE '^[-+]\| ' "$scratch/out" || fail "$what: no diff line shows the differing row: $(cat "$scratch/out")"
		;;
	esac
}
# set_header FILE ROW: FILE's first target header row ("| case | local: ...") becomes ROW.
set_header() {
	awk -v row="$2" '!done && /^\| case \| local: / { print row; done = 1; next } { print }' "$1" >"$1.new"
	mv "$1.new" "$1"
}

# Each generated table with a target header, fields separated by ";": page, block, writer, the header
# as a machine printed it when the page was written, another build's header, and a header whose
# version really differs.
tables=(
	"README.md;kernels;scripts/readme-matrix.sh;| case | local: Linux 6.18.44-fc-v669 | vm: Linux 6.1.0-56-cloud-amd64 |;| case | local: Linux 6.18.44-fc-v1272 | vm: Linux 6.1.0-57-cloud-amd64 |;| case | local: Linux 6.18.44-fc-v1272 | vm: Linux 6.2.0-1-cloud-amd64 |"
	"docs/stacks.md;stacks;scripts/stack-table.sh;| case | local: Linux 6.18.44-fc-v669 | gvisor: runsc 0.0~20221219.0 | lwip: lwIP 2.1.3 |;| case | local: Linux 6.18.1-fc-v1300 | gvisor: runsc 0.0~20240101.0 | lwip: lwIP 2.1.2 |;| case | local: Linux 6.18.1-fc-v1300 | gvisor: runsc 0.0~20240101.0 | lwip: lwIP 2.2.0 |"
)
for entry in "${tables[@]}"; do
	IFS=';' read -r page block writer written_header other_build other_version <<<"$entry"
	"$doc_block" show "$source_dir/$page" "$block" "$writer" >"$scratch/recorded"
	grep -qE '^\| case \| local: Linux [0-9]+\.[0-9]+ \|' "$scratch/recorded" ||
		fail "$page: the $block table's header names more than Linux's major.minor: $(grep -m1 '^| case' "$scratch/recorded")"

	# The page as committed, a run on another build of the same versions.
	cp "$scratch/recorded" "$scratch/run"
	set_header "$scratch/run" "$other_build"
	expect PASS "$page: a run on another build ($other_build)" "$source_dir/$page" "$block" "$writer" "$scratch/run"

	# A page that still records the full release strings of the machine it was written on.
	cp "$source_dir/$page" "$scratch/page"
	set_header "$scratch/page" "$written_header"
	expect PASS "$page: recorded '$written_header', run on another build" "$scratch/page" "$block" "$writer" "$scratch/run"

	# Writing the block keeps only major.minor, and the written page passes on another build.
	cp "$scratch/recorded" "$scratch/written"
	set_header "$scratch/written" "$written_header"
	"$doc_block" write "$scratch/page" "$block" "$writer" "$scratch/written" >/dev/null
	written=$(grep -m1 '^| case | local: ' "$scratch/page")
	[ "$written" = "$(head -n 1 "$scratch/recorded")" ] ||
		fail "$page: writing '$written_header' left the header '$written', expected '$(head -n 1 "$scratch/recorded")'"
	expect PASS "$page: written from '$written_header', run on another build" "$scratch/page" "$block" "$writer" "$scratch/run"

	# One cell changed, one row missing, another major.minor: the check fails whatever the build.
	awk 'NR == 3 { sub(/\| [^|]* \|$/, "| CHANGED |") } { print }' "$scratch/run" >"$scratch/changed"
	expect FAIL "$page: a changed cell" "$source_dir/$page" "$block" "$writer" "$scratch/changed"
	sed 3d "$scratch/run" >"$scratch/shorter"
	expect FAIL "$page: a missing row" "$source_dir/$page" "$block" "$writer" "$scratch/shorter"
	cp "$scratch/recorded" "$scratch/other_version"
	set_header "$scratch/other_version" "$other_version"
	expect FAIL "$page: another version ($other_version)" "$source_dir/$page" "$block" "$writer" "$scratch/other_version"
done

[ "$failures" -eq 0 ] || { echo "documentation checks: $failures failures"; exit 1; }
echo "documentation checks: other builds of the same versions pass, changed cells and versions fail"
