"""Graded tests for exercise 5: nicknames, /quit, goodbyes (run: pytest exercises/ex05_nicknames_test.py).

Each test starts your RunServer in a process of its own on port 0. Do not
edit this file: the grader checks it.
"""

import pytest

from chatkit.grader import N_, _, hint, part

WRITTEN_HERE = ("ChatClient.recv_message",)


@pytest.fixture(autouse=True)
def your_own_client(student):
    """Every test first checks that ChatClient.recv_message is written in your file."""
    student.written_here(*WRITTEN_HERE)


def expect_goodbye(peer, nick, count, why=""):
    """Wait for the leave notice of `nick`; it must count `count` people still in the room."""
    wanted = f"* {nick} left. {count} in the room."
    line = peer.expect(f"* {nick} left", why=why)
    with hint("The head count is of those still in the room: count after taking the member out "
              "(self.room.delete_user(self)), and say it with people(n): '1 person', '2 people'."):
        assert line == wanted, _("{name} heard {line!r}, not {wanted!r}").format(
            name=peer.name, line=line, wanted=wanted)


def heard_once(peer, text, after):
    """`peer` heard a line containing `text` exactly once, by the time `after` says something and hears it."""
    after.say("and now?")
    peer.expect_line(f"{after.name}: and now?", why=N_("a line said after the notice, to see that no second one comes"))
    times = peer.count(text)
    assert times == 1, _("{name} heard {text!r} {times} times").format(name=peer.name, text=text, times=times)


@pytest.mark.points(1)
def test_asks_for_a_nickname(student):
    """A newcomer is asked for a nickname first."""
    alice = student.start_server(asks_nickname=True).connect("alice")
    with hint("recv_message() starts with self.sock.sendall(PROMPT): 'Enter your nickname:' and its '\\n'."):
        alice.expect_line("Enter your nickname:")


@pytest.mark.points(1)
def test_join_notice_has_count_and_rules(student):
    """Everyone hears who joined and how many people are in the room, then the rules."""
    server = student.start_server(asks_nickname=True)
    with hint("After reading the nickname, self.room.add_user(self) announces the newcomer to everyone, "
              "with the head count and the rules."):
        alice = server.join("alice")
        alice.expect_line("* Rules: be kind to each other. Type /quit to leave.")
        server.join("bob")
        alice.expect_line("* bob joined. 2 people in the room.")


@pytest.mark.points(1)
def test_messages_carry_the_nickname(student):
    """A message reaches everyone as 'nick: text', Korean nicknames and text included."""
    server = student.start_server(asks_nickname=True)
    alice, minsu = server.join("alice"), server.join("민수")
    minsu.say("안녕하세요!")
    with hint("Relay each message with self.send_message(f'{self.nick}: {text}\\n'), text without its newline."):
        alice.expect_line("민수: 안녕하세요!")
        minsu.expect_line("민수: 안녕하세요!")


@pytest.mark.points(2)
def test_quit_is_announced_once(student):
    """/quit disconnects the member, and everyone hears once who left and how many remain; nc's /quit too."""
    server = student.start_server(asks_nickname=True)
    alice, bob, carol = server.join("alice"), server.join("bob"), server.join("carol")
    with part(1, "On /quit: leave the loop, take the client out of the room, tell everyone once "
                 "('* bob left. 2 people in the room.'), close the socket."):
        bob.say("/quit")
        bob.expect_closed(why=N_("bob typed /quit"))
        expect_goodbye(alice, "bob", "2 people")
        heard_once(alice, "* bob left", after=carol)
    with part(1, "nc -C and telnet end lines with '\\r\\n': compare the text without it (strip()), "
                 "so '/quit\\r\\n' is /quit too."):
        carol.send_bytes(b"/quit\r\n")
        carol.expect_closed(why=N_("carol typed /quit in nc -C, which sends '/quit\\r\\n'"))
        expect_goodbye(alice, "carol", "1 person")


@pytest.mark.points(2)
def test_vanished_client_is_announced_once(student):
    """A member who vanishes without /quit (a reset, a closed window) is announced too, once."""
    server = student.start_server(asks_nickname=True)
    alice, bob, carol, dave = (server.join(name) for name in ("alice", "bob", "carol", "dave"))
    with part(1, "recv() raises ConnectionResetError (an OSError) when a client resets: end the loop and "
                 "say goodbye, as for /quit."):
        bob.reset()
        expect_goodbye(alice, "bob", "3 people", why=N_("bob's connection was reset"))
        heard_once(alice, "* bob left", after=dave)
    with part(1, "recv() returns b'' when a client closes without /quit: end the loop and say goodbye, "
                 "once."):
        carol.close()
        expect_goodbye(alice, "carol", "2 people", why=N_("carol closed her connection"))
        heard_once(alice, "* carol left", after=dave)


@pytest.mark.points(1)
def test_silent_newcomer_blocks_nobody(student):
    """Someone who never answers the nickname question keeps nobody else out."""
    server = student.start_server(asks_nickname=True)
    silent = server.connect("silent")
    silent.expect_line("Enter your nickname:")
    with hint("Ask for the nickname in the client's own thread (recv_message), never in the accept loop."):
        alice = server.join("alice")
        alice.say("anyone?")
        alice.expect_line("alice: anyone?")


@pytest.mark.points(2)
def test_nickname_edge_cases(student):
    """An empty answer is asked again; someone who leaves before answering is never announced."""
    server = student.start_server(asks_nickname=True)
    alice = server.join("alice")
    with part(1, "An empty answer (just Enter) is no nickname: ask again (send PROMPT once more) and read "
                 "the next answer; announce nobody until there is a name."):
        bob = server.connect("bob")
        bob.expect_line("Enter your nickname:")
        bob.say("")
        bob.expect_line("Enter your nickname:", why=N_("bob's answer was empty, so he is asked again"))
        bob.say("bob")
        alice.expect_line("* bob joined. 2 people in the room.")
        assert not alice.seen("*  joined"), _("alice heard someone with an empty nickname join")
    with part(1, "Someone who leaves before answering never joined: close the socket and return, "
                 "no notice, and the head count stays right."):
        shy = server.connect("shy")
        shy.expect_line("Enter your nickname:")
        shy.close()
        carol = server.join("carol")
        alice.expect_line("* carol joined. 3 people in the room.", why=N_("shy left before answering"))
        assert not any(" left" in line for line in alice.lines() if "bob" not in line), (
            _("alice heard a goodbye from someone who never joined: {lines}").format(lines=alice.lines()[-5:]))
        carol.say("hi")
        alice.expect_line("carol: hi")
