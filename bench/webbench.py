"""Web section of bench/run.py: the aiohttp application of bench/web.py
driven by wrk.

One bench/web.py per variant, pinned to the server core with taskset
(`apython bench/web.py`, `PYTHON bench/web.py --loop uvloop|asyncio`,
stdin /dev/null); wrk, one thread, pinned to the client core, drives each
cell (routes x connections, keep-alive) for --web-duration seconds after an
unmeasured warm-up of each server. The variants take turns within each
repetition. The server's CPU time (utime + stime from /proc/PID/stat) is
read just before wrk starts and just after it ends, and divided by the
requests wrk completed (bench/wrk.lua prints wrk's own counts); responses
>= 400 and socket errors are reported as errors.
"""

import json
import os
import shutil
import subprocess

from common import (HERE, SAME_BINARY, Server, cpu_ticks, fmt_ratio,
                    fmt_ratio_range, fmt_spread, geomean, progress, ratio,
                    run_ratios, stat, variant_argv, verdict)

ROUTES = {"hello": "GET / (text)",
          "api": "JSON API: GET /json, /users/N, /users?limit=10, POST /users"}
CPU_TARGET = 0.9
RPS_TARGET = 1.1
CLK_TCK = os.sysconf("SC_CLK_TCK")
WRK_MISSING = "wrk is not installed: apt-get install -y wrk"


def start_web(args, variant, cpu):
    argv, loop = variant_argv(args, variant, "web.py")
    if variant != "apython":
        argv += ["--loop", loop]
    return Server(argv, "ready", cpu=cpu)


def wrk(port, routes, conns, seconds, cpu):
    """One wrk run: its counts as a dict, or {"error": ...}."""
    cmd = ["taskset", "-c", str(cpu), "wrk", "-t1", "-c%d" % conns,
           "-d%ds" % seconds, "--timeout", "10s",
           "-s", os.path.join(HERE, "wrk.lua"), "http://127.0.0.1:%d/" % port]
    env = dict(os.environ, WRK_ROUTES=routes)
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=seconds + 60)
    except subprocess.TimeoutExpired:
        return {"error": "wrk timed out"}
    for line in r.stdout.decode().splitlines():
        if line.startswith("wrk-json "):
            return json.loads(line.split(" ", 1)[1])
    return {"error": "wrk exited %d: %s" % (
        r.returncode, (r.stderr or r.stdout).decode().strip()[-300:])}


def measured_run(server, routes, conns, seconds, cpu):
    """One measured run against one server: rps, server µs per request,
    errors."""
    try:
        before = cpu_ticks(server.pid)
        w = wrk(server.port, routes, conns, seconds, cpu)
        after = cpu_ticks(server.pid)
    except OSError as e:
        return {"error": "server gone: %s" % e}
    if "error" in w:
        return w
    if not w["requests"]:
        return {"error": "no request completed"}
    secs = w["duration_us"] / 1e6
    server_s = (after - before) / CLK_TCK
    errors = sum(w[k] for k in ("connect", "read", "write", "status",
                                "timeout"))
    return {"requests": w["requests"], "rps": w["requests"] / secs,
            "us_per_req": server_s * 1e6 / w["requests"],
            "server_busy": server_s / secs, "errors": errors,
            "wrk": w}


def run_web(args, variants, cpus):
    """{"cells": [...]} or {"skipped": why}."""
    if not shutil.which("wrk"):
        progress("bench: web section skipped: " + WRK_MISSING)
        return {"skipped": WRK_MISSING}
    client_cpu, server_cpu = cpus
    servers, errors = {}, {}
    for v in variants:
        try:
            servers[v] = start_web(args, v, server_cpu)
        except RuntimeError as e:
            errors[v] = str(e)
    cells = [(routes, conns) for routes in args.web_routes
             for conns in args.web_conns]
    try:
        for server in servers.values():
            for routes, conns in cells:
                wrk(server.port, routes, conns, args.web_warmup, client_cpu)
        runs = {cell: {v: [] for v in variants} for cell in cells}
        for _ in range(args.web_repeat):
            for cell in cells:
                for v in servers:
                    runs[cell][v].append(measured_run(
                        servers[v], cell[0], cell[1], args.web_duration,
                        client_cpu))
    finally:
        for v, server in servers.items():
            err = server.stop()
            if server.proc.returncode not in (0, -15):
                errors.setdefault(v, "web.py exited %d: %s" % (
                    server.proc.returncode, err[-300:]))
    out = [web_cell(routes, conns, runs[(routes, conns)], errors, variants)
           for routes, conns in cells]
    return {"cells": out}


def web_cell(routes, conns, runs, errors, variants):
    """A cell: per variant the best run (least CPU per request), each
    run's CPU per request and rps, their spread, the errors."""
    cell = {"routes": routes, "conns": conns}
    for v in variants:
        if v in errors or not runs[v]:
            cell[v] = {"error": errors.get(v, "not run")}
            continue
        good = [r for r in runs[v] if "us_per_req" in r]
        failed = [r["error"] for r in runs[v] if "error" in r]
        us = [r.get("us_per_req") for r in runs[v]]
        rps = [r.get("rps") for r in runs[v]]
        if not good:
            cell[v] = {"error": failed[0]}
            continue
        best = min(good, key=lambda r: r["us_per_req"])
        cell[v] = {"us_per_req": best["us_per_req"],
                   "rps": stat(rps, False)["best"],
                   "server_busy": best["server_busy"],
                   "errors": sum(r.get("errors", 0) for r in good),
                   "failed_runs": failed,
                   "runs_us": us, "runs_rps": rps,
                   "us_spread": stat(us, True)["spread"],
                   "rps_spread": stat(rps, False)["spread"]}
    progress("web %-5s c%-3d %s" % (routes, conns, "  ".join(
        "%s %s" % (v, "%.1f us %.0f rps" % (cell[v]["us_per_req"],
                                           cell[v]["rps"])
                   if "us_per_req" in cell[v] else "err")
        for v in variants)))
    return cell


def web_ratios(c, other):
    """CPU per request and rps of apython over other: (best, range) each."""
    a, b = c.get("apython", {}), c.get(other, {})
    return ((ratio(a.get("us_per_req"), b.get("us_per_req")),
             run_ratios(a.get("runs_us", []), b.get("runs_us", []))),
            (ratio(a.get("rps"), b.get("rps")),
             run_ratios(a.get("runs_rps", []), b.get("runs_rps", []))))


def web_table(web, variants):
    headers = ["routes", "conns"]
    for v in variants:
        headers += [v + " req/s", "spread", "µs/req", "spread", "errors"]
    others = ["uvloop", "asyncio"] + \
        ([SAME_BINARY] if SAME_BINARY in variants else [])
    for o in others:
        headers += ["µs/req vs " + o, "req/s vs " + o]
    headers += ["target µs/req", "target req/s"]
    rows = []
    for c in web["cells"]:
        row = [c["routes"], str(c["conns"])]
        for v in variants:
            r = c.get(v, {})
            if "us_per_req" not in r:
                row += ["err", "", "err", "", r.get("error", "")[:40]]
                continue
            row += ["%.0f" % r["rps"], fmt_spread(r["rps_spread"]),
                    "%.1f" % r["us_per_req"], fmt_spread(r["us_spread"]),
                    str(r["errors"] + len(r["failed_runs"]))]
        for o in others:
            cpu, rps = web_ratios(c, o)
            row += [fmt_ratio_range(*cpu), fmt_ratio_range(*rps)]
        cpu, rps = web_ratios(c, "uvloop")
        row += ["<= %.1f %s" % (CPU_TARGET, verdict(cpu[0], CPU_TARGET, True)),
                ">= %.1f %s" % (RPS_TARGET, verdict(rps[0], RPS_TARGET,
                                                    False))]
        rows.append(row)
    return headers, rows


def web_summary(web):
    cells = web["cells"]
    cpu = [web_ratios(c, "uvloop")[0][0] for c in cells]
    rps = [web_ratios(c, "uvloop")[1][0] for c in cells]
    return ["web: geometric mean over the cells: CPU per request %s x "
            "uvloop (target <= %.1f), requests per second %s x uvloop "
            "(target >= %.1f); %s x / %s x asyncio" % (
                fmt_ratio(geomean(cpu)), CPU_TARGET, fmt_ratio(geomean(rps)),
                RPS_TARGET,
                fmt_ratio(geomean([web_ratios(c, "asyncio")[0][0]
                                   for c in cells])),
                fmt_ratio(geomean([web_ratios(c, "asyncio")[1][0]
                                   for c in cells])))]
