/* The attacher's side: check that PID is an apython program of ours (or,
 * as root, of its user) that may be attached, before doing anything it
 * could see; then (root becoming the program's user first) offer it a
 * socket in its runtime directory, through an fd on that directory, and
 * wait for it to connect. Every failure is one line on stderr. */
#include "attach/attach.h"

#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long attacher_now(void);

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

/* Root asking another user's program becomes that user, for good, before
 * touching the user's directory: what it does there (bind, rename,
 * unlink) is then only what the user could do. Pure C and no thread yet,
 * so set*id() apply to the whole process. 0, or -1 with errno. */
static int
attacher_become(uid_t uid, gid_t gid)
{
	if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
		return -1;
	if (getuid() != uid || geteuid() != uid || getgid() != gid ||
	    getegid() != gid || setuid(0) == 0) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* Find pid's runtime directory (becoming its user, as root) and check
 * its marker: the directory's fd, or -1 said. */
static int
attacher_check(pid_t pid, char *dir, size_t len, uid_t *uid)
{
	struct attach_id	 now, marked;
	enum attach_state	 state;
	struct stat		 st;
	char			 path[64], xdg[4096], *cause = NULL;
	int			 dfd, bad;

	snprintf(path, sizeof path, "/proc/%ld", (long)pid);
	if (stat(path, &st) != 0)
		return attacher_fail(pid, "no such process");
	*uid = st.st_uid;
	if (st.st_uid != geteuid() && geteuid() != 0)
		return attacher_fail(pid, "the process of another user");
	if (attach_identify(pid, &now) != 0)
		return attacher_fail(pid, errno == ENOENT ? "no such process" :
		    "cannot look at that process: %s", strerror(errno));
	if (attach_dir_name(*uid, attacher_xdg(pid, xdg, sizeof xdg), dir,
	    len) != 0)
		return attacher_fail(pid, "not an apython program");
	if (*uid != geteuid() && attacher_become(*uid, st.st_gid) != 0)
		return attacher_fail(pid, "cannot become user %lu: %s",
		    (unsigned long)*uid, strerror(errno));
	if ((dfd = attach_dir_open(dir, *uid, &cause)) < 0) {
		/* None: no apython program of that user ever ran. */
		if (errno == ENOENT || cause == NULL)
			attacher_fail(pid, "not an apython program");
		else
			attacher_fail(pid, "%s", cause);
		free(cause);
		return -1;
	}
	bad = attach_marker_readat(dfd, pid, *uid, &marked, &state) != 0 ||
	    marked.start != now.start || marked.exe_dev != now.exe_dev ||
	    marked.exe_ino != now.exe_ino;
	if (bad || state != ATTACH_ON)
		close(dfd);
	if (bad)
		return attacher_fail(pid, "not an apython program");
	if (state == ATTACH_OFF)
		return attacher_fail(pid, "attaching is turned off in that "
		    "program (APYTHON_NO_ATTACH or --no-attach)");
	if (state != ATTACH_ON)
		return attacher_fail(pid, "that program cannot be attached "
		    "(it could not watch %s)", dir);
	return dfd;
}

/* Bind a listening socket, 0600, at name in the directory open on dfd
 * (through /proc/self/fd, so that the directory cannot be swapped);
 * a name that exists, even a link, is not followed: bind fails. -1 with
 * errno. */
static int
attacher_listen(int dfd, const char *name)
{
	struct sockaddr_un	sun;
	mode_t			mask;
	int			fd, r, n;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	n = snprintf(sun.sun_path, sizeof sun.sun_path, "/proc/self/fd/%d/%s",
	    dfd, name);
	if (n < 0 || (size_t)n >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	mask = umask(077);
	r = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	umask(mask);
	if (r == 0 && (r = listen(fd, 4)) != 0)
		unlinkat(dfd, name, 0);
	if (r != 0) {
		r = errno;
		close(fd);
		errno = r;
		return -1;
	}
	return fd;
}

/* A temporary name no one can guess ahead: .sock-PID-RANDOM. */
static void
attacher_tmp_name(char *buf, size_t len)
{
	unsigned long long	r = 0;

	if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
		r ^= (unsigned long long)attacher_now() * 2654435761u;
	snprintf(buf, len, ".sock-%ld-%016llx", (long)getpid(), r);
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
	char	dir[ATTACH_PATH_MAX], tmp[64], name[64];
	uid_t	uid = 0;
	int	dfd, lfd, fd;

	if ((dfd = attacher_check(pid, dir, sizeof dir, &uid)) < 0)
		return -1;
	attacher_tmp_name(tmp, sizeof tmp);
	attach_sock_name(name, sizeof name, pid, kind, getpid());
	if ((lfd = attacher_listen(dfd, tmp)) < 0 ||
	    renameat(dfd, tmp, dfd, name) != 0) {
		fd = errno;
		if (lfd >= 0) {
			unlinkat(dfd, tmp, 0);
			close(lfd);
		}
		close(dfd);
		return attacher_fail(pid, "cannot make a socket in %s: %s",
		    dir, strerror(fd));
	}
	fd = attacher_accept(lfd, pid, uid, wait_ms);
	unlinkat(dfd, name, 0);
	close(lfd);
	close(dfd);
	if (fd < 0)
		return attacher_fail(pid, "no answer from the program within "
		    "%d seconds", wait_ms / 1000);
	return fd;
}
