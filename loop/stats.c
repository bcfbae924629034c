/* The loop's own figures: loop.stats() (what is queued, timed and
 * watched; how often the loop turned; the slowest recent callbacks) and
 * loop_stuck_seconds() for other threads.
 *
 * Cost: a precise clock_gettime() is ~27 ns here, a quarter of what the
 * loop spends on a short callback, so callbacks are not each timed.
 * After each one the coarse clock (~4 ns, one kernel tick) is read; only
 * when it has ticked is the precise clock read. A callback that took a
 * tick or more is therefore always seen, and measured from the latest
 * precise reading before it began (the pass's start, or the last tick
 * seen), which is less than a tick before it: durations are at most one
 * tick too long, never too short. The pass's start is the clock reading
 * expiring timers takes anyway. */
#include <stdatomic.h>
#include <string.h>

#include "loop/loop-internal.h"

#define SLOW_MIN	0.010	/* seconds: a callback this long is kept */

/* As the turn of the loop running in the main thread (-1: none). */
_Static_assert(sizeof(double) == sizeof(unsigned long long),
    "a double fits an atomic_ullong");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2,
    "loop_stuck_seconds() must not take a lock (signal handlers call it)");
atomic_ullong stats_main_turn = 0xbff0000000000000ULL;	/* -1.0 */

static PyObject *format_handle;		/* base_events._format_handle */

/* Seconds the main thread's loop has been held by its pass (loop.h). */
double
loop_stuck_seconds(void)
{
	unsigned long long	bits;
	double			t, now;

	bits = atomic_load_explicit(&stats_main_turn, memory_order_relaxed);
	memcpy(&t, &bits, sizeof t);
	if (t <= 0)
		return t < 0 ? -1 : 0;
	now = loop_now();
	return now > t ? now - t : 0;
}

/* run_forever() starts iterating. */
void
stats_run_begin(struct loop *self)
{
	self->st.running = loop_in_main_thread() ? STATS_MAIN : STATS_RUNNING;
	self->st.run_start = self->st.turn = self->st.mark = loop_now();
	stats_publish(self, self->st.turn);
}

/* run_forever() stops iterating, whatever the way. */
void
stats_run_end(struct loop *self)
{
	self->st.ran += loop_now() - self->st.run_start;
	self->st.turn = -1;
	stats_publish(self, -1);
	self->st.running = STATS_STOPPED;
}

/* The loop is about to block; what to give stats_wait_end(). */
double
stats_wait_begin(struct loop *self)
{
	double	t0 = loop_now();

	if (self->st.running != STATS_STOPPED) {
		self->st.turn = 0;
		stats_publish(self, 0);
	}
	return t0;
}

/* The blocking wait begun at t0 is over. */
void
stats_wait_end(struct loop *self, double t0)
{
	double	t = loop_now();

	self->st.mark = t;
	if (self->st.running == STATS_STOPPED)
		return;	/* not counted: busy and idle are run_forever()'s */
	self->st.waited += t - t0;
	self->st.turn = t;
	stats_publish(self, t);
}

/* The slot a callback of dt seconds takes at now, or -1: a free one, else
 * the oldest of those past LOOP_RECENT, else the fastest if faster. */
static int
stats_slot(const struct loop_stats *st, double dt, double now)
{
	int	i, pick = -1;

	for (i = 0; i < LOOP_SLOW_KEEP; i++)
		if (st->slow[i].name == NULL)
			return i;
	for (i = 0; i < LOOP_SLOW_KEEP; i++)
		if (now - st->slow[i].at > LOOP_RECENT &&
		    (pick < 0 || st->slow[i].at < st->slow[pick].at))
			pick = i;
	if (pick >= 0)
		return pick;
	for (i = 0; i < LOOP_SLOW_KEEP; i++)
		if (pick < 0 || st->slow[i].seconds < st->slow[pick].seconds)
			pick = i;
	return st->slow[pick].seconds < dt ? pick : -1;
}

/* What asyncio's debug mode calls h in its slow callback warning; a sock
 * operation by its repr. A name that cannot be made is the type's; only
 * what is not an Exception (KeyboardInterrupt...) comes out, as from a
 * callback. */
static PyObject *
stats_name(PyObject *h)
{
	PyObject	*name;

	name = sock_op_check(h) ? PyObject_Repr(h) :
	    PyObject_CallOneArg(format_handle, h);
	if (name != NULL && !PyUnicode_Check(name))
		Py_SETREF(name, PyObject_Str(name));
	if (name == NULL && PyErr_ExceptionMatches(PyExc_Exception)) {
		PyErr_Clear();
		name = PyUnicode_FromFormat("<%s>", Py_TYPE(h)->tp_name);
	}
	return name;
}

/* Keep h, which ran for dt seconds from at, among the slowest. */
static int
stats_keep(struct loop *self, PyObject *h, double dt, double at, double now)
{
	struct loop_slow	*s;
	PyObject		*name;
	int			 i;

	if ((i = stats_slot(&self->st, dt, now)) < 0)
		return 0;
	if ((name = stats_name(h)) == NULL)
		return -1;
	s = &self->st.slow[i];
	Py_XSETREF(s->name, name);
	s->seconds = dt;
	s->at = at;
	self->st.mark = loop_now();	/* naming is not the next one's time */
	return 0;
}

/* The coarse clock ticked (now c) while h ran: read the precise one,
 * and keep h if it ran SLOW_MIN or more. */
int
stats_tick(struct loop *self, PyObject *h, long long c)
{
	double	t = loop_now(), at = self->st.mark;

	self->st.coarse = c;
	self->st.mark = t;
	if (t - at < SLOW_MIN)
		return 0;
	return stats_keep(self, h, t - at, at, t);
}

/* Drop the names kept. */
void
stats_clear(struct loop *self)
{
	int	i;

	for (i = 0; i < LOOP_SLOW_KEEP; i++)
		Py_CLEAR(self->st.slow[i].name);
}

/* The slow callbacks as a list of (name, seconds, at), slowest first. */
static PyObject *
stats_slow_list(struct loop *self)
{
	const struct loop_slow	*order[LOOP_SLOW_KEEP], *s;
	PyObject		*list, *item;
	int			 i, j, n = 0;

	for (i = 0; i < LOOP_SLOW_KEEP; i++) {
		if ((s = &self->st.slow[i])->name == NULL)
			continue;
		for (j = n++; j > 0 && order[j - 1]->seconds < s->seconds; j--)
			order[j] = order[j - 1];
		order[j] = s;
	}
	if ((list = PyList_New(n)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		item = Py_BuildValue("(Odd)", order[i]->name, order[i]->seconds,
		    order[i]->at);
		if (item == NULL) {
			Py_DECREF(list);
			return NULL;
		}
		PyList_SET_ITEM(list, i, item);
	}
	return list;
}

/* Timers in the heap that were not cancelled. */
static size_t
stats_live_timers(struct loop *self)
{
	size_t	i, n = 0;

	for (i = 0; self->timers != NULL && i < heap_len(self->timers); i++)
		if (handle_cancelled_bool(heap_at(self->timers, i)) != 1)
			n++;
	return n;
}

/* d[key] = v, v stolen; -1 with exception. */
static int
stats_set(PyObject *d, const char *key, PyObject *v)
{
	int	r;

	if (v == NULL)
		return -1;
	r = PyDict_SetItemString(d, key, v);
	Py_DECREF(v);
	return r;
}

/* How long this loop's current pass has run, as loop_stuck_seconds()
 * (which the main thread's loop goes through); None when not running. */
static PyObject *
stats_stuck(struct loop *self)
{
	double	t = self->st.turn;

	if (t < 0)
		Py_RETURN_NONE;
	if (self->st.running == STATS_MAIN)
		return PyFloat_FromDouble(loop_stuck_seconds());
	return PyFloat_FromDouble(t == 0 ? 0 : loop_now() - t);
}

/* Seconds run_forever() has run, the current run included. */
static double
stats_ran(struct loop *self)
{
	return self->st.ran + (self->st.turn >= 0 ?
	    loop_now() - self->st.run_start : 0);
}

/* stats(): the figures as a new dict (the manual lists them). */
static PyObject *
loop_stats(struct loop *self, PyObject *unused)
{
	PyObject	*d;
	size_t		 readers = 0, writers = 0;

	(void)unused;
	if (self->io != NULL)
		watchers_kinds(self->io, &readers, &writers);
	if ((d = PyDict_New()) == NULL)
		return NULL;
	if (stats_set(d, "ready", PyLong_FromSize_t(self->ready ?
	    ring_len(self->ready) : 0)) != 0 ||
	    stats_set(d, "timers", PyLong_FromSize_t(stats_live_timers(self)))
	    != 0 ||
	    stats_set(d, "readers", PyLong_FromSize_t(readers)) != 0 ||
	    stats_set(d, "writers", PyLong_FromSize_t(writers)) != 0 ||
	    stats_set(d, "sock_waiting", PyLong_FromSize_t(
	    sockpoll_waiting(self->sp))) != 0 ||
	    stats_set(d, "iterations", PyLong_FromUnsignedLongLong(
	    self->st.iterations)) != 0 ||
	    stats_set(d, "callbacks", PyLong_FromUnsignedLongLong(
	    self->st.callbacks)) != 0 ||
	    stats_set(d, "busy", PyFloat_FromDouble(stats_ran(self) -
	    self->st.waited)) != 0 ||
	    stats_set(d, "idle", PyFloat_FromDouble(self->st.waited)) != 0 ||
	    stats_set(d, "stuck", stats_stuck(self)) != 0 ||
	    stats_set(d, "timer_lag", PyFloat_FromDouble(self->st.late)) != 0 ||
	    stats_set(d, "slow_callbacks", stats_slow_list(self)) != 0) {
		Py_DECREF(d);
		return NULL;
	}
	return d;
}

const PyMethodDef loop_stats_methods[] = {
	{ .ml_name = "stats",
	  .ml_meth = (PyCFunction)loop_stats,
	  .ml_flags = METH_NOARGS,
	  .ml_doc = "The loop's figures: what is queued, timed and watched, "
	    "how it turned, its slowest recent callbacks." },
	{ .ml_name = NULL },
};

/* What naming slow callbacks needs; -1 with exception. */
int
stats_ready(void)
{
	PyObject	*m;

	if ((m = PyImport_ImportModule("asyncio.base_events")) == NULL)
		return -1;
	format_handle = PyObject_GetAttrString(m, "_format_handle");
	Py_DECREF(m);
	return format_handle == NULL ? -1 : 0;
}
