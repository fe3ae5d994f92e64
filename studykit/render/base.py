"""What every renderer gets and must provide."""

from __future__ import annotations

import gc
import os
import threading
from abc import ABC, abstractmethod
from contextlib import contextmanager
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from jinja2 import (BytecodeCache, Environment, FileSystemLoader,
                    StrictUndefined, select_autoescape)

from ..checker import CheckReport, Interpreter
from ..errors import KitError, RenderError
from ..glyphs import missing_glyphs
from ..model import Kit, Question, Sample

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = PROJECT_ROOT / "templates"


def build_time() -> datetime:
    """When the outputs say they were made (UTC, without a zone): SOURCE_DATE_EPOCH when set,
    so that two builds of the same content give the same bytes, else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    try:
        return datetime.fromtimestamp(int(epoch), timezone.utc).replace(tzinfo=None)
    except (ValueError, OverflowError, OSError):
        raise KitError(f"SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, "
                       f"not {epoch!r}") from None


def build_date() -> date:
    """The date printed on the outputs: SOURCE_DATE_EPOCH's (in UTC) when set, else today."""
    return build_time().date() if "SOURCE_DATE_EPOCH" in os.environ else date.today()


@dataclass(frozen=True)
class BuildContext:
    """Everything read and checked before any output is written."""

    kit: Kit
    report: CheckReport | None
    out_dir: Path
    templates_dir: Path = TEMPLATES_DIR
    build_date: date = field(default_factory=build_date)
    # Where a renderer may keep what speeds up its next build (None: keep nothing).
    cache_dir: Path | None = None
    # Worker processes a renderer may hand independent pieces of work to (None: its own choice).
    pool: Executor | None = None

    @property
    def interpreters(self) -> list[Interpreter]:
        return list(self.report.interpreters) if self.report else []

    def verified_on(self, question: Question, sample: Sample) -> list[Interpreter]:
        return self.report.verified_on(question, sample) if self.report else []


class Renderer(ABC):
    """A builder for one output format: `render` writes its files atomically into ctx.out_dir."""

    name: str = ""
    # Lines for the user about what the render did (for example which cards were shrunk).
    messages: list[str]

    def __init__(self) -> None:
        self.messages = []
        # Set by the project when the output on disk was built from the same inputs.
        self.up_to_date = False

    def say_if_slower(self, parts, library: str = "WeasyPrint") -> None:
        """Say once why parts were made through `library`'s public API alone."""
        why = next((p.slower for p in parts if p.slower), "")
        if why:
            self.messages.append(f"on the slower path ({library}'s public API only): {why}")

    @abstractmethod
    def render(self, ctx: BuildContext) -> list[Path]:
        """Write the output files and return their paths."""

    def jinja(self, ctx: BuildContext, subdir: str) -> Environment:
        return template_env(ctx.templates_dir / subdir, ctx.cache_dir)

    def content_key(self, ctx: BuildContext) -> str:
        """The part of the content this output shows, as text: a change elsewhere leaves it
        up to date. Frozen dataclasses make repr a full, ordered description."""
        return repr((ctx.kit.topics, ctx.kit.questions, ctx.kit.bank))

    def require_glyphs(self, ctx: BuildContext) -> None:
        """Fail, naming each character and where it is, if the print would show empty boxes."""
        missing = missing_glyphs(ctx.kit.questions)
        if missing:
            lines = [f"  {m.describe()}" for m in missing[:20]]
            if len(missing) > 20:
                lines.append(f"  and {len(missing) - 20} more")
            raise RenderError(f"{self.name}: no installed font can draw these characters, which "
                              "would print as empty boxes; install a font that covers them (for "
                              "CJK: apt install fonts-noto-cjk) or write them another way:\n"
                              + "\n".join(lines))


def template_env(folder: Path, cache_dir: Path | None = None) -> Environment:
    """The templates of one output (a worker that renders templates makes its own)."""
    # Autoescape everywhere: content is text, never markup.
    return Environment(
        loader=FileSystemLoader(str(folder)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        bytecode_cache=_bytecode_cache(cache_dir),
    )


def _bytecode_cache(cache_dir: Path | None) -> BytecodeCache | None:
    """Compiled templates kept between builds: compiling them all takes most of a second, a
    good part of a small rebuild. Jinja checks each against its template's source, and
    writes them atomically."""
    if cache_dir is None:
        return None
    folder = cache_dir / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None   # a cache that cannot be written only costs time
    return _SealedBytecodeCache(folder)


class _SealedBytecodeCache(BytecodeCache):
    """Compiled templates, one file per bucket, sealed like every other cache file (see
    cachefile): Jinja's own FileSystemBytecodeCache would load a damaged one, and lets a full
    disk's error through. Only the public BytecodeCache interface and `bucket.key` are used."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, bucket) -> Path:
        return self.folder / f"{bucket.key}.jinja"

    def load_bytecode(self, bucket) -> None:
        from ..cachefile import read_cache

        data = read_cache(self._path(bucket))
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket) -> None:
        from ..cachefile import write_cache

        write_cache(self._path(bucket), bucket.bytecode_to_string())


# Set (to anything but 0) to build through the libraries' public APIs alone, as on a version
# their internals were not tested with (see weasy_internals, pptx_xml).
PUBLIC_ONLY = "STUDYKIT_PUBLIC_ONLY"


def forced_public() -> bool:
    return os.environ.get(PUBLIC_ONLY, "") not in ("", "0")


def untested(library: str, dist: str, tested: tuple[str, ...]) -> str:
    """Why `library`'s internals are not to be used ("" if they may be): the public path is
    forced, or the installed version is not one they were tested with."""
    if forced_public():
        return f"{PUBLIC_ONLY} is set"
    from ..freshness import library_version

    version = library_version(dist)
    if version not in tested:
        return f"{library} {version} is not the tested {', '.join(tested)}"
    return ""


def internals_failed(library: str, exc: Exception) -> str:
    """Why a part was made on the public path after a fast path raised."""
    return f"{library}'s internals failed ({type(exc).__name__}: {exc})"


_PAUSES = {"depth": 0, "resume": False}
_PAUSE_LOCK = threading.Lock()


@contextmanager
def gc_paused():
    """No cyclic garbage collection inside the block, one young-generation collection after.

    A part laid out by WeasyPrint makes a few hundred thousand objects, most of which end in
    reference cycles that live until the part is done either way. Python's collector runs
    every 700 new objects and, every tenth or hundredth run, walks every object of the
    process: in a worker that was a ninth of the time. Collected once after the block, the
    same garbage costs about a quarter of that. Blocks may nest and run on several threads;
    the collector resumes when the last one ends, and only if it was running when the first
    began."""
    with _PAUSE_LOCK:
        if _PAUSES["depth"] == 0:
            _PAUSES["resume"] = gc.isenabled()
            gc.disable()
        _PAUSES["depth"] += 1
    try:
        yield
    finally:
        with _PAUSE_LOCK:
            _PAUSES["depth"] -= 1
            resume = _PAUSES["depth"] == 0 and _PAUSES["resume"]
            if resume:
                gc.enable()
        if resume:
            gc.collect(0)


def quiet_worker() -> None:
    """Pool initializer: Ctrl-C reaches the whole process group, but only the build itself
    should answer it (with one line); it stops the workers, which then end without a word.
    A temporary file a worker leaves is removed by the next build."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # Most pieces of work lay out with WeasyPrint, which takes most of a second to import:
    # done now, it overlaps with the build preparing the first piece.
    try:
        with gc_paused():
            import weasyprint  # noqa: F401
    except ImportError:
        pass


def worker_pool(workers: int) -> Executor:
    """Forked workers: they start with the content already loaded."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=quiet_worker)


def stop_pool(pool: Executor) -> None:
    """Stop a process pool now, for an interrupted build, instead of waiting for every running
    piece of work to finish: its workers are terminated and queued work is dropped."""
    import multiprocessing

    processes = getattr(pool, "_processes", None) or {}
    for process in list(processes.values()) or multiprocessing.active_children():
        if process.is_alive():
            process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


class PartsFirst(Executor):
    """Passes every piece on to `pool`, calling `after_first` once the first is handed out and
    `after_all` once the parts of the book all are (each hands the pool other work that was
    waiting, and is called once). A build gives the handbook this. Its first stale part goes
    first (after an edit, the chapter that is usually the longest piece of the build), then
    the slides, a long piece, keep the other core busy while the book's HTML is made; the
    flashcards' short parts go last, so that the cores stay busy to the end while the book
    is joined."""

    def __init__(self, pool: Executor, after_first, after_all) -> None:
        self.pool = pool
        self.after_first = after_first
        self.after_all = after_all

    def submit(self, fn, /, *args, **kwargs):
        future = self.pool.submit(fn, *args, **kwargs)
        self._call("after_first")
        return future

    def handed_out(self) -> None:
        """Every part is handed out (or none will be)."""
        self._call("after_first")
        self._call("after_all")

    def _call(self, which: str) -> None:
        fn = getattr(self, which)
        setattr(self, which, None)
        if fn is not None:
            fn()


class InlineExecutor(Executor):
    """Runs each piece of work at once, in this process. A renderer already running in a worker
    hands its pieces here: a pool of its own would only compete for the same cores."""

    def submit(self, fn, /, *args, **kwargs):
        from concurrent.futures import Future

        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:   # anything else (an interrupt) is not the piece's result
            future.set_exception(exc)
        return future


def run_pieces(fn, pieces: list[tuple], pool: Executor | None, done=None,
               meanwhile=None) -> list:
    """`fn(*piece)` for every piece, results in order; `done(index, result)` is called on each
    in order as it arrives, and `meanwhile()` once all are handed out. On `pool`, or, when
    there is none, on a pool of this call's own if there is more than one piece and more than
    one core."""
    import os

    own = None
    if pool is None:
        cores = os.cpu_count() or 1
        own = pool = worker_pool(min(len(pieces), cores)) if len(pieces) > 1 and cores > 1 \
            else None
        pool = pool or InlineExecutor()
    results = []
    with pool_scope(own):
        futures = [pool.submit(fn, *piece) for piece in pieces]
        if meanwhile is not None and pieces:
            meanwhile()
        for i, future in enumerate(futures):
            results.append(future.result())
            if done is not None:
                done(i, results[-1])
    return results


@contextmanager
def pool_scope(pool: Executor | None):
    """A block that owns `pool` (None: no pool): when the block fails or is interrupted the
    workers are stopped at once, else the pool is shut down once its work is done."""
    try:
        yield pool
    except BaseException:
        if pool is not None:
            stop_pool(pool)
        raise
    if pool is not None:
        pool.shutdown()
