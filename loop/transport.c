/* The socket transport's hot paths in C: write(), is_closing() and
 * reading (asyncio's own stream protocol is fed by stream.c), mixed in
 * front of asyncio's _SelectorSocketTransport, which keeps everything
 * else (close, flow control, EOF, sendfile, TLS upgrade). */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "loop/loop-internal.h"

static PyTypeObject core_type;
static PyObject *transport_cls;		/* the mixed class */
static PyObject *buffered_protocol;	/* asyncio.BufferedProtocol */
static PyObject *s_conn_lost, *s_sock_fd, *s_protocol, *s_buffer;
static PyObject *s_eof, *s_empty_waiter, *s_data_received, *s_fatal_error;
static PyObject *s_closing, *s_loop, *s_extra, *s_get_extra_info;
static PyObject *s_high_water, *s_socket;
static PyTypeObject *base_transport;	/* asyncio.BaseTransport */
static PyObject *base_extra_info;	/* its get_extra_info, as defined */

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

/* After a recv straight into a reader's buffer (rx) brought n bytes:
 * feed_data()'s remaining steps, or the buffer as it was. 0, or -1 with
 * what the transport returns set in *r. */
static int
transport_rx_end(PyObject *self, struct stream_rx *rx, ssize_t n,
    PyObject **r)
{
	int	err = errno;

	if (stream_rx_end(rx, n) == 0) {
		errno = err;
		return 0;
	}
	*r = n > 0 ? transport_fatal(self,
	    "Fatal error: protocol.data_received() call failed.") : NULL;
	return -1;
}

/* recv on fd into buf (or into a reader's buffer, rx) and hand the
 * bytes to proto; EOF and errors go asyncio's way. */
static PyObject *
transport_recv(PyObject *self, PyObject *proto, int fd, char *buf,
    struct stream_rx *rx)
{
	PyObject	*r;
	ssize_t		 n;

	do
		n = recv(fd, rx ? rx->at : buf, rx ? rx->room : LOOP_READ_MAX,
		    0);
	while (n < 0 && errno == EINTR);
	stream_rx_note(n);
	if (n > 0)
		loop_read_size(n);
	if (rx != NULL && transport_rx_end(self, rx, n, &r) != 0)
		return r;
	if (n == 0)
		return PyObject_CallMethod(self, "_read_ready__on_eof", NULL);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			Py_RETURN_NONE;
		PyErr_SetFromErrno(PyExc_OSError);
		return transport_fatal(self,
		    "Fatal read error on socket transport");
	}
	if (rx != NULL)
		Py_RETURN_NONE;
	if ((r = transport_deliver(proto, buf, n)) == NULL)
		return transport_fatal(self,
		    "Fatal error: protocol.data_received() call failed.");
	return r;
}

/* recv into the loop's buffer (its own: loops in other threads may read
 * while the collector or the protocol runs Python before the bytes are
 * copied), or into one of this call's when that one is in use; large
 * messages for asyncio's streams into the reader's buffer (stream.c). */
static PyObject *
transport_read(PyObject *self, PyObject *proto, int fd)
{
	PyObject		*loop, *r;
	char			*buf, *own = NULL;
	struct stream_rx	 rx;

	if (stream_rx_begin(proto, &rx))
		return transport_recv(self, proto, fd, NULL, &rx);
	if ((loop = PyObject_GetAttr(self, s_loop)) == NULL)
		return NULL;
	if ((buf = loop_read_buffer(loop)) == NULL &&
	    (buf = own = PyMem_Malloc(LOOP_READ_MAX)) == NULL) {
		Py_DECREF(loop);
		return PyErr_NoMemory();
	}
	r = transport_recv(self, proto, fd, buf, NULL);
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

/* The loop of self as a LoopCore, or NULL (another loop, with no
 * exception set, or an error). */
static struct loop *
transport_loop(PyObject *self)
{
	PyObject	*loop;
	struct loop	*l = NULL;

	if ((loop = PyObject_GetAttr(self, s_loop)) == NULL)
		return NULL;
	if (PyObject_TypeCheck(loop, loop_core_type()))
		l = loop_of(loop);
	Py_DECREF(loop);	/* the transport keeps its loop alive */
	return l;
}

/* Send what self holds in its loop (wbatch.c), before anything that
 * shows the transport's state or orders bytes against these; -1 with
 * exception. */
static int
transport_flush(PyObject *self)
{
	struct loop	*l;

	if ((l = transport_loop(self)) == NULL)
		return PyErr_Occurred() ? -1 : 0;
	return wbatch_flush(l, self);
}

/* A send on self failed with errno: asyncio's _fatal_error() with its
 * write()'s message; its result (None), or NULL with exception. */
static PyObject *
transport_send_failed(PyObject *self)
{
	PyErr_SetFromErrno(PyExc_OSError);
	return transport_fatal(self, "Fatal write error on socket transport");
}

/* Send n pieces of bytes (total bytes) on fd at once, one syscall; what
 * is left goes asyncio's way: the rest to write() (buffered, the writer
 * watched, flow control checked), an error to _fatal_error() with the
 * message asyncio's write() gives. 0, or -1 with exception. */
int
transport_sendv(PyObject *self, int fd, PyObject *const *data, int n,
    Py_ssize_t total)
{
	struct iovec	 iov[WB_SLOTS];
	struct msghdr	 msg;
	PyObject	*rest, *r;
	Py_ssize_t	 off, len;
	ssize_t		 sent;
	char		*p;
	int		 i;

	memset(&msg, 0, sizeof(msg));
	for (i = 0; i < n; i++) {
		iov[i].iov_base = PyBytes_AS_STRING(data[i]);
		iov[i].iov_len = (size_t)PyBytes_GET_SIZE(data[i]);
	}
	msg.msg_iov = iov;
	msg.msg_iovlen = (size_t)n;
	do
		sent = n == 1 ? send(fd, iov[0].iov_base, iov[0].iov_len, 0) :
		    sendmsg(fd, &msg, 0);
	while (sent < 0 && errno == EINTR);
	if (sent == total)
		return 0;
	if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
		r = transport_send_failed(self);
		Py_XDECREF(r);
		return r == NULL ? -1 : 0;
	}
	if (sent < 0)
		sent = 0;
	if ((rest = PyBytes_FromStringAndSize(NULL, total - sent)) == NULL)
		return -1;
	p = PyBytes_AS_STRING(rest);
	for (i = 0, off = 0; i < n; i++) {
		len = PyBytes_GET_SIZE(data[i]);
		if (off + len > sent) {
			Py_ssize_t skip = sent > off ? sent - off : 0;

			memcpy(p, PyBytes_AS_STRING(data[i]) + skip,
			    (size_t)(len - skip));
			p += len - skip;
		}
		off += len;
	}
	r = transport_super(self, "write", rest);
	Py_DECREF(rest);
	Py_XDECREF(r);
	return r == NULL ? -1 : 0;
}

/* self._high_water as a size, -1 with exception. */
static Py_ssize_t
transport_high_water(PyObject *self)
{
	PyObject	*v;
	Py_ssize_t	 n;

	if ((v = PyObject_GetAttr(self, s_high_water)) == NULL)
		return -1;
	n = PyLong_AsSsize_t(v);
	Py_DECREF(v);
	return n;
}

/* Keep data for the end of the running pass (wbatch.c): bytes as
 * they are, mutable buffers copied, as asyncio copies what it buffers.
 * What would be held past the high-water mark (or WB_LIMIT) is sent now
 * with the rest, so that pause_writing() comes inside write() as in
 * asyncio; up to the mark, even a send that takes nothing at the
 * pass's end leaves no more buffered than asyncio pauses at. */
static int
transport_keep(PyObject *self, struct loop *l, int fd, PyObject *data)
{
	Py_ssize_t	 limit;
	PyObject	*b;
	int		 r;

	if ((limit = transport_high_water(self)) < 0 && PyErr_Occurred())
		return -1;
	if (limit > WB_LIMIT)
		limit = WB_LIMIT;
	b = PyBytes_CheckExact(data) ? Py_NewRef(data) :
	    PyBytes_FromObject(data);
	if (b == NULL)
		return -1;
	r = wbatch_keep(l, self, fd, b, limit);
	Py_DECREF(b);
	return r;
}

/* write(data): inside a pass of our loop, in its thread, with nothing
 * buffered before it, kept until the pass ends; else
 * sent at once; whatever is left (or any unusual case) goes through
 * asyncio's write(). */
static PyObject *
transport_write(PyObject *self, PyObject *data)
{
	Py_buffer	 view;
	struct loop	*l;
	PyObject	*rest, *r;
	ssize_t		 n;
	int		 fd, ok, err;

	if ((l = transport_loop(self)) == NULL && PyErr_Occurred())
		return NULL;
	if (!PyBytes_Check(data) && !PyByteArray_Check(data) &&
	    !PyMemoryView_Check(data)) {
		if (l != NULL && wbatch_flush(l, self) != 0)
			return NULL;
		return transport_super(self, "write", data);
	}
	if ((ok = transport_can_send(self)) <= 0) {
		if (ok < 0 || (l != NULL && wbatch_flush(l, self) != 0))
			return NULL;
		return transport_super(self, "write", data);
	}
	if ((fd = transport_fd(self)) < 0)
		return NULL;
	if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) != 0)
		return NULL;
	if (view.len == 0) {
		PyBuffer_Release(&view);
		Py_RETURN_NONE;
	}
	if (l != NULL && wbatch_inside(l)) {
		PyBuffer_Release(&view);
		if (transport_keep(self, l, fd, data) != 0)
			return NULL;
		Py_RETURN_NONE;
	}
	if (l != NULL && wbatch_flush(l, self) != 0) {
		PyBuffer_Release(&view);
		return NULL;
	}
	do
		n = send(fd, view.buf, view.len, 0);
	while (n < 0 && errno == EINTR);
	if (n == view.len) {
		PyBuffer_Release(&view);
		Py_RETURN_NONE;
	}
	err = errno;
	/* Partly sent: the rest copied while the buffer is still ours. */
	rest = n > 0 ? PyBytes_FromStringAndSize((char *)view.buf + n,
	    view.len - n) : NULL;
	PyBuffer_Release(&view);
	/* Failed: reported with this send's error, as asyncio's write()
	 * does (a second send would see another: EPIPE after ECONNRESET). */
	if (n < 0 && err != EAGAIN && err != EWOULDBLOCK) {
		errno = err;
		return transport_send_failed(self);
	}
	/* Partly sent or would block: asyncio buffers the rest. */
	if (n <= 0)
		rest = Py_NewRef(data);
	else if (rest == NULL)
		return NULL;
	r = transport_super(self, "write", rest);
	Py_DECREF(rest);
	return r;
}

/* Would a send on fd fail now? poll() shows a reset or a peer gone
 * (POLLERR, POLLHUP) without taking the error from the socket, which
 * the send then reports as asyncio's would. */
static int
transport_fd_failed(int fd)
{
	struct pollfd	p = { .fd = fd, .events = POLLOUT };
	int		r;

	do
		r = poll(&p, 1, 0);
	while (r < 0 && errno == EINTR);
	return r != 0 &&
	    (r < 0 || (p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0);
}

/* is_closing(): self._closing, as _SelectorTransport's. Bytes held
 * whose send would fail are sent first, so the error closes it as in
 * asyncio; bytes that would go are left for the pass's end (aiohttp and
 * streams' drain() ask between writes: sending here would split them).
 * Nothing held: no syscall. */
static PyObject *
transport_is_closing(PyObject *self, PyObject *unused)
{
	struct loop	*l;
	int		 fd;

	(void)unused;
	if ((l = transport_loop(self)) == NULL && PyErr_Occurred())
		return NULL;
	if (l != NULL && (fd = wbatch_held(l, self)) >= 0 &&
	    transport_fd_failed(fd) && wbatch_flush(l, self) != 0)
		return NULL;
	return PyObject_GetAttr(self, s_closing);
}

/* get_extra_info() the Python way: BaseTransport's current one (a
 * program may have replaced it) with the arguments as given. */
static PyObject *
transport_extra_slow(PyObject *self, PyObject *const *args,
    Py_ssize_t nargs, PyObject *kwnames)
{
	PyObject	**v, *f, *r;
	Py_ssize_t	  n = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0);

	if ((f = _PyType_Lookup(base_transport, s_get_extra_info)) == NULL) {
		PyErr_SetObject(PyExc_AttributeError, s_get_extra_info);
		return NULL;
	}
	if ((v = PyMem_Malloc((n + 1) * sizeof(*v))) == NULL)
		return PyErr_NoMemory();
	v[0] = self;
	memcpy(v + 1, args, n * sizeof(*v));
	Py_INCREF(f);
	r = PyObject_Vectorcall(f, v, nargs + 1, kwnames);
	Py_DECREF(f);
	PyMem_Free(v);
	return r;
}

/* get_extra_info(name, default=None): self._extra.get(name, default),
 * as asyncio's BaseTransport, unless that one was replaced or the call
 * is unusual (keywords, a wrong count: Python's own messages). */
static PyObject *
transport_extra_info(PyObject *self, PyObject *const *args,
    Py_ssize_t nargs, PyObject *kwnames)
{
	PyObject	*extra, *v, *dflt;

	/* The program may use the socket itself: what is held goes first. */
	if ((kwnames != NULL || (nargs >= 1 && PyUnicode_Check(args[0]) &&
	    PyUnicode_Compare(args[0], s_socket) == 0)) &&
	    transport_flush(self) != 0)
		return NULL;
	if (kwnames != NULL || nargs < 1 || nargs > 2 ||
	    _PyType_Lookup(base_transport, s_get_extra_info) != base_extra_info)
		return transport_extra_slow(self, args, nargs, kwnames);
	dflt = nargs == 2 ? args[1] : Py_None;
	if ((extra = PyObject_GetAttr(self, s_extra)) == NULL)
		return NULL;
	if (!PyDict_CheckExact(extra)) {
		v = PyObject_CallMethod(extra, "get", "OO", args[0], dflt);
		Py_DECREF(extra);
		return v;
	}
	v = PyDict_GetItemWithError(extra, args[0]);
	v = v != NULL ? Py_NewRef(v) : PyErr_Occurred() ? NULL :
	    Py_NewRef(dflt);
	Py_DECREF(extra);
	return v;
}

/* super().name(*args, **kw) after the bytes held are sent: the methods
 * that show the buffer, order bytes after these, or hand the socket on. */
static PyObject *
transport_flushed(PyObject *self, const char *name, PyObject *args,
    PyObject *kw)
{
	PyObject	*sup, *f, *r;

	if (transport_flush(self) != 0)
		return NULL;
	sup = PyObject_CallFunctionObjArgs((PyObject *)&PySuper_Type,
	    (PyObject *)&core_type, self, NULL);
	if (sup == NULL)
		return NULL;
	f = PyObject_GetAttrString(sup, name);
	Py_DECREF(sup);
	if (f == NULL)
		return NULL;
	r = PyObject_Call(f, args, kw);
	Py_DECREF(f);
	return r;
}

#define FLUSHED(fn, name)						\
static PyObject *							\
fn(PyObject *self, PyObject *args, PyObject *kw)			\
{									\
	return transport_flushed(self, name, args, kw);			\
}
FLUSHED(transport_buffer_size, "get_write_buffer_size")
FLUSHED(transport_write_eof, "write_eof")
FLUSHED(transport_close, "close")
FLUSHED(transport_abort, "abort")
FLUSHED(transport_set_limits, "set_write_buffer_limits")
FLUSHED(transport_writelines, "writelines")
FLUSHED(transport_set_protocol, "set_protocol")
FLUSHED(transport_empty_waiter, "_make_empty_waiter")
#undef FLUSHED

#define FLUSHED_DEF(fn, name)						\
	{ .ml_name = name,						\
	  .ml_meth = (PyCFunction)(void (*)(void))fn,			\
	  .ml_flags = METH_VARARGS | METH_KEYWORDS }

static PyMethodDef core_methods[] = {
	FLUSHED_DEF(transport_buffer_size, "get_write_buffer_size"),
	FLUSHED_DEF(transport_write_eof, "write_eof"),
	FLUSHED_DEF(transport_close, "close"),
	FLUSHED_DEF(transport_abort, "abort"),
	FLUSHED_DEF(transport_set_limits, "set_write_buffer_limits"),
	FLUSHED_DEF(transport_writelines, "writelines"),
	FLUSHED_DEF(transport_set_protocol, "set_protocol"),
	FLUSHED_DEF(transport_empty_waiter, "_make_empty_waiter"),
	{ .ml_name = "is_closing",
	  .ml_meth = transport_is_closing,
	  .ml_flags = METH_NOARGS,
	  .ml_doc = "Return True if the transport is closing or closed." },
	{ .ml_name = "get_extra_info",
	  .ml_meth = (PyCFunction)(void (*)(void))transport_extra_info,
	  .ml_flags = LOOP_FASTKW,
	  .ml_doc = "Get optional transport information." },
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
		{ &s_loop, "_loop" }, { &s_extra, "_extra" },
		{ &s_get_extra_info, "get_extra_info" },
		{ &s_high_water, "_high_water" }, { &s_socket, "socket" },
	};

	return py_intern_names(names, PY_NAMES_LEN(names));
}

/* asyncio.BaseTransport and its get_extra_info as defined, to see
 * whether a program replaced it; -1 with exception. */
static int
transport_base(void)
{
	PyObject	*transports, *t;

	if ((transports = PyImport_ImportModule("asyncio.transports")) == NULL)
		return -1;
	t = PyObject_GetAttrString(transports, "BaseTransport");
	Py_DECREF(transports);
	if (t == NULL)
		return -1;
	if (!PyType_Check(t)) {
		Py_DECREF(t);
		PyErr_SetString(PyExc_TypeError, "asyncio.BaseTransport");
		return -1;
	}
	base_transport = (PyTypeObject *)t;
	base_extra_info = _PyType_Lookup(base_transport, s_get_extra_info);
	if (base_extra_info == NULL) {
		PyErr_SetString(PyExc_AttributeError, "get_extra_info");
		return -1;
	}
	Py_INCREF(base_extra_info);
	return 0;
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
	if (transport_names() != 0 || transport_base() != 0)
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
	return stream_ready();
}
