"""Where the servers started from this account listen, so `join` and `gui` work without --port.

`python -m chatkit serve` notes its address in ~/.cache/chatkit/servers/ (one
file per server: host, port, process, when, from which terminal and login).
`join` and `gui` without --port pick one of them, and only one they can be
sure of: in a lab where many students share one account (and its home
folder), a server someone else started must never be taken for yours.

    a server of your own login, still running     -> that one (the newest if several)
    no login to tell apart, one server running    -> that one
    anything else                                 -> no guess: the servers running are
                                                     listed, and --port is asked for

Your login is the kernel's audit session (/proc/self/sessionid, one per ssh
or desktop login, shared by its terminals), else logind's XDG_SESSION_ID,
else the ssh connection; a container or a laptop has none, and none is needed.
"""

import json
import os
import socket
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from chatkit.tools.language import translator

_ = translator()

NO_AUDIT_SESSION = "4294967295"  # what /proc/self/sessionid says when no login set one


def servers_folder():
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "chatkit" / "servers"


def login_session():
    """What tells this login apart from other logins of the same account; "" if nothing does."""
    try:
        audit = Path("/proc/self/sessionid").read_text().strip()
    except OSError:
        audit = ""
    if audit and audit != NO_AUDIT_SESSION:
        return f"audit:{audit}"
    if os.environ.get("XDG_SESSION_ID"):
        return f"logind:{os.environ['XDG_SESSION_ID']}"
    if os.environ.get("SSH_CONNECTION"):
        return f"ssh:{os.environ['SSH_CONNECTION']}"
    return ""


def terminal_name():
    for stream in (sys.stdin, sys.stdout):
        try:
            return os.ttyname(stream.fileno())
        except (AttributeError, OSError, ValueError):
            continue
    return ""


@dataclass
class Started:
    """One server started from this account."""

    host: str
    port: int
    pid: int
    machine: str  # the hostname: a home folder shared over the network is seen by other machines
    session: str  # login_session() of the login that started it
    started: float  # time.time()
    terminal: str = ""

    @property
    def path(self):
        return servers_folder() / f"{self.machine}-{self.pid}.json"

    def origin(self):
        """'at 14:02 on /dev/pts/3 (process 1234)'"""
        when = time.strftime("%H:%M", time.localtime(self.started))
        if self.terminal:
            return _("at {when} on {terminal} (process {pid})").format(when=when, terminal=self.terminal, pid=self.pid)
        return _("at {when} (process {pid})").format(when=when, pid=self.pid)

    def describe(self):
        return _("{address}, started {origin}").format(address=f"{self.host}:{self.port}", origin=self.origin())


def remember(host, port):
    """Note where this process's server listens (`serve` does it once it listens)."""
    server = Started(host, port, os.getpid(), socket.gethostname(), login_session(), time.time(), terminal_name())
    try:
        server.path.parent.mkdir(parents=True, exist_ok=True)
        server.path.write_text(json.dumps(asdict(server)))
    except OSError:
        pass  # a read-only home: the user passes --port instead


def forget(server):
    try:
        server.path.unlink()
    except OSError:
        pass


def running():
    """The servers started from this account on this machine that still run, newest first."""
    machine = socket.gethostname()
    found = []
    for path in servers_folder().glob(f"{machine}-*.json"):
        try:
            server = Started(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            continue
        if process_alive(server.pid):
            found.append(server)
        else:
            forget(server)
    return sorted(found, key=lambda server: server.started, reverse=True)


def process_alive(pid):
    if sys.platform == "win32":
        return True  # os.kill(pid, 0) would end it there; a dead one is forgotten when it refuses to connect
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive, but not ours
        return True
    return True


def choose(host=None):
    """(the Started server to join, None) or (None, why no server can be chosen)."""
    servers = [server for server in running() if host is None or server.host == host]
    session = login_session()
    own = [server for server in servers if server.session == session]
    if session and own:
        return own[0], None
    if not session and len(servers) == 1:
        return servers[0], None
    ask = _("Give --port PORT, the number `python -m chatkit serve` printed in your terminal.")
    if not servers:
        return None, _("No server started here is running. Start one with `python -m chatkit serve`, or: {ask}").format(
            ask=ask)
    listed = "\n".join(f"  {server.describe()}" for server in servers)
    whose = _("none from this login: maybe someone else's") if session else _("which one is yours?")
    return None, _("Servers running from this account ({whose}):").format(whose=whose) + f"\n{listed}\n{ask}"
