"""The console with no target and stdin on a pipe: banner, prompts, results,
namespace, where output goes, tracebacks and how it ends (behaviour.md,
"The console")."""

import re
import time


def test_piped_expression_prints_result_on_stderr(run):
    cp = run(["--banner=test"], input=b"1+1\n")
    assert cp.stderr == b"test\n>>> 2\n>>> \n"
    assert cp.stdout == b""
    assert cp.returncode == 0


def test_banner_option_takes_a_separate_argument(run):
    cp = run(["--banner", "hello there"], input=b"1+1\n")
    assert cp.stderr == b"hello there\n>>> 2\n>>> \n"
    assert cp.returncode == 0


def test_default_banner_names_the_embedded_python_and_await(run, embedded):
    cp = run([], input=b"")
    expected = ("Python " + embedded.version + " on linux\n"
                'Type "help", "copyright", "credits" or "license" for more '
                "information.\n"
                "---\n"
                "This console is running in an asyncio event loop.\n"
                "It allows you to wait for coroutines using the 'await' "
                "syntax.\n"
                "Try: await asyncio.sleep(1, result=3)\n"
                "---\n"
                ">>> ").encode()
    assert cp.stderr == expected + b"\n"
    assert cp.stdout == b""
    assert cp.returncode == 0


def test_multi_line_block_shows_continuation_prompts(run):
    cp = run(["--banner=test"],
             input=b"def x():\n    print(1)\n    print(2)\n\nx()\n")
    assert cp.stderr == b"test\n>>> ... ... ... >>> 1\n2\n>>> \n"
    assert cp.stdout == b""
    assert cp.returncode == 0


def test_statement_without_result_prints_nothing(run):
    cp = run(["--banner=test"], input=b"a = 5\nNone\na\n")
    assert cp.stderr == b"test\n>>> >>> >>> 5\n>>> \n"


def test_top_level_await_prints_the_result_after_the_sleep(run):
    t0 = time.monotonic()
    cp = run(["--banner=test"], input=b"await asyncio.sleep(0.2, result=3)\n")
    elapsed = time.monotonic() - t0
    assert cp.stderr == b"test\n>>> 3\n>>> \n"
    assert cp.returncode == 0
    assert elapsed >= 0.2


def test_underscore_is_bound_to_the_last_result(run):
    cp = run(["--banner=test"], input=b"1+1\n_*10\n")
    assert cp.stderr == b"test\n>>> 2\n>>> 20\n>>> \n"


def test_underscore_is_bound_to_an_awaited_result(run):
    cp = run(["--banner=test"],
             input=b"await asyncio.sleep(0, result=7)\n_+1\n")
    assert cp.stderr == b"test\n>>> 7\n>>> 8\n>>> \n"


def test_namespace_has_asyncio_module(run):
    cp = run(["--banner=test"], input=b"asyncio.__name__\n")
    assert cp.stderr == b"test\n>>> 'asyncio'\n>>> \n"


def test_namespace_loop_is_the_running_loop(run):
    cp = run(["--banner=test"], input=b"loop is asyncio.get_running_loop()\n")
    assert cp.stderr == b"test\n>>> True\n>>> \n"


def test_namespace_has_callable_ainput(run):
    cp = run(["--banner=test"], input=b"callable(ainput)\n")
    assert cp.stderr == b"test\n>>> True\n>>> \n"


def test_ainput_returns_the_next_console_line(run):
    cp = run(["--banner=test"], input=b"await ainput()\nbob\n_\n")
    assert cp.stderr == b"test\n>>> 'bob'\n>>> 'bob'\n>>> \n"


def test_ainput_writes_its_prompt_on_the_console(run):
    # As input() and aioconsole's ainput() do, even when stdin is a pipe.
    cp = run(["--banner=test"], input=b"await ainput('name? ')\nbob\n")
    assert cp.stderr == b"test\n>>> name? 'bob'\n>>> \n"
    assert cp.stdout == b""


def test_locals_option_merges_a_dict_into_the_namespace(run):
    cp = run(["--banner=test", "--locals", "{'a': 1, 'b': 'two'}"],
             input=b"a\nb\n")
    assert cp.stderr == b"test\n>>> 1\n>>> 'two'\n>>> \n"
    assert cp.returncode == 0


def test_print_in_console_goes_to_stderr_not_stdout(run):
    cp = run(["--banner=test"], input=b"print('x')\n")
    assert cp.stderr == b"test\n>>> x\n>>> \n"
    assert cp.stdout == b""


def test_sys_stdout_write_in_console_goes_to_the_console(run):
    cp = run(["--banner=test"], input=b"import sys; sys.stdout.write('y\\n')\n")
    assert cp.stderr == b"test\n>>> y\n2\n>>> \n"
    assert cp.stdout == b""


def test_sys_stderr_write_in_console_goes_to_the_console(run):
    cp = run(["--banner=test"], input=b"import sys; sys.stderr.write('e\\n')\n")
    assert cp.stderr == b"test\n>>> e\n2\n>>> \n"
    assert cp.stdout == b""


def test_output_of_a_task_started_by_a_statement_goes_to_the_console(run):
    cp = run(["--banner=test"],
             input=b"async def p(): print('from task')\n\n"
                   b"await asyncio.create_task(p())\n")
    assert cp.stderr == b"test\n>>> ... >>> from task\n>>> \n"
    assert cp.stdout == b""


def test_zero_division_traceback_shows_only_the_console_frame(run):
    cp = run(["--banner=test"], input=b"1/0\n")
    assert cp.stderr == (b"test\n>>> Traceback (most recent call last):\n"
                         b'  File "<console>", line 1, in <module>\n'
                         b"ZeroDivisionError: division by zero\n"
                         b">>> \n")
    assert cp.stdout == b""
    assert cp.returncode == 0


def test_traceback_through_await_shows_console_frames_only(run):
    cp = run(["--banner=test"],
             input=b"async def f(): 1/0\n\nawait f()\n")
    assert cp.stderr == (b"test\n>>> ... >>> Traceback (most recent call last):\n"
                         b'  File "<console>", line 1, in <module>\n'
                         b'  File "<console>", line 1, in f\n'
                         b"ZeroDivisionError: division by zero\n"
                         b">>> \n")


def test_traceback_line_numbers_count_lines_of_the_block(run):
    cp = run(["--banner=test"],
             input=b"def g():\n    x = 1\n    raise ValueError('v')\n\ng()\n")
    assert cp.stderr == (b"test\n>>> ... ... ... >>> "
                         b"Traceback (most recent call last):\n"
                         b'  File "<console>", line 1, in <module>\n'
                         b'  File "<console>", line 3, in g\n'
                         b"ValueError: v\n"
                         b">>> \n")


def test_syntax_error_names_the_console_line(run):
    cp = run(["--banner=test"], input=b"1+\n")
    assert b'  File "<console>", line 1\n' in cp.stderr
    # The message itself differs across 3.8..3.13 ("invalid syntax",
    # "incomplete input"): only its kind is checked.
    assert re.search(rb"^SyntaxError: \S", cp.stderr, re.M)
    assert cp.stderr.count(b"File ") == 1
    assert cp.stderr.startswith(b"test\n>>> ")
    assert cp.stderr.endswith(b"\n>>> \n")
    assert cp.returncode == 0


def test_console_continues_after_errors(run):
    cp = run(["--banner=test"], input=b"1/0\n1+\nundefined_name\n2+2\n")
    assert cp.stderr.endswith(b"\n>>> 4\n>>> \n")
    assert b"NameError: name 'undefined_name' is not defined" in cp.stderr
    assert cp.returncode == 0


def test_eof_ends_the_console_with_status_0(run):
    cp = run(["--banner=test"], input=b"")
    assert cp.stderr == b"test\n>>> \n"
    assert cp.stdout == b""
    assert cp.returncode == 0


def test_exit_with_a_number_ends_with_that_status(run):
    cp = run(["--banner=test"], input=b"exit(3)\n1+1\n")
    assert cp.returncode == 3
    assert cp.stderr == b"test\n>>> "
    assert cp.stdout == b""


def test_raise_system_exit_ends_with_its_code(run):
    cp = run(["--banner=test"], input=b"raise SystemExit(4)\n1+1\n")
    assert cp.returncode == 4
    assert b"2\n" not in cp.stderr


def test_sys_exit_with_a_message_prints_it_and_ends_with_status_1(run):
    cp = run(["--banner=test"], input=b"import sys; sys.exit('bye')\n1+1\n")
    assert cp.returncode == 1
    assert cp.stderr.endswith(b"bye\n")
    assert b"Traceback" not in cp.stderr
    assert cp.stdout == b""


def test_piped_console_writes_no_escape_sequences(run):
    cp = run([], input=b"1+1\nprint('a')\n")
    assert b"\x1b" not in cp.stderr
    assert b"\x1b" not in cp.stdout
