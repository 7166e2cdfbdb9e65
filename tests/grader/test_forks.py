"""The grader's fork server: children get only the descriptors sent, exit statuses arrive, the server ends with us."""

import os
import subprocess
import sys
import textwrap
import time

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="a fork server needs fork()")

# Run in a fresh Python: the fork server must be made while the process has one thread, and
# the kit's test process has the test runner's threads.
SCRIPT = textwrap.dedent("""
    import os, signal, sys, time
    from chatkit.grader import forks

    def exits(code):
        sys.exit(code)

    def writes(fd, text):
        os.write(fd, text.encode())

    def sleeps():
        time.sleep(30)

    def open_fds():
        print(sorted(int(fd) for fd in os.listdir("/proc/self/fd")), flush=True)

    server = forks.server()
    assert server is not None and forks.server() is server
    print("exit", server.start(exits, (3,)).wait(10))
    reader, writer = os.pipe()
    child = server.start(writes, (forks.Fd(0), "through the pipe"), [writer])
    os.close(writer)
    print("sent", child.wait(10), os.read(reader, 100).decode())
    sleeper = server.start(sleeps, ())
    print("still running", sleeper.wait(0.2))
    sleeper.kill()
    print("killed", sleeper.wait(10) == -signal.SIGKILL)
    secret = os.open(os.devnull, os.O_RDONLY)  # open in the grader: a child never gets it
    server.start(open_fds, ()).wait(10)
    print("server", server.pid)
""")


@pytest.fixture(scope="module")
def ran():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.splitlines()


def test_exit_codes_and_signals_reach_the_grader(ran):
    assert "exit 3" in ran and "sent 0 through the pipe" in ran, ran
    assert "still running None" in ran and "killed True" in ran, ran


def test_a_child_holds_only_what_was_sent(ran):
    fds = next(line for line in ran if line.startswith("["))
    assert fds == "[0, 1, 2, 3]", ("0-2 and the listing's own descriptor only", fds)


def test_the_server_ends_with_the_grader(ran):
    pid = int(next(line for line in ran if line.startswith("server ")).split()[1])
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        try:
            if os.waitpid(pid, os.WNOHANG)[0]:
                return
        except ChildProcessError:
            pass
        time.sleep(0.05)  # another process's end, seen from outside: nothing to wait on
    pytest.fail(f"the fork server {pid} outlived the process that made it")
