"""One part of a long PDF laid out by WeasyPrint, with its anchors, links, bookmarks and stand-ins.

A part prints no page number: it does not know on which page of the book it starts. Each number
is marked by a hidden stand-in (an element of class `pgref`, or a hidden `@bottom-center` margin
box for the page's own number), found here, and stamped later (see stamping and pdfjoin).
"""

from __future__ import annotations

import io
import os
import re
import subprocess
from dataclasses import dataclass, field
from functools import lru_cache
from html import unescape

from ..cache import PART_FORMAT
from ..errors import RenderError
from ..workers import gc_paused
from .base import internals_failed
from .pdfcommon import figure_alt_texts, pikepdf
from .pdftext import text_runs

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
    if _FIGURE_ALT.search(html):
        # Tagged so that each figure's alt text can be found and kept (see figure_alt_texts).
        pdf = figure_alt_texts(document.write_pdf(pdf_tags=True))
    else:
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


# A figure with alt text (templates/handbook/figure.html.j2).
_FIGURE_ALT = re.compile(r'<figure\b[^>]*>\s*<img [^>]*\balt="[^"]')
_STAND_IN = re.compile(r'<span class="' + STAND_IN_CLASS
                       + r'" data-ref="([^"]*)" data-prefix="([^"]*)"'
                       + r'(?: data-align="(left|right)")?>([^<]*)</span>')
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
        refs.append((unescape(m.group(1)), unescape(m.group(2)), m.group(3) or "right"))
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
            for run in text_runs(page, fonts):
                near = [n for n, (x, y) in refs_here.items()
                        if abs(run.x0 - x) < 1 and run.top - 2 <= y <= run.bottom]
                style = [_font_named(run.font), run.size, run.color]
                if near:
                    ref, prefix, align = refs[near[0]]
                    found.append([i, ref, prefix, align, run.x1 if align == "right" else run.x0,
                                  run.y, *style])
                elif run.text.replace("\u00a0", " ").strip().isdigit():
                    found.append([i, "", "", "center", (run.x0 + run.x1) / 2, run.y, *style])
    return found


def _font_named(name: str) -> str:
    """The file of the font WeasyPrint names in a PDF: its family and style, spaces as
    hyphens, after a subset's prefix (ABCDEF+Noto-Serif-Bold-Italic)."""
    words = name.split("+", 1)[-1].split("-")
    style = set()
    while len(words) > 1 and words[-1] in ("Bold", "Italic", "Oblique", "Regular"):
        style.add(words.pop())
    return font_file((" ".join(words),), "Bold" in style, bool(style & {"Italic", "Oblique"}))
