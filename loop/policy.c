/* apython.Loop (the C core mixed into asyncio's Unix loop for what is
 * off the hot path) and apython.EventLoopPolicy, made by loop/policy.py. */
#include "loop/loop-internal.h"
#include "loop/policy.py.h"
#include "py/py.h"

/* Run loop/policy.py with what it is given from C. */
static PyObject *
policy_glue(void)
{
	PyObject	*given, *glue = NULL;

	if ((given = PyDict_New()) == NULL)
		return NULL;
	if (PyDict_SetItemString(given, "_core",
	    (PyObject *)loop_core_type()) == 0)
		glue = PY_EMBED("apython._policy", loop_policy_code, given);
	Py_DECREF(given);
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

/* asyncio.set_event_loop_policy(apython.EventLoopPolicy()): programs get
 * apython's loop by default. */
static int
policy_install(PyObject *module)
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

/* At start-up, before the program imports anything: apython's loop by
 * default, and the hook through which observers see every loop run. */
int
loop_install(PyObject *module)
{
	if (policy_install(module) != 0)
		return -1;
	return loop_install_hook();
}
