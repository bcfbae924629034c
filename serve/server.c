/* Console servers: listening sockets watched by the loop, a console per
 * client, who may connect; apython.start_console_server and --serve. */
#include "serve/serve-internal.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#define SERVER_ACCEPTS	32	/* clients taken per wake-up */
#define SERVER_PAUSE	0.1	/* seconds without accepting, out of fds */

struct server {
	PyObject_HEAD
	struct listener		*ls;
	int			 nls;
	PyObject		*loop;		/* where we listen, or NULL */
	PyObject		*conns;		/* set: connected clients */
	PyObject		*banner;	/* str, or NULL: the default */
	PyObject		*locals;	/* dict, or NULL */
	PyObject		*waiters;	/* wait_closed() futures */
	PyObject		*sockets;	/* socket.socket over ls, or NULL */
	PyObject		*pause;		/* handle: accepting resumes */
	char			*secret;
	size_t			 secretlen;
	char			 name[300];	/* what we listen on */
	char			 path[108];	/* unix socket to remove */
	dev_t			 dev;
	ino_t			 ino;
	int			 listening;
	int			 closed;
	LIST_ENTRY(server)	 entry;
};

static PyTypeObject server_type;
static LIST_HEAD(, server) servers = LIST_HEAD_INITIALIZER(servers);

#define SV(o)	((struct server *)(o))

static const char refuse_user[] =
    "apython: refused: this console belongs to another user\n";
static const char refuse_host[] =
    "apython: refused: this console takes clients from other hosts only "
    "with a secret, and none is set\n";

/* The banner given for the server's consoles (borrowed), or NULL. */
PyObject *
server_banner(PyObject *self)
{
	return SV(self)->banner;
}

/* The names given to the server's consoles (borrowed), or NULL. */
PyObject *
server_locals(PyObject *self)
{
	return SV(self)->locals;
}

/* The loop the server listens on (borrowed), or NULL. */
PyObject *
server_loop(PyObject *self)
{
	return SV(self)->loop;
}

/* What the server listens on: HOST:PORT or a path. */
const char *
server_name(PyObject *self)
{
	return SV(self)->name;
}

/* Whether a client's first line is the secret. */
int
server_check_secret(PyObject *self, const char *p, size_t n)
{
	struct server	*s = SV(self);

	return s->secret != NULL && secret_equal(p, n, s->secret,
	    s->secretlen);
}

/* A client closed: the server no longer holds it. */
void
server_remove_conn(PyObject *self, PyObject *conn)
{
	if (SV(self)->conns != NULL && PySet_Discard(SV(self)->conns, conn) < 0)
		PyErr_WriteUnraisable(self);
}

/* Watch the listening sockets (on 1) or stop (0). */
static int
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
static PyObject *
server_resume(PyObject *self, PyObject *unused)
{
	struct server	*s = SV(self);

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

/* A client connected on fd: its connection, on our loop. */
static int
server_admit(struct server *s, int fd, const struct sockaddr_storage *ss)
{
	PyObject	*conn, *type, *value, *tb;
	int		 r;

	conn = conn_new((PyObject *)s, fd, s->secret != NULL,
	    server_refusal(s, fd, ss));
	if (conn == NULL) {
		close(fd);
		return -1;
	}
	r = PySet_Add(s->conns, conn);
	if (r == 0 && s->loop != NULL)
		r = conn_attach_loop(conn_of(conn), s->loop);
	if (r != 0) {
		/* Closing runs Python: the exception to report is kept. */
		PyErr_Fetch(&type, &value, &tb);
		conn_close_now(conn_of(conn));
		PyErr_Restore(type, value, tb);
	}
	Py_DECREF(conn);
	return r;
}

/* _accept(fd): clients are waiting on a listening socket. */
static PyObject *
server_accept(PyObject *self, PyObject *arg)
{
	struct server		*s = SV(Py_NewRef(self));
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
		if (server_admit(s, fd, &ss) != 0)
			PyErr_WriteUnraisable(self);
	}
	Py_DECREF(self);
	Py_RETURN_NONE;
}

/* Listen on loop, and move the clients there. */
int
server_attach_loop(PyObject *self, PyObject *loop)
{
	struct server	*s = SV(self);
	PyObject	*conns;
	Py_ssize_t	 i;
	int		 r = 0;

	if (s->closed || (s->loop == loop && s->listening))
		return 0;
	if (s->loop != NULL && s->loop != loop)
		server_detach_loop(self);
	Py_XSETREF(s->loop, Py_NewRef(loop));
	if (server_listen(s, 1) != 0)
		return -1;
	if ((conns = PySequence_List(s->conns)) == NULL)
		return -1;
	for (i = 0; i < PyList_GET_SIZE(conns) && r == 0; i++)
		r = conn_attach_loop(conn_of(PyList_GET_ITEM(conns, i)), loop);
	Py_DECREF(conns);
	return r;
}

/* Leave the loop (it closes): stop listening, clients wait for the next. */
void
server_detach_loop(PyObject *self)
{
	struct server	*s = SV(self);
	PyObject	*conns, *r;
	Py_ssize_t	 i;

	if (s->loop == NULL)
		return;
	server_listen(s, 0);
	if (s->pause != NULL) {
		r = PyObject_CallMethod(s->pause, "cancel", NULL);
		Py_XDECREF(r);
		PyErr_Clear();
		Py_CLEAR(s->pause);
	}
	if ((conns = PySequence_List(s->conns)) == NULL)
		PyErr_WriteUnraisable(NULL);
	for (i = 0; conns != NULL && i < PyList_GET_SIZE(conns); i++)
		conn_detach_loop(conn_of(PyList_GET_ITEM(conns, i)));
	Py_XDECREF(conns);
	Py_CLEAR(s->loop);
}

/* Resolve the wait_closed() futures (taken out first: resolving runs
 * Python). */
static void
server_wake_waiters(struct server *s)
{
	PyObject	*waiters = s->waiters, *f, *r;
	Py_ssize_t	 i;

	s->waiters = NULL;
	for (i = 0; waiters != NULL && i < PyList_GET_SIZE(waiters); i++) {
		f = PyList_GET_ITEM(waiters, i);
		r = PyObject_CallMethod(f, "done", NULL);
		if (r == Py_False) {
			Py_DECREF(r);
			r = PyObject_CallMethod(f, "set_result", "O", Py_None);
		}
		Py_XDECREF(r);
		PyErr_Clear();	/* a closed loop's future stays unresolved */
	}
	Py_XDECREF(waiters);
}

/* Let go of the socket objects handed out (they must not close our fds);
 * taken out first, as detach() is a Python call. */
static void
server_drop_sockets(struct server *s)
{
	PyObject	*sockets = s->sockets, *r;
	Py_ssize_t	 i;

	s->sockets = NULL;
	for (i = 0; sockets != NULL && i < PyList_GET_SIZE(sockets); i++) {
		r = PyObject_CallMethod(PyList_GET_ITEM(sockets, i), "detach",
		    NULL);
		if (r == NULL)
			PyErr_WriteUnraisable(NULL);
		Py_XDECREF(r);
	}
	Py_XDECREF(sockets);
}

/* Remove our unix socket, if it is still ours. */
static void
server_unlink(struct server *s)
{
	struct stat	st;

	if (s->path[0] == '\0')
		return;
	if (lstat(s->path, &st) == 0 && st.st_dev == s->dev &&
	    st.st_ino == s->ino)
		unlink(s->path);
	s->path[0] = '\0';
}

/* Stop listening, close every client (cancelling their statements),
 * remove the unix socket, wake wait_closed(). */
static void
server_shut(struct server *s)
{
	PyObject	*self = (PyObject *)s, *conns;
	Py_ssize_t	 i;
	int		 j;

	if (s->closed)
		return;
	server_listen(s, 0);
	s->closed = 1;
	LIST_REMOVE(s, entry);
	server_drop_sockets(s);
	for (j = 0; j < s->nls; j++)
		close(s->ls[j].fd);
	s->nls = 0;
	server_unlink(s);
	if ((conns = PySequence_List(s->conns)) == NULL)
		PyErr_WriteUnraisable(NULL);
	for (i = 0; conns != NULL && i < PyList_GET_SIZE(conns); i++)
		conn_close_now(conn_of(PyList_GET_ITEM(conns, i)));
	Py_XDECREF(conns);
	PySet_Clear(s->conns);
	server_detach_loop(self);
	server_wake_waiters(s);
}

/* Close the server: see server_shut. */
void
server_close(PyObject *self)
{
	Py_INCREF(self);
	server_shut(SV(self));
	Py_DECREF(self);
}

/* Close every server still open (the program ends). */
void
server_close_all(void)
{
	while (!LIST_EMPTY(&servers))
		server_close((PyObject *)LIST_FIRST(&servers));
}

/* Say that other hosts can reach the server, and what protects it. */
static void
server_warn(struct server *s)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	int			i;

	for (i = 0; i < s->nls; i++) {
		len = sizeof ss;
		if (getsockname(s->ls[i].fd, (struct sockaddr *)&ss, &len) !=
		    0 || listen_is_loopback(&ss))
			continue;
		if (s->secret == NULL)
			fprintf(stderr, "apython: warning: the console is "
			    "served on %s, which other hosts can reach; they "
			    "are refused, as no secret is set "
			    "(APYTHON_SECRET)\n", s->name);
		else
			fprintf(stderr, "apython: warning: the console is "
			    "served on %s, which other hosts can reach with "
			    "the secret, sent in clear text\n", s->name);
		fflush(stderr);
		return;
	}
}

/* A server listening on a (not yet on a loop), whose consoles have
 * banner (str or NULL) and a copy of locals (dict or NULL). */
PyObject *
server_new(const struct serve_address *a, PyObject *banner,
    PyObject *locals, char **cause)
{
	struct server	*s;
	struct stat	 st;

	if ((s = PyObject_GC_New(struct server, &server_type)) == NULL) {
		*cause = NULL;
		return NULL;
	}
	memset((char *)s + sizeof(PyObject), 0, sizeof *s - sizeof(PyObject));
	s->closed = 1;		/* until it listens */
	PyObject_GC_Track(s);
	s->banner = Py_XNewRef(banner);
	s->locals = Py_XNewRef(locals);
	if ((s->conns = PySet_New(NULL)) == NULL) {
		*cause = NULL;
		goto fail;
	}
	if (secret_load(&s->secret, &s->secretlen, cause) != 0 ||
	    listen_open(a, &s->ls, &s->nls, cause) != 0)
		goto fail;
	s->closed = 0;
	LIST_INSERT_HEAD(&servers, s, entry);
	listen_name(s->ls[0].fd, s->name, sizeof s->name);
	if (a->kind == SERVE_UNIX && lstat(a->path, &st) == 0) {
		snprintf(s->path, sizeof s->path, "%s", a->path);
		s->dev = st.st_dev;
		s->ino = st.st_ino;
	}
	server_warn(s);
	return (PyObject *)s;
fail:
	Py_DECREF(s);
	return NULL;
}

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
	struct server	*s = SV(self);
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
	return PyBool_FromLong(!SV(self)->closed);
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
	struct server	*s = SV(self);
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
	struct server	*s = SV(self);
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

static PyObject *
server_repr(PyObject *self)
{
	return PyUnicode_FromFormat("<apython.ConsoleServer %s%s>",
	    SV(self)->name, SV(self)->closed ? " closed" : "");
}

static int
server_traverse(struct server *s, visitproc visit, void *arg)
{
	Py_VISIT(s->loop);
	Py_VISIT(s->conns);
	Py_VISIT(s->banner);
	Py_VISIT(s->locals);
	Py_VISIT(s->waiters);
	Py_VISIT(s->sockets);
	Py_VISIT(s->pause);
	return 0;
}

static int
server_clear(struct server *s)
{
	Py_CLEAR(s->loop);
	Py_CLEAR(s->banner);
	Py_CLEAR(s->locals);
	Py_CLEAR(s->waiters);
	Py_CLEAR(s->pause);
	return 0;
}

/* A server that was not closed closes as it goes (PEP 442: run through
 * PyObject_CallFinalizerFromDealloc, which allows Python and handles
 * resurrection); what is under way is kept, a new error reported. */
static void
server_finalize(PyObject *self)
{
	PyObject	*type, *value, *tb;

	PyErr_Fetch(&type, &value, &tb);
	server_shut(SV(self));
	if (PyErr_Occurred())
		PyErr_WriteUnraisable(self);
	PyErr_Restore(type, value, tb);
}

static void
server_dealloc(struct server *s)
{
	if (PyObject_CallFinalizerFromDealloc((PyObject *)s) < 0)
		return;	/* brought back to life while closing */
	PyObject_GC_UnTrack(s);
	server_clear(s);
	Py_CLEAR(s->conns);
	Py_CLEAR(s->sockets);
	free(s->ls);
	free(s->secret);
	PyObject_GC_Del(s);
}

static PyMethodDef server_methods[] = {
	{ "close", server_close_method, METH_NOARGS,
	    "Stop serving and end every client's console." },
	{ "wait_closed", server_wait_closed, METH_NOARGS,
	    "Await the end of close()." },
	{ "is_serving", server_is_serving, METH_NOARGS,
	    "Whether the server accepts clients." },
	{ "__aenter__", server_aenter, METH_NOARGS, NULL },
	{ "__aexit__", server_aexit, METH_VARARGS, NULL },
	{ "_accept", server_accept, METH_O, NULL },
	{ "_resume", server_resume, METH_NOARGS, NULL },
	{ NULL, NULL, 0, NULL }
};

static PyGetSetDef server_getset[] = {
	{ "sockets", server_get_sockets, NULL, "The listening sockets.",
	    NULL },
	{ "address", server_get_address, NULL,
	    "(host, port), or the unix socket's path.", NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static PyTypeObject server_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "apython.ConsoleServer",
	.tp_doc = "A console server: a console for each client that connects.",
	.tp_basicsize = sizeof(struct server),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.tp_traverse = (traverseproc)server_traverse,
	.tp_clear = (inquiry)server_clear,
	.tp_dealloc = (destructor)server_dealloc,
	.tp_finalize = server_finalize,
	.tp_repr = server_repr,
	.tp_methods = server_methods,
	.tp_getset = server_getset,
};

/* Ready the types; -1 with exception. */
int
server_ready(void)
{
	if (PyType_Ready(&server_type) != 0 || conn_ready() != 0)
		return -1;
	return 0;
}
