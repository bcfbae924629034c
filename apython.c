/* apython: run a Python program as python3 would, on a libevent asyncio
 * loop, with an asynchronous console on that loop. */
#include "compat.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <readline/readline.h>

#include "client/client.h"
#include "console/console.h"
#include "loop/loop.h"
#include "serve/serve.h"
#include "sig/sig.h"

struct options {
	const char	 *serve;
	const char	 *connect;
	const char	 *banner;
	const char	 *locals;
	const char	 *module;
	const char	 *file;
	int		  no_readline;
	char		**args;		/* the program's own arguments */
	int		  nargs;
};

/* Exit statuses beyond the program's own. */
#define EXIT_USAGE	2
#define EXIT_FINALIZE	120

static const char usage_text[] =
    "usage: apython [-h] [-V] [-s [HOST:]PORT|PATH] [--no-readline]\n"
    "               [--banner BANNER] [--locals LOCALS]\n"
    "               [-m MODULE | FILE] ...\n"
    "       apython [--no-readline] --connect [HOST:]PORT|PATH\n";

static const char help_text[] =
    "\n"
    "Run a Python program as python3 would, with an asynchronous console\n"
    "(top-level await) on its asyncio event loop. Without a program, run\n"
    "the console alone.\n"
    "\n"
    "positional arguments:\n"
    "  FILE                  the Python program to run\n"
    "  ...                   the program's arguments, passed untouched\n"
    "\n"
    "options:\n"
    "  -h, --help            show this help and exit\n"
    "  -V, --version         show the version and exit\n"
    "  -s, --serve [HOST:]PORT|PATH\n"
    "                        serve the console on a TCP port (loopback\n"
    "                        unless HOST is given) or a unix socket PATH\n"
    "  --connect [HOST:]PORT|PATH\n"
    "                        use a console served there\n"
    "  --no-readline         read plain lines, without line editing\n"
    "  --banner BANNER       the console's banner\n"
    "  --locals LOCALS       a Python literal dict added to the console's\n"
    "                        namespace\n"
    "  -m MODULE             run a library module as a script\n";

/* Say what is wrong with the command line, argparse-style, and exit. */
static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list	ap;

	fputs(usage_text, stderr);
	fputs("apython: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_USAGE);
}

/* Print the version of apython and of what it is built on. */
static void
print_version(void)
{
	char	py[32];

	snprintf(py, sizeof py, "%s", Py_GetVersion());
	py[strcspn(py, " ")] = '\0';
	printf("apython %s (Python %s, libevent %s, readline %s)\n",
	    APYTHON_VERSION, py, event_get_version(), rl_library_version);
}

/* Parse the command line; the program's own arguments are left alone. */
static void
parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "serve", required_argument, NULL, 's' },
		{ "connect", required_argument, NULL, 'C' },
		{ "no-readline", no_argument, NULL, 'R' },
		{ "banner", required_argument, NULL, 'B' },
		{ "locals", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 }
	};
	int	c;

	memset(o, 0, sizeof *o);
	opterr = 0;
	while (o->module == NULL &&
	    (c = getopt_long(argc, argv, "+:hVs:m:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage_text, stdout);
			fputs(help_text, stdout);
			exit(0);
		case 'V':
			print_version();
			exit(0);
		case 's':
			o->serve = optarg;
			break;
		case 'C':
			o->connect = optarg;
			break;
		case 'R':
			o->no_readline = 1;
			break;
		case 'B':
			o->banner = optarg;
			break;
		case 'L':
			o->locals = optarg;
			break;
		case 'm':
			o->module = optarg;
			break;
		case ':':
			usage_error("argument %s: expected one argument",
			    argv[optind - 1]);
		default:
			if (optopt != 0)
				usage_error("unrecognized option '-%c'", optopt);
			usage_error("unrecognized option '%s'", argv[optind - 1]);
		}
	}
	if (o->module == NULL && optind < argc)
		o->file = argv[optind++];
	o->args = argv + optind;
	o->nargs = argc - optind;
}

/* Check --serve now, so a typo fails before the program starts. */
static void
check_serve(const char *spec, struct serve_address *a)
{
	if (serve_parse_address(spec, a) != 0)
		usage_error("'%s' is not a valid server [HOST:]PORT", spec);
}

/* --connect: be the client of a served console, without Python. */
static void __attribute__((noreturn))
connect_console(const struct options *o)
{
	struct serve_address	a;

	if (o->serve != NULL || o->module != NULL || o->file != NULL ||
	    o->banner != NULL || o->locals != NULL)
		usage_error("argument --connect: not allowed with --serve, "
		    "--banner, --locals, -m or FILE");
	if (serve_parse_address(o->connect, &a) != 0)
		usage_error("'%s' is not a valid server [HOST:]PORT",
		    o->connect);
	exit(client_main(&a, o->no_readline));
}

static struct PyModuleDef module_def = {
	PyModuleDef_HEAD_INIT, "apython",
	"apython's native parts: the libevent event loop and the console.",
	-1, NULL, NULL, NULL, NULL, NULL
};

/* The built-in module `apython`. */
static PyObject *
module_init(void)
{
	PyObject	*m;

	if ((m = PyModule_Create(&module_def)) == NULL)
		return NULL;
	if (PyModule_AddStringConstant(m, "__version__", APYTHON_VERSION) ||
	    loop_add_to_module(m) != 0 || console_add_to_module(m) != 0 ||
	    serve_add_to_module(m) != 0)
		Py_CLEAR(m);
	return m;
}

/* The interpreter apython stands in for: an active virtualenv's, so
 * that its packages are found, else the one apython was built with. */
static const char *
python_program(char *buf, size_t len)
{
	const char	*venv = getenv("VIRTUAL_ENV");

	if (venv != NULL && *venv != '\0') {
		snprintf(buf, len, "%s/bin/python3", venv);
		if (access(buf, X_OK) == 0)
			return buf;
	}
	return APYTHON_PYTHON;
}

/* Start CPython with sys.argv as python3 would set it. */
static void
python_start(const struct options *o)
{
	PyConfig	  config;
	PyStatus	  status;
	char		  prog[PATH_MAX], **argv;
	const char	 *first = "";
	int		  i, n = 0;

	if ((argv = calloc(o->nargs + 2, sizeof *argv)) == NULL)
		abort();
	if (o->module != NULL)
		first = "-m";
	else if (o->file != NULL)
		first = o->file;
	argv[n++] = (char *)first;
	for (i = 0; i < o->nargs; i++)
		argv[n++] = o->args[i];
	PyImport_AppendInittab("apython", module_init);
	PyConfig_InitPythonConfig(&config);
	config.parse_argv = 0;
	status = PyConfig_SetBytesString(&config, &config.program_name,
	    python_program(prog, sizeof prog));
	if (!PyStatus_Exception(status))
		status = PyConfig_SetBytesArgv(&config, n, argv);
	if (!PyStatus_Exception(status))
		status = Py_InitializeFromConfig(&config);
	PyConfig_Clear(&config);
	free(argv);
	if (PyStatus_Exception(status))
		Py_ExitStatusException(status);
}

/* sys.path[0] as python3 sets it, unless PYTHONSAFEPATH says not to. */
static int
set_path0(const char *dir)
{
	PyObject	*path, *d, *safe;
	PyObject	*flags = PySys_GetObject("flags");
	int		 r;

	if (flags != NULL && (safe = PyObject_GetAttrString(flags, "safe_path"))) {
		r = PyObject_IsTrue(safe);
		Py_DECREF(safe);
		if (r != 0)
			return r < 0 ? -1 : 0;
	}
	PyErr_Clear();		/* no safe_path before 3.11 */
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

/* --locals: a Python literal dict, or a usage error. */
static PyObject *
parse_locals(const char *text)
{
	PyObject	*ast, *v = NULL;

	if ((ast = PyImport_ImportModule("ast")) != NULL) {
		v = PyObject_CallMethod(ast, "literal_eval", "s", text);
		Py_DECREF(ast);
	}
	if (v != NULL && PyDict_Check(v))
		return v;
	Py_XDECREF(v);
	PyErr_Clear();
	usage_error("argument --locals: expected a Python literal dict, "
	    "got '%s'", text);
}

/* The exit status for the exception that ended the program, printed as
 * python3 would; *sigint is set for an unhandled KeyboardInterrupt. */
static int
exception_status(int *sigint)
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

/* Say why runpy cannot run module name (the exception set), as python3
 * says it. */
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

/* Whether runpy finds module name (1), or says why not (0, *status
 * set); -1 with exception. A runpy without _Error is not asked. */
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
	r = PyObject_CallMethod(runpy, "_get_module_details", "sO", name,
	    err);
	if (r == NULL && PyErr_ExceptionMatches(err)) {
		module_error(name);
		*status = 1;
		missing = 1;
	}
	Py_DECREF(err);
	if (r == NULL)
		return missing ? 0 : -1;
	Py_DECREF(r);
	return 1;
}

/* Run -m MODULE through runpy as python3 does; a module that cannot be
 * found is python3's one-line message and status 1. */
static int
run_module(const char *name, int alter_argv, int *status)
{
	PyObject	*runpy, *r = NULL;
	int		 found = 1;

	if ((runpy = PyImport_ImportModule("runpy")) == NULL)
		return -1;
	if (alter_argv)
		found = module_found(runpy, name, status);
	if (found == 1)
		r = PyObject_CallMethod(runpy, "_run_module_as_main", "si",
		    name, alter_argv);
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

/* Run FILE in __main__ as python3 does (a directory or zip through its
 * __main__ module); *status is set when it cannot be opened. */
static int
run_file(const char *file, int *status)
{
	PyCompilerFlags	 cf = _PyCompilerFlags_INIT;
	PyObject	*main_mod, *d, *name, *r;
	char		*path, real[PATH_MAX], *slash;
	struct stat	 st;
	FILE		*fp = NULL;
	char		 magic[2];

	if ((path = script_path(file)) == NULL)
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
		r = set_path0(path) == 0 ? Py_None : NULL;
		free(path);
		return r == NULL ? -1 : run_module("__main__", 0, status);
	}
	rewind(fp);
	if (realpath(path, real) != NULL && (slash = strrchr(real, '/'))) {
		*slash = '\0';
		if (set_path0(real[0] ? real : "/") != 0)
			goto fail;
	}
	main_mod = PyImport_AddModule("__main__");
	d = main_mod ? PyModule_GetDict(main_mod) : NULL;
	name = PyUnicode_DecodeFSDefault(path);
	if (d == NULL || name == NULL || PyDict_SetItemString(d, "__file__",
	    name) != 0 || PyDict_SetItemString(d, "__cached__", Py_None)) {
		Py_XDECREF(name);
		goto fail;
	}
	Py_DECREF(name);
	r = PyRun_FileExFlags(fp, path, Py_file_input, d, d, 1, &cf);
	free(path);
	Py_XDECREF(r);
	return r == NULL ? -1 : 0;
fail:
	fclose(fp);
	free(path);
	return -1;
}

/* Run the target, or the console alone; the exit status. */
static int
run(const struct options *o, int *sigint)
{
	char	cwd[PATH_MAX];
	int	status = 0, r;

	if (o->module != NULL) {
		if (getcwd(cwd, sizeof cwd) == NULL || set_path0(cwd) != 0)
			return exception_status(sigint);
		r = run_module(o->module, 1, &status);
	} else if (o->file != NULL)
		r = run_file(o->file, &status);
	else if (set_path0("") != 0)
		r = -1;
	else if (o->serve != NULL)
		r = serve_run_alone();
	else
		r = console_run_alone();
	return r == 0 ? status : exception_status(sigint);
}

/* --serve: the console on a socket, not on the terminal; the status. */
static int
serve(const struct options *o, const struct serve_address *a,
    PyObject *locals, int *sigint)
{
	char	*cause = NULL;

	if (serve_start(a, o->banner, locals, &cause) == 0)
		return run(o, sigint);
	if (cause == NULL)
		return exception_status(sigint);
	fprintf(stderr, "apython: error: %s\n", cause);
	free(cause);
	return EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	struct console_options	 co = { 0 };
	struct serve_address	 served;
	struct options		 o;
	PyObject		*module, *locals = NULL;
	int			 status, sigint = 0;

	parse_options(argc, argv, &o);
	if (o.connect != NULL)
		connect_console(&o);
	sig_setup();
	if (o.serve != NULL)
		check_serve(o.serve, &served);
	python_start(&o);
	if (o.locals != NULL)
		locals = parse_locals(o.locals);
	co.banner = o.banner;
	co.locals = locals;
	co.no_readline = o.no_readline;
	co.has_target = o.module != NULL || o.file != NULL;
	module = PyImport_ImportModule("apython");
	if (module == NULL || loop_install(module) != 0)
		status = exception_status(&sigint);
	else if (o.serve != NULL)
		status = serve(&o, &served, locals, &sigint);
	else if (console_setup(&co) != 0)
		status = exception_status(&sigint);
	else
		status = run(&o, &sigint);
	Py_XDECREF(module);
	Py_XDECREF(locals);
	serve_shutdown();
	console_shutdown();
	if (Py_FinalizeEx() < 0)
		status = EXIT_FINALIZE;
	if (sigint) {
		signal(SIGINT, SIG_DFL);
		kill(getpid(), SIGINT);
	}
	return status;
}
