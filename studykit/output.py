"""Writing files so that a failed or interrupted build never leaves a half-written one in place."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Iterator


def _read_umask() -> int:
    # os.umask can only be read by setting it: do it once, before any thread could race it.
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; it replaces `target` only if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    # mkstemp makes the file private (0600); an output is an ordinary file, so honour the umask.
    os.fchmod(fd, 0o666 & ~_UMASK)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
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
