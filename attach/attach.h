/* attach/: apython --attach PID and --ps PID, the rendezvous, in pure C.
 *
 * Nothing listens in a program before someone asks. Each apython program
 * has a per-user runtime directory (0700, checked for owner and mode) and
 * leaves a marker there, named by its pid, saying it is an apython program
 * (its start time and executable, so that a reused pid is told apart) and
 * whether it may be attached. Its control thread (ctl/) watches the
 * directory with inotify. The attacher binds a 0600 unix socket under a
 * temporary name there, listens, and renames it to PID-KIND-ATTACHER; the
 * program's control thread connects out to it. Both sides check the other
 * with SO_PEERCRED: same uid or root, and the attacher that the peer is the
 * pid it asked for. No signal is ever sent. */
#ifndef APYTHON_ATTACH_H
#define APYTHON_ATTACH_H

#include <sys/types.h>

#include <stddef.h>

#define ATTACH_PATH_MAX		108	/* a unix socket's path */
#define ATTACH_NAME_MAX		24	/* "/PID-attach-PID" and its NUL */
#define ATTACH_WAIT		5000	/* ms the attacher waits for the program */

/* What an attacher asks for. */
enum attach_kind {
	ATTACH_CONSOLE = 1,	/* a console: the --connect protocol */
	ATTACH_PS		/* one line (the filter), then the tasks' text */
};

/* A marker's state. */
enum attach_state {
	ATTACH_ON = 1,		/* attachable */
	ATTACH_OFF,		/* opted out: APYTHON_NO_ATTACH, --no-attach */
	ATTACH_BROKEN		/* could not watch the directory */
};

/* dir.c: the runtime directory of uid's programs, for a process whose
 * XDG_RUNTIME_DIR is xdg (NULL: unset). 0 (or a directory fd), or -1
 * with *cause (malloc'd). */
int	 attach_dir_name(uid_t, const char *xdg, char *, size_t);
int	 attach_dir_check(const char *, uid_t, int create, char **cause);
int	 attach_dir_open(const char *, uid_t, char **cause);

/* marker.c: who a process is, its marker. */
struct attach_id {
	pid_t			 pid;
	unsigned long long	 start;		/* /proc/PID/stat's starttime */
	unsigned long long	 exe_dev;	/* /proc/PID/exe, followed */
	unsigned long long	 exe_ino;
};

int	 attach_identify(pid_t, struct attach_id *);
int	 attach_mark(const char *dir, const struct attach_id *,
	     enum attach_state);
void	 attach_unmark(const char *dir, pid_t);
int	 attach_marker_read(const char *dir, pid_t, struct attach_id *,
	     enum attach_state *);
int	 attach_marker_readat(int dfd, pid_t, uid_t, struct attach_id *,
	     enum attach_state *);

/* name.c: the socket names. */
int	 attach_sock_name(char *, size_t, pid_t target, enum attach_kind,
	     pid_t attacher);
int	 attach_sock_parse(const char *, pid_t self, enum attach_kind *);
int	 attach_peer(int fd, uid_t *, pid_t *);

/* attacher.c: the attacher's side. A connected socket to pid's program,
 * or -1 after one line on stderr ("apython: ..."). */
int	 attach_to(pid_t, enum attach_kind, int wait_ms);

/* cmd.c: --attach PID, --ps PID [--name FILTER]; the exit status. */
int	 attach_console(pid_t, int no_readline);
int	 attach_ps(pid_t, const char *filter);

/* program.c: the program's side (uses ctl/'s thread). Arm once in the
 * main thread (on 0: only the marker, saying attach is off); fn runs on
 * the control thread with a connected socket (close-on-exec, blocking)
 * that it owns. A forked child calls attach_forked_child(), then
 * attach_child_ready() once it runs a loop (its marker is left then). */
typedef void (*attach_fn)(int fd, enum attach_kind);
int	 attach_arm(int on, attach_fn);
void	 attach_forked_child(void);
void	 attach_child_ready(void);
void	 attach_disarm(void);

#endif
