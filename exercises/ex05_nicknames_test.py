"""Graded tests for exercise 5: nicknames, rules, /quit (run: pytest exercises/ex05_nicknames_test.py).

Each test starts your RunServer in a process of its own on port 0. Do not
edit this file: the grader checks it.
"""

import pytest

from chatkit.grader import hint, part


@pytest.mark.points(1)
def test_asks_for_a_nickname(student):
    """A newcomer is asked for a nickname first."""
    alice = student.start_server(asks_nickname=True).connect("alice")
    with hint("recv_message() starts with self.sock.sendall(PROMPT)."):
        alice.expect_line("Enter your nickname:")


@pytest.mark.points(2)
def test_join_notice_has_count_and_rules(student):
    """Everyone hears who joined and how many people are in the room, then the rules."""
    server = student.start_server(asks_nickname=True)
    with part(1, "After reading the nickname, self.room.add_user(self) announces the newcomer to everyone."):
        alice = server.join("alice")
        alice.expect_line("* Rules: be kind to each other. Type /quit to leave.")
    with part(1, "The notice counts everyone in the room, the newcomer included: '* bob joined. 2 people in the room.'"):
        server.join("bob")
        alice.expect_line("* bob joined. 2 people in the room.")


@pytest.mark.points(1)
def test_messages_carry_the_nickname(student):
    """A message reaches everyone as 'nick: text', Korean nicknames and text included."""
    server = student.start_server(asks_nickname=True)
    alice, minsu = server.join("alice"), server.join("민수")
    minsu.say("안녕하세요!")
    with hint("Relay each message with self.send_message(f'{self.nick}: {text}\\n'), text stripped of its newline."):
        alice.expect_line("민수: 안녕하세요!")
        minsu.expect_line("민수: 안녕하세요!")


@pytest.mark.points(2)
def test_quit_is_announced(student):
    """/quit disconnects the member and everyone hears who left and how many remain."""
    server = student.start_server(asks_nickname=True)
    alice, bob = server.join("alice"), server.join("bob")
    bob.say("/quit")
    with part(1, "On /quit, leave the loop; then delete_user, send the leave notice, close the socket."):
        bob.expect_closed(why="bob typed /quit")
    with part(1, "leave_notice() counts who is still in the room: '* bob left. 1 person in the room.'"):
        alice.expect_line("* bob left. 1 person in the room.")


@pytest.mark.points(2)
def test_vanished_client_is_announced(student):
    """A member who vanishes without /quit (a reset, a closed window) is announced too."""
    server = student.start_server(asks_nickname=True)
    alice, bob, carol = server.join("alice"), server.join("bob"), server.join("carol")
    with part(1, "recv() raises ConnectionResetError (an OSError) when a client resets: end the loop and "
                 "announce the leaving, as for /quit."):
        bob.reset()
        alice.expect_line("* bob left. 2 people in the room.", why="bob's connection was reset")
    with part(1, "recv() returns b'' when a client closes without /quit: end the loop and announce the leaving."):
        carol.close()
        alice.expect_line("* carol left. 1 person in the room.", why="carol closed her connection")


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
