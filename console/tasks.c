/* The task views: a loop's tasks as a tree of who awaits whom, with their
 * stacks (made by console/tasks.py), for --ps and a console's `tasks`. */
#include "console/console-internal.h"
#include "console/tasks.py.h"
#include "py/py.h"

/* console/tasks.py, run once and kept for the process (borrowed). */
static PyObject *
tasks_glue(void)
{
	static PyObject	*glue;
	PyObject	*m;

	if (glue != NULL)
		return glue;
	/* Running it may let another thread in, which may run it too. */
	if ((m = PY_EMBED("apython._tasks", console_tasks_code, NULL)) == NULL)
		return NULL;
	if (glue == NULL)
		glue = m;
	else
		Py_DECREF(m);
	return glue;
}

/* The program's tasks on loop as text (see console/console.h). */
PyObject *
console_ps(PyObject *loop, const char *filter, PyObject *frame, double stuck)
{
	PyObject	*glue, *pattern, *r;

	if ((glue = tasks_glue()) == NULL)
		return NULL;
	if (filter == NULL)
		pattern = Py_NewRef(Py_None);
	else if ((pattern = PyUnicode_DecodeFSDefault(filter)) == NULL)
		return NULL;
	r = PyObject_CallMethod(glue, "render", "OOOd",
	    loop != NULL ? loop : Py_None, pattern,
	    frame != NULL ? frame : Py_None, stuck);
	Py_DECREF(pattern);
	if (r != NULL && !PyUnicode_Check(r)) {
		PyErr_SetString(PyExc_TypeError, "task views: not a str");
		Py_CLEAR(r);
	}
	return r;
}

/* The `tasks` of console namespaces (new reference). */
PyObject *
tasks_views(void)
{
	PyObject	*glue;

	if ((glue = tasks_glue()) == NULL)
		return NULL;
	return PyObject_GetAttrString(glue, "tasks");
}
