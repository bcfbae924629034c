/* apython: run a Python program as python3 would, on a libevent asyncio
 * loop, with an asynchronous console on that loop. The command line and
 * the run are cli/'s; the built-in module `apython` is ext/'s. */
#include "compat.h"

#include "cli/cli.h"
#include "ext/ext.h"
#include "sig/sig.h"

int
main(int argc, char **argv)
{
	struct cli	*cli;
	int		 status;

	cli = cli_parse(argc, argv);
	sig_setup();		/* before Python installs its handlers */
	cli_start(cli, ext_builtin_init);
	status = cli_run(cli);
	return cli_finish(cli, status);
}
