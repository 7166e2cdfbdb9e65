"""`python -m chatkit bench` at a tiny size: it runs, prints its table and saves its plot.

A smoke test, not a measurement: numbers on a shared CI machine mean
nothing, so none is compared here (the README quotes a real run).
"""

import subprocess
import sys

import pytest

from pathlib import Path

from chatkit import server as reference
from chatkit.tools import bench
from chatkit.tools.bench.measure import server_variant
from chatkit.tools.redisserver import executable

ROW_LABELS = [server_variant(name)[0] for name in bench.DEFAULT_SERVERS.split(",")]
ROOM_LABELS = [label for label in ROW_LABELS if label.endswith(", one room")]
ASYNCIO_PEER = Path(__file__).resolve().parents[2] / "benchmarks" / "peers" / "asyncio_server.py"


def run_bench(*args, timeout=180):
    return subprocess.run([sys.executable, "-m", "chatkit", "bench", *args],
                          capture_output=True, text=True, timeout=timeout)


def test_bench_prints_conditions_baselines_and_a_row_per_server_and_size(tmp_path):
    plot = tmp_path / "bench.png"
    result = run_bench("--clients", "3,12", "--seconds", "0.3", "--plot", str(plot), "--no-sustained")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for condition in ("machine:", "python:", "load average", "method:"):
        assert condition in out
    table = out[out.rindex("clients  server"):]  # the final table, after the rows printed as they came
    assert "loopback, 64 KiB writes" in table and "loopback, a send() per line" in table
    for clients in (3, 12):
        for label in ROW_LABELS:
            row = [line for line in table.splitlines() if line.split()[:1] == [str(clients)] and label in line]
            assert len(row) == 1, f"no row for {label} with {clients} clients in:\n{table}"
            if label in ROOM_LABELS and executable() is None:
                assert "skipped: redis-server is not installed" in row[0], row[0]
                continue
            assert "gave up" not in row[0] and "disconnected" not in row[0], row[0]
            *_, p50, p99, p999, lost, reordered, sustained, at_p99, hop, redis_cpu = row[0].split()
            assert float(p50) <= float(p99) <= float(p999), row[0]
            assert lost.replace(",", "").isdigit() and reordered.replace(",", "").isdigit(), row[0]
            assert sustained == at_p99 == "-", row[0]  # --no-sustained
            if label in ROOM_LABELS:  # the hop through Redis, and Redis's own work
                assert float(hop) > -5 and redis_cpu.endswith("%"), row[0]
            else:
                assert hop == redis_cpu == "-", row[0]
    event_loop_row = next(line for line in table.splitlines() if line.split()[:1] == ["12"] and "event loop" in line)
    assert event_loop_row.split("(event loop)")[1].split()[0] == "1", "the event loop is one thread"
    reference_row = next(line for line in table.splitlines() if line.split()[:1] == ["12"] and "reference" in line)
    threads = 12 + 1 + reference.WRITERS
    assert reference_row.split("(threads)")[1].split()[0] == str(threads), "a reader per client, the accept loop, the Writers"
    if executable() is not None:  # 4 servers: 12 readers in all, and each its accept loop, Writers and 2 room threads
        room_row = next(line for line in table.splitlines() if line.split()[:1] == ["12"] and "x4, one room" in line)
        assert room_row.split("one room")[1].split()[0] == str(12 + 4 * (1 + reference.WRITERS + 2)), room_row
    assert f"plot saved to {plot}" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_ramps_up_the_sustained_load_on_the_kit_and_on_a_peer_command():
    """The sustained ramp prints its steps; --peer runs any server program (here the asyncio peer)."""
    result = run_bench("--clients", "4", "--seconds", "0.2", "--servers", "ref", "--no-plot", "--ramp-steps", "2",
                       "--peer", f"asyncio={sys.executable} {ASYNCIO_PEER} {{port}}")
    assert result.returncode == 0, result.stderr
    steps = [line for line in result.stdout.splitlines() if line.split()[:1] == ["ramp"]]
    for label in ("reference (threads)", "asyncio"):
        mine = [line for line in steps if label in line]
        assert len(mine) == 2 and "20,000 lines/s" in mine[0] and "0,000 lines/s" in mine[1], steps
    table = result.stdout[result.stdout.rindex("clients  server"):]
    peer_row = next(line for line in table.splitlines() if "asyncio" in line)
    assert peer_row.split()[:3] == ["4", "asyncio", "1"], peer_row  # its threads, read from /proc
    assert "sustained:" in result.stdout


def test_a_server_file_in_any_folder_can_be_named(tmp_path):
    """--servers takes a .py file's path, slashes and all, with or without a variant after it."""
    folder = tmp_path / "my servers"
    folder.mkdir()
    server = folder / "mine.py"
    server.write_text("from chatkit.server import RunServer  # noqa: F401\n", encoding="utf-8")
    assert server_variant(str(server))[1:] == (str(server), False, 1)
    assert server_variant(f"{server}/nagle")[1:] == (str(server), True, 1)
    assert server_variant("ref/nagle")[2:] == (True, 1)
    with pytest.raises(ValueError, match="the variants are /nagle"):
        server_variant(f"{server}/fast")


@pytest.mark.parametrize("args, message", [
    (["--clients", "ten"], "--clients takes numbers"),
    (["--servers", "ref,no.such.module"], "no.such.module"),
    (["--servers", "3"], "stage 3 has no nicknames"),
    (["--servers", "ref/fast"], "the variants are /nagle"),
    (["--servers", "5/x2"], "only the reference server and stage 6 can share a room"),
    (["--peer", "go=./chatpeer"], "{port}"),
])
def test_bench_says_what_is_wrong_with_its_arguments(args, message):
    result = run_bench(*args, "--seconds", "0.1", "--no-plot", timeout=60)
    assert result.returncode == 2
    assert message in result.stderr
