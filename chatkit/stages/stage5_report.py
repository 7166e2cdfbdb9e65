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
* a client that vanishes without ``/quit`` is never removed nor announced.

``chatkit.server`` is the same design made correct.

Run it:  python -m chatkit serve --stage 5
Try it:  two `nc 127.0.0.1 PORT`, each answers the nickname question.
"""

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
