"""Run CPython's own asyncio test suite against apython.Loop, beside asyncio.

    apython tests/conformance/run.py [--full] [--apython-only] [MODULE...]
    python3 tests/conformance/run.py --module BUILD_DIR [--full] [...]
    python3 tests/conformance/run.py --baseline [--json FILE] [--full] [...]

Every loop a selected test would make comes from one factory: asyncio's
default policy, the loop hooks test classes plug in (create_event_loop,
new_loop, new_test_loop) and the classes that build one in setUp (ADAPTERS).
Under apython the factory makes apython.Loop; with --module, run under
the python3 apython embeds, it makes the apython.Loop of the extension
module built in BUILD_DIR (`make module`); with --baseline, under that
python3, asyncio's default loop. A test counts
as run on the loop only if it made one through the factory.

Without --baseline or --apython-only, the baseline runs in a child python3
beside the apython run and both are printed side by side per module (see
README.md). The run fails on a test that fails on apython.Loop, or is
skipped there but not on asyncio's loop, unless known_failures.txt lists
it; on a listed test that passes; on a module that runs no test on
apython.Loop; and on a module name the suite does not have.
"""
import argparse
import asyncio
import functools
import gc
import importlib
import json
import os
import subprocess
import sys
import tempfile
import unittest

try:
    import apython
except ImportError:
    # A plain python3: --module imports it from its build (load_module),
    # the baseline and multiprocessing children that re-import this file
    # have none.
    apython = None

# Modules run by `make check-conformance`; --full runs every module.
CORE = [
    "test_events", "test_streams", "test_sock_lowlevel", "test_server",
    "test_sendfile", "test_subprocess", "test_ssl", "test_tasks",
    "test_futures", "test_pep492", "test_taskgroups", "test_timeouts",
    "test_runners", "test_buffered_proto",
]
WINDOWS_ONLY = {"test_windows_events", "test_windows_utils",
                "test_proactor_events"}
# Out of the selection: tests of asyncio's own parts that apython.Loop does
# not use. A module: every class; a class: module.Class.
NOT_ABOUT_THE_LOOP = {
    "test_protocols": "asyncio's protocol base classes, no loop",
    "test_transports": "asyncio's transport base classes, no loop",
    "test_selector_events":
        "asyncio's selector loop and transports on a mocked selector",
}
for _name in ("UnixReadPipeTransportTests", "UnixWritePipeTransportTests"):
    NOT_ABOUT_THE_LOOP["test_unix_events." + _name] = (
        "asyncio's pipe transports on a mocked loop")
# Methods through which a test class plugs in its own loop.
LOOP_HOOKS = ("create_event_loop", "new_loop", "new_test_loop")
HERE = os.path.dirname(os.path.abspath(__file__))


class Factory:
    """Makes every loop of the selection and counts them."""

    def __init__(self, loop_class):
        self.loop_class = loop_class
        self.made = 0

    def __call__(self):
        self.made += 1
        return self.loop_class()


FACTORY = None


def install_factory(loop_class):
    """asyncio's default policy, whoever makes one, makes our loops."""
    global FACTORY
    FACTORY = Factory(loop_class)
    asyncio.DefaultEventLoopPolicy._loop_factory = staticmethod(FACTORY)
    # Not apython.EventLoopPolicy, the binary's: the console joins its loops.
    asyncio.set_event_loop_policy(None)


def make_loop(self, *args):
    return FACTORY()


def new_test_loop(self, gen=None, _original=None):
    # A clock generator drives TestLoop's fake time, which the test then
    # asserts: such a test is about TestLoop and keeps it ("no loop").
    if gen is not None:
        return _original(self, gen)
    loop = FACTORY()
    self.set_event_loop(loop)
    return loop


def runners_new_loop(self):
    # test_runners' tearDown checks that asyncio.run shut the generators down.
    loop = FACTORY()
    loop.shutdown_ag_run = False
    shutdown = loop.shutdown_asyncgens

    async def shutdown_asyncgens():
        loop.shutdown_ag_run = True
        await shutdown()
    loop.shutdown_asyncgens = shutdown_asyncgens
    return loop


def factory_setup(self):
    # test_pep492's BaseTest builds a mocked BaseEventLoop in setUp, and
    # test_unix_events' unix socket tests a SelectorEventLoop.
    import test.test_asyncio.utils as test_utils
    test_utils.TestCase.setUp(self)
    self.loop = FACTORY()
    self.set_event_loop(self.loop)


# Classes that build their loop with more than a hook: (module, class that
# defines the method) -> {method: replacement}.
ADAPTERS = {
    ("test_runners", "BaseTest"): {"new_loop": runners_new_loop},
    ("test_pep492", "BaseTest"): {"setUp": factory_setup},
    ("test_unix_events", "SelectorEventLoopUnixSocketTests"):
        {"setUp": factory_setup},
}


def rewired(cls):
    """A subclass of cls, with cls's name, whose loops come from FACTORY."""
    ns = {"__module__": cls.__module__, "__qualname__": cls.__qualname__}
    for name in ("create_event_loop", "new_loop"):
        if hasattr(cls, name):
            ns[name] = make_loop
    if hasattr(cls, "new_test_loop"):
        ns["new_test_loop"] = functools.partialmethod(
            new_test_loop, _original=cls.new_test_loop)
    for base in cls.__mro__:
        ns.update(ADAPTERS.get((base.__module__.rpartition(".")[2],
                                base.__name__), {}))
    ns["run"] = functools.partialmethod(counted_run, _run=cls.run)
    return type(cls.__name__, (cls,), ns)


def counted_run(self, result, _run):
    # Around run(), not startTest(): IsolatedAsyncioTestCase makes its loop
    # in run() before it starts the test (3.8 to 3.10).
    made = FACTORY.made
    try:
        return _run(self, result)
    finally:
        if FACTORY.made != made:
            result.on_loop.add(short_id(self))


def class_id(cls):
    return "%s.%s" % (cls.__module__.rpartition(".")[2], cls.__name__)


def own_hook(cls):
    return any(name in vars(cls) for name in LOOP_HOOKS)


def test_classes(mod):
    return [getattr(mod, a) for a in sorted(vars(mod))
            if isinstance(getattr(mod, a), type)
            and issubclass(getattr(mod, a), unittest.TestCase)
            and getattr(mod, a).__module__ == mod.__name__]


def module_tests(loader, name):
    """(suite, {class left out: why})."""
    mod = importlib.import_module("test.test_asyncio." + name)
    left_out = {}
    classes = []
    for cls in test_classes(mod):
        why = NOT_ABOUT_THE_LOOP.get(class_id(cls))
        if why:
            left_out[class_id(cls)] = why
        else:
            classes.append(cls)
    # Variants: classes with the same bases that differ only by the loop
    # their own hook makes (EPoll/Poll/Select/Proactor...). One runs.
    variants = {}
    for cls in classes:
        if own_hook(cls):
            variants.setdefault(cls.__bases__, []).append(cls)
    for group in variants.values():
        runnable = [c for c in group
                    if not getattr(c, "__unittest_skip__", False)] or group
        for cls in group:
            if cls is not runnable[0]:
                left_out[class_id(cls)] = "the tests of %s on another loop" % (
                    runnable[0].__name__)
    suite = unittest.TestSuite()
    for cls in classes:
        if class_id(cls) not in left_out:
            suite.addTests(loader.loadTestsFromTestCase(rewired(cls)))
    return suite, left_out


def suite_dir():
    import test.test_asyncio as pkg
    return os.path.dirname(pkg.__file__)


def all_modules():
    return sorted(f[:-3] for f in os.listdir(suite_dir())
                  if f.startswith("test_") and f.endswith(".py"))


def known_failures():
    """{(kind, test id): reason} from known_failures.txt for this version."""
    version = "%d.%d" % sys.version_info[:2]
    known = {}
    with open(os.path.join(HERE, "known_failures.txt")) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            versions, kind, test, reason = [
                p.strip() for p in line.split("|", 3)]
            if versions == "*" or version in versions.split(","):
                known[kind, test] = reason
    return known


def short_id(test):
    """module.Class.method without the test.test_asyncio prefix."""
    test = getattr(test, "test_case", test)     # a subTest's case
    return test.id().replace("test.test_asyncio.", "")


def module_of(tid):
    # Class fixture errors read "setUpClass (test.test_asyncio.m.C)".
    tid = tid.rpartition("(")[2].replace("test.test_asyncio.", "")
    return tid.split(".", 1)[0]


class Result(unittest.TextTestResult):
    """Records each test's outcome and whether it made a loop."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcome = {}       # test id -> pass / fail / skip
        self.reason = {}        # test id -> skip reason
        self.on_loop = set()     # filled by counted_run

    def startTest(self, test):
        self.outcome.setdefault(short_id(test), "pass")
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        if self.outcome[short_id(test)] == "fail":
            # Collect what a failed test left (futures never retrieved...)
            # now, not inside a later test that asserts what gets logged.
            gc.collect()

    def _fail(self, test):
        self.outcome[short_id(test)] = "fail"

    def addError(self, test, err):
        super().addError(test, err)
        self._fail(test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._fail(test)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._fail(test)

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._fail(test)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.outcome[short_id(test)] = "skip"
        self.reason[short_id(test)] = " ".join(reason.split())

    def summary(self, loop):
        return {"loop": loop, "outcome": self.outcome, "reason": self.reason,
                "on_loop": sorted(self.on_loop)}


# Seconds CPython's thread-run test servers wait on a client before they
# drop it (test_asyncio.utils: 2 s on 3.8, support.LOOPBACK_TIMEOUT (5 s)
# later). A loaded CI machine running a sanitizer build can hold a client
# up that long: the server then closes mid-handshake and the test fails
# (BrokenPipeError in test_create_ssl_unix_connection). regrtest itself
# lengthens its timeouts for slow machines (--timeout); a stuck client
# still fails, by the test's own, longer, timeouts.
SERVER_PATIENCE = 60.0


def patient_test_servers():
    """Give test_asyncio.utils' servers SERVER_PATIENCE, both loops alike."""
    from test.test_asyncio import utils
    for name in ("SilentWSGIServer", "SilentUnixWSGIServer"):
        cls = getattr(utils, name, None)  # no AF_UNIX: no unix one
        if cls is not None:
            cls.request_timeout = max(cls.request_timeout, SERVER_PATIENCE)


def run_selection(names, left_out, loop_class, loop_name):
    install_factory(loop_class)
    patient_test_servers()
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    for name in names:
        tests, out = module_tests(loader, name)
        suite.addTests(tests)
        left_out.update(out)
    runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=1,
                                     resultclass=Result)
    return runner.run(suite).summary(loop_name), left_out


def counts(summary, names):
    """{module: [ran on the loop, ran without it, skipped, failed]}."""
    rows = {n: [0, 0, 0, 0] for n in names}
    on_loop = set(summary["on_loop"])
    for tid, outcome in summary["outcome"].items():
        row = rows.setdefault(module_of(tid), [0, 0, 0, 0])
        if outcome == "skip":
            row[2] += 1
            continue
        row[0 if tid in on_loop else 1] += 1
        if outcome == "fail":
            row[3] += 1
    return rows


def table(names, mine, base):
    """The side-by-side lines, and apython's counts per module."""
    blocks = [counts(mine, names)] + ([counts(base, names)] if base else [])
    for rows in blocks:
        rows["total"] = [sum(r[i] for r in rows.values()) for i in range(4)]
    order = sorted(n for n in blocks[0] if n != "total") + ["total"]
    lines = ["%-24s" % "" + "".join(
        "%-29s   " % s["loop"] for s in (mine, base) if s),
        "%-24s" % "module" + "%6s %7s %7s %6s   " % (
            "ran", "no loop", "skipped", "failed") * len(blocks)]
    for name in order:
        lines.append("%-24s" % name + "".join(
            "%6d %7d %7d %6d   " % tuple(rows.get(name, [0] * 4))
            for rows in blocks))
    return [line.rstrip() for line in lines], blocks[0]


def problems(names, mine, base, rows):
    """The lines that fail the run."""
    known = known_failures()
    out = []
    for name in names:
        if rows[name][0] == 0:
            out.append("%s: no test ran on %s" % (name, mine["loop"]))
    outcome = mine["outcome"]
    for tid in sorted(t for t, o in outcome.items() if o == "fail"):
        if ("fail", tid) not in known:
            out.append("unexpected failure: %s" % tid)
    for kind, tid in sorted(known):
        if kind == "fail" and outcome.get(tid) == "pass":
            out.append("listed as failing but passed: %s" % tid)
    if base is None:
        return out
    theirs = base["outcome"]
    for tid in sorted(t for t, o in outcome.items() if o == "skip"):
        if theirs.get(tid, "skip") == "skip":
            continue
        if ("skip", tid) not in known:
            out.append("skipped on %s, not on %s: %s (%s)" % (
                mine["loop"], base["loop"], tid, mine["reason"][tid]))
    for kind, tid in sorted(known):
        if (kind == "skip" and tid in outcome and outcome[tid] != "skip"):
            out.append("listed as skipped but ran: %s" % tid)
    return out


def report(names, mine, base, left_out):
    lines, rows = table(names, mine, base)
    print("\n".join(lines))
    for what, why in sorted(left_out.items()):
        print("not run: %s (%s)" % (what, why))
    known = known_failures()
    for (kind, tid), why in sorted(known.items()):
        if mine["outcome"].get(tid) in ("fail", "skip"):
            print("known (%s): %s: %s" % (kind, tid, why))
    if base:
        for tid, o in sorted(base["outcome"].items()):
            if o == "fail":
                print("fails on %s: %s" % (base["loop"], tid))
    reasons = {}
    for why in mine["reason"].values():
        reasons[why] = reasons.get(why, 0) + 1
    for why, count in sorted(reasons.items()):
        print("skipped on %s (%d): %s" % (mine["loop"], count, why))
    bad = problems(names, mine, base, rows)
    for line in bad:
        print("FAIL", line)
    print("conformance: %s" % ("FAILED (%d)" % len(bad) if bad else "OK"))
    return 1 if bad else 0


def options(argv):
    parser = argparse.ArgumentParser(prog="run.py")
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--baseline", action="store_true")
    parser.add_argument("--apython-only", action="store_true")
    parser.add_argument("--json")
    parser.add_argument("--module", metavar="BUILD_DIR")
    parser.add_argument("modules", nargs="*")
    return parser.parse_args(argv)


def selection(opts):
    """(module names to run, {module left out: why}); exits with one line
    on a name the suite does not have."""
    known = all_modules()
    for name in opts.modules:
        if name not in known or name in WINDOWS_ONLY:
            sys.exit("run.py: no module %s in %s%s" % (
                name, suite_dir(), " (Windows only)" if name in known else ""))
    if opts.modules:
        return opts.modules, {}
    if not opts.full:
        return [n for n in CORE if n in known], {}  # 3.8 has no test_ssl...
    out = {n: "Windows only" for n in known if n in WINDOWS_ONLY}
    out.update((n, why) for n, why in NOT_ABOUT_THE_LOOP.items() if n in known)
    return [n for n in known if n not in out], out


def baseline_loop():
    return asyncio.DefaultEventLoopPolicy._loop_factory


def start_baseline(opts, names):
    """The baseline in a child python3, its summary going to a file."""
    fd, path = tempfile.mkstemp(prefix="conformance-", suffix=".json")
    os.close(fd)
    log = tempfile.TemporaryFile()
    cmd = [sys.executable, os.path.abspath(__file__), "--baseline",
           "--json", path] + names
    child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                             stderr=subprocess.STDOUT)
    return child, path, log


def finish_baseline(child, path, log):
    status = child.wait()
    try:
        with open(path) as f:
            return json.load(f)
    except ValueError:
        log.seek(0)
        sys.stderr.write(log.read().decode(errors="replace")[-4000:])
        sys.exit("run.py: the baseline under %s exited with %d" % (
            sys.executable, status))
    finally:
        os.unlink(path)


def load_module(build_dir):
    """apython, the extension module of build_dir, under a plain python3;
    exits with one line when it cannot be that."""
    global apython
    if apython is not None:
        sys.exit("run.py: --module is for a plain python3, not apython")
    sys.path.insert(0, os.path.abspath(build_dir))
    try:
        import apython as module
    except ImportError as e:
        sys.exit("run.py: no extension module in %s (make module): %s"
                 % (build_dir, e))
    apython = module
    print("apython.Loop from %s" % apython.__file__, flush=True)


def main(argv):
    opts = options(argv)
    names, left_out = selection(opts)
    if opts.module is not None and not opts.baseline:
        load_module(opts.module)
    if opts.baseline:
        loop = baseline_loop()
        mine, left_out = run_selection(names, left_out, loop,
                                       "asyncio " + loop.__name__)
        if opts.json:
            with open(opts.json, "w") as f:
                json.dump(mine, f)
            return 0
        return report(names, mine, None, left_out)
    if apython is None:
        sys.exit("run.py: run under apython, or with --module or "
                 "--baseline")
    child = None
    if not opts.apython_only:
        child = start_baseline(opts, names)
    mine, left_out = run_selection(names, left_out, apython.Loop,
                                   "apython.Loop")
    base = finish_baseline(*child) if child else None
    return report(names, mine, base, left_out)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
