/* A statement's coroutine, wrapped: KeyboardInterrupt and SystemExit it
 * raises end the statement (for its console to report), never the loop,
 * and the session knows when its code is on the CPU (for Ctrl-C). */
#include "console/console-internal.h"
#include "py/py.h"
#include "sig/sig.h"

struct stmt {
	PY_CORO_HEAD
	PyObject	*coro;
	PyObject	*session;
};

#define STMT_NAME_MAX	40	/* characters of the statement in its task's
				 * name, as in stmt_task_name()'s format */

static PyTypeObject stmt_type;
static PyObject *s_close;

/* The wrapper self is. */
static inline struct stmt *
stmt_of(PyObject *self)
{
	return (struct stmt *)self;
}

/* A statement's code goes on the CPU: the session knows (a typed Ctrl-C
 * raises in it) and so does its backend (a served one has the control
 * thread watch its client meanwhile). What to give stmt_cpu_end(). */
struct stmt_sigints
stmt_cpu_begin(PyObject *session)
{
	const struct session_io	*io = session_io(session);
	struct stmt_sigints	 at;

	session_set_on_cpu(session, 1);
	if (io->cpu != NULL)
		io->cpu(session, 1);
	at.program = sig_program_count();
	at.console = sig_console_raises();
	return at;
}

/* The statement's code comes off the CPU. 1 when the exception it left
 * is a KeyboardInterrupt that came with a SIGINT handed to the
 * program's handler (at: stmt_cpu_begin's) and the console raised none
 * meanwhile (a handler that only prints leaves the client's Ctrl-C the
 * statement's): the program's, to go on as from any other code that
 * runs, not the statement's. */
int
stmt_cpu_end(PyObject *session, struct stmt_sigints at)
{
	const struct session_io	*io = session_io(session);

	/* First: io->cpu() may run Python (a signal's handler), which must
	 * see the step as done. */
	session_set_on_cpu(session, 0);
	if (io->cpu != NULL)
		io->cpu(session, 0);
	return sig_program_count() != at.program &&
	    sig_console_raises() == at.console && PyErr_Occurred() &&
	    PyErr_ExceptionMatches(PyExc_KeyboardInterrupt);
}

/* Step the inner coroutine with console code on the CPU; a
 * KeyboardInterrupt or SystemExit is kept for the console, and the
 * statement ends normally instead (but the program's, stmt_cpu_end(),
 * goes on). */
static int
stmt_resume(PyObject *self, PyObject *value, PyObject *exc, PyObject **out)
{
	struct stmt	*st = stmt_of(self);
	PyObject	*caught;
	struct stmt_sigints sigints;
	int		 r;

	sigints = stmt_cpu_begin(st->session);
	r = py_coro_resume(st->coro, value, exc, out);
	if (stmt_cpu_end(st->session, sigints))
		return r;
	if (r >= 0 || (!PyErr_ExceptionMatches(PyExc_KeyboardInterrupt) &&
	    !PyErr_ExceptionMatches(PyExc_SystemExit)))
		return r;
	caught = py_exception_fetch();
	session_set_caught(st->session, caught);
	Py_DECREF(caught);
	*out = Py_NewRef(Py_None);
	return 1;
}

static int
stmt_send(PyObject *self, PyObject *value, PyObject **out)
{
	return stmt_resume(self, value, NULL, out);
}

static int
stmt_throw(PyObject *self, PyObject *exc, PyObject **out)
{
	return stmt_resume(self, NULL, exc, out);
}

static int
stmt_close(PyObject *self)
{
	PyObject	*r;

	if ((r = PyObject_CallMethodNoArgs(stmt_of(self)->coro, s_close)) == NULL)
		return -1;
	Py_DECREF(r);
	return 0;
}

static const struct py_coro_ops stmt_ops = {
	.send = stmt_send,
	.throw = stmt_throw,
	.close = stmt_close,
	.name = "statement",
};

static int
stmt_traverse(struct stmt *self, visitproc visit, void *arg)
{
	Py_VISIT(self->coro);
	Py_VISIT(self->session);
	return 0;
}

static int
stmt_clear(struct stmt *self)
{
	Py_CLEAR(self->coro);
	Py_CLEAR(self->session);
	return 0;
}

static void
stmt_dealloc(struct stmt *self)
{
	PyObject_GC_UnTrack(self);
	stmt_clear(self);
	PyObject_GC_Del(self);
}

/* cr_code, cr_frame: the statement's own, so that asyncio shows where
 * it runs (<console>:LINE) and Task.get_stack() finds its frame. */
static PyObject *
stmt_inner(PyObject *self, void *name)
{
	return PyObject_GetAttrString(stmt_of(self)->coro, name);
}

static PyMethodDef stmt_methods[] = {
	PY_CORO_METHODS,
	{ .ml_name = NULL }
};

static PyGetSetDef stmt_getset[] = {
	PY_CORO_GETSET,
	{ .name = "cr_code", .get = stmt_inner, .closure = "cr_code" },
	{ .name = "cr_frame", .get = stmt_inner, .closure = "cr_frame" },
	{ .name = NULL }
};

static PyTypeObject stmt_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "apython.statement",
	.tp_doc = "A console statement's coroutine.",
	.tp_basicsize = sizeof(struct stmt),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.tp_traverse = (traverseproc)stmt_traverse,
	.tp_clear = (inquiry)stmt_clear,
	.tp_dealloc = (destructor)stmt_dealloc,
	.tp_repr = py_coro_repr,
	.tp_as_async = &py_coro_async,
	.tp_iter = py_coro_self,
	.tp_iternext = py_coro_next,
	.tp_methods = stmt_methods,
	.tp_getset = stmt_getset,
};

/* Wrap a statement's coroutine for session. */
static PyObject *
stmt_wrap(PyObject *session, PyObject *coro)
{
	struct stmt	*self;

	if ((self = PyObject_GC_New(struct stmt, &stmt_type)) == NULL)
		return NULL;
	self->coro_ops = &stmt_ops;
	self->coro = Py_NewRef(coro);
	self->session = Py_NewRef(session);
	PyObject_GC_Track(self);
	return (PyObject *)self;
}

/* The name of a statement's task: its first line, shortened. */
static PyObject *
stmt_task_name(PyObject *source)
{
	Py_ssize_t	 n = PyUnicode_GET_LENGTH(source), nl;
	PyObject	*line, *name;

	if ((nl = PyUnicode_FindChar(source, '\n', 0, n, 1)) == -2)
		return NULL;
	if (nl >= 0)
		n = nl;
	if ((line = PyUnicode_Substring(source, 0, n)) == NULL)
		return NULL;
	/* "%.40U": no '*' precision before 3.12. */
	name = PyUnicode_FromFormat("apython-statement: %.40U%s", line,
	    n > STMT_NAME_MAX ? "..." : "");
	Py_DECREF(line);
	return name;
}

/* The statement's task finished: the console steps again. */
static PyObject *
stmt_done(PyObject *session, PyObject *task)
{
	(void)task;
	if (session_wake(session_of(session)) != 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyMethodDef stmt_done_def = {
	.ml_name = "console_statement_done",
	.ml_meth = stmt_done,
	.ml_flags = METH_O,
};

/* Name the statement's task and have it wake the console when done. */
static int
stmt_task_setup(PyObject *session, PyObject *task, PyObject *source)
{
	PyObject	*name, *cb, *r;

	if ((name = stmt_task_name(source)) == NULL)
		return -1;
	r = PyObject_CallMethod(task, "set_name", "O", name);
	Py_DECREF(name);
	if (r == NULL)
		return -1;
	Py_DECREF(r);
	if ((cb = PyCFunction_New(&stmt_done_def, session)) == NULL)
		return -1;
	r = PyObject_CallMethod(task, "add_done_callback", "O", cb);
	Py_DECREF(cb);
	Py_XDECREF(r);
	return r == NULL ? -1 : 0;
}

/* Run a statement's coroutine as a task on session's loop, named after
 * the statement; the task, or NULL with exception. */
PyObject *
stmt_start(PyObject *session, PyObject *coro, PyObject *source)
{
	PyObject	*w, *task, *exc, *r;

	if ((w = stmt_wrap(session, coro)) == NULL)
		return NULL;
	task = PyObject_CallMethod(session_loop(session), "create_task", "O",
	    w);
	Py_DECREF(w);
	if (task == NULL || stmt_task_setup(session, task, source) == 0)
		return task;
	/* Not run unwatched: the task is scheduled already. */
	exc = py_exception_fetch();
	r = PyObject_CallMethod(task, "cancel", NULL);
	Py_XDECREF(r);
	PyErr_Clear();
	py_exception_raise(exc);
	Py_DECREF(task);
	return NULL;
}

/* Ready the type; -1 with exception. */
int
stmt_ready(void)
{
	static const struct py_name	names[] = { { &s_close, "close" } };

	if (py_intern_names(names, PY_NAMES_LEN(names)) != 0)
		return -1;
	return PyType_Ready(&stmt_type);
}
