"""Running a target program (FILE or -m MODULE) exactly as python3 does:
sys.argv, sys.path[0], __main__, __file__, exit statuses, messages for a
missing file or module, PYTHONPATH and an active virtualenv."""

import json
import os
import signal
import subprocess

REPORT = """\
import json, sys
print(json.dumps({"argv": sys.argv, "path0": sys.path[0],
                  "name": __name__, "file": __file__}))
"""


def given_or_absolute(path, embedded, tmp_path):
    """How python3 names a script given as a relative path: as given up to
    3.8, absolute from 3.9 on."""
    if embedded.version_info < (3, 9):
        return path
    return str(tmp_path / path)


def test_file_target_gets_argv_path_name_and_file(run, write, tmp_path,
                                                  embedded):
    write("sub/prog.py", REPORT)
    cp = run(["sub/prog.py", "a", "b c"], cwd=tmp_path)
    assert cp.stderr == b""
    assert cp.returncode == 0
    assert json.loads(cp.stdout) == {
        "argv": ["sub/prog.py", "a", "b c"],
        "path0": str(tmp_path / "sub"),
        "name": "__main__",
        "file": given_or_absolute("sub/prog.py", embedded, tmp_path),
    }


def test_file_target_output_is_exactly_its_print_on_stdout(run, write, tmp_path):
    prog = write("prog.py", "print('hello')\nprint('world')\n")
    cp = run([prog])
    assert cp.stdout == b"hello\nworld\n"
    assert cp.stderr == b""
    assert cp.returncode == 0


def test_options_after_file_belong_to_the_program(run, write, tmp_path):
    prog = write("prog.py", REPORT)
    cp = run([prog, "--banner", "x", "--help", "-m", "y", "--bogus"])
    assert cp.stderr == b""
    assert json.loads(cp.stdout)["argv"] == [
        str(prog), "--banner", "x", "--help", "-m", "y", "--bogus"]


def test_module_target_gets_module_path_as_argv0_and_cwd_as_path0(
        run, write, tmp_path):
    write("pkg/__init__.py", "")
    write("pkg/mod.py", REPORT)
    cp = run(["-m", "pkg.mod", "one", "two"], cwd=tmp_path)
    assert cp.stderr == b""
    assert cp.returncode == 0
    assert json.loads(cp.stdout) == {
        "argv": [str(tmp_path / "pkg" / "mod.py"), "one", "two"],
        "path0": str(tmp_path),
        "name": "__main__",
        "file": str(tmp_path / "pkg" / "mod.py"),
    }


def test_module_target_arguments_are_not_parsed_by_apython(run, write, tmp_path):
    write("mod.py", REPORT)
    cp = run(["-m", "mod", "--banner", "x"], cwd=tmp_path)
    assert cp.stderr == b""
    assert json.loads(cp.stdout)["argv"][1:] == ["--banner", "x"]


def test_module_given_as_attached_m_option(run, write, tmp_path):
    write("mod.py", REPORT)
    cp = run(["-mmod", "z"], cwd=tmp_path)
    assert cp.stderr == b""
    assert json.loads(cp.stdout)["argv"] == [str(tmp_path / "mod.py"), "z"]


def test_package_with_main_module_runs_its_main(run, write, tmp_path):
    write("app/__init__.py", "")
    write("app/__main__.py", "import sys\nprint('app main', sys.argv[1:])\n")
    cp = run(["-m", "app", "q"], cwd=tmp_path)
    assert cp.stdout == b"app main ['q']\n"
    assert cp.stderr == b""
    assert cp.returncode == 0


def test_program_system_exit_code_is_the_exit_status(run, write):
    prog = write("prog.py", "raise SystemExit(7)\n")
    cp = run([prog])
    assert cp.returncode == 7
    assert cp.stderr == b""
    assert cp.stdout == b""


def test_program_sys_exit_with_message_prints_it_and_exits_1(run, write):
    prog = write("prog.py", "import sys\nsys.exit('fatal: nope')\n")
    cp = run([prog])
    assert cp.returncode == 1
    assert cp.stderr == b"fatal: nope\n"


def test_module_system_exit_code_is_the_exit_status(run, write, tmp_path):
    write("mod.py", "import sys\nsys.exit(9)\n")
    cp = run(["-m", "mod"], cwd=tmp_path)
    assert cp.returncode == 9
    assert cp.stderr == b""


def test_uncaught_exception_prints_its_traceback_and_exits_1(
        run, run_python, write, same_as_system_python):
    prog = write("prog.py", "x = 1\n\nraise ValueError('boom')\n")
    cp = run([prog])
    assert cp.returncode == 1
    assert cp.stdout == b""
    assert cp.stderr.startswith(b"Traceback (most recent call last):\n"
                                b'  File "%s", line 3, in <module>\n'
                                % str(prog).encode())
    assert cp.stderr.endswith(b"\nValueError: boom\n")
    assert cp.stderr.count(b"  File ") == 1
    if same_as_system_python:
        assert cp.stderr == run_python([prog]).stderr


def test_uncaught_exception_in_a_function_shows_program_frames_only(
        run, run_python, write, same_as_system_python):
    prog = write("prog.py", "def f():\n    return 1/0\n\nf()\n")
    cp = run([prog])
    assert cp.returncode == 1
    files = [line for line in cp.stderr.splitlines() if b"  File " in line]
    assert files == [b'  File "%s", line 4, in <module>' % str(prog).encode(),
                     b'  File "%s", line 2, in f' % str(prog).encode()]
    assert cp.stderr.endswith(b"ZeroDivisionError: division by zero\n")
    if same_as_system_python:
        assert cp.stderr == run_python([prog]).stderr


def test_missing_file_gives_python3_message_and_status_2(run, tmp_path,
                                                        embedded):
    cp = run(["missing.py", "arg"], cwd=tmp_path)
    assert cp.stderr == (b"apython: can't open file '%s': "
                         b"[Errno 2] No such file or directory\n"
                         % given_or_absolute("missing.py", embedded,
                                             tmp_path).encode())
    assert cp.stdout == b""
    assert cp.returncode == 2


def test_missing_module_gives_python3_message_and_status_1(run, tmp_path):
    cp = run(["-m", "nosuchmod"], cwd=tmp_path)
    assert cp.stderr == b"apython: No module named nosuchmod\n"
    assert cp.stdout == b""
    assert cp.returncode == 1


def test_program_without_a_loop_gets_no_console(run, write):
    prog = write("prog.py", "print('plain')\n")
    cp = run([prog], input=b"1+1\n")
    assert cp.stdout == b"plain\n"
    assert cp.stderr == b""
    assert cp.returncode == 0


def test_program_without_a_loop_can_read_its_own_stdin(run, write):
    prog = write("prog.py", "import sys\nprint(sys.stdin.read().upper())\n")
    cp = run([prog], input=b"abc\n")
    assert cp.stdout == b"ABC\n\n"
    assert cp.stderr == b""
    assert cp.returncode == 0


def test_uncaught_keyboard_interrupt_kills_by_sigint_after_traceback(
        run, write):
    prog = write("prog.py", "raise KeyboardInterrupt\n")
    cp = run([prog])
    assert cp.returncode == -signal.SIGINT
    assert cp.stderr.startswith(b"Traceback (most recent call last):\n")
    assert cp.stderr.endswith(b"\nKeyboardInterrupt\n")


def test_pythonpath_is_honoured_for_modules(run, write, tmp_path):
    write("lib/ppmod.py", "print('found via PYTHONPATH')\n")
    (tmp_path / "elsewhere").mkdir()
    cp = run(["-m", "ppmod"], cwd=tmp_path / "elsewhere",
             env={"PYTHONPATH": tmp_path / "lib"})
    assert cp.stdout == b"found via PYTHONPATH\n"
    assert cp.stderr == b""
    assert cp.returncode == 0


def test_pythonpath_is_honoured_for_imports_of_a_file(run, write, tmp_path):
    write("lib/ppmod2.py", "VALUE = 'pp'\n")
    prog = write("bin/prog.py", "import ppmod2\nprint(ppmod2.VALUE)\n")
    cp = run([prog], env={"PYTHONPATH": tmp_path / "lib"})
    assert cp.stdout == b"pp\n"
    assert cp.stderr == b""


def test_other_python_variables_are_honoured(run, write):
    prog = write("prog.py", "import sys\nprint(sys.flags.optimize)\n")
    # Optimised imports have no .pyc to reuse (and none is written): the
    # stdlib is compiled afresh, slow on a sanitizer build.
    cp = run([prog], env={"PYTHONOPTIMIZE": "1"}, timeout=120)
    assert cp.stdout == b"1\n"


def test_active_virtualenv_packages_are_importable(run, write, tmp_path,
                                                   embedded, clean_env):
    # The venv is made by the interpreter apython embeds (its python3).
    venv = tmp_path / "V"
    subprocess.run([embedded.executable, "-m", "venv", "--without-pip",
                    str(venv)], check=True, timeout=60, env=clean_env())
    write("V/lib/python%d.%d/site-packages/venvmod.py"
          % embedded.version_info, "WHERE = 'venv'\n")
    prog = write("prog.py", "import venvmod\nprint(venvmod.WHERE)\n")
    cp = run([prog], env={"VIRTUAL_ENV": venv,
                          "PATH": "%s:%s" % (venv / "bin",
                                             os.environ["PATH"])})
    assert cp.stderr == b""
    assert cp.stdout == b"venv\n"
    assert cp.returncode == 0
