/* serve/: the console served on TCP and unix sockets, and its client. */
#ifndef APYTHON_SERVE_H
#define APYTHON_SERVE_H

#include <stddef.h>

#include "compat.h"

enum serve_kind { SERVE_TCP, SERVE_UNIX };

/* A parsed --serve / --connect address. */
struct serve_address {
	enum serve_kind	 kind;
	char		 host[256];	/* TCP: empty means loopback */
	int		 port;		/* TCP: 0 picks a free port */
	char		 path[108];	/* UNIX: the socket's path */
};

int	 serve_parse_address(const char *, struct serve_address *);

/* --serve: listen now, follow the program's loops, close at exit. */
int	 serve_start(const struct serve_address *, const char *banner,
	     PyObject *locals, char **cause);
int	 serve_run_alone(void);
void	 serve_shutdown(void);
int	 serve_add_to_module(PyObject *module);

/* --connect: the client; it needs no Python. */
int	 serve_connect(const struct serve_address *, int no_readline);

/* Internal to serve/: limits of what a client may send or be sent. */
#define SERVE_LINE_MAX		(1024 * 1024)	/* bytes in one line */
#define SERVE_OUTPUT_MAX	(8 * 1024 * 1024) /* unsent output kept */

/* Internal to serve/: the --connect client's protocol. It sends the
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

/* Internal to serve/: a byte buffer, read from the front. */
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
#define sbuf_ptr(b)	((b)->data != NULL ? (b)->data + (b)->start : sbuf_empty)
#define sbuf_len(b)	((b)->end - (b)->start)
int	 frame_add(struct sbuf *, int, const void *, size_t);
int	 frame_next(struct sbuf *, int *, const char **, size_t *);

/* Internal to serve/: the shared secret (APYTHON_SECRET[_FILE]). */
int	 secret_load(char **, size_t *, char **cause);
int	 secret_equal(const char *, size_t, const char *, size_t);

/* Internal to serve/: listening sockets. */
struct listener {
	int	 fd;
	int	 family;
};

int	 listen_open(const struct serve_address *, struct listener **,
	     int *, char **cause);
int	 listen_name(int, char *, size_t);
int	 listen_is_loopback(const void *sockaddr);

/* Internal to serve/: the console server and its connections. */
PyObject	*server_new(const struct serve_address *, PyObject *banner,
		     PyObject *locals, char **cause);
int		 server_attach(PyObject *, PyObject *loop);
void		 server_detach(PyObject *);
void		 server_close(PyObject *);
void		 server_close_all(void);
PyObject	*server_loop(PyObject *);
const char	*server_name(PyObject *);
int		 server_ready(void);
PyObject	*server_banner(PyObject *);
PyObject	*server_locals(PyObject *);
int		 server_check_secret(PyObject *, const char *, size_t);
void		 server_forget(PyObject *, PyObject *conn);

PyObject	*conn_new(PyObject *server, int fd, int auth,
		     const char *refuse);
int		 conn_attach(PyObject *, PyObject *loop);
void		 conn_detach(PyObject *);
void		 conn_close(PyObject *);
int		 conn_ready(void);

#endif
