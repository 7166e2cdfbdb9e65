"""The bench's other processes: the server under test, and the loopback sender.

    ServerProcess("5", fd_limit)    one server in a process of its own: its threads have their own GIL;
                                    it answers "stats" (threads, memory, CPU) and "stop" on its stdin
    loopback(seconds, batched)      the limit: one socket pair, a sender process writing flat out
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time

try:
    import resource  # Unix only
except ImportError:
    resource = None

from chatkit.tools import servers


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
    "6", a module or a file); sys.argv[2] says how many open files to allow.
    """
    raise_fd_limit(int(sys.argv[2]))
    server = servers.choose(sys.argv[1]).load().RunServer("127.0.0.1", 0)
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

    def __init__(self, name, fd_limit):
        self.process = python_child("serve_in_child", name, fd_limit)
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
