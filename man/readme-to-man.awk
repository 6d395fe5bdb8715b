# Turns README.md's "Case files" section into tcpharness-cases(5): paragraphs, indented code blocks as
# literal displays, the table of lines as tagged paragraphs, `code` in bold and *words* in italics.
# The page is made from the README at every build, so the two never disagree.
# Needs roff.awk: awk -f man/roff.awk -f man/readme-to-man.awk -v version=V README.md
function inline(text,    out, start, length_) {
	out = ""
	while (match(text, /`[^`]+`/)) {
		start = RSTART
		length_ = RLENGTH
		out = out emphasis(substr(text, 1, start - 1)) "\\fB" roff(substr(text, start + 1, length_ - 2)) "\\fR"
		text = substr(text, start + length_)
	}
	return out emphasis(text)
}
function emphasis(text,    out, start, length_) {
	out = ""
	while (match(text, /\*[^* ][^*]*\*/)) {
		start = RSTART
		length_ = RLENGTH
		out = out roff(substr(text, 1, start - 1)) "\\fI" roff(substr(text, start + 1, length_ - 2)) "\\fR"
		text = substr(text, start + length_)
	}
	out = out roff(text)
	if (substr(out, 1, 2) == "\\&") return out
	return substr(out, 1, 1) == "." ? "\\&" out : out
}
function end_code() { if (code) { print ".fi"; print ".RE"; code = 0 } }
# A table row: "| `term` | meaning |", where \| is a bar inside a cell.
function row(line,    cells, n) {
	gsub(/\\\|/, "\001", line)
	n = split(line, cells, /[ ]*\|[ ]*/)
	if (cells[2] == "line" || cells[2] ~ /^-+$/) return
	gsub(/\001/, "|", cells[2])
	gsub(/\001/, "|", cells[3])
	print ".TP"
	print inline(cells[2])
	print inline(cells[3])
}
BEGIN {
	print ".TH TCPHARNESS\\-CASES 5 \"\" \"tcpharness " version "\" \"File Formats\""
	print ".nh"
	print ".SH NAME"
	print "tcpharness\\-cases \\- the case files (.tc) that tcpharness(1) runs"
	print ".SH DESCRIPTION"
}
/^## / { inside = ($0 == "## Case files"); next }
!inside { next }
/^### / { end_code(); print ".SS " roff(substr($0, 5)); next }
/^    / {
	if (!code) {
		if (blank) print ".PP"
		print ".RS 4"
		print ".nf"
		code = 1
	} else if (blank) {
		print ""
	}
	blank = 0
	print roff(substr($0, 5))
	next
}
/^$/ { blank = 1; next }
{
	end_code()
	if (blank) print ".PP"
	blank = 0
	if (/^\|/) row($0)
	else if (/^### /) print ".SS " roff(substr($0, 5))
	else print inline($0)
}
END {
	end_code()
	print ".SH SEE ALSO"
	print "\\fBtcpharness\\fR(1); the catalogue under /usr/share/tcpharness/cases"
}
