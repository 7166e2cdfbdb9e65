"""Stage 1: open a listening socket (the report's ``RunServer.ServerOpen``).

    socket()  ->  setsockopt(SO_REUSEADDR)  ->  bind(host, port)  ->  listen(backlog)

After ``listen()`` the operating system completes TCP handshakes by itself
and queues the new connections (up to ``backlog``), even though this stage
never calls ``accept()``: clients connect, and nobody answers them yet.

``SO_REUSEADDR`` lets a restarted server bind its port again while
connections of the previous run are still in the TIME_WAIT state;
`bind_without_reuse` shows the ``Address already in use`` error you get
without it.

Run it:  python -m chatkit serve --stage 1
Try it:  nc 127.0.0.1 PORT   (it connects; nothing answers)
"""

import socket
import threading


class RunServer:
    """Listen on host:port; the later stages add what happens to connections."""

    backlog = 5  # connections the OS may queue before we accept() them

    def __init__(self, host="127.0.0.1", port=0):
        self.host = host
        self.port = port  # 0 asks the OS for any free port; server_open() stores the real one
        self.listener = None
        self.stopped = threading.Event()

    def server_open(self):
        """Create, configure, bind and listen (report: ``ServerOpen``)."""
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # IPv4, TCP
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((self.host, self.port))
        self.listener.listen(self.backlog)
        self.host, self.port = self.listener.getsockname()

    def log(self, message):
        """Tell the person running the server what is happening."""
        print(f"{message}\n", end="", flush=True)  # one write: lines from two threads never run together

    def run(self):
        """Wait until stop() is called: this stage accepts nobody."""
        self.log("Stage 1 accepts nobody: connections wait in the backlog.")
        self.stopped.wait()

    def stop(self):
        """Stop serving and close the listening socket; safe to call twice."""
        self.stopped.set()
        if self.listener is not None:
            self.listener.close()


def bind_without_reuse(port, host="127.0.0.1"):
    """Bind a fresh socket to `port` *without* SO_REUSEADDR; return the error, if any.

    Right after a server on `port` closed with a connection still open, this
    returns ``OSError: [Errno 98] Address already in use`` (TIME_WAIT), while
    RunServer.server_open() on the same port succeeds.
    """
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.bind((host, port))
        return None
    except OSError as error:
        return error
    finally:
        probe.close()
