"""The staged servers: the report's server built one idea at a time, stage N = stage N-1 plus one idea.

    stage1_listen      socket, SO_REUSEADDR, bind, listen (the report's ServerOpen)
    stage2_accept      the accept loop, one client at a time; welcome(conn), the hook the next stages change
    stage3_threads     welcome() starts a thread per client
    stage4_broadcast   a client's thread joins the ChattingRoom: a shared list, with a lock
    stage5_report      nicknames (asked in the accept loop), rules, head count, /quit: the report's server

What comes after stage 5 lives beside this package: ``chatkit.server``
(stage 5 made correct) and ``chatkit.eventloop`` (that server again, in one
thread; "stage 6" on the command line). ``STAGES`` is built from the file
names (``stageN_topic.py``), so it cannot drift from the files themselves.
"""

import importlib
import pkgutil

STAGES = {
    int(info.name.removeprefix("stage").split("_")[0]): info.name
    for info in pkgutil.iter_modules(__path__)
    if info.name.startswith("stage")
}


def load(number):
    """Import and return the module of stage `number`."""
    if number not in STAGES:
        raise ValueError(f"there is no stage {number}; the stages are {sorted(STAGES)}")
    return importlib.import_module(f"{__name__}.{STAGES[number]}")
