/* SIGINT with apython's handler in front: the interposed sigaction() and
 * signal(), and the handler that tells a typed Ctrl-C from the others.
 * See sig.h for the model. */
#include "sig/sig.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

typedef int sigaction_fn(int, const struct sigaction *, struct sigaction *);
typedef sighandler_t signal_fn(int, sighandler_t);

enum { CLAIM_NONE, CLAIM_TYPED, CLAIM_ALL };

static int active;			/* sig_setup() ran: SIGINT is ours */

#ifndef SIG_NOT_INTERPOSED
static sigaction_fn *real_sigaction;	/* the next one: libc's (or ASan's) */
static signal_fn *real_signal;

/*
 * The program's SIGINT action. The handler (any thread) reads the slot
 * prog_cur names; a writer fills the other slot and then publishes it,
 * holding prog_lock with SIGINT blocked in its thread.
 */
static struct sigaction prog[2];
static int prog_cur;
static pthread_mutex_t prog_lock = PTHREAD_MUTEX_INITIALIZER;
#endif

/* The console's claim; console_act is written only while unclaimed. */
static int claim;
static struct sigaction console_act;
static void (*death_hook)(void);
static int console_sigints;		/* handed to the console, not taken */
static unsigned program_sigints;	/* handed to a program's handler */
static unsigned console_raises;	/* KeyboardInterrupts the console set */

#ifdef SIG_NOT_INTERPOSED
/* libc's sigaction(): this build defines none of its own. */
static int
sig_real(int sig, const struct sigaction *act, struct sigaction *old)
{
	return sigaction(sig, act, old);
}
#else
/* libc's sigaction(), found once. */
static int
sig_real(int sig, const struct sigaction *act, struct sigaction *old)
{
	sigaction_fn	*f = __atomic_load_n(&real_sigaction, __ATOMIC_ACQUIRE);

	if (f == NULL) {
		f = (sigaction_fn *)dlsym(RTLD_NEXT, "sigaction");
		if (f == NULL) {
			errno = ENOSYS;
			return -1;
		}
		__atomic_store_n(&real_sigaction, f, __ATOMIC_RELEASE);
	}
	return f(sig, act, old);
}
#endif

#ifndef SIG_NOT_INTERPOSED
/* Call a's handler for sig (neither SIG_DFL nor SIG_IGN). */
static void
sig_call(const struct sigaction *a, int sig, siginfo_t *si, void *uc)
{
	if (a->sa_flags & SA_SIGINFO)
		a->sa_sigaction(sig, si, uc);
	else
		a->sa_handler(sig);
}

/* Die of SIGINT, as SIG_DFL does. */
static void
sig_die(void)
{
	void	(*hook)(void);

	if ((hook = __atomic_load_n(&death_hook, __ATOMIC_ACQUIRE)) != NULL)
		hook();
	sig_raise_default(SIGINT, NULL);
}

/* SA_RESETHAND: the program's action is SIG_DFL from now on. */
static void
sig_reset_program(void)
{
	int	next = !__atomic_load_n(&prog_cur, __ATOMIC_ACQUIRE);

	memset(&prog[next], 0, sizeof prog[next]);
	prog[next].sa_handler = SIG_DFL;
	sigemptyset(&prog[next].sa_mask);
	__atomic_store_n(&prog_cur, next, __ATOMIC_RELEASE);
}

/* Hand a SIGINT to the program's action. */
static void
sig_forward(siginfo_t *si, void *uc)
{
	struct sigaction	a;

	a = prog[__atomic_load_n(&prog_cur, __ATOMIC_ACQUIRE)];
	if (a.sa_handler == SIG_IGN)
		return;
	if (a.sa_handler == SIG_DFL) {
		sig_die();
		return;
	}
	if (a.sa_flags & SA_RESETHAND)
		sig_reset_program();
	__atomic_fetch_add(&program_sigints, 1, __ATOMIC_ACQ_REL);
	sig_call(&a, SIGINT, si, uc);
}

/* Our SIGINT handler: a typed Ctrl-C the console claimed goes to its
 * handler, every other SIGINT to the program's action. */
static void
sig_on_int(int sig, siginfo_t *si, void *uc)
{
	int	saved = errno, c = __atomic_load_n(&claim, __ATOMIC_ACQUIRE);

	(void)sig;
	if (c == CLAIM_ALL ||
	    (c == CLAIM_TYPED && si != NULL && si->si_code == SI_KERNEL)) {
		__atomic_fetch_add(&console_sigints, 1, __ATOMIC_ACQ_REL);
		sig_call(&console_act, sig_console_signal(), si, uc);
	}
	else
		sig_forward(si, uc);
	errno = saved;
}

/* What the kernel gets for the program's action p: SIG_IGN as it is
 * (inherited across exec), else our handler with p's mask and flags. */
static void
sig_kernel_action(const struct sigaction *p, struct sigaction *k)
{
	memset(k, 0, sizeof *k);
	if (p->sa_handler == SIG_IGN) {
		k->sa_handler = SIG_IGN;
		sigemptyset(&k->sa_mask);
		return;
	}
	k->sa_sigaction = sig_on_int;
	k->sa_mask = p->sa_mask;
	k->sa_flags = SA_SIGINFO |
	    (p->sa_flags & (SA_RESTART | SA_ONSTACK | SA_NODEFER));
}

/* sigaction(SIGINT, act, old) for the program: old is what it set last;
 * act becomes its action, and the kernel gets ours for it. */
static int
sig_set_program(const struct sigaction *act, struct sigaction *old)
{
	struct sigaction	a, k;
	sigset_t		block, saved;
	int			cur, r = 0, e;

	if (act != NULL)
		a = *act;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, &saved);
	pthread_mutex_lock(&prog_lock);
	cur = __atomic_load_n(&prog_cur, __ATOMIC_ACQUIRE);
	if (old != NULL)
		*old = prog[cur];
	if (act != NULL) {
		sig_kernel_action(&a, &k);
		if ((r = sig_real(SIGINT, &k, NULL)) == 0) {
			prog[!cur] = a;
			__atomic_store_n(&prog_cur, !cur, __ATOMIC_RELEASE);
		}
	}
	e = errno;
	pthread_mutex_unlock(&prog_lock);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	errno = e;
	return r;
}

/* The program's sigaction(): SIGINT is recorded, the rest is libc's. */
int
sigaction(int sig, const struct sigaction *restrict act,
    struct sigaction *restrict old)
{
	if (sig == SIGINT && __atomic_load_n(&active, __ATOMIC_ACQUIRE))
		return sig_set_program(act, old);
	return sig_real(sig, act, old);
}

/* The program's signal(): BSD semantics, as glibc's. */
sighandler_t
signal(int sig, sighandler_t handler)
{
	struct sigaction	sa, old;
	signal_fn		*f;

	if (sig != SIGINT || !__atomic_load_n(&active, __ATOMIC_ACQUIRE)) {
		f = __atomic_load_n(&real_signal, __ATOMIC_ACQUIRE);
		if (f == NULL) {
			if ((f = (signal_fn *)dlsym(RTLD_NEXT, "signal")) ==
			    NULL)
				return SIG_ERR;
			__atomic_store_n(&real_signal, f, __ATOMIC_RELEASE);
		}
		return f(sig, handler);
	}
	if (handler == SIG_ERR) {
		errno = EINVAL;
		return SIG_ERR;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, sig);
	sa.sa_flags = SA_RESTART;
	if (sig_set_program(&sa, &old) != 0)
		return SIG_ERR;
	return old.sa_handler;
}

/* A forked child has no console of ours. */
static void
sig_fork_child(void)
{
	__atomic_store_n(&claim, CLAIM_NONE, __ATOMIC_RELEASE);
	__atomic_store_n(&console_sigints, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&prog_lock);
}

/* fork() holds prog_lock, so that no child starts with it taken. */
static void
sig_fork_prepare(void)
{
	pthread_mutex_lock(&prog_lock);
}

static void
sig_fork_parent(void)
{
	pthread_mutex_unlock(&prog_lock);
}

/* Put our handler in front of SIGINT; the action found is the
 * program's. Runs in the main thread before any other thread exists. */
void
sig_setup(void)
{
	struct sigaction	cur, k;

	if (active || sig_real(SIGINT, NULL, &cur) != 0)
		return;
	prog[0] = cur;
	sig_kernel_action(&cur, &k);
	if (sig_real(SIGINT, &k, NULL) != 0)
		return;
	pthread_atfork(sig_fork_prepare, sig_fork_parent, sig_fork_child);
	__atomic_store_n(&active, 1, __ATOMIC_RELEASE);
}
#else
/* Not interposed: nothing to set up, SIGINT stays the interpreter's. */
void
sig_setup(void)
{
}
#endif

/* apython's one real-time signal. */
int
sig_console_signal(void)
{
	return SIGRTMAX;
}

/* Typed Ctrl-Cs (all SIGINTs if all) go to the console's handler. */
int
sig_console_claim(int all)
{
	if (!__atomic_load_n(&active, __ATOMIC_ACQUIRE))
		return -1;
	sig_console_release();
	if (sig_real(sig_console_signal(), NULL, &console_act) != 0 ||
	    console_act.sa_handler == SIG_DFL ||
	    console_act.sa_handler == SIG_IGN)
		return -1;
	__atomic_store_n(&claim, all ? CLAIM_ALL : CLAIM_TYPED,
	    __ATOMIC_RELEASE);
	return 0;
}

/* The SIGINTs the console's handler got since the last call. */
int
sig_console_take(void)
{
	return __atomic_exchange_n(&console_sigints, 0, __ATOMIC_ACQ_REL);
}

/* SIGINTs given to a handler of the program's so far. */
unsigned
sig_program_count(void)
{
	return __atomic_load_n(&program_sigints, __ATOMIC_ACQUIRE);
}

/* The console set KeyboardInterrupt for a Ctrl-C of its own. */
void
sig_console_raised(void)
{
	__atomic_fetch_add(&console_raises, 1, __ATOMIC_ACQ_REL);
}

/* KeyboardInterrupts the console set so far. */
unsigned
sig_console_raises(void)
{
	return __atomic_load_n(&console_raises, __ATOMIC_ACQUIRE);
}

/* Every SIGINT goes to the program again. */
void
sig_console_release(void)
{
	__atomic_store_n(&claim, CLAIM_NONE, __ATOMIC_RELEASE);
}

/* A SIGINT the console declined: the program's, as if just delivered
 * (not interposed: a real one, to whatever handles SIGINT). */
void
sig_pass(void)
{
#ifdef SIG_NOT_INTERPOSED
	raise(SIGINT);
#else
	siginfo_t	si;

	memset(&si, 0, sizeof si);
	si.si_signo = SIGINT;
	si.si_code = SI_KERNEL;
	sig_forward(&si, NULL);
#endif
}

/* Run fn before dying of SIGINT. */
void
sig_on_death(void (*fn)(void))
{
	__atomic_store_n(&death_hook, fn, __ATOMIC_RELEASE);
}

/* Act on sig as SIG_DFL would, now (libc's sigaction: SIGINT's real
 * action, not the program's record). */
void
sig_raise_default(int sig, struct sigaction *old)
{
	struct sigaction	dfl;
	sigset_t		set;

	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sig_real(sig, &dfl, old);
	sigemptyset(&set);
	sigaddset(&set, sig);
	raise(sig);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}
