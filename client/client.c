/* apython --connect: the client of a served console, without Python.
 * GNU readline edits lines (history in ~/.apython_connect_history), Tab
 * asks the server, Ctrl-C interrupts the remote statement, Ctrl-D ends
 * the session. Without a terminal, lines are read and sent as they are. */
#include "serve/serve.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <readline/readline.h>
#include <readline/history.h>

#define CLIENT_HANDSHAKE	10000	/* ms for the server's answer */
#define CLIENT_TAB		5000	/* ms for completions */
#define CLIENT_HISTORY		1000	/* history entries kept */
#define CLIENT_INTERRUPTS	3	/* unanswered Ctrl-C: give up */
#define CLIENT_TYPED_MAX	(4 * SERVE_LINE_MAX) /* plain input read ahead */

struct client {
	int		 fd;
	char		 name[400];	/* the address, for messages */
	int		 editing;	/* readline on a terminal */
	int		 prompting;	/* a prompt is up, a line is due */
	int		 stdin_eof;
	int		 eof_sent;
	int		 closed;	/* the server is gone */
	int		 status;
	int		 interrupts;	/* Ctrl-C without an answer yet */
	char		*prompt;	/* the last prompt */
	char		*history;	/* history file, or NULL */
	struct sbuf	 in;		/* from the server */
	struct sbuf	 later;		/* frames that came during Tab */
	struct sbuf	 held;		/* output: the end of a line */
	struct sbuf	 typed;		/* plain input not sent yet */
	char		**matches;	/* Tab: the server's offer */
	int		 nmatches;
	int		 next_match;
};

static struct client cl;
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

/* Say the connection failed; the exit status is 1. */
static void __attribute__((format(printf, 1, 2)))
client_fail(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "apython: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cl.status = 1;
	cl.closed = 1;
}

/* Send n bytes, whole; -1 when the server is gone. */
static int
client_write(const char *p, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		w = send(cl.fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			client_fail("%s: %s", cl.name, strerror(errno));
			return -1;
		}
		p += w;
		n -= w;
	}
	return 0;
}

/* Send a frame to the server. */
static int
client_send(int type, const char *p, size_t n)
{
	struct sbuf	b;
	int		r;

	memset(&b, 0, sizeof b);
	if (frame_add(&b, type, p, n) != 0) {
		sbuf_free(&b);
		return -1;
	}
	r = client_write(sbuf_ptr(&b), sbuf_len(&b));
	sbuf_free(&b);
	return r;
}

/* Read what the server sent (waiting at most ms, -1: forever); 0 when
 * nothing came in time, -1 when the connection ended. */
static int
client_recv(int ms)
{
	struct pollfd	pfd = { .fd = cl.fd, .events = POLLIN };
	char		buf[65536];
	ssize_t		n;

	if (ms >= 0 && poll(&pfd, 1, ms) <= 0)
		return 0;
	n = recv(cl.fd, buf, sizeof buf, 0);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n < 0) {
		client_fail("%s: connection lost: %s", cl.name, strerror(errno));
		return -1;
	}
	if (n == 0) {
		cl.closed = 1;
		return -1;
	}
	if (sbuf_add(&cl.in, buf, n) != 0) {
		client_fail("out of memory");
		return -1;
	}
	return 1;
}

/* Write to stdout, whole. */
static void
client_print(const char *p, size_t n)
{
	fwrite(p, 1, n, stdout);
	fflush(stdout);
}

/* Print output while a line is edited: above it, whole lines only. */
static void
client_print_above(void)
{
	char	*nl, *saved;
	size_t	 n;
	int	 point;

	nl = memrchr(sbuf_ptr(&cl.held), '\n', sbuf_len(&cl.held));
	if (nl == NULL)
		return;
	n = nl + 1 - sbuf_ptr(&cl.held);
	point = rl_point;
	saved = rl_copy_text(0, rl_end);
	rl_save_prompt();
	rl_replace_line("", 0);
	rl_redisplay();
	client_print(sbuf_ptr(&cl.held), n);
	sbuf_drop(&cl.held, n);
	rl_restore_prompt();
	rl_replace_line(saved, 0);
	rl_point = point;
	rl_redisplay();
	free(saved);
}

/* Output of the console. */
static void
client_output(const char *p, size_t n)
{
	if (sbuf_add(&cl.held, p, n) != 0)
		return;
	if (cl.editing && cl.prompting) {
		client_print_above();
		return;
	}
	client_print(sbuf_ptr(&cl.held), sbuf_len(&cl.held));
	sbuf_free(&cl.held);
}

/* Take the prompt down: readline gives the terminal back. */
static void
client_unprompt(void)
{
	if (cl.prompting && cl.editing)
		rl_callback_handler_remove();
	cl.prompting = 0;
	if (sbuf_len(&cl.held) > 0) {
		client_print(sbuf_ptr(&cl.held), sbuf_len(&cl.held));
		sbuf_free(&cl.held);
	}
}

/* Remember an entered line, in memory and in the history file. */
static void
client_remember(const char *line)
{
	HIST_ENTRY	*last;

	if (*line == '\0' || strchr(line, '\n') != NULL)
		return;
	last = history_length > 0 ? history_get(history_base +
	    history_length - 1) : NULL;
	if (last != NULL && strcmp(last->line, line) == 0)
		return;
	add_history(line);
	if (cl.history != NULL)
		append_history(1, cl.history);
}

static void	client_prompt(const char *, size_t);

/* Send a line (NULL: end of input) for the prompt shown. */
static void
client_answer(const char *line)
{
	if (line == NULL) {
		if (!cl.eof_sent)
			client_send(FRAME_EOF, NULL, 0);
		cl.eof_sent = 1;
		return;
	}
	if (strlen(line) > SERVE_LINE_MAX) {
		fprintf(stderr, "apython: a line over %d bytes was dropped\n",
		    SERVE_LINE_MAX);
		client_prompt(cl.prompt, strlen(cl.prompt));
		return;
	}
	client_send(FRAME_LINE, line, strlen(line));
}

/* readline's line handler: a line was entered, or Ctrl-D (NULL). */
static void
client_line(char *line)
{
	client_unprompt();
	if (line != NULL)
		client_remember(line);
	client_answer(line);
	free(line);
}

/* The console wants a line after this prompt. */
static void
client_prompt(const char *p, size_t n)
{
	char	*prompt;

	if ((prompt = strndup(p, n)) == NULL)
		return;
	free(cl.prompt);	/* p may be in it: not used below */
	cl.prompt = prompt;
	client_unprompt();
	if (cl.editing)
		rl_callback_handler_install(cl.prompt, client_line);
	else
		client_print(cl.prompt, strlen(cl.prompt));
	cl.prompting = 1;
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

/* Forget the last completions. */
static void
client_forget_matches(void)
{
	while (cl.nmatches > 0)
		free(cl.matches[--cl.nmatches]);
	free(cl.matches);
	cl.matches = NULL;
}

/* Keep the completions the server sent, '\n' apart. */
static void
client_keep_matches(const char *p, size_t n)
{
	const char	*end = p + n, *nl;
	char		**m;

	while (p < end) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		m = realloc(cl.matches, (cl.nmatches + 1) * sizeof *m);
		if (m == NULL)
			return;
		cl.matches = m;
		if ((m[cl.nmatches] = strndup(p, nl - p)) == NULL)
			return;
		cl.nmatches++;
		p = nl + 1;
	}
}

/* Ask the server to complete text (before: the line before it); other
 * frames that come meanwhile are kept for later. */
static void
client_ask(const char *before, const char *text)
{
	struct sbuf	 q;
	struct timespec	 t0, t;
	const char	*p;
	size_t		 n;
	int		 type, r, left = CLIENT_TAB;

	memset(&q, 0, sizeof q);
	client_forget_matches();
	if (sbuf_add(&q, before, strlen(before)) != 0 ||
	    sbuf_add(&q, "", 1) != 0 || sbuf_add(&q, text, strlen(text)) != 0 ||
	    client_send(FRAME_COMPLETE, sbuf_ptr(&q), sbuf_len(&q)) != 0) {
		sbuf_free(&q);
		return;
	}
	sbuf_free(&q);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!cl.closed && left > 0) {
		while ((r = frame_next(&cl.in, &type, &p, &n)) == 1) {
			if (type == FRAME_MATCHES) {
				client_keep_matches(p, n);
				return;
			}
			if (frame_add(&cl.later, type, p, n) != 0)
				return;
		}
		if (r < 0 || client_recv(left) < 0)
			return;
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = CLIENT_TAB - (int)((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000);
	}
}

/* readline's generator: the next completion. */
static char *
client_generate(const char *text, int state)
{
	(void)text;
	if (state == 0)
		cl.next_match = 0;
	if (cl.next_match < cl.nmatches)
		return strdup(cl.matches[cl.next_match++]);
	return NULL;
}

/* Tab: indent at the start of a line, else what the server offers. */
static char **
client_complete(const char *text, int start, int end)
{
	char	*before;
	int	 i;

	(void)end;
	rl_attempted_completion_over = 1;
	rl_completion_append_character = '\0';
	rl_completion_suppress_append = 1;
	for (i = 0; i < start && (rl_line_buffer[i] == ' ' ||
	    rl_line_buffer[i] == '\t'); i++)
		;
	if (i == start && *text == '\0') {
		rl_insert_text("\t");
		return NULL;
	}
	if ((before = strndup(rl_line_buffer, start)) == NULL)
		return NULL;
	client_ask(before, text);
	free(before);
	return rl_completion_matches(text, client_generate);
}

/* Ctrl-C: drop the line being typed, tell the server. */
static void
client_interrupt(void)
{
	if (cl.editing && cl.prompting) {
		rl_free_line_state();
#if RL_READLINE_VERSION >= 0x0700
		rl_callback_sigcleanup();
#endif
		rl_cleanup_after_signal();
	}
	client_unprompt();
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
			rl_resize_terminal();
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
				rl_callback_read_char();
			else
				client_read_stdin();
		}
	}
}

/* Connect to a; -1 (said why) when nothing listens there. */
static int
client_connect(const struct serve_address *a)
{
	struct addrinfo		 hints, *res, *ai;
	struct sockaddr_un	 sun;
	char			 port[16];
	int			 fd = -1, error, one = 1, saved = 0;

	if (a->kind == SERVE_UNIX) {
		snprintf(cl.name, sizeof cl.name, "%s", a->path);
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		memcpy(sun.sun_path, a->path, strlen(a->path) + 1);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sun,
		    sizeof sun) == 0)
			return fd;
		saved = errno;
		goto fail;
	}
	snprintf(cl.name, sizeof cl.name, strchr(a->host, ':') ? "[%s]:%d" :
	    "%s:%d", a->host[0] ? a->host : "localhost", a->port);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof port, "%d", a->port);
	if ((error = getaddrinfo(a->host[0] ? a->host : NULL, port, &hints,
	    &res)) != 0) {
		fprintf(stderr, "apython: cannot connect to %s: %s\n", cl.name,
		    gai_strerror(error));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		return fd;
	}
fail:
	if (fd >= 0)
		close(fd);
	fprintf(stderr, "apython: cannot connect to %s: %s\n", cl.name,
	    strerror(saved));
	return -1;
}

/* What came before the server's answer to the hello: the banner (shown)
 * and maybe a plain prompt (not: it comes again as a frame). */
static void
client_show_banner(const char *p, size_t n)
{
	const char	*nl = memrchr(p, '\n', n);

	if (nl != NULL)
		client_print(p, nl + 1 - p);
}

/* Send the secret (when set) and the hello; wait for the answer. */
static int
client_handshake(void)
{
	struct sbuf	 first;
	char		*secret, *cause = NULL, *hello;
	size_t		 len, pre;
	int		 r = 0, ms = CLIENT_HANDSHAKE;

	if (secret_load(&secret, &len, &cause) != 0) {
		client_fail("%s", cause ? cause : "cannot read the secret");
		free(cause);
		return -1;
	}
	memset(&first, 0, sizeof first);
	if (secret != NULL)
		r = sbuf_add(&first, secret, len) || sbuf_add(&first, "\n", 1);
	free(secret);
	if (r == 0 && sbuf_add(&first, SERVE_HELLO, SERVE_HELLO_LEN) == 0)
		r = client_write(sbuf_ptr(&first), sbuf_len(&first));
	else
		client_fail("out of memory");
	sbuf_free(&first);
	if (r != 0)
		return -1;
	for (;;) {
		hello = memmem(sbuf_ptr(&cl.in), sbuf_len(&cl.in), SERVE_HELLO,
		    SERVE_HELLO_LEN);
		if (hello != NULL)
			break;
		if ((r = client_recv(ms)) < 0 && cl.status == 0) {
			/* Closed: what it said is why. */
			if (sbuf_len(&cl.in) > 0)
				fwrite(sbuf_ptr(&cl.in), 1, sbuf_len(&cl.in),
				    stderr);
			else
				fprintf(stderr, "apython: %s: the server "
				    "closed the connection\n", cl.name);
			cl.status = 1;
		}
		if (r < 0)
			return -1;
		if (r == 0) {
			client_fail("%s: no answer from an apython console",
			    cl.name);
			return -1;
		}
		ms = CLIENT_HANDSHAKE / 10;
	}
	pre = hello - sbuf_ptr(&cl.in);
	client_show_banner(sbuf_ptr(&cl.in), pre);
	sbuf_drop(&cl.in, pre + SERVE_HELLO_LEN);
	return 0;
}

/* The history file, created 0600 if need be, or NULL. */
static char *
client_history_file(void)
{
	const char	*home = getenv("HOME");
	struct passwd	*pw;
	char		*path;
	int		 fd;

	if (home == NULL || *home == '\0') {
		if ((pw = getpwuid(getuid())) == NULL)
			return NULL;
		home = pw->pw_dir;
	}
	if (asprintf(&path, "%s/.apython_connect_history", home) < 0)
		return NULL;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		free(path);
		return NULL;
	}
	close(fd);
	return path;
}

/* Set readline up for the remote console. */
static void
client_readline(void)
{
	rl_readline_name = "apython";
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	rl_change_environment = 0;
	rl_instream = stdin;
	rl_outstream = stdout;
	rl_attempted_completion_function = client_complete;
	rl_completer_word_break_characters =
	    " \t\n`~!@#$%^&*()-=+[{]}\\|;:'\",<>/?";
	rl_initialize();
	rl_variable_bind("enable-bracketed-paste", "off");
	using_history();
	stifle_history(CLIENT_HISTORY);
	if ((cl.history = client_history_file()) != NULL)
		read_history(cl.history);
}

/* Use the console served at a until it ends; the exit status: 0 when
 * the server closed the session, 1 when it could not be reached, was
 * lost, or refused us. */
int
serve_connect(const struct serve_address *a, int no_readline)
{
	memset(&cl, 0, sizeof cl);
	if ((cl.fd = client_connect(a)) < 0)
		return 1;
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
		client_readline();
	}
	client_run();
	if (cl.prompting && cl.editing)
		client_print("\n", 1);
	client_unprompt();
	if (cl.history != NULL)
		history_truncate_file(cl.history, CLIENT_HISTORY);
	close(cl.fd);
	if (got_term) {
		signal(got_term, SIG_DFL);
		raise(got_term);
	}
	return cl.status;
}
