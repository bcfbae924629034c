/* Starting CPython as python3 would with the same options: PyPreConfig
 * for what must be known before the interpreter (-E, -I, -X dev, -X utf8),
 * PyConfig for the rest; parse_argv only on a command line of the options
 * CPython must place itself, since -s is --serve here. And what is
 * checked before: --locals (the virtualenv: venv.c). */
#include "cli/cli-internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The interpreter apython stands in for: the virtualenv's (venv.c), so
 * that its packages are found, else the one apython was built with. */
static const char *
python_program(char *buf, size_t len)
{
	const char	*venv = cli_venv_python(buf, len);

	return venv != NULL ? venv : APYTHON_PYTHON;
}

/* Whether -X name (or name=value) was given; *value gets the value. */
static int
has_xoption(const struct cli *o, const char *name, const char **value)
{
	size_t	n = strlen(name);
	int	i, found = 0;

	for (i = 0; i < o->nxoptions; i++) {
		if (strncmp(o->xoptions[i], name, n) != 0 ||
		    (o->xoptions[i][n] != '\0' && o->xoptions[i][n] != '='))
			continue;
		found = 1;
		*value = o->xoptions[i][n] == '=' ? o->xoptions[i] + n + 1 :
		    NULL;
	}
	return found;
}

/* Pre-initialize: CPython reads -E, -I, -X dev and -X utf8 itself (and
 * checks their values) from a command line of just those; -s is not
 * among them, so parse_argv is safe here. */
static void
preconfig(const struct cli *o)
{
	PyPreConfig	  pre;
	PyStatus	  status;
	char		**argv;
	int		  i, n = 0;

	if ((argv = calloc(3 + 2 * o->nxoptions, sizeof *argv)) == NULL)
		abort();
	argv[n++] = "apython";
	if (o->ignore_env)
		argv[n++] = "-E";
	if (o->isolated)
		argv[n++] = "-I";
	for (i = 0; i < o->nxoptions; i++) {
		argv[n++] = "-X";
		argv[n++] = o->xoptions[i];
	}
	PyPreConfig_InitPythonConfig(&pre);
	pre.parse_argv = 1;
	status = Py_PreInitializeFromBytesArgs(&pre, n, argv);
	free(argv);
	if (PyStatus_Exception(status))
		Py_ExitStatusException(status);
}

/* Append the strings of v to list, locale-decoded as python3 decodes
 * its argv. */
static PyStatus
set_list(PyWideStringList *list, char **v, int n)
{
	PyStatus	 status = PyStatus_Ok();
	wchar_t		*w;
	int		 i;

	for (i = 0; i < n && !PyStatus_Exception(status); i++) {
		if ((w = Py_DecodeLocale(v[i], NULL)) == NULL)
			return PyStatus_NoMemory();
		status = PyWideStringList_Append(list, w);
		PyMem_RawFree(w);
	}
	return status;
}

/* python3's options into config (argv and -W aside). */
static PyStatus
python_options(const struct cli *o, PyConfig *config)
{
	PyStatus	status = PyStatus_Ok();
	const char	*v;

	if (o->isolated)
		config->isolated = 1;
	if (o->ignore_env)
		config->use_environment = 0;
	config->bytes_warning = o->bytes_warning;
	if (o->no_bytecode)
		config->write_bytecode = 0;
	config->parser_debug = o->parser_debug;
	config->inspect = o->inspect;
	config->interactive = o->inspect;
	config->optimization_level = o->optimize;
#if PY_VERSION_HEX >= 0x030B0000
	if (o->safe_path)
		config->safe_path = 1;
#endif
	config->quiet = o->quiet;
	if (o->no_hash_seed)
		config->use_hash_seed = 0;
	if (o->no_site)
		config->site_import = 0;
	if (o->unbuffered)
		config->buffered_stdio = 0;
	config->verbose = o->verbose;
	config->skip_source_first_line = o->skip_first_line;
	if (has_xoption(o, "dev", &v))
		config->dev_mode = 1;
	if (o->hash_pycs != NULL)
		status = PyConfig_SetBytesString(config,
		    &config->check_hash_pycs_mode, o->hash_pycs);
	if (!PyStatus_Exception(status))
		status = set_list(&config->xoptions, o->xoptions,
		    o->nxoptions);
	return status;
}

/* sys.warnoptions as python3's: CPython reads a command line of just
 * the -W options and puts them among the filters of dev mode,
 * PYTHONWARNINGS and -b in its order (set in PyConfig.warnoptions, they
 * would come after -b's). Initialization reads config again and keeps
 * the list: CPython adds none of its filters already in it. */
static PyStatus
python_warnoptions(const struct cli *o, PyConfig *config)
{
	PyStatus	  status;
	char		**argv;
	int		  i, n = 0;

	if ((argv = calloc(1 + 2 * o->nwarnoptions, sizeof *argv)) == NULL)
		abort();
	argv[n++] = o->argv[0];
	for (i = 0; i < o->nwarnoptions; i++) {
		argv[n++] = "-W";
		argv[n++] = o->warnoptions[i];
	}
	config->parse_argv = 1;
	status = PyConfig_SetBytesArgv(config, n, argv);
	free(argv);
	if (!PyStatus_Exception(status))
		status = PyConfig_Read(config);
	config->parse_argv = 0;
	return status;
}

/* sys.argv as python3 sets it: the target's name, then its arguments. */
static PyStatus
python_argv(const struct cli *o, PyConfig *config)
{
	PyStatus	  status;
	char		**argv;
	const char	 *first = "";
	int		  i, n = 0;

	if ((argv = calloc(o->nargs + 2, sizeof *argv)) == NULL)
		abort();
	if (o->command != NULL)
		first = "-c";
	else if (o->module != NULL)
		first = "-m";
	else if (o->file != NULL)
		first = o->file;
	argv[n++] = (char *)first;
	for (i = 0; i < o->nargs; i++)
		argv[n++] = o->args[i];
	status = PyConfig_SetBytesArgv(config, n, argv);
	free(argv);
	return status;
}

/* sys.orig_argv (3.10+): apython's own command line, as python3's is
 * its own. Also Py_GetArgcArgv's in 3.9, where PyConfig_Read would
 * take python_warnoptions' command line for it. */
static PyStatus
python_orig_argv(const struct cli *o, PyConfig *config)
{
#if PY_VERSION_HEX >= 0x030A0000
	return set_list(&config->orig_argv, o->argv, o->argc);
#elif PY_VERSION_HEX >= 0x03090000
	return set_list(&config->_orig_argv, o->argv, o->argc);
#else
	(void)o;
	(void)config;
	return PyStatus_Ok();
#endif
}

/* Start CPython configured from the command line, module `apython`
 * built in. */
void
cli_python_start(const struct cli *o, PyObject *(*module_init)(void))
{
	PyConfig	config;
	PyStatus	status;
	char		prog[PATH_MAX];

	preconfig(o);
	PyImport_AppendInittab("apython", module_init);
	PyConfig_InitPythonConfig(&config);
	status = python_options(o, &config);
	if (!PyStatus_Exception(status))
		status = PyConfig_SetBytesString(&config, &config.program_name,
		    python_program(prog, sizeof prog));
	if (!PyStatus_Exception(status))
		status = python_orig_argv(o, &config);
	if (!PyStatus_Exception(status))
		status = python_warnoptions(o, &config);
	if (!PyStatus_Exception(status))
		status = python_argv(o, &config);
	if (!PyStatus_Exception(status))
		status = Py_InitializeFromConfig(&config);
	PyConfig_Clear(&config);
	if (PyStatus_Exception(status))
		Py_ExitStatusException(status);
}

/* Whether the keys of dict d are identifiers other than asyncio and
 * loop (which the console sets); a usage error if not. */
static void
check_locals(PyObject *d, const char *text)
{
	PyObject	*key, *value;
	Py_ssize_t	 pos = 0;
	const char	*name;

	while (PyDict_Next(d, &pos, &key, &value)) {
		if (!PyUnicode_Check(key) || PyUnicode_IsIdentifier(key) != 1)
			cli_usage_error("argument --locals: its keys must be "
			    "identifiers, got '%s'", text);
		if ((name = PyUnicode_AsUTF8(key)) == NULL)
			PyErr_Clear();
		else if (strcmp(name, "asyncio") == 0 ||
		    strcmp(name, "loop") == 0)
			cli_usage_error("argument --locals: '%s' is the "
			    "console's own and cannot be replaced", name);
	}
}

/* --locals: a Python literal dict of identifiers, or a usage error. */
PyObject *
cli_parse_locals(const char *text)
{
	PyObject	*ast, *v = NULL;

	if ((ast = PyImport_ImportModule("ast")) != NULL) {
		v = PyObject_CallMethod(ast, "literal_eval", "s", text);
		Py_DECREF(ast);
	}
	if (v != NULL && PyDict_Check(v)) {
		check_locals(v, text);
		return v;
	}
	Py_XDECREF(v);
	PyErr_Clear();
	cli_usage_error("argument --locals: expected a Python literal dict, "
	    "got '%s'", text);
}
