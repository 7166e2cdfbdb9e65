"""Exercise 2 (guided): the accept loop, one client at a time (stage 2).

Write ``RunServer.run()`` (the accept loop) and ``RunServer.serve_client()``
(an echo loop for one client)::

    run():           wait_for_client() -> serve_client(conn) -> wait_for_client() -> ...
    serve_client():  greet -> recv() -> sendall(b"echo: " + data) -> recv() -> ... until b""

``accept()`` hands back a *new* socket for each client, while the listening
socket keeps listening. A second client can connect while the first is
served (the OS queues it), but it hears nothing until the first one leaves:
exercise 3 fixes that with threads. ``wait_for_client()``, ``stop()`` and
``server_open()`` come from ``chatkit/stages/stage2_accept.py``.

Check it:  pytest exercises/ex02_accept_loop_test.py
"""

from chatkit.stages import stage2_accept


class RunServer(stage2_accept.RunServer):
    """Stage 2's server, with your accept loop and echo loop."""

    def run(self):
        """Serve clients one after the other until stop() is called.

        ``self.wait_for_client()`` waits for the next client and returns its
        socket, or returns None once stop() was called: then run() returns.
        Any other connection goes to ``self.serve_client(conn)``, and when
        that returns (the client left), the loop waits for the next client.
        """
        # TODO: loop: conn = self.wait_for_client(); return when it is None; else serve_client(conn)
        raise NotImplementedError('TODO: loop: conn = self.wait_for_client(); return when it is None; else serve_client(conn)')

    def serve_client(self, conn):
        """Greet one client, then send back everything it sends until it disconnects.

        1. ``self.remember(conn)`` first: stop() hangs up on remembered
           connections (that is what wakes a recv() waiting in this loop).
        2. Send ``self.greeting`` as one line (encode it, add ``"\\n"``).
        3. Loop: ``data = conn.recv(1024)``. ``b""`` means the client closed
           the connection: leave the loop (recv() would return ``b""`` forever,
           and the loop would spin). Otherwise ``conn.sendall(b"echo: " + data)``.
        4. An ``OSError`` (the client reset the connection, or stop() hung
           up) also ends the loop. In every case: ``conn.close()``, then
           ``self.forget(conn)``.
        """
        # TODO: remember conn, greet, echo each recv() until b"" or OSError, close, forget
        raise NotImplementedError('TODO: remember conn, greet, echo each recv() until b"" or OSError, close, forget')
        self.log("client left")
