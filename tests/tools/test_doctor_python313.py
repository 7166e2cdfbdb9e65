"""The doctor in a notebook on Python 3.13: ipykernel sets FORCE_COLOR, and 3.13 then colours every
traceback of the Pythons it starts. The Tk error the doctor reads must come through as plain words."""

import os
import sys

import pytest

from chatkit.tools import doctor


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="elsewhere Tk needs no display to fail on")
def test_the_tk_error_is_read_without_colours_when_force_color_is_set():
    environ = {**os.environ, "FORCE_COLOR": "1", "DISPLAY": doctor.unused_display()}
    problem = doctor.open_window(environ)
    assert problem.startswith("couldn't connect to display"), repr(problem)
    assert "\x1b[" not in problem
