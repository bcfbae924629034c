/* proto/: what the console server and the --connect client share, in
 * pure C (no Python): addresses, the wire protocol, the secret. */
#ifndef APYTHON_PROTO_H
#define APYTHON_PROTO_H

#include <stddef.h>

enum serve_kind { SERVE_TCP, SERVE_UNIX };

/* A parsed --serve / --connect address. */
struct serve_address {
	enum serve_kind	 kind;
	char		 host[256];	/* TCP: empty means loopback */
	int		 port;		/* TCP: 0 picks a free port */
	char		 path[108];	/* UNIX: the socket's path */
};

int	 serve_parse_address(const char *, struct serve_address *);

/* Limits of what a client may send or be sent. */
#ifndef SERVE_LINE_MAX		/* the fuzzers make it small, to reach it */
#define SERVE_LINE_MAX		(1024 * 1024)	/* bytes in one line */
#endif
#define SERVE_OUTPUT_MAX	(8 * 1024 * 1024) /* unsent output kept */

/* The --connect client's protocol. It sends the
 * secret line (when one is set), then SERVE_HELLO; the server answers
 * SERVE_HELLO and both sides then speak frames: a type byte, a 4-byte
 * big-endian length, the payload. */
#define SERVE_HELLO		"\0apython-connect 1\n"
#define SERVE_HELLO_LEN		(sizeof SERVE_HELLO - 1)
#define FRAME_HEADER		5
#define FRAME_MAX		(SERVE_LINE_MAX + 64)
#define FRAME_LINE		'L'	/* client: a line typed */
#define FRAME_EOF		'E'	/* client: Ctrl-D */
#define FRAME_INTERRUPT		'I'	/* client: Ctrl-C */
#define FRAME_COMPLETE		'C'	/* client: line before, NUL, word */
#define FRAME_OUTPUT		'O'	/* server: text to show */
#define FRAME_PROMPT		'P'	/* server: read a line after this */
#define FRAME_MATCHES		'M'	/* server: completions, '\n' apart */
#define FRAME_HISTORY		'H'	/* server: a statement, for the
					 * history (empty: they will come) */
#define FRAME_BYE		'B'	/* server: the session ended; the
					 * connection closes after it */
#define FRAME_TAKEN		'-'	/* never sent: an 'I' the control
					 * thread acted on already */

/* A byte buffer, read from the front. */
struct sbuf {
	char	*data;
	size_t	 start;		/* first unread byte */
	size_t	 end;		/* one past the last byte */
	size_t	 cap;
};

int	 sbuf_add(struct sbuf *, const void *, size_t);
void	 sbuf_drop(struct sbuf *, size_t);
void	 sbuf_free(struct sbuf *);
extern char	 sbuf_empty[1];

/* The unread bytes (never NULL) and how many there are. */
static inline char *
sbuf_ptr(const struct sbuf *b)
{
	return b->data != NULL ? b->data + b->start : sbuf_empty;
}

static inline size_t
sbuf_len(const struct sbuf *b)
{
	return b->end - b->start;
}

int	 frame_add(struct sbuf *, int, const void *, size_t);
int	 frame_next(struct sbuf *, int *, const char **, size_t *);

struct lines;

/* A client's bytes read ahead of the loop (by the control thread while a
 * statement holds the loop), scanned for Ctrl-C: each one found whole in
 * the buffer is rewritten so that the loop, reading the buffer later,
 * passes over it (a frame's type becomes FRAME_TAKEN, telnet's IP a
 * NOP). Offsets are from the front of that buffer, which its reader
 * takes whole (scan_taken). */
struct scan {
	int		 framed;	/* frames, else plain (telnet) */
	int		 telnet;	/* plain: where in a telnet command */
	int		 broken;	/* framed: not a frame: stop */
	size_t		 skip;		/* framed: payload left to pass */
	size_t		 have;		/* framed: header bytes seen */
	unsigned char	 hdr[FRAME_HEADER];
	long		 hdr_at;	/* their first one's offset, -1: taken */
};

void	 scan_frames(struct scan *, const char *partial, size_t);
void	 scan_plain(struct scan *, const struct lines *);
int	 scan_run(struct scan *, char *buf, size_t from, size_t to,
	     size_t *past);
void	 scan_taken(struct scan *, size_t n);

/* A client's first bytes (proto/handshake.c): the secret line, when the
 * server has a secret, then SERVE_HELLO from a --connect client, or
 * plain lines from anything else. */
enum handshake_result {
	HANDSHAKE_WAIT,		/* not enough bytes yet */
	HANDSHAKE_LINE,		/* the secret line: see struct handshake_line */
	HANDSHAKE_TOO_LONG,	/* no line ends within SERVE_LINE_MAX */
	HANDSHAKE_PLAIN,	/* not --connect: the bytes are plain input */
	HANDSHAKE_FRAMED	/* --connect: frames follow the hello */
};

struct handshake_line {
	size_t	 len;		/* the secret's bytes, "\r\n" left out */
	size_t	 used;		/* bytes of the line, "\n" included */
	int	 hello;		/* the line was SERVE_HELLO: no secret sent */
};

enum handshake_result	handshake_secret(const char *, size_t,
			    struct handshake_line *);
enum handshake_result	handshake_hello(const char *, size_t, size_t *);

/* A plain client's input (proto/lines.c): telnet commands taken out,
 * the text queued as lines of at most SERVE_LINE_MAX bytes. */
struct lines {
	struct sbuf	 buf;		/* lines, '\n' after each, then ... */
	size_t		 partial;	/* ... the unfinished one's bytes */
	int		 discarding;	/* an over-long line's rest */
	int		 telnet;	/* where in a telnet command */
};

enum lines_event {
	LINES_DONE,		/* every byte is taken */
	LINES_TOO_LONG,		/* a line over SERVE_LINE_MAX was dropped */
	LINES_INTERRUPT		/* telnet IAC IP: Ctrl-C */
};

int	 lines_input(struct lines *, const char **, size_t *);
int	 lines_scan(int *telnet, char *, size_t, size_t *past);
int	 lines_add(struct lines *, const char *, size_t);
int	 lines_next(struct lines *, const char **, size_t *);
int	 lines_end(struct lines *);
void	 lines_clear(struct lines *);

/* Bytes held, the unfinished line's included; bytes of whole lines. */
static inline size_t
lines_held(const struct lines *l)
{
	return sbuf_len(&l->buf);
}

static inline size_t
lines_queued(const struct lines *l)
{
	return sbuf_len(&l->buf) - l->partial;
}

/* The shared secret (APYTHON_SECRET[_FILE]). */
int	 secret_load(char **, size_t *, char **cause);
int	 secret_equal(const char *, size_t, const char *, size_t);

#endif
