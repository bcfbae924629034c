/* serve/: the console served on TCP and unix sockets, and its client. */
#ifndef APYTHON_SERVE_H
#define APYTHON_SERVE_H

enum serve_kind { SERVE_TCP, SERVE_UNIX };

/* A parsed --serve / --connect address. */
struct serve_address {
	enum serve_kind	 kind;
	char		 host[256];	/* TCP: empty means loopback */
	int		 port;		/* TCP: 0 picks a free port */
	char		 path[108];	/* UNIX: the socket's path */
};

int	serve_parse_address(const char *, struct serve_address *);

#endif
