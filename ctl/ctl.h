/* ctl/: apython's small control thread, in pure C (no Python.h).
 *
 * One thread of apython's that never holds the GIL: it waits in epoll for
 * the fds it is asked to watch and for its timers, so that someone still
 * listens while the main thread is busy (a statement on the CPU, a
 * callback in time.sleep). It starts when first needed (its fds at
 * start-up; attach/ needs it at start-up unless turned off) and wakes
 * only for what it watches: no periodic wake-up. Its fds are
 * close-on-exec and every signal is blocked in it, so the program's
 * signals never land there. A forked child gets a fresh thread
 * (ctl_forked_child), none of the parent's watches.
 *
 * Fork: python3 3.12+ warns at os.fork() when /proc/self/stat counts
 * more than one thread, after the before-fork hooks and before the
 * after-in-parent ones. So Python's fork hooks pause the thread
 * (ctl_pause: it returns, after the callback that runs, and is joined;
 * the kernel is given up to 50 ms to stop counting it) and resume it in
 * the parent (ctl_resume: a new thread, the same watches and timers).
 * A fork from C, without Python's hooks, forks with the thread running:
 * the at-fork handlers keep that safe (ctl's lock held across fork(),
 * the child forgets the thread). serve/attach.c's short threads (one per
 * --attach or --ps request, alive until it is handed to the loop or
 * answered, at most ~2 s) are not paused: a fork in that moment warns
 * as with any thread, and the child has none of them.
 *
 * Threads: ctl_init(), ctl_start() and ctl_forked_child() in the main
 * thread; ctl_watch(), ctl_unwatch(), ctl_after() from any thread, the
 * control thread included (from a callback); callbacks run on the control
 * thread, one at a time, and may not take the GIL for long nor wait for
 * the main thread. The control thread breaks into the main thread with
 * ctl_ask_main(): a bit set and apython's one real-time signal
 * (sig_console_signal()) sent to the main thread, whose Python handler
 * runs ctl_run_requests() (console/sigint.c) with the GIL. */
#ifndef APYTHON_CTL_H
#define APYTHON_CTL_H

/* Start the thread: main thread; idempotent. 0, or -1 with errno. */
int	 ctl_start(void);

/* Main thread, at start-up; idempotent: the thread's fds, not the
 * thread, which ctl_watch() or ctl_after() then start when first called
 * (from any thread). A program that never needs it (attach turned off)
 * has no thread of apython's, and its fds do not change when it first
 * does. 0, or -1 with errno. */
int	 ctl_init(void);

/* In a forked child (main thread, where starting a thread is safe): its
 * own fds and a fresh thread if the parent had them, no watch nor
 * timer. */
void	 ctl_forked_child(void);

/* Around a fork, from Python's os.register_at_fork hooks (before, and
 * after_in_parent), in the forking thread, which must not hold the GIL
 * (a callback may be waiting for it) nor be the control thread:
 * ctl_pause() returns once the thread is gone (nothing when it never
 * started); ctl_resume() starts it again, the same watches and timers
 * (deadlines kept), when the last pause is resumed. Pauses nest. What
 * ctl_watch() or ctl_after() add while paused is served after. */
void	 ctl_pause(void);
void	 ctl_resume(void);

/* Called on the control thread with poll(2)'s revents (POLLIN, POLLOUT,
 * POLLHUP, POLLERR). Watches are level-triggered: fn reads what is
 * there, or unwatches. */
typedef void (*ctl_fn)(int fd, short revents, void *arg);

/* Watch fd for events (POLLIN and/or POLLOUT); one watch per fd. Any
 * thread, once ctl_init() or ctl_start() ran (else EAGAIN); starts the
 * thread if need be. 0, or -1 with errno (EEXIST: fd is watched). */
int	 ctl_watch(int fd, short events, ctl_fn fn, void *arg);

/* Stop watching fd. Any thread: on return its fn is not running (unless
 * this is that fn calling) and will not run, even when -1 (ENOENT: fd
 * was not watched, or its fn unwatched it). A thread that holds the GIL
 * must not unwatch an fd whose fn takes the GIL (it would wait for it
 * forever): release the GIL around the call. */
int	 ctl_unwatch(int fd);

/* Run fn(arg) once on the control thread after seconds. Any thread, as
 * ctl_watch(). */
int	 ctl_after(double seconds, void (*fn)(void *), void *arg);

/* Requests to the main thread, bits. */
enum { CTL_INTERRUPT = 1, CTL_REPORT = 2 };

/* Ask the main thread to run request's function (ctl_on_request): any
 * thread, async-signal-safe. Sets the bit and signals the main thread,
 * unless the real-time signal has no handler there (the program took it
 * away: sending it would kill the process). */
void	 ctl_ask_main(int request);

/* fn runs for request in the main thread, GIL held, from the Python
 * handler of the real-time signal; it returns 0, or -1 with a Python
 * exception set. Main thread. */
void	 ctl_on_request(int request, int (*fn)(void));

/* Main thread, GIL held (the Python handler): run the functions of the
 * requests asked since; -1 when one failed (its exception set; the
 * requests not run yet are asked again). */
int	 ctl_run_requests(void);

/* Any thread: the requests asked and not yet run (bits). */
int	 ctl_pending(void);

#endif
