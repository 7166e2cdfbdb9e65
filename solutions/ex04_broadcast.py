"""Exercise 4: broadcast through a ChattingRoom, with a lock (stage 4).

Write the three methods of ``ChattingRoom`` (the report's ``addUser``,
``deleteUser`` and ``sendAll``). Every client thread calls them at any
moment, so ``self.members`` is shared by all threads: one thread may add a
member while another is halfway through a broadcast, and removing from a
list while another thread loops over it skips someone. Every use of
``self.members`` happens inside ``with self.lock:``.

Members have no nicknames yet: each is ``guest-PORT``. ``__init__``,
``join_notice()``, ``ChatClient`` and ``RunServer`` (one thread per client,
started by stage 3's ``welcome``) come from ``chatkit/stages/stage4_broadcast.py``.

Check it:  pytest exercises/ex04_broadcast_test.py
"""

from chatkit.stages import stage4_broadcast


class ChattingRoom(stage4_broadcast.ChattingRoom):
    """The people in the room (``self.members``, a list) and ``self.lock``, which guards it."""

    def add_user(self, client):
        """Let `client` in and tell everyone, the newcomer too (report: addUser).

        Append it to ``self.members`` while holding ``self.lock``; then,
        with the lock released, ``self.send_all(self.join_notice(client))``.
        (send_all takes the lock itself: taking a ``threading.Lock`` twice
        in one thread waits forever.)
        """
        # BEGIN SOLUTION (TODO: append client to self.members inside `with self.lock:`, then send the join notice)
        with self.lock:
            self.members.append(client)
        self.send_all(self.join_notice(client))
        # END SOLUTION

    def delete_user(self, client):
        """Take `client` out of the room, if it is still in (report: deleteUser)."""
        # BEGIN SOLUTION (TODO: inside `with self.lock:`, remove client from self.members if it is there)
        with self.lock:
            if client in self.members:
                self.members.remove(client)
        # END SOLUTION

    def send_all(self, message):
        """Send `message` (text) to every member, the sender too (report: sendAll).

        Encode it once (UTF-8), then, holding ``self.lock``, ``sendall`` it
        to each member's socket, ``client.sock``. A member whose connection
        just broke raises ``OSError``: skip that one and go on with the
        others (its own thread will notice and leave).
        """
        # BEGIN SOLUTION (TODO: encode once; inside `with self.lock:` sendall to every client.sock, skipping OSError)
        data = message.encode()
        with self.lock:
            for client in self.members:
                try:
                    client.sock.sendall(data)
                except OSError:
                    pass
        # END SOLUTION


class RunServer(stage4_broadcast.RunServer):
    """Stage 4's server, with your room."""

    def __init__(self, host="127.0.0.1", port=0):
        super().__init__(host, port)
        self.room = ChattingRoom()
