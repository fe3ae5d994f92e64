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


@lru_cache(maxsize=1024)
def _tokens(text: str) -> tuple:
    # Validation and the handbook read the same texts in one build: parsed once. Only these
    # two read the cached tokens, and neither changes them.
    return tuple(_renderer().parse(text))


def to_html(text: str) -> str:
    md = _renderer()
    return md.renderer.render(list(_tokens(text)), md.options, {})


def parse(text: str):
    """Block-level tokens, for renderers that do not produce HTML (the slide decks)."""
    return _renderer().parse(text)


def problems(text: str) -> list[tuple[str, int]]:
    """(message, line offset within the text) for Markdown the kit cannot print faithfully.

    Raw HTML is not among them: the renderer prints it as the text it is (html=False), which is
    what an answer about HTML or XML needs.
    """
    found: list[tuple[str, int]] = []
    if "![" not in text:
        # Every image, inline or by reference, starts so: a text without it needs no parse
        # to be cleared (the handbook parses it when it prints it).
        return found
    for token in _tokens(text):
        line = token.map[0] if token.map else 0
        for child in token.children or ():
            if child.type == "image":
                found.append(("images are not supported in answers; describe the picture or "
                              "show it as code", line))
    return found


_BACKTICKS = re.compile(r"`([^`]+)`")


def inline_code(text: str) -> Markup:
    """Plain-text fields (summary, key points, pitfalls, follow-ups) with `backticks` as code.

    Authors quote code in them as they do in Markdown; printing the backticks would be noise.
    """
    return Markup(_BACKTICKS.sub(lambda m: f"<code>{m.group(1)}</code>", str(escape(text))))
