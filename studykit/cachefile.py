"""Files under `.cache/`, sealed: each carries its own length and hash, checked on every read.

A cache file can be damaged outside any build (a disk that filled up under another program, a
file truncated or overwritten by hand, a copy interrupted). Catching the errors a damaged file
causes is not enough: a truncated font or PDF makes the PDF library fail deep inside a join,
and a cut JSON file may still parse. So every cache file starts with one line giving the length and the
SHA-256 of what follows, and a file whose body does not match it is dropped (removed, so that
the build makes it again) with one warning line for the whole build.

Writing the cache never fails a build either: a full disk or a read-only cache folder costs
only time, and says so once.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import sys
from pathlib import Path

from .cache import ENTRIES
from .output import atomic_write_bytes

MAGIC = b"%studykit-cache 1 "
# Made before any worker process is forked, and shared with them (an anonymous mapping is
# MAP_SHARED): a warning is printed once per build, by whichever process meets it first.
_WARNED = mmap.mmap(-1, 2)
DAMAGED, UNWRITABLE = 0, 1
# Files that lack the seal and were last written before this time (ns) were written by a kit
# that did not seal its cache: they are dropped without a warning. None: no such files.
_UNSEALED_BEFORE: list[int | None] = [None]
MARKER = ENTRIES["sealed"]


def begin_build(cache_dir: Path | None) -> None:
    """Called once a build holds its cache folder: warnings may be printed again, and files
    older than the folder's first sealing build are known to be from an older kit."""
    _WARNED[:] = b"\0\0"
    _UNSEALED_BEFORE[0] = None
    if cache_dir is None:
        return
    marker = Path(cache_dir) / MARKER
    try:
        if not marker.exists():
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
        _UNSEALED_BEFORE[0] = marker.stat().st_mtime_ns
    except OSError:
        pass


def seal(data: bytes) -> bytes:
    return MAGIC + b"%d %s\n" % (len(data), hashlib.sha256(data).hexdigest().encode()) + data


def unseal(raw: bytes) -> bytes | None:
    """The body of a sealed file, or None if it is not one or does not match its seal."""
    if not raw.startswith(MAGIC):
        return None
    head, newline, body = raw.partition(b"\n")
    fields = head[len(MAGIC):].split(b" ")
    if not newline or len(fields) != 2 or fields[0] != str(len(body)).encode():
        return None
    return body if hashlib.sha256(body).hexdigest().encode() == fields[1] else None


def read_cache(path: Path) -> bytes | None:
    """What `write_cache` wrote at `path`; None when it is missing or damaged (then dropped)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        _warn(UNWRITABLE, f"warning: cannot read the cache ({_shown(path)}: {exc.strerror or exc}); "
                          "building without it")
        return None
    body = unseal(raw)
    if body is None:
        _drop(path, raw)
    return body


def read_cache_json(path: Path | None) -> dict:
    """A JSON object kept with `write_cache_json`; an empty dict when missing or damaged."""
    if path is None:
        return {}
    raw = read_cache(path)
    try:
        data = json.loads(raw) if raw is not None else {}
    except ValueError:   # sealed, yet not JSON: written by something else than this kit
        _drop(Path(path), raw)
        return {}
    return data if isinstance(data, dict) else {}


def write_cache(path: Path, data: bytes) -> bool:
    """Keep `data` at `path`, atomically and sealed. A cache that cannot be written only costs
    time: the failure is reported once per build, never raised."""
    try:
        atomic_write_bytes(Path(path), seal(data))
        return True
    except OSError as exc:
        _warn(UNWRITABLE, f"warning: cannot write the cache ({_shown(path)}: "
                          f"{exc.strerror or exc}); outputs are not affected, the next build "
                          "does this work again")
        return False


def write_cache_json(path: Path, data, **dumps) -> bool:
    return write_cache(path, json.dumps(data, **dumps).encode("utf-8"))


def _drop(path: Path, raw: bytes) -> None:
    try:
        older = not raw.startswith(MAGIC) and _UNSEALED_BEFORE[0] is not None \
            and path.stat().st_mtime_ns < _UNSEALED_BEFORE[0]
        path.unlink()
    except OSError:
        older = False
    if not older:
        _warn(DAMAGED, f"warning: dropped a damaged cache file ({_shown(path)}); what it held is made "
                       "again")


def _shown(path: Path) -> str:
    """`path` as the user would type it from here."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (OSError, ValueError):
        return str(path)


def _warn(kind: int, line: str) -> None:
    if _WARNED[kind]:
        return
    _WARNED[kind] = 1
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
