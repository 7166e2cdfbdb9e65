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

    def read_until(text, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while text.encode() not in screen:
            left = deadline - time.monotonic()
            assert left > 0, f"terminal never showed {text!r}: {bytes(screen)[-300:]!r}"
            if select.select([terminal], [], [], left)[0]:
                screen.extend(os.read(terminal, 4096))

    try:
        read_until("alice joined")
        bob.expect("alice joined")
        os.write(terminal, "반가".encode())  # half a message, no Enter yet
        read_until("반가")
        mark = len(screen)
        bob.say("끼어들기")  # arrives while alice is typing
        read_until("bob: 끼어들기")
        read_until("> 반가")  # ...after which her unfinished line is drawn again
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
