"""How the binary is linked (configure's --with-libpython): the C API of
the CPython apython embeds stays visible to extension modules whichever
way libpython is linked, and the shared link still builds and runs.

The embedded interpreter is found through the binary under test
(sys.executable and sysconfig as apython reports them), so these tests
hold for whichever CPython the build embeds."""

import json
import re
import shutil
import subprocess

import pytest

from conftest import REPO, TIMEOUT, apython_path, clean_env

# Seconds for configure + make of a whole tree (2 cores, shared, maybe
# under a sanitizer build's load).
BUILD_TIMEOUT = 60 * TIMEOUT
NO_CONSOLE = (b"apython: stdin is not a terminal and is empty: no console "
              b"(--serve [HOST:]PORT|PATH serves one)\n")


def run_apython(code, stderr=b""):
    cp = subprocess.run([apython_path(), "-c", code],
                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, env=clean_env(),
                        timeout=TIMEOUT)
    assert (cp.returncode, cp.stderr) == (0, stderr)
    return cp.stdout.decode()


def embedded():
    """The embedded CPython: its executable and its libpython.so."""
    return json.loads(run_apython(
        "import json, os, sys, sysconfig as s\n"
        "v = s.get_config_var\n"
        "print(json.dumps({'executable': sys.executable,\n"
        "    'libpython': os.path.join(v('LIBDIR'), v('LDLIBRARY'))}))\n"))


def needed(binary):
    """The DT_NEEDED libraries of an ELF file."""
    out = subprocess.run(["readelf", "-d", str(binary)], check=True,
                         stdout=subprocess.PIPE, timeout=TIMEOUT).stdout
    return re.findall(rb"\(NEEDED\)\s+Shared library: \[([^]]+)\]", out)


def defined_dynamic_symbols(path):
    out = subprocess.run(["nm", "-D", "--defined-only", str(path)],
                         check=True, stdout=subprocess.PIPE,
                         timeout=TIMEOUT).stdout.decode()
    return {fields[2].split("@")[0] for fields in
            (line.split() for line in out.splitlines()) if len(fields) == 3}


def links_libpython_so(binary):
    return any(name.startswith(b"libpython") for name in needed(binary))


def test_binary_exports_every_c_api_symbol_of_libpython_so():
    if shutil.which("nm") is None or shutil.which("readelf") is None:
        pytest.skip("binutils (nm, readelf) not installed")
    libpython = embedded()["libpython"]
    if links_libpython_so(apython_path()):
        pytest.skip("libpython is linked shared: its C API is libpython.so's")
    api = {name for name in defined_dynamic_symbols(libpython)
           if re.match(r"_?Py", name)}
    assert len(api) > 500, libpython
    assert sorted(api - defined_dynamic_symbols(apython_path())) == []


def test_extension_modules_resolve_the_c_api_against_the_binary():
    # Modules loaded from their own .so files, which apython does not
    # link: they find Py* in apython (a static libpython) or libpython.so.
    code = (
        "import ctypes, _ctypes, _decimal, decimal\n"
        "assert _ctypes.__file__.endswith('.so'), _ctypes.__file__\n"
        "assert _decimal.__file__.endswith('.so'), _decimal.__file__\n"
        "print(ctypes.pythonapi.Py_IsInitialized())\n"
        "ctypes.pythonapi.PyLong_FromLong.restype = ctypes.py_object\n"
        "print(ctypes.pythonapi.PyLong_FromLong(42))\n"
        "print(decimal.Decimal(1) / decimal.Decimal(7))\n")
    assert run_apython(code) == "1\n42\n0.1428571428571428571428571429\n"


def test_uvloop_imports_and_runs_when_the_embedded_python_has_it():
    python = embedded()["executable"]
    probe = subprocess.run([python, "-c", "import uvloop"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=clean_env(),
                           timeout=TIMEOUT)
    if probe.returncode != 0:
        pytest.skip("uvloop is not installed for %s" % python)
    code = ("import uvloop\n"
            "async def main():\n"
            "    return 6 * 7\n"
            "print(uvloop.new_event_loop().run_until_complete(main()))\n")
    # stdin empty and a loop run: apython says how to get a console.
    assert run_apython(code, stderr=NO_CONSOLE) == "42\n"


def copy_sources(dest):
    """The source tree without build products (the tests' tree may be
    a configured one)."""
    def ignore(folder, names):
        return [n for n in names if n.endswith((".o", ".py.h")) or
                n in ("apython", "config.mk", "config.log", "config.status",
                      "configure", "autom4te.cache", "libpython.dynlist",
                      ".git", "__pycache__", ".pytest_cache", "work")]
    shutil.copytree(str(REPO), str(dest), ignore=ignore)


def test_configure_with_libpython_shared_builds_a_binary_that_runs(
        tmp_path):
    if shutil.which("autoconf") is None:
        pytest.skip("autoconf not installed")
    python = embedded()["executable"]
    tree = tmp_path / "tree"
    copy_sources(tree)

    def build_step(*argv):
        cp = subprocess.run(list(argv), cwd=str(tree),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, timeout=BUILD_TIMEOUT)
        assert cp.returncode == 0, cp.stdout.decode(errors="replace")
        return cp.stdout.decode()

    build_step("autoconf")
    out = build_step("./configure", "--with-python=%s" % python,
                     "--with-libpython=shared")
    assert "checking how to link libpython... shared\n" in out
    build_step("make", "-j2", "apython")
    binary = tree / "apython"
    assert links_libpython_so(binary)
    cp = subprocess.run([str(binary), "-c",
                         "import ctypes, sys\n"
                         "print(ctypes.pythonapi.Py_IsInitialized(), "
                         "sys.executable)"],
                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, env=clean_env(),
                        timeout=TIMEOUT)
    assert (cp.returncode, cp.stdout, cp.stderr) == (
        0, ("1 %s\n" % python).encode(), b"")
