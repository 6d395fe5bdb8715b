#!/usr/bin/env bash
# The generated blocks of README.md and docs/*.md, shared by scripts/readme-matrix.sh and
# scripts/stack-table.sh: a block sits between `<!-- BLOCK:begin (WRITER writes this block) -->` and
# `<!-- BLOCK:end -->`. A table's header names each target with its stack's major.minor only
# (`local: Linux 6.18`, `vm: Linux 6.1`, `lwip: lwIP 2.1`): another build of the same version (a
# kernel's build string, Debian's ABI revision, runsc's date) must not make the documentation false,
# another behaviour must. Both sides are reduced that way before they are compared, so a page that
# still records a full release string is checked the same way.
#   doc-block.sh show  FILE BLOCK WRITER          prints the block (markers excluded)
#   doc-block.sh check FILE BLOCK WRITER TABLES   exit 1 and a diff when FILE's block is not TABLES
#   doc-block.sh write FILE BLOCK WRITER TABLES   replaces FILE's block with TABLES
set -euo pipefail
usage() { echo "usage: doc-block.sh show FILE BLOCK WRITER | check|write FILE BLOCK WRITER TABLES" >&2; exit 2; }
[ $# -ge 4 ] || usage
mode=$1 file=$2 block=$3 writer=$4
case $mode in
show) [ $# -eq 4 ] || usage ;;
check | write) [ $# -eq 5 ] || usage; tables=$5 ;;
*) usage ;;
esac
begin="<!-- $block:begin ($writer writes this block) -->"
end="<!-- $block:end -->"
if ! grep -qxF "$begin" "$file" || ! grep -qxF "$end" "$file"; then
	echo "doc-block: $file lacks the markers '$begin' and '$end'" >&2
	exit 1
fi

# In a table's header row, "NAME: STACK 6.18.44-fc-v669" becomes "NAME: STACK 6.18".
major_minor() { sed -E '/^\| case \|/ s/(: [^ |]+ )([0-9]+\.[0-9]+)[^ |]*/\1\2/g' "$@"; }
show() { awk -v b="$begin" -v e="$end" '$0==e{inside=0} inside{print} $0==b{inside=1}' "$file"; }
# What the run printed in full goes to the log: the targets of the header rows the page shortens.
releases() {
	local names
	names=$(grep -E '^\| case \|.*: [^ |]+ [0-9]+\.[0-9]+' "$tables" | sed -E 's/^\| case \| //; s/ \|$//' | paste -sd ';') || true
	echo "${names:+ (this run: $names)}"
}

case $mode in
show)
	show
	;;
check)
	if ! diff -u --label "$file ($block)" --label "what the stacks do" <(show | major_minor) <(major_minor "$tables"); then
		echo "doc-block: $file's $block block differs from what the stacks do" >&2
		exit 1
	fi
	echo "$file's $block block matches what the stacks do$(releases)"
	;;
write)
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	major_minor "$tables" >"$work/block"
	awk -v b="$begin" -v e="$end" -v body="$work/block" '
		$0==b {print; while ((getline line < body) > 0) print line; skip=1; next}
		$0==e {skip=0}
		!skip {print}' "$file" >"$work/file"
	cat "$work/file" >"$file"
	echo "$file's $block block rewritten$(releases)"
	;;
esac
