"""A long PDF laid out in independent parts and joined, with page numbers stamped afterwards.

WeasyPrint lays out a few pages a second on one core. A book whose parts each start on a new page
can be laid out part by part, in parallel processes, and a part whose HTML did not change can be
taken from the cache. What joins the parts is page numbers: a part does not know on which page of
the book it starts. So no part prints a page number. Each marks the spot with a hidden stand-in
(an element of class `pgref`, or a hidden `@bottom-center` margin box for the page's own number),
and the joiner stamps the real numbers there, in the stand-in's font, size and colour. Links and
bookmarks are recorded per part and rebuilt on the joined book, where every anchor is known.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import pickle
import re
import subprocess
import time
import zlib
from decimal import Decimal
from html import unescape
from collections.abc import Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..cache import PART_FORMAT, RESUME_FORMAT
from ..cachefile import read_cache, read_cache_json, write_cache, write_cache_json
from ..errors import RenderError
from ..output import write_output
from ..workers import gc_paused, run_pieces
from .base import internals_failed

# CSS pixels to PDF points.
PT = 0.75
STAND_IN_CLASS = "pgref"


@dataclass
class PartLayout:
    """One laid-out part: its PDF, and where its anchors, links, bookmarks and stand-ins are.

    Positions are in PDF points from the top left of the part's page `page` (0-based)."""

    pdf: bytes
    pages: int
    anchors: dict        # name -> [page, x, y]
    links: list          # [page, "internal" | "external", target, x0, y0, x1, y1]
    bookmarks: list      # [page, level, label, x, y]
    stamps: list         # see _stand_ins
    # What the part's own kind of layout reports (plain data, kept with it in the cache).
    notes: list = field(default_factory=list)
    # Why the part could not be laid out; such a part has no PDF and is not kept.
    problems: list = field(default_factory=list)
    cached: bool = False
    key: str = ""        # in the cache of parts
    # Why the part was laid out through WeasyPrint's public API alone ("": it was not).
    slower: str = ""
    # [page, ref] for page references whose stand-in was not found (see join).
    missing: list = field(default_factory=list)
    # What a later layout of an edited part needs to start part-way (None: it cannot).
    pagination: Pagination | None = None
    # The page this layout started at, and the first after it that is the earlier layout's
    # again (0: none); the other pages came from an earlier layout.
    resumed_from: int = 0
    rejoined_at: int = 0

    def record(self) -> dict:
        return {"format": PART_FORMAT, "pages": self.pages, "anchors": self.anchors,
                "links": self.links, "bookmarks": self.bookmarks, "stamps": self.stamps,
                "notes": self.notes}


def pikepdf():
    """pikepdf, imported when first needed (a worker that only lays out never needs it)."""
    import pikepdf as module

    return module


# ------------------------------------------------------------------ laying out one part

@lru_cache(maxsize=8)
def _stylesheet(text: str, base_url: str):
    from weasyprint import CSS

    return CSS(string=text, base_url=base_url)


def _split_style(html: str, base_url: str) -> tuple[str, list]:
    """The page without its style sheet, and the sheet parsed (once per process).

    Every part of a book, and every measuring document, carries the same style sheet, and
    parsing it cost a twentieth of a second each time. The sheet is taken out of the page and
    given as a user style sheet: that changes nothing here, since nothing is !important and
    style attributes outrank both origins alike."""
    head, found, rest = html.partition("<style>")
    css, closed, tail = rest.partition("</style>")
    if not found or not closed or "<style" in tail:
        return html, []
    return head + tail, [_stylesheet(css, base_url)]


def render_html(html: str, base_url: str):
    """`html` laid out by WeasyPrint, its style sheet parsed once per process."""
    from weasyprint import HTML

    page, stylesheets = _split_style(html, base_url)
    return HTML(string=page, base_url=base_url).render(stylesheets=stylesheets)


@lru_cache(maxsize=None)
def font_file(families: tuple[str, ...], bold: bool, italic: bool) -> str:
    """The file fontconfig picks for a CSS font, as WeasyPrint (through Pango) would."""
    pattern = ",".join(families) + f":weight={200 if bold else 80}:slant={100 if italic else 0}"
    try:
        path = subprocess.run(["fc-match", "-f", "%{file}", pattern], capture_output=True,
                              text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        path = ""
    if not path or not os.path.exists(path):
        raise RenderError(f"no font file found for {pattern!r} (is fontconfig installed?)")
    return path


@dataclass
class Resume:
    """An earlier layout of a part, to start from at page `seed.start`: the pages before it
    are its pages, with their anchors, links, bookmarks and stand-ins (its PDF's first pages
    are put before the new ones in the main process; see lay_out)."""

    seed: Seed
    record: dict


@gc_paused()
def layout_part(html: str, base_url: str, resume: Resume | None = None) -> PartLayout:
    """Lay out one part (run in a worker process: everything returned is plain data), from
    `resume`'s page on if given: the PDF then holds only the pages laid out (see Seed).

    WeasyPrint's internals are used only on a version they were tested with; on another, or
    when they fail, the part is laid out through its public API alone (twice: once more to
    find the stand-ins), and the part says why in `slower`."""
    from . import weasy_internals

    slower = weasy_internals.unusable()
    if not slower:
        try:
            return _layout_part(html, base_url, resume, fast=True)
        except RenderError:
            raise
        except Exception as exc:   # noqa: BLE001 - whatever broke, the public path still works
            slower = internals_failed("WeasyPrint", exc)
    part = _layout_part(html, base_url, None, fast=False)
    part.slower = slower
    return part


def _layout_part(html: str, base_url: str, resume: Resume | None, fast: bool) -> PartLayout:
    from . import weasy_internals

    document = pagination = rejoined = None
    if fast:
        page_html, stylesheets = _split_style(html, base_url)
        document, pagination, rejoined = weasy_internals.render(
            page_html, base_url, stylesheets, resume.seed if resume else None)
    if document is None:
        # Not a document that can be laid out part-way: WeasyPrint's own layout.
        document, resume = render_html(html, base_url), None
    start = resume.seed.start if resume else 0

    def from_earlier(kind: str, before: bool) -> list:
        return [item for item in resume.record[kind]
                if (item[0] < start if before else rejoined and item[0] >= rejoined)]

    anchors: dict = {}
    links, bookmarks, stamps = [], [], []
    if resume:
        anchors = {name: at for name, at in resume.record["anchors"].items() if at[0] < start}
        links, bookmarks, stamps = (from_earlier(kind, True)
                                    for kind in ("links", "bookmarks", "stamps"))
    for i, page in enumerate(document.pages, start):
        for name, (x, y, *_) in page.anchors.items():
            anchors.setdefault(name, [i, x * PT, y * PT])
        kept: dict[int, list[tuple]] = {}

        def area(link) -> float:
            # Rectangles are corners (x0, y0, x1, y1) in WeasyPrint 70, whatever its docs say.
            x0, y0, x1, y1 = link[2]
            return (x1 - x0) * (y1 - y0)

        for kind, target, (x0, y0, x1, y1), *box in sorted(page.links, key=area, reverse=True):
            # A link is inherited by every box inside it, and a block link has boxes inside
            # boxes: one area per element and line is enough. (The box, where a version of
            # WeasyPrint gives it, is read for its element only.)
            element = getattr(box[0], "element", None) if box else None
            if (box and (element is None or element.get("href") is None)
                    or kind not in ("internal", "external")):
                continue
            areas = kept.setdefault(id(element) if box else target, [])
            if any(a[0] <= x0 + 0.5 and a[1] <= y0 + 0.5 and x1 <= a[2] + 0.5 and y1 <= a[3] + 0.5
                   for a in areas):
                continue
            areas.append((x0, y0, x1, y1))
            links.append([i, kind, target, x0 * PT, y0 * PT, x1 * PT, y1 * PT])
        for level, label, (x, y), *_state in page.bookmarks:
            bookmarks.append([i, level, label, x * PT, y * PT])
    pdf = document.write_pdf()
    if fast:
        stamps += weasy_internals.stand_ins(document, start)
    else:
        stamps += _public_stand_ins(html, base_url)
    pages = start + len(document.pages)
    if rejoined:
        pages = len(resume.seed.earlier.clean)
        for name, at in resume.record["anchors"].items():
            if at[0] >= rejoined:
                anchors.setdefault(name, at)
        links += from_earlier("links", False)
        bookmarks += from_earlier("bookmarks", False)
        stamps += from_earlier("stamps", False)
    return PartLayout(pdf=pdf, pages=pages, anchors=anchors, links=links, bookmarks=bookmarks,
                      stamps=stamps, pagination=pagination, resumed_from=start,
                      rejoined_at=rejoined or 0, missing=_missing_stand_ins(html, stamps, links))


_STAND_IN = re.compile(r'<span class="' + STAND_IN_CLASS
                       + r'" data-ref="([^"]*)" data-prefix="([^"]*)">([^<]*)</span>')
# Shows the stand-ins alone where they are laid out, to be found in a PDF (see
# _public_stand_ins): everything else, the other margin boxes too, is laid out but not drawn.
# (A user style sheet's !important outranks the author's; visibility does not move anything.)
_OTHER_MARGIN_BOXES = ("top-left-corner", "top-left", "top-center", "top-right",
                       "top-right-corner", "right-top", "right-middle", "right-bottom",
                       "bottom-right-corner", "bottom-right", "bottom-left", "bottom-left-corner",
                       "left-bottom", "left-middle", "left-top")
_SHOW_STAND_INS = ("* { visibility: hidden !important } "
                   f".{STAND_IN_CLASS} {{ visibility: visible !important }} "
                   "@page { " + " ".join(f"@{box} {{ visibility: hidden !important }}"
                                         for box in _OTHER_MARGIN_BOXES)
                   + " @bottom-center { visibility: visible !important } }")
_MARK = "studykit-stand-in-"


def _missing_stand_ins(html: str, stamps: list, links: list) -> list[list]:
    """[page, ref] for each page reference in `html` that has no stamp, the page being one
    where a link to `ref` is (-1 if none is): a stand-in not found prints no number."""
    from collections import Counter

    wanted = Counter(unescape(m.group(1)) for m in _STAND_IN.finditer(html))
    missing = wanted - Counter(s[1] for s in stamps if s[1])
    pages = {link[2]: link[0] for link in reversed(links) if link[1] == "internal"}
    return [[pages.get(ref, -1), ref] for ref in sorted(missing)]


def _public_stand_ins(html: str, base_url: str) -> list[list]:
    """The stand-ins of the part `html` (see weasy_internals.stand_ins), found through public
    APIs: the part laid out again with each page reference given an ID and nothing drawn but
    the stand-ins, and the text of that PDF read back (pikepdf's parse_content_stream, with
    the text and graphics state followed): each piece of text near one of those IDs' anchors
    is that page reference, a number elsewhere the page's own."""
    from weasyprint import CSS, HTML

    refs = []

    def mark(m) -> str:
        refs.append((unescape(m.group(1)), unescape(m.group(2)), unescape(m.group(3))))
        return f'<span id="{_MARK}{len(refs) - 1}"' + m.group(0)[len("<span"):]

    page_html, stylesheets = _split_style(_STAND_IN.sub(mark, html), base_url)
    shown = HTML(string=page_html, base_url=base_url).render(
        stylesheets=[*stylesheets, CSS(string=_SHOW_STAND_INS)])
    found = []
    fonts: dict = {}
    with pikepdf().open(io.BytesIO(shown.write_pdf())) as doc:
        for i, (laid, page) in enumerate(zip(shown.pages, doc.pages)):
            refs_here = {int(name[len(_MARK):]): (x * PT, y * PT)
                         for name, (x, y, *_) in laid.anchors.items() if name.startswith(_MARK)}
            for run in _text_runs(page, fonts):
                near = [n for n, (x, y) in refs_here.items()
                        if abs(run.x0 - x) < 1 and run.top - 2 <= y <= run.bottom]
                style = [_font_named(run.font), run.size, run.color]
                if near:
                    ref, prefix, _ = refs[near[0]]
                    found.append([i, ref, prefix, "right", run.x1, run.y, *style])
                elif run.text.replace("\u00a0", " ").strip().isdigit():
                    found.append([i, "", "", "center", (run.x0 + run.x1) / 2, run.y, *style])
    return found


@dataclass
class _Run:
    """Text drawn in one font, size and colour, on a page in points from its top left: its
    left and right ends, its baseline, and how far its font reaches above and below it."""
    text: str
    x0: float
    x1: float
    y: float
    top: float
    bottom: float
    font: str
    size: float
    color: list


@dataclass
class _Font:
    """What _text_runs needs of a PDF font: its name, its glyphs' widths (thousandths of the
    size) and text, whether its codes take two bytes, its ascent and descent."""
    name: str
    two_bytes: bool
    widths: dict
    default_width: float
    text: dict
    ascent: float
    descent: float

    @staticmethod
    def of(font) -> _Font:
        name = str(font.get("/BaseFont", "/")).lstrip("/")
        two_bytes = font.get("/Subtype") == "/Type0"
        widths: dict[int, float] = {}
        if two_bytes:
            cid = font.DescendantFonts[0]
            descriptor = cid.get("/FontDescriptor")
            default = float(cid.get("/DW", 1000))
            w = list(cid.get("/W", ()))
            n = 0
            while n < len(w):
                first = int(w[n])
                if isinstance(w[n + 1], pikepdf().Array):
                    for k, width in enumerate(w[n + 1]):
                        widths[first + k] = float(width)
                    n += 2
                else:
                    for code in range(first, int(w[n + 1]) + 1):
                        widths[code] = float(w[n + 2])
                    n += 3
        else:
            descriptor = font.get("/FontDescriptor")
            default = float(descriptor.get("/MissingWidth", 0)) if descriptor else 0.0
            first = int(font.get("/FirstChar", 0))
            for k, width in enumerate(font.get("/Widths", ())):
                widths[first + k] = float(width)
        ascent = float(descriptor.get("/Ascent", 800)) if descriptor else 800.0
        descent = float(descriptor.get("/Descent", -200)) if descriptor else -200.0
        text = _to_unicode(font.ToUnicode.read_bytes()) if "/ToUnicode" in font else {}
        return _Font(name, two_bytes, widths, default, text, ascent, descent)

    def codes(self, data: bytes) -> list[int]:
        if self.two_bytes:
            return [data[n] << 8 | data[n + 1] for n in range(0, len(data) - 1, 2)]
        return list(data)

    def char(self, code: int) -> str:
        return self.text.get(code) or ("" if self.two_bytes else chr(code))


_BF_CHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BF_RANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.S)
_HEX = rb"<([0-9A-Fa-f\s]*)>"


def _to_unicode(cmap: bytes) -> dict[int, str]:
    """A ToUnicode CMap's codes and their text (its bfchar and bfrange sections)."""
    def text(hexes: bytes) -> str:
        return bytes.fromhex(hexes.decode()).decode("utf-16-be", "replace")

    found: dict[int, str] = {}
    for block in _BF_CHAR.findall(cmap):
        for code, to in re.findall(_HEX + rb"\s*" + _HEX, block):
            found[int(code, 16)] = text(to)
    for block in _BF_RANGE.findall(cmap):
        for low, high, to in re.findall(_HEX + rb"\s*" + _HEX + rb"\s*(<[^>]*>|\[[^\]]*\])",
                                        block):
            low, high = int(low, 16), int(high, 16)
            if to.startswith(b"["):
                for k, each in enumerate(re.findall(_HEX, to)):
                    found[low + k] = text(each)
            else:
                first = text(to[1:-1])
                for k in range(high - low + 1):
                    found[low + k] = first[:-1] + chr(ord(first[-1]) + k) if first else ""
    return found


def _multiply(m, n) -> tuple:
    """The matrix m then n (PDF matrices [a b c d e f])."""
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return (a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s,
            e * p + f * r + t, e * q + f * s + u)


_IDENTITY = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _text_runs(page, fonts: dict) -> list[_Run]:
    """The text a page draws, one run per string shown, in the order drawn, with runs that
    continue one another (same font, size, colour and baseline, no gap) joined. `fonts`
    keeps what was read of each font object, by its object number, across pages."""
    pk = pikepdf()
    x_left, _, _, y_top = (float(v) for v in page.mediabox)
    runs: list[_Run] = []

    def rgb(operands) -> list[float] | None:
        values = [float(v) for v in operands if isinstance(v, (int, float, Decimal))]
        if len(values) == 1:
            values *= 3
        elif len(values) == 4:
            c, m, y, k = values
            values = [(1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k)]
        return [round(v, 4) for v in values] if len(values) == 3 else None

    def walk(content, resources, outer: dict, depth: int) -> None:
        # A form XObject starts from the graphics state it is drawn in.
        state = {"color": [0.0, 0.0, 0.0], "space": "/DeviceGray", "font": None, "size": 0.0,
                 "Tc": 0.0, "Tw": 0.0, "Tz": 1.0, "TL": 0.0, "Ts": 0.0, **outer}
        stack = []
        tm = tlm = _IDENTITY

        def show(data: bytes) -> None:
            nonlocal tm
            font, size = state["font"], state["size"]
            if font is None:
                return
            trm = _multiply(tm, state["ctm"])
            scale = math.hypot(trm[2], trm[3])
            start = end = None
            text = []
            for code in font.codes(data):
                width = font.widths.get(code, font.default_width) / 1000 * size
                start = start or _apply(trm, 0, state["Ts"])
                end = _apply(trm, width * state["Tz"], state["Ts"])
                text.append(font.char(code))
                advance = width + state["Tc"] + (state["Tw"] if code == 32 and not font.two_bytes
                                                else 0)
                tm = _multiply((1, 0, 0, 1, advance * state["Tz"], 0), tm)
                trm = _multiply(tm, state["ctm"])
            if start is None:
                return
            y = y_top - start[1]
            runs.append(_Run("".join(text), start[0] - x_left, end[0] - x_left, y,
                             y - font.ascent / 1000 * size * scale,
                             y - font.descent / 1000 * size * scale,
                             font.name, size * scale, list(state["color"])))

        for operands, operator in pk.parse_content_stream(content):
            op = str(operator)
            if op == "q":
                stack.append(dict(state))
            elif op == "Q":
                if stack:
                    state = stack.pop()
            elif op == "cm":
                state["ctm"] = _multiply(tuple(float(v) for v in operands), state["ctm"])
            elif op == "cs":
                state["space"] = str(operands[0])
            elif op in ("rg", "g", "k") or op in ("sc", "scn") and state["space"] in (
                    "/DeviceRGB", "/DeviceGray", "/DeviceCMYK"):
                # (A colour in another space, Lab say, is not followed.)
                state["color"] = rgb(operands) or state["color"]
                if op in ("rg", "g", "k"):
                    state["space"] = {"rg": "/DeviceRGB", "g": "/DeviceGray"}.get(
                        op, "/DeviceCMYK")
            elif op == "BT":
                tm = tlm = _IDENTITY
            elif op == "Tf":
                key = resources.Font[operands[0]]
                font = fonts.get(key.objgen) if key.is_indirect else None
                if font is None:
                    font = _Font.of(key)
                    if key.is_indirect:
                        fonts[key.objgen] = font
                state["font"], state["size"] = font, float(operands[1])
            elif op in ("Tc", "Tw", "TL", "Ts"):
                state[op] = float(operands[0])
            elif op == "Tz":
                state["Tz"] = float(operands[0]) / 100
            elif op in ("Td", "TD"):
                if op == "TD":
                    state["TL"] = -float(operands[1])
                tm = tlm = _multiply((1, 0, 0, 1, float(operands[0]), float(operands[1])), tlm)
            elif op == "Tm":
                tm = tlm = tuple(float(v) for v in operands)
            elif op in ("T*", "'", '"'):
                if op == '"':
                    state["Tw"], state["Tc"] = float(operands[0]), float(operands[1])
                tm = tlm = _multiply((1, 0, 0, 1, 0, -state["TL"]), tlm)
                if op != "T*":
                    show(bytes(operands[-1]))
            elif op == "Tj":
                show(bytes(operands[0]))
            elif op == "TJ":
                for item in operands[0]:
                    if isinstance(item, pk.String):
                        show(bytes(item))
                    else:
                        shift = -float(item) / 1000 * state["size"] * state["Tz"]
                        tm = _multiply((1, 0, 0, 1, shift, 0), tm)
            elif op == "Do" and depth < 8:
                xobject = resources.get("/XObject", {}).get(operands[0])
                if xobject is not None and xobject.get("/Subtype") == "/Form":
                    matrix = tuple(float(v) for v in xobject.get("/Matrix", _IDENTITY))
                    walk(xobject, xobject.get("/Resources", resources),
                         {**state, "ctm": _multiply(matrix, state["ctm"])}, depth + 1)

    walk(page, page.resources, {"ctm": _IDENTITY}, 0)
    joined: list[_Run] = []
    for run in runs:
        last = joined[-1] if joined else None
        if (last and (last.font, last.size, last.color) == (run.font, run.size, run.color)
                and abs(last.y - run.y) < 0.1 and abs(run.x0 - last.x1) <= 0.5):
            last.text += run.text
            last.x1 = run.x1
        else:
            joined.append(run)
    return joined


def _apply(m, x: float, y: float) -> tuple[float, float]:
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


def _font_named(name: str) -> str:
    """The file of the font WeasyPrint names in a PDF: its family and style, spaces as
    hyphens, after a subset's prefix (ABCDEF+Noto-Serif-Bold-Italic)."""
    words = name.split("+", 1)[-1].split("-")
    style = set()
    while len(words) > 1 and words[-1] in ("Bold", "Italic", "Oblique", "Regular"):
        style.add(words.pop())
    return font_file((" ".join(words),), "Bold" in style, bool(style & {"Italic", "Oblique"}))


def _splice(earlier: bytes, start: int, middle: bytes, end: int = 0) -> bytes:
    """The pages of `earlier` before `start`, every page of `middle`, then the pages of
    `earlier` from `end` on (none if `end` is 0)."""
    pk = pikepdf()
    with pk.open(io.BytesIO(earlier)) as doc, pk.open(io.BytesIO(middle)) as new:
        del doc.pages[start:end or len(doc.pages)]
        doc.pages[start:start] = list(new.pages)
        # The part's own outline and named destinations point at pages of both: neither is
        # read (the part's record holds its anchors and bookmarks), and without them the
        # replaced pages and what only they used are not written.
        for key in ("/Outlines", "/Names", "/Dests"):
            if key in doc.Root:
                del doc.Root[key]
        return _saved(doc)


def _saved(doc, **options) -> bytes:
    """`doc` written compressed, with object streams (as WeasyPrint writes its PDFs: about a
    third smaller), and an /ID from its content rather than the clock."""
    out = io.BytesIO()
    doc.save(out, compress_streams=True, object_stream_mode=pikepdf().ObjectStreamMode.generate,
             deterministic_id=True, **options)
    return out.getvalue()


# ------------------------------------------------------------------ the cache of parts

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


# ------------------------------------------------------------------ laying out all parts

def lay_out(htmls: Iterable[tuple[int, str]], base_url: str, cache: PartCache,
            pool: Executor | None = None, work=None,
            extra: dict[int, tuple] | None = None) -> list[PartLayout]:
    """Every part, from the cache where its HTML is unchanged, the rest in parallel.

    `htmls` gives each part's position in the document and its HTML, positions 0 to n - 1 in
    any order, and may make them as they are asked for: on a pool, the first part not in the
    cache starts laying out at once, while the rest are made (after an edit it is often the
    only one). The parts are returned in document order.

    A part is laid out by `work(html, base_url, *extra[position])`, layout_part unless given:
    whatever it does, the part depends on its HTML alone, which keys the cache. layout_part
    starts an edited part part-way through when the cache holds the part's layout from
    before the edit (see PartCache.resume_for)."""
    resumable = work is None
    work = work or layout_part
    extra = dict(extra or {})
    keys: dict[int, str] = {}
    lines: dict[int, str] = {}
    texts: dict[int, str] = {}
    parts: dict[int, PartLayout | None] = {}
    latest = cache.lines() if resumable else {}
    earlier: dict[int, bytes] = {}   # the PDF of the layout a part starts from part-way
    early = None
    for i, html in htmls:
        keys[i] = cache.key(html)
        texts[i] = html
        parts[i] = cache.get(keys[i])
        if resumable:
            lines[i] = cache.line(i, html)
        if parts[i] is None and resumable:
            found = cache.resume_for(latest.get(lines[i]), html)
            extra[i] = (found[0] if found else None,)
            if found:
                earlier[i] = found[1]
        if parts[i] is None and early is None and pool is not None:
            early = (i, pool.submit(work, html, base_url, *extra.get(i, ())))
    if sorted(parts) != list(range(len(parts))):
        raise ValueError(f"part positions must be 0 to {len(parts) - 1}, once each")
    todo = [i for i, p in parts.items() if p is None and (early is None or i != early[0])]
    # Longest first, so the last part to finish is a short one.
    todo.sort(key=lambda i: -len(texts[i]))

    def keep(i: int, part: PartLayout) -> None:
        if part.resumed_from:
            # Here, not in the worker, which would import pikepdf for it first.
            part.pdf = _splice(earlier[i], part.resumed_from, part.pdf, part.rejoined_at)
        parts[i] = part
        cache.put(keys[i], part, texts[i])

    # A pool may want to know when every part is handed out (see workers.PartsFirst).
    handed_out = pool.all_submitted if pool is not None else (lambda: None)

    def meanwhile() -> None:
        handed_out()
        pikepdf()   # the joiner's library, imported while the parts are laid out, not after

    if not todo:
        handed_out()
    run_pieces(work, [(texts[i], base_url, *extra.get(i, ())) for i in todo], pool,
               lambda n, part: keep(todo[n], part), meanwhile=meanwhile)
    if early is not None:
        pikepdf()   # when no other part was laid out, not imported yet
        keep(early[0], early[1].result())
    ordered = [parts[i] for i in range(len(parts))]
    for i, part in enumerate(ordered):
        part.key = keys[i]
    if resumable:
        cache.set_lines({lines[i]: keys[i] for i in lines})
    cache.prune(set(keys.values()), spare=4 * len(keys))
    return ordered  # type: ignore[return-value]


# ------------------------------------------------------------------ joining

# Stamp fonts by file, loaded once per process.
_STAMP_FONTS: dict[str, "StampFont"] = {}
# At most this many parts to stamp are stamped in the main process alone.
STAMP_HERE = 2


@gc_paused()
def _stamp_part(pdf: bytes, stamps: list, numbers: list[int],
                cache_dir: Path | None = None) -> bytes:
    """The part's PDF with its page numbers drawn in (run in a worker, or here).

    Each page's content is wrapped in a "q" and a "Q" stream, shared by all its pages, so
    that the flipped coordinate system WeasyPrint leaves in force at the end of a page does
    not reach the stamps, drawn by a stream of their own after them. Each font is embedded
    once per part, as a simple TrueType font cut down to what stamps print."""
    by_page: dict[int, list] = {}
    for stamp, number in zip(stamps, numbers):
        by_page.setdefault(stamp[0], []).append((stamp, number))
    if not by_page:
        return pdf
    pk = pikepdf()
    with pk.open(io.BytesIO(pdf)) as doc:
        push, pop = doc.make_stream(b"q\n"), doc.make_stream(b"\nQ\n")
        embedded: dict[str, tuple] = {}
        for index, items in sorted(by_page.items()):
            page = doc.pages[index]
            x_left, _, _, y_top = (float(v) for v in page.mediabox)
            drawn = []
            for (_, _ref, prefix, align, x, y, font, size, color), number in items:
                face = _STAMP_FONTS.get(font) or _STAMP_FONTS.setdefault(
                    font, _stamp_font(font, cache_dir))
                if font not in embedded:
                    embedded[font] = (pk.Name(f"/Stamp{len(embedded)}"), face.embed(doc))
                name, _ = embedded[font]
                text = face.printable(f"{prefix}{number}")
                width = face.width(text, size)
                x0 = x - width if align == "right" else x - width / 2
                drawn.append(f"BT {name} {size:.4f} Tf {' '.join(f'{c:.4f}' for c in color)} rg "
                             f"1 0 0 1 {x_left + x0:.3f} {y_top - y:.3f} Tm "
                             f"<{text.encode('latin-1').hex()}> Tj ET")
            for name, font_object in {s[6]: embedded[s[6]] for s, _ in items}.values():
                page.add_resource(font_object, pk.Name.Font, name)
            contents = page.obj.get("/Contents")
            inner = list(contents) if isinstance(contents, pk.Array) else (
                [contents] if contents is not None else [])
            page.obj.Contents = pk.Array(
                [push, *inner, pop, doc.make_stream("\n".join(drawn).encode() + b"\n")])
        return _saved(doc)


def _add_links(book, page_index: int, height: float, links: list, anchors: dict) -> None:
    """The page's link annotations, with no border. A link to an anchor that is not in the
    book fails the build, naming its page."""
    pk = pikepdf()
    annots = []
    for _, kind, dest, x0, y0, x1, y1 in links:
        rect = [_real(x0), _real(height - y1), _real(x1), _real(height - y0)]
        if kind == "external":
            action = pk.Dictionary(S=pk.Name.URI, URI=pk.String(dest))
        elif dest in anchors:
            action = pk.Dictionary(S=pk.Name.GoTo, D=pk.String(dest))
        else:
            raise RenderError(f"page {page_index + 1}: a link to #{dest}, which is not in the "
                              "book")
        annots.append(book.make_indirect(pk.Dictionary(
            Type=pk.Name.Annot, Subtype=pk.Name.Link, Rect=rect, BS=pk.Dictionary(W=0),
            A=action)))
    if annots:
        book.pages[page_index].obj.Annots = pk.Array(annots)


def _real(value: float, places: int = 2) -> Decimal:
    """A number as written into the PDF: two decimals are a hundredth of a point."""
    return Decimal(f"{value:.{places}f}")


def join(parts: list[PartLayout], target: Path, metadata: dict, cache: "PartCache",
         lang: str = "en", pool: Executor | None = None, numbers_from: int | None = None) -> int:
    """Write the book: the parts in order with their page numbers stamped, links, named
    destinations and bookmarks rebuilt. A part whose printed numbers did not change since it
    was last stamped is taken stamped from the cache; the others are stamped on `pool` as well
    as here. With `numbers_from`, every page from that one (0-based) on must print its number:
    a book that would not, or whose page references or links would point nowhere, is not
    written. `metadata` holds the document information dictionary's entries, by their PDF
    names (Title, Creator, CreationDate, ...)."""
    pk = pikepdf()
    offsets, total = [], 0
    for p in parts:
        offsets.append(total)
        total += p.pages
    _check_numbers(parts, offsets, total, target, numbers_from)
    anchors: dict[str, tuple[int, float, float]] = {}
    for off, p in zip(offsets, parts):
        for name, (page, x, y) in p.anchors.items():
            anchors.setdefault(name, (off + page, x, y))
    missing = sorted({s[1] for p in parts for s in p.stamps if s[1] and s[1] not in anchors})
    if missing:
        raise RenderError(f"page references to anchors that are not in the book: "
                          f"{', '.join(missing[:10])}")

    stamped: list[bytes | None] = []
    signatures: list[str] = []
    todo: list[tuple[int, str, tuple]] = []
    for off, p in zip(offsets, parts):
        numbers = [(anchors[ref][0] if ref else off + page) + 1
                   for page, ref, *_ in p.stamps]
        signature = hashlib.sha256(json.dumps(numbers).encode()).hexdigest()[:16]
        signatures.append(signature)
        stamped.append(cache.get_stamped(p.key, signature))
        if stamped[-1] is None:
            todo.append((len(stamped) - 1, signature, (p.pdf, p.stamps, numbers, cache.folder)))
    # Stamping the whole book takes a second or two, after every part is laid out: the
    # workers take parts from the front while this process takes those not yet started from
    # the back. A few parts (after an edit, usually one) are stamped here: a worker may be
    # busy, or may have to import pikepdf first, which this process has done.
    share = pool is not None and len(todo) > STAMP_HERE
    futures = [pool.submit(_stamp_part, *args) for _, _, args in todo] if share else []
    for n in reversed(range(len(todo))):
        if not futures or futures[n].cancel():
            stamped[todo[n][0]] = _stamp_part(*todo[n][2])
    for n, (i, signature, _) in enumerate(todo):
        if stamped[i] is None:
            stamped[i] = futures[n].result()
        cache.put_stamped(parts[i].key, signature, stamped[i])

    book = pk.new()
    sources = []
    try:
        for data in stamped:
            src = pk.open(io.BytesIO(data))
            sources.append(src)   # open until the book is written: it reads their streams
            for page in src.pages:
                # The part's own links point at its own names: the book's are made below.
                if "/Annots" in page.obj:
                    del page.obj.Annots
            book.pages.extend(src.pages)
        pages = [page.obj for page in book.pages]
        heights = [float(page.mediabox[3]) for page in book.pages]

        links_on: dict[int, list] = {}
        for off, p in zip(offsets, parts):
            for link in p.links:
                links_on.setdefault(off + link[0], []).append(link)
        for index, links in sorted(links_on.items()):
            _add_links(book, index, heights[index], links, anchors)

        def destination(page: int, x: float, y: float):
            return pk.Array([pages[page], pk.Name.XYZ, _real(x), _real(heights[page] - y), 0])

        # Every anchor as a named destination, as WeasyPrint writes them: links point at
        # names, and a reader can open `handbook.pdf#q42` at question 42.
        names = pk.NameTree.new(book)
        for name in sorted(anchors):
            names[name] = destination(*anchors[name])
        book.Root.Names = pk.Dictionary(Dests=names.obj)

        with book.open_outline() as outline:
            chain: list = []   # the last item of each level so far
            for off, p in zip(offsets, parts):
                for page, level, label, x, y in p.bookmarks:
                    # A level may not jump more than one below the one before it.
                    level = min(level, len(chain) + 1)
                    item = pk.OutlineItem(label, destination(off + page, x, y))
                    # Chapters shown closed, as a list of chapters.
                    item.is_closed = True
                    del chain[level - 1:]
                    (chain[-1].children if chain else outline.root).append(item)
                    chain.append(item)

        for key, value in metadata.items():
            book.docinfo[pk.Name("/" + key)] = pk.String(value)
        book.Root.Lang = pk.String(lang)
        # qpdf keeps an ID's first half and makes its second from the file's content (with
        # deterministic_id): the first, from what the book is made of (each part's key and
        # the numbers stamped on it), keeps two builds of the same content the same bytes.
        made_of = [[p.key, signature] for p, signature in zip(parts, signatures)]
        ident = bytes.fromhex(hashlib.sha256(json.dumps([made_of, metadata]).encode())
                              .hexdigest()[:32])
        book.trailer.ID = pk.Array([pk.String(ident), pk.String(ident)])
        # Only what the pages, the names and the outline use is written: what the parts'
        # catalogues held is left behind. Object streams keep the book about a third smaller.
        # A new PDF's version is qpdf's least for what it writes: the parts' own is kept.
        data = _saved(book, min_version=max((src.pdf_version for src in sources), default=""))
    finally:
        for src in sources:
            src.close()
        book.close()
    write_output(target, data)
    return total


def _check_numbers(parts: list[PartLayout], offsets: list[int], total: int, target: Path,
                   numbers_from: int | None) -> None:
    """Fail, naming the page, where a number would be missing: a stand-in that was not found
    (a renamed box class or style key, say) is otherwise a book printed without it."""
    for off, p in zip(offsets, parts):
        for page, ref in p.missing:
            where = f"page {off + page + 1}" if page >= 0 else f"pages {off + 1}-{off + p.pages}"
            raise RenderError(f"{target.name}: {where}: the stand-in for the page number of "
                              f"#{ref} was not found, so no number would be printed")
    if numbers_from is None:
        return
    numbered = {off + s[0] for off, p in zip(offsets, parts) for s in p.stamps if not s[1]}
    bare = [n + 1 for n in range(numbers_from, total) if n not in numbered]
    if bare:
        more = f" (and {len(bare) - 1} other pages)" if len(bare) > 1 else ""
        raise RenderError(f"{target.name}: page {bare[0]}{more}: the stand-in for its page "
                          "number was not found, so no number would be printed")


# Every character a stamp can hold.
STAMP_CHARACTERS = "0123456789p. \u00a0"


@dataclass
class StampFont:
    """A font cut down to STAMP_CHARACTERS, and what embedding it as a simple TrueType font
    takes: its PostScript name, each character's advance in thousandths of the size, and the
    numbers its descriptor gives (in the same units)."""
    data: bytes
    name: str
    widths: dict[str, float]
    glyf: bool           # TrueType outlines (FontFile2); else CFF in an OpenType file
    bbox: list[float]
    ascent: float
    descent: float
    cap_height: float
    italic_angle: float

    @staticmethod
    def read(data: bytes) -> StampFont:
        from fontTools.ttLib import TTFont

        font = TTFont(io.BytesIO(data))
        per_unit = 1000 / font["head"].unitsPerEm
        cmap = font.getBestCmap() or {}
        hmtx = font["hmtx"]
        widths = {c: round(hmtx[cmap[ord(c)]][0] * per_unit, 3)
                  for c in STAMP_CHARACTERS if ord(c) in cmap}
        head, hhea = font["head"], font["hhea"]
        os2 = font["OS/2"] if "OS/2" in font else None
        name = font["name"].getDebugName(6) or "Stamp"
        return StampFont(
            data=data, name=re.sub(r"[^A-Za-z0-9_.-]", "", name) or "Stamp", widths=widths,
            glyf="glyf" in font,
            bbox=[round(v * per_unit) for v in (head.xMin, head.yMin, head.xMax, head.yMax)],
            ascent=round(hhea.ascent * per_unit), descent=round(hhea.descent * per_unit),
            cap_height=round(getattr(os2, "sCapHeight", 0) * per_unit) if os2 else 700,
            italic_angle=float(font["post"].italicAngle) if "post" in font else 0.0)

    def printable(self, text: str) -> str:
        """`text` in characters the font has (a no-break space it lacks is a space)."""
        return text if "\u00a0" in self.widths else text.replace("\u00a0", " ")

    def width(self, text: str, size: float) -> float:
        return sum(self.widths.get(c, 0.0) for c in text) * size / 1000

    def embed(self, doc):
        """The font as an indirect object of `doc`: a simple TrueType font whose codes are
        the characters' Latin-1 codes (WinAnsiEncoding, with the no-break space named), with
        a ToUnicode map so that the numbers read back as text."""
        pk = pikepdf()
        codes = sorted(ord(c) for c in self.widths)
        first, last = codes[0], codes[-1]
        tag = "".join(chr(65 + b % 26) for b in hashlib.sha256(self.data).digest()[:6])
        base = pk.Name(f"/{tag}+{self.name}")
        if self.glyf:
            program = {"/FontFile2": doc.make_stream(self.data, Length1=len(self.data))}
        else:
            program = {"/FontFile3": doc.make_stream(self.data, Subtype=pk.Name.OpenType)}
        descriptor = doc.make_indirect(pk.Dictionary(
            Type=pk.Name.FontDescriptor, FontName=base,
            # Nonsymbolic (Latin characters), italic where it is.
            Flags=32 | (64 if self.italic_angle else 0), FontBBox=self.bbox,
            ItalicAngle=_real(self.italic_angle), Ascent=self.ascent, Descent=self.descent,
            CapHeight=self.cap_height, StemV=80, **{k[1:]: v for k, v in program.items()}))
        cmap = ("/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
                "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
                "/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"
                "1 begincodespacerange <00> <FF> endcodespacerange\n"
                f"{len(codes)} beginbfchar\n"
                + "".join(f"<{c:02X}> <{c:04X}>\n" for c in codes)
                + "endbfchar\nendcmap CMapName currentdict /CMap defineresource pop end end\n")
        encoding = pk.Dictionary(Type=pk.Name.Encoding, BaseEncoding=pk.Name.WinAnsiEncoding)
        if 0xA0 in codes:
            encoding.Differences = pk.Array([0xA0, pk.Name.nbspace])
        return doc.make_indirect(pk.Dictionary(
            Type=pk.Name.Font, Subtype=pk.Name.TrueType, BaseFont=base, FirstChar=first,
            LastChar=last, Widths=[_real(self.widths.get(chr(c), 0.0), 3)
                                   for c in range(first, last + 1)],
            FontDescriptor=descriptor, Encoding=encoding,
            ToUnicode=doc.make_stream(cmap.encode())))


def _stamp_font(path: str, cache_dir: Path | None = None) -> StampFont:
    """The font cut down to what stamps print: embedded whole, it would add about 0.5 MB.
    The cut font is kept in `cache_dir`: cutting takes a few tenths of a second."""
    from fontTools import subset

    kept = None
    if cache_dir is not None:
        stat = os.stat(path)
        name = hashlib.sha256(f"{path}|{stat.st_size}|{stat.st_mtime_ns}|{STAMP_CHARACTERS}"
                              .encode()).hexdigest()[:24]
        kept = cache_dir / f"stamp-font-{name}.ttf"
        found = read_cache(kept)
        if found is not None:
            return StampFont.read(found)
    font = subset.load_font(path, subset.Options())
    options = subset.Options()
    options.layout_features = []
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in STAMP_CHARACTERS])
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    if kept is not None:
        write_cache(kept, buffer.getvalue())
    return StampFont.read(buffer.getvalue())
