/* console/: the asynchronous console (top-level await, line input, output
 * routing) that runs as a task on the program's loop. What the rest of
 * apython calls; console/'s own files share console/console-internal.h. */
#ifndef APYTHON_CONSOLE_H
#define APYTHON_CONSOLE_H

#include "compat.h"

/* The local console, on the terminal (console/local.c). */
struct console_options {
	const char	*banner;	/* NULL: the default banner */
	PyObject	*locals;	/* dict merged into the namespace, or NULL */
	int		 no_readline;
	int		 has_target;	/* a program runs: no PYTHONSTARTUP */
	int		 no_banner;	/* -q: none, not even --banner's */
	int		 inspect;	/* -i: a console after the program, even
					 * on an empty stdin */
};

int	 console_add_to_module(PyObject *module);
/* AsynchronousConsole, interact (console/streams.c), made on first use. */
int	 console_streams_add_to_module(PyObject *module);
/* True when the running code belongs to a console session: a statement
 * of a console (local, served), or a task one started; its ainput() and
 * aprint() are that console's (console/stdstreams.c). */
int	 console_has_session(void);
/* Every program, at start-up: apython's real-time signal's handler
 * (console/sigint.c); -1 with exception. */
int	 console_signals_setup(void);
int	 console_setup(const struct console_options *);
int	 console_run_alone(void);
int	 console_inspect(PyObject *globals);
void	 console_shutdown(void);

/* For serve/: consoles whose peer is a connection (console/remote.c). */
struct console_peer {
	/* Text (UTF-8) for the peer: -1 with exception. */
	int	(*write)(PyObject *conn, const char *, size_t);
	/* A line is expected, after this prompt (UTF-8). */
	int	(*prompt)(PyObject *conn, const char *, size_t);
	/* The session is over (EOF, exit()): close once the text is sent. */
	void	(*end)(PyObject *conn);
	/* A statement is complete (UTF-8), one entry for the history. */
	void	(*statement)(PyObject *conn, const char *, size_t);
	/* input() in a statement: show the prompt, wait (the loop with it)
	 * for the peer's next line: 1 and *line (bytes), 0 at its end (or
	 * once it is gone), -1 with exception (KeyboardInterrupt: Ctrl-C). */
	int	(*read_line)(PyObject *conn, const char *, size_t,
		    PyObject **line);
	/* Optional: a statement's code goes on the CPU (1), or comes off
	 * it (0): the peer may listen for Ctrl-C meanwhile (ctl/). An
	 * exception may be set: kept as it is. */
	void	(*cpu)(PyObject *conn, int on);
};

/* Ready console/ once (local.c calls it too): before the first remote
 * console when there is no local one. */
int		 console_prepare(void);
PyObject	*console_remote_new(const struct console_peer *, PyObject *conn,
		     PyObject *banner, PyObject *locals);
int		 console_remote_start(PyObject *, PyObject *loop);
void		 console_remote_leave(PyObject *);
int		 console_remote_line(PyObject *, const char *, size_t);
int		 console_remote_eof(PyObject *);
int		 console_remote_interrupt(PyObject *);
int		 console_remote_on_cpu(PyObject *);
PyObject	*console_remote_complete(PyObject *, const char *, size_t,
		     const char *, size_t);
void		 console_remote_close(PyObject *);

/* The program's tasks on loop as text (new str ref), a tree as 3.14's
 * `python -m asyncio pstree`: name filter (NULL: all); frame: when not
 * NULL, the main thread's current stack to show (the loop is stuck);
 * stuck: seconds the loop has not turned (<0: unknown). NULL with
 * exception on error. Main thread, GIL held (console/tasks.c). */
PyObject	*console_ps(PyObject *loop, const char *filter, PyObject *frame,
		     double stuck);

#endif
