"""Which server? One way to name the kit's servers, for `serve`, the lab and the bench.

    choose(5)                   stage 5 (any of chatkit.stages, by number: 1 to 5)
    choose("ref") / choose()    the reference server, chatkit.server
    choose(6) / choose("6")     the event-loop server, chatkit.eventloop ("stage 6")
    choose("some.module")       any importable module with a RunServer class
    choose("../exercises/ex02_accept_loop.py")   a file, loaded afresh each time (your exercise)
    choose(module)              a module object

Each gives a `Choice`: its label for tables, whether it asks for nicknames,
and `load()`, which returns the module (its ``RunServer`` is the server).
A choice's `name` names it again in another process (the bench's server).
"""

import importlib
import importlib.util
import os
import pathlib
import sys
from dataclasses import dataclass

from chatkit import stages

REFERENCE = "ref"
EVENT_LOOP = 6  # the stage number the command line gives the event-loop server


@dataclass(frozen=True)
class Choice:
    """A server, named: how to load it and what to call it."""

    name: str  # "5", "ref", "6", a dotted module name or an absolute file path
    label: str  # "stage 5 (report)", "reference (threads)", "stage 6 (event loop)", ...
    asks_nickname: bool  # stages 1-4 have no nicknames
    stage: int = None  # its number, for the stages and the event loop
    module: object = None  # when chosen as a module object

    def load(self):
        """The server's module (a file is imported afresh, so a re-run cell runs your latest edit)."""
        if self.module is not None:
            return self.module
        if self.name == REFERENCE:
            return importlib.import_module("chatkit.server")
        if self.stage == EVENT_LOOP:
            return importlib.import_module("chatkit.eventloop")
        if self.stage is not None:
            return stages.load(self.stage)
        if self.name.endswith(".py"):
            return load_file(self.name)
        return importlib.import_module(self.name)


def choose(what=None):
    """The Choice for a stage number, 'ref', a dotted name, a .py file or a module.

    ValueError (FileNotFoundError for a file) says what is wrong and what would do.
    """
    if what is None or what in (REFERENCE, "reference"):
        return Choice(REFERENCE, "reference (threads)", True)
    if isinstance(what, os.PathLike):
        what = os.fspath(what)
    if not isinstance(what, (str, int)):  # a module object
        return Choice(what.__name__, what.__name__, True, module=what)
    text = str(what).strip()
    if text.isdigit():
        number = int(text)
        if number == EVENT_LOOP:
            return Choice(text, "stage 6 (event loop)", True, stage=number)
        if number not in stages.STAGES:
            raise ValueError(f"there is no stage {number}; the stages are {numbers()}")
        topic = stages.STAGES[number].split("_", 1)[1]
        return Choice(text, f"stage {number} ({topic})", number >= 5, stage=number)
    if text.endswith(".py"):
        path = pathlib.Path(text).expanduser().resolve()
        if not path.exists():
            raise FileNotFoundError(f"no file {path} (a notebook runs in notebooks/: try '../exercises/{path.name}')")
        return Choice(str(path), path.name, True)
    try:
        found = importlib.util.find_spec(text)
    except (ImportError, ValueError):
        found = None
    if found is None:
        raise ValueError(f"no module named {text!r} (give a stage number {numbers()}, "
                         f"'{REFERENCE}', a module or a .py file with a RunServer class)")
    return Choice(text, text, True)


def numbers():
    """Every stage number the command line takes: the stages, then the event loop."""
    return sorted(stages.STAGES) + [EVENT_LOOP]


def load_file(path):
    """Import a .py file (your exercise) afresh, under its own name."""
    path = pathlib.Path(path)
    name = path.stem
    known = sys.modules.get(name)
    if known is not None and getattr(known, "__file__", None) != str(path):
        name = f"{name}_from_file"  # never replace a module of the same name from elsewhere
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # inspect finds the classes' source through sys.modules
    spec.loader.exec_module(module)
    return module
