"""Run CPython's own asyncio test suite against apython.Loop.

Run under apython (the module `apython` is built in):
    apython tests/conformance/run.py [--full] [MODULE...]

Test classes that plug a loop in (create_event_loop / new_loop on the
Select* variants) get an apython.Loop; every other test gets one through
the event loop policy. Tests listed in known_failures.txt (with the reason
they cannot apply to a native loop) are expected to fail; any other
failure, or a listed test that passes, fails the run.
"""
import asyncio
import importlib
import os
import sys
import unittest

try:
    import apython
except ImportError:
    # A spawned multiprocessing child re-imports this file under python3.
    apython = None

# Modules run by `make check`; --full adds the rest of test_asyncio.
CORE = [
    "test_events", "test_streams", "test_sock_lowlevel", "test_server",
    "test_sendfile", "test_subprocess", "test_ssl", "test_tasks",
    "test_futures", "test_pep492", "test_taskgroups", "test_timeouts",
]
WINDOWS_ONLY = {"test_windows_events", "test_windows_utils",
                "test_proactor_events"}


class Policy(asyncio.DefaultEventLoopPolicy):
    """asyncio's policy with apython loops (no console joins them)."""
    _loop_factory = apython.Loop if apython else None


def install_policy():
    """Keep our policy even when a test resets it to the default."""
    set_policy = asyncio.events.set_event_loop_policy

    def keep_ours(policy):
        set_policy(Policy() if policy is None else policy)

    asyncio.events.set_event_loop_policy = keep_ours
    asyncio.set_event_loop_policy = keep_ours
    keep_ours(None)


def apython_variant(cls):
    """A subclass of a Select* test class whose loop is apython.Loop."""
    def make_loop(self, *args, **kwargs):
        return apython.Loop()
    ns = {"__module__": cls.__module__}
    for name in ("create_event_loop", "new_loop"):
        if hasattr(cls, name):
            ns[name] = make_loop
    return type("Apython" + cls.__name__, (cls,), ns)


def module_tests(loader, name):
    """The module's tests, Select* loop classes swapped for apython's."""
    mod = importlib.import_module("test.test_asyncio." + name)
    suite = unittest.TestSuite()
    for attr in sorted(vars(mod)):
        cls = getattr(mod, attr)
        if not (isinstance(cls, type) and issubclass(cls, unittest.TestCase)
                and cls.__module__ == mod.__name__):
            continue
        plugs = any(hasattr(cls, n) for n in ("create_event_loop", "new_loop"))
        if plugs and not attr.startswith("Select"):
            continue  # epoll/poll/proactor variants: one loop class is enough
        if plugs:
            cls = apython_variant(cls)
        suite.addTests(loader.loadTestsFromTestCase(cls))
    return suite


def all_modules():
    import test.test_asyncio as pkg
    names = sorted(f[:-3] for f in os.listdir(os.path.dirname(pkg.__file__))
                   if f.startswith("test_") and f.endswith(".py"))
    return [n for n in names if n not in WINDOWS_ONLY]


def known_failures():
    """{test id suffix: reason} from known_failures.txt for this version."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "known_failures.txt")
    version = "%d.%d" % sys.version_info[:2]
    known = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            versions, test, reason = [p.strip() for p in line.split("|", 2)]
            if versions == "*" or version in versions.split(","):
                known[test] = reason
    return known


def short_id(test):
    """module.Class.method without the test.test_asyncio prefix."""
    return test.id().replace("test.test_asyncio.", "")


def main(argv):
    full = "--full" in argv
    names = [a for a in argv if not a.startswith("--")]
    if not names:
        names = all_modules() if full else CORE
    install_policy()
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    available = set(all_modules())
    for name in names:
        if name in available:
            suite.addTests(module_tests(loader, name))
    result = unittest.TextTestRunner(stream=sys.stderr, verbosity=1).run(suite)
    known = known_failures()
    failed = {short_id(t) for t, _ in result.failures + result.errors}
    unexpected = sorted(t for t in failed if t not in known)
    ran_known = {k for k in known if any(short_id(t) == k for t in _tests(suite))}
    fixed = sorted(k for k in ran_known if k not in failed)
    for t in unexpected:
        print("unexpected failure:", t)
    for t in fixed:
        print("listed as failing but passed:", t)
    reasons = {}
    for _, why in result.skipped:
        reasons[why] = reasons.get(why, 0) + 1
    for why, count in sorted(reasons.items()):
        print("skipped by the suite itself (%d): %s" % (count, " ".join(why.split())))
    passed = result.testsRun - len(failed) - len(result.skipped)
    print("conformance: %d passed, %d failed, %d skipped" % (
        passed, len(unexpected) + len(fixed), len(result.skipped)))
    return 1 if unexpected or fixed or result.testsRun == 0 else 0


def _tests(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from _tests(t)
        else:
            yield t


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
