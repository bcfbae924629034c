/* A client's Ctrl-C while one of its statements holds the loop. While a
 * statement's code is on the CPU, apython's control thread (ctl/) reads
 * the client's socket in the loop's stead: the bytes go to a buffer the
 * loop takes later, in order, before anything it reads itself; a Ctrl-C
 * among them ('I', or telnet's IAC IP) is acted on at once (the main
 * thread is asked, ctl_ask_main) and rewritten so that the loop passes
 * over it (proto/scan.c). In the main thread, the request does what a
 * Ctrl-C read by the loop does (conn_interrupt: the statement's task is
 * cancelled) once the statement is off the CPU; if it is still on the
 * CPU after CONN_CTL_GRACE (its code spins, or blocks in a call), the
 * request raises KeyboardInterrupt in it. The grace spares a statement
 * about to await (print('x'); await ...) a traceback from the middle of
 * asyncio.
 *
 * Only for a loop in the main thread: the request is answered there.
 * The control thread stops watching as soon as it finds no statement on
 * the CPU; the next statement's step watches again. */
#include "serve/serve-internal.h"

#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console/console.h"
#include "ctl/ctl.h"
#include "py/py.h"
#include "sig/sig.h"

/* Bytes read ahead at most: a maximal frame (a line of SERVE_LINE_MAX,
 * as the loop accepts) and as much again, so that a Ctrl-C sent after
 * one is still found; past that the thread stops reading. */
#define CONN_CTL_MAX	(2 * ((size_t)FRAME_MAX + FRAME_HEADER))
#define CONN_CTL_GRACE	0.2	/* seconds a statement has to leave the CPU */

/*
 * Shared by the main thread and the control thread: lock guards every
 * field but conn, step, held, holding and entry. conn (a borrowed
 * reference: conn_ctl_free() runs before the connection goes), step,
 * held and holding are the main thread's, with the GIL; entry is
 * guarded by list_lock, taken before any reader's lock.
 */
struct conn_ctl {
	pthread_mutex_t		 lock;
	int			 fd;
	int			 on_cpu;	/* read: a statement holds the loop */
	int			 asked_on_cpu;	/* on_cpu when input() paused */
	int			 watching;	/* ctl/ watches fd */
	int			 interrupts;	/* found, not acted on yet */
	size_t			 cut;		/* buf's bytes up to the last */
	unsigned		 synced;	/* conn's reads when scan was set */
	struct sbuf		 buf;		/* read ahead, for the loop */
	struct scan		 scan;
	struct conn		*conn;
	unsigned		 step;		/* steps on the CPU so far */
	unsigned		 held;		/* the step a Ctrl-C waits for */
	int			 holding;	/* ... during its grace */
	LIST_ENTRY(conn_ctl)	 entry;
};

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static LIST_HEAD(, conn_ctl) all = LIST_HEAD_INITIALIZER(all);
static int handler_set;

/* Control thread: stop watching (lock held); the next step watches. */
static void
conn_ctl_stop(struct conn_ctl *x)
{
	if (x->watching)
		ctl_unwatch(x->fd);
	x->watching = 0;
}

/* Control thread: the client sent something while a statement holds
 * the loop: read it ahead, act on a Ctrl-C in it. */
static void
conn_ctl_readable(int fd, short revents, void *arg)
{
	struct conn_ctl	*x = arg;
	char		 chunk[4096];
	ssize_t		 n;
	size_t		 from, past = 0;
	int		 found = 0;

	(void)revents;
	pthread_mutex_lock(&x->lock);
	if (!x->on_cpu || sbuf_len(&x->buf) >= CONN_CTL_MAX) {
		conn_ctl_stop(x);
		pthread_mutex_unlock(&x->lock);
		return;
	}
	n = recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
	if (n > 0 && sbuf_add(&x->buf, chunk, n) == 0) {
		from = sbuf_len(&x->buf) - n;
		found = scan_run(&x->scan, sbuf_ptr(&x->buf), from, from + n,
		    &past);
		if (found > 0) {
			x->interrupts += found;
			x->cut = past;
		}
	} else if (n >= 0 || (errno != EAGAIN && errno != EINTR))
		conn_ctl_stop(x);	/* the end, an error (the loop's), ENOMEM */
	pthread_mutex_unlock(&x->lock);
	if (found > 0)
		ctl_ask_main(CTL_INTERRUPT);
}

/* Main thread: up to n connections with a Ctrl-C not acted on yet, or
 * one held for its statement's grace, in cs (new references); how many.
 * More than n: asked again. */
static int
conn_ctl_collect(struct conn **cs, int n)
{
	struct conn_ctl	*x;
	int		 k = 0, found;

	pthread_mutex_lock(&list_lock);
	LIST_FOREACH(x, &all, entry) {
		pthread_mutex_lock(&x->lock);
		found = x->interrupts > 0;
		if (found && k < n)
			x->interrupts = 0;
		pthread_mutex_unlock(&x->lock);
		if (!found && !x->holding)
			continue;
		if (k == n) {
			ctl_ask_main(CTL_INTERRUPT);
			break;
		}
		Py_INCREF((PyObject *)x->conn);
		cs[k++] = x->conn;
	}
	pthread_mutex_unlock(&list_lock);
	return k;
}

/* Control thread: the grace is over: ask the main thread again. */
static void
conn_ctl_again(void *unused)
{
	(void)unused;
	ctl_ask_main(CTL_INTERRUPT);
}

/* What the client sent up to its Ctrl-C is taken first, as the loop
 * would have (its lines then go with the statement); then the Ctrl-C:
 * 1 when it is to raise KeyboardInterrupt in c's statement (on the CPU
 * past its grace), 0 when it waits for the grace or was acted on as the
 * loop would; -1 with exception. */
static int
conn_ctl_interrupt(struct conn *c)
{
	struct conn_ctl	*x;

	if (conn_read_ahead(c, 1) != 0)
		return -1;
	if (c->closed || (x = c->ctl) == NULL)
		return 0;
	if (c->session == NULL || !console_remote_on_cpu(c->session)) {
		x->holding = 0;
		return conn_interrupt(c);
	}
	if (!x->holding) {
		x->holding = 1;
		x->held = x->step;
		ctl_after(CONN_CTL_GRACE, conn_ctl_again, NULL);
		return 0;
	}
	if (x->held != x->step)
		return 0;	/* not yet: the timer comes */
	x->holding = 0;
	lines_clear(&c->in);	/* type-ahead goes with the statement */
	return 1;
}

/* CTL_INTERRUPT, in the main thread from the real-time signal's
 * handler: every client's Ctrl-C found; a statement on the CPU past its
 * grace gets KeyboardInterrupt (only one can be on the CPU). */
static int
conn_ctl_on_interrupt(void)
{
	struct conn	*cs[32];
	int		 i, n = conn_ctl_collect(cs, 32), r = 0, raise = 0;

	for (i = 0; i < n; i++) {
		if (r >= 0 && (r = conn_ctl_interrupt(cs[i])) == 1)
			raise = 1;
		Py_DECREF((PyObject *)cs[i]);
	}
	if (r < 0)
		return -1;
	if (raise) {
		sig_console_raised();
		PyErr_SetNone(PyExc_KeyboardInterrupt);
	}
	return raise ? -1 : 0;
}

/* fork() holds every reader's lock (after list_lock, as elsewhere), so
 * that no child starts with one taken by the control thread. */
static void
conn_ctl_fork_prepare(void)
{
	struct conn_ctl	*x;

	pthread_mutex_lock(&list_lock);
	LIST_FOREACH(x, &all, entry)
		pthread_mutex_lock(&x->lock);
}

static void
conn_ctl_fork_parent(void)
{
	struct conn_ctl	*x;

	LIST_FOREACH(x, &all, entry)
		pthread_mutex_unlock(&x->lock);
	pthread_mutex_unlock(&list_lock);
}

/* The child has no control thread reading for it (nor watches): its
 * next statement watches anew. */
static void
conn_ctl_fork_child(void)
{
	struct conn_ctl	*x;

	LIST_FOREACH(x, &all, entry) {
		x->watching = x->on_cpu = x->asked_on_cpu = 0;
		x->interrupts = 0;
		pthread_mutex_unlock(&x->lock);
	}
	pthread_mutex_unlock(&list_lock);
}

/* Main thread: c's reader for the control thread, made on the first
 * statement of a client on a loop in the main thread; NULL if none. */
static struct conn_ctl *
conn_ctl_get(struct conn *c)
{
	struct conn_ctl	*x;

	if (c->ctl != NULL || c->closed || getpid() != gettid())
		return c->ctl;
	if ((x = calloc(1, sizeof *x)) == NULL)
		return NULL;
	if (!handler_set) {
		if (pthread_atfork(conn_ctl_fork_prepare, conn_ctl_fork_parent,
		    conn_ctl_fork_child) != 0) {
			free(x);
			return NULL;
		}
		ctl_on_request(CTL_INTERRUPT, conn_ctl_on_interrupt);
		handler_set = 1;
	}
	pthread_mutex_init(&x->lock, NULL);
	x->fd = c->fd;
	x->conn = c;
	x->synced = c->reads - 1;	/* not yet */
	pthread_mutex_lock(&list_lock);
	LIST_INSERT_HEAD(&all, x, entry);
	pthread_mutex_unlock(&list_lock);
	return c->ctl = x;
}

/* Where the loop's parser is, for the scanner (lock held): after the
 * loop read bytes the scanner did not see. */
static void
conn_ctl_sync(struct conn_ctl *x, struct conn *c)
{
	if (x->synced == c->reads)
		return;
	if (c->state == CONN_FRAMED)
		scan_frames(&x->scan, sbuf_ptr(&c->raw), sbuf_len(&c->raw));
	else
		scan_plain(&x->scan, &c->in);
	x->synced = c->reads;
}

/* The control thread reads c from now on (lock held). */
static void
conn_ctl_arm(struct conn_ctl *x, struct conn *c)
{
	conn_ctl_sync(x, c);
	x->on_cpu = 1;
	if (!x->watching && ctl_watch(x->fd, POLLIN, conn_ctl_readable, x) ==
	    0)
		x->watching = 1;
}

/* A statement of c's goes on the CPU: the control thread reads c. */
static void
conn_ctl_begin(struct conn *c)
{
	struct conn_ctl	*x;

	if ((c->state != CONN_FRAMED && c->state != CONN_PLAIN) ||
	    c->ended || c->asking || c->rdeof || (x = conn_ctl_get(c)) == NULL)
		return;
	x->step++;
	pthread_mutex_lock(&x->lock);
	conn_ctl_arm(x, c);
	pthread_mutex_unlock(&x->lock);
}

/* The statement comes off the CPU: the loop soon acts on a Ctrl-C that
 * waited for it, and takes what was read ahead (an exception may be
 * set: kept). */
static void
conn_ctl_end(struct conn *c)
{
	struct conn_ctl	*x = c->ctl;
	PyObject	*exc;
	size_t		 n;
	int		 held;

	if (x == NULL)
		return;
	pthread_mutex_lock(&x->lock);
	x->on_cpu = 0;
	n = sbuf_len(&x->buf);
	pthread_mutex_unlock(&x->lock);
	held = x->holding;
	x->holding = 0;
	if ((!held && n == 0) || c->closed)
		return;
	exc = PyErr_Occurred() ? py_exception_fetch() : NULL;
	if ((held && conn_call_later(c, &c->interrupting, -1,
	    "_interrupt") != 0) || (n > 0 && conn_call_later(c, &c->taking,
	    -1, "_take") != 0))
		PyErr_WriteUnraisable((PyObject *)c);
	if (exc != NULL)
		py_exception_raise(exc);
}

/* The loop: a Ctrl-C that waited for its statement to leave the CPU. */
int
conn_ctl_interrupt_now(struct conn *c)
{
	if (conn_read_ahead(c, 1) != 0)
		return -1;
	return c->closed ? 0 : conn_interrupt(c);
}

/* Peer callback (conn-console.c): a statement on or off the CPU. */
void
conn_ctl_cpu(struct conn *c, int on)
{
	if (on)
		conn_ctl_begin(c);
	else
		conn_ctl_end(c);
}

/* input() reads c itself: the control thread stops reading (pause), or
 * reads again (resume) only if a statement of c's was on the CPU: an
 * input() from a callback or another task leaves the loop to read. */
void
conn_ctl_pause(struct conn *c, int pause)
{
	struct conn_ctl	*x = c->ctl;

	if (x == NULL)
		return;
	pthread_mutex_lock(&x->lock);
	if (pause) {
		x->asked_on_cpu = x->on_cpu;
		x->on_cpu = 0;
	} else if (x->asked_on_cpu && !c->closed && !c->ended && !c->rdeof)
		conn_ctl_arm(x, c);
	pthread_mutex_unlock(&x->lock);
}

/* The bytes read ahead into *b (empty if none): all of them, or those
 * up to the last Ctrl-C found (upto_interrupt). -1 (ENOMEM). */
int
conn_ctl_take(struct conn *c, struct sbuf *b, int upto_interrupt)
{
	struct conn_ctl	*x = c->ctl;
	size_t		 n;
	int		 r = 0;

	memset(b, 0, sizeof *b);
	if (x == NULL)
		return 0;
	pthread_mutex_lock(&x->lock);
	n = sbuf_len(&x->buf);
	if (upto_interrupt && x->cut < n)
		n = x->cut;
	if (n == sbuf_len(&x->buf)) {
		*b = x->buf;
		memset(&x->buf, 0, sizeof x->buf);
	} else if ((r = sbuf_add(b, sbuf_ptr(&x->buf), n)) == 0)
		sbuf_drop(&x->buf, n);
	if (r == 0) {
		scan_taken(&x->scan, n);
		x->cut = x->cut > n ? x->cut - n : 0;
	}
	pthread_mutex_unlock(&x->lock);
	return r;
}

/* Before c's fd closes: the control thread lets go of it (on return it
 * does not run for c), and the reader goes. */
void
conn_ctl_free(struct conn *c)
{
	struct conn_ctl	*x = c->ctl;

	if (x == NULL)
		return;
	c->ctl = NULL;
	pthread_mutex_lock(&list_lock);
	LIST_REMOVE(x, entry);
	pthread_mutex_unlock(&list_lock);
	pthread_mutex_lock(&x->lock);
	x->on_cpu = 0;
	pthread_mutex_unlock(&x->lock);
	ctl_unwatch(x->fd);	/* waits for a callback under way */
	sbuf_free(&x->buf);
	pthread_mutex_destroy(&x->lock);
	free(x);
}
