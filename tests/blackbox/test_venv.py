"""Virtualenvs and builds side by side (issue 14): apython runs in the
virtualenv python3 would (its own when installed in a venv's bin, else
the active one), hands a venv of another Python version to the
apythonX.Y installed beside it, and refuses, in one line and with status
2, a venv it cannot run.

The apythonX.Y of another version is a small C program here (`fake`)
that prints what it was run with: argv and the environment must reach
it as apython got them. Venvs are made with `python -m venv
--without-pip`; pyvenv.cfg files are also written by hand where only
what apython reads of them matters. A second real build is made only
when APYTHON_TEST_SECOND_PYTHON names another version's python3
(test_two_builds_installed_side_by_side_each_run_their_venvs).
"""

import os
import re
import shutil
import subprocess

import pytest

from conftest import REPO, TIMEOUT, apython_path, clean_env

# Seconds a venv or a build may take (the machine may be loaded).
SLOW = 12 * TIMEOUT

FAKE = r"""
#include <stdio.h>
#include <unistd.h>
extern char **environ;
int
main(int argc, char **argv)
{
	char	exe[4096];
	ssize_t	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	int	i;

	exe[n > 0 ? n : 0] = '\0';
	printf("exe=%s\n", exe);
	for (i = 0; i < argc; i++)
		printf("%s\n", argv[i]);
	printf("--\n");
	for (i = 0; environ[i] != NULL; i++)
		printf("%s\n", environ[i]);
	return 7;
}
"""

PREFIX = "import sys; print(sys.prefix); print(sys.executable)"


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    """A program that prints its real path, argv and environment, and
    exits 7: an apythonX.Y of another version."""
    d = tmp_path_factory.mktemp("fake")
    (d / "fake.c").write_text(FAKE)
    subprocess.run(["cc", "-o", str(d / "fake"), str(d / "fake.c")],
                   check=True, timeout=SLOW)
    return d / "fake"


@pytest.fixture
def ours(embedded):
    """The embedded Python's X.Y."""
    return "%d.%d" % embedded.version_info


@pytest.fixture
def other(ours):
    """Another Python's X.Y."""
    return "3.12" if ours != "3.12" else "3.11"


def fake_output(fake_path, argv, env):
    """What fake prints when run as fake_path with argv and env."""
    return ("exe=%s\n%s\n--\n%s\n" % (
        os.path.realpath(str(fake_path)), "\n".join(argv),
        "\n".join("%s=%s" % kv for kv in env.items()))).encode()


def env_of(output):
    """The environment fake printed, as a dict."""
    lines = output.decode().split("\n--\n", 1)[1].splitlines()
    return dict(line.split("=", 1) for line in lines)


def write_cfg(venv, version, home="/nowhere/bin", executable=None):
    """A pyvenv.cfg in venv (made) for Python version X.Y.Z."""
    venv.mkdir(parents=True, exist_ok=True)
    text = "home = %s\ninclude-system-site-packages = false\n" \
           "version = %s\n" % (home, version)
    if executable is not None:
        text += "executable = %s\n" % executable
    (venv / "pyvenv.cfg").write_text(text)
    return venv


def installed(bindir, ours):
    """bindir as `make install` leaves it: apythonX.Y, apython a link."""
    bindir.mkdir(parents=True, exist_ok=True)
    shutil.copy(apython_path(), str(bindir / ("apython" + ours)))
    os.symlink("apython" + ours, str(bindir / "apython"))
    return bindir


def run_as(argv, executable=None, env=None, cwd=None):
    """Run argv (argv[0] looked up on env's PATH unless executable)."""
    return subprocess.run(argv, executable=executable, env=env, cwd=cwd,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=SLOW)


def make_venv(python, path, *options):
    """A venv of python at path (no pip), or skip when venv is missing."""
    cp = subprocess.run([str(python), "-m", "venv", "--without-pip",
                         *options, str(path)], capture_output=True,
                        env=clean_env(), timeout=SLOW)
    if cp.returncode != 0:
        pytest.skip("%s -m venv failed: %s" % (python, cp.stderr.decode()))
    return path


# Another version: the apythonX.Y beside apython runs it


def test_apython_execs_the_apythonXY_beside_it_for_a_venv_of_another_version(
        tmp_path, fake, ours, other):
    bindir = installed(tmp_path / "bin", ours)
    shutil.copy(str(fake), str(bindir / ("apython" + other)))
    venv = write_cfg(tmp_path / "venv", other + ".1")
    env = clean_env({"VIRTUAL_ENV": venv,
                     "PATH": "%s:%s" % (bindir, os.environ["PATH"])})
    argv = ["apython", "-c", "print(1)", "two words", ""]
    cp = run_as(argv, env=env, cwd=str(tmp_path))
    assert cp.stderr == b""
    assert cp.stdout == fake_output(bindir / ("apython" + other), argv, env)
    assert env_of(cp.stdout) == env
    assert cp.returncode == 7


@pytest.mark.parametrize("option", ["-V", "-VV", "--version"])
def test_the_version_asked_in_a_venv_of_another_version_is_the_apythonXYs(
        tmp_path, fake, ours, other, option):
    # `apython -V` answers for the build that would run the venv.
    bindir = installed(tmp_path / "bin", ours)
    shutil.copy(str(fake), str(bindir / ("apython" + other)))
    venv = write_cfg(tmp_path / "venv", other + ".1")
    env = clean_env({"VIRTUAL_ENV": venv,
                     "PATH": "%s:%s" % (bindir, os.environ["PATH"])})
    argv = ["apython", option]
    cp = run_as(argv, env=env, cwd=str(tmp_path))
    assert cp.stderr == b""
    assert cp.stdout == fake_output(bindir / ("apython" + other), argv, env)
    assert cp.returncode == 7


def test_apythonXY_is_found_beside_the_real_binary_through_a_link(
        tmp_path, fake, ours, other):
    real = installed(tmp_path / "opt", ours)
    shutil.copy(str(fake), str(real / ("apython" + other)))
    (tmp_path / "bin").mkdir()
    os.symlink(str(real / "apython"), str(tmp_path / "bin" / "apython"))
    venv = write_cfg(tmp_path / "venv", other + ".0")
    env = clean_env({"VIRTUAL_ENV": venv})
    argv = [str(tmp_path / "bin" / "apython"), "-q"]
    cp = run_as(argv, env=env)
    assert (cp.returncode, cp.stderr) == (7, b"")
    assert cp.stdout == fake_output(real / ("apython" + other), argv, env)


def test_the_folder_apython_was_run_from_is_looked_in_first(
        tmp_path, fake, ours, other):
    real = installed(tmp_path / "opt", ours)
    shutil.copy(str(fake), str(real / ("apython" + other)))
    bindir = tmp_path / "bin"
    bindir.mkdir()
    os.symlink(str(real / "apython"), str(bindir / "apython"))
    shutil.copy(str(fake), str(bindir / ("apython" + other)))
    venv = write_cfg(tmp_path / "venv", other + ".0")
    env = clean_env({"VIRTUAL_ENV": venv})
    argv = [str(bindir / "apython")]
    cp = run_as(argv, env=env)
    assert (cp.returncode, cp.stderr) == (7, b"")
    assert cp.stdout == fake_output(bindir / ("apython" + other), argv, env)


def other_version_line(venv, theirs, ours, missing=None):
    """apython's line for an active venv of another version."""
    return ("apython: the virtualenv %s is Python %s but this apython "
            "embeds Python %s%s: install apython in that virtualenv (pip "
            "install apython) or deactivate it\n" % (
                venv, theirs, ours,
                " and there is no %s" % missing if missing else "")).encode()


def test_a_venv_of_another_version_with_no_apythonXY_beside_is_one_line(
        tmp_path, ours, other):
    bindir = installed(tmp_path / "bin", ours)
    venv = write_cfg(tmp_path / "venv", other + ".3")
    cp = run_as([str(bindir / "apython"), "-c", "print(1)"],
                env=clean_env({"VIRTUAL_ENV": venv}))
    assert cp.stdout == b""
    assert cp.stderr == other_version_line(venv, other, ours,
                                           bindir / ("apython" + other))
    assert cp.returncode == 2


@pytest.mark.parametrize("how", ["copy", "link"])
def test_an_apythonXY_that_is_not_that_version_does_not_exec_again(
        tmp_path, ours, other, how):
    # apython3.Y embeds our version: run by apython under the name
    # sought, it says so and stops, whatever file it is.
    bindir = installed(tmp_path / "bin", ours)
    if how == "copy":
        shutil.copy(apython_path(), str(bindir / ("apython" + other)))
    else:
        os.symlink("apython" + ours, str(bindir / ("apython" + other)))
    venv = write_cfg(tmp_path / "venv", other + ".0")
    cp = run_as([str(bindir / "apython"), "-c", "print(1)"],
                env=clean_env({"VIRTUAL_ENV": venv}))
    assert cp.stdout == b""
    assert cp.stderr == other_version_line(venv, other, ours)
    assert cp.returncode == 2


def test_an_apythonXY_run_by_name_does_not_exec_another(tmp_path, fake, ours,
                                                         other):
    bindir = installed(tmp_path / "bin", ours)
    shutil.copy(str(fake), str(bindir / ("apython" + other)))
    venv = write_cfg(tmp_path / "venv", other + ".0")
    cp = run_as([str(bindir / ("apython" + ours)), "-c", "print(1)"],
                env=clean_env({"VIRTUAL_ENV": venv}))
    assert cp.stdout == b""
    assert cp.stderr == other_version_line(venv, other, ours)
    assert cp.returncode == 2


# apython installed in a venv's bin


@pytest.mark.parametrize("how", ["copy", "link"])
def test_apython_in_a_venvs_bin_uses_that_venv_unactivated_as_python3_does(
        tmp_path, embedded, how):
    venv = make_venv(embedded.executable, tmp_path / "venv")
    site = subprocess.run([str(venv / "bin" / "python3"), "-c",
                           "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, env=clean_env(),
                          timeout=SLOW).stdout.strip()
    with open(os.path.join(site, "venvmod.py"), "w") as f:
        f.write("WHERE = 'venv'\n")
    if how == "copy":
        shutil.copy(apython_path(), str(venv / "bin" / "apython"))
    else:
        os.symlink(apython_path(), str(venv / "bin" / "apython"))
    prog = PREFIX + "; import venvmod; print(venvmod.WHERE)"
    py = run_as([str(venv / "bin" / "python3"), "-c", prog], env=clean_env())
    ap = run_as([str(venv / "bin" / "apython"), "-c", prog], env=clean_env())
    assert py.stdout == ("%s\n%s\nvenv\n" % (
        venv, venv / "bin" / "python3")).encode()
    assert (ap.returncode, ap.stderr, ap.stdout) == (0, b"", py.stdout)
    # Run by name on PATH, from the venv's bin folder.
    env = clean_env({"PATH": "%s:%s" % (venv / "bin", os.environ["PATH"])})
    ap = run_as(["apython", "-c", prog], env=env)
    assert (ap.returncode, ap.stderr, ap.stdout) == (0, b"", py.stdout)
    ap = run_as(["./apython", "-c", prog], env=clean_env(),
                cwd=str(venv / "bin"))
    assert (ap.returncode, ap.stderr, ap.stdout) == (0, b"", py.stdout)


def test_a_venvs_apython_uses_its_venv_over_the_active_one_as_python3_does(
        tmp_path, embedded):
    a = make_venv(embedded.executable, tmp_path / "A")
    b = make_venv(embedded.executable, tmp_path / "B")
    shutil.copy(apython_path(), str(a / "bin" / "apython"))
    env = clean_env({"VIRTUAL_ENV": b})
    py = run_as([str(a / "bin" / "python3"), "-c", PREFIX], env=env)
    ap = run_as([str(a / "bin" / "apython"), "-c", PREFIX], env=env)
    assert py.stdout == ("%s\n%s\n" % (a, a / "bin" / "python3")).encode()
    assert (ap.returncode, ap.stderr, ap.stdout) == (0, b"", py.stdout)


def test_apython_in_a_venv_of_another_version_says_to_reinstall_it(
        tmp_path, ours, other):
    venv = write_cfg(tmp_path / "venv", other + ".0")
    (venv / "bin").mkdir()
    shutil.copy(apython_path(), str(venv / "bin" / "apython"))
    cp = run_as([str(venv / "bin" / "apython"), "-c", "print(1)"],
                env=clean_env())
    assert cp.stdout == b""
    assert cp.stderr == (
        "apython: the virtualenv %s is Python %s but this apython embeds "
        "Python %s and there is no %s: reinstall apython in that virtualenv "
        "(pip install --force-reinstall --no-cache-dir apython)\n" % (
            venv, other, ours, venv / "bin" / ("apython" + other))).encode()
    assert cp.returncode == 2


# Built for another interpreter of the same version


def test_an_active_venv_of_another_interpreter_of_our_version_is_refused(
        tmp_path, embedded, ours):
    venv = write_cfg(tmp_path / "venv", ours + ".99",
                     executable="/nowhere/bin/python" + ours)
    cp = run_as([apython_path(), "-c", "print(1)"],
                env=clean_env({"VIRTUAL_ENV": venv}))
    assert cp.stdout == b""
    assert cp.stderr == (
        "apython: this apython was built for %s but the virtualenv %s is "
        "based on /nowhere/bin/python%s: install apython in that virtualenv "
        "(pip install --no-cache-dir apython) or deactivate it\n" % (
            embedded.executable, venv, ours)).encode()
    assert cp.returncode == 2


def test_apython_installed_in_a_venv_of_another_interpreter_says_to_reinstall(
        tmp_path, embedded, ours):
    # pip's wheel cache can install a wheel built for one python3.X into
    # a venv of another python3.X (same tags, another libpython).
    venv = write_cfg(tmp_path / "venv", ours + ".99", home="/nowhere/bin")
    (venv / "bin").mkdir()
    shutil.copy(apython_path(), str(venv / "bin" / "apython"))
    cp = run_as([str(venv / "bin" / "apython"), "-c", "print(1)"],
                env=clean_env())
    assert cp.stdout == b""
    assert cp.stderr == (
        "apython: this apython was built for %s but the virtualenv %s is "
        "based on /nowhere/bin: reinstall apython in that virtualenv (pip "
        "install --force-reinstall --no-cache-dir apython)\n" % (
            embedded.executable, venv)).encode()
    assert cp.returncode == 2


def same_version_pythons(embedded):
    """Installed interpreters of the embedded X.Y other than it."""
    found = ["/usr/bin/python%d.%d" % embedded.version_info]
    root = os.path.expanduser("~root/.pyenv/versions")
    if os.path.isdir(root):
        found += [os.path.join(root, v, "bin", "python%d.%d"
                               % embedded.version_info)
                  for v in sorted(os.listdir(root))]
    mine = os.path.realpath(embedded.executable)
    return [p for p in found
            if os.access(p, os.X_OK) and os.path.realpath(p) != mine]


def test_a_venv_of_another_installed_python_of_our_version_is_refused(
        tmp_path, embedded):
    pythons = same_version_pythons(embedded)
    if not pythons:
        pytest.skip("no other python%d.%d installed" % embedded.version_info)
    venv = make_venv(pythons[0], tmp_path / "venv")
    cfg = dict(re.findall(r"(\w+) = (.*)", (venv / "pyvenv.cfg").read_text()))
    cp = run_as([apython_path(), "-c", "print(1)"],
                env=clean_env({"VIRTUAL_ENV": venv}))
    assert cp.stdout == b""
    assert cp.stderr == (
        "apython: this apython was built for %s but the virtualenv %s is "
        "based on %s: install apython in that virtualenv (pip install "
        "--no-cache-dir apython) or deactivate it\n" % (
            embedded.executable, venv,
            cfg.get("executable", cfg["home"]))).encode()
    assert cp.returncode == 2


@pytest.mark.parametrize("kind", ["plain", "copies", "venv-of-venv",
                                  "venv-of-copies", "through-a-link"])
def test_venvs_of_the_interpreter_apython_was_built_with_run(
        tmp_path, embedded, kind):
    python = embedded.executable
    if kind in ("venv-of-venv", "venv-of-copies"):
        base = make_venv(python, tmp_path / "base",
                         *(["--copies"] if kind == "venv-of-copies" else []))
        python = base / "bin" / "python3"
    elif kind == "through-a-link":
        (tmp_path / "elsewhere").mkdir()
        python = tmp_path / "elsewhere" / "py"
        os.symlink(os.path.realpath(embedded.executable), str(python))
    venv = make_venv(python, tmp_path / "venv",
                     *(["--copies"] if kind == "copies" else []))
    for env in ({"VIRTUAL_ENV": venv}, {}):
        exe = apython_path()
        if not env:
            exe = str(venv / "bin" / "apython")
            shutil.copy(apython_path(), exe)
        cp = run_as([exe, "-c", PREFIX], env=clean_env(env))
        assert (cp.returncode, cp.stderr) == (0, b"")
        assert cp.stdout == ("%s\n%s\n" % (
            venv, venv / "bin" / "python3")).encode()


# make install


def configured():
    """config.mk's settings, or skip when the tree is not configured."""
    path = REPO / "config.mk"
    if not path.exists():
        pytest.skip("the source tree is not configured (./configure)")
    return dict(re.findall(r"(?m)^(\w+) = (.*)$", path.read_text()))


def make(*args, tree=REPO):
    """make in tree, config.mk and apython taken as they are."""
    cp = subprocess.run(["make", "-s", "-C", str(tree), "-o", "config.mk",
                         "-o", "apython", *args], stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, timeout=SLOW)
    assert cp.returncode == 0, cp.stderr.decode(errors="replace")


def tree_of(dest, prefix="/usr"):
    """{path under dest: link target, or None for a file}."""
    out = {}
    for p in sorted(dest.rglob("*")):
        if p.is_symlink():
            out[str(p.relative_to(dest))] = os.readlink(str(p))
        elif p.is_file():
            out[str(p.relative_to(dest))] = None
    return out


def test_make_install_puts_apythonXY_and_a_link_apython_and_the_manual(
        tmp_path, fake, ours, other):
    x_y = "apython" + configured()["PYTHON_VERSION"]
    dest = tmp_path / "dest"
    make("install", "DESTDIR=%s" % dest, "prefix=/usr")
    assert tree_of(dest) == {
        "usr/bin/apython": x_y, "usr/bin/" + x_y: None,
        "usr/share/man/man1/apython.1": None,
        "usr/share/man/man1/%s.1" % x_y: "apython.1"}
    assert (dest / "usr/bin" / x_y).read_bytes() == \
        (REPO / "apython").read_bytes()
    # Another version's build installed beside it runs its venvs.
    shutil.copy(str(fake), str(dest / "usr/bin" / ("apython" + other)))
    venv = write_cfg(tmp_path / "venv", other + ".0")
    env = clean_env({"VIRTUAL_ENV": venv})
    argv = [str(dest / "usr/bin/apython"), "-c", "print(1)"]
    cp = run_as(argv, env=env)
    assert (cp.returncode, cp.stderr) == (7, b"")
    assert cp.stdout == fake_output(dest / "usr/bin" / ("apython" + other),
                                    argv, env)
    os.unlink(str(dest / "usr/bin" / ("apython" + other)))
    make("uninstall", "DESTDIR=%s" % dest, "prefix=/usr")
    assert tree_of(dest) == {}


def test_make_uninstall_leaves_apython_when_another_build_was_installed_last(
        tmp_path):
    x_y = "apython" + configured()["PYTHON_VERSION"]
    dest = tmp_path / "dest"
    make("install", "DESTDIR=%s" % dest, "prefix=/usr")
    # As `make install` of a 3.99 build leaves it.
    shutil.copy(str(dest / "usr/bin" / x_y), str(dest / "usr/bin/apython3.99"))
    os.unlink(str(dest / "usr/bin/apython"))
    os.symlink("apython3.99", str(dest / "usr/bin/apython"))
    os.symlink("apython.1", str(dest / "usr/share/man/man1/apython3.99.1"))
    make("uninstall", "DESTDIR=%s" % dest, "prefix=/usr")
    assert tree_of(dest) == {
        "usr/bin/apython": "apython3.99", "usr/bin/apython3.99": None,
        "usr/share/man/man1/apython.1": None,
        "usr/share/man/man1/apython3.99.1": "apython.1"}


def test_two_builds_installed_side_by_side_each_run_their_venvs(
        tmp_path, embedded):
    # APYTHON_TEST_SECOND_PYTHON: a python3 of another version to build
    # apython for (about two minutes), e.g. `pyenv prefix 3.12.1`/bin/python3.
    second = os.environ.get("APYTHON_TEST_SECOND_PYTHON")
    if not second:
        pytest.skip("APYTHON_TEST_SECOND_PYTHON is not set")
    configured()
    tree = tmp_path / "tree"
    files = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z"],
                           stdout=subprocess.PIPE, check=True).stdout
    for name in files.decode().split("\0"):
        if name and os.path.isfile(str(REPO / name)):
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(str(REPO / name), str(tree / name))
    cp = subprocess.run("autoconf && ./configure --with-python=%s >/dev/null "
                        "&& make -s -j2 apython" % second, shell=True,
                        cwd=str(tree), stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, timeout=60 * SLOW)
    assert cp.returncode == 0, cp.stdout.decode(errors="replace")
    dest = tmp_path / "dest"
    make("install", "DESTDIR=%s" % dest, "prefix=/usr", tree=tree)
    make("install", "DESTDIR=%s" % dest, "prefix=/usr")
    apython = str(dest / "usr/bin/apython")
    prog = "import sys; print('%d.%d' % sys.version_info[:2], sys.prefix)"
    for python in (embedded.executable, second):
        venv = make_venv(python, tmp_path / ("venv-" + os.path.basename(
            os.path.dirname(os.path.dirname(os.path.realpath(python))))))
        version = subprocess.run([python, "-c", prog], capture_output=True,
                                 text=True, timeout=SLOW).stdout.split()[0]
        cp = run_as([apython, "-c", prog],
                    env=clean_env({"VIRTUAL_ENV": venv}))
        assert (cp.returncode, cp.stderr) == (0, b"")
        assert cp.stdout == ("%s %s\n" % (version, venv)).encode()
