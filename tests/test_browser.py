"""JupyterLab in a real browser: `make lab` serves the walkthrough, headless Chromium runs notebook 00.

What a student sees on first start: notebook 00, with no pop-up over it
(JupyterLab asks about its news on a first start; make lab turns that off).
After Run > Run All Cells: the transcript rendered as a table, the sequence
diagram drawn, no error anywhere; and saving keeps the notebook file free of
outputs. The screenshots are artifacts/browser-start.png (the first view)
and artifacts/browser-transcript.png: look at them.

Playwright drives Debian's chromium (``.ci/run`` installs it; there is no
``playwright install`` here). Without chromium the test is skipped.
"""

import json
import os
import pathlib
import queue
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

import pytest

from chatkit.tools import system
from chatkit.tools.nbstrip import problems

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOK = "00-the-report-and-the-kit.ipynb"
CHROMIUM = system.chromium()
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOT = ROOT / "artifacts" / "browser-transcript.png"  # and browser-failure.png when it fails
FIRST_VIEW = ROOT / "artifacts" / "browser-start.png"
NEWS_QUESTION = "Would you like to get notified about official Jupyter news?"
# A fresh user's JupyterLab settings (none of this machine's), but every cell rendered for the test.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}
STARTUP = 120  # seconds for `make lab` to serve (it may have to install the kit first)
STEP = 30_000  # milliseconds for any one step in the browser

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs chromium (Debian: apt-get install chromium; .ci/run does)")


def read_lines(stream, lines):
    """Thread body: pass the server's output on, line by line, until it ends."""
    for line in stream:
        lines.put(line)
    lines.put(None)


@pytest.fixture
def jupyter_lab(tmp_path):
    """`make lab` on a copy of the notebooks, port 0, a known token; yields (base url, token, folder)."""
    notebooks = tmp_path / "kit" / "notebooks"
    notebooks.mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, notebooks)
    shutil.copytree(ROOT / "exercises", notebooks.parent / "exercises", ignore=shutil.ignore_patterns("__pycache__"))
    for name, settings in LAB_SETTINGS.items():
        path = tmp_path / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings))
    # A JupyterLab of its own: none of this machine's Jupyter settings, state or configuration.
    # Its kernels talk over Unix sockets in a short runtime folder (a socket's path has at most 107
    # bytes): TCP ports that jupyter_client picks, frees and hands the kernel can be taken meanwhile
    # on a busy machine, and the kernel then dies at start (the REST API answers 500).
    runtime = tempfile.mkdtemp(prefix="chatkit-lab-")
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"), JUPYTER_RUNTIME_DIR=runtime,
               JUPYTER_DATA_DIR=str(tmp_path / "data"), JUPYTER_CONFIG_DIR=str(tmp_path / "config"))
    token = secrets.token_hex(16)
    lab = subprocess.Popen(
        ["make", "-s", "lab", f"LAB_ROOT={notebooks.parent}",
         f"LAB_ARGS=--no-browser --ServerApp.port=0 --IdentityProvider.token={token} --KernelManager.transport=ipc"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines, seen = queue.Queue(), []
    reader = threading.Thread(target=read_lines, args=(lab.stdout, lines), name="jupyter lab output")
    reader.start()
    try:
        while True:
            line = lines.get(timeout=STARTUP)
            if line is None:
                pytest.fail("make lab ended before serving:\n" + "".join(seen[-30:]))
            seen.append(line)
            found = re.search(r"(http://127\.0\.0\.1:\d+)/lab", line)
            if found:
                break
        yield found.group(1), token, notebooks
    except queue.Empty:
        pytest.fail(f"make lab did not serve within {STARTUP} s:\n" + "".join(seen[-30:]))
    finally:
        os.killpg(lab.pid, signal.SIGTERM)  # JupyterLab shuts its kernels down on SIGTERM
        try:
            lab.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(lab.pid, signal.SIGKILL)
            lab.wait()
        reader.join(10)
        lab.stdout.close()
        shutil.rmtree(runtime, ignore_errors=True)


def wait_for_kernel(base, token, timeout=STEP / 1000):
    """Wait until the page's kernel is started, connected and idle (asking the server's REST API)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/kernels?token={token}", timeout=10) as answer:
                kernels = json.load(answer)
        except urllib.error.HTTPError as error:
            # jupyter_server lists a kernel that is still starting before it has its
            # execution_state and last_activity: the list answers 500 until they are set.
            error.close()
            if error.code != 500:
                raise
            kernels = f"HTTP {error.code} {error.reason}"
        else:
            if any(k["execution_state"] == "idle" and k["connections"] > 0 for k in kernels):
                return
        if time.monotonic() > deadline:
            pytest.fail(f"the notebook's kernel was not ready within {timeout:g} s: {kernels}")
        threading.Event().wait(0.2)  # poll the server, bounded by the deadline


def test_a_student_runs_notebook_00_in_jupyter_lab(jupyter_lab):
    from playwright.sync_api import sync_playwright

    base, token, notebooks = jupyter_lab
    copy = notebooks / NOTEBOOK
    before = copy.stat().st_mtime_ns
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(STEP)
            page.goto(f"{base}/?token={token}")  # make lab's start page: notebook 00
            page.wait_for_url(f"**/lab/tree/notebooks/{NOTEBOOK}**")
            wait_for_kernel(base, token)  # Run All before the kernel is connected would run nothing
            page.wait_for_selector(".jp-Notebook .jp-Cell")
            FIRST_VIEW.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(FIRST_VIEW))

            page.click(".lm-MenuBar-itemLabel:text-is('Run')")
            page.click(".lm-Menu-item[data-command='runmenu:run-all']")
            page.wait_for_selector(".jp-OutputArea-output:has-text('stopped 1 server(s)')")  # the last cell ran

            transcript = page.locator("table.chatkit-transcript")
            assert "alice: 안녕하세요! 여기가 채팅방인가요?" in transcript.inner_text()
            assert "heard by" in transcript.inner_text()
            diagram = page.locator(".jp-RenderedSVG img").first
            assert diagram.evaluate("image => image.complete && image.naturalWidth > 300"), "the sequence diagram did not draw"
            assert page.get_by_text(NEWS_QUESTION).count() == 0, "JupyterLab's news pop-up covers the notebook"
            errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            assert errors.count() == 0, f"the notebook showed errors: {errors.all_inner_texts()}"

            transcript.scroll_into_view_if_needed()
            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))

            page.keyboard.press("Control+s")  # saving strips the outputs from the file (make lab's hook)
            page.wait_for_selector(".jp-mod-dirty", state="detached")
        except Exception:
            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT.with_name("browser-failure.png")))  # what the page showed
            raise
        finally:
            browser.close()
    assert copy.stat().st_mtime_ns != before, "the notebook was not saved"
    saved, original = (json.loads(path.read_text(encoding="utf-8")) for path in (copy, ROOT / "notebooks" / NOTEBOOK))
    assert not problems(saved), f"make lab saved outputs into the notebook: {problems(saved)}"
    assert [cell["source"] for cell in saved["cells"]] == [cell["source"] for cell in original["cells"]]
