/* aioconsole's stream functions (ainput, aprint, get_standard_streams)
 * and aexec/aeval, written in console/stdstreams.py; this file gives it
 * what only C can: the console session the running code belongs to, the
 * local console's lines when it reads a piped stdin, and a line edited
 * with readline at the terminal for a standard reader (term/'s program
 * line, keys fed from the reader's loop). At the terminal console's
 * terminal, that line takes the terminal as a program's input() does
 * (stdin.c): the console's prompt is put aside, its keys unwatched, and
 * a Ctrl-C meanwhile is the program's. Everything runs on the thread of
 * the reader's loop, with the GIL; one such line at a time (the
 * terminal lock, held from line_begin to line_end). */
#include "console/console-internal.h"
#include "console/stdstreams.py.h"
#include "py/py.h"
#include "term/term.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEY_BURST	512		/* keys handled per loop turn at most */

static PyObject *completer;	/* the line's reader's, or NULL */
static int line_on;		/* between line_begin and line_end */
static int line_lent;		/* the terminal console lent it */
static char *line_got;		/* the line once in (NULL: EOF) */
static int line_in;		/* line_got is set */

/* Without a terminal console: term/ set up for our lines alone. */
static struct term_ops plain_term = {
	.name = "python",
};

/* True when the running code belongs to a console session. */
int
console_has_session(void)
{
	PyObject	*s = session_current();

	Py_XDECREF(s);
	return s != NULL;
}

/* has_session(): console_has_session() for the glue. */
static PyObject *
ss_has_session(PyObject *m, PyObject *unused)
{
	(void)m;
	(void)unused;
	return PyBool_FromLong(console_has_session());
}

/* session_ainput(prompt): a future for the current session's next line
 * (its ainput); RuntimeError when the code runs for no session. */
static PyObject *
ss_session_ainput(PyObject *m, PyObject *prompt)
{
	PyObject	*s, *f;

	(void)m;
	if (!PyUnicode_Check(prompt)) {
		PyErr_SetString(PyExc_TypeError, "session_ainput(str)");
		return NULL;
	}
	if ((s = session_current()) == NULL) {
		PyErr_SetString(PyExc_RuntimeError, "no console session");
		return NULL;
	}
	f = session_ainput(s, prompt);
	Py_DECREF(s);
	return f;
}

/* local_line(): a future for the local console's next line when that
 * console reads a stdin that is not a terminal (stdin's lines are its),
 * else None. */
static PyObject *
ss_local_line(PyObject *m, PyObject *unused)
{
	PyObject	*s, *prompt, *f;

	(void)m;
	(void)unused;
	if ((s = local_reading_lines()) == NULL)
		Py_RETURN_NONE;
	if ((prompt = PyUnicode_FromString("")) == NULL)
		return NULL;
	f = session_ainput(s, prompt);
	Py_DECREF(prompt);
	return f;
}

/* local_reads(): whether local_line() would give a future. */
static PyObject *
ss_local_reads(PyObject *m, PyObject *unused)
{
	(void)m;
	(void)unused;
	return PyBool_FromLong(local_reading_lines() != NULL);
}

/* take_held(stream): the end of a line written to stream and held back
 * above the console's prompt (str, no longer held), or None. */
static PyObject *
ss_take_held(PyObject *m, PyObject *stream)
{
	(void)m;
	return output_take_held(stream);
}

/* term's Tab in our line: the reader's completer(line, text), the line
 * being the text up to the cursor, as complete.c's (before + word). */
static char **
ss_complete(const char *before, const char *word)
{
	PyObject	*fn, *b, *w, *line = NULL, *list = NULL, *seq;
	char		**r = NULL;
	Py_ssize_t	 i, n, k = 0;

	if ((fn = Py_XNewRef(completer)) == NULL)
		return NULL;
	b = PyUnicode_DecodeLocale(before, "surrogateescape");
	w = PyUnicode_DecodeLocale(word, "surrogateescape");
	if (b != NULL && w != NULL && (line = PyUnicode_Concat(b, w)) != NULL)
		list = PyObject_CallFunctionObjArgs(fn, line, w, NULL);
	seq = list != NULL ? PySequence_Fast(list, "completer: a list") : NULL;
	n = seq != NULL ? PySequence_Fast_GET_SIZE(seq) : 0;
	if (seq != NULL && (r = calloc(n + 1, sizeof *r)) != NULL)
		for (i = 0; i < n; i++) {
			PyObject *e = PySequence_Fast_GET_ITEM(seq, i), *eb;

			if (!PyUnicode_Check(e) || (eb = PyUnicode_EncodeLocale(
			    e, "surrogateescape")) == NULL)
				continue;
			if ((r[k] = strdup(PyBytes_AS_STRING(eb))) != NULL)
				k++;
			Py_DECREF(eb);
		}
	/* A completer's error offers nothing, as the console's Tab. */
	PyErr_Clear();
	Py_XDECREF(seq);
	Py_XDECREF(list);
	Py_XDECREF(line);
	Py_XDECREF(b);
	Py_XDECREF(w);
	Py_DECREF(fn);
	return r;
}

/* line_begin(prompt: bytes, shown, out_fd, completer): start editing a
 * line at the terminal after prompt (already on the screen when shown),
 * drawn on out_fd (1 or 2); False while another line has the terminal
 * (another reader's, another thread's input()): try again later. */
static PyObject *
ss_line_begin(PyObject *m, PyObject *args)
{
	struct term_line	 l = { 0 };
	PyObject		*fn;
	int			 fd;

	(void)m;
	if (!PyArg_ParseTuple(args, "ypiO", &l.prompt, &l.shown, &fd, &fn))
		return NULL;
	if (line_on || !stdin_terminal_try())
		Py_RETURN_FALSE;
	line_on = 1;
	line_in = 0;
	Py_XSETREF(completer, fn != Py_None ? Py_NewRef(fn) : NULL);
	l.complete = completer != NULL ? ss_complete : NULL;
	/* Lent: drawn where the console draws (readline writes some of it
	 * through the stream of its last set-up: one stream, one buffer). */
	l.out = fd == 2 ? stderr : stdout;
	if ((line_lent = readline_console_up()) != 0) {
		l.out = NULL;
		readline_lend_begin();
		if (readline_lend_unwatch() != 0)
			PyErr_WriteUnraisable(NULL);
		stdin_set_program_reads(1);
	} else {
		plain_term.out = l.out;
		term_setup(&plain_term);
	}
	term_line_begin(&l);
	Py_RETURN_TRUE;
}

/* True when a byte waits on stdin. */
static int
ss_stdin_ready(void)
{
	struct pollfd	pfd = { STDIN_FILENO, POLLIN, 0 };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLIN | POLLHUP));
}

/* line_keys(): stdin is readable: readline has the keys. 1 when the line
 * is in, 0 while it goes on, -1 when it was taken down. */
static PyObject *
ss_line_keys(PyObject *m, PyObject *unused)
{
	int	k = 0, n = 0;

	(void)m;
	(void)unused;
	if (!line_on || line_in)
		return PyLong_FromLong(line_in ? 1 : -1);
	while (ss_stdin_ready() && (k = term_line_key()) == 0 &&
	    ++n < KEY_BURST)
		;
	if (k > 0) {
		line_got = term_line_take(1);
		line_in = 1;
	}
	if (PyErr_Occurred())
		return NULL;
	return PyLong_FromLong(k);
}

/* line_take(): the line in (bytes without its newline), None at EOF. */
static PyObject *
ss_line_take(PyObject *m, PyObject *unused)
{
	PyObject	*b;

	(void)m;
	(void)unused;
	if (!line_in) {
		PyErr_SetString(PyExc_RuntimeError, "no line is in");
		return NULL;
	}
	if (line_got == NULL)
		Py_RETURN_NONE;
	b = PyBytes_FromString(line_got);
	free(line_got);
	line_got = NULL;
	line_in = 0;
	return b;
}

/* line_end(): the line is over (in, or dropped: cancelled, Ctrl-C): the
 * terminal back to the console, or as it was. */
static PyObject *
ss_line_end(PyObject *m, PyObject *unused)
{
	(void)m;
	(void)unused;
	if (!line_on)
		Py_RETURN_NONE;
	if (!line_in)
		term_line_stop();
	free(line_got);
	line_got = NULL;
	line_in = 0;
	line_on = 0;
	Py_CLEAR(completer);
	if (line_lent) {
		stdin_set_program_reads(0);
		readline_lend_end();
	}
	stdin_terminal_release();
	if (line_lent && readline_lend_rewatch() != 0)
		return NULL;
	line_lent = 0;
	Py_RETURN_NONE;
}

/* withdraw(on): an interface on stdio has the terminal (True: the
 * terminal console was up and withdrew), or is over (on False). */
static PyObject *
ss_withdraw(PyObject *m, PyObject *on)
{
	int	r = PyObject_IsTrue(on);

	(void)m;
	if (r < 0)
		return NULL;
	if (r && !readline_console_up())
		Py_RETURN_FALSE;
	if (readline_withdraw(r) != 0)
		return NULL;
	return PyBool_FromLong(r);
}

static PyMethodDef ss_natives[] = {
	{ "withdraw", ss_withdraw, METH_O, NULL },
	{ "has_session", ss_has_session, METH_NOARGS, NULL },
	{ "session_ainput", ss_session_ainput, METH_O, NULL },
	{ "local_reads", ss_local_reads, METH_NOARGS, NULL },
	{ "local_line", ss_local_line, METH_NOARGS, NULL },
	{ "take_held", ss_take_held, METH_O, NULL },
	{ "line_begin", ss_line_begin, METH_VARARGS, NULL },
	{ "line_keys", ss_line_keys, METH_NOARGS, NULL },
	{ "line_take", ss_line_take, METH_NOARGS, NULL },
	{ "line_end", ss_line_end, METH_NOARGS, NULL },
	{ NULL, NULL, 0, NULL }
};

/* The glue, given the natives; NULL with exception. */
static PyObject *
ss_glue(void)
{
	PyObject	*given, *fn, *g;
	PyMethodDef	*d;

	if ((given = PyDict_New()) == NULL)
		return NULL;
	for (d = ss_natives; d->ml_name != NULL; d++) {
		if ((fn = PyCFunction_New(d, NULL)) == NULL ||
		    PyDict_SetItemString(given, d->ml_name, fn) != 0) {
			Py_XDECREF(fn);
			Py_DECREF(given);
			return NULL;
		}
		Py_DECREF(fn);
	}
	g = PY_EMBED("apython._stdstreams", console_stdstreams_code, given);
	Py_DECREF(given);
	return g;
}

/* Add the glue's names (its __all__) to the module. */
int
stdstreams_add_to_module(PyObject *module)
{
	PyObject	*g, *names, *name, *v;
	Py_ssize_t	 i;
	int		 r = 0;

	if ((g = ss_glue()) == NULL)
		return -1;
	if ((names = PyObject_GetAttrString(g, "__all__")) == NULL ||
	    !PyList_Check(names)) {
		if (names != NULL)
			PyErr_SetString(PyExc_TypeError, "__all__: a list");
		Py_XDECREF(names);
		Py_DECREF(g);
		return -1;
	}
	for (i = 0; r == 0 && i < PyList_GET_SIZE(names); i++) {
		name = PyList_GET_ITEM(names, i);
		if ((v = PyObject_GetAttr(g, name)) == NULL)
			r = -1;
		else {
			r = PyObject_SetAttr(module, name, v);
			Py_DECREF(v);
		}
	}
	Py_DECREF(names);
	Py_DECREF(g);
	return r;
}
