/* The --connect client's connection: connect, the secret and the hello,
 * sending frames and receiving bytes. */
#include "client/client-internal.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CLIENT_HANDSHAKE	10000	/* ms for the server's answer */

/* Say the connection failed; the exit status is 1. */
void
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
int
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
int
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
		if (cl.bye) {
			cl.closed = 1;	/* a reset after the goodbye */
			return -1;
		}
		client_fail("connection to %s lost", cl.name);
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
void
client_print(const char *p, size_t n)
{
	fwrite(p, 1, n, stdout);
	fflush(stdout);
}

/* Connect to a; -1 (said why) when nothing listens there. */
int
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
int
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

