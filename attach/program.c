/* The program's side: its marker in the runtime directory, and the
 * directory watched (inotify, on ctl/'s thread) for attachers' sockets
 * named for its pid, to which it connects out. Nothing listens. The
 * state below is the main thread's (arm, disarm, the forked child's
 * re-arm); the control thread only reads it while the watch is on. */
#include "attach/attach.h"
#include "ctl/ctl.h"

#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char		 dir[ATTACH_PATH_MAX];
static struct attach_id	 me;		/* whose marker is there */
static int		 ifd = -1;	/* inotify, watching dir */
static struct stat	 ifd_st;	/* what ifd was, to know it still is */
static attach_fn	 handler;
static int		 wanted;	/* attach_arm's on */
static int		 marked;
static int		 lazy;		/* a forked child, not marked yet */

/* Connect to the attacher's socket name (in dir): the socket, or -1
 * when it is not a socket of our user's, or the peer is not. */
static int
program_connect(const char *name)
{
	struct sockaddr_un	sun;
	struct stat		st;
	uid_t			uid;
	pid_t			pid;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (snprintf(sun.sun_path, sizeof sun.sun_path, "%s/%s", dir, name) >=
	    (int)sizeof sun.sun_path)
		return -1;
	if (lstat(sun.sun_path, &st) != 0 || !S_ISSOCK(st.st_mode) ||
	    st.st_uid != geteuid())
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0 ||
	    attach_peer(fd, &uid, &pid) != 0 ||
	    (uid != geteuid() && uid != 0) ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A name appeared in dir: if it asks us, connect and hand it over. */
static void
program_name(const char *name)
{
	enum attach_kind	kind;
	int			fd;

	if (attach_sock_parse(name, me.pid, &kind) != 0)
		return;
	if ((fd = program_connect(name)) >= 0)
		handler(fd, kind);
}

/* Events were lost: look at every name in dir. */
static void
program_rescan(void)
{
	struct dirent	*d;
	DIR		*dp;

	if ((dp = opendir(dir)) == NULL)
		return;
	while ((d = readdir(dp)) != NULL)
		program_name(d->d_name);
	closedir(dp);
}

/* The pid in a name a process leaves in dir, 0 if none: a marker's
 * name; the end of a temporary marker's (.mark-PID) or of a renamed
 * socket's (PID-KIND-APID); after ".sock-" in a socket not renamed yet
 * (.sock-APID-RANDOM). *marker: name is a marker. */
static long
program_left_pid(const char *name, int *marker)
{
	const char	*p = strrchr(name, '-');
	char		*end;
	long		 pid;
	int		 sock = strncmp(name, ".sock-", 6) == 0;

	*marker = p == NULL;
	pid = strtol(sock ? name + 6 : p != NULL ? p + 1 : name, &end, 10);
	if (*end != (sock ? '-' : '\0'))
		return 0;
	return pid > 0 ? pid : 0;
}

/* Whether the process that left name is gone: its pid is free, or
 * another process's now. */
static int
program_stale(const char *name)
{
	struct attach_id	 left, now;
	enum attach_state	 state;
	int			 marker;
	long			 pid = program_left_pid(name, &marker);

	if (pid == 0 || pid == (long)getpid())
		return 0;
	if (attach_identify(pid, &now) != 0)
		return errno == ENOENT;
	if (!marker || attach_marker_read(dir, pid, &left, &state) != 0)
		return 0;
	return left.start != now.start || left.exe_dev != now.exe_dev ||
	    left.exe_ino != now.exe_ino;
}

/* Whether name is one a process leaves in dir: a marker (PID), its
 * temporary (.mark-PID), an attacher's socket not renamed yet
 * (.sock-APID-RANDOM) or renamed (PID-KIND-APID). */
static int
program_leftover(const char *name)
{
	return (name[0] >= '0' && name[0] <= '9') ||
	    strncmp(name, ".mark-", 6) == 0 || strncmp(name, ".sock-", 6) == 0;
}

/* Remove what programs and attachers that died left in dir (at arm,
 * and whenever names arrive: a killed process, or a forked child that
 * left by os._exit, never removes its own). Either thread: it reads only
 * dir, set before the control thread starts. */
static void
program_sweep(void)
{
	struct dirent	*d;
	DIR		*dp;

	if ((dp = opendir(dir)) == NULL)
		return;
	while ((d = readdir(dp)) != NULL)
		if (program_leftover(d->d_name) && program_stale(d->d_name))
			unlinkat(dirfd(dp), d->d_name, 0);
	closedir(dp);
}

/* The control thread: inotify has events. */
static void
program_events(int fd, short revents, void *arg)
{
	char				 buf[8192]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event	*ev;
	ssize_t				 n;
	char				*p;

	(void)revents;
	(void)arg;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		for (p = buf; p < buf + n; p += sizeof *ev + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->mask & IN_Q_OVERFLOW)
				program_rescan();
			else if (ev->len > 0)
				program_name(ev->name);
		}
	program_sweep();
}

/* Watch dir and leave the marker; marker state when watching fails. */
static void
program_watch(void)
{
	enum attach_state	state = ATTACH_OFF;

	if (attach_identify(getpid(), &me) != 0)
		return;
	if (wanted) {
		state = ATTACH_BROKEN;
		ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (ifd >= 0 && fstat(ifd, &ifd_st) == 0 &&
		    inotify_add_watch(ifd, dir, IN_MOVED_TO) >= 0 &&
		    ctl_start() == 0 &&
		    ctl_watch(ifd, POLLIN, program_events, NULL) == 0)
			state = ATTACH_ON;
		else if (ifd >= 0) {
			close(ifd);
			ifd = -1;
		}
	}
	marked = attach_mark(dir, &me, state) == 0;
}

/* At exit: our marker goes (a forked child's is its own). */
static void
program_at_exit(void)
{
	if (marked && me.pid == getpid())
		attach_unmark(dir, me.pid);
	marked = 0;
}

/* Arm (main thread, once): the directory made or checked, watched when
 * on, the marker left. -1 (the program runs on, not attachable) when
 * the directory is not safe to use. */
int
attach_arm(int on, attach_fn fn)
{
	char	*cause = NULL;

	if (attach_dir_name(geteuid(), getenv("XDG_RUNTIME_DIR"), dir,
	    sizeof dir) != 0 || attach_dir_check(dir, geteuid(), 1,
	    &cause) != 0) {
		free(cause);
		dir[0] = '\0';
		return -1;
	}
	wanted = on;
	handler = fn;
	program_watch();
	/* Watched, our marker's arrival (renamed in) is an event: the
	 * control thread sweeps then, off the start-up path (a dozen
	 * markers cost ~40 syscalls). Else it is done here. */
	if (ifd < 0 || !marked)
		program_sweep();
	atexit(program_at_exit);
	return 0;
}

/* Whether ifd is still our inotify fd: a program that closed its fds
 * (os.closerange, daemonizers) may have a file of its own there now. */
static int
program_ifd_ours(void)
{
	struct stat	st;
	char		path[64], link[32];
	ssize_t		n;

	if (ifd < 0 || fstat(ifd, &st) != 0 || st.st_dev != ifd_st.st_dev ||
	    st.st_ino != ifd_st.st_ino)
		return 0;
	/* Every anonymous inode shares one inode number: ask /proc too. */
	snprintf(path, sizeof path, "/proc/self/fd/%d", ifd);
	if ((n = readlink(path, link, sizeof link - 1)) < 0)
		return 1;
	link[n] = '\0';
	return strcmp(link, "anon_inode:inotify") == 0;
}

/* In a forked child (after ctl_forked_child): the inotify fd is shared
 * with the parent, so it goes (if it is still ours); the child's own
 * watch and marker wait for attach_child_ready (most children exec or
 * _exit first, and _exit would leave the marker behind). */
void
attach_forked_child(void)
{
	if (program_ifd_ours())
		close(ifd);
	ifd = -1;
	marked = 0;
	lazy = dir[0] != '\0';
}

/* A forked child runs a loop (main thread): now it is attachable. */
void
attach_child_ready(void)
{
	if (!lazy)
		return;
	lazy = 0;
	program_watch();
}

/* Stop (the program ends): no more attaches, the marker gone. */
void
attach_disarm(void)
{
	if (ifd >= 0) {
		ctl_unwatch(ifd);
		if (program_ifd_ours())
			close(ifd);
		ifd = -1;
	}
	program_at_exit();
}
