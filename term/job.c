/* Job control on the terminal: a job started in the background leaves
 * the terminal alone until it is in the foreground; Ctrl-Z (SIGTSTP)
 * gives the terminal back as the shell had it before the process stops;
 * when continued the caller is told through a byte on a close-on-exec
 * pipe, readline's settings back if in the foreground (after `bg`, once
 * the job is brought there: term_job_reclaim). */
#include "term/term.h"
#include "sig/sig.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static int continued[2] = { -1, -1 };	/* written when continued */
static struct termios job_tio;		/* ours when Ctrl-Z came */
static volatile sig_atomic_t job_tio_valid, job_flags = -1;
static struct sigaction tstp_before;	/* SIGTSTP's action we replaced */
static int tstp_taken;

/* True when our process group has the terminal (or it is no terminal). */
int
term_foreground(void)
{
	pid_t	pgrp = tcgetpgrp(STDIN_FILENO);

	return pgrp == -1 || pgrp == getpgrp();
}

/* Stop as SIG_DFL would, until SIGCONT. */
static void
term_job_suspend(void)
{
	struct sigaction	ours;

	sig_raise_default(SIGTSTP, &ours);
	/* Continued: SIGTSTP is blocked again when the handler returns. */
	sigaction(SIGTSTP, &ours, NULL);
}

/* Back in the foreground after Ctrl-Z: the terminal's settings and
 * stdin's flags as they were when it came (async-signal-safe). */
void
term_job_reclaim(void)
{
	if (job_tio_valid)
		tcsetattr(STDIN_FILENO, TCSANOW, &job_tio);
	if (job_flags != -1)
		fcntl(STDIN_FILENO, F_SETFL, (int)job_flags);
	job_tio_valid = 0;
	job_flags = -1;
}

/* SIGTSTP (Ctrl-Z): the terminal and stdin's flags as the shell had
 * them, stop; back in the foreground, ours again, and tell the caller. */
static void
term_job_on_tstp(int sig)
{
	int	saved = errno;

	(void)sig;
	job_tio_valid = tcgetattr(STDIN_FILENO, &job_tio) == 0;
	job_flags = fcntl(STDIN_FILENO, F_GETFL);
	term_guard_restore();
	term_job_suspend();
	if (term_foreground())
		term_job_reclaim();
	/* A full pipe has a wake-up pending anyway. */
	(void)!write(continued[1], "c", 1);
	errno = saved;
}

/* A forked child has no console of ours: its Ctrl-Z is SIG_DFL's, and
 * writes nothing on the parent's pipe (exec resets a handler anyway). */
static void
term_job_fork_child(void)
{
	term_job_stop();
}

/* Catch SIGTSTP unless the program handles it; the fd that becomes
 * readable when the process was continued after Ctrl-Z, or -1. */
int
term_job_start(void)
{
	struct sigaction	sa;

	if (continued[0] == -1) {
		if (pipe2(continued, O_CLOEXEC | O_NONBLOCK))
			return -1;
		pthread_atfork(NULL, NULL, term_job_fork_child);
	}
	if (tstp_taken)
		return continued[0];
	if (sigaction(SIGTSTP, NULL, &tstp_before) != 0 ||
	    tstp_before.sa_handler != SIG_DFL)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = term_job_on_tstp;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGTSTP, &sa, NULL) != 0)
		return -1;
	tstp_taken = 1;
	return continued[0];
}

/* SIGTSTP back as it was, unless the program took it since. */
void
term_job_stop(void)
{
	struct sigaction	cur;

	if (!tstp_taken)
		return;
	if (sigaction(SIGTSTP, NULL, &cur) == 0 &&
	    cur.sa_handler == term_job_on_tstp)
		sigaction(SIGTSTP, &tstp_before, NULL);
	tstp_taken = 0;
}

/* The fd was readable: empty it; true when in the foreground now. */
int
term_job_continued(void)
{
	char	buf[64];

	while (read(continued[0], buf, sizeof buf) > 0)
		;
	return term_foreground();
}
