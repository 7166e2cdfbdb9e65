"""`python -m chatkit bench`: the servers side by side, measured from the client side.

    this process (the crowd: N clients on one selectors loop)  <-- TCP -->  server process
         sends lines stamped with the time they were meant to go           (one server under test,
         out, and reads every line every client receives                    in a process of its own)

For each server and each crowd size the bench measures, in one run:

* delivered/s: chat lines received intact per second by all clients
  together, keeping IN_FLIGHT lines on their way (a closed loop: a new line
  is sent as soon as an earlier one has reached everyone);
* p50 / p99: how long a line took from the moment it was due to be sent to
  the moment a receiving client read it, at a steady input rate (an open
  loop: messages are stamped with their scheduled time, so a server that
  falls behind cannot hide it);
* the server's threads, memory per connection and CPU use, asked of the
  server process itself;
* the loopback limit: one socket pair sending chat-sized lines as fast as it
  can, in 64 KiB writes and one line per send().

The numbers come from real sockets on 127.0.0.1, read by the clients; never
from the server's own counters. The crowd runs in this process and the server
in another, so the server's threads do not share a GIL with the clients.
The crowd's CPU use is printed too: near 100% it is the bottleneck.

Run it:  python -m chatkit bench                      (about a minute)
         python -m chatkit bench --clients 10,100 --seconds 1
"""

import html
import importlib.util
import json
import os
import platform
import re
import selectors
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

try:
    import resource  # Unix only
except ImportError:
    resource = None

SERVERS = {  # name on the command line -> (how to load it, label in the table)
    "5": ({"stage": 5}, "stage 5 (report)"),
    "ref": ({}, "reference (threads)"),
    "6": ({"stage": 6}, "stage 6 (event loop)"),
}
DEFAULT_CLIENTS = "10,100,1000"
DEFAULT_PLOT = "artifacts/bench.png"
# A benchmark line as a client must receive it: the sender's name, then the text it sent,
# which ends with the time it was due. A line merged with another or cut in half does not count.
INTACT = re.compile(rb"\n[^ :\n]+: hello from [^ \n]+ #\d+ t=(\d+)(?=\n)")
STAMP = b" t="  # in every piece of a benchmark line, intact or not
TEXT_AFTER_NAME = b": hello from "
JOINING_AT_ONCE = 4  # clients joining at the same moment (stage 5's backlog is 5)
IN_FLIGHT = 200  # closed loop: lines on their way at once (at most ~10 KB queued for any client)
TALKERS = 10  # clients who send; everyone listens
OBSERVERS = 100  # clients who read during the latency measurement (the others right after it)
STALL = 10.0  # seconds without progress before a phase gives up
DRAIN = 3.0  # seconds to wait for late lines after a phase; what is still missing is lost


# ---------------------------------------------------------------- the crowd

class Member:
    """One simulated client: a non-blocking socket and what it received."""

    def __init__(self, sock, nick, keep_lines):
        self.sock = sock
        self.nick = nick
        self.state = "connecting"  # -> "naming" (answered the question) -> "joined" -> "closed"
        self.tail = b""  # bytes after the last newline
        self.outgoing = bytearray()
        self.line_count = 0
        self.lines = [] if keep_lines else None


class Crowd:
    """Many chat clients served by one selectors loop in the calling thread.

    No thread per client, so a crowd of 1,000 costs this process almost
    nothing but the work of reading. `turn()` runs one round of the loop;
    `wait_until()` runs rounds until a condition holds or a timeout passes.
    """

    def __init__(self, address, keep_lines=False, prefix="c"):
        self.address = address
        self.keep_lines = keep_lines
        self.prefix = prefix
        self.selector = selectors.DefaultSelector()
        self.members = []
        self.arrived = 0  # benchmark lines received, intact or not, by all members together
        self.delivered = 0  # benchmark lines received intact
        self.latencies = []  # seconds, for stamped lines while `measuring`
        self.measuring = False

    def connect(self, count, asks_nickname=True, timeout=60.0, rcvbuf=None):
        """Connect `count` more clients and wait until each has joined the room.

        rcvbuf: a receive buffer size in bytes, for clients meant to fall behind fast.
        """
        start = len(self.members)
        for index in range(start, start + count):
            self.wait_until(lambda: self.joining() < JOINING_AT_ONCE, timeout, "clients to join")
            sock = socket.socket()
            if rcvbuf:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.settimeout(timeout)
            sock.connect(self.address)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # a line goes out when said, as typed
            sock.setblocking(False)
            member = Member(sock, f"{self.prefix}{index}", self.keep_lines)
            if not asks_nickname:
                member.state = "joined"
            self.members.append(member)
            self.selector.register(sock, selectors.EVENT_READ, member)
        self.wait_until(lambda: self.joining() == 0, timeout, "clients to join")
        return self.members[start:]

    def joining(self):
        return sum(1 for member in self.members if member.state in ("connecting", "naming"))

    def turn(self, timeout):
        """Wait up to `timeout` seconds for sockets to be ready; handle them."""
        for key, events in self.selector.select(timeout):
            member = key.data
            if events & selectors.EVENT_WRITE:
                self.flush(member)
            if events & selectors.EVENT_READ:
                self.receive(member)

    def receive(self, member):
        try:
            data = member.sock.recv(1 << 16)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.drop(member)
            return
        now = time.perf_counter_ns()
        if member.tail:
            data = member.tail + data
        if data[-1] == 10:  # b"\n": the usual case, nothing left over
            complete, member.tail = data, b""
        else:
            cut = data.rfind(b"\n") + 1
            complete, member.tail = data[:cut], data[cut:]
            if not complete:
                return
        member.line_count += complete.count(b"\n")
        if member.lines is not None:
            member.lines.extend(complete.decode(errors="replace").splitlines())
        if member.state == "joined":
            pass
        elif member.state == "connecting" and b"nickname" in complete:
            member.state = "naming"
            self.say(member, member.nick)
        elif member.state == "naming" and f"* {member.nick} joined".encode() in complete:
            member.state = "joined"
        self.arrived += complete.count(STAMP)
        if self.measuring:
            stamps = INTACT.findall(b"\n" + complete)
            self.delivered += len(stamps)
            self.latencies.extend((now - int(sent)) / 1e9 for sent in stamps)
        else:  # the same count, only faster: the text of an intact line follows its sender's name
            self.delivered += complete.count(TEXT_AFTER_NAME)

    def say(self, member, text):
        """Send one line from `member` (queued if its socket is full)."""
        member.outgoing += (text + "\n").encode()
        self.flush(member)

    def flush(self, member):
        try:
            sent = member.sock.send(member.outgoing)
        except BlockingIOError:
            sent = 0
        except OSError:
            self.drop(member)
            return
        del member.outgoing[:sent]
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if member.outgoing else 0)
        self.selector.modify(member.sock, events, member)

    def pause(self, members):
        """Stop reading these members' sockets for a while (what arrives waits in their buffers)."""
        for member in members:
            if member.state == "joined":
                self.selector.unregister(member.sock)
                member.state = "paused"

    def resume(self):
        """Read every paused member again."""
        for member in self.members:
            if member.state == "paused":
                member.state = "joined"
                self.selector.register(member.sock, selectors.EVENT_READ, member)
                if member.outgoing:
                    self.flush(member)

    def drop(self, member):
        """Forget a member whose connection closed."""
        if member.state != "closed":
            if member.state != "paused":
                self.selector.unregister(member.sock)
            member.state = "closed"
            member.sock.close()

    def wait_until(self, condition, timeout, what):
        """Run the loop until condition() is true; TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not condition():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"waited {timeout:g} s for {what}")
            self.turn(min(left, 0.05))

    def everyone_heard(self, text, timeout=60.0):
        """Wait until every open member received a line containing `text` (kept lines only)."""
        waiting = {member: 0 for member in self.members if member.state != "closed"}  # -> lines looked at

        def heard():
            for member, seen in list(waiting.items()):
                if any(text in line for line in member.lines[seen:]):
                    del waiting[member]
                else:
                    waiting[member] = len(member.lines)
            return not waiting

        try:
            self.wait_until(heard, timeout, repr(text))
        except TimeoutError as error:
            deaf = [f"{m.nick} ({m.state}, last: {m.lines[-2:] if m.lines is not None else '?'})" for m in waiting]
            raise TimeoutError(f"{error}; {len(waiting)} never heard it: {'; '.join(deaf[:5])}") from None

    def open_members(self):
        return [member for member in self.members if member.state == "joined"]

    def close(self):
        for member in self.members:
            self.drop(member)
        self.selector.close()


# ---------------------------------------------------------------- the server process

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

    sys.argv[1] says which server, as JSON: {"stage": 5}, {} (the reference)
    or {"module": "dotted.name"}; sys.argv[2] how many open files to allow.
    """
    from chatkit.lab import load_server_module

    raise_fd_limit(int(sys.argv[2]))
    server = load_server_module(**json.loads(sys.argv[1])).RunServer("127.0.0.1", 0)
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
    """Start `python -c "import chatkit.bench; chatkit.bench.CALL()" ARGS` with pipes."""
    return subprocess.Popen([sys.executable, "-c", f"import chatkit.bench as b; b.{call}()", *map(str, args)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


class ServerProcess:
    """A server under test in a process of its own, so its threads have their own GIL."""

    def __init__(self, how, fd_limit):
        self.process = python_child("serve_in_child", json.dumps(how), fd_limit)
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


# ---------------------------------------------------------------- the measurements

@dataclass
class Row:
    """One line of the table."""

    server: str
    clients: int
    delivered_per_s: float = 0.0
    threads: int = None
    memory_per_client: float = None  # bytes
    server_cpu: float = None  # share of one core during the closed loop
    crowd_cpu: float = None
    rate_in: float = None  # messages/s sent in the open loop
    p50: float = None  # seconds
    p99: float = None
    lost: int = None
    note: str = ""
    latencies: list = field(default_factory=list, repr=False)


def message(member, number, due_ns):
    """A benchmark line: about as long as a chat line, stamped with its due time."""
    return f"hello from {member.nick} #{number} t={due_ns}"


def closed_loop(crowd, server, seconds):
    """Keep IN_FLIGHT lines on their way to everyone; return (deliveries/s, server CPU, crowd CPU)."""
    members = crowd.open_members()
    talkers = members[:TALKERS]
    sent, before = 0, crowd.arrived
    start = time.monotonic()
    warm = start + seconds * 0.2  # the first fifth fills the pipes and is not counted
    measured = None
    last_progress, last_arrived = start, crowd.arrived
    while (now := time.monotonic()) < start + seconds:
        if measured is None and now >= warm:
            measured = (now, crowd.delivered, server.stats()["cpu"], time.process_time())
        while sent * len(members) - (crowd.arrived - before) < IN_FLIGHT * len(members):
            sent += 1
            crowd.say(talkers[sent % len(talkers)], message(talkers[sent % len(talkers)], sent, time.perf_counter_ns()))
        crowd.turn(0.05)
        if crowd.arrived != last_arrived:
            last_progress, last_arrived = now, crowd.arrived
        elif now - last_progress > STALL:
            raise TimeoutError(f"no line delivered for {STALL:g} s")
    end = (time.monotonic(), crowd.delivered, server.stats()["cpu"], time.process_time())
    drain(crowd, before + sent * len(members))
    elapsed = end[0] - measured[0]
    return ((end[1] - measured[1]) / elapsed, (end[2] - measured[2]) / elapsed, (end[3] - measured[3]) / elapsed)


def open_loop(crowd, seconds, rate):
    """Send `rate` messages/s for `seconds`; return (latencies, lines lost).

    Only OBSERVERS clients, spread over the order of joining, read while
    messages are sent: reading 1,000 sockets for every line would make this
    process the bottleneck, and the line read last would wait for the 999
    others here, not in the server. The others read their lines right after;
    a few seconds of chat fit easily in their sockets' buffers.
    """
    members = crowd.open_members()
    talkers = members[:TALKERS]
    observers = set(talkers) | set(members[::max(1, len(members) // OBSERVERS)])
    crowd.pause([member for member in members if member not in observers])
    crowd.latencies = []
    before = crowd.arrived, crowd.delivered
    crowd.measuring = True
    start_ns = time.perf_counter_ns()
    period_ns = int(1e9 / rate)
    sent = 0
    while (now_ns := time.perf_counter_ns()) < start_ns + seconds * 1e9:
        while start_ns + sent * period_ns <= now_ns:  # every message that is due, stamped when due
            talker = talkers[sent % len(talkers)]
            crowd.say(talker, message(talker, sent, start_ns + sent * period_ns))
            sent += 1
        crowd.turn((start_ns + sent * period_ns - time.perf_counter_ns()) / 1e9)
    drain(crowd, before[0] + sent * len(observers))
    crowd.measuring = False
    crowd.resume()
    drain(crowd, before[0] + sent * len(members))
    return crowd.latencies, sent * len(members) - (crowd.delivered - before[1])


def drain(crowd, expected):
    """Wait up to DRAIN seconds until `expected` benchmark lines have arrived in all."""
    try:
        crowd.wait_until(lambda: crowd.arrived >= expected, DRAIN, "late lines")
    except TimeoutError:
        pass


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else None


def server_spec(name):
    """(how to load it, its label) for a name of --servers; ValueError says what is wrong."""
    from chatkit.stages import STAGES

    if name in SERVERS:
        return SERVERS[name]
    if name.isdigit():
        if int(name) not in STAGES:
            raise ValueError(f"there is no stage {name}; the stages are {sorted(STAGES)}")
        if int(name) < 5:
            raise ValueError(f"stage {name} has no nicknames and no room to measure: use stage 5 or later")
        return {"stage": int(name)}, f"stage {name}"
    try:
        found = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        found = None
    if found is None:
        raise ValueError(f"no module named {name!r} (give a stage number, 'ref' or an importable module)")
    return {"module": name}, name


def measure_server(name, clients, seconds, rate, fd_limit):
    """One row: start the server, bring in the crowd, run both loops, stop."""
    how, label = server_spec(name)
    row = Row(label, clients)
    server = ServerProcess(how, fd_limit)
    crowd = Crowd(server.address)
    try:
        idle = server.stats()
        crowd.connect(clients, timeout=max(60.0, clients * 0.2))
        sync = crowd.open_members()[0]
        crowd.say(sync, message(sync, 0, time.perf_counter_ns()))  # the room is quiet once all heard it
        drain(crowd, clients)
        full = server.stats()
        row.threads = full["threads"]
        row.memory_per_client = (full["memory"] - idle["memory"]) / clients
        row.delivered_per_s, row.server_cpu, row.crowd_cpu = closed_loop(crowd, server, seconds)
        row.rate_in = rate
        row.latencies, row.lost = open_loop(crowd, seconds, rate)
        row.p50, row.p99 = percentile(row.latencies, 0.50), percentile(row.latencies, 0.99)
        dropped = clients - len(crowd.open_members())
        if dropped:
            row.note = f"{dropped} clients disconnected"
    except (TimeoutError, OSError) as error:
        row.note = f"gave up: {error}"
    finally:
        server.close()
        crowd.close()
    return row


def loopback(seconds, batched):
    """One socket pair, a sender process writing chat-sized lines as fast as it can."""
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
    return Row("loopback, 64 KiB writes" if batched else "loopback, a send() per line", 1,
               delivered_per_s=lines / elapsed, threads=1)


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


# ---------------------------------------------------------------- the report

def conditions(args, fd_limit):
    """What this run was measured on, printed above the table."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            cpu = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = "%.2f %.2f %.2f" % os.getloadavg() if hasattr(os, "getloadavg") else "unknown"
    return [
        f"machine:  {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        f"python:   {platform.python_implementation()} {platform.python_version()}, "
        f"switch interval {sys.getswitchinterval() * 1000:g} ms, open files allowed {fd_limit}",
        f"run:      {time.strftime('%Y-%m-%d %H:%M')}, load average {load} (other work on the machine adds noise)",
        f"method:   {args.seconds:g} s closed loop ({IN_FLIGHT} lines in flight) for delivered/s, then "
        f"{args.seconds:g} s at a fixed input rate for latency; {TALKERS} clients talk, all listen",
        f"          (latency as read by {OBSERVERS} of the clients, spread over the order of joining);",
        "          lost: lines that did not arrive intact in that second part (missing, merged or cut)",
    ]


def table(rows, limit):
    """The rows as text, one server per line, grouped by crowd size."""
    def number(value, unit=""):
        return "-" if value is None else f"{value:,.0f}{unit}"

    def ms(seconds):
        return "-" if seconds is None else f"{seconds * 1000:.1f}"

    header = (f"{'clients':>7}  {'server':<27} {'threads':>7} {'KiB/client':>10} {'delivered/s':>12} "
              f"{'of limit':>8} {'srv CPU':>7} {'crowd CPU':>9} {'in msg/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'lost':>5}")
    out = [header, "-" * len(header)]
    for row in rows:
        share = f"{100 * row.delivered_per_s / limit:.1f}%" if limit else "-"
        memory = None if row.memory_per_client is None else row.memory_per_client / 1024
        cpu = "-" if row.server_cpu is None else f"{100 * row.server_cpu:.0f}%"
        crowd = "-" if row.crowd_cpu is None else f"{100 * row.crowd_cpu:.0f}%"
        out.append(f"{row.clients:>7,}  {row.server:<27} {number(row.threads):>7} {number(memory):>10} "
                   f"{number(row.delivered_per_s):>12} {share:>8} {cpu:>7} {crowd:>9} {number(row.rate_in):>8} "
                   f"{ms(row.p50):>7} {ms(row.p99):>7} {number(row.lost):>5}" + (f"  {row.note}" if row.note else ""))
    return "\n".join(out)


def plot(rows, baselines, path):
    """Save delivered/s and latency against crowd size, one colour per server; return the path."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    servers = list(dict.fromkeys(row.server for row in rows))
    sizes = sorted({row.clients for row in rows})
    figure, (speed, delay) = plt.subplots(1, 2, figsize=(12, 5.2))
    for server in servers:
        mine = [row for row in rows if row.server == server and row.delivered_per_s]
        line, = speed.plot([r.clients for r in mine], [r.delivered_per_s for r in mine], marker="o", label=server)
        timed = [row for row in mine if row.p99 is not None]
        delay.plot([r.clients for r in timed], [r.p99 * 1000 for r in timed], marker="o", color=line.get_color())
        delay.plot([r.clients for r in timed], [r.p50 * 1000 for r in timed], marker=".", linestyle=":",
                   color=line.get_color())
    for baseline, style in zip(baselines, ("--", "-.")):
        speed.axhline(baseline.delivered_per_s, color="grey", linestyle=style, linewidth=1)
        speed.annotate(baseline.server, (0.01, baseline.delivered_per_s), xycoords=("axes fraction", "data"),
                       xytext=(0, 3), textcoords="offset points", fontsize=8, color="dimgrey")
    delay.axhline(50, color="red", linestyle="--", linewidth=1)
    delay.annotate("target: p99 under 50 ms", (0.01, 50), xycoords=("axes fraction", "data"), xytext=(0, 3),
                   textcoords="offset points", fontsize=8, color="red")
    delay.plot([], [], color="black", marker="o", label="p99 (99 in 100 lines faster)")
    delay.plot([], [], color="black", marker=".", linestyle=":", label="p50 (half the lines faster)")
    delay.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0, 0.93))
    rates = {row.clients: row.rate_in for row in rows if row.rate_in}
    for axes in (speed, delay):
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xticks(sizes)
        axes.minorticks_off()
        axes.grid(True, alpha=0.3)
    speed.set_xticklabels([f"{n:,}" for n in sizes])
    delay.set_xticklabels([f"{n:,}\n({rates.get(n, 0):,.0f} msg/s in)" for n in sizes])
    speed.set_xlabel("clients in the room")
    delay.set_xlabel("clients in the room (input rate)")
    speed.set_ylabel("lines delivered per second, all clients")
    speed.set_title("How much gets through (closed loop)")
    delay.set_ylabel("delivery latency (ms)")
    delay.set_title("How long a line takes (steady input rate)")
    figure.legend(*speed.get_legend_handles_labels(), loc="lower center", ncol=len(servers), frameon=False)
    figure.tight_layout(rect=(0, 0.07, 1, 1))
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


class SideBySide:
    """Code from the kit's modules next to each other, for a notebook (not pasted: read live)."""

    def __init__(self, *objects):
        from chatkit.views import Source

        self.sources = [Source(obj) for obj in objects]

    def _repr_html_(self):
        cells = "".join(
            f'<td style="vertical-align:top;text-align:left;padding:0 1em 0 0"><b><code>{html.escape(s.header)}</code></b>'
            f'<pre style="font-family:monospace;white-space:pre;font-size:85%;line-height:1.25;text-align:left">'
            f'{html.escape("".join(s.code))}</pre></td>'
            for s in self.sources)
        return f"<table><tr>{cells}</tr></table>"

    def __repr__(self):
        return "\n\n".join(str(source) for source in self.sources)


def run(clients=(10, 100, 1000), servers=("5", "ref", "6"), seconds=2.0, rate=1000.0, max_deliveries=100_000,
        show=print):
    """Measure every server at every crowd size; return (rows, loopback baselines)."""
    fd_limit = raise_fd_limit(max(clients) + 200)
    baselines = [loopback(seconds, batched=True), loopback(seconds, batched=False)]
    show(table(baselines, baselines[0].delivered_per_s))
    rows = []
    for count in clients:
        if count + 100 > fd_limit:
            show(f"{count:>7,}  skipped: needs {count + 100} open files, the system allows {fd_limit} (ulimit -n)")
            continue
        for name in servers:
            rows.append(measure_server(name, count, seconds, min(rate, max_deliveries / count), fd_limit))
            show(table([rows[-1]], baselines[0].delivered_per_s).splitlines()[-1])
    return rows, baselines


def add_arguments(parser):
    parser.add_argument("--clients", default=DEFAULT_CLIENTS,
                        help=f"crowd sizes, comma-separated (default {DEFAULT_CLIENTS})")
    parser.add_argument("--servers", default="5,ref,6",
                        help="servers to compare: stage numbers, 'ref', or a module with a RunServer class "
                             "(default 5,ref,6)")
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each measurement (default 2)")
    parser.add_argument("--rate", type=float, default=1000.0,
                        help="messages per second sent in for the latency measurement (default 1000)")
    parser.add_argument("--max-deliveries", type=float, default=100_000,
                        help="lower the rate for big crowds so rate x clients stays under this (default 100000)")
    parser.add_argument("--plot", default=DEFAULT_PLOT, help=f"where to save the plot (default {DEFAULT_PLOT})")
    parser.add_argument("--no-plot", action="store_true", help="do not draw the plot")


def main(args):
    try:
        clients = [int(count) for count in args.clients.split(",")]
    except ValueError:
        print(f"--clients takes numbers separated by commas, like 10,100; not {args.clients!r}", file=sys.stderr)
        return 2
    servers = [name.strip() for name in args.servers.split(",")]
    try:
        for name in servers:
            server_spec(name)
    except ValueError as error:
        print(f"--servers: {error}", file=sys.stderr)
        return 2
    fd_limit = raise_fd_limit(max(clients) + 200)
    print("\n".join(conditions(args, fd_limit)), end="\n\n", flush=True)
    rows, baselines = run(clients, servers, args.seconds, args.rate, args.max_deliveries,
                          show=lambda text: print(text, flush=True))
    print()
    print("\n".join(conditions(args, fd_limit)[2:3]))  # the load average again, at the end
    print()
    print(table(baselines + rows, baselines[0].delivered_per_s))
    if not args.no_plot:
        print(f"\nplot saved to {plot(rows, baselines, args.plot)}")
    return 0
