"""The bench's other processes: the server under test, and the loopback sender.

    ServerProcess("5", fd_limit)    one server in a process of its own: its threads have their own GIL;
                                    it answers "stats" (threads, memory, CPU) and "stop" on its stdin
    Room("ref", 4, fd_limit)        4 of those servers sharing one room through a redis-server of its own
    Command("go", "./peer {port}")  any server program speaking the protocol, started on a free port
                                    (a peer to compare with); its stats are read from /proc (Linux)
    loopback(seconds, batched)      the limit: one socket pair, a sender process writing flat out
"""

import json
import os
import shlex
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

try:
    import resource  # Unix only
except ImportError:
    resource = None

from chatkit.tools import servers
from chatkit.tools.redisserver import RedisServer


def raise_fd_limit(wanted):
    """Allow this process `wanted` open files if the system lets us; return the limit."""
    if resource is None:
        return wanted  # Windows: no such limit to raise
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


def resident_bytes():
    """This process's resident memory now (Linux), or its peak (elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        if resource is None:
            return 0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def serve_in_child():
    """Run one server quietly; answer "stats" and "stop" on stdin (in its own process).

    sys.argv[1] names the server as chatkit.tools.servers does ("5", "ref",
    "6", a module or a file); sys.argv[2] says how many open files to allow;
    then "nagle" leaves TCP_NODELAY off, "--room URL" joins a shared room.
    """
    raise_fd_limit(int(sys.argv[2]))
    options = sys.argv[3:]
    room = {"room": options[options.index("--room") + 1]} if "--room" in options else {}
    server = servers.choose(sys.argv[1]).load().RunServer("127.0.0.1", 0, **room)
    if "nagle" in options:
        server.nodelay = False
    server.log = lambda message: None
    server.server_open()

    def answer():
        for command in sys.stdin:
            if command.strip() == "stop":
                break
            stats = {"threads": threading.active_count() - 1,  # minus this thread
                     "memory": resident_bytes(), "cpu": time.process_time()}
            print(json.dumps(stats), flush=True)
        server.stop()  # also when the bench itself is gone (stdin closed)

    threading.Thread(target=answer, daemon=True).start()
    print(server.host, server.port, flush=True)
    server.run()


def python_child(call, *args):
    """Start `python -c "import chatkit.tools.bench.processes as p; p.CALL()" ARGS` with pipes."""
    return subprocess.Popen([sys.executable, "-c", f"import chatkit.tools.bench.processes as p; p.{call}()",
                             *map(str, args)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


class ServerProcess:
    """A server under test in a process of its own, so its threads have their own GIL."""

    def __init__(self, name, fd_limit, nagle=False, room=None):
        self.process = python_child("serve_in_child", name, fd_limit, *(["nagle"] if nagle else []),
                                    *(["--room", room] if room else []))
        first = self.process.stdout.readline().split()
        if len(first) != 2:
            self.close()
            raise RuntimeError(f"the server process did not start (exit status {self.process.returncode})")
        self.address = (first[0], int(first[1]))

    def stats(self):
        """The server's threads, resident memory and CPU seconds so far."""
        self.process.stdin.write("stats\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self):
        try:
            self.process.stdin.write("stop\n")
            self.process.stdin.close()
        except OSError:  # it is gone already
            pass
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:  # stop() is stuck: do not let it hang the bench
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()


@dataclass(frozen=True)
class Command:
    """Any chat server program, as a shell-like command with {port} in it: `label=command` on --peer."""

    label: str
    command: str

    @classmethod
    def parse(cls, text):
        label, sep, command = text.partition("=")
        if not sep or "{port}" not in command:
            raise ValueError(f"--peer takes LABEL=COMMAND with {{port}} in the command, not {text!r}")
        return cls(label.strip(), command.strip())

    def start(self, fd_limit):
        return CommandProcess(self.command, fd_limit)


class CommandProcess:
    """A server program started on a free port; threads, memory and CPU come from /proc/PID (Linux)."""

    def __init__(self, command, fd_limit):
        with socket.socket() as probe:  # a free port (the program binds it a moment later)
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.address = ("127.0.0.1", port)
        self.process = subprocess.Popen(shlex.split(command.format(port=port)), stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, preexec_fn=lambda: raise_fd_limit(fd_limit))
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(self.address, timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError(f"{command!r} did not start listening on port {port}")
                time.sleep(0.05)  # waiting for another program to listen: nothing to wait on but time

    def stats(self):
        return process_stats(self.process.pid)

    def close(self):
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def process_stats(pid):
    """Threads, resident memory and CPU seconds of any process, from /proc (Linux)."""
    with open(f"/proc/{pid}/status") as status:
        field = dict(line.split(":", 1) for line in status.read().splitlines() if ":" in line)
    with open(f"/proc/{pid}/stat") as stat:
        ticks = stat.read().rsplit(")", 1)[1].split()
    return {"threads": int(field["Threads"]), "memory": int(field["VmRSS"].split()[0]) * 1024,
            "cpu": (int(ticks[11]) + int(ticks[12])) / os.sysconf("SC_CLK_TCK")}


class Room:
    """`count` servers in processes of their own, sharing one room through a redis-server of the bench's own.

    Its stats are the servers' together; redis_cpu() is the CPU Redis used so far.
    """

    def __init__(self, name, count, fd_limit, nagle=False):
        self.redis = RedisServer()  # RedisMissing says how to install it
        self.servers = []
        try:
            for _ in range(count):
                self.servers.append(ServerProcess(name, fd_limit, nagle=nagle, room=self.redis.url("bench")))
        except BaseException:
            self.close()
            raise
        self.address = [server.address for server in self.servers]  # the crowd goes round them

    def stats(self):
        every = [server.stats() for server in self.servers]
        return {what: sum(stats[what] for stats in every) for what in ("threads", "memory", "cpu")}

    def redis_cpu(self):
        return process_stats(self.redis.process.pid)["cpu"]

    def close(self):
        for server in self.servers:
            server.close()
        self.redis.stop()


def loopback(seconds, batched):
    """Lines/s through one socket pair, a sender process writing chat-sized lines as fast as it can."""
    listener = socket.create_server(("127.0.0.1", 0))
    sender = python_child("send_flat_out", listener.getsockname()[1], seconds, int(batched))
    listener.settimeout(30)
    conn, _ = listener.accept()
    listener.close()
    lines, first = 0, None
    with conn:
        while data := conn.recv(1 << 20):
            if first is None:
                first = time.monotonic()
            lines += data.count(b"\n")
    elapsed = time.monotonic() - first
    sender.wait()
    sender.stdin.close()
    sender.stdout.close()
    return lines / elapsed


def send_flat_out():
    """The sending end of the loopback measurement (in its own process): PORT SECONDS BATCHED."""
    port, seconds, batched = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3] == "1"
    line = b"c1: hello from c1 #1234 t=1234567890123456789\n"  # as long as a benchmark line
    block = line * (65536 // len(line)) if batched else line
    with socket.create_connection(("127.0.0.1", port)) as sock:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for _ in range(1 if batched else 1000):
                sock.sendall(block)
