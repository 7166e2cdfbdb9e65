"""Turns on the chatkit grader for `pytest exercises/` (do not edit: the grader checks this file)."""

pytest_plugins = ["chatkit.grader.plugin"]
