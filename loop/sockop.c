/* The sock_* methods in C, for socket.socket itself (other objects get
 * asyncio's coroutines): recv, recv_into and sendall make their syscalls
 * here; accept, recvfrom, recvfrom_into and sendto call the socket's own
 * methods, as asyncio does, but wait the same way. Each call returns an
 * operation that is its own coroutine and, once it waits, the future its
 * task blocks on: no asyncio.Future, no Handle, no done callback of our
 * own. As asyncio, it tries the syscall first and waits only on EAGAIN;
 * a wait is queued with the I/O callbacks when its socket is ready. */
#include <errno.h>
#include <sys/socket.h>

#include "loop/loop-internal.h"

enum { OP_RECV = SOCK_RECV, OP_RECV_INTO = SOCK_RECV_INTO,
    OP_SENDALL = SOCK_SENDALL, OP_ACCEPT = SOCK_ACCEPT,
    OP_RECVFROM = SOCK_RECVFROM, OP_RECVFROM_INTO = SOCK_RECVFROM_INTO,
    OP_SENDTO = SOCK_SENDTO };
enum { ST_NEW, ST_WAITING, ST_DONE, ST_CANCELLED };

struct sockop {
	PyObject_HEAD
	PyObject	*loop;
	PyObject	*sock;
	PyObject	*arg;		/* size, buffer or data, as the method's */
	PyObject	*arg2;		/* recvfrom_into's nbytes, sendto's address */
	PyObject	*value;		/* result, exception or cancel message */
	PyObject	*cb, *ctx;	/* the first done callback */
	PyObject	*more;		/* the others: a list of (fn, ctx) */
	Py_buffer	 view;		/* sendall's data while it is sent */
	Py_ssize_t	 n;		/* recv's size, sendall's bytes sent */
	int		 fd;
	unsigned char	 kind, state, failed, blocking, yielded, consumed;
	unsigned char	 has_view;
};

/* The loop's method each kind is, by index. */
static const char *const op_names[] = {
	"sock_recv", "sock_recv_into", "sock_sendall", "sock_accept",
	"sock_recvfrom", "sock_recvfrom_into", "sock_sendto"
};

static PyTypeObject op_type;
static PyObject *op_result(struct sockop *, PyObject *);
static PyObject *socket_type;		/* socket.socket */
static PyObject *cancelled_error, *invalid_state;
static PyObject *s_fileno, *s_transports, *s_data, *s_ensure;
static PyObject *s_gettimeout, *s_setblocking;
static PyObject *s_accept, *s_recvfrom, *s_recvfrom_into, *s_sendto;

/* Waits to write rather than to read. */
static int
op_dir(const struct sockop *op)
{
	return op->kind == OP_SENDALL || op->kind == OP_SENDTO;
}

/* The fd of the socket now: closed sockets say -1. */
static int
op_fd(struct sockop *op)
{
	PyObject	*v;
	long		 fd;

	if ((v = PyObject_CallMethodNoArgs(op->sock, s_fileno)) == NULL)
		return -1;
	fd = PyLong_AsLong(v);
	Py_DECREF(v);
	if (fd < 0 && !PyErr_Occurred()) {
		errno = EBADF;	/* closed: as sock.recv() would say */
		PyErr_SetFromErrno(PyExc_OSError);
	}
	return fd < 0 || fd > INT_MAX ? -1 : (int)fd;
}

/* recv(n): 1 with the bytes in value, 0 on EAGAIN, -1 with exception. */
static int
op_recv(struct sockop *op, int fd)
{
	PyObject	*data;
	ssize_t		 got;

	if ((data = PyBytes_FromStringAndSize(NULL, op->n)) == NULL)
		return -1;
	do
		got = recv(fd, PyBytes_AS_STRING(data), op->n, 0);
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		Py_DECREF(data);
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		PyErr_SetFromErrno(PyExc_OSError);
		return -1;
	}
	if (got != op->n && _PyBytes_Resize(&data, got) != 0)
		return -1;
	op->value = data;
	return 1;
}

/* recv_into(buf): as op_recv, with the byte count. */
static int
op_recv_into(struct sockop *op, int fd)
{
	Py_buffer	view;
	ssize_t		got;

	if (PyObject_GetBuffer(op->arg, &view, PyBUF_WRITABLE) != 0) {
		PyErr_Clear();	/* sock.recv_into()'s words, not the buffer's */
		PyErr_Format(PyExc_TypeError, "recv_into() argument 1 must be "
		    "read-write bytes-like object, not %.200s",
		    Py_TYPE(op->arg)->tp_name);
		return -1;
	}
	do
		got = recv(fd, view.buf, view.len, 0);
	while (got < 0 && errno == EINTR);
	PyBuffer_Release(&view);
	if (got >= 0)
		return (op->value = PyLong_FromSsize_t(got)) ? 1 : -1;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	PyErr_SetFromErrno(PyExc_OSError);
	return -1;
}

/* sendall(data): send what is left; 1 once all went, as op_recv. */
static int
op_send(struct sockop *op, int fd)
{
	ssize_t	n;

	if (!op->has_view) {
		if (PyObject_GetBuffer(op->arg, &op->view, PyBUF_SIMPLE) != 0)
			return -1;
		op->has_view = 1;
	}
	while (op->n < op->view.len) {
		n = send(fd, (char *)op->view.buf + op->n,
		    op->view.len - op->n, 0);
		if (n >= 0)
			op->n += n;
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		else if (errno != EINTR) {
			PyErr_SetFromErrno(PyExc_OSError);
			return -1;
		}
	}
	PyBuffer_Release(&op->view);
	op->has_view = 0;
	op->value = Py_NewRef(Py_None);
	return 1;
}

/* The socket's own method; BlockingIOError and InterruptedError mean
 * wait, as in asyncio. accept()'s connection is made non-blocking. */
static int
op_call(struct sockop *op, PyObject *name)
{
	PyObject	*v, *conn, *r;

	/* Arguments end at the first NULL: accept() has none. */
	v = PyObject_CallMethodObjArgs(op->sock, name, op->arg, op->arg2, NULL);
	if (v == NULL) {
		if (!PyErr_ExceptionMatches(PyExc_BlockingIOError) &&
		    !PyErr_ExceptionMatches(PyExc_InterruptedError))
			return -1;
		PyErr_Clear();
		return 0;
	}
	if (op->kind == OP_ACCEPT) {
		conn = PyTuple_Check(v) && PyTuple_GET_SIZE(v) == 2 ?
		    PyTuple_GET_ITEM(v, 0) : Py_None;
		r = PyObject_CallMethodOneArg(conn, s_setblocking, Py_False);
		if (r == NULL) {
			Py_DECREF(v);
			return -1;
		}
		Py_DECREF(r);
	}
	op->value = v;
	return 1;
}

/* One attempt of the syscall on fd: 1 done, 0 would block, -1 error. */
static int
op_attempt(struct sockop *op, int fd)
{
	switch (op->kind) {
	case OP_RECV:
		return op_recv(op, fd);
	case OP_RECV_INTO:
		return op_recv_into(op, fd);
	case OP_SENDALL:
		return op_send(op, fd);
	case OP_ACCEPT:
		return op_call(op, s_accept);
	case OP_RECVFROM:
		return op_call(op, s_recvfrom);
	case OP_RECVFROM_INTO:
		return op_call(op, s_recvfrom_into);
	default:
		return op_call(op, s_sendto);
	}
}

/* Raise what asyncio raises when fd belongs to a transport. */
static int
op_no_transport(struct sockop *op)
{
	PyObject	*t, *d, *fdo, *r;
	int		 found;

	if ((t = PyObject_GetAttr(op->loop, s_transports)) == NULL)
		return -1;
	d = PyObject_GetAttr(t, s_data);
	Py_DECREF(t);
	if (d == NULL || (fdo = PyLong_FromLong(op->fd)) == NULL) {
		Py_XDECREF(d);
		return -1;
	}
	found = PyDict_Check(d) ? PyDict_Contains(d, fdo) : 1;
	Py_DECREF(d);
	r = found > 0 ? PyObject_CallMethodOneArg(op->loop, s_ensure, fdo) :
	    Py_NewRef(Py_None);
	Py_DECREF(fdo);
	Py_XDECREF(r);
	return found < 0 || r == NULL ? -1 : 0;
}

/* asyncio's check in debug mode: the socket must not block. */
static int
op_check_blocking(struct sockop *op)
{
	PyObject	*t;
	int		 bad;

	if ((bad = loop_debug(op->loop)) <= 0)
		return bad;
	if ((t = PyObject_CallMethodNoArgs(op->sock, s_gettimeout)) == NULL)
		return -1;
	bad = PyFloat_Check(t) ? PyFloat_AS_DOUBLE(t) != 0 :
	    t != Py_None ? PyObject_IsTrue(t) : 1;
	Py_DECREF(t);
	if (bad > 0)
		PyErr_SetString(PyExc_ValueError,
		    "the socket must be non-blocking");
	return bad ? -1 : 0;
}

/* recv's size, checked as sock.recv() checks it. */
static int
op_size(struct sockop *op)
{
	if ((op->n = PyNumber_AsSsize_t(op->arg, PyExc_OverflowError)) == -1 &&
	    PyErr_Occurred())
		return -1;
	if (op->n < 0) {
		PyErr_SetString(PyExc_ValueError, "negative buffersize in recv");
		return -1;
	}
	return 0;
}

/* recvfrom_into's nbytes: asyncio's `if not nbytes: nbytes = len(buf)`. */
static int
op_nbytes(struct sockop *op)
{
	Py_ssize_t	n;
	int		given;

	if (op->arg2 != NULL && (given = PyObject_IsTrue(op->arg2)) != 0)
		return given < 0 ? -1 : 0;
	if ((n = PyObject_Size(op->arg)) < 0)
		return -1;
	Py_XSETREF(op->arg2, PyLong_FromSsize_t(n));
	return op->arg2 == NULL ? -1 : 0;
}

/* The coroutine's body up to its first wait: 0 done or waiting. */
static int
op_start(struct sockop *op)
{
	struct sockpoll	*sp;
	int		 dir = op_dir(op), r;

	if (op_check_blocking(op) != 0 ||
	    (op->kind == OP_RECV && op_size(op) != 0) ||
	    (op->kind == OP_RECVFROM_INTO && op_nbytes(op) != 0) ||
	    (op->fd = op_fd(op)) < 0)
		return -1;
	if (sockpoll_may(loop_sockpoll(op->loop, 0), op->sock, op->fd, dir)) {
		if ((r = op_attempt(op, op->fd)) != 0) {
			op->state = ST_DONE;
			return r < 0 ? -1 : 0;
		}
		/* Asked again: the attempt may run Python (accept() is). */
		sockpoll_drained(loop_sockpoll(op->loop, 0), op->sock, op->fd,
		    dir);
	}
	if (op_no_transport(op) != 0 ||
	    (sp = loop_sockpoll(op->loop, 1)) == NULL ||
	    sockpoll_wait(sp, op->sock, op->fd, dir, (PyObject *)op) != 0)
		return -1;
	op->state = ST_WAITING;
	return 0;
}

/* Schedule fn(op) in ctx as asyncio's futures do, with call_soon. */
static int
op_schedule(struct sockop *op, PyObject *fn, PyObject *ctx)
{
	return loop_soon_call(op->loop, fn, (PyObject *)op, ctx);
}

/* The operation is over: stop waiting, call back. */
static int
op_finish(struct sockop *op, int state)
{
	PyObject	*cb, *ctx, *more;
	Py_ssize_t	 i;
	int		 r = 0;

	if (op->state == ST_WAITING)
		sockpoll_forget(loop_sockpoll(op->loop, 0), op->fd, op_dir(op),
		    (PyObject *)op);
	op->state = state;
	if (op->has_view) {
		PyBuffer_Release(&op->view);
		op->has_view = 0;
	}
	cb = op->cb, ctx = op->ctx, more = op->more;
	op->cb = op->ctx = op->more = NULL;
	if (cb != NULL)
		r = op_schedule(op, cb, ctx);
	for (i = 0; more != NULL && r == 0 && i < PyList_GET_SIZE(more); i++)
		r = op_schedule(op, PyTuple_GET_ITEM(PyList_GET_ITEM(more, i),
		    0), PyTuple_GET_ITEM(PyList_GET_ITEM(more, i), 1));
	Py_XDECREF(cb);
	Py_XDECREF(ctx);
	Py_XDECREF(more);
	return r;
}

/* The pending exception, with its traceback, kept as the outcome. */
static void
op_keep_error(struct sockop *op)
{
	PyObject	*type, *exc, *tb;

	PyErr_Fetch(&type, &exc, &tb);
	PyErr_NormalizeException(&type, &exc, &tb);
	if (tb != NULL)
		PyException_SetTraceback(exc, tb);
	Py_XDECREF(type);
	Py_XDECREF(tb);
	op->value = exc;
	op->failed = 1;
}

/* Run from the ready queue when the socket became ready, as asyncio's
 * reader or writer callback. Only SystemExit and KeyboardInterrupt
 * come out; other errors become the outcome. */
int
sock_op_run(PyObject *self)
{
	struct sockop	*op = (struct sockop *)self;
	int		 dir = op_dir(op), fd, r = 0;

	if (op->state != ST_WAITING)
		return 0;
	if ((fd = op_fd(op)) >= 0 && (r = op_attempt(op, fd)) == 0) {
		sockpoll_drained(loop_sockpoll(op->loop, 0), op->sock, fd, dir);
		return 0;
	}
	if (fd < 0 || r < 0) {
		if (PyErr_ExceptionMatches(PyExc_SystemExit) ||
		    PyErr_ExceptionMatches(PyExc_KeyboardInterrupt))
			return -1;
		op_keep_error(op);
	}
	return op_finish(op, ST_DONE);
}

int
sock_op_check(PyObject *o)
{
	return Py_TYPE(o) == &op_type;
}

/* A new CancelledError, with the message cancel() was given. */
static PyObject *
op_cancelled_error(struct sockop *op)
{
	if (op->value == NULL || op->value == Py_None)
		return PyObject_CallNoArgs(cancelled_error);
	return PyObject_CallOneArg(cancelled_error, op->value);
}

/* Raise exc (a new reference) with the traceback it carries. */
static void
op_raise(PyObject *exc)
{
	PyObject	*tb;

	if (exc == NULL)
		return;
	tb = PyException_GetTraceback(exc);
	PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(exc)), exc, tb);
}

/* The outcome of an operation that is over: result() as the
 * coroutine's return value (1, in *out) or its exception (-1). */
static int
op_outcome(struct sockop *op, PyObject **out)
{
	op->consumed = 1;
	return (*out = op_result(op, NULL)) != NULL ? 1 : -1;
}

/* Advance the coroutine: 0 with the future to block on in *out (itself),
 * 1 with its return value, -1 with an exception. */
static int
op_step(struct sockop *op, PyObject **out)
{
	if (op->consumed) {
		PyErr_SetString(PyExc_RuntimeError,
		    "cannot reuse already awaited coroutine");
		return -1;
	}
	if (op->state == ST_NEW && op_start(op) != 0) {
		op->consumed = 1;
		op->state = ST_DONE;
		return -1;
	}
	if (op->state != ST_WAITING)
		return op_outcome(op, out);
	if (op->yielded) {
		/* As asyncio's Future.__await__ resumed too early. */
		op->consumed = 1;
		op_finish(op, ST_CANCELLED);
		PyErr_SetString(PyExc_RuntimeError,
		    "await wasn't used with future");
		return -1;
	}
	op->yielded = op->blocking = 1;
	*out = Py_NewRef((PyObject *)op);
	return 0;
}

static PyObject *
op_iternext(struct sockop *op)
{
	PyObject	*out = NULL, *stop;
	int		 r;

	if ((r = op_step(op, &out)) <= 0)
		return r == 0 ? out : NULL;
	if (out == Py_None) {
		Py_DECREF(out);
		return NULL;	/* StopIteration(None), implied */
	}
	stop = PyObject_CallOneArg(PyExc_StopIteration, out);
	Py_DECREF(out);
	if (stop != NULL) {
		PyErr_SetObject(PyExc_StopIteration, stop);
		Py_DECREF(stop);
	}
	return NULL;
}

static PyObject *
op_send_method(struct sockop *op, PyObject *arg)
{
	PyObject	*r = op_iternext(op);

	(void)arg;
	if (r == NULL && !PyErr_Occurred())
		PyErr_SetNone(PyExc_StopIteration);
	return r;
}

#if PY_VERSION_HEX >= 0x030A0000
static PySendResult
op_am_send(PyObject *self, PyObject *arg, PyObject **out)
{
	int	r;

	(void)arg;
	*out = NULL;
	r = op_step((struct sockop *)self, out);
	return r == 0 ? PYGEN_NEXT : r > 0 ? PYGEN_RETURN : PYGEN_ERROR;
}
#endif

/* Stop waiting for good, quietly: the coroutine was thrown into or
 * closed. */
static int
op_abandon(struct sockop *op)
{
	op->consumed = 1;
	if (op->state != ST_NEW && op->state != ST_WAITING)
		return 0;
	Py_XSETREF(op->value, NULL);
	return op_finish(op, ST_CANCELLED);
}

/* Set what throw(type, value, tb) raises, as a coroutine that awaits a
 * future does: the traceback given (or the instance's own) is kept, and
 * the caller's frames are added above it as the exception leaves. */
static void
op_set_thrown(PyObject *type, PyObject *value, PyObject *tb)
{
	if (value == Py_None)
		value = NULL;
	if (tb == Py_None)
		tb = NULL;
	else if (tb != NULL && !PyTraceBack_Check(tb)) {
		PyErr_SetString(PyExc_TypeError,
		    "throw() third argument must be a traceback");
		return;
	}
	if (PyExceptionInstance_Check(type)) {
		if (value != NULL) {
			PyErr_SetString(PyExc_TypeError, "instance exception "
			    "may not have a separate value");
			return;
		}
		value = Py_NewRef(type);
		tb = tb != NULL ? Py_NewRef(tb) : PyException_GetTraceback(value);
		PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(value)), value, tb);
		return;
	}
	if (!PyExceptionClass_Check(type)) {
		PyErr_SetString(PyExc_TypeError,
		    "exceptions must derive from BaseException");
		return;
	}
	Py_INCREF(type);
	Py_XINCREF(value);
	Py_XINCREF(tb);
	PyErr_NormalizeException(&type, &value, &tb);
	if (tb != NULL && value != NULL)
		PyException_SetTraceback(value, tb);
	PyErr_Restore(type, value, tb);
}

/* throw(type[, value[, tb]]): raise it where the coroutine waits. */
static PyObject *
op_throw(struct sockop *op, PyObject *args)
{
	PyObject	*type, *value = NULL, *tb = NULL;

	if (!PyArg_UnpackTuple(args, "throw", 1, 3, &type, &value, &tb))
		return NULL;
#if PY_VERSION_HEX >= 0x030C0000
	if (PyTuple_GET_SIZE(args) > 1 && PyErr_WarnEx(
	    PyExc_DeprecationWarning, "the (type, exc, tb) signature of "
	    "throw() is deprecated, use the single-arg signature instead.",
	    1) < 0)
		return NULL;
#endif
	if (op_abandon(op) != 0)
		return NULL;
	op_set_thrown(type, value, tb);
	return NULL;
}

static PyObject *
op_close(struct sockop *op, PyObject *unused)
{
	(void)unused;
	if (op_abandon(op) != 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *
op_await(PyObject *self)
{
	return Py_NewRef(self);
}

/* The future's side, which tasks use while the operation waits. */

static PyObject *
op_get_blocking(struct sockop *op, void *unused)
{
	(void)unused;
	if (!op->yielded)
		Py_RETURN_NONE;	/* not a future before it waits */
	return PyBool_FromLong(op->blocking);
}

static int
op_set_blocking(struct sockop *op, PyObject *v, void *unused)
{
	int	on;

	(void)unused;
	if (v == NULL || (on = PyObject_IsTrue(v)) < 0) {
		if (v == NULL)
			PyErr_SetString(PyExc_AttributeError, "cannot delete");
		return -1;
	}
	op->blocking = on;
	return 0;
}

static PyObject *
op_get_loop(struct sockop *op, PyObject *unused)
{
	(void)unused;
	return Py_NewRef(op->loop);
}

static int
op_pending(struct sockop *op)
{
	return op->state == ST_NEW || op->state == ST_WAITING;
}

/* add_done_callback(fn, *, context=None) */
static PyObject *
op_add_done_callback(struct sockop *op, PyObject *const *args,
    Py_ssize_t nargs, PyObject *kwnames)
{
	PyObject	*ctx = NULL, *t;
	int		 r;

	if (nargs != 1 || (kwnames != NULL && (PyTuple_GET_SIZE(kwnames) != 1
	    || PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0),
	    "context") != 0))) {
		PyErr_SetString(PyExc_TypeError,
		    "add_done_callback(fn, *, context=None)");
		return NULL;
	}
	if (kwnames != NULL && args[1] != Py_None)
		ctx = Py_NewRef(args[1]);
	else if ((ctx = PyContext_CopyCurrent()) == NULL)
		return NULL;
	if (!op_pending(op)) {
		r = op_schedule(op, args[0], ctx);
		Py_DECREF(ctx);
		return r == 0 ? Py_NewRef(Py_None) : NULL;
	}
	if (op->cb == NULL) {
		op->cb = Py_NewRef(args[0]);
		op->ctx = ctx;
		Py_RETURN_NONE;
	}
	if (op->more == NULL && (op->more = PyList_New(0)) == NULL) {
		Py_DECREF(ctx);
		return NULL;
	}
	t = PyTuple_Pack(2, args[0], ctx);
	Py_DECREF(ctx);
	r = t ? PyList_Append(op->more, t) : -1;
	Py_XDECREF(t);
	return r == 0 ? Py_NewRef(Py_None) : NULL;
}

/* remove_done_callback(fn): how many were removed. */
static PyObject *
op_remove_done_callback(struct sockop *op, PyObject *fn)
{
	Py_ssize_t	 i, removed = 0;
	int		 eq;

	if (op->cb != NULL) {
		if ((eq = PyObject_RichCompareBool(op->cb, fn, Py_EQ)) < 0)
			return NULL;
		if (eq) {
			Py_CLEAR(op->cb);
			Py_CLEAR(op->ctx);
			removed++;
		}
	}
	for (i = op->more ? PyList_GET_SIZE(op->more) - 1 : -1; i >= 0; i--) {
		eq = PyObject_RichCompareBool(PyTuple_GET_ITEM(
		    PyList_GET_ITEM(op->more, i), 0), fn, Py_EQ);
		if (eq < 0 || (eq && PySequence_DelItem(op->more, i) != 0))
			return NULL;
		removed += eq;
	}
	return PyLong_FromSsize_t(removed);
}

static PyObject *
op_done(struct sockop *op, PyObject *unused)
{
	(void)unused;
	return PyBool_FromLong(!op_pending(op));
}

static PyObject *
op_cancelled(struct sockop *op, PyObject *unused)
{
	(void)unused;
	return PyBool_FromLong(op->state == ST_CANCELLED);
}

static PyObject *
op_result(struct sockop *op, PyObject *unused)
{
	(void)unused;
	if (op_pending(op)) {
		PyErr_SetString(invalid_state, "Result is not ready.");
		return NULL;
	}
	if (op->state == ST_CANCELLED) {
		op_raise(op_cancelled_error(op));
		return NULL;
	}
	if (op->failed) {
		op_raise(Py_NewRef(op->value));
		return NULL;
	}
	return Py_NewRef(op->value);
}

static PyObject *
op_exception(struct sockop *op, PyObject *unused)
{
	(void)unused;
	if (op_pending(op)) {
		PyErr_SetString(invalid_state, "Exception is not set.");
		return NULL;
	}
	if (op->state == ST_CANCELLED) {
		op_raise(op_cancelled_error(op));
		return NULL;
	}
	return Py_NewRef(op->failed ? op->value : Py_None);
}

/* cancel(msg=None): stop waiting; the awaiting task gets CancelledError. */
static PyObject *
op_cancel(struct sockop *op, PyObject *const *args, Py_ssize_t nargs,
    PyObject *kwnames)
{
	PyObject	*msg = Py_None;
	Py_ssize_t	 nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;

	if (nargs + nkw > 1 || (nkw == 1 && PyUnicode_CompareWithASCIIString(
	    PyTuple_GET_ITEM(kwnames, 0), "msg") != 0)) {
		PyErr_SetString(PyExc_TypeError, "cancel(msg=None)");
		return NULL;
	}
	if (nargs + nkw == 1)
		msg = args[0];
	if (!op_pending(op))
		Py_RETURN_FALSE;
	Py_XSETREF(op->value, Py_NewRef(msg));
	if (op_finish(op, ST_CANCELLED) != 0)
		return NULL;
	Py_RETURN_TRUE;
}

static PyObject *
op_repr(struct sockop *op)
{
	static const char *const states[] = {
		"created", "pending", "finished", "cancelled"
	};

	return PyUnicode_FromFormat("<apython.sock_operation %s %s fd=%d>",
	    op_names[op->kind], states[op->state], op->fd);
}

static int
op_traverse(struct sockop *op, visitproc visit, void *arg)
{
	Py_VISIT(op->loop);
	Py_VISIT(op->sock);
	Py_VISIT(op->arg);
	Py_VISIT(op->arg2);
	Py_VISIT(op->value);
	Py_VISIT(op->cb);
	Py_VISIT(op->ctx);
	Py_VISIT(op->more);
	return 0;
}

static int
op_clear(struct sockop *op)
{
	if (op->has_view) {
		PyBuffer_Release(&op->view);
		op->has_view = 0;
	}
	Py_CLEAR(op->loop);
	Py_CLEAR(op->sock);
	Py_CLEAR(op->arg);
	Py_CLEAR(op->arg2);
	Py_CLEAR(op->value);
	Py_CLEAR(op->cb);
	Py_CLEAR(op->ctx);
	Py_CLEAR(op->more);
	return 0;
}

/* As a coroutine that was never awaited, warn when one goes unused. */
static void
op_finalize(PyObject *self)
{
	struct sockop	*op = (struct sockop *)self;
	PyObject	*type, *value, *tb;

	if (op->state != ST_NEW || op->consumed)
		return;
	PyErr_Fetch(&type, &value, &tb);
	if (PyErr_WarnFormat(PyExc_RuntimeWarning, 1, "coroutine "
	    "'BaseSelectorEventLoop.%s' was never awaited", op_names[op->kind]))
		PyErr_WriteUnraisable(self);
	PyErr_Restore(type, value, tb);
}

static void
op_dealloc(struct sockop *op)
{
	if (PyObject_CallFinalizerFromDealloc((PyObject *)op) < 0)
		return;	/* brought back to life by a warning's handler */
	PyObject_GC_UnTrack(op);
	op_clear(op);
	PyObject_GC_Del(op);
}

#define FASTKW	(METH_FASTCALL | METH_KEYWORDS)

static PyMethodDef op_methods[] = {
	{ "send", (PyCFunction)op_send_method, METH_O, NULL },
	{ "throw", (PyCFunction)op_throw, METH_VARARGS, NULL },
	{ "close", (PyCFunction)op_close, METH_NOARGS, NULL },
	{ "get_loop", (PyCFunction)op_get_loop, METH_NOARGS, NULL },
	{ "add_done_callback",
	    (PyCFunction)(void (*)(void))op_add_done_callback, FASTKW, NULL },
	{ "remove_done_callback", (PyCFunction)op_remove_done_callback, METH_O,
	    NULL },
	{ "done", (PyCFunction)op_done, METH_NOARGS, NULL },
	{ "cancelled", (PyCFunction)op_cancelled, METH_NOARGS, NULL },
	{ "result", (PyCFunction)op_result, METH_NOARGS, NULL },
	{ "exception", (PyCFunction)op_exception, METH_NOARGS, NULL },
	{ "cancel", (PyCFunction)(void (*)(void))op_cancel, FASTKW, NULL },
	{ NULL, NULL, 0, NULL }
};

static PyGetSetDef op_getset[] = {
	{ "_asyncio_future_blocking", (getter)op_get_blocking,
	    (setter)op_set_blocking, NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static PyAsyncMethods op_async = {
	.am_await = op_await,
#if PY_VERSION_HEX >= 0x030A0000
	.am_send = op_am_send,
#endif
};

static PyTypeObject op_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "apython.sock_operation",
	.tp_doc = "A sock_* call of apython.Loop: a coroutine, and the "
	    "future its task waits on.",
	.tp_basicsize = sizeof(struct sockop),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.tp_traverse = (traverseproc)op_traverse,
	.tp_clear = (inquiry)op_clear,
	.tp_dealloc = (destructor)op_dealloc,
	.tp_finalize = op_finalize,
	.tp_repr = (reprfunc)op_repr,
	.tp_as_async = &op_async,
	.tp_iter = op_await,
	.tp_iternext = (iternextfunc)op_iternext,
	.tp_methods = op_methods,
	.tp_getset = op_getset,
};

/* A new operation on args[0] with the method's arguments after it; NULL
 * when that is not a socket.socket itself, for asyncio's coroutine to
 * handle (no exception set then). */
PyObject *
sock_op_new(PyObject *loop, int kind, PyObject *const *args,
    Py_ssize_t nargs)
{
	struct sockop	*op;

	if ((PyObject *)Py_TYPE(args[0]) != socket_type)
		return NULL;
	if ((op = PyObject_GC_New(struct sockop, &op_type)) == NULL)
		return NULL;
	memset((char *)op + sizeof(PyObject), 0,
	    sizeof *op - sizeof(PyObject));
	op->loop = Py_NewRef(loop);
	op->sock = Py_NewRef(args[0]);
	op->arg = nargs > 1 ? Py_NewRef(args[1]) : NULL;
	op->arg2 = nargs > 2 ? Py_NewRef(args[2]) : NULL;
	op->kind = kind;
	op->fd = -1;
	PyObject_GC_Track(op);
	return (PyObject *)op;
}

/* Intern the attribute names; -1 with exception. */
static int
sock_names(void)
{
	struct { PyObject **p; const char *s; } names[] = {
		{ &s_fileno, "fileno" }, { &s_transports, "_transports" },
		{ &s_data, "data" }, { &s_ensure, "_ensure_fd_no_transport" },
		{ &s_gettimeout, "gettimeout" }, { &s_setblocking, "setblocking" },
		{ &s_accept, "accept" }, { &s_recvfrom, "recvfrom" },
		{ &s_recvfrom_into, "recvfrom_into" }, { &s_sendto, "sendto" },
	};
	size_t	i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if ((*names[i].p = PyUnicode_InternFromString(names[i].s)) == NULL)
			return -1;
	return 0;
}

/* Get ready; -1 with exception. */
int
sock_ready(void)
{
	PyObject	*m;

	if (PyType_Ready(&op_type) != 0 || sock_names() != 0)
		return -1;
	if ((m = PyImport_ImportModule("socket")) == NULL)
		return -1;
	socket_type = PyObject_GetAttrString(m, "socket");
	Py_DECREF(m);
	if (socket_type == NULL ||
	    (m = PyImport_ImportModule("asyncio.exceptions")) == NULL)
		return -1;
	if ((cancelled_error = PyObject_GetAttrString(m,
	    "CancelledError")) != NULL)
		invalid_state = PyObject_GetAttrString(m, "InvalidStateError");
	Py_DECREF(m);
	return invalid_state == NULL ? -1 : 0;
}
