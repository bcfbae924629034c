"""`make bench`: apython.Loop side by side with asyncio's loop and uvloop.

    python3 bench/run.py --apython ./apython [--client bench/client]
        [--quick] [--warmup S] [--duration S] [--repeat N]
        [--modes ...] [--sizes ...] [--conns ...] [--loops ...]
        [--no-echo] [--no-sched] [--no-startup] [--startup-runs N]
        [--json FILE] [--markdown FILE]

The full run (3 modes x 3 sizes x 2 connection counts x 3 loops, each cell
1 s warm-up + 2 s measured, best of 3, then the scheduling benchmarks)
takes about 9 minutes; --quick (1 KiB and 100 KiB, 100 connections, one
1 s run per cell, short scheduling runs) well under one.

Echo: for each mode (protocol, streams, sock), bench/server.py runs under
the apython binary once per loop, pinned to one core; bench/client (C,
pinned to the other core) drives each cell (message size x connections)
in request/response and reads the server's CPU time from /proc. Reported:
req/s and the server's CPU microseconds per request, with the ratio
apython / other of the latter (lower is better).

Scheduling: bench/sched.py under the apython binary for each loop, in
operations per second, with the ratio apython / other (higher is better).

Start-up: wall time from exec to exit of apython with its console up and
stdin at end of file, and of apython running an empty program, each beside
`python3 -c "import asyncio"` (this script's own interpreter), the three
run in turn N times; best and median wall time, median CPU time, and the
ratio of the best wall times.

Targets (issue 3): CPU per request relative to uvloop, protocol <= 1.0,
streams <= 0.9, sock <= 0.6; each scheduling benchmark >= 1.2x uvloop.
"""

import argparse
import datetime
import json
import math
import os
import platform
import select
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LOOPS = ("apython", "asyncio", "uvloop")
MODES = ("protocol", "streams", "sock")
SIZES = (1024, 10240, 102400)
CONNS = (10, 100)
SCHED = ("call_soon", "call_later_cancel", "sleep0", "threadsafe")
ECHO_TARGETS = {"protocol": 1.0, "streams": 0.9, "sock": 0.6}
SCHED_TARGET = 1.2


def fail(msg):
    sys.exit("bench: " + msg)


def cores():
    """The client's core and the server's core."""
    cpus = sorted(os.sched_getaffinity(0))
    return cpus[0], cpus[1] if len(cpus) > 1 else cpus[0]


def machine(apython):
    """What the results were measured on."""
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    out = subprocess.run([apython, os.path.join(HERE, "loops.py")],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         check=True, timeout=60).stdout
    info = json.loads(out)
    return {
        "date": datetime.datetime.now().astimezone().isoformat(
            timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu": model,
        "kernel": platform.release(),
        "python": info["python"],
        "loops": info["loops"],
    }


class Server:
    """One bench/server.py process."""

    def __init__(self, apython, loop, mode, cpu):
        self.proc = subprocess.Popen(
            [apython, os.path.join(HERE, "server.py"), "--loop", loop,
             "--mode", mode, "--cpu", str(cpu)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        self.pid = self.proc.pid
        self.port = self._wait_port(20)

    def _wait_port(self, timeout):
        """Read the "port N" line the server prints once it listens."""
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline().decode() if ready else ""
        if not line.startswith("port "):
            self.stop()
            raise RuntimeError("server did not start (%r)" % line)
        return int(line.split()[1])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()


def run_client(client, server, size, conns, args, cpu):
    """One cell: the client's key=value line as a dict, or an error."""
    cmd = [client, "-p", str(server.port), "-c", str(conns), "-s", str(size),
           "-w", str(args.warmup), "-d", str(args.duration), "-a", str(cpu),
           "-P", str(server.pid)]
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=args.warmup + args.duration + 60)
    except subprocess.TimeoutExpired:
        return {"error": "client timed out"}
    if r.returncode != 0:
        return {"error": r.stderr.decode().strip() or
                "client exited %d" % r.returncode}
    cell = {}
    for pair in r.stdout.decode().split():
        key, value = pair.split("=", 1)
        cell[key] = float(value)
    return cell


def run_echo(args, loops, cpus):
    """All echo cells: a list of dicts."""
    client_cpu, server_cpu = cpus
    cells = []
    for mode in args.modes:
        servers = {}
        errors = {}
        for loop in loops:
            try:
                servers[loop] = Server(args.apython, loop, mode, server_cpu)
            except RuntimeError as e:
                errors[loop] = str(e)
        for server in servers.values():
            prime(args.client, server, client_cpu)
        try:
            for size in args.sizes:
                for conns in args.conns:
                    cell = {"mode": mode, "size": size, "conns": conns}
                    for loop in loops:
                        cell[loop] = {"error": errors.get(loop)}
                    for _ in range(args.repeat):
                        for loop in servers:
                            r = run_client(args.client, servers[loop], size,
                                           conns, args, client_cpu)
                            cell[loop] = better(cell[loop], r)
                    cells.append(cell)
                    progress("echo %-8s %6s x%-3d  %s" % (
                        mode, size_name(size), conns,
                        "  ".join("%s %s" % (l, fmt_us(cell[l]))
                                  for l in loops)))
        finally:
            for server in servers.values():
                server.stop()
    return cells


def prime(client, server, cpu):
    """Bring a fresh server to its steady state with a short unmeasured run.

    Until a process frees its first mmap'ed block, glibc's malloc serves
    every large allocation (asyncio's transports receive into 256 KiB
    bytes) with mmap + mremap + munmap: three syscalls per read. The first
    connection that closes raises the threshold for good, as in any server
    that has run for a while; without this, the first cell of each server
    would measure that start-up state.
    """
    class Short:
        warmup, duration = 0, 0.3
    run_client(client, server, 1024, 10, Short, cpu)


def better(a, b):
    """Of two runs of a cell, the one with less server CPU per request."""
    key = "server_us_per_req"
    if key not in b:
        return a if key in a else b
    return a if key in a and a[key] <= b[key] else b


def run_sched(args, loops, cpus):
    """Scheduling rates: {loop: {benchmark: ops/s}} or {loop: {error}}."""
    out = {}
    for loop in loops:
        cmd = [args.apython, os.path.join(HERE, "sched.py"), "--loop", loop,
               "--cpu", str(cpus[1]), "--time", str(args.sched_time),
               "--repeat", str(args.sched_repeat), "--json"]
        try:
            r = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=300)
        except subprocess.TimeoutExpired:
            out[loop] = {"error": "timed out"}
            continue
        if r.returncode != 0:
            out[loop] = {"error": r.stderr.decode().strip()[-300:]}
        else:
            out[loop] = json.loads(r.stdout)
        progress("sched %-8s %s" % (loop, "  ".join(
            "%s %.0f" % kv for kv in out[loop].items()
            if not isinstance(kv[1], str))))
    return out


def startup_commands(apython):
    """(name, argv) of the start-ups measured; the first is the baseline."""
    return [("python3 -c 'import asyncio'",
             [sys.executable, "-c", "import asyncio"]),
            ("apython, console up, stdin at EOF", [apython]),
            ("apython /dev/null (empty program)", [apython, "/dev/null"])]


def time_startup(argv):
    """Wall and CPU (user + system) milliseconds from exec to exit, and
    the exit status. os.wait4, not subprocess's wait: with a timeout that
    one polls in steps of up to 50 ms."""
    start = time.perf_counter()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    wall = (time.perf_counter() - start) * 1000
    p.returncode = os.waitstatus_to_exitcode(status)
    return wall, (usage.ru_utime + usage.ru_stime) * 1000, p.returncode


def run_startup(args):
    """Start-up times: {name: {best_ms, median_ms, cpu_ms}}, run in turn."""
    commands = startup_commands(args.apython)
    times = {name: [] for name, _ in commands}
    cpu = {name: [] for name, _ in commands}
    for _ in range(args.startup_runs):
        for name, argv in commands:
            wall, used, status = time_startup(argv)
            if status != 0:
                return {"error": "%s exited %d" % (name, status)}
            times[name].append(wall)
            cpu[name].append(used)
    out = {}
    for name, ts in times.items():
        ts.sort()
        cs = sorted(cpu[name])
        out[name] = {"best_ms": ts[0], "median_ms": ts[len(ts) // 2],
                     "cpu_ms": cs[len(cs) // 2]}
        progress("startup %-36s best %.1f ms" % (name, ts[0]))
    return out


def startup_table(startup):
    headers = ["start-up", "best ms", "median ms", "CPU ms (median)",
               "vs python3"]
    if "error" in startup:
        return headers, [[startup["error"], "err", "err", "err", "-"]]
    base = next(iter(startup.values()))["best_ms"]
    rows = [[name, "%.1f" % t["best_ms"], "%.1f" % t["median_ms"],
             "%.1f" % t["cpu_ms"], fmt_ratio(ratio(t["best_ms"], base))]
            for name, t in startup.items()]
    return headers, rows


def loadavg():
    """The 1-minute load average."""
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def progress(line):
    print(line, file=sys.stderr, flush=True)


def size_name(size):
    return "%dKiB" % (size // 1024) if size % 1024 == 0 else "%dB" % size


def fmt_us(r):
    return "%.2f" % r["server_us_per_req"] if "server_us_per_req" in r \
        else "err"


def ratio(a, b):
    return a / b if a and b else None


def fmt_ratio(x):
    return "n/a" if x is None else "%.2f" % x


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


def echo_table(cells, loops):
    """Headers and rows of the echo table."""
    headers = ["mode", "size", "conns"]
    for loop in loops:
        headers += [loop + " req/s", "µs/req", "cpu%", "flt"]
    headers += ["µs/req vs uvloop", "vs asyncio", "target"]
    rows = []
    for c in cells:
        row = [c["mode"], size_name(c["size"]), str(c["conns"])]
        for loop in loops:
            r = c[loop]
            if "error" in r or "server_us_per_req" not in r:
                row += ["err", "err", "", ""]
            else:
                row += ["%.0f" % r["rps"], "%.2f" % r["server_us_per_req"],
                        "%.0f" % (100 * r["server_busy"]),
                        "%.1f" % r.get("server_faults_per_req", 0)]
        vs_uv, vs_aio = echo_ratios(c)
        target = ECHO_TARGETS[c["mode"]]
        row += [fmt_ratio(vs_uv), fmt_ratio(vs_aio),
                "<= %.1f %s" % (target, verdict(vs_uv, target, True))]
        rows.append(row)
    return headers, rows


def us(cell, loop):
    return cell.get(loop, {}).get("server_us_per_req")


def echo_ratios(c):
    a = us(c, "apython")
    return ratio(a, us(c, "uvloop")), ratio(a, us(c, "asyncio"))


def echo_summary(cells):
    """One line per mode: how many cells meet the target, geometric means."""
    lines = []
    for mode in MODES:
        mine = [c for c in cells if c["mode"] == mode]
        if not mine:
            continue
        target = ECHO_TARGETS[mode]
        vs_uv = [echo_ratios(c)[0] for c in mine]
        vs_aio = [echo_ratios(c)[1] for c in mine]
        known = [x for x in vs_uv if x is not None]
        met = "met in %d of %d cells" % (
            sum(round(x, 2) <= target for x in known), len(known)) if known \
            else "not measured"
        lines.append(
            "%s: target <= %.1f x uvloop's CPU per request: %s (geometric "
            "mean %s x uvloop, %s x asyncio)" % (
                mode, target, met, fmt_ratio(geomean(vs_uv)),
                fmt_ratio(geomean(vs_aio))))
    return lines


def sched_table(sched, loops):
    headers = ["benchmark"] + [l + " ops/s" for l in loops] + \
        ["vs uvloop", "vs asyncio", "target"]
    rows = []
    for name in SCHED:
        row = [name]
        for loop in loops:
            v = sched.get(loop, {}).get(name)
            row.append("%.0f" % v if isinstance(v, float) else "err")
        a = sched.get("apython", {}).get(name)
        uv = ratio(a, sched.get("uvloop", {}).get(name))
        aio = ratio(a, sched.get("asyncio", {}).get(name))
        row += [fmt_ratio(uv), fmt_ratio(aio),
                ">= %.1f %s" % (SCHED_TARGET,
                                verdict(uv, SCHED_TARGET, False))]
        rows.append(row)
    return headers, rows


def render_text(headers, rows):
    """An aligned table: words to the left, numbers to the right."""
    widths = [max(len(r[i]) for r in [headers] + rows)
              for i in range(len(headers))]
    numeric = [all(is_number(r[i]) for r in rows)
               for i in range(len(headers))]

    def line(r):
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(r, widths, numeric)).rstrip()

    return "\n".join([line(headers)] + [line(r) for r in rows])


def is_number(s):
    try:
        float(s)
    except ValueError:
        return s in ("n/a", "err", "")
    return True


def render_markdown(headers, rows):
    out = ["| " + " | ".join(headers) + " |",
           "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def report(results, loops, render):
    """The whole report, tables rendered by render."""
    m = results["machine"]
    item = "- " if render is render_markdown else ""
    parts = ["Date: %s" % m["date"],
             "Machine: %d cores (nproc), %s, kernel %s, Python %s" % (
                 m["nproc"], m["cpu"], m["kernel"], m["python"]),
             "Loops: " + ", ".join(
                 "%s %s" % (n, i["version"]) if i["available"] else
                 "%s unavailable (%s)" % (n, i["reason"])
                 for n, i in m["loops"].items()),
             "Settings: %s" % results["settings"],
             "Load average (1 min) before / after: %.2f / %.2f; run took "
             "%.0f s" % (results["loadavg"][0], results["loadavg"][1],
                         results["seconds"])]
    parts = [item + p for p in parts]
    if results["echo"]:
        parts += ["",
                  "Echo server: req/s, server CPU µs per request (lower is "
                  "better), server core busy % (cpu%), server page faults "
                  "per request (flt); ratios are apython's CPU per request "
                  "over the other loop's.", "",
                  render(*echo_table(results["echo"], loops)), ""]
        parts += [item + line for line in echo_summary(results["echo"])]
    if results.get("startup"):
        parts += ["", "Start-up: each command run in turn (ratios are "
                  "over python3's best wall time).", "",
                  render(*startup_table(results["startup"]))]
    if results["sched"]:
        parts += ["", "Scheduling: operations per second (higher is "
                  "better); ratios are apython's rate over the other "
                  "loop's.", "", render(*sched_table(results["sched"],
                                                     loops))]
    return "\n".join(parts) + "\n"


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--apython", help="the apython binary (required to "
                   "measure)")
    p.add_argument("--from-json", metavar="FILE",
                   help="measure nothing: report the results saved by --json")
    p.add_argument("--client", default=os.path.join(HERE, "client"),
                   help="the C load client (built by make bench)")
    p.add_argument("--quick", action="store_true",
                   help="fewer cells (1 KiB and 100 KiB, 100 connections), "
                   "one shorter run each")
    p.add_argument("--warmup", type=float, help="seconds (default 1)")
    p.add_argument("--duration", type=float,
                   help="measured seconds per cell (default 2)")
    p.add_argument("--repeat", type=int,
                   help="run each cell this many times, keep the run with "
                   "the least server CPU per request (default 3)")
    p.add_argument("--modes", help="comma-separated: protocol,streams,sock")
    p.add_argument("--sizes", help="comma-separated bytes: 1024,10240,102400")
    p.add_argument("--conns", help="comma-separated: 10,100")
    p.add_argument("--loops", help="comma-separated: apython,asyncio,uvloop")
    p.add_argument("--no-echo", action="store_true")
    p.add_argument("--no-sched", action="store_true")
    p.add_argument("--no-startup", action="store_true")
    p.add_argument("--startup-runs", type=int,
                   help="start-up runs of each command (default 40; "
                   "--quick 10)")
    p.add_argument("--json", metavar="FILE", help="write all results")
    p.add_argument("--markdown", metavar="FILE",
                   help="write the report as markdown")
    args = p.parse_args(argv)
    if not args.apython and not args.from_json:
        p.error("--apython is required")
    q = args.quick
    args.warmup = args.warmup if args.warmup is not None else (0.5 if q else 1)
    args.duration = args.duration or (1.0 if q else 2.0)
    args.repeat = args.repeat or (1 if q else 3)
    args.modes = args.modes.split(",") if args.modes else list(MODES)
    args.sizes = [int(s) for s in args.sizes.split(",")] if args.sizes \
        else ([1024, 102400] if q else list(SIZES))
    args.conns = [int(c) for c in args.conns.split(",")] if args.conns \
        else ([100] if q else list(CONNS))
    args.loops = args.loops.split(",") if args.loops else list(LOOPS)
    args.sched_time = 0.1 if q else 0.3
    args.sched_repeat = 1 if q else 5
    args.startup_runs = args.startup_runs or (10 if q else 40)
    for mode in args.modes:
        if mode not in MODES:
            p.error("unknown mode %r" % mode)
    for loop in args.loops:
        if loop not in LOOPS:
            p.error("unknown loop %r" % loop)
    return args


def main(argv):
    args = parse_args(argv)
    if args.from_json:
        with open(args.from_json) as f:
            results = json.load(f)
    else:
        results = measure(args)
    shown = [l for l in LOOPS if any(
        l in c for c in results["echo"]) or l in results["sched"]]
    print(report(results, shown, render_text), end="")
    if args.json and not args.from_json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(report(results, shown, render_markdown))
    return 0


def measure(args):
    """Run the benchmarks the options ask for; all results in a dict."""
    if not os.access(args.apython, os.X_OK):
        fail("%s: not an executable" % args.apython)
    if not args.no_echo and not os.access(args.client, os.X_OK):
        fail("%s: not built (make bench builds it)" % args.client)
    cpus = cores()
    info = machine(args.apython)
    loops = []
    for loop in args.loops:
        if info["loops"][loop]["available"]:
            loops.append(loop)
        else:
            progress("bench: %s unavailable: %s" % (
                loop, info["loops"][loop]["reason"]))
    if "apython" not in loops:
        fail("apython.Loop unavailable")
    started = time.monotonic()
    load_before = loadavg()
    if load_before > 0.5:
        progress("bench: load average %.2f before the run: other work on "
                 "this machine makes the numbers noisy" % load_before)
    results = {
        "machine": info,
        "settings": "warm-up %gs, measure %gs per cell, best of %d; "
                    "client on core %d, servers on core %d; scheduling "
                    "%gs x %d runs, best" % (
                        args.warmup, args.duration, args.repeat, cpus[0],
                        cpus[1], args.sched_time, args.sched_repeat),
        "echo": [] if args.no_echo else run_echo(args, loops, cpus),
        "sched": {} if args.no_sched else run_sched(args, loops, cpus),
        "startup": {} if args.no_startup else run_startup(args),
    }
    results["seconds"] = round(time.monotonic() - started, 1)
    results["loadavg"] = [load_before, loadavg()]
    return results


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
