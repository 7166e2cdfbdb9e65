"""Exercise 4 (specified): the room, a broadcast, and the lock that keeps them apart.

From here on you get what the program must do and its interface, not the
steps: how to write it is yours (notebook 04 shows stage 4's room after
the exercise, as one way to do it).

``ChattingRoom`` is the report's room (``addUser``, ``deleteUser``,
``sendAll``). Every client's thread calls it at any moment, so its member
list is shared by all of them.

What the room must do (members have no nicknames yet: each is
``client.nick``, ``guest-PORT``):

* ``add_user(client)``: the client becomes a member, and everyone (the
  newcomer too: hearing it means "you are in") hears ``* guest-PORT joined.``
* ``delete_user(client)``: the client is no longer a member, and everyone
  still in the room hears ``* guest-PORT left.``, once. Taking out someone
  who is not (or no longer) in the room does nothing: the client's own
  thread and a failed send may both try.
* ``send_all(message)``: the text (a line ending in ``"\\n"``) goes to every
  member's socket, ``client.sock``, the sender's too, UTF-8 encoded. A
  member whose connection broke makes its send raise ``OSError``: everyone
  else must still hear the message.
* ``self.members`` (a list) is only ever used while holding ``self.lock``:
  no thread may change it while another one loops over it. A
  ``threading.Lock`` is not re-entrant: a thread that holds it and takes it
  again waits forever.

Given: ``__init__`` (those two names are the interface the grader watches);
the client (``ChatClient``: reads a socket, hands each ``recv()`` to
``send_all`` as ``guest-PORT: text``, calls ``delete_user`` when its client
leaves) and the server (a thread per client) come from stage 4.

Check it:  pytest exercises/ex04_broadcast_test.py
"""

import threading

from chatkit.stages import stage4_broadcast


class ChattingRoom:
    """The people in the room (``self.members``, a list) and ``self.lock``, which guards it."""

    def __init__(self):
        self.members = []  # the ChatClient objects in the room (the report's self.list)
        self.lock = threading.Lock()  # held by every use of self.members

    def add_user(self, client):
        """Let `client` in; everyone, the newcomer too, hears ``* guest-PORT joined.`` (report: addUser)."""
        # TODO: make client a member, then everyone hears "* NICK joined."
        raise NotImplementedError('TODO: make client a member, then everyone hears "* NICK joined."')

    def delete_user(self, client):
        """Take `client` out; those still here hear ``* guest-PORT left.``, once (report: deleteUser)."""
        # TODO: if client is a member, take it out; then those left hear "* NICK left.", once
        raise NotImplementedError('TODO: if client is a member, take it out; then those left hear "* NICK left.", once')

    def send_all(self, message):
        """Send `message` to every member, the sender too; a broken member stops nobody (report: sendAll)."""
        # TODO: encode once; send to every member's sock, holding the lock; OSError: go on
        raise NotImplementedError("TODO: encode once; send to every member's sock, holding the lock; OSError: go on")


class RunServer(stage4_broadcast.RunServer):
    """Stage 4's server (a thread per client), with your room."""

    def __init__(self, host="127.0.0.1", port=0):
        super().__init__(host, port)
        self.room = ChattingRoom()
