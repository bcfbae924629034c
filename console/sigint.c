/* apython's real-time signal, whose Python handler is installed here in
 * every program at start-up. It comes for two reasons, told apart by
 * what is pending: requests of ctl/ (ctl_ask_main: the control thread
 * breaks into the main thread, e.g. to interrupt a served statement),
 * run first; then Ctrl-C typed at the terminal while the terminal
 * console is up: sig/ keeps a handler in front of the program's SIGINT,
 * counts a typed Ctrl-C and hands it here; every other SIGINT reaches
 * the program (sig/sig.h). Everything here runs in the main thread with
 * the GIL. */
#include "console/console-internal.h"

#include "ctl/ctl.h"
#include "py/py.h"
#include "sig/sig.h"
#include "term/term.h"

static PyObject *session;	/* the console that has Ctrl-C, or NULL */
static const struct session_io *claim_io;
static PyObject *handler;	/* console_sigint, once installed */
static PyObject *s_is_running;

/* True (1) when the console's loop is running, -1 on error. */
static int
sigint_loop_running(void)
{
	PyObject	*loop = Py_XNewRef(session_loop(session));
	int		 running;

	if (loop == NULL)
		return 0;
	running = py_call_truth(loop, s_is_running);
	Py_DECREF(loop);
	return running;
}

/* A typed Ctrl-C. Console code on the CPU gets KeyboardInterrupt; else a
 * running statement is cancelled; else the line being typed is dropped
 * for a fresh prompt. With no console on a running loop, or at the
 * program's own prompt, the program has it, as any other SIGINT. */
static PyObject *
sigint_typed(void)
{
	PyObject	*s = Py_XNewRef(session);
	int		 r;

	/* The program's own prompt is up (stdin.c), or its interface on
	 * stdio has the terminal: its Ctrl-C. */
	if (s == NULL || stdin_program_reads() || readline_withdrawn() ||
	    (r = sigint_loop_running()) == 0) {
		/* Handled now: the program may be in a sleep that only a
		 * signal's arrival would interrupt. */
		Py_XDECREF(s);
		sig_pass();
		if (PyErr_CheckSignals() != 0)
			return NULL;
		Py_RETURN_NONE;
	}
	if (r > 0 && session_on_cpu(s)) {
		sig_console_raised();
		PyErr_SetNone(PyExc_KeyboardInterrupt);
		r = -1;
	} else if (r > 0 && claim_io->interrupt != NULL &&
	    (r = claim_io->interrupt(s)) != 0) {
		if (r > 0) {
			sig_console_raised();
			PyErr_SetNone(PyExc_KeyboardInterrupt);
		}
		r = -1;
	} else if (r >= 0 && (r = session_interrupt(s)) == 0)
		r = session_write_str(s, "KeyboardInterrupt\n");
	Py_DECREF(s);
	if (r < 0)
		return NULL;
	Py_RETURN_NONE;
}

/* The real-time signal came: ctl/'s requests, then a typed Ctrl-C (as
 * many as came count as one, as signals do). */
static PyObject *
console_sigint(PyObject *module, PyObject *args)
{
	(void)module;
	(void)args;
	if (ctl_run_requests() != 0)
		return NULL;
	if (sig_console_take() == 0)
		Py_RETURN_NONE;
	return sigint_typed();
}

static PyMethodDef sigint_def = {
	.ml_name = "console_sigint",
	.ml_meth = console_sigint,
	.ml_flags = METH_VARARGS,
	.ml_doc = "Ctrl-C typed while the console is up.",
};

/* signal.signal(apython's real-time signal, console_sigint), unless it
 * is there: a program may have reset every signal since. */
static int
sigint_install(void)
{
	static const struct py_name	names[] = {
		{ &s_is_running, "is_running" },
	};
	PyObject			*signal, *cur, *r = NULL;
	int				 rt = sig_console_signal();

	if (handler == NULL &&
	    (py_intern_names(names, PY_NAMES_LEN(names)) != 0 ||
	    (handler = PyCFunction_New(&sigint_def, NULL)) == NULL))
		return -1;
	if ((signal = PyImport_ImportModule("signal")) == NULL)
		return -1;
	if ((cur = PyObject_CallMethod(signal, "getsignal", "i", rt)) != NULL) {
		r = cur == handler ? Py_NewRef(cur) :
		    PyObject_CallMethod(signal, "signal", "iO", rt, handler);
		Py_DECREF(cur);
	}
	Py_DECREF(signal);
	Py_XDECREF(r);
	return r == NULL ? -1 : 0;
}

/* os.register_at_fork's after_in_child: a forked child's own control
 * thread (Python runs it where starting a thread is safe). */
static PyObject *
sigint_forked_child(PyObject *module, PyObject *unused)
{
	(void)module;
	(void)unused;
	ctl_forked_child();
	Py_RETURN_NONE;
}

/* os.register_at_fork's before: no thread of ours at fork() (python3
 * 3.12+ warns in a threaded process). Without the GIL: a callback of
 * the control thread may be waiting for it. */
static PyObject *
sigint_before_fork(PyObject *module, PyObject *unused)
{
	(void)module;
	(void)unused;
	Py_BEGIN_ALLOW_THREADS
	ctl_pause();
	Py_END_ALLOW_THREADS
	Py_RETURN_NONE;
}

#if PY_VERSION_HEX >= 0x030D0000
/* The frame that called os.fork() (3.13+, main thread, strong ref). */
static PyFrameObject	*fork_frame;

/* Whether the main thread still runs a later after-in-parent hook of
 * fork_frame's os.fork() (a frame below fork_frame). */
static int
sigint_in_fork(void)
{
	PyFrameObject	*f = PyEval_GetFrame(), *back;
	int		 below = 0;

	if (f == NULL || f == fork_frame)
		return 0;
	for (f = PyFrame_GetBack(f); f != NULL; f = back) {
		below = f == fork_frame;
		back = below ? NULL : PyFrame_GetBack(f);
		Py_DECREF(f);
	}
	return below;
}

/* A pending call: the main thread runs it at its next check; the thread
 * again once os.fork() has returned (and warned, or not). */
static int
sigint_resume(void *unused)
{
	(void)unused;
	if (sigint_in_fork() && Py_AddPendingCall(sigint_resume, NULL) == 0)
		return 0;
	Py_CLEAR(fork_frame);
	ctl_resume();
	return 0;
}
#endif

/* os.register_at_fork's after_in_parent: the thread again. Up to 3.12,
 * os.fork() warns before this hook; 3.13 warns after the after-in-parent
 * hooks, so the thread comes back later, from a pending call in the
 * frame that forked (a fork from C or from another thread, which warns
 * under python3 too: at once). */
static PyObject *
sigint_after_fork(PyObject *module, PyObject *unused)
{
	(void)module;
	(void)unused;
#if PY_VERSION_HEX >= 0x030D0000
	if (fork_frame == NULL && PyEval_GetFrame() != NULL &&
	    Py_AddPendingCall(sigint_resume, NULL) == 0) {
		fork_frame = (PyFrameObject *)Py_NewRef(PyEval_GetFrame());
		Py_RETURN_NONE;
	}
#endif
	ctl_resume();
	Py_RETURN_NONE;
}

/* os.register_at_fork's before, after_in_parent, after_in_child. */
static PyMethodDef fork_defs[] = {
	{ "apython_before_fork", sigint_before_fork, METH_NOARGS,
	  "No control thread at fork()." },
	{ "apython_after_fork_parent", sigint_after_fork, METH_NOARGS,
	  "The control thread again after fork()." },
	{ "apython_forked_child", sigint_forked_child, METH_NOARGS,
	  "A forked child gets a control thread of its own." },
};

/* Every program, at start-up (main thread): the real-time signal's
 * handler, for ctl/'s requests and typed Ctrl-Cs; the control thread's
 * fds, now, so that they are there for the program's whole life (the
 * thread itself comes when first needed), paused around os.fork()
 * (python3 3.12+ warns at fork() in a threaded process), and its own in
 * a forked child. -1 with exception. */
int
console_signals_setup(void)
{
	if (sigint_install() != 0 || py_register_at_fork(&fork_defs[0],
	    &fork_defs[1], &fork_defs[2]) != 0)
		return -1;
	if (ctl_init() != 0) {
		/* Without it, a served client's Ctrl-C waits for the loop. */
	}
	return 0;
}

/* The console s (on io) is up on the terminal: typed Ctrl-Cs are its
 * own (every SIGINT if all: the console is the whole program). */
int
sigint_take(PyObject *s, const struct session_io *io, int all)
{
	if (sigint_install() != 0)
		return -1;
	if (sig_console_claim(all) != 0) {
		PyErr_SetString(PyExc_RuntimeError,
		    "the console's signal handler is not installed");
		return -1;
	}
	sig_on_death(term_guard_restore);
	Py_XSETREF(session, Py_NewRef(s));
	claim_io = io;
	return 0;
}

/* The console is down: every SIGINT is the program's. */
void
sigint_give(void)
{
	sig_console_release();
	Py_CLEAR(session);
}
