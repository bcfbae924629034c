/* The syscalls of the sock_* operations: recv, recv_into and sendall
 * make them here; accept, recvfrom, recvfrom_into and sendto call the
 * socket's own methods, as asyncio does. As asyncio, an operation tries
 * first and waits only on EAGAIN; its wait is queued with the I/O
 * callbacks when its socket is ready, and tried again. */
#include <errno.h>
#include <sys/socket.h>

#include "loop/loop-internal.h"

static PyObject *s_fileno, *s_transports, *s_data, *s_ensure;
static PyObject *s_gettimeout, *s_setblocking;
static PyObject *s_accept, *s_recvfrom, *s_recvfrom_into, *s_sendto;

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

	loop_read_size(op->n);
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
	if (op->kind == SOCK_ACCEPT) {
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
	case SOCK_RECV:
		return op_recv(op, fd);
	case SOCK_RECV_INTO:
		return op_recv_into(op, fd);
	case SOCK_SENDALL:
		return op_send(op, fd);
	case SOCK_ACCEPT:
		return op_call(op, s_accept);
	case SOCK_RECVFROM:
		return op_call(op, s_recvfrom);
	case SOCK_RECVFROM_INTO:
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
int
sockop_start(struct sockop *op)
{
	struct sockpoll	*sp;
	int		 dir = sockop_dir(op), r;

	if (op_check_blocking(op) != 0 ||
	    (op->kind == SOCK_RECV && op_size(op) != 0) ||
	    (op->kind == SOCK_RECVFROM_INTO && op_nbytes(op) != 0) ||
	    (op->fd = op_fd(op)) < 0)
		return -1;
	if (sockpoll_may(loop_sockpoll(op->loop, 0), op->sock, op->fd, dir)) {
		if ((r = op_attempt(op, op->fd)) != 0) {
			op->state = SOCKOP_DONE;
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
	op->state = SOCKOP_WAITING;
	return 0;
}

/* Run from the ready queue when the socket became ready, as asyncio's
 * reader or writer callback. Only SystemExit and KeyboardInterrupt
 * come out; other errors become the outcome. */
int
sock_op_run(PyObject *self)
{
	struct sockop	*op = sockop_of(self);
	int		 dir = sockop_dir(op), fd, r = 0;

	if (op->state != SOCKOP_WAITING)
		return 0;
	if ((fd = op_fd(op)) >= 0 && (r = op_attempt(op, fd)) == 0) {
		sockpoll_drained(loop_sockpoll(op->loop, 0), op->sock, fd, dir);
		return 0;
	}
	if (fd < 0 || r < 0) {
		if (PyErr_ExceptionMatches(PyExc_SystemExit) ||
		    PyErr_ExceptionMatches(PyExc_KeyboardInterrupt))
			return -1;
		sockop_keep_error(op);
	}
	return sockop_finish(op, SOCKOP_DONE);
}


/* Intern the attribute names; -1 with exception. */
int
sockio_ready(void)
{
	static const struct py_name names[] = {
		{ &s_fileno, "fileno" }, { &s_transports, "_transports" },
		{ &s_data, "data" }, { &s_ensure, "_ensure_fd_no_transport" },
		{ &s_gettimeout, "gettimeout" }, { &s_setblocking, "setblocking" },
		{ &s_accept, "accept" }, { &s_recvfrom, "recvfrom" },
		{ &s_recvfrom_into, "recvfrom_into" }, { &s_sendto, "sendto" },
	};

	return py_intern_names(names, PY_NAMES_LEN(names));
}
