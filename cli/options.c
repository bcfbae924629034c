/* apython's command line: python3's options (but -s, which is --serve
 * here) and apython's own, parsed with getopt_long. Parsing stops where
 * python3 stops: after -c CMD, -m MODULE, FILE or `-`. */
#include "cli/cli-internal.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <readline/readline.h>

#include "attach/attach.h"
#include "client/client.h"
#include "serve/serve.h"

/* -P (PyConfig.safe_path) is python3's since 3.11. */
#if PY_VERSION_HEX >= 0x030B0000
#define OPT_P		"P"
#else
#define OPT_P		""
#endif

static const char usage_text[] =
    "usage: apython [-bBdEhiIO" OPT_P "qRSuvVx] [-W ARG] [-X OPT]\n"
    "               [--check-hash-based-pycs MODE] [-s [HOST:]PORT|PATH]\n"
    "               [--no-readline] [--banner BANNER] [--locals LOCALS]\n"
    "               [-c CMD | -m MODULE | FILE | -] ...\n"
    "       apython [--no-readline] --connect [HOST:]PORT|PATH\n"
    "       apython [--no-readline] --attach PID\n"
    "       apython --ps PID [--name NAME]\n";

static const char help_text[] =
    "\n"
    "Run a Python program as python3 would, with an asynchronous console\n"
    "(top-level await) on its asyncio event loop. Without a program, run\n"
    "the console alone. python3's options act as in python3, but -s is\n"
    "--serve here (python3's -s: PYTHONNOUSERSITE=1).\n"
    "\n"
    "the program (the rest of the command line is its sys.argv[1:]):\n"
    "  -c CMD                program passed in as a string\n"
    "  -m MODULE             run a library module as a script\n"
    "  FILE                  the Python program to run (a directory or zip\n"
    "                        file: its __main__.py)\n"
    "  -                     read the program from standard input (then\n"
    "                        there is no console on the terminal)\n"
    "\n"
    "apython's options:\n"
    "  -h, --help            show this help and exit\n"
    "  -V, --version         show the version and exit (-VV: and python3's\n"
    "                        -VV line)\n"
    "  -s, --serve [HOST:]PORT|PATH\n"
    "                        serve the console on a TCP port (loopback\n"
    "                        unless HOST is given) or a unix socket PATH\n"
    "  --connect [HOST:]PORT|PATH\n"
    "                        use a console served there\n"
    "  --attach PID          a console inside the running apython program\n"
    "                        PID (of your user), on the loop it runs\n"
    "  --ps PID              print the asyncio tasks of the apython program\n"
    "                        PID as a tree, with their stacks\n"
    "  --name NAME           with --ps: only the tasks whose name has NAME\n"
    "  --no-attach           this program may not be attached (--attach,\n"
    "                        --ps); also APYTHON_NO_ATTACH=1\n"
    "  --no-readline         read plain lines, without line editing\n"
    "  --banner BANNER       the console's banner\n"
    "  --locals LOCALS       a Python literal dict of names (not asyncio or\n"
    "                        loop) added to the console's namespace\n"
    "\n"
    "python3's options:\n"
    "  -b                    warn about str(bytes) and bytes == str (-bb:\n"
    "                        errors)\n"
    "  -B                    don't write .pyc files\n"
    "  -d                    parser debugging output\n"
    "  -E                    ignore PYTHON* environment variables\n"
    "  -i                    after the program, a console on its globals\n"
    "                        (also when PYTHONINSPECT is set)\n"
    "  -I                    isolate from the user's environment (-E"
#if PY_VERSION_HEX >= 0x030B0000
    ", -P\n"
    "                        and no user site-packages)\n"
#else
    " and\n"
    "                        no user site-packages)\n"
#endif
    "  -O                    remove assert and __debug__ code (-OO: and\n"
    "                        docstrings)\n"
#if PY_VERSION_HEX >= 0x030B0000
    "  -P                    don't put the script's directory (or the\n"
    "                        current one) first in sys.path\n"
#endif
    "  -q                    no banner\n"
    "  -R                    a random hash seed, even if PYTHONHASHSEED\n"
    "                        is set\n"
    "  -S                    don't import site\n"
    "  -u                    unbuffered binary stdout and stderr\n"
    "  -v                    trace imports (-vv: more)\n"
    "  -W ARG                a warning filter (see python3 -W)\n"
    "  -x                    skip the first line of FILE\n"
    "  -X OPT                an implementation-specific option (see\n"
    "                        python3 -X; -X dev and -X utf8 included)\n"
    "  --check-hash-based-pycs always|default|never\n"
    "                        how to check hash-based .pyc files\n";

/* apython's long-only options. */
enum {
	OPT_CONNECT = 256, OPT_NO_READLINE, OPT_BANNER, OPT_LOCALS,
	OPT_HASH_PYCS, OPT_ATTACH, OPT_PS, OPT_NAME, OPT_NO_ATTACH
};

/* Say what is wrong with the command line, argparse-style, and exit. */
void
cli_usage_error(const char *fmt, ...)
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

/* Print the version of apython and of what it is built on; -VV adds
 * python3's own -VV line. */
static void __attribute__((noreturn))
print_version(int level)
{
	char	py[32];

	snprintf(py, sizeof py, "%s", Py_GetVersion());
	py[strcspn(py, " ")] = '\0';
	printf("apython %s (Python %s, libevent %s, readline %s)\n",
	    APYTHON_VERSION, py, event_get_version(), rl_library_version);
	if (level > 1)
		printf("Python %s\n", Py_GetVersion());
	exit(0);
}

/* --connect: be the client of a served console, without Python. */
static void __attribute__((noreturn))
connect_console(const struct cli *o)
{
	struct serve_address	a;

	if (o->serve != NULL || o->module != NULL || o->file != NULL ||
	    o->command != NULL || o->banner != NULL || o->locals != NULL)
		cli_usage_error("argument --connect: not allowed with --serve, "
		    "--banner, --locals, -c, -m or FILE");
	if (serve_parse_address(o->connect, &a) != 0)
		cli_usage_error("'%s' is not a valid server [HOST:]PORT",
		    o->connect);
	exit(client_main(&a, o->no_readline));
}

/* A process id given to --attach or --ps. */
static pid_t
parse_pid(const char *opt, const char *s)
{
	char	*end;
	long	 pid;

	errno = 0;
	pid = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || pid <= 0 ||
	    pid > INT_MAX)
		cli_usage_error("argument %s: '%s' is not a process id", opt, s);
	return (pid_t)pid;
}

/* --attach PID or --ps PID: attach to a program, without Python. */
static void __attribute__((noreturn))
attach_command(const struct cli *o)
{
	const char	*opt = o->attach != NULL ? "--attach" : "--ps";

	if (o->attach != NULL && o->ps != NULL)
		cli_usage_error("argument --attach: not allowed with --ps");
	if (o->serve != NULL || o->connect != NULL || o->module != NULL ||
	    o->file != NULL || o->command != NULL || o->banner != NULL ||
	    o->locals != NULL)
		cli_usage_error("argument %s: not allowed with --serve, "
		    "--connect, --banner, --locals, -c, -m or FILE", opt);
	if (o->attach != NULL)
		exit(attach_console(parse_pid(opt, o->attach),
		    o->no_readline));
	exit(attach_ps(parse_pid(opt, o->ps), o->ps_name));
}

/* Append s to the list *v of *n (room for argc was made). */
static void
push(char ***v, int *n, int argc, char *s)
{
	if (*v == NULL && (*v = calloc(argc, sizeof **v)) == NULL)
		abort();
	(*v)[(*n)++] = s;
}

/* Take one python3 option that has no argument; 0 if c is none. */
static int
python_flag(struct cli *o, int c)
{
	int	*flag;

	switch (c) {
	case 'b': flag = &o->bytes_warning; break;
	case 'B': flag = &o->no_bytecode; break;
	case 'd': flag = &o->parser_debug; break;
	case 'E': flag = &o->ignore_env; break;
	case 'i': flag = &o->inspect; break;
	case 'I': flag = &o->isolated; break;
	case 'O': flag = &o->optimize; break;
	case 'P': flag = &o->safe_path; break;
	case 'q': flag = &o->quiet; break;
	case 'R': flag = &o->no_hash_seed; break;
	case 'S': flag = &o->no_site; break;
	case 'u': flag = &o->unbuffered; break;
	case 'v': flag = &o->verbose; break;
	case 'x': flag = &o->skip_first_line; break;
	default: return 0;
	}
	(*flag)++;
	return 1;
}

/* Check --check-hash-based-pycs's value as python3 does. */
static void
check_hash_pycs(const char *mode)
{
	if (strcmp(mode, "always") != 0 && strcmp(mode, "never") != 0 &&
	    strcmp(mode, "default") != 0)
		cli_usage_error("--check-hash-based-pycs must be one of "
		    "'default', 'always', or 'never'");
}

/* Take apython's own option c (with optarg); 0 if c is none. */
static int
own_option(struct cli *o, int c, int *version)
{
	switch (c) {
	case 'h':
		fputs(usage_text, stdout);
		fputs(help_text, stdout);
		exit(0);
	case 'V':
		(*version)++;
		break;
	case 's':
		o->serve = optarg;
		break;
	case OPT_CONNECT:
		o->connect = optarg;
		break;
	case OPT_NO_READLINE:
		o->no_readline = 1;
		break;
	case OPT_BANNER:
		o->banner = optarg;
		break;
	case OPT_LOCALS:
		o->locals = optarg;
		break;
	case OPT_ATTACH:
		o->attach = optarg;
		break;
	case OPT_PS:
		o->ps = optarg;
		break;
	case OPT_NAME:
		o->ps_name = optarg;
		break;
	case OPT_NO_ATTACH:
		o->no_attach = 1;
		break;
	default:
		return 0;
	}
	return 1;
}

/* An option getopt did not take: a usage error. */
static void __attribute__((noreturn))
bad_option(int c, char **argv)
{
	if (c == ':')
		cli_usage_error("argument %s: expected one argument",
		    argv[optind - 1]);
	if (optopt != 0)
		cli_usage_error("unrecognized option '-%c'", optopt);
	cli_usage_error("unrecognized option '%s'", argv[optind - 1]);
}

/* Parse the command line; the program's own arguments are left alone. */
struct cli *
cli_parse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "serve", required_argument, NULL, 's' },
		{ "connect", required_argument, NULL, OPT_CONNECT },
		{ "no-readline", no_argument, NULL, OPT_NO_READLINE },
		{ "banner", required_argument, NULL, OPT_BANNER },
		{ "locals", required_argument, NULL, OPT_LOCALS },
		{ "attach", required_argument, NULL, OPT_ATTACH },
		{ "ps", required_argument, NULL, OPT_PS },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "no-attach", no_argument, NULL, OPT_NO_ATTACH },
		{ "check-hash-based-pycs", required_argument, NULL,
		    OPT_HASH_PYCS },
		{ NULL, 0, NULL, 0 }
	};
	struct cli	*o;
	int		 c, version = 0;

	if ((o = calloc(1, sizeof *o)) == NULL)
		abort();
	o->argv = argv;
	o->argc = argc;
	opterr = 0;
	while (o->module == NULL && o->command == NULL && (c = getopt_long(argc,
	    argv, "+:bBc:dEhiIm:O" OPT_P "qRs:SuvVW:xX:", longopts, NULL)) != -1) {
		if (python_flag(o, c) || own_option(o, c, &version))
			continue;
		switch (c) {
		case 'c':
			o->command = optarg;
			break;
		case 'm':
			o->module = optarg;
			break;
		case 'W':
			push(&o->warnoptions, &o->nwarnoptions, argc, optarg);
			break;
		case 'X':
			push(&o->xoptions, &o->nxoptions, argc, optarg);
			break;
		case OPT_HASH_PYCS:
			check_hash_pycs(optarg);
			o->hash_pycs = optarg;
			break;
		default:
			bad_option(c, argv);
		}
	}
	if (version) {
		cli_check_venv(o);	/* the version of the build that runs it */
		print_version(version);
	}
	if (o->module == NULL && o->command == NULL && optind < argc)
		o->file = argv[optind++];
	o->args = argv + optind;
	o->nargs = argc - optind;
	if (o->attach != NULL || o->ps != NULL)
		attach_command(o);
	if (o->ps_name != NULL)
		cli_usage_error("argument --name: only with --ps");
	if (o->connect != NULL)
		connect_console(o);
	return o;
}
