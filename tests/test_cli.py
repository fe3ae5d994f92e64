"""The command line: exit codes, messages without tracebacks, --update, list, filters."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import build
from conftest import ROOT
from studykit import console, pipeline
from studykit.api import Project
from studykit.workers import InlineExecutor, PartsFirst

Q2 = "01-alpha/002-print.toml"


def break_output(bank: Path) -> None:
    path = bank / Q2
    path.write_text(path.read_text().replace("a-b\n", "a+b\n", 1))


def test_check_passes_with_exit_0(bank, run):
    result = run(bank, "check")
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output


def test_wrong_output_fails_with_exit_1_and_a_diff_naming_the_file(bank, run):
    break_output(bank)
    result = run(bank, "check")
    assert result.exit_code == 1
    assert f"{Q2}:" in result.output and "samples[0] 'Separators'" in result.output
    assert "output differs" in result.output
    assert "-a+b" in result.output and "+a-b" in result.output


def test_invalid_content_exits_2_with_every_problem(bank, run):
    p = bank / Q2
    p.write_text(p.read_text().replace("summary =", "sumary =", 1))
    p5 = bank / "02-beta/005-exceptions.toml"
    p5.write_text(p5.read_text().replace('difficulty = "expert"', 'difficulty = "easy"'))
    result = run(bank, "check")
    assert result.exit_code == 2
    assert "did you mean 'summary'?" in result.output
    assert "is 'easy' but the bank says 'expert'" in result.output
    assert result.output.rstrip().endswith("aborted with 3 errors")
    assert "Traceback" not in result.output


def test_usage_errors_exit_2(bank, run):
    assert run(bank, "check", "--numbers", "5-2").exit_code == 2
    assert run(bank, "check", "--topic", "nope").exit_code == 2
    assert run(bank, "check", "--difficulty", "trivial").exit_code == 2


def test_filters_select_samples(bank, run):
    result = run(bank, "check", "--numbers", "5")
    assert result.exit_code == 0
    assert "checked 1 samples of 1 questions" in result.output
    result = run(bank, "check", "--topic", "alpha", "--difficulty", "easy")
    assert "checked 3 samples of 1 questions" in result.output


def test_update_rewrites_outputs_and_keeps_comments(bank, run):
    break_output(bank)
    path = bank / Q2
    before = path.read_text()
    result = run(bank, "check", "--update")
    assert result.exit_code == 0, result.output
    assert "output updated" in result.output and "+a-b" in result.output
    after = path.read_text()
    assert after == before.replace("a+b\n", "a-b\n", 1)
    assert run(bank, "check").exit_code == 0


def test_list_shows_coverage(bank, run):
    result = run(bank, "list")
    assert result.exit_code == 0
    assert "01 Alpha Things" in result.output and "2/3" in result.output
    assert result.output.rstrip().endswith("answered 3/5 (60%)")


def test_no_traceback_from_a_real_process(bank, tmp_path):
    (bank / Q2).write_text("number = [", "utf-8")
    proc = subprocess.run([sys.executable, str(ROOT / "build.py"), "--content", str(bank),
                           "check"], capture_output=True, text=True,
                          env={"KIT_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2
    assert "invalid TOML" in proc.stderr and "Traceback" not in proc.stderr
    with_debug = subprocess.run([sys.executable, str(ROOT / "build.py"), "--debug", "--content",
                                 str(bank), "check"], capture_output=True, text=True,
                                env={"KIT_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert "Traceback" in with_debug.stderr


@pytest.mark.parametrize("command", ["list", "check", "slides"])
def test_a_malformed_bank_named_by_topic_is_reported_by_file_and_line(bank, tmp_path, command):
    """--topic reads the bank's topics before anything else: a bank that is not TOML is
    reported there as everywhere, by file and line, exit 2."""
    bank_file = bank / "questions.toml"
    lines = bank_file.read_text("utf-8").splitlines()
    lines.insert(2, "= broken")
    bank_file.write_text("\n".join(lines) + "\n", "utf-8")
    proc = subprocess.run([sys.executable, str(ROOT / "build.py"), "--content", str(bank),
                           "--output", str(tmp_path / "out"), command, "--topic", "alpha"],
                          capture_output=True, text=True,
                          env={"KIT_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"{bank_file}:3: invalid TOML" in proc.stderr, proc.stderr
    assert proc.stderr.rstrip().endswith("aborted with 1 error")


def test_the_real_content_is_valid():
    proc = subprocess.run([sys.executable, str(ROOT / "build.py"), "list"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "answered" in proc.stdout


def test_full_build_renders_everything_in_parallel_and_reports_a_failed_output(bank, run, tmp_path):
    path = bank / Q2
    code = "\n".join(f"print({i})  # line {i}" for i in range(45))
    output = "\n".join(str(i) for i in range(45))
    text = path.read_text().replace('title = "Separators"\ncard = true', 'title = "Separators"')
    # Off the slides: a sample too long for one slide would fail the decks too.
    path.write_text(text + f"\n[[samples]]\ntitle = \"Too long for a card\"\ncard = true\n"
                           f"slide = false\ncode = '''\n{code}\n'''\noutput = '''\n{output}\n'''\n")
    result = run(bank)
    assert result.exit_code == 3, result.output
    # Its back, which shows the 45 lines it prints, does not fit either.
    assert "Q2 (front), Q2 (back) do not fit a 8up card" in result.output
    assert "Traceback" not in result.output
    out = tmp_path / "output"
    # The outputs that could be built were, in their own processes.
    assert (out / "handbook.pdf").exists()
    assert sorted(p.name for p in (out / "slides").iterdir()) == ["01-alpha.pptx", "02-beta.pptx"]
    assert not (out / "flashcards-a4.pdf").exists()


def test_an_input_saved_since_the_last_build_is_noticed_before_anything_is_read(bank, run,
                                                                               tmp_path):
    assert run(bank).exit_code == 0
    project = Project(content_dir=bank, output_dir=tmp_path / "output",
                      cache_dir=tmp_path / "cache")
    assert not project.saved_since_last_build()
    later = time.time() + 5
    os.utime(bank / Q2, (later, later))
    assert project.saved_since_last_build()
    assert Project(content_dir=bank, cache_dir=tmp_path / "none").saved_since_last_build()


def test_a_full_build_with_nothing_changed_starts_no_worker(bank, run, monkeypatch):
    first = run(bank)
    assert first.exit_code == 0, first.output

    def no_pool(workers):
        raise AssertionError("a pool of workers was started with every output up to date")

    monkeypatch.setattr(pipeline, "worker_pool", no_pool)
    again = run(bank)
    assert again.exit_code == 0, again.output
    for name in ("handbook", "flashcards", "slides", "anki"):
        assert f"{name}: up to date" in again.output, again.output
    assert "details in" not in again.output   # no report written: nothing was


@pytest.mark.parametrize("stale, order", [
    # A clean build: the first part, the slides, the book's other parts longest first, then
    # the cards.
    ((True, True, True), ["chapter 1", "slides", "chapter 333", "chapter 22", "cards"]),
    # An edit: its chapter, then at once the rest (no other part to hand out).
    ((False, True, False), ["chapter 22", "slides", "cards"]),
    # Nothing of the book to lay out.
    ((False, False, False), ["slides", "cards"]),
])
def test_the_books_parts_are_handed_out_before_the_other_outputs(stale, order):
    from studykit.render.partcache import PartCache
    from studykit.render.partlayout import PartLayout
    from studykit.render.partschedule import lay_out

    handed = []

    class Recorder(InlineExecutor):
        def submit(self, fn, /, *args, **kwargs):
            handed.append(args[0])
            return super().submit(fn, *args, **kwargs)

    class Cache(PartCache):
        def get(self, key):
            return None if stale[keys.index(key)] else PartLayout(b"", 1, {}, [], [], [])

    def work(html, base_url):
        return PartLayout(pdf=b"", pages=1, anchors={}, links=[], bookmarks=[], stamps=[])

    pool = Recorder()
    first = PartsFirst(pool, lambda: pool.submit(str, "slides"),
                       lambda: pool.submit(str, "cards"))
    htmls = ["chapter 1", "chapter 22", "chapter 333"]
    cache = Cache(None, "")
    keys = [cache.key(h) for h in htmls]
    parts = lay_out(enumerate(htmls), "", cache, pool=first, work=work)
    assert len(parts) == 3
    assert handed == order
    first.all_submitted()   # already called: nothing more
    assert handed == order


def test_garbage_collection_waits_for_the_end_of_a_piece_of_work():
    import gc
    import weakref

    from studykit.workers import gc_paused

    class Node:
        pass

    def cycle():
        node = Node()
        node.me = node
        return weakref.ref(node)

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        first = cycle()
        # Enough new objects that a running collector would have run many times.
        refs = [cycle() for _ in range(20000)]
        with gc_paused():
            pass
        assert not gc.isenabled()   # an inner block does not resume it for the outer one
        assert first() is not None and all(r() is not None for r in refs)
    assert gc.isenabled()
    assert first() is None and not any(r() is not None for r in refs)

    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()   # a collector that was off stays off
    finally:
        gc.enable()


# ------------------------------------------------------------------ what a build prints

def test_a_build_prints_a_line_per_output_and_keeps_the_notes_in_a_report(bank, run, tmp_path):
    result = run(bank)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    out = tmp_path / "output"
    assert [line.split(" ")[0] for line in lines] == [
        "checked", "handbook", "slides", "flashcards", "anki", "details", "answered"], result.output
    assert lines[1] == f"handbook built in {lines[1].split()[3]} s: wrote {out / 'handbook.pdf'} " \
                       "(7 pages)"
    assert lines[2].endswith(f": wrote {out / 'slides'}/ (2 decks, 17 slides)")
    assert lines[3].endswith(f": wrote {out / 'flashcards-a4.pdf'} (3 cards, 8 pages)")
    assert lines[4].endswith(f": wrote {out / 'python-interview.apkg'} (3 notes in 2 topic decks)")
    report = out / "build-report.txt"
    assert lines[5] == f"details in {report} (5 notes; --verbose prints them)"
    # The detail is in the report, not on the screen.
    text = report.read_text("utf-8")
    for note in ("[handbook] handbook.pdf\n3 questions in 2 chapter(s) on 7 a4 pages",
                 "[flashcards] flashcards-a4.pdf\n3 cards on 4 sheet(s)",
                 "[slides] slides/\n01-alpha.pptx: 10 slides, code at 22 pt\n02-beta.pptx: 7 slides, code at 22 pt"):
        assert note in text
        assert note.splitlines()[1] not in result.output
    assert "\n[samples]\nCPython 3." in text and "CPython 3." not in result.output
    assert not list(out.glob(".*.part"))

    # --verbose prints the notes of what it builds; the report keeps the other outputs' notes.
    verbose = run(bank, "--no-cache", "--verbose", "slides")
    assert verbose.exit_code == 0, verbose.output
    assert "slides: 01-alpha.pptx: 10 slides, code at 22 pt\nslides: 02-beta.pptx: 7 slides, code at 22 pt\n" in verbose.output
    assert "\nCPython 3." in verbose.output
    assert "details in" not in verbose.output
    assert report.read_text("utf-8") == text

    # Nothing built: the report stays as it was, and is not mentioned. (The decks written
    # with --no-cache were not recorded, so the first of these builds makes them again.)
    assert "slides built in" in run(bank).output
    before = report.stat().st_mtime_ns
    again = run(bank)
    assert "up to date" in again.output and "details in" not in again.output
    assert report.stat().st_mtime_ns == before and report.read_text("utf-8") == text


def test_failures_print_without_verbose(bank, run, tmp_path):
    break_output(bank)
    result = run(bank)
    assert result.exit_code == 1
    assert f"FAILED {bank / Q2}:27: samples[0] 'Separators' on CPython 3." in result.output
    assert "-a+b" in result.output and "+a-b" in result.output
    assert result.output.rstrip().endswith("not built: 5 sample check(s) failed")
    assert not (tmp_path / "output" / "build-report.txt").exists()


class _Terminal:
    """A stream that says it is a terminal, and keeps what is written to it."""

    def __init__(self, tty: bool = True) -> None:
        self.tty, self.written = tty, []

    def isatty(self) -> bool:
        return self.tty

    def write(self, text: str) -> None:
        self.written.append(text)

    def flush(self) -> None:
        pass


def test_progress_redraws_one_line_on_a_terminal_and_nothing_elsewhere(monkeypatch):
    monkeypatch.delenv("TERM", raising=False)
    tty = _Terminal()
    status = console.StatusLine(tty)
    status.show("checking samples 1/4")
    status.show("checking samples 2/4")
    with status.above():
        tty.written.append("a summary line\n")
    status.clear()
    assert "".join(tty.written) == ("\rchecking samples 1/4\x1b[K\rchecking samples 2/4\x1b[K"
                                    "\r\x1b[Ka summary line\n\rchecking samples 2/4\x1b[K"
                                    "\r\x1b[K")
    for stream in (_Terminal(tty=False), tty):
        if stream is tty:
            monkeypatch.setenv("TERM", "dumb")
            tty.written.clear()
        status = console.StatusLine(stream)
        status.show("checking samples 1/4")
        status.clear()
        assert stream.written == [] and not status.live


def test_a_full_build_tells_how_many_pieces_of_each_output_are_done():
    from concurrent.futures import Future

    seen = []

    class Events(pipeline.Events):
        def pieces(self, name, done, handed_out):
            seen.append((name, done, handed_out))

    class Later(InlineExecutor):
        """Hands back futures that finish when told (the first can be taken back)."""

        def __init__(self):
            self.futures = []

        def submit(self, fn, /, *args, **kwargs):
            self.futures.append(Future())
            return self.futures[-1]

    pool = Later()
    tally = pipeline.Tally(pool, "handbook", Events())
    first, second, third = (tally.submit(str, n) for n in range(3))
    assert seen == [("handbook", 0, 1), ("handbook", 0, 2), ("handbook", 0, 3)]
    second.set_result("1")
    assert first.cancel()   # taken back, to run elsewhere: not a piece of the pool's
    third.set_result("2")
    assert seen[3:] == [("handbook", 1, 3), ("handbook", 1, 2), ("handbook", 2, 2)]


def test_a_note_the_user_may_act_on_prints_without_verbose(bank, run, monkeypatch):
    from studykit.render.base import PUBLIC_ONLY

    monkeypatch.setenv(PUBLIC_ONLY, "1")
    result = run(bank, "slides")
    assert result.exit_code == 0, result.output
    assert (f"slides: on the slower path (python-pptx's public API only): {PUBLIC_ONLY} is set\n"
            in result.output)
    assert "01-alpha.pptx: 10 slides" not in result.output   # the other notes: --verbose
