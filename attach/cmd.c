/* apython --attach PID and apython --ps PID, the attacher's commands:
 * the console through the --connect client, the tasks printed. */
#include "attach/attach.h"
#include "client/client.h"

#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CMD_PS_WAIT	10000	/* ms for the program's whole answer */

/* --attach PID: the exit status. */
int
attach_console(pid_t pid, int no_readline)
{
	char	what[64];
	int	fd;

	if ((fd = attach_to(pid, ATTACH_CONSOLE, ATTACH_WAIT)) < 0)
		return 1;
	snprintf(what, sizeof what, "process %ld", (long)pid);
	return client_main_fd(fd, what, no_readline);
}

/* Send the filter line (no newline in it, checked); -1 when it is too
 * long for the program, -2 when the program is gone. */
static int
cmd_send_filter(int fd, const char *filter)
{
	char	line[1024];
	int	n;

	n = snprintf(line, sizeof line, "%s\n", filter ? filter : "");
	if (n < 0 || (size_t)n >= sizeof line)
		return -1;
	return send(fd, line, n, MSG_NOSIGNAL) == n ? 0 : -2;
}

/* Copy the answer to out (its first byte says where: '0' stdout, else
 * stderr); the exit status. */
static int
cmd_copy_answer(pid_t pid, int fd)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	char		 buf[65536], *p;
	ssize_t		 n;
	FILE		*out = NULL;
	int		 status = 1;

	for (;;) {
		if (poll(&pfd, 1, CMD_PS_WAIT) <= 0) {
			fprintf(stderr, "%sapython: %ld: no answer from the "
			    "program within %d seconds\n", out ? "\n" : "",
			    (long)pid, CMD_PS_WAIT / 1000);
			return 1;
		}
		if ((n = read(fd, buf, sizeof buf)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		p = buf;
		if (out == NULL) {
			status = buf[0] == '0' ? 0 : 1;
			out = status == 0 ? stdout : stderr;
			p++;
			n--;
		}
		fwrite(p, 1, n, out);
	}
	if (out == NULL) {
		fprintf(stderr, "apython: %ld: the program closed the "
		    "connection\n", (long)pid);
		return 1;
	}
	fflush(out);
	return status;
}

/* --ps PID [--name FILTER]: the exit status. */
int
attach_ps(pid_t pid, const char *filter)
{
	int	fd, r, status;

	if (filter != NULL && strchr(filter, '\n') != NULL) {
		fprintf(stderr, "apython: --name: a name has no newline\n");
		return 1;
	}
	if ((fd = attach_to(pid, ATTACH_PS, ATTACH_WAIT)) < 0)
		return 1;
	if ((r = cmd_send_filter(fd, filter)) != 0) {
		fprintf(stderr, "apython: %ld: %s\n", (long)pid, r == -1 ?
		    "--name: too long" : "the program closed the connection");
		close(fd);
		return 1;
	}
	status = cmd_copy_answer(pid, fd);
	close(fd);
	return status;
}
