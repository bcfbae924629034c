/* The per-user runtime directory where programs leave their markers and
 * attachers their sockets: $XDG_RUNTIME_DIR/apython when that directory
 * is the user's, else /tmp/apython-UID. Either is made 0700 and trusted
 * only when it is a directory (not a link), owned by the user, with no
 * access for anyone else. */
#include "attach/attach.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Whether path is a directory of uid's (what XDG_RUNTIME_DIR must be). */
static int
dir_is_users(const char *path, uid_t uid)
{
	struct stat	st;

	return path != NULL && path[0] == '/' && lstat(path, &st) == 0 &&
	    S_ISDIR(st.st_mode) && st.st_uid == uid;
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

/* Check (make, when create) the directory: uid's, 0700, not a link. */
int
attach_dir_check(const char *path, uid_t uid, int create, char **cause)
{
	struct stat	st;

	*cause = NULL;
	if (create && mkdir(path, 0700) != 0 && errno != EEXIST)
		return dir_fail(cause, path, strerror(errno));
	if (lstat(path, &st) != 0)
		return dir_fail(cause, path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return dir_fail(cause, path, "not a directory");
	if (st.st_uid != uid)
		return dir_fail(cause, path, "owned by another user");
	if ((st.st_mode & 077) != 0)
		return dir_fail(cause, path, "open to other users (not 0700)");
	return 0;
}
