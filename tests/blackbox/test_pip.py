"""pip installs apython into a virtualenv (pyproject.toml, the in-tree
backend backend/apython_build.py): `pip install --no-index` of the source
tree and of the sdist `make dist` makes, for the CPython apython's build
embeds (tests/run's venv-3.X steps do it for each other CPython found),
then `pip uninstall`; pipx.

Each install builds apython (configure and make, a minute or more): these
tests run under `make check-full` (APYTHON_TEST_FULL=1), not `make check`.
Nothing is written to the source tree; pip's cache is the test's own."""

import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from conftest import REPO, TIMEOUT, apython_path, clean_env

pytestmark = pytest.mark.skipif(
    not os.environ.get("APYTHON_TEST_FULL"),
    reason="builds apython per virtualenv: make check-full runs it "
           "(APYTHON_TEST_FULL=1)")

# Seconds for a pip install that runs configure and make (2 shared cores).
BUILD_TIMEOUT = 60 * TIMEOUT
# pyenv's CPythons (read at import, before a test's HOME is its own).
PYENV = Path(os.environ.get("PYENV_ROOT") or
             os.path.expanduser("~/.pyenv")) / "versions"


def version_of(python):
    cp = subprocess.run([str(python), "-c", "import sys; print("
                         "'%d.%d.%d' % sys.version_info[:3])"],
                        stdout=subprocess.PIPE, env=clean_env(),
                        check=True, timeout=TIMEOUT)
    return cp.stdout.decode().strip()


def embedded_python():
    """The interpreter the apython under test embeds."""
    cp = subprocess.run([apython_path(), "-c",
                         "import sys; print(sys.executable)"],
                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                        env=clean_env(), check=True, timeout=TIMEOUT)
    return os.path.realpath(cp.stdout.decode().strip())


def pyenv_pythons():
    """pyenv's CPythons 3.8 to 3.13: {X.Y.Z: path}."""
    found = {}
    for d in sorted(PYENV.glob("3.*")) if PYENV.is_dir() else []:
        m = re.fullmatch(r"3\.(\d+)\.\d+", d.name)
        exe = d / "bin" / ("python3.%s" % (m.group(1) if m else ""))
        if m and 8 <= int(m.group(1)) <= 13 and exe.exists():
            found[d.name] = str(exe)
    return found


def pip_env(cache, extra=None):
    """The environment pip runs in: no pip.conf or PIP_* of the machine's
    (PIP_FIND_LINKS), the given cache, nothing asked."""
    env = {k: None for k in os.environ if k.startswith("PIP_")}
    env.update({"PIP_CONFIG_FILE": os.devnull, "PIP_CACHE_DIR": cache,
                "PIP_NO_INPUT": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    env.update(extra or {})
    return clean_env(env)


def make_venv(python, where):
    """A virtualenv of `python` at `where` (skip when the interpreter
    cannot make one: Debian's python3 without python3-venv)."""
    cp = subprocess.run([python, "-m", "venv", str(where)],
                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, env=clean_env(),
                        timeout=BUILD_TIMEOUT)
    if cp.returncode != 0 and b"ensurepip" in cp.stdout:
        pytest.skip("%s makes no virtualenv without ensurepip: apt-get "
                    "install python3-venv" % python)
    assert cp.returncode == 0, cp.stdout.decode(errors="replace")
    return where


def pip(venv, *args, cache, check=True):
    cp = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", *args],
                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, env=pip_env(str(cache)),
                        timeout=BUILD_TIMEOUT)
    if check:
        assert cp.returncode == 0, (cp.stdout + cp.stderr).decode(
            errors="replace")
    return cp


def tree(root):
    """Every file and folder under root, relative."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def run_in_venv(venv, argv, activated):
    """Run argv with the venv activated (as bin/activate does) or not."""
    extra = {}
    if activated:
        extra = {"VIRTUAL_ENV": str(venv),
                 "PATH": "%s:%s" % (venv / "bin", os.environ["PATH"])}
    # (In the venv's folder: python -c puts the current folder first on
    # sys.path, and a build tree there has an apython module of its own.)
    return subprocess.run([str(a) for a in argv], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          cwd=str(venv), env=clean_env(extra),
                          timeout=TIMEOUT)


def has_module_target():
    """Whether this tree builds the extension module (`make module`)."""
    return re.search(r"^module:", (REPO / "Makefile").read_text(),
                     re.M) is not None


@pytest.fixture(scope="session")
def sdist(tmp_path_factory):
    """`make dist` run in a copy of the sources: apython-VERSION.tar.gz."""
    sys.path.insert(0, str(REPO / "backend"))
    try:
        import apython_build
    finally:
        sys.path.pop(0)
    src = tmp_path_factory.mktemp("dist") / "src"
    apython_build._copy(str(REPO), apython_build._files(str(REPO), True),
                        str(src))
    # config.mk is not remade: only PYTHON_EXECUTABLE matters to dist.
    cp = subprocess.run(["make", "-s", "-o", "config.mk", "dist",
                         "PYTHON_EXECUTABLE=%s" % sys.executable],
                        cwd=str(src), stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        env=clean_env(), timeout=BUILD_TIMEOUT)
    assert cp.returncode == 0, cp.stderr.decode(errors="replace")
    version = apython_build._version(str(REPO))
    made = sorted(p.name for p in src.glob("*.tar.gz"))
    assert made == ["apython-%s.tar.gz" % version]
    return src / made[0]


def test_make_dist_makes_an_sdist_with_a_generated_configure(sdist):
    top = sdist.name[:-len(".tar.gz")]
    version = top.split("-", 1)[1]
    with tarfile.open(str(sdist)) as tar:
        members = {m.name: m for m in tar.getmembers()}
        pkg_info = tar.extractfile(top + "/PKG-INFO").read().decode()
    assert all(n == top or n.startswith(top + "/") for n in members)
    for name in ("pyproject.toml", "configure.ac", "Makefile",
                 "config.mk.in", "apython.c", "man/apython.1",
                 "backend/apython_build.py", "README.md"):
        assert members[top + "/" + name].isfile(), name
    configure = members[top + "/configure"]
    assert configure.isfile() and configure.mode & 0o111
    assert not [n for n in members if n.endswith((".o", ".py.h", ".so"))
                or n.rsplit("/", 1)[-1] in ("config.mk", "config.status",
                                            "config.log", "apython")]
    assert pkg_info.startswith(
        "Metadata-Version: 2.1\nName: apython\nVersion: %s\n" % version)
    assert "\nRequires-Python: >=3.8, <3.14\n" in pkg_info


@pytest.fixture(scope="session")
def sdist_installed(sdist, tmp_path_factory):
    """`pip install apython-VERSION.tar.gz` into a virtualenv of the
    embedded Python, pip's wheel cache kept (pip writes the wheel it
    built there, under the sdist's URL): (venv, its files before, the
    folder holding the sdist, the cache). One build for the tests that
    use it."""
    top = tmp_path_factory.mktemp("sdist")
    links, cache = top / "links", top / "cache"
    links.mkdir()
    shutil.copy(str(sdist), str(links))
    venv = make_venv(embedded_python(), top / "venv")
    before = tree(venv)
    pip(venv, "install", "--no-index", str(links / sdist.name), cache=cache)
    return venv, before, links, cache


def check_installed(venv, before, cache):
    """What a pip install of apython into venv must give, then pip
    uninstall leaving venv as `before` (but two empty folders)."""
    python = venv / "bin" / "python"
    version = version_of(python)
    binary = venv / "bin" / "apython"
    assert stat.S_IMODE(binary.stat().st_mode) & 0o111 == 0o111
    manual = venv / "share" / "man" / "man1" / "apython.1"
    assert manual.read_bytes() == (REPO / "man" / "apython.1").read_bytes()
    code = "import sys; print(sys.version_info[:3], sys.prefix)"
    want = ("%s %s\n" % (tuple(map(int, version.split("."))), venv)).encode()
    cp = run_in_venv(venv, ["apython", "-c", code], activated=True)
    assert (cp.returncode, cp.stdout, cp.stderr) == (0, want, b"")
    # Run without activating the venv, as a shebang or a service would.
    cp = run_in_venv(venv, [binary, "-c", code], activated=False)
    assert (cp.returncode, cp.stdout, cp.stderr) == (0, want, b"")
    # The binary names the base interpreter, which outlives the venv.
    cp = run_in_venv(venv, [binary, "-c", "import sysconfig; print("
                            "sysconfig.get_config_var('prefix'))"],
                     activated=True)
    assert cp.stdout.decode() == "%s\n" % subprocess.run(
        [python, "-c", "import sys; print(sys.base_prefix)"],
        stdout=subprocess.PIPE, check=True).stdout.decode().strip()
    record = pip(venv, "show", "-f", "apython", cache=cache).stdout.decode()
    modules = re.findall(r"^  (apython\.[^/\n]*\.so)$", record, re.M)
    if has_module_target():
        assert len(modules) == 1, record
        cp = run_in_venv(venv, [python, "-c",
                                "import apython; print(apython.__file__)"],
                         activated=False)
        assert (cp.returncode, cp.stderr) == (0, b""), cp.stderr
        assert cp.stdout.decode().startswith(str(venv) + "/")
    else:
        assert modules == []
    pip(venv, "uninstall", "-y", "apython", cache=cache)
    # pip removes the folders that held only its files (share/man/man1),
    # not their parents, empty now.
    after = tree(venv)
    assert [p for p in before if p not in after] == []
    assert [p for p in after if p not in before] == ["share", "share/man"]
    assert list((venv / "share" / "man").iterdir()) == []


# Other Pythons: tests/run's venv-3.X steps install into a virtualenv of
# each one found.
def test_pip_install_of_the_checkout_builds_apython_for_the_venv(tmp_path):
    venv = make_venv(embedded_python(), tmp_path / "venv")
    before = tree(venv)
    pip(venv, "install", "--no-index", str(REPO), cache=tmp_path / "cache")
    check_installed(venv, before, tmp_path / "cache")


def test_pip_install_of_the_sdist_builds_apython_for_the_venv(
        sdist_installed):
    venv, before, _, cache = sdist_installed
    check_installed(venv, before, cache)


def test_a_wheel_pip_cached_for_one_python_is_refused_by_another_of_the_same_version(
        tmp_path, sdist_installed):
    # pip's wheel cache is keyed by the sdist's URL and cpXY alone, and
    # Debian's and pyenv's 3.11 accept the same tags: the wheel says which
    # X.Y.Z built it (Requires-Python), so pip refuses it for another.
    mine = embedded_python()
    mine_version = version_of(mine)
    same = [p for v, p in pyenv_pythons().items()
            if v.rsplit(".", 1)[0] == mine_version.rsplit(".", 1)[0]
            and v != mine_version and os.path.realpath(p) != mine]
    if not same:
        pytest.skip("no other CPython %s.x (pyenv) beside %s" % (
            mine_version.rsplit(".", 1)[0], mine))
    # The same sdist asked for by name: pip finds the wheel it cached.
    _, _, links, cache = sdist_installed
    assert list(cache.glob("wheels/**/apython-*.whl"))
    second = make_venv(same[-1], tmp_path / "second")
    before = tree(second)
    cp = pip(second, "install", "--no-index", "--find-links", str(links),
             "apython", cache=cache, check=False)
    assert cp.returncode != 0
    assert ("ERROR: Package 'apython' requires a different Python: "
            "%s not in '==%s'\n" % (version_of(same[-1]), mine_version)
            ).encode() in cp.stderr
    assert tree(second) == before


def test_pipx_install_puts_apython_on_path_and_pipx_uninstall_removes_it(
        tmp_path):
    pipx = shutil.which("pipx")
    if pipx is None:
        pytest.skip("pipx is not installed (apt-get install pipx)")
    home, bin_dir = tmp_path / "pipx", tmp_path / "bin"
    env = pip_env(str(tmp_path / "cache"), {
        "PIPX_HOME": home, "PIPX_BIN_DIR": bin_dir, "PIP_NO_INDEX": "1"})

    def run_pipx(*args):
        cp = subprocess.run([pipx, *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, timeout=BUILD_TIMEOUT)
        assert cp.returncode == 0, (cp.stdout + cp.stderr).decode(
            errors="replace")

    run_pipx("install", str(REPO))
    venv = home / "venvs" / "apython"
    assert sorted(p.name for p in bin_dir.iterdir()) == ["apython"]
    assert (bin_dir / "apython").resolve() == venv / "bin" / "apython"
    assert (venv / "share" / "man" / "man1" / "apython.1").is_file()
    python = subprocess.run([str(venv / "bin" / "python"), "-c",
                             "import sys; print(sys.version_info[:3])"],
                            stdout=subprocess.PIPE, env=clean_env(),
                            check=True, timeout=TIMEOUT).stdout.decode()
    base = subprocess.run([str(venv / "bin" / "python"), "-c",
                           "import sys; print(sys.base_prefix)"],
                          stdout=subprocess.PIPE, env=clean_env(),
                          check=True, timeout=TIMEOUT).stdout.decode()
    # On PATH, not activated: pipx's link is outside its venv, so, as a
    # link to a venv's python3 would, it runs the base interpreter's.
    cp = subprocess.run(["apython", "-c", "import sys; print("
                         "sys.version_info[:3], sys.prefix)"],
                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, timeout=TIMEOUT,
                        env=clean_env({"PATH": "%s:%s" % (
                            bin_dir, os.environ["PATH"])}))
    run_pipx("uninstall", "apython")
    assert list(bin_dir.iterdir()) == []
    assert not venv.exists()
    assert (cp.returncode, cp.stdout, cp.stderr) == (
        0, ("%s %s" % (python.strip(), base)).encode(), b"")
