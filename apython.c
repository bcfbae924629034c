/* apython: run a Python program as python3 would, on a libevent asyncio
 * loop, with an asynchronous console on that loop. The command line and
 * the run are cli/'s; this file adds the built-in module `apython`. */
#include "compat.h"

#include "cli/cli.h"
#include "console/console.h"
#include "loop/loop.h"
#include "serve/serve.h"
#include "sig/sig.h"

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

int
main(int argc, char **argv)
{
	struct cli	*cli;
	int		 status;

	cli = cli_parse(argc, argv);
	sig_setup();		/* before Python installs its handlers */
	cli_start(cli, module_init);
	status = cli_run(cli);
	return cli_finish(cli, status);
}
