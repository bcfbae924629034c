/* The socket transport's hot paths in C: write(), is_closing() and
 * reading (asyncio's own stream protocol is fed by stream.c), mixed in
 * front of asyncio's _SelectorSocketTransport, which keeps everything
 * else (close, flow control, EOF, sendfile, TLS upgrade). */
#include <errno.h>
#include <sys/socket.h>

#include "loop/loop-internal.h"

static PyTypeObject core_type;
static PyObject *transport_cls;		/* the mixed class */
static PyObject *buffered_protocol;	/* asyncio.BufferedProtocol */
static PyObject *s_conn_lost, *s_sock_fd, *s_protocol, *s_buffer;
static PyObject *s_eof, *s_empty_waiter, *s_data_received, *s_fatal_error;
static PyObject *s_closing, *s_loop;

/* self.<name> as a C int (truthiness for objects), -1 on error. */
static int
transport_flag(PyObject *self, PyObject *name)
{
	PyObject	*v;
	int		 r;

	if ((v = PyObject_GetAttr(self, name)) == NULL)
		return -1;
	r = PyObject_IsTrue(v);
	Py_DECREF(v);
	return r;
}

/* self._sock_fd, -1 with exception. */
static int
transport_fd(PyObject *self)
{
	PyObject	*v;
	long		 fd;

	if ((v = PyObject_GetAttr(self, s_sock_fd)) == NULL)
		return -1;
	fd = PyLong_AsLong(v);
	Py_DECREF(v);
	return (int)fd;
}

/* super(core, self).name(args...) for the paths asyncio handles. */
static PyObject *
transport_super(PyObject *self, const char *name, PyObject *arg)
{
	PyObject	*sup, *r;

	sup = PyObject_CallFunctionObjArgs((PyObject *)&PySuper_Type,
	    (PyObject *)&core_type, self, NULL);
	if (sup == NULL)
		return NULL;
	r = arg ? PyObject_CallMethod(sup, name, "O", arg) :
	    PyObject_CallMethod(sup, name, NULL);
	Py_DECREF(sup);
	return r;
}

/* self._fatal_error(exc, message) for the exception that is set. */
static PyObject *
transport_fatal(PyObject *self, const char *message)
{
	PyObject	*exc, *msg, *r = NULL;

	if (PyErr_ExceptionMatches(PyExc_SystemExit) ||
	    PyErr_ExceptionMatches(PyExc_KeyboardInterrupt))
		return NULL;
	exc = py_exception_fetch();
	if ((msg = PyUnicode_FromString(message)) != NULL) {
		r = PyObject_CallMethodObjArgs(self, s_fatal_error, exc, msg,
		    NULL);
		Py_DECREF(msg);
	}
	Py_XDECREF(exc);
	return r;
}

/* protocol.data_received() with the n bytes read into buf; asyncio's
 * own stream protocol is fed from C. None, or NULL with exception. */
static PyObject *
transport_deliver(PyObject *proto, const char *buf, ssize_t n)
{
	PyObject	*data, *r;
	int		 fed;

	if ((fed = stream_data_received(proto, buf, n)) != 0)
		return fed < 0 ? NULL : Py_NewRef(Py_None);
	if ((data = PyBytes_FromStringAndSize(buf, n)) == NULL)
		return NULL;
	r = PyObject_CallMethodOneArg(proto, s_data_received, data);
	Py_DECREF(data);
	if (r == NULL)
		return NULL;
	Py_DECREF(r);
	Py_RETURN_NONE;
}

/* recv on fd into buf and hand the bytes to proto; EOF and errors go
 * asyncio's way. */
static PyObject *
transport_recv(PyObject *self, PyObject *proto, int fd, char *buf)
{
	PyObject	*r;
	ssize_t		 n;

	do
		n = recv(fd, buf, LOOP_READ_MAX, 0);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return PyObject_CallMethod(self, "_read_ready__on_eof", NULL);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			Py_RETURN_NONE;
		PyErr_SetFromErrno(PyExc_OSError);
		return transport_fatal(self,
		    "Fatal read error on socket transport");
	}
	loop_read_size(n);
	if ((r = transport_deliver(proto, buf, n)) == NULL)
		return transport_fatal(self,
		    "Fatal error: protocol.data_received() call failed.");
	return r;
}

/* recv into the loop's buffer (its own: loops in other threads may read
 * while the collector or the protocol runs Python before the bytes are
 * copied), or into one of this call's when that one is in use. */
static PyObject *
transport_read(PyObject *self, PyObject *proto, int fd)
{
	PyObject	*loop, *r;
	char		*buf, *own = NULL;

	if ((loop = PyObject_GetAttr(self, s_loop)) == NULL)
		return NULL;
	if ((buf = loop_read_buffer(loop)) == NULL &&
	    (buf = own = PyMem_Malloc(LOOP_READ_MAX)) == NULL) {
		Py_DECREF(loop);
		return PyErr_NoMemory();
	}
	r = transport_recv(self, proto, fd, buf);
	if (own != NULL)
		PyMem_Free(own);
	else
		loop_read_release(loop);
	Py_DECREF(loop);
	return r;
}

/* _read_ready(): recv straight into a buffer of the loop's and hand the
 * bytes to data_received(); buffered protocols go asyncio's way. */
static PyObject *
transport_read_ready(PyObject *self, PyObject *unused)
{
	PyObject	*proto, *r;
	int		 fd, lost, buffered;

	(void)unused;
	if ((lost = transport_flag(self, s_conn_lost)) != 0)
		return lost < 0 ? NULL : Py_NewRef(Py_None);
	if ((proto = PyObject_GetAttr(self, s_protocol)) == NULL)
		return NULL;
	if ((buffered = PyObject_IsInstance(proto, buffered_protocol)) != 0) {
		Py_DECREF(proto);
		return buffered < 0 ? NULL :
		    PyObject_CallMethod(self, "_read_ready__get_buffer", NULL);
	}
	r = (fd = transport_fd(self)) < 0 ? NULL :
	    transport_read(self, proto, fd);
	Py_DECREF(proto);
	return r;
}

/* True (1) when write() can take the fast path: nothing buffered, no
 * EOF written, no sendfile, connection not lost. */
static int
transport_can_send(PyObject *self)
{
	PyObject	*v;
	Py_ssize_t	 len;
	int		 r;

	if ((r = transport_flag(self, s_conn_lost)) != 0 ||
	    (r = transport_flag(self, s_eof)) != 0)
		return r < 0 ? -1 : 0;
	if ((v = PyObject_GetAttr(self, s_empty_waiter)) == NULL)
		return -1;
	r = v == Py_None;
	Py_DECREF(v);
	if (!r)
		return 0;
	if ((v = PyObject_GetAttr(self, s_buffer)) == NULL)
		return -1;
	len = PyObject_Size(v);
	Py_DECREF(v);
	return len < 0 ? -1 : len == 0;
}

/* write(data): send at once when nothing waits before it; whatever is
 * left (or any unusual case) goes through asyncio's write(). */
static PyObject *
transport_write(PyObject *self, PyObject *data)
{
	Py_buffer	 view;
	PyObject	*rest, *r;
	ssize_t		 n;
	int		 fd, ok;

	if (!PyBytes_Check(data) && !PyByteArray_Check(data) &&
	    !PyMemoryView_Check(data))
		return transport_super(self, "write", data);
	if ((ok = transport_can_send(self)) <= 0)
		return ok < 0 ? NULL : transport_super(self, "write", data);
	if ((fd = transport_fd(self)) < 0)
		return NULL;
	if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) != 0)
		return NULL;
	if (view.len == 0) {
		PyBuffer_Release(&view);
		Py_RETURN_NONE;
	}
	do
		n = send(fd, view.buf, view.len, 0);
	while (n < 0 && errno == EINTR);
	if (n == view.len) {
		PyBuffer_Release(&view);
		Py_RETURN_NONE;
	}
	/* Partly sent, would block, or failed: asyncio buffers or reports. */
	rest = n > 0 ? PyBytes_FromStringAndSize((char *)view.buf + n,
	    view.len - n) : Py_NewRef(data);
	PyBuffer_Release(&view);
	if (rest == NULL)
		return NULL;
	r = transport_super(self, "write", rest);
	Py_DECREF(rest);
	return r;
}

/* is_closing(): self._closing, as _SelectorTransport's. */
static PyObject *
transport_is_closing(PyObject *self, PyObject *unused)
{
	(void)unused;
	return PyObject_GetAttr(self, s_closing);
}

static PyMethodDef core_methods[] = {
	{ .ml_name = "is_closing",
	  .ml_meth = transport_is_closing,
	  .ml_flags = METH_NOARGS,
	  .ml_doc = "Return True if the transport is closing or closed." },
	{ .ml_name = "_read_ready",
	  .ml_meth = transport_read_ready,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = "write",
	  .ml_meth = transport_write,
	  .ml_flags = METH_O,
	  .ml_doc = "Write bytes, at once when nothing is queued before them." },
	{ .ml_name = NULL },
};

static PyTypeObject core_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "apython.TransportCore",
	.tp_doc = "The C paths of apython's socket transport.",
	.tp_basicsize = sizeof(PyObject),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_methods = core_methods,
	.tp_new = PyType_GenericNew,
};

static const char *const make_params[] = { "sock", "protocol", "waiter",
    "extra", "server", NULL };
static const struct loop_args make_args = {
	.name = "_make_socket_transport", .params = make_params,
	.npos = 3, .kwfrom = 2, .need = 2,
	.usage = "_make_socket_transport(sock, protocol, waiter=None, *, "
	    "extra=None, server=None)",
};

/* loop._make_socket_transport(sock, protocol, waiter=None, *, extra=None,
 * server=None): our transport class, as asyncio makes its own. */
static PyObject *
transport_make(PyObject *loop, PyObject *const *args, Py_ssize_t nargs,
    PyObject *kwnames)
{
	PyObject	*a[6], *r;
	size_t		 i;

	a[0] = loop;
	if (loop_args_parse(&make_args, args, nargs, kwnames, a + 1) != 0)
		return NULL;
	for (i = 1; i < 6; i++)
		if (a[i] == NULL)
			a[i] = Py_None;
	/* 3.13 checks the fd is free here; earlier versions in the caller. */
	r = PyObject_CallMethod(loop, "_ensure_fd_no_transport", "O", a[1]);
	if (r == NULL)
		return NULL;
	Py_DECREF(r);
	return PyObject_CallFunctionObjArgs(transport_cls, a[0], a[1], a[2],
	    a[3], a[4], a[5], NULL);
}

const PyMethodDef loop_transport_methods[] = {
	{ .ml_name = "_make_socket_transport",
	  .ml_meth = (PyCFunction)(void (*)(void))transport_make,
	  .ml_flags = LOOP_FASTKW },
	{ .ml_name = NULL },
};

/* Intern the attribute names; -1 with exception. */
static int
transport_names(void)
{
	static const struct py_name names[] = {
		{ &s_conn_lost, "_conn_lost" }, { &s_sock_fd, "_sock_fd" },
		{ &s_protocol, "_protocol" }, { &s_buffer, "_buffer" },
		{ &s_eof, "_eof" }, { &s_empty_waiter, "_empty_waiter" },
		{ &s_data_received, "data_received" },
		{ &s_fatal_error, "_fatal_error" }, { &s_closing, "_closing" },
		{ &s_loop, "_loop" },
	};

	return py_intern_names(names, PY_NAMES_LEN(names));
}

/* Make the transport class; -1 with exception. */
int
transport_ready(void)
{
	PyObject	*se, *base, *protocols, *bases, *ns;

	if (PyType_Ready(&core_type) != 0)
		return -1;
	if ((protocols = PyImport_ImportModule("asyncio.protocols")) == NULL)
		return -1;
	buffered_protocol = PyObject_GetAttrString(protocols,
	    "BufferedProtocol");
	Py_DECREF(protocols);
	if (buffered_protocol == NULL)
		return -1;
	if ((se = PyImport_ImportModule("asyncio.selector_events")) == NULL)
		return -1;
	base = PyObject_GetAttrString(se, "_SelectorSocketTransport");
	Py_DECREF(se);
	if (base == NULL)
		return -1;
	bases = PyTuple_Pack(2, (PyObject *)&core_type, base);
	Py_DECREF(base);
	ns = Py_BuildValue("{ss}", "__module__", "apython");
	if (bases != NULL && ns != NULL)
		transport_cls = PyObject_CallFunction((PyObject *)&PyType_Type,
		    "sOO", "SocketTransport", bases, ns);
	Py_XDECREF(bases);
	Py_XDECREF(ns);
	if (transport_cls == NULL)
		return -1;
	if (transport_names() != 0)
		return -1;
	return stream_ready();
}
