/* sock_recv, sock_recv_into and sock_sendall in C: the syscall is tried
 * first; a read that would block waits on the loop with a C callback.
 * They return coroutines, as asyncio's, that are done at once when the
 * syscall was. */
#include <errno.h>
#include <sys/socket.h>

#include "loop/loop.h"

static PyObject *partial;		/* functools.partial */
static PyObject *s_create_future, *s_set_result, *s_set_exception;
static PyObject *s_done, *s_ssl;
static PyObject *ssl_socket;		/* ssl.SSLSocket, once ssl is loaded */

static PyObject *awaiting_new(PyObject *);

/* Raise as asyncio does for what cannot be used with sock_* methods. */
static int
sock_check(PyObject *loop, PyObject *sock, int debug)
{
	PyObject	*ssl, *t;
	int		 bad = 0;

	(void)loop;
	/* An SSLSocket exists only once ssl is imported: look it up once. */
	if (ssl_socket == NULL) {
		if ((ssl = PyImport_GetModule(s_ssl)) != NULL) {
			ssl_socket = PyObject_GetAttrString(ssl, "SSLSocket");
			Py_DECREF(ssl);
		}
		if (PyErr_Occurred())
			return -1;
	}
	if (ssl_socket != NULL &&
	    (bad = PyObject_IsInstance(sock, ssl_socket)) != 0) {
		if (bad > 0)
			PyErr_SetString(PyExc_TypeError,
			    "Socket cannot be of type SSLSocket");
		return -1;
	}
	if (!debug)
		return 0;
	if ((t = PyObject_CallMethod(sock, "gettimeout", NULL)) == NULL)
		return -1;
	bad = PyFloat_Check(t) ? PyFloat_AS_DOUBLE(t) != 0 : t != Py_None ?
	    PyObject_IsTrue(t) : 1;
	Py_DECREF(t);
	if (bad) {
		PyErr_SetString(PyExc_ValueError,
		    "the socket must be non-blocking");
		return -1;
	}
	return 0;
}

/* A future of loop resolved with v (set_result) or the exception set. */
static PyObject *
sock_future(PyObject *loop, PyObject *v)
{
	PyObject	*fut, *type, *exc, *tb, *r;

	if (v == NULL)
		PyErr_Fetch(&type, &exc, &tb);
	fut = PyObject_CallMethodNoArgs(loop, s_create_future);
	if (v == NULL) {
		if (fut == NULL) {
			Py_XDECREF(type);
			Py_XDECREF(exc);
			Py_XDECREF(tb);
			return NULL;
		}
		PyErr_NormalizeException(&type, &exc, &tb);
		if (tb != NULL)
			PyException_SetTraceback(exc, tb);
		r = PyObject_CallMethodOneArg(fut, s_set_exception, exc);
		Py_XDECREF(type);
		Py_XDECREF(exc);
		Py_XDECREF(tb);
	} else
		r = fut ? PyObject_CallMethodOneArg(fut, s_set_result, v) : NULL;
	Py_XDECREF(r);
	if (r == NULL)
		Py_CLEAR(fut);
	return fut;
}

/* recv(n) on fd: bytes, NULL with errno EAGAIN (no exception), or NULL
 * with an exception. */
static PyObject *
sock_recv_bytes(int fd, Py_ssize_t n)
{
	PyObject	*data;
	ssize_t		 got;

	if (n < 0) {
		PyErr_SetString(PyExc_ValueError,
		    "negative buffersize in recv");
		return NULL;
	}
	if ((data = PyBytes_FromStringAndSize(NULL, n)) == NULL)
		return NULL;
	do
		got = recv(fd, PyBytes_AS_STRING(data), n, 0);
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		Py_DECREF(data);
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			PyErr_SetFromErrno(PyExc_OSError);
		else
			errno = EAGAIN;
		return NULL;
	}
	if (got != n && _PyBytes_Resize(&data, got) != 0)
		return NULL;
	return data;
}

/* recv_into(buf) on fd: the byte count, NULL as sock_recv_bytes. */
static PyObject *
sock_recv_buffer(int fd, PyObject *buf)
{
	Py_buffer	view;
	ssize_t		got;

	if (PyObject_GetBuffer(buf, &view, PyBUF_WRITABLE) != 0)
		return NULL;
	do
		got = recv(fd, view.buf, view.len, 0);
	while (got < 0 && errno == EINTR);
	PyBuffer_Release(&view);
	if (got >= 0)
		return PyLong_FromSsize_t(got);
	if (errno != EAGAIN && errno != EWOULDBLOCK)
		PyErr_SetFromErrno(PyExc_OSError);
	else
		errno = EAGAIN;
	return NULL;
}

/* One attempt: recv (want is an int) or recv_into (want is a buffer). */
static PyObject *
sock_try(int fd, PyObject *want)
{
	Py_ssize_t	n;

	if (!PyLong_Check(want))
		return sock_recv_buffer(fd, want);
	if ((n = PyLong_AsSsize_t(want)) == -1 && PyErr_Occurred())
		return NULL;
	return sock_recv_bytes(fd, n);
}

/* Reader callback (fut, sock, want): asyncio's _sock_recv(_into). */
static PyObject *
sock_readable(PyObject *unused, PyObject *const *args, Py_ssize_t nargs)
{
	PyObject	*done, *v, *r;
	int		 fd;

	(void)unused;
	if (nargs != 3)
		return NULL;
	if ((done = PyObject_CallMethodNoArgs(args[0], s_done)) == NULL)
		return NULL;
	r = done == Py_True ? Py_None : NULL;
	Py_DECREF(done);
	if (r != NULL)
		Py_RETURN_NONE;
	if ((fd = PyObject_AsFileDescriptor(args[1])) < 0)
		return NULL;
	if ((v = sock_try(fd, args[2])) == NULL && !PyErr_Occurred())
		Py_RETURN_NONE;	/* would block: try again next time */
	if (v == NULL) {
		if (PyErr_ExceptionMatches(PyExc_SystemExit) ||
		    PyErr_ExceptionMatches(PyExc_KeyboardInterrupt))
			return NULL;
		PyObject *type, *exc, *tb;
		PyErr_Fetch(&type, &exc, &tb);
		PyErr_NormalizeException(&type, &exc, &tb);
		if (tb != NULL)
			PyException_SetTraceback(exc, tb);
		r = PyObject_CallMethodOneArg(args[0], s_set_exception, exc);
		Py_XDECREF(type);
		Py_XDECREF(exc);
		Py_XDECREF(tb);
	} else {
		r = PyObject_CallMethodOneArg(args[0], s_set_result, v);
		Py_DECREF(v);
	}
	Py_XDECREF(r);
	return r == NULL ? NULL : Py_NewRef(Py_None);
}

/* Done callback (loop, fd, handle, fut): stop watching unless the
 * reader was replaced (its handle cancelled), as asyncio. */
static PyObject *
sock_read_done(PyObject *unused, PyObject *const *args, Py_ssize_t nargs)
{
	PyObject	*c, *r;

	(void)unused;
	if (nargs != 4)
		return NULL;
	if ((c = PyObject_CallMethod(args[2], "cancelled", NULL)) == NULL)
		return NULL;
	r = c == Py_True ? Py_NewRef(Py_None) :
	    PyObject_CallMethod(args[0], "remove_reader", "O", args[1]);
	Py_DECREF(c);
	if (r == NULL)
		return NULL;
	Py_DECREF(r);
	Py_RETURN_NONE;
}

static PyMethodDef readable_def = {
	"_sock_readable", (PyCFunction)(void (*)(void))sock_readable,
	METH_FASTCALL, NULL
};

static PyMethodDef read_done_def = {
	"_sock_read_done", (PyCFunction)(void (*)(void))sock_read_done,
	METH_FASTCALL, NULL
};

static PyObject *readable_fn, *read_done_fn;

/* Wait on loop for fd to be readable, then receive into a new future. */
static PyObject *
sock_wait(PyObject *loop, PyObject *sock, int fd, PyObject *want)
{
	PyObject	*fut, *fdo = NULL, *h = NULL, *cb = NULL, *r = NULL;

	if ((fut = PyObject_CallMethodNoArgs(loop, s_create_future)) == NULL)
		return NULL;
	if ((fdo = PyLong_FromLong(fd)) == NULL)
		goto fail;
	r = PyObject_CallMethod(loop, "_ensure_fd_no_transport", "O", fdo);
	if (r == NULL)
		goto fail;
	Py_CLEAR(r);
	h = PyObject_CallMethod(loop, "_add_reader", "OOOOO", fdo, readable_fn,
	    fut, sock, want);
	if (h == NULL)
		goto fail;
	cb = PyObject_CallFunctionObjArgs(partial, read_done_fn, loop, fdo, h,
	    NULL);
	if (cb == NULL ||
	    (r = PyObject_CallMethod(fut, "add_done_callback", "O", cb)) == NULL)
		goto fail;
	Py_DECREF(r);
	Py_DECREF(cb);
	Py_DECREF(h);
	Py_DECREF(fdo);
	return fut;
fail:
	Py_XDECREF(cb);
	Py_XDECREF(h);
	Py_XDECREF(fdo);
	Py_DECREF(fut);
	return NULL;
}

/* sock_recv(sock, n) / sock_recv_into(sock, buf). */
PyObject *
sock_receive(PyObject *loop, PyObject *sock, PyObject *want, int debug)
{
	PyObject	*v;
	int		 fd;

	if (sock_check(loop, sock, debug) != 0)
		return NULL;
	if ((fd = PyObject_AsFileDescriptor(sock)) < 0)
		return NULL;
	if ((v = sock_try(fd, want)) != NULL) {
		Py_SETREF(v, awaiting_new(sock_future(loop, v)));
		return v;
	}
	if (PyErr_Occurred())
		return awaiting_new(sock_future(loop, NULL));
	return awaiting_new(sock_wait(loop, sock, fd, want));
}

/* sock_sendall(sock, data): sent at once, or asyncio's coroutine for
 * what is left. */
PyObject *
sock_send_all(PyObject *loop, PyObject *sock, PyObject *data, int debug,
    PyObject *(*slow)(PyObject *, PyObject *, PyObject *))
{
	Py_buffer	 view;
	PyObject	*rest, *r;
	ssize_t		 n;
	int		 fd;

	if (sock_check(loop, sock, debug) != 0)
		return NULL;
	if ((fd = PyObject_AsFileDescriptor(sock)) < 0)
		return NULL;
	if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) != 0)
		return NULL;
	do
		n = view.len ? send(fd, view.buf, view.len, 0) : 0;
	while (n < 0 && errno == EINTR);
	if (n == view.len) {
		PyBuffer_Release(&view);
		return awaiting_new(sock_future(loop, Py_None));
	}
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
		PyBuffer_Release(&view);
		PyErr_SetFromErrno(PyExc_OSError);
		return awaiting_new(sock_future(loop, NULL));
	}
	rest = n > 0 ? PyBytes_FromStringAndSize((char *)view.buf + n,
	    view.len - n) : Py_NewRef(data);
	PyBuffer_Release(&view);
	if (rest == NULL)
		return NULL;
	r = slow(loop, sock, rest);
	Py_DECREF(rest);
	return r;
}

/* A coroutine awaiting one future: `async def f(): return await fut`. */
struct awaiting {
	PyObject_HEAD
	PyObject	*fut;
	int		 yielded;
};

static PyTypeObject awaiting_type;

/* The future's result as StopIteration, or its exception. */
static PyObject *
awaiting_finish(struct awaiting *self)
{
	PyObject	*v, *stop;

	if ((v = PyObject_CallMethod(self->fut, "result", NULL)) == NULL)
		return NULL;
	stop = PyObject_CallOneArg(PyExc_StopIteration, v);
	Py_DECREF(v);
	if (stop != NULL) {
		PyErr_SetObject(PyExc_StopIteration, stop);
		Py_DECREF(stop);
	}
	return NULL;
}

static PyObject *
awaiting_send(struct awaiting *self, PyObject *arg)
{
	PyObject	*done;
	int		 d;

	(void)arg;
	if (self->fut == NULL) {
		PyErr_SetString(PyExc_RuntimeError,
		    "cannot reuse already awaited coroutine");
		return NULL;
	}
	if ((done = PyObject_CallMethodNoArgs(self->fut, s_done)) == NULL)
		return NULL;
	d = done == Py_True;
	Py_DECREF(done);
	if (d || self->yielded) {
		PyObject *r = awaiting_finish(self);
		Py_CLEAR(self->fut);
		return r;
	}
	if (PyObject_SetAttrString(self->fut, "_asyncio_future_blocking",
	    Py_True) != 0)
		return NULL;
	self->yielded = 1;
	return Py_NewRef(self->fut);
}

static PyObject *
awaiting_iternext(struct awaiting *self)
{
	PyObject	*r = awaiting_send(self, Py_None);
	PyObject	*type, *value, *tb;

	/* A result must reach the awaiting frame: keep StopIteration
	 * unless its value is None. */
	if (r == NULL && PyErr_ExceptionMatches(PyExc_StopIteration)) {
		PyErr_Fetch(&type, &value, &tb);
		PyErr_NormalizeException(&type, &value, &tb);
		if (((PyStopIterationObject *)value)->value != Py_None) {
			PyErr_Restore(type, value, tb);
			return NULL;
		}
		Py_XDECREF(type);
		Py_XDECREF(value);
		Py_XDECREF(tb);
	}
	return r;
}

/* throw(exc): the wait is over (cancelled): cancel the future too. */
static PyObject *
awaiting_throw(struct awaiting *self, PyObject *args)
{
	PyObject	*type, *value = NULL, *tb = NULL, *r;

	if (!PyArg_UnpackTuple(args, "throw", 1, 3, &type, &value, &tb))
		return NULL;
	if (self->fut != NULL) {
		r = PyObject_CallMethod(self->fut, "cancel", NULL);
		Py_XDECREF(r);
		Py_CLEAR(self->fut);
		if (r == NULL)
			return NULL;
	}
	if (PyExceptionInstance_Check(type))
		PyErr_SetObject((PyObject *)Py_TYPE(type), type);
	else
		PyErr_SetObject(type, value);
	return NULL;
}

static PyObject *
awaiting_close(struct awaiting *self, PyObject *unused)
{
	PyObject	*r;

	(void)unused;
	if (self->fut != NULL) {
		r = PyObject_CallMethod(self->fut, "cancel", NULL);
		Py_CLEAR(self->fut);
		if (r == NULL)
			return NULL;
		Py_DECREF(r);
	}
	Py_RETURN_NONE;
}

static PyObject *
awaiting_await(PyObject *self)
{
	return Py_NewRef(self);
}

static int
awaiting_traverse(struct awaiting *self, visitproc visit, void *arg)
{
	Py_VISIT(self->fut);
	return 0;
}

static int
awaiting_clear(struct awaiting *self)
{
	Py_CLEAR(self->fut);
	return 0;
}

static void
awaiting_dealloc(struct awaiting *self)
{
	PyObject_GC_UnTrack(self);
	awaiting_clear(self);
	PyObject_GC_Del(self);
}

static PyMethodDef awaiting_methods[] = {
	{ "send", (PyCFunction)awaiting_send, METH_O, NULL },
	{ "throw", (PyCFunction)awaiting_throw, METH_VARARGS, NULL },
	{ "close", (PyCFunction)awaiting_close, METH_NOARGS, NULL },
	{ NULL, NULL, 0, NULL }
};

static PyAsyncMethods awaiting_async = { .am_await = awaiting_await };

static PyTypeObject awaiting_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "apython.sock_operation",
	.tp_doc = "A socket operation of apython.Loop, as a coroutine.",
	.tp_basicsize = sizeof(struct awaiting),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.tp_traverse = (traverseproc)awaiting_traverse,
	.tp_clear = (inquiry)awaiting_clear,
	.tp_dealloc = (destructor)awaiting_dealloc,
	.tp_as_async = &awaiting_async,
	.tp_iter = awaiting_await,
	.tp_iternext = (iternextfunc)awaiting_iternext,
	.tp_methods = awaiting_methods,
};

/* A coroutine awaiting fut (consumed). */
static PyObject *
awaiting_new(PyObject *fut)
{
	struct awaiting	*self;

	if (fut == NULL)
		return NULL;
	if ((self = PyObject_GC_New(struct awaiting, &awaiting_type)) == NULL) {
		Py_DECREF(fut);
		return NULL;
	}
	self->fut = fut;
	self->yielded = 0;
	PyObject_GC_Track(self);
	return (PyObject *)self;
}

/* Get ready; -1 with exception. */
int
sock_ready(void)
{
	PyObject	*ft;

	if (PyType_Ready(&awaiting_type) != 0)
		return -1;
	if ((ft = PyImport_ImportModule("functools")) == NULL)
		return -1;
	partial = PyObject_GetAttrString(ft, "partial");
	Py_DECREF(ft);
	readable_fn = PyCFunction_New(&readable_def, NULL);
	read_done_fn = PyCFunction_New(&read_done_def, NULL);
	s_create_future = PyUnicode_InternFromString("create_future");
	s_set_result = PyUnicode_InternFromString("set_result");
	s_set_exception = PyUnicode_InternFromString("set_exception");
	s_done = PyUnicode_InternFromString("done");
	s_ssl = PyUnicode_InternFromString("ssl");
	if (partial == NULL || readable_fn == NULL || read_done_fn == NULL ||
	    s_create_future == NULL || s_set_result == NULL ||
	    s_set_exception == NULL || s_done == NULL || s_ssl == NULL)
		return -1;
	return 0;
}
