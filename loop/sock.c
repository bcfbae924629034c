/* The loop's sock_* methods: an operation of ours (sockop.c) for a
 * socket.socket itself, asyncio's coroutine for anything else; and the
 * epoll set where operations wait, made on first need. */
#include "loop/loop-internal.h"

/* The loop's sock_* epoll set, made on first need when create is set;
 * NULL (with an exception only if create was set) when there is none. */
struct sockpoll *
loop_sockpoll(PyObject *loop, int create)
{
	struct loop	*self = loop_of(loop);

	if (self->sp != NULL || !create)
		return self->sp;
	if (self->closed) {
		PyErr_SetString(PyExc_RuntimeError, "Event loop is closed");
		return NULL;
	}
	return self->sp = sockpoll_new(self->base);
}

/* A sock_* method: our operation for a socket.socket, asyncio's
 * coroutine for anything else. */
static PyObject *
loop_sock_op(struct loop *self, PyObject *const *args, Py_ssize_t nargs,
    PyObject *kwnames, int kind, const struct loop_args *a)
{
	PyObject	*op, *sup, *meth, *all[4];
	Py_ssize_t	 n;

	if (loop_args_parse(a, args, nargs, kwnames, all) != 0)
		return NULL;
	for (n = 0; a->params[n] != NULL && all[n] != NULL; n++)
		;
	if (loop_check_open(self) != 0)
		return NULL;
	if ((op = sock_op_new((PyObject *)self, kind, all, n)) != NULL ||
	    PyErr_Occurred())
		return op;
	if ((sup = loop_super(self)) == NULL)
		return NULL;
	meth = PyObject_GetAttrString(sup, a->name);
	Py_DECREF(sup);
	if (meth == NULL)
		return NULL;
	op = PyObject_Vectorcall(meth, all, n, NULL);
	Py_DECREF(meth);
	return op;
}

/* loop_<m>(): the sock_* method m; nreq of its parameters are required,
 * any may come by name, as asyncio's. */
#define LOOP_SOCK_METHOD(m, kind, nreq, ...)				\
static const char *const m##_params[] = { __VA_ARGS__, NULL };		\
static const struct loop_args m##_args = {				\
	.name = #m, .params = m##_params,				\
	.npos = sizeof m##_params / sizeof m##_params[0] - 1,		\
	.need = nreq,							\
};									\
									\
static PyObject *							\
loop_##m(struct loop *self, PyObject *const *args, Py_ssize_t nargs,	\
    PyObject *kwnames)							\
{									\
	return loop_sock_op(self, args, nargs, kwnames, kind, &m##_args); \
}

LOOP_SOCK_METHOD(sock_recv, SOCK_RECV, 2, "sock", "n")
LOOP_SOCK_METHOD(sock_recv_into, SOCK_RECV_INTO, 2, "sock", "buf")
LOOP_SOCK_METHOD(sock_sendall, SOCK_SENDALL, 2, "sock", "data")
LOOP_SOCK_METHOD(sock_accept, SOCK_ACCEPT, 1, "sock")
#if PY_VERSION_HEX >= 0x030B0000
LOOP_SOCK_METHOD(sock_recvfrom, SOCK_RECVFROM, 2, "sock", "bufsize")
LOOP_SOCK_METHOD(sock_recvfrom_into, SOCK_RECVFROM_INTO, 2, "sock", "buf",
    "nbytes")
LOOP_SOCK_METHOD(sock_sendto, SOCK_SENDTO, 3, "sock", "data", "address")
#endif

const PyMethodDef loop_sock_methods[] = {
	{ .ml_name = "sock_recv",
	  .ml_meth = (PyCFunction)(void (*)(void))loop_sock_recv,
	  .ml_flags = LOOP_FASTKW },
	{ .ml_name = "sock_recv_into",
	  .ml_meth = (PyCFunction)(void (*)(void))loop_sock_recv_into,
	  .ml_flags = LOOP_FASTKW },
	{ .ml_name = "sock_sendall",
	  .ml_meth = (PyCFunction)(void (*)(void))loop_sock_sendall,
	  .ml_flags = LOOP_FASTKW },
	{ .ml_name = "sock_accept",
	  .ml_meth = (PyCFunction)(void (*)(void))loop_sock_accept,
	  .ml_flags = LOOP_FASTKW },
#if PY_VERSION_HEX >= 0x030B0000
	{ .ml_name = "sock_recvfrom",
	  .ml_meth = (PyCFunction)(void (*)(void))loop_sock_recvfrom,
	  .ml_flags = LOOP_FASTKW },
	{ .ml_name = "sock_recvfrom_into",
	  .ml_meth = (PyCFunction)(void (*)(void))loop_sock_recvfrom_into,
	  .ml_flags = LOOP_FASTKW },
	{ .ml_name = "sock_sendto",
	  .ml_meth = (PyCFunction)(void (*)(void))loop_sock_sendto,
	  .ml_flags = LOOP_FASTKW },
#endif
	{ .ml_name = NULL },
};
