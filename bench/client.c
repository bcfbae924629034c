/*
 * bench/client: the echo load client of `make bench`.
 *
 * Pinned to one core, it opens N connections to 127.0.0.1:PORT; on each it
 * sends a message of S bytes and waits for the whole echo before sending the
 * next one. After a warm-up it counts the requests completed during a fixed
 * window and, when given the server's pid, the server's CPU time (utime +
 * stime from /proc/PID/stat) and minor page faults over the same window.
 * It prints one line of key=value pairs for bench/run.py.
 */

#define _GNU_SOURCE

#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct conn {
	int		 fd;
	size_t		 sent;
	size_t		 received;
	int		 want_out;
};

struct server_stat {
	long		 ticks;		/* utime + stime, in clock ticks */
	long		 faults;	/* minor page faults */
};

struct snapshot {
	double		 when;
	unsigned long long requests;
	struct server_stat server;
	double		 client_cpu;
};

static int		 ep;
static size_t		 msg_size;
static char		*out_buf;
static char		*in_buf;
static unsigned long long requests;

/* Print a message and exit. */
static void __attribute__((noreturn, format(printf, 1, 2)))
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fputs("client: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* Allocate or exit. */
static void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n, size)) == NULL)
		fatal("out of memory");
	return (p);
}

/* Seconds on the monotonic clock. */
static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* This process's CPU seconds, user and system. */
static double
client_cpu(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
}

/* The server's CPU time and page faults from /proc (zero without a pid). */
static void
server_stat(pid_t pid, struct server_stat *st)
{
	char		 path[64], buf[1024], *p;
	unsigned long	 minflt, utime, stime;
	FILE		*f;
	size_t		 len;

	st->ticks = st->faults = 0;
	if (pid <= 0)
		return;
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		fatal("%s: %s", path, strerror(errno));
	len = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[len] = '\0';
	/* After the command name: state is 3, minflt 10, utime 14, stime 15. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %lu %*u %*u %*u %lu %lu",
	    &minflt, &utime, &stime) != 3)
		fatal("%s: cannot parse", path);
	st->ticks = utime + stime;
	st->faults = minflt;
}

/* Take a snapshot of the counters. */
static void
snapshot_take(struct snapshot *s, pid_t pid)
{
	s->when = now();
	s->requests = requests;
	server_stat(pid, &s->server);
	s->client_cpu = client_cpu();
}

/* Pin this process to one core. */
static void
pin(int cpu)
{
	cpu_set_t	set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set) != 0)
		fatal("sched_setaffinity %d: %s", cpu, strerror(errno));
}

/* Watch for output on a connection, or stop watching. */
static void
conn_want_out(struct conn *c, int want)
{
	struct epoll_event	ev = { 0 };

	if (c->want_out == want)
		return;
	ev.events = EPOLLIN | (want ? EPOLLOUT : 0);
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) != 0)
		fatal("epoll_ctl: %s", strerror(errno));
	c->want_out = want;
}

/* Send what remains of the current message. */
static void
conn_write(struct conn *c)
{
	ssize_t	n;

	while (c->sent < msg_size) {
		n = send(c->fd, out_buf + c->sent, msg_size - c->sent,
		    MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0)
			fatal("send: %s", strerror(errno));
		c->sent += n;
	}
	conn_want_out(c, c->sent < msg_size);
}

/* Read the echo; a complete one counts and starts the next request. */
static void
conn_read(struct conn *c)
{
	ssize_t	n;

	for (;;) {
		n = recv(c->fd, in_buf, msg_size - c->received, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0)
			fatal("recv: %s", strerror(errno));
		if (n == 0)
			fatal("server closed a connection");
		c->received += n;
		if (c->received < msg_size)
			continue;
		requests++;
		c->sent = c->received = 0;
		conn_write(c);
		return;
	}
}

/* Open one connection to the server and register it. */
static void
conn_open(struct conn *c, int port)
{
	struct sockaddr_in	 sin = { 0 };
	struct epoll_event	 ev = { 0 };
	int			 one = 1;

	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		fatal("socket: %s", strerror(errno));
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof sin) != 0)
		fatal("connect 127.0.0.1:%d: %s", port, strerror(errno));
	if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
		fatal("TCP_NODELAY: %s", strerror(errno));
	if (fcntl(c->fd, F_SETFL, O_NONBLOCK) != 0)
		fatal("O_NONBLOCK: %s", strerror(errno));
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
		fatal("epoll_ctl: %s", strerror(errno));
}

/* Run the connections until the deadline; take a snapshot at mark. */
static void
run(double mark, double deadline, struct snapshot *at_mark, pid_t pid)
{
	struct epoll_event	 events[256];
	struct conn		*c;
	double			 t;
	int			 i, n, marked = 0;

	while ((t = now()) < deadline) {
		if (!marked && t >= mark) {
			snapshot_take(at_mark, pid);
			marked = 1;
		}
		n = epoll_wait(ep, events, 256, 10);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fatal("epoll_wait: %s", strerror(errno));
		for (i = 0; i < n; i++) {
			c = events[i].data.ptr;
			if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				conn_read(c);
			if (events[i].events & EPOLLOUT)
				conn_write(c);
		}
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: client -p PORT [-c CONNECTIONS] [-s SIZE] "
	    "[-w WARMUP] [-d DURATION] [-a CPU] [-P SERVER_PID]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct snapshot	 start, end;
	struct conn	*conns;
	double		 warmup = 1, duration = 3, t0, secs, server_s, n;
	long		 clk_tck = sysconf(_SC_CLK_TCK);
	pid_t		 pid = 0;
	int		 port = 0, nconns = 10, cpu = 0, ch, i;

	msg_size = 1024;
	while ((ch = getopt(argc, argv, "a:c:d:p:P:s:w:")) != -1) {
		switch (ch) {
		case 'a': cpu = atoi(optarg); break;
		case 'c': nconns = atoi(optarg); break;
		case 'd': duration = atof(optarg); break;
		case 'p': port = atoi(optarg); break;
		case 'P': pid = atoi(optarg); break;
		case 's': msg_size = strtoul(optarg, NULL, 10); break;
		case 'w': warmup = atof(optarg); break;
		default: usage();
		}
	}
	if (port <= 0 || port > 65535 || nconns <= 0 || msg_size == 0 ||
	    duration <= 0 || warmup < 0 || optind != argc)
		usage();

	pin(cpu);
	out_buf = xcalloc(1, msg_size);
	in_buf = xcalloc(1, msg_size);
	for (i = 0; i < (int)msg_size; i++)
		out_buf[i] = 'a' + i % 26;
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		fatal("epoll_create1: %s", strerror(errno));
	conns = xcalloc(nconns, sizeof *conns);
	for (i = 0; i < nconns; i++)
		conn_open(&conns[i], port);

	t0 = now();
	for (i = 0; i < nconns; i++)
		conn_write(&conns[i]);
	run(t0 + warmup, t0 + warmup + duration, &start, pid);
	snapshot_take(&end, pid);

	secs = end.when - start.when;
	n = end.requests - start.requests;
	server_s = (double)(end.server.ticks - start.server.ticks) / clk_tck;
	printf("requests=%.0f seconds=%.3f rps=%.1f", n, secs, n / secs);
	if (pid > 0 && n > 0)
		printf(" server_cpu_s=%.2f server_us_per_req=%.2f"
		    " server_busy=%.3f server_faults_per_req=%.2f", server_s,
		    server_s * 1e6 / n, server_s / secs,
		    (end.server.faults - start.server.faults) / n);
	printf(" client_busy=%.3f\n", (end.client_cpu - start.client_cpu) /
	    secs);

	for (i = 0; i < nconns; i++)
		close(conns[i].fd);
	free(conns);
	free(in_buf);
	free(out_buf);
	close(ep);
	return (0);
}
