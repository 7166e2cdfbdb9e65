"""One room across several servers, through a real Redis (chatkit.sharedroom): what the issue promises.

Every test here runs real chat servers (two or three: the reference server and
stage 6, in this process or in one of their own) in a room of its own, in the
session's one redis-server (tests/conftest.py: a free port, skipped with the
reason when redis-server is not installed). Nothing is mocked.
"""

import subprocess
import sys
import threading
import time
import unicodedata

import pytest

from chatkit import protocol
from chatkit.lab import LiveClient
from chatkit.lab.rooms import ServerProcess
from chatkit.lab.wait import wait_until
from chatkit.sharedroom import RENEWALS_PER_EXPIRY, RoomAddress

FAST = 1.0  # presence_seconds for the servers of tests that wait for an expiry


@pytest.fixture
def process_server():
    """process_server(room, name, ...) -> ServerProcess; all are stopped after the test."""
    started = []

    def start(*args, **kwargs):
        started.append(ServerProcess(*args, **kwargs))
        return started[-1]

    yield start
    for server in started:
        server.stop()


def log_of(server):
    return " | ".join(text for _, text in server.log_lines)


def numbered(client, prefix):
    """The numbers of the lines `prefix N` the client heard, in the order it heard them."""
    return [int(line.rsplit(" ", 1)[1]) for line in client.lines() if line.startswith(prefix)]


def test_a_line_said_on_one_server_reaches_every_member_on_every_server_once_in_order(live, join, room):
    a, b, c = live(name="A", room=room), live(name="B", room=room), live(name="C", stage=6, room=room)
    alice, amy, bob, carol = join(a, "alice"), join(a, "amy"), join(b, "bob"), join(c, "carol")
    everyone = [alice, amy, bob, carol]
    for member in everyone[:3]:
        member.expect("carol joined")
    alice.send_bytes("".join(f"one {n}\n" for n in range(40)).encode())  # a burst: one recv() on A
    for n in range(40, 60):
        alice.say(f"one {n}")  # one by one
    carol.send_bytes("".join(f"six {n}\n" for n in range(30)).encode())  # and from stage 6 meanwhile
    for member in everyone:
        member.expect_all(["alice: one 59", "carol: six 29"])
    alice.say("last")
    for member in everyone:
        member.expect("alice: last")
        assert numbered(member, "alice: one ") == list(range(60)), member.label  # once each, in order
        assert numbered(member, "carol: six ") == list(range(30)), member.label
        assert member.lines().count("* carol joined. 4 people in the room.") == 1, member.label


def test_who_lists_everyone_on_every_server_and_counts_them(live, join, room):
    a, b, c = live(name="A", room=room), live(name="B", stage=6, room=room), live(name="C", room=room)
    alice, bob, carol = join(a, "alice"), join(b, "bob"), join(c, "carol")
    alice.expect("* carol joined. 3 people in the room.")
    for member in (alice, bob, carol):
        member.say("/who")
        assert member.expect_notice(protocol.WHO) == {"number": 3, "nicks": ["alice", "bob", "carol"]}
    bob.close()
    alice.expect("* bob left. 2 people in the room.")
    carol.say("/WHO")
    assert carol.expect_notice(protocol.WHO)["nicks"] == ["alice", "carol"]


def newcomer(server, nick):
    """A client that answers the nickname question with `nick`; returns (client, the server's answer)."""
    client = LiveClient(server)
    client.expect(protocol.PROMPT)
    client.say(nick)
    return client, client.wait_for(lambda line: line.startswith("* ") and ("nickname" in line or "joined" in line), 5)


def test_a_nickname_taken_on_another_server_is_refused_look_alikes_and_other_forms_included(live, join, room):
    a, b = live(name="A", room=room), live(name="B", stage=6, room=room)
    bob, minji, amy = join(b, "bob"), join(b, "민지"), join(a, "amy")
    for server in (a, b):
        for nick, refusal in [("bob", protocol.NICK_TAKEN.format(nick="bob")),
                              ("Bob", protocol.NICK_LOOKS_LIKE.format(nick="Bob", other="bob")),
                              ("bоb", protocol.NICK_LOOKS_LIKE.format(nick="bоb", other="bob")),  # a Cyrillic о
                              ("ｂｏｂ", protocol.NICK_LOOKS_LIKE.format(nick="ｂｏｂ", other="bob")),
                              (unicodedata.normalize("NFD", "민지"), protocol.NICK_TAKEN.format(nick="민지"))]:
            client, answer = newcomer(server, nick)
            assert answer == refusal, (server.name, nick)
            client.close(quit=False)
    bob.say("/quit")
    amy.expect("* bob left.")  # on A: once A knows, the name is free there (no need to wait for an expiry)
    client, answer = newcomer(a, "Bob")
    assert answer == "* Bob joined. 3 people in the room.", answer
    client.close()
    minji.close()


def test_two_servers_claiming_one_nickname_at_the_same_moment_give_it_to_exactly_one(live, room):
    a, b = live(name="A", room=room), live(name="B", stage=6, room=room)
    for round_ in range(8):
        nick = f"twin{round_}"
        pair = [LiveClient(server) for server in (a, b)]
        for client in pair:
            client.expect(protocol.PROMPT)
        ready = threading.Barrier(2)

        def answer(client):
            ready.wait()
            client.say(nick)

        threads = [threading.Thread(target=answer, args=(client,)) for client in pair]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        answers = [client.wait_for(lambda line: nick in line, 5) for client in pair]
        joined = [line for line in answers if line and "joined" in line]
        assert len(joined) == 1, answers
        for client in pair:
            client.close(quit=False)


def test_killing_a_server_makes_its_members_leave_within_the_presence_expiry(live, join, room, process_server):
    a = live(name="A", room=room, presence_seconds=FAST)
    b = live(name="B", stage=6, room=room, presence_seconds=FAST)
    c = process_server(room, name="C", presence_seconds=FAST)
    alice, bob, dave, erin = join(a, "alice"), join(b, "bob"), join(c, "dave"), join(c, "erin")
    alice.expect("erin joined")
    bob.expect("erin joined")
    killed = time.monotonic()
    c.kill()  # SIGKILL: no goodbye, its keys stay in Redis until they expire
    within = FAST + FAST / RENEWALS_PER_EXPIRY + 2.0  # the expiry, a renewal of the others, and slack for a busy machine
    for member in (alice, bob):
        member.expect_all(["* dave left (connection lost).", "* erin left (connection lost)."], timeout=within)
    assert time.monotonic() - killed < within
    assert alice.lines()[-1] == "* erin left (connection lost). 2 people in the room."
    alice.say("/who")
    assert alice.expect_notice(protocol.WHO)["nicks"] == ["alice", "bob"]
    dave_again = join(a, "dave")  # the dead server's nicknames are free again
    bob.expect("* dave joined. 3 people in the room.")
    dave_again.close()
    assert any("C stopped renewing its presence" in text for _, text in a.log_lines)


def test_restarting_redis_recovers_without_restarting_the_servers_and_reports_the_loss(live, join, room,
                                                                                        redis_server):
    a, b = live(name="A", room=room), live(name="B", stage=6, room=room)
    alice, bob = join(a, "alice"), join(b, "bob")
    alice.expect("bob joined")
    redis_server.halt()
    for member in (alice, bob):
        member.expect(protocol.ROOM_LOST)
    alice.say("said while Redis was down")
    alice.say("and again")
    alice.expect("alice: and again")  # her own server still relays to its members
    client, answer = newcomer(a, "carol")
    assert answer == protocol.NICK_CANNOT_CHECK
    for server in (a, b):  # they keep trying, further and further apart
        wait_until(lambda: "attempt 2:" in log_of(server), 10, f"{server.name} trying a second time")
        assert "attempt 1: the shared room is still unreachable" in log_of(server), log_of(server)
        assert "next attempt in about 0.4 s" in log_of(server), log_of(server)
    redis_server.start()  # the same port: every key is gone (no persistence)
    assert alice.expect_notice(protocol.ROOM_BACK, timeout=10)["number"] >= 1
    assert alice.expect_notice(protocol.NOT_DELIVERED) == {"lines": 2}
    bob.expect_notice(protocol.ROOM_BACK, timeout=10)
    assert bob.expect_notice(protocol.MISSED, timeout=10) == {"lines": 2, "server": "A"}
    assert not bob.seen("said while Redis was down")
    bob.say("hello again")
    alice.expect("bob: hello again")
    alice.say("and to you")
    bob.expect("alice: and to you")
    client.say("carol")
    client.expect("* carol joined. 3 people in the room.")
    bob.expect("* carol joined. 3 people in the room.")
    bob.say("/who")
    assert bob.expect_notice(protocol.WHO)["nicks"] == ["alice", "bob", "carol"]
    twin, answer = newcomer(a, "bob")  # bob's claim was made again after the restart
    assert answer == protocol.NICK_TAKEN.format(nick="bob")
    twin.close(quit=False)
    client.close()
    assert "lost the shared room" in log_of(a) and "back in the shared room after" in log_of(a)
    assert "2 line(s) said here meanwhile did not reach the other servers" in log_of(a)


@pytest.mark.skipif(sys.platform == "win32", reason="freezing a server process needs SIGSTOP")
def test_a_subscriber_too_slow_for_redis_is_cut_off_and_reports_exactly_what_it_missed(live, join, room,
                                                                                       redis_server, process_server):
    limit = redis_server.command("CONFIG", "GET", "client-output-buffer-limit")["client-output-buffer-limit"]
    redis_server.command("CONFIG", "SET", "client-output-buffer-limit", "pubsub 256kb 128kb 1")
    try:
        a = live(name="A", room=room)
        b = process_server(room, name="B")
        alice, bob = join(a, "alice"), join(b, "bob")
        alice.expect("bob joined")
        b.freeze()  # B reads nothing now: what Redis publishes for it piles up in Redis
        flood = 5000  # 20 MB: more than the kernel's buffers hold for B, and its output buffer's limit
        for start in range(0, flood, 250):  # 1 MB at a time: alice reads her own flood back as it comes
            alice.send_bytes("".join(f"flood {n} {'.' * 4000}\n" for n in range(start, start + 250)).encode())
            alice.expect(f"alice: flood {start + 249} ", timeout=30)
        cut_off = f"name=chatkit-B"
        wait_until(lambda: any(cut_off in line for line in redis_server.log_lines("for overcoming of output buffer limits")),
                   10, "Redis cutting B off")
        b.thaw()
        bob.expect(protocol.ROOM_LOST, timeout=10)
        bob.expect_notice(protocol.ROOM_BACK, timeout=10)
        assert bob.expect_notice(protocol.MISSED, timeout=10)["server"] == "A"

        def accounted():  # (the flood's lines bob heard, in order; how many he was told he missed)
            heard = [int(line.split()[2]) for line in bob.lines() if line.startswith("alice: flood ")]
            return heard, sum(found["lines"] for found in map(protocol.MISSED.parse, bob.lines()) if found)

        wait_until(lambda: len(accounted()[0]) + accounted()[1] >= flood, 15, "the whole flood, heard or counted")
        heard, missed = accounted()
        assert len(heard) + missed == flood and 0 < missed < flood, (len(heard), missed)
        assert heard == sorted(heard) and len(set(heard)) == len(heard), "what arrived, arrived in order, once"
        alice.say("after the flood")
        bob.expect("alice: after the flood")
    finally:
        redis_server.command("CONFIG", "SET", "client-output-buffer-limit", limit)


@pytest.mark.parametrize("stage", [None, 6], ids=["reference", "stage 6"])
def test_nobody_waits_for_redis_while_a_newcomer_s_nickname_is_checked(live, join, room, redis_server, stage):
    a = live(name="A", stage=stage, room=room)
    alice, bob = join(a, "alice"), join(a, "bob")
    waiting = LiveClient(a)
    waiting.expect(protocol.PROMPT)
    redis_server.freeze()  # Redis answers nothing now, and closes nothing
    try:
        waiting.say("carol")  # its claim waits for Redis (up to REDIS_TIMEOUT)
        alice.say("still here?")
        bob.expect("alice: still here?")
        assert waiting.unread() == [], "the newcomer was answered before bob heard alice: someone waited"
    finally:
        redis_server.thaw()
    answer = waiting.wait_for(lambda line: line.startswith("* "), 10)
    assert answer in (protocol.NICK_CANNOT_CHECK, "* carol joined. 3 people in the room."), answer
    waiting.close(quit=False)


def test_a_server_that_stops_cleanly_says_goodbye_to_the_room_at_once(live, join, room):
    a = live(name="A", room=room, presence_seconds=30)  # an expiry this long would not be waited for
    b = live(name="B", stage=6, room=room, presence_seconds=30)
    alice, bob, carol = join(a, "alice"), join(b, "bob"), join(b, "carol")
    alice.expect("carol joined")
    b.server.stop()  # the members are still connected: the server says goodbye to them
    alice.expect_all(["* bob left", "* carol left"])
    assert alice.lines()[-1].endswith(" left. 1 person in the room."), alice.lines()[-2:]  # in either order
    newcomer_bob = join(a, "bob")  # and its nicknames are free again
    newcomer_bob.close()


def test_serve_says_what_is_wrong_with_a_room(run):
    for args, status, message in [
        (["--room", "redis://127.0.0.1:1/lab"], 1, "Cannot reach the shared room redis://127.0.0.1:1/lab"),
        (["--room", "http://127.0.0.1/lab"], 2, "redis://HOST:PORT/ROOM"),
        (["--room", "redis://127.0.0.1:6379/"], 2, "the room's name"),
        (["--stage", "5", "--room", "redis://127.0.0.1/lab"], 2, "only the reference server and stage 6"),
        (["--name", "A"], 2, "--name only means something with --room"),
    ]:
        server = run(sys.executable, "-m", "chatkit", "serve", *args)
        code, stderr = server.finish()
        assert code == status and message in stderr, (args, code, stderr)


def test_room_addresses():
    assert RoomAddress.parse("redis://10.0.0.5:6380/lab") == RoomAddress("10.0.0.5", 6380, "lab")
    assert RoomAddress.parse("redis://:s%40cret@db/kakao-1") == RoomAddress("db", 6379, "kakao-1", None, "s@cret")
    assert str(RoomAddress.parse("rediss://user:pw@db:1/x")) == "rediss://db:1/x"  # never the password
    assert RoomAddress.parse("redis://db/%EC%B1%84%ED%8C%85%EB%B0%A9").room == "채팅방" == RoomAddress.parse("redis://db/채팅방").room
    for wrong in ("redis://db/", "redis://db/a/b", "db:6379/lab", "redis://db:99999/lab", "redis://db/a b"):
        with pytest.raises(ValueError):
            RoomAddress.parse(wrong)


def test_without_a_room_the_kit_never_loads_the_redis_library():
    code = ("import sys; from chatkit.lab import LiveServer, LiveClient, stop_all; "
            "s = LiveServer(); c = LiveClient(s, 'alice'); c.say('hi'); c.expect('alice: hi'); "
            "s6 = LiveServer(stage=6); stop_all(); "
            "print('redis' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["False"], result.stderr
