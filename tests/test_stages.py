"""Each staged server does what its stage teaches (real sockets on 127.0.0.1, port 0)."""

import errno

import pytest

from chatkit import stages
from chatkit.stages.stage1_listen import RunServer as Stage1Server
from chatkit.stages.stage1_listen import bind_without_reuse

SILENCE = 0.5  # seconds a client must hear nothing, where hearing nothing is the point


def test_stage_index_comes_from_file_names():
    assert [1, 2, 3, 4, 5] == sorted(stages.STAGES)[:5]
    assert stages.load(5).__name__ == "chatkit.stages.stage5_report"
    with pytest.raises(ValueError, match="there is no stage 99"):
        stages.load(99)


@pytest.mark.parametrize("stage", sorted(stages.STAGES))
def test_every_stage_stops_promptly_without_clients(live, stage):
    # close() from another thread does not wake accept(): each stage must poll a stop flag.
    server = live(stage=stage)
    server.stop(timeout=2)


def test_stage1_listens_but_accepts_nobody(live, join):
    server = live(stage=1)
    client = join(server)  # the OS completes the handshake from the backlog
    client.say("hello?")
    client.expect_silence(SILENCE)


def test_stage1_so_reuseaddr_allows_a_restart_that_a_plain_bind_refuses(live, join):
    server = live(stage=2)
    port = server.port
    client = join(server)
    client.expect("Welcome")
    server.server.stop()  # the server hangs up first, so its side lingers in TIME_WAIT
    assert client.wait_closed()
    client.close(quit=False)
    server.stop()
    error = bind_without_reuse(port)
    assert error is not None and error.errno == errno.EADDRINUSE
    restarted = Stage1Server(port=port)
    restarted.server_open()  # with SO_REUSEADDR the same port binds again
    assert restarted.port == port
    restarted.stop()


def test_stage2_serves_a_second_client_only_after_the_first_leaves(live, join):
    server = live(stage=2)
    first = join(server, "first")
    first.expect("Welcome")
    second = join(server, "second")
    second.expect_silence(SILENCE)  # connected, queued in the backlog, not served
    first.say("hi")
    assert first.expect("echo:") == "echo: hi"
    first.close(quit=False)
    second.expect("Welcome")
    second.say("now me")
    assert second.expect("echo:") == "echo: now me"


def test_stage3_serves_two_clients_at_once(live, join):
    server = live(stage=3)
    first, second = join(server, "first"), join(server, "second")
    first.expect("Welcome")
    second.expect("Welcome")
    second.say("two")
    first.say("one")
    assert second.expect("echo:") == "echo: two"
    assert first.expect("echo:") == "echo: one"


def test_stage3_a_silent_client_blocks_nobody(live, join):
    server = live(stage=3)
    join(server, "silent").expect("Welcome")
    talker = join(server, "talker")
    talker.expect("Welcome")
    talker.say("hello")
    talker.expect("echo: hello")


def test_stage4_broadcasts_to_everyone(live, join):
    server = live(stage=4)
    clients = []
    for name in ("a", "b", "c"):
        clients.append(join(server, name))
        clients[-1].expect("joined")  # in the room now: it will hear what is said next
    port = clients[0].sock.getsockname()[1]
    clients[0].say("안녕하세요")
    for client in clients:
        assert client.expect("안녕") == f"guest-{port}: 안녕하세요"


def test_stage4_a_member_who_leaves_is_removed(live, join):
    server = live(stage=4)
    leaver = join(server, "leaver")
    leaver.expect("joined")
    stayer = join(server, "stayer")
    stayer.expect("joined")
    port = leaver.sock.getsockname()[1]
    leaver_thread = next(t for t in server.server.threads if t.name == f"client-guest-{port}")
    leaver.close(quit=False)
    leaver_thread.join(5)  # its thread ends once it has taken itself out of the room
    stayer_port = stayer.sock.getsockname()[1]
    assert [member.nick for member in server.server.room.members] == [f"guest-{stayer_port}"]
    stayer.say("still here")
    stayer.expect("still here")


def test_stage5_is_the_report_server(live, join):
    server = live(stage=5)
    alice = join(server, "alice")  # answers "Enter your nickname:"
    bob = join(server, "bob")
    assert alice.expect("bob joined") == "* bob joined. 2 people in the room."
    alice.expect("Rules")  # everyone hears the rules on every join
    bob.expect("Rules")
    alice.say("안녕, bob")
    assert bob.expect("안녕") == "alice: 안녕, bob"
    bob.close()  # says /quit
    assert alice.expect("left") == "* bob left. 1 person in the room."
    assert "Chat server started." in [text for _, text in server.log_lines]
