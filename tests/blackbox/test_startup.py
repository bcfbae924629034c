"""PYTHONSTARTUP runs into the console namespace when there is no target."""

from conftest import PROGRAMS

FOREVER = PROGRAMS / "forever.py"


def test_pythonstartup_definitions_are_in_the_console_namespace(run, write):
    startup = write("startup.py", "startup_value = 5\n"
                                  "def hello():\n    return 'hi'\n")
    cp = run(["--banner=test"], input=b"startup_value\nhello()\n",
             env={"PYTHONSTARTUP": startup})
    assert cp.stderr == b"test\n>>> 5\n>>> 'hi'\n>>> \n"
    assert cp.stdout == b""
    assert cp.returncode == 0


def test_missing_pythonstartup_is_reported_and_the_console_goes_on(
        run, tmp_path):
    missing = tmp_path / "nostartup.py"
    cp = run(["--banner=test"], input=b"1+1\n",
             env={"PYTHONSTARTUP": missing})
    assert (b"Could not open PYTHONSTARTUP - No such file: %s"
            % str(missing).encode()) in cp.stderr
    assert cp.stderr.endswith(b">>> 2\n>>> \n")
    assert cp.returncode == 0


def test_pythonstartup_is_not_run_for_a_file_target(run, write, tmp_path):
    marker = tmp_path / "ran"
    startup = write("startup.py", "open(%r, 'w').close()\n" % str(marker))
    prog = write("prog.py", "print('prog')\n")
    cp = run([prog], env={"PYTHONSTARTUP": startup})
    assert cp.stdout == b"prog\n"
    assert cp.stderr == b""
    assert not marker.exists()


def test_pythonstartup_is_not_run_into_a_programs_console(run, write,
                                                          tmp_path):
    marker = tmp_path / "ran"
    startup = write("startup.py", "startup_value = 5\n"
                                  "open(%r, 'w').close()\n" % str(marker))
    cp = run(["--banner=test", FOREVER], input=b"startup_value\n",
             env={"PYTHONSTARTUP": startup})
    assert b"NameError: name 'startup_value' is not defined" in cp.stderr
    assert not marker.exists()
    assert cp.returncode == 0
