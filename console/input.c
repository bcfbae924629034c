/* Plain line input from a file descriptor (a pipe, a file, a terminal
 * without readline), read only when the loop says it is readable. The
 * local console's stdin, when not a terminal and a program runs, may end
 * before its first byte (/dev/null, nohup, a service): then there is no
 * console at all; so until that byte, nothing is shown (banner, prompt). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console/console-internal.h"

struct input_fd {
	int		 fd;
	char		*buf;		/* bytes of an unfinished line */
	size_t		 len;
	size_t		 cap;
	PyObject	*loop;		/* where we watch fd */
	PyObject	*soon;		/* handle: polling a file epoll refuses */
	int		 polling;	/* no reader on loop: soon instead */
	PyObject	*callback;
	int		 prompted;	/* a prompt waits for its line */
	int		 flags;		/* fd's flags when first attached */
	int		 first;		/* nothing shown before a first byte */
	PyObject	*held;		/* the prompt not shown meanwhile */
};

static void	input_fd_clear(void *);

/* Plain input state for fd; first: show nothing before its first byte,
 * and no console if it ends before. */
void *
input_fd_new(int fd, int first)
{
	struct input_fd	*in;

	if ((in = calloc(1, sizeof *in)) == NULL)
		return NULL;
	in->fd = fd;
	in->flags = -1;
	in->first = first;
	return in;
}

/* True while nothing may be shown: the first byte has not come. */
int
input_fd_waits(void *arg)
{
	return ((struct input_fd *)arg)->first;
}

/* The first bytes came: show what was held back. */
static int
input_fd_begin(PyObject *session, struct input_fd *in)
{
	PyObject	*prompt = in->held;
	int		 r;

	in->first = 0;
	in->held = NULL;
	r = intro_begin(session, prompt);
	Py_XDECREF(prompt);
	return r;
}

/* Free the state (after detach). */
void
input_fd_free(void *arg)
{
	struct input_fd	*in = arg;

	if (in == NULL)
		return;
	input_fd_clear(in);
	free(in->buf);
	free(in);
}

/* Keep n more bytes. */
static int
input_fd_append(struct input_fd *in, const char *data, size_t n)
{
	char	*buf;
	size_t	 cap;

	if (in->len + n > in->cap) {
		cap = in->cap ? in->cap : 4096;
		while (cap < in->len + n)
			cap *= 2;
		if ((buf = realloc(in->buf, cap)) == NULL) {
			PyErr_NoMemory();
			return -1;
		}
		in->buf = buf;
		in->cap = cap;
	}
	memcpy(in->buf + in->len, data, n);
	in->len += n;
	return 0;
}

/* Hand len bytes to the session as one line. */
static int
input_fd_line(PyObject *session, const char *p, size_t len)
{
	PyObject	*line;
	int		 r;

	line = PyUnicode_DecodeUTF8(p, len, "replace");
	if (line == NULL)
		return -1;
	((struct input_fd *)session_io_arg(session))->prompted = 0;
	r = session_feed_line(session, line);
	Py_DECREF(line);
	return r;
}

/* Hand every complete line to the session; keep the rest. */
static int
input_fd_split(PyObject *session, struct input_fd *in)
{
	char	*p = in->buf, *nl;
	size_t	 left = in->len;

	while (left > 0 && (nl = memchr(p, '\n', left)) != NULL) {
		if (input_fd_line(session, p, nl - p) != 0)
			return -1;
		left -= nl + 1 - p;
		p = nl + 1;
	}
	memmove(in->buf, p, left);
	in->len = left;
	return 0;
}

/* Stop watching fd; the prompt written stays. */
static int
input_fd_detach(PyObject *session)
{
	struct input_fd	*in = session_io_arg(session);
	PyObject	*r;

	/* Blocking again if the program left it non-blocking. */
	if (in->flags != -1 && fcntl(in->fd, F_GETFL) != in->flags)
		fcntl(in->fd, F_SETFL, in->flags);
	if (in->loop == NULL)
		return 0;
	if (in->soon != NULL)
		r = PyObject_CallMethod(in->soon, "cancel", NULL);
	else if (in->polling)
		r = Py_NewRef(Py_None);
	else
		r = PyObject_CallMethod(in->loop, "remove_reader", "i", in->fd);
	if (r == NULL)
		PyErr_WriteUnraisable(in->loop);
	Py_XDECREF(r);
	Py_CLEAR(in->soon);
	in->polling = 0;
	Py_CLEAR(in->loop);
	return 0;
}

/* Ask the loop to call us again soon: for fds epoll cannot watch
 * (regular files, /dev/null), which never block. */
static int
input_fd_poll_soon(struct input_fd *in)
{
	Py_XSETREF(in->soon, PyObject_CallMethod(in->loop, "call_soon", "O",
	    in->callback));
	return in->soon == NULL ? -1 : 0;
}

/* The loop says fd is readable: read what is there, without blocking. */
static PyObject *
input_fd_readable(PyObject *session, PyObject *unused)
{
	struct input_fd	*in = session_io_arg(session);
	char		 chunk[65536];
	ssize_t		 n;

	(void)unused;
	Py_CLEAR(in->soon);
	do
		n = read(in->fd, chunk, sizeof chunk);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		Py_RETURN_NONE;
	if (n > 0) {
		if (in->first && input_fd_begin(session, in) != 0)
			return NULL;
		if (input_fd_append(in, chunk, n) != 0 ||
		    input_fd_split(session, in) != 0)
			return NULL;
		if (in->polling && in->loop != NULL &&
		    input_fd_poll_soon(in) != 0)
			return NULL;
		Py_RETURN_NONE;
	}
	/* EOF (or an error, which ends input the same way). */
	if (in->first) {
		input_fd_detach(session);
		intro_withdraw(session);	/* may free in */
		Py_RETURN_NONE;
	}
	if (in->len > 0 && input_fd_line(session, in->buf, in->len) != 0)
		return NULL;
	in->len = 0;
	input_fd_detach(session);
	if (session_feed_eof(session) != 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyMethodDef readable_def = {
	.ml_name = "console_input_ready",
	.ml_meth = input_fd_readable,
	.ml_flags = METH_NOARGS,
};

/* Start watching fd on loop. */
static int
input_fd_attach(PyObject *session, PyObject *loop)
{
	struct input_fd	*in = session_io_arg(session);
	PyObject	*r;

	if (in->callback == NULL &&
	    (in->callback = PyCFunction_New(&readable_def, session)) == NULL)
		return -1;
	if (in->flags == -1)
		in->flags = fcntl(in->fd, F_GETFL);
	in->loop = Py_NewRef(loop);
	r = PyObject_CallMethod(loop, "add_reader", "iO", in->fd, in->callback);
	if (r != NULL) {
		Py_DECREF(r);
		return 0;
	}
	/* epoll refuses regular files; a loop may have no readers at all. */
	if (!PyErr_ExceptionMatches(PyExc_OSError) &&
	    !PyErr_ExceptionMatches(PyExc_NotImplementedError))
		return -1;
	PyErr_Clear();
	in->polling = 1;
	return input_fd_poll_soon(in);
}

/* Show a prompt: plain text on the console. */
static int
input_fd_prompt(PyObject *session, PyObject *prompt)
{
	struct input_fd	*in = session_io_arg(session);

	in->prompted = 1;
	if (in->first) {
		Py_XSETREF(in->held, Py_NewRef(prompt));
		return 0;
	}
	return session_write(session, prompt);
}

/* Ctrl-C on a terminal: the kernel dropped the typed line (and echoed
 * ^C after it); drop what we hold of it and end that screen line. */
static int
input_fd_interrupt(PyObject *session)
{
	struct input_fd	*in = session_io_arg(session);

	in->len = 0;
	if (!in->prompted)
		return 0;
	in->prompted = 0;
	return session_write_str(session, "\n");
}

/* The local console ends: the program ends with it, as exit() would. */
static int
input_fd_end(PyObject *session, PyObject *exit_exc)
{
	(void)session;
	PyErr_SetObject((PyObject *)Py_TYPE(exit_exc), exit_exc);
	return -1;
}

/* For the collector: the callback is bound to the session. */
static int
input_fd_traverse(void *state, visitproc visit, void *arg)
{
	struct input_fd	*in = state;

	Py_VISIT(in->loop);
	Py_VISIT(in->soon);
	Py_VISIT(in->callback);
	Py_VISIT(in->held);
	return 0;
}

static void
input_fd_clear(void *arg)
{
	struct input_fd	*in = arg;

	Py_CLEAR(in->loop);
	Py_CLEAR(in->soon);
	Py_CLEAR(in->callback);
	Py_CLEAR(in->held);
}

const struct session_io input_fd_io = {
	.attach = input_fd_attach,
	.detach = input_fd_detach,
	.prompt = input_fd_prompt,
	.end = input_fd_end,
	.interrupt = input_fd_interrupt,
	.release = input_fd_free,
	.traverse = input_fd_traverse,
	.clear = input_fd_clear,
};
