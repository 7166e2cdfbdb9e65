"""ChatSession and Connection: what the GUI and the notebook panel understand of the server's lines."""

import threading
import time
import unicodedata

import pytest

from chatkit import protocol
from chatkit.protocol import MAX_LINE_CHARS, Notice
from chatkit.session import COLOURS, MY_COLOUR, ChatSession, Connection

NOON = time.struct_time((2024, 5, 1, 12, 34, 0, 2, 122, -1))


def session(nick=None):
    sent = []
    return ChatSession(sent.append, nick, clock=lambda: NOON), sent


def joined(chat, nick, count):
    return chat.receive(f"* {nick} joined. {count} {'person' if count == 1 else 'people'} in the room.")


def test_the_nickname_given_is_answered_once_and_the_question_hidden():
    chat, sent = session("alice")
    assert chat.receive("Enter your nickname:") is None
    assert sent == ["alice"] and chat.state == "joining"
    line = joined(chat, "alice", 1)
    assert (line.kind, line.sender, line.time) == ("joined", "alice", "12:34")
    assert chat.state == "chatting" and chat.nick == "alice" and chat.members == ["alice"]
    assert sent == ["alice"], "alone in the room: no need to ask /who"


def test_without_a_nickname_the_user_is_asked_and_a_refusal_is_shown():
    chat, sent = session()
    assert chat.receive("Enter your nickname:").kind == "prompt"
    assert chat.state == "nickname"
    assert chat.submit("carol") is None and sent == ["carol"]
    refusal = chat.receive("* The nickname carol is taken.")
    assert (refusal.kind, refusal.text) == ("problem", "The nickname carol is taken.")
    assert chat.receive("Enter your nickname:").kind == "prompt"
    chat.submit("  bob ")
    assert sent == ["carol", "bob"]
    joined(chat, "bob", 1)
    assert chat.nick == "bob"


def test_a_refused_command_line_nickname_is_not_sent_again():
    chat, sent = session("alice")
    chat.receive("Enter your nickname:")
    chat.receive("* The nickname alice is taken.")
    assert chat.receive("Enter your nickname:").kind == "prompt"
    assert sent == ["alice"]


RULES = "* Rules: be kind to each other. /quit leaves, /who lists who is here, /help shows commands."


def test_joining_a_busy_room_asks_who_is_there_quietly():
    chat, sent = session("alice")
    chat.receive("Enter your nickname:")
    joined(chat, "alice", 3)
    assert chat.receive(RULES).kind == "notice"
    assert sent == ["alice", "/who"]
    assert chat.receive("* In the room (3): bob, carol, alice") is None
    assert chat.members == ["bob", "carol", "alice"] and chat.count == 3
    chat.submit("/who")
    assert chat.receive("* In the room (3): bob, carol, alice").kind == "notice", "asked by the user: shown"


def test_a_server_whose_rules_do_not_mention_who_is_not_asked():
    """The report's server has no /who: it would relay it to everyone as a message."""
    chat, sent = session("alice")
    chat.receive("Enter your nickname:")
    joined(chat, "alice", 3)
    chat.receive("* Rules: be kind to each other. Type /quit to leave.")
    assert sent == ["alice"] and chat.members == ["alice"]


def test_joins_and_leaves_update_the_members():
    chat, _ = session("alice")
    chat.receive("Enter your nickname:")
    joined(chat, "alice", 1)
    joined(chat, "bob", 2)
    joined(chat, "캐롤", 3)
    assert chat.members == ["alice", "bob", "캐롤"] and chat.count == 3
    assert chat.receive("* bob left. 2 people in the room.").kind == "left"
    line = chat.receive("* 캐롤 was disconnected (not reading messages). 1 person in the room.")
    assert (line.kind, line.sender) == ("left", "캐롤")
    assert chat.members == ["alice"] and chat.count == 1


def test_messages_are_split_into_sender_and_text_and_own_lines_marked():
    chat, _ = session("alice")
    chat.receive("Enter your nickname:")
    joined(chat, "alice", 1)
    theirs = chat.receive("bob: 안녕: 반가워요")
    assert (theirs.kind, theirs.sender, theirs.text, theirs.mine) == ("message", "bob", "안녕: 반가워요", False)
    assert chat.receive("alice: hi").mine
    assert chat.receive("* Rules: be kind.").kind == "notice"
    assert chat.receive("Bye!").kind == "notice", "the report's server says goodbye without a '* '"


def test_what_the_user_types_is_cleaned_and_checked_before_sending():
    chat, sent = session("alice")
    chat.receive("Enter your nickname:")
    joined(chat, "alice", 1)
    assert chat.submit("   ") is None
    chat.submit("two\nlines")
    assert sent[-1] == "two lines", "a pasted newline must not split the message"
    problem = chat.submit("가" * (MAX_LINE_CHARS + 1))
    assert problem.kind == "problem" and "at most 4096" in problem.text
    assert sent[-1] == "two lines", "a line the server would refuse is not sent"


def test_quit_then_hang_up_is_a_goodbye_not_a_problem():
    chat, sent = session("alice")
    chat.receive("Enter your nickname:")
    joined(chat, "alice", 1)
    chat.submit("/quit")
    assert chat.state == "leaving" and sent[-1] == "/quit"
    assert chat.closed() is None and chat.state == "left"


def test_quit_at_the_nickname_question_sends_nothing():
    """/quit is not a nickname: before joining there is nobody to say goodbye to."""
    chat, sent = session()
    chat.receive("Enter your nickname:")
    assert chat.submit("/quit") is None
    assert sent == [] and chat.state == "leaving"
    assert chat.closed() is None and chat.state == "left"


def test_a_server_hanging_up_is_shown_and_nothing_more_is_sent():
    chat, sent = session("alice")
    chat.receive("Enter your nickname:")
    joined(chat, "alice", 2)
    line = chat.closed()
    assert line.kind == "problem" and "Disconnected" in line.text
    assert chat.members == [] and chat.status("h:1") == ("#b3261e", "Disconnected from h:1")
    count = len(sent)
    assert chat.submit("anyone?").kind == "problem" and len(sent) == count


def test_everyone_gets_a_colour_of_their_own_and_you_get_blue():
    chat, _ = session("alice")
    chat.receive("Enter your nickname:")
    joined(chat, "alice", 1)
    names = ["bob", "carol", "dave", "erin", "frank", "grace"]
    colours = [chat.receive(f"{name}: hi").colour for name in names]
    assert len(set(colours)) == len(names) and MY_COLOUR not in colours
    assert chat.receive("alice: hi").colour == MY_COLOUR
    assert chat.receive("carol: again").colour == colours[1]
    assert chat.receive("* bob left. 1 person in the room.").colour == COLOURS["left"]


@pytest.mark.parametrize("stage", [None, 5])
def test_a_connection_to_a_live_server(live, join, stage):
    """Against the reference server and the report's own (stage 5): join, hear, speak."""
    server = live() if stage is None else live(stage=stage)
    bob = join(server, "bob")
    lines = []
    arrived = threading.Condition()

    def on_line(text):
        with arrived:
            lines.append(chat.receive(text))
            arrived.notify_all()

    connection = Connection(*server.address)
    chat = ChatSession(connection.send, "alice")
    connection.start(on_line, on_closed=lambda: None)
    try:
        bob.expect("alice joined")
        bob.say("안녕하세요")
        with arrived:
            assert arrived.wait_for(lambda: any(line and line.text == "안녕하세요" for line in lines), 5), lines
            assert chat.nick == "alice" and chat.count == 2
            if stage is None:  # the report's server has no /who: only the reference server lists members
                assert arrived.wait_for(lambda: set(chat.members) == {"alice", "bob"}, 5), chat.members
        connection.send("hi bob")
        bob.expect("alice: hi bob")
        assert "alice: /who" not in bob.lines(), "/who sent to a server that does not know it"
    finally:
        connection.close()
    assert not connection.thread.is_alive()


def test_two_threads_sending_never_interleave_their_lines(live, join):
    server = live()
    bob = join(server, "bob")
    connection = Connection(*server.address)
    connection.start(lambda text: None, lambda: None)
    connection.send("alice")
    bob.expect("alice joined")
    line_a, line_b = "가" * 2000, "b" * 4000  # long enough to need several send() calls each
    threads = [threading.Thread(target=lambda text=text: [connection.send(text) for _ in range(20)])
               for text in (line_a, line_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for _ in range(40):
        assert bob.expect("alice: ") in (f"alice: {line_a}", f"alice: {line_b}")
    connection.close()


@pytest.mark.parametrize("stage", [None, 6])
def test_windows_follow_the_servers_words_when_a_notice_is_reworded(live, join, monkeypatch, stage):
    """The server formats its notices and the window parses them with the same definitions."""
    monkeypatch.setattr(protocol, "JOINED", Notice("* Welcome {nick}! We are {count} now."))
    monkeypatch.setattr(protocol, "LEFT", Notice("* {nick} has {why}; {count} stay."))
    monkeypatch.setattr(protocol, "WHO", Notice("* Here now ({number}): {nicks}"))
    server = live() if stage is None else live(stage=stage)
    bob = join(server, "bob")
    lines = []
    arrived = threading.Condition()

    def on_line(text):
        with arrived:
            lines.append(text)
            chat.receive(text)
            arrived.notify_all()

    connection = Connection(*server.address)
    chat = ChatSession(connection.send, "alice")
    connection.start(on_line, on_closed=lambda: None)
    try:
        assert bob.expect_notice(protocol.JOINED, nick="alice") == {"nick": "alice", "count": 2}
        with arrived:
            assert arrived.wait_for(lambda: chat.state == "chatting" and set(chat.members) == {"alice", "bob"}, 5), lines
        assert "* Welcome alice! We are 2 people now." in lines
        bob.close()
        with arrived:
            assert arrived.wait_for(lambda: chat.members == ["alice"] and chat.count == 1, 5), lines
        assert "* bob has left; 1 person stay." in lines
    finally:
        connection.close()


def test_what_any_server_sends_is_cleaned_before_a_window_sees_it():
    chat, _ = session("alice")
    chat.receive("Enter your nickname:")
    joined(chat, "alice", 1)
    line = chat.receive("\x1b]0;PWNED\x07\x1b[31mbob\x1b[0m: \u202ehi\u200b there\x07")
    assert (line.kind, line.sender, line.text) == ("message", "bob", "hi there")
    assert chat.receive("* \x1b[2Jcarol joined. 2 people in the room.").sender == "carol"


def who_line(nicks, number=None):
    return f"* In the room ({number or len(nicks)}): {', '.join(nicks)}"


def joined_a_busy_room(count):
    chat, sent = session("alice")
    chat.receive("Enter your nickname:")
    joined(chat, "alice", count)
    chat.receive(RULES)
    assert sent == ["alice", "/who"]
    return chat


def test_a_who_answer_cut_by_the_client_lists_the_whole_names_it_has():
    chat = joined_a_busy_room(300)
    names = [f"classmate_number_{number:03}" for number in range(299)]
    line = who_line([*names, "alice"], 300)[:4000] + protocol.CUT_MARK  # as the client's reader cuts it
    assert chat.receive(line) is None, "its own /who stays quiet"
    assert chat.members[:-1] == names[:len(chat.members) - 1] and chat.members[-1] == "alice"
    assert len(chat.members) > 150 and chat.count == 300 and chat.state == "chatting"
    assert chat.receive(who_line(["bob", "alice"])).kind == "notice", "the next /who is the user's: shown"


def test_a_who_answer_split_over_lines_is_gathered_quietly():
    chat = joined_a_busy_room(5)
    assert chat.receive(who_line(["bob", "carol"], 5)) is None
    assert chat.receive(who_line(["dave", "erin", "alice"], 5)) is None
    assert chat.members == ["bob", "carol", "dave", "erin", "alice"]
    assert chat.receive("bob: hi").kind == "message"


def test_a_nickname_is_sent_composed():
    chat, sent = session(unicodedata.normalize("NFD", "민지"))
    chat.receive("Enter your nickname:")
    assert sent == ["민지"]
    joined(chat, "민지", 1)
    assert chat.nick == "민지" and chat.state == "chatting"
