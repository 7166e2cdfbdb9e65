"""The reference server end to end, and the report's weaknesses: real on stage 5, fixed here.

Every test talks to a live server over real sockets on 127.0.0.1 (port 0).
Tests named ``test_weakness_*`` run the same scenario on stage 5 (the
report's design) and on the reference server, and check both outcomes.
"""

import socket
import threading

import pytest

from chatkit.protocol import MAX_LINE_CHARS, NICK_MAX_CHARS

SILENCE = 0.5  # seconds a client must hear nothing, where hearing nothing is the point
KOREAN_LINE = "가" * 700  # 2,100 bytes in UTF-8, more than two recv(1024) calls
FLOOD_LINE = "x" * 999  # 1,000 bytes on the wire


def bob_sleepy_and_alice(server, join):
    """bob (reads), sleepy (stops reading once joined, small receive buffer: fills fast) and alice."""
    bob = join(server, "bob")
    sleepy = join(server, "sleepy", rcvbuf=4096)
    sleepy.pause()
    bob.expect("sleepy joined")
    return bob, sleepy, join(server, "alice")


def everyone(join, server, *nicks):
    """Join `nicks` in order; return once every one of them has heard the last one join."""
    clients = [join(server, nick) for nick in nicks]
    for client in clients[:-1]:
        client.expect(f"{nicks[-1]} joined")
    return clients


def send_in_background(client, lines):
    """Send `lines` from a thread (a flood blocks once the server stops reading)."""

    def send():
        try:
            for line in lines:
                client.say(line)
        except OSError:  # the server hung up on us, or the test closed the socket
            pass

    thread = threading.Thread(target=send, name="flood")
    thread.start()
    return thread


# --- the report's weaknesses: real on stage 5, fixed on the reference server ---------


def test_weakness_korean_line_of_2100_bytes(live, join):
    for stage in (5, None):
        server = live(stage=stage)
        alice, bob = everyone(join, server, "alice", "bob")
        alice.say(KOREAN_LINE)
        received = bob.expect("alice: 가")
        if stage == 5:  # three recv(1024) calls, three "messages", characters cut in half
            assert received.count("alice: ") == 3 and "\ufffd" in received
        else:
            assert received == "alice: " + KOREAN_LINE


def test_weakness_two_lines_in_one_segment(live, join):
    for stage in (5, None):
        server = live(stage=stage)
        alice, bob = everyone(join, server, "alice", "bob")
        alice.send_bytes("첫째 줄\n둘째 줄\n".encode())  # one sendall: one TCP segment
        assert bob.expect("첫째") == "alice: 첫째 줄"
        second = bob.expect("둘째")
        assert second == ("둘째 줄" if stage == 5 else "alice: 둘째 줄")  # stage 5 loses the name


def test_weakness_one_line_in_two_segments(live, join):
    for stage in (5, None):
        server = live(stage=stage)
        alice, bob = everyone(join, server, "alice", "bob")
        alice.send_bytes("안녕하".encode() + "세요"[0].encode()[:1])  # ends inside a character
        bob.expect_silence(SILENCE)  # nothing complete to relay yet (stage 5 relays a fragment)
        alice.send_bytes("세요"[0].encode()[1:] + "요\n".encode())
        received = bob.expect("alice: 안녕하")
        if stage == 5:
            assert received.count("alice: ") == 2 and "\ufffd" in received
        else:
            assert received == "alice: 안녕하세요"


def flood_at_bobs_pace(alice, bob, batches, within):
    """alice sends `batches` of 100 lines of 1,000 bytes, each batch once bob has the one before.

    bob reads like a person who keeps up: never more than 100 lines behind
    alice, so a room that stops reaching him is the server's doing, not his
    (read as fast as the server writes, on a busy machine he may fall a
    megabyte behind and be thrown out as a member who stopped reading).
    Return how many batches bob heard, each within `within` seconds, and the
    threads sending (a stalled server stops reading alice: her sendall blocks).
    """
    senders = []
    for batch in range(batches):
        senders.append(send_in_background(alice, [f"{batch:02d}-{n:02d} {FLOOD_LINE[:993]}" for n in range(100)]))
        if not bob.hears(f"alice: {batch:02d}-99 ", within):
            return batch, senders
    return batches, senders


def test_weakness_a_member_who_never_reads(live, join):
    """alice sends 3 MB: stage 5 stalls the room behind sleepy, who never reads; the reference server does not."""
    for stage in (5, None):
        server = live(stage=stage)
        bob, sleepy, alice = bob_sleepy_and_alice(server, join)
        if stage == 5:
            heard, senders = flood_at_bobs_pace(alice, bob, batches=30, within=3)
            assert heard < 30, "stage 5 should get stuck behind sleepy's full buffers"
        else:
            heard, senders = flood_at_bobs_pace(alice, bob, batches=30, within=30)
            assert heard == 30, f"bob heard {heard} of 30 batches: {bob.unread(3)}"
            assert [line[7:12] for line in bob.lines() if line.startswith("alice: ")] == [
                f"{b:02d}-{n:02d}" for b in range(30) for n in range(100)], "bob missed lines"
        sleepy.close(quit=False)
        alice.close(quit=False)
        for sender in senders:
            sender.join()


def test_a_member_who_never_reads_is_disconnected_with_a_notice(live, join):
    """sleepy never reads; bob reads everything. Only sleepy is thrown out."""
    server = live()
    bob, sleepy, alice = bob_sleepy_and_alice(server, join)
    # Batches of 100 lines, each sent once bob has the previous one, so bob (who reads)
    # is never far behind, while sleepy's kernel buffers, then its outbox, fill up.
    for batch in range(100):  # at most 10 MB
        alice.send_bytes(b"".join(f"alice says {batch:03d}-{n:03d} {FLOOD_LINE[:900]}\n".encode() for n in range(100)))
        bob.expect(f"alice says {batch:03d}-099", timeout=10)
        if any("sleepy was disconnected" in line for line in bob.lines()):
            break
    assert "* sleepy was disconnected (not reading messages). 2 people in the room." in bob.lines()
    heard = [line[18:25] for line in bob.lines() if line.startswith("alice: alice says")]
    assert heard == [f"{b:03d}-{n:03d}" for b in range(batch + 1) for n in range(100)], "bob missed lines"
    sleepy.close()


def test_weakness_a_client_who_vanishes(live, join):
    for stage in (5, None):
        server = live(stage=stage)
        alice, bob = everyone(join, server, "alice", "bob")
        bob.reset()  # TCP reset: a crash or a pulled cable, no /quit
        if stage == 5:
            alice.expect_silence(SILENCE)  # never announced...
            join(server, "carol")
            assert alice.expect("carol joined") == "* carol joined. 3 people in the room."  # ...and still counted
        else:
            assert alice.expect("bob left") == "* bob left (connection lost). 1 person in the room."


def test_weakness_nickname_asked_in_the_accept_loop(live, join):
    for stage in (5, None):
        server = live(stage=stage)
        shy = socket.create_connection(server.address)  # connects, never answers
        newcomer = join(server)  # no nickname: we only look at what it hears
        if stage == 5:
            newcomer.expect_silence(SILENCE)  # the accept loop is waiting for shy
        else:
            newcomer.expect("Enter your nickname:")
            newcomer.say("newcomer")
            newcomer.expect("newcomer joined")
        shy.close()


def test_weakness_escape_sequences(live, join):
    for stage in (5, None):
        server = live(stage=stage)
        alice, bob = everyone(join, server, "alice", "bob")
        alice.say("\x1b[2J\x1b[31mred alert\x1b[0m\a")
        received = bob.expect("red alert")
        assert ("\x1b" in received) == (stage == 5)
        if stage is None:
            assert received == "alice: red alert"


# --- the reference server's own behaviour --------------------------------------------


def test_join_announces_name_rules_and_count_to_everyone(live, join):
    server = live()
    alice = join(server, "alice")
    alice.expect("Rules")
    join(server, "빛나")
    assert alice.expect("빛나 joined") == "* 빛나 joined. 2 people in the room."
    assert alice.expect("Rules").startswith("* Rules: ")


@pytest.mark.parametrize("bad, problem", [
    ("alice", "taken"),
    ("", "at least one character"),
    ("two words", "spaces"),
    ("x" * (NICK_MAX_CHARS + 1), f"at most {NICK_MAX_CHARS}"),
    ("a:b", "':'"),
    ("*server", "start with"),
    ("\x1b[31mred", "control characters"),
])
def test_bad_nicknames_are_asked_again(live, join, bad, problem):
    server = live()
    join(server, "alice")
    newcomer = join(server)
    newcomer.expect("Enter your nickname:")
    newcomer.say(bad)
    assert problem in newcomer.expect(problem)
    newcomer.expect("Enter your nickname:")
    newcomer.say("bob")
    newcomer.expect("bob joined")


def test_who_help_and_unknown_commands(live, join):
    server = live()
    alice, bob = everyone(join, server, "alice", "bob")
    bob.say("/who")
    assert bob.expect("In the room") == "* In the room (2): alice, bob"
    bob.say("/help")
    for command in ("/who", "/help", "/quit"):
        bob.expect(command)
    bob.say("/dance")
    assert bob.expect("Unknown") == "* Unknown command /dance. Type /help."
    alice.say("/who")
    alice.expect("In the room (2)")
    bob.expect_silence(0.1)  # answers go to the one who asked


def test_quit_says_goodbye_and_tells_the_room(live, join):
    server = live()
    alice, bob = everyone(join, server, "alice", "bob")
    bob.say("/quit")
    assert bob.expect("Bye") == "* Bye, bob!"
    assert bob.wait_closed()
    assert alice.expect("bob left") == "* bob left. 1 person in the room."


def test_a_clean_close_without_quit_is_announced(live, join):
    server = live()
    alice, bob = everyone(join, server, "alice", "bob")
    bob.close(quit=False)
    assert alice.expect("bob left") == "* bob left. 1 person in the room."


def test_a_line_too_long_disconnects_its_sender_and_memory_stays_bounded(live, join):
    server = live()
    alice, bob = everyone(join, server, "alice", "bob")
    sent = []

    def send_endless_line():
        chunk = b"a" * 65536
        try:
            for _ in range(160):  # 10 MB without a newline
                alice.send_bytes(chunk)
                sent.append(len(chunk))
        except OSError:
            pass

    sender = threading.Thread(target=send_endless_line)
    sender.start()
    assert bob.expect("alice was disconnected") == "* alice was disconnected (line too long). 1 person in the room."
    assert alice.wait_closed()
    sender.join()
    assert sum(sent) < 10 * 2**20, "the server read all 10 MB instead of cutting the line off"
    assert MAX_LINE_CHARS < 10_000


def test_everyone_hears_intact_lines_in_the_same_order(live, join):
    """Five members talk at once: no line is torn or interleaved, and all hear one order."""
    server = live()
    talkers = [join(server, f"t{i}") for i in range(5)]
    listener = join(server, "listener")
    for talker in talkers:
        talker.expect("listener joined")
    threads = [send_in_background(t, [f"{t.nick}-{n:03d}-" + "가" * 300 for n in range(100)]) for t in talkers]
    for thread in threads:
        thread.join()
    listener.expect_all([f"{talker.nick}-099-" for talker in talkers])
    heard = [line for line in listener.lines() if line.startswith("t")]
    assert len(heard) == 500
    for talker in talkers:
        mine = [line for line in heard if line.startswith(f"{talker.nick}: ")]
        assert mine == [f"{talker.nick}: {talker.nick}-{n:03d}-" + "가" * 300 for n in range(100)]
    talkers[0].expect_all([f"{talker.nick}-099-" for talker in talkers])
    assert [line for line in talkers[0].lines() if line.startswith("t")][-500:] == heard


def test_members_leaving_during_a_broadcast_skip_nobody(live, join):
    server = live()
    stayers = [join(server, f"stay{i}") for i in range(5)]
    leavers = [join(server, f"leave{i}") for i in range(10)]
    speaker = join(server, "speaker")
    for stayer in stayers:
        stayer.expect("speaker joined")
    flood = send_in_background(speaker, [f"line {n}" for n in range(300)])
    goodbyes = [threading.Thread(target=leaver.close) for leaver in leavers]
    for thread in goodbyes:
        thread.start()
    flood.join()
    for thread in goodbyes:
        thread.join()
    for stayer in stayers:
        stayer.expect("line 299")
        assert [line for line in stayer.lines() if line.startswith("speaker: line")] == [
            f"speaker: line {n}" for n in range(300)]


def test_stop_tells_everyone_and_disconnects_them(live, join):
    server = live()
    alice, bob = everyone(join, server, "alice", "bob")
    server.server.stop()
    for client in (alice, bob):
        assert client.expect("shutting down") == "* The server is shutting down. Bye!"
        assert client.wait_closed()


def test_stop_is_prompt_even_with_a_member_who_never_reads(live, join):
    server = live()
    bob, sleepy, alice = bob_sleepy_and_alice(server, join)
    flood = send_in_background(alice, [FLOOD_LINE] * 3000)
    bob.expect(FLOOD_LINE, timeout=10)
    server.stop(timeout=5)  # raises if the server thread is still busy after 5 s
    flood.join()
    sleepy.close()


def test_threads_end_when_the_room_empties(live, join):
    server = live()
    clients = [join(server, f"c{i}") for i in range(10)]
    clients[3].reset()
    for client in clients:
        client.close()
    for client in server.server.clients:
        client.reader.join(5)
        assert not client.reader.is_alive()
    assert server.server.room.nicks() == []
    names = [t.name for t in threading.enumerate()]
    assert not [n for n in names if n.startswith("reader-")], names
