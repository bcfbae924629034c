/* The REPL of a session: a line joins the statement being typed; once
 * complete it is compiled (top-level await allowed) and run, and what it
 * raises is reported as python3's interactive interpreter does. */
#include "console/console-internal.h"
#include "py/py.h"

#ifndef PyCF_ALLOW_TOP_LEVEL_AWAIT
#define PyCF_ALLOW_TOP_LEVEL_AWAIT 0x2000
#endif

static PyObject *traceback_mod;
static PyObject *empty;		/* "" */

/* Remember the exception for pdb.pm() as the REPL does. */
static int
repl_set_last(PyObject *type, PyObject *value, PyObject *tb)
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
repl_show(struct session *s, PyObject *value, int syntax)
{
	PyObject	*type = (PyObject *)Py_TYPE(value), *tb, *lines, *text;
	int		 r;

	tb = PyException_GetTraceback(value);
	if (repl_set_last(type, value, tb) != 0) {
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

/* Report an exception a statement raised (value); SystemExit ends. */
static int
repl_report(struct session *s, PyObject *value)
{
	if (PyErr_GivenExceptionMatches(value, PyExc_SystemExit))
		return s->io->end((PyObject *)s, value);
	return repl_show(s, value, 0);
}

/* Report the exception that is set. */
int
repl_report_current(struct session *s)
{
	PyObject	*exc;
	int		 r;

	if ((exc = py_exception_fetch()) == NULL)
		return 0;
	r = repl_report(s, exc);
	Py_DECREF(exc);
	return r;
}

/* Run a compiled statement; a coroutine becomes the statement's task. */
static int
repl_execute(struct session *s, PyObject *code, PyObject *source)
{
	PyObject	*ns, *r;
	struct stmt_sigints sigints;

	if ((ns = session_namespace((PyObject *)s)) == NULL)
		return -1;
	sigints = stmt_cpu_begin((PyObject *)s);
	r = PyEval_EvalCode(code, ns, ns);
	if (stmt_cpu_end((PyObject *)s, sigints))
		return -1;	/* the program's KeyboardInterrupt */
	if (r == NULL)
		return repl_report_current(s);
	if (((PyCodeObject *)code)->co_flags & CO_COROUTINE) {
		if ((s->stmt = stmt_start((PyObject *)s, r, source)) == NULL) {
			Py_DECREF(r);
			return repl_report_current(s);
		}
	}
	Py_DECREF(r);
	return 0;
}

/* Add a line to the statement; run it once it is complete. */
int
repl_line(struct session *s, PyObject *line)
{
	PyObject	*nl, *source, *code, *compiler, *type, *value, *tb;
	int		 r;

	/* help()'s pager, before the first statement (intro_run); the
	 * namespace, made now if not yet, before any of its code runs. */
	if (pager_install() != 0 ||
	    session_namespace((PyObject *)s) == NULL ||
	    (compiler = repl_compiler(s)) == NULL ||
	    PyList_Append(s->buffer, line) != 0)
		return -1;
	if ((nl = PyUnicode_FromString("\n")) == NULL)
		return -1;
	source = PyUnicode_Join(nl, s->buffer);
	Py_DECREF(nl);
	if (source == NULL)
		return -1;
	code = PyObject_CallFunction(compiler, "Oss", source, "<console>",
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
	if (PyList_SetSlice(s->buffer, 0, PY_SSIZE_T_MAX, NULL) != 0) {
		Py_DECREF(source);
		Py_XDECREF(code);
		return -1;
	}
	if (code == NULL) {
		Py_DECREF(source);
		if (!PyErr_ExceptionMatches(PyExc_SyntaxError) &&
		    !PyErr_ExceptionMatches(PyExc_OverflowError) &&
		    !PyErr_ExceptionMatches(PyExc_ValueError))
			return repl_report_current(s);
		PyErr_Fetch(&type, &value, &tb);
		PyErr_NormalizeException(&type, &value, &tb);
		r = repl_show(s, value, 1);
		Py_XDECREF(type);
		Py_XDECREF(value);
		Py_XDECREF(tb);
		return r;
	}
	r = repl_execute(s, code, source);
	Py_DECREF(source);
	Py_DECREF(code);
	return r;
}

/* A statement's task finished: report how. */
int
repl_finish_stmt(struct session *s)
{
	PyObject	*stmt = s->stmt, *exc;
	int		 r = 0;

	s->stmt = NULL;
	if (s->caught != NULL) {
		exc = s->caught;
		s->caught = NULL;
		r = repl_report(s, exc);
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
		return repl_report_current(s);
	if (exc != Py_None)
		r = repl_report(s, exc);
	Py_DECREF(exc);
	return r;
}

/* Show ps1 or ps2, as the statement so far calls for. */
int
repl_prompt(struct session *s)
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
	/* Marked first: a Ctrl-C handled inside io->prompt (it can run
	 * Python) takes the prompt down and unmarks it. */
	s->prompted = 1;
	if ((r = s->io->prompt((PyObject *)s, text)) != 0)
		s->prompted = 0;
	Py_DECREF(text);
	return r;
}

/* A codeop.CommandCompiler that also takes top-level await. */
static PyObject *
repl_compiler_new(void)
{
	PyObject	*codeop, *compiler, *inner, *flags = NULL, *nflags = NULL;
	long		 v;

	if ((codeop = PyImport_ImportModule("codeop")) == NULL)
		return NULL;
	compiler = PyObject_CallMethod(codeop, "CommandCompiler", NULL);
	Py_DECREF(codeop);
	if (compiler == NULL)
		return NULL;
	inner = PyObject_GetAttrString(compiler, "compiler");
	if (inner != NULL)
		flags = PyObject_GetAttrString(inner, "flags");
	if (flags != NULL && ((v = PyLong_AsLong(flags)) != -1 ||
	    !PyErr_Occurred()))
		nflags = PyLong_FromLong(v | PyCF_ALLOW_TOP_LEVEL_AWAIT);
	if (nflags == NULL || PyObject_SetAttrString(inner, "flags", nflags))
		Py_CLEAR(compiler);
	Py_XDECREF(inner);
	Py_XDECREF(flags);
	Py_XDECREF(nflags);
	return compiler;
}

/* The session's compiler (borrowed), made with its first line: a
 * console that never gets one imports no codeop. NULL with exception. */
PyObject *
repl_compiler(struct session *s)
{
	if (s->compiler == NULL)
		s->compiler = repl_compiler_new();
	return s->compiler;
}

/* What reports need, once; -1 with exception. */
int
repl_ready(void)
{
	if (traceback_mod == NULL &&
	    (traceback_mod = PyImport_ImportModule("traceback")) == NULL)
		return -1;
	if (empty == NULL && (empty = PyUnicode_FromString("")) == NULL)
		return -1;
	return 0;
}
