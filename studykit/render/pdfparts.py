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
import os
import pickle
import re
import subprocess
import time
import zlib
from html import unescape
from collections.abc import Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..cachefile import read_cache, read_cache_json, write_cache, write_cache_json
from ..errors import RenderError
from ..output import write_output
from .base import gc_paused, internals_failed, run_pieces

# CSS pixels to PDF points.
PT = 0.75
# Bump when what a part's record holds changes: cached parts of older formats are not reused.
PART_FORMAT = 7
# Likewise for what a part keeps to be laid out part-way after an edit
# (weasy_internals.Pagination).
RESUME_FORMAT = 1
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


def pymupdf():
    """PyMuPDF, imported when first needed (a worker that only lays out never needs it)."""
    import pymupdf as module

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
        stamps += _public_stand_ins(html, base_url, pdf)
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
# Shows the stand-ins where they are laid out, to be found in a PDF (see _public_stand_ins).
_SHOW_STAND_INS = (f".{STAND_IN_CLASS} {{ visibility: visible !important }} "
                   "@page { @bottom-center { visibility: visible !important } }")
_MARK = "studykit-stand-in-"


def _missing_stand_ins(html: str, stamps: list, links: list) -> list[list]:
    """[page, ref] for each page reference in `html` that has no stamp, the page being one
    where a link to `ref` is (-1 if none is): a stand-in not found prints no number."""
    from collections import Counter

    wanted = Counter(unescape(m.group(1)) for m in _STAND_IN.finditer(html))
    missing = wanted - Counter(s[1] for s in stamps if s[1])
    pages = {link[2]: link[0] for link in reversed(links) if link[1] == "internal"}
    return [[pages.get(ref, -1), ref] for ref in sorted(missing)]


def _public_stand_ins(html: str, base_url: str, pdf: bytes) -> list[list]:
    """The stand-ins of the part `html` laid out as `pdf` (see weasy_internals.stand_ins),
    found through public APIs: the part laid out again with every stand-in shown and each page reference given an ID,
    and its text read back from both PDFs: what only the second shows are the stand-ins,
    each page reference at its ID's anchor, the rest the pages' own numbers."""
    from weasyprint import CSS, HTML

    refs = []

    def mark(m) -> str:
        refs.append((unescape(m.group(1)), unescape(m.group(2)), unescape(m.group(3))))
        return f'<span id="{_MARK}{len(refs) - 1}"' + m.group(0)[len("<span"):]

    page_html, stylesheets = _split_style(_STAND_IN.sub(mark, html), base_url)
    shown = HTML(string=page_html, base_url=base_url).render(
        stylesheets=[*stylesheets, CSS(string=_SHOW_STAND_INS)])
    fitz = pymupdf()
    found = []
    with fitz.open("pdf", pdf) as hidden, fitz.open("pdf", shown.write_pdf()) as doc:
        for i, (laid, page) in enumerate(zip(shown.pages, doc)):
            drawn = {(c["c"], round(c["origin"][0], 1), round(c["origin"][1], 1))
                     for _, c in _chars(hidden[i])}
            runs, run = [], []
            for span, c in _chars(page):
                if (c["c"], round(c["origin"][0], 1), round(c["origin"][1], 1)) in drawn:
                    continue
                if run and (span is not run[-1][0]
                            or abs(c["bbox"][0] - run[-1][1]["bbox"][2]) > 0.5):
                    runs.append(run)
                    run = []
                run.append((span, c))
            runs += [run] if run else []
            refs_here = {int(name[len(_MARK):]): (x * PT, y * PT)
                         for name, (x, y, *_) in laid.anchors.items() if name.startswith(_MARK)}
            for run in runs:
                span, first, last = run[0][0], run[0][1], run[-1][1]
                text = "".join(c["c"] for _, c in run).replace("\u00a0", " ")
                near = [n for n, (x, y) in refs_here.items() if abs(first["bbox"][0] - x) < 1
                        and first["bbox"][1] - 2 <= y <= first["bbox"][3]]
                if near:
                    ref, prefix, _ = refs[near[0]]
                    found.append([i, ref, prefix, "right", last["bbox"][2], first["origin"][1],
                                  _font_named(span["font"]), span["size"], _rgb(span["color"])])
                elif text.strip().isdigit():
                    found.append([i, "", "", "center", (first["bbox"][0] + last["bbox"][2]) / 2,
                                  first["origin"][1], _font_named(span["font"]), span["size"],
                                  _rgb(span["color"])])
    return found


def _chars(page):
    for block in page.get_text("rawdict")["blocks"]:
        for line in block.get("lines", ()):
            for span in line["spans"]:
                for c in span["chars"]:
                    yield span, c


def _rgb(color: int) -> list[float]:
    return [round(((color >> shift) & 255) / 255, 4) for shift in (16, 8, 0)]


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
    fitz = pymupdf()
    with fitz.open("pdf", earlier) as doc, fitz.open("pdf", middle) as new:
        doc.delete_pages(from_page=start, to_page=(end or doc.page_count) - 1)
        doc.insert_pdf(new, start_at=start)
        # garbage=1 drops the fonts and images only the replaced pages used.
        return doc.tobytes(garbage=1, deflate=True, use_objstms=1)


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
            # Here, not in the worker, which would import PyMuPDF for it first.
            part.pdf = _splice(earlier[i], part.resumed_from, part.pdf, part.rejoined_at)
        parts[i] = part
        cache.put(keys[i], part, texts[i])

    # A pool may want to know when every part is handed out (see workers.PartsFirst).
    handed_out = pool.all_submitted if pool is not None else (lambda: None)

    def meanwhile() -> None:
        handed_out()
        pymupdf()   # the joiner's library, imported while the parts are laid out, not after

    if not todo:
        handed_out()
    run_pieces(work, [(texts[i], base_url, *extra.get(i, ())) for i in todo], pool,
               lambda n, part: keep(todo[n], part), meanwhile=meanwhile)
    if early is not None:
        pymupdf()   # when no other part was laid out, not imported yet
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
_STAMP_FONTS: dict[str, object] = {}
# At most this many parts to stamp are stamped in the main process alone.
STAMP_HERE = 2


@gc_paused()
def _stamp_part(pdf: bytes, stamps: list, numbers: list[int],
                cache_dir: Path | None = None) -> bytes:
    """The part's PDF with its page numbers drawn in (run in a worker, or here)."""
    fitz = pymupdf()
    fonts = _STAMP_FONTS
    doc = fitz.open("pdf", pdf)
    by_page: dict[int, list] = {}
    for stamp, number in zip(stamps, numbers):
        by_page.setdefault(stamp[0], []).append((stamp, number))
    # Asked of the first stamped page only: when it says no, every page is wrapped its own way.
    wrap = _wrapper(doc, doc[min(by_page)]) if by_page else None
    for index, items in sorted(by_page.items()):
        page = doc[index]
        writers: dict[tuple, object] = {}
        for (_, _ref, prefix, align, x, y, font, size, color), number in items:
            text = f"{prefix}{number}"
            face = fonts.get(font) or fonts.setdefault(font, _stamp_font(font, cache_dir))
            width = face.text_length(text, fontsize=size)
            x0 = x - width if align == "right" else x - width / 2
            writer = writers.get(tuple(color)) or writers.setdefault(
                tuple(color), fitz.TextWriter(page.rect))
            writer.append((x0, y), text, font=face, fontsize=size)
        # WeasyPrint leaves its flipped coordinate system in force at the end of a page.
        kind, value = doc.xref_get_key(page.xref, "Contents")
        inner = value.strip("[]") if wrap and kind in ("array", "xref") else ""
        if inner:
            doc.xref_set_key(page.xref, "Contents", f"[{wrap[0]} 0 R {inner} {wrap[1]} 0 R]")
        else:
            page.wrap_contents()
        for color, writer in writers.items():
            writer.write_text(page, color=color)
    data = doc.tobytes(deflate=True, use_objstms=1)   # object streams: a third smaller
    doc.close()
    return data


def _wrapper(doc, page) -> tuple[int, int] | None:
    """Two content streams, "q" and "Q", that wrap every page of a part the way wrap_contents
    wraps its first page, or None if that page needs more. wrap_contents counts the q and Q of
    the whole content stream to know what a page needs, a quarter of the time to stamp a
    part; every page WeasyPrint writes needs the same (one of each), so the first is asked."""
    from .pdf_internals import q_balance

    if q_balance(page) != (1, 1):
        return None
    xrefs = []
    for data in (b"q\n", b"\nQ\n"):
        xref = doc.get_new_xref()
        doc.update_object(xref, "<<>>")
        doc.update_stream(xref, data, compress=False)
        xrefs.append(xref)
    return xrefs[0], xrefs[1]


def _add_links(book, page_index: int, height: float, links: list, anchors: dict) -> None:
    """Link annotations written as objects: PyMuPDF's insert_link reloads the page each time.
    A link to an anchor that is not in the book fails the build, naming its page."""
    annots = []
    for _, kind, dest, x0, y0, x1, y1 in links:
        rect = f"{x0:.2f} {height - y1:.2f} {x1:.2f} {height - y0:.2f}"
        if kind == "external":
            action = f"<</S/URI/URI{_pdf_string(dest)}>>"
        elif dest in anchors:
            action = f"<</S/GoTo/D{_pdf_string(dest)}>>"
        else:
            raise RenderError(f"page {page_index + 1}: a link to #{dest}, which is not in the "
                              "book")
        xref = book.get_new_xref()
        book.update_object(xref, f"<</Type/Annot/Subtype/Link/Rect[{rect}]/BS<</W 0>>"
                                 f"/A{action}>>")
        annots.append(f"{xref} 0 R")
    if annots:
        book.xref_set_key(book.page_xref(page_index), "Annots", "[" + " ".join(annots) + "]")


def join(parts: list[PartLayout], target: Path, metadata: dict, cache: "PartCache",
         lang: str = "en", pool: Executor | None = None, numbers_from: int | None = None) -> int:
    """Write the book: the parts in order with their page numbers stamped, links, named
    destinations and bookmarks rebuilt. A part whose printed numbers did not change since it
    was last stamped is taken stamped from the cache; the others are stamped on `pool` as well
    as here. With `numbers_from`, every page from that one (0-based) on must print its number:
    a book that would not, or whose page references or links would point nowhere, is not
    written."""
    fitz = pymupdf()
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
    # Stamping the whole book takes seconds, after every part is laid out: the workers take
    # parts from the front while this process takes those not yet started from the back. A
    # few parts (after an edit, usually one) are stamped here: a worker may be busy, or may
    # have to import PyMuPDF first (half a second), which this process has done.
    share = pool is not None and len(todo) > STAMP_HERE
    futures = [pool.submit(_stamp_part, *args) for _, _, args in todo] if share else []
    for n in reversed(range(len(todo))):
        if not futures or futures[n].cancel():
            stamped[todo[n][0]] = _stamp_part(*todo[n][2])
    for n, (i, signature, _) in enumerate(todo):
        if stamped[i] is None:
            stamped[i] = futures[n].result()
        cache.put_stamped(parts[i].key, signature, stamped[i])

    book = fitz.open()
    for data in stamped:
        with fitz.open("pdf", data) as src:
            book.insert_pdf(src, links=False, annots=False)

    heights = [book[i].rect.height for i in range(total)] if total else []
    links_on: dict[int, list] = {}
    for off, p in zip(offsets, parts):
        for link in p.links:
            links_on.setdefault(off + link[0], []).append(link)
    for index, links in links_on.items():
        _add_links(book, index, heights[index], links, anchors)

    _name_destinations(book, anchors, heights)
    toc = []
    for off, p in zip(offsets, parts):
        for page, level, label, x, y in p.bookmarks:
            # A level may not jump more than one below the one before it.
            level = min(level, (toc[-1][0] + 1) if toc else 1)
            toc.append([level, label, off + page + 1,
                        {"kind": fitz.LINK_GOTO, "to": fitz.Point(x, y), "zoom": 0}])
    book.set_toc(toc)
    book.set_metadata(metadata)
    book.xref_set_key(book.pdf_catalog(), "Lang", _pdf_string(lang))
    # MuPDF would make up a random file ID: one from what the book is made of (each part's
    # key and the numbers stamped on it) keeps two builds of the same content byte for byte
    # the same.
    made_of = [[p.key, signature] for p, signature in zip(parts, signatures)]
    ident = hashlib.sha256(json.dumps([made_of, metadata]).encode()).hexdigest()[:32]
    book.xref_set_key(-1, "ID", f"[<{ident}><{ident}>]")
    # garbage=1 drops what the parts left unused; compacting further (3) saves nothing here
    # and takes five times as long. Object streams, as WeasyPrint writes them, keep the book
    # about a third smaller.
    write_output(target, book.tobytes(garbage=1, deflate=True, use_objstms=1, no_new_id=True))
    book.close()
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


def _stamp_font(path: str, cache_dir: Path | None = None):
    """The font cut down to what stamps print: embedded whole, it would add about 0.5 MB.
    The cut font is kept in `cache_dir`: cutting takes a few tenths of a second."""
    from fontTools import subset

    fitz = pymupdf()
    kept = None
    if cache_dir is not None:
        stat = os.stat(path)
        name = hashlib.sha256(f"{path}|{stat.st_size}|{stat.st_mtime_ns}|{STAMP_CHARACTERS}"
                              .encode()).hexdigest()[:24]
        kept = cache_dir / f"stamp-font-{name}.ttf"
        found = read_cache(kept)
        if found is not None:
            return fitz.Font(fontbuffer=found)
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
    return fitz.Font(fontbuffer=buffer.getvalue())


def _pdf_string(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def _name_destinations(book, anchors: dict[str, tuple[int, float, float]],
                       heights: list[float]) -> None:
    """Every anchor as a named destination, as WeasyPrint writes them: links point at names, and
    a reader can open `handbook.pdf#q42` at question 42."""
    entries = []
    for name in sorted(anchors):   # a name tree's keys are sorted
        page, x, y = anchors[name]
        height = heights[page]
        entries.append(f"{_pdf_string(name)}[{book.page_xref(page)} 0 R/XYZ {x:.2f} "
                       f"{height - y:.2f} 0]")
    book.xref_set_key(book.pdf_catalog(), "Names",
                      "<</Dests<</Names[" + " ".join(entries) + "]>>>>")
