"""Pygments highlighting shared by the printed outputs.

Lines are returned separately so templates can wrap long ones with a continuation mark and keep
their indentation. The print style stays readable in greyscale: comments are italic, keywords
bold, strings a dark colour, so they differ in weight and slant as well as hue.
"""

from __future__ import annotations

from functools import lru_cache

from markupsafe import Markup, escape
from pygments.lexers import PythonLexer
from pygments.style import Style
from pygments.token import (STANDARD_TYPES, Comment, Error, Keyword, Name, Number, Operator,
                            String, Token)


class PrintStyle(Style):
    name = "kit-print"
    background_color = "#f6f6f4"
    styles = {
        Token: "#1a1a1a",
        Comment: "italic #5f6368",
        Keyword: "bold #1f3f99",
        Keyword.Constant: "bold #1f3f99",
        Operator.Word: "bold #1f3f99",
        Name.Builtin: "#6a2c91",
        Name.Function: "#00606e",
        Name.Class: "bold #00606e",
        Name.Decorator: "#8a4b00",
        Name.Exception: "bold #8a1c1c",
        String: "#8a1c1c",
        String.Doc: "italic #8a1c1c",
        Number: "#7a4a00",
        Error: "#1a1a1a",
    }


def _css_class(ttype) -> str:
    while ttype not in STANDARD_TYPES:
        ttype = ttype.parent
    return STANDARD_TYPES[ttype]


@lru_cache(maxsize=None)
def _unstyled() -> frozenset[str]:
    """Token classes drawn exactly like the code around them. Every span is an inline box
    WeasyPrint lays out and draws on its own, which is most of the cost of a code block, so
    these get none."""
    plain = PrintStyle.style_for_token(Token)
    return frozenset(cls for ttype, cls in STANDARD_TYPES.items()
                     if PrintStyle.style_for_token(ttype) == plain)


def token_runs(code: str, style_of) -> list[list[tuple[str, object]]]:
    """Python code as lines of (text, style) runs, `style_of` giving a Pygments token type's
    style; neighbouring tokens of one style share a run (fewer runs, the same look). The
    handbook and the cards style with CSS classes, the slides with colours."""
    lexer = PythonLexer(stripnl=False, ensurenl=False)
    lines: list[list[tuple[str, object]]] = [[]]
    for ttype, value in lexer.get_tokens(code.rstrip("\n")):
        style = style_of(ttype)
        for i, part in enumerate(value.split("\n")):
            if i:
                lines.append([])
            if not part:
                continue
            runs = lines[-1]
            if runs and runs[-1][1] == style:
                runs[-1] = (runs[-1][0] + part, style)
            else:
                runs.append((part, style))
    return lines


def _css_class_shown(ttype) -> str:
    cls = _css_class(ttype)
    return "" if cls in _unstyled() else cls


@lru_cache(maxsize=4096)
def _lines(code: str) -> tuple[Markup, ...]:
    return tuple(Markup("").join(Markup('<span class="{}">{}</span>').format(cls, text)
                                 if cls else escape(text) for text, cls in runs)
                 for runs in token_runs(code, _css_class_shown))


def highlight_lines(code: str) -> list[Markup]:
    """One HTML fragment per source line, tokens wrapped in Pygments' short class names."""
    return list(_lines(code))


def style_css(scope: str) -> str:
    """CSS rules for the token classes under `scope` (for example '.code')."""
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(style=PrintStyle).get_style_defs(scope)
