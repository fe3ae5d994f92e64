"""Laid-out parts kept under the cache folder, and where an edited part may start part-way."""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import time
import zlib
from pathlib import Path

from ..cache import PART_FORMAT, RESUME_FORMAT
from ..cachefile import read_cache, read_cache_json, write_cache, write_cache_json
from .partlayout import PartLayout, Resume


class PartCache:
    """Laid-out parts by a hash of their HTML: an edit lays out only the parts it touched."""

    def __init__(self, folder: Path | None, salt: str):
        self.folder = folder
        self.salt = salt

    def key(self, html: str) -> str:
        return self._digest(html)

    def _digest(self, *pieces: str) -> str:
        from ..freshness import library_version

        h = hashlib.sha256()
        for piece in (str(PART_FORMAT), library_version("weasyprint"), self.salt, *pieces):
            h.update(piece.encode("utf-8"))
            h.update(b"\0")
        return h.hexdigest()[:32]

    def line(self, position: int, html: str) -> str:
        """What names a part across edits: its place, and all that its layout depends on but
        its body (WeasyPrint, the templates' files, the page's head with its style sheet).
        Another layout of the same line is one the part may start from part-way."""
        return self._digest(str(position), html.partition("<body")[0])[:20]

    def get(self, key: str) -> PartLayout | None:
        if self.folder is None:
            return None
        record = read_cache_json(self.folder / f"{key}.json")
        if record.get("format") != PART_FORMAT:
            return None
        pdf = read_cache(self.folder / f"{key}.pdf")
        if pdf is None:
            return None
        now = time.time()
        for suffix in (".json", ".pdf"):
            try:
                os.utime(self.folder / f"{key}{suffix}", (now, now))
            except OSError:
                pass
        return PartLayout(pdf=pdf, pages=record["pages"], anchors=record["anchors"],
                          links=record["links"], bookmarks=record["bookmarks"],
                          stamps=record["stamps"], notes=record["notes"], cached=True)

    def put(self, key: str, part: PartLayout, html: str | None = None) -> None:
        if self.folder is None or part.problems or part.missing:
            return
        # Kept before the record, and only if they were: a part with a record has all it needs.
        if not write_cache(self.folder / f"{key}.pdf", part.pdf):
            return
        if part.pagination is not None and html is not None and not write_cache(
                self.folder / f"{key}.resume",
                pickle.dumps({"format": RESUME_FORMAT, "html": zlib.compress(html.encode(), 1),
                              "pagination": part.pagination})):
            return
        write_cache_json(self.folder / f"{key}.json", part.record())

    def lines(self) -> dict[str, str]:
        """The key of each line's latest part."""
        return read_cache_json(self.folder / "lines.json") if self.folder is not None else {}

    def set_lines(self, latest: dict[str, str]) -> None:
        lines = self.lines()
        if self.folder is not None and any(lines.get(k) != v for k, v in latest.items()):
            self._write_lines({**lines, **latest})

    def _write_lines(self, lines: dict[str, str]) -> None:
        write_cache_json(self.folder / "lines.json", lines)

    def resume_for(self, key: str | None, html: str) -> tuple[Resume, bytes] | None:
        """Where an edited part's layout may start: the page before the one where the last
        element with an anchor ahead of the edit starts, in the cached part `key`. Content
        before the edit lays out as before, and no page's break looks further ahead than the
        next page; the page before is laid out again all the same, as its end may change."""
        if self.folder is None or not key:
            return None
        raw = read_cache(self.folder / f"{key}.resume")
        record = read_cache_json(self.folder / f"{key}.json")
        if raw is None or not record:
            return None
        try:
            kept = pickle.loads(raw)
            if kept["format"] != RESUME_FORMAT:
                return None
            earlier = zlib.decompress(kept["html"]).decode()
            pagination: Pagination = kept["pagination"]
        except Exception:   # noqa: BLE001 - an entry that cannot be read only costs time
            return None
        if record.get("format") != PART_FORMAT or _LOOKS_BACK.search(html.partition("<body")[0]):
            return None
        edit = _first_difference(earlier, html)
        for match in reversed(list(_ID.finditer(html, 0, edit))):
            at = record["anchors"].get(match.group(1))
            if at is not None:
                start = at[0] - 1
                break
        else:
            return None
        if not pagination.resumable_at(start):
            return None
        pdf = read_cache(self.folder / f"{key}.pdf")
        if pdf is None:
            return None
        return (Resume(pagination.seed(start, _rejoin_marker(earlier, html, edit)),
                       {k: record[k] for k in ("anchors", "links", "bookmarks", "stamps")}),
                pdf)

    def get_stamped(self, key: str, signature: str) -> bytes | None:
        if self.folder is None:
            return None
        return read_cache(self.folder / f"{key}-{signature}.stamped.pdf")

    def put_stamped(self, key: str, signature: str, pdf: bytes) -> None:
        """Keep the part stamped with these numbers, and no other stamping of it."""
        if self.folder is None:
            return
        try:
            for old in self.folder.glob(f"{key}-*.stamped.pdf"):
                old.unlink(missing_ok=True)
        except OSError:
            pass
        write_cache(self.folder / f"{key}-{signature}.stamped.pdf", pdf)

    def prune(self, keep: set[str], spare: int) -> None:
        """Drop parts not used now, keeping the `spare` most recently used (another selection
        or paper may want them back)."""
        if self.folder is None or not self.folder.is_dir():
            return
        others = {}
        for f in self.folder.glob(".*.part"):
            # Left by a worker stopped mid-write; an hour old, no build is still writing it.
            try:
                if time.time() - f.stat().st_mtime > 3600:
                    f.unlink()
            except OSError:
                pass
        for f in self.folder.iterdir():
            if f.name.startswith((".", "stamp-font-", "lines.")):
                continue
            key = f.name.split(".")[0].split("-")[0]
            if key not in keep:
                try:
                    others.setdefault(key, []).append((f.stat().st_mtime, f))
                except OSError:
                    pass
        by_age = sorted(others.values(), key=lambda fs: max(m for m, _ in fs), reverse=True)
        for files in by_age[spare:]:
            for _, f in files:
                f.unlink(missing_ok=True)
        lines = self.lines()
        alive = {line: key for line, key in lines.items()
                 if (self.folder / f"{key}.json").exists()}
        if alive != lines:
            self._write_lines(alive)


_ID = re.compile(r'\sid="([^"]+)"')
# Selectors by which an element's style depends on what follows it: with one of these in the
# style sheet, an edit may restyle what comes before it, and no part is laid out part-way.
_LOOKS_BACK = re.compile(r":(last-child|last-of-type|nth-last-|only-child|only-of-type|empty|has)")


def _rejoin_marker(earlier: str, html: str, edit: int) -> str | None:
    """The ID of the first element after the edit, if the edit changed only text, within one
    text node: then every element is what it was, and from that element on the document is
    the same (see weasy_internals.Seed; the boxes may still differ, which it checks)."""
    same_end = min(_first_difference(earlier[::-1], html[::-1]),
                   len(earlier) - edit, len(html) - edit)
    body = html.find("<body")
    if body < 0 or edit < body:
        return None
    for text in (earlier, html):
        changed = text[edit:len(text) - same_end]
        in_tag = text.rfind("<", 0, edit) > text.rfind(">", 0, edit)
        if "<" in changed or ">" in changed or in_tag:
            return None
    found = _ID.search(html, len(html) - same_end)
    return found.group(1) if found else None


def _first_difference(a: str, b: str) -> int:
    """The index of the first character where `a` and `b` differ (or the shorter's length)."""
    low, high = 0, min(len(a), len(b))
    while low < high:   # a[:low] == b[:low]
        mid = (low + high + 1) // 2
        if a[low:mid] == b[low:mid]:
            low = mid
        else:
            high = mid - 1
    return low
