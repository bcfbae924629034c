/* The --connect client on the terminal: prompts, output above them,
 * lines and Tab, through term/ when editing, plain otherwise. The
 * history (~/.apython_connect_history) has one entry per statement, as
 * the server tells them (a block is one entry); from a server that does
 * not, the lines entered. */
#include "client/client-internal.h"
#include "term/term.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CLIENT_TAB		5000	/* ms for completions */

/* Print output while a line is edited: above it, whole lines only. */
static void
client_print_above(void)
{
	char	*nl;
	size_t	 n;

	nl = memrchr(sbuf_ptr(&cl.held), '\n', sbuf_len(&cl.held));
	if (nl == NULL)
		return;
	n = nl + 1 - sbuf_ptr(&cl.held);
	term_hide();
	client_print(sbuf_ptr(&cl.held), n);
	sbuf_drop(&cl.held, n);
	term_show();
}

/* Output of the console. */
void
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

/* Take the prompt down: readline gives the terminal back, held output
 * comes out. */
void
client_unprompt(void)
{
	if (cl.editing)
		term_unprompt();
	cl.prompting = 0;
	if (sbuf_len(&cl.held) > 0) {
		client_print(sbuf_ptr(&cl.held), sbuf_len(&cl.held));
		sbuf_free(&cl.held);
	}
}

/* Send a line (NULL: end of input) for the prompt shown. */
void
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

/* term's line handler: a line was entered, or Ctrl-D (NULL). */
static void
client_line(char *line)
{
	client_unprompt();
	if (line != NULL && !cl.statements)
		term_history_add(cl.history, line);
	client_answer(line);
	free(line);
}

/* The console wants a line after this prompt. */
void
client_prompt(const char *p, size_t n)
{
	char	*prompt;

	if ((prompt = strndup(p, n)) == NULL)
		return;
	free(cl.prompt);	/* p may be in it: not used below */
	cl.prompt = prompt;
	client_unprompt();
	cl.eof_sent = 0;	/* Ctrl-D at input()'s prompt ended only it */
	if (cl.editing)
		term_prompt(cl.prompt);
	else
		client_print(cl.prompt, strlen(cl.prompt));
	cl.prompting = 1;
}

/* A statement the server ran, one history entry; the first (empty)
 * says that entries will come. */
void
client_history(const char *p, size_t n)
{
	char	*entry;

	cl.statements = 1;
	if (!cl.editing || n == 0 || memchr(p, '\0', n) != NULL)
		return;
	if ((entry = strndup(p, n)) == NULL)
		return;
	term_history_add(cl.history, entry);
	free(entry);
}

/* Ctrl-C: drop the line being typed. */
void
client_drop_line(void)
{
	if (cl.editing)
		term_interrupt();
	client_unprompt();
}

/* The completions the server sent, '\n' apart, as term wants them. */
static char **
client_split_matches(const char *p, size_t n)
{
	const char	*end = p + n, *nl;
	char		**m;
	size_t		 count = 0, i = 0;

	for (nl = p; nl < end; nl++)
		count += *nl == '\n';
	if ((m = calloc(count + 2, sizeof *m)) == NULL)
		return NULL;
	while (p < end) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		if ((m[i] = strndup(p, nl - p)) == NULL)
			break;
		i++;
		p = nl + 1;
	}
	return m;
}

/* Milliseconds since t0. */
static int
client_ms_since(const struct timespec *t0)
{
	struct timespec	t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int)((t.tv_sec - t0->tv_sec) * 1000 +
	    (t.tv_nsec - t0->tv_nsec) / 1000000);
}

/* Send the question: the line before the word, NUL, the word. */
static int
client_ask(const char *before, const char *word)
{
	struct sbuf	q;
	int		r;

	memset(&q, 0, sizeof q);
	r = sbuf_add(&q, before, strlen(before)) != 0 ||
	    sbuf_add(&q, "", 1) != 0 || sbuf_add(&q, word, strlen(word)) != 0 ||
	    client_send(FRAME_COMPLETE, sbuf_ptr(&q), sbuf_len(&q)) != 0;
	sbuf_free(&q);
	return r ? -1 : 0;
}

/* term's Tab: ask the server to complete word; other frames that come
 * meanwhile are kept for later. */
static char **
client_complete(const char *before, const char *word)
{
	struct timespec	 t0;
	const char	*p;
	size_t		 n;
	int		 type, r, left = CLIENT_TAB;

	if (client_ask(before, word) != 0)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!cl.closed && left > 0) {
		while ((r = frame_next(&cl.in, &type, &p, &n)) == 1) {
			if (type == FRAME_MATCHES)
				return client_split_matches(p, n);
			if (frame_add(&cl.later, type, p, n) != 0)
				return NULL;
		}
		if (r < 0 || client_recv(left) < 0)
			return NULL;
		left = CLIENT_TAB - client_ms_since(&t0);
	}
	return NULL;
}

/* The client's terminal; out is set when it is set up. */
static struct term_ops client_term = {
	.name = "apython",
	.line = client_line,
	.complete = client_complete,
};

/* Set readline and the history up for the remote console. */
void
client_terminal_setup(void)
{
	client_term.out = stdout;
	term_setup(&client_term);
	cl.history = term_history_path(NULL, ".apython_connect_history");
	if (cl.history != NULL)
		term_history_load(cl.history);
}

/* The session is over: the prompt goes, on a line of its own. */
void
client_terminal_end(void)
{
	if (cl.prompting && cl.editing)
		client_print("\n", 1);
	client_unprompt();
	free(cl.history);
	cl.history = NULL;
	free(cl.prompt);
	cl.prompt = NULL;
}
