"""Worker pools and scheduling: where the pieces of a build run, and in which order.

Every pool a renderer receives is a `Pool`: `submit` hands it one piece of work, and
`all_submitted` says that every piece of the current job is handed out (or that none will be),
so a scheduler may hand out the work it was holding back. The pools:

- `WorkerPool`, forked worker processes, one per core (`worker_pool`);
- `InlineExecutor`, which runs each piece at once in this process (a renderer that already
  runs in a worker gets it: a pool of its own would compete for the same cores);
- `PartsFirst`, which passes pieces on to another pool and hands that pool other work once
  the first piece, then every piece, is handed out (a full build gives the handbook this).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Callable, Iterator


def cores() -> int:
    return os.cpu_count() or 1


class Pool(Executor):
    """Where a renderer hands its independent pieces of work."""

    def all_submitted(self) -> None:
        """Every piece of the current job is handed out, or none will be. A plain pool has
        nothing waiting for this."""


class InlineExecutor(Pool):
    """Runs each piece of work at once, in this process."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:   # anything else (an interrupt) is not the piece's result
            future.set_exception(exc)
        return future


class WorkerPool(ProcessPoolExecutor, Pool):
    """Forked worker processes: they start with the content already loaded."""

    def __init__(self, workers: int) -> None:
        super().__init__(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                         initializer=quiet_worker)

    def start(self) -> None:
        """Start the workers now (a pool starts them on its first piece of work): they take
        most of a second each to import WeasyPrint."""
        self.submit(int)

    def stop(self) -> None:
        """Stop now, for an interrupted build, instead of waiting for every running piece of
        work to finish: the workers are terminated and queued work is dropped."""
        # ProcessPoolExecutor keeps its processes in `_processes` (None once shut down).
        processes = list((self._processes or {}).values()) or multiprocessing.active_children()
        for process in processes:
            if process.is_alive():
                process.terminate()
        self.shutdown(wait=True, cancel_futures=True)


def worker_pool(workers: int) -> WorkerPool:
    return WorkerPool(workers)


class PartsFirst(Pool):
    """Passes every piece on to `pool`, calling `after_first` once the first is handed out and
    `after_all` once the parts of the book all are (each hands the pool other work that was
    waiting, and is called once). A build gives the handbook this. Its first stale part goes
    first (after an edit, the chapter that is usually the longest piece of the build), then
    the slides, a long piece, keep the other core busy while the book's HTML is made; the
    flashcards' short parts go last, so that the cores stay busy to the end while the book
    is joined."""

    def __init__(self, pool: Pool, after_first: Callable[[], None],
                 after_all: Callable[[], None]) -> None:
        self.pool = pool
        self._waiting: dict[str, Callable[[], None] | None] = {
            "first": after_first, "all": after_all}

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future = self.pool.submit(fn, *args, **kwargs)
        self._release("first")
        return future

    def all_submitted(self) -> None:
        self._release("first")
        self._release("all")

    def _release(self, which: str) -> None:
        fn, self._waiting[which] = self._waiting[which], None
        if fn is not None:
            fn()


@contextmanager
def pool_scope(pool: WorkerPool | None) -> Iterator[WorkerPool | None]:
    """A block that owns `pool` (None: no pool): when the block fails or is interrupted the
    workers are stopped at once, else the pool is shut down once its work is done."""
    try:
        yield pool
    except BaseException:
        if pool is not None:
            pool.stop()
        raise
    if pool is not None:
        pool.shutdown()


def run_pieces(fn, pieces: list[tuple], pool: Pool | None, done=None,
               meanwhile=None) -> list:
    """`fn(*piece)` for every piece, results in order; `done(index, result)` is called on each
    in order as it arrives, and `meanwhile()` once all are handed out. On `pool`, or, when
    there is none, on a pool of this call's own if there is more than one piece and more than
    one core."""
    own = None
    if pool is None:
        own = worker_pool(min(len(pieces), cores())) if len(pieces) > 1 and cores() > 1 \
            else None
        pool = own or InlineExecutor()
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


class Background:
    """A function run on a thread of this process (one that mostly waits on a pool)."""

    def __init__(self, fn: Callable[[], object]) -> None:
        self.result = self.error = None
        self.thread = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self.thread.start()

    def _run(self, fn) -> None:
        try:
            self.result = fn()
        except BaseException as exc:   # handed to the thread that asks for the result
            self.error = exc

    def get(self):
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.result


# ------------------------------------------------------------------ in a worker

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
