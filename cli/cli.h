/* cli/: apython's command line. It takes python3's options (but -s,
 * which is --serve), sets up CPython from them (PyPreConfig, PyConfig),
 * runs the target as python3 would, with the console, and exits with
 * python3's statuses. apython.c's main() is these calls in order. */
#ifndef APYTHON_CLI_H
#define APYTHON_CLI_H

#include "compat.h"

struct cli;

/* Parse argv; exits for --help, --version, --connect and usage errors. */
struct cli	*cli_parse(int argc, char **argv);
/* Check the virtualenv, then start CPython with module `apython`
 * (made by module_init) built in; exits when it cannot. */
void		 cli_start(struct cli *, PyObject *(*module_init)(void));
/* Run the target (or the console alone), then -i's console; the status. */
int		 cli_run(struct cli *);
/* Finalize CPython and free cli; the process's exit status (a program
 * ended by an unhandled KeyboardInterrupt dies by SIGINT here). */
int		 cli_finish(struct cli *, int status);

#endif
