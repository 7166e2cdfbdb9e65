"""The lab's shared rooms: a Redis that stop_all() stops, and views that span the servers of a room."""

import pytest

from chatkit.lab import LiveClient, LiveServer, running_servers, stop_all
from chatkit.lab.rooms import LiveRedis
from chatkit.lab.views import sequence_diagram, transcript
from chatkit.tools.redisserver import RedisMissing, executable


@pytest.fixture
def lab_redis():
    if executable() is None:
        pytest.skip("redis-server is not installed (Debian, Ubuntu: sudo apt install redis-server)")
    yield LiveRedis()
    stop_all()


def test_the_transcript_and_the_diagram_span_the_servers_of_a_room(lab_redis):
    a, b = LiveServer(room=lab_redis.url()), LiveServer(stage=6, room=lab_redis.url())
    assert (a.name, b.name) == ("A", "B")  # servers of a room get names of their own
    alice, bob = LiveClient(a, "alice"), LiveClient(b, "bob")
    alice.expect("bob joined")
    alice.say("안녕, bob")
    bob.expect("alice: 안녕, bob")
    alice.expect("alice: 안녕, bob")
    table = transcript([a, b])
    said = next(line for line in table.lines if line.said == "안녕, bob")
    assert said.sender == "alice@A" and {who for who, _ in said.heard_by} == {"alice@A", "bob@B"}
    assert "Transcript: A + B" in str(table)
    svg = sequence_diagram([a, b])._repr_svg_()
    for lane in ("alice@A", "bob@B", ">A<", ">B<", ">Redis<"):
        assert lane in svg, lane
    assert "stroke-dasharray='5 3'" in svg  # A's PUBLISH to Redis
    assert "<circle" in svg  # the line passing through B to its member
    assert "<sequence diagram: " in repr(sequence_diagram([a, b])) and "between A, B and alice@A, bob@B" in repr(
        sequence_diagram([a, b]))
    single = sequence_diagram(a)._repr_svg_()  # one server alone: drawn as always, no Redis lane
    assert ">Redis<" not in single and ">server<" in single


def test_what_redis_holds_and_passes_can_be_looked_at(lab_redis):
    watch = lab_redis.watch()
    a, b = LiveServer(room=lab_redis.url()), LiveServer(room=lab_redis.url())
    alice, bob = LiveClient(a, "alice"), LiveClient(b, "bob")
    alice.say("hello")
    bob.expect("alice: hello")
    keys = str(lab_redis.keys())
    assert "chatkit:lab:nick:a:alice" in keys and "chatkit:lab:members:" in keys and "never expires" in keys
    assert "chatkit-A" in str(lab_redis.subscribers()) and "client-output-buffer-limit pubsub" in str(
        lab_redis.subscribers())
    messages = str(watch.messages())
    assert "alice: hello" in messages and "* bob joined. 2 people in the room." in messages


def test_stop_all_stops_the_servers_then_redis_and_a_rerun_replaces_redis(lab_redis):
    again = LiveRedis()  # the cell run again: the first one is stopped
    assert not lab_redis.running and again.running
    a = LiveServer(room=again.url())
    LiveClient(a, "alice")
    assert stop_all() == "stopped 2 server(s) (A, redis) and 1 client(s)"
    assert not again.running and running_servers() == []


def test_a_missing_redis_server_says_how_to_install_it(monkeypatch):
    monkeypatch.setenv("CHATKIT_REDIS_SERVER", "")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(RedisMissing, match="sudo apt install redis-server"):
        LiveRedis()
    assert running_servers() == []
