"""Stage 4: broadcast through a ChattingRoom (a shared list, with a lock).

    client thread A --recv--> room.send_all(text) --sendall--> A, B, C, ...
    client thread B --recv--> room.send_all(text) --sendall--> A, B, C, ...

Every client thread reads from its own socket and hands what it read to
the one ``ChattingRoom``, which sends it to every member in turn. The
member list is shared by all threads: one thread may add a member while
another is halfway through a broadcast, and removing from a list while
another thread loops over it skips someone. The lock makes add, delete and
the whole broadcast take turns.

Members have no nicknames yet: each is called ``guest-PORT`` after its
port number, and everyone hears ``* guest-PORT joined.`` when one arrives
(the newcomer too: once you read it, you are in the room). Stage 5 asks
for names.

Run it:  python -m chatkit serve --stage 4
Try it:  three `nc 127.0.0.1 PORT`: a line typed in one appears in all.
"""

import threading

from chatkit.stages.stage2_accept import hang_up
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

    def close_all(self):
        """Hang up on every member (used when the server stops).

        Without the lock on purpose: a broadcast stuck on a member who stopped
        reading holds it, and hanging up is what unsticks that broadcast.
        list() takes a copy in one step, so we never loop over a changing list.
        """
        for client in list(self.members):
            hang_up(client.sock)


class ChatClient:
    """One connected person: their name, their socket, and the thread reading it."""

    def __init__(self, nick, sock, room):
        self.nick = nick
        self.sock = sock
        self.room = room
        self.thread = None

    def run(self):
        """Start reading this client's messages in a thread of its own."""
        self.thread = threading.Thread(target=self.recv_message, name=f"client-{self.nick}")
        self.thread.start()

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

    def __init__(self, host="127.0.0.1", port=0):
        super().__init__(host, port)
        self.room = ChattingRoom()

    def run(self):
        """Accept clients into the room until stop(), then wait for their threads."""
        while True:
            conn = self.wait_for_client()
            if conn is None:
                break
            self.welcome(conn)
        self.room.close_all()
        for thread in self.threads:
            thread.join()

    def welcome(self, conn):
        """Put a new connection in the room and start its thread."""
        _, port = conn.getpeername()
        self.start_client(ChatClient(f"guest-{port}", conn, self.room))

    def start_client(self, client):
        """Add `client` to the room and start its thread."""
        self.room.add_user(client)
        client.run()
        self.threads = [t for t in self.threads if t.is_alive()] + [client.thread]
