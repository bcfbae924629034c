/* Listening sockets: TCP (loopback unless a host is given) and unix
 * sockets made mode 0600, never stealing a live one. */
#include "serve/serve-internal.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LISTEN_ADDRS	16	/* addresses of one host we listen on */
#define LISTEN_TRIES	16	/* port 0: tries for a port free on all */

/* Set *cause from a format; return -1. */
static int __attribute__((format(printf, 2, 3)))
listen_fail(char **cause, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) < 0)
		*cause = NULL;
	va_end(ap);
	return -1;
}

/* A non-blocking socket bound to sa and listening; -1 with errno. */
static int
listen_socket(const struct sockaddr *sa, socklen_t len, int v6only)
{
	int	fd, one = 1, saved;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0)
		return -1;
	if (sa->sa_family != AF_UNIX &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
		goto fail;
	if (sa->sa_family == AF_INET6 && v6only &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0)
		goto fail;
	if (bind(fd, sa, len) != 0 || listen(fd, SOMAXCONN) != 0)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* The port a TCP socket is bound to, or -1. */
static int
listen_port(int fd)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* Set the port of an IPv4 or IPv6 address. */
static void
listen_set_port(struct sockaddr_storage *ss, int port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

/* Close the n sockets of ls. */
static void
listen_close_all(struct listener *ls, int n)
{
	while (n-- > 0)
		close(ls[n].fd);
}

/* Listen on every address of ss[0..n), all on one port (port 0: the port
 * the first gets). Later addresses the machine lacks are left out. */
static int
listen_addrs(struct sockaddr_storage *ss, int n, int port,
    struct listener *ls, int *nls, char **cause)
{
	socklen_t	len;
	int		i = 0, try, fd, p, err = 0;
	char		host[INET6_ADDRSTRLEN];

	for (try = 0; try < LISTEN_TRIES; try++) {
		*nls = 0;
		p = port;
		for (i = 0; i < n; i++) {
			listen_set_port(&ss[i], p);
			len = ss[i].ss_family == AF_INET ?
			    sizeof(struct sockaddr_in) :
			    sizeof(struct sockaddr_in6);
			fd = listen_socket((struct sockaddr *)&ss[i], len, n > 1);
			if (fd < 0 && i > 0 && (errno == EADDRNOTAVAIL ||
			    errno == EAFNOSUPPORT))
				continue;
			if (fd < 0)
				break;
			ls[*nls].fd = fd;
			ls[*nls].family = ss[i].ss_family;
			(*nls)++;
			if (p == 0 && (p = listen_port(fd)) < 0)
				break;
		}
		if (i == n)
			return 0;
		err = errno;
		listen_close_all(ls, *nls);
		*nls = 0;
		if (err != EADDRINUSE || port != 0 || i == 0)
			break;
	}
	if (ss[i].ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss[i])->sin_addr,
		    host, sizeof host);
	else
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss[i])->sin6_addr,
		    host, sizeof host);
	return listen_fail(cause, "cannot listen on %s port %d: %s", host,
	    port, strerror(err));
}

/* The addresses of host (loopback when empty) in ss; how many, or -1. */
static int
listen_resolve(const char *host, struct sockaddr_storage *ss, char **cause)
{
	struct addrinfo		 hints, *res, *ai;
	int			 n = 0, error;

	memset(ss, 0, LISTEN_ADDRS * sizeof *ss);
	if (*host == '\0') {
		ss[0].ss_family = AF_INET;
		((struct sockaddr_in *)&ss[0])->sin_addr.s_addr =
		    htonl(INADDR_LOOPBACK);
		ss[1].ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss[1])->sin6_addr = in6addr_loopback;
		return 2;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((error = getaddrinfo(host, "0", &hints, &res)) != 0)
		return listen_fail(cause, "%s: %s", host, gai_strerror(error));
	for (ai = res; ai != NULL && n < LISTEN_ADDRS; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		memcpy(&ss[n++], ai->ai_addr, ai->ai_addrlen);
	}
	freeaddrinfo(res);
	if (n == 0)
		return listen_fail(cause, "%s: no IPv4 or IPv6 address", host);
	return n;
}

/* Fill sun with path; -1 when it does not fit. */
static int
listen_sun(struct sockaddr_un *sun, const char *path)
{
	size_t	len = strlen(path);

	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	if (len >= sizeof sun->sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun->sun_path, path, len + 1);
	return 0;
}

/* Remove a stale unix socket at path; fail when it is live or is not a
 * socket. 0 when path is free now. */
static int
listen_stale_unix(const char *path, char **cause)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	int			 fd, r, saved;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : listen_fail(cause, "%s: %s", path,
		    strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return listen_fail(cause, "%s exists and is not a socket", path);
	if (listen_sun(&sun, path) != 0)
		return listen_fail(cause, "%s: %s", path, strerror(errno));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return listen_fail(cause, "socket: %s", strerror(errno));
	r = connect(fd, (struct sockaddr *)&sun, sizeof sun);
	saved = errno;
	close(fd);
	if (r == 0 || saved == EAGAIN || saved == EINPROGRESS)
		return listen_fail(cause, "%s: something is already listening "
		    "there", path);
	if (saved != ECONNREFUSED)
		return listen_fail(cause, "%s: %s", path, strerror(saved));
	if (unlink(path) != 0 && errno != ENOENT)
		return listen_fail(cause, "%s: %s", path, strerror(errno));
	return 0;
}

/* Listen on a unix socket at path, mode 0600 from the start. */
static int
listen_unix(const char *path, struct listener *ls, int *nls, char **cause)
{
	struct sockaddr_un	sun;
	mode_t			old;
	int			fd, saved;

	if (listen_stale_unix(path, cause) != 0)
		return -1;
	if (listen_sun(&sun, path) != 0)
		return listen_fail(cause, "%s: %s", path, strerror(errno));
	old = umask(0177);
	fd = listen_socket((struct sockaddr *)&sun, sizeof sun, 0);
	saved = errno;
	umask(old);
	if (fd < 0)
		return listen_fail(cause, "cannot listen on %s: %s", path,
		    strerror(saved));
	ls[0].fd = fd;
	ls[0].family = AF_UNIX;
	*nls = 1;
	return 0;
}

/* Open the listening sockets of address a in *ls (malloc'd, *n of them). */
int
listen_open(const struct serve_address *a, struct listener **ls, int *n,
    char **cause)
{
	struct sockaddr_storage	 ss[LISTEN_ADDRS];
	int			 naddrs, r;

	*n = 0;
	if ((*ls = calloc(LISTEN_ADDRS, sizeof **ls)) == NULL)
		return listen_fail(cause, "out of memory");
	if (a->kind == SERVE_UNIX)
		r = listen_unix(a->path, *ls, n, cause);
	else if ((naddrs = listen_resolve(a->host, ss, cause)) < 0)
		r = -1;
	else
		r = listen_addrs(ss, naddrs, a->port, *ls, n, cause);
	if (r != 0) {
		free(*ls);
		*ls = NULL;
	}
	return r;
}

/* Name the address fd listens on: HOST:PORT, [HOST]:PORT or a path. */
int
listen_name(int fd, char *buf, size_t len)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof ss;
	char			 host[INET6_ADDRSTRLEN];

	memset(&ss, 0, sizeof ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0)
		return -1;
	if (ss.ss_family == AF_UNIX) {
		snprintf(buf, len, "%s", ((struct sockaddr_un *)&ss)->sun_path);
		return 0;
	}
	if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host,
		    sizeof host);
		snprintf(buf, len, "%s:%d", host, listen_port(fd));
	} else {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
		    host, sizeof host);
		snprintf(buf, len, "[%s]:%d", host, listen_port(fd));
	}
	return 0;
}

/* Whether a socket address is this machine's own: loopback or unix. */
int
listen_is_loopback(const void *p)
{
	const struct sockaddr		*sa = p;
	const struct sockaddr_in	*sin = p;
	const struct sockaddr_in6	*sin6 = p;
	const unsigned char		*b;

	switch (sa->sa_family) {
	case AF_UNIX:
		return 1;
	case AF_INET:
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	case AF_INET6:
		if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
			return 1;
		b = sin6->sin6_addr.s6_addr;
		return IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) && b[12] == 127;
	}
	return 0;
}
