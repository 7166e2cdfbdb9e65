"""The in-notebook chat panel (ipywidgets), driven without a browser against a live server."""

import threading

import pytest

from chatkit.lab.panel import ChatPanel, LeaveButton
from hostile import (AFTER_LONG, END, ESCAPES, FORBIDDEN, HALF_LINE, LONG_KOREAN, SHOWN, TEN_MB,
                     hang_up_after)


def test_the_panel_joins_hears_and_speaks_korean(live, join):
    server = live()
    bob = join(server, "bob")
    with ChatPanel(server, "alice") as panel:
        bob.expect("alice joined")
        bob.say("안녕하세요, 앨리스!")
        assert panel.wait_for("안녕하세요") == "bob: 안녕하세요, 앨리스!"
        assert "안녕하세요, 앨리스!" in panel.messages.value, "the widget itself shows it"
        panel.say("반가워요 bob")
        bob.expect("alice: 반가워요 bob")
        panel.wait_for("alice: 반가워요")
        assert panel.members.value.count("</div>") == 3  # the list box and two people
        assert "alice (you)" in panel.members.value and "bob" in panel.members.value
        assert "In the room (2)" in panel.members.value
        assert "Connected to" in panel.status.value and "as alice" in panel.status.value
        assert panel.entry.value == "", "Enter empties the entry box"
    bob.expect("alice left")
    assert panel.state == "left" and "You left the room" in panel.status.value


def test_own_lines_are_highlighted_and_what_people_type_is_escaped(live, join):
    server = live()
    bob = join(server, "bob")
    with ChatPanel(server, "alice") as panel:
        bob.expect("alice joined")
        bob.say("<script>alert(1)</script>")
        panel.wait_for("<script>")
        panel.say("mine")
        panel.wait_for("alice: mine")
        html = panel.messages.value
        assert "<script>" not in html and "&lt;script&gt;" in html
        assert html.count("background:#e8f0fe") == 1, "only alice's own line is highlighted"


def test_without_a_nickname_the_panel_asks_and_shows_a_refusal(live, join):
    server = live()
    join(server, "bob")
    with ChatPanel(server) as panel:
        panel.wait_for("Choose a nickname")
        panel.say("bob")
        panel.wait_for("The nickname bob is taken")
        panel.say("앨리스")
        panel.wait_for("앨리스 joined")
        assert panel.session.nick == "앨리스"


def test_quit_at_the_nickname_question_hangs_up(live):
    server = live()
    panel = ChatPanel(server)
    panel.wait_for("Choose a nickname")
    panel.say("/quit")
    assert panel.state == "left" and "You left the room" in panel.status.value
    assert panel.entry.disabled
    panel.close()


def test_running_the_cell_again_replaces_the_panel(live, join):
    server = live()
    bob = join(server, "bob")
    first = ChatPanel(server, "alice")
    first.wait_for("alice joined")
    second = ChatPanel(server, "alice")  # would be refused ("taken") if the first were still there
    bob.expect("alice left")
    bob.expect("alice joined")
    second.wait_for("alice joined")
    assert first.state == "left" and second.session.nick == "alice"
    second.close()


def test_a_server_that_stops_disables_the_entry(live):
    server = live()
    panel = ChatPanel(server, "alice")
    panel.wait_for("alice joined")
    server.stop()
    panel.wait_for("Disconnected")
    assert panel.state == "closed" and panel.entry.disabled and panel.send_button.disabled
    assert "Disconnected from" in panel.status.value
    panel.close()


def test_the_leave_button_waits_for_a_click(live, join, monkeypatch):
    """Under Run All the room stays open until the student clicks; then the panel leaves and `then` runs."""
    monkeypatch.delenv("PYTEST_CURRENT_TEST")  # a student's kernel: somebody is there to click
    server = live()
    bob = join(server, "bob")
    panel = ChatPanel(server, "alice")
    bob.expect("alice joined")
    stopped = []
    button = LeaveButton(panel, then=lambda: stopped.append(1) or "stopped the room")
    bob.say("still open?")
    assert panel.wait_for("still open?") and panel.state == "chatting" and not stopped
    button.button.click()  # what the student's click does
    bob.expect("alice left")
    assert panel.state == "left" and stopped == [1] and button.button.disabled
    assert button.said.outputs[-1]["text"] == "stopped the room\n"


def test_the_leave_button_leaves_at_once_when_nobody_can_click(live, join, capsys):
    server = live()
    bob = join(server, "bob")
    panel = ChatPanel(server, "alice")
    bob.expect("alice joined")
    LeaveButton(panel, then=lambda: "stopped the room")
    bob.expect("alice left")
    assert capsys.readouterr().out == "stopped the room\n"


def test_lines_from_the_network_and_typing_at_once_all_arrive_in_order(live, join):
    """The network thread and the kernel thread both change the panel: nothing is lost or mixed up."""
    server = live()
    bob = join(server, "bob")
    with ChatPanel(server, "alice") as panel:
        bob.expect("alice joined")
        talker = threading.Thread(target=lambda: [bob.say(f"b{i}") for i in range(100)])
        talker.start()
        for i in range(100):
            panel.say(f"a{i}")
        talker.join()
        panel.wait_for("bob: b99")
        panel.wait_for("alice: a99")
        lines = panel.lines()
        assert [line for line in lines if line.startswith("bob: ")] == [f"bob: b{i}" for i in range(100)]
        assert [line for line in lines if line.startswith("alice: ")] == [f"alice: a{i}" for i in range(100)]
        assert panel.messages.value.count("b99") == 1


# --- a hostile server: the panel shows its lines harmlessly, cuts what is too long, notices the hang-up ---

def test_a_hostile_server_reaches_no_widget_raw(hostile):
    server = hostile([*ESCAPES, LONG_KOREAN, AFTER_LONG, END])
    with ChatPanel(server.address, "alice") as panel:
        panel.wait_for("end of the hostile lines")
        lines = panel.lines()
        for line in SHOWN:
            assert line in lines, f"{line!r} not shown; the panel shows {lines}"
        shown = "".join(lines) + panel.messages.value + panel.members.value
        assert not set(FORBIDDEN) & set(shown), f"raw characters in the panel: {set(FORBIDDEN) & set(shown)}"
        long_line = next(line for line in lines if "가가가" in line)
        assert 4000 < len(long_line) < 4200 and "cut" in long_line
        assert "bob: after the long line" in lines and panel.state == "chatting"


@pytest.mark.parametrize("last", ["10 MB without a newline", "half a line"])
def test_a_server_hanging_up_after_a_huge_or_half_line_is_noticed(hostile, last):
    panel = ChatPanel(hostile(play=hang_up_after(TEN_MB if last.startswith("10 MB") else HALF_LINE)).address, "alice")
    panel.wait_for("Disconnected")
    assert any(line.startswith("bob: xxxx" if last.startswith("10 MB") else "bob: half a li") for line in panel.lines())
    assert panel.state == "closed" and panel.entry.disabled and "Disconnected from" in panel.status.value
    panel.close()
