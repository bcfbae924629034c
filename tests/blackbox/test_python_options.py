"""python3's options under apython: each is checked against the Python
apython embeds (its sys.executable, not blindly /usr/bin/python3) on the
same program: stdout and exit status exactly, stderr with python3's name
replaced by apython's. Then what only a terminal shows (-i, -q), `-`,
python3's messages with apython's name, the virtualenv of another
version, and --locals' refusals."""

import os
import re
import shutil
import subprocess
import zipfile

import pytest

from conftest import LONG_TIMEOUT, TIMEOUT, apython_path, clean_env

# The program compared: what each option changes, as python3 shows it.
PROGRAM = r'''
import sys
flags = [f for f in dir(sys.flags) if not f.startswith(("_", "n_"))
         and f not in ("count", "index")]
print(sys.argv, getattr(sys, "orig_argv", [None])[1:])
print({f: getattr(sys.flags, f) for f in flags})
print(sys.warnoptions, sys._xoptions, __debug__, sys.dont_write_bytecode)
print(sys.path)
print(type(sys.stdout.buffer).__name__, sys.stdout.line_buffering)
print(__doc__, __name__)
import warnings
warnings.warn("w", DeprecationWarning)
print(b"x" == "x")
'''


def embedded_python():
    """The interpreter apython embeds, as apython says."""
    cp = subprocess.run([apython_path(), "-I", "-c",
                         "import sys; print(sys.executable)"],
                        capture_output=True, env=clean_env(),
                        stdin=subprocess.DEVNULL, timeout=TIMEOUT)
    return cp.stdout.decode().strip()


PYTHON = embedded_python()


def version():
    """The embedded Python's (major, minor)."""
    cp = subprocess.run([PYTHON, "-c", "import sys; print(*sys.version_info[:2])"],
                        capture_output=True, timeout=TIMEOUT)
    return tuple(int(x) for x in cp.stdout.split())


VERSION = version()


def both(args, tmp_path, input=b"", env=None):
    """(python3's, apython's) CompletedProcess for the same args."""
    out = []
    for exe in (PYTHON, apython_path()):
        out.append(subprocess.run(
            [exe, *args], input=input, capture_output=True, cwd=tmp_path,
            env=clean_env(env), timeout=LONG_TIMEOUT))
    return out


def as_apython(stderr):
    """python3's stderr with its name as apython says it."""
    return stderr.replace(PYTHON.encode() + b":", b"apython:")


def assert_same(py, ap):
    assert ap.stdout == py.stdout
    assert ap.stderr == as_apython(py.stderr)
    assert ap.returncode == py.returncode


@pytest.fixture
def program(tmp_path):
    """The program, as prog.py in tmp_path."""
    (tmp_path / "prog.py").write_text(PROGRAM)
    return "prog.py"


def ids(options):
    return " ".join(options)


OPTIONS = [
    [], ["-b"], ["-bb"], ["-B"], ["-d"], ["-E"], ["-I"], ["-S"], ["-O"],
    ["-OO"], ["-q"], ["-R"], ["-u"], ["-X", "dev"], ["-X", "utf8"],
    ["-X", "utf8=0"], ["-X", "utf8=foo"], ["-X", "a=b", "-X", "c"],
    ["-W", "error"],
    ["-W", "ignore", "-W", "always::DeprecationWarning"],
    ["--check-hash-based-pycs", "always"], ["-BOq"], ["-Wd", "-I"],
    ["-Wd", "-b"],
]
if VERSION >= (3, 11):
    OPTIONS.append(["-P"])


@pytest.mark.parametrize("options", OPTIONS, ids=ids)
def test_option_acts_as_in_python3_on_a_file(program, tmp_path, options):
    env = {"PYTHONOPTIMIZE": "1", "PYTHONWARNINGS": "default"}
    assert_same(*both([*options, program, "a", "-c", "--serve"], tmp_path,
                      env=env))


@pytest.mark.parametrize("options", OPTIONS, ids=ids)
def test_option_acts_as_in_python3_with_c(tmp_path, options):
    assert_same(*both([*options, "-c", PROGRAM, "-i", "x"], tmp_path))


@pytest.mark.parametrize("options", [["-B"], ["-I"], ["-S"]] + (
    [["-P"]] if VERSION >= (3, 11) else []), ids=ids)
def test_m_module_acts_as_in_python3(program, tmp_path, options):
    assert_same(*both([*options, "-m", "prog", "-m", "x"], tmp_path))


# -W with what else puts filters in sys.warnoptions: -b/-bb, -X dev,
# PYTHONDEVMODE, PYTHONWARNINGS (ignored under -E and -I).
WARNING_CASES = [
    (["-W", "error", "-bb"], {}),
    (["-W", "error", "-X", "dev", "-b"], {}),
    (["-Wd", "-b"], {"PYTHONWARNINGS": "error,,ignore::UserWarning"}),
    (["-W", "default", "-X", "dev", "-bb"],
     {"PYTHONWARNINGS": "default,error::BytesWarning"}),
    (["-Wd", "-b"], {"PYTHONDEVMODE": "1"}),
    (["-E", "-Wd", "-b"], {"PYTHONWARNINGS": "error"}),
    (["-I", "-W", "error", "-bb"], {"PYTHONWARNINGS": "ignore"}),
    (["-W", "error", "-W", "ignore", "-W", "error", "-b", "-W", "always"],
     {}),
]


@pytest.mark.parametrize("options,env", WARNING_CASES, ids=lambda v: (
    ids(v) if isinstance(v, list) else
    " ".join(f"{k}={w}" for k, w in v.items())))
def test_warning_filters_are_in_python3s_order(tmp_path, options, env):
    assert_same(*both([*options, "-c", PROGRAM], tmp_path, env=env))


def test_stdin_program_acts_as_in_python3(tmp_path):
    py, ap = both(["-O", "-", "a", "-b"], tmp_path, input=PROGRAM.encode())
    assert_same(py, ap)


def test_stdin_program_running_a_loop_says_that_serve_gives_a_console(
        tmp_path):
    src = b"import asyncio\nasyncio.run(asyncio.sleep(0))\nprint('done')\n"
    py, ap = both(["-"], tmp_path, input=src)
    assert ap.stdout == py.stdout == b"done\n"
    assert re.fullmatch(rb"apython: [^\n]*--serve[^\n]*\n", ap.stderr), \
        ap.stderr
    assert ap.returncode == 0


def test_stdin_program_with_serve_has_the_served_console_and_no_word(run):
    src = b"import asyncio\nasyncio.run(asyncio.sleep(0))\nprint('done')\n"
    cp = run(["--serve", "0", "-"], input=src)
    assert re.fullmatch(rb"The console is being served on 127\.0\.0\.1:\d+\n"
                        rb"done\n", cp.stdout), cp.stdout
    assert cp.stderr == b""
    assert cp.returncode == 0


def test_x_skips_the_first_line_of_file(tmp_path):
    (tmp_path / "x.py").write_text("not python\nimport sys\n"
                                   "print(sys._getframe().f_lineno)\n1/0\n")
    py, ap = both(["-x", "x.py"], tmp_path)
    assert py.stdout == b"3\n"
    assert_same(py, ap)


def test_v_traces_imports_as_python3(program, tmp_path):
    py, ap = both(["-v", program], tmp_path)
    assert ap.stdout == py.stdout
    assert ap.returncode == py.returncode
    assert b"# installing zipimport hook" in ap.stderr


def test_directory_with_main_runs_it(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "__main__.py").write_text(PROGRAM)
    assert_same(*both(["-I", "d", "x"], tmp_path))


def test_zip_with_main_runs_it(tmp_path):
    with zipfile.ZipFile(tmp_path / "z.zip", "w") as z:
        z.writestr("__main__.py", PROGRAM)
    assert_same(*both(["z.zip", "x"], tmp_path))


def test_directory_without_main_is_said_with_apythons_name(tmp_path):
    (tmp_path / "d").mkdir()
    py, ap = both(["d"], tmp_path)
    assert ap.stderr.startswith(b"apython: can't find '__main__' module in ")
    assert_same(py, ap)


def test_missing_file_and_module_are_said_with_apythons_name(tmp_path):
    assert_same(*both(["nothere.py"], tmp_path))
    assert_same(*both(["-m", "nothere"], tmp_path))


def test_system_exit_and_exception_statuses_as_python3(tmp_path):
    for code in ("raise SystemExit(3)", "raise SystemExit('bye')",
                 "1/0", "import sys; sys.exit()"):
        assert_same(*both(["-c", code], tmp_path))


@pytest.mark.skipif(VERSION >= (3, 11), reason="-P is python3's since 3.11")
def test_P_before_3_11_is_an_unknown_option(run):
    cp = run(["-P", "-c", "pass"])
    assert cp.stderr.startswith(b"usage: apython")
    assert cp.stderr.endswith(b"\napython: error: unrecognized option '-P'\n")
    assert cp.returncode == 2


def test_bad_check_hash_based_pycs_is_a_usage_error(run):
    cp = run(["--check-hash-based-pycs", "sometimes", "-c", "pass"])
    assert cp.stderr.endswith(
        b"\napython: error: --check-hash-based-pycs must be one of "
        b"'default', 'always', or 'never'\n")
    assert cp.returncode == 2


def test_VV_adds_python3s_VV_line(run):
    cp = run(["-VV"])
    py = subprocess.run([PYTHON, "-VV"], capture_output=True)
    first, rest = cp.stdout.split(b"\n", 1)
    assert first.startswith(b"apython ")
    assert rest == py.stdout
    assert cp.returncode == 0


def test_help_lists_python3s_options(run):
    out = run(["--help"]).stdout
    for option in (b"-c CMD", b"-m MODULE", b"FILE", b"  -  ", b"-W ARG",
                   b"-X OPT", b"--check-hash-based-pycs", b"-i ", b"-q ",
                   b"-x ", b"PYTHONNOUSERSITE"):
        assert option in out, option
    for flag in "bBdEIORSuv":
        assert ("\n  -%s " % flag).encode() in out, flag


# -i and -q at a terminal


def test_i_gives_a_console_on_the_programs_globals_after_it_ends(terminal,
                                                                 tmp_path):
    (tmp_path / "p.py").write_text("x = 41\nimport sys\nsys.exit(3)\n")
    t = terminal(["-i", "p.py"], cwd=tmp_path)
    t.expect("SystemExit: 3\r\n>>> ")
    t.send("x + 1\r")
    t.expect("42\r\n>>> ")
    t.send("await asyncio.sleep(0, 7)\r")
    t.expect("7\r\n>>> ")
    t.send("\x04")
    assert t.wait() == (0, None)


def test_i_after_an_exception_shows_the_traceback_then_the_console(
        terminal, tmp_path):
    (tmp_path / "p.py").write_text("y = 'kept'\n1/0\n")
    t = terminal(["-i", "p.py"], cwd=tmp_path)
    t.expect("ZeroDivisionError: division by zero\r\n>>> ")
    t.send("y\r")
    t.expect("'kept'\r\n>>> ")
    t.send("exit(5)\r")
    assert t.wait() == (5, None)


def test_i_after_a_program_that_ran_a_loop_prompts_on_a_fresh_loop(
        terminal, tmp_path):
    (tmp_path / "p.py").write_text(
        "import asyncio\nn = 0\nasync def main():\n    global n\n"
        "    n = 1\nasyncio.run(main())\nprint('done')\n")
    t = terminal(["-q", "-i", "p.py"], cwd=tmp_path)
    t.expect("done\r\n")
    t.expect(">>> ")
    t.send("n, loop.is_running()\r")
    t.expect("(1, True)\r\n>>> ")
    t.send("\x04")
    assert t.wait() == (0, None)


def test_pythoninspect_set_by_the_program_gives_the_console(terminal,
                                                           tmp_path):
    (tmp_path / "p.py").write_text(
        "import os\nos.environ['PYTHONINSPECT'] = '1'\nz = 'set'\n")
    t = terminal(["p.py"], cwd=tmp_path)
    t.expect(">>> ")
    t.send("z\r")
    t.expect("'set'\r\n>>> ")
    t.send("\x04")
    assert t.wait() == (0, None)


def test_pythoninspect_in_the_environment_acts_as_i(terminal, tmp_path):
    (tmp_path / "p.py").write_text("w = 'env'\n")
    t = terminal(["p.py"], cwd=tmp_path, env={"PYTHONINSPECT": "1"})
    t.expect(">>> ")
    t.send("w\r")
    t.expect("'env'\r\n>>> ")
    t.send("\x04")
    assert t.wait() == (0, None)


def test_i_sets_python3s_flags_and_ends_at_eof_with_status_0(tmp_path):
    py, ap = both(["-i", "-c", "import sys; print(sys.flags)"], tmp_path)
    assert ap.stdout == py.stdout
    assert b"inspect=1, interactive=1" in ap.stdout
    assert ap.returncode == py.returncode == 0


def test_q_gives_a_console_without_banner(terminal):
    t = terminal(["-q"])
    t.expect(">>> ")
    t.send("'q'\r")
    t.expect("'q'\r\n>>> ")
    t.send("\x04")
    assert t.wait() == (0, None)
    assert b"Python " not in t.log.getvalue()


def test_q_has_no_banner_with_piped_stdin(run):
    cp = run(["-q"], input=b"1+1\n")
    assert cp.stderr == b">>> 2\n>>> \n"
    assert cp.returncode == 0


# --locals


@pytest.mark.parametrize("value", ["{1: 2}", "{'a b': 1}"])
def test_locals_keys_must_be_identifiers(run, value):
    cp = run(["--locals", value], input=b"")
    assert cp.stderr.startswith(b"usage: apython")
    assert cp.stderr.endswith(
        ("\napython: error: argument --locals: its keys must be "
         "identifiers, got '%s'\n" % value).encode())
    assert cp.returncode == 2


@pytest.mark.parametrize("name", ["loop", "asyncio"])
def test_locals_cannot_replace_loop_or_asyncio(run, name):
    cp = run(["--locals", "{%r: 1}" % name], input=b"")
    assert cp.stderr.endswith(
        ("\napython: error: argument --locals: '%s' is the console's own "
         "and cannot be replaced\n" % name).encode())
    assert cp.returncode == 2


# virtualenvs


def make_venv_cfg(path, version):
    """A virtualenv's pyvenv.cfg at path, for version."""
    path.mkdir()
    (path / "pyvenv.cfg").write_text(
        "home = /nowhere\ninclude-system-site-packages = false\n"
        "version = %s\n" % version)


def other_version_python():
    """A pyenv python of another minor version than the embedded one."""
    if shutil.which("pyenv") is None:
        return None
    cp = subprocess.run(["pyenv", "versions", "--bare"], capture_output=True,
                        text=True)
    for v in cp.stdout.split():
        if re.fullmatch(r"3\.(8|9|1[0-3])\.\d+", v) and \
                tuple(map(int, v.split(".")[:2])) != VERSION:
            prefix = subprocess.run(["pyenv", "prefix", v], text=True,
                                    capture_output=True).stdout.strip()
            return prefix + "/bin/python3"
    return None


def test_venv_of_another_version_is_refused_in_one_line(run, tmp_path):
    other = other_version_python()
    if other is None:
        pytest.skip("no pyenv python of another version")
    venv = tmp_path / "venv"
    subprocess.run([other, "-m", "venv", "--without-pip", str(venv)],
                   check=True, timeout=6 * TIMEOUT)
    theirs = subprocess.run([str(venv / "bin/python"), "-c",
                             "import sys; print('%d.%d' % sys.version_info[:2])"],
                            capture_output=True, text=True).stdout.strip()
    cp = run(["-c", "print('ran')"], env={"VIRTUAL_ENV": venv})
    assert cp.stdout == b""
    # Issue 14: the line also names the apythonX.Y looked for beside apython.
    missing = os.path.join(os.path.dirname(os.path.abspath(apython_path())),
                           "apython" + theirs)
    assert cp.stderr == (
        "apython: the virtualenv %s is Python %s but this apython embeds "
        "Python %d.%d and there is no %s: install apython in that virtualenv "
        "(pip install apython) or deactivate it\n"
        % (venv, theirs, *VERSION, missing)).encode()
    assert cp.returncode == 2


def test_venv_of_the_same_version_finds_its_packages(run, tmp_path):
    venv = tmp_path / "venv"
    made = subprocess.run([PYTHON, "-m", "venv", "--without-pip", str(venv)],
                          capture_output=True, timeout=6 * TIMEOUT)
    if made.returncode != 0:
        pytest.skip("no venv module: " + made.stderr.decode())
    site = subprocess.run([str(venv / "bin/python"), "-c",
                           "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True).stdout.strip()
    with open(os.path.join(site, "venvmod.py"), "w") as f:
        f.write("WHERE = 'venv'\n")
    cp = run(["-c", "import venvmod; print(venvmod.WHERE)"],
             env={"VIRTUAL_ENV": venv})
    assert cp.stderr == b""
    assert cp.stdout == b"venv\n"
    assert cp.returncode == 0


def test_venv_version_is_read_from_virtualenvs_version_info(run, tmp_path):
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("home = /x\nversion_info = 2.7.18.final.0\n")
    cp = run(["-c", "print('ran')"], env={"VIRTUAL_ENV": venv})
    assert cp.stdout == b""
    assert b" is Python 2.7 but this apython embeds" in cp.stderr
    assert cp.returncode == 2


LOOP_PROGRAM = """\
import asyncio
async def main():
    print("ran")
asyncio.run(main())
"""


@pytest.mark.parametrize("given", [b"", b"x = 6\nx * 7\n"])
def test_i_with_stdin_not_a_terminal_reads_it_after_the_program(
        tmp_path, given):
    # As python3 -i: the program runs whole, then the console reads stdin
    # (results on stderr here, python3's REPL prints them on stdout).
    (tmp_path / "loop.py").write_text(LOOP_PROGRAM)
    py, ap = both(["-i", "loop.py"], tmp_path, input=given)
    assert ap.returncode == py.returncode == 0
    assert py.stdout == b"ran\n" + (b"42\n" if given else b"")
    assert ap.stdout == b"ran\n"
    assert ap.stderr == (b">>> >>> 42\n>>> \n" if given else b">>> \n")
