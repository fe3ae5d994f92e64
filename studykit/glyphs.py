"""Characters no installed font can draw: they would print as empty boxes.

WeasyPrint falls back through every font fontconfig knows, so a character prints properly if any
installed font covers it. fontconfig reports each font's coverage in one call; the union of
those ranges is what the printed outputs can show.
"""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from .model import Question


@lru_cache(maxsize=1)
def _coverage() -> tuple[tuple[int, int], ...] | None:
    """Sorted, merged (first, last) code point ranges of every installed font; None if unknown."""
    if not shutil.which("fc-list"):
        return None
    try:
        out = subprocess.run(["fc-list", "--format", "%{charset}\n"], capture_output=True,
                             text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    ranges = []
    for token in out.split():
        first, _, last = token.partition("-")
        try:
            ranges.append((int(first, 16), int(last or first, 16)))
        except ValueError:
            continue
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return tuple(merged) if merged else None


def covered(ch: str) -> bool:
    ranges = _coverage()
    if ranges is None:
        return True   # nothing to go by: do not cry wolf
    cp = ord(ch)
    lo, hi = 0, len(ranges)
    while lo < hi:
        mid = (lo + hi) // 2
        if ranges[mid][1] < cp:
            lo = mid + 1
        else:
            hi = mid
    return lo < len(ranges) and ranges[lo][0] <= cp <= ranges[lo][1]


@dataclass(frozen=True)
class Missing:
    char: str
    where: str        # for example "Q12 answer"

    def describe(self) -> str:
        name = unicodedata.name(self.char, "unnamed")
        return f"{self.where}: {self.char!r} (U+{ord(self.char):04X} {name})"


def _fields(q: Question):
    yield "question", q.question
    yield "summary", q.summary
    yield "answer", q.answer
    for i, p in enumerate(q.key_points):
        yield f"key_points[{i}]", p
    for i, p in enumerate(q.pitfalls):
        yield f"pitfalls[{i}]", p
    for i, f in enumerate(q.follow_ups):
        yield f"follow_ups[{i}]", f"{f.question} {f.answer}"
    for i, s in enumerate(q.samples):
        yield f"samples[{i}]", f"{s.title} {s.code} {s.output}"


def missing_glyphs(questions) -> list[Missing]:
    """Each character without a glyph, once per field it appears in."""
    found: list[Missing] = []
    for q in questions:
        for field, text in _fields(q):
            if not text or max(text) < "\u0250":
                continue   # Latin only, as most fields are: found without a loop in Python
            seen = set()
            for ch in text:
                if ord(ch) < 0x250 or ch in seen or ch.isspace():
                    continue
                if unicodedata.category(ch) in ("Cf", "Mn", "Me"):
                    continue   # zero-width and combining marks draw nothing of their own
                seen.add(ch)
                if not covered(ch):
                    found.append(Missing(ch, f"{q.card_id} {field}"))
    return found
