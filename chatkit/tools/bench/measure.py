"""What the bench measures, for one server and one crowd size: a Row of the table.

* delivered/s: chat lines received intact per second by all clients
  together, keeping IN_FLIGHT lines on their way (a closed loop: a new line
  is sent as soon as an earlier one has reached everyone);
* p50 / p99: how long a line took from the moment it was due to be sent to
  the moment a receiving client read it, at a steady input rate (an open
  loop: messages are stamped with their scheduled time, so a server that
  falls behind cannot hide it);
* the server's threads, memory per connection and CPU use, asked of the
  server process itself.
"""

import time
from dataclasses import dataclass, field

from chatkit.tools import servers
from chatkit.tools.bench.processes import ServerProcess
from chatkit.tools.crowd import Crowd, message

IN_FLIGHT = 200  # closed loop: lines on their way at once (at most ~10 KB queued for any client)
TALKERS = 10  # clients who send; everyone listens
OBSERVERS = 100  # clients who read during the latency measurement (the others right after it)
STALL = 10.0  # seconds without progress before a phase gives up
DRAIN = 3.0  # seconds to wait for late lines after a phase; what is still missing is lost


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


def server_choice(name):
    """The server a name of --servers means (chatkit.tools.servers); ValueError says what is wrong."""
    choice = servers.choose(name)
    if not choice.asks_nickname:
        raise ValueError(f"stage {name} has no nicknames and no room to measure: use stage 5 or later")
    return choice


def measure_server(name, clients, seconds, rate, fd_limit):
    """One row: start the server, bring in the crowd, run both loops, stop."""
    choice = server_choice(name)
    row = Row(choice.label, clients)
    server = ServerProcess(choice.name, fd_limit)
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
