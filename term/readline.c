/* GNU readline in callback mode: the caller's loop waits for the
 * terminal and hands readline the keys; output goes above the prompt,
 * Ctrl-C drops the line, Tab asks the caller for completions. Each call
 * into readline runs with the console's readline state (context.c);
 * the program's own line (its input()) is edited with the program's. */
#include "term/term-internal.h"
#include "sig/sig.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <readline/readline.h>
#include <readline/history.h>

#define TERM_WORD_BREAKS	" \t\n`~!@#$%^&*()-=+[{]}\\|;:'\",<>/?"

/* The one terminal's state; see term.h for the thread it runs on. */
static const struct term_ops *ops;
static int initialized;		/* rl_initialize() was called */
static int shown;		/* the line handler is installed */
static int reading;		/* inside rl_callback_read_char() */
static char *prompt_shown;	/* the console's prompt, for term_bringback */
static char *kept;		/* the line put aside, for the next prompt */
static int kept_point;

/* The program's line (term_line_*): edited with its readline state. */
static int line_up;		/* its handler is installed */
static int line_done;		/* its handler was called */
static char *line_text;		/* with this (NULL: end of file) */
static FILE *line_in, *line_out;	/* the program's streams, put back */
static FILE *line_screen;	/* where the line is drawn */
static int line_catch_signals, line_catch_sigwinch;
static rl_completion_func_t *line_complete;	/* the program's, put back */
static const char *line_breaks;	/* the program's word breaks, put back */
static char **(*line_matches)(const char *, const char *); /* or NULL */

static char **matches;		/* Tab: what ops->complete offered */
static size_t next_match;

static int deprep_owed;		/* readline's clean-up skipped in bg */

/* For the fatal signal handler: what to put back. */
static volatile sig_atomic_t prepped;	/* saved_tio holds the settings */
static struct termios saved_tio;
static volatile sig_atomic_t saved_flags;
static volatile sig_atomic_t guarded;

static void term_restore_kept(void);

/* A signal the guard catches while nobody else does. */
struct guard_signal {
	int			sig;
	int			taken;	/* ours now: give old back */
	struct sigaction	old;
};
static struct guard_signal guard_signals[] = {
	{ .sig = SIGTERM },
	{ .sig = SIGQUIT },
};
#define GUARD_SIGNALS	(sizeof guard_signals / sizeof *guard_signals)

/* Free the completions offered. */
static void
term_forget_matches(void)
{
	size_t	i;

	for (i = 0; matches != NULL && matches[i] != NULL; i++)
		free(matches[i]);
	free(matches);
	matches = NULL;
}

/* readline's generator: the next match, malloc'ed. */
static char *
term_generate(const char *text, int state)
{
	(void)text;
	if (state == 0)
		next_match = 0;
	if (matches == NULL || matches[next_match] == NULL)
		return NULL;
	return strdup(matches[next_match++]);
}

/* readline's array of the matches offered (freed after). */
static char **
term_generate_all(const char *text)
{
	char	**r;

	r = rl_completion_matches(text, term_generate);
	term_forget_matches();
	return r;
}

/* True when only blanks come before the word at start. */
static int
term_at_line_start(int start)
{
	int	i;

	for (i = 0; i < start && (rl_line_buffer[i] == ' ' ||
	    rl_line_buffer[i] == '\t'); i++)
		;
	return i == start;
}

/* Tab's matches for text, which starts at start on the line: what fn
 * offers (fn runs Python: in the program's readline state, left for it
 * when the console's is in place). */
static char **
term_offer(char **(*fn)(const char *, const char *), const char *text,
    int start, int leave)
{
	char	*before;

	rl_attempted_completion_over = 1;
	rl_completion_append_character = '\0';
	rl_completion_suppress_append = 1;
	if (fn == NULL || (before = strndup(rl_line_buffer, start)) == NULL)
		return NULL;
	if (leave)
		term_leave();
	matches = fn(before, text);
	if (leave)
		term_enter();
	free(before);
	if (matches == NULL)
		return NULL;
	return term_generate_all(text);
}

/* Tab: indent at the start of a line, else the caller's matches. */
static char **
term_complete(const char *text, int start, int end)
{
	(void)end;
	if (*text == '\0' && term_at_line_start(start)) {
		rl_attempted_completion_over = 1;
		rl_insert_text("\t");
		return NULL;
	}
	return term_offer(ops != NULL ? ops->complete : NULL, text, start, 1);
}

/* Our settings, again each time: a program using Python's readline
 * module may have changed them. */
static void
term_claim(void)
{
	rl_instream = stdin;
	rl_outstream = ops->out;
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	rl_attempted_completion_function = term_complete;
	rl_completer_word_break_characters = TERM_WORD_BREAKS;
}

/* Use the terminal for o (kept, not copied), before any other term_
 * call; readline itself is set up on the first call only. */
void
term_setup(const struct term_ops *o)
{
	ops = o;
	if (initialized)
		return;
	term_context_begin();
	rl_readline_name = o->name;
	rl_change_environment = 0;
	term_claim();
	rl_initialize();
	rl_variable_bind("enable-bracketed-paste", "off");
	using_history();
	stifle_history(TERM_HISTORY_SIZE);
	term_context_made();
	initialized = 1;
}

/* readline's line handler: the prompt goes, then the caller has it. */
static void
term_on_line(char *line)
{
	term_unprompt();
	ops->line(line);
}

/* Show prompt and edit a line after it; a prompt already shown is
 * changed in place, keeping the line. Readline copies prompt. */
void
term_prompt(const char *prompt)
{
	char	*copy;

	if (prompt != prompt_shown && (copy = strdup(prompt)) != NULL) {
		free(prompt_shown);
		prompt_shown = copy;
	}
	term_enter();
	if (shown) {
		rl_clear_visible_line();
		rl_set_prompt(prompt);
		rl_forced_update_display();
		term_leave();
		return;
	}
	term_claim();
	using_history();
	if (tcgetattr(STDIN_FILENO, &saved_tio) == 0)
		prepped = 1;
	rl_callback_handler_install(prompt, term_on_line);
	shown = 1;
	term_restore_kept();
	term_leave();
}

/* The prompt's handler goes and readline lets the terminal go; in the
 * console's context. */
static void
term_take_down(void)
{
	rl_callback_handler_remove();
	prepped = 0;
	shown = 0;
	fflush(rl_outstream);
}

/* Take the prompt down: readline lets the terminal go. */
void
term_unprompt(void)
{
	if (!shown)
		return;
	term_enter();
	term_take_down();
	term_leave();
}

/* The line put aside goes back after the prompt just shown. */
static void
term_restore_kept(void)
{
	if (kept == NULL)
		return;
	rl_insert_text(kept);
	rl_point = kept_point <= rl_end ? kept_point : rl_end;
	free(kept);
	kept = NULL;
	rl_redisplay();
	fflush(rl_outstream);
}

/* Take the prompt and the line being typed off the screen, the cursor
 * left at the start of its screen line; the text is kept for the next
 * term_prompt() (the console's line while the program reads one, or
 * while no loop runs the console). */
void
term_putaside(void)
{
	if (!shown)
		return;
	term_enter();
	rl_callback_sigcleanup();
	free(kept);
	kept = rl_end > 0 ? strdup(rl_line_buffer) : NULL;
	kept_point = rl_point;
	rl_free_line_state();	/* redraws the line: before it goes */
	rl_clear_visible_line();
	term_take_down();
	term_leave();
}

/* Show the console's last prompt again with the line put aside. */
void
term_bringback(void)
{
	if (!shown && prompt_shown != NULL)
		term_prompt(prompt_shown);
}

/* True when a prompt (the console's or the program's) is shown. */
int
term_shown(void)
{
	return shown || line_up;
}

/* Is readline running (a key being handled, maybe Tab calling back)? */
int
term_reading(void)
{
	return reading;
}

/* A key is waiting: readline reads and handles it. */
void
term_read(void)
{
	if (!shown)
		return;
	term_enter();
	if (RL_ISSTATE(RL_STATE_CALLBACK)) {
		reading = 1;
		rl_callback_read_char();
		reading = 0;
	} else if (prompt_shown != NULL) {
		/* Someone removed our handler (a program calling readline
		 * itself): put it back, rather than let readline abort. */
		shown = 0;
		term_prompt(prompt_shown);
	}
	term_leave();
}

/* Take the prompt and its line off the screen, for output to go there;
 * term_show() draws them again below it. */
void
term_hide(void)
{
	term_enter();
	rl_clear_visible_line();
	fflush(rl_outstream);
	term_leave();
}

/* Draw the prompt and its line again, below the output. */
void
term_show(void)
{
	term_enter();
	rl_forced_update_display();
	fflush(rl_outstream);
	term_leave();
}

/* Ctrl-C: drop the line being edited, as CPython's readline does after
 * a signal, and take the prompt down. */
void
term_interrupt(void)
{
	if (!shown)
		return;
	term_enter();
	rl_free_line_state();
	rl_callback_sigcleanup();
	rl_cleanup_after_signal();
	term_unprompt();
	term_leave();
}

/* The window's size changed (SIGWINCH, handled outside the handler). */
void
term_resized(void)
{
	term_enter();
	if (term_shown() && !reading)
		rl_resize_terminal();
	else
		rl_reset_screen_size();
	term_leave();
}

/* Tab in a program's line when the program set no completion (it did
 * not import readline): a tab, as the terminal alone would give it. */
static char **
term_line_tab(const char *text, int start, int end)
{
	(void)text;
	(void)start;
	(void)end;
	rl_attempted_completion_over = 1;
	rl_insert_text("\t");
	return NULL;
}

/* The program's line is over: its handler goes, its settings back. */
static void
term_line_end(void)
{
	if (line_up)
		rl_callback_handler_remove();
	line_up = 0;
	prepped = 0;
	rl_attempted_completion_function = line_complete;
	rl_completer_word_break_characters = line_breaks;
	line_matches = NULL;
	rl_instream = line_in;
	rl_outstream = line_out;
	rl_catch_signals = line_catch_signals;
	rl_catch_sigwinch = line_catch_sigwinch;
}

/* readline's line handler for the program's line. */
static void
term_line_on_line(char *line)
{
	FILE	*out = rl_outstream;

	line_done = 1;
	line_text = line;
	term_line_end();
	fflush(out);
}

/* Tab in a line whose reader offers matches: theirs, at any place. */
static char **
term_line_offer(const char *text, int start, int end)
{
	(void)end;
	return term_offer(line_matches, text, start, 0);
}

/* Edit a line for the program (its input()) after prompt, on the
 * console's terminal, with the program's own readline state (its
 * completer, key bindings, history); the console's prompt is put aside
 * first. One such line at a time. */
void
term_line_start(const char *prompt)
{
	struct term_line	l = { .prompt = prompt };

	term_line_begin(&l);
}

/* term_line_start with l's choices (term.h). */
void
term_line_begin(const struct term_line *l)
{
	term_putaside();
	free(line_text);
	line_text = NULL;
	line_done = 0;
	line_in = rl_instream;
	line_out = rl_outstream;
	line_catch_signals = rl_catch_signals;
	line_catch_sigwinch = rl_catch_sigwinch;
	line_complete = rl_attempted_completion_function;
	line_breaks = rl_completer_word_break_characters;
	if ((line_matches = l->complete) != NULL) {
		rl_attempted_completion_function = term_line_offer;
		rl_completer_word_break_characters = TERM_WORD_BREAKS;
	} else if (line_complete == NULL &&
	    rl_completion_entry_function == NULL)
		rl_attempted_completion_function = term_line_tab;
	rl_instream = stdin;
	rl_outstream = l->out != NULL ? l->out : ops != NULL ? ops->out :
	    stderr;
	line_screen = rl_outstream;
	/* The caller handles signals, as Python's readline module does. */
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	if (tcgetattr(STDIN_FILENO, &saved_tio) == 0)
		prepped = 1;
	line_up = 1;
	reading = 1;
	rl_already_prompted = l->shown;
	rl_callback_handler_install(l->prompt, term_line_on_line);
	rl_already_prompted = 0;
	reading = 0;
}

/* A key waits for the program's line: readline handles it. 1 when the
 * line (or end of file) is in, 0 when it goes on, -1 when the line was
 * taken down meanwhile (term_line_stop, or someone removed it). */
int
term_line_key(void)
{
	if (line_done)
		return 1;
	if (!line_up)
		return -1;
	if (!RL_ISSTATE(RL_STATE_CALLBACK)) {
		term_line_end();
		return -1;
	}
	reading = 1;
	rl_callback_read_char();
	reading = 0;
	return line_done;
}

/* The program's line once in (malloc'ed, the caller frees it), or NULL
 * at end of file, the screen line ended then. A line goes into the
 * program's history when add is true, as Python's readline module does. */
char *
term_line_take(int add)
{
	HIST_ENTRY	*last;
	char		*line = line_text;

	line_text = NULL;
	line_done = 0;
	if (line == NULL) {
		fputs("\n", line_screen);
		fflush(line_screen);
		return NULL;
	}
	last = history_length > 0 ?
	    history_get(history_base + history_length - 1) : NULL;
	if (add && *line != '\0' && (last == NULL || strcmp(last->line, line)))
		add_history(line);
	return line;
}

/* Drop the program's line (Ctrl-C, or the console is gone), as Python's
 * readline module does after a signal, and end its screen line. */
void
term_line_stop(void)
{
	if (!line_up)
		return;
	rl_free_line_state();
	rl_callback_sigcleanup();
	rl_cleanup_after_signal();
	term_line_end();
	fputs("\n", line_screen);
	fflush(line_screen);
}

/* Back in the foreground after Ctrl-Z (term/job.c): the prompt and its
 * line again, on the fresh line the shell left the cursor on. */
void
term_continued(void)
{
	if (!shown && !line_up)
		return;
	term_enter();
	rl_on_new_line();
	rl_redisplay();
	fflush(rl_outstream);
	term_leave();
}

/* Put the terminal and stdin's flags back as the guard found them;
 * async-signal-safe, for a process about to die of a signal. */
void
term_guard_restore(void)
{
	if (!guarded)
		return;
	/* From the background: the settings are the foreground job's. */
	if (prepped && term_foreground())
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
	if (saved_flags != -1)
		fcntl(STDIN_FILENO, F_SETFL, (int)saved_flags);
}

/* A fatal signal (SIGTERM, SIGQUIT) while guarded: put the terminal
 * and stdin back as they were, then die of it as before. */
static void
term_fatal(int sig)
{
	term_guard_restore();
	sig_raise_default(sig, NULL);
}

/* Catch g's signal with term_fatal if nobody else handles it. */
static void
term_fatal_install(struct guard_signal *g)
{
	struct sigaction	sa;

	g->taken = 0;
	if (sigaction(g->sig, NULL, &g->old) != 0 ||
	    g->old.sa_handler != SIG_DFL)
		return;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = term_fatal;
	sigemptyset(&sa.sa_mask);
	g->taken = sigaction(g->sig, &sa, NULL) == 0;
}

/* Give g's signal back, unless the program took it since. */
static void
term_fatal_restore(struct guard_signal *g)
{
	struct sigaction	cur;

	if (!g->taken)
		return;
	if (sigaction(g->sig, NULL, &cur) == 0 &&
	    cur.sa_handler == term_fatal)
		sigaction(g->sig, &g->old, NULL);
	g->taken = 0;
}

/* readline's terminal set-up, only in the foreground: from the
 * background tcsetattr would stop the job (SIGTTOU), and the settings
 * are the foreground job's. A clean-up skipped there is done before the
 * next set-up (readline sets up nothing while it counts itself set up). */
static void
term_guard_prep(int meta)
{
	if (!term_foreground())
		return;
	if (deprep_owed)
		rl_deprep_terminal();
	deprep_owed = 0;
	rl_prep_terminal(meta);
}

static void
term_guard_deprep(void)
{
	deprep_owed = !term_foreground();
	if (!deprep_owed)
		rl_deprep_terminal();
}

/* Until term_guard_stop(): SIGTERM and SIGQUIT put the terminal and
 * stdin's flags back (as they are now) before the process dies; from
 * now on readline leaves the terminal alone in the background. */
void
term_guard_start(void)
{
	size_t	i;

	rl_prep_term_function = term_guard_prep;
	rl_deprep_term_function = term_guard_deprep;
	saved_flags = fcntl(STDIN_FILENO, F_GETFL);
	if (guarded)
		return;
	for (i = 0; i < GUARD_SIGNALS; i++)
		term_fatal_install(&guard_signals[i]);
	guarded = 1;
}

/* Stop guarding; stdin's flags as term_guard_start() found them. */
void
term_guard_stop(void)
{
	size_t	i;

	if (guarded) {
		for (i = 0; i < GUARD_SIGNALS; i++)
			term_fatal_restore(&guard_signals[i]);
		guarded = 0;
	}
	if (saved_flags != -1 && fcntl(STDIN_FILENO, F_GETFL) != saved_flags)
		fcntl(STDIN_FILENO, F_SETFL, (int)saved_flags);
}
