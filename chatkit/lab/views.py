"""What a live run looks like: tables a notebook renders and a terminal prints.

    transcript(server)        who said what, what the others heard, and when
    sequence_diagram(server)  the same exchange as a picture   (chatkit.lab.diagram)
    transcript([a, b, c])     the same for the servers of one shared room, together (Redis between them)
    thread_view(server)       the server's threads, and what each one waits for
    server_log(server)        what the server logged or printed
    source(obj)               the code of a class or function, from its module
    SideBySide(a, b, ...)     the code of several, next to each other (read live, never pasted)

Each returns an object that Jupyter shows as HTML (or SVG) and plain Python
prints as text. The transcript is rebuilt from what the LiveClients
recorded (every line sent and received, with the time), so it shows what
really crossed the network, not what the server meant to send.
"""

import dataclasses
import html
import inspect
import linecache
import pathlib
import re
import sys
import textwrap
import threading

import chatkit
from chatkit.lab.diagram import SERVER, SequenceDiagram
from chatkit.lab.tables import Table, visible
from chatkit.lab.wait import wait_until
from chatkit.protocol import clean_text
from chatkit.tools.language import N_
from chatkit.tools.language import translated as _

SAME_BROADCAST_WINDOW = 1.0  # seconds: copies of one line heard further apart are separate lines
LANE_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]


# --- the transcript -----------------------------------------------------------


@dataclasses.dataclass
class Line:
    """One line in the exchange: who said it, what they typed, what arrived, and where."""

    time: float  # seconds since the server started: when it was said, or first heard
    sender: str  # a client's label, or "server" for the server's own lines
    said: str | None  # what the sender typed (None for the server's lines)
    heard: str | None  # the line as it arrived (None if nobody heard it)
    heard_by: list = dataclasses.field(default_factory=list)  # [(client label, seconds)]
    note: str = ""


class Together:
    """The servers of one shared room seen as one: all their clients, on the room's one clock."""

    asks_nickname = True

    def __init__(self, servers):
        self.servers = list(servers)
        self.name = " + ".join(server.name for server in self.servers)
        self.history = [client for server in self.servers for client in server.history]

    def homes(self):
        """{server name: [the labels of its clients]}, for the sequence diagram."""
        return {server.name: [client.label for client in server.history] for server in self.servers}


def together(server):
    """A server, or a list of servers of one room as one (Together)."""
    return Together(server) if isinstance(server, (list, tuple)) else server


def exchange(server, clients=None, since=0.0):
    """The lines of a LiveServer's clients' conversation, in order, as `Line`s.

    Only what was heard from `since` on (seconds since the server started),
    and said a little before, so that a long run (a flood of 8 MB) stays quick.
    """
    clients = list(server.history if clients is None else clients)
    lines, copies = [], {}  # copies: heard text -> the Lines carrying it
    for client in clients:
        for when, text in list(client.received):
            if when < since:
                continue
            line = closest_copy(copies.get(text, []), client, when)
            if line is None:
                line = Line(when, SERVER, None, text)
                lines.append(line)
                copies.setdefault(text, []).append(line)
            line.heard_by.append((client.label, when))
            line.time = min(line.time, when)
    relayed = {}  # a relayed text, with and without its "nick: " prefix -> Lines in time order
    for line in sorted(lines, key=lambda line: line.time):
        for key in {line.heard, line.heard.partition(": ")[2]}:
            relayed.setdefault(key, []).append(line)
    for client in clients:
        for index, (when, text) in enumerate(client.sent):
            if when < since - SAME_BROADCAST_WINDOW:
                continue
            if index == 0 and server.asks_nickname and text == client.nick:
                lines.append(Line(when, client.label, text, None, note="nickname"))
                continue
            parts = text.removesuffix("\n").split("\n")
            for number, part in enumerate(parts, 1):
                note = f"line {number} of {len(parts)} sent at once" if len(parts) > 1 else ""
                line = relayed_copy(relayed, when, part)
                if line is None:
                    note = note or ("command" if part.startswith("/") else "")
                    lines.append(Line(when, client.label, part, None, note=note))
                else:
                    line.sender, line.said, line.time, line.note = client.label, part, when, note
    return sorted(lines, key=lambda line: line.time)


def recent(server, clients, count):
    """The time from which `clients` heard or said about `count` lines (0.0: all of it)."""
    clients = list(server.history if clients is None else clients)
    times = sorted(when for client in clients for when, _ in list(client.received) + list(client.sent))
    enough = count * (len(clients) + 1)  # a line may be heard by every client
    return times[-enough] if count and len(times) > enough else 0.0


def closest_copy(candidates, client, when):
    """The Line, among identical ones, that `client` heard at about `when` (one copy each).

    A copy someone heard before `client` even connected was another line.
    """
    fitting = [c for c in candidates if client.label not in dict(c.heard_by) and c.time >= client.connected_at
               and abs(c.time - when) < SAME_BROADCAST_WINDOW]
    return min(fitting, key=lambda c: abs(c.time - when), default=None)


def relayed_copy(relayed, when, text):
    """The first line heard after `when` that carries `text` (as is, or as "nick: text")."""
    cleaned = clean_text(text).strip()  # the reference server removes escape sequences
    candidates = relayed.get(text, []) + (relayed.get(cleaned, []) if cleaned != text else [])
    fitting = [line for line in candidates if line.sender == SERVER and line.time >= when]
    return min(fitting, key=lambda line: line.time, default=None)


def lane_colours(server):
    """A colour for each client of the server, in the order they connected."""
    return {client.label: LANE_COLOURS[i % len(LANE_COLOURS)] for i, client in enumerate(server.history)}


def transcript(server, clients=None, last=40):
    """The conversation as a table: time, who, what they said, what arrived, who heard it.

    `server` may be a list: the servers of one shared room, in one table.
    """
    server = together(server)
    since = recent(server, clients, last)
    lines = exchange(server, clients, since)
    shown = lines[-last:] if last else lines
    rows = []
    for line in shown:
        if line.note == "nickname":
            heard_by = _("the server (answer to the nickname question)")
        elif line.note == "command":
            heard_by = _("the server (a command)")
        elif line.heard_by:
            heard_by = ", ".join(f"{who} +{(t - line.time) * 1000:.1f} ms" for who, t in line.heard_by)
        else:
            heard_by = _("nobody")
        said = "—" if line.said is None else visible(line.said)
        if line.note and line.note not in ("nickname", "command"):
            said += f"  ({line.note})"
        rows.append([f"{line.time:.3f}", line.sender, said,
                     "—" if line.heard is None else visible(line.heard), heard_by])
    note = _("(earlier lines not shown: transcript(last=None) shows them all)") if since or len(shown) < len(lines) else ""
    table = Table([_("time (s)"), _("from"), _("said"), _("heard as"), _("heard by")], rows,
                  title=_("Transcript: {name}").format(name=server.name), note=note, css_class="chatkit-transcript",
                  colours=lane_colours(server))
    table.lines = lines
    return table


def sequence_diagram(server, clients=None, last=30):
    """The conversation as a sequence diagram: clients as lanes, the server in the middle.

    `server` may be a list: the servers of one shared room, each with its
    clients beside it, and Redis between them.
    """
    server = together(server)
    lines = exchange(server, clients, recent(server, clients, last))
    clients = list(server.history if clients is None else clients)
    shown = {client.label for client in clients}
    homes = None if not isinstance(server, Together) else {
        name: [label for label in labels if label in shown] for name, labels in server.homes().items()}
    return SequenceDiagram([c.label for c in clients], lines[-last:] if last else lines,
                           title=_("{name}: who said what to whom").format(name=server.name), colours=lane_colours(server), homes=homes)


# --- the server's log ------------------------------------------------------------


def server_log(server, last=20):
    """The last lines the server logged (or printed from its threads)."""
    entries = server.log_lines[-last:] if last else server.log_lines
    hidden = len(server.log_lines) - len(entries)
    return Table([_("time (s)"), _("server log")], [[f"{t:.3f}", text] for t, text in entries],
                 title=_("Log of {name}").format(name=server.name),
                 note=_("({hidden} earlier lines not shown)").format(hidden=hidden) if hidden else "")


# --- threads -----------------------------------------------------------------------

# (a pattern for "function(): line of code" where a thread waits, what it waits for); first match wins.
# The waits and roles stay English here (code compares them); thread_view() shows them translated.
WAITS = [
    (r"\.accept\(", N_("accept(): a new connection")),
    (r"\.recv\(", N_("recv(): its client to send something")),
    (r"sendall\(", N_("sendall(): room in its client's socket buffer")),
    (r"^take\(\)", N_("its outbox: a line to send")),
    (r"\block\b|\.acquire\(", N_("a lock another thread holds")),
    (r"\.join\(", N_("another thread to finish")),
    (r"\.wait\(", N_("an event (another thread sets it)")),
]


def waiting_for(frame, server):
    """(what the thread waits for, the server's line of code where it waits)."""
    innermost = frame
    while frame is not None and frame.f_code.co_filename not in server.source_files:
        frame = frame.f_back
    if frame is None:
        return N_("(not in the server's code)"), ""
    code = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    where = f"{pathlib.Path(frame.f_code.co_filename).name}:{frame.f_lineno} in {frame.f_code.co_name}(): {code}"
    if innermost.f_code.co_name == "accept" or ".accept(" in inspect.getsource(frame.f_code):
        return N_("accept(): a new connection"), where  # (between two timed-out accept() calls, too)
    for pattern, meaning in WAITS:
        if re.search(pattern, f"{frame.f_code.co_name}(): {code}"):
            return meaning, where
    return (N_("something another thread does") if innermost is not frame else N_("nothing: it is running")), where


def server_threads(server):
    """[(thread, role, what it waits for, where in the code)] for the server's threads now."""
    frames = sys._current_frames()
    lab_threads = {client.thread for client in server.history}
    found = []
    for thread in threading.enumerate():
        frame = frames.get(thread.ident)
        if frame is None or thread in lab_threads:
            continue
        stack, f = [], frame
        while f is not None:
            stack.append(f)
            f = f.f_back
        if thread is server.thread:
            found.append((thread, N_("accept loop (runs server.run())"), *waiting_for(frame, server)))
        elif server.owns(stack):
            found.append((thread, N_("serves one client"), *waiting_for(frame, server)))
    return found


def thread_waits(server):
    """{thread name: what it waits for} for the server's threads now."""
    return {thread.name: waiting for thread, _, waiting, _ in server_threads(server)}


def thread_view(server, wait_for=None, timeout=5):
    """The server's threads right now: the accept loop, one (or two) per client, and their waits.

    wait_for="recv()" first waits (at most `timeout` seconds) until some
    thread waits for that, so that a thread caught between two calls does
    not hide the picture you expect.
    """
    if wait_for is not None:
        try:
            wait_until(lambda: any(wait_for in waiting for waiting in thread_waits(server).values()), timeout,
                       f"a thread waiting for {wait_for}")
        except TimeoutError:
            pass  # show what there is; the table tells what the threads do instead
    found = server_threads(server)
    rows = [[thread.name, _(role), _(waiting), where] for thread, role, waiting, where in found]
    serving = sum(1 for _, role, _, _ in found if role == "serves one client")
    others = threading.active_count() - len(found)
    note = _("{serving} thread(s) serving clients, {clients} client(s) connected; {others} other thread(s) "
             "of this process (the notebook's clients, Jupyter) not shown").format(
        serving=serving, clients=len(server.clients), others=others)
    return Table([_("thread"), _("role"), _("waiting for"), _("where")], rows,
                 title=_("Threads of {name}").format(name=server.name),
                 note=note, css_class="chatkit-threads")


# --- code ------------------------------------------------------------------------------


def kit_path(obj):
    """The file defining `obj`, relative to the kit's folder when it is inside it."""
    path = pathlib.Path(inspect.getsourcefile(obj)).resolve()
    root = pathlib.Path(chatkit.__file__).resolve().parent.parent
    return path.relative_to(root) if path.is_relative_to(root) else path


def where(obj):
    """'chatkit/stages/stage4_broadcast.py:51' for a class, function or method."""
    obj = inspect.unwrap(obj)
    return f"{kit_path(obj)}:{inspect.getsourcelines(obj)[1]}"


class Source:
    """The source of a class or function, shown with the file and line numbers it comes from."""

    def __init__(self, obj):
        self.code, first = inspect.getsourcelines(obj)
        first = max(first, 1)  # a module starts at line 0
        self.path = kit_path(obj)
        self.lines = (first, first + len(self.code) - 1)

    @property
    def header(self):
        return f"{self.path}, lines {self.lines[0]}-{self.lines[1]}"

    def __str__(self):
        return f"# {self.header}\n" + "".join(self.code)

    __repr__ = __str__

    def _repr_markdown_(self):
        return f"`{self.header}`\n\n```python\n{''.join(self.code)}```\n"


def source(obj):
    """Show the code of `obj` (a class, function or method) from the module that defines it."""
    return Source(obj)


class SideBySide:
    """Code from the kit's modules next to each other, for a notebook (not pasted: read live)."""

    def __init__(self, *objects):
        self.sources = [Source(obj) for obj in objects]

    def _repr_html_(self):
        # Equal columns as wide as the notebook: a long line scrolls inside its own column
        # instead of pushing the other one off the page.
        share = f"{100 / max(1, len(self.sources)):.0f}%"
        cells = "".join(
            f'<td style="vertical-align:top;text-align:left;padding:0 1em 0 0;width:{share}">'
            f'<b><code>{html.escape(s.header)}</code></b>'
            f'<pre style="font-family:monospace;white-space:pre;font-size:85%;line-height:1.25;text-align:left;'
            f'overflow-x:auto;max-width:100%">{html.escape(textwrap.dedent("".join(s.code)))}</pre></td>'
            for s in self.sources)
        return f'<table style="table-layout:fixed;width:100%"><tr>{cells}</tr></table>'

    def __repr__(self):
        return "\n\n".join(str(source) for source in self.sources)
