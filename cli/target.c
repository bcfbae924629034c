/* Running the target in __main__ as python3's own main does: -c CMD,
 * -m MODULE (runpy), FILE, a directory or zip file (runpy on its
 * __main__), `-` (stdin); with python3's sys.path[0], messages (prefixed
 * apython: where python3 prefixes its name) and exit statuses. */
#include "cli/cli-internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* sys.flags.name as C truth: 0 when this version has no such flag. */
int
cli_flag(const char *name)
{
	PyObject	*flags = PySys_GetObject("flags"), *v;
	int		 r;

	if (flags == NULL || (v = PyObject_GetAttrString(flags, name)) == NULL) {
		PyErr_Clear();
		return 0;
	}
	r = PyObject_IsTrue(v);
	Py_DECREF(v);
	if (r < 0)
		PyErr_Clear();
	return r > 0;
}

/* Put dir first in sys.path as python3 does: not with -P, -I or
 * PYTHONSAFEPATH, unless always (a directory or zip run as the program). */
int
cli_set_path0(const char *dir, int always)
{
	PyObject	*path, *d;
	int		 r;

	if (!always && cli_flag(PY_VERSION_HEX >= 0x030B0000 ? "safe_path" :
	    "isolated"))
		return 0;
	if ((path = PySys_GetObject("path")) == NULL) {
		PyErr_SetString(PyExc_RuntimeError, "lost sys.path");
		return -1;
	}
	if ((d = PyUnicode_DecodeFSDefault(dir)) == NULL)
		return -1;
	r = PyList_Insert(path, 0, d);
	Py_DECREF(d);
	return r;
}

/* The exit status for the exception that ended the program, printed as
 * python3 would; *sigint is set for an unhandled KeyboardInterrupt. */
int
cli_exception_status(int *sigint)
{
	PyObject	*type, *value, *tb, *code;
	int		 status = 1;

	if (!PyErr_ExceptionMatches(PyExc_SystemExit)) {
		*sigint = PyErr_ExceptionMatches(PyExc_KeyboardInterrupt);
		PyErr_Print();
		return 1;
	}
	PyErr_Fetch(&type, &value, &tb);
	PyErr_NormalizeException(&type, &value, &tb);
	code = value ? PyObject_GetAttrString(value, "code") : NULL;
	if (code == NULL || code == Py_None)
		status = 0;
	else if (PyLong_Check(code))
		status = (int)PyLong_AsLong(code);
	else {
		PyObject *err = PySys_GetObject("stderr");
		if (err != NULL && err != Py_None &&
		    PyFile_WriteObject(code, err, Py_PRINT_RAW) == 0)
			PyFile_WriteString("\n", err);
	}
	PyErr_Clear();
	Py_XDECREF(code);
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
	return status;
}

/* Say why runpy cannot run the module (the exception set), as python3
 * says it but with apython's name. */
static void
module_error(const char *name)
{
	PyObject	*type, *value, *tb, *msg = NULL;
	const char	*text = NULL;

	PyErr_Fetch(&type, &value, &tb);
	if (value != NULL && (msg = PyObject_Str(value)) != NULL)
		text = PyUnicode_AsUTF8(msg);
	PyErr_Clear();
	fprintf(stderr, "apython: %s\n", text != NULL ? text : name);
	Py_XDECREF(msg);
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
}

/* Whether runpy finds module name (1), or __main__ on sys.path[0] for a
 * directory or zip (name NULL), or says why not (0, *status set); -1
 * with exception. runpy would say it with sys.executable's name, so it
 * is asked first. A runpy without _Error is not asked. */
static int
module_found(PyObject *runpy, const char *name, int *status)
{
	PyObject	*err, *r;
	int		 missing = 0;

	if ((err = PyObject_GetAttrString(runpy, "_Error")) == NULL) {
		if (!PyErr_ExceptionMatches(PyExc_AttributeError))
			return -1;
		PyErr_Clear();
		return 1;
	}
	if (name != NULL)
		r = PyObject_CallMethod(runpy, "_get_module_details", "sO",
		    name, err);
	else
		r = PyObject_CallMethod(runpy, "_get_main_module_details", "O",
		    err);
	if (r == NULL && PyErr_ExceptionMatches(err)) {
		module_error(name != NULL ? name : "__main__");
		*status = 1;
		missing = 1;
	}
	Py_DECREF(err);
	if (r == NULL)
		return missing ? 0 : -1;
	Py_DECREF(r);
	return 1;
}

/* Run module name through runpy as python3 does (name NULL: __main__
 * of a directory or zip); one that cannot be found is python3's
 * one-line message and status 1. */
static int
run_module(const char *name, int *status)
{
	PyObject	*runpy, *r = NULL;
	int		 found;

	if ((runpy = PyImport_ImportModule("runpy")) == NULL)
		return -1;
	found = module_found(runpy, name, status);
	if (found == 1)
		r = PyObject_CallMethod(runpy, "_run_module_as_main", "si",
		    name != NULL ? name : "__main__", name != NULL);
	Py_DECREF(runpy);
	if (found != 1)
		return found;
	Py_XDECREF(r);
	return r == NULL ? -1 : 0;
}

/* The path python3 gives a script's __file__: absolute since 3.9. */
static char *
script_path(const char *file)
{
	char	cwd[PATH_MAX], *p;

	if (file[0] == '/' || PY_VERSION_HEX < 0x03090000 ||
	    getcwd(cwd, sizeof cwd) == NULL)
		return strdup(file);
	if (asprintf(&p, "%s/%s", cwd, file) < 0)
		return NULL;
	return p;
}

/* __main__'s dict (borrowed), or NULL with exception. */
static PyObject *
main_dict(void)
{
	PyObject	*m = PyImport_AddModule("__main__");

	return m != NULL ? PyModule_GetDict(m) : NULL;
}

/* Run the source in fp as __main__ with __file__ set to name while it
 * runs, as python3 runs a file or stdin. */
static int
run_source(FILE *fp, const char *name, int closeit)
{
	PyCompilerFlags	 cf = _PyCompilerFlags_INIT;
	PyObject	*d, *f, *r = NULL;

	if ((d = main_dict()) == NULL || (f = PyUnicode_DecodeFSDefault(name))
	    == NULL)
		goto done;
	if (PyDict_SetItemString(d, "__file__", f) == 0 &&
	    PyDict_SetItemString(d, "__cached__", Py_None) == 0) {
		r = PyRun_FileExFlags(fp, name, Py_file_input, d, d, closeit,
		    &cf);
		closeit = 0;
	}
	Py_DECREF(f);
	/* python3 takes them away again (-i's console has no __file__). */
	if (PyDict_DelItemString(d, "__file__") != 0 ||
	    PyDict_DelItemString(d, "__cached__") != 0)
		PyErr_Clear();
done:
	if (closeit)
		fclose(fp);
	Py_XDECREF(r);
	return r == NULL ? -1 : 0;
}

/* -x: skip the first line, but not its newline (line numbers stay). */
static void
skip_first_line(FILE *fp)
{
	int	ch;

	while ((ch = getc(fp)) != EOF)
		if (ch == '\n') {
			ungetc(ch, fp);
			break;
		}
}

/* Run FILE in __main__ as python3 does (a directory or zip through its
 * __main__ module); *status is set when it cannot be opened. */
static int
run_file(const struct cli *o, int *status)
{
	char		*path, real[PATH_MAX], *slash;
	struct stat	 st;
	FILE		*fp = NULL;
	char		 magic[2];
	int		 r;

	if ((path = script_path(o->file)) == NULL)
		return (PyErr_NoMemory(), -1);
	if (stat(path, &st) != 0 || (!S_ISDIR(st.st_mode) &&
	    (fp = fopen(path, "rb")) == NULL)) {
		fprintf(stderr, "apython: can't open file '%s': [Errno %d] "
		    "%s\n", path, errno, strerror(errno));
		free(path);
		*status = EXIT_USAGE;
		return 0;
	}
	if (fp == NULL || (fread(magic, 1, 2, fp) == 2 && memcmp(magic, "PK",
	    2) == 0)) {
		if (fp != NULL)
			fclose(fp);
		r = cli_set_path0(path, 1);
		free(path);
		return r != 0 ? -1 : run_module(NULL, status);
	}
	rewind(fp);
	if (o->skip_first_line)
		skip_first_line(fp);
	r = 0;
	if (realpath(path, real) != NULL && (slash = strrchr(real, '/'))) {
		*slash = '\0';
		r = cli_set_path0(real[0] ? real : "/", 0);
	}
	if (r == 0)
		r = run_source(fp, path, 1);
	else
		fclose(fp);
	free(path);
	return r;
}

/* Since 3.13 python3 registers -c's source with linecache under
 * "<string>", so that tracebacks and warnings show its lines. */
static int
register_source(const char *src)
{
	PyObject	*linecache, *text, *r = NULL;

	if (PY_VERSION_HEX < 0x030D0000)
		return 0;
	if ((linecache = PyImport_ImportModule("linecache")) == NULL)
		return -1;
	if ((text = PyUnicode_FromString(src)) != NULL)
		r = PyObject_CallMethod(linecache, "_register_code", "sOs",
		    "<string>", text, "<string>");
	Py_XDECREF(text);
	Py_DECREF(linecache);
	Py_XDECREF(r);
	return r == NULL ? -1 : 0;
}

/* -c CMD: run the command in __main__, as "<string>". */
static int
run_command(const char *cmd)
{
	PyCompilerFlags	 cf = _PyCompilerFlags_INIT;
	PyObject	*text, *utf8 = NULL, *d, *code = NULL, *r = NULL;
	const char	*src;

	/* Decoded as python3 decodes argv, compiled from UTF-8. */
	if ((text = PyUnicode_DecodeLocale(cmd, "surrogateescape")) != NULL)
		utf8 = PyUnicode_AsUTF8String(text);
	Py_XDECREF(text);
	cf.cf_flags |= PyCF_IGNORE_COOKIE;
	if (utf8 == NULL || cli_set_path0("", 0) != 0 || (d = main_dict()) ==
	    NULL)
		goto done;
	src = PyBytes_AS_STRING(utf8);
	code = Py_CompileStringExFlags(src, "<string>", Py_file_input, &cf,
	    -1);
	if (code != NULL && register_source(src) == 0)
		r = PyEval_EvalCode(code, d, d);
done:
	Py_XDECREF(code);
	Py_XDECREF(utf8);
	Py_XDECREF(r);
	return r == NULL ? -1 : 0;
}

/* Run the target; 0 with *status, or -1 with the exception that ended
 * it. No target: the console alone (the caller runs it). */
int
cli_run_target(const struct cli *o, int *status)
{
	char	cwd[PATH_MAX];

	*status = 0;
	if (o->command != NULL)
		return run_command(o->command);
	if (o->module != NULL) {
		if (getcwd(cwd, sizeof cwd) == NULL)
			return (PyErr_SetFromErrno(PyExc_OSError), -1);
		if (cli_set_path0(cwd, 0) != 0)
			return -1;
		return run_module(o->module, status);
	}
	if (o->file != NULL && strcmp(o->file, "-") == 0)
		return cli_set_path0("", 0) != 0 ? -1 :
		    run_source(stdin, "<stdin>", 0);
	if (o->file != NULL)
		return run_file(o, status);
	return cli_set_path0("", 0);
}
