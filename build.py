#!/usr/bin/env python3
"""Build the Python interview study kit: check every code sample, then render the outputs.

With no command: validate the content, check every sample on every CPython found, and build the
handbook, the flashcards and the slide decks. This file is the command line only: its options
and exit statuses; what a build prints is studykit.console's, the build itself
studykit.pipeline's (through studykit.api.Project).
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import click

from studykit import checker
from studykit.api import Project
from studykit.coverage import coverage_table
from studykit.errors import ContentError, KitError
from studykit import progress as study
from studykit.console import Printer, StatusLine, check_failures, check_table, check_total, rel
from studykit.model import DIFFICULTIES, DIFFICULTY_LETTERS, Selection, card_ranges, parse_numbers
from studykit.pipeline import BuildReport
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


def _statuses_callback(ctx, param, value):
    if value is None:
        return None
    try:
        return study.parse_statuses(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def progress_option(f):
    return click.option("--progress", "progress_file", type=click.Path(dir_okay=False,
                        path_type=Path), default=None, metavar="FILE",
                        help="The progress file (default: the one given before the command, "
                        "else progress.toml beside build.py).")(f)


def status_options(f):
    """--status on an output command: only the questions in those states (see progress)."""
    f = progress_option(f)
    f = click.option("--status", "statuses", callback=_statuses_callback, metavar="LIST",
                     help="Only questions in these states of the progress file, e.g. "
                     "new,learning.")(f)
    return f


def _progress_path(project: Project, given: Path | None) -> Path:
    return given or project.progress_file


def _studied(project: Project, selection: Selection, statuses, progress_file
             ) -> tuple[Selection, dict | None]:
    if progress_file:
        project.progress_file = progress_file
    return project.studied(selection, statuses)


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
@progress_option
@click.pass_context
def cli(ctx: click.Context, content_dir, output_dir, no_cache, sandbox, debug, progress_file):
    """Build the Python interview study kit from content/ into output/."""
    project = Project(use_cache=not no_cache, sandbox=sandbox)
    if progress_file:
        project.progress_file = progress_file
    if content_dir:
        project.content_dir = content_dir
    if output_dir:
        project.output_dir = output_dir
    ctx.obj = project
    ctx.call_on_close(project.release)
    if ctx.invoked_subcommand is None:
        ctx.invoke(build_all)


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
    check_failures(report)
    for line in check_table(report):
        click.echo(line)
    click.echo(check_total(report, time.perf_counter() - started))
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

def _render(project: Project, name: str, selection: Selection, options: dict,
            statuses=None, progress_file=None) -> None:
    selection, shown = _studied(project, selection, statuses, progress_file)
    if name == "handbook" and shown is not None:
        options = {**options, "progress": shown}
    printer = Printer(project.output_dir, _verbose())
    try:
        done = project.build(selection, [name], options={name: options}, events=printer)
    finally:
        printer.status.close()
    printer.finish()
    _finish(done, f"{name}: not built, ")


@cli.command()
@click.option("--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True)
@click.option("--edition", type=click.Choice(["full", "core"]), default="full", show_default=True,
              help="core: per question only the short answer, key points, pitfalls and follow-ups.")
@verbose_option
@filter_options
@status_options
@click.pass_obj
def handbook(project: Project, paper, edition, topics, difficulties, numbers, statuses,
             progress_file):
    """Render the printed handbook (output/handbook.pdf; the core edition handbook-core.pdf);
    with a progress file, its checklist ticks the known questions and its cover gives the
    overall figure."""
    _render(project, "handbook", _selection(topics, difficulties, numbers),
            {"paper": paper, "edition": edition}, statuses, progress_file)


@cli.command()
@click.option("--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True)
@click.option("--layout", type=click.Choice(["8up", "4up"]), default="8up", show_default=True,
              help="8 cards a sheet (2 x 4), or 4 large-print cards.")
@click.option("--duplex", type=click.Choice(["long", "short", "fold"]), default="long",
              show_default=True, help="How the sheets are printed double-sided.")
@click.option("--no-test-sheet", is_flag=True, help="Leave out the alignment test sheet.")
@click.option("--changed-since", "changed_since", metavar="REV", default=None,
              help="Only the cards whose printed text changed since this git revision.")
@verbose_option
@filter_options
@status_options
@click.pass_obj
def flashcards(project: Project, paper, layout, duplex, no_test_sheet, changed_since, topics,
               difficulties, numbers, statuses, progress_file):
    """Render flashcard sheets to print double-sided (output/flashcards-<paper>.pdf)."""
    selection = _selection(topics, difficulties, numbers)
    if changed_since:
        selection = _changed_cards(project, selection, changed_since)
    _render(project, "flashcards", selection,
            {"paper": paper, "layout": layout, "duplex": duplex, "test_sheet": not no_test_sheet},
            statuses, progress_file)


def _changed_cards(project: Project, selection: Selection, rev: str) -> Selection:
    """The selection narrowed to the cards whose printed text differs from `rev`'s."""
    from studykit.revisions import changed_cards

    project.hold()
    changed, total = changed_cards(project, rev)
    chosen = frozenset(changed) if selection.numbers is None else selection.numbers & changed
    if not chosen:
        click.echo(f"no card changed since {rev} (of {total} compared)")
        sys.exit(EXIT_OK)

    click.echo(f"{len(chosen)} card(s) changed since {rev}: {card_ranges(sorted(chosen))}")
    return Selection(selection.topics, selection.difficulties, chosen)


@cli.command()
@verbose_option
@filter_options
@status_options
@click.pass_obj
def slides(project: Project, topics, difficulties, numbers, statuses, progress_file):
    """Render one slide deck per topic (output/slides/NN-<topic>.pptx)."""
    _render(project, "slides", _selection(topics, difficulties, numbers), {}, statuses,
            progress_file)


@cli.command()
@verbose_option
@filter_options
@status_options
@click.pass_obj
def anki(project: Project, topics, difficulties, numbers, statuses, progress_file):
    """Write an Anki deck (output/python-interview.apkg): a subdeck per topic, a note per
    question; importing a newer build updates the notes and keeps their review history."""
    _render(project, "anki", _selection(topics, difficulties, numbers), {}, statuses,
            progress_file)


# ------------------------------------------------------------------ progress

@cli.command(name="progress")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@progress_option
@click.pass_obj
def progress_(project: Project, as_json, progress_file):
    """Where you stand: known questions overall, per topic and per difficulty, and the
    questions still to learn."""
    import json

    path = _progress_path(project, progress_file)
    # No build lock: reading the content is safe while a build runs, and a learner should
    # not wait for one to end.
    kit = project.load()
    summary = study.summarize(study.load_progress(path, kit), kit)
    if as_json:
        click.echo(json.dumps({"file": str(path), **summary.as_json()}, indent=1))
        return
    o = summary.overall
    click.echo(f"{o.figure()} ({o.learning} learning, {o.new} new) - {rel(path)}"
               f"{'' if path.exists() else ' (not written yet: every question is new)'}")
    for title, tallies in (("By topic", summary.topics), ("By difficulty", summary.difficulties)):
        click.echo(f"\n{title}:")
        width = max(len(t.label) for t in tallies)
        for t in tallies:
            bar = "#" * round(10 * t.known / t.total) if t.total else ""
            click.echo(f"  {t.label:<{width}}  {t.known:>3}/{t.total:<3} known {t.percent:>3}%  "
                       f"[{bar:<10}]  {t.learning:>3} learning")
    click.echo(f"\nTo learn ({len(summary.to_learn)}):")
    for q, status in summary.to_learn:
        click.echo(f"  Q{q.number:<4} {status:<8} {DIFFICULTY_LETTERS[q.difficulty]}  {q.question}")


@cli.command()
@click.argument("numbers", nargs=-1, required=True)
@click.option("--known", "status", flag_value="known", help="Mark them known.")
@click.option("--learning", "status", flag_value="learning", help="Mark them being learnt.")
@click.option("--new", "status", flag_value="new", help="Mark them new again.")
@progress_option
@click.pass_obj
def mark(project: Project, numbers, status, progress_file):
    """Set questions' status (new, learning or known) and its date: mark 42 56-60 --known"""
    if status is None:
        raise click.UsageError("say which status: --known, --learning or --new")
    try:
        chosen = sorted(parse_numbers(",".join(numbers)))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="NUMBERS") from None
    path = _progress_path(project, progress_file)
    kit = project.load()   # no build lock, as for `progress`
    changes = study.mark(path, chosen, status, kit)
    moved = [c for c in changes if c.changed]
    for c in moved:
        click.echo(f"Q{c.number}: {c.old} -> {c.new}")
    same = [c.number for c in changes if not c.changed]
    if same:
    
        click.echo(f"already {status}: {card_ranges(same)}")
    click.echo(f"{len(moved)} changed in {rel(path)}")


@cli.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--pick", type=click.IntRange(1, 30), default=None, metavar="N",
              help="Write a new session file of N questions chosen at random, then build it.")
@click.option("--seed", type=int, default=None, help="With --pick: the same seed, the same pick.")
@click.option("--title", default=None, help="With --pick: the session's title.")
@click.option("--date", "when", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="With --pick: the session's date (default: today).")
@filter_options
@click.pass_obj
def session(project: Project, file, pick, seed, title, when, topics, difficulties, numbers):
    """Build a session: deck, handout and answer key (output/sessions/). With --pick, first
    write the session file (FILE, or sessions/<date>-<title>.toml) from a random pick."""
    from datetime import date

    from studykit.sessions import pick as pick_numbers
    from studykit.sessions import read_sessions, sessions_dir, slug, write_session

    project.hold()
    if pick is None:
        if file is None:
            raise click.UsageError("give a session FILE, or --pick N to choose one")
        if topics or difficulties or numbers or seed is not None or title or when:
            raise click.UsageError("--seed, --title, --date, --topic, --difficulty and "
                                   "--numbers choose questions with --pick only")
    else:
        pool = project.load(_selection(topics, difficulties, numbers))
        chosen = pick_numbers(pool, pick, 0 if seed is None else seed)
        if not chosen:
            raise KitError("--pick: no answered question matches the topics, difficulties "
                           "and numbers asked for")
        if len(chosen) < pick:
            click.echo(f"--pick: only {len(chosen)} question(s) match; the session has them "
                       "all", err=True)
        day = when.date() if when else date.today()
        title = title or f"Mock interview, {len(chosen)} questions"
        file = file or sessions_dir(project.content_dir) / f"{day.isoformat()}-{slug(title)}.toml"
        if file.exists():
            raise KitError(f"{file} exists; give another FILE or --title")
        write_session(file, title, day, chosen)
        click.echo(f"wrote {file}: questions {', '.join(map(str, chosen))}")
    # Checked before any sample runs: an unknown number fails at once, with its line.
    [plan] = read_sessions([file], project.load())
    _render(project, "sessions", Selection(numbers=frozenset(plan.numbers)),
            {"files": (str(file),)})


@cli.command(name="all", hidden=True)
@click.pass_obj
def build_all(project: Project):
    """Validate, check on every CPython found, and build every output."""
    _, shown = _studied(project, Selection(), None, None)
    printer = Printer(project.output_dir, _verbose())
    try:
        done = project.build(options={"handbook": {"progress": shown}} if shown else None,
                             events=printer)
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
