"""Exercise 7 (specified): a client who stops reading must not stall the room (a bounded outbox).

In the report's server, ``sendAll`` calls ``sendall()`` on each member's
socket in turn, holding the lock. A member who stops reading (a frozen
program, a laptop gone to sleep) fills the kernel's buffers; then
``sendall()`` waits for them, forever, and the whole room waits with it.
Notebook 06 makes it happen on stage 5.

The way out: nobody sends while holding the room's lock. Each member gets
an ``Outbox``, a queue of bytes waiting to be sent, with a limit, and a
writer that sends from it::

    broadcast --put()--> each member's Outbox --take()--> a writer --sendall()--> socket

Write the ``Outbox`` (the reference server, ``chatkit/server.py``, runs
around it: ``put()`` in the broadcast, ``take()`` and ``close()`` in the
writer). What it must do:

* ``put(data)`` (bytes): queue them and return True, at once. If they
  would bring the outbox past ``limit`` bytes, queue nothing and return
  False, at once: the room then disconnects that member
  ("* carol was disconnected (not reading messages)"). ``put()`` is called
  with the room's lock held, so it must never wait for anything.
* ``take()``: wait until there are bytes queued, then return all of them,
  joined, in the order they were put, and empty the outbox. Waiting means
  sleeping on ``self.changed`` (a ``threading.Condition``) until ``put()``
  or ``close()`` wakes it, not looping to look again.
* ``close()``: accept nothing more (a later ``put()`` returns True and
  drops its data) and wake a waiting ``take()``: it returns what is still
  queued, and once that is gone, ``b""``.
* Threads call these at the same time: every use of ``chunks`` and
  ``size`` happens inside ``with self.changed:``.

Given: ``__init__`` (the names the methods share).

Check it:  pytest exercises/ex07_slow_reader_test.py
"""

import collections
import threading

from chatkit import server
from chatkit.server import OUTBOX_LIMIT_BYTES


class Outbox:
    """The bytes waiting to be sent to one client: at most `limit` of them."""

    def __init__(self, limit=OUTBOX_LIMIT_BYTES):
        self.limit = limit
        self.chunks = collections.deque()  # what put() added, oldest first
        self.size = 0  # bytes in self.chunks
        self.closed = False
        self.changed = threading.Condition()  # guards all of the above; take() waits on it

    def put(self, data):
        """Queue `data` and return True, at once; return False (queue nothing) if it would pass the limit."""
        # TODO: refuse (False) past the limit; else queue, count, wake the writer, True; never wait
        raise NotImplementedError('TODO: refuse (False) past the limit; else queue, count, wake the writer, True; never wait')

    def take(self):
        """Wait until there is data, then return all of it at once; ``b""`` once closed and empty."""
        # TODO: wait on self.changed while empty and open; return all chunks joined, and empty it
        raise NotImplementedError('TODO: wait on self.changed while empty and open; return all chunks joined, and empty it')

    def close(self):
        """Accept nothing more, and wake the writer: it sends what is left, then stops."""
        # TODO: mark it closed and wake a waiting take()
        raise NotImplementedError('TODO: mark it closed and wake a waiting take()')


class ChatClient(server.ChatClient):
    """The reference server's client, with your Outbox."""

    outbox_class = Outbox


class RunServer(server.RunServer):
    """The reference server, whose clients use your Outbox."""

    client_class = ChatClient
