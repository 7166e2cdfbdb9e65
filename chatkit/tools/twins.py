"""The Korean walkthrough: notebooks/ko/NN-*.ipynb, each the twin of notebooks/NN-*.ipynb.

    python -m chatkit.tools.twins --sync    rewrite the twins' code from the English notebooks
    python -m chatkit.tools.twins --check   change nothing; list what is out of step (exit status 1)
    python -m chatkit.tools.twins --stamp notebooks/ko/NN-x.ipynb [CELL ...]
                                            record that these Korean cells translate the English as it is now

The code is written once, in the English notebook. A twin holds Korean prose
around a copy of that code that only --sync writes: the same code cells, with
the same sources, ids, order and metadata (``tags`` and ``chatkit``: what the
notebook test checks), after one cell of its own, ``%env CHATKIT_LANG=ko``,
that makes the kit speak Korean in that notebook.

Each Korean markdown cell says which English cell it translates, and the hash
of that English cell's source when it was translated::

    "metadata": {"chatkit": {"translates": "01-04", "source_sha": "3f2a..."}}

An English cell edited since then makes the translation *stale*; an English
markdown cell no Korean cell translates, or a Korean cell without a hash (as
--sync leaves the English prose in a new twin, to be translated), is
*missing*. Translate, then --stamp the cells (without CELL: every unstamped
cell whose text is no longer the English). A Korean cell may be split in
several; they stay in the order they have, at their English cell's place.

Where a code cell's expected output is a sentence the kit writes in the
reader's language, the twin declares its own ``expect``, with the hash of the
English one it replaces (so that a change on the English side shows)::

    "chatkit": {"expect": ["점수"], "overrides": {"expect": "9c1e..."}}

--sync keeps such overrides; everything else in a twin's code cells is the
English notebook's.
"""

import argparse
import copy
import hashlib
import json
import pathlib
import sys

import nbformat

from chatkit.tools.nbstrip import NOTEBOOKS, problems, strip, walkthrough_notebooks

LANGUAGE = "ko"
OVERRIDABLE = ("expect",)
SETUP_NOTE_ID, SETUP_ID = "ko-setup-note", "ko-setup"
SETUP_CODE = "%env CHATKIT_LANG=ko"
SETUP_NOTE = ("> **한국어판.** 이 노트북은 [영어판]({english})을 옮긴 것입니다. 코드는 영어판과 똑같고, "
              "설명만 한국어입니다. 바로 아래 셀은 이 노트북에서 키트가 안내, 힌트, 채점 결과를 한국어로 "
              "보여 주도록 설정합니다. 맨 먼저 실행하세요. 낯선 용어는 [용어집](용어집.md)에 있습니다.")


def digest(text):
    """A short hash of a cell's source, or of an expected value."""
    if not isinstance(text, str):
        text = json.dumps(text, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def twin_path(english):
    return pathlib.Path(english).parent / LANGUAGE / pathlib.Path(english).name


def english_path(twin):
    return pathlib.Path(twin).parent.parent / pathlib.Path(twin).name


def twin_info(cell):
    return cell.metadata.get("chatkit", {})


def setup_cells(english_name):
    note = nbformat.v4.new_markdown_cell(SETUP_NOTE.format(english=f"../{english_name}"), id=SETUP_NOTE_ID)
    note.metadata["chatkit"] = {"twin": "setup"}
    code = nbformat.v4.new_code_cell(SETUP_CODE, id=SETUP_ID)
    code.metadata["chatkit"] = {"expect": ["env: CHATKIT_LANG=ko"]}
    return [note, code]


def code_twin(english_cell, old_twin_cell=None):
    """The English code cell as the twin holds it: a copy, with the twin's declared overrides kept."""
    cell = nbformat.v4.new_code_cell(english_cell.source, id=english_cell.id)
    cell.metadata = copy.deepcopy(dict(english_cell.metadata))
    overrides = twin_info(old_twin_cell).get("overrides", {}) if old_twin_cell is not None else {}
    if overrides:
        wanted = cell.metadata.setdefault("chatkit", {})
        for key in overrides:
            wanted[key] = copy.deepcopy(twin_info(old_twin_cell)[key])
        wanted["overrides"] = dict(overrides)
    return cell


def placeholder(english_cell):
    """A new twin's markdown cell: the English prose, not yet translated (no hash)."""
    cell = nbformat.v4.new_markdown_cell(english_cell.source, id=f"ko-{english_cell.id}"[:64])
    cell.metadata["chatkit"] = {"translates": english_cell.id}
    return cell


def synced(english, name, twin=None):
    """The twin of notebook `name` rebuilt around `english`'s code: its Korean cells kept, each at its English cell's place."""
    translations, old_code = {}, {}
    for cell in twin.cells if twin is not None else []:
        if cell.cell_type == "markdown" and "translates" in twin_info(cell):
            translations.setdefault(twin_info(cell)["translates"], []).append(cell)
        elif cell.cell_type == "code":
            old_code[cell.id] = cell
    cells = setup_cells(name)
    for cell in english.cells:
        if cell.cell_type == "code":
            cells.append(code_twin(cell, old_code.get(cell.id)))
        else:
            cells += translations.pop(cell.id, None) or [placeholder(cell)]
    result = nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(dict(english.metadata)))
    result.nbformat, result.nbformat_minor = english.nbformat, english.nbformat_minor
    return strip(result), sorted(translations)  # translations left over: their English cell is gone


def sync_one(english_file):
    """Write the twin of `english_file`; return what is worth saying about it."""
    english = nbformat.read(english_file, as_version=4)
    target = twin_path(english_file)
    twin = nbformat.read(target, as_version=4) if target.exists() else None
    result, orphans = synced(english, pathlib.Path(english_file).name, twin)
    said = [] if twin is not None else ["new twin: its prose is the English, to be translated"]
    said += [f"Korean cells for English cell {id!r} dropped: that cell is gone" for id in orphans]
    target.parent.mkdir(exist_ok=True)
    if twin is None or nbformat.writes(result) != nbformat.writes(twin):
        nbformat.write(result, target)
        said.append("written")
    return said


def english_markdown(english):
    return {cell.id: cell for cell in english.cells if cell.cell_type == "markdown"}


def stale_or_missing(english, twin):
    """Translation problems of `twin`, one line each (cells by id)."""
    found, covered = [], set()
    originals = english_markdown(english)
    for cell in twin.cells:
        if cell.cell_type != "markdown" or twin_info(cell).get("twin") == "setup":
            continue
        translates = twin_info(cell).get("translates")
        if translates not in originals:
            found.append(f"Korean cell {cell.id}: translates {translates!r}, which is no English markdown cell")
            continue
        covered.add(translates)
        recorded = twin_info(cell).get("source_sha")
        if not recorded or cell.source == originals[translates].source:
            found.append(f"missing: English cell {translates} is not translated yet (Korean cell {cell.id})")
        elif recorded != digest(originals[translates].source):
            first = originals[translates].source.strip().splitlines()[0][:70] if originals[translates].source.strip() else ""
            found.append(f"stale: English cell {translates} ({first!r}) changed since Korean cell {cell.id} "
                         "translated it; revise it, then --stamp it")
    found += [f"missing: English cell {id} has no Korean cell" for id in originals if id not in covered]
    return found


def code_drift(english, twin):
    """Where `twin`'s code is not the English notebook's, one line each."""
    expected, _ = synced(english, "", twin)
    theirs = [cell for cell in twin.cells if cell.cell_type == "code" and cell.id != SETUP_ID]
    ours = [cell for cell in expected.cells if cell.cell_type == "code" and cell.id != SETUP_ID]
    found = []
    if [cell.id for cell in theirs] != [cell.id for cell in ours]:
        found.append(f"code cells {[cell.id for cell in theirs]} are not the English {[cell.id for cell in ours]}")
    for mine, english_cell in zip(theirs, ours):
        if mine.id != english_cell.id:
            continue
        if mine.source != english_cell.source:
            found.append(f"code cell {mine.id}: its source is not the English one")
        if dict(mine.metadata) != dict(english_cell.metadata):
            found.append(f"code cell {mine.id}: its metadata is not the English one's (with its overrides)")
    originals = {cell.id: cell for cell in english.cells if cell.cell_type == "code"}
    for mine in theirs:
        for key, recorded in twin_info(mine).get("overrides", {}).items():
            if key not in OVERRIDABLE:
                found.append(f"code cell {mine.id}: a twin may override only {list(OVERRIDABLE)}, not {key!r}")
            elif mine.id in originals and recorded != digest(twin_info(originals[mine.id]).get(key)):
                found.append(f"stale: code cell {mine.id}'s English {key!r} changed since the twin overrode it; "
                             "revise the override, then --stamp it")
    setup = twin.cells[:2]
    if [cell.id for cell in setup] != [SETUP_NOTE_ID, SETUP_ID] or setup[1].source != SETUP_CODE:
        found.append(f"the twin does not start with its {SETUP_CODE!r} cell")
    return found


def check_one(english_file):
    """Everything out of step between `english_file` and its twin, one line each."""
    target = twin_path(english_file)
    if not target.exists():
        return ["missing: no Korean twin (python -m chatkit.tools.twins --sync makes one)"]
    english, twin = nbformat.read(english_file, as_version=4), nbformat.read(target, as_version=4)
    found = [f"{line} (python -m chatkit.tools.twins --sync)" for line in code_drift(english, twin)]
    found += [f"not clean: {line} (python -m chatkit.tools.nbstrip {target})" for line in problems(twin)]
    return found + stale_or_missing(english, twin)


def orphan_twins(folder):
    """Twins whose English notebook is gone."""
    return [path for path in walkthrough_notebooks(pathlib.Path(folder) / LANGUAGE)
            if not english_path(path).exists()]


def check(folder=NOTEBOOKS):
    """{notebook name: [problems]} for every walkthrough notebook of `folder` with any."""
    report = {path.name: check_one(path) for path in walkthrough_notebooks(folder)}
    report.update({path.name: ["a twin without its English notebook"] for path in orphan_twins(folder)})
    return {name: lines for name, lines in report.items() if lines}


def stamp(twin_file, cells=()):
    """Record the English sources' hashes in `twin_file`'s Korean cells (ids of Korean or English cells).

    Without `cells`: every unstamped cell whose text is no longer the English text.
    Returns the Korean cells stamped.
    """
    twin_file = pathlib.Path(twin_file)
    english = nbformat.read(english_path(twin_file), as_version=4)
    twin = nbformat.read(twin_file, as_version=4)
    originals = english_markdown(english)
    code = {cell.id: cell for cell in english.cells if cell.cell_type == "code"}
    done, named = [], set()
    for cell in twin.cells:
        info = twin_info(cell)
        if cell.cell_type == "markdown" and info.get("translates") in originals:
            english_cell = originals[info["translates"]]
            if cells:
                chosen = {cell.id, english_cell.id} & set(cells)
                named |= chosen
            else:
                chosen = not info.get("source_sha") and cell.source != english_cell.source
            if chosen:
                info["source_sha"] = digest(english_cell.source)
                done.append(cell.id)
        elif cell.cell_type == "code" and info.get("overrides") and cell.id in cells and cell.id in code:
            for key in info["overrides"]:
                info["overrides"][key] = digest(twin_info(code[cell.id]).get(key))
            done.append(cell.id)
            named.add(cell.id)
    unknown = [id for id in cells if id not in named]
    if unknown:
        raise SystemExit(f"{twin_file}: no Korean cell or overriding code cell {unknown} to stamp")
    nbformat.write(strip(twin), twin_file)
    return done


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m chatkit.tools.twins", description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--sync", action="store_true", help="rewrite every twin's code cells from its English notebook")
    action.add_argument("--check", action="store_true", help="change nothing; exit 1 if anything is out of step")
    action.add_argument("--stamp", metavar="TWIN", type=pathlib.Path, help="mark Korean cells of TWIN translated")
    parser.add_argument("cells", nargs="*", help="with --stamp: cell ids (default: every new translation)")
    parser.add_argument("--notebooks", type=pathlib.Path, default=NOTEBOOKS, help="the English notebooks' folder")
    args = parser.parse_args(argv)
    if args.stamp:
        print(f"{args.stamp}: stamped {', '.join(stamp(args.stamp, args.cells)) or 'nothing'}")
        return 0
    if args.sync:
        for path in walkthrough_notebooks(args.notebooks):
            for line in sync_one(path):
                print(f"{twin_path(path)}: {line}")
    report = check(args.notebooks)
    for name, lines in report.items():
        print(f"{pathlib.Path(args.notebooks) / LANGUAGE / name}:")
        print("".join(f"  {line}\n" for line in lines), end="")
    if not report:
        print(f"every twin in {pathlib.Path(args.notebooks) / LANGUAGE} is in step with its English notebook")
    return 1 if args.check and report else 0


if __name__ == "__main__":
    sys.exit(main())
