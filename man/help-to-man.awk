# Turns `tcpharness --help` into the body of tcpharness(1): the usage lines become SYNOPSIS, the text
# before the first heading DESCRIPTION, each `heading:` a section (COMMANDS, OPTIONS, EXIT STATUS...),
# each two-space-indented `TERM  text` a tagged paragraph, and deeper `TERM  text` lines nested ones.
# Generated, not written by hand, so every command, option and exit status --help names is in the page.
# Needs roff.awk: awk -f man/roff.awk -f man/help-to-man.awk -v version=V
function indent_of(line) { match(line, /^ */); return RLENGTH }
# After nested entries, .IP takes the text back to the outer entry's indent.
function close_nested() { if (nested) { print ".RE"; print ".IP"; nested = 0 } }
# Prints a tagged paragraph for "TERM  text" (text may be empty) and returns where text starts.
function entry(line, at,    rest) {
	rest = substr(line, at + 1)
	if (match(rest, /  +[^ ]/)) {
		print ".TP"
		print "\\fB" roff(substr(rest, 1, RSTART - 1)) "\\fR"
		print roff(substr(rest, RSTART + RLENGTH - 1))
		return at + RSTART + RLENGTH - 2
	}
	print ".TP"
	print "\\fB" roff(rest) "\\fR"
	return -1
}
BEGIN {
	print ".TH TCPHARNESS 1 \"\" \"tcpharness " version "\" \"User Commands\""
	print ".nh"
	print ".SH NAME"
	print "tcpharness \\- inject hand\\-built TCP segments at a stack and judge its replies"
	part = "start"
}
part == "start" && /^usage: / {
	print ".SH SYNOPSIS"
	print ".nf"
	part = "usage"
}
part == "usage" {
	if ($0 == "") { print ".fi"; print ".SH DESCRIPTION"; part = "description"; next }
	print roff(substr($0, 8))
	next
}
/^[^ ].*:$/ || /^[a-z][a-z ]*: / {
	close_nested()
	heading = $0
	rest = ""
	if (match(heading, / \(/)) {
		rest = substr(heading, RSTART + 2)
		sub(/\):$/, "", rest)
		heading = substr(heading, 1, RSTART - 1)
	} else {
		rest = substr(heading, index(heading, ":") + 1)
		heading = substr(heading, 1, index(heading, ":") - 1)
		sub(/^ +/, "", rest)
	}
	print ".SH " toupper(heading)
	if (rest != "") print roff(rest)
	part = "section"
	text_column = -1
	next
}
$0 == "" { close_nested(); if (part == "description") print ".PP"; next }
{
	at = indent_of($0)
	if (at == 0 || part == "description") { print roff(substr($0, at + 1)); next }
	if (at == 2) { close_nested(); text_column = entry($0, at); next }
	if (text_column < 0) text_column = at
	if (at == text_column) { close_nested(); print roff(substr($0, at + 1)); next }
	if (at > text_column && !nested_text(at) && substr($0, at + 1) ~ /  +[^ ]/) {
		if (!nested) { print ".RS"; nested = 1 }
		nested_column = entry($0, at)
		next
	}
	print roff(substr($0, at + 1))
}
# A line indented as deep as the nested entry's text continues that text.
function nested_text(at) { return nested && at >= nested_column }
