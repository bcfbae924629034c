/* apython.start_console_server(): a console server on the running loop,
 * from Python. */
#include "serve/serve-internal.h"

#include <stdlib.h>
#include <string.h>

#include "py/py.h"

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
	PyObject	*exc = py_exception_fetch();

	server_close(server);
	if (exc != NULL)
		py_exception_raise(exc);
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
	if (server_attach_loop(server, loop) != 0) {
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
	.ml_name = "start_console_server",
	.ml_meth = (PyCFunction)(void (*)(void))serve_start_console_server,
	.ml_flags = METH_VARARGS | METH_KEYWORDS,
	.ml_doc = "start_console_server(*, host=None, port=None, path=None, locals=None, "
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
