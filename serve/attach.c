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
 * resort, write faulthandler's raw dump of the threads. Here: arming,
 * and the --attach requests; --ps is attach-ps.c, the workers' hold on
 * the GIL attach-worker.c, a forked child attach-fork.c. */
#include "serve/serve-internal.h"

#include <sys/socket.h>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach/attach.h"
#include "console/console.h"
#include "ctl/ctl.h"
#include "loop/loop.h"

PyObject		*attach_running;
PyObject		*attach_server;
struct attach_req	*attach_reqs;

/* A request for fd, listed; NULL when out of memory. */
static struct attach_req *
attach_req_new(int fd)
{
	struct attach_req	*a;

	if ((a = malloc(sizeof *a)) == NULL)
		return NULL;
	a->fd = fd;
	pthread_mutex_lock(&ps_lock);
	a->next = attach_reqs;
	attach_reqs = a;
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
	for (p = &attach_reqs; *p != NULL; p = &(*p)->next)
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
	if (attach_running == NULL || a->fd < 0)
		Py_RETURN_NONE;
	if (attach_server == NULL) {
		/* __main__ as locals: each console reads its globals live
		 * (console/intro.py's MainView), names of its own kept. */
		if (console_prepare() != 0 ||
		    (main = PyImport_AddModule("__main__")) == NULL)
			return NULL;
		loop = Py_NewRef(attach_running);
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
	PyObject	*capsule;
	int		 ret;

	if ((capsule = PyCapsule_New(a, NULL, attach_fd_free)) == NULL) {
		PyErr_Clear();
		return -1;
	}
	if ((ret = attach_call_soon(&attach_on_loop_def, capsule)) != 0)
		(void)PyCapsule_SetDestructor(capsule, NULL); /* a stays ours */
	Py_DECREF(capsule);
	return ret;
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
	if (attach_running != loop)
		Py_XSETREF(attach_running, Py_NewRef(loop));
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
	if (attach_running == loop)
		Py_CLEAR(attach_running);
}

static const struct loop_observer attach_observer = {
	.on_run = attach_on_run,
	.on_close = attach_on_close,
};

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

	ps_prepare();
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
	Py_CLEAR(attach_running);
}
