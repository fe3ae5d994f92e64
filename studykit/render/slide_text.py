"""Content text as slide text: inline `code` runs, bullets, and Markdown as plain text for notes."""

from __future__ import annotations

import re

from ..markdown import parse
from .deck_style import CODE_FONT
from .pptx_text import Para, Run, line_pitch


def inline_runs(text: str, size: float) -> list[Run]:
    """Plain-text fields with `backticks` as code: the quoted parts set in the code font."""
    parts = text.split("`")
    if len(parts) % 2 == 0:        # an unpaired backtick: show the text as written
        return [Run(text, size)]
    return [Run(part, size, CODE_FONT if i % 2 else None)
            for i, part in enumerate(parts) if part]


def bullet(runs: list[Run], size: float) -> Para:
    return Para(runs, line_pitch(size), space_after=round(size * 0.35), margin_left=size * 1.1,
                bullet="•")


def paras_text(paras: list[Para]) -> str:
    return " ".join(p.text for p in paras)


def markdown_text(text: str) -> str:
    """Markdown as plain text for speaker notes: lists get bullets, code stays indented."""
    out: list[str] = []
    lists: list[int | None] = []      # one entry per open list: its next number, or None
    mark: str | None = None           # the bullet waiting for a list item's first line
    row: list[str] | None = None      # cells of the table row being read
    for tok in parse(text or ""):
        t = tok.type
        if t == "bullet_list_open":
            lists.append(None)
        elif t == "ordered_list_open":
            lists.append(int(tok.attrGet("start") or 1))
        elif t in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
            if not lists:
                out.append("")
        elif t == "list_item_open":
            n = lists[-1]
            mark = "•" if n is None else f"{n}."
            if n is not None:
                lists[-1] = n + 1
        elif t == "tr_open":
            row = []
        elif t == "tr_close":
            out.append(" | ".join(row or []))
            row = None
        elif t == "table_close":
            out.append("")
        elif t == "inline":
            line = "".join(c.content if c.type in ("text", "code_inline") else " "
                           for c in tok.children or ()
                           if c.type in ("text", "code_inline", "softbreak", "hardbreak"))
            if row is not None:
                row.append(line)
            elif mark:
                out.append("  " * (len(lists) - 1) + f"{mark} {line}")
                mark = None
            else:
                out.append("  " * len(lists) + line)
        elif t in ("fence", "code_block"):
            out.extend("    " + ln for ln in tok.content.rstrip("\n").split("\n"))
            if not lists:
                out.append("")
        elif t in ("paragraph_close", "heading_close") and not lists:
            out.append("")
    return "\n".join(out).strip()


def summary_sentences(text: str) -> list[str]:
    """A summary's sentences, for talking points (a full stop inside `code` does not end one)."""
    return [p for p in re.split(r"(?<=[.!?])\s+(?=[A-Z`_(])", text.strip()) if p]
