/* ext/'s files: module.c (the names both ways share) and pyinit.c (the
 * extension's PyInit_apython). */
#ifndef APYTHON_EXT_INTERNAL_H
#define APYTHON_EXT_INTERNAL_H

#include "ext/ext.h"

/* module.c: add every name of the module to m; -1 with exception. */
int		 ext_fill(PyObject *m);
/* ext/module.py, run once and kept (borrowed), or NULL with exception. */
PyObject	*ext_glue(void);
/* cli.c: AsynchronousCli, made on first use (after console/'s names). */
int		 ext_cli_add_to_module(PyObject *m);

#endif
