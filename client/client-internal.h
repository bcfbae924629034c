/* What client/'s files share. The client is one thread and one
 * connection: its state is the global cl, touched only from that thread
 * (the signal handlers only set flags and write to the wake pipe). */
#ifndef APYTHON_CLIENT_INTERNAL_H
#define APYTHON_CLIENT_INTERNAL_H

#include "client/client.h"

struct client {
	int		 fd;
	char		 name[400];	/* the address, for messages */
	int		 editing;	/* readline on a terminal */
	int		 prompting;	/* a prompt is up, a line is due */
	int		 stdin_eof;
	int		 eof_sent;	/* for the prompt shown */
	int		 statements;	/* the server sends history entries */
	int		 closed;	/* the server is gone */
	int		 bye;		/* ... and said the session ended */
	int		 status;	/* the exit status */
	int		 interrupts;	/* Ctrl-C without an answer yet */
	char		*prompt;	/* the last prompt */
	char		*history;	/* history file, or NULL */
	struct sbuf	 in;		/* from the server */
	struct sbuf	 later;		/* frames that came during Tab */
	struct sbuf	 held;		/* output: the end of a line */
	struct sbuf	 typed;		/* plain input not sent yet */
};

extern struct client cl;

/* client/net.c */
void	 client_fail(const char *, ...) __attribute__((format(printf, 1, 2)));
int	 client_send(int type, const char *, size_t);
int	 client_recv(int ms);
void	 client_print(const char *, size_t);
int	 client_connect(const struct serve_address *);
int	 client_handshake(void);

/* client/terminal.c */
void	 client_terminal_setup(void);
void	 client_terminal_end(void);
void	 client_output(const char *, size_t);
void	 client_prompt(const char *, size_t);
void	 client_unprompt(void);
void	 client_answer(const char *);
void	 client_drop_line(void);
void	 client_history(const char *, size_t);

#endif
