"""Exercise 1 (guided): open a listening socket (stage 1, the report's ``ServerOpen``).

Write ``RunServer.server_open()``, in four steps::

    socket()  ->  setsockopt(SO_REUSEADDR)  ->  bind(host, port)  ->  listen(backlog)

Everything else (``run``, ``stop``, ``log``) comes from
``chatkit/stages/stage1_listen.py``: ``run()`` only waits for ``stop()``, and
``stop()`` closes ``self.listener``. Nobody is accepted yet, but after
``listen()`` the operating system completes each client's TCP handshake by
itself, so clients can connect already.

Check it:  pytest exercises/ex01_listen_test.py
"""

import socket

from chatkit.stages import stage1_listen


class RunServer(stage1_listen.RunServer):
    """Stage 1's server, with your server_open()."""

    backlog = 5  # connections the OS may queue before the server accept()s them

    def server_open(self):
        """Create, configure, bind and listen; then store the real address.

        1. ``self.listener``: a new IPv4 (``AF_INET``) TCP (``SOCK_STREAM``) socket.
        2. Turn on ``SO_REUSEADDR`` (level ``SOL_SOCKET``), so a restarted
           server can bind its port again at once. It must come *before*
           bind(): bind() is where the option is read.
        3. Bind it to ``(self.host, self.port)``, then listen with ``self.backlog``.
        4. We ask for port 0 (any free port): store the real address with
           ``self.host, self.port = self.listener.getsockname()``.
        """
        # TODO: create self.listener, set SO_REUSEADDR, bind, listen, store the real port
        raise NotImplementedError('TODO: create self.listener, set SO_REUSEADDR, bind, listen, store the real port')
