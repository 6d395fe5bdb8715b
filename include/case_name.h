/* case_name.h - the display name of every case of a run ("time_wait/lost_final_ack"): what the console
 * and every report call it, and the path of its captures under --captures, so it can never leave that
 * directory whatever the path the case was given by (`../x.tc`, an absolute path, a symlink). */
#ifndef TCPHARNESS_CASE_NAME_H
#define TCPHARNESS_CASE_NAME_H

#include "case.h"

/* Names cases[0..count): the name of the directory the file really is in (symlinks and `..` resolved)
 * and the file's name without `.tc`. Cases that would share a name take more of their real directory
 * path until they differ ("a/time_wait/x", "b/time_wait/x"); the same file given twice gets "~2".
 * A name is '/'-separated components, none empty, "." or "..", no control character (shown as '?').
 * Sets each cases[i].name (freed by case_free). 0, or -1 with *error malloc'd. */
int case_names_assign(struct case_file *cases, int count, char **error);

#endif
