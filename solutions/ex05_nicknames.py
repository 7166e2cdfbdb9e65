"""Exercise 5: nicknames, the rules and the head count, /quit, and leave notices (stage 5).

The report's server asks for the nickname inside the accept loop, so one
newcomer who does not answer keeps everybody else out; and a client who
vanishes without ``/quit`` (a closed laptop, Ctrl+C, a reset) stays in the
room, never announced. Here each client's own thread asks for its nickname
(``RunServer.welcome`` starts that thread at once), and every way of leaving
is announced.

Write ``ChattingRoom.leave_notice()`` and ``ChatClient.recv_message()``.
The join notice (``* alice joined. 2 people in the room.`` and the rules
line) comes from ``chatkit/stages/stage5_report.py``, like ``add_user``,
``delete_user``, ``send_all`` and ``send_message``.

Check it:  pytest exercises/ex05_nicknames_test.py
"""

import threading

from chatkit.stages import stage5_report
from chatkit.stages.stage5_report import people

PROMPT = b"Enter your nickname:\n"


class ChattingRoom(stage5_report.ChattingRoom):
    """Stage 5's room: add_user() already announces the newcomer, the rules and the head count."""

    def leave_notice(self, client):
        """The line everyone hears once `client` left: ``* alice left. 1 person in the room.``

        Count the members still in the room (``people(n)`` says "1 person"
        or "2 people"), and end the line with ``"\\n"``.
        """
        # BEGIN SOLUTION (TODO: return "* NICK left. N people in the room.\n" with people(len(self.members)))
        return f"* {client.nick} left. {people(len(self.members))} in the room.\n"
        # END SOLUTION


class ChatClient(stage5_report.ChatClient):
    """One person: asks for their nickname in their own thread, and always says goodbye."""

    def recv_message(self):
        """Ask for a nickname, join, relay messages, and announce the leaving, however it happens.

        1. ``self.sock.sendall(PROMPT)``; ``self.nick`` is the text of one
           ``recv(1024)``, decoded and stripped. If the client left instead
           (``b""``, an ``OSError``, or an empty nickname): close the socket
           and return: nobody joined, nobody needs to hear of it.
        2. ``self.room.add_user(self)``: everyone hears who joined.
        3. Loop on ``recv(1024)``: ``b""`` (closed), an ``OSError`` (reset)
           or the text ``/quit`` end the loop; any other text goes to
           everyone as ``f"{self.nick}: {text}\\n"`` (``self.send_message``).
        4. However the loop ended: ``self.room.delete_user(self)``, then
           ``self.send_message(self.room.leave_notice(self))``, then close
           the socket.
        """
        # BEGIN SOLUTION (TODO: ask the nickname, add_user, relay until b"" or OSError or /quit, then delete_user, leave_notice, close)
        try:
            self.sock.sendall(PROMPT)
            self.nick = self.sock.recv(1024).decode(errors="replace").strip()
        except OSError:
            self.nick = ""
        if not self.nick:
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
        self.send_message(self.room.leave_notice(self))
        self.sock.close()
        # END SOLUTION


class RunServer(stage5_report.RunServer):
    """Stage 5's server, asking for nicknames in each client's own thread."""

    def __init__(self, host="127.0.0.1", port=0):
        super().__init__(host, port)
        self.room = ChattingRoom()

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
