"""`make install` / `make uninstall` with DESTDIR, and `make bench`'s C
client, on the configured build tree the tests run from (tests/run's copy
in CI): nothing is written there, only under the test's tmp_path."""

import os
import re
import shutil
import signal
import stat
import subprocess

import pytest

from conftest import REPO, TIMEOUT, clean_env

# What the project's code must be clean with (helper rules, style).
STRICT = "-Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wformat=2"


def configured():
    """config.mk's settings, or skip when the tree is not configured."""
    path = REPO / "config.mk"
    if not path.exists():
        pytest.skip("the source tree is not configured (./configure)")
    settings = {}
    for line in path.read_text().splitlines():
        m = re.match(r"(\w+) = (.*)", line)
        if m:
            settings[m.group(1)] = m.group(2)
    return settings


def make(*args, cwd=REPO):
    """make in cwd with REPO's Makefile; config.mk and apython are taken
    as they are (never remade here)."""
    cp = subprocess.run(["make", "-s", "-f", str(REPO / "Makefile"),
                         "-o", "config.mk", "-o", "apython", *args],
                        cwd=str(cwd), stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, timeout=120)
    assert cp.returncode == 0, cp.stderr.decode(errors="replace")
    return cp


def test_make_install_and_uninstall_with_destdir(tmp_path):
    prefix = configured()["prefix"]
    dest = tmp_path / "dest"
    make("install", "DESTDIR=%s" % dest)
    root = dest / prefix.lstrip("/")
    binary = root / "bin" / "apython"
    manual = root / "share" / "man" / "man1" / "apython.1"
    # apython is a link to apythonX.Y, apythonX.Y.1 to apython.1 (issue 14:
    # builds for several Pythons side by side; test_venv.py).
    x_y = "apython" + configured()["PYTHON_VERSION"]
    assert sorted(str(p.relative_to(dest)) for p in dest.rglob("*")
                  if p.is_file()) == sorted(
                      str(p.relative_to(dest)) for p in
                      [binary, binary.with_name(x_y), manual,
                       manual.with_name(x_y + ".1")])
    assert stat.S_IMODE(binary.stat().st_mode) == 0o755
    assert stat.S_IMODE(manual.stat().st_mode) == 0o644
    assert binary.read_bytes() == (REPO / "apython").read_bytes()
    assert manual.read_bytes() == (REPO / "man" / "apython.1").read_bytes()
    built = subprocess.run([str(REPO / "apython"), "--version"],
                           stdout=subprocess.PIPE, env=clean_env(),
                           timeout=TIMEOUT)
    cp = subprocess.run([str(binary), "--version"], stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, env=clean_env(),
                        timeout=TIMEOUT)
    assert cp.returncode == 0
    assert cp.stdout.startswith(b"apython ")
    assert cp.stdout == built.stdout
    prog = tmp_path / "prog.py"
    prog.write_text("print(6 * 7)\n")
    cp = subprocess.run([str(binary), str(prog)],
                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, env=clean_env(),
                        timeout=TIMEOUT)
    assert (cp.returncode, cp.stdout, cp.stderr) == (0, b"42\n", b"")
    make("uninstall", "DESTDIR=%s" % dest)
    assert not binary.exists()
    assert not manual.exists()


def test_bench_client_builds_clean_and_measures_an_echo_server(tmp_path,
                                                               start):
    settings = configured()
    # bench/client with `make bench`'s rule, in tmp_path (its own tree).
    (tmp_path / "bench").mkdir()
    shutil.copy(str(REPO / "bench" / "client.c"), str(tmp_path / "bench"))
    shutil.copy(str(REPO / "config.mk"), str(tmp_path))
    make("bench/client", "WERROR=-Werror",
         "CFLAGS=%s %s" % (settings.get("CFLAGS", ""), STRICT), cwd=tmp_path)
    client = tmp_path / "bench" / "client"
    cpu = min(os.sched_getaffinity(0))
    # As bench/run.py runs them: the echo server under apython, the
    # client for a short cell, reading the server's CPU time.
    server = start([REPO / "bench" / "server.py", "--loop", "apython",
                    "--mode", "protocol", "--cpu", cpu])
    port = server.expect_stdout(re.compile(rb"port (\d+)\n")).group(1)
    cp = subprocess.run([str(client), "-p", port.decode(), "-c", "2",
                         "-s", "1024", "-w", "0", "-d", "0.5",
                         "-a", str(cpu), "-P", str(server.popen.pid)],
                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, timeout=TIMEOUT + 30)
    assert cp.returncode == 0, cp.stderr
    assert cp.stderr == b""
    cell = dict(pair.split("=", 1) for pair in cp.stdout.decode().split())
    assert sorted(cell) == ["client_busy", "requests", "rps", "seconds",
                            "server_busy", "server_cpu_s",
                            "server_faults_per_req", "server_us_per_req"]
    assert float(cell["requests"]) > 0
    assert float(cell["seconds"]) > 0
    # bench/run.py ends its servers so.
    server.popen.terminate()
    assert server.wait() == -signal.SIGTERM
