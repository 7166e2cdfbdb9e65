"""Rooms that span servers, live: a real Redis, servers you can kill, and what passes between them.

    redis = LiveRedis()                            # redis-server: a free port, its own folder
    a = LiveServer(name="A", room=redis.url())     # two servers sharing the room "lab"
    b = LiveServer(name="B", stage=6, room=redis.url())
    c = ServerProcess(redis.url(), name="C")       # a third, in a process of its own: c.kill(), c.freeze()
    transcript([a, b, c]); sequence_diagram([a, b, c])   # chatkit.lab.views: one picture of the room
    redis.keys()                                   # what Redis holds for the room, with the time left
    watch = redis.watch(); ...; watch.messages()   # the messages on the room's channel
    stop_all()                                     # the servers first, then redis-server

A Redis that is missing says how to install it (chatkit.tools.redisserver).
"""

import json
import os
import re
import subprocess
import sys
import threading
import time

from chatkit.lab import live, views
from chatkit.lab.tables import Table
from chatkit.tools.redisserver import RedisMissing, RedisServer, freeze, thaw  # noqa: F401  (RedisMissing: notebooks)

STARTUP_SECONDS = 20.0  # for a server process to say where it listens


class LiveRedis(RedisServer):
    """redis-server for a notebook: re-running the cell replaces it; stop_all() stops it, last."""

    stops_last = True  # the chat servers leave its rooms first
    clients = ()

    def __init__(self, name="redis", settings=()):
        self.name = name
        self.watches = []
        live.replace(name, print)
        super().__init__(settings=settings)
        live.register(self)

    def owns(self, frames):
        return False  # it is a process: no thread of this one runs its code

    def stop(self):
        live.unregister(self)
        for watch in self.watches:
            watch.stop()
        super().stop()

    def keys(self, room="lab"):
        """What Redis holds for `room`: each key, its type, its value, the time it has left."""
        rows = []
        for key in sorted(self.command("KEYS", f"chatkit:{room}:*")):
            kind = self.command("TYPE", key)
            value = {"string": lambda: self.command("GET", key),
                     "hash": lambda: ", ".join(sorted(self.command("HKEYS", key))),
                     "set": lambda: ", ".join(sorted(self.command("SMEMBERS", key)))}.get(kind, lambda: "")()
            left = self.command("PTTL", key)
            rows.append([key, kind, value, "never expires" if left < 0 else f"{left / 1000:.1f} s"])
        return Table(["key", "type", "value", "expires in"], rows, title=f"Redis keys of the room {room!r}",
                     note="(none: nobody has joined yet, or Redis was restarted and lost them)" if not rows else "")

    def subscribers(self):
        """The connections subscribed to a channel, with what Redis holds for each (output buffer)."""
        rows = []
        for line in self.command("CLIENT", "LIST", "TYPE", "pubsub").splitlines():
            fields = dict(field.split("=", 1) for field in line.split() if "=" in field)
            rows.append([fields.get("name") or "(no name)", fields.get("id"), fields.get("sub"),
                         f"{int(fields.get('omem', 0)):,}", f"{int(fields.get('tot-mem', 0)):,}"])
        limit = self.command("CONFIG", "GET", "client-output-buffer-limit")["client-output-buffer-limit"]
        pubsub = re.search(r"pubsub (\S+) (\S+) (\S+)", limit)
        return Table(["client", "id", "channels", "output buffer (bytes)", "memory (bytes)"], rows,
                     title="Redis's pub/sub subscribers",
                     note=f"client-output-buffer-limit pubsub: hard {pubsub[1]}, soft {pubsub[2]} for {pubsub[3]} s")

    def watch(self, room="lab"):
        """Subscribe to the room's channel from here, to look at the messages (watch.messages())."""
        self.watches.append(ChannelWatch(self, room))
        return self.watches[-1]


class ChannelWatch:
    """A subscriber of a room's channel, in a thread of this notebook, keeping what it hears."""

    def __init__(self, redis_server, room):
        import redis  # loaded on first use: only shared rooms need the client library

        self.client = redis.Redis(redis_server.host, redis_server.port, decode_responses=True)
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(f"chatkit:{room}")
        # Redis's confirmation: from now on, every message on the channel reaches this watch
        self.pubsub.get_message(ignore_subscribe_messages=False, timeout=5)
        self.heard = []  # (seconds since the watch started, the message as text)
        self.started = time.monotonic()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.listen, name=f"watching chatkit:{room}", daemon=True)
        self.thread.start()

    def listen(self):
        while True:
            stopping = self.stopping.is_set()
            try:
                message = self.pubsub.get_message(timeout=0.05 if stopping else 0.2)
            except Exception:  # Redis went away: a watch only looks, it does not reconnect
                return
            if message is not None:
                self.heard.append((time.monotonic() - self.started, message["data"]))
            elif stopping:  # told to stop, and nothing more came: a line a member has heard is read too
                return

    def messages(self, last=12, beats=False):
        """The messages heard (the numbered lines of each server), as a table; beats=True shows the empty ones."""
        self.stop()
        rows = []
        for when, data in self.heard:
            message = json.loads(data)
            if message["lines"] or beats:
                rows.append([f"{when:.3f}", message["name"], message["seq"], " | ".join(message["lines"]) or "(none)"])
        return Table(["time (s)", "from server", "first line's number", "lines"], rows[-last:],
                     title="Messages on the room's channel, as any subscriber receives them")

    def stop(self):
        if not self.stopping.is_set():
            self.stopping.set()
            self.thread.join()
            self.pubsub.close()
            self.client.close()


class ServerProcess:
    """A chat server of a shared room in a process of its own: one you can kill, or freeze.

    It runs ``python -m chatkit serve --room URL`` (the reference server, or
    stage 6 with stage=6); LiveClients connect to it as to a LiveServer, and
    the views show it beside the servers of this notebook.
    """

    asks_nickname = True

    def __init__(self, room, name=None, stage=None, presence_seconds=None):
        if name is None:
            taken = {server.name for server in live.running_servers()}
            name = next(letter for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if letter not in taken)
        self.name, self.room = name, room
        live.replace(name, print)
        self.started = live.room_clock(room)
        self.clients, self.history, self.log_lines = [], [], []
        self.crash = None
        command = [sys.executable, "-m", "chatkit", "serve", "--port", "0", "--room", room, "--name", name]
        command += ["--stage", str(stage)] if stage is not None else []
        command += ["--presence-seconds", str(presence_seconds)] if presence_seconds is not None else []
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, encoding="utf-8", errors="replace",
                                        env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHON_COLORS": "0"})
        self.listening = threading.Event()
        self.reader = threading.Thread(target=self.read_output, name=f"output of server {name}", daemon=True)
        self.reader.start()
        if not self.listening.wait(STARTUP_SECONDS) or self.address is None:
            self.stop()
            raise RuntimeError(f"server {name} did not start: {[text for _, text in self.log_lines][-5:]}")
        live.register(self)

    address = None

    def read_output(self):
        for line in self.process.stdout:
            text = line.rstrip("\n")
            found = re.match(r"listening on (\S+):(\d+)$", text)
            if found and self.address is None:
                self.address = (found[1], int(found[2]))
                self.host, self.port = self.address
                self.listening.set()
            self.log_lines.append((time.monotonic() - self.started, text))
        self.listening.set()  # it ended, listening or not

    @property
    def running(self):
        return self.process.poll() is None

    @property
    def pid(self):
        return self.process.pid

    def owns(self, frames):
        return False

    def kill(self):
        """SIGKILL: the server dies at once, without a word to anyone (its keys in Redis stay, until they expire)."""
        self.process.kill()
        self.process.wait()

    def freeze(self):
        """SIGSTOP: the server stops where it stands, its connections open (a hung machine, a long pause)."""
        freeze(self.process)

    def thaw(self):
        """SIGCONT: the frozen server goes on, and finds what happened meanwhile."""
        thaw(self.process)

    def stop(self, timeout=10.0):
        """Disconnect its clients, stop it cleanly (SIGTERM: it leaves the room), wait for it."""
        live.unregister(self)
        for client in list(self.clients):
            client.close(quit=False)
        self.thaw()
        if self.running:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process.wait()
        self.reader.join(timeout)
        self.process.stdout.close()

    def transcript(self, **options):
        return views.transcript(self, **options)

    def diagram(self, **options):
        return views.sequence_diagram(self, **options)

    def show_log(self, last=20):
        return views.server_log(self, last=last)

    def __repr__(self):
        state = "running" if self.running else f"ended (exit status {self.process.returncode})"
        where = f"{self.host}:{self.port}" if self.address else "?"
        return f"<ServerProcess {self.name} (pid {self.process.pid}) on {where}, {state}>"
