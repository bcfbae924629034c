/* What the files of cli/ share. One struct cli per process, made by
 * cli_parse() and read by the rest; the main thread only. */
#ifndef APYTHON_CLI_INTERNAL_H
#define APYTHON_CLI_INTERNAL_H

#include "cli/cli.h"
#include "serve/serve.h"

/* Exit statuses beyond the program's own. */
#define EXIT_USAGE	2	/* bad command line; a file that can't be opened */
#define EXIT_VENV	2	/* a virtualenv of another Python or interpreter */
#define EXIT_FINALIZE	120	/* Py_FinalizeEx failed, as python3 */

struct cli {
	/* apython's own options */
	const char	 *serve;
	const char	 *connect;
	const char	 *attach;		/* --attach PID */
	const char	 *ps;			/* --ps PID */
	const char	 *ps_name;		/* --ps's --name */
	int		  no_attach;		/* --no-attach */
	const char	 *banner;
	const char	 *locals;
	int		  no_readline;

	/* The target: at most one of command, module, file ("-": stdin). */
	const char	 *command;
	const char	 *module;
	const char	 *file;
	char		**args;		/* the program's own arguments */
	int		  nargs;

	/* python3's options, for PyPreConfig and PyConfig */
	int		  bytes_warning;	/* -b */
	int		  no_bytecode;		/* -B */
	int		  parser_debug;		/* -d */
	int		  ignore_env;		/* -E */
	int		  inspect;		/* -i */
	int		  isolated;		/* -I */
	int		  optimize;		/* -O */
	int		  safe_path;		/* -P */
	int		  quiet;		/* -q */
	int		  no_hash_seed;		/* -R */
	int		  no_site;		/* -S */
	int		  unbuffered;		/* -u */
	int		  verbose;		/* -v */
	int		  skip_first_line;	/* -x */
	const char	 *hash_pycs;		/* --check-hash-based-pycs */
	char		**warnoptions;		/* -W, in order */
	int		  nwarnoptions;
	char		**xoptions;		/* -X, in order */
	int		  nxoptions;

	char		**argv;		/* apython's own, for sys.orig_argv */
	int		  argc;
	struct serve_address served;		/* --serve, parsed */
	PyObject	 *locals_dict;		/* --locals, parsed */
	PyObject	 *apython;		/* the module apython */
	int		  sigint;		/* died of KeyboardInterrupt */
};

/* options.c */
void	 cli_usage_error(const char *, ...)
	     __attribute__((noreturn, format(printf, 1, 2)));

/* config.c */
void	 cli_python_start(const struct cli *, PyObject *(*)(void));
PyObject *cli_parse_locals(const char *);

/* venv.c */
void	 cli_check_venv(const struct cli *);
const char *cli_venv_python(char *, size_t);

/* target.c */
int	 cli_flag(const char *);
int	 cli_set_path0(const char *dir, int always);
int	 cli_exception_status(int *sigint);
int	 cli_run_target(const struct cli *, int *status);

#endif
