/* Programs that read their stdin while a console is up. builtins.input
 * and sys.stdin's reading (console/stdin.py) come here first: a served
 * statement's line comes from its client (the session's read_line); while
 * the terminal console is up, the line is read at the terminal, with the
 * program's prompt and its own readline state, the console's prompt put
 * aside meanwhile (console/readline.c); otherwise the usual way, as under
 * python3. Any thread may ask: it reads the terminal itself, holding the
 * GIL around each call into readline and the terminal lock throughout. */
#include "console/console-internal.h"
#include "console/stdin.py.h"
#include "py/py.h"
#include "term/term.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pythread.h>

static PyObject *usual_input;	/* builtins.input as python3 has it */
static PyObject *our_stdin;	/* sys.stdin as we made it, or NULL */
/* Who drives readline on the terminal: the console between keys (never
 * waiting for it), or one program line at a time. */
static PyThread_type_lock terminal_lock;
static unsigned long terminal_owner;
static int terminal_owned;
static int program_reads;	/* a program's line is up */

/* True while a program's line is up: Ctrl-C there is the program's. */
int
stdin_program_reads(void)
{
	return program_reads;
}

/* A program's line is up (1) or over (0), read by stdstreams.c. */
void
stdin_set_program_reads(int on)
{
	program_reads = on;
}

/* Try to take the terminal for the console's keys: 1 when taken (give
 * it back with stdin_terminal_release), 0 while a program reads. */
int
stdin_terminal_try(void)
{
	if (terminal_lock == NULL)
		return 1;
	if (!PyThread_acquire_lock(terminal_lock, NOWAIT_LOCK))
		return 0;
	terminal_owner = PyThread_get_thread_ident();
	terminal_owned = 1;
	return 1;
}

/* True when this thread has the terminal. */
int
stdin_terminal_mine(void)
{
	return terminal_owned &&
	    terminal_owner == PyThread_get_thread_ident();
}

/* Give the terminal back (the console's keys or a program's line). */
void
stdin_terminal_release(void)
{
	if (terminal_lock == NULL || !terminal_owned)
		return;
	terminal_owned = 0;
	PyThread_release_lock(terminal_lock);
}

/* Take the terminal for a program's line, waiting (GIL released) for
 * the one reading; -1 with exception (a signal's, or a nested read). */
static int
stdin_terminal_take(void)
{
	unsigned long	me = PyThread_get_thread_ident();
	PyLockStatus	st;

	if (terminal_owned && terminal_owner == me) {
		PyErr_SetString(PyExc_RuntimeError,
		    "input() while this thread reads a line");
		return -1;
	}
	for (;;) {
		Py_BEGIN_ALLOW_THREADS
		st = PyThread_acquire_lock_timed(terminal_lock, -1, 1);
		Py_END_ALLOW_THREADS
		if (st == PY_LOCK_ACQUIRED)
			break;
		if (PyErr_CheckSignals() < 0)
			return -1;
	}
	terminal_owner = me;
	terminal_owned = 1;
	return 0;
}

/* Wait for keys and hand them to the program's line: 1 when the line
 * is in, 0 when it was taken down (the console is gone), -1 with an
 * exception (KeyboardInterrupt from a signal handler). */
static int
stdin_wait_line(void)
{
	struct pollfd	pfd;
	int		n, err, k;

	for (;;) {
		pfd.fd = STDIN_FILENO;
		pfd.events = POLLIN;
		pfd.revents = 0;
		Py_BEGIN_ALLOW_THREADS
		n = poll(&pfd, 1, -1);
		err = errno;
		Py_END_ALLOW_THREADS
		if (n < 0 && err != EINTR) {
			errno = err;
			PyErr_SetFromErrno(PyExc_OSError);
			return -1;
		}
		if (n < 0 && PyErr_CheckSignals() < 0)
			return -1;
		if (n > 0 && (pfd.revents & POLLNVAL)) {
			PyErr_SetString(PyExc_EOFError, "stdin is closed");
			return -1;
		}
		if ((k = n > 0 ? term_line_key() : 0) != 0)
			return k > 0;
	}
}

/* True when the program imported readline: its lines go into history,
 * as Python's readline module adds them. */
static int
stdin_program_history(void)
{
	PyObject	*modules = PySys_GetObject("modules");
	PyObject	*m;

	if (modules == NULL || !PyDict_Check(modules))
		return 0;
	m = PyDict_GetItemString(modules, "readline");
	return m != NULL && m != Py_None;
}

/* The line read (a str), NULL with EOFError at end of file. */
static PyObject *
stdin_took(void)
{
	char		*line = term_line_take(stdin_program_history());
	PyObject	*s;

	if (line == NULL) {
		PyErr_SetNone(PyExc_EOFError);
		return NULL;
	}
	s = PyUnicode_DecodeLocale(line, "surrogateescape");
	free(line);
	return s;
}

/* The console watches its keys again; the exception of the line read
 * (if any) is kept for after. */
static void
stdin_rewatch(void)
{
	PyObject	*exc = py_exception_fetch();

	if (readline_lend_rewatch() != 0)
		PyErr_WriteUnraisable(NULL);
	if (exc != NULL)
		py_exception_raise(exc);
}

/* One line at the terminal for the program, after prompt (bytes). The
 * line, NULL with exception, or NULL with *usual set: read it the usual
 * way (the terminal console went away). */
static PyObject *
stdin_terminal_line(PyObject *prompt, int *usual)
{
	PyObject	*r = NULL, *exc;
	int		 k;

	if (stdin_terminal_take() != 0)
		return NULL;
	if (!readline_console_up()) {
		stdin_terminal_release();
		*usual = 1;
		return NULL;
	}
	readline_lend_begin();
	program_reads = 1;
	term_line_start(PyBytes_AS_STRING(prompt));
	k = stdin_wait_line();
	program_reads = 0;
	if (k > 0)
		r = stdin_took();
	else if (k < 0)
		term_line_stop();
	else
		*usual = 1;
	exc = py_exception_fetch();	/* the console's prompt comes back first */
	readline_lend_end();
	stdin_terminal_release();
	stdin_rewatch();
	if (exc != NULL)
		py_exception_raise(exc);
	return r;
}

/* Flush sys.stdout and sys.stderr before a prompt, as input() does. */
static void
stdin_flush_output(void)
{
	static const char	*names[] = { "stderr", "stdout" };
	PyObject		*f, *r;
	size_t			 i;

	for (i = 0; i < sizeof names / sizeof *names; i++) {
		if ((f = PySys_GetObject(names[i])) == NULL || f == Py_None)
			continue;
		r = PyObject_CallMethod(f, "flush", NULL);
		Py_XDECREF(r);
		PyErr_Clear();
	}
}

/* Whether apython has the running code's next line: 1 with *session
 * the served session whose client has it (new reference) or NULL for the
 * terminal, 0: read the usual way. */
static int
stdin_ours(PyObject **session)
{
	PyObject	*s;

	*session = NULL;
	if (our_stdin == NULL || PySys_GetObject("stdin") != our_stdin)
		return 0;
	if ((s = session_current()) != NULL && session_io(s)->read_line) {
		*session = s;
		return 1;
	}
	Py_XDECREF(s);
	return readline_console_up();
}

/* The line (str, without its newline) after stdin_ours() said 1: from
 * session's client, or at the terminal; NULL with exception (EOFError at
 * end of file), or NULL with *usual set: read the usual way after all. */
static PyObject *
stdin_line(PyObject *session, PyObject *prompt, int *usual)
{
	PyObject	*b, *r;

	*usual = 0;
	stdin_flush_output();
	if (session != NULL)
		return session_io(session)->read_line(session, prompt);
	if ((b = PyUnicode_EncodeLocale(prompt, "surrogateescape")) == NULL)
		return NULL;
	r = stdin_terminal_line(b, usual);
	Py_DECREF(b);
	return r;
}

/* builtins.input(prompt=''): the line from the console that has it, or
 * python3's input(); audited as python3's is. */
static PyObject *
stdin_input(PyObject *module, PyObject *args)
{
	PyObject	*arg = NULL, *prompt, *session, *line = NULL;
	int		 usual = 1;

	(void)module;
	if (!PyArg_UnpackTuple(args, "input", 0, 1, &arg))
		return NULL;
	if (!stdin_ours(&session))
		return PyObject_Call(usual_input, args, NULL);
	prompt = arg != NULL ? PyObject_Str(arg) : PyUnicode_FromString("");
	if (prompt != NULL && PySys_Audit("builtins.input", "O",
	    arg != NULL ? arg : Py_None) == 0)
		line = stdin_line(session, prompt, &usual);
	else
		usual = 0;
	Py_XDECREF(prompt);
	Py_XDECREF(session);
	if (usual)
		return PyObject_Call(usual_input, args, NULL);
	if (line != NULL &&
	    PySys_Audit("builtins.input/result", "O", line) != 0)
		Py_CLEAR(line);
	return line;
}

static PyMethodDef input_def = {
	.ml_name = "input",
	.ml_meth = stdin_input,
	.ml_flags = METH_VARARGS,
	.ml_doc = "input(prompt='', /)\n--\n\n"
	    "Read a string from standard input.  The trailing newline is "
	    "stripped.\n\nThe prompt string, if given, is printed to standard "
	    "output without a\ntrailing newline before reading input.\n\n"
	    "If the user hits EOF (*nix: Ctrl-D, Windows: Ctrl-Z+Return), "
	    "raise EOFError.\nOn *nix systems, readline is used if available.",
};

/* For stdin.py: read_line(prompt): the line with its newline, '' at end
 * of file, or None: read the usual way. */
static PyObject *
stdin_read_line(PyObject *module, PyObject *prompt)
{
	PyObject	*session, *line;
	int		 usual;

	(void)module;
	if (!PyUnicode_Check(prompt)) {
		PyErr_SetString(PyExc_TypeError, "read_line(str)");
		return NULL;
	}
	if (!stdin_ours(&session))
		Py_RETURN_NONE;
	line = stdin_line(session, prompt, &usual);
	Py_XDECREF(session);
	if (line != NULL) {
		Py_SETREF(line, PyUnicode_FromFormat("%U\n", line));
		return line;
	}
	if (usual)
		Py_RETURN_NONE;
	if (PyErr_ExceptionMatches(PyExc_EOFError)) {
		PyErr_Clear();
		return PyUnicode_FromString("");
	}
	return NULL;
}

static PyMethodDef read_line_def = {
	.ml_name = "read_line",
	.ml_meth = stdin_read_line,
	.ml_flags = METH_O,
};

/* sys.stdin (and sys.__stdin__ if the same) becomes ours, over the same
 * buffer, when it is python3's own. */
static int
stdin_wrap(void)
{
	PyObject	*stream = PySys_GetObject("stdin"), *orig, *given;
	PyObject	*fn, *module, *ours;
	int		 r;

	if (stream == NULL ||
	    strcmp(Py_TYPE(stream)->tp_name, "_io.TextIOWrapper") != 0)
		return 0;
	orig = Py_NewRef(stream);	/* the module's code may replace it */
	if ((given = PyDict_New()) == NULL) {
		Py_DECREF(orig);
		return -1;
	}
	fn = PyCFunction_New(&read_line_def, NULL);
	r = fn != NULL ? PyDict_SetItemString(given, "read_line", fn) : -1;
	Py_XDECREF(fn);
	module = r == 0 ? PY_EMBED("apython._stdin", console_stdin_code,
	    given) : NULL;
	Py_DECREF(given);
	if (module == NULL) {
		Py_DECREF(orig);
		return -1;
	}
	ours = PyObject_CallMethod(module, "wrap", "O", orig);
	Py_DECREF(module);
	r = ours != NULL ? PySys_SetObject("stdin", ours) : -1;
	if (r == 0 && PySys_GetObject("__stdin__") == orig)
		r = PySys_SetObject("__stdin__", ours);
	Py_DECREF(orig);
	if (r == 0)
		our_stdin = Py_NewRef(ours);
	Py_XDECREF(ours);
	return r;
}

/* builtins.input becomes ours, python3's kept for the usual way. */
static int
stdin_replace_input(void)
{
	PyObject	*builtins = PyEval_GetBuiltins(), *fn;
	int		 r;

	if (builtins == NULL ||
	    (usual_input = PyDict_GetItemString(builtins, "input")) == NULL) {
		PyErr_SetString(PyExc_RuntimeError, "lost builtins.input");
		return -1;
	}
	Py_INCREF(usual_input);
	if ((fn = PyCFunction_New(&input_def, NULL)) == NULL)
		return -1;
	r = PyDict_SetItemString(builtins, "input", fn);
	Py_DECREF(fn);
	return r;
}

/* Once, before the program reads anything: input() and sys.stdin. */
int
stdin_setup(void)
{
	if (terminal_lock == NULL &&
	    (terminal_lock = PyThread_allocate_lock()) == NULL) {
		PyErr_NoMemory();
		return -1;
	}
	if (usual_input != NULL)
		return 0;
	if (stdin_wrap() != 0)
		return -1;
	return stdin_replace_input();
}
