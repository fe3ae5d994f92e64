#!/usr/bin/env python3
"""Build the Python interview study kit: check every code sample, then render the outputs.

With no command: validate the content, check every sample on every CPython found, and build the
handbook, the flashcards and the slide decks. This file is the command line only: its options,
and what it prints; the build itself is studykit.pipeline's (through studykit.api.Project).
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
import time
import zipfile
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

import click

from studykit import checker
from studykit.api import Project
from studykit.checker import CheckReport
from studykit.coverage import coverage_table
from studykit.errors import ContentError, KitError
from studykit.model import DIFFICULTIES, Selection, parse_numbers
from studykit.output import atomic_write_text
from studykit.pipeline import BuildReport, Events
from studykit.render.base import RenderResult
from studykit.sandbox import MODES as SANDBOX_MODES
from studykit.updater import apply_updates, describe, plan_updates

EXIT_OK, EXIT_SAMPLE_FAILED, EXIT_INVALID, EXIT_RENDER_FAILED = 0, 1, 2, 3


class KitClickError(click.ClickException):
    """Printed as given (one line per problem), with the error's own exit status."""

    def __init__(self, lines: list[str], exit_code: int):
        super().__init__("\n".join(lines))
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.echo(self.message, err=True)


def _fail_for(exc: KitError, root: Path) -> KitClickError:
    if isinstance(exc, ContentError):
        lines = [p.render(root) for p in exc.problems]
        n = len(exc.problems)
        lines.append(f"aborted with {n} error{'s' if n != 1 else ''}")
        return KitClickError(lines, exc.exit_code)
    return KitClickError([f"error: {exc}"], exc.exit_code)


class KitGroup(click.Group):
    """Turns the kit's own errors into readable messages; tracebacks only with --debug."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KitError as exc:
            if ctx.params.get("debug"):
                raise
            raise _fail_for(exc, Path.cwd()) from None
        except KeyboardInterrupt:
            if ctx.params.get("debug"):
                raise
            click.echo("interrupted: outputs already built are unchanged", err=True)
            ctx.exit(130)


def _topics_callback(ctx, param, values):
    if not values:
        return frozenset()
    project: Project = ctx.find_object(Project) or Project()
    slugs = project.topic_slugs()
    chosen = set()
    for v in values:
        if v in slugs:
            chosen.add(v)
        elif v.isdigit() and 1 <= int(v) <= len(slugs):
            chosen.add(slugs[int(v) - 1])
        elif v[:3].rstrip("-").isdigit() and v[3:] in slugs:
            chosen.add(v[3:])
        else:
            raise click.BadParameter(f"{v!r} is not a topic; choose from: {', '.join(slugs)}")
    return frozenset(chosen)


def _numbers_callback(ctx, param, value):
    if value is None:
        return None
    try:
        return parse_numbers(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def filter_options(f):
    f = click.option("--numbers", callback=_numbers_callback, metavar="LIST",
                     help="Only these question numbers, e.g. 2-15,21.")(f)
    f = click.option("--difficulty", "difficulties", multiple=True,
                     type=click.Choice(DIFFICULTIES), help="Only this difficulty (repeatable).")(f)
    f = click.option("--topic", "topics", multiple=True, callback=_topics_callback,
                     metavar="SLUG", help="Only this topic, by slug or number (repeatable).")(f)
    return f


def _verbose_callback(ctx, param, value):
    if value:
        ctx.find_root().meta["verbose"] = True
    return value


def verbose_option(f):
    return click.option("-v", "--verbose", is_flag=True, expose_value=False,
                        callback=_verbose_callback,
                        help="Also print the notes on the outputs (card faces set smaller, "
                        "samples split over slides, ...), kept in output/build-report.txt "
                        "either way, and the check per interpreter.")(f)


def _verbose() -> bool:
    return bool(click.get_current_context().find_root().meta.get("verbose"))


def _selection(topics, difficulties, numbers) -> Selection:
    return Selection(topics=frozenset(topics), difficulties=frozenset(difficulties),
                     numbers=numbers)


@click.group(cls=KitGroup, invoke_without_command=True, context_settings={
    "help_option_names": ["-h", "--help"]})
@click.option("--content", "content_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Content folder (default: content/ beside build.py).")
@click.option("--output", "output_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Output folder (default: output/ beside build.py).")
@click.option("--no-cache", is_flag=True,
              help="Run every sample and render every output again, ignoring .cache/.")
@click.option("--sandbox", type=click.Choice(SANDBOX_MODES), default="auto", envvar="KIT_SANDBOX",
              show_default=True, help="Run samples under bubblewrap: where it works (auto), "
              "always or fail (required), never (off). Also KIT_SANDBOX.")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for errors.")
@verbose_option
@click.pass_context
def cli(ctx: click.Context, content_dir, output_dir, no_cache, sandbox, debug):
    """Build the Python interview study kit from content/ into output/."""
    project = Project(use_cache=not no_cache, sandbox=sandbox)
    if content_dir:
        project.content_dir = content_dir
    if output_dir:
        project.output_dir = output_dir
    ctx.obj = project
    ctx.call_on_close(project.release)
    if ctx.invoked_subcommand is None:
        ctx.invoke(build_all)


# ------------------------------------------------------------------ printing

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


def _check_failures(report: CheckReport) -> None:
    """Every failed sample with its diff, once for all the interpreters it failed on (stderr:
    always shown)."""
    if report.notice:
        click.echo(report.notice, err=True)
    groups: dict[tuple, list] = defaultdict(list)
    for o in report.failures:
        groups[(o.question.number, o.sample.index, o.reason, o.detail)].append(o)
    for (_, _, reason, detail), outcomes in sorted(groups.items(), key=lambda kv: kv[0][:2]):
        o = outcomes[0]
        path = _rel(o.question.path)
        where = ", ".join(x.interpreter.label for x in outcomes)
        click.secho(f"FAILED {path}:{o.sample.line}: samples[{o.sample.index}] "
                    f"{o.sample.title!r} on {where}: {reason}", fg="red", err=True)
        if detail:
            click.echo(_indent(detail), err=True)


def _check_table(report: CheckReport) -> list[str]:
    """A line per interpreter: passed, failed and skipped there."""
    lines = []
    for interp in report.interpreters:
        t = report.totals(interp)
        lines.append(f"{interp.label:<18} passed {t['passed']:>4}   failed {t['failed']:>4}   "
                     f"skipped {t['skipped']:>4}   ({interp.executable})")
    return lines


def _check_total(report: CheckReport, elapsed: float) -> str:
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


def _rel(path: Path | None) -> str:
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
        return _rel(paths[0])
    folders = {p.parent for p in paths}
    if len(folders) == 1:
        return os.path.join(_rel(next(iter(folders))), "")
    return ", ".join(_rel(p) for p in paths)


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
        for header, lines in sorted(self.sections.items(),
                                    key=lambda kv: not kv[0].startswith("[samples]")):
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
        _check_failures(report)
        table = _check_table(report)
        if self.verbose:
            for line in table:
                click.echo(line)
        click.echo(_check_total(report, seconds))
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
            click.echo(f"details in {_rel(self.report.path)} ({_plural(notes, 'note')}; "
                       "--verbose prints them)")


def _finish(done: BuildReport, not_built: str) -> None:
    """Exit as the build ended: a failed check, else the first output that failed."""
    if done.checks_failed:
        raise KitClickError([f"{not_built}{len(done.check.failures)} sample check(s) failed"],
                            EXIT_SAMPLE_FAILED)
    if done.failed:
        raise next(iter(done.failed.values()))


@cli.command()
@click.option("--python", "python_paths", multiple=True, metavar="PATH",
              help="Check on this interpreter (repeatable).")
@click.option("--all-pythons", is_flag=True,
              help="Check on every CPython 3.10+ on PATH and under the pyenv root.")
@click.option("--update", is_flag=True,
              help="Write the actual output into samples whose output differs.")
@click.option("--timeout", type=float, default=checker.DEFAULT_TIMEOUT, show_default=True,
              help="Seconds a sample may run.")
@click.option("--jobs", type=int, default=None, help="Samples run at once (default: cores).")
@click.option("--sandbox", type=click.Choice(SANDBOX_MODES), default=None,
              help="Run samples under bubblewrap: where it works (auto), always or "
              "fail (required), never (off)  [default: the option before the command, or auto]")
@filter_options
@click.pass_obj
def check(project: Project, python_paths, all_pythons, update, timeout, jobs, sandbox, topics,
          difficulties, numbers):
    """Run every code sample and compare its output with the expected output."""
    if sandbox:
        project.sandbox = sandbox
    project.hold()
    kit = project.load(_selection(topics, difficulties, numbers))
    try:
        interpreters = project.interpreters(python_paths, all_pythons)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--python") from None
    started = time.perf_counter()
    status = StatusLine()
    report = project.check(kit, interpreters, timeout=timeout, jobs=jobs, progress=(
        lambda done, total: total and status.show(f"checking samples {done}/{total}"))
        if status.live else None)
    status.clear()
    _check_failures(report)
    for line in _check_table(report):
        click.echo(line)
    click.echo(_check_total(report, time.perf_counter() - started))
    if update and report.failures:
        updates, refused = plan_updates(report)
        written, unwritable = apply_updates(updates)
        for u in written:
            click.echo(describe(u))
        for line in refused:
            click.echo(line, err=True)
        click.echo(f"updated {len(written)} sample(s); "
                   f"{len(refused) + len(updates) - len(written)} left as they were")
        if unwritable:
            raise KitClickError([f"error: {line}" for line in unwritable], EXIT_RENDER_FAILED)
        sys.exit(EXIT_SAMPLE_FAILED if refused else EXIT_OK)
    sys.exit(EXIT_OK if report.ok else EXIT_SAMPLE_FAILED)


# ------------------------------------------------------------------ list

@cli.command(name="list")
@filter_options
@click.pass_obj
def list_(project: Project, topics, difficulties, numbers):
    """Show coverage of the bank per topic and difficulty."""
    selection = _selection(topics, difficulties, numbers)
    project.hold()
    full = project.load(Selection(topics=selection.topics))
    kit = full.select(selection)
    for line in coverage_table(kit, full):
        click.echo(line)


# ------------------------------------------------------------------ outputs

def _render(project: Project, name: str, selection: Selection, options: dict) -> None:
    printer = Printer(project.output_dir, _verbose())
    try:
        done = project.build(selection, [name], options={name: options}, events=printer)
    finally:
        printer.status.close()
    printer.finish()
    _finish(done, f"{name}: not built, ")


@cli.command()
@click.option("--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True)
@verbose_option
@filter_options
@click.pass_obj
def handbook(project: Project, paper, topics, difficulties, numbers):
    """Render the printed handbook (output/handbook.pdf)."""
    _render(project, "handbook", _selection(topics, difficulties, numbers), {"paper": paper})


@cli.command()
@click.option("--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True)
@click.option("--layout", type=click.Choice(["8up", "4up"]), default="8up", show_default=True,
              help="8 cards a sheet (2 x 4), or 4 large-print cards.")
@click.option("--duplex", type=click.Choice(["long", "short", "fold"]), default="long",
              show_default=True, help="How the sheets are printed double-sided.")
@click.option("--no-test-sheet", is_flag=True, help="Leave out the alignment test sheet.")
@verbose_option
@filter_options
@click.pass_obj
def flashcards(project: Project, paper, layout, duplex, no_test_sheet, topics, difficulties,
               numbers):
    """Render flashcard sheets to print double-sided (output/flashcards-<paper>.pdf)."""
    _render(project, "flashcards", _selection(topics, difficulties, numbers),
            {"paper": paper, "layout": layout, "duplex": duplex, "test_sheet": not no_test_sheet})


@cli.command()
@verbose_option
@filter_options
@click.pass_obj
def slides(project: Project, topics, difficulties, numbers):
    """Render one slide deck per topic (output/slides/NN-<topic>.pptx)."""
    _render(project, "slides", _selection(topics, difficulties, numbers), {})


@cli.command(name="all", hidden=True)
@click.pass_obj
def build_all(project: Project):
    """Validate, check on every CPython found, and build every output."""
    printer = Printer(project.output_dir, _verbose())
    try:
        done = project.build(events=printer)
    finally:
        printer.status.close()
    printer.finish()
    _finish(done, "not built: ")
    click.echo(f"answered {len(done.kit.questions)}/{len(done.kit.bank)}")


def _terminate(signum, frame):
    # SIGTERM (kill, a CI timeout) unwinds like Ctrl-C, so temporary files are removed and
    # every output already in place stays as it was.
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)
    cli()
