"""What the bench measures, for one server and one crowd size: a Row of the table.

* delivered/s: chat lines received intact per second by all clients
  together, keeping IN_FLIGHT lines on their way (a closed loop: a new line
  is sent as soon as an earlier one has reached everyone);
* p50 / p99 / p999: how long a line took from the moment it was due to be
  sent to the moment a receiving client read it, at a steady input rate (an
  open loop: messages are stamped with their scheduled time, so a server that
  falls behind cannot hide it), with the lines lost and reordered;
* sustained: the same open loop as a ramp, the input rate doubling at each
  step, one line per message: the highest rate (lines delivered per second)
  with nothing lost, nothing reordered and p99 under a bound (BOUND_MS); a
  step over the bound is measured once more before the ramp stops;
* the server's threads, memory per connection and CPU use, asked of the
  server process itself;
* for N servers behind one room ("ref/x2"): the same, the crowd spread over
  them, with the servers' threads, memory and CPU added up, Redis's CPU, and
  the hop: how much later (p50) a line reaches the members on the other
  servers than those on its sender's server.
"""

import inspect
import re
import time
from dataclasses import dataclass, field

from chatkit.tools import servers
from chatkit.tools.bench.processes import Command, Room, ServerProcess
from chatkit.tools.crowd import Crowd, message
from chatkit.tools.redisserver import RedisMissing

IN_FLIGHT = 200  # closed loop: lines on their way at once (at most ~10 KB queued for any client)
TALKERS = 10  # clients who send; everyone listens
OBSERVERS = 100  # clients who read during the latency measurement (the others right after it)
STALL = 10.0  # seconds without progress before a phase gives up
DRAIN = 3.0  # seconds to wait for late lines after a phase; what is still missing is lost
BOUND_MS = 50.0  # the sustained ramp's latency bound: p99 under this
RAMP_START = 20_000  # lines/s delivered at the ramp's first step (doubling after each step passed)
RAMP_MAX = 40_000_000  # and never beyond this


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
    p999: float = None
    lost: int = None
    reordered: int = None
    sustained: float = None  # lines/s: the ramp's highest step within the bound
    sustained_p99: float = None  # seconds, at that step
    hop: float = None  # seconds: p50 of lines heard on another server than the sender's, minus on its own
    redis_cpu: float = None  # share of one core Redis used during the closed loop
    note: str = ""
    latencies: list = field(default_factory=list, repr=False)
    steps: list = field(default_factory=list, repr=False)  # the ramp: Step per rate tried


@dataclass
class Step:
    """One step of the sustained ramp."""

    rate_in: float  # messages/s sent
    delivered: float  # lines/s due to arrive (rate_in x clients)
    p50: float
    p99: float
    p999: float
    lost: int
    reordered: int

    @property
    def passed(self):
        return not self.lost and not self.reordered and self.p99 is not None and self.p99 * 1000 <= BOUND_MS


def closed_loop(crowd, server, seconds):
    """Keep IN_FLIGHT lines on their way to everyone; return (deliveries/s, server CPU, crowd CPU, Redis CPU).

    Redis CPU is None but for the servers of a room.
    """
    members = crowd.open_members()
    talkers = members[:TALKERS]
    sent, before = 0, crowd.arrived
    start = time.monotonic()
    warm = start + seconds * 0.2  # the first fifth fills the pipes and is not counted
    measured = None
    last_progress, last_arrived = start, crowd.arrived
    while True:  # on a busy machine one turn can outlast the window: measure at least one turn after the warm-up
        now = time.monotonic()
        if measured is None and now >= warm:
            measured = (now, crowd.delivered, server.stats()["cpu"], time.process_time(), redis_cpu(server))
        elif measured is not None and now >= start + seconds:
            break
        while sent * len(members) - (crowd.arrived - before) < IN_FLIGHT * len(members):
            sent += 1
            crowd.say(talkers[sent % len(talkers)], message(talkers[sent % len(talkers)], sent, time.perf_counter_ns()))
        crowd.turn(0.05)
        if crowd.arrived != last_arrived:
            last_progress, last_arrived = now, crowd.arrived
        elif now - last_progress > STALL:
            raise TimeoutError(f"no line delivered for {STALL:g} s")
    end = (time.monotonic(), crowd.delivered, server.stats()["cpu"], time.process_time(), redis_cpu(server))
    drain(crowd, before + sent * len(members))
    elapsed = end[0] - measured[0]
    return ((end[1] - measured[1]) / elapsed, (end[2] - measured[2]) / elapsed, (end[3] - measured[3]) / elapsed,
            None if end[4] is None else (end[4] - measured[4]) / elapsed)


def redis_cpu(server):
    """CPU seconds the room's Redis used so far, for the servers of a room (None for one server)."""
    return server.redis_cpu() if isinstance(server, Room) else None


def open_loop(crowd, seconds, rate):
    """Send `rate` messages/s for `seconds`; return (latencies, lines lost, lines reordered).

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
    crowd.latencies, crowd.within, crowd.across = [], [], []
    for member in members:
        member.last_heard = {}
    before = crowd.arrived, crowd.delivered, crowd.reordered
    crowd.measuring = crowd.timing = True
    start_ns = crowd.measuring_since = time.perf_counter_ns()
    period_ns = int(1e9 / rate)
    sent = 0
    while (now_ns := time.perf_counter_ns()) < start_ns + seconds * 1e9:
        while start_ns + sent * period_ns <= now_ns:  # every message that is due, stamped when due
            talker = talkers[sent % len(talkers)]
            crowd.say(talker, message(talker, sent, start_ns + sent * period_ns))
            sent += 1
        crowd.turn((start_ns + sent * period_ns - time.perf_counter_ns()) / 1e9)
    drain(crowd, before[0] + sent * len(observers))
    crowd.timing = False  # the others read now: count their lines, but their wait was ours
    crowd.resume()
    drain(crowd, before[0] + sent * len(members))
    crowd.measuring = False
    return crowd.latencies, sent * len(members) - (crowd.delivered - before[1]), crowd.reordered - before[2]


def ramp(crowd, seconds, show=None, most_steps=None):
    """The sustained open loop: double the rate until a step loses, reorders or passes BOUND_MS at p99."""
    clients = len(crowd.open_members())
    steps, delivered, retried = [], RAMP_START, False
    while delivered <= RAMP_MAX and len(steps) < (most_steps or RAMP_MAX):
        latencies, lost, reordered = open_loop(crowd, seconds, delivered / clients)
        steps.append(Step(delivered / clients, delivered, percentile(latencies, 0.50), percentile(latencies, 0.99),
                          percentile(latencies, 0.999), lost, reordered))
        if show:
            show(steps[-1])
        if len(crowd.open_members()) < clients or lost or reordered:
            break
        if not steps[-1].passed:  # over the bound: once more at the same rate (a busy machine hiccups)
            if retried:
                break
            retried = True
            continue
        delivered, retried = delivered * 2, False
    return steps


def drain(crowd, expected):
    """Wait up to DRAIN seconds until `expected` benchmark lines have arrived in all."""
    try:
        crowd.wait_until(lambda: crowd.arrived >= expected, DRAIN, "late lines")
    except TimeoutError:
        pass


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else None


def server_variant(name):
    """(label, name for the server process, Nagle on?, servers behind one room) for a name of --servers.

    "ref/nagle" and "6/nagle" are those servers without TCP_NODELAY (Nagle's
    algorithm on), to show what it costs. "ref/x2", "6/x4": 2 or 4 of those
    servers sharing one room through Redis, the crowd spread over them. A
    .py file's path (slashes and all) may have a variant after it too.
    """
    base, _, variant = name.rpartition("/")  # the variant is after the last "/"
    if not base or name.endswith(".py"):  # a name without one, or a .py file's path without a variant
        base, variant = name, ""
    several = re.fullmatch(r"x([2-9]|1[0-6])", variant)
    if variant not in ("", "nagle") and not several:
        raise ValueError(f"{name!r}: the variants are /nagle (the server without TCP_NODELAY) and /x2 ... /x16 "
                         "(that many servers behind one room)")
    choice = server_choice(base)
    short = choice.label.split(" (")[0]
    if several:
        if "room" not in inspect.signature(choice.load().RunServer).parameters:
            raise ValueError(f"{name!r}: only the reference server and stage 6 can share a room")
        return f"{short} x{several[1]}, one room", choice.name, False, int(several[1])
    return (short + ", no TCP_NODELAY" if variant else choice.label), choice.name, bool(variant), 1


def server_choice(name):
    """The server a name of --servers means (chatkit.tools.servers); ValueError says what is wrong."""
    choice = servers.choose(name)
    if not choice.asks_nickname:
        raise ValueError(f"stage {name} has no nicknames and no room to measure: use stage 5 or later")
    return choice


def measure_server(name, clients, seconds, rate, fd_limit, sustained=True, show_step=None, ramp_steps=None):
    """One row: start the server, bring in the crowd, run the closed loop, the fixed rate, the ramp; stop.

    `name` is a name of --servers, or a Command (any server program).
    """
    if isinstance(name, Command):
        row, server = Row(name.label, clients), name.start(fd_limit)
    else:
        label, server_name, nagle, count = server_variant(name)
        row = Row(label, clients)
        try:
            server = Room(server_name, count, fd_limit) if count > 1 else ServerProcess(server_name, fd_limit, nagle=nagle)
        except RedisMissing as error:
            row.note = f"skipped: {str(error).splitlines()[0]} ({str(error).splitlines()[1].strip()})"
            return row
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
        row.delivered_per_s, row.server_cpu, row.crowd_cpu, row.redis_cpu = closed_loop(crowd, server, seconds)
        row.rate_in = rate
        row.latencies, row.lost, row.reordered = open_loop(crowd, seconds, rate)
        row.p50, row.p99, row.p999 = (percentile(row.latencies, share) for share in (0.50, 0.99, 0.999))
        if crowd.across and crowd.within:
            row.hop = percentile(crowd.across, 0.5) - percentile(crowd.within, 0.5)
        before_ramp = clients - len(crowd.open_members())
        if sustained:
            row.steps = ramp(crowd, seconds, show_step and (lambda step: show_step(row, step)), ramp_steps)
            passed = [step for step in row.steps if step.passed]
            if passed:
                row.sustained, row.sustained_p99 = passed[-1].delivered, passed[-1].p99
        dropped = clients - len(crowd.open_members())
        if before_ramp:  # the batched or fixed-rate rows lost members: their numbers are not the whole crowd's
            row.note = f"{before_ramp} clients disconnected before the ramp"
        elif dropped:  # the ramp goes on until a step fails: a server then cuts off members who fell behind
            row.note = f"{dropped} clients cut off in the ramp's failed step"
    except (TimeoutError, OSError) as error:
        row.note = f"gave up: {error}"
    finally:
        server.close()
        crowd.close()
    return row
