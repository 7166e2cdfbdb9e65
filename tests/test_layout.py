"""The layout shows the kit: no import circles, maps that match the folders, words defined once."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "chatkit"


def module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imports(path):
    """[(module imported, line, at module level?)] for the kit's modules a file imports, anywhere in it."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            # "from chatkit.lab import views" imports the module chatkit.lab.views
            names = [f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in MODULES else node.module
                     for alias in node.names]
        else:
            continue
        found += [(name, node.lineno, id(node) in top_level) for name in names if name in MODULES]
    return found


def graph():
    return {name: {imported for imported, _, _ in imports(path)} - {name} for name, path in MODULES.items()}


def test_no_import_circle_even_counting_imports_inside_functions():
    edges = graph()
    state, path, circles = {}, [], []

    def visit(name):
        state[name] = "visiting"
        path.append(name)
        for target in sorted(edges[name]):
            if state.get(target) == "visiting":
                circles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target)
        path.pop()
        state[name] = "done"

    for name in sorted(edges):
        if name not in state:
            visit(name)
    assert not circles, "import circles: " + "; ".join(" -> ".join(circle) for circle in circles)


def test_imports_inside_functions_are_only_for_optional_or_slow_libraries():
    """A function-level import of the kit's own code would be there to dodge a circle: none is."""
    inside = [f"{name}:{line} imports {imported}" for name, path in MODULES.items()
              for imported, line, top in imports(path) if not top]
    assert not inside, inside


def docstring(path):
    return ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""


PACKAGES = sorted(path.parent for path in PACKAGE.rglob("__init__.py"))


@pytest.mark.parametrize("package", PACKAGES, ids=lambda path: module_name(path / "__init__.py"))
def test_every_package_docstring_maps_all_it_holds(package):
    """Each package's docstring names every module and folder in it (the stages' index is built from names)."""
    text = docstring(package / "__init__.py")
    assert text, f"{package.relative_to(ROOT)}/__init__.py has no docstring"
    held = [path for path in package.iterdir()
            if path.suffix in (".py", ".json") and path.name != "__init__.py" or (path / "__init__.py").exists()]
    for path in held:
        if package.name == "chatkit" and path.name == "__main__.py":
            continue  # `python -m chatkit` itself
        name = path.stem if path.suffix else path.name
        dotted = f"{module_name(package / '__init__.py')}.{name}"
        assert re.search(rf"\b{re.escape(path.name)}\b|\b{re.escape(dotted)}\b|\b{re.escape(name)}\b", text), (
            f"{package.relative_to(ROOT)}/__init__.py does not mention {path.name}")


def test_readme_map_matches_the_folders():
    """The README's map of the kit names every package, and every package it names exists."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Map of the kit", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`(chatkit/[\w/]+/)`", section))
    packages = {f"{path.relative_to(ROOT).as_posix()}/" for path in PACKAGES if path != PACKAGE}
    assert named, "the README's map names no package"
    assert named - packages == set(), f"the README's map names folders that do not exist: {named - packages}"
    assert packages - named == set(), f"the README's map leaves out: {packages - named}"
    for module in re.findall(r"`(chatkit/[\w/]+\.py)`", section):
        assert (ROOT / module).exists(), f"the README's map names {module}, which does not exist"


# The server's words are written once, in chatkit/protocol.py; stage 4's join notice and
# stage 5's rules are those stages' own (the report's words, kept as they were).
WORDS = ["Enter your nickname", "in the room.", "The server is shutting down", "Unknown command",
         "Line too long", "* Bye, ", "* In the room (", "be kind to each other. /quit leaves",
         "list the people in the room", "nickname cannot contain", "is taken.",
         "other servers of this room", "never arrived here", "no nickname can be checked"]


def strings(path):
    """The text of every string in a file's code (docstrings left out: they may quote a line)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


@pytest.mark.parametrize("words", WORDS)
def test_each_server_line_is_written_once(words):
    owners = sorted(name for name, path in MODULES.items() if any(words in text for text in strings(path))
                    and name.split(".")[1] not in ("lab", "grader", "tools"))  # the machinery may quote them
    assert owners == ["chatkit.protocol"], f"{words!r} is written in {owners}, not only in chatkit/protocol.py"
