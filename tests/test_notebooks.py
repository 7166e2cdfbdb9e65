"""Every walkthrough notebook runs headless, top to bottom, in a fresh kernel, and shows what it should.

The convention, for everyone who writes a notebook in ``notebooks/``:

* Name it ``NN-title.ipynb``; this test finds every such file by itself.
* Commit it without outputs. ``python -m chatkit.tools.nbstrip`` cleans every
  notebook in place (``--check`` only reports); ``make lab`` cleans on save.
* Say what the key cells must produce, in the cell's metadata (Edit ->
  Cell metadata in JupyterLab, or the JSON)::

      "metadata": {"chatkit": {"expect": ["alice: 안녕", "heard by"],
                               "expect_mime": ["image/svg+xml"]}}

  Every ``expect`` string must occur in the cell's outputs (printed text,
  text/plain, text/html, image/svg+xml, or an error's name, message and
  traceback); every ``expect_mime`` type must be among them. A notebook
  with no expectation at all fails: "it ran without raising" proves little.
* A cell tagged ``raises-exception`` (nbclient's own tag) may raise; use
  ``expect`` to check the error it shows.
* A cell whose output needs a program outside Python names it:
  ``"chatkit": {"needs": ["Xvfb", "xdotool"], "expect": [...]}``. Where one
  is missing, the notebook still runs and is checked everywhere else; that
  cell's output is not, and the test ends as skipped, naming the program
  (the cell itself must then say what is missing instead of failing).
* The time budget is 90 s: no cell may take longer, and the whole notebook
  (kernel start included) gets 30 s more. A notebook that needs more says so
  in its notebook metadata: ``"metadata": {"chatkit": {"timeout": 150}, ...}``.
* Grading cells are tagged ``grade`` and call ``check("exNN")``. Here they
  grade the reference answers (``solutions=True``: the untouched stubs must
  fail) and must score full marks; in the students' edition, which has no
  solutions/, they grade the student's own files, whatever the score. A
  grading cell whose exercise does not exist (yet) is skipped, and
  test_every_graded_exercise_exists fails.
* After the last cell the test fails if the notebook left a server, a
  thread or a TCP socket behind: end with ``stop_all()`` from chatkit.lab.
* A notebook that needs a program the kit does not install says so in its
  notebook metadata, ``"chatkit": {"requires": ["redis-server"]}``: where that
  program is missing, the test is skipped and says which it is.
* Its Korean twin, ``notebooks/ko/NN-title.ipynb``, runs here too, with the
  same checks (its code cells are the English ones: ``python -m
  chatkit.tools.twins --sync`` writes them; tests/tools/test_twins.py checks it).
* ``CHATKIT_NOTEBOOKS=en`` (or ``ko``) runs one walkthrough only. The
  instructors' ``make test`` runs the English one here and the Korean one in
  the students' edition it builds (tests/tools/test_release.py, where a
  Korean class meets it): each notebook runs once, not twice.
"""

import html
import json
import os
import pathlib
import re
import shutil
import tempfile

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from traitlets.config import Config

from chatkit.grader import layout
from chatkit.tools.nbstrip import problems, walkthrough_notebooks
from chatkit.tools.twins import LANGUAGE

KIT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = KIT / "notebooks"
NOTEBOOKS = walkthrough_notebooks(NOTEBOOK_DIR)
TWINS = walkthrough_notebooks(NOTEBOOK_DIR / LANGUAGE)  # the Korean walkthrough, notebooks/ko/
EVERY_NOTEBOOK = NOTEBOOKS + TWINS
WALKTHROUGHS = {"en": NOTEBOOKS, LANGUAGE: TWINS, "": EVERY_NOTEBOOK}
RUN_HERE = WALKTHROUGHS[os.environ.get("CHATKIT_NOTEBOOKS", "")]  # which are run (see the docstring)
DEFAULT_BUDGET = 90  # seconds per notebook, kernel start included
STAGE_NOTEBOOKS = ["00", "01", "02", "03", "04", "05", "06"]
COLOURS = re.compile(r"\x1b\[[0-9;]*m")  # Python 3.13 colours tracebacks when ipykernel sets FORCE_COLOR

# Runs first, in the notebook's kernel: what exists before the notebook starts anything.
BEFORE = """\
import os, threading

def _chatkit_tcp_sockets():  # Linux only: elsewhere only threads are checked
    inodes = set()
    for fd in os.listdir("/proc/self/fd") if os.path.isdir("/proc/self/fd") else []:
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as rows:
                for row in list(rows)[1:]:
                    fields = row.split()
                    if fields[9] in inodes:
                        found.add(f"port {int(fields[1].split(':')[1], 16)} -> port {int(fields[2].split(':')[1], 16)}")
        except OSError:
            pass
    return found

_chatkit_before = (set(threading.enumerate()), _chatkit_tcp_sockets())
"""

# Makes check() grade the reference answers, and insist on full marks.
GRADE_THE_SOLUTIONS = """\
import chatkit.grader as _grader

_grader_check = _grader.check

def _check_the_reference_answer(exercise, **options):
    result = _grader_check(exercise, solutions=True, **options)
    assert result.passed, f"the reference answer of {exercise} does not pass its grader:\\n{result}"
    return result

_grader.check = _check_the_reference_answer
"""

# Runs last: what the notebook left behind.
AFTER = """\
import json, threading
from chatkit import lab
_left_threads = [t.name for t in threading.enumerate() if t not in _chatkit_before[0] and t.is_alive()
                 and type(t).__module__ != "zmq.utils.garbage"]  # pyzmq's, started by any output over 64 KB
print("CHATKIT-LEFT " + json.dumps({
    "servers": [server.name for server in lab.running_servers()],
    "threads": _left_threads,
    "sockets": sorted(_chatkit_tcp_sockets() - _chatkit_before[1]),
}))
"""


def budget(path):
    """The notebook's time budget in seconds (its metadata may ask for more)."""
    metadata = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
    return metadata.get("chatkit", {}).get("timeout", DEFAULT_BUDGET)


def missing_programs(path):
    """The programs the notebook's metadata says it requires that are not installed here."""
    metadata = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
    return [program for program in metadata.get("chatkit", {}).get("requires", []) if shutil.which(program) is None]


def outputs_text(cell):
    """Everything a cell showed, as one string to search."""
    parts = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":  # one print may arrive in several chunks: join them as printed
            if parts and isinstance(parts[-1], list):
                parts[-1].append(output["text"])
            else:
                parts.append([output["text"]])
        elif output["output_type"] == "error":
            parts += [output["ename"], output["evalue"], *output["traceback"]]
        else:
            for mime, data in output.get("data", {}).items():
                text = data if isinstance(data, str) else json.dumps(data)
                parts.append(html.unescape(text) if mime in ("text/html", "image/svg+xml") else text)
    return COLOURS.sub("", "\n".join("".join(part) if isinstance(part, list) else part for part in parts))


def output_mimes(cell):
    mimes = set()
    for output in cell.get("outputs", []):
        mimes.update(output.get("data", {}))
        if output["output_type"] == "stream":
            mimes.add("stream")
    return mimes


def graded_exercises(cell):
    """The exercises a grading cell checks: check("ex03") -> ["ex03"]."""
    return re.findall(r"""check\(\s*["']([^"']+)["']""", cell.source)


def unknown_exercises(names):
    """Those of `names` the kit has no exercise for."""
    unknown = []
    for name in names:
        try:
            layout.resolve(name)
        except ValueError:
            unknown.append(name)
    return unknown


def grading_cells(notebook):
    return [cell for cell in notebook.cells if "grade" in cell.metadata.get("tags", [])]


def prepare(notebook):
    """Add the before/after cells; make grading cells grade the reference answers.

    A grading cell whose exercise does not exist yet is replaced by a note
    (test_every_graded_exercise_exists fails meanwhile).
    """
    for cell in grading_cells(notebook):
        missing = unknown_exercises(graded_exercises(cell))
        if missing:
            cell.source = f"print('no exercise {missing} in this checkout: grading skipped')"
            cell.metadata.pop("chatkit", None)
    with_solutions = layout.solutions_dir(KIT).is_dir()  # the students' edition has none
    # after a twin's `%env CHATKIT_LANG=ko`: the kit is imported in the notebook's language, as a student runs it
    first = next((index + 1 for index, cell in enumerate(notebook.cells)
                  if cell.cell_type == "code" and cell.source.startswith("%env CHATKIT_LANG=")), 0)
    notebook.cells.insert(first, nbformat.v4.new_code_cell(BEFORE + (GRADE_THE_SOLUTIONS if with_solutions else "")))
    notebook.cells.append(nbformat.v4.new_code_cell(AFTER))


@pytest.fixture(scope="module", autouse=True)
def jupyter_event_loop():
    """nbclient runs on an asyncio loop it keeps for the thread: open it before the leak check looks."""
    import asyncio

    from jupyter_core.utils import ensure_event_loop

    loop = ensure_event_loop()
    yield
    loop.close()
    asyncio.set_event_loop(None)


def notebook_id(path):
    """01-listen, and ko/01-listen for its Korean twin."""
    return path.relative_to(NOTEBOOK_DIR).with_suffix("").as_posix()


def test_the_walkthrough_has_a_notebook_per_stage():
    numbers = [path.name[:2] for path in NOTEBOOKS]
    assert set(STAGE_NOTEBOOKS) <= set(numbers), f"notebooks missing: {sorted(set(STAGE_NOTEBOOKS) - set(numbers))}"


@pytest.mark.parametrize("path", EVERY_NOTEBOOK, ids=notebook_id)
def test_every_graded_exercise_exists(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in grading_cells(notebook):
        assert graded_exercises(cell), f"{path.name}: a cell tagged grade calls no check(\"exNN\"): {cell.source!r}"
        missing = unknown_exercises(graded_exercises(cell))
        assert not missing, f"{path.name} grades {missing}, which exercises/ and solutions/ do not have (yet)"


@pytest.mark.parametrize("path", EVERY_NOTEBOOK, ids=notebook_id)
def test_committed_notebook_is_clean(path):
    found = problems(json.loads(path.read_text(encoding="utf-8")))
    assert not found, (f"{path.name} is not clean ({'; '.join(found)}).\n"
                       f"Run:  python -m chatkit.tools.nbstrip {path.relative_to(NOTEBOOK_DIR.parent)}")


@pytest.mark.parametrize("path", [pytest.param(path, marks=pytest.mark.timeout(budget(path) + 30)) for path in RUN_HERE],
                         ids=notebook_id)
def test_notebook_runs_and_shows_what_it_should(path):
    if missing_programs(path):
        pytest.skip(f"{path.name} needs {', '.join(missing_programs(path))}, which is not installed here "
                    "(redis-server: sudo apt install redis-server, or brew install redis; .ci/run installs it)")
    notebook = nbformat.read(path, as_version=4)
    declared = [cell for cell in notebook.cells if cell.metadata.get("chatkit", {}).keys() & {"expect", "expect_mime"}]
    assert declared, (f"{path.name} declares no expected output: add \"chatkit\": {{\"expect\": [...]}} "
                      "to the metadata of its key cells (see this test's docstring)")
    prepare(notebook)
    files_before = set(NOTEBOOK_DIR.rglob("*"))
    # The kernel talks over Unix sockets, not TCP: jupyter_client picks free TCP ports and closes
    # them before the kernel binds them, and on a busy machine another test can take one meanwhile.
    sockets = tempfile.mkdtemp(prefix="chatkit-kernel-")
    unix_sockets = Config({"KernelManager": {"transport": "ipc", "ip": os.path.join(sockets, "kernel")}})
    client = NotebookClient(notebook, timeout=budget(path), startup_timeout=60, kernel_name="python3",
                            config=unix_sockets, resources={"metadata": {"path": str(path.parent)}})  # where JupyterLab runs it
    failed = None
    try:
        client.execute()
    except CellExecutionError as error:
        failed = COLOURS.sub("", str(error))
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
    if failed:
        pytest.fail(f"{path.name}: a cell failed:\n{failed[-3000:]}", pytrace=False)

    failures, unchecked = [], []
    for number, cell in enumerate(notebook.cells[1:-1], 1):
        wanted = cell.metadata.get("chatkit", {})
        lacking = [program for program in wanted.get("needs", []) if shutil.which(program) is None]
        if lacking:
            unchecked.append(f"cell {number} needs {', '.join(lacking)}")
            continue
        shown, mimes = outputs_text(cell), output_mimes(cell)
        missing = [text for text in wanted.get("expect", []) if text not in shown]
        missing += [f"an output of type {mime}" for mime in wanted.get("expect_mime", []) if mime not in mimes]
        if missing:
            first_line = cell.source.splitlines()[0] if cell.source else ""
            failures.append(f"cell {number} ({first_line!r}) did not show {missing}; it showed:\n{shown[:1500]}")
    assert not failures, f"{path.name}:\n" + "\n\n".join(failures)

    written = sorted(path.relative_to(KIT).as_posix() for path in set(NOTEBOOK_DIR.rglob("*")) - files_before)
    assert not written, (f"{path.name} wrote {written} into notebooks/ (the release copies that folder): "
                         "write into the kit's artifacts/, found from any folder with chatkit.grader.layout.kit_root()")
    report = re.search(r"CHATKIT-LEFT (.*)", outputs_text(notebook.cells[-1]))
    assert report, f"the leak check did not run: {outputs_text(notebook.cells[-1])}"
    left = {what: items for what, items in json.loads(report.group(1)).items() if items}
    assert not left, f"{path.name} left running: {left}; end the notebook with stop_all() from chatkit.lab"
    if unchecked:
        pytest.skip(f"{path.stem}: checked all but {'; '.join(unchecked)} (not installed here)")
