/* A forked child of the program is attached on its own (its pid, its
 * marker), and its parent's attachers are not its: their requests'
 * fds and the attached consoles are closed in the child. */
#include "serve/serve-internal.h"

#include <pthread.h>
#include <unistd.h>

#include "attach/attach.h"
#include "ctl/ctl.h"
#include "loop/loop.h"
#include "py/py.h"

/* On a forked child's loop, which was running at the fork. */
static PyObject *
attach_child_on_loop(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	attach_child_ready();
	Py_RETURN_NONE;
}

static PyMethodDef child_on_loop_def = {
	.ml_name = "apython_attach_child",
	.ml_meth = attach_child_on_loop,
	.ml_flags = METH_NOARGS,
};

/* A forked child whose loop runs is attachable once the loop gets
 * control back (a child that _exits first leaves no marker); one that
 * runs none is, when it runs one (attach_on_run). */
static void
attach_child_soon(void)
{
	PyObject	*loop, *fn, *h = NULL;

	if ((loop = attach_running_loop()) == NULL)
		return;
	if ((fn = PyCFunction_New(&child_on_loop_def, NULL)) != NULL)
		h = PyObject_CallMethod(loop, "call_soon", "O", fn);
	Py_XDECREF(fn);
	Py_DECREF(loop);
	if (h == NULL) {
		PyErr_Clear();
		attach_child_ready();
	}
	Py_XDECREF(h);
}

/* fork() holds ps_lock, so the child's list of requests is whole. */
void
ps_fork_prepare(void)
{
	pthread_mutex_lock(&ps_lock);
}

void
ps_fork_after(void)
{
	pthread_mutex_unlock(&ps_lock);
}

/* A forked child closes its parent's client. A foreign loop's epoll set
 * (uvloop's) is still the parent's there: removing the reader would
 * take it from the parent, so the child only forgets it watched. */
static void
attach_drop_conn(struct conn *c)
{
	if (c->loop != NULL && !loop_is_apython(c->loop))
		c->reading = c->writing = 0;
	conn_close_now(c);
}

/* In a forked child: the parent's attachers are not its. Their fds are
 * closed (never shut down: that would end the parent's too) and nothing
 * is sent, so an attacher sees the end when the parent ends. The
 * requests' memory stays: the child's loop may hold a callback to one,
 * which finds it claimed. */
static void
attach_drop_parents(void)
{
	struct attach_req	*a;
	struct ps_req		*r;
	PyObject	*conns;
	Py_ssize_t	 i;

	for (r = ps_live; r != NULL; r = r->live_next) {
		if (r->fd >= 0)
			close(r->fd);
		r->fd = -1;
		r->claimed = 1;
	}
	ps_live = ps_pending = NULL;
	for (a = attach_reqs; a != NULL; a = a->next) {
		if (a->fd >= 0)
			close(a->fd);
		a->fd = -1;
	}
	attach_reqs = NULL;
	workers_forked();	/* the workers were the parent's threads */
	if (attach_server == NULL)
		return;
	if ((conns = PySequence_List(server_of(attach_server)->conns)) == NULL)
		PyErr_WriteUnraisable(NULL);
	for (i = 0; conns != NULL && i < PyList_GET_SIZE(conns); i++)
		attach_drop_conn(conn_of(PyList_GET_ITEM(conns, i)));
	Py_XDECREF(conns);
	server_close(attach_server);
	Py_CLEAR(attach_server);
}

/* os.register_at_fork's after_in_child: the child is attached on its
 * own (its pid, its marker); the parent's requests are not its. Runs
 * after the loops' own hook (loop/fork.c, registered first), so a
 * session's watches go from the child's own epoll set. */
static PyObject *
attach_after_fork(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	attach_drop_parents();
	ctl_forked_child();
	attach_forked_child();
	attach_child_soon();
	Py_RETURN_NONE;
}

static PyMethodDef after_fork_def = {
	.ml_name = "apython_attach_after_fork",
	.ml_meth = attach_after_fork,
	.ml_flags = METH_NOARGS,
};

/* Follow the program's fork()s: -1 with exception. */
int
attach_follow_forks(void)
{
	return py_register_at_fork(NULL, NULL, &after_fork_def);
}
