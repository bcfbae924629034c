/* sig/: SIGINT shared between the program and the terminal console, in
 * pure C.
 *
 * apython keeps a handler of its own in front for SIGINT by defining
 * sigaction() and signal() in the executable (exported, so libpython and
 * extension modules call them): what the program installs for SIGINT is
 * recorded as the program's action and reported back as the current one,
 * while the kernel keeps ours. Ours forwards every SIGINT to the
 * program's action, except a Ctrl-C typed at a terminal (si_code
 * SI_KERNEL) while the console has claimed Ctrl-C: that one goes to the
 * console's handler for a real-time signal apython reserves.
 *
 * A program that sets SIG_IGN gets SIG_IGN in the kernel (children it
 * execs inherit it, as under python3); the console then gets no Ctrl-C
 * either. A forked child forgets the console's claim.
 *
 * Built with SIG_NOT_INTERPOSED (the extension module, ext/ext.h: a plain
 * python3's sigaction() cannot be replaced from a shared object), sig/
 * defines no sigaction() or signal(): sig_setup() does nothing, SIGINT
 * stays the interpreter's, sig_console_claim() always fails (-1) and
 * sig_pass() raises a real SIGINT. The counts and sig_raise_default()
 * work as they do interposed. */
#ifndef APYTHON_SIG_H
#define APYTHON_SIG_H

#include <signal.h>

/* Start interposing, before Python is initialized (main thread). */
void	 sig_setup(void);

/* The real-time signal reserved for the console's Ctrl-C. */
int	 sig_console_signal(void);

/* Typed Ctrl-Cs (every SIGINT if all) go to the handler now installed
 * for sig_console_signal(), called with that signal's number; -1 if it
 * has none. Released by sig_console_release(). */
int	 sig_console_claim(int all);
void	 sig_console_release(void);

/* The SIGINTs handed to the console's handler since the last call, and
 * taken: its handler for the real-time signal tells a Ctrl-C from a
 * ctl/ request (ctl_ask_main) by it. */
int	 sig_console_take(void);

/* How many SIGINTs were handed to a handler of the program's so far (a
 * KeyboardInterrupt raised then is the program's, not the console's). */
unsigned sig_program_count(void);

/* Count a KeyboardInterrupt the console set for a Ctrl-C of its own (a
 * client's, a typed one), and how many so far: one raised while the
 * program's count also moved is still the console's. */
void	 sig_console_raised(void);
unsigned sig_console_raises(void);

/* Give a SIGINT the console declined to the program's action, outside
 * a signal handler (SIG_DFL: the process dies of it). */
void	 sig_pass(void);

/* Called (async-signal-safe) before the process dies of SIGINT because
 * the program's action is SIG_DFL: e.g. put the terminal back. */
void	 sig_on_death(void (*)(void));

/* Give sig SIG_DFL's action (the one replaced in *old unless NULL),
 * raise it and unblock it: the process dies or stops now, even inside
 * sig's handler. Async-signal-safe; the caller restores *old if it
 * goes on (a stop). */
void	 sig_raise_default(int sig, struct sigaction *old);

#endif
