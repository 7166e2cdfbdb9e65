"""Exercise 7: a client who stops reading must not stall the room (a bounded outbox).

In the report's server, ``sendAll`` calls ``sendall()`` on each member's
socket in turn, holding the lock. A member who stops reading (a frozen
program, a laptop gone to sleep) fills the kernel's buffers; then
``sendall()`` waits for them, forever, and the whole room waits with it.

The reference server (``chatkit/server.py``) gives each member an
``Outbox`` and a writer thread of its own::

    send_all(line) --put()--> each member's Outbox --take()--> its writer thread --sendall()--> socket

``put()`` never waits, so no broadcast ever waits for a slow member; and an
Outbox holds at most ``limit`` bytes: when ``put()`` refuses (returns
False), the room disconnects that member ("* carol was disconnected (not
reading messages)"). Write the ``Outbox``; the server around it is the
reference server.

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
        """Queue `data` and return True, at once; return False if it would pass the limit.

        Never wait here: put() is called during a broadcast, with the room's
        lock held. Inside ``with self.changed:``: if ``self.size + len(data)``
        is over ``self.limit``, return False. Once closed, accept and drop
        the data (return True). Otherwise append it, add to ``self.size``,
        ``self.changed.notify()`` the writer, and return True.
        """
        # BEGIN SOLUTION (TODO: under self.changed: refuse (False) past the limit; else queue, count, notify, True)
        with self.changed:
            if self.size + len(data) > self.limit:
                return False
            if not self.closed:
                self.chunks.append(data)
                self.size += len(data)
                self.changed.notify()
            return True
        # END SOLUTION

    def take(self):
        """Wait until there is data, then return all of it at once; ``b""`` once closed and empty.

        The writer thread calls this in a loop. Inside ``with
        self.changed:``, ``self.changed.wait()`` while there are no chunks
        and the outbox is open; then join the chunks, empty the outbox and
        return them.
        """
        # BEGIN SOLUTION (TODO: under self.changed: wait while empty and open; return all chunks joined, and empty it)
        with self.changed:
            while not self.chunks and not self.closed:
                self.changed.wait()
            data = b"".join(self.chunks)
            self.chunks.clear()
            self.size = 0
            return data
        # END SOLUTION

    def close(self):
        """Accept nothing more, and wake the writer: it sends what is left, then stops."""
        # BEGIN SOLUTION (TODO: under self.changed: mark it closed and notify the writer)
        with self.changed:
            self.closed = True
            self.changed.notify()
        # END SOLUTION


class ChatClient(server.ChatClient):
    """The reference server's client, with your Outbox."""

    outbox_class = Outbox


class RunServer(server.RunServer):
    """The reference server, whose clients use your Outbox."""

    client_class = ChatClient
