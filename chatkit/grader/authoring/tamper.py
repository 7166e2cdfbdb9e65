"""The tamper check: are the graded tests and their configuration the kit's own?

``python -m chatkit stubs`` writes ``chatkit/grader/authoring/manifest.json``: a
SHA-256 checksum of every graded test file and of ``exercises/conftest.py``,
the pytest settings that decide what is collected, and the list of graded
tests with their points (and which exercises are optional: their points are
extra, outside ``required_points()``). Every grading run compares the files in front of
it with the manifest and reports an edited, missing or added
test-infrastructure file in the score table and in the results; tests
that did not run (deselected, skipped, renamed) count 0. The bulk grader
goes further: it always grades with the kit's own copies.
"""

import hashlib
import json
import re
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10: pytest brings tomli
    import tomli as tomllib

MANIFEST = Path(__file__).with_name("manifest.json")
# pytest settings that change which tests are collected or how they run
WATCHED_SETTINGS = ("addopts", "python_files", "python_classes", "python_functions", "norecursedirs",
                    "usefixtures", "pythonpath", "required_plugins", "confcutdir", "xfail_strict")
INFRASTRUCTURE = ("conftest.py", "pytest.ini", ".pytest.ini", "tox.ini", "setup.cfg", "__init__.py")


def checksum(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def is_infrastructure(path):
    """A file that can change what the grader does: tests, conftest, pytest configuration."""
    name = Path(path).name
    return name in INFRASTRUCTURE or (name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py")))


def load_manifest(path=MANIFEST):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def required_points(manifest=None):
    """What a grade is out of: the points of every graded test but the optional exercises' (they are extra)."""
    manifest = load_manifest() if manifest is None else manifest
    return sum(test["points"] for exercise, tests in manifest.get("tests", {}).items()
               if exercise not in manifest.get("optional", []) for test in tests)


def pytest_settings(pyproject):
    """The watched settings of [tool.pytest.ini_options] in a pyproject.toml, as a dict."""
    try:
        data = tomllib.loads(Path(pyproject).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    options = data.get("tool", {}).get("pytest", {}).get("ini_options", {})
    return {key: options[key] for key in WATCHED_SETTINGS if key in options}


def problems(exercises_dir, manifest, config=None, complete=True):
    """What differs from the manifest, in sentences: [] when nothing does.

    complete=False: a folder that need not hold every kit file (a student's
    hand-in); only edited and added files count there.
    """
    exercises_dir = Path(exercises_dir)
    if not manifest:
        return ["the grader's manifest (chatkit/grader/authoring/manifest.json) is missing: run python -m chatkit stubs"]
    found = []
    known = manifest.get("files", {})
    for name, expected in known.items():
        path = exercises_dir / name
        if not path.exists():
            if complete:
                found.append(f"exercises/{name} is missing")
        elif checksum(path) != expected:
            found.append(f"exercises/{name} was edited (it differs from the kit's copy)")
    for path in sorted(exercises_dir.rglob("*")):
        relative = path.relative_to(exercises_dir).as_posix()
        if path.is_file() and is_infrastructure(path) and relative not in known and "__pycache__" not in relative:
            found.append(f"exercises/{relative} was added (test files and conftest.py belong to the kit)")
    if config is not None:
        found += configuration_problems(config, manifest)
    return found


def configuration_problems(config, manifest):
    """Does pytest's configuration come from the kit's pyproject.toml, unchanged where it matters?"""
    inipath = config.inipath
    if inipath is None or inipath.name != "pyproject.toml":
        where = inipath.name if inipath is not None else "no configuration file"
        return [f"pytest's configuration comes from {where}, not from the kit's pyproject.toml"]
    if pytest_settings(inipath) != manifest.get("pytest_settings", {}):
        return [f"the pytest settings in {inipath.name} were changed ({', '.join(WATCHED_SETTINGS[:4])}, ...)"]
    return []


def exercises_named(problem, exercises):
    """The exercises a tamper problem touches: the one whose test file it names, else all of them."""
    named = [exercise for exercise in exercises if re.search(rf"\b{re.escape(exercise)}_test\.py\b", problem)]
    return named or list(exercises)
