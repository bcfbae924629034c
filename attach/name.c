/* The names of the attachers' sockets, PID-KIND-ATTACHER (the target's
 * pid, what is asked, the attacher's pid, so that two attach at once),
 * and who is at the other end of a unix socket. */
#include "attach/attach.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kinds[] = { "", "attach", "ps" };

/* Name the socket asking target for kind; -1 when it does not fit. */
int
attach_sock_name(char *buf, size_t len, pid_t target, enum attach_kind kind,
    pid_t attacher)
{
	int	n;

	n = snprintf(buf, len, "%ld-%s-%ld", (long)target, kinds[kind],
	    (long)attacher);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Whether name asks self: 0 and *kind, else -1 (markers, temporary
 * files, other programs' requests). */
int
attach_sock_parse(const char *name, pid_t self, enum attach_kind *kind)
{
	char	*end;
	size_t	 n;
	long	 pid;
	int	 k;

	errno = 0;
	pid = strtol(name, &end, 10);
	if (errno != 0 || end == name || *end != '-' || pid != (long)self)
		return -1;
	name = end + 1;
	for (k = ATTACH_CONSOLE; k <= ATTACH_PS; k++) {
		n = strlen(kinds[k]);
		if (strncmp(name, kinds[k], n) != 0 || name[n] != '-')
			continue;
		name += n + 1;
		if (*name < '0' || *name > '9')
			return -1;
		strtol(name, &end, 10);
		if (*end != '\0')
			return -1;
		*kind = k;
		return 0;
	}
	return -1;
}

/* The uid and pid at the other end of unix socket fd. */
int
attach_peer(int fd, uid_t *uid, pid_t *pid)
{
	struct ucred	cred;
	socklen_t	len = sizeof cred;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return -1;
	*uid = cred.uid;
	*pid = cred.pid;
	return 0;
}
