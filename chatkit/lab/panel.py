"""A chat window inside the notebook (ipywidgets), for machines with no screen at all.

    server = LiveServer()
    panel = ChatPanel(server, "alice")   # the last line of a cell shows it
    panel.say("안녕하세요")                # what typing it and pressing Enter does
    panel.wait_for("bob: hi")            # wait until a line shows up
    LeaveButton(panel, then=stop_all)    # the last cell: leave (and stop the server) when you are done

On a JupyterHub, over SSH or in WSL without an X server, a Tk window
cannot open (`python -m chatkit doctor` says why); the browser that shows
the notebook can still show this panel.

    network thread:  Connection -> receive() -> ChatSession -> widget values
    kernel thread:   Enter or Send -> submit() -> ChatSession -> Connection.send

Unlike Tk, ipywidgets may be changed from any thread: each change is a
message to the browser, queued through the kernel's own I/O thread (the
ipywidgets docs update a progress bar from a thread the same way). What
must not happen is the two threads changing the ChatSession at the same
time, or writing their widget values in a different order than they
changed it: one lock makes each update whole.
"""

import html
import os
import threading
import warnings

import ipywidgets as widgets

from chatkit.session import COLOURS, ChatSession, Connection

SHOWN_LINES = 300  # older lines are dropped from the panel (the HTML is redrawn on every line)
LEAVE_TIMEOUT = 2.0  # seconds close() waits for the server's goodbye
_open_panels = {}  # (address, nick) -> ChatPanel: a re-run cell replaces its panel


class ChatPanel:
    """A chat client drawn with ipywidgets, connected to a LiveServer (or any host and port)."""

    def __init__(self, server, nick=None, height="300px", lang=None):
        """lang="ko": the panel's own words in Korean (default: the kit's language, CHATKIT_LANG or the locale)."""
        host, port = server.address if hasattr(server, "address") else server
        self.key = (f"{host}:{port}", nick)
        previous = _open_panels.pop(self.key, None) if nick else None
        if previous is not None:
            previous.close()
        self.lock = threading.Lock()  # one thread at a time changes the session and the widgets
        self.changed = threading.Condition(self.lock)  # notified on every line, for wait_for
        self.shown = []  # the Lines in the message list
        self.connection = Connection(host, port)
        self.session = ChatSession(self.connection.send, nick, lang=lang)
        self._ = self.session._
        self.build(height)
        with self.lock:
            self.redraw()
        self.connection.start(on_line=self.receive, on_closed=self.connection_closed)
        if nick:
            _open_panels[self.key] = self

    def build(self, height):
        self.status = widgets.HTML()
        self.messages = widgets.HTML(layout=widgets.Layout(flex="1 1 auto", width="auto"))
        self.members = widgets.HTML(layout=widgets.Layout(width="170px", margin="0 0 0 8px"))
        self.entry = widgets.Text(placeholder=self._("Type a message, press Enter"),
                                  layout=widgets.Layout(flex="1 1 auto", width="auto"))
        with warnings.catch_warnings():
            # ipywidgets 8 suggests continuous_update=False instead, which also
            # sends when the box merely loses focus: a chat must send on Enter only.
            warnings.simplefilter("ignore", DeprecationWarning)
            self.entry.on_submit(lambda _: self.submit())
        self.send_button = widgets.Button(description=self._("Send"), layout=widgets.Layout(width="80px"))
        self.send_button.on_click(lambda _: self.submit())
        self.height = height
        self.widget = widgets.VBox([
            self.status,
            widgets.HBox([self.messages, self.members]),
            widgets.HBox([self.entry, self.send_button]),
        ], layout=widgets.Layout(max_width="900px"))

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def receive(self, text):
        """A line from the server (network thread)."""
        with self.lock:
            self.add(self.session.receive(text))
            self.redraw()

    def submit(self):
        """Send what is in the entry box (kernel thread: Enter or the Send button)."""
        with self.lock:
            self.add(self.session.submit(self.entry.value))
            self.entry.value = ""
            self.redraw()
            hang_up = self.session.state == "leaving" and self.session.nick is None  # /quit before joining
        if hang_up:
            self.connection.close()  # not under the lock: the reading thread needs it to finish

    def connection_closed(self):
        with self.lock:
            self.add(self.session.closed())
            self.entry.disabled = self.send_button.disabled = True
            self.redraw()

    def add(self, line):
        if line is not None:
            self.shown.append(line)
            del self.shown[:-SHOWN_LINES]
        self.changed.notify_all()

    def redraw(self):
        """Set every widget from the session (with the lock held)."""
        colour, text = self.session.status(self.connection.address)
        self.status.value = f'<span style="color:{colour}">● {html.escape(text)}</span>'
        rows = "".join(render(line) for line in self.shown)
        # column-reverse keeps the view scrolled to the newest line each time it is redrawn
        self.messages.value = (
            f'<div style="height:{self.height}; overflow-y:auto; display:flex; flex-direction:column-reverse;'
            f' background:white; color:black; border:1px solid #d0d4da; padding:6px 8px; line-height:1.5">'
            f'<div>{rows}</div></div>')
        names = "".join(
            f'<div style="color:{self.session.colour(nick)}">'
            f'{html.escape(nick)}{self._(" (you)") if nick == self.session.nick else ""}</div>'
            for nick in self.session.members)
        title = (self._("In the room ({count})").format(count=self.session.count) if self.session.members
                 else self._("In the room"))
        self.members.value = (
            f'<div style="height:{self.height}; overflow-y:auto; background:white; color:black;'
            f' border:1px solid #d0d4da; padding:6px 8px; line-height:1.5"><b>{title}</b>{names}</div>')

    def say(self, text):
        """Type `text` into the entry box and press Enter."""
        self.entry.value = text
        self.submit()

    def lines(self):
        """The message list as text: "alice: hi" for messages, the server's words for the rest."""
        with self.lock:
            return [plain(line) for line in self.shown]

    def wait_for(self, text, timeout=5.0):
        """Wait until a line containing `text` is shown; return it."""
        with self.changed:
            found = self.changed.wait_for(
                lambda: next((plain(line) for line in self.shown if text in plain(line)), None), timeout)
            if found is None:
                seen = [plain(line) for line in self.shown[-10:]]
                raise AssertionError(f"the panel did not show {text!r} within {timeout:g} s; last lines: {seen}")
            return found

    @property
    def state(self):
        return self.session.state

    def close(self):
        """Leave the room (/quit), wait briefly for the server's goodbye, hang up."""
        with self.lock:
            chatting = self.session.state == "chatting"
            if chatting:
                self.session.submit("/quit")
                self.redraw()
        if chatting:
            with self.changed:
                self.changed.wait_for(lambda: self.session.state == "left", LEAVE_TIMEOUT)
        self.connection.close()
        if _open_panels.get(self.key) is self:
            del _open_panels[self.key]

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return f"<ChatPanel {self.session.nick or '(no nickname yet)'} at {self.connection.address}, {self.state}>"


class LeaveButton:
    """A button that leaves the room (``panel.close()``), then calls `then` (``stop_all``) and shows what it said.

    A notebook's last cell usually stops everything; with Run All that would
    close the panel the moment it opened. This button waits for the student.
    Run unattended (the kit's notebook test, which sets PYTEST_CURRENT_TEST),
    nobody can click: it leaves at once and prints what `then` said.
    """

    def __init__(self, panel, then=None, description="I am done: leave the room"):
        self.panel, self.then = panel, then
        self.button = widgets.Button(description=description, layout=widgets.Layout(width="260px"))
        self.said = widgets.Output()
        self.button.on_click(lambda _: self.leave())
        self.widget = widgets.VBox([self.button, self.said])
        if "PYTEST_CURRENT_TEST" in os.environ:
            print(self.leave())

    def leave(self):
        """Leave and stop; what `then` returned (also shown under the button). Twice is harmless."""
        self.button.disabled = True
        self.panel.close()
        result = str(self.then()) if self.then is not None else "left the room"
        self.said.append_stdout(result + "\n")
        return result

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def plain(line):
    return f"{line.sender}: {line.text}" if line.kind == "message" else line.text


def render(line):
    """One Line as HTML; everything people typed is escaped."""
    time = f'<span style="color:{COLOURS["time"]}; font-size:85%">{line.time}</span>&nbsp; '
    if line.kind == "message":
        background = f' style="background:{COLOURS["mine"]}"' if line.mine else ""
        return (f'<div{background}>{time}<b style="color:{line.colour}">{html.escape(line.sender)}</b>&nbsp; '
                f'{html.escape(line.text)}</div>')
    style = "font-weight:bold" if line.kind == "prompt" else "font-style:italic"
    return f'<div>{time}<span style="color:{line.colour}; {style}">{html.escape(line.text.removeprefix("* "))}</span></div>'
