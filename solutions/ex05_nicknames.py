"""Exercise 5 (specified): nicknames, /quit, and a goodbye however one leaves (stage 5, made right).

The report's server asks for the nickname inside the accept loop, so one
newcomer who does not answer keeps everybody else out; and a client who
vanishes without ``/quit`` (a closed laptop, Ctrl+C, a reset) stays in the
room, never announced. Notebook 05 shows both happening on stage 5. Here
every client's own thread does its whole conversation (``RunServer.welcome``
starts that thread the moment the client connects).

Write ``ChatClient.recv_message()``: one person's whole stay, in their own
thread. What everyone must see (each server line ends with ``"\\n"``):

* The newcomer hears ``Enter your nickname:`` first (``PROMPT``). The
  answer, without the spaces and line ending around it (``nc -C`` sends
  ``alice\\r\\n``), is the nickname. An empty answer is asked again.
  Someone who leaves before answering is never announced.
* Then ``self.room.add_user(self)``: everyone hears
  ``* alice joined. 2 people in the room.`` and the rules (stage 5's room).
* Each ``recv(1024)`` afterwards is one message, which everyone (the
  sender too) hears as ``alice: text``. (One ``recv()`` is not always one
  line: exercise 6 fixes that.)
* ``/quit`` (with or without ``\\r``) leaves. So does a client that closes
  its connection (``recv()`` returns ``b""``) or resets it (``OSError``).
* However they leave: they are taken out of the room
  (``self.room.delete_user(self)``), and everyone still there hears
  ``* alice left. 1 person in the room.``, exactly once (``people(n)`` says
  "1 person" or "2 people"); then the socket is closed.

Given: ``__init__`` and ``send_message`` (to everyone); the room
(``add_user``, ``delete_user``, ``send_all``, the join notice) and the
server come from ``chatkit/stages/stage5_report.py``.

Check it:  pytest exercises/ex05_nicknames_test.py
"""

import threading

from chatkit.stages import stage5_report
from chatkit.stages.stage5_report import people

PROMPT = b"Enter your nickname:\n"


class ChatClient:
    """One person: asks for their nickname in their own thread, and always says goodbye."""

    def __init__(self, nick, sock, room):
        self.nick = nick  # None until the client has answered the nickname question
        self.sock = sock
        self.room = room

    def send_message(self, message):
        """Send a line (text ending in "\\n") to everyone in the room (report: sendMessage)."""
        self.room.send_all(message)

    def recv_message(self):
        """Ask for a nickname, join, relay messages, and announce the leaving, however it happens."""
        # BEGIN SOLUTION (TODO: the nickname (asked again if empty), add_user, relay until /quit or b"" or OSError, then goodbye once)
        self.nick = self.ask_nickname()
        if self.nick is None:  # gone before answering: nobody joined, nobody needs to hear of it
            self.sock.close()
            return
        self.room.add_user(self)
        while True:
            try:
                data = self.sock.recv(1024)
            except OSError:
                break
            text = data.decode(errors="replace").strip()
            if not data or text == "/quit":
                break
            if text:
                self.send_message(f"{self.nick}: {text}\n")
        self.room.delete_user(self)
        self.send_message(f"* {self.nick} left. {people(len(self.room.members))} in the room.\n")
        self.sock.close()

    def ask_nickname(self):
        """The nickname the client answers (asked again while empty); None if it leaves first."""
        while True:
            try:
                self.sock.sendall(PROMPT)
                data = self.sock.recv(1024)
            except OSError:
                return None
            if not data:
                return None
            nick = data.decode(errors="replace").strip()
            if nick:
                return nick
        # END SOLUTION


class RunServer(stage5_report.RunServer):
    """Stage 5's server, asking for nicknames in each client's own thread."""

    def __init__(self, host="127.0.0.1", port=0):
        super().__init__(host, port)
        self.room = stage5_report.ChattingRoom()

    def welcome(self, conn):
        """Start the newcomer's thread at once; it asks for the nickname itself."""
        self.remember(conn)  # so that stop() can hang up, even before the client joins
        client = ChatClient(None, conn, self.room)
        _, port = conn.getpeername()
        client.thread = threading.Thread(target=self.serve, args=(client,), name=f"client-{port}")
        client.thread.start()
        self.threads = [t for t in self.threads if t.is_alive()] + [client.thread]

    def serve(self, client):
        """The client's thread: its whole conversation, then forget its connection."""
        try:
            client.recv_message()
        finally:
            self.forget(client.sock)
