/* apython.Loop (the C core mixed into asyncio's Unix loop for what is
 * off the hot path) and apython.EventLoopPolicy. */
#include "loop/loop-internal.h"

/* EventLoopPolicy.new_event_loop(self): a Loop its observers follow. */
static PyObject *
policy_new_event_loop(PyObject *module, PyObject *policy)
{
	PyObject	*factory, *loop;

	(void)module;
	if ((factory = PyObject_GetAttrString(policy, "_loop_factory")) == NULL)
		return NULL;
	loop = PyObject_CallNoArgs(factory);
	Py_DECREF(factory);
	if (loop != NULL && PyObject_TypeCheck(loop, loop_core_type()))
		loop_set_observed(loop);
	return loop;
}

/* apython.new_event_loop(): a fresh Loop, outside the policy. */
static PyObject *
module_new_event_loop(PyObject *module, PyObject *unused)
{
	PyObject	*cls;

	(void)unused;
	if ((cls = PyObject_GetAttrString(module, "Loop")) == NULL)
		return NULL;
	Py_SETREF(cls, PyObject_CallNoArgs(cls));
	return cls;
}

static PyMethodDef policy_new_def = {
	.ml_name = "new_event_loop",
	.ml_meth = policy_new_event_loop,
	.ml_flags = METH_O,
	.ml_doc = "Create a new apython.Loop; in the main thread the console "
	    "joins it.",
};

static PyMethodDef module_new_def = {
	.ml_name = "new_event_loop",
	.ml_meth = module_new_event_loop,
	.ml_flags = METH_NOARGS,
	.ml_doc = "Create a new apython.Loop (no console joins it).",
};

/* type(name, bases, ns) in module apython, with a docstring. */
static PyObject *
policy_make_class(const char *name, PyObject *bases, PyObject *ns,
    const char *doc)
{
	PyObject	*d, *m;
	int		 r;

	d = PyUnicode_FromString(doc);
	m = d != NULL ? PyUnicode_FromString("apython") : NULL;
	r = d == NULL || m == NULL || PyDict_SetItemString(ns, "__doc__", d) ||
	    PyDict_SetItemString(ns, "__module__", m);
	Py_XDECREF(d);
	Py_XDECREF(m);
	if (r != 0)
		return NULL;
	return PyObject_CallFunction((PyObject *)&PyType_Type, "sOO", name,
	    bases, ns);
}

/* Loop: the C core first in the MRO, asyncio's Unix selector loop behind
 * it for transports, pipes, subprocesses and signals. */
static PyObject *
policy_loop_class(void)
{
	PyObject	*unix_events, *base, *bases = NULL, *ns, *cls = NULL;

	if ((unix_events = PyImport_ImportModule("asyncio.unix_events")) == NULL)
		return NULL;
	base = PyObject_GetAttrString(unix_events, "SelectorEventLoop");
	Py_DECREF(unix_events);
	if (base != NULL)
		bases = PyTuple_Pack(2, (PyObject *)loop_core_type(), base);
	Py_XDECREF(base);
	if (bases == NULL || (ns = PyDict_New()) == NULL) {
		Py_XDECREF(bases);
		return NULL;
	}
	cls = policy_make_class("Loop", bases, ns,
	    "An asyncio event loop written in C on libevent.");
	Py_DECREF(bases);
	Py_DECREF(ns);
	return cls;
}

/* EventLoopPolicy: asyncio's default Unix policy making Loops. */
static PyObject *
policy_class(PyObject *module, PyObject *loop_cls)
{
	PyObject	*asyncio, *base, *bases = NULL, *ns = NULL, *fn = NULL;
	PyObject	*meth = NULL, *cls = NULL;

	if ((asyncio = PyImport_ImportModule("asyncio")) == NULL)
		return NULL;
	base = PyObject_GetAttrString(asyncio, "DefaultEventLoopPolicy");
	Py_DECREF(asyncio);
	if (base == NULL)
		return NULL;
	if ((bases = PyTuple_Pack(1, base)) == NULL ||
	    (ns = PyDict_New()) == NULL ||
	    (fn = PyCFunction_NewEx(&policy_new_def, module, NULL)) == NULL ||
	    (meth = PyInstanceMethod_New(fn)) == NULL)
		goto out;
	if (PyDict_SetItemString(ns, "_loop_factory", loop_cls) != 0 ||
	    PyDict_SetItemString(ns, "new_event_loop", meth) != 0)
		goto out;
	cls = policy_make_class("EventLoopPolicy", bases, ns,
	    "asyncio's event loop policy, making apython.Loop loops.");
out:
	Py_DECREF(base);
	Py_XDECREF(bases);
	Py_XDECREF(ns);
	Py_XDECREF(fn);
	Py_XDECREF(meth);
	return cls;
}

/* Add Loop, EventLoopPolicy and new_event_loop to the module. */
int
loop_add_to_module(PyObject *module)
{
	PyObject	*loop_cls, *policy_cls, *fn;

	if (loop_core_ready() != 0)
		return -1;
	if ((loop_cls = policy_loop_class()) == NULL)
		return -1;
	if (PyModule_AddObject(module, "Loop", loop_cls) != 0) {
		Py_DECREF(loop_cls);
		return -1;
	}
	if ((policy_cls = policy_class(module, loop_cls)) == NULL)
		return -1;
	if (PyModule_AddObject(module, "EventLoopPolicy", policy_cls) != 0) {
		Py_DECREF(policy_cls);
		return -1;
	}
	if ((fn = PyCFunction_NewEx(&module_new_def, module, NULL)) == NULL)
		return -1;
	if (PyModule_AddObject(module, "new_event_loop", fn) != 0) {
		Py_DECREF(fn);
		return -1;
	}
	return 0;
}

/* asyncio.set_event_loop_policy(apython.EventLoopPolicy()). */
int
loop_install_policy(PyObject *module)
{
	PyObject	*asyncio, *cls, *policy = NULL, *r = NULL;

	if ((asyncio = PyImport_ImportModule("asyncio")) == NULL)
		return -1;
	if ((cls = PyObject_GetAttrString(module, "EventLoopPolicy")) != NULL)
		policy = PyObject_CallNoArgs(cls);
	if (policy != NULL)
		r = PyObject_CallMethod(asyncio, "set_event_loop_policy", "O",
		    policy);
	Py_DECREF(asyncio);
	Py_XDECREF(cls);
	Py_XDECREF(policy);
	Py_XDECREF(r);
	return r == NULL ? -1 : 0;
}
