"""Echo and scheduling sections of bench/run.py.

Echo: for each mode (protocol, streams, sock) one bench/server.py per
variant, pinned to the server core; bench/client (C, pinned to the other
core) drives each cell (message size x connections) in request/response
and reads the server's CPU time from /proc. The variants take turns within
each repetition, so that a slow spell of the machine does not fall on
one loop's runs only.

Scheduling: bench/sched.py once per variant per repetition, in turn.
"""

import json
import os
import subprocess

from common import (SAME_BINARY, Server, fmt_ratio, fmt_ratio_range,
                    fmt_spread, geomean, progress, ratio, run_ratios,
                    size_name, stat, variant_argv, verdict)

MODES = ("protocol", "streams", "sock")
SIZES = (1024, 10240, 102400)
CONNS = (10, 100)
SCHED = ("call_soon", "call_later_cancel", "sleep0", "threadsafe")
ECHO_TARGETS = {"protocol": 1.0, "streams": 0.9, "sock": 0.6}
SCHED_TARGET = 1.2
US = "server_us_per_req"
# The malloc thresholds apython's loop sets on its first large read
# (loop/core.c), given to the other loops' echo servers through glibc's
# tunables: without them, python3's asyncio and uvloop take page faults
# on every 100 KiB message and those cells would measure glibc's trimming
# in apython's favour, not the loops.
MALLOC_TUNABLES = ("glibc.malloc.mmap_threshold=4194304:"
                   "glibc.malloc.trim_threshold=33554432")


def start_server(args, variant, mode, cpu):
    argv, loop = variant_argv(args, variant, "server.py")
    env = None
    if variant != "apython":
        env = dict(os.environ, GLIBC_TUNABLES=MALLOC_TUNABLES)
    return Server(argv + ["--loop", loop, "--mode", mode, "--cpu", str(cpu)],
                  "port", env=env)


def run_client(args, server, size, conns, cpu, warmup=None, duration=None):
    """One run of a cell: the client's key=value line as a dict, or
    {"error": ...}."""
    warmup = args.warmup if warmup is None else warmup
    duration = args.duration if duration is None else duration
    cmd = [args.client, "-p", str(server.port), "-c", str(conns),
           "-s", str(size), "-w", str(warmup), "-d", str(duration),
           "-a", str(cpu), "-P", str(server.pid)]
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=warmup + duration + 60)
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


def prime(args, server, cpu):
    """Bring a fresh server to its steady state with a short unmeasured run.

    Until a process frees its first mmap'ed block, glibc's malloc serves
    every large allocation (asyncio's transports receive into 256 KiB
    bytes) with mmap + mremap + munmap: three syscalls per read. The first
    connection that closes raises the threshold for good, as in any server
    that has run for a while; without this, the first cell of each server
    would measure that start-up state.
    """
    run_client(args, server, 1024, 10, cpu, warmup=0, duration=0.3)


def run_echo(args, variants, cpus):
    """All echo cells: a list of dicts, one entry per variant with the
    best run (least server CPU per request) and every run's value."""
    client_cpu, server_cpu = cpus
    cells = []
    for mode in args.modes:
        servers, errors = {}, {}
        for v in variants:
            try:
                servers[v] = start_server(args, v, mode, server_cpu)
            except RuntimeError as e:
                errors[v] = str(e)
        for server in servers.values():
            prime(args, server, client_cpu)
        try:
            for size in args.sizes:
                for conns in args.conns:
                    cells.append(echo_cell(args, servers, errors, variants,
                                           mode, size, conns, client_cpu))
        finally:
            for server in servers.values():
                server.stop()
    return cells


def echo_cell(args, servers, errors, variants, mode, size, conns, cpu):
    """One cell, the variants in turn in each repetition."""
    runs = {v: [] for v in variants}
    best = {v: {"error": errors.get(v, "not run")} for v in variants}
    for _ in range(args.repeat):
        for v in servers:
            r = run_client(args, servers[v], size, conns, cpu)
            runs[v].append(r.get(US))
            best[v] = better(best[v], r)
    cell = {"mode": mode, "size": size, "conns": conns}
    for v in variants:
        cell[v] = dict(best[v], runs_us=runs[v],
                       spread=stat(runs[v], True)["spread"])
    progress("echo %-8s %6s x%-3d  %s" % (
        mode, size_name(size), conns, "  ".join(
            "%s %s" % (v, "%.2f" % cell[v][US] if US in cell[v] else "err")
            for v in variants)))
    return cell


def better(a, b):
    """Of two runs of a cell, the one with less server CPU per request
    (a failed run only if neither has one)."""
    if US not in b:
        return a if US in a else b
    return a if US in a and a[US] <= b[US] else b


def run_sched(args, variants, cpus):
    """Scheduling rates: {variant: {benchmark: {best, runs, spread}}} or
    {variant: {"error": ...}}; one process per variant per repetition."""
    runs = {v: {name: [] for name in SCHED} for v in variants}
    errors = {}
    for _ in range(args.sched_runs):
        for v in variants:
            if v in errors:
                continue
            argv, loop = variant_argv(args, v, "sched.py")
            cmd = argv + ["--loop", loop, "--cpu", str(cpus[1]),
                          "--time", str(args.sched_time), "--repeat", "1",
                          "--json"]
            try:
                r = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, timeout=300)
            except subprocess.TimeoutExpired:
                errors[v] = "timed out"
                continue
            if r.returncode != 0:
                errors[v] = r.stderr.decode().strip()[-300:]
                continue
            for name, rate in json.loads(r.stdout).items():
                runs[v][name].append(rate)
    out = {}
    for v in variants:
        if v in errors:
            out[v] = {"error": errors[v]}
            continue
        out[v] = {name: stat(runs[v][name], False) for name in SCHED}
        progress("sched %-14s %s" % (v, "  ".join(
            "%s %.0f" % (name, out[v][name]["best"] or 0) for name in SCHED)))
    return out


def echo_ratios(c, other):
    """apython's CPU per request over other's: best, per-run range."""
    a, b = c.get("apython", {}), c.get(other, {})
    return ratio(a.get(US), b.get(US)), run_ratios(a.get("runs_us", []),
                                                   b.get("runs_us", []))


def echo_table(cells, variants):
    """Headers and rows of the echo table."""
    headers = ["mode", "size", "conns"]
    for v in variants:
        headers += [v + " req/s", "µs/req", "spread", "cpu%", "flt"]
    headers += ["µs/req vs uvloop", "vs asyncio"]
    if SAME_BINARY in variants:
        headers += ["vs uvloop, same binary (loop only)"]
    headers += ["target"]
    rows = []
    for c in cells:
        row = [c["mode"], size_name(c["size"]), str(c["conns"])]
        for v in variants:
            r = c.get(v, {})
            if US not in r:
                row += ["err", "err", "", "", ""]
            else:
                row += ["%.0f" % r["rps"], "%.2f" % r[US],
                        fmt_spread(r.get("spread")),
                        "%.0f" % (100 * r["server_busy"]),
                        "%.1f" % r.get("server_faults_per_req", 0)]
        others = ["uvloop", "asyncio"] + \
            ([SAME_BINARY] if SAME_BINARY in variants else [])
        for other in others:
            row.append(fmt_ratio_range(*echo_ratios(c, other)))
        target = ECHO_TARGETS[c["mode"]]
        row.append("<= %.1f %s" % (target, verdict(
            echo_ratios(c, "uvloop")[0], target, True)))
        rows.append(row)
    return headers, rows


def echo_summary(cells):
    """One line per mode: how many cells meet the target (on the best
    runs), geometric means."""
    lines = []
    for mode in MODES:
        mine = [c for c in cells if c["mode"] == mode]
        if not mine:
            continue
        target = ECHO_TARGETS[mode]
        vs_uv = [echo_ratios(c, "uvloop")[0] for c in mine]
        vs_aio = [echo_ratios(c, "asyncio")[0] for c in mine]
        known = [x for x in vs_uv if x is not None]
        met = "met in %d of %d cells" % (
            sum(round(x, 2) <= target for x in known), len(known)) if known \
            else "not measured"
        lines.append(
            "%s: target <= %.1f x uvloop's CPU per request: %s (geometric "
            "mean %s x uvloop, %s x asyncio)" % (
                mode, target, met, fmt_ratio(geomean(vs_uv)),
                fmt_ratio(geomean(vs_aio))))
    faulty = sorted({"%s %s %s x%d" % (v, c["mode"], size_name(c["size"]),
                                       c["conns"])
                     for c in cells for v, r in c.items()
                     if isinstance(r, dict) and
                     r.get("server_faults_per_req", 0) >= 1})
    if faulty:
        lines.append(
            "flt >= 1 (%s): that server takes page faults on every request: "
            "glibc's malloc returns and re-takes memory for large messages "
            "(every echo server runs with the thresholds apython's loop sets "
            "on its first large read; see \"glibc's malloc thresholds\" in "
            "bench/RESULTS.md), so the cell measures malloc more than the "
            "loop" % ", ".join(faulty))
    return lines


def sched_best(sched, v, name):
    entry = sched.get(v, {}).get(name)
    return entry if isinstance(entry, dict) else {}


def sched_table(sched, variants):
    headers = ["benchmark"]
    for v in variants:
        headers += [v + " ops/s", "spread"]
    others = ["uvloop", "asyncio"] + \
        ([SAME_BINARY] if SAME_BINARY in variants else [])
    headers += ["vs " + o for o in others] + ["target"]
    rows = []
    for name in SCHED:
        row = [name]
        for v in variants:
            e = sched_best(sched, v, name)
            row += ["%.0f" % e["best"] if e.get("best") else "err",
                    fmt_spread(e.get("spread"))]
        a = sched_best(sched, "apython", name)
        for o in others:
            b = sched_best(sched, o, name)
            row.append(fmt_ratio_range(
                ratio(a.get("best"), b.get("best")),
                run_ratios(a.get("runs", []), b.get("runs", []))))
        uv = ratio(a.get("best"), sched_best(sched, "uvloop", name).get("best"))
        row.append(">= %.1f %s" % (SCHED_TARGET,
                                   verdict(uv, SCHED_TARGET, False)))
        rows.append(row)
    return headers, rows

