/* The running-loop hook: at start-up, before the program imports
 * anything, asyncio's _set_running_loop is replaced wherever it is looked
 * up (asyncio.events, asyncio, the C module _asyncio) by ours, which
 * calls the original and, when a loop starts running in the main thread,
 * tells the observers. It sees every loop whatever its class and however
 * it was made (a policy, a loop factory, uvloop, apython.Loop() itself),
 * without relying on event loop policies (deprecated in 3.14). uvloop
 * keeps asyncio._set_running_loop when it is imported: ours by then. */
#include "loop/loop-internal.h"

static PyObject *hook_original;	/* asyncio's own, held for good */

/* _set_running_loop(loop): asyncio's, then the observers when a loop
 * starts running in the main thread. Every run_forever() calls it (each
 * run_until_complete(), asyncio.run() several times on one loop), and
 * again with None when the loop stops: that costs a compare. */
static PyObject *
hook_set_running_loop(PyObject *unused, PyObject *loop)
{
	PyObject	*r;

	(void)unused;
	if ((r = PyObject_CallOneArg(hook_original, loop)) == NULL)
		return NULL;
	if (loop == Py_None || !loop_in_main_thread())
		return r;
	/* loop is our caller's argument: held until we return. */
	if (loop_notify_run(loop) != 0)
		Py_CLEAR(r);
	return r;
}

static PyMethodDef hook_def = {
	.ml_name = "_set_running_loop",
	.ml_meth = hook_set_running_loop,
	.ml_flags = METH_O,
	.ml_doc = "_set_running_loop(loop)\n--\n\n"
	    "asyncio's _set_running_loop, which apython's console follows.",
};

/* module._set_running_loop becomes hook where it is asyncio's original;
 * a module that cannot be imported (no C _asyncio) is left alone. */
static int
hook_replace(const char *module, PyObject *hook)
{
	PyObject	*m, *v;
	int		 r = 0;

	if ((m = PyImport_ImportModule(module)) == NULL) {
		if (!PyErr_ExceptionMatches(PyExc_ImportError))
			return -1;
		PyErr_Clear();
		return 0;
	}
	if ((v = PyObject_GetAttrString(m, hook_def.ml_name)) == NULL) {
		if (PyErr_ExceptionMatches(PyExc_AttributeError))
			PyErr_Clear();
		else
			r = -1;
	} else if (v == hook_original)
		r = PyObject_SetAttrString(m, hook_def.ml_name, hook);
	Py_XDECREF(v);
	Py_DECREF(m);
	return r;
}

/* Put the hook in place, once; -1 with exception. */
int
loop_install_hook(void)
{
	static const char *const modules[] = { "_asyncio", "asyncio",
	    "asyncio.events" };
	PyObject	*events, *hook;
	size_t		 i;
	int		 r = 0;

	if (hook_original != NULL)
		return 0;
	if ((events = PyImport_ImportModule("asyncio.events")) == NULL)
		return -1;
	hook_original = PyObject_GetAttrString(events, hook_def.ml_name);
	Py_DECREF(events);
	if (hook_original == NULL)
		return -1;
	if ((hook = PyCFunction_NewEx(&hook_def, NULL, NULL)) == NULL)
		return -1;
	for (i = 0; r == 0 && i < sizeof modules / sizeof modules[0]; i++)
		r = hook_replace(modules[i], hook);
	Py_DECREF(hook);
	return r;
}
