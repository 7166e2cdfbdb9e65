"""Stage 5: the report's complete server (nicknames, rules, member count, /quit).

    accept() -> "Enter your nickname:" -> recv nickname -> room.add_user()
             -> everyone hears who joined, the rules and how many are here
    "/quit"  -> room.delete_user() and everyone hears who left

This is the design the report describes, kept faithful on purpose, because
notebook 06 shows what breaks in it:

* the nickname is asked for inside the accept loop, so one client who
  never answers stops everybody else from joining;
* one ``recv(1024)`` is taken as one message, though TCP is a byte stream:
  two lines can arrive together, one line in pieces, and a Korean
  character (3 bytes in UTF-8) can be cut in half at byte 1,024;
* ``send_all`` sends to each member in turn while holding the lock, so a
  member who stops reading stalls the whole room;
* a client that vanishes without ``/quit`` is never removed nor announced;
* what people type is relayed raw (escape sequences included), and any
  answer is a nickname (empty, taken, with spaces).

Everything else that differs from the reference server (``chatkit.server``,
the same design made correct), and notebook 06 shows it too:

* no ``/who`` or ``/help``: every line but ``/quit`` is a message;
* the report's own goodbye (``Bye!``) and rules line;
* no line limit of its own (``recv(1024)`` cuts long lines anyway), no
  nickname deadline, and no ``TCP_NODELAY``;
* a thread per member, which sends to everyone itself: no outbox, no writer.

Like every server of the kit it survives running out of file descriptors
or threads (the newcomer is turned away), and stops cleanly on Ctrl+C or
SIGTERM, telling the members without waiting for any of them.

Run it:  python -m chatkit serve --stage 5
Try it:  two `nc 127.0.0.1 PORT`, each answers the nickname question.
"""

import socket

from chatkit import protocol
from chatkit.protocol import people  # noqa: F401  (exercise 5 counts people with it too)
from chatkit.stages import stage4_broadcast

RULES = "* Rules: be kind to each other. Type /quit to leave."  # the report's rules


class ChattingRoom(stage4_broadcast.ChattingRoom):
    """Stage 4's room, which now greets newcomers in front of everyone."""

    def join_notice(self, client):
        """Everyone hears who joined, the rules and the head count."""
        return protocol.JOINED.format(nick=client.nick, count=len(self.members)) + f"\n{RULES}\n"


class ChatClient(stage4_broadcast.ChatClient):
    """A named member who can leave with /quit."""

    def recv_message(self):
        """Relay each recv() as one message until /quit (the report's loop)."""
        while True:
            try:
                data = self.sock.recv(1024)
            except OSError:  # reset by the client
                data = b""
            if not data:
                # The report has no check here: recv() returns b"" forever once
                # the client is gone, and the loop would spin at 100% CPU. We stop,
                # but like the report we neither remove nor announce the member:
                # it stays in the room, counted, a ghost.
                self.sock.close()
                break
            # The report calls plain decode(), which raises UnicodeDecodeError
            # when a character is cut at byte 1,024; "replace" shows the damage.
            text = data.decode(errors="replace")
            if text.strip() == "/quit":
                self.room.delete_user(self)
                self.send_message(protocol.LEFT.format(nick=self.nick, why=protocol.LEFT_QUIT,
                                                       count=len(self.room.members)) + "\n")
                try:
                    self.sock.sendall(b"Bye!\n")
                except OSError:
                    pass
                self.sock.close()
                break
            self.send_message(f"{self.nick}: {text}")


class RunServer(stage4_broadcast.RunServer):
    """Stage 4's server with nicknames, asked for in the accept loop as in the report."""

    client_class = ChatClient

    def __init__(self, host="127.0.0.1", port=0):
        super().__init__(host, port)
        self.room = ChattingRoom()

    def run(self):
        """Announce the start (as the report does), then accept clients until stop()."""
        self.log("Chat server started.")
        super().run()

    def welcome(self, conn):
        """Ask for a nickname here, in the accept loop (as the report does); then the member's thread."""
        self.remember(conn)  # so that stop() can interrupt the question
        try:
            conn.sendall(f"{protocol.PROMPT}\n".encode())
            nick = conn.recv(1024).decode(errors="replace").strip()
        except OSError:
            nick = ""
        if not nick:  # gone before answering
            self.forget(conn)
            conn.close()
            return
        self.log(f"{nick} joined")
        self.start_thread(self.serve_client, conn, nick)  # stage 4's serve_client, in a thread

    def stop(self):
        """Tell the members the server is closing (waiting for none of them), then hang up on all."""
        notice = f"{protocol.SHUTTING_DOWN}\n".encode()
        for client in list(self.room.members):  # no lock: a stuck send_all may hold it (weakness 4)
            try:
                if hasattr(socket, "MSG_DONTWAIT"):  # (Windows has no way to send without waiting)
                    client.sock.send(notice, socket.MSG_DONTWAIT)
            except OSError:  # gone, or its buffers are full
                pass
        super().stop()
