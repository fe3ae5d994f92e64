"""Markdown for answers and intros: one parser configuration for validation and every renderer."""

from __future__ import annotations

import re
from functools import lru_cache

from markdown_it import MarkdownIt
from markupsafe import Markup, escape


@lru_cache(maxsize=1)
def _renderer() -> MarkdownIt:
    # html=False: any markup in content is shown as text, never obeyed.
    return MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")


@lru_cache(maxsize=1)
def _inspector() -> MarkdownIt:
    # Parsing with HTML on is only to find raw HTML and tell the author about it.
    return MarkdownIt("commonmark", {"html": True}).enable("table")


def to_html(text: str) -> str:
    return _renderer().render(text)


def parse(text: str):
    """Block-level tokens, for renderers that do not produce HTML (the slide decks)."""
    return _renderer().parse(text)


def problems(text: str) -> list[tuple[str, int]]:
    """(message, line offset within the text) for Markdown the kit cannot print faithfully."""
    found: list[tuple[str, int]] = []
    for token in _inspector().parse(text):
        line = token.map[0] if token.map else 0
        if token.type == "html_block":
            found.append((f"raw HTML {token.content.strip()[:40]!r} is not allowed; put code in "
                          "backticks to show it", line))
        for child in token.children or ():
            if child.type == "html_inline":
                found.append((f"raw HTML {child.content!r} is not allowed; put it in backticks "
                              "to show it as code", line))
            elif child.type == "image":
                found.append(("images are not supported in answers", line))
    return found


_BACKTICKS = re.compile(r"`([^`]+)`")


def inline_code(text: str) -> Markup:
    """Plain-text fields (summary, key points, pitfalls, follow-ups) with `backticks` as code.

    Authors quote code in them as they do in Markdown; printing the backticks would be noise.
    """
    return Markup(_BACKTICKS.sub(lambda m: f"<code>{m.group(1)}</code>", str(escape(text))))
