/* What a console starts with: its banner and namespace (made by
 * console/intro.py), and its first step, which writes the banner and runs
 * PYTHONSTARTUP in the namespace. */
#include "console/console-internal.h"
#include "console/intro.py.h"
#include "py/py.h"

/* The bytes of the file at path; NULL with exception. */
static PyObject *
intro_read_file(PyObject *path)
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
intro_startup(struct session *s)
{
	PyObject	*path = s->startup, *src, *code = NULL, *ns, *r;

	s->startup = NULL;
	src = intro_read_file(path);
	if (src != NULL)
		code = Py_CompileStringObject(PyBytes_AS_STRING(src), path,
		    Py_file_input, NULL, -1);
	Py_XDECREF(src);
	Py_DECREF(path);
	if (code == NULL)
		return repl_report_current(s);
	if ((ns = session_namespace((PyObject *)s)) == NULL) {
		Py_DECREF(code);
		return -1;
	}
	r = PyEval_EvalCode(code, ns, ns);
	Py_DECREF(code);
	if (r == NULL)
		return repl_report_current(s);
	Py_DECREF(r);
	return 0;
}

/* First step: help()'s pager, the banner, then PYTHONSTARTUP; not yet
 * while the console waits to know whether its input has anything
 * (input.c), so that a console that never comes imports no pydoc. */
int
intro_run(struct session *s)
{
	PyObject	*banner = s->banner;
	int		 r = 0;

	if (s->io == &input_fd_io && input_fd_waits(s->io_arg))
		return 0;
	/* Alone and without PYTHONSTARTUP, no Python but the console's runs
	 * before its first statement, which installs it (repl_line):
	 * `apython </dev/null` starts without pydoc. */
	if ((s->startup != NULL || !local_alone(s)) && pager_install() != 0)
		return -1;
	if (banner != NULL) {
		s->banner = NULL;
		r = session_write((PyObject *)s, banner);
		Py_DECREF(banner);
	}
	if (r == 0 && s->startup != NULL)
		r = intro_startup(s);
	return r;
}

/* The first bytes of the console's input came: the banner and startup
 * held back until now, then prompt (NULL: none was shown yet). */
int
intro_begin(PyObject *self, PyObject *prompt)
{
	if (intro_run(session_of(self)) != 0)
		return -1;
	return prompt != NULL ? session_write(self, prompt) : 0;
}

/* The console's input (not a terminal) ended before its first byte
 * (/dev/null, nohup, a service): no console, the program runs as under
 * python3; one line says so, and how to get one. */
void
intro_withdraw(PyObject *self)
{
	struct session	*s = session_of(self);
	PyObject	*r;

	Py_INCREF(self);
	if (session_write_str(self, "apython: stdin is not a terminal and is "
	    "empty: no console (--serve [HOST:]PORT|PATH serves one)\n") != 0)
		PyErr_WriteUnraisable(self);
	/* Its task goes now, not when the loop ends: the program's tasks
	 * are its own, as under python3. */
	if (s->task != NULL &&
	    (r = PyObject_CallMethod(s->task, "cancel", NULL)) != NULL)
		Py_DECREF(r);
	else
		PyErr_Clear();
	console_shutdown();
	Py_DECREF(self);
}

/* Write banner and run startup (a path) when the console first steps. */
void
intro_set(PyObject *self, PyObject *banner, PyObject *startup)
{
	Py_XSETREF(session_of(self)->banner, Py_XNewRef(banner));
	Py_XSETREF(session_of(self)->startup, Py_XNewRef(startup));
}

/* console/intro.py, run once and kept for the process (borrowed). */
static PyObject *
intro_glue(void)
{
	static PyObject	*glue;
	PyObject	*m, *given, *views;

	if (glue != NULL)
		return glue;
	if ((views = tasks_views()) == NULL)
		return NULL;
	given = Py_BuildValue("{sN}", "tasks", views);
	if (given == NULL)
		return NULL;
	m = PY_EMBED("apython._intro", console_intro_code, given);
	Py_DECREF(given);
	return py_embed_keep(&glue, m);
}

/* The banner python3's console shows, and what this one adds. */
#define INTRO_BANNER \
	"Python %U on %U\n" \
	"Type \"help\", \"copyright\", \"credits\" or \"license\" for more " \
	"information.\n" \
	"---\n" \
	"This console is running in an asyncio event loop.\n" \
	"It allows you to wait for coroutines using the 'await' syntax.\n" \
	"Try: await asyncio.sleep(1, result=3)\n" \
	"---\n"

/* A console's banner: the given text (str) and a newline, or the default
 * (NULL or None). In C: a console made for a run that never shows it
 * runs none of console/intro.py. */
PyObject *
intro_banner(PyObject *banner)
{
	PyObject	*version, *platform;

	if (banner != NULL && banner != Py_None) {
		if (!PyUnicode_Check(banner)) {
			PyErr_SetString(PyExc_TypeError, "banner: not a str");
			return NULL;
		}
		return PyUnicode_FromFormat("%U\n", banner);
	}
	version = PySys_GetObject("version");
	platform = PySys_GetObject("platform");
	if (version == NULL || platform == NULL || !PyUnicode_Check(version) ||
	    !PyUnicode_Check(platform)) {
		PyErr_SetString(PyExc_RuntimeError, "lost sys.version");
		return NULL;
	}
	return PyUnicode_FromFormat(INTRO_BANNER, version, platform);
}

/* A console namespace: asyncio, ainput, a served console's exit and quit
 * when quitters, then the locals dict (or NULL). */
PyObject *
intro_namespace(PyObject *locals, int quitters)
{
	PyObject	*glue;

	if ((glue = intro_glue()) == NULL)
		return NULL;
	return PyObject_CallMethod(glue, "namespace", "OO",
	    locals != NULL ? locals : Py_None, quitters ? Py_True : Py_False);
}
