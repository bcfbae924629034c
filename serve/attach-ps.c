/* --ps, the program's side: a worker of ours asks the loop for
 * console_ps()'s text; when the loop does not answer, the control
 * thread's timers ask the main thread through the real-time signal
 * (CTL_REPORT: its Python handler runs even inside time.sleep, and the
 * frame it interrupted is the stuck stack), then, as the last resort,
 * write faulthandler's raw dump of the threads. */
#include "serve/serve-internal.h"

#include <sys/mman.h>
#include <sys/socket.h>

#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "console/console.h"
#include "ctl/ctl.h"
#include "loop/loop.h"

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

pthread_mutex_t		 ps_lock = PTHREAD_MUTEX_INITIALIZER;
struct ps_req		*ps_pending;
struct ps_req		*ps_live;
static PyInterpreterState *interp;	/* the main interpreter */

/* At start (main thread, GIL held): faulthandler's dump and the main
 * interpreter, for the last resort. */
void
ps_prepare(void)
{
	*(void **)&dump_threads = dlsym(RTLD_DEFAULT,
	    "_Py_DumpTracebackThreads");
#if PY_VERSION_HEX >= 0x03090000
	interp = PyInterpreterState_Get();
#else
	interp = PyThreadState_Get()->interp;
#endif
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

/* Take r out of ps_live; ps_lock held. */
static void
ps_unlist(struct ps_req *r)
{
	struct ps_req	**p;

	for (p = &ps_live; *p != NULL; p = &(*p)->live_next)
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

/* Take r out of ps_pending; ps_lock held. */
static void
ps_unpend(struct ps_req *r)
{
	struct ps_req	**p;

	for (p = &ps_pending; *p != NULL; p = &(*p)->next)
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
void
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
	/* console_ps runs Python: a reference of our own to the loop */
	PyObject	*loop = Py_XNewRef(attach_running);

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
int
ps_report(void)
{
	struct ps_req	*r, *todo[16];
	PyObject	*frame = (PyObject *)PyEval_GetFrame(), *loop;
	int		 i, n = 0;

	pthread_mutex_lock(&ps_lock);
	for (r = ps_pending; r != NULL && n < 16; r = r->next) {
		r->refs++;
		todo[n++] = r;
	}
	pthread_mutex_unlock(&ps_lock);
	for (i = 0; i < n; i++) {
		/* console_ps runs Python */
		loop = Py_XNewRef(attach_running);
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

/* Worker: ask the loop for r's text; GIL held. -1: no loop to ask. */
static int
ps_ask_loop(struct ps_req *r)
{
	PyObject	*capsule;
	int		 ret;

	pthread_mutex_lock(&ps_lock);
	r->refs++;
	pthread_mutex_unlock(&ps_lock);
	if ((capsule = PyCapsule_New(r, NULL, ps_capsule_free)) == NULL) {
		PyErr_Clear();
		ps_release(r);
		return -1;
	}
	ret = attach_call_soon(&ps_on_loop_def, capsule);
	Py_DECREF(capsule);	/* the loop's call holds it, if made */
	return ret;
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
void
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
	r->next = ps_pending;
	ps_pending = r;
	r->live_next = ps_live;
	ps_live = r;
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
