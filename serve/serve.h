/* serve/: the console served on TCP and unix sockets
 * (apython.start_console_server and --serve). */
#ifndef APYTHON_SERVE_H
#define APYTHON_SERVE_H

#include "compat.h"
#include "proto/proto.h"

/* --serve: listen now, follow the program's loops, close at exit. */
int	 serve_start(const struct serve_address *, const char *banner,
	     PyObject *locals, char **cause);
int	 serve_run_alone(void);
void	 serve_shutdown(void);
int	 serve_add_to_module(PyObject *module);

/* --attach and --ps, the program's side (attach.c): started in every
 * program (off: --no-attach; APYTHON_NO_ATTACH is read there). */
int	 serve_attach_start(int off);
void	 serve_attach_shutdown(void);

#endif
