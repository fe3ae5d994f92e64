"""Faults that must lose nothing: two builds at once, a damaged cache, a full or read-only disk,
and outputs that are the same bytes when built twice from the same content.

Each runs the build as a user would, in its own process, and checks the exact lines it prints.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from conftest import FIXTURE_BANK, ROOT, hanging_build
from pdfread import Document

EPOCH = "1700000000"   # 2023-11-14 22:13:20 UTC
GOOD = b"%PDF-1.7 the handbook the user already printed from\n"


def _env(cache: Path, **extra) -> dict:
    return dict(os.environ, KIT_CACHE_DIR=str(cache), SOURCE_DATE_EPOCH=EPOCH, **extra)


def _args(out: Path, *command: str) -> list[str]:
    return [sys.executable, str(ROOT / "build.py"), "--content", str(FIXTURE_BANK), "--output",
            str(out), *command]


def _build(cache: Path, out: Path, *command: str, **extra) -> subprocess.CompletedProcess:
    return subprocess.run(_args(out, *command), capture_output=True, text=True,
                          env=_env(cache, **extra), timeout=300)


def _pages(pdf: Path) -> list[str]:
    with Document(pdf) as doc:
        return [page.text() for page in doc]


@pytest.fixture(scope="module")
def warm(tmp_path_factory) -> tuple[Path, Path]:
    """A cache and the handbook built with it (read only: copy the cache to change it)."""
    root = tmp_path_factory.mktemp("warm")
    done = _build(root / "cache", root / "out", "handbook")
    assert done.returncode == 0, done.stderr
    return root / "cache", root / "out" / "handbook.pdf"


def _copy(cache: Path, dest: Path) -> Path:
    shutil.copytree(cache, dest)
    return dest


# ------------------------------------------------------------------ two builds at once

def test_a_second_build_waits_for_the_first_and_finds_its_work_done(tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "out"
    first = subprocess.Popen(_args(out, "handbook"), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=_env(cache))
    try:
        # Started once the first holds the folder: before, either might win.
        lock = cache / "build.lock"
        end = time.monotonic() + 120
        while time.monotonic() < end and first.poll() is None:
            if lock.exists() and lock.read_text().strip() == str(first.pid):
                break
            time.sleep(0.01)
        else:
            pytest.fail("the first build never took the lock: " + str(first.communicate()))
        second = _build(cache, out, "handbook")
        first_out, first_err = first.communicate(timeout=300)
    finally:
        first.kill()
    assert first.returncode == 0, first_err
    assert second.returncode == 0, second.stderr
    assert second.stderr.splitlines() == [
        f"waiting for another build in this folder (pid {first.pid}) ..."]
    assert "wrote" in first_out
    # It waited for the whole of the first build: the handbook was there, built from the same
    # inputs, and no sample had to run again.
    assert "handbook: up to date" in second.stdout, second.stdout
    assert "(0 run, 17 from cache)" in second.stdout
    assert len(_pages(out / "handbook.pdf")) == 7
    # The cache they shared is whole: another output folder takes every part from it, silently.
    again = _build(cache, tmp_path / "other", "handbook", "--verbose")
    assert again.returncode == 0 and again.stderr == "", again.stderr
    assert "(all 4 parts from the cache)" in again.stdout, again.stdout


def test_a_killed_build_does_not_leave_its_folder_locked(tmp_path):
    """The lock dies with the build, even while its workers (which hold none) live on."""
    started = tmp_path / "started"
    hang = hanging_build(started)
    build = subprocess.Popen([sys.executable, "-c", hang, *_args(tmp_path / "out")[1:]],
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             env=_env(tmp_path / "cache", PYTHONPATH=str(ROOT)),
                             start_new_session=True)
    try:
        end = time.monotonic() + 120
        while not started.exists() and time.monotonic() < end and build.poll() is None:
            time.sleep(0.05)
        assert started.exists(), build.communicate()
        build.kill()   # SIGKILL, the build alone: its busy workers are left running
        build.wait(30)
        began = time.monotonic()
        after = _build(tmp_path / "cache", tmp_path / "out", "check", "--numbers", "5")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(build.pid, signal.SIGKILL)
    assert after.returncode == 0, after.stderr
    assert "waiting" not in after.stderr
    assert time.monotonic() - began < 60


# ------------------------------------------------------------------ a damaged cache

def _damage(files: list[Path], how: str) -> None:
    for f in files:
        data = f.read_bytes()
        f.write_bytes(data[:len(data) // 2] if how == "truncated" else os.urandom(len(data)))


def test_a_truncated_font_in_the_cache_is_dropped_with_one_line(warm, tmp_path):
    """The fault a user met: every build failed in PyMuPDF until .cache/ was deleted."""
    cache = _copy(warm[0], tmp_path / "cache")
    parts = cache / "handbook-parts"
    for stamped in parts.glob("*.stamped.pdf"):
        stamped.unlink()   # a missing file is no damage: the parts are stamped again
    font = sorted(parts.glob("stamp-font-*.ttf"))[0]
    _damage([font], "truncated")
    done = _build(cache, tmp_path / "out", "handbook")
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        f"warning: dropped a damaged cache file ({font}); what it held is made again"]
    assert (tmp_path / "out" / "handbook.pdf").read_bytes() == warm[1].read_bytes()
    # Made again, and whole: the next build says nothing.
    again = _build(cache, tmp_path / "again", "handbook")
    assert again.returncode == 0 and again.stderr == "", again.stderr


def test_a_garbage_sample_result_file_is_dropped_and_the_samples_run_again(warm, tmp_path):
    cache = _copy(warm[0], tmp_path / "cache")
    results = cache / "sample-results.json"
    _damage([results], "garbage")
    done = _build(cache, tmp_path / "out", "check")
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        f"warning: dropped a damaged cache file ({results}); what it held is made again"]
    assert "(3 run, 0 from cache)" in done.stdout


@pytest.mark.parametrize("how", ["truncated", "garbage"])
def test_every_cache_file_damaged_gives_one_line_and_the_same_book(warm, tmp_path, how):
    cache = _copy(warm[0], tmp_path / "cache")
    files = sorted(p for p in cache.rglob("*") if p.is_file() and p.stat().st_size)
    assert len(files) > 20   # parts, stamped parts, fonts, records, compiled templates, ...
    _damage(files, how)
    done = _build(cache, tmp_path / "out", "handbook")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: dropped a damaged cache file ("), \
        done.stderr
    assert (tmp_path / "out" / "handbook.pdf").read_bytes() == warm[1].read_bytes()


# ------------------------------------------------------------------ a full or read-only disk

@contextlib.contextmanager
def _tmpfs(where: Path, size: str = "4m"):
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip("a small file system is needed, and mounting one is not permitted here "
                    f"(run as root, as CI does): {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def _fill(folder: Path) -> None:
    """Write until the disk is full."""
    with open(folder / "filler", "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    with contextlib.suppress(OSError):
        (folder / "filler-2").write_bytes(b"\0" * 4096)   # what the buffer held back


def _previous_outputs(out: Path) -> dict[str, bytes]:
    (out / "slides").mkdir()
    (out / "handbook.pdf").write_bytes(GOOD)
    (out / "slides" / "01-alpha.pptx").write_bytes(b"PK the deck the user already has")
    return {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def _as_before(out: Path, before: dict[str, bytes]) -> None:
    now = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*")
           if p.is_file() and not p.name.startswith("filler")}
    assert now == before   # byte for byte, and no .part file left behind


@pytest.mark.parametrize("fault, says", [("full", "No space left on device"),
                                         ("read-only", "Read-only file system")])
@pytest.mark.parametrize("command, name", [("handbook", "handbook.pdf"),
                                           ("slides", "slides/01-alpha.pptx")])
def test_an_output_that_cannot_be_written_fails_with_one_line_and_keeps_the_old_one(
        warm, tmp_path, fault, says, command, name):
    cache = _copy(warm[0], tmp_path / "cache")
    with _tmpfs(tmp_path / "out") as out:
        before = _previous_outputs(out)
        if fault == "full":
            _fill(out)
        else:   # root writes through permission bits: a read-only mount stops even root
            subprocess.run(["mount", "-o", "remount,ro", str(out)], check=True)
        done = _build(cache, out, command)
        assert done.returncode == 3, done.stderr
        assert done.stderr.splitlines() == [f"error: cannot write {out / name}: {says}"]
        _as_before(out, before)


def test_a_full_disk_under_the_cache_costs_time_not_outputs(tmp_path):
    with _tmpfs(tmp_path / "cache") as cache:
        _fill(cache)
        done = _build(cache, tmp_path / "out", "handbook")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"warning: cannot write the cache ({cache}/")
    assert lines[0].endswith(": No space left on device); outputs are not affected, the next "
                             "build does this work again")
    assert len(_pages(tmp_path / "out" / "handbook.pdf")) == 7


def test_check_update_on_a_read_only_content_folder_names_the_file_and_keeps_it(tmp_path):
    with _tmpfs(tmp_path / "bank") as bank:
        shutil.copytree(FIXTURE_BANK, bank, dirs_exist_ok=True)
        answer = bank / "01-alpha" / "002-print.toml"
        answer.write_text(answer.read_text().replace("a-b\n", "a+b\n", 1))
        before = answer.read_bytes()
        subprocess.run(["mount", "-o", "remount,ro", str(bank)], check=True)
        done = subprocess.run([sys.executable, str(ROOT / "build.py"), "--content", str(bank),
                               "check", "--update"], capture_output=True, text=True,
                              env=_env(tmp_path / "cache"), timeout=300)
        assert done.returncode == 3, done.stderr
        # After the report of the failing sample, one line for the file that could not change.
        assert done.stderr.splitlines()[-1] == (
            f"error: cannot write {answer}: Read-only file system")
        assert "Traceback" not in done.stderr and done.stderr.count("error:") == 1
        assert "updated 0 sample(s); 1 left as they were" in done.stdout
        assert answer.read_bytes() == before


# ------------------------------------------------------------------ the same bytes twice

def test_two_clean_builds_give_the_same_bytes_under_source_date_epoch(tmp_path):
    outputs = []
    for n in (1, 2):
        out = tmp_path / f"out{n}"
        done = _build(tmp_path / f"cache{n}", out)   # everything, from an empty cache
        assert done.returncode == 0, done.stderr
        outputs.append({str(p.relative_to(out)): p.read_bytes()
                        for p in sorted(out.rglob("*")) if p.is_file()})
    assert sorted(outputs[0]) == ["build-report.txt", "flashcards-a4.pdf", "handbook.pdf",
                                  "python-interview.apkg",
                                  "slides/01-alpha.pptx", "slides/02-beta.pptx"]
    for name in outputs[0]:
        assert outputs[0][name] == outputs[1][name], f"{name} differs between two clean builds"
    # The dates in them are the variable's.
    out = tmp_path / "out1"
    assert "2023-11-14" in _pages(out / "handbook.pdf")[0]
    with zipfile.ZipFile(out / "slides" / "01-alpha.pptx") as deck:
        core = deck.read("docProps/core.xml").decode()
        assert {i.date_time for i in deck.infolist()} == {(2023, 11, 14, 22, 13, 20)}
    assert core.count("2023-11-14T22:13:20Z") == 2   # created and modified


def test_the_build_date_is_today_unless_source_date_epoch_says_otherwise(monkeypatch):
    from datetime import date

    from studykit.errors import KitError
    from studykit.render.base import build_date, build_time

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert build_date() == date.today()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    assert build_date() == date(2023, 11, 14)
    assert build_time().isoformat() == "2023-11-14T22:13:20"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(KitError, match="SOURCE_DATE_EPOCH must be a whole number of seconds"):
        build_date()
