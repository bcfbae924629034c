/* client/: apython --connect, the client of a served console, in pure C
 * (no Python): it speaks proto/'s frames and edits lines with term/. */
#ifndef APYTHON_CLIENT_H
#define APYTHON_CLIENT_H

#include "proto/proto.h"

int	 client_main(const struct serve_address *, int no_readline);
int	 client_main_fd(int fd, const char *what, int no_readline);

#endif
