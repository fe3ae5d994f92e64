"""Writing files so that a failed or interrupted build never leaves a half-written one in place."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import Iterator

from .errors import RenderError


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; it replaces `target` only if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = None
    try:
        while True:
            # Named before the file exists: an interrupt arriving the moment it is created
            # (before mkstemp could even have returned its name) still finds it to remove.
            tmp_path = target.parent / f".{target.name}.{secrets.token_hex(6)}.part"
            try:
                # Created with the umask applied, as an ordinary output file is.
                os.close(os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
                break
            except FileExistsError:
                tmp_path = None   # another writer's file
        yield tmp_path
        os.replace(tmp_path, target)
    except BaseException:
        if tmp_path is not None:
            tmp_path.unlink(missing_ok=True)
        raise


def atomic_write_bytes(target: Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: Path, text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))


class OutputError(RenderError):
    """An output that could not be written (a full disk, a read-only folder)."""


def write_output(target: Path, data: bytes) -> None:
    """Put an output file in place whole, or leave the one there as it was and say why.

    Outputs are made in memory and written here, by Python, rather than by the library that
    made them: a full disk then fails as an OSError naming its errno, not as whatever message
    a C library gives (qpdf, say), and the temporary file is always removed."""
    try:
        atomic_write_bytes(target, data)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None


def remove_stray_parts(folder: Path) -> list[Path]:
    """Temporary files left by a build that was killed outright (SIGKILL cannot be caught)."""
    removed = []
    if folder.is_dir():
        for p in folder.rglob(".*.part"):
            try:
                p.unlink(missing_ok=True)
            except OSError:   # a read-only folder: the write that follows says so
                continue
            removed.append(p)
    return removed
