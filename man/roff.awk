# Shared by the man page generators: text made safe for roff, so that what the page shows is what a
# user types (an ASCII minus, straight quotes, a backslash).
function roff(text) {
	gsub(/\\/, "\\e", text)
	gsub(/-/, "\\-", text)
	gsub(/'/, "\\(aq", text)
	gsub(/`/, "\\(ga", text)
	if (substr(text, 1, 1) == ".") text = "\\&" text
	return text
}
