/* Job control on the terminal: a job started in the background leaves
 * the terminal alone until it is in the foreground; Ctrl-Z (SIGTSTP)
 * gives the terminal back as the shell had it before the process stops,
 * and `fg` gets readline's settings back, the caller told through a
 * byte on a close-on-exec pipe that it is to draw its line again. */
#include "term/term.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static int continued[2] = { -1, -1 };	/* written when fg'd after Ctrl-Z */
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
	struct sigaction	dfl, ours;
	sigset_t		set;

	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGTSTP, &dfl, &ours);
	sigemptyset(&set);
	sigaddset(&set, SIGTSTP);
	raise(SIGTSTP);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	/* Continued: SIGTSTP is blocked again when the handler returns. */
	sigaction(SIGTSTP, &ours, NULL);
}

/* SIGTSTP (Ctrl-Z): the terminal and stdin's flags as the shell had
 * them, stop; back in the foreground, ours again, and tell the caller. */
static void
term_job_on_tstp(int sig)
{
	struct termios	now;
	int		saved = errno, flags, have;

	(void)sig;
	have = tcgetattr(STDIN_FILENO, &now) == 0;
	flags = fcntl(STDIN_FILENO, F_GETFL);
	term_guard_restore();
	term_job_suspend();
	if (term_foreground()) {
		if (have)
			tcsetattr(STDIN_FILENO, TCSANOW, &now);
		if (flags != -1)
			fcntl(STDIN_FILENO, F_SETFL, flags);
	}
	/* A full pipe has a wake-up pending anyway. */
	(void)!write(continued[1], "c", 1);
	errno = saved;
}

/* Catch SIGTSTP unless the program handles it; the fd that becomes
 * readable when the process was continued after Ctrl-Z, or -1. */
int
term_job_start(void)
{
	struct sigaction	sa;

	if (continued[0] == -1 && pipe2(continued, O_CLOEXEC | O_NONBLOCK))
		return -1;
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
