"""The bench's report: what it was measured on, the table, and the plot."""

import os
import platform
import sys
import time

from chatkit.tools import plots
from chatkit.tools.bench.measure import BOUND_MS, IN_FLIGHT, OBSERVERS, RAMP_START, TALKERS
from chatkit.tools.language import N_, columns, translator

_ = translator()  # the headings and the plot's words in the kit's language (CHATKIT_LANG, else the locale)


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
        "          lost: lines that did not arrive intact in that second part (missing, merged or cut),",
        "          reord: lines heard after a later line of the same sender;",
        f"          sustained: the same open loop, {args.seconds:g} s a step, from {RAMP_START:,} lines/s doubling "
        f"each step: the highest rate with nothing lost or reordered and p99 <= {BOUND_MS:g} ms",
        "          (a step over the bound is tried once more before the ramp stops);",
        "          NAME xN, one room: N servers sharing one room through a redis-server of the bench's own, the",
        "          clients spread over them (their threads, memory and CPU added up); redis CPU: Redis's share of",
        "          a core; hop ms: p50 of lines heard on another server than the sender's, minus on its own",
    ]


def step_line(row, step):
    """One step of the sustained ramp, printed as it is measured."""
    def ms(seconds):
        return "-" if seconds is None else f"{seconds * 1000:.1f}"

    verdict = "ok" if step.passed else "over the bound" if not step.lost and not step.reordered else "lost lines"
    return (f"         ramp {row.server:<27} {step.rate_in:>9,.0f} msg/s in = {step.delivered:>11,.0f} lines/s  "
            f"p50 {ms(step.p50)}  p99 {ms(step.p99)}  p999 {ms(step.p999)} ms  lost {step.lost:,}  "
            f"reordered {step.reordered:,}  {verdict}")


# The table's columns: heading (translated when shown: CHATKIT_LANG=ko), width, alignment.
COLUMNS = [(N_("clients"), 7, ">"), (N_("server"), 27, "<"), (N_("threads"), 7, ">"), ("KiB/client", 10, ">"),
           (N_("delivered/s"), 12, ">"), (N_("of limit"), 8, ">"), (N_("srv CPU"), 7, ">"), (N_("crowd CPU"), 9, ">"),
           (N_("in msg/s"), 8, ">"), ("p50 ms", 7, ">"), ("p99 ms", 7, ">"), ("p999 ms", 7, ">"), (N_("lost"), 5, ">"),
           (N_("reord"), 5, ">"), (N_("sustained/s"), 12, ">"), (N_("at p99"), 6, ">"), ("hop ms", 6, ">"),
           ("redis CPU", 9, ">")]


def padded(text, width, align):
    space = " " * max(0, width - columns(text))
    return text + space if align == "<" else space + text


def table(rows, limit):
    """The rows as text, one server per line, grouped by crowd size."""
    def number(value, unit=""):
        return "-" if value is None else f"{value:,.0f}{unit}"

    def ms(seconds):
        return "-" if seconds is None else f"{seconds * 1000:.1f}"

    headings = [_(heading) for heading, _width, _align in COLUMNS]
    widths = [max(width, columns(heading)) for heading, (_, width, _align) in zip(headings, COLUMNS)]

    def line(cells):
        text = [padded(cell, width, align) for cell, width, (_, _w, align) in zip(cells, widths, COLUMNS)]
        return f"{text[0]}  " + " ".join(text[1:])

    header = line(headings)
    out = [header, "-" * columns(header)]
    for row in rows:
        share = f"{100 * row.delivered_per_s / limit:.1f}%" if limit else "-"
        memory = None if row.memory_per_client is None else row.memory_per_client / 1024
        cpu = "-" if row.server_cpu is None else f"{100 * row.server_cpu:.0f}%"
        crowd = "-" if row.crowd_cpu is None else f"{100 * row.crowd_cpu:.0f}%"
        redis = "-" if row.redis_cpu is None else f"{100 * row.redis_cpu:.0f}%"
        out.append(line([f"{row.clients:,}", row.server, number(row.threads), number(memory),
                         number(row.delivered_per_s), share, cpu, crowd, number(row.rate_in), ms(row.p50),
                         ms(row.p99), ms(row.p999), number(row.lost), number(row.reordered), number(row.sustained),
                         ms(row.sustained_p99), ms(row.hop), redis])
                   + (f"  {row.note}" if row.note else ""))
    return "\n".join(out)


def plot(rows, baselines, path):
    """Save delivered/s and latency against crowd size, one colour per server; return the path."""
    plt = plots.pyplot()  # Agg, and a font with Hangul: the labels may be Korean

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
    delay.annotate(_("target: p99 under 50 ms"), (0.01, 50), xycoords=("axes fraction", "data"), xytext=(0, 3),
                   textcoords="offset points", fontsize=8, color="red")
    delay.plot([], [], color="black", marker="o", label=_("p99 (99 in 100 lines faster)"))
    delay.plot([], [], color="black", marker=".", linestyle=":", label=_("p50 (half the lines faster)"))
    delay.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0, 0.93))
    rates = {row.clients: row.rate_in for row in rows if row.rate_in}
    for axes in (speed, delay):
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xticks(sizes)
        axes.minorticks_off()
        axes.grid(True, alpha=0.3)
    speed.set_xticklabels([f"{n:,}" for n in sizes])
    delay.set_xticklabels([f"{n:,}\n" + _("({rate} msg/s in)").format(rate=f"{rates.get(n, 0):,.0f}") for n in sizes])
    speed.set_xlabel(_("clients in the room"))
    delay.set_xlabel(_("clients in the room (input rate)"))
    speed.set_ylabel(_("lines delivered per second, all clients"))
    speed.set_title(_("How much gets through (closed loop)"))
    delay.set_ylabel(_("delivery latency (ms)"))
    delay.set_title(_("How long a line takes (steady input rate)"))
    figure.legend(*speed.get_legend_handles_labels(), loc="lower center", ncol=len(servers), frameon=False)
    figure.tight_layout(rect=(0, 0.07, 1, 1))
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
