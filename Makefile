# apython: `make`, `make check`, `make install`, `make bench`, `make clean`.
# ./configure writes config.mk; a plain `make` runs it first when it is missing.

-include config.mk

SRCS = apython.c $(wildcard loop/*.c console/*.c serve/*.c)
OBJS = $(SRCS:.c=.o)
HDRS = compat.h $(wildcard loop/*.h console/*.h serve/*.h)
WARN = -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wformat=2 \
	-Wno-missing-field-initializers $(WERROR)
ALL_CFLAGS = -std=gnu11 $(WARN) -fno-strict-aliasing $(SANITIZE) $(CFLAGS) \
	$(PYTHON_CFLAGS) $(LIBEVENT_CFLAGS) $(READLINE_CFLAGS) -I. \
	-DAPYTHON_VERSION='"$(VERSION)"' -DAPYTHON_PYTHON='"$(PYTHON_EXECUTABLE)"'
ALL_LIBS = $(PYTHON_LIBS) $(LIBEVENT_LIBS) $(READLINE_LIBS) -lpthread
TEST_PYTHON = /usr/bin/python3
PYTEST = $(TEST_PYTHON) -m pytest

# Unit tests link only the pure-C objects they test.
UNIT_TESTS = $(patsubst %.c,%,$(wildcard tests/unit/test_*.c))
UNIT_OBJS = loop/ring.o loop/heap.o serve/address.o serve/frame.o serve/secret.o

.PHONY: all check check-unit check-man check-blackbox check-conformance \
	check-full bench install \
	uninstall clean distclean

all: apython

# A changed configure.ac or config.mk.in re-runs configure with the
# arguments it was first given (config.status keeps them).
config.mk: config.mk.in configure
	if [ -x config.status ]; then ./config.status --recheck && \
	    ./config.status; else ./configure; fi

configure: configure.ac
	autoconf

apython: $(OBJS)
	$(CC) $(SANITIZE) $(LDFLAGS) -o $@ $(OBJS) $(ALL_LIBS)

%.o: %.c $(HDRS) config.mk
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -c -o $@ $<

tests/unit/test_%: tests/unit/test_%.c tests/unit/unit.h $(UNIT_OBJS)
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -o $@ $< $(UNIT_OBJS) $(SANITIZE) $(LDFLAGS) $(ALL_LIBS)

check: check-unit check-man check-blackbox check-conformance

check-unit: $(UNIT_TESTS)
	@for t in $(UNIT_TESTS); do ./$$t || exit 1; done

check-man:
	mandoc -Tlint -Wwarning man/apython.1

check-blackbox: apython
	APYTHON=$(CURDIR)/apython $(PYTEST) -q tests/blackbox $(PYTEST_ARGS)

# CPython's own asyncio tests against apython.Loop (see tests/conformance).
check-conformance: apython
	./apython tests/conformance/run.py </dev/null

check-full: check-unit check-man check-blackbox
	./apython tests/conformance/run.py --full </dev/null

# Side by side with asyncio and uvloop (bench/RESULTS.md); not part of check.
# BENCH_ARGS: more options of bench/run.py, e.g. BENCH_ARGS=--quick.
bench: apython bench/client
	$(TEST_PYTHON) bench/run.py --apython $(CURDIR)/apython \
		--client $(CURDIR)/bench/client $(BENCH_ARGS)

bench/client: bench/client.c
	$(CC) -std=gnu11 $(WARN) $(CFLAGS) $(CPPFLAGS) -o $@ bench/client.c $(LDFLAGS)

install: apython
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(mandir)/man1
	install -m 755 apython $(DESTDIR)$(bindir)/apython
	install -m 644 man/apython.1 $(DESTDIR)$(mandir)/man1/apython.1

uninstall:
	rm -f $(DESTDIR)$(bindir)/apython $(DESTDIR)$(mandir)/man1/apython.1

clean:
	rm -f apython bench/client $(OBJS) $(UNIT_TESTS) loop/*.o console/*.o serve/*.o
	rm -rf tests/blackbox/__pycache__ tests/conformance/__pycache__ .pytest_cache

distclean: clean
	rm -rf config.mk config.log config.status configure autom4te.cache
