"""The staged servers: stage N is stage N-1 plus one idea.

The index is built from the file names (``stageN_topic.py``), so it cannot
drift from the files themselves.
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
