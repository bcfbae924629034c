/* What term/'s own files share; the rest of apython calls term/term.h. */
#ifndef APYTHON_TERM_INTERNAL_H
#define APYTHON_TERM_INTERNAL_H

#include "term/term.h"

/* context.c: readline's state is the program's, the console's swapped
 * in around each call term/ makes into readline (term_enter/term_leave,
 * which nest); term_setup() makes the console's between begin and made. */
void	 term_context_begin(void);
void	 term_context_made(void);
void	 term_enter(void);
void	 term_leave(void);

#endif
