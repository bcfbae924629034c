/* The per-user runtime directory where programs leave their markers and
 * attachers their sockets: $XDG_RUNTIME_DIR/apython when that directory
 * is the user's and no one else may write in it, else /tmp/apython-UID.
 * Either is made 0700 and trusted only when it is a directory (not a
 * link), owned by the user, with no access for anyone else. */
#include "attach/attach.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Whether path is a directory of uid's that only uid may write in (what
 * XDG_RUNTIME_DIR must be; the XDG spec says 0700). */
static int
dir_is_users(const char *path, uid_t uid)
{
	struct stat	st;

	return path != NULL && path[0] == '/' && lstat(path, &st) == 0 &&
	    S_ISDIR(st.st_mode) && st.st_uid == uid &&
	    (st.st_mode & 022) == 0;
}

/* The directory's name, for uid's process whose XDG_RUNTIME_DIR is xdg;
 * -1 when it does not fit. The attacher finds the program's the same
 * way, from /proc/PID/environ. */
int
attach_dir_name(uid_t uid, const char *xdg, char *buf, size_t len)
{
	int	n = -1;

	if (dir_is_users(xdg, uid))
		n = snprintf(buf, len, "%s/apython", xdg);
	/* A socket's path must fit: too long, the one in /tmp. */
	if (n < 0 || (size_t)n + ATTACH_NAME_MAX >= len ||
	    n + ATTACH_NAME_MAX >= ATTACH_PATH_MAX)
		n = snprintf(buf, len, "/tmp/apython-%lu", (unsigned long)uid);
	return n < 0 || (size_t)n + ATTACH_NAME_MAX >= len ? -1 : 0;
}

/* Say why in *cause (malloc'd); -1. */
static int
dir_fail(char **cause, const char *path, const char *why)
{
	if (asprintf(cause, "%s: %s", path, why) < 0)
		*cause = NULL;
	return -1;
}

/* Open the directory (for *at() calls; close-on-exec) after checking it is uid's, 0700, not a link: the fd, or -1 with *cause
 * (malloc'd) and errno (ENOENT: there is none). The checks are made on
 * what was opened, so a link swapped in meanwhile is not followed. */
int
attach_dir_open(const char *path, uid_t uid, char **cause)
{
	struct stat	st;
	int		fd, e;

	*cause = NULL;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		dir_fail(cause, path, e == ELOOP || e == ENOTDIR ?
		    "not a directory" : strerror(e));
		errno = e;
		return -1;
	}
	e = EPERM;
	if (fstat(fd, &st) != 0)
		dir_fail(cause, path, strerror(e = errno));
	else if (st.st_uid != uid)
		dir_fail(cause, path, "owned by another user");
	else if ((st.st_mode & 077) != 0)
		dir_fail(cause, path, "open to other users (not 0700)");
	else
		return fd;
	close(fd);
	errno = e;
	return -1;
}

/* Check (make, when create) the directory: uid's, 0700, not a link. */
int
attach_dir_check(const char *path, uid_t uid, int create, char **cause)
{
	int	fd;

	*cause = NULL;
	if (create && mkdir(path, 0700) != 0 && errno != EEXIST)
		return dir_fail(cause, path, strerror(errno));
	if ((fd = attach_dir_open(path, uid, cause)) < 0)
		return -1;
	close(fd);
	return 0;
}
