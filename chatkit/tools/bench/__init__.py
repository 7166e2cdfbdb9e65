"""`python -m chatkit bench`: the servers side by side, measured from the client side.

    this process (the crowd: N clients on one selectors loop)  <-- TCP -->  server process
         sends lines stamped with the time they were meant to go           (one server under test,
         out, and reads every line every client receives                    in a process of its own)

For each server and each crowd size the bench measures, in one run,
delivered lines per second (batched: many lines on their way), latency at
a steady input rate (p50/p99/p999, lost, reordered), the sustained rate
(an open-loop ramp: the highest rate with nothing lost and p99 under a
bound), and the server's threads, memory and CPU (measure.py), beside the
loopback limit: one socket pair sending chat-sized lines as fast as it
can, in 64 KiB writes and one line per send() (processes.py). Any server
program speaking the protocol can be measured beside the kit's servers
(``--peer LABEL=COMMAND``; benchmarks/peers/ has asyncio, Twisted, uvloop,
socketserver and Go servers). Rows like "reference x2, one room" are 2 (or
4) reference servers sharing one room through Redis (chatkit.sharedroom),
the crowd spread over them, beside the one-server rows: what the extra hop
through Redis costs, and where the bottleneck moves.

The numbers come from real sockets on 127.0.0.1, read by the clients; never
from the server's own counters. The crowd (chatkit.tools.crowd) runs in this
process and the server in another, so the server's threads do not share a
GIL with the clients. The crowd's CPU use is printed too: near 100% it is
the bottleneck.

    measure.py     one Row: a server, a crowd size, the closed and the open loop
    processes.py   the server under test in its own process; the loopback sender
    report.py      the conditions of the run, the table, the plot

Run it:  python -m chatkit bench                      (a few minutes)
         python -m chatkit bench --clients 10,100 --seconds 1 --no-sustained
         python -m chatkit bench --servers ref,6 --peer "go=benchmarks/peers/go/chatpeer {port}"
"""

import sys

from chatkit.tools.bench.measure import Row, measure_server, server_variant
from chatkit.tools.bench.processes import Command, loopback, raise_fd_limit
from chatkit.tools.bench.report import conditions, plot, step_line, table
from chatkit.tools.language import translator

_ = translator()  # the command's help and messages in the kit's language

DEFAULT_CLIENTS = "10,100,1000,2000"
DEFAULT_SERVERS = "5,ref,ref/nagle,6,ref/x2,ref/x4"
DEFAULT_PLOT = "artifacts/bench.png"


def run(clients=(10, 100, 1000), servers=tuple(DEFAULT_SERVERS.split(",")), seconds=2.0, rate=1000.0,
        max_deliveries=100_000, peers=(), sustained=True, ramp_steps=None, show=print):
    """Measure every server (and peer command) at every crowd size; return (rows, loopback baselines)."""
    fd_limit = raise_fd_limit(max(clients) + 200)
    baselines = [Row("loopback, 64 KiB writes", 1, loopback(seconds, batched=True), threads=1),
                 Row("loopback, a send() per line", 1, loopback(seconds, batched=False), threads=1)]
    show(table(baselines, baselines[0].delivered_per_s))
    rows = []
    for count in clients:
        if count + 100 > fd_limit:
            show(f"{count:>7,}  skipped: needs {count + 100} open files, the system allows {fd_limit} (ulimit -n)")
            continue
        for name in list(servers) + list(peers):
            rows.append(measure_server(name, count, seconds, min(rate, max_deliveries / count), fd_limit,
                                       sustained, lambda row, step: show(step_line(row, step)), ramp_steps))
            show(table([rows[-1]], baselines[0].delivered_per_s).splitlines()[-1])
    return rows, baselines


def add_arguments(parser):
    parser.add_argument("--clients", default=DEFAULT_CLIENTS,
                        help=_("crowd sizes, comma-separated (default {default_clients})").format(
                            default_clients=DEFAULT_CLIENTS))
    parser.add_argument("--servers", default=DEFAULT_SERVERS,
                        help=_("servers to compare: stage numbers (5, 6), 'ref', a module or a .py file with a "
                               "RunServer class; NAME/nagle without TCP_NODELAY; NAME/x2 (x3 ... x16) that many "
                               "servers behind one room, through Redis (default {default_servers})").format(
                            default_servers=DEFAULT_SERVERS))
    parser.add_argument("--peer", action="append", default=[], metavar="LABEL=COMMAND",
                        help=_("also measure any server program speaking the protocol; {port} in COMMAND is "
                               "replaced by the port it must listen on (repeat for several)"))
    parser.add_argument("--no-sustained", action="store_true", help=_("skip the sustained ramp (faster)"))
    parser.add_argument("--ramp-steps", type=int, help=_("at most this many steps of the ramp (default: until it "
                                                         "fails)"))
    parser.add_argument("--seconds", type=float, default=2.0, help=_("length of each measurement (default 2)"))
    parser.add_argument("--rate", type=float, default=1000.0,
                        help=_("messages per second sent in for the latency measurement (default 1000)"))
    parser.add_argument("--max-deliveries", type=float, default=100_000,
                        help=_("lower the rate for big crowds so rate x clients stays under this (default 100000)"))
    parser.add_argument("--plot", default=DEFAULT_PLOT, help=_("where to save the plot (default {default_plot})").format(
        default_plot=DEFAULT_PLOT))
    parser.add_argument("--no-plot", action="store_true", help=_("do not draw the plot"))


def main(args):
    try:
        clients = [int(count) for count in args.clients.split(",")]
    except ValueError:
        print(_("--clients takes numbers separated by commas, like 10,100; not {clients!r}").format(
            clients=args.clients), file=sys.stderr)
        return 2
    servers = [name.strip() for name in args.servers.split(",") if name.strip()]
    try:
        for name in servers:
            server_variant(name)
    except ValueError as error:
        print(_("--servers: {error}").format(error=error), file=sys.stderr)
        return 2
    try:
        peers = [Command.parse(text) for text in args.peer]
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    fd_limit = raise_fd_limit(max(clients) + 200)
    print("\n".join(conditions(args, fd_limit)), end="\n\n", flush=True)
    rows, baselines = run(clients, servers, args.seconds, args.rate, args.max_deliveries, peers,
                          not args.no_sustained, args.ramp_steps, show=lambda text: print(text, flush=True))
    print()
    print("\n".join(conditions(args, fd_limit)[2:3]))  # the load average again, at the end
    print()
    print(table(baselines + rows, baselines[0].delivered_per_s))
    if not args.no_plot:
        print("\n" + _("plot saved to {path}").format(path=plot(rows, baselines, args.plot)))
    return 0
