"""``python -m chatkit stubs``: make exercises/ from solutions/, and the grader's manifest.

solutions/ is the one source: each answer marks what the student writes::

        # BEGIN SOLUTION (TODO: accept clients one after the other, forever)
        while True:
            ...
        # END SOLUTION

and the exercise stub gets, in its place::

        # TODO: accept clients one after the other, forever
        raise NotImplementedError("TODO: accept clients one after the other, forever")

so an untouched stub fails its tests at once, naming the TODO. A block at
the top level of the file (helper classes of an open exercise) leaves only
its TODO comment: a raise there would stop the file from being imported. The same
command writes chatkit/grader/authoring/manifest.json (see tamper.py), which keeps
each stub's text too: ``python -m chatkit reset`` restores a stub from it where
there is no solutions/ (the students' edition, an installed kit). ``--check``
changes nothing and exits 1 if exercises/ or the manifest drifted from
solutions/ and the tests; a stub a student has edited is never overwritten
(unless ``--force``).
"""

import ast
import hashlib
import json
import re
import sys
from pathlib import Path

from chatkit.grader import ladder, layout
from chatkit.grader.authoring import tamper
from chatkit.tools.language import translator

_ = translator()

BEGIN = re.compile(r"^(?P<indent>\s*)# BEGIN SOLUTION(?: \(TODO: (?P<todo>.+)\))?\s*$")
END = re.compile(r"^\s*# END SOLUTION\s*$")


class StubError(ValueError):
    """A solution file whose markers cannot be turned into a stub."""


def make_stub(source, name="solution"):
    """The exercise stub for one solution file's text."""
    out, inside, blocks = [], False, 0
    for number, line in enumerate(source.splitlines(keepends=True), 1):
        begin, end = BEGIN.match(line), END.match(line)
        if begin:
            if inside:
                raise StubError(_("{name}:{number}: BEGIN SOLUTION inside another block").format(name=name, number=number))
            if not begin["todo"]:
                raise StubError(_("{name}:{number}: write what to do: # BEGIN SOLUTION (TODO: ...)").format(
                    name=name, number=number))
            inside, blocks = True, blocks + 1
            indent, todo = begin["indent"], begin["todo"].strip()
            out.append(f"{indent}# TODO: {todo}\n")
            if indent:
                out.append(f"{indent}raise NotImplementedError({('TODO: ' + todo)!r})\n")
        elif end:
            if not inside:
                raise StubError(_("{name}:{number}: END SOLUTION without BEGIN").format(name=name, number=number))
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise StubError(_("{name}: a BEGIN SOLUTION block is never ended").format(name=name))
    if not blocks:
        raise StubError(_("{name}: no # BEGIN SOLUTION block: the stub would be the answer").format(name=name))
    stub = "".join(out)
    ast.parse(stub, name)  # a stub must at least be valid Python
    return stub


def graded_tests(test_path):
    """[{test, points, description}] of a graded test file, read without importing it."""
    tree = ast.parse(Path(test_path).read_text(encoding="utf-8"))
    tests = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test"):
            continue
        points = None
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call) and ast.unparse(decorator.func).endswith("mark.points"):
                points = ast.literal_eval(decorator.args[0])
        if points is None:
            raise StubError(_("{path}: {test} has no @pytest.mark.points(n)").format(path=test_path, test=node.name))
        doc = (ast.get_docstring(node) or "").strip()
        tests.append({"test": node.name, "points": points, "description": doc.splitlines()[0] if doc else ""})
    return tests


def build(root=layout.KIT_ROOT):
    """What exercises/ and the manifest should contain: ({path: text}, manifest)."""
    exercises = layout.exercises_dir(root)
    files, tests, stubs, texts = {}, {}, {}, {}
    for exercise in layout.exercise_ids(root):
        solution = layout.solutions_dir(root) / f"{exercise}.py"
        stub = make_stub(solution.read_text(encoding="utf-8"), solution.name)
        files[exercises / f"{exercise}.py"] = stub
        stubs[exercise] = hashlib.sha256(stub.encode("utf-8")).hexdigest()
        texts[exercise] = stub
        test_file = layout.test_file(exercise, root)
        if test_file.exists():
            tests[exercise] = graded_tests(test_file)
    checksums = {path.relative_to(exercises).as_posix(): tamper.checksum(path)
                 for path in sorted(exercises.rglob("*")) if path.is_file() and tamper.is_infrastructure(path)
                 and "__pycache__" not in path.parts}
    manifest = {"files": checksums, "pytest_settings": tamper.pytest_settings(root / "pyproject.toml"),
                "tests": tests, "stubs": stubs, "stub_texts": texts,
                "optional": [exercise for exercise in tests if ladder.rung(exercise, root) == ladder.OPTIONAL]}
    return files, manifest


def drift(root=layout.KIT_ROOT, manifest_path=tamper.MANIFEST):
    """What differs from what `stubs` would write: [] when exercises/ and the manifest are in sync."""
    files, manifest = build(root)
    found = [_("{path} differs from the stub made from solutions/{name}").format(path=path.relative_to(root),
                                                                               name=path.name)
             for path, text in files.items() if not path.exists() or path.read_text(encoding="utf-8") != text]
    if tamper.load_manifest(manifest_path) != manifest:
        found.append(_("{name} is out of date (tests, points, checksums or pytest settings changed)").format(
            name=manifest_path.name))
    return found


def write(root=layout.KIT_ROOT, force=False, manifest_path=tamper.MANIFEST, say=print):
    """Write the stubs and the manifest; keep any stub a student has edited. Returns the kept ones."""
    files, manifest = build(root)
    generated_before = set(tamper.load_manifest(manifest_path).get("stubs", {}).values())
    kept = []
    for path, text in files.items():
        if path.exists() and path.read_text(encoding="utf-8") != text and not force:
            if tamper.checksum(path) not in generated_before:
                kept.append(path)
                say(_("kept {path}: it has your edits (--force overwrites it)").format(path=path.relative_to(root)))
                continue
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            say(_("wrote {path}").format(path=path.relative_to(root)))
    manifest_path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    say(_("wrote {path}").format(path=manifest_path.relative_to(root) if manifest_path.is_relative_to(root)
                                 else manifest_path))
    return kept


def add_arguments(parser):
    parser.add_argument("--check", action="store_true", help=_("change nothing; exit 1 if exercises/ drifted"))
    parser.add_argument("--force", action="store_true", help=_("overwrite exercise files even if they were edited"))


def main(args):
    try:
        if args.check:
            found = drift()
            for problem in found:
                print(problem)
            if found:
                print(_("Run `python -m chatkit stubs` to bring them in line with solutions/."))
            else:
                print(_("exercises/ and the manifest match solutions/ ({count} exercises).").format(
                    count=len(layout.exercise_ids())))
            return 1 if found else 0
        write(force=args.force)
        return 0
    except StubError as error:
        print(_("error: {error}").format(error=error), file=sys.stderr)
        return 2
