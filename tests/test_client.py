"""The command line: `python -m chatkit serve` and `join`, with nc and a real terminal (pty)."""

import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import time

import pytest

from hostile import AFTER_LONG, END, ESCAPES, HALF_LINE, LONG_KOREAN, SHOWN, TEN_MB, hang_up_after

TIMEOUT = 10


def serve(run, *options):
    """Start `python -m chatkit serve`; return (process, port) from its first line."""
    server = run(sys.executable, "-m", "chatkit", "serve", *options, env={"XDG_CACHE_HOME": os.devnull + "/none"})
    first = server.expect("listening on")
    assert re.fullmatch(r"listening on 127\.0\.0\.1:\d+", first), first
    assert server.seen == [first], "the address must be the first line"
    return server, int(first.rsplit(":", 1)[1])


@pytest.mark.parametrize("stage", ["1", "2", "3", "4", "5"])
def test_serve_prints_its_address_first_for_every_stage(run, stage):
    server, port = serve(run, "--stage", stage)
    assert port > 0
    server.process.send_signal(signal.SIGINT)
    status, stderr = server.finish()
    assert status == 0 and "Traceback" not in stderr


@pytest.mark.skipif(shutil.which("nc") is None, reason="nc is not installed (Debian: netcat-openbsd)")
def test_two_nc_sessions_chat_and_ctrl_c_says_goodbye(run):
    server, port = serve(run)
    alice = run("nc", "127.0.0.1", str(port))
    alice.expect("Enter your nickname:")
    alice.type("alice")
    alice.expect("alice joined")
    bob = run("nc", "127.0.0.1", str(port))
    bob.expect("Enter your nickname:")
    bob.type("bob")
    alice.expect("bob joined. 2 people")
    bob.type("안녕하세요, alice!")
    assert alice.expect("bob:") == "bob: 안녕하세요, alice!"
    server.expect("bob joined")
    server.process.send_signal(signal.SIGINT)  # Ctrl+C
    for client in (alice, bob):
        client.expect("The server is shutting down")
    status, stderr = server.finish()
    assert status == 0, stderr
    assert "Traceback" not in stderr
    assert server.expect("Server stopped.")


def test_serve_explains_a_port_in_use(run):
    _, port = serve(run)
    second = run(sys.executable, "-m", "chatkit", "serve", "--port", str(port))
    status, stderr = second.finish()
    assert status == 1
    assert f"Cannot listen on 127.0.0.1:{port}" in stderr and "Traceback" not in stderr


def test_join_chats_and_quits(live, join, run):
    server = live()
    bob = join(server, "bob")
    alice = run(sys.executable, "-m", "chatkit", "join", "--port", str(server.port), "--nick", "alice")
    alice.expect("alice joined")
    bob.say("어서 와요")
    assert alice.expect("bob:") == "bob: 어서 와요"
    alice.type("고마워요")
    assert bob.expect("alice:") == "alice: 고마워요"
    alice.type("/quit")
    alice.expect("Bye, alice")
    status, stderr = alice.finish()
    assert status == 0 and "Traceback" not in stderr
    bob.expect("alice left. 1 person")


def test_join_asks_for_the_nickname_when_none_is_given(live, join, run):
    server = live()
    join(server, "alice")
    newcomer = run(sys.executable, "-m", "chatkit", "join", "--port", str(server.port))
    newcomer.expect("Enter your nickname:")
    newcomer.type("alice")
    newcomer.expect("taken")
    newcomer.type("민수")
    newcomer.expect("민수 joined")
    newcomer.process.stdin.close()  # Ctrl+D leaves like /quit
    status, _ = newcomer.finish()
    assert status == 0


def test_join_leaves_when_the_server_stops(live, run):
    server = live()
    alice = run(sys.executable, "-m", "chatkit", "join", "--port", str(server.port), "--nick", "alice")
    alice.expect("alice joined")
    server.stop()
    alice.expect("shutting down")
    alice.expect("Disconnected by the server")
    status, stderr = alice.finish()
    assert status == 0 and "Traceback" not in stderr


def test_join_explains_when_nobody_listens(run):
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago, now closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = run(sys.executable, "-m", "chatkit", "join", "--port", str(port), "--nick", "x")
    status, stderr = client.finish()
    assert status == 1
    assert "Cannot connect" in stderr and "python -m chatkit serve" in stderr and "Traceback" not in stderr


def test_incoming_lines_do_not_garble_what_the_user_is_typing(live, join):
    """In a real terminal, a message arriving mid-typing is printed above the input line."""
    server = live()
    bob = join(server, "bob")
    terminal, child_side = pty.openpty()
    client = subprocess.Popen(
        [sys.executable, "-m", "chatkit", "join", "--port", str(server.port), "--nick", "alice"],
        stdin=child_side, stdout=child_side, stderr=child_side, start_new_session=True,
    )
    os.close(child_side)
    screen = bytearray()

    def read_until(text, after=0, timeout=TIMEOUT):
        """Wait until the terminal shows `text` past byte `after` of the screen; where it ends."""
        deadline = time.monotonic() + timeout
        while (found := screen.find(text.encode(), after)) < 0:
            left = deadline - time.monotonic()
            assert left > 0, f"terminal never showed {text!r}: {bytes(screen)[-300:]!r}"
            if select.select([terminal], [], [], left)[0]:
                screen.extend(os.read(terminal, 4096))
        return found + len(text.encode())

    try:
        read_until("alice joined")
        bob.expect("alice joined")
        os.write(terminal, "반가".encode())  # half a message, no Enter yet
        read_until("반가")
        mark = len(screen)
        bob.say("끼어들기")  # arrives while alice is typing
        heard = read_until("bob: 끼어들기", after=mark)
        read_until("> 반가", after=heard)  # ...after which her unfinished line is drawn again
        redraw = bytes(screen[mark:]).decode(errors="replace")
        assert redraw.index("bob: 끼어들기") < redraw.rindex("> 반가"), redraw
        os.write(terminal, "워요\r".encode())
        assert bob.expect("alice:") == "alice: 반가워요"  # what she typed arrived whole
        os.write(terminal, b"/quit\r")
        read_until("Bye, alice")
        assert client.wait(TIMEOUT) == 0
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
        os.close(terminal)


# --- a hostile server: whatever it sends, the terminal client shows it harmlessly and goes on ---

def join_hostile(run, server):
    return run(sys.executable, "-m", "chatkit", "join", "--port", str(server.port), "--nick", "alice")


def assert_ended_cleanly(client):
    client.expect("Disconnected by the server")
    status, stderr = client.finish()
    assert status == 0 and "Traceback" not in stderr, stderr


def test_a_line_too_long_is_shown_cut_and_the_client_reads_on(hostile, run):
    """A 5,000-character line (the reference server relays 4,096 plus the sender's name, /who is longer)."""
    client = join_hostile(run, hostile([LONG_KOREAN, AFTER_LONG]))
    line = client.expect("bob: 가가")
    kept = line.removeprefix("bob: ")
    assert 4000 < len(line) < 4200 and "cut" in line, f"{len(line)} characters: {line[-60:]!r}"
    assert set(kept[:4000]) == {"가"}, "cut at a character boundary: no broken Korean"
    client.expect("bob: after the long line")
    client.type("/quit")
    client.expect("Bye, alice")
    status, stderr = client.finish()
    assert status == 0 and "Traceback" not in stderr, stderr


def test_ten_megabytes_without_a_newline_then_a_hang_up(hostile, run):
    client = join_hostile(run, hostile(play=hang_up_after(TEN_MB)))
    line = client.expect("bob: xxx")
    assert len(line) < 4200 and "cut" in line
    assert_ended_cleanly(client)


def test_a_hang_up_in_the_middle_of_a_line_is_noticed(hostile, run):
    client = join_hostile(run, hostile(play=hang_up_after(HALF_LINE)))
    assert "bob: half a li" in client.expect("half a li"), "what arrived of the line is shown"
    assert_ended_cleanly(client)


class Tmux:
    """A terminal (tmux on a socket of its own) that lets programs set its title and clipboard."""

    def __init__(self, tmp_path, command):
        self.socket = f"chatkit-test-{os.getpid()}-{id(self)}"
        self.raw = tmp_path / "pane.raw"  # every byte the program wrote to its terminal
        config = tmp_path / "tmux.conf"
        config.write_text("set -g set-clipboard on\nset -g allow-rename on\nset -g remain-on-exit on\n")
        self.tmux("-f", str(config), "new-session", "-d", "-x", "160", "-y", "50", command)
        self.tmux("pipe-pane", "-o", f"cat >> {self.raw}")

    def tmux(self, *arguments):
        return subprocess.run(["tmux", "-L", self.socket, *arguments], capture_output=True, text=True,
                              timeout=TIMEOUT, check=True).stdout

    def screen(self):
        return self.tmux("capture-pane", "-p", "-J")

    def wait_for(self, text, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while text not in (screen := self.screen()):
            assert time.monotonic() < deadline, f"the terminal never showed {text!r}:\n{screen}"
            time.sleep(0.05)
        return screen

    def close(self):
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=TIMEOUT)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (Debian: apt install tmux)")
def test_escape_sequences_from_a_server_never_reach_the_terminal(hostile, tmp_path):
    """In a real terminal (tmux): no new window title, nothing in the clipboard, no colours, no cleared screen."""
    server = hostile([*ESCAPES, END])
    tmux = Tmux(tmp_path, f"{sys.executable} -m chatkit join --port {server.port} --nick alice")
    try:
        screen = tmux.wait_for("end of the hostile lines")
        for line in SHOWN:
            assert line in screen, f"{line!r} is not on the screen:\n{screen}"
        assert "Connected to 127.0.0.1:" in screen, "ESC[2J cleared the screen"
        assert "PWNED" not in tmux.tmux("display", "-p", "#{pane_title} #{window_name}")
        assert tmux.tmux("list-buffers") == "", "OSC 52 wrote to the clipboard"
        coloured = tmux.tmux("capture-pane", "-p", "-e")
        assert "\x1b[31" not in coloured and "\x1b[5m" not in coloured and "\x1b[1m" not in coloured
        raw = tmux.raw.read_bytes().decode(errors="replace")
        for sequence in ("\x1b]", "\x1b[2J", "\x1b[H", "\x1b[31", "\x07", "\x00", "\x08", "\x9b", "\x9d",
                         "\u202e", "\u2066", "\u200b", "\ufeff", "\u2028", "\u3164", "CRmallory\r"):
            assert sequence not in raw, f"{sequence!r} reached the terminal"
        tmux.tmux("send-keys", "/quit", "Enter")
        tmux.wait_for("Bye, alice")
    finally:
        tmux.close()
