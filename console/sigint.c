/* Ctrl-C typed at the terminal while the terminal console is up. sig/
 * keeps a handler in front of the program's SIGINT and hands a typed
 * Ctrl-C to the Python handler installed here for apython's real-time
 * signal; every other SIGINT reaches the program (sig/sig.h). Everything
 * here runs in the main thread with the GIL. */
#include "console/console-internal.h"

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
console_sigint(PyObject *module, PyObject *args)
{
	PyObject	*s = Py_XNewRef(session);
	int		 r;

	(void)module;
	(void)args;
	/* The program's own prompt is up (stdin.c): its Ctrl-C. */
	if (s == NULL || stdin_program_reads() ||
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
		PyErr_SetNone(PyExc_KeyboardInterrupt);
		r = -1;
	} else if (r > 0 && claim_io->interrupt != NULL &&
	    (r = claim_io->interrupt(s)) != 0) {
		if (r > 0)
			PyErr_SetNone(PyExc_KeyboardInterrupt);
		r = -1;
	} else if (r >= 0 && (r = session_interrupt(s)) == 0)
		r = session_write_str(s, "KeyboardInterrupt\n");
	Py_DECREF(s);
	if (r < 0)
		return NULL;
	Py_RETURN_NONE;
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
