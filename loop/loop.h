/* loop/: the asyncio event loop on libevent (apython.Loop) and its policy.
 * What other folders may call; loop/'s own files share loop-internal.h. */
#ifndef APYTHON_LOOP_H
#define APYTHON_LOOP_H

#include "compat.h"

/* What an observer learns from the loops (observe.c). */
struct loop_observer {
	/* A loop the policy made in the main thread starts running: -1
	 * with an exception stops run_forever(). */
	int	(*on_run)(PyObject *loop);
	/* A loop that is not running is about to close. */
	void	(*on_close)(PyObject *loop);
};

int	 loop_observe(const struct loop_observer *);
int	 loop_add_to_module(PyObject *module);
int	 loop_install_policy(PyObject *module);

#endif
