/* Consoles on a (reader, writer) pair: apython.AsynchronousConsole and
 * apython.interact() (console/streams.py). The session's backend is a
 * Python object of streams.py (its pump): the session's output is the
 * pump's write(text) (to writer.write(bytes), drained in order), a
 * prompt is the pump's prompt(text) (written, then one `await
 * reader.readline()`), whose line or EOF comes back here (line, eof).
 * The pump is the session's io_arg, a strong reference (traversed).
 * input() in a statement reads the program's stdin (no read_line: the
 * reader can only be awaited); ainput() reads the reader. */
#include "console/console-internal.h"
#include "console/streams.py.h"
#include "py/py.h"
#include "sig/sig.h"

static PyObject *glue;		/* console/streams.py, for the process */
static PyObject *s_prompt, *s_end;

/* The pump of session s (borrowed); NULL for a session made only to
 * complete in (no streams yet). */
static PyObject *
streams_pump(PyObject *s)
{
	return session_io_arg(s);
}

/* A line is expected: the pump writes the prompt and reads one. */
static int
streams_prompt(PyObject *session, PyObject *prompt)
{
	PyObject	*pump = Py_XNewRef(streams_pump(session)), *r;

	if (pump == NULL)
		return 0;
	r = PyObject_CallMethodOneArg(pump, s_prompt, prompt);
	Py_DECREF(pump);
	if (r == NULL)
		return -1;
	Py_DECREF(r);
	return 0;
}

/* EOF or exit(): the pump keeps the first exit_exc (interact() raises
 * it when stop) and writes no more; the console task ends. */
static int
streams_end(PyObject *session, PyObject *exit_exc)
{
	PyObject	*pump = Py_XNewRef(streams_pump(session)), *r;

	if (pump != NULL) {
		r = PyObject_CallMethodOneArg(pump, s_end, exit_exc);
		Py_DECREF(pump);
		if (r == NULL)
			return -1;
		Py_DECREF(r);
	}
	return session_feed_eof(session);
}

static void
streams_release(void *arg)
{
	Py_XDECREF((PyObject *)arg);
}

static int
streams_traverse(void *state, visitproc visit, void *arg)
{
	Py_VISIT((PyObject *)state);
	return 0;
}

/* The reader reads when asked: no attach or detach. */
static const struct session_io streams_io = {
	.prompt = streams_prompt,
	.end = streams_end,
	.release = streams_release,
	.traverse = streams_traverse,
};

/* The session o is, one of ours; NULL with TypeError. */
static PyObject *
streams_session(PyObject *o)
{
	if (session_check(o) && session_io(o) == &streams_io)
		return o;
	PyErr_SetString(PyExc_TypeError, "not a streams console session");
	return NULL;
}

/* Add to ns what a served console's namespace has (exit, quit, tasks,
 * __builtins__...) where ns has none: ns stays the console's locals. */
static int
streams_fill_namespace(PyObject *ns)
{
	PyObject	*base, *key, *value;
	Py_ssize_t	 pos = 0;
	int		 r = 0;

	if (!PyDict_Check(ns)) {
		PyErr_SetString(PyExc_TypeError, "locals: not a dict");
		return -1;
	}
	if ((base = intro_namespace(NULL, 1)) == NULL)
		return -1;
	while (r == 0 && PyDict_Next(base, &pos, &key, &value))
		if ((r = PyDict_Contains(ns, key)) == 0)
			r = PyDict_SetItem(ns, key, value);
		else if (r > 0)
			r = 0;
	Py_DECREF(base);
	return r;
}

/* new(pump, ns, banner): a session on namespace ns (a dict, kept as it
 * is), reading and writing through pump (None: one only to complete
 * in), with banner (None: the default) written first. */
static PyObject *
streams_new(PyObject *self, PyObject *args)
{
	PyObject	*pump, *ns, *banner, *text, *session;

	(void)self;
	if (!PyArg_ParseTuple(args, "OOO:new", &pump, &ns, &banner))
		return NULL;
	if (console_prepare() != 0 || streams_fill_namespace(ns) != 0)
		return NULL;
	pump = pump == Py_None ? NULL : Py_NewRef(pump);
	if ((session = session_new(ns, NULL, pump ? pump : Py_None,
	    &streams_io, pump)) == NULL || pump == NULL)
		return session;
	if ((text = intro_banner(banner)) == NULL) {
		Py_DECREF(session);
		return NULL;
	}
	intro_set(session, text, NULL);
	Py_DECREF(text);
	return session;
}

/* start(session, loop): its task on loop (await it: it ends with the
 * console). */
static PyObject *
streams_start(PyObject *self, PyObject *args)
{
	PyObject	*s, *loop, *task;

	(void)self;
	if (!PyArg_ParseTuple(args, "OO:start", &s, &loop) ||
	    streams_session(s) == NULL || session_attach(s, loop) != 0)
		return NULL;
	if ((task = session_task(s)) == NULL)
		PyErr_SetString(PyExc_RuntimeError, "the console has no task");
	return Py_XNewRef(task);
}

/* stop(session): it leaves its loop; a statement still running is let
 * go with it. */
static PyObject *
streams_stop(PyObject *self, PyObject *s)
{
	(void)self;
	if (streams_session(s) == NULL)
		return NULL;
	session_detach(s);
	Py_RETURN_NONE;
}

/* line(session, text): the reader's line, to ainput() or the console. */
static PyObject *
streams_line(PyObject *self, PyObject *args)
{
	PyObject	*s, *line;

	(void)self;
	if (!PyArg_ParseTuple(args, "OU:line", &s, &line) ||
	    streams_session(s) == NULL || session_feed_line(s, line) != 0)
		return NULL;
	Py_RETURN_NONE;
}

/* eof(session): the reader's end. */
static PyObject *
streams_eof(PyObject *self, PyObject *s)
{
	(void)self;
	if (streams_session(s) == NULL || session_feed_eof(s) != 0)
		return NULL;
	Py_RETURN_NONE;
}

/* interrupt(session): Ctrl-C while no statement holds the CPU: the
 * running statement is cancelled (False), or the line being typed
 * dropped for a fresh prompt (True: the caller says KeyboardInterrupt),
 * as at apython's terminal. */
static PyObject *
streams_interrupt(PyObject *self, PyObject *s)
{
	int	r;

	(void)self;
	if (streams_session(s) == NULL || (r = session_interrupt(s)) < 0)
		return NULL;
	return PyBool_FromLong(r == 0);
}

/* on_cpu_interrupt(session): in a SIGINT handler; while its statement's
 * code runs, KeyboardInterrupt there, counted as the console's (stmt.c
 * then keeps it for the statement, not the program); else None. */
static PyObject *
streams_on_cpu_interrupt(PyObject *self, PyObject *s)
{
	(void)self;
	if (streams_session(s) == NULL)
		return NULL;
	if (!session_on_cpu(s))
		Py_RETURN_NONE;
	sig_console_raised();
	PyErr_SetNone(PyExc_KeyboardInterrupt);
	return NULL;
}

/* complete(session, before, text): the completions of word text. */
static PyObject *
streams_complete(PyObject *self, PyObject *args)
{
	PyObject	*s, *before, *text;

	(void)self;
	if (!PyArg_ParseTuple(args, "OUU:complete", &s, &before, &text) ||
	    streams_session(s) == NULL)
		return NULL;
	return complete_matches(s, before, text);
}

/* ainput(session, prompt): a future for the console's next line. */
static PyObject *
streams_ainput(PyObject *self, PyObject *args)
{
	PyObject	*s, *prompt;

	(void)self;
	if (!PyArg_ParseTuple(args, "OU:ainput", &s, &prompt) ||
	    streams_session(s) == NULL)
		return NULL;
	return session_ainput(s, prompt);
}

/* prepare(): console/ readied (output routing, sys.stdin), before the
 * streams are made: readying wraps sys.stdin anew, detaching the one a
 * standard reader made earlier would hold. */
static PyObject *
streams_prepare(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	if (console_prepare() != 0)
		return NULL;
	Py_RETURN_NONE;
}

/* banner(text): the banner a console shows (None: the default). */
static PyObject *
streams_banner(PyObject *self, PyObject *banner)
{
	(void)self;
	return intro_banner(banner);
}

static PyMethodDef native_defs[] = {
	{ "new", streams_new, METH_VARARGS, NULL },
	{ "start", streams_start, METH_VARARGS, NULL },
	{ "stop", streams_stop, METH_O, NULL },
	{ "line", streams_line, METH_VARARGS, NULL },
	{ "eof", streams_eof, METH_O, NULL },
	{ "interrupt", streams_interrupt, METH_O, NULL },
	{ "on_cpu_interrupt", streams_on_cpu_interrupt, METH_O, NULL },
	{ "complete", streams_complete, METH_VARARGS, NULL },
	{ "ainput", streams_ainput, METH_VARARGS, NULL },
	{ "banner", streams_banner, METH_O, NULL },
	{ "prepare", streams_prepare, METH_NOARGS, NULL },
	{ NULL, NULL, 0, NULL }
};

/* The functions above as a namespace object, for the glue's _native. */
static PyObject *
streams_native(void)
{
	PyObject	*types, *ns_type, *kw, *fn, *args, *ns = NULL;
	PyMethodDef	*d;

	if ((kw = PyDict_New()) == NULL)
		return NULL;
	for (d = native_defs; d->ml_name != NULL; d++) {
		if ((fn = PyCFunction_New(d, NULL)) == NULL ||
		    PyDict_SetItemString(kw, d->ml_name, fn) != 0) {
			Py_XDECREF(fn);
			Py_DECREF(kw);
			return NULL;
		}
		Py_DECREF(fn);
	}
	if ((types = PyImport_ImportModule("types")) != NULL) {
		ns_type = PyObject_GetAttrString(types, "SimpleNamespace");
		Py_DECREF(types);
		if (ns_type != NULL && (args = PyTuple_New(0)) != NULL) {
			ns = PyObject_Call(ns_type, args, kw);
			Py_DECREF(args);
		}
		Py_XDECREF(ns_type);
	}
	Py_DECREF(kw);
	return ns;
}

/* console/streams.py, run the first time a name of it is asked for
 * (borrowed): importing apython imports none of code, codeop, signal. */
static PyObject *
streams_glue(void)
{
	static const struct py_name	names[] = {
		{ &s_prompt, "prompt" }, { &s_end, "end" },
	};
	PyObject			*given, *native, *m;

	if (glue != NULL)
		return glue;
	if (py_intern_names(names, PY_NAMES_LEN(names)) != 0 ||
	    (native = streams_native()) == NULL)
		return NULL;
	given = Py_BuildValue("{sN}", "_native", native);
	if (given == NULL)
		return NULL;
	m = PY_EMBED("apython._streams", console_streams_code, given);
	Py_DECREF(given);
	return py_embed_keep(&glue, m);
}

/* The module's names of console/streams.py, made when first asked for
 * (the module's __getattr__, PEP 562) and kept in the module. */
static const char *const lazy_names[] = { "AsynchronousConsole", "interact" };

/* module.__getattr__(name): a name of console/streams.py. */
static PyObject *
streams_getattr(PyObject *module, PyObject *name)
{
	PyObject	*g, *v;
	size_t		 i;

	for (i = 0; i < sizeof lazy_names / sizeof lazy_names[0]; i++)
		if (PyUnicode_Check(name) &&
		    PyUnicode_CompareWithASCIIString(name, lazy_names[i]) == 0)
			break;
	if (i == sizeof lazy_names / sizeof lazy_names[0]) {
		PyErr_Format(PyExc_AttributeError,
		    "module 'apython' has no attribute '%S'", name);
		return NULL;
	}
	if ((g = streams_glue()) == NULL ||
	    (v = PyObject_GetAttr(g, name)) == NULL)
		return NULL;
	if (PyObject_SetAttr(module, name, v) != 0)
		Py_CLEAR(v);
	return v;
}

/* module.__dir__(): its names, with those not made yet. */
static PyObject *
streams_dir(PyObject *module, PyObject *unused)
{
	PyObject	*names, *d, *s;
	size_t		 i;

	(void)unused;
	if ((d = PyModule_GetDict(module)) == NULL ||
	    (names = PyDict_Keys(d)) == NULL)
		return NULL;
	for (i = 0; i < sizeof lazy_names / sizeof lazy_names[0]; i++) {
		if (PyDict_GetItemString(d, lazy_names[i]) != NULL)
			continue;
		if ((s = PyUnicode_FromString(lazy_names[i])) == NULL ||
		    PyList_Append(names, s) != 0) {
			Py_XDECREF(s);
			Py_DECREF(names);
			return NULL;
		}
		Py_DECREF(s);
	}
	if (PyList_Sort(names) != 0)
		Py_CLEAR(names);
	return names;
}

static PyMethodDef module_defs[] = {
	{ "__getattr__", streams_getattr, METH_O, NULL },
	{ "__dir__", streams_dir, METH_NOARGS, NULL },
	{ NULL, NULL, 0, NULL }
};

/* AsynchronousConsole and interact for the module, made on first use. */
int
console_streams_add_to_module(PyObject *module)
{
	PyMethodDef	*d;
	PyObject	*fn;

	for (d = module_defs; d->ml_name != NULL; d++) {
		if ((fn = PyCFunction_NewEx(d, module, NULL)) == NULL)
			return -1;
		if (PyModule_AddObject(module, d->ml_name, fn) != 0) {
			Py_DECREF(fn);
			return -1;
		}
	}
	return 0;
}
