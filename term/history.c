/* The history: GNU readline's list, kept in a file of one entry per
 * line. A newline inside an entry (a statement of several lines) is
 * written "\r\n", as python3's own REPL (3.13) writes ~/.python_history;
 * so a line ending in "\r" goes on in the next one. The file is created
 * 0600, each entry appended as it comes, and cut back to the newest
 * TERM_HISTORY_SIZE entries when it is loaded. */
#include "term/term-internal.h"

#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/readline.h>
#include <readline/history.h>

/* The history file: $env if set (empty: none), else ~/name. */
char *
term_history_path(const char *env, const char *name)
{
	const char	*value = env != NULL ? getenv(env) : NULL, *home;
	struct passwd	*pw;
	char		*path;

	if (value != NULL)
		return *value != '\0' ? strdup(value) : NULL;
	if ((home = getenv("HOME")) == NULL || *home == '\0') {
		if ((pw = getpwuid(getuid())) == NULL)
			return NULL;
		home = pw->pw_dir;
	}
	if (asprintf(&path, "%s/%s", home, name) < 0)
		return NULL;
	return path;
}

/* Write one entry: newlines inside it as "\r\n", then "\n". */
static void
history_put(FILE *f, const char *entry)
{
	for (; *entry != '\0'; entry++) {
		if (*entry == '\n')
			fputc('\r', f);
		fputc(*entry, f);
	}
	fputc('\n', f);
}

/* Append one entry to the history file (created 0600). */
static void
history_append(const char *path, const char *entry)
{
	FILE	*f;
	int	 fd;

	if ((fd = open(path, O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC, 0600)) < 0)
		return;
	if ((f = fdopen(fd, "a")) == NULL) {
		close(fd);
		return;
	}
	history_put(f, entry);
	fclose(f);
}

/* Rewrite the history file with what is in memory (the newest entries),
 * through a new file renamed over it. */
static void
history_rewrite(const char *path)
{
	HIST_ENTRY	**list = history_list();
	char		 *tmp;
	FILE		 *f;
	int		  fd, ok;

	if (asprintf(&tmp, "%s.%ld.tmp", path, (long)getpid()) < 0)
		return;
	fd = open(tmp, O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0600);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		if (fd >= 0)
			close(fd);
		free(tmp);
		return;
	}
	for (; list != NULL && *list != NULL; list++)
		history_put(f, (*list)->line);
	ok = fflush(f) == 0;
	if (fclose(f) != 0 || !ok || rename(tmp, path) != 0)
		unlink(tmp);
	free(tmp);
}

/* Read the history file into readline's list, which keeps the newest
 * TERM_HISTORY_SIZE; trim the file when it grew longer. */
void
term_history_load(const char *path)
{
	FILE	*f;
	char	*line = NULL, *entry = NULL, *e;
	size_t	 cap = 0, elen = 0;
	ssize_t	 n;
	int	 count = 0;

	term_enter();
	stifle_history(TERM_HISTORY_SIZE);
	if ((f = fopen(path, "re")) == NULL) {
		term_leave();
		return;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if ((e = realloc(entry, elen + n + 2)) == NULL)
			break;
		entry = e;
		memcpy(entry + elen, line, n + 1);
		elen += n;
		if (n > 0 && entry[elen - 1] == '\r') {
			entry[elen - 1] = '\n';
			continue;
		}
		add_history(entry);
		count++;
		elen = 0;
	}
	free(line);
	free(entry);
	fclose(f);
	if (count > TERM_HISTORY_SIZE)
		history_rewrite(path);
	term_leave();
}

/* The previous entry, or "". */
static const char *
history_last(void)
{
	HIST_ENTRY	*h;

	if (history_length == 0)
		return "";
	h = history_get(history_base + history_length - 1);
	return h != NULL ? h->line : "";
}

/* Add entry to the list, and to the file if path is not NULL, unless it
 * is empty or repeats the previous one. */
void
term_history_add(const char *path, const char *entry)
{
	if (*entry == '\0')
		return;
	term_enter();
	if (strcmp(entry, history_last()) != 0) {
		add_history(entry);
		if (path != NULL)
			history_append(path, entry);
	}
	term_leave();
}
