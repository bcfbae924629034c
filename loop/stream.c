/* asyncio.streams' reading half in C: what StreamReaderProtocol's
 * data_received() and StreamReader's feed_data() do, for exactly those
 * classes as asyncio defines them. Anything else (subclasses, patched
 * methods, a reader at EOF, ...) is left to the Python code. */
#include <string.h>

#include "loop/loop.h"

static PyTypeObject *proto_type;	/* asyncio.streams.StreamReaderProtocol */
static PyTypeObject *reader_type;	/* asyncio.streams.StreamReader */
static PyObject *fn_data_received, *fn_feed_data, *fn_wakeup;
static PyObject *prop_stream_reader;
static PyObject *s_data_received, *s_stream_reader, *s_feed_data;
static PyObject *s_wakeup, *s_reader_wr, *s_eof, *s_buffer, *s_waiter;
static PyObject *s_cancelled, *s_set_result, *s_transport, *s_paused;
static PyObject *s_limit, *s_pause_reading;

/* True (1) when type's own dict maps name to obj. */
static int
stream_class_has(PyTypeObject *type, PyObject *name, PyObject *obj)
{
	PyObject	*v;

	if ((v = PyDict_GetItemWithError(type->tp_dict, name)) == NULL)
		return PyErr_Occurred() ? -1 : 0;
	return v == obj;
}

/* True (1) when obj.name is fn bound to obj: its class's method, not
 * shadowed by an instance attribute. */
static int
stream_bound(PyObject *obj, PyObject *name, PyObject *fn)
{
	PyObject	*m;
	int		 r;

	if ((m = PyObject_GetAttr(obj, name)) == NULL)
		return -1;
	r = PyMethod_Check(m) && PyMethod_GET_FUNCTION(m) == fn &&
	    PyMethod_GET_SELF(m) == obj;
	Py_DECREF(m);
	return r;
}

/* True (1) when proto.data_received(data) is asyncio's own. */
static int
stream_proto_plain(PyObject *proto)
{
	int	r;

	if (proto_type == NULL || Py_TYPE(proto) != proto_type)
		return 0;
	if ((r = stream_class_has(proto_type, s_data_received,
	    fn_data_received)) != 1 ||
	    (r = stream_class_has(proto_type, s_stream_reader,
	    prop_stream_reader)) != 1)
		return r;
	return stream_bound(proto, s_data_received, fn_data_received);
}

/* True (1) when reader.feed_data() and its _wakeup_waiter() are
 * asyncio's own and the reader is not at EOF. */
static int
stream_reader_plain(PyObject *reader)
{
	PyObject	*eof;
	int		 r;

	if (Py_TYPE(reader) != reader_type)
		return 0;
	if ((r = stream_class_has(reader_type, s_feed_data, fn_feed_data)) != 1 ||
	    (r = stream_class_has(reader_type, s_wakeup, fn_wakeup)) != 1 ||
	    (r = stream_bound(reader, s_feed_data, fn_feed_data)) != 1 ||
	    (r = stream_bound(reader, s_wakeup, fn_wakeup)) != 1)
		return r;
	/* feed_data() asserts this; the Python code says what happens. */
	if ((eof = PyObject_GetAttr(reader, s_eof)) == NULL)
		return -1;
	r = eof == Py_False;
	Py_DECREF(eof);
	return r;
}

/* The reader proto.data_received() would feed (a new reference), when
 * the C path applies; NULL otherwise, with an exception on error. */
static PyObject *
stream_reader(PyObject *proto)
{
	PyObject	*wr, *reader;
	int		 r;

	if (stream_proto_plain(proto) != 1)
		return NULL;
	if ((wr = PyObject_GetAttr(proto, s_reader_wr)) == NULL)
		return NULL;
	/* The _stream_reader property: self._stream_reader_wr(). */
	reader = PyWeakref_CheckRefExact(wr) ? PyObject_CallNoArgs(wr) : NULL;
	Py_DECREF(wr);
	if (reader == NULL)
		return NULL;
	if ((r = stream_reader_plain(reader)) != 1)
		Py_CLEAR(reader);
	return reader;
}

/* _wakeup_waiter(): wake read*() waiting for data. */
static int
stream_wakeup(PyObject *reader)
{
	PyObject	*waiter, *v = NULL;
	int		 cancelled = -1;

	if ((waiter = PyObject_GetAttr(reader, s_waiter)) == NULL)
		return -1;
	if (waiter == Py_None) {
		Py_DECREF(waiter);
		return 0;
	}
	if (PyObject_SetAttr(reader, s_waiter, Py_None) == 0 &&
	    (v = PyObject_CallMethodNoArgs(waiter, s_cancelled)) != NULL) {
		cancelled = PyObject_IsTrue(v);
		Py_DECREF(v);
		v = NULL;
	}
	if (cancelled == 0)
		v = PyObject_CallMethodOneArg(waiter, s_set_result, Py_None);
	Py_DECREF(waiter);
	Py_XDECREF(v);
	return cancelled == 1 || v != NULL ? 0 : -1;
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

/* Pause the reader's transport, as feed_data() does: a transport that
 * cannot pause is forgotten. */
static int
stream_pause(PyObject *reader, PyObject *transport)
{
	PyObject	*r;

	if ((r = PyObject_CallMethodNoArgs(transport, s_pause_reading)) != NULL) {
		Py_DECREF(r);
		return PyObject_SetAttr(reader, s_paused, Py_True);
	}
	if (!PyErr_ExceptionMatches(PyExc_NotImplementedError))
		return -1;
	PyErr_Clear();
	return PyObject_SetAttr(reader, s_transport, Py_None);
}

/* feed_data()'s flow control: pause reading above twice the limit. */
static int
stream_flow(PyObject *reader)
{
	PyObject	*transport, *paused;
	int		 r;

	if ((transport = PyObject_GetAttr(reader, s_transport)) == NULL)
		return -1;
	if (transport == Py_None) {
		Py_DECREF(transport);
		return 0;
	}
	if ((paused = PyObject_GetAttr(reader, s_paused)) == NULL)
		r = -1;
	else {
		r = PyObject_IsTrue(paused);
		Py_DECREF(paused);
	}
	if (r == 0 && (r = stream_over_limit(reader)) == 1)
		r = stream_pause(reader, transport);
	Py_DECREF(transport);
	return r < 0 ? -1 : 0;
}

/* feed_data(data) on a reader known to be asyncio's own, not at EOF. */
static int
stream_feed_data(PyObject *reader, const char *data, Py_ssize_t n)
{
	PyObject	*buf;
	Py_ssize_t	 len;
	int		 r = -1;

	if ((buf = PyObject_GetAttr(reader, s_buffer)) == NULL)
		return -1;
	if (PyByteArray_CheckExact(buf)) {
		/* self._buffer.extend(data) */
		len = PyByteArray_GET_SIZE(buf);
		if (PyByteArray_Resize(buf, len + n) == 0) {
			memcpy(PyByteArray_AS_STRING(buf) + len, data, n);
			r = 0;
		}
	} else
		r = PyObject_CallMethod(buf, "extend", "y#", data, n) ? 0 : -1;
	Py_DECREF(buf);
	if (r != 0 || stream_wakeup(reader) != 0)
		return -1;
	return stream_flow(reader);
}

/* proto.data_received(data) for n > 0 bytes at data, in C when proto
 * and its reader are asyncio's own: 1 when done, 0 when the caller must
 * call data_received() itself, -1 with exception as that call raises. */
int
stream_feed(PyObject *proto, const char *data, Py_ssize_t n)
{
	PyObject	*reader;
	int		 r;

	if ((reader = stream_reader(proto)) == NULL)
		return PyErr_Occurred() ? -1 : 0;
	r = stream_feed_data(reader, data, n);
	Py_DECREF(reader);
	return r < 0 ? -1 : 1;
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
	struct { PyObject **p; const char *s; } names[] = {
		{ &s_data_received, "data_received" },
		{ &s_stream_reader, "_stream_reader" },
		{ &s_feed_data, "feed_data" }, { &s_wakeup, "_wakeup_waiter" },
		{ &s_reader_wr, "_stream_reader_wr" }, { &s_eof, "_eof" },
		{ &s_buffer, "_buffer" }, { &s_waiter, "_waiter" },
		{ &s_cancelled, "cancelled" }, { &s_set_result, "set_result" },
		{ &s_transport, "_transport" }, { &s_paused, "_paused" },
		{ &s_limit, "_limit" }, { &s_pause_reading, "pause_reading" },
	};
	size_t	i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if ((*names[i].p = PyUnicode_InternFromString(names[i].s)) == NULL)
			return -1;
	return 0;
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
