"""What the sections of bench/run.py share: the variants compared, the
server processes, /proc readings and the arithmetic of best and spread.

A variant is one way a program gets its event loop, as a user runs it:
apython's loop under the apython binary, asyncio's and uvloop's under
--python (/usr/bin/python3). With --same-binary, "uvloop@apython" is
uvloop run by the apython binary: beside "apython" it isolates the loop's
own cost from the interpreter's (the binaries link libpython differently).
"""

import math
import os
import resource
import select
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
VARIANTS = ("apython", "asyncio", "uvloop")
SAME_BINARY = "uvloop@apython"
MEMORY_CONNS = 1000


def fail(msg):
    sys.exit("bench: " + msg)


def progress(line):
    print(line, file=sys.stderr, flush=True)


def cores():
    """The client's core and the server's core."""
    cpus = sorted(os.sched_getaffinity(0))
    return cpus[0], cpus[1] if len(cpus) > 1 else cpus[0]


def variant_argv(args, variant, script):
    """The command that runs a bench script on the variant's loop: the
    binary and script, then the script's --loop option if it needs one."""
    if variant == "apython":
        return [args.apython, os.path.join(HERE, script)], "apython"
    if variant == SAME_BINARY:
        return [args.apython, os.path.join(HERE, script)], "uvloop"
    return [args.python, os.path.join(HERE, script)], variant


def raise_nofile(want):
    """Raise this process's soft RLIMIT_NOFILE (children inherit it) to at
    least want, as far as the hard limit allows; the limit reached."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < want:
        soft = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


class Server:
    """A server process started by a bench section: it prints a line
    starting with `ready` (then the port) once it accepts connections."""

    def __init__(self, argv, ready, cpu=None, env=None):
        if cpu is not None:
            argv = ["taskset", "-c", str(cpu)] + argv
        # A file, not a pipe: a server that logs a lot must not block.
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=self.stderr, env=env)
        self.pid = self.proc.pid
        self.port = self._wait_port(ready, 30)

    def _wait_port(self, ready, timeout):
        """Read the ready line: "READY PORT"."""
        got, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline().decode() if got else ""
        if not line.startswith(ready + " "):
            err = self.stop()
            raise RuntimeError("server did not start: %s" % (
                err.splitlines()[-1][-200:] if err else repr(line)))
        return int(line.split()[1])

    def stop(self):
        """End the server; what it wrote on stderr."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.stderr.seek(0)
        err = self.stderr.read().decode(errors="replace").strip()
        self.stderr.close()
        return err


def cpu_ticks(pid):
    """utime + stime of a process, in clock ticks, from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def status_kib(pid, key):
    """A "kB" field of /proc/PID/status (VmHWM, VmRSS), in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def loadavg():
    """The 1-minute load average."""
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def stat(values, lower_is_better):
    """Best of the per-run values and their spread (max / min - 1)."""
    values = [v for v in values if v]
    if not values:
        return {"best": None, "runs": [], "spread": None}
    best = min(values) if lower_is_better else max(values)
    return {"best": best, "runs": values,
            "spread": max(values) / min(values) - 1}


def ratio(a, b):
    return a / b if a and b else None


def run_ratios(a_runs, b_runs):
    """Per-run ratios of two variants measured in turn (run i against run
    i): their min and max, or None."""
    rs = [a / b for a, b in zip(a_runs, b_runs) if a and b]
    return [min(rs), max(rs)] if rs else None


def fmt_ratio(x):
    return "n/a" if x is None else "%.2f" % x


def fmt_ratio_range(x, rng):
    """A ratio with the range of the per-run ratios: 0.91 (0.88-0.95)."""
    if x is None:
        return "n/a"
    if not rng or len(rng) < 2 or rng[0] == rng[1]:
        return "%.2f" % x
    return "%.2f (%.2f-%.2f)" % (x, rng[0], rng[1])


def fmt_spread(s):
    """The spread of a variant's runs, max / min - 1, in percent."""
    return "" if s is None else "%.0f%%" % (100 * s)


def verdict(x, target, lower_is_better):
    """Met or not, judged on the ratio as shown (two decimals)."""
    if x is None:
        return "n/a"
    x = round(x, 2)
    met = x <= target if lower_is_better else x >= target
    return "met" if met else "NOT met"


def geomean(xs):
    xs = [x for x in xs if x]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else None


def size_name(size):
    return "%dKiB" % (size // 1024) if size % 1024 == 0 else "%dB" % size
