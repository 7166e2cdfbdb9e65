"""Exercise 3 (guided): a thread per client (stage 3).

Write ``RunServer.run()`` so that the accept loop never waits for a client
to leave: it starts a thread that serves the client and goes straight back
to ``wait_for_client()``::

    accept loop --conn--> threading.Thread(target=self.serve_client, args=(conn,)).start()
                --conn--> another thread ...

``serve_client()`` (the echo loop of exercise 2) and the lock that guards
the set of open connections come from ``chatkit/stages/stage3_threads.py``.

Check it:  pytest exercises/ex03_threads_test.py
"""

import threading

from chatkit.stages import stage3_threads


class RunServer(stage3_threads.RunServer):
    """Stage 3's server, with your thread-per-client accept loop."""

    def run(self):
        """Start a thread per client, until stop(); then wait for those threads.

        1. Loop: ``conn = self.wait_for_client()``; None means stop() was
           called: leave the loop.
        2. Otherwise start ``threading.Thread(target=self.serve_client,
           args=(conn,))`` and keep it in ``self.threads``; do not wait for it.
        3. After the loop, ``join()`` every thread in ``self.threads``: stop()
           has hung up on every client, so each one ends soon.
        """
        # BEGIN SOLUTION (TODO: for each conn start a Thread running serve_client(conn); after the loop join them all)
        while True:
            conn = self.wait_for_client()
            if conn is None:
                break
            thread = threading.Thread(target=self.serve_client, args=(conn,))
            thread.start()
            self.threads.append(thread)
        for thread in self.threads:
            thread.join()
        # END SOLUTION
