"""The tkinter chat window the report could not open.

    network thread:  Connection -> incoming queue           (never touches a widget)
    Tk thread:       every 50 ms: queue -> ChatSession -> message list, members, status
    Tk thread:       Enter -> ChatSession.submit -> Connection.send

Tk is not thread-safe: only the thread that created the window may change
it. The network thread therefore only puts what it receives in a queue,
and the Tk thread empties that queue on a timer (`after`), between events.

What the server sends is cleaned before it is shown (ChatSession), and a
symbol that no font here can draw is named instead of drawn as an empty
box: without an emoji font, 👍 shows as :thumbs up sign: (the doctor says
which font to install).

Run it:  python -m chatkit gui --nick alice   (after `python -m chatkit serve`)
No window? `python -m chatkit doctor` finds out why and what to do.
"""

import queue
import signal
import sys

try:
    import tkinter
    from tkinter import font as tkfont
    from tkinter import ttk
except ImportError:  # a Python built without Tk: main() explains, the doctor says how to fix it
    tkinter = None

from chatkit.client import add_arguments as add_address_arguments
from chatkit.client import cannot_connect, server_address
from chatkit.session import COLOURS, ChatSession, Connection
from chatkit.tools import doctor
from chatkit.tools.language import translator

_ = translator()  # the window's words in the kit's language (CHATKIT_LANG, else the locale)

POLL_MS = 50  # how often the Tk thread looks at the incoming queue
LEAVE_GRACE_MS = 2000  # how long closing the window waits for the server's goodbye
CLOSED = None  # put in the queue when the connection ends
MAX_LINES = 2000  # the message list forgets older lines
# Fonts with Latin and Hangul, so Korean lines match the rest (the first one installed wins).
HANGUL_FAMILIES = ("Noto Sans CJK KR", "Noto Sans KR", "NanumGothic", "NanumBarunGothic",
                   "Malgun Gothic", "Apple SD Gothic Neo", "UnDotum")


class ChatWindow:
    """The message list, the member list and the entry line of one chat client.

    The widgets have names, so a script can drive the window through Tk's
    `send` (see chatkit.tools.xvfb): .conversation.messages, .sidebar.members,
    .sidebar.title, .entrybar.label, .entrybar.entry, .entrybar.send, .status.
    """

    def __init__(self, root, connection, nick=None):
        self.root = root
        self.connection = connection
        self.session = ChatSession(connection.send, nick)
        self.incoming = queue.Queue()
        self.interrupted = False  # set by Ctrl+C in the terminal; seen by poll()
        self.closing = False  # the window is being destroyed: stop polling
        self.build()
        x11 = root.tk.call("tk", "windowingsystem") == "x11"  # elsewhere the system fonts have emoji
        self.drawable = doctor.symbol_fallback(doctor.font_coverage() if x11 else None)
        connection.start(on_line=self.incoming.put, on_closed=lambda: self.incoming.put(CLOSED))
        root.protocol("WM_DELETE_WINDOW", self.leave)
        root.after(POLL_MS, self.poll)
        self.show_state()

    def build(self):
        root = self.root
        family = self.choose_family()
        self.text_font = tkfont.Font(root, family=family, size=11)
        self.bold_font = tkfont.Font(root, family=family, size=11, weight="bold")
        self.small_font = tkfont.Font(root, family=family, size=9)
        self.notice_font = tkfont.Font(root, family=family, size=10, slant="italic")
        for name in ("TkDefaultFont", "TkTextFont"):  # ttk widgets and the entry line
            tkfont.nametofont(name, root).configure(family=family, size=10)
        root.configure(background="#f3f4f6")
        root.columnconfigure(0, weight=1)
        root.rowconfigure(1, weight=1)

        self.status = ttk.Label(root, name="status", padding=(10, 6), background="#f3f4f6")
        self.status.grid(row=0, column=0, columnspan=2, sticky="ew")

        messages_frame = ttk.Frame(root, name="conversation", padding=(8, 0, 4, 0))
        messages_frame.grid(row=1, column=0, sticky="nsew")
        messages_frame.columnconfigure(0, weight=1)
        messages_frame.rowconfigure(0, weight=1)
        self.messages = tkinter.Text(messages_frame, name="messages", wrap="word", state="disabled",
                                     font=self.text_font, background="white", relief="flat",
                                     padx=8, pady=6, spacing1=2, spacing3=2, highlightthickness=1,
                                     highlightbackground="#d0d4da", highlightcolor="#d0d4da")
        scrollbar = ttk.Scrollbar(messages_frame, command=self.messages.yview)
        self.messages.configure(yscrollcommand=scrollbar.set)
        self.messages.grid(row=0, column=0, sticky="nsew")
        scrollbar.grid(row=0, column=1, sticky="ns")
        for kind in ("joined", "left", "notice", "problem"):
            self.messages.tag_configure(kind, foreground=COLOURS[kind], font=self.notice_font)
        self.messages.tag_configure("prompt", foreground=COLOURS["prompt"], font=self.bold_font)
        indent = self.small_font.measure("00:00  ")  # wrapped lines start after the time
        for kind in ("message", "joined", "left", "notice", "problem", "prompt"):
            self.messages.tag_configure(kind, lmargin2=indent)
        self.messages.tag_configure("time", foreground=COLOURS["time"], font=self.small_font)  # created last: wins
        self.messages.tag_configure("mine", background=COLOURS["mine"])

        sidebar = ttk.Frame(root, name="sidebar", padding=(4, 0, 8, 0))
        sidebar.grid(row=1, column=1, sticky="ns")
        sidebar.rowconfigure(1, weight=1)
        self.member_title = ttk.Label(sidebar, name="title", font=self.bold_font, padding=(0, 0, 0, 4))
        self.member_title.grid(row=0, column=0, sticky="w")
        self.member_list = tkinter.Listbox(sidebar, name="members", width=16, font=self.text_font,
                                           relief="flat", highlightthickness=1, activestyle="none",
                                           highlightbackground="#d0d4da", selectbackground="white",
                                           selectforeground="black", takefocus=False)
        self.member_list.grid(row=1, column=0, sticky="ns")

        entry_bar = ttk.Frame(root, name="entrybar", padding=(8, 8))
        entry_bar.grid(row=2, column=0, columnspan=2, sticky="ew")
        entry_bar.columnconfigure(1, weight=1)
        self.entry_label = ttk.Label(entry_bar, name="label", padding=(0, 0, 6, 0))
        self.entry_label.grid(row=0, column=0)
        self.entry = ttk.Entry(entry_bar, name="entry", font=self.text_font)
        self.entry.grid(row=0, column=1, sticky="ew")
        self.entry.bind("<Return>", self.submit)
        self.entry.bind("<KP_Enter>", self.submit)
        self.send_button = ttk.Button(entry_bar, name="send", text=_("Send"), command=self.submit)
        self.send_button.grid(row=0, column=2, padx=(6, 0))
        self.entry.focus_set()

    def choose_family(self):
        """A font family with Hangul on X11 (elsewhere the system font falls back by itself)."""
        default = tkfont.nametofont("TkDefaultFont", self.root).actual("family")
        if self.root.tk.call("tk", "windowingsystem") != "x11":
            return default
        installed = set(tkfont.families(self.root))
        return next((family for family in HANGUL_FAMILIES if family in installed), default)

    def poll(self):
        """Handle everything the network thread received since the last look (Tk thread)."""
        while not self.closing:
            try:
                text = self.incoming.get_nowait()
            except queue.Empty:
                break
            if text is CLOSED:
                self.connection_closed()
            else:
                self.show(self.session.receive(text))
        if self.interrupted:
            self.leave()
        if not self.closing:
            self.show_state()
            self.root.after(POLL_MS, self.poll)

    def show(self, line):
        """Add one Line at the end of the message list."""
        if line is None:
            return
        at_bottom = self.messages.yview()[1] >= 1.0  # follow new lines unless the user scrolled up
        self.messages.configure(state="normal")
        if line.kind == "message":
            tags = ("message", "mine") if line.mine else ("message",)
            sender_tag = f"nick-{line.colour}"  # one tag per colour: a flood of names adds no tags
            self.messages.tag_configure(sender_tag, foreground=line.colour, font=self.bold_font)
            self.messages.insert("end", f"{line.time}  ", (*tags, "time"), self.drawable(line.sender),
                                 (*tags, sender_tag), f"  {self.drawable(line.text)}\n", tags)
        else:  # what the server says: "* " marks it on a terminal, its style does here
            self.messages.insert("end", f"{line.time}  ", (line.kind, "time"),
                                 self.drawable(line.text.removeprefix("* ")) + "\n", line.kind)
        lines = int(self.messages.index("end-1c").split(".")[0])
        if lines > MAX_LINES:  # a day-long chat must not slow the window down
            self.messages.delete("1.0", f"{lines - MAX_LINES + 1}.0")
        self.messages.configure(state="disabled")
        if at_bottom:
            self.messages.see("end")

    def show_state(self):
        """Status line, title, member list and entry label from the session (Tk thread)."""
        session = self.session
        colour, text = session.status(self.connection.address)
        if str(self.status.cget("text")) != f"● {text}":
            self.status.configure(text=f"● {text}", foreground=colour)
            self.root.title(f"chatkit — {session.nick}" if session.nick else "chatkit")
            asking = session.state == "nickname"
            self.entry_label.configure(text=_("Nickname") if asking else _("Message"))
        members = [(self.drawable(nick) + (_(" (you)") if nick == session.nick else ""), nick)
                   for nick in session.members]
        if list(self.member_list.get(0, "end")) != [shown for shown, _ in members]:
            self.member_list.delete(0, "end")
            for shown, nick in members:
                self.member_list.insert("end", shown)
                self.member_list.itemconfigure("end", foreground=session.colour(nick))
        self.member_title.configure(text=_("In the room ({count})").format(count=session.count) if session.members
                                    else _("In the room"))

    def submit(self, event=None):
        """Send what is in the entry line (Enter or the Send button)."""
        self.show(self.session.submit(self.entry.get()))
        self.entry.delete(0, "end")
        if self.session.state == "leaving":  # the user typed /quit
            self.root.after(LEAVE_GRACE_MS if self.session.nick else 0, self.close)
        self.show_state()
        return "break"

    def leave(self):
        """The close button: say /quit; the window closes when the server hangs up."""
        self.interrupted = False
        if self.session.state != "chatting":
            self.close()  # not in the room (yet, or any more): nobody to say goodbye to
            return
        self.session.submit("/quit")
        self.root.after(LEAVE_GRACE_MS, self.close)  # a server that never answers
        self.show_state()

    def close(self):
        if not self.closing:
            self.closing = True
            self.root.destroy()

    def connection_closed(self):
        if self.session.state == "leaving":  # /quit typed, or the window closed: the server said goodbye
            self.session.closed()
            self.close()
            return
        self.show(self.session.closed())  # the server went away: keep the conversation readable
        self.entry.state(["disabled"])
        self.send_button.state(["disabled"])


def add_arguments(parser):
    add_address_arguments(parser)
    parser.add_argument("--geometry", default="680x460", metavar="WxH[+X+Y]",
                        help=_("window size and position, as for any X11 program (default 680x460)"))


def cannot_open_window(error):
    """Explain, with the doctor's first fix, why no window could be opened; return 1."""
    print(_("Cannot open a window: {error}").format(error=error), file=sys.stderr)
    print(doctor.verdict(), file=sys.stderr)
    print(_("For the whole diagnosis: python -m chatkit doctor"), file=sys.stderr)
    return 1


def main(args):
    """`python -m chatkit gui`: open a chat window connected to the server."""
    host, port, server = server_address(args)
    if tkinter is None:
        return cannot_open_window(_("this Python has no tkinter"))
    try:
        root = tkinter.Tk(baseName="chatkit", className="Chatkit")  # names for the window manager
    except tkinter.TclError as error:  # the report's "couldn't connect to display"
        return cannot_open_window(error)
    try:
        root.geometry(args.geometry)
    except tkinter.TclError:
        root.destroy()
        print(_("--geometry {geometry}: expected WIDTHxHEIGHT or WIDTHxHEIGHT+X+Y, e.g. 680x460+0+0.").format(
            geometry=args.geometry), file=sys.stderr)
        return 2
    try:
        connection = Connection(host, port)
    except OSError as error:
        root.destroy()
        return cannot_connect(host, port, error, server)
    if server is not None:  # found without --port: say which one (the status line shows the address)
        print(_("Connected to {host}:{port}, the server started {origin}.").format(
            host=host, port=port, origin=server.origin()), flush=True)
    if root.tk.call("tk", "windowingsystem") == "x11":
        ttk.Style(root).theme_use("clam")  # the X11 default theme draws 1990s Motif widgets
    root.minsize(420, 260)
    window = ChatWindow(root, connection, args.nick)

    def interrupt(signum, frame):  # Ctrl+C in the terminal: leave like the close button
        window.interrupted = True

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        root.mainloop()
    finally:
        connection.close()
    return 0
