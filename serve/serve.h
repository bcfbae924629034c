/* serve/: the console served on TCP and unix sockets. */
#ifndef APYTHON_SERVE_H
#define APYTHON_SERVE_H

#include <stddef.h>

#include "compat.h"
#include "proto/proto.h"

/* --serve: listen now, follow the program's loops, close at exit. */
int	 serve_start(const struct serve_address *, const char *banner,
	     PyObject *locals, char **cause);
int	 serve_run_alone(void);
void	 serve_shutdown(void);
int	 serve_add_to_module(PyObject *module);

/* Internal to serve/: listening sockets. */
struct listener {
	int	 fd;
	int	 family;
};

int	 listen_open(const struct serve_address *, struct listener **,
	     int *, char **cause);
int	 listen_name(int, char *, size_t);
int	 listen_is_loopback(const void *sockaddr);

/* Internal to serve/: the console server and its connections. */
PyObject	*server_new(const struct serve_address *, PyObject *banner,
		     PyObject *locals, char **cause);
int		 server_attach(PyObject *, PyObject *loop);
void		 server_detach(PyObject *);
void		 server_close(PyObject *);
void		 server_close_all(void);
PyObject	*server_loop(PyObject *);
const char	*server_name(PyObject *);
int		 server_ready(void);
PyObject	*server_banner(PyObject *);
PyObject	*server_locals(PyObject *);
int		 server_check_secret(PyObject *, const char *, size_t);
void		 server_forget(PyObject *, PyObject *conn);

PyObject	*conn_new(PyObject *server, int fd, int auth,
		     const char *refuse);
int		 conn_attach(PyObject *, PyObject *loop);
void		 conn_detach(PyObject *);
void		 conn_close(PyObject *);
int		 conn_ready(void);

#endif
