/* ctl/: ctl_init() opens the fds, close-on-exec, and starts no thread;
 * the first watch starts it; callbacks run on another thread with every
 * signal blocked, one per event, until unwatched; ctl_unwatch() waits for a running
 * callback; timers run once, in order; a request reaches the main
 * thread's handler of the real-time signal and runs its function there,
 * and none is sent while that signal has no handler; the thread's fds
 * are close-on-exec; a forked child gets a thread of its own; paused
 * (for os.fork), the kernel counts no thread of ours, nothing runs, and
 * resumed, the watches and timers are served. */
#include "ctl/ctl.h"
#include "sig/sig.h"
#include "tests/unit/unit.h"

#include <sys/wait.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_t	 main_thread;
static volatile int	 got, other_thread, blocked, slow_done;
static volatile int	 order[3], norder;
static volatile sig_atomic_t rt_got;

static void
sleep_ms(int ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Wait up to 5 s for *flag. */
static int
wait_for(volatile int *flag)
{
	int	i;

	for (i = 0; i < 500 && !*flag; i++)
		sleep_ms(10);
	return *flag;
}

/* How many threads the process has. */
static int
count_threads(void)
{
	DIR		*d = opendir("/proc/self/task");
	struct dirent	*e;
	int		 n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The threads /proc/self/stat counts (its 20th field), as python3
 * 3.12+ does before it warns at fork(). */
static int
stat_threads(void)
{
	char	 buf[1024], *p;
	FILE	*f = fopen("/proc/self/stat", "r");
	size_t	 n;
	int	 i;

	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	for (i = 0; i < 18 && p != NULL; i++)	/* fields 3..20 */
		p = strchr(p + 1, ' ');
	return p == NULL ? -1 : atoi(p + 1);
}

static void
on_read(int fd, short revents, void *arg)
{
	sigset_t	cur;
	char		c;

	(void)arg;
	if (read(fd, &c, 1) != 1 || !(revents & POLLIN))
		return;
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	blocked = sigismember(&cur, SIGINT) &&
	    sigismember(&cur, sig_console_signal());
	other_thread = !pthread_equal(pthread_self(), main_thread);
	got++;
}

static void
test_watch_runs_on_the_thread(void)
{
	int	p[2];

	TEST_START("watch_runs_on_the_thread");
	ASSERT_INT_EQ(pipe(p), 0);
	ASSERT_INT_EQ(ctl_watch(p[0], POLLIN, on_read, NULL), 0);
	ASSERT_INT_EQ(count_threads(), 2);
	ASSERT_INT_EQ(ctl_start(), 0);
	ASSERT_INT_EQ(count_threads(), 2);
	ASSERT_INT_EQ(ctl_watch(p[0], POLLIN, on_read, NULL), -1);
	ASSERT_INT_EQ(write(p[1], "ab", 2), 2);
	ASSERT_TRUE(wait_for(&got));
	sleep_ms(50);
	ASSERT_INT_EQ(got, 2);		/* level-triggered: both bytes */
	ASSERT_TRUE(other_thread);
	ASSERT_TRUE(blocked);
	ASSERT_INT_EQ(ctl_unwatch(p[0]), 0);
	ASSERT_INT_EQ(ctl_unwatch(p[0]), -1);
	ASSERT_INT_EQ(write(p[1], "c", 1), 1);
	sleep_ms(50);
	ASSERT_INT_EQ(got, 2);
	close(p[0]);
	close(p[1]);
	TEST_DONE();
}

static void
on_slow(int fd, short revents, void *arg)
{
	char	c;

	(void)revents;
	*(volatile int *)arg = 1;
	sleep_ms(200);
	if (read(fd, &c, 1) == 1)
		slow_done = 1;
}

static void
test_unwatch_waits_for_the_callback(void)
{
	volatile int	in = 0;
	int		p[2];

	TEST_START("unwatch_waits_for_the_callback");
	ASSERT_INT_EQ(pipe(p), 0);
	ASSERT_INT_EQ(ctl_watch(p[0], POLLIN, on_slow, (void *)&in), 0);
	ASSERT_INT_EQ(write(p[1], "a", 1), 1);
	ASSERT_TRUE(wait_for(&in));
	ASSERT_INT_EQ(ctl_unwatch(p[0]), 0);
	ASSERT_TRUE(slow_done);
	close(p[0]);
	close(p[1]);
	TEST_DONE();
}

static void
on_timer(void *arg)
{
	order[norder++] = (int)(long)arg;
}

static void
test_timers_run_once_in_order(void)
{
	TEST_START("timers_run_once_in_order");
	ASSERT_INT_EQ(ctl_after(0.2, on_timer, (void *)3L), 0);
	ASSERT_INT_EQ(ctl_after(0.1, on_timer, (void *)2L), 0);
	ASSERT_INT_EQ(ctl_after(0, on_timer, (void *)1L), 0);
	sleep_ms(400);
	ASSERT_INT_EQ(norder, 3);
	ASSERT_INT_EQ(order[0], 1);
	ASSERT_INT_EQ(order[1], 2);
	ASSERT_INT_EQ(order[2], 3);
	TEST_DONE();
}

static void
on_rt(int sig)
{
	(void)sig;
	if (pthread_equal(pthread_self(), main_thread))
		rt_got++;
}

static int	ran_interrupt, ran_report;

static int
run_interrupt(void)
{
	ran_interrupt++;
	return 0;
}

static int
run_report(void)
{
	ran_report++;
	return 0;
}

static void
ask_interrupt(void *arg)
{
	(void)arg;
	ctl_ask_main(CTL_INTERRUPT);
}

static void
test_request_reaches_the_main_thread(void)
{
	struct sigaction	sa = { .sa_handler = on_rt };
	int			i;

	TEST_START("request_reaches_the_main_thread");
	ctl_on_request(CTL_INTERRUPT, run_interrupt);
	ctl_on_request(CTL_REPORT, run_report);
	sigemptyset(&sa.sa_mask);
	ASSERT_INT_EQ(sigaction(sig_console_signal(), &sa, NULL), 0);
	ASSERT_INT_EQ(ctl_after(0, ask_interrupt, NULL), 0);
	for (i = 0; i < 500 && !rt_got; i++)
		sleep_ms(10);
	ASSERT_TRUE(rt_got);
	ASSERT_INT_EQ(ctl_pending(), CTL_INTERRUPT);
	ASSERT_INT_EQ(ctl_run_requests(), 0);
	ASSERT_INT_EQ(ran_interrupt, 1);
	ASSERT_INT_EQ(ran_report, 0);
	ASSERT_INT_EQ(ctl_pending(), 0);
	TEST_DONE();
}

static void
test_no_signal_without_a_handler(void)
{
	struct sigaction	sa = { .sa_handler = SIG_DFL };

	TEST_START("no_signal_without_a_handler");
	sigemptyset(&sa.sa_mask);
	ASSERT_INT_EQ(sigaction(sig_console_signal(), &sa, NULL), 0);
	ctl_ask_main(CTL_REPORT);	/* SIG_DFL would kill us */
	sleep_ms(50);
	ASSERT_INT_EQ(ctl_pending(), CTL_REPORT);
	ASSERT_INT_EQ(ctl_run_requests(), 0);
	ASSERT_INT_EQ(ran_report, 1);
	TEST_DONE();
}

/* How many fds open now are not close-on-exec. */
static int
count_inherited(void)
{
	DIR		*d = opendir("/proc/self/fd");
	struct dirent	*e;
	int		 fd, n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		fd = atoi(e->d_name);
		if (fd != dirfd(d) && !(fcntl(fd, F_GETFD) & FD_CLOEXEC))
			n++;
	}
	closedir(d);
	return n;
}

static void
test_forked_child_gets_a_thread(void)
{
	pid_t	pid;
	int	p[2], status;

	TEST_START("forked_child_gets_a_thread");
	ASSERT_INT_EQ(pipe(p), 0);
	if ((pid = fork()) == 0) {
		ctl_forked_child();
		got = 0;
		if (ctl_watch(p[0], POLLIN, on_read, NULL) != 0 ||
		    write(p[1], "x", 1) != 1)
			_exit(2);
		main_thread = pthread_self();
		_exit(wait_for(&got) && other_thread ? 0 : 1);
	}
	ASSERT_TRUE(pid > 0);
	ASSERT_INT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_INT_EQ(WEXITSTATUS(status), 0);
	close(p[0]);
	close(p[1]);
	TEST_DONE();
}

static void
test_pause_keeps_watches_and_timers(void)
{
	int	p[2], i;

	TEST_START("pause_keeps_watches_and_timers");
	ASSERT_INT_EQ(pipe(p), 0);
	got = norder = 0;
	ASSERT_INT_EQ(ctl_watch(p[0], POLLIN, on_read, NULL), 0);
	ASSERT_INT_EQ(ctl_after(0.1, on_timer, (void *)7L), 0);
	ASSERT_INT_EQ(stat_threads(), 2);
	ctl_pause();
	ASSERT_INT_EQ(stat_threads(), 1);
	ASSERT_INT_EQ(count_threads(), 1);
	ASSERT_INT_EQ(write(p[1], "x", 1), 1);
	sleep_ms(200);
	ASSERT_INT_EQ(got, 0);
	ASSERT_INT_EQ(norder, 0);
	ctl_resume();
	ASSERT_INT_EQ(stat_threads(), 2);
	ASSERT_TRUE(wait_for(&got));
	sleep_ms(50);
	ASSERT_INT_EQ(norder, 1);
	ASSERT_INT_EQ(order[0], 7);
	ctl_pause();			/* nested: the last resume starts it */
	ctl_pause();
	ctl_resume();
	ASSERT_INT_EQ(stat_threads(), 1);
	ctl_resume();
	ASSERT_INT_EQ(stat_threads(), 2);
	ASSERT_INT_EQ(write(p[1], "y", 1), 1);
	for (i = 0; i < 500 && got < 2; i++)
		sleep_ms(10);
	ASSERT_INT_EQ(got, 2);
	ASSERT_INT_EQ(ctl_unwatch(p[0]), 0);
	close(p[0]);
	close(p[1]);
	TEST_DONE();
}

int
main(void)
{
	int	inherited = count_inherited();

	main_thread = pthread_self();
	sig_setup();
	TEST_START("start");
	if (ctl_watch(0, POLLIN, on_read, NULL) != -1 || ctl_init() != 0 ||
	    ctl_init() != 0 || count_inherited() != inherited ||
	    count_threads() != 1) {
		fprintf(stderr, "ctl_init\n");
		return 1;
	}
	test_watch_runs_on_the_thread();
	test_unwatch_waits_for_the_callback();
	test_timers_run_once_in_order();
	test_request_reaches_the_main_thread();
	test_no_signal_without_a_handler();
	test_pause_keeps_watches_and_timers();
	test_forked_child_gets_a_thread();
	return unit_report("ctl");
}
