/* input() in a client's statement: the prompt is sent as a console
 * prompt is, then the loop waits (the statement holds it, as input() in
 * a coroutine holds the loop under python3) while this file polls the
 * client's socket itself, through the connection's own parser
 * (conn-input.c), until a line, the end of the client's input, Ctrl-C
 * or a signal. Lines after that one stay queued for the console. */
#include "serve/serve-internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "sig/sig.h"

/* Wait for the client (input, or room for output not sent yet) and
 * take what came; -1 with exception when a signal handler raised. The
 * GIL is released while waiting: the program's threads go on. */
static int
conn_ask_wait(struct conn *c)
{
	struct pollfd	pfd = { .fd = c->fd, .events = POLLIN };
	int		n, error;

	if (sbuf_len(&c->out) > 0)
		pfd.events |= POLLOUT;
	Py_BEGIN_ALLOW_THREADS
	n = poll(&pfd, 1, CONN_ASK_TICK);
	error = errno;
	Py_END_ALLOW_THREADS
	if (PyErr_CheckSignals() != 0)
		return -1;
	if (n < 0 && error != EINTR) {
		conn_close_now(c);	/* cannot wait: as if gone */
		return 0;
	}
	if (n <= 0)
		return 0;
	if (pfd.revents & POLLNVAL) {
		conn_close_now(c);	/* its fd is gone: poll would spin */
		return 0;
	}
	if ((pfd.revents & POLLOUT) && conn_flush(c) != 0) {
		conn_close_now(c);
		return 0;
	}
	if (!c->closed && (pfd.revents & (POLLIN | POLLHUP | POLLERR)))
		return conn_read(c);
	return 0;
}

/* What input() gets: 1 and *line, 0 at the end, -1 with exception; or
 * 2: nothing yet, wait. */
static int
conn_ask_answer(struct conn *c, PyObject **line)
{
	const char	*p;
	size_t		 n;

	if (c->closed)
		return 0;
	if (c->ask_interrupt) {
		sig_console_raised();
		PyErr_SetNone(PyExc_KeyboardInterrupt);
		return -1;
	}
	if (lines_next(&c->in, &p, &n)) {
		*line = PyBytes_FromStringAndSize(p, n);
		return *line != NULL ? 1 : -1;
	}
	/* Lines were read ahead enough to pause: read on. */
	if (c->paused && lines_held(&c->in) < SERVE_LINE_MAX) {
		c->paused = 0;
		if (conn_watch(c, 0, 1) != 0)
			return -1;
	}
	/* Ctrl-D, the end of a plain client's input, or no reading. */
	if (c->ask_eof || c->eof || c->rdeof || c->ended || !c->reading)
		return 0;
	return 2;
}

/* Show prompt and wait for the client's next line: 1 and *line
 * (bytes), 0 at the end of its input or when it is gone (the session
 * then ends as at EOF), -1 with exception (KeyboardInterrupt: Ctrl-C). */
int
conn_ask(struct conn *c, const char *prompt, size_t n, PyObject **line)
{
	PyObject	*self = (PyObject *)c;
	char		*saved = c->prompt;
	size_t		 savedlen = c->promptlen;
	int		 r;

	if (c->asking) {
		PyErr_SetString(PyExc_RuntimeError,
		    "input() already waits for this console's client");
		return -1;
	}
	if (c->closed || c->ended)
		return 0;
	Py_INCREF(self);	/* reading runs Python that may close us */
	c->asking = 1;
	c->ask_eof = c->ask_interrupt = 0;
	/* The prompt, sent again after a dropped line; the console's comes
	 * back after. */
	if ((c->prompt = malloc(n + 1)) != NULL) {
		memcpy(c->prompt, prompt, n);
		c->promptlen = n;
	}
	conn_send(c, FRAME_PROMPT, prompt, n);
	/* We read c ourselves: the control thread stops, and what it read
	 * comes first. */
	conn_ctl_pause(c, 1);
	if ((r = c->closed ? 0 : conn_read_ahead(c, 0)) == 0)
		while ((r = conn_ask_answer(c, line)) == 2)
			if (conn_ask_wait(c) != 0) {
				r = -1;
				break;
			}
	c->asking = c->ask_eof = c->ask_interrupt = 0;
	conn_ctl_pause(c, 0);
	conn_prompt_clear(c);
	if (c->closed)
		free(saved);
	else {
		c->prompt = saved;
		c->promptlen = savedlen;
	}
	Py_DECREF(self);
	return r;
}
