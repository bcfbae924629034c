/* fork: every live loop is listed, and in a forked child each gets its
 * own epoll (libevent's and the sock_* set). */
#include <event2/event.h>

#include "loop/loop-internal.h"

static struct loop *all_loops;

/* A new loop joins the list. */
void
loop_link(struct loop *self)
{
	self->next = all_loops;
	all_loops = self;
}

/* A loop that goes leaves the list. */
void
loop_unlink(struct loop *self)
{
	struct loop	**p;

	for (p = &all_loops; *p != NULL; p = &(*p)->next) {
		if (*p == self) {
			*p = self->next;
			return;
		}
	}
}

/* In a forked child, each loop's libevent base needs its own epoll. */
static PyObject *
loop_after_fork(PyObject *module, PyObject *unused)
{
	struct loop	*l;

	(void)module;
	(void)unused;
	for (l = all_loops; l != NULL; l = l->next) {
		if (l->base != NULL && event_reinit(l->base) != 0) {
			PyErr_SetString(PyExc_OSError,
			    "libevent: cannot re-initialise after fork");
			return NULL;
		}
		if (l->sp != NULL && sockpoll_after_fork(l->sp) != 0)
			return NULL;
	}
	Py_RETURN_NONE;
}

/* Before a fork: every loop sends the writes it holds, so that a child
 * never sends its parent's bytes (nor the parent loses them). */
static PyObject *
loop_before_fork(PyObject *module, PyObject *unused)
{
	struct loop	*l;

	(void)module;
	(void)unused;
	for (l = all_loops; l != NULL; l = l->next)
		if (l->wb.n > 0 && wbatch_flush_all(l) != 0)
			return NULL;
	Py_RETURN_NONE;
}

static PyMethodDef before_fork_def = {
	.ml_name = "_apython_loop_before_fork",
	.ml_meth = loop_before_fork,
	.ml_flags = METH_NOARGS,
};

static PyMethodDef after_fork_def = {
	.ml_name = "_apython_loop_after_fork",
	.ml_meth = loop_after_fork,
	.ml_flags = METH_NOARGS,
};

/* os.register_at_fork(after_in_child=...) for our loops; -1 with exception. */
int
fork_ready(void)
{
	return py_register_at_fork(&before_fork_def, NULL, &after_fork_def);
}
