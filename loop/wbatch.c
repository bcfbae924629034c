/* Batched writes: a socket transport's write() made while the loop runs
 * a pass's callbacks (loop_run_queued: handles, task steps, I/O
 * callbacks, timers), in the loop's thread, with nothing buffered before
 * it, keeps its bytes here until the pass ends; then each transport's
 * bytes leave in one send()/sendmsg(), all of the pass's together (the
 * peer is woken once a pass, not once a write, as uvloop does).
 *
 * What a program sees stays asyncio's: every method that shows the
 * transport's state, or hands the socket out, flushes first
 * (transport.c), as does os.fork()'s before hook (fork.c); is_closing()
 * asks poll() and flushes only when a send would fail now; a write from
 * another thread, or outside any pass, sends at once. What moves is the
 * moment the peer gets the bytes (the pass's end), and an error of held
 * bytes nobody observed shows there, not inside write().
 *
 * Ownership: the list holds a reference to each transport and to each
 * piece of data (bytes, copied from mutable buffers by transport.c).
 * Everything here runs under the GIL, in the loop's thread but for
 * another thread's write and the fork hook, which only flush; an entry
 * is taken off the list before its send, which can run Python. The list
 * keeps the order of the transports' first writes. depth > 0 with
 * thread equal to the caller's says "inside a pass". Every pass
 * ends with wbatch_flush_all() (run.c), so nothing is held between
 * passes: not when the loop stops, returns from run_until_complete() or
 * is closed. */
#include "loop/loop-internal.h"

/* The entry of tr, or NULL. */
static struct wb_entry *
wbatch_find(struct loop_wbatch *w, PyObject *tr)
{
	size_t	i;

	for (i = 0; i < w->n; i++)
		if (w->e[i].tr == tr)
			return &w->e[i];
	return NULL;
}

/* A new entry for tr on fd; NULL with exception. */
static struct wb_entry *
wbatch_add(struct loop_wbatch *w, PyObject *tr, int fd)
{
	struct wb_entry	*e;
	size_t		 cap;

	if (w->n == w->cap) {
		cap = w->cap ? w->cap * 2 : 8;
		if ((e = PyMem_RawRealloc(w->e, cap * sizeof(*e))) == NULL) {
			PyErr_NoMemory();
			return NULL;
		}
		w->e = e;
		w->cap = cap;
	}
	e = &w->e[w->n++];
	e->tr = Py_NewRef(tr);
	e->fd = fd;
	e->n = 0;
	e->bytes = 0;
	return e;
}

/* Send what entry *e (taken off the list) holds, then drop it. */
static int
wbatch_send(struct wb_entry *e)
{
	int	r, i;

	r = transport_sendv(e->tr, e->fd, e->data, e->n, e->bytes);
	for (i = 0; i < e->n; i++)
		Py_DECREF(e->data[i]);
	Py_DECREF(e->tr);
	return r;
}

/* Take entry i off the list and send it; -1 with exception. It leaves
 * a hole (tr NULL), so that the others keep their places and their
 * order (the transports' bytes leave in the order asyncio sent them);
 * holes at the end are dropped, and the pass's end empties the list. */
static int
wbatch_take(struct loop_wbatch *w, size_t i)
{
	struct wb_entry	e = w->e[i];

	w->e[i].tr = NULL;
	while (w->n > 0 && w->e[w->n - 1].tr == NULL)
		w->n--;
	return wbatch_send(&e);
}

int
wbatch_inside(struct loop *self)
{
	return self->wb.depth > 0 &&
	    self->wb.thread == PyThread_get_thread_ident();
}

/* Keep data (bytes, len > 0) written on tr (fd) for the end of the
 * pass; sent now with what is held when that makes more than
 * limit bytes or fills the slots. 0, or -1 with exception. */
int
wbatch_keep(struct loop *self, PyObject *tr, int fd, PyObject *data,
    Py_ssize_t limit)
{
	struct loop_wbatch	*w = &self->wb;
	struct wb_entry		*e;

	/* A write to the WB_HELD+1st transport of a pass sends what the
	 * others hold (in order), so that finding one stays short when a
	 * callback writes to thousands of them. */
	if ((e = wbatch_find(w, tr)) == NULL && w->n >= WB_HELD &&
	    wbatch_flush_all(self) != 0)
		return -1;
	if (e == NULL && (e = wbatch_add(w, tr, fd)) == NULL)
		return -1;
	e->data[e->n++] = Py_NewRef(data);
	e->bytes += PyBytes_GET_SIZE(data);
	if (e->n < WB_SLOTS && e->bytes <= limit)
		return 0;
	return wbatch_take(w, (size_t)(e - w->e));
}

/* Send what tr holds, if anything; -1 with exception. */
int
wbatch_flush(struct loop *self, PyObject *tr)
{
	struct wb_entry	*e;

	if (self->wb.n == 0 || (e = wbatch_find(&self->wb, tr)) == NULL)
		return 0;
	return wbatch_take(&self->wb, (size_t)(e - self->wb.e));
}

/* The fd of what tr holds, -1 when it holds nothing. */
int
wbatch_held(struct loop *self, PyObject *tr)
{
	struct wb_entry	*e;

	if (self->wb.n == 0 || (e = wbatch_find(&self->wb, tr)) == NULL)
		return -1;
	return e->fd;
}

/* Send everything held (the pass ended, or the process forks).
 * Writes made while sending go out at once (depth is down by then). An
 * exception already set (a callback's KeyboardInterrupt) is kept; one
 * raised here is reported, the first one wins. -1 with exception. */
int
wbatch_flush_all(struct loop *self)
{
	PyObject	*exc = NULL;
	size_t		 i;
	int		 r = 0;

	if (PyErr_Occurred())
		exc = py_exception_fetch();
	for (i = 0; i < self->wb.n; i++)
		if (self->wb.e[i].tr != NULL &&
		    wbatch_take(&self->wb, i) != 0) {
			r = -1;
			if (exc == NULL)
				exc = py_exception_fetch();
			else
				PyErr_Clear();
		}
	if (exc != NULL) {
		py_exception_raise(exc);
		return -1;
	}
	return r;
}

/* Drop what is held without sending (the loop goes away). */
void
wbatch_free(struct loop *self)
{
	struct wb_entry	*e;
	int		 i;

	while (self->wb.n > 0) {
		e = &self->wb.e[--self->wb.n];
		if (e->tr == NULL)
			continue;
		for (i = 0; i < e->n; i++)
			Py_DECREF(e->data[i]);
		Py_DECREF(e->tr);
	}
	PyMem_RawFree(self->wb.e);
	self->wb.e = NULL;
	self->wb.cap = 0;
}
