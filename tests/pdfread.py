"""Reading a built PDF back in the tests, without PyMuPDF: pikepdf for the file's structure
(pages, links, outline, named destinations, fonts, metadata, content streams) and poppler-utils
for text (pdftotext) and pixels (pdftoppm).

Coordinates are points from the top left corner of the page's crop box, y growing downwards,
as a reader sees the page. What is read once is kept: open a document once per test and ask it
everything.

- `Document(path or bytes)`: `len(doc)`, `doc[i]`, iteration; `toc()`, `names()`, `metadata`,
  `lang`, `font_program(font)`.
- `Page`: `rect`, `text()` (pdftotext, the order the page draws its text in), `words()`
  (pdftotext's word boxes), `textbox(rect)`, `links()`, `fonts()`, `lines()` (text lines from
  the content streams: each glyph's box, font, size and colour; a wide gap on a baseline
  starts a new line), `drawings()` (filled and
  stroked paths, CTM tracked through q/Q/cm and form XObjects), `pixels(dpi)` (pdftoppm RGB).
"""

from __future__ import annotations

import math
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Iterator

import pikepdf


# ------------------------------------------------------------------ geometry

def _tile_offsets(c0: float, c1: float, lo: float, hi: float, step: float,
                  eps: float = 1e-3) -> Iterator[float]:
    """The multiples of `step` by which a pattern cell spanning [c0, c1] on one axis, shifted,
    overlaps (lo, hi): at most 1000 of them."""
    first = math.floor((lo - c1) / step)
    for k in range(first, first + 1000):
        d = k * step
        if c0 + d >= hi - eps:
            return
        if c1 + d > lo + eps:
            yield d


@dataclass(frozen=True)
class Rect:
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def is_empty(self) -> bool:
        return self.x0 >= self.x1 or self.y0 >= self.y1

    def __iter__(self):
        return iter((self.x0, self.y0, self.x1, self.y1))

    def __or__(self, other: Rect) -> Rect:
        return Rect(min(self.x0, other.x0), min(self.y0, other.y0),
                    max(self.x1, other.x1), max(self.y1, other.y1))

    def contains(self, other: Rect) -> bool:
        return (self.x0 <= other.x0 and self.y0 <= other.y0
                and other.x1 <= self.x1 and other.y1 <= self.y1)

    def intersects(self, other: Rect) -> bool:
        """True when the two share some area (PyMuPDF's meaning, for non-empty rects)."""
        return (max(self.x0, other.x0) < min(self.x1, other.x1)
                and max(self.y0, other.y0) < min(self.y1, other.y1))

    def rounded(self, digits: int = 0) -> tuple:
        return tuple(round(v, digits) for v in self)


def _bounds(points) -> Rect:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return Rect(min(xs), min(ys), max(xs), max(ys))


def _mul(m, n):
    """m then n: the matrix product m x n of two PDF matrices (a b c d e f)."""
    a, b, c, d, e, f = m
    A, B, C, D, E, F = n
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D,
            e * A + f * C + E, e * B + f * D + F)


def _inverse(m):
    a, b, c, d, e, f = m
    det = a * d - b * c
    return (d / det, -b / det, -c / det, a / det, (c * f - d * e) / det, (b * e - a * f) / det)


def _apply(m, x, y):
    return (m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5])


# ------------------------------------------------------------------ what a page holds

@dataclass(frozen=True, order=True)
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def rect(self) -> Rect:
        return Rect(self.x0, self.y0, self.x1, self.y1)


@dataclass(frozen=True)
class Char:
    c: str
    bbox: Rect
    origin: tuple[float, float]
    font: str        # the base font without its subset prefix, e.g. "Noto-Serif-Bold"
    size: float      # as printed, in points
    color: tuple     # fill colour, RGB in 0..1 (None for a pattern)
    glyph: int       # the code drawn (the CID of a composite font)


@dataclass
class Span:
    font: str
    size: float
    color: tuple
    chars: list[Char] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(c.c for c in self.chars)


@dataclass
class Line:
    """Glyphs on one baseline without a wide gap between them (a column's line: a margin note
    level with it is a line of its own)."""
    chars: list[Char]
    spans: list[Span]

    @property
    def text(self) -> str:
        return "".join(c.c for c in self.chars)

    @property
    def bbox(self) -> Rect:
        box = self.chars[0].bbox
        for c in self.chars[1:]:
            box = box | c.bbox
        return box

    @property
    def fonts(self) -> set[str]:
        return {s.font for s in self.spans}

    @property
    def size(self) -> float:
        return max(s.size for s in self.spans)


@dataclass(frozen=True)
class Drawing:
    """A painted path: kind "f" (filled), "s" (stroked) or "fs"; its bounding box (of the
    path's points, not widened by the line width); its dash array when stroked dashed; the
    path operators that built it ("re", "m", "l", "c", ...)."""
    kind: str
    rect: Rect
    dashes: tuple
    ops: tuple
    line_width: float

    @property
    def dashed(self) -> bool:
        return "s" in self.kind and any(self.dashes)


@dataclass(frozen=True)
class Link:
    rect: Rect
    uri: str | None = None
    name: str | None = None        # a named destination
    page: int | None = None        # the 0-based page it lands on, None when it goes nowhere

    @property
    def kind(self) -> str:
        return "uri" if self.uri is not None else "named" if self.name is not None else "goto"


@dataclass(frozen=True)
class Font:
    key: str           # the resource name the page uses
    basefont: str      # as in the file, with its subset prefix
    subtype: str       # Type0, TrueType, Type1, ...
    program: object    # the embedded font file's stream (pikepdf), None when not embedded

    @property
    def name(self) -> str:
        return self.basefont.split("+", 1)[-1]

    @property
    def embedded(self) -> bool:
        return self.program is not None


# ------------------------------------------------------------------ fonts in content streams

_CMAP_RANGE = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]*>|\[[^\]]*\])")
_CMAP_CHAR = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>")


def _utf16(hexstr: bytes) -> str:
    return bytes.fromhex(hexstr.decode()).decode("utf-16-be", "replace")


def _to_unicode(stream) -> dict[int, str]:
    data = stream.read_bytes()
    out: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for src, dst in _CMAP_CHAR.findall(block):
            out[int(src, 16)] = _utf16(dst)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for lo, hi, dst in _CMAP_RANGE.findall(block):
            lo, hi = int(lo, 16), int(hi, 16)
            if dst.startswith(b"["):
                for code, item in zip(range(lo, hi + 1), re.findall(rb"<([0-9A-Fa-f]*)>", dst)):
                    out[code] = _utf16(item)
            else:
                raw = bytearray(bytes.fromhex(dst[1:-1].decode()))
                for code in range(lo, hi + 1):
                    out[code] = bytes(raw).decode("utf-16-be", "replace")
                    raw[-1] = (raw[-1] + 1) & 0xFF   # ranges never cross a last byte
    return out


class _FontInfo:
    """What drawing text with one font needs: how to split a string into codes, each code's
    advance (thousandths of the size) and text, and the font's ascent and descent."""

    def __init__(self, font: pikepdf.Dictionary):
        self.basefont = str(font.get("/BaseFont", "/?"))[1:]
        self.name = self.basefont.split("+", 1)[-1]
        self.composite = font.get("/Subtype") == "/Type0"
        self.widths: dict[int, float] = {}
        self.default_width = 0.0
        descriptor = None
        if self.composite:
            cid = font.DescendantFonts[0]
            descriptor = cid.get("/FontDescriptor")
            self.default_width = float(cid.get("/DW", 1000))
            w = list(cid.get("/W", []))
            i = 0
            while i < len(w):
                first = int(w[i])
                if isinstance(w[i + 1], pikepdf.Array):
                    for k, v in enumerate(w[i + 1]):
                        self.widths[first + k] = float(v)
                    i += 2
                else:
                    for code in range(first, int(w[i + 1]) + 1):
                        self.widths[code] = float(w[i + 2])
                    i += 3
        else:
            descriptor = font.get("/FontDescriptor")
            first = int(font.get("/FirstChar", 0))
            for k, v in enumerate(font.get("/Widths", [])):
                self.widths[first + k] = float(v)
            if descriptor is not None:
                self.default_width = float(descriptor.get("/MissingWidth", 0))
        self.ascent = float(descriptor.get("/Ascent", 800)) if descriptor is not None else 800.0
        self.descent = float(descriptor.get("/Descent", -200)) if descriptor is not None else -200.0
        if self.ascent <= self.descent:
            self.ascent, self.descent = 800.0, -200.0
        self.unicode = _to_unicode(font.ToUnicode) if "/ToUnicode" in font else {}

    def codes(self, data: bytes) -> list[int]:
        if self.composite:
            return [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data) - 1, 2)]
        return list(data)

    def text(self, code: int) -> str:
        if code in self.unicode:
            return self.unicode[code]
        return "" if self.composite else bytes([code]).decode("latin-1")

    def width(self, code: int) -> float:
        return self.widths.get(code, self.default_width)


def _rgb(space: str, values: list[float]):
    if space == "gray" or len(values) == 1:
        return (values[0],) * 3
    if len(values) == 3:
        return tuple(values)
    if len(values) == 4:
        c, m, y, k = values
        return ((1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k))
    return None


class _State:
    __slots__ = ("ctm", "fill", "stroke", "line_width", "dashes", "fill_space", "stroke_space",
                 "font", "size", "char_space", "word_space", "scale", "leading", "rise")

    def __init__(self, ctm):
        self.ctm = ctm
        self.fill = self.stroke = (0.0, 0.0, 0.0)
        self.fill_space = self.stroke_space = "gray"
        self.line_width = 1.0
        self.dashes: tuple = ()
        self.font: _FontInfo | None = None
        self.size = 0.0
        self.char_space = self.word_space = self.rise = self.leading = 0.0
        self.scale = 1.0

    def copy(self) -> _State:
        new = _State.__new__(_State)
        for name in _State.__slots__:
            setattr(new, name, getattr(self, name))
        return new


_PATH_OPS = {"m", "l", "c", "v", "y", "h", "re"}
_PAINT = {"S": "s", "s": "s", "f": "f", "F": "f", "f*": "f", "B": "fs", "B*": "fs",
          "b": "fs", "b*": "fs", "n": None}


class _Interpreter:
    """Runs a page's content streams (and the form XObjects they draw) for the glyphs and the
    paths painted; images, shadings and clipping are passed over."""

    def __init__(self, pdf_fonts: dict, page_matrix):
        self.fonts = pdf_fonts      # shared per document: (objgen) -> _FontInfo
        self.chars: list[Char] = []
        self.drawings: list[Drawing] = []
        self.page_matrix = page_matrix

    def _font(self, resources, name) -> _FontInfo | None:
        fonts = resources.get("/Font") if resources is not None else None
        if fonts is None or name not in fonts:
            return None
        obj = fonts[name]
        key = obj.objgen if obj.is_indirect else id(obj)
        if key not in self.fonts:
            self.fonts[key] = _FontInfo(obj)
        return self.fonts[key]

    def _pattern(self, resources, name, base, area: Rect, depth) -> None:
        patterns = resources.get("/Pattern") if resources is not None else None
        if patterns is None or name not in patterns:
            return
        pattern = patterns[name]
        if pattern.get("/PatternType") != 1:
            return      # a shading: no path of its own
        matrix = _mul(tuple(float(v) for v in pattern.get("/Matrix", (1, 0, 0, 1, 0, 0))), base)
        # The filled area in the pattern's space, and the cells that meet it.
        inverse = _inverse(matrix)
        box = _bounds([_apply(inverse, x, y) for x in (area.x0, area.x1)
                       for y in (area.y0, area.y1)])
        cell = [float(v) for v in pattern.BBox]
        xstep, ystep = abs(float(pattern.XStep)), abs(float(pattern.YStep))
        for x in _tile_offsets(cell[0], cell[2], box.x0, box.x1, xstep):
            for y in _tile_offsets(cell[1], cell[3], box.y0, box.y1, ystep):
                inner = _State(_mul((1, 0, 0, 1, x, y), matrix))
                self.run(pattern, pattern.get("/Resources"), inner, depth + 1)

    def run(self, owner, resources, state: _State, depth: int = 0) -> None:
        if depth > 12:
            return
        base = state.ctm     # where the patterns of these resources are placed
        stack: list[_State] = []
        path: list[tuple] = []      # ("op", points in device space)
        current = None
        start = None
        tm = tlm = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
        for instruction in pikepdf.parse_content_stream(owner):
            if isinstance(instruction, pikepdf.ContentStreamInlineImage):
                continue
            operands, op = instruction.operands, str(instruction.operator)
            if op in _PATH_OPS:
                nums = [float(v) for v in operands]
                m = state.ctm
                if op == "re":
                    x, y, w, h = nums
                    pts = [_apply(m, x, y), _apply(m, x + w, y), _apply(m, x + w, y + h),
                           _apply(m, x, y + h)]
                    path.append(("re", pts))
                    current = start = pts[0]
                elif op == "m":
                    current = start = _apply(m, *nums)
                    if path and path[-1][0] == "m":
                        path.pop()     # a move followed by another draws nothing
                    path.append(("m", [current]))
                elif op == "l":
                    pts = [current, _apply(m, *nums)] if current else [_apply(m, *nums)]
                    path.append(("l", pts))
                    current = pts[-1]
                elif op in ("c", "v", "y"):
                    pts = [_apply(m, nums[i], nums[i + 1]) for i in range(0, len(nums), 2)]
                    # The curve's bounding box lies within its control points' box; the box
                    # of the curve itself is what is drawn, close enough for the tests here.
                    path.append(("c", ([current] if current else []) + pts))
                    current = pts[-1]
                elif op == "h":
                    current = start
            elif op in _PAINT:
                kind = _PAINT[op]
                if path and path[-1][0] == "m":
                    path.pop()
                if kind and "f" in kind and isinstance(state.fill, pikepdf.Name):
                    # A tiling pattern (WeasyPrint draws SVG images so): the paths of each of
                    # its cells the filled area meets, instead of the area.
                    area = [p for _, pts in path for p in pts if p is not None]
                    if area:
                        self._pattern(resources, state.fill, base, _bounds(area), depth)
                    kind = kind.replace("f", "") or None
                if kind and path:
                    points = [p for _, pts in path for p in pts if p is not None]
                    if points:
                        scale = math.sqrt(abs(state.ctm[0] * state.ctm[3]
                                              - state.ctm[1] * state.ctm[2]))
                        self.drawings.append(Drawing(
                            kind, _bounds([_apply(self.page_matrix, *p) for p in points]),
                            state.dashes if "s" in kind else (),
                            tuple(o for o, _ in path if o != "m"),
                            state.line_width * scale))
                path, current = [], None
            elif op in ("W", "W*"):
                pass      # the clip is set by the painting operator that follows (n)
            elif op == "q":
                stack.append(state.copy())
            elif op == "Q":
                if stack:
                    state = stack.pop()
            elif op == "cm":
                state.ctm = _mul(tuple(float(v) for v in operands), state.ctm)
            elif op == "w":
                state.line_width = float(operands[0])
            elif op == "d":
                state.dashes = tuple(float(v) for v in operands[0])
            elif op in ("rg", "RG", "g", "G", "k", "K"):
                values = [float(v) for v in operands]
                space = {"g": "gray", "G": "gray", "rg": "rgb", "RG": "rgb"}.get(op, "cmyk")
                if op.islower():
                    state.fill, state.fill_space = _rgb(space, values), space
                else:
                    state.stroke, state.stroke_space = _rgb(space, values), space
            elif op in ("cs", "CS"):
                name = str(operands[0])
                space = {"/DeviceGray": "gray", "/DeviceRGB": "rgb",
                         "/DeviceCMYK": "cmyk"}.get(name, name)
                if op == "cs":
                    state.fill_space = space
                else:
                    state.stroke_space = space
            elif op in ("sc", "scn", "SC", "SCN"):
                values = [float(v) for v in operands if not isinstance(v, pikepdf.Name)]
                names = [v for v in operands if isinstance(v, pikepdf.Name)]
                colour = names[0] if names else _rgb("", values) if values else None
                if op.islower():
                    state.fill = colour
                else:
                    state.stroke = colour
            elif op == "BT":
                tm = tlm = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
            elif op == "Tf":
                state.font = self._font(resources, operands[0])
                state.size = float(operands[1])
            elif op == "Tc":
                state.char_space = float(operands[0])
            elif op == "Tw":
                state.word_space = float(operands[0])
            elif op == "Tz":
                state.scale = float(operands[0]) / 100
            elif op == "TL":
                state.leading = float(operands[0])
            elif op == "Ts":
                state.rise = float(operands[0])
            elif op in ("Td", "TD"):
                tx, ty = float(operands[0]), float(operands[1])
                if op == "TD":
                    state.leading = -ty
                tm = tlm = _mul((1, 0, 0, 1, tx, ty), tlm)
            elif op == "Tm":
                tm = tlm = tuple(float(v) for v in operands)
            elif op == "T*":
                tm = tlm = _mul((1, 0, 0, 1, 0, -state.leading), tlm)
            elif op in ("Tj", "'", '"', "TJ"):
                if op in ("'", '"'):
                    if op == '"':
                        state.word_space, state.char_space = float(operands[0]), float(operands[1])
                    tm = tlm = _mul((1, 0, 0, 1, 0, -state.leading), tlm)
                items = operands[0] if op == "TJ" else [operands[-1]]
                tm = self._show(items, tm, state)
            elif op == "Do":
                xobjects = resources.get("/XObject") if resources is not None else None
                if xobjects is None or operands[0] not in xobjects:
                    continue
                xobject = xobjects[operands[0]]
                if xobject.get("/Subtype") != "/Form":
                    continue
                inner = state.copy()
                matrix = tuple(float(v) for v in xobject.get("/Matrix", [1, 0, 0, 1, 0, 0]))
                inner.ctm = _mul(matrix, state.ctm)
                self.run(xobject, xobject.get("/Resources", resources), inner, depth + 1)

    def _show(self, items, tm, state: _State):
        font = state.font
        if font is None:
            return tm
        size, scale = state.size, state.scale
        for item in items:
            if not isinstance(item, (pikepdf.String, bytes)):
                tm = _mul((1, 0, 0, 1, -float(item) / 1000 * size * scale, 0), tm)
                continue
            data = bytes(item)
            for code in font.codes(data):
                advance = font.width(code) / 1000
                trm = _mul(_mul((size * scale, 0, 0, size, 0, state.rise), tm), state.ctm)
                device = _mul(trm, self.page_matrix)
                text = font.text(code)
                corners = [_apply(device, x, y) for x in (0, advance)
                           for y in (font.descent / 1000, font.ascent / 1000)]
                box = _bounds(corners)
                printed = math.hypot(device[2], device[3])
                origin = _apply(device, 0, 0)
                for n, ch in enumerate(text or ""):
                    part = box
                    if len(text) > 1:   # a ligature: its box shared out
                        w = box.width / len(text)
                        part = Rect(box.x0 + n * w, box.y0, box.x0 + (n + 1) * w, box.y1)
                    self.chars.append(Char(ch, part, origin, font.name, printed, state.fill,
                                           code))
                tx = advance * size + state.char_space
                if not font.composite and code == 32:
                    tx += state.word_space
                tm = _mul((1, 0, 0, 1, tx * scale, 0), tm)
        return tm


def _lines(chars: list[Char]) -> list[Line]:
    """Glyphs grouped into lines: by baseline, then left to right, split where a gap wider than
    the text's size separates them. Lines come top to bottom, then left to right."""
    rows: list[list[Char]] = []
    for ch in sorted(chars, key=lambda c: (round(c.origin[1], 1), c.bbox.x0)):
        if rows and abs(rows[-1][0].origin[1] - ch.origin[1]) < 1.0:
            rows[-1].append(ch)
        else:
            rows.append([ch])
    lines: list[Line] = []
    for row in rows:
        row.sort(key=lambda c: c.bbox.x0)
        current = [row[0]]
        for ch in row[1:]:
            # As MuPDF reads text: a gap wider than 0.8 of the size starts a new line, one
            # wider than 0.15 of it is a space (text laid out in runs often draws none).
            gap = ch.bbox.x0 - current[-1].bbox.x1
            if gap > 0.8 * ch.size:
                lines.append(_line(current))
                current = [ch]
                continue
            if gap > 0.15 * ch.size and not (ch.c.isspace() or current[-1].c.isspace()):
                prev = current[-1]
                current.append(Char(" ", Rect(prev.bbox.x1, prev.bbox.y0, ch.bbox.x0,
                                              prev.bbox.y1), (prev.bbox.x1, prev.origin[1]),
                                    prev.font, prev.size, prev.color, -1))
            current.append(ch)
        lines.append(_line(current))
    return lines


def _line(chars: list[Char]) -> Line:
    spans: list[Span] = []
    for ch in chars:
        if spans and (spans[-1].font, spans[-1].size, spans[-1].color) == (ch.font, ch.size,
                                                                            ch.color):
            spans[-1].chars.append(ch)
        else:
            spans.append(Span(ch.font, ch.size, ch.color, [ch]))
    return Line(chars, spans)


# ------------------------------------------------------------------ the document

def _run(args: list[str]) -> bytes:
    return subprocess.run(args, check=True, capture_output=True, timeout=300).stdout


_WORD = re.compile(r'<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" '
                   r'yMax="([-\d.]+)">(.*?)</word>')


def _unescape(s: str) -> str:
    return (s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&amp;", "&"))


class Document:
    def __init__(self, source: Path | str | bytes):
        self._tmp = None
        if isinstance(source, (bytes, bytearray)):
            self._tmp = tempfile.NamedTemporaryFile(prefix="pdfread-", suffix=".pdf")
            self._tmp.write(source)
            self._tmp.flush()
            source = self._tmp.name
        self.path = Path(source)
        self.name = str(self.path)
        self.pdf = pikepdf.open(self.path)
        self._fonts: dict = {}
        self._pixels: dict[int, list[bytes]] = {}
        self.pages = [Page(self, i, p) for i, p in enumerate(self.pdf.pages)]

    def close(self) -> None:
        self.pdf.close()
        if self._tmp is not None:
            self._tmp.close()

    def __enter__(self) -> Document:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __len__(self) -> int:
        return len(self.pages)

    page_count = property(__len__)

    def __iter__(self) -> Iterator[Page]:
        return iter(self.pages)

    def __getitem__(self, i):
        return self.pages[i]

    # -- poppler, once per document

    @cached_property
    def _texts(self) -> list[str]:
        # -raw: the order the page draws its text in (as PyMuPDF's get_text() read it), which
        # keeps a word set in two fonts or sizes (small capitals) one word.
        out = _run(["pdftotext", "-raw", "-enc", "UTF-8", str(self.path), "-"]).decode()
        pages = out.split("\f")
        return pages[:len(self.pages)]

    @cached_property
    def _words(self) -> list[list[Word]]:
        out = _run(["pdftotext", "-bbox", "-enc", "UTF-8", str(self.path), "-"]).decode()
        pages = out.split("<page ")[1:]
        return [[Word(_unescape(m[5]), float(m[1]), float(m[2]), float(m[3]), float(m[4]))
                 for m in _WORD.finditer(page)] for page in pages]

    def pixels(self, index: int, dpi: int) -> bytes:
        """The page rendered by pdftoppm at `dpi`: width, height and RGB bytes (a PPM's)."""
        if dpi not in self._pixels:
            with tempfile.TemporaryDirectory(prefix="pdfread-") as folder:
                _run(["pdftoppm", "-r", str(dpi), str(self.path), f"{folder}/p"])
                files = sorted(Path(folder).glob("p-*.ppm"), key=lambda p: int(p.stem[2:]))
                self._pixels[dpi] = [f.read_bytes() for f in files]
        return self._pixels[dpi][index]

    # -- structure, through pikepdf

    @cached_property
    def _page_index(self) -> dict:
        return {p.obj.objgen: i for i, p in enumerate(self.pdf.pages)}

    def _dest_page(self, dest) -> int | None:
        if isinstance(dest, (pikepdf.String, pikepdf.Name, str, bytes)):
            key = str(dest)[1:] if isinstance(dest, pikepdf.Name) else str(dest)
            return self.names().get(key)
        if isinstance(dest, pikepdf.Dictionary) and "/D" in dest:
            return self._dest_page(dest.D)
        if isinstance(dest, pikepdf.Array) and len(dest):
            target = dest[0]
            if isinstance(target, int):
                return int(target)
            return self._page_index.get(target.objgen)
        return None

    def names(self) -> dict[str, int | None]:
        """Named destinations -> the 0-based page each lands on."""
        if not hasattr(self, "_names"):
            found: dict[str, object] = {}
            root = self.pdf.Root
            if "/Names" in root and "/Dests" in root.Names:
                tree = pikepdf.NameTree(root.Names.Dests)
                for key in tree.keys():
                    found[key] = tree[key]
            if "/Dests" in root:
                for key, value in root.Dests.items():
                    found[key[1:]] = value
            self._names: dict[str, int | None] = {}
            for key, value in found.items():
                if isinstance(value, pikepdf.Dictionary):
                    value = value.get("/D")
                self._names[key] = self._dest_page(value) if isinstance(value, pikepdf.Array) \
                    else None
        return self._names

    def toc(self) -> list[tuple[int, str, int]]:
        """The outline: (level from 1, title, 1-based page number or -1), in order."""
        out = []
        with self.pdf.open_outline() as outline:
            def walk(items, level):
                for item in items:
                    dest = item.destination
                    if dest is None and item.action is not None:
                        dest = item.action.get("/D")
                    page = self._dest_page(dest) if dest is not None else None
                    out.append((level, item.title, page + 1 if page is not None else -1))
                    walk(item.children, level + 1)
            walk(outline.root, 1)
        return out

    @cached_property
    def metadata(self) -> dict[str, str]:
        return {str(k)[1:].lower(): str(v) for k, v in self.pdf.docinfo.items()}

    @cached_property
    def lang(self) -> str | None:
        lang = self.pdf.Root.get("/Lang")
        return None if lang is None else str(lang)

    @staticmethod
    def font_program(font: Font) -> bytes:
        return font.program.read_bytes()


class Page:
    def __init__(self, doc: Document, index: int, page: pikepdf.Page):
        self.doc, self.number, self.page = doc, index, page
        box = [float(v) for v in (page.obj.get("/CropBox") or page.MediaBox)]
        self._box = (min(box[0], box[2]), min(box[1], box[3]),
                     max(box[0], box[2]), max(box[1], box[3]))
        if int(page.obj.get("/Rotate", 0)) % 360:
            raise NotImplementedError("rotated pages are not read here")
        self.rect = Rect(0.0, 0.0, self._box[2] - self._box[0], self._box[3] - self._box[1])
        # PDF user space to the page seen from its top left corner.
        self._matrix = (1.0, 0.0, 0.0, -1.0, -self._box[0], self._box[3])

    @property
    def width(self) -> float:
        return self.rect.width

    @property
    def height(self) -> float:
        return self.rect.height

    def text(self) -> str:
        return self.doc._texts[self.number]

    def words(self) -> list[Word]:
        return self.doc._words[self.number]

    def textbox(self, rect: Rect) -> str:
        """The words whose middle lies in `rect`, in reading order (top to bottom, then left
        to right)."""
        inside = [w for w in self.words()
                  if rect.x0 <= (w.x0 + w.x1) / 2 <= rect.x1
                  and rect.y0 <= (w.y0 + w.y1) / 2 <= rect.y1]
        inside.sort(key=lambda w: (round(w.y1), w.x0))
        return " ".join(w.text for w in inside)

    def pixels(self, dpi: int) -> bytes:
        return self.doc.pixels(self.number, dpi)

    def links(self) -> list[Link]:
        out = []
        height = self._box[3]
        for annot in self.page.obj.get("/Annots", []):
            if annot.get("/Subtype") != "/Link":
                continue
            x0, y0, x1, y1 = (float(v) for v in annot.Rect)
            rect = Rect(min(x0, x1) - self._box[0], height - max(y0, y1),
                        max(x0, x1) - self._box[0], height - min(y0, y1))
            action = annot.get("/A")
            dest = annot.get("/Dest")
            if action is not None and action.get("/S") == "/URI":
                out.append(Link(rect, uri=str(action.URI)))
                continue
            if action is not None and action.get("/S") == "/GoTo":
                dest = action.get("/D")
            if dest is None:
                continue
            name = None
            if isinstance(dest, (pikepdf.String, pikepdf.Name)):
                name = str(dest)[1:] if isinstance(dest, pikepdf.Name) else str(dest)
            out.append(Link(rect, name=name, page=self.doc._dest_page(dest)))
        return out

    def fonts(self) -> list[Font]:
        """The fonts the page's resources hold, and those of the form XObjects it draws."""
        found: dict = {}

        def collect(resources, depth=0):
            if resources is None or depth > 12:
                return
            for key, font in resources.get("/Font", {}).items():
                descriptor = font.get("/FontDescriptor")
                if font.get("/Subtype") == "/Type0":
                    descriptor = font.DescendantFonts[0].get("/FontDescriptor")
                program = None
                if descriptor is not None:
                    program = next((descriptor[k] for k in ("/FontFile", "/FontFile2",
                                                            "/FontFile3") if k in descriptor),
                                   None)
                ident = font.objgen if font.is_indirect else (depth, key)
                found.setdefault(ident, Font(key, str(font.get("/BaseFont", "/?"))[1:],
                                             str(font.get("/Subtype"))[1:], program))
            for xobject in resources.get("/XObject", {}).values():
                if xobject.get("/Subtype") == "/Form":
                    collect(xobject.get("/Resources"), depth + 1)

        collect(self.page.obj.get("/Resources"))
        return list(found.values())

    @cached_property
    def _interpreted(self) -> _Interpreter:
        run = _Interpreter(self.doc._fonts, self._matrix)
        run.run(self.page, self.page.obj.get("/Resources"), _State((1, 0, 0, 1, 0, 0)))
        return run

    def chars(self) -> list[Char]:
        return self._interpreted.chars

    @cached_property
    def _lines(self) -> list[Line]:
        return _lines(self.chars()) if self.chars() else []

    def lines(self) -> list[Line]:
        return self._lines

    def drawings(self) -> list[Drawing]:
        return self._interpreted.drawings
