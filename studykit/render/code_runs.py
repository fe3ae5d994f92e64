"""Python code as coloured runs for the slides' dark code panel, and the width of a line of them."""

from __future__ import annotations

import functools

from pygments.token import Comment, Keyword, Name, Number, Operator, String, Token

from .deck_style import CODE_BG_TEXT, CODE_FONT
from .highlight import token_runs
from .pptx_text import text_width

# Token colours for the dark code panel: each at least 7:1 against it except comments (about
# 6:1, and italic), saturated enough to tell apart on a washed-out projector.
TOKEN_STYLES = [
    (Comment, ("9DA9BC", False, True)),
    (String.Doc, ("FFD479", False, True)),
    (String, ("FFD479", False, False)),
    (Number, ("F4A8FF", False, False)),
    (Keyword, ("FF9B6A", True, False)),
    (Operator.Word, ("FF9B6A", True, False)),
    (Name.Builtin.Pseudo, ("FF9B6A", False, False)),
    (Name.Builtin, ("7FD8FF", False, False)),
    (Name.Exception, ("FF8A9A", True, False)),
    (Name.Decorator, ("B8F28C", False, False)),
    (Name.Function, ("8CE99A", False, False)),
    (Name.Class, ("8CE99A", True, False)),
    (Token, (CODE_BG_TEXT, False, False)),
]


# Token types are singletons, and a deck colours some 2,000 tokens of a few dozen types; each
# lookup asks Pygments up to a dozen subtype questions.
@functools.lru_cache(maxsize=None)
def token_style(ttype) -> tuple[str, bool, bool]:
    for kind, style in TOKEN_STYLES:
        if ttype in kind:
            return style
    return (CODE_BG_TEXT, False, False)


Line = list[tuple[str, tuple[str, bool, bool]]]


def highlighted_lines(code: str) -> list[Line]:
    """The code as lines of (text, (colour, bold, italic)), coloured from Pygments tokens."""
    return token_runs(code.expandtabs(4), token_style)


def line_width(line: Line, size: float) -> float:
    return sum(text_width(text, size, CODE_FONT, b, i) for text, (_, b, i) in line)



def shown_lines(sample) -> list[Line]:
    """The lines of a sample its slide shows: all of them, or the ranges its `slide_lines`
    names, each gap replaced by one line marking what is left out."""
    lines = highlighted_lines(sample.code)
    if not sample.slide_lines:
        return lines
    shown: list[Line] = []
    mark = token_style(Comment)
    pos = 1
    for first, last in list(sample.slide_lines) + [(len(lines) + 1, len(lines))]:
        if first > pos:
            hidden = first - pos
            # Indented as the next line shown (or the last one hidden), so the mark sits in
            # the block it stands for.
            near = lines[first - 1] if first <= len(lines) else lines[first - 2]
            text = "".join(t for t, _ in near)
            indent = text[:len(text) - len(text.lstrip())]
            shown.append([(f"{indent}# … {hidden} line{'s' if hidden > 1 else ''} not shown",
                           mark)])
        shown.extend(lines[first - 1:last])
        pos = last + 1
    return shown
