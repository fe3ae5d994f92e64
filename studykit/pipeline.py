"""A build from start to end: load the content, check every sample, then render the outputs.

`build` is what `build.py` runs (with no command, or with one output's command) and what
`Project.build` calls. It reports as it goes through `Events` (the command line prints them)
and returns a `BuildReport`. Every output is a renderer (see render/base.py); where their
pieces of work run is decided here, with the pools of studykit.workers:

- one output (`outputs=["handbook"]`): it is rendered in this process and hands its pieces to
  a pool of its own;
- every output (`outputs=None`): one pool of worker processes, one per core, started early
  when an input was saved since the last build. The handbook is rendered here and hands the
  pool one piece per part of the book; the slides are one piece, handed out after the book's
  first part; the flashcards hand it their parts last, from a thread of this process, and the
  book is joined here while the workers lay them out.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from .api import RENDERERS, NotAvailable
from .checker import CheckReport, Interpreter
from .errors import KitError
from .model import Kit, Selection
from .render.base import Renderer, RenderResult
from .workers import (Background, InlineExecutor, PartsFirst, Pool, WorkerPool, cores,
                      gc_paused, pool_scope, worker_pool)

if TYPE_CHECKING:
    from .api import Project

# Rendered on a thread of the main process, their pieces spread over the pool: the
# flashcards' parts are short, so they end a build with both cores busy to the last.
SPREAD = ("flashcards",)


class Events:
    """What a build says as it goes. Every method does nothing here; the command line prints."""

    # Called with (samples done, samples to run) while the samples run; None: not asked.
    progress: Callable[[int, int], None] | None = None

    def loaded(self, kit: Kit) -> None:
        """The content was read and validated (the selection's questions)."""

    def checked(self, report: CheckReport, seconds: float) -> None:
        """The samples were checked (before any output is rendered)."""

    def skipped(self, message: str) -> None:
        """An output this copy of the kit cannot build."""

    def rendering(self, names: list[str]) -> None:
        """These outputs are being rendered now (a full build names only those that are not
        up to date)."""

    def pieces(self, name: str, done: int, handed_out: int) -> None:
        """Of an output's pieces of work handed to the pool so far (parts of a PDF, stamping,
        a whole output), how many are done. Full builds only; called from any thread."""

    def built(self, result: RenderResult) -> None:
        """An output was built, or found up to date."""

    def failed(self, name: str, error: KitError) -> None:
        """An output could not be built (the build carries on with the others)."""


class Tally(Pool):
    """Passes every piece on to `pool` and tells `events` how many of them are done, for a
    progress display. Changes nothing in where or when the pieces run."""

    def __init__(self, pool: Pool, name: str, events: Events) -> None:
        self.pool, self.name, self.events = pool, name, events
        self.handed_out = self.done = 0
        self._lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future = self.pool.submit(fn, *args, **kwargs)
        with self._lock:
            self.handed_out += 1
        self._say()
        future.add_done_callback(self._finished)
        return future

    def all_submitted(self) -> None:
        self.pool.all_submitted()

    def _finished(self, future: Future) -> None:
        with self._lock:
            if future.cancelled():   # taken back to run elsewhere (see pdfjoin.join)
                self.handed_out -= 1
            else:
                self.done += 1
        self._say()

    def _say(self) -> None:
        self.events.pieces(self.name, self.done, self.handed_out)


@dataclass
class BuildReport:
    """What a build did: the check, and per output its result or its error."""

    kit: Kit | None = None
    check: CheckReport | None = None
    check_seconds: float = 0.0
    # Per output built (or up to date), in the order of RENDERERS, except that an output that
    # reads another's files (Renderer.reads) comes after it when that one was made.
    outputs: dict[str, RenderResult] = field(default_factory=dict)
    # Per output that could not be built.
    failed: dict[str, KitError] = field(default_factory=dict)
    # Why an output was left out (see NotAvailable).
    skipped: list[str] = field(default_factory=list)

    @property
    def checks_failed(self) -> bool:
        """A sample check failed, so nothing was rendered."""
        return self.check is not None and not self.check.ok

    @property
    def ok(self) -> bool:
        return not self.checks_failed and not self.failed


def build(project: "Project", selection: Selection | None = None,
          outputs: list[str] | None = None, *, options: dict[str, dict] | None = None,
          interpreters: list[Interpreter] | None = None,
          events: Events | None = None) -> BuildReport:
    """Check the selected content's samples (on `interpreters`, by default every CPython
    found), then build `outputs` (names of RENDERERS; None: every output, on one shared pool).
    `options` gives an output's renderer options by name. A sample that fails leaves every
    output unbuilt; an output that fails leaves the others built (see BuildReport)."""
    events = events or Events()
    options = options or {}
    selection = selection or Selection()
    if outputs is None:
        return _build_all(project, selection, options, interpreters, events)
    return _build_each(project, selection, outputs, options, interpreters, events)


def _check(project: "Project", kit: Kit, interpreters: list[Interpreter] | None,
           events: Events, done: BuildReport) -> None:
    started = time.perf_counter()
    done.kit = kit
    events.loaded(kit)
    done.check = project.check(kit, interpreters or project.interpreters(),
                               progress=events.progress)
    done.check_seconds = time.perf_counter() - started
    events.checked(done.check, done.check_seconds)


def _renderers(project: "Project", names, options: dict[str, dict], events: Events,
               done: BuildReport) -> dict[str, Renderer]:
    renderers = {}
    for name in names:
        try:
            renderers[name] = project.renderer(name, **options.get(name, {}))
        except NotAvailable as exc:
            done.skipped.append(str(exc))
            events.skipped(str(exc))
    return renderers


def _finished(result: RenderResult, events: Events, done: BuildReport) -> None:
    done.outputs[result.name] = result
    events.built(result)


def _failed(name: str, error: KitError, events: Events, done: BuildReport) -> None:
    done.failed[name] = error
    events.failed(name, error)


def _build_each(project: "Project", selection: Selection, outputs: list[str],
                options: dict[str, dict], interpreters, events: Events) -> BuildReport:
    """Each output in turn, in this process, each handing its pieces to a pool of its own."""
    done = BuildReport()
    renderers = _renderers(project, outputs, options, events, done)
    if not renderers:
        return done
    project.hold()
    _check(project, project.load(selection), interpreters, events, done)
    if done.checks_failed:
        return done
    for name, renderer in renderers.items():
        events.rendering([name])
        started = time.perf_counter()
        try:
            result = project.render(renderer, done.kit, done.check)
        except KitError as exc:
            _failed(name, exc, events, done)
            continue
        result.seconds = time.perf_counter() - started
        _finished(result, events, done)
    return done


def _build_all(project: "Project", selection: Selection, options: dict[str, dict],
               interpreters, events: Events) -> BuildReport:
    done = BuildReport()
    project.hold()
    # Workers take most of a second to start (each imports WeasyPrint). When an input was saved
    # since the last build, they are started before anything else and are ready when the first
    # part of the book is; a build with nothing to do starts none.
    early = worker_pool(cores()) if project.saved_since_last_build() else None
    with pool_scope(early):
        if early is not None:
            early.start()
        _check(project, project.load(selection), interpreters, events, done)
        if done.checks_failed:
            if early is not None:
                early.stop()   # its workers may still be starting: nothing for them to do
            return done
        _render_in_parallel(project, done, options, events, early)
    return done


@gc_paused()
def _render_one(name: str, options: dict, project: "Project", kit: Kit,
                report: CheckReport) -> RenderResult:
    """In a worker process: one output, its pieces one after another (the other workers are
    busy with the rest)."""
    started = time.perf_counter()
    result = project.render(project.renderer(name, **options), kit, report,
                            pool=InlineExecutor())
    result.seconds = time.perf_counter() - started
    return result


def _render_in_parallel(project: "Project", done: BuildReport, options: dict[str, dict],
                        events: Events, pool: WorkerPool | None = None) -> None:
    """Every output that is not up to date, on one pool of worker processes, one per core.
    `pool` is one started early; when every output is up to date it is stopped, and none is
    started."""
    kit, report = done.kit, done.check
    renderers = _renderers(project, RENDERERS, options, events, done)
    # An output with no files to make (no session plans) has no place in the build.
    renderers = {name: r for name, r in renderers.items()
                 if r.targets(project.context(kit, report))}
    built, stale = {}, []
    for name, renderer in renderers.items():
        built[name] = renderer.built(project.context(kit, report))
        if built[name] is None:
            stale.append(name)
    # An output that reads another's files (Renderer.reads) comes after it when that one is
    # made now: its key, and what it shows, depend on them.
    after = [name for name, r in renderers.items() if set(r.reads) & set(stale)]
    stale = [name for name in stale if name not in after]
    own = None
    if not stale and pool is not None:
        pool.stop()   # started on a guess that proved wrong: its workers may still be starting
    elif stale and pool is None:
        pool = own = worker_pool(cores())
    if stale:
        events.rendering(stale)
    futures: dict = {}
    background: dict[str, Background] = {}

    def render_here(name: str, pool) -> RenderResult:
        started = time.perf_counter()
        result = project.render(renderers[name], kit, report, pool=Tally(pool, name, events))
        result.seconds = time.perf_counter() - started
        return result

    def whole() -> None:
        # The kit goes with them (a megabyte, pickled in milliseconds): an early pool was
        # started before it was read.
        for name in stale:
            if name != "handbook" and name not in SPREAD:
                futures[name] = Tally(pool, name, events).submit(
                    _render_one, name, renderers[name].options, project, kit, report)

    def spread() -> None:
        for name in stale:
            if name in SPREAD:
                background[name] = Background(lambda name=name: render_here(name, pool))

    try:
        with pool_scope(own):
            first = PartsFirst(pool, whole, spread) if pool is not None else None
            if "handbook" not in stale and first is not None:
                first.all_submitted()
            for name in renderers:
                if name in after:
                    continue
                try:
                    if name not in stale:
                        result = RenderResult(name, built[name], up_to_date=True)
                    elif name == "handbook":
                        try:
                            result = render_here(name, first)
                        finally:
                            first.all_submitted()
                    elif name in background:
                        result = background[name].get()
                    else:
                        result = futures[name].result()
                except KitError as exc:
                    _failed(name, exc, events, done)
                    continue
                _finished(result, events, done)
            # On the same pool; each is up to date unless what it reads has changed.
            for name in after:
                try:
                    result = render_here(name, pool)
                except KitError as exc:
                    done.failed[name] = exc
                    continue
                _finished(result, events, done)
    except BaseException:
        # An interrupt: the pool is stopped now (an early one would be by the caller), so a
        # thread waiting on it ends at once, and removes what it had half written.
        if background:
            pool.stop()
        raise
    finally:
        for job in background.values():
            job.thread.join(30)
