"""Waiting for what other threads do: with a deadline, never a bare sleep that is long enough."""

import threading
import time


def wait_until(condition, timeout, what):
    """Return once condition() is true; raise TimeoutError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:g} s")
        pause.wait(0.01)  # look again soon; the deadline bounds the wait
