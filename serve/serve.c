/* --serve: the console served instead of the local one, on the loops the
 * program runs, until the program ends (or, without a program, until
 * Ctrl-C or SIGTERM). start_console_server is in api.c. */
#include "serve/serve-internal.h"

#include <signal.h>
#include <stdio.h>

#include "console/console.h"
#include "loop/loop.h"
#include "py/py.h"

static PyObject *served;	/* --serve's server */
static int stopping;		/* serving alone: SIGTERM came */

/* A loop starts running in the main thread: serve on it, the loop the
 * program runs now (the server leaves the one it was on, closed or
 * stopped: only apython's loops say when they close). */
static int
serve_on_run(PyObject *loop)
{
	if (served == NULL)
		return 0;
	return server_attach_loop(served, loop);
}

/* An apython loop closes: if the server is on it, it waits for the
 * next one. */
static void
serve_on_close(PyObject *loop)
{
	if (served != NULL && server_loop(served) == loop)
		server_detach_loop(served);
}

static const struct loop_observer serve_observer = {
	.on_run = serve_on_run,
	.on_close = serve_on_close,
};

/* --serve: listen on a now, say where on stdout, and serve on the loops
 * the program runs (there is no local console: the remote consoles'
 * types are readied here). -1 with a cause, or with an exception (no
 * cause). */
int
serve_start(const struct serve_address *a, const char *banner,
    PyObject *locals, char **cause)
{
	PyObject	*text = NULL;

	*cause = NULL;
	if (console_prepare() != 0)
		return -1;
	if (banner != NULL && (text = PyUnicode_DecodeFSDefault(banner)) == NULL)
		return -1;
	served = server_new(a, text, locals, NULL, cause);
	Py_XDECREF(text);
	if (served == NULL)
		return -1;
	printf("The console is being served on %s\n", server_name(served));
	fflush(stdout);
	return loop_observe(&serve_observer);
}

/* SIGTERM while serving alone: stop. */
static PyObject *
serve_sigterm(PyObject *loop, PyObject *unused)
{
	(void)unused;
	stopping = 1;
	return PyObject_CallMethod(loop, "stop", NULL);
}

static PyMethodDef sigterm_def = {
	.ml_name = "console_server_stop",
	.ml_meth = serve_sigterm,
	.ml_flags = METH_NOARGS,
};

/* Run loop until Ctrl-C or SIGTERM; -1 with exception on an error. */
static int
serve_forever(PyObject *loop)
{
	PyObject	*stop, *r;

	if ((stop = PyCFunction_New(&sigterm_def, loop)) == NULL)
		return -1;
	r = PyObject_CallMethod(loop, "add_signal_handler", "iO", SIGTERM,
	    stop);
	Py_DECREF(stop);
	while (r != NULL && !stopping) {
		Py_DECREF(r);
		r = PyObject_CallMethod(loop, "run_forever", NULL);
	}
	if (r == NULL && PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
		PyErr_Clear();
		r = Py_NewRef(Py_None);
	}
	if (r == NULL)
		return -1;
	Py_DECREF(r);
	r = PyObject_CallMethod(loop, "remove_signal_handler", "i", SIGTERM);
	Py_XDECREF(r);
	return r == NULL ? -1 : 0;
}

/* --serve without a program: serve on a fresh loop until interrupted. */
int
serve_run_alone(void)
{
	PyObject	*asyncio, *loop, *r = NULL, *exc;
	int		 status = -1;

	if ((asyncio = PyImport_ImportModule("asyncio")) == NULL)
		return -1;
	loop = PyObject_CallMethod(asyncio, "new_event_loop", NULL);
	if (loop != NULL)
		r = PyObject_CallMethod(asyncio, "set_event_loop", "O", loop);
	if (r != NULL) {
		Py_DECREF(r);
		status = serve_forever(loop);
	}
	if (loop != NULL) {
		exc = py_exception_fetch();
		if ((r = PyObject_CallMethod(loop, "close", NULL)) == NULL)
			PyErr_WriteUnraisable(loop);
		Py_XDECREF(r);
		if (exc != NULL)
			py_exception_raise(exc);
	}
	Py_XDECREF(loop);
	Py_DECREF(asyncio);
	return status;
}

/* The program is over: every server closes, unix sockets go. */
void
serve_shutdown(void)
{
	serve_attach_shutdown();
	if (served != NULL)
		server_close(served);
	Py_CLEAR(served);
	server_close_all();
}
