"""The report of bench/run.py: every section's table, as aligned text or
as markdown, from the results dict (measured now or read by --from-json)."""

from echo import echo_summary, echo_table, sched_table
from interp import pure_geomean, pure_table, startup_table, PURE_TARGET
from memory import memory_table
from common import fmt_ratio, verdict
from webbench import web_summary, web_table

SPREAD = ("spread: max / min - 1 of a variant's runs; a ratio is that of "
          "the best runs, with the range of the per-repetition ratios in "
          "brackets")


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
        float(s.split(" ")[0].rstrip("%"))
    except ValueError:
        return s in ("n/a", "err", "")
    return True


def render_markdown(headers, rows):
    out = ["| " + " | ".join(headers) + " |",
           "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def machine_lines(results):
    m = results["machine"]
    return [
        "Date: %s" % m["date"],
        "Machine: %d cores (nproc), %s, kernel %s" % (
            m["nproc"], m["cpu"], m["kernel"]),
        "Interpreters: " + ", ".join(
            "%s (Python %s)" % kv for kv in m["interpreters"].items()),
        "Loops: " + ", ".join(
            "%s %s" % (n, i["version"]) if i["available"] else
            "%s unavailable (%s)" % (n, i["reason"])
            for n, i in m["loops"].items()),
        "Settings: %s" % results["settings"],
        "Load average (1 min) before / after: %.2f / %.2f; run took "
        "%.0f s" % (results["loadavg"][0], results["loadavg"][1],
                    results["seconds"])]


def report(results, render):
    """The whole report, tables rendered by render."""
    item = "- " if render is render_markdown else ""
    variants = results["variants"]
    parts = [item + p for p in machine_lines(results)]
    parts += ["", "Variants, as users run them: apython = apython's loop "
              "under the apython binary; asyncio, uvloop = under %s%s. %s."
              % (results["machine"]["python_binary"],
                 "; uvloop@apython = uvloop under the apython binary (the "
                 "same interpreter as apython's column: the ratio against it "
                 "is the loop's own cost, not the interpreter's)"
                 if "uvloop@apython" in variants else "", SPREAD)]
    if results.get("pure"):
        parts += ["", "Pure Python (bench/pure.py): best seconds per kernel, "
                  "the two binaries run in turn.", "",
                  render(*pure_table(results["pure"]))]
        if "kernels" in results["pure"]:
            g = pure_geomean(results["pure"])
            parts += ["", item + "pure: geometric mean %s x python3 (target "
                      "<= %.2f: %s)" % (fmt_ratio(g), PURE_TARGET,
                                        verdict(g, PURE_TARGET, True))]
    if results.get("web"):
        web = results["web"]
        if "skipped" in web:
            parts += ["", "Web (aiohttp, bench/web.py + wrk): skipped: " +
                      web["skipped"]]
        else:
            parts += ["", "Web (aiohttp, bench/web.py, wrk -t1 keep-alive): "
                      "requests per second and server CPU µs per request "
                      "(best runs); errors: non-2xx/3xx responses and socket "
                      "errors counted by wrk, plus failed runs.", "",
                      render(*web_table(web, variants)), ""]
            parts += [item + line for line in web_summary(web)]
    if results.get("echo"):
        parts += ["", "Echo server: req/s, server CPU µs per request (lower "
                  "is better), server core busy % (cpu%), server page faults "
                  "per request (flt); ratios are "
                  "apython's CPU per request over the other's.", "",
                  render(*echo_table(results["echo"], variants)), ""]
        parts += [item + line for line in echo_summary(results["echo"])]
    if results.get("memory"):
        parts += ["", "Memory: RSS of each server with %d connections open, "
                  "each having done one request (idle: once listening; KiB "
                  "per connection: (peak - idle) / connections, which "
                  "moves in steps of the allocators' arenas: pymalloc's are "
                  "1 MiB since Python 3.10)." %
                  results["memory_conns"], "",
                  render(*memory_table(results["memory"], variants))]
    if results.get("startup"):
        parts += ["", "Start-up: wall time from exec to exit, the commands "
                  "run in turn; ratios over the python3 line above.", "",
                  render(*startup_table(results["startup"]))]
    if results.get("sched"):
        parts += ["", "Scheduling: operations per second (higher is "
                  "better), one process per variant per repetition, in "
                  "turn; ratios are apython's rate over the other's.", "",
                  render(*sched_table(results["sched"], variants))]
    return "\n".join(parts) + "\n"
