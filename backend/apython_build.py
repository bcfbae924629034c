"""apython's PEP 517 build backend: pip builds apython with configure and
make, with nothing but the standard library (Python 3.8 to 3.13) and what
README's first command installs (no build requirement from an index).

    build_wheel    a copy of the sources in a new temporary directory,
                   configured with the base interpreter of the Python that
                   runs pip (a venv's python -> the python it was made from),
                   `make apython` (and `make module` when the Makefile has
                   it); the wheel holds bin/apython, the manual and the
                   extension module
    build_sdist    apython-VERSION.tar.gz: the sources, a generated
                   configure and PKG-INFO (also `make dist`, which runs
                   this file: python3 backend/apython_build.py sdist DIR)

The wheel is only good for the interpreter it was built with (the binary
names it and may link it statically); see ARCHITECTURE.md, "pip and the
build backend", for what that means for pip's wheel cache.
"""

import base64
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
import zipfile

NAME = "apython"
SUMMARY = ("Run a Python program with an await-capable console on its "
           "asyncio loop (a native executable on libevent)")
# The source tree: backend-path puts this file's folder on sys.path.
SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# What a build leaves in a tree that is not a git checkout (make distclean's
# list, the extension module, dist's own products).
PRODUCTS = re.compile(r"(^|/)(__pycache__|\.pytest_cache|autom4te\.cache|\.git)"
                      r"(/|$)|\.(o|py\.h|so|whl|tar\.gz)$|^(apython|config\.mk"
                      r"|config\.log|config\.status|libpython\.dynlist"
                      r"|bench/client)$|^tests/(unit/test_[^/.]*|fuzz/fuzz_"
                      r"[^/.]*|fuzz/work/.*)$")


def _version(source):
    """The version AC_INIT gives in configure.ac."""
    with open(os.path.join(source, "configure.ac"), encoding="utf-8") as f:
        m = re.search(r"^AC_INIT\(\[apython\], \[([^]]+)\]", f.read(), re.M)
    if not m:
        raise RuntimeError("configure.ac: no AC_INIT([apython], [VERSION])")
    return m.group(1)


def _files(source, tracked_only):
    """The source files of a tree, relative paths, sorted: git's list in a
    checkout (with untracked, not ignored files unless tracked_only), else
    every file but build products (an unpacked sdist)."""
    if os.path.isdir(os.path.join(source, ".git")) or \
            os.path.isfile(os.path.join(source, ".git")):
        args = ["git", "-C", source, "ls-files", "-z", "--cached"]
        if not tracked_only:
            args += ["--others", "--exclude-standard"]
        try:
            out = subprocess.run(args, stdout=subprocess.PIPE, check=True,
                                 stdin=subprocess.DEVNULL).stdout
        except (OSError, subprocess.CalledProcessError):
            out = None
        if out is not None:
            names = {n for n in os.fsdecode(out).split("\0") if n}
            return sorted(n for n in names
                          if os.path.isfile(os.path.join(source, n)))
    found = []
    for folder, dirs, names in os.walk(source):
        rel = os.path.relpath(folder, source)
        rel = "" if rel == "." else rel + "/"
        dirs[:] = [d for d in dirs if not PRODUCTS.search(rel + d)]
        found += [rel + n for n in names if not PRODUCTS.search(rel + n)]
    return sorted(found)


def _copy(source, names, dest):
    """Copy the files `names` of `source` to `dest`, times and modes kept
    (make compares times: configure must stay newer than configure.ac)."""
    for name in names:
        target = os.path.join(dest, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(source, name), target)


def _base_python():
    """The interpreter the running Python was made from, resolved: in a
    venv, base_prefix's pythonX.Y (3.8-3.10's sys._base_executable is the
    venv's own python on POSIX), so the binary outlives the venv."""
    exe = os.path.join(sys.base_prefix, "bin", "python%d.%d" %
                       sys.version_info[:2])
    if not os.access(exe, os.X_OK):
        exe = getattr(sys, "_base_executable", None) or sys.executable
    return os.path.realpath(exe)


def _build_env():
    """The environment for configure and make: nothing of pip's build
    environment or of the venv (PYTHONPATH, VIRTUAL_ENV) reaches the
    interpreter that configure and the Makefile run."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("PYTHON") and k != "VIRTUAL_ENV"}


def _run(args, cwd, check=True, quiet=False):
    """Run a build step in `cwd`; its output goes to pip's log (stderr).
    Return its exit status."""
    print("apython_build: %s" % " ".join(shlex.quote(a) for a in args),
          file=sys.stderr, flush=True)
    out = subprocess.DEVNULL if quiet else sys.stderr
    status = subprocess.run(args, cwd=cwd, env=_build_env(),
                            stdin=subprocess.DEVNULL, stdout=out,
                            stderr=out).returncode
    if check and status != 0:
        raise RuntimeError("apython_build: %s failed (status %d) in %s"
                           % (args[0], status, cwd))
    return status


def _jobs():
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _config_mk(tree):
    """config.mk's NAME = VALUE settings."""
    settings = {}
    with open(os.path.join(tree, "config.mk"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"(\w+) = (.*)", line.rstrip("\n"))
            if m:
                settings[m.group(1)] = m.group(2)
    return settings


def _build(tree, config_settings):
    """configure and make in `tree`; return the paths of the binary and of
    the extension module (None when this Makefile has no `module`)."""
    configure = os.path.join(tree, "configure")
    if os.path.exists(configure):
        # An sdist's: unpacking may have left it older than configure.ac,
        # and make would want autoconf.
        os.utime(configure)
    else:
        _run(["autoconf"], tree)
    extra = shlex.split((config_settings or {}).get("configure-args", ""))
    _run(["./configure", "--with-python=" + _base_python()] + extra, tree)
    jobs = "-j%d" % _jobs()
    _run(["make", jobs, "apython"], tree)
    module = None
    # `make module` comes with the extension module's sources: build it
    # when this Makefile knows the target.
    if _run(["make", "-n", "module"], tree, check=False, quiet=True) == 0:
        _run(["make", jobs, "module"], tree)
        suffix = _config_mk(tree).get("PY_EXT_SUFFIX") or \
            sysconfig.get_config_var("EXT_SUFFIX")
        module = os.path.join(tree, NAME + suffix)
        if not os.path.isfile(module):
            raise RuntimeError("apython_build: make module made no %s"
                               % os.path.basename(module))
    return os.path.join(tree, "apython"), module


def _tag():
    """cpXY-cpXY-PLATFORM of the running interpreter."""
    py = "cp%d%d" % sys.version_info[:2]
    plat = re.sub(r"[-.]", "_", sysconfig.get_platform())
    return "%s-%s-%s" % (py, py, plat)


def _requires_python(wheel):
    """The sdist builds for 3.8 to 3.13; a wheel is for the X.Y.Z that
    built it. pip's wheel cache tells interpreters apart by X.Y alone (and
    their tags are the same): a wheel cached by Debian's 3.11.2 offered to
    pyenv's 3.11.7 is refused by pip here, not installed."""
    if wheel:
        return "==%d.%d.%d" % sys.version_info[:3]
    return ">=3.8, <3.14"


def _metadata(version, wheel):
    """The core metadata (METADATA, PKG-INFO): name, version, summary,
    README as the description."""
    head = ("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: %s\n"
            "Requires-Python: %s\n"
            "Description-Content-Type: text/markdown\n\n"
            % (NAME, version, SUMMARY, _requires_python(wheel)))
    readme = os.path.join(SOURCE, "README.md")
    text = ""
    if os.path.exists(readme):
        with open(readme, encoding="utf-8") as f:
            text = f.read()
    return head + text


def _wheel_file(version):
    return ("Wheel-Version: 1.0\nGenerator: apython_build %s\n"
            "Root-Is-Purelib: false\nTag: %s\n" % (version, _tag()))


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest())
    return "%s,sha256=%s,%d\n" % (path, digest.rstrip(b"=").decode(),
                                  len(data))


def _zip_time():
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    stamp = max(int(epoch), 315532800) if epoch else time.time()
    return time.gmtime(stamp)[:6]


def _write_wheel(path, version, members):
    """Write the wheel at `path`: members is [(archive name, bytes, mode)];
    the dist-info's RECORD lists every file with its hash."""
    when = _zip_time()
    info = "%s-%s.dist-info/" % (NAME, version)
    members = list(members) + [
        (info + "METADATA", _metadata(version, True).encode(), 0o644),
        (info + "WHEEL", _wheel_file(version).encode(), 0o644)]
    record = "".join(_record_line(n, d) for n, d, _ in members)
    record += info + "RECORD,,\n"
    members.append((info + "RECORD", record.encode(), 0o644))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data, mode in members:
            zi = zipfile.ZipInfo(name, when)
            # Unix mode in the high bits: pip keeps the executable bit.
            zi.external_attr = (0o100000 | mode) << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)


def _read(path):
    with open(path, "rb") as f:
        return f.read()


# PEP 517 hooks.

def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    version = _version(SOURCE)
    info = "%s-%s.dist-info" % (NAME, version)
    os.makedirs(os.path.join(metadata_directory, info), exist_ok=True)
    for name, text in (("METADATA", _metadata(version, True)),
                       ("WHEEL", _wheel_file(version))):
        with open(os.path.join(metadata_directory, info, name), "w",
                  encoding="utf-8") as f:
            f.write(text)
    return info


def build_wheel(wheel_directory, config_settings=None,
                metadata_directory=None):
    version = _version(SOURCE)
    # A directory of its own for each build: no object of another build
    # (another venv, another Python version) is ever reused.
    tree = tempfile.mkdtemp(prefix="apython-build-")
    try:
        _copy(SOURCE, _files(SOURCE, tracked_only=False), tree)
        binary, module = _build(tree, config_settings)
        data = "%s-%s.data/" % (NAME, version)
        members = [
            # scripts/: pip installs it into the environment's bin,
            # executable, unchanged (no "#!python" line to rewrite).
            (data + "scripts/apython", _read(binary), 0o755),
            (data + "data/share/man/man1/apython.1",
             _read(os.path.join(tree, "man", "apython.1")), 0o644)]
        if module:
            members.insert(0, (os.path.basename(module), _read(module),
                               0o755))
        name = "%s-%s-%s.whl" % (NAME, version, _tag())
        _write_wheel(os.path.join(wheel_directory, name), version, members)
        return name
    finally:
        shutil.rmtree(tree, ignore_errors=True)


def _tar_filter(info):
    """Sources owned by nobody in particular, with plain modes."""
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.mode = 0o755 if info.mode & 0o111 or info.isdir() else 0o644
    return info


def build_sdist(sdist_directory, config_settings=None):
    version = _version(SOURCE)
    top = "%s-%s" % (NAME, version)
    work = tempfile.mkdtemp(prefix="apython-sdist-")
    try:
        tree = os.path.join(work, top)
        _copy(SOURCE, _files(SOURCE, tracked_only=True), tree)
        # A generated configure, so the sdist builds without autoconf.
        if not os.path.exists(os.path.join(tree, "configure")) or \
                os.path.exists(os.path.join(SOURCE, ".git")):
            _run(["autoconf"], tree)
        shutil.rmtree(os.path.join(tree, "autom4te.cache"),
                      ignore_errors=True)
        with open(os.path.join(tree, "PKG-INFO"), "w",
                  encoding="utf-8") as f:
            f.write(_metadata(version, False))
        name = top + ".tar.gz"
        path = os.path.join(sdist_directory, name)
        with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
            tar.add(tree, arcname=top, filter=_tar_filter)
        return name
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv):
    """`make dist`: apython_build.py sdist DIR writes the sdist in DIR."""
    if len(argv) != 3 or argv[1] != "sdist":
        print("usage: %s sdist DIR" % argv[0], file=sys.stderr)
        return 2
    print(os.path.join(argv[2], build_sdist(argv[2])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
