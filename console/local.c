/* The local console: one per process, on the terminal (stdin, stderr),
 * following the program from loop to loop. */
#include "console/console-internal.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "loop/loop.h"
#include "py/py.h"

static PyObject *local;		/* the local session; NULL once over */
static const struct session_io *local_io;
static int interactive;		/* stdin is a terminal */
static PyObject *sigint_handler;	/* ours, while the console is up */
static PyObject *sigint_before;	/* the one ours replaced */
static PyObject *s_is_closed, *s_is_running;

/* The banner: --banner's text and a newline, or the default. */
static PyObject *
local_banner(const char *banner)
{
	PyObject	*text, *r;

	if (banner == NULL)
		return intro_banner(NULL);
	if ((text = PyUnicode_DecodeFSDefault(banner)) == NULL)
		return NULL;
	r = intro_banner(text);
	Py_DECREF(text);
	return r;
}

/* PYTHONSTARTUP as a path, NULL when unset or missing (said so). */
static PyObject *
local_startup(void)
{
	const char	*path = getenv("PYTHONSTARTUP");

	if (path == NULL || *path == '\0')
		return NULL;
	if (access(path, R_OK) != 0) {
		fprintf(stderr, "Could not open PYTHONSTARTUP - No such file: "
		    "%s\n", path);
		return NULL;
	}
	return PyUnicode_DecodeFSDefault(path);
}

/* True (1) when the console's loop is running, -1 on error. */
static int
local_loop_running(void)
{
	PyObject	*loop = Py_XNewRef(session_loop(local));
	int		 running;

	if (loop == NULL)
		return 0;
	running = py_call_truth(loop, s_is_running);
	Py_DECREF(loop);
	return running;
}

/* SIGINT while the console is up. Console code on the CPU gets
 * KeyboardInterrupt; else a running statement is cancelled; else, on a
 * terminal, the line being typed is dropped for a fresh prompt. With no
 * console to come back to (or stdin not a terminal and no statement),
 * KeyboardInterrupt as python3. */
static PyObject *
local_sigint(PyObject *module, PyObject *args)
{
	int	r;

	(void)module;
	(void)args;
	if (local == NULL) {
		PyErr_SetNone(PyExc_KeyboardInterrupt);
		return NULL;
	}
	if ((r = local_loop_running()) < 0)
		return NULL;
	if (r == 0 || session_on_cpu(local) ||
	    (!interactive && !session_has_stmt(local))) {
		PyErr_SetNone(PyExc_KeyboardInterrupt);
		return NULL;
	}
	if (interactive && local_io->interrupt != NULL &&
	    (r = local_io->interrupt(local)) != 0) {
		if (r > 0)
			PyErr_SetNone(PyExc_KeyboardInterrupt);
		return NULL;
	}
	if ((r = session_interrupt(local)) < 0)
		return NULL;
	if (r == 0 && session_write_str(local, "KeyboardInterrupt\n") != 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyMethodDef sigint_def = {
	.ml_name = "console_sigint",
	.ml_meth = local_sigint,
	.ml_flags = METH_VARARGS,
	.ml_doc = "Ctrl-C while the console is up.",
};

/* Call signal.<name>(SIGINT[, handler]). */
static PyObject *
local_signal(const char *name, PyObject *handler)
{
	PyObject	*signal, *r;

	if ((signal = PyImport_ImportModule("signal")) == NULL)
		return NULL;
	if (handler != NULL)
		r = PyObject_CallMethod(signal, name, "iO", SIGINT, handler);
	else
		r = PyObject_CallMethod(signal, name, "i", SIGINT);
	Py_DECREF(signal);
	return r;
}

/* The console is up: Ctrl-C is ours. */
static int
local_sigint_take(void)
{
	if (sigint_before != NULL)
		return 0;
	if (sigint_handler == NULL &&
	    (sigint_handler = PyCFunction_New(&sigint_def, NULL)) == NULL)
		return -1;
	sigint_before = local_signal("signal", sigint_handler);
	return sigint_before == NULL ? -1 : 0;
}

/* The handler to give back when leaving loop: the one ours replaced,
 * or python3's default if that one was asyncio.run's for loop's main task
 * (asyncio.run would have put the default back itself). */
static PyObject *
local_sigint_back(PyObject *loop)
{
	PyObject	*kw, *task, *tl = NULL, *signal, *r;
	int		 same;

	if (loop == NULL ||
	    (kw = PyObject_GetAttrString(sigint_before, "keywords")) == NULL) {
		PyErr_Clear();
		return Py_NewRef(sigint_before);
	}
	task = PyDict_Check(kw) ?
	    Py_XNewRef(PyDict_GetItemString(kw, "main_task")) : NULL;
	if (task != NULL)
		tl = PyObject_CallMethod(task, "get_loop", NULL);
	Py_XDECREF(task);
	Py_DECREF(kw);
	PyErr_Clear();
	same = tl != NULL && tl == loop;
	Py_XDECREF(tl);
	if (!same)
		return Py_NewRef(sigint_before);
	if ((signal = PyImport_ImportModule("signal")) == NULL)
		return NULL;
	r = PyObject_GetAttrString(signal, "default_int_handler");
	Py_DECREF(signal);
	return r;
}

/* The console leaves loop (NULL: the program is over): Ctrl-C goes back,
 * unless the program took it. */
static void
local_sigint_give(PyObject *loop)
{
	PyObject	*cur, *back, *r = NULL;

	if (sigint_before == NULL)
		return;
	if ((cur = local_signal("getsignal", NULL)) != NULL) {
		if (cur != sigint_handler)
			r = Py_NewRef(Py_None);
		else if ((back = local_sigint_back(loop)) != NULL) {
			r = local_signal("signal", back);
			Py_DECREF(back);
		}
		Py_DECREF(cur);
	}
	if (r == NULL)
		PyErr_WriteUnraisable(sigint_handler);
	Py_XDECREF(r);
	Py_CLEAR(sigint_before);
}

/* A policy loop starts running: the console joins it unless it is on
 * another loop that is still open. */
static int
local_on_run(PyObject *loop)
{
	PyObject	*cur;
	int		 closed;

	if (local == NULL)
		return 0;
	if ((cur = session_loop(local)) != NULL && cur != loop) {
		Py_INCREF(cur);
		closed = py_call_truth(cur, s_is_closed);
		Py_DECREF(cur);
		if (closed <= 0)
			return closed;
	}
	if (session_attach(local, loop) != 0)
		return -1;
	return local_sigint_take();
}

/* A loop closes: if it is the console's, the console leaves it. */
static void
local_on_close(PyObject *loop)
{
	if (local != NULL && session_loop(local) == loop) {
		session_detach(local);
		local_sigint_give(loop);
	}
}

static const struct loop_observer local_observer = {
	.on_run = local_on_run,
	.on_close = local_on_close,
};

/* Make the local console; it appears when the program's loop runs. */
int
console_setup(const struct console_options *o)
{
	static const struct py_name	names[] = {
		{ &s_is_closed, "is_closed" }, { &s_is_running, "is_running" },
	};
	PyObject			*ns, *out, *banner, *startup = NULL;
	void				*arg;

	out = Py_XNewRef(PySys_GetObject("stderr"));
	if (out == NULL || out == Py_None) {
		Py_XDECREF(out);
		PyErr_SetString(PyExc_RuntimeError, "no sys.stderr for the console");
		return -1;
	}
	if (console_prepare() != 0 ||
	    py_intern_names(names, PY_NAMES_LEN(names)) != 0 ||
	    (ns = intro_namespace(o->locals, 0)) == NULL) {
		Py_DECREF(out);
		return -1;
	}
	interactive = isatty(STDIN_FILENO);
	if (!o->no_readline && interactive && isatty(STDERR_FILENO)) {
		local_io = &readline_io;
		arg = readline_new();
	} else {
		local_io = &input_fd_io;
		arg = input_fd_new(STDIN_FILENO);
	}
	if (arg != NULL)
		local = session_new(ns, out, local_io, arg);
	Py_DECREF(ns);
	Py_DECREF(out);
	if (local == NULL)
		return PyErr_Occurred() ? -1 : (PyErr_NoMemory(), -1);
	banner = NULL;
	if (!o->no_banner && (banner = local_banner(o->banner)) == NULL)
		return -1;
	if (!o->has_target)
		startup = local_startup();
	intro_set(local, banner, startup);
	Py_XDECREF(banner);
	Py_XDECREF(startup);
	return loop_observe(&local_observer);
}

/* No program: run the console alone on a fresh loop until it ends. */
int
console_run_alone(void)
{
	PyObject	*asyncio, *loop = NULL, *r = NULL;
	PyObject	*type, *value, *tb;

	if ((asyncio = PyImport_ImportModule("asyncio")) == NULL)
		return -1;
	loop = PyObject_CallMethod(asyncio, "new_event_loop", NULL);
	if (loop != NULL)
		r = PyObject_CallMethod(asyncio, "set_event_loop", "O", loop);
	/* Only an exception (SystemExit at EOF) ends the console. */
	while (r != NULL) {
		Py_DECREF(r);
		r = PyObject_CallMethod(loop, "run_forever", NULL);
	}
	if (loop != NULL) {
		PyErr_Fetch(&type, &value, &tb);
		r = PyObject_CallMethod(loop, "close", NULL);
		if (r == NULL)
			PyErr_WriteUnraisable(loop);
		Py_XDECREF(r);
		PyErr_Restore(type, value, tb);
	}
	Py_XDECREF(loop);
	Py_DECREF(asyncio);
	return -1;
}

/* Give globals the console's own name from ns where it has none. */
static int
local_set_default(PyObject *globals, PyObject *ns, const char *name)
{
	PyObject	*key, *v = NULL;

	if ((key = PyUnicode_InternFromString(name)) == NULL)
		return -1;
	if ((v = PyDict_GetItemWithError(ns, key)) != NULL)
		v = PyDict_SetDefault(globals, key, v);
	Py_DECREF(key);
	return v == NULL && PyErr_Occurred() ? -1 : 0;
}

/* -i: after the program, the local console on its globals (asyncio and
 * ainput added where the program has none), without a banner, on a
 * fresh loop until it ends, as console_run_alone. */
int
console_inspect(PyObject *globals)
{
	PyObject	*ns, *loop;
	int		 r;

	if (local == NULL) {
		PyErr_SetString(PyExc_RuntimeError, "no console");
		return -1;
	}
	if ((ns = intro_namespace(NULL, 0)) == NULL)
		return -1;
	r = local_set_default(globals, ns, "asyncio") != 0 ||
	    local_set_default(globals, ns, "ainput") != 0 ? -1 : 0;
	Py_DECREF(ns);
	if (r != 0)
		return -1;
	if ((loop = session_loop(local)) != NULL)
		local_on_close(loop);
	/* A prompt shown on the program's loop went with it. */
	session_of(local)->prompted = 0;
	Py_SETREF(session_of(local)->ns, Py_NewRef(globals));
	intro_set(local, NULL, NULL);
	return console_run_alone();
}

/* The program is over: the console leaves quietly, and its session
 * goes (its namespace is freed, as python3 frees __main__'s). */
void
console_shutdown(void)
{
	if (local != NULL)
		session_detach(local);
	local_sigint_give(NULL);
	Py_CLEAR(local);
}

/* apython.ainput(prompt=''): await a line from this console. */
static PyObject *
console_ainput(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
	PyObject	*s, *prompt, *f;

	(void)module;
	if (nargs > 1) {
		PyErr_SetString(PyExc_TypeError, "ainput(prompt='')");
		return NULL;
	}
	prompt = nargs ? PyObject_Str(args[0]) : PyUnicode_FromString("");
	if (prompt == NULL)
		return NULL;
	if ((s = session_current()) == NULL)
		s = Py_XNewRef(local);
	if (s == NULL) {
		PyErr_SetString(PyExc_RuntimeError, "no console");
		f = NULL;
	} else
		f = session_ainput(s, prompt);
	Py_XDECREF(s);
	Py_DECREF(prompt);
	return f;
}

static PyMethodDef ainput_def = {
	.ml_name = "ainput",
	.ml_meth = (PyCFunction)(void (*)(void))console_ainput,
	.ml_flags = METH_FASTCALL,
	.ml_doc = "ainput(prompt='')\n--\n\nAwait one line from this console.",
};

/* Add ainput to the module. */
int
console_add_to_module(PyObject *module)
{
	PyObject	*fn;

	if ((fn = PyCFunction_NewEx(&ainput_def, module, NULL)) == NULL)
		return -1;
	if (PyModule_AddObject(module, "ainput", fn) != 0) {
		Py_DECREF(fn);
		return -1;
	}
	return 0;
}
