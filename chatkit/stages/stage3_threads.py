"""Stage 3: a thread per client.

    accept loop (main thread) --accept()--> new thread: serve_client(conn)
                              --accept()--> new thread: serve_client(conn)

The accept loop no longer waits for a client to leave: it starts a thread
that serves the client and goes straight back to ``accept()``. Every client
is served at once. The set of open connections is now touched by several
threads (each client thread adds and removes itself, stop() reads it), so
a lock guards it.

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
        """Accept clients and start a thread for each, until stop()."""
        while True:
            conn = self.wait_for_client()
            if conn is None:
                break
            _, port = conn.getpeername()
            thread = threading.Thread(target=self.serve_client, args=(conn,), name=f"client-{port}")
            thread.start()
            self.threads = [t for t in self.threads if t.is_alive()] + [thread]
        for thread in self.threads:  # stop() has shut every connection down
            thread.join()

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
