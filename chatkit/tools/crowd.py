"""A crowd of chat clients on one selectors loop: the bench's load, and the stress tests' too.

    crowd = Crowd(("127.0.0.1", port), keep_lines=True)
    members = crowd.connect(200)             # 200 clients join (nickname answered), 4 at a time
                                             # (Crowd([address, address2]): spread over servers of one room)
    crowd.say(members[0], "hello")
    crowd.everyone_heard("hello")            # runs the loop until each member read it, with a deadline

No thread per client: a crowd of 1,000 costs its process little more than
the work of reading. The crowd also counts the bench's stamped lines
(`message`) as they arrive, intact or not, and their delivery latency.
"""

import re
import selectors
import socket
import time

from chatkit import protocol

# A benchmark line as a client must receive it: the sender's name, then the text it sent,
# which ends with the time it was due. A line merged with another or cut in half does not count.
INTACT = re.compile(rb"\n([^ :\n]+): hello from [^ \n]+ #(\d+) t=(\d+)(?=\n)")
STAMP = b" t="  # in every piece of a benchmark line, intact or not
TEXT_AFTER_NAME = b": hello from "
JOINING_AT_ONCE = 4  # clients joining at the same moment (stage 5's backlog is 5)
PROMPT = protocol.PROMPT.encode()


def announces_joining(member, data):
    """Do these received bytes hold the room's join notice for `member`?"""
    notices = (protocol.JOINED.parse(line) for line in data.decode(errors="replace").splitlines())
    return any(notice is not None and notice["nick"] == member.nick for notice in notices)


def message(member, number, due_ns):
    """A benchmark line: about as long as a chat line, stamped with its due time."""
    return f"hello from {member.nick} #{number} t={due_ns}"


class Member:
    """One simulated client: a non-blocking socket and what it received."""

    def __init__(self, sock, nick, keep_lines):
        self.sock = sock
        self.nick = nick
        self.home = 0  # which of the crowd's servers it is connected to
        self.state = "connecting"  # -> "naming" (answered the question) -> "joined" -> "closed"
        self.tail = b""  # bytes after the last newline
        self.outgoing = bytearray()
        self.line_count = 0
        self.lines = [] if keep_lines else None
        self.last_heard = {}  # sender -> the number of its last benchmark line heard (while measuring)


class Crowd:
    """Many chat clients served by one selectors loop in the calling thread.

    No thread per client, so a crowd of 1,000 costs this process almost
    nothing but the work of reading. `turn()` runs one round of the loop;
    `wait_until()` runs rounds until a condition holds or a timeout passes.
    """

    def __init__(self, address, keep_lines=False, prefix="c"):
        self.addresses = list(address) if isinstance(address, list) else [address]  # members go round them
        self.homes = {}  # a member's nick (bytes) -> the index of its server
        self.keep_lines = keep_lines
        self.prefix = prefix
        self.selector = selectors.DefaultSelector()
        self.members = []
        self.arrived = 0  # benchmark lines received, intact or not, by all members together
        self.delivered = 0  # benchmark lines received intact
        self.latencies = []  # seconds, for stamped lines while `measuring`
        self.across = []  # the same, only the lines heard on another server than their sender's (a room)
        self.within = []  # and those heard on the sender's server
        self.reordered = 0  # stamped lines that arrived after a later one from the same sender
        self.measuring = False
        self.measuring_since = 0  # perf_counter_ns(): stamped lines due earlier are left out
        self.timing = False  # while measuring: record latencies too (the members who read on time)

    def connect(self, count, asks_nickname=True, timeout=60.0, rcvbuf=None):
        """Connect `count` more clients and wait until each has joined the room.

        rcvbuf: a receive buffer size in bytes, for clients meant to fall behind fast.
        """
        start = len(self.members)
        for index in range(start, start + count):
            self.wait_until(lambda: self.joining() < JOINING_AT_ONCE, timeout, "clients to join")
            sock = socket.socket()
            if rcvbuf:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.settimeout(timeout)
            sock.connect(self.addresses[index % len(self.addresses)])
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # a line goes out when said, as typed
            sock.setblocking(False)
            member = Member(sock, f"{self.prefix}{index}", self.keep_lines)
            member.home = index % len(self.addresses)
            self.homes[member.nick.encode()] = member.home
            if not asks_nickname:
                member.state = "joined"
            self.members.append(member)
            self.selector.register(sock, selectors.EVENT_READ, member)
        self.wait_until(lambda: self.joining() == 0, timeout, "clients to join")
        return self.members[start:]

    def joining(self):
        return sum(1 for member in self.members if member.state in ("connecting", "naming"))

    def turn(self, timeout):
        """Wait up to `timeout` seconds for sockets to be ready; handle them."""
        for key, events in self.selector.select(timeout):
            member = key.data
            if events & selectors.EVENT_WRITE:
                self.flush(member)
            if events & selectors.EVENT_READ:
                self.receive(member)

    def receive(self, member):
        try:
            data = member.sock.recv(1 << 16)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.drop(member)
            return
        now = time.perf_counter_ns()
        if member.tail:
            data = member.tail + data
        if data[-1] == 10:  # b"\n": the usual case, nothing left over
            complete, member.tail = data, b""
        else:
            cut = data.rfind(b"\n") + 1
            complete, member.tail = data[:cut], data[cut:]
            if not complete:
                return
        member.line_count += complete.count(b"\n")
        if member.lines is not None:
            member.lines.extend(complete.decode(errors="replace").splitlines())
        if member.state == "joined":
            pass
        elif member.state == "connecting" and PROMPT in complete:
            member.state = "naming"
            self.say(member, member.nick)
        elif member.state == "naming" and announces_joining(member, complete):
            member.state = "joined"
        self.arrived += complete.count(STAMP)
        if self.measuring:
            for sender, number, sent in INTACT.findall(b"\n" + complete):
                if int(sent) < self.measuring_since:  # a late line of an earlier phase: not this one's
                    continue
                self.delivered += 1
                if self.timing:
                    self.latencies.append((now - int(sent)) / 1e9)
                    if len(self.addresses) > 1:
                        (self.within if self.homes.get(sender) == member.home else self.across).append(self.latencies[-1])
                if int(number) < member.last_heard.get(sender, -1):  # a sender's numbers only grow
                    self.reordered += 1
                member.last_heard[sender] = int(number)
        else:  # the same count, only faster: the text of an intact line follows its sender's name
            self.delivered += complete.count(TEXT_AFTER_NAME)

    def say(self, member, text):
        """Send one line from `member` (queued if its socket is full)."""
        member.outgoing += (text + "\n").encode()
        self.flush(member)

    def flush(self, member):
        try:
            sent = member.sock.send(member.outgoing)
        except BlockingIOError:
            sent = 0
        except OSError:
            self.drop(member)
            return
        del member.outgoing[:sent]
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if member.outgoing else 0)
        self.selector.modify(member.sock, events, member)

    def pause(self, members):
        """Stop reading these members' sockets for a while (what arrives waits in their buffers)."""
        for member in members:
            if member.state == "joined":
                self.selector.unregister(member.sock)
                member.state = "paused"

    def resume(self):
        """Read every paused member again."""
        for member in self.members:
            if member.state == "paused":
                member.state = "joined"
                self.selector.register(member.sock, selectors.EVENT_READ, member)
                if member.outgoing:
                    self.flush(member)

    def drop(self, member):
        """Forget a member whose connection closed."""
        if member.state != "closed":
            if member.state != "paused":
                self.selector.unregister(member.sock)
            member.state = "closed"
            member.sock.close()

    def wait_until(self, condition, timeout, what):
        """Run the loop until condition() is true; TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not condition():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"waited {timeout:g} s for {what}")
            self.turn(min(left, 0.05))

    def everyone_heard(self, text, timeout=60.0):
        """Wait until every open member received a line containing `text` (kept lines only)."""
        waiting = {member: 0 for member in self.members if member.state != "closed"}  # -> lines looked at

        def heard():
            for member, seen in list(waiting.items()):
                if any(text in line for line in member.lines[seen:]):
                    del waiting[member]
                else:
                    waiting[member] = len(member.lines)
            return not waiting

        try:
            self.wait_until(heard, timeout, repr(text))
        except TimeoutError as error:
            deaf = [f"{m.nick} ({m.state}, last: {m.lines[-2:] if m.lines is not None else '?'})" for m in waiting]
            raise TimeoutError(f"{error}; {len(waiting)} never heard it: {'; '.join(deaf[:5])}") from None

    def open_members(self):
        return [member for member in self.members if member.state == "joined"]

    def close(self):
        for member in self.members:
            self.drop(member)
        self.selector.close()
