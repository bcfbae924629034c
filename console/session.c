/* A console session: compiles what is typed (top-level await included),
 * runs it, reports results and errors, all as one task on the loop. */
#include "console/console-internal.h"

#ifndef PyCF_ALLOW_TOP_LEVEL_AWAIT
#define PyCF_ALLOW_TOP_LEVEL_AWAIT 0x2000
#endif

struct session {
	PyObject_HEAD
	PyObject		*ns;		/* the namespace */
	PyObject		*out;		/* where the console writes */
	PyObject		*compiler;	/* codeop.CommandCompiler */
	PyObject		*buffer;	/* lines of the statement so far */
	PyObject		*lines;		/* lines read, not yet used */
	PyObject		*readers;	/* ainput() futures, oldest first */
	PyObject		*loop;
	PyObject		*task;		/* the console's own task */
	PyObject		*waiter;	/* future: a line or EOF arrives */
	PyObject		*stmt;		/* task of a running statement */
	PyObject		*banner;	/* written by the first step */
	PyObject		*startup;	/* file run by the first step */
	PyObject		*caught;	/* what ended the statement */
	const struct session_io	*io;
	void			*io_arg;
	int			 running;	/* console code on the CPU */
	int			 interrupted;	/* Ctrl-C cancelled stmt */
	int			 eof;
	int			 prompted;	/* a prompt waits for its line */
};

/* The coroutine the console task runs: each step drives the session. */
struct console_coro {
	PyObject_HEAD
	PyObject	*session;
	int		 finished;
};

static PyTypeObject session_type;
static PyTypeObject coro_type;
static PyObject *traceback_mod;
static PyObject *empty;		/* "" */

#define S(o) ((struct session *)(o))

/* The backend's private state. */
void *
session_io_arg(PyObject *self)
{
	return S(self)->io_arg;
}

/* The loop the session runs on (borrowed), or NULL. */
PyObject *
session_loop(PyObject *self)
{
	return S(self)->loop;
}

/* Where the session writes (borrowed). */
PyObject *
session_out(PyObject *self)
{
	return S(self)->out;
}

/* The session's namespace (borrowed). */
PyObject *
session_namespace(PyObject *self)
{
	return S(self)->ns;
}

/* Write text to the console and flush it. */
int
session_write(PyObject *self, PyObject *text)
{
	PyObject	*r;

	r = PyObject_CallMethod(S(self)->out, "write", "O", text);
	if (r == NULL)
		return -1;
	Py_DECREF(r);
	if ((r = PyObject_CallMethod(S(self)->out, "flush", NULL)) == NULL)
		return -1;
	Py_DECREF(r);
	return 0;
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
	if ((tok = PyContextVar_Set(output_var(), self)) != NULL) {
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
static int
future_done(PyObject *f)
{
	PyObject	*r;
	int		 done;

	if ((r = PyObject_CallMethod(f, "done", NULL)) == NULL)
		return -1;
	done = PyObject_IsTrue(r);
	Py_DECREF(r);
	return done;
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
static int
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
	struct session	*s = S(self);
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
	struct session	*s = S(self);
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
	struct session	*s = S(self);
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

/* Console code starts (1) or stops (0) running on the CPU. */
void
session_set_running(PyObject *self, int running)
{
	S(self)->running = running;
}

/* True while console code runs: Ctrl-C should interrupt it. */
int
session_running(PyObject *self)
{
	return S(self)->running;
}

/* Keep what ended a statement (KeyboardInterrupt, SystemExit). */
void
session_set_caught(PyObject *self, PyObject *exc)
{
	Py_XSETREF(S(self)->caught, Py_NewRef(exc));
}

/* Ctrl-C while no console code runs: cancel the running statement (1),
 * or drop the statement being typed (0): the caller shows a new prompt. */
int
session_interrupt(PyObject *self)
{
	struct session	*s = S(self);
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

/* True while a statement's task runs (awaits or is about to). */
int
session_busy(PyObject *self)
{
	return S(self)->stmt != NULL;
}

/* Remember the exception for pdb.pm() as the REPL does. */
static int
session_set_last(PyObject *type, PyObject *value, PyObject *tb)
{
	if (PySys_SetObject("last_type", type) != 0 ||
	    PySys_SetObject("last_value", value) != 0 ||
	    PySys_SetObject("last_traceback", tb ? tb : Py_None) != 0)
		return -1;
#if PY_VERSION_HEX >= 0x030C0000
	if (PySys_SetObject("last_exc", value) != 0)
		return -1;
#endif
	return 0;
}

/* Print an exception the way the interactive interpreter does. */
static int
session_show(struct session *s, PyObject *value, int syntax)
{
	PyObject	*type = (PyObject *)Py_TYPE(value), *tb, *lines, *text;
	int		 r;

	tb = PyException_GetTraceback(value);
	if (session_set_last(type, value, tb) != 0) {
		Py_XDECREF(tb);
		return -1;
	}
	if (syntax)
		lines = PyObject_CallMethod(traceback_mod,
		    "format_exception_only", "OO", type, value);
	else
		lines = PyObject_CallMethod(traceback_mod, "format_exception",
		    "OOO", type, value, tb ? tb : Py_None);
	Py_XDECREF(tb);
	if (lines == NULL)
		return -1;
	text = PyUnicode_Join(empty, lines);
	Py_DECREF(lines);
	if (text == NULL)
		return -1;
	r = session_write((PyObject *)s, text);
	Py_DECREF(text);
	return r;
}

/* The session ends with exit_exc (a SystemExit): the backend decides. */
static int
session_end(struct session *s, PyObject *exit_exc)
{
	return s->io->end((PyObject *)s, exit_exc);
}

/* Report an exception a statement raised (value); SystemExit ends. */
static int
session_report(struct session *s, PyObject *value)
{
	if (PyErr_GivenExceptionMatches(value, PyExc_SystemExit))
		return session_end(s, value);
	return session_show(s, value, 0);
}

/* Report the exception that is set. */
static int
session_report_current(struct session *s)
{
	PyObject	*type, *value, *tb;
	int		 r;

	PyErr_Fetch(&type, &value, &tb);
	PyErr_NormalizeException(&type, &value, &tb);
	if (tb != NULL)
		PyException_SetTraceback(value, tb);
	r = session_report(s, value);
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
	return r;
}

/* Run a compiled statement; a coroutine becomes the statement's task. */
static int
session_execute(struct session *s, PyObject *code)
{
	PyObject	*r;
	PyObject	*w;

	s->running = 1;
	r = PyEval_EvalCode(code, s->ns, s->ns);
	s->running = 0;
	if (r == NULL)
		return session_report_current(s);
	if (((PyCodeObject *)code)->co_flags & CO_COROUTINE) {
		w = stmt_wrap((PyObject *)s, r);
		s->stmt = w ? PyObject_CallMethod(s->loop, "create_task", "O",
		    w) : NULL;
		Py_XDECREF(w);
		if (s->stmt == NULL) {
			Py_DECREF(r);
			return session_report_current(s);
		}
	}
	Py_DECREF(r);
	return 0;
}

/* Add a line to the statement; run it once it is complete. */
static int
session_handle_line(struct session *s, PyObject *line)
{
	PyObject	*nl, *source, *code, *type, *value, *tb;
	int		 r;

	if (PyList_Append(s->buffer, line) != 0)
		return -1;
	if ((nl = PyUnicode_FromString("\n")) == NULL)
		return -1;
	source = PyUnicode_Join(nl, s->buffer);
	Py_DECREF(nl);
	if (source == NULL)
		return -1;
	code = PyObject_CallFunction(s->compiler, "Oss", source, "<console>",
	    "single");
	if (code == Py_None) {
		Py_DECREF(source);
		Py_DECREF(code);
		return 0;
	}
	/* Complete, or wrong: one statement for the backend's history. */
	if (s->io->statement != NULL) {
		PyErr_Fetch(&type, &value, &tb);
		s->io->statement((PyObject *)s, source);
		PyErr_Restore(type, value, tb);
	}
	Py_DECREF(source);
	if (PyList_SetSlice(s->buffer, 0, PY_SSIZE_T_MAX, NULL) != 0) {
		Py_XDECREF(code);
		return -1;
	}
	if (code == NULL) {
		if (!PyErr_ExceptionMatches(PyExc_SyntaxError) &&
		    !PyErr_ExceptionMatches(PyExc_OverflowError) &&
		    !PyErr_ExceptionMatches(PyExc_ValueError))
			return session_report_current(s);
		PyErr_Fetch(&type, &value, &tb);
		PyErr_NormalizeException(&type, &value, &tb);
		r = session_show(s, value, 1);
		Py_XDECREF(type);
		Py_XDECREF(value);
		Py_XDECREF(tb);
		return r;
	}
	r = session_execute(s, code);
	Py_DECREF(code);
	return r;
}

/* A statement's task finished: report how. */
static int
session_finish_stmt(struct session *s)
{
	PyObject	*stmt = s->stmt, *exc;
	int		 r = 0;

	s->stmt = NULL;
	if (s->caught != NULL) {
		exc = s->caught;
		s->caught = NULL;
		r = session_report(s, exc);
		Py_DECREF(exc);
		Py_DECREF(stmt);
		return r;
	}
	exc = PyObject_CallMethod(stmt, "exception", NULL);
	Py_DECREF(stmt);
	if (exc == NULL && s->interrupted &&
	    PyErr_ExceptionMatches(PyExc_BaseException)) {
		/* Ctrl-C cancelled it: said as python3 says it. */
		PyErr_Clear();
		s->interrupted = 0;
		return session_write_str((PyObject *)s, "KeyboardInterrupt\n");
	}
	s->interrupted = 0;
	if (exc == NULL)
		return session_report_current(s);
	if (exc != Py_None)
		r = session_report(s, exc);
	Py_DECREF(exc);
	return r;
}

/* Show ps1 or ps2, as the statement so far calls for. */
static int
session_prompt(struct session *s)
{
	PyObject	*p, *text;
	int		 r;

	p = PySys_GetObject(PyList_GET_SIZE(s->buffer) ? "ps2" : "ps1");
	if (p == NULL)
		text = PyUnicode_FromString(PyList_GET_SIZE(s->buffer) ?
		    "... " : ">>> ");
	else
		text = PyObject_Str(p);
	if (text == NULL)
		return -1;
	r = s->io->prompt((PyObject *)s, text);
	Py_DECREF(text);
	if (r == 0)
		s->prompted = 1;
	return r;
}

/* The bytes of the file at path; NULL with exception. */
static PyObject *
session_read_file(PyObject *path)
{
	PyObject	*io, *f, *src, *r, *type, *value, *tb;

	if ((io = PyImport_ImportModule("io")) == NULL)
		return NULL;
	f = PyObject_CallMethod(io, "open", "Os", path, "rb");
	Py_DECREF(io);
	if (f == NULL)
		return NULL;
	src = PyObject_CallMethod(f, "read", NULL);
	if (src != NULL && !PyBytes_Check(src)) {
		PyErr_SetString(PyExc_TypeError, "read() did not give bytes");
		Py_CLEAR(src);
	}
	/* Closed either way; a read error is the one said. */
	PyErr_Fetch(&type, &value, &tb);
	r = PyObject_CallMethod(f, "close", NULL);
	Py_DECREF(f);
	if (type != NULL) {
		Py_XDECREF(r);
		PyErr_Restore(type, value, tb);
		return NULL;
	}
	if (r == NULL)
		Py_CLEAR(src);
	Py_XDECREF(r);
	return src;
}

/* Run PYTHONSTARTUP into the namespace; errors are shown, not fatal. */
static int
session_run_startup(struct session *s)
{
	PyObject	*path = s->startup, *src, *code = NULL, *r;

	s->startup = NULL;
	src = session_read_file(path);
	if (src != NULL)
		code = Py_CompileStringObject(PyBytes_AS_STRING(src), path,
		    Py_file_input, NULL, -1);
	Py_XDECREF(src);
	Py_DECREF(path);
	if (code == NULL)
		return session_report_current(s);
	r = PyEval_EvalCode(code, s->ns, s->ns);
	Py_DECREF(code);
	if (r == NULL)
		return session_report_current(s);
	Py_DECREF(r);
	return 0;
}

/* First step: the banner, then PYTHONSTARTUP. */
static int
session_intro(struct session *s)
{
	PyObject	*banner = s->banner;
	int		 r = 0;

	if (banner != NULL) {
		s->banner = NULL;
		r = session_write((PyObject *)s, banner);
		Py_DECREF(banner);
	}
	if (r == 0 && s->startup != NULL)
		r = session_run_startup(s);
	return r;
}

/* Hand a future to the task to wait on, as `await` would. */
static PyObject *
session_yield(PyObject *f)
{
	if (PyObject_SetAttrString(f, "_asyncio_future_blocking", Py_True))
		return NULL;
	return Py_NewRef(f);
}

/* The statement's task finished: step the console. */
static PyObject *
session_stmt_done(PyObject *self, PyObject *task)
{
	(void)task;
	if (session_wake(S(self)) != 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyMethodDef stmt_done_def = {
	"console_statement_done", session_stmt_done, METH_O, NULL
};

/* Wait for the running statement through a future of our own, so that
 * cancelling the console task (the loop ends) is told apart from the
 * statement being cancelled (Ctrl-C, or its own doing). */
static PyObject *
session_wait_stmt(struct session *s)
{
	PyObject	*cb, *r;

	s->waiter = PyObject_CallMethod(s->loop, "create_future", NULL);
	if (s->waiter == NULL)
		return NULL;
	if ((cb = PyCFunction_New(&stmt_done_def, (PyObject *)s)) == NULL)
		return NULL;
	r = PyObject_CallMethod(s->stmt, "add_done_callback", "O", cb);
	Py_DECREF(cb);
	if (r == NULL)
		return NULL;
	Py_DECREF(r);
	return session_yield(s->waiter);
}

/* One step of the console: run what can run, then say what to wait for.
 * NULL without exception means the console is over. */
static PyObject *
session_step(struct session *s)
{
	PyObject	*line;
	int		 r;

	if (session_intro(s) != 0)
		return NULL;
	for (;;) {
		if (s->stmt != NULL) {
			if ((r = future_done(s->stmt)) < 0)
				return NULL;
			if (r == 0)
				return session_wait_stmt(s);
			if (session_finish_stmt(s) != 0)
				return NULL;
		}
		if (!s->prompted && session_prompt(s) != 0)
			return NULL;
		if (PyList_GET_SIZE(s->lines) > 0) {
			line = Py_NewRef(PyList_GET_ITEM(s->lines, 0));
			r = PySequence_DelItem(s->lines, 0);
			s->prompted = 0;
			if (r == 0)
				r = session_handle_line(s, line);
			Py_DECREF(line);
			if (r != 0)
				return NULL;
			continue;
		}
		if (s->eof)
			break;
		s->waiter = PyObject_CallMethod(s->loop, "create_future", NULL);
		return s->waiter ? session_yield(s->waiter) : NULL;
	}
	/* EOF: end the prompt's line, then end as exit(0) would. */
	s->prompted = 0;
	if (session_write_str((PyObject *)s, "\n") != 0)
		return NULL;
	PyObject *exc = PyObject_CallFunction(PyExc_SystemExit, "i", 0);
	if (exc == NULL)
		return NULL;
	r = session_end(s, exc);
	Py_DECREF(exc);
	return NULL;
}

/* Stop the console task's work: the running statement is cancelled. */
static void
session_stop(struct session *s)
{
	PyObject	*r;

	if (s->stmt != NULL) {
		r = PyObject_CallMethod(s->stmt, "cancel", NULL);
		if (r == NULL)
			PyErr_WriteUnraisable(s->stmt);
		Py_XDECREF(r);
		Py_CLEAR(s->stmt);
	}
	Py_CLEAR(s->waiter);
	Py_CLEAR(s->task);
}

/* Say nothing when a task of a closed loop is collected. */
static void
session_quiet_task(PyObject *task)
{
	PyObject	*r;
	int		 done = future_done(task);

	if (done > 0) {
		r = PyObject_CallMethod(task, "cancelled", NULL);
		if (r == Py_False)
			Py_XDECREF(PyObject_CallMethod(task, "exception", NULL));
		Py_XDECREF(r);
	} else if (done == 0)
		PyObject_SetAttrString(task, "_log_destroy_pending", Py_False);
	PyErr_Clear();
}

/* Leave the loop: stop reading, and forget tasks the loop takes along. */
void
session_detach(PyObject *self)
{
	struct session	*s = S(self);

	if (s->loop == NULL)
		return;
	s->io->detach(self);
	if (s->task != NULL)
		session_quiet_task(s->task);
	if (s->stmt != NULL)
		session_quiet_task(s->stmt);
	Py_CLEAR(s->stmt);
	Py_CLEAR(s->waiter);
	Py_CLEAR(s->task);
	Py_CLEAR(s->loop);
}

/* create_task for the console coroutine, in the session's context. */
static PyObject *
session_make_task(PyObject *self, void *coro)
{
	PyObject	*task, *r;

	task = PyObject_CallMethod(S(self)->loop, "create_task", "O", coro);
	if (task == NULL)
		return NULL;
	r = PyObject_CallMethod(task, "set_name", "s", "apython-console");
	Py_XDECREF(r);
	if (r == NULL)
		Py_CLEAR(task);
	return task;
}

/* Run the console on loop (once per loop): read lines, start its task. */
int
session_attach(PyObject *self, PyObject *loop)
{
	struct session		*s = S(self);
	struct console_coro	*coro;
	int			 r;

	if (s->loop == loop && s->task != NULL)
		return 0;
	if (s->loop != loop) {
		session_detach(self);
		s->loop = Py_NewRef(loop);
		if (PyDict_SetItemString(s->ns, "loop", loop) != 0)
			return -1;
		if (!s->eof && s->io->attach(self, loop) != 0)
			return -1;
		if (output_pydoc_soon(loop) != 0)
			return -1;
	}
	coro = PyObject_GC_New(struct console_coro, &coro_type);
	if (coro == NULL)
		return -1;
	coro->session = Py_NewRef(self);
	coro->finished = 0;
	PyObject_GC_Track(coro);
	r = session_run_in(self, session_make_task, coro, &s->task);
	Py_DECREF(coro);
	return r;
}

/* Write banner and run startup (a path) when the console first steps. */
void
session_set_intro(PyObject *self, PyObject *banner, PyObject *startup)
{
	Py_XSETREF(S(self)->banner, Py_XNewRef(banner));
	Py_XSETREF(S(self)->startup, Py_XNewRef(startup));
}

static const char default_banner[] =
    "Python %U on %U\n"
    "Type \"help\", \"copyright\", \"credits\" or \"license\" for more "
    "information.\n"
    "---\n"
    "This console is running in an asyncio event loop.\n"
    "It allows you to wait for coroutines using the 'await' syntax.\n"
    "Try: await asyncio.sleep(1, result=3)\n"
    "---\n";

/* A console's banner: the given text (str) and a newline, or the default. */
PyObject *
session_banner(PyObject *banner)
{
	PyObject	*version, *platform;

	if (banner != NULL)
		return PyUnicode_FromFormat("%U\n", banner);
	version = PySys_GetObject("version");
	platform = PySys_GetObject("platform");
	if (version == NULL || platform == NULL ||
	    !PyUnicode_Check(version) || !PyUnicode_Check(platform)) {
		PyErr_SetString(PyExc_RuntimeError, "lost sys.version");
		return NULL;
	}
	return PyUnicode_FromFormat(default_banner, version, platform);
}

/* A console namespace: asyncio, ainput, then the locals dict (or NULL). */
PyObject *
session_namespace_new(PyObject *locals)
{
	PyObject	*ns, *name, *asyncio, *apython, *ainput = NULL;

	if ((ns = PyDict_New()) == NULL)
		return NULL;
	name = PyUnicode_InternFromString("__console__");
	asyncio = PyImport_ImportModule("asyncio");
	if ((apython = PyImport_ImportModule("apython")) != NULL)
		ainput = PyObject_GetAttrString(apython, "ainput");
	if (name == NULL || asyncio == NULL || ainput == NULL ||
	    PyDict_SetItemString(ns, "__name__", name) != 0 ||
	    PyDict_SetItemString(ns, "__doc__", Py_None) != 0 ||
	    PyDict_SetItemString(ns, "__builtins__", PyEval_GetBuiltins()) ||
	    PyDict_SetItemString(ns, "asyncio", asyncio) != 0 ||
	    PyDict_SetItemString(ns, "ainput", ainput) != 0 ||
	    (locals != NULL && PyDict_Update(ns, locals) != 0))
		Py_CLEAR(ns);
	Py_XDECREF(name);
	Py_XDECREF(asyncio);
	Py_XDECREF(apython);
	Py_XDECREF(ainput);
	return ns;
}

/* A new session on namespace ns writing to out, reading through io; it
 * owns io_arg (io->release frees it), even when it cannot be made. */
PyObject *
session_new(PyObject *ns, PyObject *out, const struct session_io *io,
    void *io_arg)
{
	struct session	*s;
	PyObject	*codeop, *inner = NULL, *flags = NULL, *nflags = NULL;
	long		 v;

	/* The session owns io_arg from here on, made or not. */
	if ((s = PyObject_GC_New(struct session, &session_type)) == NULL) {
		if (io->release != NULL)
			io->release(io_arg);
		return NULL;
	}
	s->ns = Py_NewRef(ns);
	s->out = Py_NewRef(out);
	s->buffer = PyList_New(0);
	s->lines = PyList_New(0);
	s->readers = PyList_New(0);
	s->compiler = s->loop = s->task = s->waiter = s->stmt = NULL;
	s->banner = s->startup = s->caught = NULL;
	s->io = io;
	s->io_arg = io_arg;
	s->eof = s->prompted = s->running = s->interrupted = 0;
	PyObject_GC_Track(s);
	if ((codeop = PyImport_ImportModule("codeop")) != NULL) {
		s->compiler = PyObject_CallMethod(codeop, "CommandCompiler", NULL);
		Py_DECREF(codeop);
	}
	if (s->compiler != NULL)
		inner = PyObject_GetAttrString(s->compiler, "compiler");
	if (inner != NULL)
		flags = PyObject_GetAttrString(inner, "flags");
	if (flags != NULL && ((v = PyLong_AsLong(flags)) != -1 ||
	    !PyErr_Occurred()))
		nflags = PyLong_FromLong(v | PyCF_ALLOW_TOP_LEVEL_AWAIT);
	if (nflags == NULL || PyObject_SetAttrString(inner, "flags", nflags) ||
	    s->buffer == NULL || s->lines == NULL || s->readers == NULL)
		Py_CLEAR(s);
	Py_XDECREF(inner);
	Py_XDECREF(flags);
	Py_XDECREF(nflags);
	return (PyObject *)s;
}

static int
session_traverse(struct session *s, visitproc visit, void *arg)
{
	Py_VISIT(s->ns);
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

/* send(value): the task steps the console. */
static PyObject *
coro_send(struct console_coro *self, PyObject *value)
{
	PyObject	*r;

	(void)value;
	if (self->finished || self->session == NULL) {
		PyErr_SetString(PyExc_RuntimeError,
		    "cannot reuse already awaited coroutine");
		return NULL;
	}
	if ((r = session_step(S(self->session))) == NULL) {
		self->finished = 1;
		if (!PyErr_Occurred())
			PyErr_SetNone(PyExc_StopIteration);
	}
	return r;
}

static PyObject *
coro_iternext(struct console_coro *self)
{
	PyObject	*r = coro_send(self, Py_None);

	if (r == NULL && PyErr_ExceptionMatches(PyExc_StopIteration))
		PyErr_Clear();
	return r;
}

/* The exception throw(type[, value[, tb]]) raises, as a generator's
 * throw makes it: *type, *value, *tb (new references); -1 with a
 * TypeError for arguments a generator refuses. */
static int
coro_exception(PyObject **type, PyObject **value, PyObject **tb)
{
	if (*tb == Py_None)
		*tb = NULL;
	else if (*tb != NULL && !PyTraceBack_Check(*tb)) {
		PyErr_SetString(PyExc_TypeError,
		    "throw() third argument must be a traceback object");
		return -1;
	}
	if (PyExceptionClass_Check(*type)) {
		Py_INCREF(*type);
		Py_XINCREF(*value);
		Py_XINCREF(*tb);
		PyErr_NormalizeException(type, value, tb);
		return 0;
	}
	if (!PyExceptionInstance_Check(*type)) {
		PyErr_Format(PyExc_TypeError, "exceptions must be classes or "
		    "instances deriving from BaseException, not %s",
		    Py_TYPE(*type)->tp_name);
		return -1;
	}
	if (*value != NULL && *value != Py_None) {
		PyErr_SetString(PyExc_TypeError,
		    "instance exception may not have a separate value");
		return -1;
	}
	*value = Py_NewRef(*type);
	*type = Py_NewRef((PyObject *)Py_TYPE(*value));
	if (*tb == NULL)
		*tb = PyException_GetTraceback(*value);
	else
		Py_INCREF(*tb);
	return 0;
}

/* throw(type[, value[, tb]]): the task is cancelled (the loop ends):
 * stop, and raise that exception, its traceback after ours. */
static PyObject *
coro_throw(struct console_coro *self, PyObject *args)
{
	PyObject	*type, *value = NULL, *tb = NULL;

	if (!PyArg_UnpackTuple(args, "throw", 1, 3, &type, &value, &tb) ||
	    coro_exception(&type, &value, &tb) != 0)
		return NULL;
	if (!self->finished && self->session != NULL)
		session_stop(S(self->session));
	self->finished = 1;
	PyErr_Restore(type, value, tb);
	return NULL;
}

/* close(): the coroutine will not be stepped again. */
static PyObject *
coro_close(struct console_coro *self, PyObject *unused)
{
	(void)unused;
	if (!self->finished && self->session != NULL)
		session_stop(S(self->session));
	self->finished = 1;
	Py_RETURN_NONE;
}

static PyObject *
coro_await(PyObject *self)
{
	return Py_NewRef(self);
}

static int
coro_traverse(struct console_coro *self, visitproc visit, void *arg)
{
	Py_VISIT(self->session);
	return 0;
}

static int
coro_clear(struct console_coro *self)
{
	Py_CLEAR(self->session);
	return 0;
}

static void
coro_dealloc(struct console_coro *self)
{
	PyObject_GC_UnTrack(self);
	coro_clear(self);
	PyObject_GC_Del(self);
}

static PyMethodDef coro_methods[] = {
	{ "send", (PyCFunction)coro_send, METH_O, NULL },
	{ "throw", (PyCFunction)coro_throw, METH_VARARGS, NULL },
	{ "close", (PyCFunction)coro_close, METH_NOARGS, NULL },
	{ NULL, NULL, 0, NULL }
};

static PyAsyncMethods coro_async = { .am_await = coro_await };

static PyTypeObject coro_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "apython.console",
	.tp_doc = "The console's coroutine.",
	.tp_basicsize = sizeof(struct console_coro),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.tp_traverse = (traverseproc)coro_traverse,
	.tp_clear = (inquiry)coro_clear,
	.tp_dealloc = (destructor)coro_dealloc,
	.tp_as_async = &coro_async,
	.tp_iter = coro_await,
	.tp_iternext = (iternextfunc)coro_iternext,
	.tp_methods = coro_methods,
};

/* Ready the types; -1 with exception. */
int
session_ready(void)
{
	if (PyType_Ready(&session_type) != 0 || PyType_Ready(&coro_type) != 0 ||
	    stmt_ready() != 0)
		return -1;
	traceback_mod = PyImport_ImportModule("traceback");
	empty = PyUnicode_FromString("");
	return traceback_mod == NULL || empty == NULL ? -1 : 0;
}
