"""The grader's tests: a check that could not run here says so at the end of the run, not only in a skip."""

NOT_CHECKED = "NOT CHECKED:"  # the start of such a skip's reason (test_hosted.py)

_not_checked = []


def pytest_runtest_logreport(report):
    if report.skipped and isinstance(report.longrepr, tuple) and NOT_CHECKED in str(report.longrepr[2]):
        reason = str(report.longrepr[2]).split(NOT_CHECKED, 1)[1].strip()
        if reason not in _not_checked:
            _not_checked.append(reason)


def pytest_terminal_summary(terminalreporter):
    if not _not_checked:
        return
    terminalreporter.write_sep("!", "checks that did NOT run on this machine", yellow=True, bold=True)
    for reason in _not_checked:
        terminalreporter.write_line(f"NOT CHECKED: {reason}", yellow=True, bold=True)
