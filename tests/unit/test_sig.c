/* sig/: the program's SIGINT action is what it set, the kernel keeps
 * ours (SIG_IGN apart), a typed Ctrl-C (SI_KERNEL, sent to ourselves with
 * rt_sigqueueinfo) goes to the console once it claims, the rest to the
 * program; SIG_DFL dies of SIGINT. */
#include "sig/sig.h"
#include "tests/unit/unit.h"

#include <sys/syscall.h>
#include <sys/wait.h>

#include <signal.h>
#include <unistd.h>

/* The kernel's struct sigaction (x86-64 and the like). */
struct kernel_action {
	void		*handler;
	unsigned long	 flags;
	void		*restorer;
	unsigned long	 mask;
};

static volatile sig_atomic_t program_got, program_code, console_got;

static void
program_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	program_got = sig;
	program_code = si->si_code;
}

static void
plain_handler(int sig)
{
	program_got = sig;
	program_code = -1;
}

static void
console_handler(int sig)
{
	console_got = sig;
}

/* SIGINT's handler as the kernel has it. */
static void *
kernel_handler(void)
{
	struct kernel_action	ka;

	if (syscall(SYS_rt_sigaction, SIGINT, NULL, &ka, sizeof ka.mask) != 0)
		return NULL;
	return ka.handler;
}

/* Send ourselves SIGINT as a terminal would (si_code SI_KERNEL). */
static void
typed_ctrl_c(void)
{
	siginfo_t	si;

	memset(&si, 0, sizeof si);
	si.si_signo = SIGINT;
	si.si_code = SI_KERNEL;
	syscall(SYS_rt_sigqueueinfo, getpid(), SIGINT, &si);
}

static void
set_program(void (*fn)(int, siginfo_t *, void *))
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
}

static void
test_program_sees_its_own_action(void)
{
	struct sigaction	cur;

	TEST_START("the program sees its own action, the kernel ours");
	ASSERT_INT_EQ(sigaction(SIGINT, NULL, &cur), 0);
	ASSERT_TRUE(cur.sa_handler == SIG_DFL);
	set_program(program_handler);
	ASSERT_INT_EQ(sigaction(SIGINT, NULL, &cur), 0);
	ASSERT_TRUE(cur.sa_sigaction == program_handler);
	ASSERT_TRUE(kernel_handler() != (void *)program_handler);
	ASSERT_TRUE(kernel_handler() != (void *)SIG_DFL);
	TEST_DONE();
}

static void
test_kill_reaches_the_program(void)
{
	TEST_START("kill() reaches the program's handler");
	set_program(program_handler);
	program_got = 0;
	kill(getpid(), SIGINT);
	ASSERT_INT_EQ(program_got, SIGINT);
	ASSERT_INT_EQ(program_code, SI_USER);
	TEST_DONE();
}

static void
test_typed_ctrl_c_goes_to_the_console_once_claimed(void)
{
	struct sigaction	sa;

	TEST_START("a typed Ctrl-C goes to the console once it claims");
	set_program(program_handler);
	program_got = console_got = 0;
	typed_ctrl_c();
	ASSERT_INT_EQ(program_got, SIGINT);
	ASSERT_INT_EQ(console_got, 0);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = console_handler;
	sigemptyset(&sa.sa_mask);
	ASSERT_INT_EQ(sigaction(sig_console_signal(), &sa, NULL), 0);
	ASSERT_INT_EQ(sig_console_claim(0), 0);
	program_got = 0;
	typed_ctrl_c();
	ASSERT_INT_EQ(console_got, sig_console_signal());
	ASSERT_INT_EQ(program_got, 0);
	kill(getpid(), SIGINT);
	ASSERT_INT_EQ(program_got, SIGINT);
	sig_console_release();
	program_got = console_got = 0;
	typed_ctrl_c();
	ASSERT_INT_EQ(program_got, SIGINT);
	ASSERT_INT_EQ(console_got, 0);
	TEST_DONE();
}

static void
test_sig_ign_is_the_kernels(void)
{
	TEST_START("SIG_IGN goes to the kernel, for children to inherit");
	ASSERT_TRUE(signal(SIGINT, SIG_IGN) != SIG_ERR);
	ASSERT_TRUE(kernel_handler() == (void *)SIG_IGN);
	ASSERT_TRUE(signal(SIGINT, plain_handler) == SIG_IGN);
	ASSERT_TRUE(kernel_handler() != (void *)SIG_IGN);
	program_got = 0;
	kill(getpid(), SIGINT);
	ASSERT_INT_EQ(program_got, SIGINT);
	ASSERT_INT_EQ(program_code, -1);
	TEST_DONE();
}

static void
test_sig_dfl_dies_of_sigint(void)
{
	pid_t	pid;
	int	status;

	TEST_START("SIG_DFL: the process dies of SIGINT");
	if ((pid = fork()) == 0) {
		signal(SIGINT, SIG_DFL);
		kill(getpid(), SIGINT);
		_exit(0);
	}
	ASSERT_TRUE(pid > 0);
	ASSERT_INT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_INT_EQ(WTERMSIG(status), SIGINT);
	TEST_DONE();
}

int
main(void)
{
	signal(SIGINT, SIG_DFL);
	sig_setup();
	test_program_sees_its_own_action();
	test_kill_reaches_the_program();
	test_typed_ctrl_c_goes_to_the_console_once_claimed();
	test_sig_ign_is_the_kernels();
	test_sig_dfl_dies_of_sigint();
	return unit_report("sig");
}
