/* The run as a whole: CPython started, apython's loop policy installed,
 * the console (terminal or served) set up, the target run, then -i's
 * console on __main__, and the end with python3's exit status. */
#include "cli/cli-internal.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console/console.h"
#include "loop/loop.h"

/* Whether a program runs (else the console alone). */
static int
has_target(const struct cli *o)
{
	return o->command != NULL || o->module != NULL || o->file != NULL;
}

/* Whether the program's source is stdin (`-`): no terminal console. */
static int
from_stdin(const struct cli *o)
{
	return o->file != NULL && strcmp(o->file, "-") == 0;
}

/* Check what can be checked before the program runs, then start
 * CPython; usage errors exit with EXIT_USAGE. */
void
cli_start(struct cli *o, PyObject *(*module_init)(void))
{
	if (o->serve != NULL && serve_parse_address(o->serve, &o->served) != 0)
		cli_usage_error("'%s' is not a valid server [HOST:]PORT",
		    o->serve);
	cli_check_venv(o);
	cli_python_start(o, module_init);
	if (console_signals_setup() != 0)
		PyErr_Print();
	if (o->locals != NULL)
		o->locals_dict = cli_parse_locals(o->locals);
}

/* Whether a console follows the program now, as python3 decides at the
 * end: -i or PYTHONINSPECT (which the program may have set), and stdin
 * a terminal or -i. */
static int
inspect_wanted(const struct cli *o)
{
	const char	*env = getenv("PYTHONINSPECT");

	if (!has_target(o) || from_stdin(o))
		return 0;
	if (!cli_flag("inspect") && (cli_flag("ignore_environment") || env == NULL ||
	    *env == '\0'))
		return 0;
	return isatty(STDIN_FILENO) || cli_flag("interactive");
}

/* The program ended with an exception: its status. When a console
 * follows (-i), python3 prints even a SystemExit and goes on; without
 * -i (PYTHONINSPECT set by the program) a SystemExit still exits. */
static int
program_exception(struct cli *o, int *inspect)
{
	if (*inspect && (cli_flag("inspect") ||
	    !PyErr_ExceptionMatches(PyExc_SystemExit))) {
		PyErr_Print();
		return 1;
	}
	*inspect = 0;
	return cli_exception_status(&o->sigint);
}

/* -i: a console on __main__'s globals after the program; the status. */
static int
inspect(struct cli *o)
{
	PyObject	*m;

	if (o->serve != NULL)
		return serve_run_alone() == 0 ? 0 :
		    cli_exception_status(&o->sigint);
	if ((m = PyImport_AddModule("__main__")) == NULL ||
	    console_inspect(PyModule_GetDict(m)) != 0)
		return cli_exception_status(&o->sigint);
	return 0;
}

/* Run the target, or the console alone, then -i's console; the status. */
static int
run(struct cli *o)
{
	int	status, r, inspecting;

	r = cli_run_target(o, &status);
	if (!has_target(o)) {
		if (r == 0)
			r = o->serve != NULL ? serve_run_alone() :
			    console_run_alone();
		return r == 0 ? 0 : cli_exception_status(&o->sigint);
	}
	inspecting = inspect_wanted(o);
	if (r != 0)
		status = program_exception(o, &inspecting);
	if (inspecting) {
		o->sigint = 0;
		status = inspect(o);
	}
	return status;
}

/* --serve: the console on a socket, not on the terminal; the status. */
static int
serve(struct cli *o)
{
	char	*cause = NULL;

	if (serve_start(&o->served, o->banner, o->locals_dict, &cause) == 0)
		return run(o);
	if (cause == NULL)
		return cli_exception_status(&o->sigint);
	fprintf(stderr, "apython: error: %s\n", cause);
	free(cause);
	return EXIT_USAGE;
}

/* A program read from stdin runs a loop: say once where a console is. */
static int
stdin_program_runs(PyObject *loop)
{
	static int	said;

	(void)loop;
	if (!said++)
		fputs("apython: the program is read from stdin, so there is "
		    "no console on the terminal; --serve gives one\n", stderr);
	return 0;
}

static const struct loop_observer stdin_observer = {
	.on_run = stdin_program_runs,
};

/* The terminal console, to come up when the program's loop runs. */
static int
setup_console(const struct cli *o)
{
	struct console_options	co = { 0 };

	if (from_stdin(o))
		return loop_observe(&stdin_observer);
	co.banner = o->banner;
	co.no_banner = o->quiet;
	co.locals = o->locals_dict;
	co.no_readline = o->no_readline;
	co.has_target = has_target(o);
	co.inspect = cli_flag("inspect");
	return console_setup(&co);
}

/* Run the target with a console, then -i's; the exit status. */
int
cli_run(struct cli *o)
{
	o->apython = PyImport_ImportModule("apython");
	if (o->apython == NULL || loop_install(o->apython) != 0 ||
	    serve_attach_start(o->no_attach) != 0)
		return cli_exception_status(&o->sigint);
	if (o->serve != NULL)
		return serve(o);
	if (setup_console(o) != 0)
		return cli_exception_status(&o->sigint);
	return run(o);
}

/* The end: consoles go, CPython is finalized; the exit status. */
int
cli_finish(struct cli *o, int status)
{
	int	sigint = o->sigint;

	Py_CLEAR(o->apython);
	Py_CLEAR(o->locals_dict);
	serve_shutdown();
	console_shutdown();
	if (Py_FinalizeEx() < 0)
		status = EXIT_FINALIZE;
	free(o->warnoptions);
	free(o->xoptions);
	free(o);
	if (sigint) {
		signal(SIGINT, SIG_DFL);
		kill(getpid(), SIGINT);
	}
	return status;
}
