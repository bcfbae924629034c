/* What serve/'s own files share. */
#ifndef APYTHON_SERVE_INTERNAL_H
#define APYTHON_SERVE_INTERNAL_H

#include <sys/types.h>
#include <sys/queue.h>

#include <pthread.h>
#include <stddef.h>
#include <time.h>

#include "serve/serve.h"

/* listen.c: listening sockets. */
struct listener {
	int	 fd;
	int	 family;
};

int	 listen_open(const struct serve_address *, struct listener **,
	     int *, char **cause);
int	 listen_name(int, char *, size_t);
int	 listen_is_loopback(const void *sockaddr);

/* server*.c: a console (or interface) server, the clients it holds. The loop's
 * thread only. */
struct server {
	PyObject_HEAD
	struct listener		*ls;
	int			 nls;
	PyObject		*loop;		/* where we listen, or NULL */
	PyObject		*conns;		/* set: connected clients */
	PyObject		*banner;	/* str, or NULL: the default */
	PyObject		*locals;	/* dict, or NULL */
	PyObject		*factory;	/* interfaces' (iface.c), or
						 * NULL: consoles */
	PyObject		*waiters;	/* wait_closed() futures */
	PyObject		*sockets;	/* socket.socket over ls, or NULL */
	PyObject		*pause;		/* handle: accepting resumes */
	char			*secret;
	size_t			 secretlen;
	char			 name[300];	/* what we listen on */
	char			 path[108];	/* unix socket to remove */
	dev_t			 dev;
	ino_t			 ino;
	int			 listening;
	int			 closed;
	LIST_ENTRY(server)	 entry;
};

static inline struct server *
server_of(PyObject *o)
{
	return (struct server *)o;
}

/* server.c: the object. */
PyObject	*server_new(const struct serve_address *, PyObject *banner,
		     PyObject *locals, PyObject *factory, char **cause);
PyObject	*server_new_bare(PyObject *banner, PyObject *locals);
int		 server_attach_loop(PyObject *, PyObject *loop);
void		 server_detach_loop(PyObject *);
void		 server_close(PyObject *);
void		 server_close_all(void);
PyObject	*server_loop(PyObject *);
const char	*server_name(PyObject *);
int		 server_ready(void);
PyObject	*server_banner(PyObject *);
PyObject	*server_locals(PyObject *);
PyObject	*server_factory(PyObject *);
int		 server_check_secret(PyObject *, const char *, size_t);
void		 server_remove_conn(PyObject *, PyObject *conn);

/* server-accept.c: taking clients. */
int		 server_listen(struct server *, int on);
PyObject	*server_on_accept(PyObject *, PyObject *fd);
PyObject	*server_on_resume(PyObject *, PyObject *);
int		 server_take(PyObject *, int fd);

/* server-api.c: the methods and attributes Python sees. */
extern PyMethodDef	 server_methods[];
extern PyGetSetDef	 server_getset[];
PyObject		*server_repr(PyObject *);

/* One client's connection (conn*.c). The loop's thread only; Python
 * calls made from here may close it (conn_close_now): who calls one
 * holds a reference across it and looks at closed afterwards. */
#define CONN_LINGER	5.0	/* seconds a closing client may take */
#define CONN_AUTH_TIME	60.0	/* seconds to send the secret */
#define CONN_PROBE	5.0	/* seconds between looks at a quiet client */
#define CONN_CHUNK	65536	/* bytes read, or framed, at a time */
#define CONN_READS	8	/* reads per wake-up, for fairness */

enum conn_state {
	CONN_AUTH,		/* the first line must be the secret */
	CONN_HELLO,		/* the first line says: plain or framed */
	CONN_PLAIN,		/* lines, as nc or telnet send them */
	CONN_FRAMED		/* frames, from apython --connect */
};

struct conn {
	PyObject_HEAD
	PyObject		*server;	/* borrowed; NULL once removed */
	PyObject		*loop;
	PyObject		*session;
	PyObject		*feeding;	/* handle: a feed is due */
	PyObject		*lingering;	/* handle: a deadline to close */
	PyObject		*probing;	/* handle: the next look */
	int			 fd;
	enum conn_state		 state;
	int			 reading;	/* the loop watches input */
	int			 writing;	/* ... and room for output */
	int			 paused;	/* enough input is queued */
	int			 eof;		/* no line after those queued */
	int			 eof_fed;
	int			 rdeof;		/* the socket's input ended */
	int			 ended;		/* send what is left, close */
	int			 shut;		/* output shut down */
	int			 closed;
	int			 wanted;	/* lines the console asked for */
	int			 asking;	/* input() waits for a line */
	int			 ask_eof;	/* ... and got Ctrl-D */
	int			 ask_interrupt;	/* ... and got Ctrl-C */
	struct lines		 in;		/* lines for the console */
	struct sbuf		 raw;		/* bytes not understood yet */
	struct sbuf		 out;		/* bytes not sent yet */
	char			*prompt;	/* shown, awaiting its line */
	size_t			 promptlen;
	struct conn_ctl		*ctl;		/* read while a statement runs */
	PyObject		*taking;	/* handle: take what it read */
	PyObject		*interrupting;	/* handle: a Ctrl-C it held */
	unsigned		 reads;		/* recv()s that got bytes */
	int			 iface;		/* an interface, not a console:
						 * session is iface.py's */
	PyObject		*waiter;	/* iface: readline()'s future */
	struct sbuf		 held;		/* iface: output after the last
						 * newline, the next prompt */
};

static inline struct conn *
conn_of(PyObject *o)
{
	return (struct conn *)o;
}

/* conn.c: the object, on a loop or not, and its loop calls. */
PyObject	*conn_new(PyObject *server, int fd, int auth,
		     const char *refuse);
int		 conn_attach_loop(struct conn *, PyObject *loop);
void		 conn_detach_loop(struct conn *);
void		 conn_close_now(struct conn *);
int		 conn_watch(struct conn *, int write, int on);
int		 conn_call_later(struct conn *, PyObject **, double,
		     const char *);
void		 conn_cancel_call(PyObject **);
int		 conn_ready(void);

/* conn-input.c: what the client sends. */
int		 conn_read(struct conn *);
int		 conn_read_ahead(struct conn *, int upto_interrupt);
int		 conn_hung_up(struct conn *);

/* conn-output.c: what the client is sent. */
void		 conn_send(struct conn *, int type, const char *, size_t);
void		 conn_say(struct conn *, const char *);
int		 conn_flush(struct conn *);
void		 conn_shut_write(struct conn *);
void		 conn_refuse(struct conn *, const char *);
void		 conn_bye(struct conn *);
void		 conn_too_long(struct conn *);
void		 conn_prompt_clear(struct conn *);

/* conn-ask.c: input() in a statement reads the client's next line. */
#define CONN_ASK_TICK	250	/* ms between looks at signals */
int		 conn_ask(struct conn *, const char *, size_t, PyObject **);

/* conn-ctl.c: the client's Ctrl-C while a statement holds the loop,
 * through the control thread (ctl/). */
void		 conn_ctl_cpu(struct conn *, int on);
void		 conn_ctl_pause(struct conn *, int pause);
int		 conn_ctl_take(struct conn *, struct sbuf *, int);
void		 conn_ctl_free(struct conn *);
int		 conn_ctl_interrupt_now(struct conn *);

/* conn-console.c: the client's console. */
int		 conn_start_console(struct conn *);
int		 conn_feed(struct conn *);
int		 conn_interrupt(struct conn *);
int		 conn_complete(struct conn *, const char *, size_t);
void		 conn_end(struct conn *);

/* iface.c: a served interface (start_interactive_server) instead. */
int		 iface_ready(void);
PyObject	*iface_console_factory(PyObject *console_class,
		     PyObject *locals, PyObject *filename,
		     PyObject *prompt_control);
int		 iface_start(struct conn *);
int		 iface_attach(struct conn *);
int		 iface_feed(struct conn *);
int		 iface_interrupt(struct conn *);
PyObject	*iface_complete(struct conn *, const char *, size_t,
		     const char *, size_t);
void		 iface_close(struct conn *, PyObject *session);
PyObject	*iface_on_readline(PyObject *, PyObject *);
PyObject	*iface_on_write(PyObject *, PyObject *);
PyObject	*iface_on_end(PyObject *, PyObject *);


/* attach*.c: the program's side of --attach and --ps. Three kinds of
 * thread meet here: the control thread (ctl/: attach/'s handler and the
 * --ps timers, never the GIL), a worker thread of ours per request
 * (takes the GIL only between worker_enter and worker_leave) and the
 * main thread (the loop, CTL_REPORT, fork). ps_lock guards every list
 * below and the workers' count; fork() holds it (ps_fork_prepare), so a
 * forked child finds the lists whole. */
extern pthread_mutex_t	 ps_lock;

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
	struct ps_req		*next;		/* in ps_pending (CTL_REPORT) */
	struct ps_req		*live_next;	/* in ps_live */
	pthread_cond_t		 cond;
};

/* An --attach request's socket until a session takes it: listed, so
 * that a forked child closes those of its parent's in flight. Owned by
 * its worker, then by the capsule that hands it to the loop. */
struct attach_req {
	int			 fd;		/* -1 once closed or taken */
	struct attach_req	*next;		/* in attach_reqs */
};

/* attach.c: arming at start, the attached consoles' server, --attach
 * requests. attach_running and attach_server are the main thread's
 * (GIL held): set by the loop observer and attach_on_loop, cleared at
 * a loop's close, at shutdown and (attach_server) in a forked child. */
extern PyObject		*attach_running;	/* the main thread's loop */
extern PyObject		*attach_server;		/* the attached consoles' */
extern struct attach_req *attach_reqs;		/* ps_lock */

/* attach-worker.c: a worker's hold on the GIL, and the loop it asks. */
int		 worker_enter(void);
void		 worker_leave(void);
void		 workers_finish(void);
void		 workers_forked(void);
PyObject	*attach_running_loop(void);
int		 attach_call_soon(PyMethodDef *, PyObject *capsule);

/* attach-ps.c: --ps, in three stages (the loop, CTL_REPORT in the main
 * thread, faulthandler's dump). */
extern struct ps_req	*ps_pending;	/* waiting for text; ps_lock */
extern struct ps_req	*ps_live;	/* every request not freed; ps_lock */

void		 ps_prepare(void);
void		 ps_start(int fd);
int		 ps_report(void);
void		 ps_write(int fd, const char *, size_t);

/* attach-fork.c: a forked child is attached on its own. */
void		 ps_fork_prepare(void);
void		 ps_fork_after(void);
int		 attach_follow_forks(void);

#endif
