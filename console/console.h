/* console/: the asynchronous console (top-level await, line input, output
 * routing) that runs as a task on the program's loop. */
#ifndef APYTHON_CONSOLE_H
#define APYTHON_CONSOLE_H

#include "compat.h"

struct console_options {
	const char	*banner;	/* NULL: the default banner */
	PyObject	*locals;	/* dict merged into the namespace, or NULL */
	int		 no_readline;
	int		 has_target;	/* a program runs: no PYTHONSTARTUP */
};

int	 console_add_to_module(PyObject *module);
int	 console_setup(const struct console_options *);
int	 console_run_alone(void);
void	 console_shutdown(void);

/* For serve/: consoles whose peer is a connection (console/remote.c). */
struct console_peer {
	/* Text (UTF-8) for the peer: -1 with exception. */
	int	(*write)(PyObject *conn, const char *, size_t);
	/* A line is expected, after this prompt (UTF-8). */
	int	(*prompt)(PyObject *conn, const char *, size_t);
	/* The session is over (EOF, exit()): close once the text is sent. */
	void	(*end)(PyObject *conn);
};

int		 console_prepare(void);
PyObject	*console_remote_new(const struct console_peer *, PyObject *conn,
		     PyObject *banner, PyObject *locals);
int		 console_remote_start(PyObject *, PyObject *loop);
void		 console_remote_leave(PyObject *);
int		 console_remote_line(PyObject *, const char *, size_t);
int		 console_remote_eof(PyObject *);
int		 console_remote_interrupt(PyObject *);
PyObject	*console_remote_complete(PyObject *, const char *, size_t,
		     const char *, size_t);
void		 console_remote_close(PyObject *);

/* Internal to console/: a session is one console's state and I/O. */

/* What a session's input/output backend does. */
struct session_io {
	/* Start reading lines on loop: -1 with exception. */
	int	(*attach)(PyObject *session, PyObject *loop);
	/* Stop reading. */
	void	(*detach)(PyObject *session);
	/* Show a prompt: input is expected. */
	int	(*prompt)(PyObject *session, PyObject *prompt);
	/* The session ends (EOF, exit()): -1 with the exception to raise. */
	int	(*end)(PyObject *session, PyObject *exit_exc);
	/* Optional: a statement is complete; source is its lines. */
	void	(*statement)(PyObject *session, PyObject *source);
	/* Optional: Ctrl-C: drop the line being edited and leave the cursor
	 * at the start of a fresh line; 1: not now, -1 with exception. */
	int	(*interrupt)(PyObject *session);
	/* Optional: free the backend's state when the session goes. */
	void	(*release)(void *arg);
	/* Optional: visit, and drop, the objects the backend's state holds
	 * (its callbacks are bound to the session: a cycle the collector
	 * must see, or the session is never freed). */
	int	(*traverse)(void *arg, visitproc, void *);
	void	(*clear)(void *arg);
};

PyObject	*session_banner(PyObject *);
PyObject	*session_namespace_new(PyObject *);
PyObject	*session_new(PyObject *ns, PyObject *out,
		     const struct session_io *, void *);
void		*session_io_arg(PyObject *);
PyObject	*session_loop(PyObject *);
PyObject	*session_namespace(PyObject *);
PyObject	*session_out(PyObject *);
int		 session_write(PyObject *, PyObject *);
int		 session_write_str(PyObject *, const char *);
int		 session_attach(PyObject *, PyObject *loop);
void		 session_detach(PyObject *);
void		 session_set_intro(PyObject *, PyObject *, PyObject *);
int		 session_feed_line(PyObject *, PyObject *line);
int		 session_feed_eof(PyObject *);
int		 session_run_in(PyObject *, PyObject *(*)(PyObject *, void *),
		     void *, PyObject **);
PyObject	*session_ainput(PyObject *, PyObject *prompt);
void		 session_set_running(PyObject *, int);
int		 session_running(PyObject *);
void		 session_set_caught(PyObject *, PyObject *);
int		 session_interrupt(PyObject *);
int		 session_busy(PyObject *);
int		 session_ready(void);

/* Internal to console/: a statement's coroutine as its task runs it. */
PyObject	*stmt_wrap(PyObject *session, PyObject *coro);
int		 stmt_ready(void);

/* Internal to console/: output of console statements goes to their
 * session; the rest to the program's streams. */
int		 output_setup(void);
PyObject	*output_current(void);
PyObject	*output_var(void);
int		 output_pydoc_soon(PyObject *loop);

/* Internal to console/: a line editor showing a prompt on the terminal;
 * output for a terminal then goes above its input line, whole lines at
 * a time. */
struct output_editor {
	int	(*shown)(void);		/* a prompt and its line are shown */
	void	(*hide)(void);		/* clear them from the screen */
	void	(*show)(void);		/* draw them again */
};
void		 output_set_editor(const struct output_editor *);
int		 output_flush_held(void);

/* Internal to console/: plain line input from a file descriptor. */
extern const struct session_io input_fd_io;
void		*input_fd_new(int fd);
void		 input_fd_free(void *);

/* Internal to console/: Tab completion in a session's namespace. */
PyObject	*complete_matches(PyObject *session, PyObject *before,
		     PyObject *text);

/* Internal to console/: the history of the terminal console. */
#define HISTFILE_SIZE	1000		/* entries kept, in memory and file */
char		*histfile_path(void);
void		 histfile_load(const char *);
void		 histfile_add(const char *, const char *);

/* Internal to console/: GNU readline on the terminal (stdin, stderr). */
extern const struct session_io readline_io;
void		*readline_new(void);
void		 readline_free(void *);

#endif
