/* apython.start_console_server() and apython.start_interactive_server():
 * a console (or interface) server on the running loop, from Python. */
#include "serve/serve-internal.h"

#include <stdlib.h>
#include <string.h>

#include "console/console.h"
#include "py/py.h"

/* The address fn's arguments give. */
static int
serve_api_address(const char *fn, PyObject *host, PyObject *port,
    PyObject *path, struct serve_address *a)
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
		PyErr_Format(PyExc_TypeError, "%s() needs port= or path=", fn);
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

/* A server for a on the running loop, as a future that has it; of
 * factory's interfaces, or consoles when factory is NULL. */
static PyObject *
serve_api_server(const struct serve_address *a, PyObject *banner,
    PyObject *locals, PyObject *factory)
{
	PyObject	*loop, *server = NULL, *f = NULL, *r;
	char		*cause = NULL;

	/* Consoles need console/ ready: the binary did it at start-up, the
	 * extension does it now (once), not at import. */
	if (factory == NULL && console_prepare() != 0)
		return NULL;
	if ((loop = serve_running_loop()) == NULL)
		return NULL;
	if ((server = server_new(a, banner, locals, factory, &cause)) ==
	    NULL) {
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

/* banner and locals as the servers take them: -1 with TypeError. */
static int
serve_api_check(PyObject *banner, PyObject *locals)
{
	if (locals != NULL && locals != Py_None && !PyDict_Check(locals)) {
		PyErr_SetString(PyExc_TypeError, "locals must be a dict");
		return -1;
	}
	if (banner != Py_None && !PyUnicode_Check(banner)) {
		PyErr_SetString(PyExc_TypeError, "banner must be a str");
		return -1;
	}
	return 0;
}

/* Whether a console needs more than apython's served console gives: a
 * prompt_control (1, 0, -1 with exception). */
static int
serve_api_custom(PyObject *prompt_control)
{
	if (prompt_control == Py_None)
		return 0;
	return PyObject_IsTrue(prompt_control);
}

/* start_console_server() with prompt_control=: a factory of
 * AsynchronousConsole with it (and filename). */
static PyObject *
serve_api_console_factory(PyObject *module, PyObject *locals,
    PyObject *filename, PyObject *prompt_control)
{
	PyObject	*cls, *factory;

	if ((cls = PyObject_GetAttrString(module, "AsynchronousConsole")) ==
	    NULL)
		return NULL;
	factory = iface_console_factory(cls, locals, filename, prompt_control);
	Py_DECREF(cls);
	return factory;
}

/* apython.start_console_server(host=None, port=None, path=None,
 * locals=None, filename="<console>", banner=None, prompt_control=None,
 * *, loop=None): await it for a ConsoleServer. */
static PyObject *
serve_start_console_server(PyObject *module, PyObject *args, PyObject *kw)
{
	static char		*kwlist[] = { "host", "port", "path", "locals",
				    "filename", "banner", "prompt_control",
				    "loop", NULL };
	struct serve_address	 a;
	PyObject		*host = Py_None, *port = Py_None;
	PyObject		*path = Py_None, *locals = Py_None;
	PyObject		*filename = Py_None, *banner = Py_None;
	PyObject		*pc = Py_None, *loop = Py_None;
	PyObject		*factory = NULL, *r;
	int			 custom;

	if (!PyArg_ParseTupleAndKeywords(args, kw,
	    "|OOOOOOO$O:start_console_server", kwlist, &host, &port, &path,
	    &locals, &filename, &banner, &pc, &loop))
		return NULL;
	(void)loop;	/* aioconsole's: the running loop serves */
	if (serve_api_check(banner, locals) != 0 ||
	    (custom = serve_api_custom(pc)) < 0 ||
	    serve_api_address("start_console_server", host, port, path,
	    &a) != 0)
		return NULL;
	if (custom && (factory = serve_api_console_factory(module, locals,
	    filename, pc)) == NULL)
		return NULL;
	r = serve_api_server(&a, banner == Py_None ? NULL : banner,
	    locals == Py_None || custom ? NULL : locals, factory);
	Py_XDECREF(factory);
	return r;
}

/* apython.start_interactive_server(factory=AsynchronousConsole,
 * host=None, port=None, path=None, banner=None, *, loop=None): await it
 * for a server running factory(streams=...).interact() per client. */
static PyObject *
serve_start_interactive_server(PyObject *module, PyObject *args,
    PyObject *kw)
{
	static char		*kwlist[] = { "factory", "host", "port", "path",
				    "banner", "loop", NULL };
	struct serve_address	 a;
	PyObject		*factory = Py_None, *host = Py_None;
	PyObject		*port = Py_None, *path = Py_None;
	PyObject		*banner = Py_None, *loop = Py_None, *r, *cls;

	if (!PyArg_ParseTupleAndKeywords(args, kw,
	    "|OOOOO$O:start_interactive_server", kwlist, &factory, &host,
	    &port, &path, &banner, &loop))
		return NULL;
	(void)loop;
	if (serve_api_check(banner, NULL) != 0 ||
	    serve_api_address("start_interactive_server", host, port, path,
	    &a) != 0)
		return NULL;
	if ((cls = PyObject_GetAttrString(module, "AsynchronousConsole")) ==
	    NULL)
		return NULL;
	/* AsynchronousConsole itself: apython's served console, which is
	 * what it runs, plus the control thread's Ctrl-C on the CPU. */
	if (factory == Py_None || factory == cls)
		factory = NULL;
	else if (!PyCallable_Check(factory))
		PyErr_SetString(PyExc_TypeError, "factory must be callable");
	r = PyErr_Occurred() ? NULL : serve_api_server(&a, banner == Py_None ?
	    NULL : banner, NULL, factory);
	Py_DECREF(cls);
	return r;
}

static PyMethodDef start_def = {
	.ml_name = "start_console_server",
	.ml_meth = (PyCFunction)(void (*)(void))serve_start_console_server,
	.ml_flags = METH_VARARGS | METH_KEYWORDS,
	.ml_doc = "start_console_server(host=None, port=None, path=None, locals=None, "
	"filename='<console>', banner=None, prompt_control=None, *, loop=None)\n--\n\n"
	"Serve a console to each client on TCP (host, port: loopback when\n"
	"host is None, port 0 picks one) or on a unix socket (path, mode\n"
	"0600). Await it for the server: close(), wait_closed(), sockets,\n"
	"address. With prompt_control, each client gets an\n"
	"AsynchronousConsole with it."
};

static PyMethodDef interactive_def = {
	.ml_name = "start_interactive_server",
	.ml_meth = (PyCFunction)(void (*)(void))serve_start_interactive_server,
	.ml_flags = METH_VARARGS | METH_KEYWORDS,
	.ml_doc = "start_interactive_server(factory=AsynchronousConsole, host=None, "
	"port=None, path=None, banner=None, *, loop=None)\n--\n\n"
	"Serve an interface to each client, as start_console_server() serves\n"
	"consoles: factory(streams=(reader, writer)).interact(banner=banner,\n"
	"stop=False, handle_sigint=False) runs for each. Await it for the\n"
	"server."
};

/* Add def's function to the module. */
static int
serve_add_function(PyObject *module, PyMethodDef *def)
{
	PyObject	*fn;

	if ((fn = PyCFunction_NewEx(def, module, NULL)) == NULL)
		return -1;
	if (PyModule_AddObject(module, def->ml_name, fn) != 0) {
		Py_DECREF(fn);
		return -1;
	}
	return 0;
}

/* Add start_console_server and start_interactive_server to the module. */
int
serve_add_to_module(PyObject *module)
{
	if (server_ready() != 0 || serve_add_function(module, &start_def) ||
	    serve_add_function(module, &interactive_def))
		return -1;
	return 0;
}
