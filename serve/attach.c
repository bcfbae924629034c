/* The program's side of --attach and --ps in Python-land. attach/ hands
 * each attacher's socket over on the control thread, which never takes
 * the GIL: a small thread of ours per request does (PyGILState_Ensure)
 * and asks the loop running in the main thread, with
 * call_soon_threadsafe, to take it: a console becomes a served --connect
 * session of a server with no listening socket (attach_server), a ps
 * request gets console_ps()'s text. When the loop does not answer, the
 * control thread's timers ask the main thread through the real-time
 * signal (CTL_REPORT: its Python handler runs even inside time.sleep,
 * and the frame it interrupted is the stuck stack), then, as the last
 * resort, write faulthandler's raw dump of the threads. */
#include "serve/serve-internal.h"

#include <sys/mman.h>
#include <sys/socket.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attach/attach.h"
#include "console/console.h"
#include "ctl/ctl.h"
#include "loop/loop.h"
#include "py/py.h"

#define PS_ASK_MAIN	0.5	/* s without the loop's answer: CTL_REPORT */
#define PS_LAST_RESORT	2.0	/* s without any answer: faulthandler's dump */
#define PS_FILTER_WAIT	1000	/* ms for the attacher's filter line */
#define PS_SEND_TIME	30.0	/* s the attacher may take to read it */

/* faulthandler's dump of the threads: safe without the GIL (a fatal
 * signal runs it). Internal, and exported only by some builds (3.8,
 * 3.11 and 3.12 here; not 3.9, 3.10 nor 3.13): looked up at start. */
typedef const char *(*dump_fn)(int fd, PyInterpreterState *,
    PyThreadState *);
static dump_fn dump_threads;

/* A --ps request. Who writes the answer claims it first, under lock:
 * the worker (with the loop's or the main thread's text) or the control
 * thread's last resort; the claimer writes and closes fd. Freed by the
 * last of its holders (worker, the two timers, the loop's callback). */
struct ps_req {
	int			 fd;
	int			 refs;
	int			 claimed;
	char			*text;		/* '0' or '1', then the answer */
	size_t			 len;
	char			 filter[1024];
	struct timespec		 asked;
	struct ps_req		*next;		/* in pending, for CTL_REPORT */
	struct ps_req		*live_next;	/* in live */
	pthread_cond_t		 cond;
};

static pthread_mutex_t	 ps_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ps_req	*pending;	/* waiting for text; ps_lock */
static struct ps_req	*live;		/* every request not freed; ps_lock */
static int		 gil_users;	/* workers that may take the GIL; ps_lock */
static int		 finishing;	/* Python ends: no worker takes it */
static pthread_cond_t	 gil_idle = PTHREAD_COND_INITIALIZER;
static PyInterpreterState *interp;	/* the main interpreter */
static PyObject		*running;	/* the loop the main thread runs */
static PyObject		*attach_server;	/* holds the attached consoles */

/* A worker is about to take the GIL: -1 when Python is ending (then it
 * must not: PyGILState_Ensure during or after Py_FinalizeEx). */
static int
worker_enter(void)
{
	int	r = -1;

	pthread_mutex_lock(&ps_lock);
	if (!finishing) {
		gil_users++;
		r = 0;
	}
	pthread_mutex_unlock(&ps_lock);
	return r;
}

/* The worker has released the GIL for good. */
static void
worker_leave(void)
{
	pthread_mutex_lock(&ps_lock);
	if (--gil_users == 0)
		pthread_cond_broadcast(&gil_idle);
	pthread_mutex_unlock(&ps_lock);
}

/* Python ends (main thread, GIL held): no worker takes the GIL from now
 * on, and those that may are waited for, briefly, without it. */
static void
workers_finish(void)
{
	struct timespec	until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 1;
	Py_BEGIN_ALLOW_THREADS
	pthread_mutex_lock(&ps_lock);
	finishing = 1;
	while (gil_users > 0 &&
	    pthread_cond_timedwait(&gil_idle, &ps_lock, &until) == 0)
		;
	pthread_mutex_unlock(&ps_lock);
	Py_END_ALLOW_THREADS
}

/* Seconds since ts (CLOCK_MONOTONIC). */
static double
ps_since(const struct timespec *ts)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - ts->tv_sec) + (now.tv_nsec - ts->tv_nsec) / 1e9;
}

/* Close r's fd, once: under ps_lock, so that a forked child (fork holds
 * ps_lock) knows which of its requests' fds are still open. */
static void
ps_close(struct ps_req *r)
{
	pthread_mutex_lock(&ps_lock);
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	pthread_mutex_unlock(&ps_lock);
}

/* Take r out of live; ps_lock held. */
static void
ps_unlist(struct ps_req *r)
{
	struct ps_req	**p;

	for (p = &live; *p != NULL; p = &(*p)->live_next)
		if (*p == r) {
			*p = r->live_next;
			break;
		}
}

/* Drop a hold on r; the last frees it (fd is closed by its claimer, or
 * here when nobody claimed it). */
static void
ps_release(struct ps_req *r)
{
	int	last;

	pthread_mutex_lock(&ps_lock);
	if ((last = --r->refs == 0) != 0)
		ps_unlist(r);
	pthread_mutex_unlock(&ps_lock);
	if (!last)
		return;
	ps_close(r);
	pthread_cond_destroy(&r->cond);
	free(r->text);
	free(r);
}

/* Take r out of pending; ps_lock held. */
static void
ps_unpend(struct ps_req *r)
{
	struct ps_req	**p;

	for (p = &pending; *p != NULL; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
}

/* Give r its answer (status '0' or '1', then text), unless it has one;
 * ps_lock held. */
static void
ps_answer_locked(struct ps_req *r, char status, const char *text, size_t n)
{
	if (r->text != NULL || r->claimed)
		return;
	if ((r->text = malloc(n + 1)) == NULL)
		return;
	r->text[0] = status;
	memcpy(r->text + 1, text, n);
	r->len = n + 1;
	ps_unpend(r);
	pthread_cond_signal(&r->cond);
}

/* Write all of p to fd, for at most PS_SEND_TIME: an attacher whose
 * reader stalls (`apython --ps PID | less`) holds a thread of ours no
 * longer; errors end it. */
static void
ps_write(int fd, const char *p, size_t n)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLOUT };
	struct timespec	start;
	double		left;
	ssize_t		w;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if ((left = PS_SEND_TIME - ps_since(&start)) <= 0 ||
			    (poll(&pfd, 1, (int)(left * 1000) + 1) < 0 &&
			    errno != EINTR))
				return;
			continue;
		}
		if (w <= 0)
			return;
		p += w;
		n -= w;
	}
}

/* console_ps()'s text (UTF-8) for r, as its answer; GIL held, ps_lock
 * not. frame: the stuck stack or NULL. */
static void
ps_text(struct ps_req *r, PyObject *loop, PyObject *frame, double stuck)
{
	PyObject	*text, *type, *value, *tb;
	const char	*p;
	Py_ssize_t	 n;
	char		 status = '0';

	text = console_ps(loop, r->filter[0] ? r->filter : NULL, frame, stuck);
	if (text == NULL) {
		status = '1';
		PyErr_Fetch(&type, &value, &tb);
		PyErr_NormalizeException(&type, &value, &tb);
		text = PyUnicode_FromFormat("apython: %ld: the tasks could "
		    "not be listed: %S\n", (long)getpid(),
		    value != NULL ? value : Py_None);
		Py_XDECREF(type);
		Py_XDECREF(value);
		Py_XDECREF(tb);
	}
	if (text == NULL || (p = PyUnicode_AsUTF8AndSize(text, &n)) == NULL) {
		PyErr_Clear();
		p = "apython: out of memory\n";
		n = (Py_ssize_t)strlen(p);
		status = '1';
	}
	pthread_mutex_lock(&ps_lock);
	ps_answer_locked(r, status, p, (size_t)n);
	pthread_mutex_unlock(&ps_lock);
	Py_XDECREF(text);
}

/* The loop answered: its tasks, now. */
static PyObject *
ps_on_loop(PyObject *capsule, PyObject *unused)
{
	struct ps_req	*r = PyCapsule_GetPointer(capsule, NULL);
	PyObject	*loop = Py_XNewRef(running);	/* console_ps runs Python */

	(void)unused;
	if (r == NULL)
		PyErr_Clear();
	else if (loop != NULL)
		ps_text(r, loop, NULL, 0.0);
	Py_XDECREF(loop);
	Py_RETURN_NONE;
}

static PyMethodDef ps_on_loop_def = {
	.ml_name = "apython_ps",
	.ml_meth = ps_on_loop,
	.ml_flags = METH_NOARGS,
};

/* How long r's loop has been stuck: apython's loop knows (seconds its
 * pass has run); for another, how long it has not answered, negated. */
static double
ps_stuck(struct ps_req *r)
{
	double	held = loop_stuck_seconds();

	return held >= 0 ? held : -ps_since(&r->asked);
}

/* The line that says so (ps_stuck's figure). */
static void
ps_stuck_line(char *buf, size_t len, double stuck)
{
	if (stuck >= 0)
		snprintf(buf, len, "The loop has been held for %.1f seconds by "
		    "what the main thread runs.\n", stuck);
	else
		snprintf(buf, len, "The loop has not answered for %.1f "
		    "seconds.\n", -stuck);
}

/* CTL_REPORT, in the main thread from the real-time signal's handler:
 * the frame it interrupted is what holds the loop. */
static int
ps_report(void)
{
	struct ps_req	*r, *todo[16];
	PyObject	*frame = (PyObject *)PyEval_GetFrame(), *loop;
	int		 i, n = 0;

	pthread_mutex_lock(&ps_lock);
	for (r = pending; r != NULL && n < 16; r = r->next) {
		r->refs++;
		todo[n++] = r;
	}
	pthread_mutex_unlock(&ps_lock);
	for (i = 0; i < n; i++) {
		loop = Py_XNewRef(running);	/* console_ps runs Python */
		if (loop != NULL)
			ps_text(todo[i], loop, frame, fabs(ps_stuck(todo[i])));
		Py_XDECREF(loop);
		ps_release(todo[i]);
	}
	return 0;
}

/* Capsule destructor: the loop's callback was dropped. */
static void
ps_capsule_free(PyObject *capsule)
{
	struct ps_req	*r = PyCapsule_GetPointer(capsule, NULL);

	if (r != NULL)
		ps_release(r);
	else
		PyErr_Clear();
}

/* Control thread, PS_ASK_MAIN after the request: no text yet, so ask
 * the main thread. */
static void
ps_ask_main(void *arg)
{
	struct ps_req	*r = arg;
	int		 waiting;

	pthread_mutex_lock(&ps_lock);
	waiting = r->text == NULL && !r->claimed;
	pthread_mutex_unlock(&ps_lock);
	if (waiting)
		ctl_ask_main(CTL_REPORT);
	ps_release(r);
}

/* The last resort's answer for r: the stuck line, then faulthandler's
 * dump, which writes blocking: into a memfd, read back. '0' first;
 * NULL when out of memory. */
static char *
ps_dump(struct ps_req *r, size_t *len)
{
	char	 head[400], *buf;
	int	 mfd = -1, n;
	off_t	 size = 0;
	ssize_t	 got = 0;

	if (dump_threads != NULL && interp != NULL)
		mfd = memfd_create("apython-ps", MFD_CLOEXEC);
	ps_stuck_line(head, sizeof head, ps_stuck(r));
	n = (int)strlen(head);
	snprintf(head + n, sizeof head - n, mfd >= 0 ? "The threads' stacks "
	    "(faulthandler's dump, most recent call first):\n" : "Its stack "
	    "cannot be read while it holds the GIL: this Python does not "
	    "export faulthandler's dump.\n");
	n = (int)strlen(head);
	if (mfd >= 0) {
		dump_threads(mfd, interp, NULL);
		if ((size = lseek(mfd, 0, SEEK_END)) < 0)
			size = 0;
	}
	if ((buf = malloc(1 + n + size)) != NULL) {
		buf[0] = '0';
		memcpy(buf + 1, head, n);
		if (size > 0 && (got = pread(mfd, buf + 1 + n, size, 0)) < 0)
			got = 0;
		*len = 1 + n + got;
	}
	if (mfd >= 0)
		close(mfd);
	return buf;
}

/* A thread of ours writes the last resort's answer (ps_write's deadline
 * bounds it), so the control thread never waits for the attacher. */
static void *
ps_send(void *arg)
{
	struct ps_req	*r = arg;

	ps_write(r->fd, r->text, r->len);
	ps_close(r);
	ps_release(r);
	return NULL;
}

/* Control thread, PS_LAST_RESORT after the request: nothing answered,
 * so faulthandler's dump of the threads, without the GIL; a thread of
 * ours sends it. */
static void
ps_last_resort(void *arg)
{
	struct ps_req	*r = arg;
	pthread_attr_t	 attr;
	pthread_t	 t;
	char		*text = NULL;
	size_t		 len = 0;
	int		 mine, sending = 0;

	pthread_mutex_lock(&ps_lock);
	mine = r->text == NULL && !r->claimed;
	if (mine) {
		r->claimed = 1;
		ps_unpend(r);
		pthread_cond_signal(&r->cond);
	}
	pthread_mutex_unlock(&ps_lock);
	if (mine && (text = ps_dump(r, &len)) != NULL) {
		pthread_mutex_lock(&ps_lock);
		r->text = text;
		r->len = len;
		r->refs++;
		pthread_mutex_unlock(&ps_lock);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if ((sending = pthread_create(&t, &attr, ps_send, r) == 0) == 0)
			ps_release(r);
		pthread_attr_destroy(&attr);
	}
	if (mine && !sending)
		ps_close(r);
	ps_release(r);
}

/* Read the attacher's filter line into r->filter; -1 when none came. */
static int
ps_read_filter(struct ps_req *r)
{
	struct pollfd	 pfd = { .fd = r->fd, .events = POLLIN };
	size_t		 have = 0;
	ssize_t		 n;
	char		*nl;

	while (have < sizeof r->filter - 1) {
		if (poll(&pfd, 1, PS_FILTER_WAIT) <= 0)
			return -1;
		n = read(r->fd, r->filter + have, sizeof r->filter - 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		have += n;
		r->filter[have] = '\0';
		if ((nl = strchr(r->filter, '\n')) != NULL) {
			*nl = '\0';
			return 0;
		}
	}
	return -1;
}

/* The running loop, if the main thread runs one (new ref); GIL held. */
static PyObject *
attach_running_loop(void)
{
	PyObject	*r;

	if (running == NULL)
		return NULL;
	r = PyObject_CallMethod(running, "is_running", NULL);
	if (r == NULL)
		PyErr_Clear();
	if (r != Py_True) {
		Py_XDECREF(r);
		return NULL;
	}
	Py_DECREF(r);
	return Py_NewRef(running);
}

/* Worker: ask the loop for r's text; GIL held. -1: no loop to ask. */
static int
ps_ask_loop(struct ps_req *r)
{
	PyObject	*loop, *capsule, *fn = NULL, *h = NULL;

	if ((loop = attach_running_loop()) == NULL)
		return -1;
	pthread_mutex_lock(&ps_lock);
	r->refs++;
	pthread_mutex_unlock(&ps_lock);
	if ((capsule = PyCapsule_New(r, NULL, ps_capsule_free)) == NULL)
		ps_release(r);
	else if ((fn = PyCFunction_New(&ps_on_loop_def, capsule)) != NULL)
		h = PyObject_CallMethod(loop, "call_soon_threadsafe", "O", fn);
	Py_XDECREF(fn);
	Py_XDECREF(capsule);
	Py_DECREF(loop);
	if (h == NULL) {
		PyErr_Clear();
		return -1;
	}
	Py_DECREF(h);
	return 0;
}

/* Worker of a --ps request: the filter, the loop asked, then whoever
 * answers first is written (the last resort writes itself). */
static void
ps_work(struct ps_req *r)
{
	PyGILState_STATE	 g;
	char			 msg[128];
	int			 asked, n;

	if (ps_read_filter(r) != 0) {
		pthread_mutex_lock(&ps_lock);
		asked = !r->claimed;
		r->claimed = 1;
		ps_unpend(r);
		pthread_mutex_unlock(&ps_lock);
		if (asked)
			ps_close(r);
		return;
	}
	asked = -1;
	if (worker_enter() == 0) {
		g = PyGILState_Ensure();
		asked = ps_ask_loop(r);
		PyGILState_Release(g);
		worker_leave();
	}
	pthread_mutex_lock(&ps_lock);
	if (asked != 0) {
		n = snprintf(msg, sizeof msg, "apython: %ld: the program "
		    "runs no event loop now\n", (long)getpid());
		ps_answer_locked(r, '1', msg, (size_t)n);
	}
	while (r->text == NULL && !r->claimed)
		pthread_cond_wait(&r->cond, &ps_lock);
	asked = !r->claimed;
	r->claimed = 1;
	pthread_mutex_unlock(&ps_lock);
	if (asked) {
		ps_write(r->fd, r->text, r->len);
		ps_close(r);
	}
}

/* A --ps request came (control thread): pending for CTL_REPORT, timers
 * for the later stages, a worker for the GIL. */
static void
ps_start(int fd)
{
	struct ps_req	*r;

	if ((r = calloc(1, sizeof *r)) == NULL) {
		close(fd);
		return;
	}
	r->fd = fd;
	r->refs = 1;
	clock_gettime(CLOCK_MONOTONIC, &r->asked);
	pthread_cond_init(&r->cond, NULL);
	pthread_mutex_lock(&ps_lock);
	r->next = pending;
	pending = r;
	r->live_next = live;
	live = r;
	r->refs += 2;
	pthread_mutex_unlock(&ps_lock);
	if (ctl_after(PS_ASK_MAIN, ps_ask_main, r) != 0)
		ps_release(r);
	if (ctl_after(PS_LAST_RESORT, ps_last_resort, r) != 0)
		ps_release(r);
	ps_work(r);
	pthread_mutex_lock(&ps_lock);
	ps_unpend(r);
	pthread_mutex_unlock(&ps_lock);
	ps_release(r);
}

/* An --attach request's socket until a session takes it: listed, so
 * that a forked child closes those of its parent's in flight. Owned by
 * its worker, then by the capsule that hands it to the loop. */
struct attach_req {
	int			 fd;		/* -1 once closed or taken */
	struct attach_req	*next;		/* in attaching */
};

static struct attach_req *attaching;	/* ps_lock */

/* A request for fd, listed; NULL when out of memory. */
static struct attach_req *
attach_req_new(int fd)
{
	struct attach_req	*a;

	if ((a = malloc(sizeof *a)) == NULL)
		return NULL;
	a->fd = fd;
	pthread_mutex_lock(&ps_lock);
	a->next = attaching;
	attaching = a;
	pthread_mutex_unlock(&ps_lock);
	return a;
}

/* a's fd, now the caller's (-1 when it is gone). */
static int
attach_req_take(struct attach_req *a)
{
	int	fd;

	pthread_mutex_lock(&ps_lock);
	fd = a->fd;
	a->fd = -1;
	pthread_mutex_unlock(&ps_lock);
	return fd;
}

/* Unlist a, close its fd unless taken, free it. */
static void
attach_req_free(struct attach_req *a)
{
	struct attach_req	**p;

	pthread_mutex_lock(&ps_lock);
	for (p = &attaching; *p != NULL; p = &(*p)->next)
		if (*p == a) {
			*p = a->next;
			break;
		}
	if (a->fd >= 0)
		close(a->fd);
	pthread_mutex_unlock(&ps_lock);
	free(a);
}

/* Capsule destructor: an attached socket the loop never took. */
static void
attach_fd_free(PyObject *capsule)
{
	struct attach_req	*a = PyCapsule_GetPointer(capsule, NULL);

	if (a == NULL)
		PyErr_Clear();
	else
		attach_req_free(a);
}

/* On the loop: the attached socket becomes a console session. */
static PyObject *
attach_on_loop(PyObject *capsule, PyObject *unused)
{
	struct attach_req	*a = PyCapsule_GetPointer(capsule, NULL);
	PyObject		*main, *loop;
	int			 fd, r;

	(void)unused;
	if (a == NULL)
		return NULL;
	/* The loop closed since, or this is a forked child (which closed
	 * its copy): the capsule closes what is left. */
	if (running == NULL || a->fd < 0)
		Py_RETURN_NONE;
	if (attach_server == NULL) {
		/* __main__ as locals: each console reads its globals live
		 * (console/intro.py's MainView), names of its own kept. */
		if (console_prepare() != 0 ||
		    (main = PyImport_AddModule("__main__")) == NULL)
			return NULL;
		loop = Py_NewRef(running);
		attach_server = server_new_bare(NULL, main);
		r = attach_server == NULL ? -1 :
		    server_attach_loop(attach_server, loop);
		Py_DECREF(loop);
		if (r != 0)
			return NULL;
	}
	if ((fd = attach_req_take(a)) < 0 || server_take(attach_server, fd) != 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyMethodDef attach_on_loop_def = {
	.ml_name = "apython_attach",
	.ml_meth = attach_on_loop,
	.ml_flags = METH_NOARGS,
};

/* Worker, GIL held: hand a to the running loop (the capsule owns it
 * then); -1 when none runs, a still the caller's. */
static int
attach_ask_loop(struct attach_req *a)
{
	PyObject	*loop, *capsule, *fn = NULL, *h = NULL;

	if ((loop = attach_running_loop()) == NULL)
		return -1;
	if ((capsule = PyCapsule_New(a, NULL, NULL)) != NULL &&
	    (fn = PyCFunction_New(&attach_on_loop_def, capsule)) != NULL &&
	    PyCapsule_SetDestructor(capsule, attach_fd_free) == 0) {
		h = PyObject_CallMethod(loop, "call_soon_threadsafe", "O", fn);
		if (h == NULL)	/* a stays the caller's */
			(void)PyCapsule_SetDestructor(capsule, NULL);
	}
	Py_XDECREF(fn);
	Py_XDECREF(capsule);
	Py_DECREF(loop);
	if (h == NULL) {
		PyErr_Clear();
		return -1;
	}
	Py_DECREF(h);
	return 0;
}

/* Say why to the attacher, for a close once it has read it: what it
 * sent (its hello) is read first, or the close would reset the
 * connection. */
static void
attach_refuse(int fd, const char *why)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	char		buf[512];
	int		i;

	ps_write(fd, why, strlen(why));
	shutdown(fd, SHUT_WR);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	for (i = 0; i < 20 && poll(&pfd, 1, 50) >= 0; i++)
		if (read(fd, buf, sizeof buf) == 0)
			break;
}

/* Worker of an --attach request. */
static void
attach_work(int fd)
{
	PyGILState_STATE	 g;
	struct attach_req	*a;
	char			 msg[128];
	int			 r = -1;

	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0 ||
	    (a = attach_req_new(fd)) == NULL) {
		close(fd);
		return;
	}
	if (worker_enter() == 0) {
		g = PyGILState_Ensure();
		r = attach_ask_loop(a);
		PyGILState_Release(g);
		worker_leave();
	}
	if (r != 0) {
		snprintf(msg, sizeof msg, "apython: %ld: the program runs no "
		    "event loop now\n", (long)getpid());
		attach_refuse(a->fd, msg);	/* a's worker: a is its own */
		attach_req_free(a);
	}
}

struct work {
	int			 fd;
	enum attach_kind	 kind;
};

/* A thread of ours for one request (it inherits the control thread's
 * mask: every signal blocked). */
static void *
attach_thread(void *arg)
{
	struct work	w = *(struct work *)arg;

	free(arg);
	if (w.kind == ATTACH_PS)
		ps_start(w.fd);
	else
		attach_work(w.fd);
	return NULL;
}

/* attach/'s handler, on the control thread: fd is an attacher's. */
static void
attach_request(int fd, enum attach_kind kind)
{
	pthread_attr_t	 attr;
	pthread_t	 t;
	struct work	*w;

	if ((w = malloc(sizeof *w)) == NULL) {
		close(fd);
		return;
	}
	w->fd = fd;
	w->kind = kind;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, attach_thread, w) != 0) {
		free(w);
		close(fd);
	}
	pthread_attr_destroy(&attr);
}

/* A loop starts running in the main thread: the one attaches go to. */
static int
attach_on_run(PyObject *loop)
{
	if (running != loop)
		Py_XSETREF(running, Py_NewRef(loop));
	attach_child_ready();
	if (attach_server == NULL)
		return 0;
	return server_attach_loop(attach_server, loop);
}

/* An apython loop closes: the attached consoles wait for the next. */
static void
attach_on_close(PyObject *loop)
{
	if (attach_server != NULL && server_loop(attach_server) == loop)
		server_detach_loop(attach_server);
	if (running == loop)
		Py_CLEAR(running);
}

static const struct loop_observer attach_observer = {
	.on_run = attach_on_run,
	.on_close = attach_on_close,
};

/* On a forked child's loop, which was running at the fork. */
static PyObject *
attach_child_on_loop(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	attach_child_ready();
	Py_RETURN_NONE;
}

static PyMethodDef child_on_loop_def = {
	.ml_name = "apython_attach_child",
	.ml_meth = attach_child_on_loop,
	.ml_flags = METH_NOARGS,
};

/* A forked child whose loop runs is attachable once the loop gets
 * control back (a child that _exits first leaves no marker); one that
 * runs none is, when it runs one (attach_on_run). */
static void
attach_child_soon(void)
{
	PyObject	*loop, *fn, *h = NULL;

	if ((loop = attach_running_loop()) == NULL)
		return;
	if ((fn = PyCFunction_New(&child_on_loop_def, NULL)) != NULL)
		h = PyObject_CallMethod(loop, "call_soon", "O", fn);
	Py_XDECREF(fn);
	Py_DECREF(loop);
	if (h == NULL) {
		PyErr_Clear();
		attach_child_ready();
	}
	Py_XDECREF(h);
}

/* fork() holds ps_lock, so the child's list of requests is whole. */
static void
ps_fork_prepare(void)
{
	pthread_mutex_lock(&ps_lock);
}

static void
ps_fork_after(void)
{
	pthread_mutex_unlock(&ps_lock);
}

/* A forked child closes its parent's client. A foreign loop's epoll set
 * (uvloop's) is still the parent's there: removing the reader would
 * take it from the parent, so the child only forgets it watched. */
static void
attach_drop_conn(struct conn *c)
{
	if (c->loop != NULL && !loop_is_apython(c->loop))
		c->reading = c->writing = 0;
	conn_close_now(c);
}

/* In a forked child: the parent's attachers are not its. Their fds are
 * closed (never shut down: that would end the parent's too) and nothing
 * is sent, so an attacher sees the end when the parent ends. The
 * requests' memory stays: the child's loop may hold a callback to one,
 * which finds it claimed. */
static void
attach_drop_parents(void)
{
	struct attach_req	*a;
	struct ps_req		*r;
	PyObject	*conns;
	Py_ssize_t	 i;

	for (r = live; r != NULL; r = r->live_next) {
		if (r->fd >= 0)
			close(r->fd);
		r->fd = -1;
		r->claimed = 1;
	}
	live = pending = NULL;
	for (a = attaching; a != NULL; a = a->next) {
		if (a->fd >= 0)
			close(a->fd);
		a->fd = -1;
	}
	attaching = NULL;
	gil_users = 0;		/* the workers were the parent's threads */
	if (attach_server == NULL)
		return;
	if ((conns = PySequence_List(server_of(attach_server)->conns)) == NULL)
		PyErr_WriteUnraisable(NULL);
	for (i = 0; conns != NULL && i < PyList_GET_SIZE(conns); i++)
		attach_drop_conn(conn_of(PyList_GET_ITEM(conns, i)));
	Py_XDECREF(conns);
	server_close(attach_server);
	Py_CLEAR(attach_server);
}

/* os.register_at_fork's after_in_child: the child is attached on its
 * own (its pid, its marker); the parent's requests are not its. Runs
 * after the loops' own hook (loop/fork.c, registered first), so a
 * session's watches go from the child's own epoll set. */
static PyObject *
attach_after_fork(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	attach_drop_parents();
	ctl_forked_child();
	attach_forked_child();
	attach_child_soon();
	Py_RETURN_NONE;
}

static PyMethodDef after_fork_def = {
	.ml_name = "apython_attach_after_fork",
	.ml_meth = attach_after_fork,
	.ml_flags = METH_NOARGS,
};

/* Follow the program's fork()s: -1 with exception. */
static int
attach_follow_forks(void)
{
	PyObject	*os, *fn, *r = NULL;

	if ((os = PyImport_ImportModule("os")) == NULL)
		return -1;
	if ((fn = PyCFunction_New(&after_fork_def, NULL)) != NULL) {
		PyObject *args = PyTuple_New(0), *kw = Py_BuildValue(
		    "{s:O}", "after_in_child", fn);
		PyObject *reg = PyObject_GetAttrString(os, "register_at_fork");

		if (args != NULL && kw != NULL && reg != NULL)
			r = PyObject_Call(reg, args, kw);
		Py_XDECREF(args);
		Py_XDECREF(kw);
		Py_XDECREF(reg);
		Py_DECREF(fn);
	}
	Py_DECREF(os);
	Py_XDECREF(r);
	return r == NULL ? -1 : 0;
}

/* Whether APYTHON_NO_ATTACH turns attaching off. */
static int
attach_env_off(void)
{
	const char	*v = getenv("APYTHON_NO_ATTACH");

	return v != NULL && *v != '\0' && strcmp(v, "0") != 0;
}

/* Start (main thread, GIL held, once): the marker, and unless off
 * (--no-attach, APYTHON_NO_ATTACH) the directory watched. -1 with
 * exception; a directory that is not safe only leaves the program
 * unattachable. */
int
serve_attach_start(int off)
{
	int	on = !off && !attach_env_off();

	*(void **)&dump_threads = dlsym(RTLD_DEFAULT,
	    "_Py_DumpTracebackThreads");
#if PY_VERSION_HEX >= 0x03090000
	interp = PyInterpreterState_Get();
#else
	interp = PyThreadState_Get()->interp;
#endif
	if (on && (loop_observe(&attach_observer) != 0 ||
	    attach_follow_forks() != 0))
		return -1;
	if (pthread_atfork(ps_fork_prepare, ps_fork_after, ps_fork_after)
	    != 0) {
		PyErr_SetString(PyExc_OSError, "pthread_atfork failed");
		return -1;
	}
	ctl_on_request(CTL_REPORT, ps_report);
	attach_arm(on, attach_request);
	return 0;
}

/* The program ends: no more attaches, the attached consoles close. */
void
serve_attach_shutdown(void)
{
	attach_disarm();
	workers_finish();
	if (attach_server != NULL)
		server_close(attach_server);
	Py_CLEAR(attach_server);
	Py_CLEAR(running);
}
