"""Figures: a question's drawings, written in Graphviz DOT and drawn in one house style.

Graphviz (`dot`, Debian package `graphviz`) turns each source into SVG for the handbook and into
a high-resolution PNG for the slides. What it makes is kept under the build's cache folder
(`.cache/figures/`), keyed by the styled source, the Graphviz version and the format, so an
unchanged figure is not drawn again; the house style is part of the styled source, so changing
it draws every figure again.

The house style lives here alone (STYLE, GRAPH_DEFAULTS): a source names what a node or an edge
*is* with `kind=...` (an object, a name, a frame, a thread, ...), and the kind is replaced by the
style's attributes before Graphviz reads the source. Attributes written after the kind win, so
a figure can still give a node a record shape or its own label.

A source Graphviz rejects is a content error naming the file, the figure and Graphviz's message,
at the line of the file the message points to when Graphviz gives one.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

from . import cache
from .errors import ContentError, Problem, RenderError
from .model import Figure, Kit, Question, Topic

# The slides' PNGs: a figure 6 inches wide is 1800 pixels, sharp when a projector enlarges it.
PNG_DPI = 300
TIMEOUT = 30

# ------------------------------------------------------------------ the house style

# The handbook's fonts: Noto Sans for labels, its code font for names and values.
FONT = "Noto Sans"
MONO = "DejaVu Sans Mono"
INK = "#1F2933"
MUTED = "#5B6577"
# Fills chosen by lightness, so each stays distinct in greyscale print: white (1.0), the
# object blue (about 0.89 grey), the highlight amber (about 0.78) and the thread orange (0.68).
OBJECT_FILL = "#D9E6F5"
ACCENT_FILL = "#F7C873"
THREAD_FILL = "#E8A15C"
OBJECT_LINE = "#2B4C6F"

GRAPH_DEFAULTS = {
    "graph": {"fontname": FONT, "fontsize": "11", "bgcolor": "transparent", "pad": "0.08",
              "nodesep": "0.3", "ranksep": "0.45", "fontcolor": INK},
    "node": {"fontname": FONT, "fontsize": "11", "color": INK, "fontcolor": INK,
             "penwidth": "1.1", "margin": "0.10,0.05", "height": "0.32", "shape": "box"},
    "edge": {"fontname": FONT, "fontsize": "10", "color": INK, "fontcolor": MUTED,
             "arrowsize": "0.7", "penwidth": "1.1"},
}

# kind -> attributes. Nodes: what a thing is; edges: what an arrow means.
STYLE = {
    # A Python object (a rounded, filled box); a record shape may be given after it.
    "object": {"shape": "box", "style": "rounded,filled", "fillcolor": OBJECT_FILL,
               "color": OBJECT_LINE},
    # The object the figure is about, or the one that changes.
    "accent": {"shape": "box", "style": "rounded,filled,bold", "fillcolor": ACCENT_FILL,
               "color": INK},
    # A name (a variable, an attribute, a key): plain code text, no box.
    "name": {"shape": "plaintext", "fontname": MONO, "fontsize": "11", "margin": "0.02"},
    # A frame or namespace (a function's frame, a module's globals, a scope): a tab folder.
    "frame": {"shape": "tab", "style": "filled", "fillcolor": "white", "color": INK,
              "penwidth": "1.4"},
    # A thread or process: an arrow-ended box in the darker fill.
    "thread": {"shape": "cds", "style": "filled", "fillcolor": THREAD_FILL, "color": INK},
    # A state of a state machine: an ellipse, white.
    "state": {"shape": "ellipse", "style": "filled", "fillcolor": "white", "color": INK},
    # A step of a process (a stage of a pipeline): a square white box.
    "step": {"shape": "box", "style": "filled", "fillcolor": "white", "color": INK},
    # A remark beside the drawing.
    "note": {"shape": "plaintext", "fontcolor": MUTED, "fontsize": "10"},
    # Edges: a reference (the default look), a weak or implicit one, a flow of control,
    # a step back (a return, an unwinding).
    "ref": {"style": "solid", "color": INK},
    "weak": {"style": "dashed", "color": MUTED},
    "flow": {"style": "bold", "color": INK, "penwidth": "1.8"},
    "back": {"style": "dotted", "color": INK, "penwidth": "1.4"},
}

_KIND = re.compile(r'\bkind\s*=\s*"?([A-Za-z_]\w*)"?')
_GRAPH_HEAD = re.compile(r"^\s*(?:strict\s+)?(?:di)?graph\b[^{]*\{", re.I)
_DOT_LINE = re.compile(r"\bline (\d+)\b")


class FigureError(Exception):
    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message, self.line = message, line


def _attrs(attrs: dict[str, str]) -> str:
    return ", ".join(f'{k}="{v}"' for k, v in attrs.items())


def styled(dot: str) -> str:
    """The source with the house style applied. Nothing is added on a line of its own, so the
    lines Graphviz names are the source's lines."""
    m = _GRAPH_HEAD.match(dot)
    if not m:
        raise FigureError("must start with 'digraph {' or 'graph {' (an optional name "
                          "before the brace)", 1)

    def kind(k: re.Match) -> str:
        style = STYLE.get(k.group(1))
        if style is None:
            line = dot.count("\n", 0, m.end() + k.start()) + 1
            raise FigureError(f"unknown kind {k.group(1)!r}; the house style has "
                              f"{', '.join(STYLE)}", line)
        return _attrs(style)

    defaults = " ".join(f"{what} [{_attrs(a)}];" for what, a in GRAPH_DEFAULTS.items())
    return dot[:m.end()] + " " + defaults + _KIND.sub(kind, dot[m.end():])


@lru_cache(maxsize=1)
def graphviz_version() -> str:
    exe = shutil.which("dot")
    if exe is None:
        raise RenderError("figures need Graphviz's `dot`, which is not installed; run "
                          "scripts/bootstrap.sh (Debian package graphviz)")
    done = subprocess.run([exe, "-V"], capture_output=True, text=True, timeout=TIMEOUT)
    return (done.stderr or done.stdout).strip()


def version_stamp(kit: Kit) -> str:
    """What of Graphviz shapes a kit's outputs (studykit/freshness.py): its version when a
    question has a figure, so upgrading Graphviz redraws them; nothing otherwise."""
    if not any(q.figures for q in kit.questions):
        return ""
    return graphviz_version() if available() else "no graphviz"


def _run_dot(source: str, fmt: str) -> bytes:
    """Graphviz's drawing of `source` in `fmt` ("svg" or "png"); FigureError with its message
    when it rejects the source."""
    args = ["dot", f"-T{fmt}"] + ([f"-Gdpi={PNG_DPI}"] if fmt == "png" else [])
    done = subprocess.run(args, input=source.encode("utf-8"), capture_output=True,
                          timeout=TIMEOUT)
    if done.returncode != 0 or not done.stdout:
        text = done.stderr.decode("utf-8", "replace")
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        errors = [ln for ln in lines if ln.startswith("Error:")] or lines or [
            f"dot exited with status {done.returncode}"]
        message = " ".join(errors[:1] + [ln for ln in lines if not ln.startswith(
            ("Error:", "Warning:"))][:3])
        message = message.replace("Error: <stdin>: ", "").replace("Error: ", "")
        m = _DOT_LINE.search(message)
        message = _DOT_LINE.sub(r"line \1 of the DOT source", message)
        raise FigureError("Graphviz rejects it: " + message, int(m.group(1)) if m and "syntax error" in message else None)
    return done.stdout


def cache_key(source: str, fmt: str) -> str:
    h = hashlib.sha256()
    for piece in (str(cache.FIGURES_FORMAT), graphviz_version(), fmt, str(PNG_DPI), styled(source)):
        h.update(piece.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:32]


def draw(source: str, fmt: str, cache_dir: Path | None) -> bytes:
    """The figure drawn in `fmt`, from the cache when it was drawn before."""
    from .cachefile import read_cache, write_cache

    folder = cache.path(cache_dir, "figures")
    path = folder / f"{cache_key(source, fmt)}.{fmt}" if folder else None
    if path is not None:
        kept = read_cache(path)
        if kept is not None:
            return kept
    data = _run_dot(styled(source), fmt)
    if path is not None:
        write_cache(path, data)
    return data


def available() -> bool:
    return shutil.which("dot") is not None


def problem(path: Path, fig: Figure, exc: FigureError) -> Problem:
    """A source Graphviz rejects, at the line of the file its message points to."""
    line = fig.dot_line + exc.line - 1 if exc.line and fig.dot_line else (fig.line or None)
    return Problem(path, line, f"figures[{fig.index}].dot",
                   f"figure {fig.index + 1} ({fig.caption!r}): {exc.message}")


# A build draws each format once for every renderer that asks: kit id -> (kit, drawings).
_drawn: dict[tuple[int, str], tuple[Kit, dict]] = {}


def drawings(kit: Kit, fmt: str, cache_dir: Path | None) -> dict[tuple[int, int], bytes]:
    """Every figure of the kit drawn in `fmt`, by (question number, figure index). Raises
    ContentError naming every figure Graphviz rejects, so one build shows all of them."""
    found = _drawn.get((id(kit), fmt))
    if found is not None and found[0] is kit:
        return found[1]
    todo = [(q, f) for q in kit.questions for f in q.figures]
    out: dict[tuple[int, int], bytes] = {}
    problems: list[Problem] = []
    if todo:
        graphviz_version()   # a missing Graphviz is one message, not one per figure

        def one(item):
            q, f = item
            try:
                return q, f, draw(f.dot, fmt, cache_dir), None
            except FigureError as exc:
                return q, f, None, exc

        with ThreadPoolExecutor(max_workers=2) as pool:
            for q, f, data, exc in pool.map(one, todo):
                if exc is not None:
                    problems.append(problem(q.path or Path(f"question {q.number}"), f, exc))
                else:
                    out[(q.number, f.index)] = data
    if problems:
        raise ContentError(problems)
    if len(_drawn) > 8:
        _drawn.clear()
    _drawn[(id(kit), fmt)] = (kit, out)
    return out


def numbers(topic: Topic) -> dict[tuple[int, int], str]:
    """'3.2' for each figure of a chapter, by (question number, figure index): the chapter's
    position, then the figure's place among the chapter's figures."""
    out, k = {}, 0
    for q in topic.questions:
        for f in q.figures:
            k += 1
            out[(q.number, f.index)] = f"{topic.position}.{k}"
    return out


def svg_size(svg: bytes) -> tuple[float, float]:
    """Width and height in points of Graphviz's SVG."""
    head = svg[:2000].decode("utf-8", "replace")
    w = re.search(r'<svg[^>]*\bwidth="([\d.]+)pt"', head, re.S)
    h = re.search(r'<svg[^>]*\bheight="([\d.]+)pt"', head, re.S)
    if not (w and h):
        raise RenderError("Graphviz's SVG gives no size in points")
    return float(w.group(1)), float(h.group(1))


def png_size(png: bytes) -> tuple[int, int]:
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise RenderError("Graphviz's PNG is not a PNG")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def split_answer(answer: str, figures: tuple[Figure, ...]) -> list[tuple[str, list[Figure]]]:
    """The answer's Markdown in pieces, each followed by the figures placed after it: a figure
    goes after the top-level block (paragraph, list, table, code) holding its `after` text,
    a figure without one after the whole answer."""
    from .markdown import parse

    lines = answer.split("\n")
    ends: dict[int, list[Figure]] = {}
    blocks = [t.map for t in parse(answer) if t.level == 0 and t.map and t.nesting >= 0]
    for fig in figures:
        end = len(lines)
        if fig.after:
            at = answer.count("\n", 0, answer.find(fig.after))
            end = next((b[1] for b in blocks if b[0] <= at < b[1]), len(lines))
        ends.setdefault(end, []).append(fig)
    pieces, start = [], 0
    for end in sorted(ends):
        pieces.append(("\n".join(lines[start:end]), ends[end]))
        start = end
    if start < len(lines) and "\n".join(lines[start:]).strip():
        pieces.append(("\n".join(lines[start:]), []))
    return pieces
