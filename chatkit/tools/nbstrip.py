"""Keep the walkthrough notebooks clean: no outputs, no execution counts, no editor state.

    python -m chatkit.tools.nbstrip            strip every notebooks/NN-*.ipynb and its twins (notebooks/ko/) in place
    python -m chatkit.tools.nbstrip --check    only list what would change (exit status 1 if anything)
    python -m chatkit.tools.nbstrip FILE ...   the same for the given notebooks

A notebook committed with outputs shows last week's ports and timings to the
next student, and every run makes a noisy diff. What is kept: the cells'
sources, their ids, and the cell metadata the notebook test reads (``tags``
and ``chatkit``). ``make lab`` applies the same cleaning on every save
(`pre_save_hook`, for the notebooks in a kit's notebooks/ folder and in its
twins' folders, notebooks/ko/), so using the walkthrough, in either language,
never dirties the checkout.
"""

import argparse
import pathlib
import re
import sys

from chatkit.grader import layout
from chatkit.tools.language import LANGUAGES

KEPT_CELL_METADATA = ("tags", "chatkit")
KEPT_NOTEBOOK_METADATA = ("kernelspec", "chatkit")
WALKTHROUGH_NAME = re.compile(r"^\d\d-.*\.ipynb$")
NOTEBOOKS = pathlib.Path(__file__).resolve().parents[2] / "notebooks"
TWIN_FOLDERS = LANGUAGES[1:]  # notebooks/ko/: the walkthrough in the kit's other languages (chatkit/tools/twins.py)


def problems(notebook):
    """What is not clean in `notebook` (a dict as in the .ipynb file), one line each."""
    found = []
    for number, cell in enumerate(notebook["cells"], 1):
        if cell.get("outputs"):
            found.append(f"cell {number} has outputs")
        if cell.get("execution_count") is not None:
            found.append(f"cell {number} has an execution count")
        extra = sorted(set(cell.get("metadata", {})) - set(KEPT_CELL_METADATA))
        if extra:
            found.append(f"cell {number} has editor metadata {extra}")
    extra = sorted(set(notebook.get("metadata", {})) - set(KEPT_NOTEBOOK_METADATA) - {"language_info"})
    if extra or notebook.get("metadata", {}).get("language_info", {"name": "python"}) != {"name": "python"}:
        found.append(f"notebook metadata has more than {list(KEPT_NOTEBOOK_METADATA)} and the language name")
    return found


def strip(notebook):
    """Remove outputs, execution counts and editor metadata from `notebook`, in place."""
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell["metadata"] = {key: value for key, value in cell.get("metadata", {}).items() if key in KEPT_CELL_METADATA}
    metadata = notebook.setdefault("metadata", {})
    kept = {key: value for key, value in metadata.items() if key in KEPT_NOTEBOOK_METADATA}
    metadata.clear()
    metadata.update(kept, language_info={"name": "python"})
    return notebook


def pre_save_hook(model, path="", contents_manager=None, **kwargs):
    """Jupyter's ContentsManager.pre_save_hook: strip the walkthrough's notebooks on save.

    Only those in a kit's notebooks/ folder or its twins' notebooks/ko/ (when
    Jupyter says where): on a hub, the hook is set for every notebook a
    student saves, and their own "01-analysis.ipynb" elsewhere keeps its outputs.
    """
    if model.get("type") != "notebook" or not WALKTHROUGH_NAME.match(model.get("name") or pathlib.Path(path).name):
        return
    if contents_manager is not None and not is_walkthrough_folder(pathlib.Path(contents_manager.root_dir, path).parent):
        return
    strip(model["content"])


def is_walkthrough_folder(folder):
    """Whether `folder` is a kit's notebooks/ or one of its twins' folders (notebooks/ko/)."""
    if folder.name in TWIN_FOLDERS and folder.parent.name == "notebooks":
        folder = folder.parent
    return folder.name == "notebooks" and layout.is_kit_folder(folder.parent)


def walkthrough_notebooks(folder=NOTEBOOKS):
    """notebooks/NN-*.ipynb, in order."""
    return sorted(path for path in pathlib.Path(folder).glob("*.ipynb") if WALKTHROUGH_NAME.match(path.name))


def every_walkthrough_notebook(folder=None):
    """notebooks/NN-*.ipynb, then their twins (notebooks/ko/NN-*.ipynb)."""
    folder = pathlib.Path(NOTEBOOKS if folder is None else folder)
    return walkthrough_notebooks(folder) + [path for language in TWIN_FOLDERS
                                            for path in walkthrough_notebooks(folder / language)]


def main(argv=None):
    import nbformat

    parser = argparse.ArgumentParser(prog="python -m chatkit.tools.nbstrip", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook is not clean")
    parser.add_argument("paths", nargs="*", type=pathlib.Path, help="notebooks (default: notebooks/NN-*.ipynb and notebooks/ko/NN-*.ipynb)")
    args = parser.parse_args(argv)
    dirty = 0
    for path in args.paths or every_walkthrough_notebook():
        notebook = nbformat.read(path, as_version=4)
        found = problems(notebook)
        if not found:
            continue
        dirty += 1
        if args.check:
            print(f"{path}: {'; '.join(found)}")
        else:
            nbformat.write(strip(notebook), path)
            print(f"{path}: stripped ({'; '.join(found)})")
    return 1 if args.check and dirty else 0


if __name__ == "__main__":
    sys.exit(main())
