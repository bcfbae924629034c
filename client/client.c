/* apython --connect: the client of a served console, without Python.
 * GNU readline edits lines (history in ~/.apython_connect_history), Tab
 * asks the server, Ctrl-C interrupts the remote statement, Ctrl-D ends
 * the session. Without a terminal, lines are read and sent as they are.
 * This file: the loop (poll on the server, stdin and signals) and the
 * frames; net.c the connection, terminal.c the prompt and the line. */
#include "client/client-internal.h"
#include "term/term.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CLIENT_INTERRUPTS	3	/* unanswered Ctrl-C: give up */
#define CLIENT_TYPED_MAX	(4 * SERVE_LINE_MAX) /* plain input read ahead */

struct client cl;
static int wake[2] = { -1, -1 };	/* signal handlers -> poll */
static volatile sig_atomic_t got_int, got_winch, got_term;

/* Signals become a byte on the wake pipe, handled by the loop. */
static void
client_signal(int sig)
{
	int	saved = errno;

	if (sig == SIGINT)
		got_int = 1;
	else if (sig == SIGWINCH)
		got_winch = 1;
	else
		got_term = sig;
	if (write(wake[1], "", 1) < 0) {
		/* The pipe is full: a wake-up is pending anyway. */
	}
	errno = saved;
}

/* Catch sig with client_signal. */
static void
client_catch(int sig)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = client_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* Act on one frame from the server. */
static void
client_frame(int type, const char *p, size_t n)
{
	cl.interrupts = 0;
	switch (type) {
	case FRAME_OUTPUT:
		client_output(p, n);
		break;
	case FRAME_PROMPT:
		client_prompt(p, n);
		break;
	case FRAME_HISTORY:
		client_history(p, n);
		break;
	case FRAME_BYE:
		cl.bye = 1;
		break;
	}
}

/* Act on the frames received: first those put aside during Tab. */
static void
client_frames(void)
{
	const char	*p;
	size_t		 n;
	int		 type, r;

	while (frame_next(&cl.later, &type, &p, &n) == 1)
		client_frame(type, p, n);
	sbuf_free(&cl.later);
	while ((r = frame_next(&cl.in, &type, &p, &n)) == 1)
		client_frame(type, p, n);
	if (r < 0)
		client_fail("%s: not an apython console", cl.name);
}

/* Ctrl-C: drop the line being typed, tell the server. */
static void
client_interrupt(void)
{
	client_drop_line();
	sbuf_free(&cl.typed);
	if (++cl.interrupts >= CLIENT_INTERRUPTS) {
		client_fail("%s: no answer to Ctrl-C; leaving", cl.name);
		return;
	}
	client_send(FRAME_INTERRUPT, NULL, 0);
}

/* Handle the signals that came. */
static void
client_signals(void)
{
	char	buf[64];

	while (read(wake[0], buf, sizeof buf) > 0)
		;
	if (got_int) {
		got_int = 0;
		client_interrupt();
	}
	if (got_winch) {
		got_winch = 0;
		if (cl.editing && cl.prompting)
			term_resized();
	}
	if (got_term)
		cl.closed = 1;
}

/* Plain input: read what stdin has. */
static void
client_read_stdin(void)
{
	char	buf[65536];
	ssize_t	n;

	n = read(STDIN_FILENO, buf, sizeof buf);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0)
		cl.stdin_eof = 1;
	else if (sbuf_add(&cl.typed, buf, n) != 0)
		client_fail("out of memory");
}

/* Plain input: a line for the prompt shown, or EOF after the last. */
static void
client_plain_line(void)
{
	char	*p = sbuf_ptr(&cl.typed), *nl, *line;
	size_t	 n = sbuf_len(&cl.typed);

	if (!cl.prompting)
		return;
	if ((nl = memchr(p, '\n', n)) != NULL)
		n = nl - p;
	else if (!cl.stdin_eof)
		return;
	else if (n == 0) {
		client_unprompt();
		client_answer(NULL);
		return;
	}
	if ((line = strndup(p, n)) == NULL)
		return;
	sbuf_drop(&cl.typed, nl != NULL ? n + 1 : n);
	client_unprompt();
	client_answer(line);
	free(line);
}

/* Talk to the console until the server closes. */
static void
client_run(void)
{
	struct pollfd	pfd[3];

	while (!cl.closed) {
		client_frames();
		if (!cl.editing)
			client_plain_line();
		if (cl.closed)
			break;
		pfd[0].fd = cl.fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = wake[0];
		pfd[1].events = POLLIN;
		pfd[2].fd = STDIN_FILENO;
		pfd[2].events = 0;
		if (!cl.stdin_eof && (cl.editing ? cl.prompting :
		    sbuf_len(&cl.typed) < CLIENT_TYPED_MAX))
			pfd[2].events = POLLIN;
		if (poll(pfd, 3, -1) < 0) {
			if (errno != EINTR)
				client_fail("poll: %s", strerror(errno));
			continue;
		}
		if (pfd[1].revents != 0)
			client_signals();
		if (!cl.closed && pfd[0].revents != 0)
			client_recv(-1);
		if (!cl.closed && pfd[2].revents != 0) {
			if (cl.editing)
				term_read();
			else
				client_read_stdin();
		}
	}
}

/* Talk to the console on cl.fd until it ends; the exit status. */
static int
client_session(int no_readline)
{
	if (client_handshake() != 0) {
		close(cl.fd);
		return cl.status ? cl.status : 1;
	}
	if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		client_fail("pipe: %s", strerror(errno));
		return 1;
	}
	client_catch(SIGINT);
	client_catch(SIGTERM);
	client_catch(SIGHUP);
	cl.editing = !no_readline && isatty(STDIN_FILENO) &&
	    isatty(STDOUT_FILENO);
	if (cl.editing) {
		client_catch(SIGWINCH);
		client_terminal_setup();
	}
	client_run();
	client_terminal_end();
	close(cl.fd);
	if (!cl.bye && cl.status == 0 && !got_term) {
		fprintf(stderr, "apython: connection to %s lost\n", cl.name);
		cl.status = 1;
	}
	if (got_term) {
		signal(got_term, SIG_DFL);
		raise(got_term);
	}
	return cl.status;
}

/* Use the console served at a until it ends; the exit status: 0 when
 * the server ended the session (it says so: FRAME_BYE), 1 when it could
 * not be reached, refused us, or the connection was lost. */
int
client_main(const struct serve_address *a, int no_readline)
{
	memset(&cl, 0, sizeof cl);
	if ((cl.fd = client_connect(a)) < 0)
		return 1;
	return client_session(no_readline);
}

/* The same on fd, already connected to what (named in messages): the
 * console of a program attached by pid (attach/). fd is ours. */
int
client_main_fd(int fd, const char *what, int no_readline)
{
	memset(&cl, 0, sizeof cl);
	cl.fd = fd;
	snprintf(cl.name, sizeof cl.name, "%s", what);
	return client_session(no_readline);
}
