/* asyncio.streams' reading half in C: a call of StreamReaderProtocol's
 * data_received(), StreamReader's feed_data() or _wakeup_waiter() that
 * resolves to asyncio's own function, on an object of exactly that class,
 * runs here; anything else (subclasses, patched methods, a reader at EOF,
 * ...) is left to the Python code. */
#include <string.h>
#include <sys/types.h>

#include "loop/loop-internal.h"

static PyTypeObject *proto_type;	/* asyncio.streams.StreamReaderProtocol */
static PyTypeObject *reader_type;	/* asyncio.streams.StreamReader */
static PyObject *fn_data_received, *fn_feed_data, *fn_wakeup;
static PyObject *prop_stream_reader;
static PyObject *s_data_received, *s_stream_reader, *s_feed_data;
static PyObject *s_wakeup, *s_reader_wr, *s_eof, *s_buffer, *s_waiter;
static PyObject *s_cancelled, *s_set_result, *s_transport, *s_paused;
static PyObject *s_limit, *s_pause_reading;

/* True (1) when m is fn bound to obj: the method obj.<name> resolved to
 * is asyncio's own function. */
static int
stream_is(PyObject *m, PyObject *obj, PyObject *fn)
{
	return PyMethod_Check(m) && PyMethod_GET_FUNCTION(m) == fn &&
	    PyMethod_GET_SELF(m) == obj;
}

/* meth(bytes of data), for a method that is not asyncio's own. */
static int
stream_call(PyObject *meth, const char *data, Py_ssize_t n)
{
	PyObject	*b, *r;

	if ((b = PyBytes_FromStringAndSize(data, n)) == NULL)
		return -1;
	r = PyObject_CallOneArg(meth, b);
	Py_DECREF(b);
	Py_XDECREF(r);
	return r == NULL ? -1 : 0;
}

/* StreamReader._wakeup_waiter(): wake read*() waiting for data. */
static int
stream_wakeup_waiter(PyObject *reader)
{
	PyObject	*waiter, *v = NULL;
	int		 cancelled = -1;

	if ((waiter = PyObject_GetAttr(reader, s_waiter)) == NULL)
		return -1;
	if (waiter == Py_None) {
		Py_DECREF(waiter);
		return 0;
	}
	if (PyObject_SetAttr(reader, s_waiter, Py_None) == 0)
		cancelled = py_call_truth(waiter, s_cancelled);
	if (cancelled == 0)
		v = PyObject_CallMethodOneArg(waiter, s_set_result, Py_None);
	Py_DECREF(waiter);
	Py_XDECREF(v);
	return cancelled == 1 || v != NULL ? 0 : -1;
}

/* reader._wakeup_waiter(), in C when it is asyncio's own. */
static int
stream_wakeup(PyObject *reader)
{
	PyObject	*m, *r;
	int		 rc;

	if ((m = PyObject_GetAttr(reader, s_wakeup)) == NULL)
		return -1;
	if (stream_is(m, reader, fn_wakeup))
		rc = stream_wakeup_waiter(reader);
	else {
		r = PyObject_CallNoArgs(m);
		rc = r == NULL ? -1 : 0;
		Py_XDECREF(r);
	}
	Py_DECREF(m);
	return rc;
}

/* len(reader._buffer) > 2 * reader._limit, as Python computes it. */
static int
stream_over_limit(PyObject *reader)
{
	PyObject	*buf, *limit, *two = NULL, *high = NULL, *len = NULL;
	Py_ssize_t	 n;
	long long	 lim;
	int		 over, r = -1;

	if ((buf = PyObject_GetAttr(reader, s_buffer)) == NULL)
		return -1;
	n = PyObject_Size(buf);
	Py_DECREF(buf);
	if (n < 0 || (limit = PyObject_GetAttr(reader, s_limit)) == NULL)
		return -1;
	if (PyLong_CheckExact(limit)) {
		lim = PyLong_AsLongLongAndOverflow(limit, &over);
		if (over == 0 && lim > -(1LL << 40) && lim < (1LL << 40)) {
			Py_DECREF(limit);
			return n > 2 * lim;
		}
	}
	if ((two = PyLong_FromLong(2)) != NULL &&
	    (high = PyNumber_Multiply(two, limit)) != NULL &&
	    (len = PyLong_FromSsize_t(n)) != NULL)
		r = PyObject_RichCompareBool(len, high, Py_GT);
	Py_DECREF(limit);
	Py_XDECREF(two);
	Py_XDECREF(high);
	Py_XDECREF(len);
	return r;
}

/* self._transport.pause_reading(), as feed_data() does it: a transport
 * that cannot pause is forgotten. */
static int
stream_pause(PyObject *reader)
{
	PyObject	*t, *r;

	if ((t = PyObject_GetAttr(reader, s_transport)) == NULL)
		return -1;
	r = PyObject_CallMethodNoArgs(t, s_pause_reading);
	Py_DECREF(t);
	if (r != NULL) {
		Py_DECREF(r);
		return PyObject_SetAttr(reader, s_paused, Py_True);
	}
	if (!PyErr_ExceptionMatches(PyExc_NotImplementedError))
		return -1;
	PyErr_Clear();
	return PyObject_SetAttr(reader, s_transport, Py_None);
}

/* feed_data()'s flow control: if self._transport is not None and not
 * self._paused and len(self._buffer) > 2 * self._limit, pause. */
static int
stream_flow(PyObject *reader)
{
	PyObject	*v;
	int		 r;

	if ((v = PyObject_GetAttr(reader, s_transport)) == NULL)
		return -1;
	r = v == Py_None;
	Py_DECREF(v);
	if (r)
		return 0;
	if ((v = PyObject_GetAttr(reader, s_paused)) == NULL)
		return -1;
	r = PyObject_IsTrue(v);
	Py_DECREF(v);
	if (r == 0 && (r = stream_over_limit(reader)) == 1)
		r = stream_pause(reader);
	return r < 0 ? -1 : 0;
}

/* self._buffer.extend(data) */
static int
stream_extend(PyObject *reader, const char *data, Py_ssize_t n)
{
	PyObject	*buf, *r;
	Py_ssize_t	 len;
	int		 rc = -1;

	if ((buf = PyObject_GetAttr(reader, s_buffer)) == NULL)
		return -1;
	if (PyByteArray_CheckExact(buf)) {
		len = PyByteArray_GET_SIZE(buf);
		if (PyByteArray_Resize(buf, len + n) == 0) {
			memcpy(PyByteArray_AS_STRING(buf) + len, data, n);
			rc = 0;
		}
	} else if ((r = PyObject_CallMethod(buf, "extend", "y#", data,
	    n)) != NULL) {
		Py_DECREF(r);
		rc = 0;
	}
	Py_DECREF(buf);
	return rc;
}

/* The body of StreamReader.feed_data(data), n > 0, for a reader of
 * exactly that class: 1 when done, 0 when it is at EOF and Python must
 * say what follows (feed_data() asserts not self._eof). */
static int
stream_feed_data(PyObject *reader, const char *data, Py_ssize_t n)
{
	PyObject	*eof;
	int		 at_eof;

	if ((eof = PyObject_GetAttr(reader, s_eof)) == NULL)
		return -1;
	at_eof = eof != Py_False;
	Py_DECREF(eof);
	if (at_eof)
		return 0;
	if (stream_extend(reader, data, n) != 0 || stream_wakeup(reader) != 0 ||
	    stream_flow(reader) != 0)
		return -1;
	return 1;
}

/* reader.feed_data(data), in C when it is asyncio's own. */
static int
stream_feed(PyObject *reader, const char *data, Py_ssize_t n)
{
	PyObject	*m;
	int		 r = 0;

	if ((m = PyObject_GetAttr(reader, s_feed_data)) == NULL)
		return -1;
	if (Py_TYPE(reader) == reader_type && stream_is(m, reader, fn_feed_data))
		r = stream_feed_data(reader, data, n);
	if (r == 0)
		r = stream_call(m, data, n);
	Py_DECREF(m);
	return r < 0 ? -1 : 0;
}

/* True (1) when asyncio's _stream_reader property is what proto (of
 * exactly asyncio's class) reads. */
static int
stream_plain_property(void)
{
	PyObject	*v;

	v = PyDict_GetItemWithError(proto_type->tp_dict, s_stream_reader);
	if (v == NULL)
		return PyErr_Occurred() ? -1 : 0;
	return v == prop_stream_reader;
}

/* The body of StreamReaderProtocol.data_received(data). */
static int
stream_proto_received(PyObject *proto, const char *data, Py_ssize_t n)
{
	PyObject	*wr, *reader;
	int		 r;

	/* reader = self._stream_reader: the weak reference, called */
	if ((wr = PyObject_GetAttr(proto, s_reader_wr)) == NULL)
		return -1;
	reader = wr == Py_None ? Py_NewRef(Py_None) : PyObject_CallNoArgs(wr);
	Py_DECREF(wr);
	if (reader == NULL)
		return -1;
	r = reader == Py_None ? 0 : stream_feed(reader, data, n);
	Py_DECREF(reader);
	return r;
}

/* proto.data_received(data) for n > 0 bytes when proto is exactly
 * asyncio's StreamReaderProtocol: in C when the method is asyncio's own,
 * else whatever it resolves to. 1 when done, 0 when proto is of another
 * class (the caller calls its method), -1 with the exception raised. */
int
stream_data_received(PyObject *proto, const char *data, Py_ssize_t n)
{
	PyObject	*m;
	int		 r;

	if (proto_type == NULL || Py_TYPE(proto) != proto_type)
		return 0;
	if ((m = PyObject_GetAttr(proto, s_data_received)) == NULL)
		return -1;
	if (!stream_is(m, proto, fn_data_received) ||
	    (r = stream_plain_property()) == 0)
		r = stream_call(m, data, n);
	else if (r > 0)
		r = stream_proto_received(proto, data, n);
	Py_DECREF(m);
	return r < 0 ? -1 : 1;
}

/* A read on a loop brought LOOP_LARGE_READ bytes or more, and none since
 * fewer than STREAM_SMALL_READ: the next one of a stream goes straight
 * into its reader's buffer (for a small one, growing the buffer by
 * LOOP_READ_MAX and back costs more than the copy saved). A hint for
 * speed only, kept under the GIL; when on, loop_read_size() has tuned
 * malloc, so that growth stays in the heap. */
#define STREAM_SMALL_READ	4096
static int stream_big;

/* A recv of n bytes (or an error or EOF, n <= 0) on a loop's transport. */
void
stream_rx_note(ssize_t n)
{
	if (n >= LOOP_LARGE_READ)
		stream_big = 1;
	else if (n > 0 && n < STREAM_SMALL_READ)
		stream_big = 0;
}

/* reader, of exactly asyncio's class, not at EOF, whose feed_data() is
 * asyncio's own and whose _buffer is a bytearray: that buffer, else
 * NULL (exceptions cleared: the usual path meets them again). */
static PyObject *
stream_rx_buffer(PyObject *reader)
{
	PyObject	*m, *v;
	int		 ok;

	if (Py_TYPE(reader) != reader_type ||
	    (m = PyObject_GetAttr(reader, s_feed_data)) == NULL)
		return NULL;
	ok = stream_is(m, reader, fn_feed_data);
	Py_DECREF(m);
	if (!ok || (v = PyObject_GetAttr(reader, s_eof)) == NULL)
		return NULL;
	ok = v == Py_False;
	Py_DECREF(v);
	if (!ok || (v = PyObject_GetAttr(reader, s_buffer)) == NULL)
		return NULL;
	if (PyByteArray_CheckExact(v))
		return v;
	Py_DECREF(v);
	return NULL;
}

/* proto's reader, when proto, of exactly asyncio's class, would feed it
 * with asyncio's own methods; NULL (no exception) otherwise. */
static PyObject *
stream_rx_reader(PyObject *proto)
{
	PyObject	*m, *wr, *reader;
	int		 ok;

	if ((m = PyObject_GetAttr(proto, s_data_received)) == NULL)
		return NULL;
	ok = stream_is(m, proto, fn_data_received);
	Py_DECREF(m);
	if (!ok || stream_plain_property() != 1 ||
	    (wr = PyObject_GetAttr(proto, s_reader_wr)) == NULL)
		return NULL;
	reader = wr == Py_None ? NULL : PyObject_CallNoArgs(wr);
	Py_DECREF(wr);
	if (reader == Py_None)
		Py_CLEAR(reader);
	return reader;
}

/* When the next read for proto may go straight into its reader's
 * bytearray (saving a copy of each large message): 1 with rx set, the
 * buffer grown by rx->room bytes to recv into; stream_rx_end() must
 * follow with no Python run between. 0 otherwise, without exception:
 * the usual path reads and feeds (and meets any error again there). */
int
stream_rx_begin(PyObject *proto, struct stream_rx *rx)
{
	PyObject	*reader, *buf = NULL;

	if (!stream_big || proto_type == NULL || Py_TYPE(proto) != proto_type)
		return 0;
	if ((reader = stream_rx_reader(proto)) != NULL)
		buf = stream_rx_buffer(reader);
	if (buf != NULL) {
		rx->len = PyByteArray_GET_SIZE(buf);
		/* BufferError when exported: extend() will raise it */
		if (PyByteArray_Resize(buf, rx->len + LOOP_READ_MAX) == 0) {
			rx->reader = reader;
			rx->buf = buf;
			rx->room = LOOP_READ_MAX;
			rx->at = PyByteArray_AS_STRING(buf) + rx->len;
			return 1;
		}
		Py_DECREF(buf);
	}
	Py_XDECREF(reader);
	PyErr_Clear();
	return 0;
}

/* After the recv into rx brought n bytes (n <= 0: none): the buffer
 * keeps them, and feed_data()'s remaining steps run (wake the waiter,
 * pause at the high-water mark). -1 with exception. */
int
stream_rx_end(struct stream_rx *rx, ssize_t n)
{
	Py_ssize_t	 size = rx->len + (n > 0 ? n : 0);
	int		 r = 0;

	/* A shrink that cannot have a smaller block keeps the one it has,
	 * as bytearray itself does: never a buffer longer than what came. */
	if (PyByteArray_Resize(rx->buf, size) != 0) {
		PyErr_Clear();
		Py_SET_SIZE(rx->buf, size);
		PyByteArray_AS_STRING(rx->buf)[size] = '\0';
	}
	if (n > 0 && (r = stream_wakeup(rx->reader)) == 0)
		r = stream_flow(rx->reader);
	Py_DECREF(rx->buf);
	Py_DECREF(rx->reader);
	return r;
}

/* A new reference to what type's own dict holds under name, when it is
 * of the kind expected; NULL otherwise. */
static PyObject *
stream_lookup(PyTypeObject *type, const char *name, PyTypeObject *kind)
{
	PyObject	*v;

	v = PyDict_GetItemString(type->tp_dict, name);
	if (v == NULL || !PyObject_TypeCheck(v, kind))
		return NULL;
	return Py_NewRef(v);
}

/* Intern the attribute names; -1 with exception. */
static int
stream_names(void)
{
	static const struct py_name names[] = {
		{ &s_data_received, "data_received" },
		{ &s_stream_reader, "_stream_reader" },
		{ &s_feed_data, "feed_data" }, { &s_wakeup, "_wakeup_waiter" },
		{ &s_reader_wr, "_stream_reader_wr" }, { &s_eof, "_eof" },
		{ &s_buffer, "_buffer" }, { &s_waiter, "_waiter" },
		{ &s_cancelled, "cancelled" }, { &s_set_result, "set_result" },
		{ &s_transport, "_transport" }, { &s_paused, "_paused" },
		{ &s_limit, "_limit" }, { &s_pause_reading, "pause_reading" },
	};

	return py_intern_names(names, PY_NAMES_LEN(names));
}

/* Find asyncio's stream classes; when they do not look as expected the
 * C path stays off. -1 with exception. */
int
stream_ready(void)
{
	PyObject	*streams, *p, *r;

	if (stream_names() != 0 ||
	    (streams = PyImport_ImportModule("asyncio.streams")) == NULL)
		return -1;
	p = PyObject_GetAttrString(streams, "StreamReaderProtocol");
	r = p ? PyObject_GetAttrString(streams, "StreamReader") : NULL;
	Py_DECREF(streams);
	if (p == NULL || r == NULL || !PyType_Check(p) || !PyType_Check(r)) {
		Py_XDECREF(p);
		Py_XDECREF(r);
		return PyErr_Occurred() ? -1 : 0;
	}
	fn_data_received = stream_lookup((PyTypeObject *)p, "data_received",
	    &PyFunction_Type);
	prop_stream_reader = stream_lookup((PyTypeObject *)p,
	    "_stream_reader", &PyProperty_Type);
	fn_feed_data = stream_lookup((PyTypeObject *)r, "feed_data",
	    &PyFunction_Type);
	fn_wakeup = stream_lookup((PyTypeObject *)r, "_wakeup_waiter",
	    &PyFunction_Type);
	if (fn_data_received && prop_stream_reader && fn_feed_data && fn_wakeup) {
		proto_type = (PyTypeObject *)p;
		reader_type = (PyTypeObject *)r;
		return 0;
	}
	Py_DECREF(p);
	Py_DECREF(r);
	return 0;
}
