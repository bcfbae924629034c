/* The shared secret a served console may require: APYTHON_SECRET, or the
 * first line of the file APYTHON_SECRET_FILE names (mode 0600). */
#include "proto/proto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#define SECRET_MAX	4096

/* Read the first line of path, a file only its owner may read. */
static int
secret_read_file(const char *path, char **secret, size_t *len, char **cause)
{
	struct stat	 st;
	char		 buf[SECRET_MAX + 1];
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0 ||
	    fstat(fd, &st) != 0) {
		if (asprintf(cause, "APYTHON_SECRET_FILE: %s: %s", path,
		    strerror(errno)) < 0)
			*cause = NULL;
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 ||
	    st.st_uid != geteuid()) {
		close(fd);
		if (asprintf(cause, "APYTHON_SECRET_FILE: %s must be a file of "
		    "yours that only you can read (chmod 600)", path) < 0)
			*cause = NULL;
		return -1;
	}
	do
		n = read(fd, buf, SECRET_MAX);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0') {
		if (asprintf(cause, "APYTHON_SECRET_FILE: %s: no secret on its "
		    "first line", path) < 0)
			*cause = NULL;
		return -1;
	}
	*len = strlen(buf);
	*secret = strdup(buf);
	return *secret == NULL ? -1 : 0;
}

/* The configured secret in *secret (malloc'd, NULL when none is set);
 * -1 and a cause when the secret file is not safe or cannot be read. */
int
secret_load(char **secret, size_t *len, char **cause)
{
	const char	*env = getenv("APYTHON_SECRET");
	const char	*file = getenv("APYTHON_SECRET_FILE");

	*secret = NULL;
	*len = 0;
	if (env != NULL && *env != '\0') {
		*len = strlen(env);
		if (strcspn(env, "\r\n") != *len || *len > SECRET_MAX) {
			*cause = strdup("APYTHON_SECRET: not a one-line secret");
			return -1;
		}
		*secret = strndup(env, *len);
		return *secret == NULL ? -1 : 0;
	}
	if (file != NULL && *file != '\0')
		return secret_read_file(file, secret, len, cause);
	return 0;
}

/* Whether a (what a client sent) is the secret s, in a time that does not
 * depend on the secret's bytes. */
int
secret_equal(const char *a, size_t alen, const char *s, size_t slen)
{
	volatile unsigned char	diff = 0;
	size_t			i;

	if (slen == 0)
		return 0;
	diff = alen != slen;
	for (i = 0; i < alen; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)s[i % slen];
	return diff == 0;
}
