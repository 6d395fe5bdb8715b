/* explore_cli.h - `tcpharness explore`: its options, every cell run on every target through the
 * scheduler, and the table, difference list, JSON, HTML and emitted cases that come out. */
#ifndef TCPHARNESS_EXPLORE_CLI_H
#define TCPHARNESS_EXPLORE_CLI_H

/* argv[0] is "explore". Returns the exit status: 0 every cell observed or skipped, 1 a recipe failed
 * somewhere, 2 usage or output error, 128+N after signal N. */
int explore_main(int argc, char **argv);

#endif
