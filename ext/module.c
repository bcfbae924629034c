/* The module `apython`'s names, shared by the built-in module and the
 * extension: the loop (loop/), the console (console/), the console
 * server (serve/) and install() (ext/module.py). */
#include "ext/ext-internal.h"

#include "console/console.h"
#include "ext/module.py.h"
#include "loop/loop.h"
#include "py/py.h"
#include "serve/serve.h"

static PyObject *glue;		/* ext/module.py, for the process */

/* ext/module.py, run the first time. */
PyObject *
ext_glue(void)
{
	if (glue != NULL)
		return glue;
	return py_embed_keep(&glue, PY_EMBED("apython._module",
	    ext_module_code, NULL));
}

/* install() from the glue. */
static int
ext_add_install(PyObject *m)
{
	PyObject	*g, *fn;

	if ((g = ext_glue()) == NULL ||
	    (fn = PyObject_GetAttrString(g, "install")) == NULL)
		return -1;
	if (PyModule_AddObject(m, "install", fn) != 0) {
		Py_DECREF(fn);
		return -1;
	}
	return 0;
}

/* Every name of the module. */
int
ext_fill(PyObject *m)
{
	if (PyModule_AddStringConstant(m, "__version__", APYTHON_VERSION) ||
	    loop_add_to_module(m) != 0 || console_add_to_module(m) != 0 ||
	    console_streams_add_to_module(m) != 0 ||
	    ext_cli_add_to_module(m) != 0 ||
	    serve_add_to_module(m) != 0 || ext_add_install(m) != 0)
		return -1;
	return 0;
}

static struct PyModuleDef builtin_def = {
	PyModuleDef_HEAD_INIT, "apython",
	"apython's native parts: the libevent event loop and the console.",
	-1, NULL, NULL, NULL, NULL, NULL
};

/* The binary's built-in module. */
PyObject *
ext_builtin_init(void)
{
	PyObject	*m;

	if ((m = PyModule_Create(&builtin_def)) == NULL)
		return NULL;
	if (ext_fill(m) != 0)
		Py_CLEAR(m);
	return m;
}
