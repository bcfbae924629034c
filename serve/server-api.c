/* What Python sees of a console server, as asyncio's servers show it:
 * close(), wait_closed(), is_serving(), async with, sockets, address. */
#include "serve/serve-internal.h"

#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* close(): stop serving; every client's console ends. */
static PyObject *
server_close_method(PyObject *self, PyObject *unused)
{
	(void)unused;
	server_close(self);
	Py_RETURN_NONE;
}

/* A future of the running loop, resolved with value unless value is
 * NULL. */
static PyObject *
server_future(PyObject *value)
{
	PyObject	*asyncio, *loop, *f, *r;

	if ((asyncio = PyImport_ImportModule("asyncio")) == NULL)
		return NULL;
	loop = PyObject_CallMethod(asyncio, "get_running_loop", NULL);
	Py_DECREF(asyncio);
	if (loop == NULL)
		return NULL;
	f = PyObject_CallMethod(loop, "create_future", NULL);
	Py_DECREF(loop);
	if (f == NULL || value == NULL)
		return f;
	if ((r = PyObject_CallMethod(f, "set_result", "O", value)) == NULL)
		Py_CLEAR(f);
	Py_XDECREF(r);
	return f;
}

/* wait_closed(): await until close() has closed everything. */
static PyObject *
server_wait_closed(PyObject *self, PyObject *unused)
{
	struct server	*s = server_of(self);
	PyObject	*f;

	(void)unused;
	if (s->closed)
		return server_future(Py_None);
	if ((f = server_future(NULL)) == NULL)
		return NULL;
	if (s->waiters == NULL && (s->waiters = PyList_New(0)) == NULL) {
		Py_DECREF(f);
		return NULL;
	}
	if (PyList_Append(s->waiters, f) != 0)
		Py_CLEAR(f);
	return f;
}

/* is_serving(): listening. */
static PyObject *
server_is_serving(PyObject *self, PyObject *unused)
{
	(void)unused;
	return PyBool_FromLong(!server_of(self)->closed);
}

/* async with server: the server. */
static PyObject *
server_aenter(PyObject *self, PyObject *unused)
{
	(void)unused;
	return server_future(self);
}

/* ... closed at the end of the block. */
static PyObject *
server_aexit(PyObject *self, PyObject *args)
{
	(void)args;
	server_close(self);
	return server_wait_closed(self, NULL);
}

/* sockets: the listening sockets, as asyncio's servers show them. */
static PyObject *
server_get_sockets(PyObject *self, void *unused)
{
	struct server	*s = server_of(self);
	PyObject	*socket_mod = NULL, *trsock = NULL, *t, *sock;
	int		 i;

	(void)unused;
	if ((t = PyTuple_New(s->closed ? 0 : s->nls)) == NULL)
		return NULL;
	if (s->closed)
		return t;
	if ((socket_mod = PyImport_ImportModule("socket")) == NULL ||
	    (trsock = PyImport_ImportModule("asyncio.trsock")) == NULL)
		goto fail;
	if (s->sockets == NULL && (s->sockets = PyList_New(0)) == NULL)
		goto fail;
	for (i = 0; i < s->nls; i++) {
		if (i >= PyList_GET_SIZE(s->sockets)) {
			sock = PyObject_CallMethod(socket_mod, "socket", "iiii",
			    s->ls[i].family, SOCK_STREAM, 0, s->ls[i].fd);
			if (sock == NULL || PyList_Append(s->sockets, sock)) {
				Py_XDECREF(sock);
				goto fail;
			}
			Py_DECREF(sock);
		}
		sock = PyObject_CallMethod(trsock, "TransportSocket", "O",
		    PyList_GET_ITEM(s->sockets, i));
		if (sock == NULL)
			goto fail;
		PyTuple_SET_ITEM(t, i, sock);
	}
	Py_DECREF(socket_mod);
	Py_DECREF(trsock);
	return t;
fail:
	Py_XDECREF(socket_mod);
	Py_XDECREF(trsock);
	Py_DECREF(t);
	return NULL;
}

/* address: (host, port) of the first socket, or the unix socket's path. */
static PyObject *
server_get_address(PyObject *self, void *unused)
{
	struct server	*s = server_of(self);
	char		 host[300], *colon;

	(void)unused;
	if (s->ls == NULL || s->ls[0].family == AF_UNIX)
		return PyUnicode_DecodeFSDefault(s->name);
	snprintf(host, sizeof host, "%s", s->name);
	if ((colon = strrchr(host, ':')) == NULL)
		Py_RETURN_NONE;
	*colon = '\0';
	if (host[0] == '[') {
		colon[-1] = '\0';
		return Py_BuildValue("(si)", host + 1, atoi(colon + 1));
	}
	return Py_BuildValue("(si)", host, atoi(colon + 1));
}

PyObject *
server_repr(PyObject *self)
{
	return PyUnicode_FromFormat("<apython.ConsoleServer %s%s>",
	    server_of(self)->name, server_of(self)->closed ? " closed" : "");
}

PyMethodDef server_methods[] = {
	{ .ml_name = "close",
	  .ml_meth = server_close_method,
	  .ml_flags = METH_NOARGS,
	  .ml_doc = "Stop serving and end every client's console." },
	{ .ml_name = "wait_closed",
	  .ml_meth = server_wait_closed,
	  .ml_flags = METH_NOARGS,
	  .ml_doc = "Await the end of close()." },
	{ .ml_name = "is_serving",
	  .ml_meth = server_is_serving,
	  .ml_flags = METH_NOARGS,
	  .ml_doc = "Whether the server accepts clients." },
	{ .ml_name = "__aenter__",
	  .ml_meth = server_aenter,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = "__aexit__",
	  .ml_meth = server_aexit,
	  .ml_flags = METH_VARARGS },
	{ .ml_name = "_accept",
	  .ml_meth = server_on_accept,
	  .ml_flags = METH_O },
	{ .ml_name = "_resume",
	  .ml_meth = server_on_resume,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = NULL }
};

PyGetSetDef server_getset[] = {
	{ .name = "sockets",
	  .get = server_get_sockets,
	  .doc = "The listening sockets." },
	{ .name = "address",
	  .get = server_get_address,
	  .doc = "(host, port), or the unix socket's path." },
	{ .name = NULL }
};
