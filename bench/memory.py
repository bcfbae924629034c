"""Memory section of bench/run.py: peak RSS with many open connections.

For each variant, the echo server (bench/server.py, protocol mode) and the
web server (bench/web.py) in turn: started pinned to the server core, its
RSS read once it listens (idle), then --memory-conns connections opened
from this process, each doing one request/response (1 KiB echoed, or
GET /) and then held open; VmHWM (peak RSS) and the RSS split of
/proc/PID/status read while they are all open. bench/run.py raises
RLIMIT_NOFILE first; the servers inherit the limit.
"""

import socket

from common import fmt_ratio, progress, ratio, status_kib, verdict
from echo import start_server
from webbench import start_web

KINDS = ("echo", "web")
KIND_NAMES = {"echo": "echo server (protocol mode)",
              "web": "aiohttp server (bench/web.py)"}
TARGET = 1.0
ECHO_MSG = b"m" * 1024
WEB_REQ = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
WEB_BODY = b"Hello, World!"


def one_round(sock, kind):
    """Send one request on sock and read the whole response."""
    if kind == "echo":
        sock.sendall(ECHO_MSG)
        got = 0
        while got < len(ECHO_MSG):
            data = sock.recv(len(ECHO_MSG) - got)
            if not data:
                raise ConnectionError("server closed the connection")
            got += len(data)
        return
    sock.sendall(WEB_REQ)
    data = b""
    while not data.endswith(WEB_BODY):
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("server closed the connection")
        data += chunk


def readings(pid):
    return {key: status_kib(pid, key)
            for key in ("VmHWM", "VmRSS", "RssAnon", "RssFile")}


def measure_one(args, kind, variant, cpu):
    """Idle RSS and the readings with the connections open, in KiB."""
    if kind == "echo":
        server = start_server(args, variant, "protocol", cpu)
    else:
        server = start_web(args, variant, cpu)
    socks = []
    try:
        idle = status_kib(server.pid, "VmRSS")
        for _ in range(args.memory_conns):
            s = socket.create_connection(("127.0.0.1", server.port),
                                         timeout=30)
            socks.append(s)
            one_round(s, kind)
        return dict(readings(server.pid), idle_rss=idle,
                    conns=len(socks))
    except OSError as e:
        return {"error": "after %d connections: %s" % (len(socks), e)}
    finally:
        for s in socks:
            s.close()
        server.stop()


def run_memory(args, variants, cpus):
    """{kind: {variant: readings or {"error"}}}."""
    out = {}
    for kind in KINDS:
        out[kind] = {}
        for v in variants:
            try:
                out[kind][v] = measure_one(args, kind, v, cpus[1])
            except RuntimeError as e:
                out[kind][v] = {"error": str(e)}
            r = out[kind][v]
            progress("memory %-4s %-14s %s" % (
                kind, v, "peak %.1f MB" % (r["VmHWM"] / 1024)
                if "VmHWM" in r else r["error"][:200]))
    return out


def mb(kib):
    return "%.1f" % (kib / 1024)


def memory_table(memory, variants):
    headers = ["server", "loop", "idle RSS MB", "peak RSS MB (VmHWM)",
               "anon MB", "file MB", "KiB per connection", "vs uvloop",
               "vs asyncio", "target"]
    rows = []
    for kind, per in memory.items():
        a = per.get("apython", {}).get("VmHWM")
        for v in variants:
            r = per.get(v, {})
            if "VmHWM" not in r:
                rows.append([KIND_NAMES[kind], v, "err", "err", "", "", "",
                             "", "", r.get("error", "")[:60]])
                continue
            row = [KIND_NAMES[kind], v, mb(r["idle_rss"]), mb(r["VmHWM"]),
                   mb(r["RssAnon"]), mb(r["RssFile"]),
                   "%.1f" % ((r["VmHWM"] - r["idle_rss"]) / r["conns"])]
            if v == "apython":
                x = ratio(a, per.get("uvloop", {}).get("VmHWM"))
                row += [fmt_ratio(x), fmt_ratio(ratio(
                    a, per.get("asyncio", {}).get("VmHWM"))),
                    "<= %.1f %s" % (TARGET, verdict(x, TARGET, True))]
            else:
                row += ["", "", ""]
            rows.append(row)
    return headers, rows
