/* Where sock_* operations wait: a private epoll set, edge-triggered, in
 * which each socket stays registered while its Python object lives, so
 * that waiting costs no epoll_ctl. Its own fd is one watcher of libevent.
 * A registration is tagged with a serial: events of a file that was
 * closed while another process kept it open cannot reach a new socket
 * that got the same fd. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <event2/event.h>

#include "loop/loop-internal.h"

#define BATCH	128		/* events taken per epoll_wait */

struct slot {
	PyObject	*owner;		/* weakref to the registered socket */
	PyObject	*op[2];		/* waiting to read, to write */
	uint32_t	 serial;	/* of the registration; 0: none */
	unsigned char	 ready[2];	/* no EAGAIN since its last event */
};

struct sockpoll {
	struct event_base	*base;
	struct event		*ev;
	int			 epfd;
	int			 fired;		/* epfd seen readable */
	uint32_t		 serial;
	struct slot		*tab;
	int			 ntab;
};

/* libevent callback, run without the GIL: only note it. */
static void
sockpoll_fired(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	((struct sockpoll *)arg)->fired = 1;
}

/* A new epoll set watched by libevent; -1 with errno. */
static int
sockpoll_open(struct sockpoll *sp)
{
	if ((sp->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return -1;
	sp->ev = event_new(sp->base, sp->epfd, EV_READ | EV_PERSIST,
	    sockpoll_fired, sp);
	if (sp->ev == NULL || event_add(sp->ev, NULL) != 0) {
		if (sp->ev != NULL)
			event_free(sp->ev);
		sp->ev = NULL;
		close(sp->epfd);
		sp->epfd = -1;
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

static void
sockpoll_shut(struct sockpoll *sp)
{
	if (sp->ev != NULL)
		event_free(sp->ev);
	if (sp->epfd >= 0)
		close(sp->epfd);
	sp->ev = NULL;
	sp->epfd = -1;
	sp->fired = 0;
}

/* The set of a loop's event base; NULL with an exception. */
struct sockpoll *
sockpoll_new(struct event_base *base)
{
	struct sockpoll	*sp;

	if ((sp = calloc(1, sizeof *sp)) == NULL)
		return (struct sockpoll *)PyErr_NoMemory();
	sp->base = base;
	if (sockpoll_open(sp) != 0) {
		PyErr_SetFromErrno(PyExc_OSError);
		free(sp);
		return NULL;
	}
	return sp;
}

/* Forget every registration and waiting operation (they stay pending,
 * as asyncio's futures do when their loop closes). */
static void
sockpoll_clear(struct sockpoll *sp)
{
	struct slot	*s;
	int		 fd;

	for (fd = 0; fd < sp->ntab; fd++) {
		s = &sp->tab[fd];
		Py_CLEAR(s->owner);
		Py_CLEAR(s->op[0]);
		Py_CLEAR(s->op[1]);
		s->serial = 0;
	}
}

void
sockpoll_free(struct sockpoll *sp)
{
	if (sp == NULL)
		return;
	sockpoll_clear(sp);
	sockpoll_shut(sp);
	free(sp->tab);
	free(sp);
}

int
sockpoll_traverse(struct sockpoll *sp, visitproc visit, void *arg)
{
	int	fd;

	for (fd = 0; sp != NULL && fd < sp->ntab; fd++) {
		Py_VISIT(sp->tab[fd].op[0]);
		Py_VISIT(sp->tab[fd].op[1]);
	}
	return 0;
}

/* How many sock_* operations wait (NULL: none made yet). */
size_t
sockpoll_waiting(struct sockpoll *sp)
{
	size_t	n = 0;
	int	fd;

	for (fd = 0; sp != NULL && fd < sp->ntab; fd++)
		n += (sp->tab[fd].op[0] != NULL) + (sp->tab[fd].op[1] != NULL);
	return n;
}

/* The slot of fd, grown into; NULL with an exception. */
static struct slot *
sockpoll_slot(struct sockpoll *sp, int fd)
{
	struct slot	*tab;
	int		 n;

	if (fd < sp->ntab)
		return &sp->tab[fd];
	n = fd < 64 ? 64 : fd * 2;
	if ((tab = realloc(sp->tab, n * sizeof *tab)) == NULL)
		return (struct slot *)PyErr_NoMemory();
	memset(tab + sp->ntab, 0, (n - sp->ntab) * sizeof *tab);
	sp->tab = tab;
	sp->ntab = n;
	return &tab[fd];
}

/* Is s registered for the socket object sock? */
static int
sockpoll_owned(struct slot *s, PyObject *sock)
{
	return s->serial != 0 && s->owner != NULL &&
	    compat_weakref_is(s->owner, sock);
}

/* Add fd to the set under a new serial; -1 with an exception. */
static int
sockpoll_register(struct sockpoll *sp, struct slot *s, int fd)
{
	struct epoll_event	ev;

	if (++sp->serial == 0)
		sp->serial = 1;
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.u64 = (uint64_t)sp->serial << 32 | (uint32_t)fd;
	if (epoll_ctl(sp->epfd, EPOLL_CTL_ADD, fd, &ev) != 0 &&
	    (errno != EEXIST ||
	    epoll_ctl(sp->epfd, EPOLL_CTL_MOD, fd, &ev) != 0)) {
		PyErr_SetFromErrno(PyExc_OSError);
		s->serial = 0;
		return -1;
	}
	s->serial = sp->serial;
	s->ready[0] = s->ready[1] = 1;
	return 0;
}

/* May fd be ready for this direction (0 read, 1 write) on sock? Nothing
 * known counts as ready: the syscall is tried. */
int
sockpoll_may(struct sockpoll *sp, PyObject *sock, int fd, int write)
{
	struct slot	*s;

	if (sp == NULL || fd >= sp->ntab)
		return 1;
	s = &sp->tab[fd];
	return !sockpoll_owned(s, sock) || s->ready[write];
}

/* The syscall said EAGAIN: wait for the next edge. */
void
sockpoll_drained(struct sockpoll *sp, PyObject *sock, int fd, int write)
{
	if (sp != NULL && fd < sp->ntab && sockpoll_owned(&sp->tab[fd], sock))
		sp->tab[fd].ready[write] = 0;
}

/* Park op until fd of sock is ready to read or write; an operation that
 * waited there before is displaced (and stays pending, as asyncio's). */
int
sockpoll_wait(struct sockpoll *sp, PyObject *sock, int fd, int write,
    PyObject *op)
{
	struct slot	*s;
	PyObject	*ref;

	if ((s = sockpoll_slot(sp, fd)) == NULL)
		return -1;
	if (!sockpoll_owned(s, sock)) {
		if ((ref = PyWeakref_NewRef(sock, NULL)) == NULL)
			return -1;
		Py_XSETREF(s->owner, ref);
		if (sockpoll_register(sp, s, fd) != 0)
			return -1;
		s->ready[write] = 0;
	}
	Py_XSETREF(s->op[write], Py_NewRef(op));
	return 0;
}

/* op no longer waits on fd. */
void
sockpoll_forget(struct sockpoll *sp, int fd, int write, PyObject *op)
{
	if (sp != NULL && fd >= 0 && fd < sp->ntab &&
	    sp->tab[fd].op[write] == op)
		Py_CLEAR(sp->tab[fd].op[write]);
}

/* Note one event; queue what waited on it. */
static int
sockpoll_event(struct sockpoll *sp, const struct epoll_event *ev,
    int (*queue)(void *, PyObject *), void *arg)
{
	struct slot	*s;
	uint32_t	 fd = (uint32_t)ev->data.u64;
	int		 dir, want;

	if (fd >= (uint32_t)sp->ntab ||
	    (s = &sp->tab[fd])->serial != (uint32_t)(ev->data.u64 >> 32))
		return 0;	/* a file closed since, or replaced */
	for (dir = 0; dir < 2; dir++) {
		want = dir ? EPOLLOUT : EPOLLIN | EPOLLRDHUP;
		if ((ev->events & (want | EPOLLERR | EPOLLHUP)) == 0)
			continue;
		s->ready[dir] = 1;
		if (s->op[dir] != NULL &&
		    queue(arg, Py_NewRef(s->op[dir])) != 0)
			return -1;
	}
	return 0;
}

/* In the loop's I/O phase: hand what waited on ready sockets to queue
 * (which takes a reference), in the order epoll reports them. */
int
sockpoll_dispatch(struct sockpoll *sp, int (*queue)(void *, PyObject *),
    void *arg)
{
	struct epoll_event	evs[BATCH];
	int			i, n;

	if (sp == NULL || !sp->fired)
		return 0;
	sp->fired = 0;
	do
		n = epoll_wait(sp->epfd, evs, BATCH, 0);
	while (n < 0 && errno == EINTR);
	for (i = 0; i < n; i++)
		if (sockpoll_event(sp, &evs[i], queue, arg) != 0)
			return -1;
	return 0;
}

/* In a forked child: a set of its own, with what waits registered again. */
int
sockpoll_after_fork(struct sockpoll *sp)
{
	struct slot	*s;
	int		 fd;

	sockpoll_shut(sp);
	if (sockpoll_open(sp) != 0) {
		PyErr_SetFromErrno(PyExc_OSError);
		return -1;
	}
	for (fd = 0; fd < sp->ntab; fd++) {
		s = &sp->tab[fd];
		s->serial = 0;
		if ((s->op[0] != NULL || s->op[1] != NULL) &&
		    sockpoll_register(sp, s, fd) != 0)
			return -1;
	}
	return 0;
}
