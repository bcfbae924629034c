/* --serve (the console served instead of the local one, on the loops the
 * program runs) and apython.start_console_server. */
#include "serve/serve.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop/loop.h"

static PyObject *served;	/* --serve's server */
static int stopping;		/* serving alone: SIGTERM came */

/* A policy loop starts running: serve on it, unless the server is on
 * another loop, which has not closed (it would have left it). */
static int
serve_on_run(PyObject *loop)
{
	PyObject	*cur;

	if (served == NULL)
		return 0;
	if ((cur = server_loop(served)) != NULL && cur != loop)
		return 0;
	return server_attach(served, loop);
}

/* A loop closes: if the server is on it, it waits for the next one. */
static void
serve_on_close(PyObject *loop)
{
	if (served != NULL && server_loop(served) == loop)
		server_detach(served);
}

static const struct loop_observer serve_observer = {
	.on_run = serve_on_run,
	.on_close = serve_on_close,
};

/* --serve: listen on a now, say where on stdout, and serve on the loops
 * the program runs. -1 with a cause, or with an exception (no cause). */
int
serve_start(const struct serve_address *a, const char *banner,
    PyObject *locals, char **cause)
{
	PyObject	*text = NULL;

	*cause = NULL;
	if (banner != NULL && (text = PyUnicode_DecodeFSDefault(banner)) == NULL)
		return -1;
	served = server_new(a, text, locals, cause);
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
	"console_server_stop", serve_sigterm, METH_NOARGS, NULL
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
	PyObject	*asyncio, *loop, *r = NULL;
	PyObject	*type, *value, *tb;
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
		PyErr_Fetch(&type, &value, &tb);
		if ((r = PyObject_CallMethod(loop, "close", NULL)) == NULL)
			PyErr_WriteUnraisable(loop);
		Py_XDECREF(r);
		PyErr_Restore(type, value, tb);
	}
	Py_XDECREF(loop);
	Py_DECREF(asyncio);
	return status;
}

/* The program is over: every server closes, unix sockets go. */
void
serve_shutdown(void)
{
	if (served != NULL)
		server_close(served);
	Py_CLEAR(served);
	server_close_all();
}

/* The address start_console_server's keywords give. */
static int
serve_api_address(PyObject *host, PyObject *port, PyObject *path,
    struct serve_address *a)
{
	PyObject	*b;
	const char	*h;
	long		 p;

	memset(a, 0, sizeof *a);
	if (path != Py_None) {
		if (host != Py_None || port != Py_None) {
			PyErr_SetString(PyExc_TypeError, "give path=, or "
			    "host= and port=, not both");
			return -1;
		}
		if (!PyUnicode_FSConverter(path, &b))
			return -1;
		a->kind = SERVE_UNIX;
		if ((size_t)PyBytes_GET_SIZE(b) >= sizeof a->path)
			PyErr_SetString(PyExc_ValueError, "path too long");
		else
			memcpy(a->path, PyBytes_AS_STRING(b),
			    PyBytes_GET_SIZE(b) + 1);
		Py_DECREF(b);
		return PyErr_Occurred() ? -1 : 0;
	}
	if (port == Py_None) {
		PyErr_SetString(PyExc_TypeError, "start_console_server() needs "
		    "port= or path=");
		return -1;
	}
	if ((p = PyLong_AsLong(port)) == -1 && PyErr_Occurred())
		return -1;
	if (p < 0 || p > 65535) {
		PyErr_SetString(PyExc_ValueError, "port must be 0-65535");
		return -1;
	}
	a->kind = SERVE_TCP;
	a->port = (int)p;
	if (host == Py_None)
		return 0;
	if ((h = PyUnicode_AsUTF8(host)) == NULL)
		return -1;
	if (strlen(h) >= sizeof a->host) {
		PyErr_SetString(PyExc_ValueError, "host too long");
		return -1;
	}
	strcpy(a->host, h);
	return 0;
}

/* The running loop, or NULL with RuntimeError. */
static PyObject *
serve_running_loop(void)
{
	PyObject	*asyncio, *loop;

	if ((asyncio = PyImport_ImportModule("asyncio")) == NULL)
		return NULL;
	loop = PyObject_CallMethod(asyncio, "get_running_loop", NULL);
	Py_DECREF(asyncio);
	return loop;
}

/* Close server on an error path: closing runs Python, and the
 * exception set is the one to report. */
static void
server_close_keeping_error(PyObject *server)
{
	PyObject	*type, *value, *tb;

	PyErr_Fetch(&type, &value, &tb);
	server_close(server);
	PyErr_Restore(type, value, tb);
}

/* A server for a on the running loop, as a future that has it. */
static PyObject *
serve_api_server(const struct serve_address *a, PyObject *banner,
    PyObject *locals)
{
	PyObject	*loop, *server = NULL, *f = NULL, *r;
	char		*cause = NULL;

	if ((loop = serve_running_loop()) == NULL)
		return NULL;
	if ((server = server_new(a, banner, locals, &cause)) == NULL) {
		if (cause != NULL)
			PyErr_SetString(PyExc_OSError, cause);
		else if (!PyErr_Occurred())
			PyErr_NoMemory();
		free(cause);
		goto out;
	}
	if (server_attach(server, loop) != 0) {
		server_close_keeping_error(server);
		goto out;
	}
	if ((f = PyObject_CallMethod(loop, "create_future", NULL)) != NULL &&
	    (r = PyObject_CallMethod(f, "set_result", "O", server)) != NULL)
		Py_DECREF(r);
	else
		Py_CLEAR(f);
out:
	Py_XDECREF(server);
	Py_DECREF(loop);
	return f;
}

/* apython.start_console_server(*, host=None, port=None, path=None,
 * locals=None, banner=None): await it for a ConsoleServer. */
static PyObject *
serve_start_console_server(PyObject *module, PyObject *args, PyObject *kw)
{
	static char		*kwlist[] = { "host", "port", "path", "locals",
				    "banner", NULL };
	struct serve_address	 a;
	PyObject		*host = Py_None, *port = Py_None;
	PyObject		*path = Py_None, *locals = Py_None;
	PyObject		*banner = Py_None;

	(void)module;
	if (!PyArg_ParseTupleAndKeywords(args, kw,
	    "|$OOOOO:start_console_server", kwlist, &host, &port, &path,
	    &locals, &banner))
		return NULL;
	if (locals != Py_None && !PyDict_Check(locals)) {
		PyErr_SetString(PyExc_TypeError, "locals must be a dict");
		return NULL;
	}
	if (banner != Py_None && !PyUnicode_Check(banner)) {
		PyErr_SetString(PyExc_TypeError, "banner must be a str");
		return NULL;
	}
	if (serve_api_address(host, port, path, &a) != 0)
		return NULL;
	return serve_api_server(&a, banner == Py_None ? NULL : banner,
	    locals == Py_None ? NULL : locals);
}

static PyMethodDef start_def = {
	"start_console_server",
	(PyCFunction)(void (*)(void))serve_start_console_server,
	METH_VARARGS | METH_KEYWORDS,
	"start_console_server(*, host=None, port=None, path=None, locals=None, "
	"banner=None)\n--\n\n"
	"Serve a console to each client on TCP (host, port: loopback when\n"
	"host is None, port 0 picks one) or on a unix socket (path, mode\n"
	"0600). Await it for the server: close(), wait_closed(), sockets,\n"
	"address."
};

/* Add start_console_server to the module. */
int
serve_add_to_module(PyObject *module)
{
	PyObject	*fn;

	if (server_ready() != 0)
		return -1;
	if ((fn = PyCFunction_NewEx(&start_def, module, NULL)) == NULL)
		return -1;
	if (PyModule_AddObject(module, "start_console_server", fn) != 0) {
		Py_DECREF(fn);
		return -1;
	}
	return 0;
}
