/* attach/: the runtime directory (its name, owner and mode checked), the
 * markers (a reused pid or another executable told apart), the sockets'
 * names, the peer's credentials, and the program's side answering an
 * attacher (inotify on the control thread, a connection out). */
#include "attach/attach.h"
#include "tests/unit/unit.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

static char base[] = "/tmp/apython-unit.XXXXXX";

static void
test_dir_name(void)
{
	char	buf[ATTACH_PATH_MAX], xdg[64], want[128];

	TEST_START("dir_name");
	ASSERT_INT_EQ(attach_dir_name(geteuid(), NULL, buf, sizeof buf), 0);
	snprintf(want, sizeof want, "/tmp/apython-%lu",
	    (unsigned long)geteuid());
	ASSERT_STR_EQ(buf, want);
	/* XDG_RUNTIME_DIR is used when it is ours. */
	ASSERT_INT_EQ(attach_dir_name(geteuid(), base, buf, sizeof buf), 0);
	snprintf(want, sizeof want, "%s/apython", base);
	ASSERT_STR_EQ(buf, want);
	/* ... not when it is someone else's, relative, or missing. */
	ASSERT_INT_EQ(attach_dir_name(geteuid() + 1, base, buf, sizeof buf),
	    0);
	snprintf(want, sizeof want, "/tmp/apython-%lu",
	    (unsigned long)geteuid() + 1);
	ASSERT_STR_EQ(buf, want);
	snprintf(xdg, sizeof xdg, "%s/none", base);
	ASSERT_INT_EQ(attach_dir_name(geteuid(), xdg, buf, sizeof buf), 0);
	ASSERT_TRUE(strncmp(buf, "/tmp/apython-", 13) == 0);
	ASSERT_INT_EQ(attach_dir_name(geteuid(), "tmp", buf, sizeof buf), 0);
	ASSERT_TRUE(strncmp(buf, "/tmp/apython-", 13) == 0);
	/* ... nor when others may write in it; reading is their business. */
	snprintf(xdg, sizeof xdg, "%s/open", base);
	ASSERT_INT_EQ(mkdir(xdg, 0700), 0);
	ASSERT_INT_EQ(chmod(xdg, 0777), 0);
	ASSERT_INT_EQ(attach_dir_name(geteuid(), xdg, buf, sizeof buf), 0);
	ASSERT_TRUE(strncmp(buf, "/tmp/apython-", 13) == 0);
	ASSERT_INT_EQ(chmod(xdg, 0720), 0);
	ASSERT_INT_EQ(attach_dir_name(geteuid(), xdg, buf, sizeof buf), 0);
	ASSERT_TRUE(strncmp(buf, "/tmp/apython-", 13) == 0);
	ASSERT_INT_EQ(chmod(xdg, 0755), 0);
	ASSERT_INT_EQ(attach_dir_name(geteuid(), xdg, buf, sizeof buf), 0);
	snprintf(want, sizeof want, "%s/apython", xdg);
	ASSERT_STR_EQ(buf, want);
	TEST_DONE();
}

static void
test_dir_check(void)
{
	char	dir[128], *cause = NULL;

	TEST_START("dir_check");
	snprintf(dir, sizeof dir, "%s/d", base);
	ASSERT_INT_EQ(attach_dir_check(dir, geteuid(), 0, &cause), -1);
	free(cause);
	ASSERT_INT_EQ(attach_dir_check(dir, geteuid(), 1, &cause), 0);
	ASSERT_TRUE(cause == NULL);
	/* Open to others: refused, and left as it is. */
	ASSERT_INT_EQ(chmod(dir, 0755), 0);
	ASSERT_INT_EQ(attach_dir_check(dir, geteuid(), 1, &cause), -1);
	ASSERT_STR_EQ(strstr(cause, "open to other"),
	    "open to other users (not 0700)");
	free(cause);
	ASSERT_INT_EQ(chmod(dir, 0700), 0);
	/* Another owner. */
	ASSERT_INT_EQ(attach_dir_check(dir, geteuid() + 1, 0, &cause), -1);
	ASSERT_TRUE(strstr(cause, "owned by another user") != NULL);
	free(cause);
	/* A link to a good directory is not one. */
	snprintf(dir, sizeof dir, "%s/link", base);
	ASSERT_INT_EQ(symlink("d", dir), 0);
	ASSERT_INT_EQ(attach_dir_check(dir, geteuid(), 1, &cause), -1);
	ASSERT_TRUE(strstr(cause, "not a directory") != NULL);
	free(cause);
	TEST_DONE();
}

static void
test_marker(void)
{
	struct attach_id	 me, read, child;
	enum attach_state	 state;
	char			 dir[128], path[200], moved[200];
	pid_t			 pid;

	TEST_START("marker");
	snprintf(dir, sizeof dir, "%s/d", base);
	ASSERT_INT_EQ(attach_identify(getpid(), &me), 0);
	ASSERT_TRUE(me.start > 0 && me.exe_ino > 0);
	ASSERT_INT_EQ(attach_marker_read(dir, getpid(), &read, &state), -1);
	ASSERT_INT_EQ(attach_mark(dir, &me, ATTACH_OFF), 0);
	ASSERT_INT_EQ(attach_marker_read(dir, getpid(), &read, &state), 0);
	ASSERT_INT_EQ(state, ATTACH_OFF);
	ASSERT_TRUE(read.start == me.start && read.exe_dev == me.exe_dev &&
	    read.exe_ino == me.exe_ino);
	ASSERT_INT_EQ(attach_mark(dir, &me, ATTACH_ON), 0);
	ASSERT_INT_EQ(attach_marker_read(dir, getpid(), &read, &state), 0);
	ASSERT_INT_EQ(state, ATTACH_ON);
	/* A child has its own start time (a pid reused would too). */
	if ((pid = fork()) == 0) {
		sleep(1);
		_exit(0);
	}
	ASSERT_TRUE(pid > 0);
	usleep(20000);
	ASSERT_INT_EQ(attach_identify(pid, &child), 0);
	ASSERT_TRUE(child.start >= me.start);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ASSERT_INT_EQ(attach_identify(pid, &child), -1);
	ASSERT_INT_EQ(errno, ENOENT);
	attach_unmark(dir, getpid());
	ASSERT_INT_EQ(attach_marker_read(dir, getpid(), &read, &state), -1);
	/* A FIFO in its place is not waited on, a link not followed. */
	snprintf(path, sizeof path, "%s/%ld", dir, (long)getpid());
	ASSERT_INT_EQ(mkfifo(path, 0600), 0);
	ASSERT_INT_EQ(attach_marker_read(dir, getpid(), &read, &state), -1);
	ASSERT_INT_EQ(unlink(path), 0);
	ASSERT_INT_EQ(attach_mark(dir, &me, ATTACH_ON), 0);
	snprintf(moved, sizeof moved, "%s/moved", dir);
	ASSERT_INT_EQ(rename(path, moved), 0);
	ASSERT_INT_EQ(symlink(moved, path), 0);
	ASSERT_INT_EQ(attach_marker_read(dir, getpid(), &read, &state), -1);
	ASSERT_INT_EQ(unlink(path), 0);
	ASSERT_INT_EQ(unlink(moved), 0);
	TEST_DONE();
}

static void
test_sock_names(void)
{
	enum attach_kind	kind;
	char			name[64];

	TEST_START("sock_names");
	ASSERT_INT_EQ(attach_sock_name(name, sizeof name, 1234, ATTACH_PS,
	    99), 0);
	ASSERT_STR_EQ(name, "1234-ps-99");
	ASSERT_INT_EQ(attach_sock_parse(name, 1234, &kind), 0);
	ASSERT_INT_EQ(kind, ATTACH_PS);
	ASSERT_INT_EQ(attach_sock_parse("1234-attach-7", 1234, &kind), 0);
	ASSERT_INT_EQ(kind, ATTACH_CONSOLE);
	ASSERT_INT_EQ(attach_sock_parse(name, 123, &kind), -1);
	ASSERT_INT_EQ(attach_sock_parse("1234", 1234, &kind), -1);
	ASSERT_INT_EQ(attach_sock_parse(".sock-1234", 1234, &kind), -1);
	ASSERT_INT_EQ(attach_sock_parse("1234-ps-", 1234, &kind), -1);
	ASSERT_INT_EQ(attach_sock_parse("1234-ps-9x", 1234, &kind), -1);
	ASSERT_INT_EQ(attach_sock_parse("1234-psx-9", 1234, &kind), -1);
	ASSERT_INT_EQ(attach_sock_parse("1234-other-9", 1234, &kind), -1);
	ASSERT_INT_EQ(attach_sock_name(name, 8, 1234, ATTACH_PS, 99), -1);
	TEST_DONE();
}

static void
test_peer(void)
{
	uid_t	uid;
	pid_t	pid;
	int	sv[2];

	TEST_START("peer");
	ASSERT_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ASSERT_INT_EQ(attach_peer(sv[0], &uid, &pid), 0);
	ASSERT_INT_EQ(uid, geteuid());
	ASSERT_INT_EQ(pid, getpid());
	close(sv[0]);
	close(sv[1]);
	ASSERT_INT_EQ(attach_peer(0 - 1, &uid, &pid), -1);
	TEST_DONE();
}

static volatile int handed_kind;
static volatile int handed_fd = -1;

static void
on_request(int fd, enum attach_kind kind)
{
	handed_kind = kind;
	handed_fd = fd;
}

static void
test_rendezvous(void)
{
	struct attach_id	dead;
	enum attach_state	state;
	char			dir[ATTACH_PATH_MAX], path[200];
	char			byte = 'x';
	int			fd, i;

	TEST_START("rendezvous");
	/* The program's side, in this process, in the user's directory (the
	 * attacher finds it from our environment as we were started). */
	ASSERT_INT_EQ(attach_dir_name(geteuid(), getenv("XDG_RUNTIME_DIR"),
	    dir, sizeof dir), 0);
	snprintf(path, sizeof path, "%s/apython", base);
	ASSERT_STR_EQ(dir, path);
	ASSERT_INT_EQ(mkdir(dir, 0700), 0);
	/* The marker of a program that died is swept when one arms (by
	 * the control thread, as our own marker arrives). */
	if ((dead.pid = fork()) == 0) {
		pause();
		_exit(0);
	}
	ASSERT_INT_EQ(attach_identify(dead.pid, &dead), 0);
	kill(dead.pid, SIGKILL);
	waitpid(dead.pid, NULL, 0);
	ASSERT_INT_EQ(attach_mark(dir, &dead, ATTACH_ON), 0);
	ASSERT_INT_EQ(attach_marker_read(dir, dead.pid, &dead, &state), 0);
	ASSERT_INT_EQ(attach_arm(1, on_request), 0);
	for (i = 0; i < 500 &&
	    attach_marker_read(dir, dead.pid, &dead, &state) == 0; i++)
		usleep(10000);
	ASSERT_INT_EQ(attach_marker_read(dir, dead.pid, &dead, &state), -1);
	/* An attacher in a child: it checks the marker, offers a socket,
	 * and gets our connection (the peer is its parent). */
	if (fork() == 0) {
		fd = attach_to(getppid(), ATTACH_PS, 5000);
		if (fd < 0 || write(fd, "y", 1) != 1)
			_exit(1);
		_exit(read(fd, &byte, 1) == 1 && byte == 'x' ? 0 : 2);
	}
	for (i = 0; i < 500 && handed_fd < 0; i++)
		usleep(10000);
	ASSERT_TRUE(handed_fd >= 0);
	ASSERT_INT_EQ(handed_kind, ATTACH_PS);
	ASSERT_INT_EQ(fcntl(handed_fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ASSERT_INT_EQ(read(handed_fd, &byte, 1), 1);
	ASSERT_INT_EQ(byte, 'y');
	byte = 'x';
	ASSERT_INT_EQ(write(handed_fd, &byte, 1), 1);
	close(handed_fd);
	wait(&i);
	ASSERT_TRUE(WIFEXITED(i) && WEXITSTATUS(i) == 0);
	/* The attacher's socket is gone; only our marker is left. */
	snprintf(path, sizeof path, "%s/%ld", dir, (long)getpid());
	ASSERT_INT_EQ(access(path, F_OK), 0);
	attach_disarm();
	ASSERT_INT_EQ(access(path, F_OK), -1);
	TEST_DONE();
}

int
main(int argc, char **argv)
{
	const char	*again = getenv("APYTHON_UNIT_ATTACH_BASE");
	char		 cmd[128];

	/* The rendezvous runs in a runtime directory of our own, never the
	 * user's real one: run again with XDG_RUNTIME_DIR set (the attacher
	 * reads it from /proc/PID/environ, which setenv() does not change). */
	if (again == NULL) {
		if (mkdtemp(base) == NULL ||
		    setenv("APYTHON_UNIT_ATTACH_BASE", base, 1) != 0 ||
		    setenv("XDG_RUNTIME_DIR", base, 1) != 0)
			return 1;
		execv("/proc/self/exe", argv);
		return 1;
	}
	(void)argc;
	snprintf(base, sizeof base, "%s", again);
	test_dir_name();
	test_dir_check();
	test_marker();
	test_sock_names();
	test_peer();
	test_rendezvous();
	snprintf(cmd, sizeof cmd, "rm -rf %s", base);
	if (system(cmd) != 0)
		return 1;
	return unit_report("attach");
}
