"""The walls around student code, raised in the child before the student's file is imported.

    raise_walls(walls, report)   limits, a user of its own, the grader's code hidden, the guard

`walls` is a dict the grader made for this run (launch.walls()):

- limits (Linux, macOS): memory, processes and threads, open files, CPU
  seconds: the OS enforces them, and diagnose.py says in words which one a
  failure hit ("your program used more than 512 MB of memory");
- a user of its own: when the grader is root, the child becomes a user id
  no account has (processes.student_uid()), so it cannot write the kit's
  files or the results, cannot signal or trace the grader, and every
  process it starts can be found by its user and killed (unless Python
  lives in a private folder that user could not read, and namespaces.py
  could not open it up: then imports would fail, and the child stays root,
  which the results' notes say);
- the grader's modules leave sys.modules, so the student's file finds no
  probe or pipe to replace;
- the guard, an audit hook (PEP 578: once added, it cannot be removed):
  importing the grader's code or the reference answers, writing the kit's
  files or the results, reading solutions/, rummaging through the
  interpreter's objects (gc), changing the grader's classes, ctypes, and
  signalling the grader are refused, and each attempt is reported to the
  grader, which gives the exercise 0 points and names it as tampering.

What student code prints or does otherwise is its own business.
"""

import os
import sys
import threading

from chatkit.grader import processes
from chatkit.grader.sandbox import namespaces
from chatkit.grader.sandbox.diagnose import short

try:
    import resource
except ImportError:  # Windows: no resource limits
    resource = None

GRADER_MODULES = ("chatkit.grader",)
ANSWER_MODULES = ("solutions",)
WRITES = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
CHANGES = {"os.remove", "os.rename", "os.rmdir", "os.truncate", "os.chmod", "os.chown", "os.link",
           "os.symlink", "os.utime", "os.mkdir", "shutil.rmtree", "shutil.copyfile", "shutil.move"}
LISTINGS = {"os.listdir", "os.scandir", "glob.glob", "os.walk"}
INTROSPECTION = {"gc.get_objects", "gc.get_referrers", "gc.get_referents"}
THREAD_STACK = 1 << 20  # bytes a thread reserves: 1 MiB (not 8), so the memory limit counts what is used


def raise_walls(walls, report):
    """Raise every wall `walls` asks for; return what could not be raised, in words."""
    walls = walls or {}
    missing = []
    if walls.get("limits"):
        missing += set_limits(walls["limits"], walls.get("uid") is not None, walls.get("tasks", 0))
    private = private_python() if walls.get("uid") is not None else None
    if private:  # another user could not import from it: every `import` not done yet would fail
        missing.append(f"student code runs as root: Python is installed in a private folder ({private}) that "
                       "a user of its own could not read, and no mount namespace could open it up")
    elif walls.get("uid") is not None:
        try:
            processes.drop_privileges(walls["uid"])
        except OSError as error:
            missing.append(f"student code still runs as root (switching users failed: {error})")
    hide_grader(walls.get("grader_modules"))
    if walls.get("guard", True):
        install_guard(report, walls)
    return missing


def private_python():
    """The first folder on the way to Python's files that other users may not enter, or None."""
    for folder in namespaces.python_folders():
        found = namespaces.blocked_at(folder)
        if found:
            return found[0]
    return None


def set_limits(limits, own_user, tasks_now):
    """Set the OS limits for this process and what it starts (a failed one is reported, not fatal)."""
    if resource is None:
        return ["no resource limits on this system"]
    threading.stack_size(THREAD_STACK)
    fewer_arenas()
    # RLIMIT_AS counts the address space this process already has too: a copy of a grader
    # that has grown (threads' arenas, a notebook's flood) would leave the student little
    held = address_space_now()
    wanted = [("memory_mb", "RLIMIT_AS", lambda mb: (mb << 20) + held), ("open_files", "RLIMIT_NOFILE", int),
              ("cpu_seconds", "RLIMIT_CPU", int),
              # RLIMIT_NPROC counts every process and thread of the user: with a user of our own
              # that is the student's alone; otherwise the grader's own tasks count too
              ("processes", "RLIMIT_NPROC", lambda n: n if own_user else n + tasks_now)]
    missing = []
    for key, name, convert in wanted:
        if key not in limits or not hasattr(resource, name):
            continue
        value = convert(limits[key])
        try:
            kind = getattr(resource, name)
            _, hard = resource.getrlimit(kind)
            ceiling = value + 5 if name == "RLIMIT_CPU" else value  # SIGXCPU at the soft limit, then a kill
            if hard != resource.RLIM_INFINITY:
                value, ceiling = min(value, hard), min(ceiling, hard)
            resource.setrlimit(kind, (value, ceiling))
        except (OSError, ValueError) as error:
            missing.append(f"{name} could not be set ({error})")
    return missing


def address_space_now():
    """The bytes of address space this process has mapped (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as file:
            return int(file.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def fewer_arenas():
    """glibc reserves 64 MiB of address space per malloc arena, one per busy thread: keep two."""
    try:
        import ctypes

        ctypes.CDLL(None).mallopt(-8, 2)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


_out_of_sight = []  # the modules hide_grader() took out of sys.modules


def hide_grader(names=None):
    """Take the grader's modules out of sys.modules: what the child still needs, it holds itself.

    `names`: the grader's modules as the grader counted them (launch.py),
    so a forked child need not look at each of the ~500 names itself: each
    look writes to the name's memory, which the child then copies from the
    fork server's (0.7 ms a child). They stay alive in _out_of_sight:
    freeing them would touch all their objects too.
    """
    for name in grader_modules() if names is None else names:
        if name in sys.modules:
            _out_of_sight.append(sys.modules.pop(name))
    package = sys.modules.get("chatkit")
    if package is not None and hasattr(package, "grader"):
        delattr(package, "grader")


def grader_modules():
    """The names of the grader's modules loaded in this process."""
    return [name for name in sys.modules if is_module(name, GRADER_MODULES)]


def is_module(name, roots):
    return any(name == root or name.startswith(root + ".") for root in roots)


def inside(path, folders):
    return any(path == folder or path.startswith(folder + os.sep) for folder in folders)


def install_guard(report, walls):
    """The audit hook that refuses, and reports, what only code after the grader's marks would do."""
    protected = [os.path.realpath(p) for p in walls.get("protected", ())]  # never written by student code
    secret = [os.path.realpath(p) for p in walls.get("secret", ())]  # never read either
    grader_pids = set(walls.get("grader_pids", ()))
    realpath, fsdecode, getpid = os.path.realpath, os.fsdecode, os.getpid  # ours, whatever is patched later
    busy = threading.local()
    reported = set()

    def where(path):
        if isinstance(path, int):
            return None
        try:
            return realpath(fsdecode(path))
        except (TypeError, ValueError, OSError):
            return None

    def judge(event, args):
        if event == "import" and args and isinstance(args[0], str):
            if is_module(args[0], GRADER_MODULES):
                return f"imports {args[0]}, the grader's own code"
            if is_module(args[0], ANSWER_MODULES):
                return f"imports {args[0]}, the reference answers"
        elif event == "open" and args:
            path = where(args[0])
            if path is None:
                return None
            mode, flags = (args[1] or ""), (args[2] if len(args) > 2 and isinstance(args[2], int) else 0)
            if inside(path, secret):
                return f"opens {short(path)}, one of the reference answers"
            if inside(path, protected) and (any(c in str(mode) for c in "wax+") or flags & WRITES):
                return f"writes {short(path)}, one of the grader's own files"
        elif event in CHANGES or event in LISTINGS:
            for arg in args:
                if isinstance(arg, (str, bytes, os.PathLike)):
                    path = where(arg)
                    if path is None:
                        continue
                    if inside(path, secret):
                        return f"looks into {short(path)}, the reference answers"
                    if event in CHANGES and inside(path, protected):
                        return f"changes {short(path)}, one of the grader's own files ({event})"
        elif event in INTROSPECTION:
            return f"searches the interpreter's objects ({event}), as only code looking for the grader's does"
        elif event == "object.__setattr__" and args and isinstance(args[0], type):
            if is_module(getattr(args[0], "__module__", "") or "", GRADER_MODULES):
                return f"changes the grader's class {args[0].__name__}"
        elif event.startswith("ctypes."):
            return f"uses ctypes ({event}), which can rewrite the grader's memory"
        elif event in ("os.kill", "os.killpg") and args:
            target = args[0]
            if target == -1 or target in grader_pids:
                return f"sends a signal to the grader (process {target})"
        return None

    def guard(event, args):
        if getattr(busy, "now", False):
            return
        busy.now = True
        try:
            problem = judge(event, args)
        finally:
            busy.now = False
        if problem is None:
            return
        if (getpid(), problem) not in reported:
            reported.add((getpid(), problem))
            try:
                report(problem)
            except Exception:  # noqa: BLE001 - the refusal below matters more than the report
                pass
        raise PermissionError(f"the chatkit grader refused this: your code {problem}")

    sys.addaudithook(guard)
