/* error_text.h - the one way a module reports a failure: a malloc'd message for the caller.
 * Library code never prints; the caller adds its context (file:line:col, case name) and prints. */
#ifndef TCPHARNESS_ERROR_TEXT_H
#define TCPHARNESS_ERROR_TEXT_H

/* Sets *error (if error is not NULL) to a malloc'd printf-formatted message, keeps errno as it was,
 * and returns -1 so a failing function can `return error_set(error, ...)`. */
int error_set(char **error, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
