/* The attacher's side: check that PID is an apython program of ours (or,
 * as root, of its user) that may be attached, before doing anything it
 * could see; then offer it a socket in its runtime directory and wait for
 * it to connect. Every failure is one line on stderr. */
#include "attach/attach.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Say what went wrong with pid, one line; -1. */
static int __attribute__((format(printf, 2, 3)))
attacher_fail(pid_t pid, const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "apython: %ld: ", (long)pid);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* pid's XDG_RUNTIME_DIR (from /proc/PID/environ) into buf, or NULL. */
static const char *
attacher_xdg(pid_t pid, char *buf, size_t len)
{
	static const char	 key[] = "XDG_RUNTIME_DIR=";
	char			 path[64], env[65536], *p, *end;
	ssize_t			 n;
	int			 fd;

	snprintf(path, sizeof path, "/proc/%ld/environ", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	n = read(fd, env, sizeof env - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	env[n] = '\0';
	for (p = env, end = env + n; p < end; p += strlen(p) + 1)
		if (strncmp(p, key, sizeof key - 1) == 0) {
			snprintf(buf, len, "%s", p + sizeof key - 1);
			return buf;
		}
	return NULL;
}

/* Find pid's runtime directory and check its marker: 0, or -1 said. */
static int
attacher_check(pid_t pid, char *dir, size_t len, uid_t *uid)
{
	struct attach_id	 now, marked;
	enum attach_state	 state;
	struct stat		 st;
	char			 path[64], xdg[4096], *cause = NULL;
	int			 bad;

	snprintf(path, sizeof path, "/proc/%ld", (long)pid);
	if (stat(path, &st) != 0)
		return attacher_fail(pid, "no such process");
	*uid = st.st_uid;
	if (st.st_uid != geteuid() && geteuid() != 0)
		return attacher_fail(pid, "the process of another user");
	if (attach_identify(pid, &now) != 0)
		return attacher_fail(pid, errno == ENOENT ? "no such process" :
		    "cannot look at that process: %s", strerror(errno));
	bad = attach_dir_name(*uid, attacher_xdg(pid, xdg, sizeof xdg), dir,
	    len) != 0 || attach_dir_check(dir, *uid, 0, &cause) != 0 ||
	    attach_marker_read(dir, pid, &marked, &state) != 0 ||
	    marked.start != now.start || marked.exe_dev != now.exe_dev ||
	    marked.exe_ino != now.exe_ino;
	free(cause);
	if (bad)
		return attacher_fail(pid, "not an apython program");
	if (state == ATTACH_OFF)
		return attacher_fail(pid, "attaching is turned off in that "
		    "program (APYTHON_NO_ATTACH or --no-attach)");
	if (state != ATTACH_ON)
		return attacher_fail(pid, "that program cannot be attached "
		    "(it could not watch %s)", dir);
	return 0;
}

/* Bind a listening socket at path, 0600 and uid's (root gives it to
 * the program's user); -1 with errno. */
static int
attacher_listen(const char *path, uid_t uid)
{
	struct sockaddr_un	sun;
	mode_t			mask;
	int			fd, r;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	unlink(path);
	mask = umask(077);
	r = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	umask(mask);
	if (r == 0 && uid != geteuid())
		r = chown(path, uid, (gid_t)-1);
	if (r == 0)
		r = listen(fd, 4);
	if (r != 0) {
		r = errno;
		unlink(path);
		close(fd);
		errno = r;
		return -1;
	}
	return fd;
}

/* Milliseconds on the monotonic clock. */
static long long
attacher_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Wait on lfd for pid (as uid) to connect: the socket, or -1. Anyone
 * else who connects is shut out. */
static int
attacher_accept(int lfd, pid_t pid, uid_t uid, int wait_ms)
{
	struct pollfd	pfd = { .fd = lfd, .events = POLLIN };
	long long	end = attacher_now() + wait_ms;
	uid_t		puid;
	pid_t		ppid;
	int		fd, left;

	while ((left = (int)(end - attacher_now())) > 0) {
		if (poll(&pfd, 1, left) <= 0)
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (attach_peer(fd, &puid, &ppid) == 0 && ppid == pid &&
		    puid == uid)
			return fd;
		close(fd);
	}
	return -1;
}

/* Connect to pid's program for kind: the socket, or -1 said. */
int
attach_to(pid_t pid, enum attach_kind kind, int wait_ms)
{
	char	dir[ATTACH_PATH_MAX], tmp[ATTACH_PATH_MAX + 64];
	char	path[ATTACH_PATH_MAX + 64], name[64];
	uid_t	uid = 0;
	int	lfd, fd;

	if (attacher_check(pid, dir, sizeof dir, &uid) != 0)
		return -1;
	snprintf(tmp, sizeof tmp, "%s/.sock-%ld", dir, (long)getpid());
	attach_sock_name(name, sizeof name, pid, kind, getpid());
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((lfd = attacher_listen(tmp, uid)) < 0)
		return attacher_fail(pid, "cannot make a socket in %s: %s",
		    dir, strerror(errno));
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		close(lfd);
		return attacher_fail(pid, "cannot make a socket in %s: %s",
		    dir, strerror(errno));
	}
	fd = attacher_accept(lfd, pid, uid, wait_ms);
	unlink(path);
	close(lfd);
	if (fd < 0)
		return attacher_fail(pid, "no answer from the program within "
		    "%d seconds", wait_ms / 1000);
	return fd;
}
