/* The terminal console as a job of an interactive shell: started in the
 * background (`apython app.py > log &`), it comes up once the job is in
 * the foreground (`fg`); Ctrl-Z and `fg` leave the terminal as the shell
 * had it and bring the prompt back (term/job.c). A job put in the
 * foreground while running gets no signal, so the wait polls. Main
 * thread, GIL held. */
#include "console/console-internal.h"

#include "term/term.h"

#define FG_POLL	0.25	/* seconds between looks at the terminal */

static PyObject *wait_loop;	/* the loop to come up on, or NULL */
static PyObject *wait_timer;	/* its pending look */
static int (*wait_then)(PyObject *loop);
static PyObject *watched;	/* the loop reading the Ctrl-Z pipe */
static int watched_fd = -1;

static int fg_schedule(void);

/* A look at the terminal: in the foreground, come up; else wait on. */
static PyObject *
fg_look(PyObject *module, PyObject *unused)
{
	PyObject	*loop;
	int		 r;

	(void)module;
	(void)unused;
	Py_CLEAR(wait_timer);
	if (wait_loop == NULL)
		Py_RETURN_NONE;
	if (!term_foreground())
		return fg_schedule() == 0 ? Py_NewRef(Py_None) : NULL;
	loop = wait_loop;
	wait_loop = NULL;
	r = wait_then(loop);
	Py_DECREF(loop);
	return r == 0 ? Py_NewRef(Py_None) : NULL;
}

static PyMethodDef look_def = {
	.ml_name = "console_foreground",
	.ml_meth = fg_look,
	.ml_flags = METH_NOARGS,
	.ml_doc = "Is the console's job in the foreground yet?",
};

/* The next look, FG_POLL from now. */
static int
fg_schedule(void)
{
	PyObject	*fn;

	if ((fn = PyCFunction_New(&look_def, NULL)) == NULL)
		return -1;
	wait_timer = PyObject_CallMethod(wait_loop, "call_later", "dO",
	    FG_POLL, fn);
	Py_DECREF(fn);
	return wait_timer == NULL ? -1 : 0;
}

/* Call then(loop) once our job has the terminal (now if it has). */
int
fg_wait(PyObject *loop, int (*then)(PyObject *))
{
	if (term_foreground())
		return then(loop);
	fg_cancel(NULL);
	wait_loop = Py_NewRef(loop);
	wait_then = then;
	return fg_schedule();
}

/* Stop waiting on loop (NULL: on any). */
void
fg_cancel(PyObject *loop)
{
	PyObject	*r;

	if (wait_loop == NULL || (loop != NULL && loop != wait_loop))
		return;
	if (wait_timer != NULL) {
		if ((r = PyObject_CallMethod(wait_timer, "cancel", NULL)) ==
		    NULL)
			PyErr_WriteUnraisable(wait_timer);
		Py_XDECREF(r);
		Py_CLEAR(wait_timer);
	}
	Py_CLEAR(wait_loop);
}

/* Continued in the background (bg), now brought to the foreground:
 * the terminal's settings back, keys read again, the line drawn, or
 * the prompt that waited shown. */
static int
fg_back(PyObject *loop)
{
	(void)loop;
	term_job_reclaim();
	term_continued();
	if (readline_keys(1) != 0)
		return -1;
	return readline_deferred();
}

/* A prompt asked for in the background: it comes at fg (fg_back). */
int
fg_defer(PyObject *loop)
{
	return fg_wait(loop, fg_back);
}

/* The process was continued after Ctrl-Z: in the foreground, draw the
 * line again; in the background, no keys read until it is there. */
static PyObject *
fg_continued(PyObject *module, PyObject *unused)
{
	(void)module;
	(void)unused;
	if (term_job_continued())
		term_continued();
	else if (readline_keys(0) != 0 || fg_wait(watched, fg_back) != 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyMethodDef continued_def = {
	.ml_name = "console_continued",
	.ml_meth = fg_continued,
	.ml_flags = METH_NOARGS,
	.ml_doc = "Back in the foreground after Ctrl-Z.",
};

/* While the prompt may be up on loop: Ctrl-Z is ours, unless the
 * program handles SIGTSTP itself. */
int
fg_watch(PyObject *loop)
{
	PyObject	*fn, *r;
	int		 fd;

	if (watched != NULL || (fd = term_job_start()) < 0)
		return 0;
	if ((fn = PyCFunction_New(&continued_def, NULL)) == NULL)
		goto fail;
	r = PyObject_CallMethod(loop, "add_reader", "iO", fd, fn);
	Py_DECREF(fn);
	if (r == NULL)
		goto fail;
	Py_DECREF(r);
	watched = Py_NewRef(loop);
	watched_fd = fd;
	return 0;
fail:
	term_job_stop();
	return -1;
}

/* Ctrl-Z is the program's again. */
void
fg_unwatch(void)
{
	PyObject	*r;

	if (watched == NULL)
		return;
	term_job_stop();
	r = PyObject_CallMethod(watched, "remove_reader", "i", watched_fd);
	if (r == NULL)
		PyErr_WriteUnraisable(watched);
	Py_XDECREF(r);
	Py_CLEAR(watched);
}
