"""The tkinter client for real: `python -m chatkit gui` windows on a virtual screen (Xvfb), with nc.

Keys are pressed through xdotool; Hangul goes into the entry line through Tk's
`send` (xdotool cannot type it); the windows are read back the same way.
A screenshot of two windows chatting is saved in artifacts/.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from chatkit.gui import HANGUL_FAMILIES
from chatkit.tools.xvfb import VirtualDisplay, xvfb_available
from conftest import Running
from hostile import (AFTER_LONG, END, ESCAPES, FORBIDDEN, HALF_LINE, LONG_KOREAN, SHOWN, TEN_MB,
                     hang_up_after)

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
TIMEOUT = 10
SCREEN = (1120, 460)
LEFT, RIGHT = "560x460+0+0", "560x460+560+0"

needs_screen = pytest.mark.skipif(not (xvfb_available() and shutil.which("xdotool")),
                                  reason="needs Xvfb and xdotool (Debian: apt install xvfb xdotool)")
needs_nc = pytest.mark.skipif(shutil.which("nc") is None, reason="nc is not installed (Debian: netcat-openbsd)")


@pytest.fixture(scope="module")
def screen():
    with VirtualDisplay(*SCREEN) as screen:
        screen.tk(None, "winfo", "interps")  # start the Tk relay now: it lives as long as the screen
        yield screen


@pytest.fixture
def gui(screen):
    """gui(server, nick=None, geometry=LEFT) -> GuiWindow; every window is closed after the test."""
    opened = []

    def open_window(server, nick=None, geometry=LEFT):
        opened.append(screen.open_gui(server.port, nick, geometry))
        return opened[-1]

    yield open_window
    for window in opened:
        window.stop()
        screen.windows.remove(window)


class Nc:
    """An `nc 127.0.0.1 PORT` session: the protocol's simplest client."""

    def __init__(self, server, nick):
        self.nick = nick
        self.process = Running("nc", "127.0.0.1", str(server.port))
        self.expect("Enter your nickname:")
        self.say(nick)
        self.expect(f"* {nick} joined.")

    def say(self, text):
        self.process.type(text)

    def expect(self, text, timeout=TIMEOUT):
        """Wait for the next line containing `text`; return it."""
        return self.process.expect(text, timeout)

    def close(self):
        if self.process.process.poll() is None:
            self.process.process.kill()
        self.process.finish()


@pytest.fixture
def nc():
    sessions = []

    def connect(server, nick):
        sessions.append(Nc(server, nick))
        return sessions[-1]

    yield connect
    for session in sessions:
        session.close()


def check_screenshot(image, windows):
    """The right size, and each window really drawn: white message area, dark text, many colours."""
    assert image.size == SCREEN
    for left in windows:
        window = image.crop((left, 0, left + 560, SCREEN[1])).convert("RGB")
        colours = window.getcolors(maxcolors=1 << 16) or []
        assert len(colours) > 50, f"the window at x={left} has only {len(colours)} colours: blank?"
        dark = sum(count for count, (r, g, b) in colours if r + g + b < 250)
        white = sum(count for count, rgb in colours if rgb == (255, 255, 255))
        assert dark > 300, f"the window at x={left} shows almost no text ({dark} dark pixels)"
        assert white > 560 * 460 // 4, f"the window at x={left} has no white message area"


@needs_screen
@needs_nc
def test_two_windows_and_nc_chat_in_korean_and_closing_announces_the_leave(live, gui, nc, screen):
    server = live()
    carol = nc(server, "carol")
    alice = gui(server, "alice", LEFT)
    carol.expect("* alice joined. 2 people in the room.")

    bob = gui(server, None, RIGHT)  # no --nick: the window asks
    bob.wait_for_text("Choose a nickname")
    assert bob.tk(".entrybar.label", "cget", "-text") == "Nickname"
    bob.type_keys("carol")
    bob.press("Return")
    bob.wait_for_text("The nickname carol is taken.")
    bob.type_keys("bob")
    bob.press("Return")
    carol.expect("* bob joined. 3 people in the room.")
    bob.wait_until(lambda: bob.tk(".entrybar.label", "cget", "-text") == "Message", "the entry to be for messages")

    alice.type_keys("hello from alice")
    alice.press("Return")
    assert carol.expect("alice: ") == "alice: hello from alice"
    bob.wait_for_text("alice  hello from alice")

    bob.type_text("안녕하세요, 반갑습니다!")
    bob.press("Return")
    assert carol.expect("bob: ") == "bob: 안녕하세요, 반갑습니다!"
    alice.wait_for_text("bob  안녕하세요, 반갑습니다!")

    carol.say("저는 nc에서 보내요. A longer line too, long enough to wrap in a window of this size.")
    for window in (alice, bob):
        window.wait_for_text("carol  저는 nc에서 보내요.")
    alice.wait_until(lambda: alice.members() == ["carol", "alice (you)", "bob"], "the member list")
    bob.wait_until(lambda: bob.members() == ["carol", "alice", "bob (you)"], "the member list")
    assert alice.tk(".sidebar.title", "cget", "-text") == "In the room (3)"
    assert alice.status() == f"● Connected to 127.0.0.1:{server.port} as alice"
    assert bob.tk("wm", "title", ".") == "chatkit — bob"
    start, end = alice.tk(".conversation.messages", "tag", "ranges", "mine").split()[-2:]
    assert "alice  hello from alice" in alice.tk(".conversation.messages", "get", start, end), "own line highlighted"
    font = alice.tk(".conversation.messages", "cget", "-font")
    if set(screen.tk(None, "font", "families", is_list=True)) & set(HANGUL_FAMILIES):  # fonts-nanum in CI
        assert alice.tk("font", "actual", font, "-family") in HANGUL_FAMILIES, "Korean needs a font with Hangul"

    check_screenshot(screen.screenshot(ARTIFACTS / "gui-two-windows.png"), windows=(0, 560))

    bob.click_close()
    assert bob.wait_exit() == (0, "")
    carol.expect("* bob left. 2 people in the room.")
    alice.wait_for_text("bob left. 2 people in the room.")
    alice.wait_until(lambda: alice.members() == ["carol", "alice (you)"], "bob to leave the member list")
    screen.screenshot(ARTIFACTS / "gui-after-bob-left.png")

    alice.type_keys("/quit")
    alice.press("Return")
    assert alice.wait_exit() == (0, "")
    carol.expect("* alice left. 1 person in the room.")


@needs_screen
@needs_nc
def test_a_stopped_server_keeps_the_conversation_readable(live, gui, nc, screen):
    server = live()
    carol = nc(server, "carol")
    alice = gui(server, "alice")
    carol.expect("* alice joined.")
    alice.type_text("x" * 5000)
    alice.press("Return")
    alice.wait_for_text("Too long to send: 5000 characters, at most 4096.")
    carol.say("still here?")
    alice.wait_for_text("carol  still here?")  # the long line was not sent: still connected

    server.stop()
    alice.wait_for_text("The server is shutting down. Bye!")
    alice.wait_for_text("Disconnected: the server closed the connection.")
    assert alice.status() == f"● Disconnected from 127.0.0.1:{server.port}"
    assert alice.tk(".entrybar.entry", "instate", "disabled") == "1"
    assert alice.members() == []
    screen.screenshot(ARTIFACTS / "gui-server-stopped.png")
    alice.click_close()
    assert alice.wait_exit() == (0, "")


@needs_screen
@needs_nc
def test_ctrl_c_in_the_terminal_leaves_the_room(live, gui, nc):
    server = live()
    carol = nc(server, "carol")
    alice = gui(server, "alice")
    carol.expect("* alice joined.")
    alice.process.send_signal(signal.SIGINT)
    carol.expect("* alice left. 1 person in the room.")
    assert alice.wait_exit() == (0, "")


@needs_screen
def test_quit_at_the_nickname_question_closes_the_window(live, gui):
    window = gui(live())
    window.wait_for_text("Choose a nickname")
    window.type_keys("/quit")
    window.press("Return")
    assert window.wait_exit() == (0, "")


def run_gui(*arguments, env):
    return subprocess.run([sys.executable, "-m", "chatkit", "gui", *arguments], capture_output=True, text=True,
                          env=env, timeout=60)


def test_without_a_display_the_report_error_is_explained():
    env = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY")}
    result = run_gui("--port", "9", "--nick", "alice", env=env)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "Cannot open a window: no display name and no $DISPLAY environment variable"
    assert lines[1].startswith("Fix first: ") and lines[2] == "For the whole diagnosis: python -m chatkit doctor"
    assert "Traceback" not in result.stderr


def test_a_python_without_tkinter_is_explained():
    """pyenv and minimal images may build Python without Tk: say so, and how to get it."""
    without_tk = ("import sys; sys.modules['_tkinter'] = sys.modules['tkinter'] = None; "
                  "from chatkit.__main__ import main; sys.exit(main(['gui', '--port', '9']))")
    result = subprocess.run([sys.executable, "-c", without_tk], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "Cannot open a window: this Python has no tkinter"
    assert lines[1].startswith("Fix first: ") and "Traceback" not in result.stderr


@needs_screen
def test_a_server_not_running_is_explained(screen):
    with socket.socket() as bound:  # bound but not listening: connections to it are refused
        bound.bind(("127.0.0.1", 0))
        result = run_gui("--port", str(bound.getsockname()[1]), env=screen.env())
    assert result.returncode == 1
    assert "Cannot connect to 127.0.0.1:" in result.stderr and "python -m chatkit serve" in result.stderr
    assert "Traceback" not in result.stderr


@needs_screen
def test_a_bad_geometry_is_explained(live, screen):
    result = run_gui("--port", str(live().port), "--geometry", "big", env=screen.env())
    assert result.returncode == 2 and "--geometry big: expected WIDTHxHEIGHT" in result.stderr


# --- a hostile server: whatever it sends, the window shows it harmlessly, and notices the hang-up ---

def shown_in_window(line):
    """'bob: hi' as the message list shows it: 'bob  hi' (an emoji no font draws is named)."""
    sender, text = line.split(": ", 1)
    return f"{sender}  {text}"


@needs_screen
def test_a_hostile_server_cannot_reach_the_widgets_and_long_lines_are_cut(hostile, gui, screen):
    server = hostile([LONG_KOREAN, AFTER_LONG, *ESCAPES, END])
    window = gui(server, "alice")
    text = window.wait_for_text("bob  end of the hostile lines")
    for line in SHOWN[:-1]:
        assert shown_in_window(line) in text, f"{line!r} not in the message list:\n{text}"
    emoji_font = shutil.which("fc-list") and subprocess.run(["fc-list", ":charset=1f44d", "family"], text=True,
                                                             capture_output=True).stdout.strip()
    # 👍 with no emoji font would be an empty box: the window names it instead
    assert f"bob  한국어는 그대로 {'👍' if emoji_font else ':thumbs up sign:'}" in text
    assert not set(FORBIDDEN) & set(text), f"raw characters in the window: {set(FORBIDDEN) & set(text)}"
    long_line = next(line for line in text.splitlines() if "가가가" in line)
    assert 4000 < len(long_line) < 4200 and "cut" in long_line, long_line[-80:]
    assert "bob  after the long line" in text, "the window read on after the long line"
    assert window.status() == f"● Connected to 127.0.0.1:{server.port} as alice"
    window.tk(".conversation.messages", "see", "end")
    screen.screenshot(ARTIFACTS / "gui-hostile-server.png")
    window.type_keys("/quit")
    window.press("Return")
    assert window.wait_exit() == (0, "")


@needs_screen
@pytest.mark.parametrize("last", ["10 MB without a newline", "half a line"])
def test_a_server_hanging_up_after_a_huge_or_half_line_is_noticed(hostile, gui, last):
    window = gui(hostile(play=hang_up_after(TEN_MB if last.startswith("10 MB") else HALF_LINE)), "alice")
    text = window.wait_for_text("Disconnected: the server closed the connection.")
    assert ("bob  xxxxxxxx" if last.startswith("10 MB") else "bob  half a li") in text
    assert window.status().startswith("● Disconnected from")
    assert window.tk(".entrybar.entry", "instate", "disabled") == "1"
    window.click_close()
    assert window.wait_exit() == (0, "")


@needs_screen
def test_joining_a_room_of_250_whose_who_answer_is_too_long(hostile, gui):
    """The window asks /who on joining: a 250-name answer (more than a line may hold) must not stop it."""
    names = [f"classmate_number_{number:03}" for number in range(249)]  # 20 characters each

    def play(peer):
        nick = peer.welcome(count=250)
        assert peer.read_line() == "/who"
        peer.send(f"* In the room (250): {', '.join([*names, nick])}")
        peer.send("student007: welcome!")
        while peer.read_line() not in ("", "/quit"):
            pass

    window = gui(hostile(play=play), "alice")
    window.wait_for_text("student007  welcome!")
    members = window.wait_until(lambda: len(window.members()) > 150 and window.members(), "the member list")
    assert members[:2] == ["classmate_number_000", "classmate_number_001"] and members[-1] == "alice (you)"
    assert set(members[:-1]) <= set(names), "no name cut in half"
    assert window.tk(".sidebar.title", "cget", "-text") == "In the room (250)"
    assert "In the room (250)" not in window.messages(), "the /who it asked itself is not shown"
    assert window.status().startswith("● Connected to") and window.status().endswith("as alice")
    window.click_close()
    assert window.wait_exit() == (0, "")


@needs_screen
def test_joining_a_reference_server_room_of_200(live, gui):
    """The reference server's own /who for 200 people is one line longer than 4,096 characters."""
    server = live()
    crowd = []
    try:
        for number in range(200):
            sock = socket.create_connection(server.address, timeout=TIMEOUT)
            sock.sendall(f"a_long_nickname_{number:03}\n".encode())  # /who: 200 x 21 characters
            crowd.append(sock)
        window = gui(server, "alice")
        window.wait_until(lambda: len(window.members()) > 150, "the member list", timeout=20)
        assert window.tk(".sidebar.title", "cget", "-text") == "In the room (201)"
        assert window.status().endswith("as alice")
        window.click_close()
        assert window.wait_exit() == (0, "")
    finally:
        for sock in crowd:
            sock.close()
