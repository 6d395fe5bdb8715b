/* report_html.c - see report_html.h. */
#include "report_html.h"

#include "error_text.h"

int report_html_write(const char *dir, const struct run_set *set, char **error)
{
	(void)set;
	return error_set(error, "%s: the HTML report is not built yet", dir);
}
