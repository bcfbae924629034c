/* Requests from any thread to the main thread: a bit in a word and
 * apython's real-time signal sent to the main thread, whose Python
 * handler (console/sigint.c) runs ctl_run_requests() with the GIL. */
#include "ctl/ctl.h"
#include "ctl/ctl-internal.h"
#include "sig/sig.h"

#include <errno.h>
#include <signal.h>

enum { CTL_NREQ = 2 };

static int	 pending;			/* bits asked, not run */
static int	(*request_fn[CTL_NREQ])(void);	/* main thread only */

/* Index of a request's bit (CTL_INTERRUPT: 0). */
static int
request_index(int request)
{
	int	i;

	for (i = 0; i < CTL_NREQ; i++)
		if (request == 1 << i)
			return i;
	return -1;
}

/* True when the real-time signal has a handler: without one, it would
 * kill the process. */
static int
request_deliverable(void)
{
	struct sigaction	cur;

	if (sigaction(sig_console_signal(), NULL, &cur) != 0)
		return 0;
	return !(cur.sa_flags & SA_SIGINFO) ? cur.sa_handler != SIG_DFL &&
	    cur.sa_handler != SIG_IGN : cur.sa_sigaction != NULL;
}

/* Set the bit, signal the main thread (async-signal-safe). */
void
ctl_ask_main(int request)
{
	int	saved = errno;

	__atomic_fetch_or(&pending, request, __ATOMIC_ACQ_REL);
	if (__atomic_load_n(&ctl_has_main, __ATOMIC_ACQUIRE) &&
	    request_deliverable())
		pthread_kill(ctl_main_thread, sig_console_signal());
	errno = saved;
}

/* request's function, for the main thread. */
void
ctl_on_request(int request, int (*fn)(void))
{
	int	i = request_index(request);

	if (i >= 0)
		request_fn[i] = fn;
}

/* Run the requests asked since the last run, lowest bit first. */
int
ctl_run_requests(void)
{
	int	bits = __atomic_exchange_n(&pending, 0, __ATOMIC_ACQ_REL);
	int	i, rest;

	for (i = 0; i < CTL_NREQ; i++) {
		if (!(bits & 1 << i) || request_fn[i] == NULL)
			continue;
		if (request_fn[i]() != 0) {
			rest = bits & ~((2 << i) - 1);
			if (rest != 0)
				ctl_ask_main(rest);
			return -1;
		}
	}
	return 0;
}

/* The bits asked and not run yet. */
int
ctl_pending(void)
{
	return __atomic_load_n(&pending, __ATOMIC_ACQUIRE);
}

/* In a forked child: nothing asked. */
void
ctl_requests_reset(void)
{
	__atomic_store_n(&pending, 0, __ATOMIC_RELEASE);
}
