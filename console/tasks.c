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

	if (glue != NULL)
		return glue;
	return py_embed_keep(&glue,
	    PY_EMBED("apython._tasks", console_tasks_code, NULL));
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
