#!/usr/bin/env python3
"""Build the Python interview study kit: check every code sample, then render the outputs.

With no command: validate the content, check every sample on every CPython found, and build the
handbook, the flashcards and the slide decks.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections import defaultdict
from pathlib import Path

import click

from studykit import checker
from studykit.api import RENDERERS, NotAvailable, Project
from studykit.coverage import coverage_table
from studykit.errors import ContentError, KitError
from studykit.model import DIFFICULTIES, Selection, parse_numbers
from studykit.sandbox import MODES as SANDBOX_MODES
from studykit.workers import (Background, InlineExecutor, PartsFirst, gc_paused, pool_scope,
                              worker_pool)
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


# ------------------------------------------------------------------ check

def _progress(label: str):
    """A progress line on a terminal; silent when output is piped (CI logs stay readable)."""
    if not sys.stderr.isatty():
        return None
    state = {"bar": None}

    def update(done: int, total: int) -> None:
        if total == 0:
            return
        click.echo(f"\r{label} {done}/{total}", nl=False, err=True)
        if done == total:
            click.echo("\r" + " " * (len(label) + 20) + "\r", nl=False, err=True)
    return update


def _run_check(project: Project, kit, interpreters, timeout: float, jobs: int | None):
    started = time.perf_counter()
    report = project.check(kit, interpreters, timeout=timeout, jobs=jobs,
                           progress=_progress("checking samples"))
    elapsed = time.perf_counter() - started
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

    samples = {(o.question.number, o.sample.index) for o in report.outcomes}
    questions = {o.question.number for o in report.outcomes}
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    for interp in report.interpreters:
        t = report.totals(interp)
        for k in totals:
            totals[k] += t[k]
        click.echo(f"{interp.label:<18} passed {t['passed']:>4}   failed {t['failed']:>4}   "
                   f"skipped {t['skipped']:>4}   ({interp.executable})")
    cached = sum(1 for o in report.outcomes if o.cached)
    click.echo(f"checked {len(samples)} samples of {len(questions)} questions on "
               f"{len(report.interpreters)} interpreter(s): {totals['passed']} passed, "
               f"{totals['failed']} failed, {totals['skipped']} skipped "
               f"({report.ran} run, {cached} from cache) in {elapsed:.2f} s")
    return report


def _rel(path: Path | None) -> str:
    if path is None:
        return "?"
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip("\n").splitlines())


def _interpreters(python_paths, all_pythons: bool):
    project = click.get_current_context().find_object(Project)
    cache_file = (project.cache_dir / "interpreters.json"
                  if project is not None and project.use_cache else None)
    try:
        found = checker.discover(all_pythons=all_pythons, extra=python_paths,
                                 cache_file=cache_file)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--python") from None
    if not found:
        raise KitClickError(["error: no CPython 3.10 or newer found to run the samples"], 2)
    return found


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
    interpreters = _interpreters(python_paths, all_pythons)
    report = _run_check(project, kit, interpreters, timeout, jobs)
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
            all_pythons: bool = True, report=None, kit=None) -> None:
    try:
        renderer = project.renderer(name, **options)
    except NotAvailable as exc:
        click.echo(f"{exc} (its issue has not landed)", err=True)
        return
    project.hold()
    if kit is None:
        kit = project.load(selection)
    if report is None:
        report = _run_check(project, kit, _interpreters((), all_pythons), checker.DEFAULT_TIMEOUT,
                            None)
        if not report.ok:
            raise KitClickError([f"{name}: not built, {len(report.failures)} sample check(s) "
                                 "failed"], EXIT_SAMPLE_FAILED)
    started = time.perf_counter()
    paths = project.render(renderer, kit, report, options)
    _report_render(name, paths, renderer.messages, renderer.up_to_date,
                   time.perf_counter() - started)


def _report_render(name: str, paths, messages, up_to_date: bool, elapsed: float) -> None:
    if up_to_date:
        click.echo(f"{name}: up to date ({len(paths)} file(s) built from the same inputs)")
        return
    for line in messages:
        click.echo(f"{name}: {line}")
    for p in paths:
        click.echo(f"wrote {_rel(p)}")
    click.echo(f"{name} built in {elapsed:.1f} s")


@cli.command()
@click.option("--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True)
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
@filter_options
@click.pass_obj
def flashcards(project: Project, paper, layout, duplex, no_test_sheet, topics, difficulties,
               numbers):
    """Render flashcard sheets to print double-sided (output/flashcards-<paper>.pdf)."""
    _render(project, "flashcards", _selection(topics, difficulties, numbers),
            {"paper": paper, "layout": layout, "duplex": duplex, "test_sheet": not no_test_sheet})


@cli.command()
@filter_options
@click.pass_obj
def slides(project: Project, topics, difficulties, numbers):
    """Render one slide deck per topic (output/slides/NN-<topic>.pptx)."""
    _render(project, "slides", _selection(topics, difficulties, numbers), {})


@cli.command(name="all", hidden=True)
@click.pass_obj
def build_all(project: Project):
    """Validate, check on every CPython found, and build every output."""
    project.hold()
    # Workers take most of a second to start (each imports WeasyPrint). When an input was saved
    # since the last build, they are started before anything else and are ready when the first
    # part of the book is; a build with nothing to do starts none.
    early = worker_pool(os.cpu_count() or 1) if project.saved_since_last_build() else None
    with pool_scope(early):
        if early is not None:
            early.start()
        kit = project.load()
        report = _run_check(project, kit, _interpreters((), True), checker.DEFAULT_TIMEOUT,
                            None)
        if not report.ok:
            raise KitClickError([f"not built: {len(report.failures)} sample check(s) failed"],
                                EXIT_SAMPLE_FAILED)
        _render_in_parallel(project, kit, report, early)
    answered = len(kit.questions)
    total = len(kit.bank)
    click.echo(f"answered {answered}/{total}")


@gc_paused()
def _render_one(name: str, project: Project, kit, report):
    """In a worker process: one renderer, and what the parent needs to report on it."""
    started = time.perf_counter()
    renderer = project.renderer(name)
    # Its pieces run here, one after another: the other workers are busy with the rest.
    paths = project.render(renderer, kit, report, {}, pool=InlineExecutor())
    return paths, renderer.messages, renderer.up_to_date, time.perf_counter() - started


# Rendered on a thread of the main process, their pieces spread over the pool: the
# flashcards' parts are short, so they end a build with both cores busy to the last.
SPREAD = ("flashcards",)


def _render_in_parallel(project: Project, kit, report, pool=None) -> None:
    """Every output that is not up to date, on one pool of worker processes, one per core. The
    handbook, built here, hands the pool one piece per part of the book; the slides are one
    piece, handed out after the book's first part; the flashcards hand it their parts last,
    from a thread of this process, and the book is joined here while the workers lay them out.
    `pool` is one started early; when every output is up to date it is stopped, and none is
    started."""
    renderers, built, stale = {}, {}, []
    for name in RENDERERS:
        try:
            renderers[name] = project.renderer(name)
        except NotAvailable as exc:
            click.echo(f"{exc} (its issue has not landed)", err=True)
            continue
        built[name] = project.fresh(renderers[name], kit, report)
        if built[name] is None:
            stale.append(name)
    own = None
    if not stale and pool is not None:
        pool.stop()   # started on a guess that proved wrong: its workers may still be starting
    elif stale and pool is None:
        pool = own = worker_pool(os.cpu_count() or 1)
    failures = []
    futures: dict = {}
    background: dict[str, Background] = {}

    def render_here(name: str):
        started = time.perf_counter()
        renderer = renderers[name]
        paths = project.render(renderer, kit, report, {}, pool=pool)
        return paths, renderer.messages, renderer.up_to_date, time.perf_counter() - started

    def whole() -> None:
        # The kit goes with them (a megabyte, pickled in milliseconds): an early pool was
        # started before it was read.
        for name in stale:
            if name != "handbook" and name not in SPREAD:
                futures[name] = pool.submit(_render_one, name, project, kit, report)

    def spread() -> None:
        for name in stale:
            if name in SPREAD:
                background[name] = Background(lambda name=name: render_here(name))

    try:
        with pool_scope(own):
            first = PartsFirst(pool, whole, spread) if pool is not None else None
            if "handbook" not in stale and first is not None:
                first.all_submitted()
            for name, renderer in renderers.items():
                try:
                    if name not in stale:
                        _report_render(name, built[name], [], True, 0.0)
                    elif name == "handbook":
                        started = time.perf_counter()
                        try:
                            paths = project.render(renderer, kit, report, {}, pool=first)
                        finally:
                            first.all_submitted()
                        _report_render(name, paths, renderer.messages, renderer.up_to_date,
                                       time.perf_counter() - started)
                    elif name in background:
                        _report_render(name, *background[name].get())
                    else:
                        _report_render(name, *futures[name].result())
                except KitError as exc:
                    failures.append(exc)
    except BaseException:
        # An interrupt: the pool is stopped now (an early one would be by the caller), so a
        # thread waiting on it ends at once, and removes what it had half written.
        if background:
            pool.stop()
        raise
    finally:
        for job in background.values():
            job.thread.join(30)
    if failures:
        raise failures[0]


def _terminate(signum, frame):
    # SIGTERM (kill, a CI timeout) unwinds like Ctrl-C, so temporary files are removed and
    # every output already in place stays as it was.
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)
    cli()
