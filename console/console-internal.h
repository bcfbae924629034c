/* What console/'s own files share. Nothing outside console/ includes
 * this: other folders call console/console.h. */
#ifndef APYTHON_CONSOLE_INTERNAL_H
#define APYTHON_CONSOLE_INTERNAL_H

#include "console/console.h"

/* What a session's input/output backend does. */
struct session_io {
	/* Optional (NULL: a backend whose peer reads lines itself): start
	 * reading lines on loop: -1 with exception. */
	int	(*attach)(PyObject *session, PyObject *loop);
	/* Optional, as attach: stop reading: 1 when a prompt shown went
	 * down with it (the session shows it again on its next loop). */
	int	(*detach)(PyObject *session);
	/* Show a prompt: input is expected. */
	int	(*prompt)(PyObject *session, PyObject *prompt);
	/* The session ends (EOF, exit()): -1 with the exception to raise. */
	int	(*end)(PyObject *session, PyObject *exit_exc);
	/* Optional: input() or sys.stdin in this session's statement: one
	 * line (str, without its newline) read while the loop waits;
	 * NULL with EOFError at end of input, or another exception. */
	PyObject *(*read_line)(PyObject *session, PyObject *prompt);
	/* Optional: a statement is complete; source is its lines. */
	void	(*statement)(PyObject *session, PyObject *source);
	/* Optional: Ctrl-C: drop the line being edited and leave the cursor
	 * at the start of a fresh line; 1: not now, -1 with exception. */
	int	(*interrupt)(PyObject *session);
	/* Optional: a statement's code goes on the CPU (1) or comes off
	 * it (0); no Python runs, an exception may be set (kept). */
	void	(*cpu)(PyObject *session, int on);
	/* Optional: free the backend's state when the session goes. */
	void	(*release)(void *arg);
	/* Optional: visit, and drop, the objects the backend's state holds
	 * (its callbacks are bound to the session: a cycle the collector
	 * must see, or the session is never freed). */
	int	(*traverse)(void *arg, visitproc, void *);
	void	(*clear)(void *arg);
};

/* One console. Its fields are for the session's own files (session.c,
 * repl.c, intro.c, step.c, attach.c); the rest of console/ calls. */
struct session {
	PyObject_HEAD
	PyObject		*ns;		/* the namespace; NULL: not made yet */
	PyObject		*locals;	/* what ns is made with, till it is */
	PyObject		*out;		/* where the console writes */
	PyObject		*compiler;	/* codeop.CommandCompiler, or NULL */
	PyObject		*buffer;	/* lines of the statement so far */
	PyObject		*lines;		/* lines read, not yet used */
	PyObject		*readers;	/* ainput() futures, oldest first */
	PyObject		*loop;
	PyObject		*task;		/* the console's own task */
	PyObject		*waiter;	/* future: a line or EOF arrives */
	PyObject		*stmt;		/* task of a statement: runs or awaits */
	PyObject		*banner;	/* written by the first step */
	PyObject		*startup;	/* file run by the first step */
	PyObject		*caught;	/* what ended the statement */
	const struct session_io	*io;
	void			*io_arg;
	int			 on_cpu;	/* console code runs now: Ctrl-C raises */
	int			 interrupted;	/* Ctrl-C cancelled stmt */
	int			 eof;
	int			 prompted;	/* a prompt waits for its line */
};

/* The session object o is. */
static inline struct session *
session_of(PyObject *o)
{
	return (struct session *)o;
}

/* session.c: the session object, what it writes, the lines it is fed. */
PyObject	*session_new(PyObject *ns, PyObject *locals, PyObject *out,
		     const struct session_io *, void *);
void		*session_io_arg(PyObject *);
const struct session_io *session_io(PyObject *);
PyObject	*session_loop(PyObject *);
PyObject	*session_namespace(PyObject *);
PyObject	*session_out(PyObject *);
int		 session_write(PyObject *, PyObject *);
int		 session_write_str(PyObject *, const char *);
PyObject	*session_current(void);
int		 session_feed_line(PyObject *, PyObject *line);
int		 session_feed_eof(PyObject *);
int		 session_run_in(PyObject *, PyObject *(*)(PyObject *, void *),
		     void *, PyObject **);
PyObject	*session_ainput(PyObject *, PyObject *prompt);
void		 session_set_on_cpu(PyObject *, int);
int		 session_on_cpu(PyObject *);
void		 session_set_caught(PyObject *, PyObject *);
int		 session_interrupt(PyObject *);
int		 session_has_stmt(PyObject *);
int		 session_check(PyObject *);
PyObject	*session_task(PyObject *);
int		 session_wake(struct session *);
int		 future_done(PyObject *);

/* repl.c: a line joins the statement; complete ones run, and how they
 * end is reported. */
PyObject	*repl_compiler(struct session *);
int		 repl_line(struct session *, PyObject *line);
int		 repl_finish_stmt(struct session *);
int		 repl_prompt(struct session *);
int		 repl_report_current(struct session *);
int		 repl_ready(void);

/* intro.c: what a console starts with. */
PyObject	*intro_banner(PyObject *);
PyObject	*intro_namespace(PyObject *, int quitters);
void		 intro_set(PyObject *, PyObject *banner, PyObject *startup);
int		 intro_run(struct session *);
/* local.c: whether s is the local console with no program beside it. */
int		 local_alone(const struct session *);
int		 intro_begin(PyObject *, PyObject *prompt);
void		 intro_withdraw(PyObject *);

/* tasks.c: the task views; `tasks` of console namespaces. */
PyObject	*tasks_views(void);

/* step.c: the coroutine of a console's task, one step per send(). */
PyObject	*step_coro_new(PyObject *session);
int		 step_ready(void);

/* attach.c: a session joins a loop, and leaves it. */
int		 session_attach(PyObject *, PyObject *loop);
void		 session_detach(PyObject *);

/* stmt.c: a statement's coroutine as its task runs it. */
PyObject	*stmt_start(PyObject *session, PyObject *coro, PyObject *source);
/* The SIGINTs handed to the program's handler and the KeyboardInterrupts
 * the console raised, when a step went on the CPU. */
struct stmt_sigints {
	unsigned	program;
	unsigned	console;
};
struct stmt_sigints stmt_cpu_begin(PyObject *session);
int		 stmt_cpu_end(PyObject *session, struct stmt_sigints);
int		 stmt_ready(void);

/* pager.c: help() in a console. */
int		 pager_install(void);

/* output.c: output of console statements goes to their session; the
 * rest to the program's streams. A line editor showing a prompt on the
 * terminal: output for a terminal then goes above its input line, whole
 * lines at a time. */
struct output_editor {
	int	(*shown)(void);		/* a prompt and its line are shown */
	void	(*hide)(void);		/* clear them from the screen */
	void	(*show)(void);		/* draw them again */
};
int		 output_setup(void);
void		 output_set_editor(const struct output_editor *);
int		 output_flush_held(void);
int		 output_write_console(PyObject *stream, PyObject *text);

/* input.c: plain line input from a file descriptor. */
extern const struct session_io input_fd_io;
void		*input_fd_new(int fd, int first);
void		 input_fd_free(void *);
int		 input_fd_waits(void *);

/* complete.c: Tab completion in a session's namespace. */
PyObject	*complete_matches(PyObject *session, PyObject *before,
		     PyObject *text);

/* sigint.c: Ctrl-C typed at the terminal while its console is up. */
int		 sigint_take(PyObject *session, const struct session_io *,
		     int all);
void		 sigint_give(void);

/* fg.c: the terminal console as a shell's job (background, Ctrl-Z). */
int		 fg_wait(PyObject *loop, int (*then)(PyObject *loop));
void		 fg_cancel(PyObject *loop);
int		 fg_watch(PyObject *loop);
void		 fg_unwatch(void);
int		 fg_defer(PyObject *loop);

/* readline.c: the terminal console, on term/ (stdin, stderr). */
extern const struct session_io readline_io;
void		*readline_new(void);
void		 readline_free(void *);
int		 readline_keys(int on);
int		 readline_deferred(void);
/* A program's line at the terminal (stdin.c): the console's prompt is
 * put aside (begin), back (end), and its keys watched again (rewatch,
 * after the terminal is released); any thread, with the GIL. */
int		 readline_console_up(void);
void		 readline_lend_begin(void);
void		 readline_lend_end(void);
int		 readline_lend_rewatch(void);

/* stdstreams.c: ainput, aprint, get_standard_streams, aexec, aeval. */
int		 stdstreams_add_to_module(PyObject *);
/* local.c: the local console when it reads a stdin that is not a
 * terminal and runs (borrowed), else NULL. */
PyObject	*local_reading_lines(void);
/* output.c: the end of a line held back for stream (a proxy or the
 * program's stream) above the prompt, no longer held: a new str, or
 * None. */
PyObject	*output_take_held(PyObject *stream);
/* readline.c: a line of the program on the loop's thread (stdstreams.c)
 * stops the console's watch of stdin until readline_lend_rewatch. */
int		 readline_lend_unwatch(void);
/* readline.c: an interface on stdio has the terminal (on 1) until it
 * ends (0); nested calls count. -1 with exception. */
int		 readline_withdraw(int on);
int		 readline_withdrawn(void);

/* stdin.c: input() and sys.stdin while a console is up. */
int		 stdin_setup(void);
int		 stdin_program_reads(void);
void		 stdin_set_program_reads(int);
int		 stdin_terminal_try(void);
void		 stdin_terminal_release(void);
int		 stdin_terminal_mine(void);

#endif
