/* Two sets of readline's global state: the console's and the program's.
 * readline keeps its settings, history and key bindings in globals that
 * Python's readline module (imported by pdb, cmd, site...) sets too. The
 * program's are the ones in place at all times, so that whatever the
 * program does with readline changes only its own; the console's are
 * swapped in around each call term/ makes into readline, and out after.
 * The line being edited and the terminal are not part of a context: one
 * prompt is up at a time (see term_putaside). Neither are readline's
 * variables (`set ...` in inputrc or parse_and_bind): those both share. */
#include "term/term-internal.h"

#include <stdlib.h>

#include <readline/readline.h>
#include <readline/history.h>

struct term_context {
	HISTORY_STATE		 *history;	/* malloc'ed by readline */
	int			  history_base;
	int			  history_max;
	int			  stifled;
	Keymap			  keymap;
	int			  editing_mode;
	const char		 *name;
	rl_completion_func_t	 *attempted;
	rl_compentry_func_t	 *entry;
	const char		 *word_breaks;
	const char		 *quotes;
	int			  append;
	rl_compdisp_func_t	 *display;
	rl_hook_func_t		 *startup;
	rl_hook_func_t		 *pre_input;
	FILE			 *in;
	FILE			 *out;
	int			  catch_signals;
	int			  catch_sigwinch;
};

static struct term_context console_cx, program_cx;
static int made;		/* console_cx holds the console's state */
static int depth;		/* term_enter() calls not yet left */

/* Keep readline's globals in c. */
static void
context_save(struct term_context *c)
{
	free(c->history);
	c->history = history_get_history_state();
	c->history_base = history_base;
	c->history_max = history_max_entries;
	c->stifled = history_is_stifled();
	c->keymap = rl_get_keymap();
	c->editing_mode = rl_editing_mode;
	c->name = rl_readline_name;
	c->attempted = rl_attempted_completion_function;
	c->entry = rl_completion_entry_function;
	c->word_breaks = rl_completer_word_break_characters;
	c->quotes = rl_completer_quote_characters;
	c->append = rl_completion_append_character;
	c->display = rl_completion_display_matches_hook;
	c->startup = rl_startup_hook;
	c->pre_input = rl_pre_input_hook;
	c->in = rl_instream;
	c->out = rl_outstream;
	c->catch_signals = rl_catch_signals;
	c->catch_sigwinch = rl_catch_sigwinch;
}

/* Put c's state in readline's globals. */
static void
context_load(const struct term_context *c)
{
	if (c->history != NULL)
		history_set_history_state(c->history);
	if (!c->stifled)
		unstifle_history();
	history_max_entries = c->history_max;
	history_base = c->history_base;
	rl_set_keymap(c->keymap);
	rl_editing_mode = c->editing_mode;
	rl_readline_name = c->name;
	rl_attempted_completion_function = c->attempted;
	rl_completion_entry_function = c->entry;
	rl_completer_word_break_characters = c->word_breaks;
	rl_completer_quote_characters = c->quotes;
	rl_completion_append_character = c->append;
	rl_completion_display_matches_hook = c->display;
	rl_startup_hook = c->startup;
	rl_pre_input_hook = c->pre_input;
	rl_instream = c->in;
	rl_outstream = c->out;
	rl_catch_signals = c->catch_signals;
	rl_catch_sigwinch = c->catch_sigwinch;
}

/* The console's state is made: keep the program's as it is now, and
 * start the console's with an empty history; the caller sets the rest,
 * then calls term_context_made(). */
void
term_context_begin(void)
{
	HISTORY_STATE	empty = { NULL, 0, 0, 0, 0 };

	context_save(&program_cx);
	history_set_history_state(&empty);
	unstifle_history();
	history_base = 1;
}

/* The console's state is set: keep it, with key bindings of its own (a
 * copy: Python's readline module binds Tab to insert a tab in the
 * program's), and put the program's back. */
void
term_context_made(void)
{
	Keymap	km;

	if (rl_editing_mode == 1 && (km = rl_copy_keymap(rl_get_keymap()))) {
		if (km['\t'].type == ISFUNC && km['\t'].function == rl_insert)
			km['\t'].function = rl_complete;
		rl_set_keymap(km);
	}
	context_save(&console_cx);
	/* Kept before readline's initialization, which sets these. */
	if (program_cx.word_breaks == NULL)
		program_cx.word_breaks = rl_basic_word_break_characters;
	if (program_cx.in == NULL)
		program_cx.in = stdin;
	if (program_cx.out == NULL)
		program_cx.out = stdout;
	context_load(&program_cx);
	made = 1;
}

/* The console calls into readline: its state in place (calls nest). */
void
term_enter(void)
{
	if (depth++ == 0 && made) {
		context_save(&program_cx);
		context_load(&console_cx);
	}
}

/* The console's call is over: the program's state back. */
void
term_leave(void)
{
	if (--depth == 0 && made) {
		context_save(&console_cx);
		context_load(&program_cx);
	}
}
