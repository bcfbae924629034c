"""A queued callback released by close() whose finalizer cancels a waiting
sock_* call, which queues that call's done callbacks on the same loop;
the loop is used again afterwards."""

import gc
import socket

import apython

loop = apython.Loop()
a, b = socket.socketpair()
a.setblocking(False)


class CancelOnRelease:
    def __init__(self, op):
        self.op = op

    def __del__(self):
        print("cancelled:", self.op.cancel())


op = loop.sock_recv(a, 1)
op.send(None)
op.add_done_callback(lambda op: None)
loop.call_soon(print, CancelOnRelease(op))
loop.close()
for _ in range(3):
    op.add_done_callback(lambda op: None)
gc.collect()
print("closed:", loop.is_closed(), "cancelled:", op.cancelled())
a.close()
b.close()
