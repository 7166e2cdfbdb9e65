"""Exercise 9 (open): a whole chat server of your own, from the protocol alone.

No stage to start from: write the server the README's protocol section
describes ("## The protocol"), in this file, in any design you like: a
thread per client (exercises 3 to 7), one thread around ``selectors``
(``chatkit/eventloop.py`` is one such), or ``asyncio``. The grader treats
it as a black box: it starts your ``RunServer`` and talks to it over real
sockets, the way ``nc`` does, and each behaviour below earns its points.

The interface (the grader's, the notebooks', ``LiveServer(module=...)``):
``RunServer(host, port)``; ``server_open()`` listens and stores the real
port in ``self.port`` (port 0: any free port); ``run()`` serves until
``stop()`` is called, from another thread, then returns. An asyncio
server can run its loop inside run() (``asyncio.run``) and be told to stop
with ``loop.call_soon_threadsafe``.

What the grader checks (every line is UTF-8 and ends in ``"\\n"``; the
exact words are in ``chatkit/protocol.py``, which you may import: its
constants, ``people()``, ``clean_text()``, ``nickname_problem()``, and
``LineReader`` if you like yours less):

* Joining: a newcomer hears ``Enter your nickname:``; a nickname that is
  empty, has spaces or ``:``, or is taken (``Alice`` and ``alice`` are one
  name) is refused with a line starting ``* `` and the question again.
  Everyone hears ``* alice joined. 2 people in the room.``. A newcomer
  who never answers keeps nobody else out.
* Talking: each line is relayed to everyone, the sender too, as
  ``alice: text``, in the order it was said, whatever way TCP cuts or
  joins the bytes (two lines in one packet, a Korean character cut in half),
  with control characters and escape sequences removed.
* Commands: ``/who`` answers ``* In the room (2): alice, bob`` (only to the
  asker); ``/quit`` leaves. Commands are never relayed.
* Leaving, however it happens, is announced once, with the head count:
  ``* bob left. 1 person in the room.`` (``/quit``, a closed connection),
  ``* bob left (connection lost). ...`` (a reset), and the server's own
  reasons below.
* Limits: a line over 4,096 characters (or as much without a newline)
  disconnects its sender (``* bob was disconnected (line too long). ...``);
  a member who stops reading stalls nobody and is disconnected once about
  1 MB behind (``* carol was disconnected (not reading messages). ...``).
* ``stop()``: everyone hears ``* The server is shutting down. Bye!``, every
  connection closes, and run() returns.
* The server is your own: nothing of it comes from ``chatkit.server``,
  ``chatkit.eventloop`` or ``chatkit.stages``.

Check it:  pytest exercises/ex09_chat_server_test.py
Run it:    LiveServer(module="../exercises/ex09_chat_server.py") in a notebook, then nc or LiveClient.
"""

import collections
import socket
import struct
import threading
import time

from chatkit import protocol
from chatkit.protocol import MAX_LINE_CHARS, LineReader, LineTooLong, clean_text, encode_line

# TODO: the rest of your server: rooms, members, their threads, whatever your design needs


class RunServer:
    """A chat server on host:port: server_open(), run() until stop()."""

    def __init__(self, host="127.0.0.1", port=0):
        self.host = host
        self.port = port
        # TODO: what your server keeps: the listening socket, the room, a way to stop
        raise NotImplementedError('TODO: what your server keeps: the listening socket, the room, a way to stop')

    def server_open(self):
        """Listen on (host, port); store the real port in self.port."""
        # TODO: a listening TCP socket (SO_REUSEADDR, bind, listen); self.host, self.port = its address
        raise NotImplementedError('TODO: a listening TCP socket (SO_REUSEADDR, bind, listen); self.host, self.port = its address')

    def run(self):
        """Serve clients until stop() is called; then return."""
        # TODO: accept clients and serve them, in your design, until stop()
        raise NotImplementedError('TODO: accept clients and serve them, in your design, until stop()')

    def stop(self):
        """Tell everyone the server is closing, hang up on all, make run() return (from any thread)."""
        # TODO: everyone hears the shutdown notice, every connection closes, run() returns
        raise NotImplementedError('TODO: everyone hears the shutdown notice, every connection closes, run() returns')
