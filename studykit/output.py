"""Writing files so that a failed or interrupted build never leaves a half-written one in place."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
from pathlib import Path
from typing import Iterator


# The signals a build turns into a clean stop (see build.py).
_INTERRUPTS = {signal.SIGINT, signal.SIGTERM}


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; it replaces `target` only if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    # An interrupt between the file's creation and the block that removes it on failure would
    # leave it behind: interrupts wait until that block has begun.
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, _INTERRUPTS)
    try:
        # Created with the umask applied, as an ordinary output file is.
        while True:
            tmp_path = target.parent / f".{target.name}.{secrets.token_hex(6)}.part"
            try:
                os.close(os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
                break
            except FileExistsError:
                continue
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        raise
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        yield tmp_path
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def atomic_write_bytes(target: Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: Path, text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))


def read_json_dict(path: Path | None) -> dict:
    """A cache file's contents; an empty dict when it is missing, unreadable or not an object."""
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def remove_stray_parts(folder: Path) -> list[Path]:
    """Temporary files left by a build that was killed outright (SIGKILL cannot be caught)."""
    removed = []
    if folder.is_dir():
        for p in folder.rglob(".*.part"):
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed
