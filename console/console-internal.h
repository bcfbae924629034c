/* What console/'s own files share. Nothing outside console/ includes
 * this: other folders call console/console.h. */
#ifndef APYTHON_CONSOLE_INTERNAL_H
#define APYTHON_CONSOLE_INTERNAL_H

#include "console/console.h"

/* A session is one console's state and I/O. */

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

/* A statement's coroutine as its task runs it. */
PyObject	*stmt_wrap(PyObject *session, PyObject *coro);
int		 stmt_ready(void);

/* Output of console statements goes to their
 * session; the rest to the program's streams. */
int		 output_setup(void);
PyObject	*output_current(void);
PyObject	*output_var(void);
int		 output_pydoc_soon(PyObject *loop);

/* A line editor showing a prompt on the terminal;
 * output for a terminal then goes above its input line, whole lines at
 * a time. */
struct output_editor {
	int	(*shown)(void);		/* a prompt and its line are shown */
	void	(*hide)(void);		/* clear them from the screen */
	void	(*show)(void);		/* draw them again */
};
void		 output_set_editor(const struct output_editor *);
int		 output_flush_held(void);

/* Plain line input from a file descriptor. */
extern const struct session_io input_fd_io;
void		*input_fd_new(int fd);
void		 input_fd_free(void *);

/* Tab completion in a session's namespace. */
PyObject	*complete_matches(PyObject *session, PyObject *before,
		     PyObject *text);

/* The history of the terminal console. */
#define HISTFILE_SIZE	1000		/* entries kept, in memory and file */
char		*histfile_path(void);
void		 histfile_load(const char *);
void		 histfile_add(const char *, const char *);

/* GNU readline on the terminal (stdin, stderr). */
extern const struct session_io readline_io;
void		*readline_new(void);
void		 readline_free(void *);

#endif
