/* The terminal console: GNU readline in callback mode, fed by a loop
 * reader on stdin while a prompt waits for its line, so that the loop
 * never blocks; history in a file, Tab completion on the namespace. */
#include "console/console-internal.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <readline/readline.h>
#include <readline/history.h>

#define READ_BURST	512		/* keys read per loop turn at most */

struct term {
	PyObject	*session;	/* borrowed: the session owns us */
	PyObject	*loop;
	PyObject	*readable;	/* callback: stdin is readable */
	PyObject	*feed;		/* callback: feed a queued line */
	PyObject	*resized;	/* callback: SIGWINCH */
	PyObject	*prompts;	/* prompts waiting for a line */
	PyObject	*queued;	/* lines accepted at once, not fed yet */
	char		*history;	/* history file, or NULL */
	int		 shown;		/* readline's handler is installed */
	int		 reading;	/* inside rl_callback_read_char() */
	int		 winch;		/* our SIGWINCH handler is on loop */
	int		 stdin_flags;	/* stdin's flags when we attached */
};

static struct term *active;	/* the one terminal's input */
static int initialized;
static int got_line;			/* the line handler was called */
static char *line_read;			/* what it was given (NULL: EOF) */
static PyObject *completions;		/* matches readline_generate hands out */
static Py_ssize_t completion_next;

/* For the fatal signal handler: what to put back. */
static volatile sig_atomic_t prepped;
static struct termios saved_tio;
static volatile sig_atomic_t saved_flags;
static struct sigaction old_term, old_quit;
static int fatal_installed;

/* A statement is complete: one history entry, saved at once. */
static void
readline_statement(PyObject *session, PyObject *source)
{
	struct term	*in = session_io_arg(session);
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
		histfile_add(in->history, PyBytes_AS_STRING(b));
	Py_DECREF(b);
}

/* readline's generator: the next match, malloc'ed. */
static char *
readline_generate(const char *text, int state)
{
	PyObject	*b;
	char		*r;

	(void)text;
	if (state == 0)
		completion_next = 0;
	while (completions != NULL &&
	    completion_next < PyList_GET_SIZE(completions)) {
		b = PyUnicode_EncodeLocale(PyList_GET_ITEM(completions,
		    completion_next++), "surrogateescape");
		if (b == NULL) {
			PyErr_Clear();
			continue;
		}
		r = strdup(PyBytes_AS_STRING(b));
		Py_DECREF(b);
		return r;
	}
	return NULL;
}

/* Tab: the matches for the word before the cursor, or NULL. */
static char **
readline_complete(const char *text, int start, int end)
{
	PyObject	*session, *before, *word;
	char		**r, *head;

	(void)end;
	rl_attempted_completion_over = 1;
	rl_completion_append_character = '\0';
	rl_completion_suppress_append = 1;
	if (active == NULL)
		return NULL;
	if ((head = strndup(rl_line_buffer, start)) == NULL)
		return NULL;
	before = PyUnicode_DecodeLocale(head, "surrogateescape");
	free(head);
	word = PyUnicode_DecodeLocale(text, "surrogateescape");
	/* Held: completing runs Python (__dir__, __getattr__). */
	session = Py_NewRef(active->session);
	if (before != NULL && word != NULL)
		completions = complete_matches(session, before, word);
	Py_DECREF(session);
	Py_XDECREF(before);
	Py_XDECREF(word);
	if (completions == NULL) {
		PyErr_Clear();
		return NULL;
	}
	r = rl_completion_matches(text, readline_generate);
	Py_CLEAR(completions);
	return r;
}

/* The line handler: keep the line for after rl_callback_read_char(). */
static void
readline_on_line(char *line)
{
	rl_callback_handler_remove();
	prepped = 0;
	got_line = 1;
	line_read = line;
}

/* Set readline up once; our settings again each time in case Python's
 * readline module (imported by the program) changed them. */
static void
readline_claim(void)
{
	if (!initialized) {
		rl_readline_name = "python";
		rl_catch_signals = 0;
		rl_catch_sigwinch = 0;
		rl_change_environment = 0;
		rl_instream = stdin;
		rl_outstream = stderr;
		rl_initialize();
		rl_variable_bind("enable-bracketed-paste", "off");
		using_history();
		stifle_history(HISTFILE_SIZE);
		initialized = 1;
	}
	rl_instream = stdin;
	rl_outstream = stderr;
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	rl_attempted_completion_function = readline_complete;
	rl_completer_word_break_characters =
	    " \t\n`~!@#$%^&*()-=+[{]}\\|;:'\",<>/?";
}

/* A fatal signal (SIGTERM, SIGQUIT) while the console is up: put the
 * terminal and stdin back as they were, then die of it as before. */
static void
readline_fatal(int sig)
{
	struct sigaction	sa;

	if (prepped)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
	fcntl(STDIN_FILENO, F_SETFL, (int)saved_flags);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
	raise(sig);
}

/* Catch sig with readline_fatal if nobody else handles it. */
static void
readline_fatal_install(int sig, struct sigaction *old)
{
	struct sigaction	sa;

	if (sigaction(sig, NULL, old) != 0 || old->sa_handler != SIG_DFL) {
		old->sa_handler = NULL;
		return;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = readline_fatal;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* Give sig back, unless the program took it since. */
static void
readline_fatal_restore(int sig, struct sigaction *old)
{
	struct sigaction	cur;

	if (old->sa_handler == NULL)
		return;
	if (sigaction(sig, NULL, &cur) == 0 && cur.sa_handler == readline_fatal)
		sigaction(sig, old, NULL);
	old->sa_handler = NULL;
}

/* Watch stdin on the loop (on 1) or stop (0). */
static int
readline_watch(struct term *in, int on)
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
	return r == NULL ? -1 : 0;
}

/* Take the prompt down: readline lets the terminal go. */
static int
readline_hide_prompt(struct term *in)
{
	if (!in->shown)
		return 0;
	rl_callback_handler_remove();
	prepped = 0;
	in->shown = 0;
	fflush(rl_outstream);
	return readline_watch(in, 0);
}

/* Show prompt (a str) and edit a line after it. */
static int
readline_show_prompt(struct term *in, PyObject *prompt)
{
	PyObject	*b;

	if ((b = PyUnicode_EncodeLocale(prompt, "surrogateescape")) == NULL)
		return -1;
	if (in->shown) {
		rl_clear_visible_line();
		rl_set_prompt(PyBytes_AS_STRING(b));
		rl_forced_update_display();
		Py_DECREF(b);
		return 0;
	}
	readline_claim();
	using_history();
	if (tcgetattr(STDIN_FILENO, &saved_tio) == 0)
		prepped = 1;
	rl_callback_handler_install(PyBytes_AS_STRING(b), readline_on_line);
	Py_DECREF(b);
	in->shown = 1;
	return readline_watch(in, 1);
}

/* The loop runs it soon after a prompt: feed the next queued line. */
static PyObject *
readline_feed_queued(PyObject *session, PyObject *unused)
{
	struct term	*in = session_io_arg(session);
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
	"console_feed_line", readline_feed_queued, METH_NOARGS, NULL
};

/* A line was accepted (NULL: end of file): the prompt goes, held output
 * comes out, the line's first part goes to the session. */
static int
readline_accept(PyObject *session, struct term *in, char *text)
{
	PyObject	*s, *nl, *lines;
	Py_ssize_t	 n;
	int		 r;

	if (readline_hide_prompt(in) != 0 || output_flush_held() != 0) {
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
	struct term	*in = session_io_arg(session);
	char		*text;
	int		 n = 0;

	(void)unused;
	if (!in->shown)
		return readline_watch(in, 0) ? NULL : Py_NewRef(Py_None);
	got_line = 0;
	in->reading = 1;
	do
		rl_callback_read_char();
	while (!got_line && ++n < READ_BURST && readline_stdin_ready());
	in->reading = 0;
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
	"console_terminal_ready", readline_readable, METH_NOARGS, NULL
};

/* SIGWINCH, through the loop: readline learns the new size. */
static PyObject *
readline_resized(PyObject *session, PyObject *unused)
{
	struct term	*in = session_io_arg(session);

	(void)unused;
	if (in->shown && !in->reading)
		rl_resize_terminal();
	else
		rl_reset_screen_size();
	Py_RETURN_NONE;
}

static PyMethodDef resized_def = {
	"console_terminal_resized", readline_resized, METH_NOARGS, NULL
};


/* The loop's handle for SIGWINCH (new reference), or NULL. */
static PyObject *
readline_winch_handle(struct term *in)
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

/* Follow SIGWINCH on loop, unless the program handles it there. */
static void
readline_winch_add(struct term *in)
{
	PyObject	*h, *r;

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
readline_winch_remove(struct term *in)
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
	return active != NULL && active->shown && !active->reading;
}

/* For output.c: take the prompt and its line off the screen. */
static void
readline_editor_hide(void)
{
	rl_clear_visible_line();
	fflush(rl_outstream);
}

/* For output.c: draw the prompt and its line again, below the output. */
static void
readline_editor_show(void)
{
	rl_forced_update_display();
	fflush(rl_outstream);
}

static const struct output_editor readline_editor = {
	readline_editor_shown, readline_editor_hide, readline_editor_show
};

/* Start on loop: history, signals, the callbacks; reading starts with
 * the first prompt. */
static int
readline_attach(PyObject *session, PyObject *loop)
{
	struct term	*in = session_io_arg(session);

	in->session = session;
	if ((in->readable == NULL &&
	    (in->readable = PyCFunction_New(&readable_def, session)) == NULL) ||
	    (in->feed == NULL &&
	    (in->feed = PyCFunction_New(&feed_def, session)) == NULL) ||
	    (in->resized == NULL &&
	    (in->resized = PyCFunction_New(&resized_def, session)) == NULL))
		return -1;
	if (!initialized) {
		readline_claim();
		if (in->history != NULL)
			histfile_load(in->history);
	}
	in->loop = Py_NewRef(loop);
	active = in;
	in->stdin_flags = fcntl(STDIN_FILENO, F_GETFL);
	saved_flags = in->stdin_flags;
	if (!fatal_installed) {
		readline_fatal_install(SIGTERM, &old_term);
		readline_fatal_install(SIGQUIT, &old_quit);
		fatal_installed = 1;
	}
	output_set_editor(&readline_editor);
	readline_winch_add(in);
	return 0;
}

/* Leave the loop: the terminal and stdin as we found them. */
static void
readline_detach(PyObject *session)
{
	struct term	*in = session_io_arg(session);

	if (in->loop == NULL)
		return;
	if (readline_hide_prompt(in) != 0 || output_flush_held() != 0)
		PyErr_WriteUnraisable(session);
	readline_winch_remove(in);
	if (fatal_installed) {
		readline_fatal_restore(SIGTERM, &old_term);
		readline_fatal_restore(SIGQUIT, &old_quit);
		fatal_installed = 0;
	}
	if (in->stdin_flags != -1 &&
	    fcntl(STDIN_FILENO, F_GETFL) != in->stdin_flags)
		fcntl(STDIN_FILENO, F_SETFL, in->stdin_flags);
	output_set_editor(NULL);
	if (PyList_SetSlice(in->prompts, 0, PY_SSIZE_T_MAX, NULL) != 0)
		PyErr_WriteUnraisable(session);
	Py_CLEAR(in->loop);
}

/* Input is expected: a queued line answers at once, else a prompt. */
static int
readline_prompt(PyObject *session, PyObject *prompt)
{
	struct term	*in = session_io_arg(session);
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
	struct term	*in = session_io_arg(session);

	if (in->reading)
		return 1;
	if (PyList_SetSlice(in->queued, 0, PY_SSIZE_T_MAX, NULL) != 0 ||
	    PyList_SetSlice(in->prompts, 0, PY_SSIZE_T_MAX, NULL) != 0)
		return -1;
	if (!in->shown)
		return 0;
	rl_free_line_state();
	rl_callback_sigcleanup();
	rl_cleanup_after_signal();
	if (readline_hide_prompt(in) != 0 || output_flush_held() != 0)
		return -1;
	return session_write_str(session, "\n");
}

/* The console ends: the program ends with it, as exit() would. */
static int
readline_end(PyObject *session, PyObject *exit_exc)
{
	struct term	*in = session_io_arg(session);

	if (readline_hide_prompt(in) != 0)
		PyErr_WriteUnraisable(session);
	PyErr_SetObject((PyObject *)Py_TYPE(exit_exc), exit_exc);
	return -1;
}

/* For the collector: the callbacks are bound to the session. */
static int
readline_traverse(void *state, visitproc visit, void *arg)
{
	struct term	*in = state;

	Py_VISIT(in->loop);
	Py_VISIT(in->readable);
	Py_VISIT(in->feed);
	Py_VISIT(in->resized);
	Py_VISIT(in->prompts);
	Py_VISIT(in->queued);
	return 0;
}

static void
readline_clear(void *arg)
{
	struct term	*in = arg;

	Py_CLEAR(in->loop);
	Py_CLEAR(in->readable);
	Py_CLEAR(in->feed);
	Py_CLEAR(in->resized);
	Py_CLEAR(in->prompts);
	Py_CLEAR(in->queued);
}

const struct session_io readline_io = {
	readline_attach, readline_detach, readline_prompt, readline_end,
	readline_statement, readline_interrupt, readline_free,
	readline_traverse, readline_clear
};

/* Readline input state for the terminal. */
void *
readline_new(void)
{
	struct term	*in;

	if ((in = calloc(1, sizeof *in)) == NULL)
		return NULL;
	in->stdin_flags = -1;
	in->prompts = PyList_New(0);
	in->queued = PyList_New(0);
	if (in->prompts == NULL || in->queued == NULL) {
		readline_free(in);
		return NULL;
	}
	in->history = histfile_path();
	return in;
}

/* Free the state (after detach). */
void
readline_free(void *arg)
{
	struct term	*in = arg;

	if (in == NULL)
		return;
	if (active == in)
		active = NULL;
	readline_clear(in);
	free(in->history);
	free(in);
}
