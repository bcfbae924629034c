/* Consoles whose peer is a connection (serve/): lines come from the peer,
 * and whatever the session writes goes to it, as text. */
#include "console/console-internal.h"
#include "py/py.h"

/* A remote session's output (its sys.stdout and sys.stderr, and its
 * prompts) and its link to the peer: text for the peer, through serve/'s
 * callbacks, until the peer is gone. */
struct remote_out {
	PyObject_HEAD
	const struct console_peer	*peer;
	PyObject			*conn;	/* NULL once gone */
};

static PyTypeObject out_type;
static PyObject *s_is_closed;

/* The output of remote session s. */
static inline struct remote_out *
remote_out(PyObject *s)
{
	return (struct remote_out *)session_out(s);
}

/* Text as UTF-8 bytes; what UTF-8 cannot hold is backslash-escaped. */
static PyObject *
out_encode(PyObject *text)
{
	if (!PyUnicode_Check(text)) {
		PyErr_Format(PyExc_TypeError, "write() argument must be str, "
		    "not %.100s", Py_TYPE(text)->tp_name);
		return NULL;
	}
	return PyUnicode_AsEncodedString(text, "utf-8", "backslashreplace");
}

/* write(text): send text to the peer; the number of characters. */
static PyObject *
out_write(struct remote_out *self, PyObject *text)
{
	PyObject	*b, *conn;
	int		 r = 0;

	if ((b = out_encode(text)) == NULL)
		return NULL;
	/* Held: sending may drop the connection, and our reference. */
	if ((conn = Py_XNewRef(self->conn)) != NULL)
		r = self->peer->write(conn, PyBytes_AS_STRING(b),
		    PyBytes_GET_SIZE(b));
	Py_XDECREF(conn);
	Py_DECREF(b);
	if (r != 0)
		return NULL;
	return PyLong_FromSsize_t(PyUnicode_GET_LENGTH(text));
}

/* flush(): text is handed over as it is written. */
static PyObject *
out_flush(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	Py_RETURN_NONE;
}

/* isatty(), readable(), seekable(): no. */
static PyObject *
out_false(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	Py_RETURN_FALSE;
}

/* writable(): yes. */
static PyObject *
out_true(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	Py_RETURN_TRUE;
}

/* fileno(): there is none, as for io.StringIO. */
static PyObject *
out_fileno(PyObject *self, PyObject *unused)
{
	PyObject	*io, *exc;

	(void)self;
	(void)unused;
	if ((io = PyImport_ImportModule("io")) == NULL)
		return NULL;
	exc = PyObject_GetAttrString(io, "UnsupportedOperation");
	Py_DECREF(io);
	if (exc != NULL)
		PyErr_SetString(exc, "fileno");
	Py_XDECREF(exc);
	return NULL;
}

/* encoding, errors: how text is sent. */
static PyObject *
out_get(PyObject *self, void *value)
{
	(void)self;
	return PyUnicode_FromString(value);
}

/* closed: never, for the code writing; text for a gone peer is dropped. */
static PyObject *
out_closed(PyObject *self, void *unused)
{
	(void)self;
	(void)unused;
	Py_RETURN_FALSE;
}

static int
out_traverse(struct remote_out *self, visitproc visit, void *arg)
{
	Py_VISIT(self->conn);
	return 0;
}

static int
out_clear(struct remote_out *self)
{
	Py_CLEAR(self->conn);
	return 0;
}

static void
out_dealloc(struct remote_out *self)
{
	PyObject_GC_UnTrack(self);
	out_clear(self);
	PyObject_GC_Del(self);
}

static PyMethodDef out_methods[] = {
	{ .ml_name = "write",
	  .ml_meth = (PyCFunction)out_write,
	  .ml_flags = METH_O },
	{ .ml_name = "flush",
	  .ml_meth = out_flush,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = "isatty",
	  .ml_meth = out_false,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = "readable",
	  .ml_meth = out_false,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = "seekable",
	  .ml_meth = out_false,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = "writable",
	  .ml_meth = out_true,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = "fileno",
	  .ml_meth = out_fileno,
	  .ml_flags = METH_NOARGS },
	{ .ml_name = NULL }
};

static PyGetSetDef out_getset[] = {
	{ .name = "encoding",
	  .get = out_get,
	  .closure = "utf-8" },
	{ .name = "errors",
	  .get = out_get,
	  .closure = "backslashreplace" },
	{ .name = "closed",
	  .get = out_closed },
	{ .name = NULL }
};

static PyTypeObject out_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "apython.RemoteConsoleStream",
	.tp_doc = "Output of a served console: text for its client.",
	.tp_basicsize = sizeof(struct remote_out),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.tp_traverse = (traverseproc)out_traverse,
	.tp_clear = (inquiry)out_clear,
	.tp_dealloc = (destructor)out_dealloc,
	.tp_methods = out_methods,
	.tp_getset = out_getset,
};

/* Input is expected: tell the peer, with the prompt. */
static int
remote_prompt(PyObject *session, PyObject *prompt)
{
	struct remote_out	*out = remote_out(session);
	PyObject		*b, *conn;
	int			 r;

	if (out->conn == NULL)
		return 0;
	if ((b = out_encode(prompt)) == NULL)
		return -1;
	conn = Py_NewRef(out->conn);
	r = out->peer->prompt(conn, PyBytes_AS_STRING(b),
	    PyBytes_GET_SIZE(b));
	Py_DECREF(conn);
	Py_DECREF(b);
	return r;
}

/* exit(message): the message, as python3 prints it. */
static int
remote_exit_message(PyObject *session, PyObject *exit_exc)
{
	PyObject	*code, *text;
	int		 r = 0;

	if ((code = PyObject_GetAttrString(exit_exc, "code")) == NULL)
		return -1;
	if (code != Py_None && !PyLong_Check(code)) {
		text = PyUnicode_FromFormat("%S\n", code);
		r = text ? session_write(session, text) : -1;
		Py_XDECREF(text);
	}
	Py_DECREF(code);
	return r;
}

/* EOF or exit(): the session ends, the peer closes once it has sent
 * what was written; the console task finishes. */
static int
remote_end(PyObject *session, PyObject *exit_exc)
{
	struct remote_out	*out = remote_out(session);
	PyObject		*conn = out->conn;

	if (conn == NULL)
		return session_feed_eof(session);
	if (remote_exit_message(session, exit_exc) != 0)
		PyErr_WriteUnraisable(session);
	out->conn = NULL;
	out->peer->end(conn);
	Py_DECREF(conn);
	return session_feed_eof(session);
}

/* A statement is complete: the peer may keep it as one history entry. */
static void
remote_statement(PyObject *session, PyObject *source)
{
	struct remote_out	*out = remote_out(session);
	PyObject		*text, *b, *conn;

	if (out->conn == NULL)
		return;
	if ((text = PyObject_CallMethod(source, "rstrip", NULL)) == NULL) {
		PyErr_Clear();
		return;
	}
	b = out_encode(text);
	Py_DECREF(text);
	if (b == NULL) {
		PyErr_Clear();
		return;
	}
	/* Held: sending may drop the connection, and our reference. */
	conn = Py_NewRef(out->conn);
	out->peer->statement(conn, PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b));
	Py_DECREF(conn);
	Py_DECREF(b);
}

/* input() in one of the session's statements: the peer's next line, read
 * while the loop waits (as input() in a coroutine makes it wait under
 * python3); EOFError at the end of its input or once it is gone. */
static PyObject *
remote_read_line(PyObject *session, PyObject *prompt)
{
	struct remote_out	*out = remote_out(session);
	PyObject		*b, *conn, *bytes = NULL, *line = NULL;
	int			 r;

	if (out->conn == NULL)
		goto eof;
	if ((b = out_encode(prompt)) == NULL)
		return NULL;
	conn = Py_NewRef(out->conn);
	r = out->peer->read_line(conn, PyBytes_AS_STRING(b),
	    PyBytes_GET_SIZE(b), &bytes);
	Py_DECREF(conn);
	Py_DECREF(b);
	if (r < 0)
		return NULL;
	if (r == 0)
		goto eof;
	line = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(bytes),
	    PyBytes_GET_SIZE(bytes), "replace");
	Py_DECREF(bytes);
	return line;
eof:
	PyErr_SetNone(PyExc_EOFError);
	return NULL;
}

/* A statement's code goes on or off the CPU: the peer is told. */
static void
remote_cpu(PyObject *session, int on)
{
	struct remote_out	*out = remote_out(session);

	if (out->conn != NULL && out->peer->cpu != NULL)
		out->peer->cpu(out->conn, on);
}

/* The peer reads lines itself and keeps its prompt: no attach or
 * detach. */
static const struct session_io remote_io = {
	.cpu = remote_cpu,
	.prompt = remote_prompt,
	.end = remote_end,
	.statement = remote_statement,
	.read_line = remote_read_line,
};

/* Ready the type; -1 with exception. */
static int
remote_ready(void)
{
	static const struct py_name	names[] = { { &s_is_closed, "is_closed" } };

	if (py_intern_names(names, PY_NAMES_LEN(names)) != 0)
		return -1;
	return PyType_Ready(&out_type);
}

/* A console for conn, talking through peer: its own namespace (asyncio,
 * ainput, a copy of locals), banner (NULL: the default), not started. */
PyObject *
console_remote_new(const struct console_peer *peer, PyObject *conn,
    PyObject *banner, PyObject *locals)
{
	struct remote_out	*out;
	PyObject		*ns, *text, *session = NULL;

	if (remote_ready() != 0)
		return NULL;
	if ((out = PyObject_GC_New(struct remote_out, &out_type)) == NULL)
		return NULL;
	out->peer = peer;
	out->conn = Py_NewRef(conn);
	PyObject_GC_Track(out);
	/* Its own exit and quit: site's would close the program's stdin. */
	if ((ns = intro_namespace(locals, 1)) != NULL) {
		session = session_new(ns, NULL, (PyObject *)out, &remote_io,
		    out);
		Py_DECREF(ns);
	}
	Py_DECREF(out);
	if (session == NULL)
		return NULL;
	if ((text = intro_banner(banner)) == NULL) {
		Py_DECREF(session);
		return NULL;
	}
	intro_set(session, text, NULL);
	Py_DECREF(text);
	return session;
}

/* Run the console on loop: its task starts (again, on a new loop). */
int
console_remote_start(PyObject *session, PyObject *loop)
{
	return session_attach(session, loop);
}

/* The loop closes: the console leaves it, to start on the next one. */
void
console_remote_leave(PyObject *session)
{
	session_detach(session);
}

/* A line from the peer (UTF-8; what is not is replaced). */
int
console_remote_line(PyObject *session, const char *p, size_t n)
{
	PyObject	*line;
	int		 r;

	if ((line = PyUnicode_DecodeUTF8(p, n, "replace")) == NULL)
		return -1;
	r = session_feed_line(session, line);
	Py_DECREF(line);
	return r;
}

/* The peer's input ended. */
int
console_remote_eof(PyObject *session)
{
	return session_feed_eof(session);
}

/* Ctrl-C from the peer: cancel the running statement, or drop the one
 * being typed for a fresh prompt. */
int
console_remote_interrupt(PyObject *session)
{
	int	r;

	if ((r = session_interrupt(session)) != 0)
		return r < 0 ? -1 : 0;
	return session_write_str(session, "\nKeyboardInterrupt\n");
}

/* True while one of the session's statements is on the CPU: a Ctrl-C
 * from the peer then raises KeyboardInterrupt in it. */
int
console_remote_on_cpu(PyObject *session)
{
	return session_on_cpu(session);
}

/* Tab from the peer: the completions (a list of str) of the word text,
 * which comes after before on the line; both UTF-8. */
PyObject *
console_remote_complete(PyObject *session, const char *before, size_t blen,
    const char *text, size_t tlen)
{
	PyObject	*b, *t, *list = NULL;

	b = PyUnicode_DecodeUTF8(before, blen, "replace");
	t = PyUnicode_DecodeUTF8(text, tlen, "replace");
	if (b != NULL && t != NULL)
		list = complete_matches(session, b, t);
	Py_XDECREF(b);
	Py_XDECREF(t);
	return list;
}

/* True (1) when the session's loop is gone or closed, -1 on error. */
static int
remote_loop_closed(PyObject *session)
{
	PyObject	*loop = Py_XNewRef(session_loop(session));
	int		 closed;

	if (loop == NULL)
		return 1;
	closed = py_call_truth(loop, s_is_closed);
	Py_DECREF(loop);
	return closed;
}

/* The peer is gone: its running statement is cancelled, the console task
 * ends as at EOF, and nothing more is sent. */
void
console_remote_close(PyObject *session)
{
	int	closed;

	Py_CLEAR(remote_out(session)->conn);
	if ((closed = remote_loop_closed(session)) != 0) {
		if (closed < 0)
			PyErr_WriteUnraisable(session);
		session_detach(session);
		return;
	}
	if (session_interrupt(session) < 0 || session_feed_eof(session) != 0)
		PyErr_WriteUnraisable(session);
}
