/* Accepting clients: the listening sockets watched by the loop (paused
 * a moment when out of file descriptors), and who may have a console:
 * on a unix socket, our own user; from another host, only with a secret. */
#include "serve/serve-internal.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <unistd.h>

#include "py/py.h"

#define SERVER_ACCEPTS	32	/* clients taken per wake-up */
#define SERVER_PAUSE	0.1	/* seconds without accepting, out of fds */

static const char refuse_user[] =
    "apython: refused: this console belongs to another user\n";
static const char refuse_host[] =
    "apython: refused: this console takes clients from other hosts only "
    "with a secret, and none is set\n";

/* Watch the listening sockets (on 1) or stop (0). */
int
server_listen(struct server *s, int on)
{
	PyObject	*cb = NULL, *r;
	int		 i;

	if (s->loop == NULL || s->listening == on)
		return 0;
	if (on && (cb = PyObject_GetAttrString((PyObject *)s, "_accept")) ==
	    NULL)
		return -1;
	for (i = 0; i < s->nls; i++) {
		if (on)
			r = PyObject_CallMethod(s->loop, "add_reader", "iOi",
			    s->ls[i].fd, cb, s->ls[i].fd);
		else
			r = PyObject_CallMethod(s->loop, "remove_reader", "i",
			    s->ls[i].fd);
		if (r == NULL && on) {
			Py_DECREF(cb);
			return -1;
		}
		if (r == NULL)
			PyErr_Clear();	/* a closed loop watches nothing */
		Py_XDECREF(r);
	}
	if (on)
		Py_DECREF(cb);
	s->listening = on;
	return 0;
}

/* Out of file descriptors: stop accepting for a moment. */
static void
server_pause(struct server *s)
{
	PyObject	*cb;

	if (s->pause != NULL || s->loop == NULL)
		return;
	server_listen(s, 0);
	if ((cb = PyObject_GetAttrString((PyObject *)s, "_resume")) != NULL) {
		s->pause = PyObject_CallMethod(s->loop, "call_later", "dO",
		    SERVER_PAUSE, cb);
		Py_DECREF(cb);
	}
	if (s->pause == NULL)
		PyErr_WriteUnraisable((PyObject *)s);
}

/* _resume(): accept again. */
PyObject *
server_on_resume(PyObject *self, PyObject *unused)
{
	struct server	*s = server_of(self);

	(void)unused;
	Py_CLEAR(s->pause);
	if (!s->closed && server_listen(s, 1) != 0)
		return NULL;
	Py_RETURN_NONE;
}

/* Why a client may not have a console, or NULL when it may. */
static const char *
server_refusal(struct server *s, int fd, const struct sockaddr_storage *ss)
{
	struct ucred	cred;
	socklen_t	len = sizeof cred;
	int		one = 1;

	if (ss->ss_family == AF_UNIX) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
			return refuse_user;
		if (cred.uid != geteuid() && cred.uid != 0)
			return refuse_user;
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (!listen_is_loopback(ss) && s->secret == NULL)
		return refuse_host;
	return NULL;
}

/* A client connected on fd: its connection, on our loop (refuse: why
 * it may not have a console, or NULL). */
static int
server_admit(struct server *s, int fd, const char *refuse)
{
	PyObject	*conn, *exc;
	int		 r;

	conn = conn_new((PyObject *)s, fd, s->secret != NULL, refuse);
	if (conn == NULL) {
		close(fd);
		return -1;
	}
	r = PySet_Add(s->conns, conn);
	if (r == 0 && s->loop != NULL)
		r = conn_attach_loop(conn_of(conn), s->loop);
	if (r != 0) {
		/* Closing runs Python: the exception to report is kept. */
		exc = py_exception_fetch();
		conn_close_now(conn_of(conn));
		if (exc != NULL)
			py_exception_raise(exc);
	}
	Py_DECREF(conn);
	return r;
}

/* _accept(fd): clients are waiting on a listening socket. */
PyObject *
server_on_accept(PyObject *self, PyObject *arg)
{
	struct server		*s = server_of(Py_NewRef(self));
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 lfd, fd, i;

	if ((lfd = PyObject_AsFileDescriptor(arg)) < 0) {
		Py_DECREF(self);
		return NULL;
	}
	for (i = 0; i < SERVER_ACCEPTS && !s->closed && s->listening; i++) {
		len = sizeof ss;
		memset(&ss, 0, sizeof ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
			continue;
		if (fd < 0 && (errno == EMFILE || errno == ENFILE ||
		    errno == ENOBUFS || errno == ENOMEM))
			server_pause(s);
		if (fd < 0)
			break;
		if (server_admit(s, fd, server_refusal(s, fd, &ss)) != 0)
			PyErr_WriteUnraisable(self);
	}
	Py_DECREF(self);
	Py_RETURN_NONE;
}

/* Take fd (non-blocking, its peer checked: attach.c's) as a client. */
int
server_take(PyObject *self, int fd)
{
	return server_admit(server_of(self), fd, NULL);
}
