/* loop/: the asyncio event loop on libevent (apython.Loop) and its policy. */
#ifndef APYTHON_LOOP_H
#define APYTHON_LOOP_H

#include <stddef.h>

#include "compat.h"
#include "lib/lib.h"

struct event_base;

/* What the console learns from the loop. */
struct loop_hooks {
	/* A loop made by the policy in the main thread starts running. */
	int	(*on_run)(PyObject *loop);
	/* A loop that is not running is about to close. */
	void	(*on_close)(PyObject *loop);
};

void	 loop_set_hooks(const struct loop_hooks *);
int	 loop_add_to_module(PyObject *module);
int	 loop_install_policy(PyObject *module);

/* Internal to loop/: the core type and the policy's mark on its loops. */
PyTypeObject	*loop_core_type(void);
int		 loop_core_ready(void);
void		 loop_set_eligible(PyObject *);
int		 loop_debug(PyObject *);

/* Internal to loop/: asyncio's Handle and TimerHandle, from C. */
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

/* Internal to loop/: the socket transport's C paths, reading into a
 * buffer of its loop's. */
#define LOOP_READ_MAX	(256 * 1024)	/* asyncio's max_size */
char		*loop_read_buffer(PyObject *);
void		 loop_read_release(PyObject *);
int		 transport_ready(void);
PyObject	*transport_make(PyObject *, PyObject *const *, Py_ssize_t,
		     PyObject *);

/* Internal to loop/: asyncio.streams' reading half for its own classes. */
int		 stream_ready(void);
int		 stream_data_received(PyObject *, const char *, Py_ssize_t);

/* Internal to loop/: the sock_* methods as C operations (sock.c), and
 * the epoll set where they wait (poll.c). */
enum { SOCK_RECV, SOCK_RECV_INTO, SOCK_SENDALL, SOCK_ACCEPT, SOCK_RECVFROM,
    SOCK_RECVFROM_INTO, SOCK_SENDTO };
int		 sock_ready(void);
PyObject	*sock_op_new(PyObject *, int, PyObject *const *, Py_ssize_t);
int		 sock_op_check(PyObject *);
int		 sock_op_run(PyObject *);
struct sockpoll;
struct sockpoll	*loop_sockpoll(PyObject *, int);
int		 loop_soon_call(PyObject *, PyObject *, PyObject *, PyObject *);
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

/* Internal to loop/: loop._ready, a view of the ready queue. */
int		 ready_view_ready(void);
PyObject	*ready_view_new(PyObject *);
struct ring	*loop_ready_ring(PyObject *);
int		 loop_ready_append(PyObject *, PyObject *);
void		 loop_ready_clear(PyObject *);

/* Internal to loop/: fd watchers on libevent, and the view asyncio's
 * transports read as loop._selector. */
struct watchers;
typedef int (*watcher_fn)(void *, int, int, PyObject *);
struct watchers	*watchers_new(struct event_base *);
void		 watchers_free(struct watchers *);
void		 watchers_clear(struct watchers *);
int		 watchers_set(struct watchers *, int, int, PyObject *,
		     PyObject **);
PyObject	*watchers_get(struct watchers *, int, int);
int		 watchers_dispatch(struct watchers *, watcher_fn, void *);
int		 watchers_traverse(struct watchers *, visitproc, void *);
size_t		 watchers_count(struct watchers *);
PyObject	*selector_view_new(PyObject *, struct watchers *);
int		 selector_view_ready(void);

#endif
