/* ext/: the module `apython`, one definition for both ways it is loaded:
 * built into the binary (PyImport_AppendInittab, apython.c) and as the
 * extension module apython$(EXT_SUFFIX) that a plain python3 imports
 * (`make module`: PyInit_apython, ext/pyinit.c, linked into the
 * extension only).
 *
 * Both have the same names: Loop, EventLoopPolicy, new_event_loop,
 * install, ainput, aprint, get_standard_streams, aexec, aeval,
 * AsynchronousConsole, interact, AsynchronousCli (made on first use),
 * start_console_server, start_interactive_server, __version__.
 *
 * Under a plain python3 (the rule the extension's code relies on):
 * - No SIGINT interposition: sigaction() is the interpreter's own (sig/
 *   is built with SIG_NOT_INTERPOSED, sig.h). There is no terminal
 *   console, so nothing claims a typed Ctrl-C: every SIGINT is Python's,
 *   a KeyboardInterrupt wherever the main thread is (in a served
 *   statement's code too: that statement keeps it, as under
 *   `python -m asyncio`).
 * - A served client's Ctrl-C works as in the binary: the control thread
 *   (ctl/) signals the main thread with apython's real-time signal, whose
 *   handler is installed when the module is first imported, in the main
 *   thread. Imported first in another thread, or where the signal cannot
 *   be handled (valgrind keeps the last real-time signals), a
 *   RuntimeWarning says so and the client's Ctrl-C waits for the loop to
 *   turn instead.
 * - ainput() outside a served console reads the standard streams
 *   (console/stdstreams.py), there being no terminal console: at a
 *   terminal, a line edited with readline.
 * - Nothing is installed at import: install() sets apython's policy.
 * - One module per process, in the main interpreter only: a second
 *   import (or importlib.reload) gives the first one's names again; a
 *   subinterpreter's import is an ImportError. */
#ifndef APYTHON_EXT_H
#define APYTHON_EXT_H

#include "compat.h"

/* The binary's built-in module (single-phase init, for the inittab). */
PyObject	*ext_builtin_init(void);

#endif
