/* term/: the terminal layer shared by the terminal console (console/)
 * and the --connect client (client/), in pure C: GNU readline in
 * callback mode, output above the prompt, Ctrl-C, Tab, the history file.
 *
 * There is one terminal per process, so the state is global. The
 * functions run on one thread at a time: the main thread for the client;
 * for the console, any thread holding Python's GIL (the loop's, or the
 * one whose input() has the terminal). */
#ifndef APYTHON_TERM_H
#define APYTHON_TERM_H

#include <stddef.h>
#include <stdio.h>

#define TERM_HISTORY_SIZE	1000	/* entries kept, in memory and file */

/* What the user of the terminal supplies. */
struct term_ops {
	const char	*name;		/* readline's name, for $if in inputrc */
	FILE		*out;		/* where prompts and the line are drawn */
	/* A line was entered (malloc'ed, the callee frees it), NULL at end
	 * of file. The prompt is already down when it is called. */
	void		(*line)(char *line);
	/* Tab: the completions of word, which follows before on the line:
	 * a NULL-terminated malloc'ed array of malloc'ed strings, or NULL.
	 * Not called at the start of a line: Tab indents there. */
	char		**(*complete)(const char *before, const char *word);
};

/* term/readline.c: the prompt and the line being edited. */
void	 term_setup(const struct term_ops *);
void	 term_prompt(const char *);	/* show it, edit a line after it */
void	 term_unprompt(void);		/* take it down, the tty put back */
void	 term_read(void);		/* a key waits on stdin: handle it */
int	 term_reading(void);		/* inside term_read() (Tab calls) */
void	 term_hide(void);		/* print above the prompt: hide, */
void	 term_show(void);		/* write, show */
void	 term_interrupt(void);		/* Ctrl-C: drop the line, unprompt */
void	 term_resized(void);		/* after SIGWINCH */
void	 term_continued(void);		/* fg after Ctrl-Z: draw again */
void	 term_putaside(void);		/* prompt and line off the screen, */
void	 term_bringback(void);		/* and back, the line as it was */
int	 term_shown(void);		/* a prompt (console's, program's) */
void	 term_guard_start(void);	/* SIGTERM, SIGQUIT restore the tty */
void	 term_guard_stop(void);
void	 term_guard_restore(void);	/* async-signal-safe: tty back */

/* term/job.c: a background job, Ctrl-Z and fg. */
int	 term_foreground(void);		/* our process group has the tty */
int	 term_job_start(void);		/* catch Ctrl-Z: an fd to watch */
void	 term_job_stop(void);
int	 term_job_continued(void);	/* fd readable: in the foreground? */
void	 term_job_reclaim(void);	/* after bg, then fg: settings back */

/* term/readline.c: a line for the program itself (its input()), with
 * its own readline state; the console's prompt is put aside meanwhile. */
void	 term_line_start(const char *prompt);
/* The same for apython's own line readers (ainput at a terminal): out
 * NULL for the terminal's stream; shown: the prompt is on the screen
 * already, readline only learns its width (rl_already_prompted);
 * complete: Tab's matches (term_ops'), NULL for the program's own. */
struct term_line {
	const char	*prompt;
	int		 shown;
	FILE		*out;
	char		**(*complete)(const char *before, const char *word);
};
void	 term_line_begin(const struct term_line *);
int	 term_line_key(void);		/* a key waits: 1 when the line is in */
char	*term_line_take(int add_history);	/* NULL: end of file */
void	 term_line_stop(void);		/* drop it (Ctrl-C) */

/* term/history.c: readline's history list, kept in a file. */
char	*term_history_path(const char *env, const char *name);
void	 term_history_load(const char *path);
void	 term_history_add(const char *path, const char *entry);

#endif
