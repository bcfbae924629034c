"""`make bench`: apython side by side with asyncio and uvloop, as users run
them, and apython's interpreter side by side with python3.

    python3 bench/run.py --apython ./apython [--python /usr/bin/python3]
        [--client bench/client] [--quick] [--same-binary]
        [--no-pure] [--no-web] [--no-echo] [--no-memory] [--no-startup]
        [--no-sched] [--repeat N] [--web-repeat N] ...
        [--json FILE] [--markdown FILE]
    python3 bench/run.py --from-json FILE [--markdown FILE]

Variants (bench/common.py): apython's loop under the apython binary;
asyncio's and uvloop's under --python. Sections, in order of the report:
pure (interpreter speed, bench/interp.py), web (aiohttp + wrk,
bench/webbench.py), echo (bench/echo.py), memory (bench/memory.py),
start-up (bench/interp.py), scheduling (bench/echo.py). Within a section
the variants take turns in each repetition; the tables give the best run,
the spread of the runs and the range of the per-repetition ratios; the
targets are judged on the best runs.

The full run takes about 20 minutes on a quiet machine (echo 14 of them);
--quick (fewer cells, two short runs of each) about 2.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time

from common import (HERE, MEMORY_CONNS, SAME_BINARY, VARIANTS, cores, fail,
                    loadavg, progress, raise_nofile)
from echo import MODES, SIZES, CONNS, run_echo, run_sched
from interp import run_pure, run_startup
from memory import run_memory
from report import render_markdown, render_text, report
from webbench import ROUTES, run_web


def describe(binary):
    """bench/loops.py's description of the loops under a binary."""
    out = subprocess.run([binary, os.path.join(HERE, "loops.py")],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         check=True, timeout=60).stdout
    return json.loads(out)


def machine(args):
    """What the results were measured on, and which loops can be had."""
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ap, py = describe(args.apython), describe(args.python)
    loops = {"apython": ap["loops"]["apython"],
             "asyncio": py["loops"]["asyncio"],
             "uvloop": py["loops"]["uvloop"]}
    if args.same_binary:
        loops[SAME_BINARY] = ap["loops"]["uvloop"]
    return {
        "date": datetime.datetime.now().astimezone().isoformat(
            timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu": model,
        "kernel": platform.release(),
        "python_binary": args.python,
        "interpreters": {"apython": ap["python"], args.python: py["python"]},
        "loops": loops,
    }


def csv(text, convert=str):
    return [convert(x) for x in text.split(",")] if text else None


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--apython", help="the apython binary (required to "
                   "measure)")
    p.add_argument("--python", default="/usr/bin/python3",
                   help="the interpreter that runs asyncio and uvloop, and "
                   "pure.py's baseline (default /usr/bin/python3)")
    p.add_argument("--from-json", metavar="FILE",
                   help="measure nothing: report the results saved by --json")
    p.add_argument("--client", default=os.path.join(HERE, "client"),
                   help="the C load client (built by make bench)")
    p.add_argument("--quick", action="store_true",
                   help="fewer cells, shorter and fewer runs")
    p.add_argument("--same-binary", action="store_true",
                   help="also run uvloop under the apython binary "
                   "(uvloop@apython): the loop's cost without the "
                   "interpreter's")
    for section in ("pure", "web", "echo", "memory", "startup", "sched"):
        p.add_argument("--no-" + section, action="store_true")
    p.add_argument("--warmup", type=float, help="echo: seconds (default 1)")
    p.add_argument("--duration", type=float,
                   help="echo: measured seconds per run (default 2)")
    p.add_argument("--repeat", type=int,
                   help="echo: runs of each cell per variant (default 5, "
                   "--quick 2)")
    p.add_argument("--loops", help="comma-separated variants: apython,"
                   "asyncio,uvloop (apython is always measured)")
    p.add_argument("--modes", help="echo: comma-separated: protocol,streams,"
                   "sock")
    p.add_argument("--sizes", help="echo: comma-separated bytes: "
                   "1024,10240,102400")
    p.add_argument("--conns", help="echo: comma-separated: 10,100")
    p.add_argument("--web-routes", help="comma-separated: hello,api")
    p.add_argument("--web-conns", help="web: comma-separated (default "
                   "50,200; --quick 50)")
    p.add_argument("--web-duration", type=int,
                   help="web: measured seconds per run (default 3)")
    p.add_argument("--web-repeat", type=int,
                   help="web: runs per cell and variant (default 5)")
    p.add_argument("--pure-runs", type=int, help="default 5, --quick 2")
    p.add_argument("--startup-runs", type=int,
                   help="runs of each start-up command (default 40; "
                   "--quick 10)")
    p.add_argument("--sched-runs", type=int, help="default 5, --quick 2")
    p.add_argument("--memory-conns", type=int, default=MEMORY_CONNS)
    p.add_argument("--json", metavar="FILE", help="write all results")
    p.add_argument("--markdown", metavar="FILE",
                   help="write the report as markdown")
    args = p.parse_args(argv)
    if not args.apython and not args.from_json:
        p.error("--apython is required")
    defaults(args)
    for mode in args.modes:
        if mode not in MODES:
            p.error("unknown mode %r" % mode)
    for v in args.loops:
        if v not in VARIANTS:
            p.error("unknown loop %r" % v)
    for routes in args.web_routes:
        if routes not in ROUTES:
            p.error("unknown web routes %r" % routes)
    return args


def defaults(args):
    """Fill in the options not given: the full run's or --quick's."""
    q = args.quick
    args.warmup = args.warmup if args.warmup is not None else (0.5 if q else 1)
    args.duration = args.duration or (1.0 if q else 2.0)
    args.repeat = args.repeat or (2 if q else 5)
    args.loops = csv(args.loops) or list(VARIANTS)
    args.modes = csv(args.modes) or list(MODES)
    args.sizes = csv(args.sizes, int) or ([1024, 102400] if q else list(SIZES))
    args.conns = csv(args.conns, int) or ([100] if q else list(CONNS))
    args.web_routes = csv(args.web_routes) or list(ROUTES)
    args.web_conns = csv(args.web_conns, int) or ([50] if q else [50, 200])
    args.web_duration = args.web_duration or (1 if q else 3)
    args.web_warmup = 1
    args.web_repeat = args.web_repeat or (2 if q else 5)
    args.pure_runs = args.pure_runs or (2 if q else 5)
    args.pure_scale = 0.3 if q else 1.0
    args.sched_time = 0.1 if q else 0.3
    args.sched_runs = args.sched_runs or (2 if q else 5)
    args.startup_runs = args.startup_runs or (10 if q else 40)


def settings(args, cpus):
    return ("client and wrk on core %d, servers on core %d; echo: warm-up "
            "%gs, %gs x %d runs per cell; web: %ds x %d runs; pure: %d runs "
            "(scale %g); start-up: %d runs; scheduling: %gs x %d runs" % (
                cpus[0], cpus[1], args.warmup, args.duration, args.repeat,
                args.web_duration, args.web_repeat, args.pure_runs,
                args.pure_scale, args.startup_runs, args.sched_time,
                args.sched_runs))


def measure(args):
    """Run the sections the options ask for; all results in a dict."""
    for binary in (args.apython, args.python):
        if not os.access(binary, os.X_OK):
            fail("%s: not an executable" % binary)
    if not args.no_echo and not os.access(args.client, os.X_OK):
        fail("%s: not built (make bench builds it)" % args.client)
    # The memory section's servers hold that many connections, this
    # process as many again; the servers inherit the limit.
    nofile = raise_nofile(2 * args.memory_conns + 256)
    if nofile < 2 * args.memory_conns + 64:
        fail("RLIMIT_NOFILE cannot reach %d (hard limit %d)" % (
            2 * args.memory_conns + 64, nofile))
    cpus = cores()
    info = machine(args)
    variants = []
    wanted = ["apython"] + [v for v in args.loops if v != "apython"]
    for v in wanted + ([SAME_BINARY] if args.same_binary else []):
        if info["loops"][v]["available"]:
            variants.append(v)
        else:
            progress("bench: %s unavailable: %s" % (
                v, info["loops"][v]["reason"]))
    if "apython" not in variants:
        fail("apython.Loop unavailable")
    started = time.monotonic()
    load_before = loadavg()
    if load_before > 0.5:
        progress("bench: load average %.2f before the run: other work on "
                 "this machine makes the numbers noisy" % load_before)
    results = {"machine": info, "variants": variants,
               "settings": settings(args, cpus),
               "memory_conns": args.memory_conns}
    sections = [("pure", lambda: run_pure(args)),
                ("web", lambda: run_web(args, variants, cpus)),
                ("echo", lambda: run_echo(args, variants, cpus)),
                ("memory", lambda: run_memory(args, variants, cpus)),
                ("startup", lambda: run_startup(args)),
                ("sched", lambda: run_sched(args, variants, cpus))]
    for name, run in sections:
        t0 = time.monotonic()
        results[name] = None if getattr(args, "no_" + name) else run()
        if results[name] is not None:
            progress("bench: %s took %.0f s" % (name, time.monotonic() - t0))
    results["seconds"] = round(time.monotonic() - started, 1)
    results["loadavg"] = [load_before, loadavg()]
    return results


def upgrade(results):
    """Results saved by the previous harness (all loops under the apython
    binary; no variants, single sched rates, other start-up commands) in
    this one's shape, for --from-json."""
    if "variants" in results:
        return results
    sched = results.get("sched") or {}
    results["variants"] = [v for v in VARIANTS if v in sched or any(
        v in c for c in results.get("echo") or [])]
    m = results["machine"]
    m["python_binary"] = "the apython binary (the previous harness ran " \
        "every loop under it)"
    m["interpreters"] = {"apython": m.get("python", "?")}
    results["sched"] = {v: r if "error" in r else {
        name: {"best": x, "runs": [x], "spread": None}
        for name, x in r.items()} for v, r in sched.items()}
    keys = {"python3 -c 'import asyncio'": ("py_c", None),
            "apython, console up, stdin at EOF": ("ap_console", "py_c"),
            "apython /dev/null (empty program)": ("ap_empty", "py_c")}
    startup = results.get("startup") or {}
    if "error" not in startup:
        results["startup"] = {
            keys[name][0]: {"name": name, "baseline": keys[name][1],
                            "best": t["best_ms"], "median_ms": t["median_ms"],
                            "spread": None, "cpu_ms": t["cpu_ms"]}
            for name, t in startup.items() if name in keys}
    return results


def main(argv):
    args = parse_args(argv)
    if args.from_json:
        with open(args.from_json) as f:
            results = upgrade(json.load(f))
    else:
        results = measure(args)
    print(report(results, render_text), end="")
    if args.json and not args.from_json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(report(results, render_markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
