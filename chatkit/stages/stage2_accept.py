"""Stage 2: the accept loop, one client at a time.

    listen  ->  accept() -> welcome(conn): serve that client until it leaves -> accept() -> ...

``accept()`` hands back a *new* socket for each connection; the listening
socket keeps listening. This stage serves each client to the end before it
calls ``accept()`` again, so a second client connects (the OS queues it)
but hears nothing until the first one leaves: the problem threads solve in
stage 3.

Run it:  python -m chatkit serve --stage 2
Try it:  two `nc 127.0.0.1 PORT` in two terminals; quit the first (Ctrl+D).
"""

import socket

from chatkit.stages.stage1_listen import RunServer as ListeningServer


class RunServer(ListeningServer):
    """Accept clients one after the other and echo what each one sends."""

    poll_interval = 0.05  # seconds between looks at the stop flag
    backoff = 0.5  # seconds to wait when accept() fails (out of file descriptors)
    greeting = "Welcome! Stage 2 serves one client at a time; what you type comes back."

    def __init__(self, host="127.0.0.1", port=0):
        super().__init__(host, port)
        self.connections = set()  # open client sockets, so stop() can close them

    def run(self):
        """Accept a client, welcome it, repeat until stop()."""
        while True:
            conn = self.wait_for_client()
            if conn is None:
                return
            self.welcome(conn)

    def welcome(self, conn):
        """What happens to each new connection: here, serve it until it leaves.

        This is the one hook the later stages change (``socketserver`` calls
        it ``process_request``): stage 3 serves each connection in a thread
        of its own, stage 5 first asks for a nickname.
        """
        self.serve_client(conn)

    def wait_for_client(self):
        """Return the next connection, or None once stop() was called.

        close() from another thread does not wake a blocked accept(), so we
        wait at most `poll_interval` seconds at a time and look at the flag.
        """
        while not self.stopped.is_set():
            try:
                self.listener.settimeout(self.poll_interval)
                conn, (host, port) = self.listener.accept()
            except TimeoutError:
                continue
            except OSError as error:
                if self.stopped.is_set():  # stop() closed the listener under us
                    break
                # Out of file descriptors (EMFILE), say: no reason to stop. Wait, try again.
                self.log(f"accept() failed: {error.strerror}; trying again in {self.backoff:g} s")
                self.stopped.wait(self.backoff)
                continue
            self.log(f"connection from {host}:{port}")
            return conn
        return None

    def serve_client(self, conn):
        """Echo everything one client sends until it disconnects."""
        self.remember(conn)
        with conn:
            try:
                conn.sendall((self.greeting + "\n").encode())
                while True:
                    data = conn.recv(1024)
                    if not data:  # b"" means the client closed: stop, or we would spin
                        break
                    conn.sendall(b"echo: " + data)
            except OSError:  # reset by the client, or shut down by stop()
                pass
        self.forget(conn)
        self.log("client left")

    def remember(self, conn):
        """Note an open connection, so that stop() can hang it up."""
        self.connections.add(conn)
        if self.stopped.is_set():  # stop() ran between accept() and here
            hang_up(conn)

    def forget(self, conn):
        """Drop a closed connection."""
        self.connections.discard(conn)

    def stop(self):
        """Stop accepting and disconnect every client; safe to call twice."""
        super().stop()
        for conn in list(self.connections):
            hang_up(conn)


def hang_up(conn):
    """Shut a connection down: this wakes a recv() blocked in another thread."""
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed
        pass
