"""Whether an output is up to date: outputs are keyed on a hash of everything that shapes them.

The key covers the selected content, what the check verified each sample on, the renderer and
its options, the templates, the kit's own code, the versions of the rendering libraries and the
build date (printed on the cover and the title slides). An output whose key matches and whose
files are on disk as they were written is not rendered again.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from .checker import CheckReport
from .cachefile import read_cache_json, write_cache_json
from .render.base import PROJECT_ROOT, BuildContext, Renderer

LIBRARIES = ("weasyprint", "python-pptx", "pygments", "markdown-it-py", "jinja2", "fonttools",
             "pikepdf")


@lru_cache(maxsize=None)
def tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


@lru_cache(maxsize=None)
def library_version(name: str) -> str:
    """An installed library's version, read without importing it (WeasyPrint takes most of a
    second to import, and a build that lays nothing out should not pay for it)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "none"


def _library_versions() -> str:
    return ",".join(f"{name}={library_version(name)}" for name in LIBRARIES)


def _verified(report: CheckReport | None) -> list:
    if report is None:
        return []
    return sorted((o.question.number, o.sample.index, o.interpreter.label, o.status)
                  for o in report.outcomes)


def _hash(ctx: BuildContext, *parts: str) -> str:
    """The given parts, and what shapes every output: templates, the kit's code, the rendering
    libraries (and Graphviz, for a kit with figures) and the date."""
    h = hashlib.sha256()
    from .figures import version_stamp

    for part in (*parts, tree_digest(ctx.templates_dir), tree_digest(PROJECT_ROOT / "studykit"),
                 _library_versions(), version_stamp(ctx.kit), ctx.build_date.isoformat()):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def fingerprint(renderer: Renderer, options: dict, ctx: BuildContext) -> str:
    return _hash(ctx, renderer.name, json.dumps(options, sort_keys=True, default=str),
                 renderer.content_key(ctx), json.dumps(_verified(ctx.report)))


def piece_key(renderer: Renderer, ctx: BuildContext, content: str, numbers: set[int]) -> str:
    """Like `fingerprint`, for one file of an output that shows only the questions `numbers`."""
    verified = [v for v in _verified(ctx.report) if v[0] in numbers]
    return _hash(ctx, renderer.name, content, json.dumps(verified))


class PieceRecord:
    """The key each file of a many-file output was built from, with the file's size and time:
    a file whose key and stamp still match is left as it is."""

    def __init__(self, path: Path | None):
        self.path = path
        self.data = read_cache_json(path)

    def fresh(self, target: Path, key: str) -> bool:
        entry = self.data.get(str(target))
        return (isinstance(entry, dict) and entry.get("key") == key
                and entry.get("stamp") == _stamp(target))

    def record(self, target: Path, key: str) -> None:
        self.data[str(target)] = {"key": key, "stamp": _stamp(target)}

    def save(self) -> None:
        if self.path:
            write_cache_json(self.path, self.data, sort_keys=True)


def _stamp(path: Path) -> list | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


class OutputManifest:
    """The key each output was last built from, and the size and time of the files it wrote."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, dict] = read_cache_json(path)

    @staticmethod
    def slot(renderer: Renderer, options: dict, out_dir: Path) -> str:
        return f"{os.path.realpath(out_dir)}|{renderer.name}|{json.dumps(options, sort_keys=True)}"

    def fresh(self, slot: str, key: str) -> list[Path] | None:
        entry = self.data.get(slot)
        if not entry or entry.get("key") != key:
            return None
        files = [(Path(p), stamp) for p, stamp in entry["files"]]
        if not files or any(_stamp(p) != stamp for p, stamp in files):
            return None
        return [p for p, _ in files]

    def record(self, slot: str, key: str, paths: list[Path]) -> None:
        entry = {"key": key, "files": [[str(p), _stamp(p)] for p in paths]}
        self.data[slot] = entry

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Renderers run in parallel processes: merge under a lock, or one loses the other's.
            with open(self.path.with_suffix(".lock"), "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                current = OutputManifest(self.path).data
                current[slot] = entry
                write_cache_json(self.path, current, indent=1, sort_keys=True)
        except OSError:
            pass
