/* apython.Loop (the C core mixed into asyncio's Unix loop for what is
 * off the hot path) and apython.EventLoopPolicy, made by loop/policy.py. */
#include "loop/loop-internal.h"
#include "loop/policy.py.h"
#include "py/py.h"

/* The policy marks the loops it makes for the observers to follow. */
static PyObject *
policy_observe(PyObject *unused, PyObject *loop)
{
	(void)unused;
	loop_set_observed(loop);
	Py_RETURN_NONE;
}

static PyMethodDef policy_observe_def = {
	.ml_name = "_observe",
	.ml_meth = policy_observe,
	.ml_flags = METH_O,
};

/* Run loop/policy.py with what it is given from C. */
static PyObject *
policy_glue(void)
{
	PyObject	*given, *observe, *glue = NULL;

	if ((given = PyDict_New()) == NULL)
		return NULL;
	observe = PyCFunction_NewEx(&policy_observe_def, NULL, NULL);
	if (observe != NULL && PyDict_SetItemString(given, "_core",
	    (PyObject *)loop_core_type()) == 0 &&
	    PyDict_SetItemString(given, "_observe", observe) == 0)
		glue = PY_EMBED("apython._policy", loop_policy_code, given);
	Py_DECREF(given);
	Py_XDECREF(observe);
	return glue;
}

/* Add Loop, EventLoopPolicy and new_event_loop (loop/policy.py) to the
 * module. */
int
loop_add_to_module(PyObject *module)
{
	static const char *const names[] = { "Loop", "EventLoopPolicy",
	    "new_event_loop" };
	PyObject	*glue, *v;
	size_t		 i;
	int		 r = 0;

	if (loop_core_ready() != 0 || (glue = policy_glue()) == NULL)
		return -1;
	for (i = 0; r == 0 && i < sizeof names / sizeof names[0]; i++) {
		if ((v = PyObject_GetAttrString(glue, names[i])) == NULL ||
		    PyModule_AddObject(module, names[i], v) != 0) {
			Py_XDECREF(v);
			r = -1;
		}
	}
	Py_DECREF(glue);
	return r;
}

/* asyncio.set_event_loop_policy(apython.EventLoopPolicy()). */
int
loop_install_policy(PyObject *module)
{
	PyObject	*asyncio, *cls, *policy = NULL, *r = NULL;

	if ((asyncio = PyImport_ImportModule("asyncio")) == NULL)
		return -1;
	if ((cls = PyObject_GetAttrString(module, "EventLoopPolicy")) != NULL)
		policy = PyObject_CallNoArgs(cls);
	if (policy != NULL)
		r = PyObject_CallMethod(asyncio, "set_event_loop_policy", "O",
		    policy);
	Py_DECREF(asyncio);
	Py_XDECREF(cls);
	Py_XDECREF(policy);
	Py_XDECREF(r);
	return r == NULL ? -1 : 0;
}
