"""Crowds, faults and hostile input, on the reference server and on the event loop (stage 6).

The crowd is `chatkit.tools.crowd.Crowd`: many clients on one selectors loop in
the test's own thread, so 500 clients cost no 500 threads here.

Sizes are small so that `make test` stays fast. Bigger runs:

    CHATKIT_STRESS_CLIENTS=500 .venv/bin/python -m pytest tests/test_stress.py
"""

import collections
import os
import random
import re
import socket
import struct
import threading

import pytest

from chatkit.tools.crowd import Crowd

CLIENTS = int(os.environ.get("CHATKIT_STRESS_CLIENTS", "200"))
MESSAGES = 5  # each client says this many lines
TIMEOUT = 30 + CLIENTS * 0.2  # seconds for a whole crowd to get somewhere
SERVERS = [pytest.param({}, id="reference"), pytest.param({"stage": 6}, id="event-loop")]
CHAT_LINE = re.compile(r"^(c\d+): m (\d+)$")
LEFT = re.compile(r"\* \S+ left")
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
ENDINGS = ("reset", "close", "quit", "half-close")  # how a leaver vanishes


def server_threads(server):
    """Threads the chat server runs besides its accept loop (or event loop)."""
    return [t for t in threading.enumerate() if t.name.startswith(("reader-", "writer-"))]


def open_fds():
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None


def vanish(crowd, member, how):
    """End a member's connection the way `how` says."""
    if how == "reset":  # a crashed client or a pulled cable: RST, no goodbye
        member.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        crowd.drop(member)
    elif how == "close":  # the program closes the socket without /quit
        crowd.drop(member)
    elif how == "quit":
        crowd.say(member, "/quit")
    else:  # half-close: "I will send nothing more", but still reading
        member.sock.shutdown(socket.SHUT_WR)


class HeardAll:
    """A condition: every member has received a line starting with each of `beginnings`."""

    def __init__(self, members, beginnings):
        self.missing = {member: set(beginnings) for member in members}
        self.seen = {member: 0 for member in members}  # lines already looked at

    def __call__(self):
        for member, missing in self.missing.items():
            for line in member.lines[self.seen[member]:]:
                notice = LEFT.match(line)  # "* c5 left. 9 people ..." or "* c5 left (connection lost). ..."
                missing.discard(notice.group(0) if notice else line)
            self.seen[member] = len(member.lines)
        return not any(self.missing.values())


def conversation(member):
    """What `member` heard after the last client joined (and the rules that follow a join).

    Several clients join at once, in any order: the last join is the one that counts everybody.
    """
    last_join = max(i for i, line in enumerate(member.lines) if line.endswith(f" joined. {CLIENTS} people in the room."))
    return member.lines[last_join + 2:]


def chat_lines(member):
    """(sender, number) of every chat line `member` received, in order."""
    return [(m.group(1), int(m.group(2))) for m in map(CHAT_LINE.match, member.lines) if m]


@pytest.mark.timeout(60 + CLIENTS)
@pytest.mark.parametrize("how", SERVERS)
def test_a_crowd_joins_chats_and_partly_vanishes_without_losing_a_line(live, how):
    server = live(**how)
    fds_before, threads_before = open_fds(), server_threads(server)
    crowd = Crowd(server.address, keep_lines=True)
    try:
        members = crowd.connect(CLIENTS, timeout=TIMEOUT)
        # Several join at once, in any order: whoever joins last, everyone hears the full count.
        crowd.everyone_heard(f" joined. {CLIENTS} people in the room.", TIMEOUT)
        rng = random.Random(6)
        leavers = {member: (rng.choice(ENDINGS), rng.randrange(MESSAGES)) for member in rng.sample(members, CLIENTS // 4)}
        stayers = [member for member in members if member not in leavers]
        for number in range(MESSAGES):  # everyone talks at once; leavers vanish halfway
            for member in members:
                if member in leavers and leavers[member][1] == number:
                    vanish(crowd, member, leavers[member][0])
                elif member.state == "joined" and not (member in leavers and leavers[member][1] < number):
                    crowd.say(member, f"m {number}")
            crowd.turn(0)
        last_words = {f"{m.nick}: m {MESSAGES - 1}" for m in stayers} | {f"* {m.nick} left" for m in leavers}
        crowd.wait_until(HeardAll(stayers, last_words), TIMEOUT, "every stayer's last line and every leave notice")

        for member in stayers:
            said_by = collections.defaultdict(list)  # sender's nick -> the numbers heard from it, in order
            for nick, number in chat_lines(member):
                said_by[nick].append(number)
            for sender in members:
                numbers = said_by[sender.nick]
                if sender in leavers and leavers[sender][0] == "reset":  # a reset may lose the last lines
                    assert numbers == list(range(len(numbers))), (member.nick, sender.nick, numbers)
                    assert len(numbers) <= leavers[sender][1], (member.nick, sender.nick, numbers)
                elif sender in leavers:  # all it said before it left
                    assert numbers == list(range(leavers[sender][1])), (member.nick, sender.nick, numbers)
                else:
                    assert numbers == list(range(MESSAGES)), f"{member.nick} heard {sender.nick} say {numbers}"
        first = stayers[0]
        for member in stayers:  # one room, one order: everyone hears the same conversation
            assert conversation(member) == conversation(first), f"{member.nick} and {first.nick} heard different orders"
        for member, (ending, _) in leavers.items():
            notices = [line for line in first.lines if line.startswith(f"* {member.nick} left")]
            assert len(notices) == 1, (ending, notices)  # exactly once, however it left
            # (A reset is reported once, to whichever call touches the socket first: when that is a
            # send to the leaver, the next recv() sees a plain end of stream, and the notice says "left".)
    finally:
        crowd.close()
    # The room empties: every thread and socket of the crowd is gone, the server still runs.
    crowd_gone = threading.Event()
    for _ in range(int(TIMEOUT * 20)):
        if not server.server.room.nicks() and server_threads(server) == threads_before and open_fds() == fds_before:
            crowd_gone.set()
            break
        crowd_gone.wait(0.05)  # bounded poll: threads finish on their own after the last leave
    assert crowd_gone.is_set(), (server.server.room.nicks()[:5], len(server_threads(server)), open_fds(), fds_before)


@pytest.mark.parametrize("how", SERVERS)
def test_random_bytes_from_many_clients_do_not_reach_anyone_else_raw(live, join, how):
    server = live(**how)
    alice, bob = join(server, "alice"), join(server, "bob")
    crowd = Crowd(server.address)
    try:
        noisy = crowd.connect(8, asks_nickname=False, timeout=TIMEOUT)  # they never answer properly
        rng = random.Random(1)
        for member in noisy:
            crowd.say(member, f"n{rng.randrange(10**6)}")  # a valid nickname, then noise
            noise = bytes(rng.randrange(256) for _ in range(20_000))
            member.outgoing += noise.replace(b"\n", b"") + b"\n" if member is noisy[0] else noise
            crowd.flush(member)
        alice.say("still here?")
        assert bob.expect("alice: still here?", timeout=TIMEOUT)
        crowd.wait_until(lambda: all(m.state == "closed" or not m.outgoing for m in noisy), TIMEOUT, "noise sent")
        alice.say("after the noise")
        bob.expect("alice: after the noise", timeout=TIMEOUT)
        for _, line in bob.received:
            assert not CONTROL.search(line), f"bob received control characters: {line[:80]!r}"
    finally:
        crowd.close()


@pytest.mark.parametrize("how", SERVERS)
def test_invalid_utf8_is_relayed_as_replacement_characters(live, join, how):
    server = live(**how)
    alice, bob = join(server, "alice"), join(server, "bob")
    alice.send_bytes(b"caf\xe9 \xff\xfe ok \xed\x95\n")  # Latin-1, two stray bytes, half a Korean character
    assert bob.expect("alice: caf") == "alice: caf\ufffd \ufffd\ufffd ok \ufffd"
    alice.send_bytes("한글 ".encode() + b"\xea")  # a character cut in half ...
    alice.send_bytes(b"\xb0\x80\n")  # ... and finished in the next segment: arrives whole
    assert bob.expect("alice: 한글") == "alice: 한글 가"


@pytest.mark.parametrize("how", SERVERS)
@pytest.mark.parametrize("newline", [False, True], ids=["no-newline", "newline-at-the-end"])
def test_a_line_of_megabytes_disconnects_its_sender_only(live, join, how, newline):
    server = live(**how)
    alice, bob = join(server, "alice"), join(server, "bob")
    huge = b"x" * (4 << 20) + (b"\n" if newline else b"")

    def flood():
        try:
            alice.sock.sendall(huge)
        except OSError:  # the server hung up long before the 4 MB were sent
            pass

    sender = threading.Thread(target=flood, name="flood")
    sender.start()
    bob.expect("alice was disconnected (line too long)", timeout=TIMEOUT)
    assert alice.wait_closed(TIMEOUT)  # (the notice to alice may be lost: she is still sending, so we reset)
    sender.join(TIMEOUT)
    bob.say("/who")
    assert bob.expect("In the room") == "* In the room (1): bob"


@pytest.mark.parametrize("how", SERVERS)
def test_half_open_and_silent_connections_hold_nobody_up(live, join, how):
    server = live(**how)
    alice, bob = join(server, "alice"), join(server, "bob")
    silent = [socket.create_connection(server.address) for _ in range(5)]  # connect, never say a word
    half = join(server, "half")
    half.sock.shutdown(socket.SHUT_WR)  # "I will send nothing more": the server treats it as leaving
    alice.expect("half left")
    assert half.wait_closed(TIMEOUT)  # and hangs up on it, though it was still reading
    carol = join(server, "carol")  # joining is not held up by the silent ones
    carol.say("hello")
    alice.expect("carol: hello")
    bob.expect("carol: hello")
    for sock in silent:
        sock.close()


@pytest.mark.parametrize("how", SERVERS)
def test_a_reset_halfway_through_a_line_relays_nothing_of_it(live, join, how):
    server = live(**how)
    alice, bob = join(server, "alice"), join(server, "bob")
    alice.send_bytes(b"this line never ends")
    alice.reset()
    assert "(connection lost)" in bob.expect("alice left", timeout=TIMEOUT)
    bob.say("/who")
    bob.expect("In the room (1)")
    assert not [line for line in bob.lines() if "never ends" in line]


@pytest.mark.parametrize("how", SERVERS)
def test_several_clients_who_never_read_are_cut_off_and_the_rest_lose_nothing(live, join, how):
    server = live(**how)
    alice, bob = join(server, "alice"), join(server, "bob")
    crowd = Crowd(server.address)
    try:
        sleepers = crowd.connect(3, timeout=TIMEOUT, rcvbuf=4096)  # a small buffer fills fast
        crowd.pause(sleepers)  # from now on they never read
        line = "y" * 3990
        count = 1600  # 6.4 MB for each sleeper: more than its Outbox (1 MiB) and the server's
        # socket buffer (it grows up to 4 MB on Linux) hold
        for start in range(0, count, 200):  # 0.8 MB at a time: alice and bob, reading it all back in this
            for number in range(start, start + 200):  # busy test process, are never the ones cut off for not reading
                alice.say(f"{number} {line}")
            alice.expect(f"alice: {start + 199} ", timeout=TIMEOUT)
        # the sleepers are cut off in whichever order their outboxes overflow
        bob.expect_all([f"{member.nick} was disconnected (not reading messages)" for member in sleepers]
                       + [f"alice: {count - 1} "], timeout=TIMEOUT)
        numbers = [int(text.split()[1]) for _, text in bob.received if text.startswith("alice: ")]
        assert numbers == list(range(count)), "bob lost or reordered lines while the sleepers were cut off"
    finally:
        crowd.close()
