"""The Korean walkthrough keeps step with the English one: same code, no stale or missing translation.

The code of notebooks/ko/NN-*.ipynb is written only by `python -m
chatkit.tools.twins --sync`, from notebooks/NN-*.ipynb; each Korean markdown
cell records the hash of the English cell it translates. These tests check the
committed twins, then prove on modified copies that a change on either side
alone is caught.
"""

import re
import shutil
import urllib.parse

import nbformat
import pytest

from chatkit.tools import twins
from chatkit.tools.nbstrip import NOTEBOOKS, walkthrough_notebooks

ENGLISH = walkthrough_notebooks(NOTEBOOKS)

# Being translated on the branch korean-notebooks-2. Strict: a notebook translated there
# passes its test, which then fails until its name leaves this list.
UNTRANSLATED = set()


def read(path):
    return nbformat.read(path, as_version=4)


def test_every_english_notebook_has_a_twin_and_every_twin_an_english_notebook():
    assert ENGLISH, "no walkthrough notebooks found"
    missing = [path.name for path in ENGLISH if not twins.twin_path(path).exists()]
    assert not missing, f"no Korean twin for {missing}: run python -m chatkit.tools.twins --sync"
    assert not twins.orphan_twins(NOTEBOOKS), "Korean twins whose English notebook is gone"


@pytest.mark.parametrize("path", ENGLISH, ids=lambda path: path.stem)
def test_the_twin_has_the_english_code_cells(path):
    twin = read(twins.twin_path(path))
    drift = twins.code_drift(read(path), twin)
    assert not drift, f"ko/{path.name}: {drift}; run python -m chatkit.tools.twins --sync"
    english_code = [(cell.id, cell.source) for cell in read(path).cells if cell.cell_type == "code"]
    twin_code = [(cell.id, cell.source) for cell in twin.cells if cell.cell_type == "code"]
    assert twin_code == [(twins.SETUP_ID, twins.SETUP_CODE)] + english_code


@pytest.mark.parametrize("path", [pytest.param(path, marks=pytest.mark.xfail(strict=True, reason="being translated"))
                                  if path.stem in UNTRANSLATED else path for path in ENGLISH],
                         ids=lambda path: path.stem)
def test_the_twin_is_translated_and_up_to_date(path):
    found = twins.stale_or_missing(read(path), read(twins.twin_path(path)))
    assert not found, f"ko/{path.name}:\n" + "\n".join(found)


def test_the_twins_prose_is_korean():
    """A translated twin is Korean, not the English left in place."""
    for path in ENGLISH:
        if path.stem in UNTRANSLATED:
            continue
        prose = "".join(cell.source for cell in read(twins.twin_path(path)).cells if cell.cell_type == "markdown")
        hangul = sum("\uac00" <= char <= "\ud7a3" for char in prose)
        assert hangul > len(prose) / 5, f"ko/{path.name}: only {hangul} Hangul syllables in {len(prose)} characters"


GLOSSARY = NOTEBOOKS / twins.LANGUAGE / "용어집.md"
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(markdown):
    """The anchors of a Markdown file's headings, as GitHub and JupyterLab make them (plain words only)."""
    return {re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")
            for title in re.findall(r"^#+ (.+)$", markdown, flags=re.MULTILINE)}


def test_the_twins_links_lead_somewhere():
    """Links between twins, to the glossary's entries and to the kit's files all resolve from notebooks/ko/."""
    assert GLOSSARY.exists()
    glossary_anchors = anchors(GLOSSARY.read_text(encoding="utf-8"))
    sources = {path.name: "".join(cell.source for cell in read(path).cells if cell.cell_type == "markdown")
               for path in walkthrough_notebooks(NOTEBOOKS / twins.LANGUAGE)}
    sources[GLOSSARY.name] = GLOSSARY.read_text(encoding="utf-8")
    broken = []
    for name, text in sources.items():
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target):
                continue  # a web address
            file, _, anchor = urllib.parse.unquote(target).partition("#")
            path = GLOSSARY.parent / file if file else GLOSSARY.parent / name
            if not path.exists():
                broken.append(f"{name}: {target} (no such file)")
            elif anchor and path == GLOSSARY and anchor not in glossary_anchors:
                broken.append(f"{name}: {target} (no such entry in the glossary)")
    assert not broken, broken


@pytest.fixture
def copy(tmp_path):
    """A modified copy of notebook 01 and its twin: (English file, twin file, its problems before any change)."""
    english = tmp_path / "01-listen.ipynb"
    shutil.copy(NOTEBOOKS / english.name, english)
    (tmp_path / "ko").mkdir()
    shutil.copy(twins.twin_path(NOTEBOOKS / english.name), twins.twin_path(english))
    return english, twins.twin_path(english), set(twins.check_one(english))


def edit(path, change):
    notebook = read(path)
    change(notebook)
    nbformat.write(notebook, path)


def cell(notebook, id):
    return next(cell for cell in notebook.cells if cell.id == id)


def new_problems(copy):
    english, _, before = copy
    return set(twins.check_one(english)) - before


def test_an_english_code_cell_changed_alone_is_caught_and_sync_copies_it(copy):
    english, twin, before = copy
    edit(english, lambda notebook: setattr(cell(notebook, "01-05"), "source", "server = LiveServer(stage=2)"))
    assert any("code cell 01-05: its source is not the English one" in line for line in new_problems(copy))
    twins.sync_one(english)
    assert set(twins.check_one(english)) == before
    assert cell(read(twin), "01-05").source == "server = LiveServer(stage=2)"


def test_a_twin_code_cell_changed_alone_is_caught_and_sync_restores_it(copy):
    english, twin, before = copy
    original = cell(read(twin), "01-07").source
    edit(twin, lambda notebook: setattr(cell(notebook, "01-07"), "source", original + "\nprint('오타')"))
    assert any("code cell 01-07: its source is not the English one" in line for line in new_problems(copy))
    twins.sync_one(english)
    assert cell(read(twin), "01-07").source == original and set(twins.check_one(english)) == before


def test_code_cells_moved_added_or_retagged_on_one_side_are_caught(copy):
    english, twin, _ = copy
    edit(english, lambda notebook: cell(notebook, "01-16").metadata.setdefault("tags", []).append("raises-exception"))
    assert any("code cell 01-16: its metadata" in line for line in new_problems(copy))
    twins.sync_one(english)
    assert cell(read(twin), "01-16").metadata["tags"] == ["raises-exception"]

    edit(twin, lambda notebook: notebook.cells.insert(5, nbformat.v4.new_code_cell("print(1)", id="extra")))
    assert any("are not the English" in line for line in new_problems(copy))
    twins.sync_one(english)
    assert "extra" not in [cell.id for cell in read(twin).cells]


def test_an_english_markdown_cell_changed_alone_makes_its_translation_stale(copy):
    english, twin, before = copy
    edit(english, lambda notebook: setattr(cell(notebook, "01-06"), "source", cell(notebook, "01-06").source + " Look."))
    stale = [line for line in new_problems(copy) if line.startswith("stale: English cell 01-06")]
    assert stale, new_problems(copy)
    twins.sync_one(english)  # sync copies code, not prose: still stale
    assert stale[0] in twins.check_one(english)
    korean = [c.id for c in read(twin).cells if twins.twin_info(c).get("translates") == "01-06"]
    twins.stamp(twin, korean)
    assert set(twins.check_one(english)) == before


def test_a_new_english_cell_or_a_new_notebook_shows_as_missing(copy):
    english, twin, _ = copy
    edit(english, lambda notebook: notebook.cells.insert(3, nbformat.v4.new_markdown_cell("A new paragraph.", id="01-new")))
    assert "missing: English cell 01-new has no Korean cell" in new_problems(copy)
    twins.sync_one(english)
    assert cell(read(twin), "ko-01-new").source == "A new paragraph."  # a placeholder, at its place
    assert [c.id for c in read(twin).cells].index("ko-01-new") == 5  # after the two setup cells
    assert any(line.startswith("missing: English cell 01-new is not translated yet") for line in new_problems(copy))
    edit(twin, lambda notebook: setattr(cell(notebook, "ko-01-new"), "source", "새 문단입니다."))
    assert twins.stamp(twin) == ["ko-01-new"]
    assert not new_problems(copy)

    twin.unlink()
    assert twins.check_one(english) == ["missing: no Korean twin (python -m chatkit.tools.twins --sync makes one)"]
    twins.sync_one(english)
    assert not twins.code_drift(read(english), read(twin)) and read(twin).cells[1].source == twins.SETUP_CODE


def test_an_override_of_expect_survives_sync_and_goes_stale_when_the_english_changes(copy):
    english, twin, before = copy
    korean_expect = ["서버 1개(stage 1)와 클라이언트 1개를 멈췄습니다"]

    english_expect = cell(read(english), "01-16").metadata["chatkit"]["expect"]

    def override(notebook):
        info = cell(notebook, "01-16").metadata["chatkit"]
        info["overrides"] = {"expect": twins.digest(english_expect)}  # the English it replaces
        info["expect"] = korean_expect

    edit(twin, override)
    twins.sync_one(english)
    assert cell(read(twin), "01-16").metadata["chatkit"]["expect"] == korean_expect
    assert set(twins.check_one(english)) == before

    edit(english, lambda notebook: cell(notebook, "01-16").metadata["chatkit"].update(expect=["stopped 1 server"]))
    twins.sync_one(english)
    assert cell(read(twin), "01-16").metadata["chatkit"]["expect"] == korean_expect
    assert any(line.startswith("stale: code cell 01-16's English 'expect' changed") for line in new_problems(copy))
    twins.stamp(twin, ["01-16"])
    assert set(twins.check_one(english)) == before

    edit(twin, lambda notebook: cell(notebook, "01-16").metadata["chatkit"].update(overrides={"needs": "x"}, needs=[]))
    assert any("may override only ['expect']" in line for line in new_problems(copy))


def test_the_command_line_names_the_notebook_and_the_cell(copy, capsys):
    english, _, _ = copy
    edit(english, lambda notebook: setattr(cell(notebook, "01-06"), "source", "Changed."))
    assert twins.main(["--check", "--notebooks", str(english.parent)]) == 1
    shown = capsys.readouterr().out
    assert "ko/01-listen.ipynb:" in shown and "stale: English cell 01-06" in shown
