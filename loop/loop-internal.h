/* What loop/'s files share; nothing outside loop/ includes this. Grouped
 * by the file that defines each part. */
#ifndef APYTHON_LOOP_INTERNAL_H
#define APYTHON_LOOP_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "compat.h"
#include "lib/lib.h"
#include "loop/loop.h"
#include "py/py.h"

struct event_base;
struct sockpoll;
struct watchers;

/* stats.c: what loop.stats() shows, kept by the loop's thread under the
 * GIL (see stats.c for how callbacks are timed). */
#define LOOP_SLOW_KEEP	10
#define LOOP_RECENT	60.0	/* seconds: what is older gives way */
struct loop_slow {
	PyObject	*name;		/* asyncio's debug name; NULL: free */
	double		 seconds;
	double		 at;		/* loop.time() it began */
};
struct loop_stats {
	unsigned long long	iterations;
	unsigned long long	callbacks;
	long long		coarse;	/* ns, coarse clock after the last callback */
	double			mark;	/* not after the next callback began */
	double			turn;	/* this pass began; 0: waiting; -1: not running */
	double			run_start;
	double			ran;	/* seconds in run_forever, past runs */
	double			waited;	/* seconds blocked waiting, all runs */
	double			late;	/* the most a timer ran late lately */
	double			late_at; /* when that was */
	int			running; /* STATS_* */
	struct loop_slow	slow[LOOP_SLOW_KEEP];
};
enum { STATS_STOPPED, STATS_RUNNING, STATS_MAIN };

/* wbatch.c: transports' writes held until the loop's pass ends. */
#define WB_SLOTS	8	/* writes held per transport */
#define WB_LIMIT	(64 * 1024)	/* bytes held per transport, at most */
#define WB_HELD	32	/* transports held at once: a write looks them up */
struct wb_entry {
	PyObject	*tr;		/* the transport, owned */
	int		 fd;
	int		 n;
	Py_ssize_t	 bytes;
	PyObject	*data[WB_SLOTS];	/* bytes, owned */
};
struct loop_wbatch {
	struct wb_entry	*e;
	size_t		 n, cap;
	int		 depth;		/* passes running (nested: > 1) */
	unsigned long	 thread;	/* the thread running them */
};

/* apython.LoopCore: one per loop, owned by the thread that runs it; only
 * sleeping, woken and wake_fd are touched by other threads. */
struct loop {
	PyObject_HEAD
	struct event_base	*base;
	struct event		*timeout_ev;
	struct event		*wake_ev;
	int			 wake_fd;	/* eventfd: threads wake us */
	struct ring		*ready;	/* loop._ready shows it (ready.c) */
	struct heap		*timers;
	size_t			 cancelled;	/* cancelled timers in the heap */
	struct watchers		*io;
	struct sockpoll		*sp;		/* where sock_* wait, once used */
	PyObject		*future_kw;	/* {'loop': self} */
	PyObject		*last_soon;	/* newest queued handle, borrowed */
	char			*read_buf;	/* LOOP_READ_MAX bytes, once used */
	int			 read_busy;	/* read_buf holds bytes not copied */
	atomic_int		 sleeping;
	atomic_int		 woken;		/* eventfd written, not yet read */
	int			 closed;
	int			 debug;		/* set_debug(): asyncio's checks */
	struct loop		*next;		/* all loops, for fork */
	double			 resolution;
	struct loop_stats	 st;
	struct loop_wbatch	 wb;
};

/* The loop behind a LoopCore object (the caller knows it is one). */
static inline struct loop *
loop_of(PyObject *o)
{
	return (struct loop *)o;
}

/* Seconds on CLOCK_MONOTONIC, as time.monotonic(). */
static inline double
loop_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The methods a file adds to LoopCore, NULL-terminated; core.c gathers
 * them into the type. */
#define LOOP_FASTKW	(METH_FASTCALL | METH_KEYWORDS)

/* core.c: the type, its parts and its life. */
int		 loop_methods_join(PyMethodDef *, size_t,
		     const PyMethodDef *const *, size_t);
PyTypeObject	*loop_core_type(void);
int		 loop_core_ready(void);
int		 loop_in_main_thread(void);
PyObject	*loop_super(struct loop *);
int		 loop_check_open(struct loop *);
#define LOOP_READ_MAX	(256 * 1024)	/* asyncio's max_size */
char		*loop_read_buffer(PyObject *);
void		 loop_read_release(PyObject *);
#define LOOP_LARGE_READ	(64 * 1024)	/* tunes malloc, see core.c */
void		 loop_read_size(size_t);

/* schedule.c: the ready queue, timers, call_soon and its kin. */
extern const PyMethodDef loop_schedule_methods[];
int		 schedule_ready(void);
int		 loop_push_ready(struct loop *, PyObject *);
int		 loop_soon_call(PyObject *, PyObject *, PyObject *, PyObject *);
void		 loop_drop_ready(struct loop *);
int		 loop_prune_timers(struct loop *);
int		 loop_expire_timers(struct loop *, double);
struct ring	*loop_ready_ring(PyObject *);
int		 loop_ready_append(PyObject *, PyObject *);
void		 loop_ready_clear(PyObject *);

/* run.c: one iteration, run_forever() and the signal wakeup fd. */
extern const PyMethodDef loop_run_methods[];
int		 run_ready(void);

/* debug.c: set_debug(), asyncio's slow callback warning, repr(). */
extern const PyMethodDef loop_debug_methods[];
int		 debug_ready(void);
int		 loop_debug(PyObject *);
int		 loop_check_slow(struct loop *, PyObject *, double);
PyObject	*loop_repr(PyObject *);

/* stats.c: the loop's figures and loop_stuck_seconds(). */
extern const PyMethodDef loop_stats_methods[];
int		 stats_ready(void);
void		 stats_run_begin(struct loop *);
void		 stats_run_end(struct loop *);
double		 stats_wait_begin(struct loop *);
void		 stats_wait_end(struct loop *, double);
int		 stats_tick(struct loop *, PyObject *, long long);
void		 stats_clear(struct loop *);

/* The coarse clock (CLOCK_MONOTONIC_COARSE) in ns: a few ns to read, one
 * kernel tick (1-10 ms; 4 here) of resolution. */
static inline long long
stats_coarse(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The main thread's loop's turn as the bits of a double, for
 * loop_stuck_seconds(); only that thread writes it. */
extern atomic_ullong stats_main_turn;

/* Tell other threads the turn t of a loop running in the main thread. */
static inline void
stats_publish(struct loop *self, double t)
{
	unsigned long long	bits;

	if (self->st.running != STATS_MAIN)
		return;
	memcpy(&bits, &t, sizeof bits);
	atomic_store_explicit(&stats_main_turn, bits, memory_order_relaxed);
}

/* A pass begins running its timers and callbacks at now (a _run_once()
 * called outside run_forever() does not turn the loop). */
static inline void
stats_turn(struct loop *self, double now)
{
	self->st.iterations++;
	self->st.mark = now;
	if (self->st.running == STATS_STOPPED)
		return;
	self->st.turn = now;
	stats_publish(self, now);
}

/* A timer due late seconds ago runs in the pass begun at now: keep the
 * most of the last minute, or, past it, start afresh. */
static inline void
stats_timer_late(struct loop *self, double late, double now)
{
	if (late > self->st.late || now - self->st.late_at > LOOP_RECENT) {
		self->st.late = late > 0 ? late : 0;
		self->st.late_at = now;
	}
}

/* After each callback ran: only a tick of the coarse clock since the
 * last one costs a precise reading (stats.c). */
static inline int
stats_after_callback(struct loop *self, PyObject *h)
{
	long long	c = stats_coarse();

	self->st.callbacks++;
	if (c == self->st.coarse)
		return 0;
	return stats_tick(self, h, c);
}

/* observe.c: telling the observers (loop_observe(), loop.h). */
int		 loop_notify_run(PyObject *);
int		 loop_notify_close(struct loop *);

/* hook.c: asyncio's _set_running_loop, replaced by ours. */
int		 loop_install_hook(void);

/* fork.c: every live loop, re-initialised in a forked child. */
int		 fork_ready(void);
void		 loop_link(struct loop *);
void		 loop_unlink(struct loop *);

/* args.c: keyword arguments placed by parameter name. */
struct loop_args {
	const char		*name;	/* the method, for messages */
	const char *const	*params; /* names, NULL-terminated */
	Py_ssize_t		 npos;	/* how many may come by position */
	Py_ssize_t		 kwfrom; /* the first that may come by name */
	Py_ssize_t		 need;	/* how many are required */
	int			 rest;	/* positionals past npos are *args */
	const char		*usage;	/* if set, the message for a wrong count */
	const char		*badkw;	/* if set, the message for a bad keyword */
};
int		 loop_args_parse(const struct loop_args *, PyObject *const *,
		     Py_ssize_t, PyObject *, PyObject **);
PyObject	*loop_args_tuple(PyObject *const *, Py_ssize_t);

/* handle.c: asyncio's Handle and TimerHandle, from C. */
int		 handle_ready(void);
PyObject	*handle_new(PyObject *, PyObject *, PyObject *, PyObject *, int);
PyObject	*timer_new(PyObject *, PyObject *, PyObject *, PyObject *,
		     PyObject *, int);
int		 handle_cancelled(PyObject *);
int		 handle_cancelled_bool(PyObject *);
int		 handle_run(PyObject *);
int		 timer_scheduled(PyObject *);
void		 timer_set_scheduled(PyObject *, int);
void		 handle_park(PyObject *);
void		 handle_unpark(PyObject *);
int		 handle_traverse(PyObject *, visitproc, void *);

/* transport.c: the socket transport's C paths, reading into the loop's
 * buffer (loop_read_buffer). */
extern const PyMethodDef loop_transport_methods[];
int		 transport_ready(void);
int		 transport_sendv(PyObject *, int, PyObject *const *, int,
		     Py_ssize_t);

/* wbatch.c: see there. */
int		 wbatch_inside(struct loop *);
int		 wbatch_keep(struct loop *, PyObject *, int, PyObject *,
		     Py_ssize_t);
int		 wbatch_flush(struct loop *, PyObject *);
int		 wbatch_held(struct loop *, PyObject *);
int		 wbatch_flush_all(struct loop *);
void		 wbatch_free(struct loop *);

/* stream.c: asyncio.streams' reading half for its own classes. */
int		 stream_ready(void);
int		 stream_data_received(PyObject *, const char *, Py_ssize_t);
/* A recv straight into a StreamReader's bytearray (stream_rx_begin). */
struct stream_rx {
	PyObject	*reader;
	PyObject	*buf;		/* reader._buffer, grown by room */
	Py_ssize_t	 len;		/* its length before */
	char		*at;		/* where the recv writes */
	size_t		 room;
};
void		 stream_rx_note(ssize_t);
int		 stream_rx_begin(PyObject *, struct stream_rx *);
int		 stream_rx_end(struct stream_rx *, ssize_t);

/* sock.c: the loop's sock_* methods, as operations on socket.socket. */
extern const PyMethodDef loop_sock_methods[];
struct sockpoll	*loop_sockpoll(PyObject *, int);

/* sockop.c: a sock_* operation, at once its coroutine and, once it
 * waits, the future its task blocks on; sockio.c makes its syscalls and
 * sockfuture.c is its future's side. */
enum { SOCK_RECV, SOCK_RECV_INTO, SOCK_SENDALL, SOCK_ACCEPT, SOCK_RECVFROM,
    SOCK_RECVFROM_INTO, SOCK_SENDTO };
enum { SOCKOP_NEW, SOCKOP_WAITING, SOCKOP_DONE, SOCKOP_CANCELLED };
struct sockop {
	PY_CORO_HEAD
	PyObject	*loop;
	PyObject	*sock;
	PyObject	*arg;		/* size, buffer or data, as the method's */
	PyObject	*arg2;		/* recvfrom_into's nbytes, sendto's address */
	PyObject	*value;		/* result, exception or cancel message */
	PyObject	*cb, *ctx;	/* the first done callback */
	PyObject	*more;		/* the others: a list of (fn, ctx) */
	Py_buffer	 view;		/* sendall's data while it is sent */
	Py_ssize_t	 n;		/* recv's size, sendall's bytes sent */
	int		 fd;
	unsigned char	 kind, state, failed, blocking, yielded, consumed;
	unsigned char	 has_view;
};

/* The operation behind an object of sockop.c's type. */
static inline struct sockop *
sockop_of(PyObject *o)
{
	return (struct sockop *)o;
}

/* Waits to write rather than to read. */
static inline int
sockop_dir(const struct sockop *op)
{
	return op->kind == SOCK_SENDALL || op->kind == SOCK_SENDTO;
}

/* Not over yet: not started, or waiting. */
static inline int
sockop_pending(const struct sockop *op)
{
	return op->state == SOCKOP_NEW || op->state == SOCKOP_WAITING;
}

int		 sock_ready(void);
PyObject	*sock_op_new(PyObject *, int, PyObject *const *, Py_ssize_t);
int		 sock_op_check(PyObject *);
int		 sockop_finish(struct sockop *, int);
void		 sockop_keep_error(struct sockop *);
int		 sockio_ready(void);
int		 sockop_start(struct sockop *);
int		 sock_op_run(PyObject *);
extern const PyMethodDef sockop_future_methods[];
extern PyGetSetDef sockop_future_getset[];
int		 sockfuture_ready(void);
int		 sockop_schedule(struct sockop *, PyObject *, PyObject *);
PyObject	*sockop_result(struct sockop *, PyObject *);

/* poll.c: the epoll set where sock_* operations wait. */
struct sockpoll	*sockpoll_new(struct event_base *);
void		 sockpoll_free(struct sockpoll *);
int		 sockpoll_traverse(struct sockpoll *, visitproc, void *);
int		 sockpoll_may(struct sockpoll *, PyObject *, int, int);
void		 sockpoll_drained(struct sockpoll *, PyObject *, int, int);
int		 sockpoll_wait(struct sockpoll *, PyObject *, int, int,
		     PyObject *);
void		 sockpoll_forget(struct sockpoll *, int, int, PyObject *);
int		 sockpoll_dispatch(struct sockpoll *,
		     int (*)(void *, PyObject *), void *);
int		 sockpoll_after_fork(struct sockpoll *);
size_t		 sockpoll_waiting(struct sockpoll *);

/* ready.c: loop._ready, a view of the ready queue. */
int		 ready_view_ready(void);
PyObject	*ready_view_new(PyObject *);

/* io.c: fd watchers on libevent, the loop's reader and writer methods,
 * and the view asyncio's transports read as loop._selector. */
extern const PyMethodDef loop_io_methods[];
typedef int (*watcher_fn)(void *, int, int, PyObject *);
struct watchers	*watchers_new(struct event_base *);
void		 watchers_free(struct watchers *);
void		 watchers_clear(struct watchers *);
int		 watchers_set(struct watchers *, int, int, PyObject *,
		     PyObject **);
int		 watchers_dispatch(struct watchers *, watcher_fn, void *);
int		 watchers_traverse(struct watchers *, visitproc, void *);
size_t		 watchers_count(struct watchers *);
void		 watchers_kinds(struct watchers *, size_t *, size_t *);
PyObject	*selector_view_new(PyObject *, struct watchers *);
int		 selector_view_ready(void);

#endif
