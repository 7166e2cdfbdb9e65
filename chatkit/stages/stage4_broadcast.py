"""Stage 4: broadcast through a ChattingRoom (a shared list, with a lock).

    client thread A --recv--> room.send_all(text) --sendall--> A, B, C, ...
    client thread B --recv--> room.send_all(text) --sendall--> A, B, C, ...

Stages 2 and 3 stay as they are: the accept loop, a thread per client, the
connections stop() hangs up. Only what a client's thread does changes
(``serve_client``): instead of echoing, it puts the client in the one
``ChattingRoom`` and hands everything the client says to the room, which
sends it to every member in turn. The member list is shared by all
threads: one thread may add a member while another is halfway through a
broadcast, and removing from a list while another thread loops over it
skips someone. The lock makes add, delete and the whole broadcast take
turns.

Members have no nicknames yet: each is called ``guest-PORT`` after its
port number, and everyone hears ``* guest-PORT joined.`` when one arrives
(the newcomer too: once you read it, you are in the room). Stage 5 asks
for names.

Run it:  python -m chatkit serve --stage 4
Try it:  three `nc 127.0.0.1 PORT`: a line typed in one appears in all.
"""

import threading

from chatkit.stages.stage3_threads import RunServer as ThreadedServer


class ChattingRoom:
    """The people in the room, and a way to talk to all of them at once."""

    def __init__(self):
        self.members = []  # ChatClient objects (the report's self.list)
        self.lock = threading.Lock()  # one thread at a time touches self.members

    def add_user(self, client):
        """Let a client into the room and tell everyone (report: addUser)."""
        with self.lock:
            self.members.append(client)
        self.send_all(self.join_notice(client))

    def join_notice(self, client):
        """What everyone hears when `client` joins."""
        return f"* {client.nick} joined.\n"

    def delete_user(self, client):
        """Take a client out of the room (report: deleteUser)."""
        with self.lock:
            if client in self.members:
                self.members.remove(client)

    def send_all(self, message):
        """Send `message` to every member, one after the other (report: sendAll)."""
        data = message.encode()
        with self.lock:
            for client in self.members:
                try:
                    client.sock.sendall(data)
                except OSError:  # that client is gone; its own thread will notice
                    pass


class ChatClient:
    """One connected person: their name, their socket, and what they say.

    The report's ``ChatClient.run`` starts the thread that reads the
    client; here that thread is stage 3's, started by ``welcome()``.
    """

    def __init__(self, nick, sock, room):
        self.nick = nick
        self.sock = sock
        self.room = room

    def recv_message(self):
        """Relay what this client sends to the room until it disconnects."""
        while True:
            try:
                data = self.sock.recv(1024)
            except OSError:
                data = b""
            if not data:
                break
            self.send_message(f"{self.nick}: {data.decode(errors='replace')}")
        self.room.delete_user(self)
        self.sock.close()

    def send_message(self, message):
        """Send a message to everyone in the room (report: sendMessage)."""
        self.room.send_all(message)


class RunServer(ThreadedServer):
    """Accept clients into one room; everything said is sent to everyone."""

    client_class = ChatClient  # what serves one member (stage 5 brings its own)

    def __init__(self, host="127.0.0.1", port=0):
        super().__init__(host, port)
        self.room = ChattingRoom()

    def serve_client(self, conn, nick=None):
        """One member's whole stay, in its own thread (stage 3): join the room, talk, leave.

        Stage 4 has no nicknames: everyone is guest-PORT (stage 5 passes `nick`).
        """
        self.remember(conn)  # stop() hangs up on it, as in stage 2
        try:
            _, port = conn.getpeername()
        except OSError:  # gone already (or stop() hung up on it): nobody to serve
            self.forget(conn)
            conn.close()
            return
        client = self.client_class(nick or f"guest-{port}", conn, self.room)
        threading.current_thread().name = f"client-{client.nick}"  # what the lab's thread view shows
        self.room.add_user(client)
        client.recv_message()
        self.forget(conn)
