"""Starting the grader's processes quickly, and ending them with everything they started.

    fork_server(preload)   multiprocessing's fork server, with modules imported once
    main_module_hidden()   so that a forked child does not import our __main__ again
    kill_group(process)    a process and every process in its group (its session)

A test starts a fresh process for every server or module it tries, so
nothing leaks from one test into the next: 33 of them for one student.
Starting Python and importing the kit takes ~50 ms each time; forking a
copy of a "fork server" that has the kit imported already takes ~5 ms. On
Linux and macOS we fork (multiprocessing's forkserver: a process with no
threads, so forking it is safe); elsewhere we start Python afresh. The bulk
grader forks its pytest runs the same way, from a fork server with pytest
imported (commands/run.py); sandbox/launch.py starts the sandboxes. Either way every child gets a session of its
own, so killing its process group ends everything the student's code started.

One process has one fork server: the first call's `preload` is the one it
keeps (the pytest process only starts sandboxes, the bulk grader only
pytest runs).
"""

import contextlib
import importlib.machinery
import multiprocessing
import os
import signal
import sys

_context = None


def fork_server(preload):
    """multiprocessing's forkserver context with `preload` imported in it, or None where there is none."""
    global _context
    if _context is None and "forkserver" in multiprocessing.get_all_start_methods():
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(preload)
    return _context


@contextlib.contextmanager
def main_module_hidden():
    """Keep multiprocessing from importing our __main__ again in the child.

    It does so for functions defined in __main__; ours live in chatkit, and
    re-importing the `pytest` script in every child costs 0.3 s each. A
    main module whose spec is named "__main__" is left alone.
    """
    main = sys.modules["__main__"]
    saved = getattr(main, "__spec__", None)
    main.__spec__ = importlib.machinery.ModuleSpec("__main__", None)
    try:
        yield
    finally:
        main.__spec__ = saved


def kill_group(process):
    """Kill a process and everything in its process group (where there are none: the process)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    except AttributeError:  # Windows: no process groups
        process.kill()
