# apython: `make`, `make check`, `make install`, `make bench`, `make clean`;
# `make module`: the extension module for a plain python3 (ext/ext.h).
# ./configure writes config.mk; a plain `make` runs it first when it is missing.

-include config.mk

# Folders whose code embeds Python, and pure-C folders: those are built
# without Python's include path, so Python.h cannot creep into them.
PY_DIRS = cli loop console serve py ext
PURE_DIRS = lib proto term client sig ctl attach
DIRS = $(PY_DIRS) $(PURE_DIRS)
# ext/pyinit.c is the extension's alone.
SRCS = apython.c $(filter-out ext/pyinit.c,$(foreach d,$(DIRS),$(wildcard $(d)/*.c)))
OBJS = $(SRCS:.c=.o)
PURE_OBJS = $(foreach d,$(PURE_DIRS),$(patsubst %.c,%.o,$(wildcard $(d)/*.c)))
# Python of apython's own (X/name.py) is compiled by the embedded
# Python's version into X/name.py.h, which X/name.c includes (py/embed.c).
EMBEDDED = $(patsubst %.py,%.py.h,$(filter-out py/freeze.py,\
	$(foreach d,$(PY_DIRS),$(wildcard $(d)/*.py))))
HDRS = compat.h $(foreach d,$(DIRS),$(filter-out %.py.h,$(wildcard $(d)/*.h)))
WARN = -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wformat=2 \
	-Wno-missing-field-initializers $(WERROR)
PURE_CFLAGS = -std=gnu11 $(WARN) -fno-strict-aliasing $(SANITIZE) $(LTO) $(CFLAGS) \
	$(LIBEVENT_CFLAGS) $(READLINE_CFLAGS) -I. -D_GNU_SOURCE -DAPYTHON_VERSION='"$(VERSION)"'
ALL_CFLAGS = $(PURE_CFLAGS) $(PYTHON_CFLAGS) \
	-DAPYTHON_PYTHON='"$(PYTHON_EXECUTABLE)"'
ALL_LIBS = $(PYTHON_LIBS) $(LIBEVENT_LIBS) $(READLINE_LIBS) -lpthread
TEST_PYTHON = /usr/bin/python3
PYTEST = $(TEST_PYTHON) -m pytest

# Unit tests are pure C: they link the pure-C folders, no libpython.
UNIT_TESTS = $(patsubst %.c,%,$(wildcard tests/unit/test_*.c))
UNIT_LIBS = $(LIBEVENT_LIBS) $(READLINE_LIBS) -lpthread

.PHONY: all module check check-unit check-man check-blackbox check-conformance \
	check-conformance-module check-full bench fuzz install \
	uninstall clean distclean dist

all: apython

# A changed configure.ac or config.mk.in re-runs configure with the
# arguments it was first given (config.status keeps them).
config.mk: config.mk.in configure
	if [ -x config.status ]; then ./config.status --recheck && \
	    ./config.status; else ./configure; fi

configure: configure.ac
	autoconf

# sig/ interposes sigaction() and signal(): the executable exports them,
# so that libpython and extension modules call apython's.
SIG_EXPORTS = -Wl,--export-dynamic-symbol=sigaction \
	-Wl,--export-dynamic-symbol=signal

# A static libpython (configure's --with-libpython): the executable
# exports the archive's global symbols, the C API that libpython.so would
# export to extension modules, and none of apython's own.
ifeq ($(PYTHON_LINK),static)
PYTHON_DYNLIST = libpython.dynlist
PYTHON_EXPORTS = -Wl,--dynamic-list=$(PYTHON_DYNLIST)
endif

apython: $(OBJS) $(PYTHON_DYNLIST)
	$(CC) $(SANITIZE) $(LTO) $(CFLAGS) $(LDFLAGS) $(SIG_EXPORTS) $(PYTHON_EXPORTS) -o $@ \
		$(OBJS) $(ALL_LIBS)

# (nm's "no symbols" for empty members said nothing; an archive that gives
# no symbols at all fails the build.)
libpython.dynlist: config.mk
	nm -g --defined-only $(PYTHON_ARCHIVE) 2>/dev/null | awk \
	    'BEGIN { print "{" } NF == 3 { print $$3 ";"; n++ } \
	    END { print "};"; exit n == 0 }' > $@ || { rm -f $@; exit 1; }

%.py.h: %.py py/freeze.py config.mk
	$(PYTHON_EXECUTABLE) -I py/freeze.py $< $@

%.o: %.c $(HDRS) config.mk
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -c -o $@ $<

# X/name.py.h is included by X/name.c alone.
$(EMBEDDED:.py.h=.o): %.o: %.py.h

$(PURE_OBJS): %.o: %.c $(HDRS) config.mk
	$(CC) $(PURE_CFLAGS) $(CPPFLAGS) -c -o $@ $<

# The extension module apython$(PY_EXT_SUFFIX) (ext/ext.h): the folders
# but cli/ and client/, not main(), compiled again position-independent
# (X/name.pic.o; the executable's objects are PIE) with only
# PyInit_apython visible, sig/ not interposed; linked with libevent and
# readline but not libpython, whose C API the interpreter that imports it
# provides.
MODULE = apython$(PY_EXT_SUFFIX)
MODULE_DIRS = loop console serve py ext lib proto term sig ctl attach
MODULE_SRCS = $(foreach d,$(MODULE_DIRS),$(wildcard $(d)/*.c))
MODULE_OBJS = $(MODULE_SRCS:.c=.pic.o)
MODULE_PURE_OBJS = $(filter $(PURE_OBJS:.o=.pic.o),$(MODULE_OBJS))
PIC_CFLAGS = -fPIC -fvisibility=hidden -DSIG_NOT_INTERPOSED

module: $(MODULE)

$(MODULE): $(MODULE_OBJS)
	$(CC) -shared $(SANITIZE) $(LTO) $(CFLAGS) $(LDFLAGS) -o $@ \
		$(MODULE_OBJS) $(LIBEVENT_LIBS) $(READLINE_LIBS) -lpthread -lm

%.pic.o: %.c $(HDRS) config.mk
	$(CC) $(ALL_CFLAGS) $(PIC_CFLAGS) $(CPPFLAGS) -c -o $@ $<

$(EMBEDDED:.py.h=.pic.o): %.pic.o: %.py.h

$(MODULE_PURE_OBJS): %.pic.o: %.c $(HDRS) config.mk
	$(CC) $(PURE_CFLAGS) $(PIC_CFLAGS) $(CPPFLAGS) -c -o $@ $<

tests/unit/test_%: tests/unit/test_%.c tests/unit/unit.h $(PURE_OBJS)
	$(CC) $(PURE_CFLAGS) $(CPPFLAGS) -o $@ $< $(PURE_OBJS) $(SANITIZE) \
		$(LDFLAGS) $(UNIT_LIBS)

check: check-unit check-man check-blackbox check-conformance

check-unit: $(UNIT_TESTS)
	@for t in $(UNIT_TESTS); do ./$$t || exit 1; done

# Fuzzing (libFuzzer: Debian's clang and libclang-rt-14-dev): the parsers
# a client reaches, built from proto/ alone with a small SERVE_LINE_MAX so
# the limits are reached. Each runs FUZZ_SECONDS from its seed corpus
# (tests/fuzz/corpus/NAME; what it finds goes to tests/fuzz/work/NAME);
# a crash, a hang, a leak or a sanitizer report fails, its input kept there.
FUZZ_CC = clang
FUZZ_SECONDS = 60
FUZZ_TARGETS = $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS = $(FUZZ_TARGETS:%=tests/fuzz/fuzz_%)
FUZZ_CFLAGS = -std=gnu11 $(WARN) -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -I. -D_GNU_SOURCE -DSERVE_LINE_MAX=64

tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(wildcard proto/*.[ch])
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(wildcard proto/*.c)

fuzz: $(FUZZ_BINS)
	@for t in $(FUZZ_TARGETS); do \
		w=tests/fuzz/work/$$t; mkdir -p $$w || exit 1; \
		echo "fuzz $$t: $(FUZZ_SECONDS)s, output in $$w.log"; \
		./tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
		    -print_final_stats=1 -timeout=10 -artifact_prefix=$$w- $$w \
		    tests/fuzz/corpus/$$t >$$w.log 2>&1 || \
		    { tail -n 60 $$w.log; echo "fuzz $$t: FAILED"; exit 1; }; \
		grep '^Done' $$w.log; \
	done

check-man:
	mandoc -Tlint -Wwarning man/apython.1

# test_module.py imports the extension module (skipped without one, as
# in a sanitizer build, whose module a plain python3 cannot load).
ifeq ($(SANITIZE),)
BLACKBOX_MODULE = $(MODULE)
endif
check-blackbox: apython $(BLACKBOX_MODULE)
	APYTHON=$(CURDIR)/apython $(PYTEST) -q tests/blackbox $(PYTEST_ARGS)

# CPython's own asyncio tests against apython.Loop (see tests/conformance).
check-conformance: apython
	./apython tests/conformance/run.py </dev/null

# The same suite on the extension module's apython.Loop, under the
# python3 apython embeds (not in check: it doubles the run).
check-conformance-module: $(MODULE)
	$(PYTHON_EXECUTABLE) tests/conformance/run.py --module $(CURDIR) </dev/null

# check-full also runs the slow black-box tests (test_pip.py: a build per
# virtualenv).
check-full: export APYTHON_TEST_FULL = 1
check-full: check-unit check-man check-blackbox
	./apython tests/conformance/run.py --full </dev/null
	$(PYTHON_EXECUTABLE) tests/conformance/run.py --module $(CURDIR) --full </dev/null

# Side by side with asyncio and uvloop under BENCH_PYTHON, as users run
# them (bench/RESULTS.md); not part of check. The web section needs wrk.
# BENCH_ARGS: more options of bench/run.py, e.g. BENCH_ARGS=--quick.
BENCH_PYTHON = /usr/bin/python3
bench: apython bench/client
	$(TEST_PYTHON) bench/run.py --apython $(CURDIR)/apython \
		--python $(BENCH_PYTHON) --client $(CURDIR)/bench/client \
		$(BENCH_ARGS)

bench/client: bench/client.c
	$(CC) -std=gnu11 $(WARN) $(CFLAGS) $(CPPFLAGS) -o $@ bench/client.c $(LDFLAGS)

# Builds for several Pythons install side by side: apythonX.Y each, and
# apython, a link to the last installed, which runs a virtualenv of
# another version with the apythonX.Y beside it (cli/venv.c). One
# manual, also apythonX.Y(1); it goes with the last apythonX.Y.
APYTHON_X_Y = apython$(PYTHON_VERSION)
install: apython
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(mandir)/man1
	install -m 755 apython $(DESTDIR)$(bindir)/$(APYTHON_X_Y)
	ln -sf $(APYTHON_X_Y) $(DESTDIR)$(bindir)/apython
	install -m 644 man/apython.1 $(DESTDIR)$(mandir)/man1/apython.1
	ln -sf apython.1 $(DESTDIR)$(mandir)/man1/$(APYTHON_X_Y).1

uninstall:
	rm -f $(DESTDIR)$(bindir)/$(APYTHON_X_Y) \
		$(DESTDIR)$(mandir)/man1/$(APYTHON_X_Y).1
	case "`readlink $(DESTDIR)$(bindir)/apython`" in \
	$(APYTHON_X_Y)|$(bindir)/$(APYTHON_X_Y)) \
		rm -f $(DESTDIR)$(bindir)/apython;; \
	esac
	set -- $(DESTDIR)$(mandir)/man1/apython[0-9]*.[0-9]*.1; \
		test -e "$$1" || test -L "$$1" || \
		rm -f $(DESTDIR)$(mandir)/man1/apython.1

# The source distribution pip installs from (README, "Install into a
# virtualenv"): apython-VERSION.tar.gz here, made by the build backend.
dist:
	$(PYTHON_EXECUTABLE) -I backend/apython_build.py sdist .

clean:
	rm -f apython $(MODULE) libpython.dynlist bench/client $(OBJS) $(MODULE_OBJS) $(UNIT_TESTS) $(EMBEDDED) $(FUZZ_BINS) \
		$(foreach d,$(DIRS),$(d)/*.o)
	rm -rf tests/fuzz/work
	rm -rf tests/blackbox/__pycache__ tests/conformance/__pycache__ .pytest_cache

distclean: clean
	rm -rf config.mk config.log config.status configure autom4te.cache
