/* A console session: one console's state, what it writes, and the lines
 * and EOF it is fed (for its REPL, or for ainput()). Its REPL is in
 * repl.c, its task's steps in step.c, its loop in attach.c. */
#include "console/console-internal.h"
#include "py/py.h"

static PyTypeObject session_type;
static PyObject *current_var;	/* contextvar: the session code runs for */
static PyObject *s_done;

/* The backend's private state. */
void *
session_io_arg(PyObject *self)
{
	return session_of(self)->io_arg;
}

/* The session's input/output backend. */
const struct session_io *
session_io(PyObject *self)
{
	return session_of(self)->io;
}

/* The loop the session runs on (borrowed), or NULL. */
PyObject *
session_loop(PyObject *self)
{
	return session_of(self)->loop;
}

/* Where the session writes (borrowed). */
PyObject *
session_out(PyObject *self)
{
	return session_of(self)->out;
}

/* The session's namespace (borrowed), made on first use for a session
 * made without one (the local console: a run whose console never gets a
 * statement builds none); NULL with exception. */
PyObject *
session_namespace(PyObject *self)
{
	struct session	*s = session_of(self);

	if (s->ns != NULL)
		return s->ns;
	if ((s->ns = intro_namespace(s->locals, 0)) == NULL)
		return NULL;
	Py_CLEAR(s->locals);
	/* What session_attach gave a namespace made then. */
	if (s->loop != NULL &&
	    PyDict_SetItemString(s->ns, "loop", s->loop) != 0)
		return NULL;
	return s->ns;
}

/* Write text to the console and flush it. */
int
session_write(PyObject *self, PyObject *text)
{
	return output_write_console(session_of(self)->out, text);
}

/* Write a C string to the console. */
int
session_write_str(PyObject *self, const char *text)
{
	PyObject	*s;
	int		 r;

	if ((s = PyUnicode_FromString(text)) == NULL)
		return -1;
	r = session_write(self, s);
	Py_DECREF(s);
	return r;
}

/* The session the running code belongs to (new reference), or NULL. */
PyObject *
session_current(void)
{
	PyObject	*v = NULL;

	if (current_var == NULL || PyContextVar_Get(current_var, NULL, &v))
		PyErr_Clear();
	return v;
}

/* Call fn(self, arg) in a copy of the current context where this session
 * is the current console, so that output (and tasks made) follow it. */
int
session_run_in(PyObject *self, PyObject *(*fn)(PyObject *, void *),
    void *arg, PyObject **result)
{
	PyObject	*ctx, *tok, *r = NULL;

	if ((ctx = PyContext_CopyCurrent()) == NULL)
		return -1;
	if (PyContext_Enter(ctx) != 0) {
		Py_DECREF(ctx);
		return -1;
	}
	if ((tok = PyContextVar_Set(current_var, self)) != NULL) {
		r = fn(self, arg);
		Py_DECREF(tok);
	}
	if (PyContext_Exit(ctx) != 0)
		Py_CLEAR(r);
	Py_DECREF(ctx);
	if (result != NULL)
		*result = r;
	else
		Py_XDECREF(r);
	return r == NULL ? -1 : 0;
}

/* True (1) when future f is done, -1 on error. */
int
future_done(PyObject *f)
{
	return py_call_truth(f, s_done);
}

/* Resolve future f with v unless it is done already (cancelled). */
static int
future_resolve(PyObject *f, const char *how, PyObject *v)
{
	PyObject	*r;
	int		 done;

	if ((done = future_done(f)) != 0)
		return done < 0 ? -1 : 0;
	if ((r = PyObject_CallMethod(f, how, "O", v)) == NULL)
		return -1;
	Py_DECREF(r);
	return 0;
}

/* Let the console task go on: a line or EOF arrived. */
int
session_wake(struct session *s)
{
	PyObject	*w = s->waiter;
	int		 r;

	if (w == NULL)
		return 0;
	s->waiter = NULL;
	r = future_resolve(w, "set_result", Py_None);
	Py_DECREF(w);
	return r;
}

/* A line arrived: to the oldest ainput() waiting, else to the console. */
int
session_feed_line(PyObject *self, PyObject *line)
{
	struct session	*s = session_of(self);
	PyObject	*f;
	int		 done, r;

	while (PyList_GET_SIZE(s->readers) > 0) {
		f = Py_NewRef(PyList_GET_ITEM(s->readers, 0));
		if (PySequence_DelItem(s->readers, 0) != 0 ||
		    (done = future_done(f)) < 0) {
			Py_DECREF(f);
			return -1;
		}
		r = done ? 0 : future_resolve(f, "set_result", line);
		Py_DECREF(f);
		if (!done)
			return r;
	}
	if (PyList_Append(s->lines, line) != 0)
		return -1;
	return session_wake(s);
}

/* End of input: ainput() raises EOFError, the console ends. The readers
 * are taken out first: resolving them may run Python. */
int
session_feed_eof(PyObject *self)
{
	struct session	*s = session_of(self);
	PyObject	*readers, *fresh, *exc;
	Py_ssize_t	 i;
	int		 r = 0;

	s->eof = 1;
	if ((fresh = PyList_New(0)) == NULL)
		return -1;
	readers = s->readers;		/* ours now */
	s->readers = fresh;
	for (i = 0; i < PyList_GET_SIZE(readers) && r == 0; i++) {
		if ((exc = PyObject_CallNoArgs(PyExc_EOFError)) == NULL) {
			r = -1;
			break;
		}
		r = future_resolve(PyList_GET_ITEM(readers, i),
		    "set_exception", exc);
		Py_DECREF(exc);
	}
	Py_DECREF(readers);
	if (r != 0)
		return -1;
	return session_wake(s);
}

/* ainput(prompt): a future for the next line of this console. */
PyObject *
session_ainput(PyObject *self, PyObject *prompt)
{
	struct session	*s = session_of(self);
	PyObject	*f, *line, *exc;
	int		 r;

	if (s->loop == NULL) {
		PyErr_SetString(PyExc_RuntimeError, "the console is not running");
		return NULL;
	}
	if ((f = PyObject_CallMethod(s->loop, "create_future", NULL)) == NULL)
		return NULL;
	if (PyList_GET_SIZE(s->lines) > 0) {
		/* Typed ahead: the prompt is still written, as input() does. */
		line = Py_NewRef(PyList_GET_ITEM(s->lines, 0));
		r = PyUnicode_GET_LENGTH(prompt) ? session_write(self, prompt) : 0;
		if (r == 0)
			r = PySequence_DelItem(s->lines, 0);
		if (r == 0)
			r = future_resolve(f, "set_result", line);
		Py_DECREF(line);
	} else if (s->eof) {
		if ((exc = PyObject_CallNoArgs(PyExc_EOFError)) == NULL)
			r = -1;
		else
			r = future_resolve(f, "set_exception", exc);
		Py_XDECREF(exc);
	} else {
		r = s->io->prompt(self, prompt);
		if (r == 0)
			r = PyList_Append(s->readers, f);
	}
	if (r != 0)
		Py_CLEAR(f);
	return f;
}

/* Console code starts (1) or stops (0) running on the CPU (not the
 * same as a statement in progress: one that awaits is off the CPU). */
void
session_set_on_cpu(PyObject *self, int on_cpu)
{
	session_of(self)->on_cpu = on_cpu;
}

/* True while console code is on the CPU: Ctrl-C raises in it. */
int
session_on_cpu(PyObject *self)
{
	return session_of(self)->on_cpu;
}

/* Keep what ended a statement (KeyboardInterrupt, SystemExit). */
void
session_set_caught(PyObject *self, PyObject *exc)
{
	Py_XSETREF(session_of(self)->caught, Py_NewRef(exc));
}

/* Ctrl-C while no console code runs: cancel the statement's task (1),
 * or drop the statement being typed (0): the caller shows a new prompt. */
int
session_interrupt(PyObject *self)
{
	struct session	*s = session_of(self);
	PyObject	*r;

	if (s->stmt != NULL) {
		if ((r = PyObject_CallMethod(s->stmt, "cancel", NULL)) == NULL)
			return -1;
		Py_DECREF(r);
		s->interrupted = 1;
		return 1;
	}
	if (PyList_SetSlice(s->buffer, 0, PY_SSIZE_T_MAX, NULL) != 0)
		return -1;
	s->prompted = 0;
	/* The console task steps again: it shows the fresh prompt. */
	return session_wake(s);
}

/* True while a statement is in progress: its task runs, awaits, or is
 * about to start (Ctrl-C cancels it). */
int
session_has_stmt(PyObject *self)
{
	return session_of(self)->stmt != NULL;
}

/* True when o is a session. */
int
session_check(PyObject *o)
{
	return Py_TYPE(o) == &session_type;
}

/* The session's task on its loop (borrowed), or NULL. */
PyObject *
session_task(PyObject *self)
{
	return session_of(self)->task;
}

/* A new session on namespace ns (NULL: one made with locals, a dict or
 * NULL, when first used) writing to out, reading through io; it owns
 * io_arg (io->release frees it), even when it cannot be made. */
PyObject *
session_new(PyObject *ns, PyObject *locals, PyObject *out,
    const struct session_io *io, void *io_arg)
{
	struct session	*s;

	/* The session owns io_arg from here on, made or not. */
	if ((s = PyObject_GC_New(struct session, &session_type)) == NULL) {
		if (io->release != NULL)
			io->release(io_arg);
		return NULL;
	}
	s->ns = Py_XNewRef(ns);
	s->locals = ns == NULL ? Py_XNewRef(locals) : NULL;
	s->out = Py_NewRef(out);
	s->buffer = PyList_New(0);
	s->lines = PyList_New(0);
	s->readers = PyList_New(0);
	s->compiler = s->loop = s->task = s->waiter = s->stmt = NULL;
	s->banner = s->startup = s->caught = NULL;
	s->io = io;
	s->io_arg = io_arg;
	s->eof = s->prompted = s->on_cpu = s->interrupted = 0;
	PyObject_GC_Track(s);
	if (s->buffer == NULL || s->lines == NULL || s->readers == NULL)
		Py_CLEAR(s);
	return (PyObject *)s;
}

static int
session_traverse(struct session *s, visitproc visit, void *arg)
{
	Py_VISIT(s->ns);
	Py_VISIT(s->locals);
	Py_VISIT(s->out);
	Py_VISIT(s->compiler);
	Py_VISIT(s->buffer);
	Py_VISIT(s->lines);
	Py_VISIT(s->readers);
	Py_VISIT(s->loop);
	Py_VISIT(s->task);
	Py_VISIT(s->waiter);
	Py_VISIT(s->stmt);
	Py_VISIT(s->banner);
	Py_VISIT(s->startup);
	Py_VISIT(s->caught);
	if (s->io != NULL && s->io->traverse != NULL)
		return s->io->traverse(s->io_arg, visit, arg);
	return 0;
}

static int
session_clear(struct session *s)
{
	Py_CLEAR(s->ns);
	Py_CLEAR(s->locals);
	Py_CLEAR(s->out);
	Py_CLEAR(s->compiler);
	Py_CLEAR(s->buffer);
	Py_CLEAR(s->lines);
	Py_CLEAR(s->readers);
	Py_CLEAR(s->loop);
	Py_CLEAR(s->task);
	Py_CLEAR(s->waiter);
	Py_CLEAR(s->stmt);
	Py_CLEAR(s->banner);
	Py_CLEAR(s->startup);
	Py_CLEAR(s->caught);
	if (s->io != NULL && s->io->clear != NULL)
		s->io->clear(s->io_arg);
	return 0;
}

static void
session_dealloc(struct session *s)
{
	PyObject_GC_UnTrack(s);
	session_clear(s);
	if (s->io != NULL && s->io->release != NULL)
		s->io->release(s->io_arg);
	PyObject_GC_Del(s);
}

static PyTypeObject session_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "apython.ConsoleSession",
	.tp_doc = "One console: its namespace, input and output.",
	.tp_basicsize = sizeof(struct session),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.tp_traverse = (traverseproc)session_traverse,
	.tp_clear = (inquiry)session_clear,
	.tp_dealloc = (destructor)session_dealloc,
};

/* Ready the types; -1 with exception. */
static int
session_ready(void)
{
	static const struct py_name	names[] = { { &s_done, "done" } };

	if (py_intern_names(names, PY_NAMES_LEN(names)) != 0)
		return -1;
	if (PyType_Ready(&session_type) != 0 || step_ready() != 0 ||
	    stmt_ready() != 0)
		return -1;
	if (current_var == NULL &&
	    (current_var = PyContextVar_New("apython_console", NULL)) == NULL)
		return -1;
	return repl_ready();
}

/* Ready what every console needs, once (the local console and the
 * server may both ask): the types, output routing. */
int
console_prepare(void)
{
	static int	 prepared;

	if (prepared)
		return 0;
	if (session_ready() != 0 || output_setup() != 0 || stdin_setup() != 0)
		return -1;
	prepared = 1;
	return 0;
}
