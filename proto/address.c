/* Parse [HOST:]PORT, [IPV6]:PORT and PATH addresses. */
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"

/* A decimal port 0..65535, or -1. */
static int
address_port(const char *s)
{
	long	 port = 0;
	size_t	 n = strlen(s);

	if (n == 0 || n > 5 || strspn(s, "0123456789") != n)
		return -1;
	port = strtol(s, NULL, 10);
	return port > 65535 ? -1 : (int)port;
}

/* Copy n bytes of host; -1 when it does not fit or is not a host. */
static int
address_host(struct serve_address *a, const char *host, size_t n)
{
	if (n >= sizeof a->host || memchr(host, '/', n) != NULL)
		return -1;
	memcpy(a->host, host, n);
	a->host[n] = '\0';
	return 0;
}

/* Fill a from spec; -1 when spec is not an address. A PATH has a '/'. */
int
serve_parse_address(const char *spec, struct serve_address *a)
{
	const char	*colon, *close;

	memset(a, 0, sizeof *a);
	if (strchr(spec, '/') != NULL) {
		if (strlen(spec) >= sizeof a->path)
			return -1;
		a->kind = SERVE_UNIX;
		strcpy(a->path, spec);
		return 0;
	}
	a->kind = SERVE_TCP;
	if (spec[0] == '[') {
		if ((close = strchr(spec, ']')) == NULL || close[1] != ':' ||
		    close == spec + 1 ||
		    address_host(a, spec + 1, close - spec - 1) != 0)
			return -1;
		return (a->port = address_port(close + 2)) < 0 ? -1 : 0;
	}
	if ((colon = strrchr(spec, ':')) == NULL)
		return (a->port = address_port(spec)) < 0 ? -1 : 0;
	if (memchr(spec, ':', colon - spec) != NULL ||
	    address_host(a, spec, colon - spec) != 0)
		return -1;
	return (a->port = address_port(colon + 1)) < 0 ? -1 : 0;
}
