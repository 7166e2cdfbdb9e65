"""Graded tests for exercise 10, optional: the bridge to Redis (run: pytest exercises/ex10_redis_bridge_test.py).

Each test runs your Room and RedisBridge in a process of its own, bridged to
a real redis-server that the test starts on a free port. The test listens to
the channel and publishes on it as another server would. Where redis-server
is not installed, these tests are skipped, and say what to install. Do not
edit this file: the grader checks it.
"""

import json
import time

import pytest
import redis

from chatkit.grader import N_, _, hint, part
from chatkit.tools.redisserver import RedisMissing, RedisServer

KOREAN = "민수: 안녕하세요, 다른 서버에서도 잘 들리나요?"
WRITTEN_HERE = ("RedisBridge.start", "RedisBridge.publish", "RedisBridge.stop")
PATIENCE = 5.0  # seconds for a line to make its trip through Redis


@pytest.fixture
def redis_server():
    """A real redis-server for this test (a free port, a folder of its own), or a skip that says why.

    One per test: after each test the grader ends every process the test left running.
    """
    try:
        server = RedisServer()
    except RedisMissing as missing:
        pytest.skip(_("Not graded here: this optional exercise needs redis-server (its points are extra). "
                      "{missing}").format(missing=missing))
    yield server
    server.stop()


@pytest.fixture
def channel(redis_server, request):
    """A channel of this test's own, and the test's connection to listen and publish on it."""
    name = f"chatkit:ex10:{request.node.name}"
    client = redis.Redis(redis_server.host, redis_server.port, socket_timeout=PATIENCE)
    listener = client.pubsub(ignore_subscribe_messages=True)
    listener.subscribe(name)
    yield Channel(name, client, listener, f"redis://{redis_server.host}:{redis_server.port}/0")
    listener.close()
    client.close()


class Channel:
    """The test's end of the channel: what the student's bridge published, and lines from 'another server'."""

    def __init__(self, name, client, listener, url):
        self.name, self.client, self.listener, self.url = name, client, listener, url

    def next_published(self, why):
        """The data of the next message on the channel, decoded from JSON."""
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            message = self.listener.get_message(timeout=deadline - time.monotonic())
            if message is not None:
                try:
                    return json.loads(message["data"].decode("utf-8"))
                except ValueError:
                    raise AssertionError(_("your bridge published {data!r}, which is not JSON in UTF-8 ({why})").format(
                        data=message['data'][:200], why=_(why))) from None
        raise AssertionError(_("nothing was published on the channel within {PATIENCE:g} s ({why})").format(
            PATIENCE=PATIENCE, why=_(why)))

    def from_another_server(self, line, origin="another-server"):
        """PUBLISH a line as another server's bridge does (its JSON in UTF-8, Korean unescaped)."""
        self.client.publish(self.name, json.dumps({"origin": origin, "line": line}, ensure_ascii=False).encode())

    def subscribers(self):
        """How many connections Redis counts as subscribed to the channel (the test's own included)."""
        return self.client.pubsub_numsub(self.name)[0][1]

    def wait_for_subscribers(self, count, problem):
        deadline = time.monotonic() + PATIENCE
        while self.subscribers() != count:
            assert time.monotonic() < deadline, _("{problem} (Redis counts {count} of yours)").format(
                problem=_(problem), count=self.subscribers() - 1)
            time.sleep(0.02)  # Redis handles the other connection's SUBSCRIBE or close: look again


def bridged(student, channel):
    """A Room of yours and its RedisBridge on the test's channel, started (and subscribed)."""
    room = student.module.Room()
    bridge = student.module.RedisBridge(room, channel.url, channel.name)
    before = channel.subscribers()
    bridge.start()
    channel.wait_for_subscribers(before + 1, N_("start() returned, but your bridge never subscribed to the channel"))
    return room, bridge


def heard_until(room, line, why):
    """What the room heard, once `line` is among it."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        heard = list(room.heard)
        if line in heard:
            return heard
        time.sleep(0.01)  # the line is on its way through Redis and a thread of the child: look again
    raise AssertionError(_("the room never heard {line!r} ({why}); it heard {heard}").format(
        line=line, why=_(why), heard=list(room.heard)[-5:]))


@pytest.fixture(autouse=True)
def your_own_bridge(student):
    """Every test first checks that the bridge's methods are written in your file."""
    student.written_here(*WRITTEN_HERE)


@pytest.mark.points(2)
def test_publishes_what_the_room_says(student, channel):
    """A line said in the room is published on the channel, as JSON with the server's origin."""
    with hint("start() connects (redis.Redis.from_url(self.url)) and subscribes; publish(line) sends "
              "self.redis.publish(self.channel, json.dumps({...})) for each line the room says."):
        room, bridge = bridged(student, channel)
        room.say("alice: hello, other servers")
        said = channel.next_published(N_("alice said a line in the room"))
    with part(1, "The data is the JSON text {\"origin\": self.origin, \"line\": line}: the line as it was said."):
        assert isinstance(said, dict) and said.get("line") == "alice: hello, other servers", \
            _("your bridge published {said!r}").format(said=said)
    with part(1, "Every message carries \"origin\": self.origin, so each server can tell its own echoes "
                 "from the others' lines."):
        assert isinstance(said, dict) and said.get("origin") == bridge.origin, \
            _("your bridge published {said!r}; its origin should be {origin!r}").format(
                said=said, origin=bridge.origin)


@pytest.mark.points(2)
def test_relays_what_the_channel_brings(student, channel):
    """Lines another server publishes reach the members here, once each, in order, Korean intact."""
    room, _bridge = bridged(student, channel)
    with part(1, "The relay thread hands each message from another server to self.room.hear(line), once, "
                 "in the order they came."):
        for n in range(5):
            channel.from_another_server(f"bob: line {n}")
        heard = heard_until(room, "bob: line 4", N_("another server published it"))
        assert heard == [f"bob: line {n}" for n in range(5)], _("the room heard {heard}").format(heard=heard)
    with part(1, "Messages are UTF-8: decode them as UTF-8 (json.loads does, given the bytes), and Korean "
                 "arrives intact."):
        channel.from_another_server(KOREAN)
        channel.from_another_server("bob: after the Korean line")
        heard = heard_until(room, "bob: after the Korean line", N_("another server published it"))
        assert KOREAN in heard, _("the Korean line did not arrive intact: the room heard {heard}").format(
            heard=heard[-2:])


@pytest.mark.points(2)
def test_skips_its_own_echoes(student, channel):
    """Its own lines come back from Redis: they are skipped; two servers each hear a line exactly once."""
    with hint("Redis sends your own messages back to you: relay only those whose origin is not self.origin "
              "(the members here heard them when they were said)."):
        room, _bridge = bridged(student, channel)
        other_room, _bridge = bridged(student, channel)
        room.say("alice: only once, please")
        heard_there = heard_until(other_room, "alice: only once, please", N_("the other server's room said it"))
        channel.from_another_server("bob: and after that")  # comes after any echo of alice's line
        heard_here = heard_until(room, "bob: and after that", N_("another server published it"))
        assert heard_here.count("alice: only once, please") == 1, \
            _("the room where alice spoke heard her line {times} times").format(
                times=heard_here.count('alice: only once, please'))
        assert heard_there.count("alice: only once, please") == 1, _("the other room heard alice's line more than once")


@pytest.mark.points(2)
def test_stop_is_clean(student, channel):
    """stop() unsubscribes and ends the relay thread, soon, though nothing arrives."""
    threads_before = student.module.threading.active_count()
    room, bridge = bridged(student, channel)
    with part(1, "stop() unsubscribes from the channel (and closes the connection): Redis then counts only "
                 "the test's own subscriber."):
        bridge.stop(timeout=PATIENCE)
        channel.wait_for_subscribers(1, N_("after stop(), your bridge is still subscribed to the channel"))
    with part(1, "stop() ends the relay thread and waits for it (thread.stop() and join(), or a loop that "
                 "looks at a stop event): nothing of the bridge keeps running."):
        deadline = time.monotonic() + PATIENCE
        while student.module.threading.active_count() > threads_before and time.monotonic() < deadline:
            time.sleep(0.01)  # a thread that was told to stop is finishing: look again
        assert student.module.threading.active_count() <= threads_before, \
            _("after stop(), your relay thread is still running")
