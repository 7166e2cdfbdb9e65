"""The grader's own tests (a package, so that its conftest.py is grader.conftest, not the tests' conftest)."""
