/* loop/: the asyncio event loop on libevent (apython.Loop) and its policy.
 * What other folders may call; loop/'s own files share loop-internal.h. */
#ifndef APYTHON_LOOP_H
#define APYTHON_LOOP_H

#include "compat.h"

/* What an observer learns from the loops (observe.c). */
struct loop_observer {
	/* A loop starts running in the main thread, whatever its class
	 * (apython's, uvloop's, asyncio's own) and however it was made:
	 * told at every run_forever() (each run_until_complete()), so
	 * nothing to do must cost little. -1 with an exception is reported,
	 * and the loop runs on (KeyboardInterrupt and SystemExit come out
	 * of run_forever()). */
	int	(*on_run)(PyObject *loop);
	/* An apython loop that is not running is about to close. Other
	 * loops have no close hook: an observer finds them closed
	 * (is_closed()) when the next loop runs, or when the program ends. */
	void	(*on_close)(PyObject *loop);
};

int	 loop_observe(const struct loop_observer *);

/* How long the apython loop running in the main thread has been held by
 * its current pass: seconds since it last came back from a blocking wait
 * for I/O or a timer, or began running its expired timers and ready
 * callbacks, whichever is later. 0 while it is blocked in that wait; -1
 * when no apython loop runs (run_forever()) in the main thread. A loop
 * that turns keeps it below its slowest pass; a callback that holds the
 * loop makes it grow. Any thread, without the GIL, async-signal-safe: an
 * atomic load and a clock_gettime(). */
double	 loop_stuck_seconds(void);

/* Whether loop is one of apython's (its own epoll set in a forked
 * child, loop/fork.c); other loops' may be shared with the parent. */
int	 loop_is_apython(PyObject *loop);

int	 loop_add_to_module(PyObject *module);
int	 loop_install(PyObject *module);

#endif
