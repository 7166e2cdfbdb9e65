"""Plots with Hangul: a font that has it, and no missing-glyph warning (warnings are errors, as in the suite).

Each plot is drawn in a Python of its own (`-W error`): matplotlib keeps
its font files open for the life of the process.
"""

import os
import subprocess
import sys

from chatkit.tools import language
from chatkit.tools.bench import report
from chatkit.tools.bench.measure import Row

KOREAN_PLOT = """
import sys
from chatkit.tools import plots
plt = plots.pyplot()
if sys.argv[1] == "without":
    plt.rcParams["font.family"] = ["DejaVu Sans"]  # matplotlib's own font: no Hangul
else:
    assert plots.hangul_font() is not None, "no font with Hangul: sudo apt install fonts-nanum (.ci/run does)"
figure, axes = plt.subplots()
axes.plot([1, 10, 100], [-5, 20, 300], marker="o", label="기준 서버 (threads)")
axes.set_title("한 줄이 도착하는 데 걸리는 시간")
axes.set_xlabel("대화방의 클라이언트 수")
axes.set_ylabel("전달 지연 시간(ms)")
axes.legend()
figure.savefig(sys.argv[2])
"""

BENCH_PLOT = """
import sys
from chatkit.tools.bench import report
from chatkit.tools.bench.measure import Row
rows = [Row("기준 서버", clients, delivered_per_s=1000.0 * clients, rate_in=100.0 * clients,
            p50=0.001 * clients, p99=0.002 * clients) for clients in (10, 100)]
report.plot(rows, [], sys.argv[1])
"""


def python(code, *args, **environ):
    env = {**os.environ, **environ, "PYTHONWARNINGS": "error"}
    return subprocess.run([sys.executable, "-W", "error", "-c", code, *args], capture_output=True, text=True,
                          timeout=120, env=env)


def test_a_korean_labelled_plot_has_a_font_with_hangul_and_no_missing_glyphs(tmp_path):
    result = python(KOREAN_PLOT, "with", str(tmp_path / "korean.png"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "korean.png").stat().st_size > 5000


def test_without_a_hangul_font_the_same_plot_fails_on_missing_glyphs(tmp_path):
    """What the font is for: matplotlib's own DejaVu Sans has no Hangul."""
    result = python(KOREAN_PLOT, "without", str(tmp_path / "boxes.png"))
    assert result.returncode != 0 and "missing from font" in result.stderr, result.stderr


def test_the_benchs_plot_in_korean(tmp_path):
    result = python(BENCH_PLOT, str(tmp_path / "bench.png"), CHATKIT_LANG="ko")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "bench.png").exists()


def test_the_benchs_table_in_korean(monkeypatch):
    monkeypatch.setattr(report, "_", language.translator("ko"))
    rows = [Row("reference (threads)", clients, delivered_per_s=1000.0 * clients, threads=clients + 6)
            for clients in (10, 100)]
    header, rule, *lines = report.table(rows, limit=None).splitlines()
    assert header.split()[:3] == ["인원", "서버", "스레드"] and "전달/초" in header
    assert language.columns(header) == len(rule)  # Hangul is two columns wide: the rule still fits
    assert lines[0].split()[:4] == ["10", "reference", "(threads)", "16"]
