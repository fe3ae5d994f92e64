"""What a build prints: a progress line on a terminal, one line for the check and one per
output, and the detail (the renderers' notes) with --verbose and in output/build-report.txt."""

from __future__ import annotations

import os
import shutil
import sys
import threading
import zipfile
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

import click

from .checker import CheckReport
from .output import atomic_write_text
from .errors import KitError
from .pipeline import Events
from .render.base import RenderResult

REPORT_NAME = "build-report.txt"
# Notes printed with or without --verbose: the user may act on them (a build on a version of a
# library its fast paths were not tested with; see render/base.py's slower_note).
WARNINGS = ("on the slower path",)


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False


class StatusLine:
    """A progress display: one line at the foot of a terminal, redrawn in place, and erased
    before any other line is printed. Where the stream is not a terminal (CI, a pipe, a file)
    it draws nothing, so a log holds only whole lines."""

    def __init__(self, stream=None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.live = _is_terminal(self.stream)
        self.text = ""
        self.lock = threading.RLock()

    def show(self, text: str) -> None:
        if not self.live:
            return
        with self.lock:
            self.text = text[:max(10, shutil.get_terminal_size().columns - 1)]
            self.stream.write("\r" + self.text + "\x1b[K")
            self.stream.flush()

    def clear(self) -> None:
        with self.lock:
            if self.live and self.text:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
            self.text = ""

    def close(self) -> None:
        """Erase it for good: a piece of work that ends later (an interrupted build's) draws
        nothing."""
        with self.lock:
            self.clear()
            self.live = False

    @contextmanager
    def above(self):
        """Print whole lines while it is shown: it is erased, then drawn again below them."""
        with self.lock:
            text = self.text
            self.clear()
            try:
                yield
            finally:
                if text:
                    self.show(text)


def check_failures(report: CheckReport) -> None:
    """Every failed sample with its diff, once for all the interpreters it failed on (stderr:
    always shown)."""
    if report.notice:
        click.echo(report.notice, err=True)
    groups: dict[tuple, list] = defaultdict(list)
    for o in report.failures:
        groups[(o.question.number, o.sample.index, o.reason, o.detail)].append(o)
    for (_, _, reason, detail), outcomes in sorted(groups.items(), key=lambda kv: kv[0][:2]):
        o = outcomes[0]
        path = rel(o.question.path)
        where = ", ".join(x.interpreter.label for x in outcomes)
        click.secho(f"FAILED {path}:{o.sample.line}: samples[{o.sample.index}] "
                    f"{o.sample.title!r} on {where}: {reason}", fg="red", err=True)
        if detail:
            click.echo(_indent(detail), err=True)


def check_table(report: CheckReport) -> list[str]:
    """A line per interpreter: passed, failed and skipped there."""
    lines = []
    for interp in report.interpreters:
        t = report.totals(interp)
        lines.append(f"{interp.label:<18} passed {t['passed']:>4}   failed {t['failed']:>4}   "
                     f"skipped {t['skipped']:>4}   ({interp.executable})")
    return lines


def check_total(report: CheckReport, elapsed: float) -> str:
    samples = {(o.question.number, o.sample.index) for o in report.outcomes}
    questions = {o.question.number for o in report.outcomes}
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    for interp in report.interpreters:
        t = report.totals(interp)
        for k in totals:
            totals[k] += t[k]
    cached = sum(1 for o in report.outcomes if o.cached)
    return (f"checked {len(samples)} samples of {len(questions)} questions on "
            f"{len(report.interpreters)} interpreter(s): {totals['passed']} passed, "
            f"{totals['failed']} failed, {totals['skipped']} skipped "
            f"({report.ran} run, {cached} from cache) in {elapsed:.2f} s")


def rel(path: Path | None) -> str:
    if path is None:
        return "?"
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip("\n").splitlines())


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _pptx_slides(path: Path) -> int | None:
    try:
        with zipfile.ZipFile(path) as deck:
            return sum(1 for n in deck.namelist()
                       if n.startswith("ppt/slides/slide") and n.endswith(".xml"))
    except (OSError, zipfile.BadZipFile):
        return None


def _counts(result: RenderResult, cards: int | None) -> str:
    """What an output holds, for its summary line: what its renderer counted (pages, cards),
    and its decks. No file is opened but the decks of a set made whole (a few milliseconds,
    against the seconds of making them): a build with little or nothing to do should not pay
    for reading what it did not write."""
    said = []
    cards = result.counts.get("cards", cards if result.name == "flashcards" else None)
    if cards is not None:
        said.append(_plural(cards, "card"))
    if "pages" in result.counts:
        said.append(_plural(result.counts["pages"], "page"))
    if "notes" in result.counts:
        said.append(f"{_plural(result.counts['notes'], 'note')} in "
                    f"{_plural(result.counts['decks'], 'topic deck')}")
    decks = [p for p in result.paths if p.suffix == ".pptx"]
    if len(decks) > 1:
        said.append(_plural(len(decks), "deck"))
    made = {Path(name).name for name in result.laid_out}
    if decks and not result.up_to_date:
        if made >= {p.name for p in decks}:
            slides = [_pptx_slides(p) for p in decks]
            if None not in slides:
                said.append(_plural(sum(slides), "slide"))
        elif made:
            said.append(f"{len(made & {p.name for p in decks})} made again")
    return ", ".join(said)


def _where(paths: list[Path]) -> str:
    if len(paths) == 1:
        return rel(paths[0])
    folders = {p.parent for p in paths}
    if len(folders) == 1:
        return os.path.join(rel(next(iter(folders))), "")
    return ", ".join(rel(p) for p in paths)


def summary_line(result: RenderResult, cards: int | None = None) -> str:
    """One line per output: its name, whether it was built (and how long that took) or was up
    to date, where it is, and what it holds."""
    counts = _counts(result, cards)
    where = _where(result.paths) + (f" ({counts})" if counts else "")
    if result.up_to_date:
        return f"{result.name}: up to date, {where}"
    return f"{result.name} built in {result.seconds:.1f} s: wrote {where}"


class BuildReportFile:
    """output/build-report.txt: per output, what the build that made it said (which faces were
    set smaller, which samples were split over slides, ...). An output found up to date keeps
    its section from the build that made it. No timings, so that two builds of the same
    content write the same report."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sections: dict[str, list[str]] = {}
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
        header = None
        for line in text.splitlines():
            if line.startswith("[") and not line.startswith("[ "):
                header = line
                self.sections[header] = []
            elif header is not None and line:
                self.sections[header].append(line)

    def header(self, name: str, paths: list[Path]) -> str:
        """The section's first line: the output's name and files, relative to the report."""
        folder = self.path.parent.resolve()
        shown = []
        for p in paths:
            try:
                shown.append(p.resolve().relative_to(folder))
            except ValueError:
                shown.append(p)
        return f"[{name}] {_where(shown)}"

    def put(self, header: str, lines: list[str]) -> None:
        self.sections.pop(header, None)
        self.sections[header] = lines

    def notes(self) -> int:
        return sum(len(lines) for header, lines in self.sections.items()
                   if not header.startswith("[samples]"))

    def _exists(self, header: str) -> bool:
        """Whether the files a section speaks of are still there (its first one)."""
        if header == "[samples]":
            return True
        first = header.partition("] ")[2].split(", ")[0]
        return bool(first) and (self.path.parent / first).exists()

    def write(self) -> None:
        text = ["# What the last build of each output said (build.py --verbose prints it too)."]
        # In a fixed order (the samples, then by output name), not the order outputs finished
        # in, which varies: the same content gives the same report.
        for header, lines in sorted(self.sections.items(),
                                    key=lambda kv: (not kv[0].startswith("[samples]"), kv[0])):
            if self._exists(header):
                text += ["", header, *lines]
        atomic_write_text(self.path, "\n".join(text) + "\n")


class Printer(Events):
    """Prints a build as it goes: a progress line on a terminal, one line for the check and
    one per output; the detail (the renderers' notes) with --verbose and in the report file.
    Failures and warnings that need action are printed either way."""

    def __init__(self, output_dir: Path, verbose: bool = False) -> None:
        self.verbose = verbose
        self.status = StatusLine()
        self.report = BuildReportFile(output_dir / REPORT_NAME)
        self.cards: int | None = None
        self.active: dict[str, tuple[int, int]] = {}
        self.wrote_any = False
        if self.status.live:
            self.progress = self._samples

    def _samples(self, done: int, total: int) -> None:
        if total:
            self.status.show(f"checking samples {done}/{total}")

    def loaded(self, kit) -> None:
        self.cards = len(kit.questions)

    def checked(self, report: CheckReport, seconds: float) -> None:
        self.status.clear()
        check_failures(report)
        table = check_table(report)
        if self.verbose:
            for line in table:
                click.echo(line)
        click.echo(check_total(report, seconds))
        self.report.put("[samples]", table)

    def skipped(self, message: str) -> None:
        with self.status.above():
            click.echo(message, err=True)

    def rendering(self, names: list[str]) -> None:
        self.active.update({name: (0, 0) for name in names})
        self._draw()

    def pieces(self, name: str, done: int, handed_out: int) -> None:
        with self.status.lock:
            if name in self.active:
                self.active[name] = (done, handed_out)
                self._draw()

    def _draw(self) -> None:
        if self.active:
            self.status.show("building " + ", ".join(
                f"{name} {done}/{handed}" if handed else name
                for name, (done, handed) in self.active.items()))
        else:
            self.status.clear()

    def built(self, result: RenderResult) -> None:
        line = summary_line(result, self.cards)
        with self.status.lock:
            self.active.pop(result.name, None)
            with self.status.above():
                for message in [] if result.up_to_date else result.messages:
                    if self.verbose or message.startswith(WARNINGS):
                        click.echo(f"{result.name}: {message}")
                click.echo(line)
            self._draw()
        if not result.up_to_date:
            self.wrote_any = True
            self.report.put(self.report.header(result.name, result.paths), result.messages)

    def failed(self, name: str, error: KitError) -> None:
        with self.status.lock:
            self.active.pop(name, None)
            self._draw()

    def finish(self) -> None:
        """Write the report when this build wrote an output, and say where it is."""
        self.status.clear()
        if not self.wrote_any:
            return
        try:
            self.report.write()
        except OSError as exc:
            click.echo(f"warning: cannot write the build report ({self.report.path}: "
                       f"{exc.strerror or exc})", err=True)
            return
        notes = self.report.notes()
        if notes and not self.verbose:
            click.echo(f"details in {rel(self.report.path)} ({_plural(notes, 'note')}; "
                       "--verbose prints them)")
