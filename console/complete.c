/* Tab completion in a console's namespace: names, keywords, builtins and
 * attributes by CPython's rlcompleter, module names after `import` and
 * `from` by pkgutil. Completing imports nothing and runs no code of the
 * program beyond attribute lookups. */
#include "console/console-internal.h"

static PyObject *re_import, *re_from, *re_from_import;
static PyObject *top_names;	/* top-level module names, sorted */
static PyObject *top_path;	/* the sys.path they were listed for */

/* What complete_in works on. */
struct complete_args {
	PyObject	*before;	/* the line up to the word */
	PyObject	*text;		/* the word */
};

/* A compiled regular expression, or NULL with exception. */
static PyObject *
re_compile(const char *pattern)
{
	PyObject	*re, *r;

	if ((re = PyImport_ImportModule("re")) == NULL)
		return NULL;
	r = PyObject_CallMethod(re, "compile", "s", pattern);
	Py_DECREF(re);
	return r;
}

/* Group 1 of pattern matching text (new reference), Py_None when it
 * matches without a group, NULL when it does not match (no error). */
static PyObject *
re_match(PyObject *pattern, PyObject *text, int group)
{
	PyObject	*m, *g;

	m = PyObject_CallMethod(pattern, "match", "O", text);
	if (m == NULL || m == Py_None) {
		Py_XDECREF(m);
		return NULL;
	}
	g = group ? PyObject_CallMethod(m, "group", "i", group) :
	    Py_NewRef(Py_None);
	Py_DECREF(m);
	return g;
}

/* The items of names starting with text, each after prefix, in list. */
static int
complete_add(PyObject *list, PyObject *names, PyObject *prefix,
    PyObject *text)
{
	PyObject	*it, *name, *full;
	int		 r = 0, hidden;

	hidden = PyUnicode_GET_LENGTH(text) == 0 ||
	    PyUnicode_READ_CHAR(text, 0) != '_';
	if ((it = PyObject_GetIter(names)) == NULL)
		return -1;
	while (r == 0 && (name = PyIter_Next(it)) != NULL) {
		if (!PyUnicode_Check(name) || (hidden &&
		    PyUnicode_GET_LENGTH(name) > 0 &&
		    PyUnicode_READ_CHAR(name, 0) == '_')) {
			Py_DECREF(name);
			continue;
		}
		full = prefix ? PyUnicode_Concat(prefix, name) : Py_NewRef(name);
		Py_DECREF(name);
		if (full == NULL)
			r = -1;
		else if (PyUnicode_Tailmatch(full, text, 0, PY_SSIZE_T_MAX,
		    -1) == 1)
			r = PyList_Append(list, full);
		Py_XDECREF(full);
	}
	Py_DECREF(it);
	return r == 0 && PyErr_Occurred() ? -1 : r;
}

/* Names of the modules pkgutil finds on path (None: sys.path). */
static PyObject *
complete_iter_modules(PyObject *path)
{
	PyObject	*pkgutil, *infos, *names, *it, *info, *name;

	if ((pkgutil = PyImport_ImportModule("pkgutil")) == NULL)
		return NULL;
	infos = PyObject_CallMethod(pkgutil, "iter_modules", "O", path);
	Py_DECREF(pkgutil);
	if (infos == NULL)
		return NULL;
	names = PySet_New(NULL);
	it = names ? PyObject_GetIter(infos) : NULL;
	Py_DECREF(infos);
	while (it != NULL && (info = PyIter_Next(it)) != NULL) {
		name = PySequence_GetItem(info, 1);
		Py_DECREF(info);
		if (name == NULL || PySet_Add(names, name) != 0) {
			Py_XDECREF(name);
			break;
		}
		Py_DECREF(name);
	}
	Py_XDECREF(it);
	if (PyErr_Occurred())
		Py_CLEAR(names);
	return names;
}

/* Top-level module names, listed once per sys.path. */
static PyObject *
complete_top_modules(void)
{
	PyObject	*path, *names, *builtin, *r;
	int		 same;

	if ((path = PySys_GetObject("path")) == NULL) {
		PyErr_SetString(PyExc_RuntimeError, "lost sys.path");
		return NULL;
	}
	if ((path = PySequence_Tuple(path)) == NULL)
		return NULL;
	if (top_names != NULL) {
		same = PyObject_RichCompareBool(path, top_path, Py_EQ);
		if (same != 0) {
			Py_DECREF(path);
			return same < 0 ? NULL : Py_NewRef(top_names);
		}
	}
	names = complete_iter_modules(Py_None);
	builtin = PySys_GetObject("builtin_module_names");
	if (names != NULL && builtin != NULL) {
		r = PyObject_CallMethod(names, "update", "O", builtin);
		if (r != NULL)
			Py_XSETREF(top_names, PySequence_List(names));
		Py_XDECREF(r);
	}
	Py_XDECREF(names);
	if (PyErr_Occurred() || top_names == NULL ||
	    PyList_Sort(top_names) != 0) {
		Py_DECREF(path);
		Py_CLEAR(top_names);
		return NULL;
	}
	Py_XSETREF(top_path, path);
	return Py_NewRef(top_names);
}

/* An already imported module by name (new reference), or NULL. */
static PyObject *
complete_imported(PyObject *name)
{
	PyObject	*m;

	m = PyDict_GetItemWithError(PyImport_GetModuleDict(), name);
	return Py_XNewRef(m);
}

/* Submodules of imported package pkg, prefixed "pkg.", into list. */
static int
complete_submodules(PyObject *list, PyObject *pkg, PyObject *prefix,
    PyObject *text)
{
	PyObject	*m, *path, *names;
	int		 r;

	if ((m = complete_imported(pkg)) == NULL)
		return PyErr_Occurred() ? -1 : 0;
	path = PyObject_GetAttrString(m, "__path__");
	Py_DECREF(m);
	if (path == NULL) {
		PyErr_Clear();
		return 0;
	}
	names = complete_iter_modules(path);
	Py_DECREF(path);
	if (names == NULL)
		return -1;
	r = complete_add(list, names, prefix, text);
	Py_DECREF(names);
	return r;
}

/* Module names after `import` or `from`: top level, or the submodules
 * of a package already imported (completing imports nothing). */
static int
complete_modules(PyObject *list, PyObject *text)
{
	PyObject	*pkg, *prefix, *names;
	Py_ssize_t	 dot;
	int		 r;

	dot = PyUnicode_FindChar(text, '.', 0, PY_SSIZE_T_MAX, -1);
	if (dot == -2)
		return -1;
	if (dot == -1) {
		if ((names = complete_top_modules()) == NULL)
			return -1;
		r = complete_add(list, names, NULL, text);
		Py_DECREF(names);
		return r;
	}
	pkg = PyUnicode_Substring(text, 0, dot);
	prefix = PyUnicode_Substring(text, 0, dot + 1);
	r = pkg && prefix ? complete_submodules(list, pkg, prefix, text) : -1;
	Py_XDECREF(pkg);
	Py_XDECREF(prefix);
	return r;
}

/* Names after `from pkg import`: pkg's attributes and submodules. */
static int
complete_from(PyObject *list, PyObject *pkg, PyObject *text)
{
	PyObject	*m, *names;
	int		 r;

	if ((m = complete_imported(pkg)) == NULL)
		return PyErr_Occurred() ? -1 : 0;
	names = PyObject_Dir(m);
	Py_DECREF(m);
	if (names == NULL)
		return -1;
	r = complete_add(list, names, NULL, text);
	Py_DECREF(names);
	return r == 0 ? complete_submodules(list, pkg, NULL, text) : -1;
}

/* The rlcompleter module, imported without letting it import Python's
 * readline module (that would take GNU readline over). */
static PyObject *
complete_rlcompleter(void)
{
	PyObject	*modules = PyImport_GetModuleDict(), *mod;
	PyObject	*type, *value, *tb;
	int		 block;

	if ((mod = PyDict_GetItemString(modules, "rlcompleter")) != NULL)
		return Py_NewRef(mod);
	block = PyDict_GetItemString(modules, "readline") == NULL;
	if (block && PyDict_SetItemString(modules, "readline", Py_None) != 0)
		return NULL;
	mod = PyImport_ImportModule("rlcompleter");
	if (block) {
		PyErr_Fetch(&type, &value, &tb);
		if (PyDict_DelItemString(modules, "readline") != 0)
			PyErr_Clear();
		PyErr_Restore(type, value, tb);
	}
	return mod;
}

/* What rlcompleter offers for text in the session's namespace: names,
 * keywords, builtins, attributes. */
static int
complete_names(PyObject *session, PyObject *list, PyObject *text)
{
	PyObject	*mod, *ns, *c, *m;
	int		 state, r = 0;

	if ((mod = complete_rlcompleter()) == NULL)
		return -1;
	/* Made here if no statement came yet (borrowed: the session's). */
	if ((ns = session_namespace(session)) == NULL) {
		Py_DECREF(mod);
		return -1;
	}
	c = PyObject_CallMethod(mod, "Completer", "O", ns);
	Py_DECREF(mod);
	if (c == NULL)
		return -1;
	for (state = 0; r == 0; state++) {
		if ((m = PyObject_CallMethod(c, "complete", "Oi", text,
		    state)) == NULL)
			r = -1;
		else if (m == Py_None) {
			Py_DECREF(m);
			break;
		} else {
			r = PyList_Append(list, m);
			Py_DECREF(m);
		}
	}
	Py_DECREF(c);
	return r;
}

/* Compile the patterns that tell an import statement. */
static int
complete_patterns(void)
{
	if (re_import != NULL)
		return 0;
	re_import = re_compile("\\s*import\\s+(?:[\\w.]+\\s*"
	    "(?:as\\s+\\w+\\s*)?,\\s*)*$");
	re_from = re_compile("\\s*from\\s+$");
	re_from_import = re_compile("\\s*from\\s+([\\w.]+)\\s+import\\s+"
	    "\\(?\\s*(?:\\w+\\s*(?:as\\s+\\w+\\s*)?,\\s*)*$");
	if (re_import == NULL || re_from == NULL || re_from_import == NULL) {
		Py_CLEAR(re_import);
		return -1;
	}
	return 0;
}

/* The matches for args' word, as the line before it calls for. */
static PyObject *
complete_in(PyObject *session, void *arg)
{
	struct complete_args	*a = arg;
	PyObject		*list, *g;
	int			 r;

	if (complete_patterns() != 0 || (list = PyList_New(0)) == NULL)
		return NULL;
	if ((g = re_match(re_from_import, a->before, 1)) != NULL) {
		r = complete_from(list, g, a->text);
		Py_DECREF(g);
	} else if (!PyErr_Occurred() &&
	    ((g = re_match(re_import, a->before, 0)) != NULL ||
	    (!PyErr_Occurred() &&
	    (g = re_match(re_from, a->before, 0)) != NULL))) {
		Py_DECREF(g);
		r = complete_modules(list, a->text);
	} else if (!PyErr_Occurred())
		r = complete_names(session, list, a->text);
	else
		r = -1;
	if (r != 0)
		Py_CLEAR(list);
	return list;
}

/* The completions (a list of str) of word text, which comes after
 * before on the line, computed as the session's own code would run. */
PyObject *
complete_matches(PyObject *session, PyObject *before, PyObject *text)
{
	struct complete_args	 a = { .before = before, .text = text };
	PyObject		*list;

	if (session_run_in(session, complete_in, &a, &list) != 0)
		return NULL;
	return list;
}
