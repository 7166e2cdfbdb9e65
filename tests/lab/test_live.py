"""The live-lab harness and its views: what the notebooks rely on, tested without a notebook."""

import json
import socket
import sys
import textwrap
import time

import pytest

from chatkit import lab
from chatkit.lab import demos, tables, views
from chatkit.lab.diagram import SequenceDiagram
from chatkit.lab import LiveClient, LiveServer
from chatkit.tools.nbstrip import pre_save_hook, problems, strip


@pytest.fixture
def noisy_module(tmp_path):
    """A student's server that prints from its client threads, and crashes on "boom"."""
    path = tmp_path / "noisy_server.py"
    path.write_text(textwrap.dedent('''
        import socket

        from chatkit.stages import stage3_threads

        class RunServer(stage3_threads.RunServer):
            def serve_client(self, conn):
                print("serving a client")
                if conn.recv(1024, socket.MSG_PEEK).startswith(b"boom"):
                    conn.close()
                    raise RuntimeError("the student's bug")
                super().serve_client(conn)
    '''))
    yield path
    sys.modules.pop("noisy_server", None)


def test_transcript_pairs_what_was_said_with_who_heard_it(live, join):
    server = live()
    alice, minji = join(server, "alice"), join(server, "민지")
    alice.say("안녕하세요")
    minji.expect("안녕하세요")
    alice.expect("안녕하세요")
    table = server.transcript()
    said = [line for line in table.lines if line.said == "안녕하세요"]
    assert len(said) == 1 and said[0].sender == "alice" and said[0].heard == "alice: 안녕하세요"
    assert sorted(who for who, _ in said[0].heard_by) == ["alice", "민지"]
    nicknames = [line for line in table.lines if line.note == "nickname"]
    assert [line.said for line in nicknames] == ["alice", "민지"]
    # Each newcomer's "Enter your nickname:" is its own line, though the texts are equal.
    prompts = [line for line in table.lines if line.heard == "Enter your nickname:"]
    assert [[who for who, _ in line.heard_by] for line in prompts] == [["alice"], ["민지"]]
    assert "alice: 안녕하세요" in str(table) and "alice: 안녕하세요" in table._repr_html_()


def test_transcript_shows_what_nobody_heard_and_lines_sent_together(live, join):
    server = live(stage=5)
    alice, bob = join(server, "alice"), join(server, "bob")
    alice.send_bytes("one\ntwo\n".encode())
    bob.expect("two")
    lines = server.transcript().lines
    one, two = [line for line in lines if line.said in ("one", "two")]
    assert (one.heard, two.heard) == ("alice: one", "two")  # stage 5 names only the first
    assert two.note == "line 2 of 2 sent at once"

    quiet = live(stage=1)
    visitor = join(quiet, "visitor")
    visitor.say("hello?")
    visitor.expect_silence(0.2)
    [line] = quiet.transcript().lines
    assert line.heard is None and "nobody" in str(quiet.transcript())


def test_text_tables_align_korean_by_display_width():
    table = tables.Table(["who", "said"], [["민지", "x"], ["alice", "y"]])
    header, rule, minji, alice = str(table).splitlines()
    starts = [tables.width(row[:row.rindex(cell)]) for row, cell in
              [(header, "said"), (rule, "----"), (minji, "x"), (alice, "y")]]
    assert starts == [7, 7, 7, 7]  # 민지 is four columns wide in a terminal, not two


def test_visible_spells_out_control_characters_and_cuts_long_lines():
    assert tables.visible("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert tables.visible("가" * 200, limit=10).endswith("(200 characters)")


def test_sequence_diagram_draws_a_lane_per_client_and_a_head_per_listener(live, join):
    server = live()
    clients = [join(server, nick) for nick in ("a", "b", "c")]
    clients[0].say("hello")
    for client in clients:
        client.expect("a: hello")
    diagram = server.diagram()
    assert diagram.lanes == ["a", "b", "server", "c"]  # the server in the middle
    svg = diagram._repr_svg_()
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert all(f">{name}</text>" in svg for name in ("a", "b", "c", "server"))
    [line] = [line for line in server.transcript().lines if line.said == "hello"]
    alone = SequenceDiagram(["a", "b", "c"], [line])
    assert alone.svg.count("<polygon") == 1 + 3  # one arrowhead at the server, one per listener


def test_thread_view_tells_neighbouring_stages_apart(live, join):
    stage3, stage2 = live(stage=3), live(stage=2)  # stage 3 runs stage 2's serve_client
    for server in (stage3, stage2):
        for nick in ("first", "second"):
            join(server, nick)
        server.clients[0].expect("Welcome")
    stage3.clients[1].expect("Welcome")
    demos.wait_until(lambda: len(views.server_threads(stage3)) == 3, 5, "stage 3's two client threads")
    roles = [role for _, role, _, _ in views.server_threads(stage3)]
    assert sorted(roles) == ["accept loop (runs server.run())", "serves one client", "serves one client"]
    # Stage 2's only thread serves its first client: once the greeting is sent, it waits in recv().
    demos.wait_until(lambda: views.thread_waits(stage2) == {stage2.thread.name: "recv(): its client to send something"},
                     5, "stage 2's thread waiting for its first client")
    [(thread, _, _, where)] = views.server_threads(stage2)
    assert thread is stage2.thread and "serve_client" in where
    assert "2 thread(s) serving clients" in str(stage3.threads())


def test_background_prints_and_crashes_go_to_the_server_log(live, join, noisy_module, capsys):
    server = live(module=noisy_module, asks_nickname=False)
    quiet = join(server, "quiet")
    quiet.say("hello")
    quiet.expect("echo: hello")
    crasher = join(server, "crasher")
    crasher.say("boom")
    demos.wait_until(lambda: any("crashed" in text for _, text in server.log_lines), 5, "the crash being logged")
    out, err = capsys.readouterr()
    assert "serving a client" not in out and "the student's bug" not in err
    logged = "\n".join(text for _, text in server.log_lines)
    assert logged.count("serving a client") == 2 and "RuntimeError: the student's bug" in logged
    print("the test's own print")  # the main thread's prints are left alone
    assert "the test's own print" in capsys.readouterr().out


def test_a_server_file_is_loaded_afresh_each_time(live, join, tmp_path):
    path = tmp_path / "my_server.py"
    for greeting in ("first version", "second version"):
        path.write_text(textwrap.dedent(f'''
            from chatkit.stages import stage2_accept

            class RunServer(stage2_accept.RunServer):
                greeting = "{greeting}"
        '''))
        server = live(module=str(path), asks_nickname=False)
        assert server.name == "my_server"
        join(server).expect(greeting)  # the edited file runs, without restarting anything
    sys.modules.pop("my_server", None)
    with pytest.raises(FileNotFoundError, match="try '../exercises/missing.py'"):
        live(module="missing.py")


def test_a_stuck_server_does_not_stop_its_cell_from_running_again(tmp_path, monkeypatch):
    path = tmp_path / "stuck_server.py"
    path.write_text(textwrap.dedent('''
        import socket

        class RunServer:
            """A student's server whose stop() does not wake its accept()."""
            def __init__(self, host, port):
                self.host, self.port = host, port
            def log(self, message):
                pass
            def server_open(self):
                self.listener = socket.create_server((self.host, self.port))
                self.host, self.port = self.listener.getsockname()
            def run(self):
                conn, _ = self.listener.accept()
                conn.close()
            def stop(self):
                self.listener.close()
    '''))
    monkeypatch.setattr(lab.live, "DEFAULT_TIMEOUT", 0.3)
    servers = [LiveServer(module=str(path), asks_nickname=False)]
    try:
        demos.wait_until(lambda: demos.blocked_in(servers[0].thread, "accept", "accept"), 5, "the server waiting in accept()")
        servers.append(LiveServer(module=str(path), asks_nickname=False))  # the same cell, run again
        assert "did not stop" in servers[1].log_lines[0][1] and servers[1].running
    finally:
        for server in servers:  # free the threads: the kernel still listens for the accept() in progress
            socket.create_connection(server.address).close()
            server.thread.join(5)
            server.stop()
        sys.modules.pop("stuck_server", None)


def test_a_paused_client_stops_reading_and_resumes(live, join):
    server = live()
    alice, sleeper = join(server, "alice"), join(server, "sleeper")
    sleeper.pause()
    alice.say("hello")
    alice.expect("hello")
    assert not sleeper.hears("alice: hello", within=0.3)
    sleeper.resume()
    assert sleeper.expect("alice: hello")


def test_clients_of_a_stopped_server_say_what_to_do(live, join):
    server = live(stage=5)
    alice = join(server, "alice")
    server.stop()
    with pytest.raises(lab.ClientClosed, match="run the cells that start the server"):  # an OSError, like a closed socket's
        alice.say("hello?")
    with pytest.raises(RuntimeError, match="run the cell that starts it again"):
        LiveClient(server, "bob")


def test_stop_all_stops_every_server_and_client():
    servers = [LiveServer(stage=4), LiveServer(name="reference")]
    LiveClient(servers[0], "a")
    LiveClient(servers[1], "b")
    assert lab.stop_all() == "stopped 2 server(s) (stage 4, reference) and 2 client(s)"
    assert not any(server.running for server in servers) and lab.running_servers() == []


def test_removing_during_a_broadcast_skips_a_member_only_without_the_lock():
    assert demos.remove_while_broadcasting(lock=False).skipped == ["bob"]
    assert demos.remove_while_broadcasting(lock=True, patience=0.2).skipped == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="close() and accept() behave this way on Linux")
def test_close_does_not_wake_accept_but_shutdown_does():
    rows = demos.close_does_not_wake_accept(patience=0.3).rows
    assert rows[0][1].startswith("no, still blocked") and rows[1][1] == "yes"


def test_a_stalled_room_is_detected_and_released(live, join):
    server = live(stage=5)
    alice, bob = join(server, "alice"), join(server, "bob")
    sleeper = join(server, "sleeper", rcvbuf=4096)
    sleeper.pause()
    flood = demos.Flood(alice, megabytes=8)
    demos.wait_until(lambda: demos.blocked_sending_to(server, "sleeper"), 30, "the room stalling")
    bob.say("anyone there?")
    assert not bob.hears("bob: anyone there?", within=0.5)
    sleeper.resume()
    bob.expect("bob: anyone there?", timeout=30)
    assert flood.wait()


def test_a_flood_waits_for_a_slow_reader_so_only_the_paused_one_is_cut_off(live, join):
    server = live()
    alice, bob = join(server, "alice"), join(server, "bob", rcvbuf=4096)
    reads = bob.read

    def read_slowly():  # bob reads as on a busy machine: 4 KB at a time, far slower than the server sends
        time.sleep(0.001)
        return reads()

    bob.read = read_slowly
    sleeper = join(server, "sleeper", rcvbuf=4096)
    sleeper.pause()
    flood = demos.Flood(alice, megabytes=8)
    bob.expect("sleeper was disconnected", timeout=60)
    assert flood.wait(timeout=120)
    assert not bob.closed and not alice.closed


def notebook(*cells, **metadata):
    return {"cells": list(cells), "metadata": {"kernelspec": {"name": "python3"}, **metadata},
            "nbformat": 4, "nbformat_minor": 5}


def test_nbstrip_keeps_sources_and_expectations_and_drops_the_rest():
    cell = {"cell_type": "code", "id": "c1", "source": "1 + 1", "execution_count": 3,
            "outputs": [{"output_type": "execute_result", "data": {"text/plain": "2"}}],
            "metadata": {"tags": ["grade"], "chatkit": {"expect": ["2"]}, "scrolled": True}}
    dirty = notebook(cell, language_info={"name": "python", "version": "3.11.7"})
    assert len(problems(dirty)) == 4
    clean = strip(dirty)
    assert problems(clean) == []
    assert clean["cells"][0] == {"cell_type": "code", "id": "c1", "source": "1 + 1", "execution_count": None,
                                 "outputs": [], "metadata": {"tags": ["grade"], "chatkit": {"expect": ["2"]}}}


def test_the_save_hook_only_touches_walkthrough_notebooks():
    def saved(name):
        cell = {"cell_type": "code", "source": "", "execution_count": 1, "outputs": [{"output_type": "stream"}], "metadata": {}}
        model = {"type": "notebook", "name": name, "content": notebook(cell)}
        pre_save_hook(model=model, path=name)
        return model["content"]["cells"][0]["outputs"]

    assert saved("03-threads.ipynb") == []
    assert saved("my notes.ipynb") != []


def test_nbstrip_command_checks_and_cleans(tmp_path, capsys):
    from chatkit.tools.nbstrip import main

    path = tmp_path / "09-demo.ipynb"
    cell = {"cell_type": "code", "id": "c1", "source": "1", "execution_count": 1, "metadata": {},
            "outputs": [{"output_type": "stream", "name": "stdout", "text": "1"}]}
    path.write_text(json.dumps(notebook(cell, language_info={"name": "python"})))
    assert main(["--check", str(path)]) == 1 and "cell 1 has outputs" in capsys.readouterr().out
    assert main([str(path)]) == 0
    assert main(["--check", str(path)]) == 0


def test_nbstrip_without_arguments_cleans_the_twins_too(tmp_path, monkeypatch, capsys):
    """`nbstrip --check` and `nbstrip` cover notebooks/ko/ as well as notebooks/ (not notebooks/mine/)."""
    from chatkit.tools import nbstrip

    cell = {"cell_type": "code", "id": "c1", "source": "1", "execution_count": 1, "metadata": {},
            "outputs": [{"output_type": "stream", "name": "stdout", "text": "1"}]}
    for folder in ("", "ko", "mine"):
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / "01-listen.ipynb").write_text(json.dumps(notebook(cell, language_info={"name": "python"})))
    monkeypatch.setattr(nbstrip, "NOTEBOOKS", tmp_path)
    assert nbstrip.main(["--check"]) == 1
    shown = capsys.readouterr().out
    assert str(tmp_path / "ko" / "01-listen.ipynb") in shown and "mine" not in shown
    assert nbstrip.main([]) == 0 and nbstrip.main(["--check"]) == 0
    assert json.loads((tmp_path / "mine" / "01-listen.ipynb").read_text())["cells"][0]["outputs"], "not the kit's"
