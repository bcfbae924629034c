/* A program's marker in the runtime directory: a file named by its pid
 * that says "apython PID START DEV INO STATE". START (/proc/PID/stat's
 * starttime) tells a reused pid apart, DEV:INO (what /proc/PID/exe is)
 * a forked child that exec'd another program. */
#include "attach/attach.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const states[] = { "", "on", "off", "broken" };

/* pid's start time, from field 22 of /proc/PID/stat (after the command
 * name, which may hold spaces and parentheses). */
static int
marker_start_time(pid_t pid, unsigned long long *start)
{
	char	 path[64], buf[1024], *p;
	ssize_t	 n;
	int	 fd, i;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	/* Field 3 (state) follows ") "; starttime is field 22. */
	for (i = 2; i < 22 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%llu", start) != 1)
		return -1;
	return 0;
}

/* Who pid is now; -1 with errno (ENOENT: no such process, EACCES:
 * another user's). */
int
attach_identify(pid_t pid, struct attach_id *id)
{
	char		path[64];
	struct stat	st;

	memset(id, 0, sizeof *id);
	id->pid = pid;
	snprintf(path, sizeof path, "/proc/%ld/exe", (long)pid);
	if (stat(path, &st) != 0)
		return -1;
	id->exe_dev = st.st_dev;
	id->exe_ino = st.st_ino;
	if (marker_start_time(pid, &id->start) != 0) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

/* Write the marker (whole, by renaming a temporary file). */
int
attach_mark(const char *dir, const struct attach_id *id,
    enum attach_state state)
{
	char	tmp[ATTACH_PATH_MAX + 32], path[ATTACH_PATH_MAX + 32];
	FILE	*f;
	int	 fd, r;

	snprintf(tmp, sizeof tmp, "%s/.mark-%ld", dir, (long)id->pid);
	snprintf(path, sizeof path, "%s/%ld", dir, (long)id->pid);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	r = fprintf(f, "apython %ld %llu %llu %llu %s\n", (long)id->pid,
	    id->start, id->exe_dev, id->exe_ino, states[state]);
	if (fclose(f) != 0 || r < 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Remove pid's marker. */
void
attach_unmark(const char *dir, pid_t pid)
{
	char	path[ATTACH_PATH_MAX + 32];

	snprintf(path, sizeof path, "%s/%ld", dir, (long)pid);
	unlink(path);
}

/* Read the marker open on fd (closed here): a small regular file of
 * uid's saying it is pid's; its id and state, or -1. */
static int
marker_parse(int fd, pid_t pid, uid_t uid, struct attach_id *id,
    enum attach_state *state)
{
	struct stat	 st;
	char		 buf[256], word[16];
	ssize_t		 n;
	long		 p;
	int		 i;

	if (fd < 0)
		return -1;
	n = -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == uid &&
	    st.st_size < (off_t)sizeof buf)
		n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (sscanf(buf, "apython %ld %llu %llu %llu %15s", &p, &id->start,
	    &id->exe_dev, &id->exe_ino, word) != 5 || p != (long)pid)
		return -1;
	id->pid = pid;
	for (i = ATTACH_ON; i <= ATTACH_BROKEN; i++)
		if (strcmp(word, states[i]) == 0) {
			*state = i;
			return 0;
		}
	return -1;
}

/* A marker is opened without following a link or waiting on a FIFO. */
#define MARKER_OPEN	(O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)

/* Read pid's marker in the directory open on dfd, which must be uid's:
 * who wrote it, and its state; -1 when there is none (or it is not
 * one). */
int
attach_marker_readat(int dfd, pid_t pid, uid_t uid, struct attach_id *id,
    enum attach_state *state)
{
	char	name[32];

	snprintf(name, sizeof name, "%ld", (long)pid);
	return marker_parse(openat(dfd, name, MARKER_OPEN), pid, uid, id,
	    state);
}

/* The same in the directory named dir, the caller's. */
int
attach_marker_read(const char *dir, pid_t pid, struct attach_id *id,
    enum attach_state *state)
{
	char	path[ATTACH_PATH_MAX + 32];

	snprintf(path, sizeof path, "%s/%ld", dir, (long)pid);
	return marker_parse(open(path, MARKER_OPEN), pid, geteuid(), id,
	    state);
}
