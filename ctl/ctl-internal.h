/* ctl/: what ctl.c and request.c share.
 *
 * Ownership: ctl_state.lock guards the watch table, the timer list and
 * running; the control thread alone reads epfd's events and runs the
 * callbacks, outside the lock. The main thread's id is written by
 * ctl_start() and the at-fork child handler (no other thread runs then)
 * and read by ctl_ask_main() from any thread or signal handler. */
#ifndef APYTHON_CTL_INTERNAL_H
#define APYTHON_CTL_INTERNAL_H

#include <pthread.h>

/* The main thread, once ctl_start() ran (has_main). */
extern pthread_t	ctl_main_thread;
extern int		ctl_has_main;

/* A forked child forgets the requests of its parent. */
void	 ctl_requests_reset(void);

#endif
