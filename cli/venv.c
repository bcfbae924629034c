/* The virtualenv apython runs in, found as python3 finds its own: a
 * pyvenv.cfg beside the binary or one folder up (apython installed in a
 * venv's bin, activated or not), else the active one (VIRTUAL_ENV). A
 * venv of another Python version is run by the apythonX.Y installed
 * beside this one (exec'd with the same argv), or refused; one of
 * another interpreter of the same version is refused. Nothing is run
 * to find out: at start-up, two failed opens without a venv. */
#include "cli/cli-internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

/* What a virtualenv's pyvenv.cfg says. */
struct venv {
	char	dir[PATH_MAX];		/* the virtualenv; "" when none */
	char	version[16];		/* its X.Y; "" when unknown */
	char	home[PATH_MAX];		/* the base interpreter's folder */
	char	executable[PATH_MAX];	/* the base interpreter (3.11+) */
	int	own;			/* the binary's own, not VIRTUAL_ENV */
};

/* The virtualenv in use, set by cli_check_venv; the main thread only. */
static struct venv venv;

/* A venv's home may be another venv's bin (3.8-3.10 venvs of venvs):
 * how many such links are followed to the base interpreter. */
#define VENV_DEPTH	4

/* The last component of path. */
static const char *
base_name(const char *path)
{
	const char	*slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

/* Copy s into buf; -1 if it does not fit. */
static int
copy(char *buf, size_t len, const char *s)
{
	return (size_t)snprintf(buf, len, "%s", s) < len ? 0 : -1;
}

/* The folder of path, lexically as python3's getpath takes it (a link
 * is not followed: a symlink into a venv's bin is in that venv). */
static int
parent(const char *path, char *buf, size_t len)
{
	const char	*base = base_name(path);
	size_t		 n;

	if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return (size_t)snprintf(buf, len, "%s/..", path) < len ? 0 : -1;
	if (base == path)
		return copy(buf, len, ".");
	n = (size_t)(base - path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	return (size_t)snprintf(buf, len, "%.*s", (int)n, path) < len ? 0 : -1;
}

/* The value of a pyvenv.cfg line "key = value" into buf (stripped), or
 * -1 when the line is not key's. */
static int
cfg_value(const char *line, const char *key, char *buf, size_t len)
{
	size_t	 n = strcspn(line, " \t="), end;

	if (n != strlen(key) || strncmp(line, key, n) != 0)
		return -1;
	line += n + strspn(line + n, " \t");
	if (*line++ != '=')
		return -1;
	line += strspn(line, " \t");
	end = strlen(line);
	while (end > 0 && strchr(" \t\r\n", line[end - 1]) != NULL)
		end--;
	if (end >= len)
		return -1;
	memcpy(buf, line, end);
	buf[end] = '\0';
	return 0;
}

/* X.Y of a version value "X.Y.Z" (venv) or "X.Y.Z.final.0" (virtualenv). */
static void
cfg_version(const char *value, char *ver, size_t len)
{
	int	major, minor;

	if (sscanf(value, "%d.%d", &major, &minor) == 2)
		snprintf(ver, len, "%d.%d", major, minor);
}

/* Read dir/pyvenv.cfg into *v; -1 when there is none. */
static int
read_cfg(const char *dir, struct venv *v)
{
	char	 path[PATH_MAX], value[PATH_MAX], *line = NULL;
	size_t	 cap = 0;
	FILE	*f;

	if ((size_t)snprintf(path, sizeof path, "%s/pyvenv.cfg", dir) >=
	    sizeof path || (f = fopen(path, "r")) == NULL)
		return -1;
	memset(v, 0, sizeof *v);
	copy(v->dir, sizeof v->dir, dir);
	while (getline(&line, &cap, f) != -1) {
		if (cfg_value(line, "version", value, sizeof value) == 0 ||
		    cfg_value(line, "version_info", value, sizeof value) == 0)
			cfg_version(value, v->version, sizeof v->version);
		cfg_value(line, "home", v->home, sizeof v->home);
		cfg_value(line, "executable", v->executable,
		    sizeof v->executable);
	}
	free(line);
	fclose(f);
	return 0;
}

/* Drop the "." and "name/.." components of the absolute path in buf,
 * as python3 normalizes its own path. */
static void
normalize(char *buf)
{
	char	*in = buf, *out = buf;
	size_t	 n;

	while (*in != '\0') {
		in += strspn(in, "/");
		n = strcspn(in, "/");
		if (n == 0 || (n == 1 && in[0] == '.')) {
			in += n;
			continue;
		}
		if (n == 2 && in[0] == '.' && in[1] == '.') {
			while (out > buf && *--out != '/')
				;
			in += n;
			continue;
		}
		*out++ = '/';
		memmove(out, in, n);
		out += n;
		in += n;
	}
	if (out == buf)
		*out++ = '/';
	*out = '\0';
}

/* path made absolute into buf, from the current folder. */
static int
absolute(const char *path, char *buf, size_t len)
{
	char	cwd[PATH_MAX];

	if (*path == '/') {
		if (copy(buf, len, path) != 0)
			return -1;
	} else if (getcwd(cwd, sizeof cwd) == NULL ||
	    (size_t)snprintf(buf, len, "%s/%s", cwd, path) >= len)
		return -1;
	normalize(buf);
	return 0;
}

/* The file apython was run as, absolute but unresolved, as python3
 * finds its own: argv[0] when it has a slash, else the one the kernel
 * ran (AT_EXECFN: what the shell found on PATH) when it has that name,
 * else argv[0] looked up on PATH again. */
static int
run_path(const struct cli *o, char *buf, size_t len)
{
	const char	*argv0, *execfn, *p, *end;
	char		 path[PATH_MAX];

	if (o->argc < 1 || *(argv0 = o->argv[0]) == '\0')
		return -1;
	if (strchr(argv0, '/') != NULL)
		return absolute(argv0, buf, len);
	execfn = (const char *)getauxval(AT_EXECFN);
	if (execfn != NULL && strcmp(base_name(execfn), argv0) == 0)
		return absolute(execfn, buf, len);
	for (p = getenv("PATH"); p != NULL && *p != '\0'; p = end + 1) {
		end = p + strcspn(p, ":");
		if ((size_t)snprintf(path, sizeof path, "%.*s/%s", end == p ?
		    1 : (int)(end - p), end == p ? "." : p, argv0) <
		    sizeof path && access(path, X_OK) == 0)
			return absolute(path, buf, len);
		if (*end == '\0')
			break;
	}
	return -1;
}

/* The virtualenv of the binary itself: a pyvenv.cfg in its folder or
 * the one above, as python3 looks for its own. */
static int
own_venv(const struct cli *o, struct venv *v)
{
	char	path[PATH_MAX], dir[PATH_MAX], up[PATH_MAX];

	if (run_path(o, path, sizeof path) != 0 ||
	    parent(path, dir, sizeof dir) != 0)
		return -1;
	if (read_cfg(dir, v) != 0 && (parent(dir, up, sizeof up) != 0 ||
	    read_cfg(up, v) != 0))
		return -1;
	v->own = 1;
	return 0;
}

/* The virtualenv in use: the binary's own (python3 in a venv's bin
 * uses that venv whatever is active), else the active one. */
static void
find_venv(const struct cli *o)
{
	const char	*env = getenv("VIRTUAL_ENV");

	if (own_venv(o, &venv) == 0 || env == NULL || *env == '\0')
		return;
	if (read_cfg(env, &venv) != 0)
		copy(venv.dir, sizeof venv.dir, env);
}

/* Whether name ends in a version X.Y (apython3.12). */
static int
versioned(const char *name)
{
	size_t	n = strlen(name), digits;

	for (digits = 0; n > 0 && name[n - 1] >= '0' && name[n - 1] <= '9';
	    n--)
		digits++;
	if (digits == 0 || n == 0 || name[--n] != '.')
		return 0;
	for (digits = 0; n > 0 && name[n - 1] >= '0' && name[n - 1] <= '9';
	    n--)
		digits++;
	return digits > 0;
}

/* Exec dir/apythonX.Y with apython's own argv when it is there. */
static void
exec_beside(const struct cli *o, const char *dir, char *tried, size_t len)
{
	char	path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof path, "%s/apython%s", dir,
	    venv.version) >= sizeof path || strcmp(path, tried) == 0)
		return;
	if (*tried == '\0')
		copy(tried, len, path);
	if (access(path, X_OK) != 0)
		return;
	execv(path, o->argv);
	fprintf(stderr, "apython: cannot run %s: %s\n", path, strerror(errno));
	exit(EXIT_VENV);
}

/* Exec the apythonX.Y of the venv's version from the folder apython was
 * run from, then from the real binary's (when run through a link);
 * tried gets the first path looked at. Only `apython` does so, and
 * never when the kernel ran us under the name sought (AT_EXECFN): an
 * apythonX.Y of another version does not exec again, and nothing
 * passes through the environment. */
static void
dispatch(const struct cli *o, char *tried, size_t len)
{
	const char	*execfn = (const char *)getauxval(AT_EXECFN);
	char		 path[PATH_MAX], dir[PATH_MAX], name[32];
	ssize_t		 n;

	*tried = '\0';
	snprintf(name, sizeof name, "apython%s", venv.version);
	if (o->argc < 1 || versioned(base_name(o->argv[0])) ||
	    (execfn != NULL && strcmp(base_name(execfn), name) == 0))
		return;
	if (run_path(o, path, sizeof path) == 0 &&
	    parent(path, dir, sizeof dir) == 0)
		exec_beside(o, dir, tried, len);
	if ((n = readlink("/proc/self/exe", path, sizeof path - 1)) > 0) {
		path[n] = '\0';
		if (parent(path, dir, sizeof dir) == 0)
			exec_beside(o, dir, tried, len);
	}
}

/* Whether paths a and b resolve to the same file or folder. */
static int
same_path(const char *a, const char *b)
{
	char	ra[PATH_MAX], rb[PATH_MAX];

	return realpath(a, ra) != NULL && realpath(b, rb) != NULL &&
	    strcmp(ra, rb) == 0;
}

/* Whether the home of v is the folder of the interpreter apython was
 * built with (their versions being the same, that is the one). */
static int
home_is_ours(const struct venv *v)
{
	char	ours[PATH_MAX], real[PATH_MAX], dir[PATH_MAX];
	size_t	n = strlen(v->home);

	while (n > 1 && v->home[n - 1] == '/')
		n--;
	if (*v->home == '\0' || parent(APYTHON_PYTHON, ours, sizeof ours) != 0)
		return 0;
	if (strlen(ours) == n && strncmp(ours, v->home, n) == 0)
		return 1;
	if (same_path(v->home, ours))
		return 1;
	return realpath(APYTHON_PYTHON, real) != NULL &&
	    parent(real, dir, sizeof dir) == 0 && same_path(v->home, dir);
}

/* Whether the venv is based on the interpreter apython was built with:
 * its home (or 3.11's executable) is ours, following homes that are
 * other venvs' bins; or its python3 is a link to ours. A pyvenv.cfg
 * that names neither is taken as ours. */
static int
built_for(const struct venv *top)
{
	struct venv	 v = *top, next;
	char		 up[PATH_MAX], python[PATH_MAX];
	int		 depth;

	if (*v.home == '\0' && *v.executable == '\0')
		return 1;
	for (depth = 0; depth < VENV_DEPTH; depth++) {
		if (home_is_ours(&v) || strcmp(v.executable, APYTHON_PYTHON)
		    == 0 || (*v.executable != '\0' &&
		    same_path(v.executable, APYTHON_PYTHON)))
			return 1;
		if (parent(v.home, up, sizeof up) != 0 ||
		    read_cfg(up, &next) != 0)
			break;
		v = next;
	}
	return (size_t)snprintf(python, sizeof python, "%s/bin/python3",
	    top->dir) < sizeof python && same_path(python, APYTHON_PYTHON);
}

/* Exit with EXIT_VENV after one line: the venv is of another version,
 * and no apythonX.Y for it was there (tried) or could be run. */
static void __attribute__((noreturn))
other_version(const char *ours, const char *tried)
{
	fprintf(stderr, "apython: the virtualenv %s is Python %s but this "
	    "apython embeds Python %s%s%s: ", venv.dir, venv.version, ours,
	    *tried != '\0' ? " and there is no " : "", tried);
	if (venv.own)
		fprintf(stderr, "reinstall apython in that virtualenv (pip "
		    "install --force-reinstall --no-cache-dir apython)\n");
	else
		fprintf(stderr, "install apython in that virtualenv (pip "
		    "install apython) or deactivate it\n");
	exit(EXIT_VENV);
}

/* Exit with EXIT_VENV after one line: the venv is of another
 * interpreter than the one apython was built with. */
static void __attribute__((noreturn))
other_interpreter(void)
{
	fprintf(stderr, "apython: this apython was built for %s but the "
	    "virtualenv %s is based on %s: ", APYTHON_PYTHON, venv.dir,
	    *venv.executable != '\0' ? venv.executable : venv.home);
	if (venv.own)
		fprintf(stderr, "reinstall apython in that virtualenv (pip "
		    "install --force-reinstall --no-cache-dir apython)\n");
	else
		fprintf(stderr, "install apython in that virtualenv (pip "
		    "install --no-cache-dir apython) or deactivate it\n");
	exit(EXIT_VENV);
}

/* Find the virtualenv to run in; one of another version is handed to
 * the apythonX.Y installed beside apython, or refused, as is one of
 * another interpreter of our version. */
void
cli_check_venv(const struct cli *o)
{
	char	ours[16], tried[PATH_MAX];

	find_venv(o);
	if (*venv.version == '\0')
		return;
	snprintf(ours, sizeof ours, "%d.%d", PY_MAJOR_VERSION,
	    PY_MINOR_VERSION);
	if (strcmp(venv.version, ours) != 0) {
		dispatch(o, tried, sizeof tried);
		other_version(ours, tried);
	}
	if (!built_for(&venv))
		other_interpreter();
}

/* The virtualenv's python3 into buf, or NULL when there is none: the
 * program CPython is started as, so that it finds the venv. */
const char *
cli_venv_python(char *buf, size_t len)
{
	if (*venv.dir == '\0' || (size_t)snprintf(buf, len, "%s/bin/python3",
	    venv.dir) >= len || access(buf, X_OK) != 0)
		return NULL;
	return buf;
}
