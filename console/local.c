/* The local console: one per process, on the terminal (stdin, stderr),
 * following the program from loop to loop. */
#include "console/console-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "loop/loop.h"

static PyObject *local;		/* the local session; NULL once over */
static const struct session_io *local_io;
static int interactive;		/* stdin is a terminal */
static int alone;		/* no program: the console is all */
static int after;		/* -i, stdin not a terminal: the console
				 * reads it after the program, as python3 */

/* The banner: --banner's text and a newline, or the default. */
static PyObject *
local_banner(const char *banner)
{
	PyObject	*text, *r;

	if (banner == NULL)
		return intro_banner(NULL);
	if ((text = PyUnicode_DecodeFSDefault(banner)) == NULL)
		return NULL;
	r = intro_banner(text);
	Py_DECREF(text);
	return r;
}

/* PYTHONSTARTUP as a path, NULL when unset or missing (said so). */
static PyObject *
local_startup(void)
{
	const char	*path = getenv("PYTHONSTARTUP");

	if (path == NULL || *path == '\0')
		return NULL;
	if (access(path, R_OK) != 0) {
		fprintf(stderr, "Could not open PYTHONSTARTUP - No such file: "
		    "%s\n", path);
		return NULL;
	}
	return PyUnicode_DecodeFSDefault(path);
}

/* The console comes up on loop. */
static int
local_come_up(PyObject *loop)
{
	if (session_attach(local, loop) != 0)
		return -1;
	return interactive ? sigint_take(local, local_io, alone) : 0;
}

/* The console leaves loop (it closed, or another runs now): Ctrl-C
 * goes back to the program until the console is up again. */
static void
local_leave(PyObject *loop)
{
	fg_cancel(loop);
	session_detach(local);
	sigint_give();
}

/* A loop starts running in the main thread: the console is on the loop
 * the program runs now, leaving the one it was on (apython's loops tell
 * when they close; another closed, or one merely stopped, is left here). */
static int
local_on_run(PyObject *loop)
{
	PyObject	*cur;

	if (local == NULL || after)
		return 0;
	if ((cur = session_loop(local)) != NULL && cur != loop) {
		Py_INCREF(cur);
		local_leave(cur);
		Py_DECREF(cur);
	}
	return interactive ? fg_wait(loop, local_come_up) : local_come_up(loop);
}

/* An apython loop closes: if it is the console's, the console leaves it. */
static void
local_on_close(PyObject *loop)
{
	fg_cancel(loop);
	if (local != NULL && session_loop(local) == loop)
		local_leave(loop);
}

static const struct loop_observer local_observer = {
	.on_run = local_on_run,
	.on_close = local_on_close,
};

/* Make the local console; it appears when the program's loop runs. */
int
console_setup(const struct console_options *o)
{
	PyObject			*out, *banner, *startup = NULL;
	void				*arg;

	out = Py_XNewRef(PySys_GetObject("stderr"));
	if (out == NULL || out == Py_None) {
		Py_XDECREF(out);
		PyErr_SetString(PyExc_RuntimeError, "no sys.stderr for the console");
		return -1;
	}
	if (console_prepare() != 0) {
		Py_DECREF(out);
		return -1;
	}
	interactive = isatty(STDIN_FILENO);
	alone = !o->has_target;
	after = o->inspect && !interactive;
	if (!o->no_readline && interactive && isatty(STDERR_FILENO)) {
		local_io = &readline_io;
		arg = readline_new();
	} else {
		local_io = &input_fd_io;
		/* A program runs: an empty stdin means no console. */
		arg = input_fd_new(STDIN_FILENO, !interactive &&
		    o->has_target && !o->inspect);
	}
	/* Its namespace is made when first used: a run whose console never
	 * gets a statement (stdin empty, no loop) builds none. */
	if (arg != NULL)
		local = session_new(NULL, o->locals, out, local_io, arg);
	Py_DECREF(out);
	if (local == NULL)
		return PyErr_Occurred() ? -1 : (PyErr_NoMemory(), -1);
	banner = NULL;
	if (!o->no_banner && (banner = local_banner(o->banner)) == NULL)
		return -1;
	if (!o->has_target)
		startup = local_startup();
	intro_set(local, banner, startup);
	Py_XDECREF(banner);
	Py_XDECREF(startup);
	return loop_observe(&local_observer);
}

/* Whether s is the local console, and no program runs beside it. */
int
local_alone(const struct session *s)
{
	return alone && local != NULL && session_of(local) == s;
}

/* No program: run the console alone on a fresh loop until it ends. */
int
console_run_alone(void)
{
	PyObject	*asyncio, *loop = NULL, *r = NULL;
	PyObject	*type, *value, *tb;

	if ((asyncio = PyImport_ImportModule("asyncio")) == NULL)
		return -1;
	loop = PyObject_CallMethod(asyncio, "new_event_loop", NULL);
	if (loop != NULL)
		r = PyObject_CallMethod(asyncio, "set_event_loop", "O", loop);
	/* Only an exception (SystemExit at EOF) ends the console. */
	while (r != NULL) {
		Py_DECREF(r);
		r = PyObject_CallMethod(loop, "run_forever", NULL);
	}
	if (loop != NULL) {
		PyErr_Fetch(&type, &value, &tb);
		r = PyObject_CallMethod(loop, "close", NULL);
		if (r == NULL)
			PyErr_WriteUnraisable(loop);
		Py_XDECREF(r);
		PyErr_Restore(type, value, tb);
	}
	Py_XDECREF(loop);
	Py_DECREF(asyncio);
	return -1;
}

/* Give globals the console's own name from ns where it has none. */
static int
local_set_default(PyObject *globals, PyObject *ns, const char *name)
{
	PyObject	*key, *v = NULL;

	if ((key = PyUnicode_InternFromString(name)) == NULL)
		return -1;
	if ((v = PyDict_GetItemWithError(ns, key)) != NULL)
		v = PyDict_SetDefault(globals, key, v);
	Py_DECREF(key);
	return v == NULL && PyErr_Occurred() ? -1 : 0;
}

/* -i: after the program, the local console on its globals (asyncio,
 * ainput and tasks added where the program has none), without a banner, on a
 * fresh loop until it ends, as console_run_alone. */
int
console_inspect(PyObject *globals)
{
	PyObject	*ns, *loop;
	int		 r;

	if (local == NULL)	/* an empty stdin ended it: EOF, as python3 */
		return 0;
	if ((ns = intro_namespace(NULL, 0)) == NULL)
		return -1;
	r = local_set_default(globals, ns, "asyncio") != 0 ||
	    local_set_default(globals, ns, "ainput") != 0 ||
	    local_set_default(globals, ns, "tasks") != 0 ? -1 : 0;
	Py_DECREF(ns);
	if (r != 0)
		return -1;
	if ((loop = session_loop(local)) != NULL)
		local_on_close(loop);
	after = 0;
	/* A prompt shown on the program's loop went with it. */
	session_of(local)->prompted = 0;
	Py_XSETREF(session_of(local)->ns, Py_NewRef(globals));	/* may be unmade */
	Py_CLEAR(session_of(local)->locals);
	intro_set(local, NULL, NULL);
	return console_run_alone();
}

/* The program is over: the console leaves quietly, and its session
 * goes (its namespace is freed, as python3 frees __main__'s). */
void
console_shutdown(void)
{
	if (local != NULL)
		session_detach(local);
	fg_cancel(NULL);
	sigint_give();
	Py_CLEAR(local);
}

/* The local console when it reads a stdin that is not a terminal and
 * is on a loop (borrowed): stdin's lines are its, ainput()'s in program
 * code included. NULL otherwise. */
PyObject *
local_reading_lines(void)
{
	if (local == NULL || local_io != &input_fd_io || after ||
	    session_loop(local) == NULL)
		return NULL;
	return local;
}

/* Add console/'s names to the module: stdstreams.c's. */
int
console_add_to_module(PyObject *module)
{
	return stdstreams_add_to_module(module);
}
