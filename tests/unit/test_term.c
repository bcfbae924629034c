/* term/: the history file's format and size limit, where it is kept,
 * Tab's plumbing, the console's readline state apart from the program's,
 * and the guard that puts stdin back on SIGTERM (readline without a
 * terminal; stdin is a pipe here). The console's history and settings
 * are looked at between term_enter() and term_leave(), as term/ does. */
#include "term/term-internal.h"
#include "tests/unit/unit.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <readline/readline.h>
#include <readline/history.h>

static char	dir[] = "/tmp/apython-test-term.XXXXXX";
static char	path[256];

/* The whole file at path, NUL-terminated (static). */
static const char *
slurp(void)
{
	static char	buf[1 << 16];
	ssize_t		n;
	int		fd;

	buf[0] = '\0';
	if ((fd = open(path, O_RDONLY)) < 0)
		return buf;
	n = read(fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	return buf;
}

/* Write text as the whole file at path. */
static void
spill(const char *text)
{
	FILE	*f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

/* A fresh history: no file, nothing in memory. */
static void
fresh(void)
{
	unlink(path);
	term_enter();
	clear_history();
	term_leave();
}

/* The console's history emptied, its file kept. */
static void
fresh_memory(void)
{
	term_enter();
	clear_history();
	term_leave();
}

/* Entry i of the console's history (0: the oldest), or "". */
static const char *
entry(int i)
{
	HIST_ENTRY	*h;

	term_enter();
	h = history_get(history_base + i);
	term_leave();
	return h != NULL ? h->line : "";
}

/* How many entries the console's history has. */
static int
entries(void)
{
	int	n;

	term_enter();
	n = history_length;
	term_leave();
	return n;
}

static void
test_history_writes_newlines_inside_an_entry_as_cr_lf(void)
{
	struct stat	st;

	TEST_START("history writes newlines inside an entry as CR LF");
	fresh();
	term_history_add(path, "if x:\n    y()\n");
	term_history_add(path, "z = 1");
	ASSERT_STR_EQ(slurp(), "if x:\r\n    y()\r\n\nz = 1\n");
	ASSERT_INT_EQ(stat(path, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 0777, 0600);
	TEST_DONE();
}

static void
test_history_reads_back_multi_line_entries_whole(void)
{
	TEST_START("history reads back multi-line entries whole");
	fresh();
	term_history_add(path, "for i in range(3):\n    print(i)");
	term_history_add(path, "async def f():\n\n    await g()");
	term_history_add(path, "last");
	fresh_memory();
	term_history_load(path);
	ASSERT_INT_EQ(entries(), 3);
	ASSERT_STR_EQ(entry(0), "for i in range(3):\n    print(i)");
	ASSERT_STR_EQ(entry(1), "async def f():\n\n    await g()");
	ASSERT_STR_EQ(entry(2), "last");
	TEST_DONE();
}

static void
test_history_keeps_odd_bytes_as_they_are(void)
{
	const char	*odd = "\x01\x1b[A \t\x7f \xff\xfe caf\xc3\xa9 a\rb";

	TEST_START("history keeps odd bytes as they are");
	fresh();
	term_history_add(path, odd);
	fresh_memory();
	term_history_load(path);
	ASSERT_INT_EQ(entries(), 1);
	ASSERT_STR_EQ(entry(0), odd);
	TEST_DONE();
}

static void
test_history_reads_plain_lines_as_readline_wrote_them(void)
{
	TEST_START("history reads plain lines as readline wrote them");
	fresh();
	spill("one\ntwo\n\nthree\n");
	term_history_load(path);
	ASSERT_INT_EQ(entries(), 4);
	ASSERT_STR_EQ(entry(0), "one");
	ASSERT_STR_EQ(entry(2), "");
	ASSERT_STR_EQ(entry(3), "three");
	TEST_DONE();
}

static void
test_history_skips_empty_entries_and_repeats(void)
{
	TEST_START("history skips empty entries and repeats");
	fresh();
	term_history_add(path, "a");
	term_history_add(path, "a");
	term_history_add(path, "");
	term_history_add(path, "b");
	term_history_add(path, "a");
	ASSERT_INT_EQ(entries(), 3);
	ASSERT_STR_EQ(slurp(), "a\nb\na\n");
	TEST_DONE();
}

static void
test_history_without_a_file_stays_in_memory(void)
{
	TEST_START("history without a file stays in memory");
	fresh();
	term_history_add(NULL, "kept");
	ASSERT_INT_EQ(entries(), 1);
	ASSERT_INT_EQ(access(path, F_OK), -1);
	TEST_DONE();
}

static void
test_history_file_is_cut_to_the_newest_entries_on_load(void)
{
	char		 buf[64], *all = NULL;
	size_t		 len = 0;
	FILE		*f;
	struct stat	 st;
	int		 i, n = TERM_HISTORY_SIZE + 5;

	TEST_START("history file is cut to the newest entries on load");
	fresh();
	f = open_memstream(&all, &len);
	for (i = 0; i < n; i++)
		fprintf(f, "e%d\r\nmore\n", i);
	fclose(f);
	spill(all);
	free(all);
	all = NULL;
	chmod(path, 0644);
	term_history_load(path);
	ASSERT_INT_EQ(entries(), TERM_HISTORY_SIZE);
	ASSERT_STR_EQ(entry(0), "e5\nmore");
	snprintf(buf, sizeof buf, "e%d\nmore", n - 1);
	ASSERT_STR_EQ(entry(TERM_HISTORY_SIZE - 1), buf);
	f = open_memstream(&all, &len);
	for (i = 5; i < n; i++)
		fprintf(f, "e%d\r\nmore\n", i);
	fclose(f);
	ASSERT_TRUE(strcmp(slurp(), all) == 0);
	free(all);
	ASSERT_INT_EQ(stat(path, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 0777, 0600);
	TEST_DONE();
}

static void
test_history_file_within_the_limit_is_left_alone(void)
{
	struct stat	st;

	TEST_START("history file within the limit is left alone");
	fresh();
	spill("x\ny\n");
	chmod(path, 0644);
	term_history_load(path);
	ASSERT_INT_EQ(stat(path, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 0777, 0644);
	ASSERT_STR_EQ(slurp(), "x\ny\n");
	TEST_DONE();
}

static void
test_history_path_follows_the_variable_then_home(void)
{
	char	*p;

	TEST_START("history path follows the variable, then HOME");
	setenv("HOME", "/home/someone", 1);
	unsetenv("APYTHON_TEST_HISTORY");
	p = term_history_path("APYTHON_TEST_HISTORY", ".hist");
	ASSERT_STR_EQ(p, "/home/someone/.hist");
	free(p);
	p = term_history_path(NULL, ".other");
	ASSERT_STR_EQ(p, "/home/someone/.other");
	free(p);
	setenv("APYTHON_TEST_HISTORY", "/elsewhere", 1);
	p = term_history_path("APYTHON_TEST_HISTORY", ".hist");
	ASSERT_STR_EQ(p, "/elsewhere");
	free(p);
	setenv("APYTHON_TEST_HISTORY", "", 1);
	ASSERT_TRUE(term_history_path("APYTHON_TEST_HISTORY", ".hist") ==
	    NULL);
	TEST_DONE();
}

/* Tab's plumbing: what the caller was asked, and what it offers. */
static char	asked[64];

static void
ignore_line(char *line)
{
	free(line);
}

static char **
offer(const char *before, const char *word)
{
	char	**m = calloc(3, sizeof *m);

	snprintf(asked, sizeof asked, "%s|%s", before, word);
	m[0] = strdup("alpha_one");
	m[1] = strdup("alpha_two");
	return m;
}

static struct term_ops	test_ops = {
	.name = "apython-test",
	.line = ignore_line,
	.complete = offer,
};

/* Put line in readline's buffer and press Tab's completion function
 * on the word that ends at the end of line, starting at start. */
static char **
tab(const char *line, int start)
{
	char	**m;

	term_enter();
	rl_replace_line(line, 0);
	rl_point = rl_end;
	m = rl_attempted_completion_function(rl_line_buffer + start, start,
	    rl_end);
	term_leave();
	return m;
}

/* What Python's readline module does to readline's state on import. */
static char **
program_complete(const char *text, int start, int end)
{
	(void)text;
	(void)start;
	(void)end;
	return NULL;
}

static void
test_programs_readline_state_and_the_consoles_stay_apart(void)
{
	HIST_ENTRY	*h;

	TEST_START("the program's readline state and the console's stay apart");
	fresh();
	rl_attempted_completion_function = program_complete;
	rl_bind_key('\t', rl_insert);
	add_history("program's");
	term_history_add(NULL, "console's");
	ASSERT_TRUE(rl_attempted_completion_function == program_complete);
	ASSERT_INT_EQ(history_length, 1);
	h = history_get(history_base);
	ASSERT_STR_EQ(h != NULL ? h->line : "", "program's");
	ASSERT_TRUE(rl_get_keymap()['\t'].function == rl_insert);
	ASSERT_INT_EQ(entries(), 1);
	ASSERT_STR_EQ(entry(0), "console's");
	term_enter();
	ASSERT_TRUE(rl_attempted_completion_function != program_complete);
	ASSERT_TRUE(rl_get_keymap()['\t'].function == rl_complete);
	term_leave();
	clear_history();
	rl_attempted_completion_function = NULL;
	TEST_DONE();
}

static void
test_tab_hands_the_callers_matches_to_readline(void)
{
	char	**m;
	int	  i;

	TEST_START("Tab hands the caller's matches to readline");
	asked[0] = '\0';
	m = tab("x = alp", 4);
	ASSERT_STR_EQ(asked, "x = |alp");
	ASSERT_TRUE(m != NULL);
	ASSERT_STR_EQ(m[0], "alpha_");
	ASSERT_STR_EQ(m[1], "alpha_one");
	ASSERT_STR_EQ(m[2], "alpha_two");
	ASSERT_TRUE(m[3] == NULL);
	for (i = 0; m[i] != NULL; i++)
		free(m[i]);
	free(m);
	TEST_DONE();
}

static void
test_tab_at_the_start_of_a_line_indents_without_asking(void)
{
	TEST_START("Tab at the start of a line indents without asking");
	asked[0] = '\0';
	ASSERT_TRUE(tab("    ", 4) == NULL);
	ASSERT_STR_EQ(asked, "");
	ASSERT_STR_EQ(rl_line_buffer, "    \t");
	TEST_DONE();
}

/* The handler SIGTERM has now. */
static void (*sigterm_handler(void))(int)
{
	struct sigaction	sa;

	sigaction(SIGTERM, NULL, &sa);
	return sa.sa_handler;
}

static void
test_guard_puts_stdins_flags_back_when_it_stops(void)
{
	int	flags = fcntl(STDIN_FILENO, F_GETFL);

	TEST_START("guard puts stdin's flags back when it stops");
	term_guard_start();
	fcntl(STDIN_FILENO, F_SETFL, flags | O_NONBLOCK);
	term_guard_stop();
	ASSERT_INT_EQ(fcntl(STDIN_FILENO, F_GETFL), flags);
	TEST_DONE();
}

static void
program_handler(int sig)
{
	(void)sig;
}

static void
test_guard_takes_sigterm_only_when_nobody_handles_it(void)
{
	TEST_START("guard takes SIGTERM only when nobody handles it");
	signal(SIGTERM, SIG_DFL);
	term_guard_start();
	ASSERT_TRUE(sigterm_handler() != SIG_DFL);
	term_guard_stop();
	ASSERT_TRUE(sigterm_handler() == SIG_DFL);
	signal(SIGTERM, program_handler);
	term_guard_start();
	ASSERT_TRUE(sigterm_handler() == program_handler);
	term_guard_stop();
	ASSERT_TRUE(sigterm_handler() == program_handler);
	signal(SIGTERM, SIG_DFL);
	TEST_DONE();
}

static void
test_sigterm_while_guarded_puts_stdin_back_and_kills(void)
{
	int	flags = fcntl(STDIN_FILENO, F_GETFL), status;
	pid_t	pid;

	TEST_START("SIGTERM while guarded puts stdin back, and kills");
	signal(SIGTERM, SIG_DFL);
	if ((pid = fork()) == 0) {
		/* stdin's flags are the parent's too: one open pipe. */
		term_guard_start();
		fcntl(STDIN_FILENO, F_SETFL, flags | O_NONBLOCK);
		raise(SIGTERM);
		_exit(0);
	}
	ASSERT_TRUE(pid > 0);
	ASSERT_INT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
	ASSERT_INT_EQ(fcntl(STDIN_FILENO, F_GETFL), flags);
	TEST_DONE();
}

int
main(void)
{
	FILE	*null = fopen("/dev/null", "w");
	int	 p[2];

	if (mkdtemp(dir) == NULL || pipe(p) != 0 ||
	    dup2(p[0], STDIN_FILENO) < 0)
		return 2;
	snprintf(path, sizeof path, "%s/history", dir);
	test_ops.out = null;
	term_setup(&test_ops);
	test_history_writes_newlines_inside_an_entry_as_cr_lf();
	test_history_reads_back_multi_line_entries_whole();
	test_history_keeps_odd_bytes_as_they_are();
	test_history_reads_plain_lines_as_readline_wrote_them();
	test_history_skips_empty_entries_and_repeats();
	test_history_without_a_file_stays_in_memory();
	test_history_file_is_cut_to_the_newest_entries_on_load();
	test_history_file_within_the_limit_is_left_alone();
	test_history_path_follows_the_variable_then_home();
	test_tab_hands_the_callers_matches_to_readline();
	test_tab_at_the_start_of_a_line_indents_without_asking();
	test_programs_readline_state_and_the_consoles_stay_apart();
	test_guard_puts_stdins_flags_back_when_it_stops();
	test_guard_takes_sigterm_only_when_nobody_handles_it();
	test_sigterm_while_guarded_puts_stdin_back_and_kills();
	unlink(path);
	rmdir(dir);
	fclose(null);
	return unit_report("term");
}
