"""One build at a time per cache folder: a second build started beside a running one waits.

Two builds in the same tree (two terminals, an editor's build beside a manual one) share the
cache and the outputs. Each file is written atomically, but a build reads what it wrote
earlier (the samples' results, the parts of the book, the record of the outputs), so two
builds would undo each other's work or pair one's cached part with the other's record. The
lock is an flock on a file in the cache folder: the kernel releases it when its holder ends,
however it ends, so a build killed outright never leaves a lock behind.
"""

from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path

from .cache import ENTRIES

LOCK_NAME = ENTRIES["lock"]
# Descriptors of the locks this process holds. A forked worker closes its copies: it must not
# keep the lock alive should the build itself be killed (a pool's workers can outlive it).
_HELD: list[int] = []


def _close_in_child() -> None:
    for fd in _HELD:
        try:
            os.close(fd)
        except OSError:
            pass
    _HELD.clear()


os.register_at_fork(after_in_child=_close_in_child)


class BuildLock:
    """Held from `acquire` to `release`; a folder that cannot hold a lock file (read-only)
    cannot hold a cache either, and is not locked."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / LOCK_NAME
        self.fd: int | None = None

    def acquire(self) -> None:
        if self.fd is not None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError:
            return
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
                holder = f" (pid {holder})" if holder.isdigit() else ""
                sys.stderr.write(f"waiting for another build in this folder{holder} ...\n")
                sys.stderr.flush()
                fcntl.flock(fd, fcntl.LOCK_EX)   # Ctrl-C still interrupts the wait
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd
        _HELD.append(fd)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:   # a full disk: the pid is only for the message of a build waiting
            pass

    def release(self) -> None:
        if self.fd is None:
            return
        fd, self.fd = self.fd, None
        if fd in _HELD:
            _HELD.remove(fd)
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
