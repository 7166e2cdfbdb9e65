"""A sequence diagram of a chat exchange, drawn as SVG (no plotting library needed).

           alice            server            bob
             |                 |                |
    0.012 s  |--- 안녕 ------->|                |      alice says something
             |<-- alice: 안녕 -|-- alice: 안녕 ->|      the server fans it out
             |                 |                |

Clients are lanes, half on each side of the server, time runs downwards
(one step per line, not to scale: the times are written on the left). An
arrowhead on a lane means that client heard the line; a lane the line
passes without an arrowhead did not hear it. Build one with
``server.diagram()`` or ``chatkit.lab.views.sequence_diagram(server)``.

For the servers of one shared room (``sequence_diagram([a, b])``) each
server has its clients beside it and Redis has a lane between them: a line
said on A goes to A, which gives it to its own members at once and
PUBLISHes it (dashed, to Redis); the members on B hear it from Redis, through
B (a dot on B's lane), a little later.
"""

import html

from chatkit.lab.tables import visible
from chatkit.tools.language import columns, translated as _

SERVER = "server"  # the lane in the middle, and the sender of the server's own lines
REDIS = "Redis"  # the lane between the servers of a shared room

LANE_GAP = 190  # pixels between two lanes
LEFT_MARGIN = 80  # room for the times
TOP = 56  # below the name boxes
STEP = 30  # pixels per arrow
SAME_MOMENT = 0.1  # seconds: listeners who heard a line closer together than this share one arrow
CHAR_PIXELS = 6.6  # width of a narrow character at the font size used; Hangul takes two
FONT = "font-family='DejaVu Sans, NanumGothic, Noto Sans CJK KR, sans-serif' font-size='12'"


def fit(text, pixels):
    """`text` made visible and cut so that it fits in about `pixels` pixels."""
    text = visible(text, limit=200)
    while columns(text) * CHAR_PIXELS > pixels and len(text) > 1:
        text = text[:-2] + "…"
    return text


class SequenceDiagram:
    """An SVG picture of `lines` (chatkit.lab.views.Line) between clients and the server."""

    def __init__(self, labels, lines, title="", colours=None, homes=None):
        """homes: {server name: [labels of its clients]}, for the servers of one shared room."""
        if homes is None:
            half = (len(labels) + 1) // 2
            self.lanes = labels[:half] + [SERVER] + labels[half:]
            self.home = {label: SERVER for label in labels}
        else:  # A's clients, A, Redis, B, B's clients, C, C's clients...
            first, *rest = homes
            self.lanes = homes[first] + [first, REDIS] + [lane for name in rest for lane in [name] + homes[name]]
            self.home = {label: name for name, labels in homes.items() for label in labels}
        self.servers = set(self.home.values()) | {SERVER, REDIS}
        self.lines = lines
        self.title = title
        self.colours = colours or {}
        self.x = {name: LEFT_MARGIN + LANE_GAP * (i + 0.5) for i, name in enumerate(self.lanes)}
        self.svg = self.draw()

    def colour(self, name):
        return self.colours.get(name, "#555")

    def arrow(self, start, end, y, colour, heads=()):
        """A horizontal line from lane `start` to lane `end`, with arrowheads on the `heads` lanes."""
        x1, x2 = self.x[start], self.x[end]
        parts = [f"<line x1='{x1}' y1='{y}' x2='{x2}' y2='{y}' stroke='{colour}' stroke-width='1.6'/>"]
        for lane in heads or [end]:
            x = self.x[lane]
            back = -8 if x2 > x1 else 8
            parts.append(f"<polygon points='{x},{y} {x + back},{y - 4} {x + back},{y + 4}' fill='{colour}'/>")
        return parts

    def time_label(self, seconds, y):
        return f"<text x='6' y='{y + 4}' fill='#777' {FONT}>{seconds:.3f} s</text>"

    def label(self, text, x, y, colour, anchor="middle"):
        return f"<text x='{x}' y='{y - 5}' text-anchor='{anchor}' fill='{colour}' {FONT}>{html.escape(text)}</text>"

    def events(self):
        """(time, "said" or "heard", line, listeners) in the order they happened.

        A line is drawn where it was said and again where it was heard, so a
        line that waited (stage 2's second client) shows up late, in its place.
        Listeners who heard it far apart in time get an arrow each, and so do
        listeners who heard it from another lane (in a shared room: their
        server, or Redis).
        """
        found = []
        for line in self.lines:
            if line.sender != SERVER:
                found.append((line.time, "said", line, []))
            by_source = {}
            for who, when in sorted(line.heard_by, key=lambda heard: heard[1]):
                by_source.setdefault(self.source(line, who), []).append((who, when))
            for heard in by_source.values():
                group = []
                for who, when in heard:
                    if group and when - group[0][1] > SAME_MOMENT:
                        found.append((group[0][1], "heard", line, [w for w, _ in group]))
                        group = []
                    group.append((who, when))
                found.append((group[0][1], "heard", line, [w for w, _ in group]))
        return sorted(found, key=lambda event: (event[0], event[1] == "heard"))

    def source(self, line, listener):
        """The lane `listener` heard `line` from: its server, or Redis if it was said on another server."""
        home = self.home.get(listener, SERVER)
        if line.sender == SERVER or self.home.get(line.sender, SERVER) == home:
            return home
        return REDIS

    def said(self, line, y):
        """The sender's arrow to its server (and, in a shared room, the server's PUBLISH to Redis)."""
        colour, x, home = self.colour(line.sender), self.x[line.sender], self.home[line.sender]
        toward = 1 if self.x[home] > x else -1
        note = line.note.replace("line ", "").replace(" sent", "")  # "1 of 2 at once", to fit
        said = f"{line.said} ({note})" if note else line.said
        parts = [self.time_label(line.time, y), *self.arrow(line.sender, home, y, colour),
                 self.label(fit(said, LANE_GAP - 20), x + toward * 10, y, colour, "start" if toward > 0 else "end")]
        if line.heard is None and line.note not in ("nickname", "command"):
            nobody = html.escape(_("nobody heard it"))
            parts.append(f"<text x='{self.x[home] + toward * 8}' y='{y + 4}' fill='#999' "
                         f"text-anchor='{'start' if toward > 0 else 'end'}' {FONT}>✕ {nobody}</text>")
        elif any(self.source(line, who) == REDIS for who, _ in line.heard_by):
            x1, x2 = self.x[home], self.x[REDIS]
            parts.append(f"<line x1='{x1}' y1='{y}' x2='{x2}' y2='{y}' stroke='#999' stroke-width='1.4' "
                         "stroke-dasharray='5 3'/>")
            parts.append(f"<polygon points='{x2},{y} {x2 - 8 if x2 > x1 else x2 + 8},{y - 4} "
                         f"{x2 - 8 if x2 > x1 else x2 + 8},{y + 4}' fill='#999'/>")
        return parts

    def heard(self, line, listeners, when, y):
        """The fan-out: one line per side of its source, an arrowhead on every listener's lane.

        From Redis, a dot marks each server the line passes through to its members.
        """
        colour, parts = self.colour(line.sender), [self.time_label(when, y)]
        source = self.source(line, listeners[0])
        for side in (-1, 1):
            lanes = [lane for lane in listeners if (self.x[lane] - self.x[source]) * side > 0]
            if lanes:
                farthest = max(lanes, key=lambda lane: abs(self.x[lane] - self.x[source]))
                parts += self.arrow(source, farthest, y, colour, heads=lanes)
                parts.append(self.label(fit(line.heard, LANE_GAP - 20), self.x[source] + side * 10, y, colour,
                                        "start" if side > 0 else "end"))
        if source == REDIS:
            for server in {self.home[lane] for lane in listeners}:
                parts.append(f"<circle cx='{self.x[server]}' cy='{y}' r='3.5' fill='{colour}'/>")
        return parts

    def draw(self):
        """Build the SVG text."""
        rows = []
        y = TOP + 20
        for when, kind, line, listeners in self.events():
            rows.append(self.said(line, y) if kind == "said" else self.heard(line, listeners, when, y))
            y += STEP
        height = y + 10
        total_width = LEFT_MARGIN + LANE_GAP * (len(self.lanes) + 0.5)  # room for a note right of the last lane
        out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{total_width}' height='{height}' "
               f"viewBox='0 0 {total_width} {height}'>",
               "<rect width='100%' height='100%' fill='white'/>"]
        if self.title:
            out.append(f"<text x='6' y='14' fill='#333' {FONT}>{html.escape(self.title)}</text>")
        for name in self.lanes:
            x, colour = self.x[name], self.colour(name)
            box_width = LANE_GAP - 40
            out.append(f"<line x1='{x}' y1='{TOP}' x2='{x}' y2='{height - 6}' stroke='#bbb' stroke-dasharray='4 4'/>")
            out.append(f"<rect x='{x - box_width / 2}' y='22' width='{box_width}' height='{TOP - 26}' rx='6' "
                       f"fill='{'#fde8e4' if name == REDIS else '#eee' if name in self.servers else 'white'}' "
                       f"stroke='{colour}'/>")
            out.append(f"<text x='{x}' y='{TOP - 10}' text-anchor='middle' fill='{colour}' font-weight='bold' "
                       f"{FONT}>{html.escape(fit(name, box_width - 10))}</text>")
        for parts in rows:
            out += parts
        out.append("</svg>")
        return "\n".join(out)

    def _repr_svg_(self):
        return self.svg

    def save(self, path):
        """Write the SVG to `path` (open it in a browser)."""
        with open(path, "w", encoding="utf-8") as file:
            file.write(self.svg)

    def __repr__(self):
        clients = [lane for lane in self.lanes if lane not in self.servers]
        servers = sorted(set(self.home.values()) - {SERVER}) or ["the server"]
        return (f"<sequence diagram: {len(self.lines)} lines between {', '.join(servers)} "
                f"and {', '.join(clients) or 'no client'}>")
