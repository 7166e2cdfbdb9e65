"""What `make test` says besides the tests (the hooks are imported by tests/conftest.py).

* Before anything runs: if exercises/ holds edited exercise files, the tests
  that prove the stubs are solutions/ minus the answers cannot pass. The run
  stops at once and says what to do, instead of failing twenty tests.
* At the end, once: every test skipped, grouped by reason, and the programs
  this machine lacks (chatkit.tools.system) with the command that installs them.
* Once collection is done: the long commands of the tests marked `early`
  start, to run beside the other tests (early.py); killed at the end.
* pytest-timeout is one of the kit's test tools, which the students' edition
  does not install: without it, its `timeout` setting and marker are known
  (and do nothing) rather than an error.
"""

from collections import Counter
from pathlib import Path

import pytest

from chatkit.grader import layout
from chatkit.grader.authoring import stubs
from chatkit.tools import system
import early

# Test files that grade or compare the stubs in exercises/ (they need them untouched).
STUB_TESTS = ("test_exercises.py", "test_stubs.py", "test_samples.py", "test_grade.py", "test_plugin.py")


def pytest_addoption(parser, pluginmanager):
    if not pluginmanager.has_plugin("timeout"):
        parser.addini("timeout", "per-test time limit (pytest-timeout is not installed: no limit)")


def pytest_configure(config):
    config.addinivalue_line("markers", "early(start=function): function(folder) starts the test's long command with the "
                            "session (tests/early.py)")
    if not config.pluginmanager.has_plugin("timeout"):
        config.addinivalue_line("markers", "timeout(seconds): a per-test time limit (needs pytest-timeout)")


def edited_exercises(root=None):
    """Exercise files in exercises/ that are not the stubs solutions/ makes ([] without solutions/)."""
    root = root or layout.kit_root()
    if not layout.solutions_dir(root).is_dir():
        return []
    files, _ = stubs.build(root)
    return sorted(path.name for path, text in files.items()
                  if path.exists() and path.read_text(encoding="utf-8") != text)


def what_to_do_with(edited):
    names = ", ".join(f"exercises/{name}" for name in edited)
    return (f"exercises/ holds edited exercises ({names}): the kit's tests compare the stubs there with "
            "solutions/, so they would fail.\n"
            "  To grade that work:            python -m chatkit check\n"
            "  To test the kit, set it aside:  git stash (or copy the files elsewhere), then\n"
            "                                  python -m chatkit stubs --force   (writes the stubs back)")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    if any(Path(str(item.path)).name in STUB_TESTS for item in items):
        edited = edited_exercises(config.rootpath)
        if edited:
            pytest.exit(what_to_do_with(edited), returncode=pytest.ExitCode.USAGE_ERROR)


def pytest_collection_finish(session):
    early.start(session.items)


def pytest_sessionfinish(session):
    early.finish()


def skip_reason(report):
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


def pytest_terminal_summary(terminalreporter):
    skipped = [report for report in terminalreporter.stats.get("skipped", []) if report.when in ("setup", "call")]
    lacking = system.missing()
    if not skipped:
        return
    terminalreporter.write_sep("=", f"skipped: {len(skipped)} test{'s' if len(skipped) != 1 else ''}")
    for reason, count in Counter(skip_reason(report) for report in skipped).most_common():
        terminalreporter.write_line(f"{count:4}  {reason}")
    if lacking:
        terminalreporter.write_line("This machine lacks: " + "; ".join(f"{tool.program} ({tool.used_for})"
                                                                       for tool in lacking))
        command = system.install_command(lacking)
        if command:
            terminalreporter.write_line(f"Install them, then run the tests again: {command}")
