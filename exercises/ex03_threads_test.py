"""Graded tests for exercise 3: a thread per client (run: pytest exercises/ex03_threads_test.py).

Each test starts your RunServer in a process of its own on port 0. Do not
edit this file: the grader checks it.
"""

import pytest

from chatkit.grader import N_, hint, part
from chatkit.grader.results import words
from chatkit.stages.stage3_threads import RunServer as Stage3

GREETING = Stage3.greeting


@pytest.mark.points(3)
def test_two_clients_at_once(student):
    """A second client is served while the first one is still connected."""
    server = student.start_server()
    alice = server.connect("alice")
    with hint("Start each thread (thread.start()): a Thread that is never started serves nobody."):
        alice.expect_line(GREETING)
    bob = server.connect("bob")
    with part(2, "Start a thread for serve_client(conn) and go straight back to wait_for_client(); "
                 "calling serve_client(conn) directly (or join()ing the thread at once) waits until that "
                 "client leaves. Pass the function itself: target=self.serve_client, args=(conn,)."):
        bob.expect_line(GREETING, why=N_("alice is still connected, but bob should be served at once"))
    with part(1, "Each thread serves its own client: threading.Thread(target=self.serve_client, args=(conn,))."):
        bob.say("from bob")
        alice.say("from alice")
        bob.expect_line("echo: from bob")
        alice.expect_line("echo: from alice")


@pytest.mark.points(1)
def test_five_clients(student):
    """Five clients connected together each get their own echo."""
    server = student.start_server()
    clients = [server.connect(f"client{n}") for n in range(5)]
    with hint("Start one thread per connection, and keep accepting while they run (join them only after the loop)."):
        for n, client in enumerate(clients):
            client.expect_line(GREETING)
            client.say(f"I am client {n}")
        for n, client in enumerate(clients):
            client.expect_line(f"echo: I am client {n}")


@pytest.mark.points(2)
def test_stop_disconnects_everyone(student):
    """stop() disconnects every client, and run() returns once their threads have ended (joined)."""
    server = student.start_server()
    alice, bob = server.connect("alice"), server.connect("bob")
    with hint("Start one thread per connection, and keep accepting while they run (join them only after the loop)."):
        alice.expect_line(GREETING)
        bob.expect_line(GREETING)
    with part(1, "Leave the loop when wait_for_client() returns None: stop() has hung up on every client."):
        server.stop()
        alice.expect_closed(why=N_("stop() hangs up on every client"))
        bob.expect_closed(why=N_("stop() hangs up on every client"))
    with part(1, "After the loop, join() every thread in self.threads: run() returns once they have all ended."):
        left_running = server.unjoined_threads()
        assert not left_running, words.threads_not_joined(left_running)
