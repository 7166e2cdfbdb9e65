"""Where the kit's folder is, where the exercises live, what they are called.

    KIT/exercises/ex03_threads.py        the file the student edits (a stub at first)
    KIT/exercises/ex03_threads_test.py   its graded tests (the kit's; never edited)
    KIT/solutions/ex03_threads.py        the reference answer the stub is made from

KIT, the kit's folder, is found, not assumed: chatkit may be installed
anywhere (editable, ``pip install .``, a wheel, a hub's image) while the
exercises are in the folder the student works in. ``kit_root()`` looks, in
order, at $CHATKIT_ROOT; at the file or folder it is given (a test file)
and the folders above it; at the current directory and the folders above
it (a notebook's kernel runs in notebooks/); and at the folder this package
was installed from. A kit folder is one with ``exercises/conftest.py``.

The list of exercises comes from the file names in solutions/ (or in
exercises/ when solutions/ is missing, as in the students' edition), so it
cannot drift from the files.
"""

import os
import re
from pathlib import Path

from chatkit.tools.language import translator

_ = translator()

ROOT_VARIABLE = "CHATKIT_ROOT"
PACKAGE_PARENT = Path(__file__).resolve().parents[2]  # the checkout, when installed editable or run from source
EXERCISE_NAME = re.compile(r"^ex\d\d_[a-z0-9_]+$")


def is_kit_folder(folder):
    return (Path(folder) / "exercises" / "conftest.py").is_file()


def kit_root(start=None):
    """The kit's folder (see the module's docstring); the current directory if none is found."""
    if os.environ.get(ROOT_VARIABLE):
        return Path(os.environ[ROOT_VARIABLE]).expanduser().resolve()
    places = [Path(start).resolve()] if start is not None else []
    for place in [*places, Path.cwd()]:
        for folder in [place, *place.parents]:
            if is_kit_folder(folder):
                return folder
    return PACKAGE_PARENT if is_kit_folder(PACKAGE_PARENT) else Path.cwd()


def __getattr__(name):
    # KIT_ROOT, for code written when it was a constant: looked up each time it is read.
    if name == "KIT_ROOT":
        return kit_root()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def exercises_dir(root=None):
    return Path(root or kit_root()) / "exercises"


def solutions_dir(root=None):
    return Path(root or kit_root()) / "solutions"


def exercise_ids(root=None):
    """The exercise ids in order: ['ex01_listen', 'ex02_accept_loop', ...]."""
    root = root or kit_root()
    for folder in (solutions_dir(root), exercises_dir(root)):
        names = sorted(path.stem for path in folder.glob("ex[0-9][0-9]_*.py")
                       if EXERCISE_NAME.match(path.stem) and not path.stem.endswith("_test"))
        if names:
            return names
    return []


def resolve(name, root=None):
    """Turn 'ex03', 'ex03_threads', '3' or 'ex03_threads.py' into 'ex03_threads'."""
    root = root or kit_root()
    known = exercise_ids(root)
    text = Path(str(name)).name.removesuffix(".py").removesuffix("_test").strip().lower()
    number = text.removeprefix("ex")
    if number.isdigit():  # '3', 'ex3', 'ex03'
        text = f"ex{int(number):02d}"
    matches = [ex for ex in known if ex == text or ex.split("_")[0] == text]
    if len(matches) != 1:
        if not known:
            raise ValueError(_("there is no exercise {name!r}: no exercises found in {folder} "
                               "(work in the kit's folder, or set {variable} to it)").format(
                name=name, folder=exercises_dir(root), variable=ROOT_VARIABLE))
        raise ValueError(_("there is no exercise {name!r}; the exercises are: {known}").format(
            name=name, known=", ".join(known)))
    return matches[0]


def test_file(exercise_id, root=None):
    return exercises_dir(root) / f"{exercise_id}_test.py"


def exercise_of(test_path):
    """'ex03_threads' for .../ex03_threads_test.py; None for any other file."""
    stem = Path(test_path).stem
    if stem.endswith("_test") and EXERCISE_NAME.match(stem.removesuffix("_test")):
        return stem.removesuffix("_test")
    return None


def title_file(exercise_id, root=None):
    """The file an exercise's title comes from: the solution, else the stub (the students' edition)."""
    root = root or kit_root()
    for folder in (solutions_dir(root), exercises_dir(root)):
        if (folder / f"{exercise_id}.py").exists():
            return folder / f"{exercise_id}.py"
    return None


def title(exercise_id, root=None):
    """The first line of the exercise's docstring, in English (the ladder reads its rung there)."""
    path = title_file(exercise_id, root)
    match = path and re.search(r'^"""(.+?)$', path.read_text(encoding="utf-8"), re.MULTILINE)
    return match.group(1).strip().rstrip(".").replace("``", "") if match else exercise_id


def shown_title(exercise_id, root=None):
    """The title in the student's language: the docstring is its source, the catalog has its
    translation (chatkit/tools/catalogs.py extracts every exercise's title)."""
    return _(title(exercise_id, root))
