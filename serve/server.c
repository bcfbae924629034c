/* A console server, as an object: made listening, moved between the
 * program's loops with its clients, and closed (clients, unix socket,
 * wait_closed() futures). Accepting is in server-accept.c, what Python
 * calls in server-api.c. */
#include "serve/serve-internal.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "py/py.h"

static PyTypeObject server_type;
static PyObject *str_done;
static LIST_HEAD(, server) servers = LIST_HEAD_INITIALIZER(servers);

/* The banner given for the server's consoles (borrowed), or NULL. */
PyObject *
server_banner(PyObject *self)
{
	return server_of(self)->banner;
}

/* The names given to the server's consoles (borrowed), or NULL. */
PyObject *
server_locals(PyObject *self)
{
	return server_of(self)->locals;
}

/* The factory of the server's interfaces (borrowed), or NULL: it
 * serves consoles. */
PyObject *
server_factory(PyObject *self)
{
	return server_of(self)->factory;
}

/* The loop the server listens on (borrowed), or NULL. */
PyObject *
server_loop(PyObject *self)
{
	return server_of(self)->loop;
}

/* What the server listens on: HOST:PORT or a path. */
const char *
server_name(PyObject *self)
{
	return server_of(self)->name;
}

/* Whether a client's first line is the secret. */
int
server_check_secret(PyObject *self, const char *p, size_t n)
{
	struct server	*s = server_of(self);

	return s->secret != NULL && secret_equal(p, n, s->secret,
	    s->secretlen);
}

/* A client closed: the server no longer holds it. */
void
server_remove_conn(PyObject *self, PyObject *conn)
{
	if (server_of(self)->conns != NULL && PySet_Discard(server_of(self)->conns, conn) < 0)
		PyErr_WriteUnraisable(self);
}

/* Listen on loop, and move the clients there. */
int
server_attach_loop(PyObject *self, PyObject *loop)
{
	struct server	*s = server_of(self);
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
	struct server	*s = server_of(self);
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
		if (py_call_truth(f, str_done) == 0 && (r =
		    PyObject_CallMethod(f, "set_result", "O", Py_None)) != NULL)
			Py_DECREF(r);
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
	for (i = 0; conns != NULL && i < PyList_GET_SIZE(conns); i++) {
		conn_bye(conn_of(PyList_GET_ITEM(conns, i)));
		conn_close_now(conn_of(PyList_GET_ITEM(conns, i)));
	}
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
	server_shut(server_of(self));
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
	const char		*what = s->factory ? "an interface" : "the console";
	int			i;

	for (i = 0; i < s->nls; i++) {
		len = sizeof ss;
		if (getsockname(s->ls[i].fd, (struct sockaddr *)&ss, &len) !=
		    0 || listen_is_loopback(&ss))
			continue;
		if (s->secret == NULL)
			fprintf(stderr, "apython: warning: %s is "
			    "served on %s, which other hosts can reach; they "
			    "are refused, as no secret is set "
			    "(APYTHON_SECRET)\n", what, s->name);
		else
			fprintf(stderr, "apython: warning: %s is "
			    "served on %s, which other hosts can reach with "
			    "the secret, sent in clear text\n", what, s->name);
		fflush(stderr);
		return;
	}
}

/* A server listening on a (not yet on a loop), whose consoles have
 * banner (str or NULL) and a copy of locals (dict or NULL); with a
 * factory (iface.c), it serves factory's interfaces instead. */
PyObject *
server_new(const struct serve_address *a, PyObject *banner,
    PyObject *locals, PyObject *factory, char **cause)
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
	s->factory = Py_XNewRef(factory);
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

/* A server with no listening socket, holding the consoles of attach.c
 * (attachers' sockets), with banner and locals as server_new's. */
PyObject *
server_new_bare(PyObject *banner, PyObject *locals)
{
	struct server	*s;

	if ((s = PyObject_GC_New(struct server, &server_type)) == NULL)
		return NULL;
	memset((char *)s + sizeof(PyObject), 0, sizeof *s - sizeof(PyObject));
	PyObject_GC_Track(s);
	s->banner = Py_XNewRef(banner);
	s->locals = Py_XNewRef(locals);
	if ((s->conns = PySet_New(NULL)) == NULL) {
		s->closed = 1;
		Py_DECREF(s);
		return NULL;
	}
	snprintf(s->name, sizeof s->name, "pid %ld", (long)getpid());
	LIST_INSERT_HEAD(&servers, s, entry);
	return (PyObject *)s;
}

static int
server_traverse(struct server *s, visitproc visit, void *arg)
{
	Py_VISIT(s->loop);
	Py_VISIT(s->conns);
	Py_VISIT(s->banner);
	Py_VISIT(s->locals);
	Py_VISIT(s->factory);
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
	Py_CLEAR(s->factory);
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
	PyObject	*exc = py_exception_fetch();

	server_shut(server_of(self));
	if (PyErr_Occurred())
		PyErr_WriteUnraisable(self);
	if (exc != NULL)
		py_exception_raise(exc);
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
	static const struct py_name names[] = {
		{ .slot = &str_done, .text = "done" },
	};

	if (py_intern_names(names, PY_NAMES_LEN(names)) != 0 ||
	    PyType_Ready(&server_type) != 0 || conn_ready() != 0 ||
	    iface_ready() != 0)
		return -1;
	return 0;
}
