/* help() in a console: pydoc's pager writes plain text to the console
 * for a console statement, and pages as pydoc chooses for the program. */
#include "console/console-internal.h"

static PyObject *program_pager;	/* the pager pydoc picks for the program */
static PyObject *pydoc_mod;

/* pydoc.pager: plain text into the console for a console statement
 * (help(obj) needs no pager there); pydoc's own choice otherwise. */
static PyObject *
pager_call(PyObject *module, PyObject *args)
{
	PyObject	*s, *fn, *r;

	(void)module;
	if ((s = session_current()) != NULL) {
		Py_DECREF(s);
		fn = PyObject_GetAttrString(pydoc_mod, "plain_pager");
		if (fn == NULL && PyErr_ExceptionMatches(PyExc_AttributeError)) {
			PyErr_Clear();
			fn = PyObject_GetAttrString(pydoc_mod, "plainpager");
		}
		if (fn == NULL)
			return NULL;
		r = PyObject_Call(fn, args, NULL);
		Py_DECREF(fn);
		return r;
	}
	if (program_pager == NULL) {
		program_pager = PyObject_CallMethod(pydoc_mod, "get_pager", NULL);
		if (program_pager == NULL &&
		    PyErr_ExceptionMatches(PyExc_AttributeError)) {
			PyErr_Clear();
			program_pager = PyObject_CallMethod(pydoc_mod,
			    "getpager", NULL);
		}
		if (program_pager == NULL)
			return NULL;
	}
	return PyObject_Call(program_pager, args, NULL);
}

static PyMethodDef pager_def = {
	.ml_name = "pager",
	.ml_meth = pager_call,
	.ml_flags = METH_VARARGS,
	.ml_doc = "Show text: plainly in the console, through a pager otherwise.",
};

/* Put our pager in pydoc (importing it), once, as a console comes up
 * (intro.c), before its first statement: help(obj) there prints in the
 * console. 0, or -1 with an exception. */
int
pager_install(void)
{
	PyObject	*fn;
	int		 r;

	if (pydoc_mod != NULL)
		return 0;
	if ((pydoc_mod = PyImport_ImportModule("pydoc")) == NULL)
		return -1;
	if ((fn = PyCFunction_New(&pager_def, NULL)) == NULL)
		return -1;
	r = PyObject_SetAttrString(pydoc_mod, "pager", fn);
	Py_DECREF(fn);
	return r;
}
