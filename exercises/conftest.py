"""Turns on the chatkit grader for `pytest exercises/` (do not edit: the grader checks this file)."""

import sys

try:
    import chatkit.grader  # noqa: F401
except ImportError as error:  # a pytest of another Python than the kit's: one line that says what to run
    raise SystemExit(f"this pytest's Python ({sys.executable}) cannot import chatkit ({error}); "
                     "in the kit's folder run instead: python -m chatkit check")

pytest_plugins = ["chatkit.grader.plugin"]
