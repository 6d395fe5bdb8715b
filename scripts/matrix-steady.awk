# A matrix as it reads when every run passed on its first try: what the stack does, not how punctual
# the harness was. A pass on a retry (FLAKY: `~` after its cell, a `~` note under the table) is a
# pass. The blank line before the notes goes with them only when `~` was the only note.
# Used by scripts/readme-matrix.sh and scripts/stack-table.sh: awk -f scripts/matrix-steady.awk FILE
{ gsub(/~ \|/, " |") }
/^`~`: / { tilde_after_blank = blank; next }
blank { print ""; blank = 0; tilde_after_blank = 0 }
/^$/ { blank = 1; tilde_after_blank = 0; next }
{ print }
END { if (blank && !tilde_after_blank) print "" }
