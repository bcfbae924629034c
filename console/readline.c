/* The terminal console on term/: a loop reader on stdin hands readline
 * the keys while a prompt waits for its line, so that the loop never
 * blocks; this file holds the Python side (the session, the namespace's
 * completions, the loop's reader and SIGWINCH handler). Everything here
 * runs on the loop's thread, with the GIL, except the readline_lend_*
 * calls: the thread whose input() takes the terminal for a line (see
 * stdin.c) makes them, with the GIL; it puts the console's prompt aside
 * meanwhile, and the loop stops watching stdin until it is back. */
#include "console/console-internal.h"
#include "term/term.h"

#include <poll.h>
#include <pythread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_BURST	512		/* keys read per loop turn at most */

struct tty_in {
	PyObject	*session;	/* borrowed: the session owns us */
	PyObject	*loop;
	PyObject	*readable;	/* callback: stdin is readable */
	PyObject	*feed;		/* callback: feed a queued line */
	PyObject	*resized;	/* callback: SIGWINCH */
	PyObject	*rewatch;	/* callback: watch stdin again */
	PyObject	*prompts;	/* prompts waiting for a line */
	PyObject	*queued;	/* lines accepted at once, not fed yet */
	char		*history;	/* history file, or NULL */
	int		 shown;		/* a prompt is up (or put aside) */
	int		 aside;		/* put aside: a program reads a line */
	int		 watched;	/* stdin is watched on loop */
	int		 winch;		/* our SIGWINCH handler is on loop */
	unsigned long	 thread;	/* the loop's */
};

static struct tty_in *active;	/* the one terminal's input, once made */
static int loaded;		/* the history file was read */
static int got_line;		/* the line handler was called */
static char *line_read;		/* what it was given (NULL: EOF) */
static int lent;		/* a program's line has the terminal */
static int withdrawn;		/* interfaces on stdio (readline_withdraw) */

/* A statement is complete: one history entry, saved at once. */
static void
readline_statement(PyObject *session, PyObject *source)
{
	struct tty_in	*in = session_io_arg(session);
	PyObject	*text, *b;

	if ((text = PyObject_CallMethod(source, "rstrip", NULL)) == NULL) {
		PyErr_Clear();
		return;
	}
	b = PyUnicode_EncodeLocale(text, "surrogateescape");
	Py_DECREF(text);
	if (b == NULL) {
		PyErr_Clear();
		return;
	}
	if (strlen(PyBytes_AS_STRING(b)) == (size_t)PyBytes_GET_SIZE(b))
		term_history_add(in->history, PyBytes_AS_STRING(b));
	Py_DECREF(b);
}

/* The matches of list (str), encoded for readline: a NULL-terminated
 * malloc'ed array, or NULL. */
static char **
readline_encode_matches(PyObject *list)
{
	Py_ssize_t	 i, n = PyList_GET_SIZE(list), k = 0;
	PyObject	*b;
	char		**r;

	if ((r = calloc(n + 1, sizeof *r)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		b = PyUnicode_EncodeLocale(PyList_GET_ITEM(list, i),
		    "surrogateescape");
		if (b == NULL) {
			PyErr_Clear();
			continue;
		}
		if ((r[k] = strdup(PyBytes_AS_STRING(b))) != NULL)
			k++;
		Py_DECREF(b);
	}
	return r;
}

/* term's Tab: the matches for word in the session's namespace. */
static char **
readline_complete(const char *head, const char *text)
{
	PyObject	*session, *before, *word, *list = NULL;
	char		**r;

	if (active == NULL || active->session == NULL)
		return NULL;
	before = PyUnicode_DecodeLocale(head, "surrogateescape");
	word = PyUnicode_DecodeLocale(text, "surrogateescape");
	/* Held: completing runs Python (__dir__, __getattr__). */
	session = Py_NewRef(active->session);
	if (before != NULL && word != NULL)
		list = complete_matches(session, before, word);
	Py_DECREF(session);
	Py_XDECREF(before);
	Py_XDECREF(word);
	if (list == NULL) {
		PyErr_Clear();
		return NULL;
	}
	r = readline_encode_matches(list);
	Py_DECREF(list);
	return r;
}

/* term's line handler: keep the line for after term_read(). */
static void
readline_on_line(char *line)
{
	got_line = 1;
	line_read = line;
}

/* The console's terminal; out is set when it is first used. */
static struct term_ops readline_term = {
	.name = "python",
	.line = readline_on_line,
	.complete = readline_complete,
};

/* Claim the terminal for the console. */
static void
readline_claim(void)
{
	readline_term.out = stderr;
	term_setup(&readline_term);
}

/* Watch stdin on the loop (on 1) or stop (0). */
static int
readline_watch(struct tty_in *in, int on)
{
	PyObject	*r;

	if (in->loop == NULL)
		return 0;
	if (on)
		r = PyObject_CallMethod(in->loop, "add_reader", "iO",
		    STDIN_FILENO, in->readable);
	else
		r = PyObject_CallMethod(in->loop, "remove_reader", "i",
		    STDIN_FILENO);
	Py_XDECREF(r);
	if (r == NULL)
		return -1;
	in->watched = on;
	return 0;
}

/* Take the prompt down and stop watching stdin; keep: the prompt and
 * the line being typed off the screen, the line kept for the next. */
static int
readline_hide_prompt(struct tty_in *in, int keep)
{
	if (!in->shown)
		return 0;
	if (in->aside)
		in->aside = 0;
	else if (keep)
		term_putaside();
	else
		term_unprompt();
	in->shown = 0;
	return in->watched ? readline_watch(in, 0) : 0;
}

/* Show prompt (a str) and edit a line after it. */
static int
readline_show_prompt(struct tty_in *in, PyObject *prompt)
{
	PyObject	*b;
	int		 was_shown = in->shown;

	/* In the background: a prompt would stop the job (SIGTTOU). */
	if (!was_shown && !term_foreground())
		return fg_defer(in->loop);
	if ((b = PyUnicode_EncodeLocale(prompt, "surrogateescape")) == NULL)
		return -1;
	if (!was_shown)
		readline_claim();
	in->shown = 1;
	if (lent || withdrawn) {
		/* Shown when the program's line is in. */
		Py_DECREF(b);
		in->aside = 1;
		return 0;
	}
	term_prompt(PyBytes_AS_STRING(b));
	Py_DECREF(b);
	return in->watched ? 0 : readline_watch(in, 1);
}

/* The loop runs it soon after a prompt: feed the next queued line. */
static PyObject *
readline_feed_queued(PyObject *session, PyObject *unused)
{
	struct tty_in	*in = session_io_arg(session);
	PyObject	*line;
	int		 r;

	(void)unused;
	if (PyList_GET_SIZE(in->queued) == 0)
		Py_RETURN_NONE;
	line = Py_NewRef(PyList_GET_ITEM(in->queued, 0));
	r = PySequence_DelItem(in->queued, 0);
	if (r == 0)
		r = session_feed_line(session, line);
	Py_DECREF(line);
	if (r != 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyMethodDef feed_def = {
	.ml_name = "console_feed_line",
	.ml_meth = readline_feed_queued,
	.ml_flags = METH_NOARGS,
};

/* A line was accepted (NULL: end of file): the prompt goes, held output
 * comes out, the line's first part goes to the session. */
static int
readline_accept(PyObject *session, struct tty_in *in, char *text)
{
	PyObject	*s, *nl, *lines;
	Py_ssize_t	 n;
	int		 r;

	if (readline_hide_prompt(in, 0) != 0 || output_flush_held() != 0) {
		free(text);
		return -1;
	}
	n = PyList_GET_SIZE(in->prompts);
	if (n > 0 && PySequence_DelItem(in->prompts, n - 1) != 0) {
		free(text);
		return -1;
	}
	if (text == NULL)
		return session_feed_eof(session);
	s = PyUnicode_DecodeLocale(text, "surrogateescape");
	free(text);
	if (s == NULL)
		return -1;
	nl = PyUnicode_FromString("\n");
	lines = nl ? PyUnicode_Split(s, nl, -1) : NULL;
	Py_XDECREF(nl);
	Py_DECREF(s);
	if (lines == NULL)
		return -1;
	r = PyList_SetSlice(in->queued, PY_SSIZE_T_MAX, PY_SSIZE_T_MAX,
	    lines);
	Py_DECREF(lines);
	if (r == 0)
		r = readline_feed_queued(session, NULL) == NULL ? -1 : 0;
	/* Someone else still waits for a line: show their prompt. */
	n = PyList_GET_SIZE(in->prompts);
	if (r == 0 && n > 0 && !in->shown) {
		s = Py_NewRef(PyList_GET_ITEM(in->prompts, n - 1));
		r = readline_show_prompt(in, s);
		Py_DECREF(s);
	}
	return r;
}

/* True when a byte waits on stdin. */
static int
readline_stdin_ready(void)
{
	struct pollfd	pfd = { STDIN_FILENO, POLLIN, 0 };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

/* The loop says stdin is readable: let readline have the keys. */
static PyObject *
readline_readable(PyObject *session, PyObject *unused)
{
	struct tty_in	*in = session_io_arg(session);
	char		*text;
	int		 n = 0;

	(void)unused;
	if (!in->shown || in->aside || lent || withdrawn)
		return readline_watch(in, 0) ? NULL : Py_NewRef(Py_None);
	/* The program's line was in just before: maybe no key is left. */
	if (!readline_stdin_ready() || !stdin_terminal_try())
		Py_RETURN_NONE;
	got_line = 0;
	do
		term_read();
	while (!got_line && ++n < READ_BURST && readline_stdin_ready());
	stdin_terminal_release();
	if (!got_line)
		Py_RETURN_NONE;
	text = line_read;
	line_read = NULL;
	if (readline_accept(session, in, text) != 0) {
		got_line = 0;
		return NULL;
	}
	got_line = 0;
	Py_RETURN_NONE;
}

static PyMethodDef readable_def = {
	.ml_name = "console_terminal_ready",
	.ml_meth = readline_readable,
	.ml_flags = METH_NOARGS,
};

/* SIGWINCH, through the loop: readline learns the new size. */
static PyObject *
readline_resized(PyObject *session, PyObject *unused)
{
	(void)session;
	(void)unused;
	term_resized();
	Py_RETURN_NONE;
}

static PyMethodDef resized_def = {
	.ml_name = "console_terminal_resized",
	.ml_meth = readline_resized,
	.ml_flags = METH_NOARGS,
};

/* On the loop, after a program's line: watch stdin again. */
static PyObject *
readline_rewatched(PyObject *session, PyObject *unused)
{
	struct tty_in	*in = session_io_arg(session);

	(void)unused;
	if (in->shown && !in->aside && !in->watched && !lent && !withdrawn &&
	    readline_watch(in, 1) != 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyMethodDef rewatch_def = {
	.ml_name = "console_terminal_rewatch",
	.ml_meth = readline_rewatched,
	.ml_flags = METH_NOARGS,
};

/* True while the terminal console is up: made, until the program is
 * over, on a loop or between two (a loop may start at any time, and the
 * console with it: a line being read the usual way would fight it). */
int
readline_console_up(void)
{
	return active != NULL;
}

/* The console's prompt put aside, its line kept. */
static void
readline_lend_begin_aside(void)
{
	readline_claim();
	if (active == NULL || !active->shown || active->aside)
		return;
	term_putaside();
	active->aside = 1;
}

/* A program's line takes the terminal: the console's prompt is put
 * aside, its line kept; its keys wait (the loop's reader stops). */
void
readline_lend_begin(void)
{
	lent = 1;
	readline_lend_begin_aside();
}

/* The console's prompt back, its line as it was (put aside by a
 * program's line or an interface on stdio). */
static void
readline_bring_back(void)
{
	PyObject	*p;
	Py_ssize_t	 n;

	if (active == NULL || !active->aside)
		return;
	active->aside = 0;
	n = PyList_GET_SIZE(active->prompts);
	p = n > 0 ? PyUnicode_EncodeLocale(PyList_GET_ITEM(active->prompts,
	    n - 1), "surrogateescape") : NULL;
	if (p != NULL)
		term_prompt(PyBytes_AS_STRING(p));
	else {
		if (n > 0)
			PyErr_Clear();	/* unencodable: the line as it was */
		term_bringback();
	}
	Py_XDECREF(p);
}

/* The program's line is in: the console's prompt is back, unless an
 * interface on stdio still has the terminal. */
void
readline_lend_end(void)
{
	lent = 0;
	if (!withdrawn)
		readline_bring_back();
}

/* An interface on stdio (a program's interact() on the standard
 * streams) has the terminal until it ends (on 0): the console's prompt
 * stays aside, its keys unwatched, and a typed Ctrl-C is the program's
 * (design.md: a program that uses stdin for itself gets no terminal
 * console). Nested calls count; on the loop's thread. Withdrawing does
 * not fail (the count must match the calls that end it). */
int
readline_withdraw(int on)
{
	if (on) {
		if (withdrawn++ == 0 && active != NULL)
			readline_lend_begin_aside();
		if (readline_lend_unwatch() != 0)
			PyErr_WriteUnraisable(NULL);	/* its reader ignores keys */
		return 0;
	}
	if (withdrawn == 0 || --withdrawn > 0 || lent)
		return 0;
	readline_bring_back();
	return readline_lend_rewatch();
}

/* True while an interface on stdio has the terminal. */
int
readline_withdrawn(void)
{
	return withdrawn > 0;
}

/* A program's line read on the loop's own thread (stdstreams.c): the
 * console stops watching stdin, which that line's reader watches. */
int
readline_lend_unwatch(void)
{
	struct tty_in	*in = active;

	if (in == NULL || !in->watched ||
	    PyThread_get_thread_ident() != in->thread)
		return 0;
	return readline_watch(in, 0);
}

/* After readline_lend_end, the terminal released: the loop watches
 * stdin again (at once on its own thread, else soon). */
int
readline_lend_rewatch(void)
{
	struct tty_in	*in = active;
	PyObject	*r;

	if (in == NULL || in->loop == NULL || !in->shown || in->watched ||
	    lent || withdrawn)
		return 0;
	if (PyThread_get_thread_ident() == in->thread)
		return readline_watch(in, 1);
	r = PyObject_CallMethod(in->loop, "call_soon_threadsafe", "O",
	    in->rewatch);
	if (r == NULL && PyErr_ExceptionMatches(PyExc_RuntimeError)) {
		PyErr_Clear();		/* the loop is closed meanwhile */
		return 0;
	}
	Py_XDECREF(r);
	return r == NULL ? -1 : 0;
}


/* The loop's handle for SIGWINCH (new reference), or NULL. */
static PyObject *
readline_winch_handle(struct tty_in *in)
{
	PyObject	*handlers, *sig, *h = NULL;

	handlers = PyObject_GetAttrString(in->loop, "_signal_handlers");
	sig = PyLong_FromLong(SIGWINCH);
	if (handlers != NULL && sig != NULL && PyDict_Check(handlers))
		h = Py_XNewRef(PyDict_GetItemWithError(handlers, sig));
	Py_XDECREF(handlers);
	Py_XDECREF(sig);
	PyErr_Clear();
	return h;
}

/* For fg.c: in the foreground again, the prompt that waited comes up. */
int
readline_deferred(void)
{
	struct tty_in	*in = active;
	PyObject	*prompt;
	Py_ssize_t	 n;
	int		 r;

	if (in == NULL || in->loop == NULL || in->shown ||
	    (n = PyList_GET_SIZE(in->prompts)) == 0)
		return 0;
	prompt = Py_NewRef(PyList_GET_ITEM(in->prompts, n - 1));
	r = readline_show_prompt(in, prompt);
	Py_DECREF(prompt);
	return r;
}

/* For fg.c: while the job runs in the background, keys are not read
 * (0), then again (1); only a prompt shown has stdin watched. */
int
readline_keys(int on)
{
	if (active == NULL || !active->shown)
		return 0;
	return readline_watch(active, on);
}

/* Follow SIGWINCH on loop, unless the program handles it there, or the
 * loop cannot say (not asyncio's Unix loop: uvloop): the size is then
 * read at each prompt. */
static void
readline_winch_add(struct tty_in *in)
{
	PyObject	*h, *r;

	if (!PyObject_HasAttrString(in->loop, "_signal_handlers"))
		return;
	if ((h = readline_winch_handle(in)) != NULL) {
		Py_DECREF(h);
		return;
	}
	r = PyObject_CallMethod(in->loop, "add_signal_handler", "iO",
	    SIGWINCH, in->resized);
	if (r == NULL) {
		/* Not the main thread: the size is read at each prompt. */
		PyErr_Clear();
		return;
	}
	Py_DECREF(r);
	in->winch = 1;
}

/* Stop following SIGWINCH, unless the program took it over since. */
static void
readline_winch_remove(struct tty_in *in)
{
	PyObject	*h, *cb, *r;

	if (!in->winch || in->loop == NULL)
		return;
	in->winch = 0;
	if ((h = readline_winch_handle(in)) == NULL)
		return;
	cb = PyObject_GetAttrString(h, "_callback");
	Py_DECREF(h);
	if (cb != in->resized) {
		Py_XDECREF(cb);
		PyErr_Clear();
		return;
	}
	Py_DECREF(cb);
	r = PyObject_CallMethod(in->loop, "remove_signal_handler", "i",
	    SIGWINCH);
	if (r == NULL)
		PyErr_WriteUnraisable(in->loop);
	Py_XDECREF(r);
}

/* For output.c: is a prompt on the screen, can it be moved? */
static int
readline_editor_shown(void)
{
	return active != NULL && term_shown() && !term_reading();
}

/* For output.c: output goes above the prompt, which term/ takes down
 * and draws again. */
static const struct output_editor readline_editor = {
	.shown = readline_editor_shown,
	.hide = term_hide,
	.show = term_show,
};

/* Start on loop: history, signals, the callbacks; reading starts with
 * the first prompt. */
static int
readline_attach(PyObject *session, PyObject *loop)
{
	struct tty_in	*in = session_io_arg(session);

	in->session = session;
	if ((in->readable == NULL &&
	    (in->readable = PyCFunction_New(&readable_def, session)) == NULL) ||
	    (in->feed == NULL &&
	    (in->feed = PyCFunction_New(&feed_def, session)) == NULL) ||
	    (in->resized == NULL &&
	    (in->resized = PyCFunction_New(&resized_def, session)) == NULL) ||
	    (in->rewatch == NULL &&
	    (in->rewatch = PyCFunction_New(&rewatch_def, session)) == NULL))
		return -1;
	in->thread = PyThread_get_thread_ident();
	if (!loaded) {
		readline_claim();
		if (in->history != NULL)
			term_history_load(in->history);
		loaded = 1;
	}
	if (fg_watch(loop) != 0)
		return -1;
	in->loop = Py_NewRef(loop);
	term_guard_start();
	output_set_editor(&readline_editor);
	readline_winch_add(in);
	return 0;
}

/* Leave the loop: the terminal and stdin as we found them; a prompt
 * up goes (1). */
static int
readline_detach(PyObject *session)
{
	struct tty_in	*in = session_io_arg(session);
	int		 shown = in->shown;

	if (in->loop == NULL)
		return 0;
	/* The program goes on without the console: a clean line for it. */
	if (readline_hide_prompt(in, 1) != 0 || output_flush_held() != 0)
		PyErr_WriteUnraisable(session);
	readline_winch_remove(in);
	fg_unwatch();
	term_guard_stop();
	output_set_editor(NULL);
	if (PyList_SetSlice(in->prompts, 0, PY_SSIZE_T_MAX, NULL) != 0)
		PyErr_WriteUnraisable(session);
	Py_CLEAR(in->loop);
	return shown;
}

/* Input is expected: a queued line answers at once, else a prompt. */
static int
readline_prompt(PyObject *session, PyObject *prompt)
{
	struct tty_in	*in = session_io_arg(session);
	PyObject	*h;

	if (PyList_GET_SIZE(in->queued) > 0) {
		h = PyObject_CallMethod(in->loop, "call_soon", "O", in->feed);
		Py_XDECREF(h);
		return h == NULL ? -1 : 0;
	}
	if (PyList_Append(in->prompts, prompt) != 0)
		return -1;
	return readline_show_prompt(in, prompt);
}

/* Ctrl-C: drop the line being edited, as CPython's readline does after
 * a signal, and go to a fresh screen line; while readline runs Python
 * code (completion), KeyboardInterrupt ends that instead (1). */
static int
readline_interrupt(PyObject *session)
{
	struct tty_in	*in = session_io_arg(session);

	if (term_reading())
		return 1;
	if (PyList_SetSlice(in->queued, 0, PY_SSIZE_T_MAX, NULL) != 0 ||
	    PyList_SetSlice(in->prompts, 0, PY_SSIZE_T_MAX, NULL) != 0)
		return -1;
	if (!in->shown)
		return 0;
	term_interrupt();
	if (readline_hide_prompt(in, 0) != 0 || output_flush_held() != 0)
		return -1;
	return session_write_str(session, "\n");
}

/* The console ends: the program ends with it, as exit() would. */
static int
readline_end(PyObject *session, PyObject *exit_exc)
{
	struct tty_in	*in = session_io_arg(session);

	if (readline_hide_prompt(in, 0) != 0)
		PyErr_WriteUnraisable(session);
	PyErr_SetObject((PyObject *)Py_TYPE(exit_exc), exit_exc);
	return -1;
}

/* For the collector: the callbacks are bound to the session. */
static int
readline_traverse(void *state, visitproc visit, void *arg)
{
	struct tty_in	*in = state;

	Py_VISIT(in->loop);
	Py_VISIT(in->readable);
	Py_VISIT(in->feed);
	Py_VISIT(in->resized);
	Py_VISIT(in->rewatch);
	Py_VISIT(in->prompts);
	Py_VISIT(in->queued);
	return 0;
}

static void
readline_clear(void *arg)
{
	struct tty_in	*in = arg;

	Py_CLEAR(in->loop);
	Py_CLEAR(in->readable);
	Py_CLEAR(in->feed);
	Py_CLEAR(in->resized);
	Py_CLEAR(in->rewatch);
	Py_CLEAR(in->prompts);
	Py_CLEAR(in->queued);
}

const struct session_io readline_io = {
	.attach = readline_attach,
	.detach = readline_detach,
	.prompt = readline_prompt,
	.end = readline_end,
	.statement = readline_statement,
	.interrupt = readline_interrupt,
	.release = readline_free,
	.traverse = readline_traverse,
	.clear = readline_clear,
};

/* Readline input state for the terminal. */
void *
readline_new(void)
{
	struct tty_in	*in;

	if ((in = calloc(1, sizeof *in)) == NULL)
		return NULL;
	in->prompts = PyList_New(0);
	in->queued = PyList_New(0);
	if (in->prompts == NULL || in->queued == NULL) {
		readline_free(in);
		return NULL;
	}
	in->history = term_history_path("APYTHON_HISTORY",
	    ".apython_history");
	active = in;
	return in;
}

/* Free the state (after detach). */
void
readline_free(void *arg)
{
	struct tty_in	*in = arg;

	if (in == NULL)
		return;
	if (active == in)
		active = NULL;
	/* Another thread's line has the terminal: give it back as found
	 * (that thread reads the usual way when it wakes). */
	if (lent && !stdin_terminal_mine())
		term_line_stop();
	readline_clear(in);
	free(in->history);
	free(in);
}
