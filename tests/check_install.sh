#!/usr/bin/env bash
# Issue 19: `cmake --install` gives a working harness. Installs the build to a temporary prefix (and
# with DESTDIR), then: the layout; the installed binary runs the installed catalogue from an unrelated
# directory (all pass); --version names the version and the git revision; TCPHARNESS_LIBEXEC comes
# first; both man pages render with `man -l` and tcpharness(1) mentions every command, option and exit
# status that --help mentions, tcpharness-cases(5) every line of README.md's case table; bash
# completion offers what --help names; README.md's quick start lists what it installs.
# usage: check_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 source=$2
tmp=$(mktemp -d /tmp/tcpharness-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
DESTDIR=$tmp/stage cmake --install "$build" --prefix /usr >/dev/null
for tree in "$prefix" "$tmp/stage/usr"; do
	for f in bin/tcpharness libexec/tcpharness/tcpharness-agent libexec/tcpharness/gvisor-run-agent.sh \
		libexec/tcpharness/vm-image.sh libexec/tcpharness/vm/init share/tcpharness/cases/handshake/accept.tc \
		share/doc/tcpharness/README.md share/doc/tcpharness/docs/lab.md share/man/man1/tcpharness.1 \
		share/man/man5/tcpharness-cases.5 share/bash-completion/completions/tcpharness; do
		[ -e "$tree/$f" ] || fail "$tree/$f missing"
	done
done
[ -z "$(find "$tmp/stage" -path "$tmp/stage/usr" -prune -o -print | grep -v "^$tmp/stage$")" ] ||
	fail "DESTDIR install wrote outside DESTDIR/usr"
harness=$prefix/bin/tcpharness

# The catalogue, from a directory that is neither the source nor the build tree.
mkdir "$tmp/elsewhere"
cases=$(find "$prefix/share/tcpharness/cases" -name '*.tc' | wc -l)
[ "$cases" -eq "$(find "$source/cases" -name '*.tc' | wc -l)" ] || fail "installed $cases case files, the source has others"
if [ "$(id -u)" -eq 0 ]; then
	if (cd "$tmp/elsewhere" && "$harness" run "$prefix/share/tcpharness/cases") >"$tmp/run.out" 2>&1; then
		grep -E '^[0-9]+ passed, 0 failed' "$tmp/run.out" || fail "no summary line"
	else
		tail -20 "$tmp/run.out" >&2
		fail "the installed harness failed the installed catalogue"
	fi
	[ -d "$tmp/elsewhere/captures" ] || fail "no captures/ in the working directory"
else
	echo "not root: the catalogue run is left to the root run of this test"
fi

# --version: the release and the revision the build came from.
version=$("$harness" --version)
echo "$version"
[[ $version =~ ^tcpharness\ [0-9]+\.[0-9]+\.[0-9]+\ \(git\ ([0-9a-f]{12}(-dirty)?|unknown)\)$ ]] ||
	fail "--version says '$version'"
if head=$(git -C "$source" rev-parse HEAD 2>/dev/null); then
	revision=${BASH_REMATCH[1]}
	[ "${head:0:12}" = "${revision%-dirty}" ] || fail "--version names ${revision}, the source is at ${head:0:12}"
fi

# TCPHARNESS_LIBEXEC is searched first and alone: an empty one hides the installed agents.
mkdir "$tmp/empty"
status=0
TCPHARNESS_LIBEXEC=$tmp/empty "$harness" run --target lwip "$prefix/share/tcpharness/cases/stacks" >"$tmp/env.out" 2>&1 ||
	status=$?
grep -q "tcpharness-agent-lwip not found in TCPHARNESS_LIBEXEC=$tmp/empty" "$tmp/env.out" && [ "$status" -ne 0 ] ||
	{ cat "$tmp/env.out" >&2; fail "TCPHARNESS_LIBEXEC did not take precedence (status $status)"; }

# A man page as a reader sees it (no warnings), and one of its sections: the lines from the heading
# to the next line that starts in the first column, on one line with single spaces.
render() {
	MANWIDTH=120 man --warnings -l "$1" 2>"$tmp/man.err" | col -b || fail "man -l $1 failed"
	[ ! -s "$tmp/man.err" ] || { cat "$tmp/man.err" >&2; fail "man -l $1 warns"; }
}
page1=$(render "$prefix/share/man/man1/tcpharness.1")
page5=$(render "$prefix/share/man/man5/tcpharness-cases.5")
section() { awk -v heading="$1" '/^[^ \t]/ { inside = ($0 == heading); next } inside' <<<"$2" | tr -s ' \n\t' '   '; }
whole() { tr -s ' \n\t' '   ' <<<"$1"; }
mentions() { grep -qF -- " $2" <<<" $1"; }
help=$("$harness" --help)

commands=$(sed -n '/^commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p' <<<"$help")
[ "$(wc -w <<<"$commands")" -ge 4 ] || fail "--help names only these commands: $commands"
for c in $commands; do
	mentions "$(section COMMANDS "$page1")" "$c " || fail "tcpharness(1) COMMANDS lacks $c"
	mentions "$(section SYNOPSIS "$page1")" "tcpharness $c" || fail "tcpharness(1) SYNOPSIS lacks tcpharness $c"
done
for o in $(grep -oE -- '(^|[ [(])--?[a-z][a-z-]*' <<<"$help" | tr -d ' [(' | sort -u); do
	mentions "$(whole "$page1")" "$o" || fail "tcpharness(1) does not mention $o"
done
# Every "N meaning" of --help's exit status paragraph or list, e.g. "0 all passed", "128+N after".
exit_help=$(sed -n '/^exit status/,/^$/p' <<<"$help" | sed 's/^exit status://' | tr -s ' \n' '  ')
statuses=$(grep -oE '(^| )[0-9]+(\+N)? [a-z]+' <<<"$exit_help" | sed 's/^ //')
[ -n "$statuses" ] || fail "found no exit status in --help"
while read -r s; do
	mentions "$(section 'EXIT STATUS' "$page1")" "$s" || fail "tcpharness(1) EXIT STATUS lacks '$s'"
done <<<"$statuses"
for target in $(sed -n 's/.*--target \([a-z][a-z]*\).*/\1/p' <<<"$help" | sort -u); do
	mentions "$(whole "$page1")" "--target $target" || fail "tcpharness(1) lacks --target $target"
done
mentions "$(section ENVIRONMENT "$page1")" "TCPHARNESS_LIBEXEC" || fail "tcpharness(1) does not document TCPHARNESS_LIBEXEC"

# tcpharness-cases(5): every line kind of README.md's table, and its example, as the README has them.
rows=$(sed -n '/^## Case files/,/^## /p' "$source/README.md" | sed -n 's/^| `\(.*\)` | .*/\1/p' | sed 's/\\|/|/g; s/`//g')
[ "$(wc -l <<<"$rows")" -ge 15 ] || fail "README.md's case table has only $(wc -l <<<"$rows") rows"
while read -r row; do
	mentions "$(whole "$page5")" "$(tr -s ' ' <<<"$row")" || fail "tcpharness-cases(5) lacks '$row'"
done <<<"$rows"
mentions "$(whole "$page5")" "peer c 192.0.2.10:40000 tsclock 1000" || fail "tcpharness-cases(5) lacks the example case"

# Bash completion from the installed file, as bash would call it.
completion() {
	bash -c 'compopt() { :; }; source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _tcpharness
		printf "%s\n" "${COMPREPLY[@]}"' sh "$prefix/share/bash-completion/completions/tcpharness" "$harness" "$@"
}
[ "$(completion '' | sort | tr '\n' ' ')" = "$(sort <<<"$commands" | tr '\n' ' ')" ] || fail "completion of commands"
completion run --var | grep -qx -- --variant || fail "completion of --var"
completion run --target gv | grep -qx gvisor || fail "completion of --target gv"
(cd "$prefix/share/tcpharness" && completion run cases/handshake/acc) | grep -qx cases/handshake/accept.tc ||
	fail "completion of a case file"

# README.md's quick start names every package that the quick start installs.
quick=$(sed -n '/^## Quick start/,/^### /p' "$source/README.md" | tr -s ' \n' '  ')
for p in $("$source/scripts/install-deps.sh" --list); do
	mentions "$quick" "$p" || fail "README.md's quick start does not list $p"
done

[ "$failures" -eq 0 ] || { echo "$failures check(s) failed" >&2; exit 1; }
echo "install: layout, catalogue, --version, TCPHARNESS_LIBEXEC, man pages, completion: all good"
