"""Where the exercises live, what they are called, and how a short name finds one.

    exercises/ex03_threads.py        the file the student edits (a stub at first)
    exercises/ex03_threads_test.py   its graded tests (the kit's; never edited)
    solutions/ex03_threads.py        the reference answer the stub is made from

The list of exercises comes from the file names in solutions/ (or in
exercises/ when solutions/ is missing), so it cannot drift from the files.
"""

import re
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parents[2]
EXERCISE_NAME = re.compile(r"^ex\d\d_[a-z0-9_]+$")


def exercises_dir(root=KIT_ROOT):
    return Path(root) / "exercises"


def solutions_dir(root=KIT_ROOT):
    return Path(root) / "solutions"


def exercise_ids(root=KIT_ROOT):
    """The exercise ids in order: ['ex01_listen', 'ex02_accept_loop', ...]."""
    for folder in (solutions_dir(root), exercises_dir(root)):
        names = sorted(path.stem for path in folder.glob("ex[0-9][0-9]_*.py")
                       if EXERCISE_NAME.match(path.stem) and not path.stem.endswith("_test"))
        if names:
            return names
    return []


def resolve(name, root=KIT_ROOT):
    """Turn 'ex03', 'ex03_threads', '3' or 'ex03_threads.py' into 'ex03_threads'."""
    known = exercise_ids(root)
    text = Path(str(name)).name.removesuffix(".py").removesuffix("_test").strip().lower()
    number = text.removeprefix("ex")
    if number.isdigit():  # '3', 'ex3', 'ex03'
        text = f"ex{int(number):02d}"
    matches = [ex for ex in known if ex == text or ex.split("_")[0] == text]
    if len(matches) != 1:
        raise ValueError(f"there is no exercise {name!r}; the exercises are: {', '.join(known) or 'none found'}")
    return matches[0]


def test_file(exercise_id, root=KIT_ROOT):
    return exercises_dir(root) / f"{exercise_id}_test.py"


def exercise_of(test_path):
    """'ex03_threads' for .../ex03_threads_test.py; None for any other file."""
    stem = Path(test_path).stem
    if stem.endswith("_test") and EXERCISE_NAME.match(stem.removesuffix("_test")):
        return stem.removesuffix("_test")
    return None


def title(exercise_id, root=KIT_ROOT):
    """The first line of the exercise's docstring (from the solution, else the stub)."""
    for folder in (solutions_dir(root), exercises_dir(root)):
        path = folder / f"{exercise_id}.py"
        if path.exists():
            match = re.search(r'^"""(.+?)$', path.read_text(encoding="utf-8"), re.MULTILINE)
            if match:
                return match.group(1).strip().rstrip(".").replace("``", "")
    return exercise_id
