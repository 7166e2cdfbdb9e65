"""Stage 3: a thread per client.

    accept loop (stage 2) --accept()--> welcome(conn): new thread serve_client(conn)
                          --accept()--> welcome(conn): new thread serve_client(conn)

Stage 2's accept loop stays as it is; only ``welcome()``, what happens to
each new connection, changes: instead of serving the client to the end, it
starts a thread that serves the client and returns at once, straight back
to ``accept()``. Every client is served at once. The set of open
connections is now touched by several threads (each client thread adds
and removes itself, stop() reads it), so a lock guards it.

Run it:  python -m chatkit serve --stage 3
Try it:  two `nc 127.0.0.1 PORT`: both are answered at once.
"""

import threading

from chatkit.stages.stage2_accept import RunServer as OneAtATimeServer


class RunServer(OneAtATimeServer):
    """Echo server that serves each client in a thread of its own."""

    greeting = "Welcome! Stage 3 serves every client in its own thread; what you type comes back."

    def __init__(self, host="127.0.0.1", port=0):
        super().__init__(host, port)
        self.lock = threading.Lock()  # guards self.connections
        self.threads = []

    def run(self):
        """Stage 2's accept loop, until stop(); then wait for every client's thread."""
        super().run()
        for thread in self.threads:  # stop() has shut every connection down
            thread.join()

    def welcome(self, conn):
        """Serve `conn` in a thread of its own and go straight back to accept()."""
        self.start_thread(self.serve_client, conn)

    def start_thread(self, target, conn, *args):
        """Run target(conn, *args) in a new thread named after the client; run() waits for it at the end."""
        _, port = conn.getpeername()
        thread = threading.Thread(target=target, args=(conn, *args), name=f"client-{port}")
        try:
            thread.start()
        except RuntimeError as error:  # the system has no thread to spare: turn this client away
            self.log(f"cannot serve client-{port}: {error}")
            self.forget(conn)
            conn.close()
            return
        self.threads = [t for t in self.threads if t.is_alive()] + [thread]

    def remember(self, conn):
        with self.lock:
            super().remember(conn)

    def forget(self, conn):
        with self.lock:
            super().forget(conn)

    def stop(self):
        """Stop accepting and disconnect every client; safe to call twice."""
        with self.lock:
            super().stop()
