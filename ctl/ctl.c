/* The control thread: an epoll set of watched fds and a list of
 * one-shot timers, run by one thread of apython's with every signal
 * blocked. See ctl.h for the model and ctl-internal.h for who owns
 * what. */
#include "ctl/ctl.h"
#include "ctl/ctl-internal.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* epoll's data for the wake-up eventfd; a watch's is gen << 32 | fd. */
#define CTL_WAKE	UINT64_MAX

struct watch {
	int		 fd;
	uint32_t	 gen;		/* tells a stale event from a new watch */
	ctl_fn		 fn;
	void		*arg;
};

struct timer {
	double		 at;		/* CLOCK_MONOTONIC seconds */
	void		(*fn)(void *);
	void		*arg;
	struct timer	*next;		/* sorted by at */
};

pthread_t	ctl_main_thread;
int		ctl_has_main;

static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 idle = PTHREAD_COND_INITIALIZER;	/* running */
static int		 started;	/* the thread runs, or is paused (lock) */
static int		 paused;	/* ctl_pause()s not resumed (lock) */
static int		 halting;	/* the thread is to return (lock) */
static pid_t		 tid;		/* the thread's, for /proc */
static int		 atfork_set;	/* main thread only */
static int		 forked;	/* a child whose parent had a thread */
static int		 reopen;	/* a child whose parent had the fds */
static pthread_t	 thread;
static int		 epfd = -1, wakefd = -1;
static struct stat	 ep_st, wake_st;	/* theirs at ctl_open() */
static struct watch	*watches;
static size_t		 nwatch, capwatch;
static uint32_t		 next_gen;
static struct timer	*timers;
static int		 running = -1;	/* the fd whose fn runs now */

/* True when fd is still the file st was taken of, of that kind
 * ("eventpoll", "eventfd": anon inodes share one inode; NULL: not
 * looked at, in a fork's child handler): a program may
 * close our fds (os.closerange(), daemonizers) and reuse the numbers. */
static int
ctl_fd_is(int fd, const struct stat *was, const char *kind)
{
	struct stat	st;
	char		path[64], link[64], want[64];
	ssize_t		n;

	if (fd < 0 || fstat(fd, &st) != 0 || st.st_dev != was->st_dev ||
	    st.st_ino != was->st_ino ||
	    (st.st_mode & S_IFMT) != (was->st_mode & S_IFMT))
		return 0;
	if (kind == NULL)
		return 1;	/* async-signal-safe: fstat's word */
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	snprintf(want, sizeof want, "anon_inode:[%s]", kind);
	if ((n = readlink(path, link, sizeof link - 1)) < 0)
		return 1;	/* no /proc: fstat's word */
	link[n] = '\0';
	return strcmp(link, want) == 0;
}

/* Both fds still ours (lock held). */
static int
ctl_fds_ours(void)
{
	return ctl_fd_is(epfd, &ep_st, "eventpoll") &&
	    ctl_fd_is(wakefd, &wake_st, "eventfd");
}

/* Now, CLOCK_MONOTONIC, in seconds. */
static double
ctl_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* True on the control thread itself (while paused, the joined thread's
 * id may match another's: harmless, no callback runs then). */
static int
ctl_on_thread(void)
{
	return started && pthread_equal(pthread_self(), thread);
}

/* The watch on fd, or NULL (lock held). */
static struct watch *
ctl_find(int fd)
{
	size_t	i;

	for (i = 0; i < nwatch; i++)
		if (watches[i].fd == fd)
			return &watches[i];
	return NULL;
}

/* epoll_wait's timeout for the next timer, in ms (lock held). */
static int
ctl_timeout(void)
{
	double	left;

	if (timers == NULL)
		return -1;
	left = timers->at - ctl_now();
	if (left <= 0)
		return 0;
	if (left > 86400)
		return 86400 * 1000;
	return (int)(left * 1000) + 1;	/* rounded up */
}

/* Run the timers that are due, each outside the lock. */
static void
ctl_run_timers(void)
{
	struct timer	*t;

	for (;;) {
		pthread_mutex_lock(&lock);
		t = timers;
		if (t != NULL && t->at <= ctl_now())
			timers = t->next;
		else
			t = NULL;
		pthread_mutex_unlock(&lock);
		if (t == NULL)
			return;
		t->fn(t->arg);
		free(t);
	}
}

/* poll(2)'s revents for epoll's. */
static short
ctl_revents(uint32_t e)
{
	return (short)((e & EPOLLIN ? POLLIN : 0) |
	    (e & EPOLLOUT ? POLLOUT : 0) | (e & EPOLLHUP ? POLLHUP : 0) |
	    (e & EPOLLERR ? POLLERR : 0));
}

/* Run the fn of the watch an event is for, unless it was unwatched
 * since; ctl_unwatch() waits while running names it. */
static void
ctl_dispatch(const struct epoll_event *ev)
{
	int		 fd = (int)(ev->data.u64 & 0xffffffff);
	struct watch	*w;
	ctl_fn		 fn = NULL;
	void		*arg = NULL;

	pthread_mutex_lock(&lock);
	w = ctl_find(fd);
	if (w != NULL && w->gen == (uint32_t)(ev->data.u64 >> 32)) {
		fn = w->fn;
		arg = w->arg;
		running = fd;
	}
	pthread_mutex_unlock(&lock);
	if (fn == NULL)
		return;
	fn(fd, ctl_revents(ev->events), arg);
	pthread_mutex_lock(&lock);
	running = -1;
	pthread_cond_broadcast(&idle);
	pthread_mutex_unlock(&lock);
}

/* The thread: wait for watched fds and the next timer, until halted or
 * its epoll set fails. Cancellable only in epoll_wait() (no lock held
 * there): ctl_pause() cancels it when its fds were closed under it. */
static void *
ctl_main(void *unused)
{
	struct epoll_event	evs[16];
	uint64_t		junk;
	int			n, i, timeout, old;

	(void)unused;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	tid = (pid_t)syscall(SYS_gettid);
	for (;;) {
		pthread_mutex_lock(&lock);
		if (halting) {
			pthread_mutex_unlock(&lock);
			return NULL;	/* ctl_pause() joins it */
		}
		timeout = ctl_timeout();
		pthread_mutex_unlock(&lock);
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
		n = epoll_wait(epfd, evs, 16, timeout);
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
		if (n < 0 && errno != EINTR)
			return NULL;	/* closed under us: ctl_pause() joins */
		ctl_run_timers();
		for (i = 0; i < n; i++) {
			if (evs[i].data.u64 == CTL_WAKE) {
				if (read(wakefd, &junk, sizeof junk) < 0)
					continue;
			} else
				ctl_dispatch(&evs[i]);
		}
	}
	return NULL;
}

/* Wake the thread: a timer came first (lock held; never into a file
 * that took the eventfd's number). */
static void
ctl_wake(void)
{
	uint64_t	one = 1;

	if (!ctl_fd_is(wakefd, &wake_st, "eventfd"))
		return;
	if (write(wakefd, &one, sizeof one) < 0)
		return;		/* the counter is full: it wakes anyway */
}

/* The epoll set and the eventfd in it (close-on-exec). */
static int
ctl_open(void)
{
	struct epoll_event	ev = { .events = EPOLLIN };

	ev.data.u64 = CTL_WAKE;
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return -1;
	if ((wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 ||
	    fstat(epfd, &ep_st) != 0 || fstat(wakefd, &wake_st) != 0 ||
	    epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev) != 0) {
		if (wakefd >= 0)
			close(wakefd);
		close(epfd);
		epfd = wakefd = -1;
		return -1;
	}
	return 0;
}

/* Start the thread with every signal blocked (it inherits our mask). */
static int
ctl_spawn(void)
{
	sigset_t	all, saved;
	int		e;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	e = pthread_create(&thread, NULL, ctl_main, NULL);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (e != 0) {
		errno = e;
		return -1;
	}
	pthread_setname_np(thread, "apython-ctl");
	return 0;
}

/* fork() holds the lock: no child starts with it taken. */
static void
ctl_fork_prepare(void)
{
	pthread_mutex_lock(&lock);
}

static void
ctl_fork_parent(void)
{
	pthread_mutex_unlock(&lock);
}

/* In the child (async-signal-safe): no thread, no fds of the parent's
 * epoll set (shared with it), no request; ctl_forked_child() opens its
 * own and starts a fresh thread. */
static void
ctl_fork_child(void)
{
	forked = started;
	started = 0;
	paused = halting = 0;
	reopen = epfd >= 0;
	running = -1;
	nwatch = 0;
	/* Never a file of the program's that took their numbers. */
	if (ctl_fd_is(epfd, &ep_st, NULL))
		close(epfd);
	if (ctl_fd_is(wakefd, &wake_st, NULL))
		close(wakefd);
	epfd = wakefd = -1;
	ctl_main_thread = pthread_self();
	ctl_requests_reset();
	pthread_mutex_unlock(&lock);
}

/* Main thread, once: who the main thread is, the at-fork handlers. */
static int
ctl_setup(void)
{
	if (atfork_set)
		return 0;
	ctl_main_thread = pthread_self();
	__atomic_store_n(&ctl_has_main, 1, __ATOMIC_RELEASE);
	if ((errno = pthread_atfork(ctl_fork_prepare, ctl_fork_parent,
	    ctl_fork_child)) != 0)
		return -1;
	atfork_set = 1;
	return 0;
}

/* The thread, unless it runs (lock held); its fds first. */
static int
ctl_run(void)
{
	if (started)
		return 0;
	if ((epfd < 0 && ctl_open() != 0) || ctl_spawn() != 0)
		return -1;
	started = 1;
	return 0;
}

/* The fds, not the thread (main thread, idempotent). */
int
ctl_init(void)
{
	int	r = 0;

	if (ctl_setup() != 0)
		return -1;
	pthread_mutex_lock(&lock);
	if (epfd < 0)
		r = ctl_open();
	pthread_mutex_unlock(&lock);
	return r;
}

/* Start the thread (main thread, idempotent). */
int
ctl_start(void)
{
	int	r;

	if (ctl_setup() != 0)
		return -1;
	pthread_mutex_lock(&lock);
	r = ctl_run();
	pthread_mutex_unlock(&lock);
	return r;
}

/* Free the parent's timers (the thread is gone); lock held. */
static void
ctl_drop_timers(void)
{
	struct timer	*t;

	while ((t = timers) != NULL) {
		timers = t->next;
		free(t);
	}
}

/* A forked child: fds of its own if the parent had them, a fresh
 * thread if the parent had one. */
void
ctl_forked_child(void)
{
	pthread_mutex_lock(&lock);
	ctl_drop_timers();
	if (reopen && epfd < 0 && ctl_open() != 0) {
		/* No control thread in this child. */
	}
	reopen = 0;
	if (forked && ctl_run() != 0) {
		/* Idem. */
	}
	forked = 0;
	pthread_mutex_unlock(&lock);
}

/* Wait (bounded) until the kernel no longer counts the joined thread:
 * pthread_join() returns when its tid is cleared, a moment before the
 * task leaves /proc (and /proc/self/stat's num_threads). */
static void
ctl_gone(pid_t t)
{
	struct timespec	 ts = { 0, 200000 };	/* 0.2 ms */
	char		 path[64];
	int		 i;

	snprintf(path, sizeof path, "/proc/self/task/%ld", (long)t);
	for (i = 0; i < 250 && access(path, F_OK) == 0; i++)
		nanosleep(&ts, NULL);
}

/* Join t, bounded (a callback may be stuck): 1 when joined, else it is
 * cancelled and left detached. */
static int
ctl_join(pthread_t t)
{
	struct timespec	until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	if (pthread_timedjoin_np(t, NULL, &until) == 0)
		return 1;
	pthread_cancel(t);
	until.tv_sec += 1;
	if (pthread_timedjoin_np(t, NULL, &until) == 0)
		return 1;
	pthread_detach(t);
	return 0;
}

/* The fds were closed under us (their numbers may be the program's
 * now): forget them and their watches, close nothing; resuming opens
 * new ones (lock held). */
static void
ctl_forget(void)
{
	epfd = wakefd = -1;
	nwatch = 0;
}

/* Stop the thread for a fork; the first of concurrent pauses stops it,
 * the others wait for that. */
void
ctl_pause(void)
{
	pthread_t	t;
	int		ours;

	pthread_mutex_lock(&lock);
	if (!started) {
		pthread_mutex_unlock(&lock);
		return;
	}
	if (paused++ > 0) {
		while (halting)
			pthread_cond_wait(&idle, &lock);
		pthread_mutex_unlock(&lock);
		return;
	}
	halting = 1;
	t = thread;
	if (!(ours = ctl_fds_ours()))
		pthread_cancel(t);	/* it may wait on a set nobody wakes */
	else
		ctl_wake();
	pthread_mutex_unlock(&lock);
	if (ctl_join(t))		/* after the callback that runs */
		ctl_gone(tid);
	pthread_mutex_lock(&lock);
	if (!ours)
		ctl_forget();
	halting = 0;
	pthread_cond_broadcast(&idle);
	pthread_mutex_unlock(&lock);
}

/* The last resume starts the thread again: same epoll set (the watches),
 * same timer list (their deadlines), the wake-ups it missed pending. */
void
ctl_resume(void)
{
	pthread_mutex_lock(&lock);
	if (paused > 0 && --paused == 0 &&
	    ((epfd < 0 && ctl_open() != 0) || ctl_spawn() != 0))
		started = 0;	/* the next ctl_watch() or ctl_after() */
	pthread_mutex_unlock(&lock);
}

/* Watch fd: in the table first, so that an event finds it. */
int
ctl_watch(int fd, short events, ctl_fn fn, void *arg)
{
	struct epoll_event	 ev = { 0 };
	struct watch		*w;
	int			 r = -1;

	pthread_mutex_lock(&lock);
	if (!atfork_set || ctl_run() != 0)
		errno = atfork_set ? errno : EAGAIN;
	else if (!ctl_fds_ours())
		errno = EBADF;	/* closed under us: a fork reopens them */
	else if (ctl_find(fd) != NULL)
		errno = EEXIST;
	else if (nwatch == capwatch && (w = realloc(watches,
	    (capwatch ? capwatch * 2 : 8) * sizeof *w)) == NULL)
		errno = ENOMEM;
	else {
		if (nwatch == capwatch) {
			watches = w;
			capwatch = capwatch ? capwatch * 2 : 8;
		}
		w = &watches[nwatch];
		*w = (struct watch){ fd, next_gen++, fn, arg };
		ev.events = (events & POLLIN ? EPOLLIN : 0) |
		    (events & POLLOUT ? EPOLLOUT : 0);
		ev.data.u64 = (uint64_t)w->gen << 32 | (uint32_t)fd;
		if ((r = epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev)) == 0)
			nwatch++;
	}
	pthread_mutex_unlock(&lock);
	return r;
}

/* Unwatch fd; from another thread, wait until its fn has returned. */
int
ctl_unwatch(int fd)
{
	struct watch	*w;
	int		 r = -1;

	pthread_mutex_lock(&lock);
	if ((w = ctl_find(fd)) == NULL)
		errno = ENOENT;
	else {
		if (ctl_fds_ours())
			epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
		*w = watches[--nwatch];
		r = 0;
	}
	/* Even unwatched already (by its fn): it may still be running. */
	if (!ctl_on_thread())
		while (running == fd)
			pthread_cond_wait(&idle, &lock);
	pthread_mutex_unlock(&lock);
	return r;
}

/* A one-shot timer, in its place in the sorted list. */
int
ctl_after(double seconds, void (*fn)(void *), void *arg)
{
	struct timer	*t, **p;
	int		 r = -1;

	if ((t = malloc(sizeof *t)) == NULL)
		return -1;
	t->at = ctl_now() + (seconds > 0 ? seconds : 0);
	t->fn = fn;
	t->arg = arg;
	pthread_mutex_lock(&lock);
	if (!atfork_set || ctl_run() != 0)
		errno = atfork_set ? errno : EAGAIN;
	else {
		for (p = &timers; *p != NULL && (*p)->at <= t->at;
		    p = &(*p)->next)
			;
		t->next = *p;
		*p = t;
		if (p == &timers)
			ctl_wake();
		t = NULL;
		r = 0;
	}
	pthread_mutex_unlock(&lock);
	free(t);
	return r;
}
