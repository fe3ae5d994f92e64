"""HTML fragments kept between builds: highlighted code and Markdown, by a hash of their text.

Both are pure functions of their text, given the libraries and the kit's own code (which the
file's version covers), and together they are most of the time it takes to make a chapter's
HTML. After an edit, every chapter's HTML is made again to learn which parts of the book
changed: with the fragments kept, that takes a fraction of a second instead of over a second,
taken from the core the edited chapter is being laid out on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from markupsafe import Markup

from ..cache import FRAGMENTS_FORMAT
from ..cachefile import read_cache_json, write_cache_json



def _version() -> str:
    from ..freshness import library_version, tree_digest
    from .base import PROJECT_ROOT

    parts = [str(FRAGMENTS_FORMAT), tree_digest(PROJECT_ROOT / "studykit")]
    parts += [library_version(name) for name in ("pygments", "markdown-it-py", "markupsafe")]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]


class Fragments:
    def __init__(self, path: Path | None):
        self.path = path
        self.version = _version()
        self.entries: dict[str, str] = {}
        self.used: set[str] = set()
        self.added = False
        if path is not None:
            data = read_cache_json(path)
            if data.get("version") == self.version and isinstance(data.get("html"), dict):
                self.entries = data["html"]

    def get(self, kind: str, text: str, make: Callable[[], Markup]) -> Markup:
        """`make()`, or what it returned for the same kind and text in an earlier build."""
        key = hashlib.sha256(f"{kind}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()[:32]
        self.used.add(key)
        found = self.entries.get(key)
        if isinstance(found, str):
            return Markup(found)
        made = make()
        self.entries[key] = str(made)
        self.added = True
        return made

    def save(self) -> None:
        """Keep what this build used: an answer rewritten leaves its old fragments behind."""
        if self.path is None or not (self.added or len(self.used) < len(self.entries)):
            return
        kept = {k: v for k, v in self.entries.items() if k in self.used}
        write_cache_json(self.path, {"version": self.version, "html": kept})
