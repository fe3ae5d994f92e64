"""A build stopped mid-render leaves the outputs a user already has exactly as they were."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import FIXTURE_BANK, ROOT, hanging_build

GOOD = b"%PDF-1.7 the handbook the user already printed from\n"


def _start(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    content = tmp_path / "content"
    shutil.copytree(FIXTURE_BANK, content)
    out = tmp_path / "output"
    out.mkdir()
    (out / "handbook.pdf").write_bytes(GOOD)
    env = dict(os.environ, KIT_CACHE_DIR=str(tmp_path / "cache"))
    # The fixture book is written in milliseconds; on the real one writing takes longer. Slowed
    # down here, so the poll below reliably sees the temporary file.
    slow_save = (
        "import pathlib, runpy, signal, sys, time\n"
        # Started in the background, a shell hands its children SIGINT ignored, and Python then
        # keeps it ignored: these tests need Ctrl-C as a terminal delivers it.
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "write = pathlib.Path.write_bytes\n"
        "def slow(self, data):\n"
        "    if self.name.startswith('.handbook.pdf.'):\n"
        "        time.sleep(3)\n"
        "    return write(self, data)\n"
        "pathlib.Path.write_bytes = slow\n"
        "sys.argv = sys.argv[1:]\n"
        "runpy.run_path(sys.argv[0], run_name='__main__')\n")
    proc = subprocess.Popen([sys.executable, "-c", slow_save, str(ROOT / "build.py"),
                             "--content", str(content), "--output", str(out), "handbook"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    return proc, out


def _wait_for_part(proc: subprocess.Popen, out: Path, limit: float = 120) -> Path:
    """Poll until the render has opened its temporary file: the moment of most risk."""
    end = time.monotonic() + limit
    while time.monotonic() < end and proc.poll() is None:
        parts = list(out.glob(".*.part"))
        if parts:
            return parts[0]
        time.sleep(0.002)
    pytest.fail("the render finished or stalled before it wrote anything")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_render_keeps_the_old_output(tmp_path, sig):
    proc, out = _start(tmp_path)
    _wait_for_part(proc, out)
    proc.send_signal(sig)
    _stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr.decode()
    assert "interrupted: outputs already built are unchanged" in stderr.decode()
    assert "Traceback" not in stderr.decode()
    assert (out / "handbook.pdf").read_bytes() == GOOD
    assert sorted(p.name for p in out.iterdir()) == ["handbook.pdf"]


def test_a_killed_render_keeps_the_old_output_and_the_next_build_cleans_up(tmp_path):
    proc, out = _start(tmp_path)
    _wait_for_part(proc, out)
    proc.kill()   # SIGKILL: nothing in the process can run
    proc.communicate(timeout=60)
    assert (out / "handbook.pdf").read_bytes() == GOOD
    # The next build removes what the killed one could not, and replaces the output whole.
    env = dict(os.environ, KIT_CACHE_DIR=str(tmp_path / "cache"))
    done = subprocess.run([sys.executable, str(ROOT / "build.py"), "--content",
                           str(tmp_path / "content"), "--output", str(out), "handbook"],
                          capture_output=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    assert sorted(p.name for p in out.iterdir()) == ["build-report.txt", "handbook.pdf"]
    assert (out / "handbook.pdf").read_bytes().startswith(b"%PDF-")
    assert (out / "handbook.pdf").read_bytes() != GOOD


@pytest.mark.parametrize("how", ["ctrl-c", "kill"])
def test_interrupting_a_full_build_stops_every_worker_with_one_line(tmp_path, how):
    """Ctrl-C reaches the build and all its workers; `kill` (or a CI timeout) only the build.
    Either way the build answers with one line, stops the workers at once (not when their
    pieces finish) and leaves the outputs as they were."""
    content = tmp_path / "content"
    shutil.copytree(FIXTURE_BANK, content)
    out = tmp_path / "output"
    out.mkdir()
    (out / "handbook.pdf").write_bytes(GOOD)
    started = tmp_path / "started"
    # Every piece of work in the pool hangs, so the interrupt finds the workers busy.
    hang = hanging_build(started)
    env = dict(os.environ, KIT_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", hang, "build.py", "--content", str(content),
                             "--output", str(out)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, start_new_session=True)
    try:
        end = time.monotonic() + 120
        while not started.exists() and time.monotonic() < end and proc.poll() is None:
            time.sleep(0.05)
        assert started.exists(), proc.communicate()
        time.sleep(0.5)
        interrupted = time.monotonic()
        if how == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)   # a terminal signals the whole process group
        else:
            proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)   # whatever is left, should this test fail
        except ProcessLookupError:
            pass
    assert time.monotonic() - interrupted < 15
    assert proc.returncode == 130
    assert err.decode().strip() == "interrupted: outputs already built are unchanged"
    assert (out / "handbook.pdf").read_bytes() == GOOD
    assert sorted(p.name for p in out.iterdir()) == ["handbook.pdf"]
