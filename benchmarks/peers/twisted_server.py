"""The chat protocol on Twisted's LineReceiver: a peer for `python -m chatkit bench --peer`.

    python benchmarks/peers/twisted_server.py PORT
"""

import sys

from twisted.internet import protocol, reactor
from twisted.protocols.basic import LineReceiver


def people(count):
    return f"{count} person" if count == 1 else f"{count} people"


class Chat(LineReceiver):
    delimiter = b"\n"
    MAX_LENGTH = 8192

    def __init__(self, members):
        self.members = members
        self.nick = None

    def connectionMade(self):
        self.transport.setTcpNoDelay(True)
        self.sendLine(b"Enter your nickname:")

    def lineReceived(self, line):
        text = line.decode(errors="replace").strip()
        if self.nick is None:
            if text and text not in self.members and " " not in text and ":" not in text:
                self.nick = text
                self.members[text] = self
                self.send_all(f"* {text} joined. {people(len(self.members))} in the room.")
                self.send_all("* Rules: be kind to each other.")
            else:
                self.sendLine(b"* The nickname is taken or invalid.\nEnter your nickname:")
        elif text == "/quit":
            self.transport.loseConnection()
        elif text:
            self.send_all(f"{self.nick}: {text}")

    def send_all(self, line):
        data = (line + "\n").encode()
        for member in list(self.members.values()):
            member.transport.write(data)  # Twisted buffers what the socket cannot take yet

    def connectionLost(self, reason):
        if self.nick is not None and self.members.get(self.nick) is self:
            del self.members[self.nick]
            self.send_all(f"* {self.nick} left. {people(len(self.members))} in the room.")


class ChatFactory(protocol.Factory):
    def __init__(self):
        self.members = {}

    def buildProtocol(self, addr):
        return Chat(self.members)


if __name__ == "__main__":
    reactor.listenTCP(int(sys.argv[1]), ChatFactory(), backlog=1024, interface="127.0.0.1")
    reactor.run()
