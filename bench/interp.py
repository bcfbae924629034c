"""Interpreter sections of bench/run.py: pure-Python speed and start-up.

Pure: bench/pure.py under apython and under --python in turn, --pure-runs
times; per kernel the best time of each, and apython's over python3's.

Start-up: wall time from exec to exit, each command in turn
--startup-runs times: apython running a file that imports asyncio beside
`python3 FILE`, and apython with its console up (stdin at end of file)
beside `python3 -c "import asyncio"`.
"""

import json
import os
import subprocess
import tempfile
import time

from common import (HERE, fmt_ratio, fmt_ratio_range, fmt_spread, geomean,
                    progress, ratio, run_ratios, stat, verdict)

PURE_TARGET = 1.03
STARTUP_TARGETS = {"ap_file": 1.1, "ap_console": 1.15}


def run_pure(args):
    """{"kernels": {kernel: {interp: {best, runs, spread}}}} or {error}."""
    interps = [("apython", args.apython), ("python3", args.python)]
    runs = {}
    for _ in range(args.pure_runs):
        for name, binary in interps:
            r = subprocess.run(
                [binary, os.path.join(HERE, "pure.py"),
                 "--scale", str(args.pure_scale)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, timeout=600)
            if r.returncode != 0:
                return {"error": "%s bench/pure.py exited %d: %s" % (
                    name, r.returncode, r.stderr.decode()[-300:])}
            for kernel, secs in json.loads(r.stdout).items():
                runs.setdefault(kernel, {n: [] for n, _ in interps})
                runs[kernel][name].append(secs)
    out = {"kernels": {k: {n: stat(v, True) for n, v in per.items()}
                       for k, per in runs.items()}}
    progress("pure %s" % "  ".join(
        "%s %s" % (k, fmt_ratio(pure_ratio(e)[0]))
        for k, e in out["kernels"].items()))
    return out


def pure_ratio(entry):
    a, b = entry["apython"], entry["python3"]
    return ratio(a["best"], b["best"]), run_ratios(a["runs"], b["runs"])


def pure_table(pure):
    headers = ["kernel", "apython s", "spread", "python3 s", "spread",
               "apython / python3", "target"]
    if "error" in pure:
        return headers, [[pure["error"], "", "", "", "", "", ""]]
    rows = []
    for kernel, e in pure["kernels"].items():
        x, rng = pure_ratio(e)
        rows.append([kernel, "%.3f" % e["apython"]["best"],
                     fmt_spread(e["apython"]["spread"]),
                     "%.3f" % e["python3"]["best"],
                     fmt_spread(e["python3"]["spread"]),
                     fmt_ratio_range(x, rng),
                     "<= %.2f %s" % (PURE_TARGET,
                                     verdict(x, PURE_TARGET, True))])
    g = pure_geomean(pure)
    rows.append(["geometric mean", "", "", "", "", fmt_ratio(g),
                 "<= %.2f %s" % (PURE_TARGET, verdict(g, PURE_TARGET, True))])
    return headers, rows


def pure_geomean(pure):
    return geomean([pure_ratio(e)[0] for e in pure["kernels"].values()])


def startup_commands(args, script):
    """(key, name, argv, baseline key or None) of the start-ups measured."""
    return [
        ("py_file", "python3 FILE (FILE imports asyncio)",
         [args.python, script], None),
        ("ap_file", "apython FILE", [args.apython, script], "py_file"),
        ("py_c", "python3 -c 'import asyncio'",
         [args.python, "-c", "import asyncio"], None),
        ("ap_console", "apython, console up, stdin at EOF",
         [args.apython], "py_c"),
    ]


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
    """{key: {name, baseline, best_ms, median_ms, spread, runs, cpu_ms}},
    the commands run in turn, or {"error": ...}."""
    with tempfile.NamedTemporaryFile("w", suffix=".py") as f:
        f.write("import asyncio\n")
        f.flush()
        commands = startup_commands(args, f.name)
        wall = {key: [] for key, _, _, _ in commands}
        cpu = {key: [] for key, _, _, _ in commands}
        for _ in range(args.startup_runs):
            for key, name, argv, _ in commands:
                w, c, status = time_startup(argv)
                if status != 0:
                    return {"error": "%s exited %d" % (name, status)}
                wall[key].append(w)
                cpu[key].append(c)
    out = {}
    for key, name, _, base in commands:
        ts, cs = sorted(wall[key]), sorted(cpu[key])
        out[key] = dict(stat(wall[key], True), name=name, baseline=base,
                        median_ms=ts[len(ts) // 2], cpu_ms=cs[len(cs) // 2])
        progress("startup %-36s best %.1f ms" % (name, ts[0]))
    return out


def startup_table(startup):
    headers = ["start-up", "best ms", "median ms", "spread", "CPU ms (median)",
               "vs python3 (best)", "(median)", "target"]
    if "error" in startup:
        return headers, [[startup["error"]] + [""] * 7]
    rows = []
    for key, t in startup.items():
        row = [t["name"], "%.1f" % t["best"], "%.1f" % t["median_ms"],
               fmt_spread(t["spread"]), "%.1f" % t["cpu_ms"]]
        base = startup.get(t["baseline"])
        if base:
            x = ratio(t["best"], base["best"])
            target = STARTUP_TARGETS.get(key)
            row += [fmt_ratio(x),
                    fmt_ratio(ratio(t["median_ms"], base["median_ms"])),
                    "<= %.2f %s" % (target, verdict(x, target, True))
                    if target else ""]
        else:
            row += ["", "", "(baseline)"]
        rows.append(row)
    return headers, rows
