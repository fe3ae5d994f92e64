"""Measuring text the way a presentation program will lay it out, before the deck is saved.

Fonts cannot be embedded in a .pptx, so a deck names fonts every presenting machine has (Calibri,
Courier New) and is measured here with their metric-compatible open twins (Carlito, Liberation
Mono): same advance widths, so a line that fits here fits in PowerPoint, Impress and Google Slides.

A text box is described by `Para`s of `Run`s. Line spacing is always an exact number of points, so
the height of a box is a sum the programs cannot disagree on; widths come from the font's advance
widths without kerning, which only ever makes real text narrower than measured.
"""

from __future__ import annotations

import io
import logging
import posixpath
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont

from ..errors import RenderError

EMU_PER_PT = 12700
# PowerPoint's default text box insets.
DEFAULT_INSET_X, DEFAULT_INSET_Y = 91440, 45720

# Fonts a deck may name -> open families with identical metrics, found through fontconfig.
METRIC_TWINS = {
    "calibri": "Carlito",
    "cambria": "Caladea",
    "arial": "Liberation Sans",
    "helvetica": "Liberation Sans",
    "times new roman": "Liberation Serif",
    "courier new": "Liberation Mono",
}
# Where Debian puts them, for machines without fc-match on PATH.
_KNOWN_DIRS = ("/usr/share/fonts/truetype/crosextra", "/usr/share/fonts/truetype/liberation2",
               "/usr/share/fonts/truetype/liberation")


@dataclass(frozen=True)
class Run:
    text: str
    size: float                    # points
    font: str | None = None        # None: the font the shape inherits from the theme
    bold: bool = False
    italic: bool = False
    color: str | None = None       # RRGGBB; None inherits from the placeholder


@dataclass
class Para:
    runs: list[Run]
    line_pt: float                 # exact line pitch
    space_before: float = 0.0
    space_after: float = 0.0
    margin_left: float = 0.0       # where the text starts (after any bullet)
    bullet: str | None = None      # drawn in the hanging indent, left of margin_left
    align: str = "l"

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)


@dataclass(frozen=True)
class Extent:
    width: float                   # widest line including insets and margins, points
    height: float                  # all lines, spacing and insets, points
    lines: int


@dataclass
class Box:
    """A text box: its paragraphs and the room they must fit in."""

    paras: list[Para]
    width: float                   # points, the shape's width
    height: float
    inset_x: float = DEFAULT_INSET_X / EMU_PER_PT
    inset_y: float = DEFAULT_INSET_Y / EMU_PER_PT
    wrap: bool = True
    name: str = ""
    font: str = "Calibri"          # what runs without a font of their own are set in

    def extent(self) -> Extent:
        return measure(self.paras, self.width - 2 * self.inset_x, wrap=self.wrap,
                       inset_x=self.inset_x, inset_y=self.inset_y, font=self.font)

    def fits(self, slack: float = 0.0) -> bool:
        e = self.extent()
        return e.width <= self.width + 0.01 and e.height <= self.height - slack + 0.01


def line_pitch(size: float, font: str = "Calibri") -> float:
    """The exact line spacing used for `size`: never tighter than the font's own line height."""
    return round(size * max(1.2, _face(font, False, False).line_factor), 1)


def text_width(text: str, size: float, font: str = "Calibri", bold: bool = False,
               italic: bool = False) -> float:
    return _face(font, bold, italic).width(text) * size


def wrap_lines(runs: list[Run], avail: float, font: str = "Calibri") -> list[float]:
    """Greedy word wrap as PowerPoint does it; returns each line's width in points."""
    return list(_wrap_lines(tuple(runs), avail, font))


# A deck measures the same paragraphs many times: while fitting, and again when checked.
@lru_cache(maxsize=65536)
def _wrap_lines(runs: tuple[Run, ...], avail: float, font: str) -> tuple[float, ...]:
    # Characters with their widths, so a line can mix fonts and sizes.
    chars: list[tuple[str, float]] = []
    for r in runs:
        face = _face(r.font or font, r.bold, r.italic)
        chars.extend((c, face.advance(c) * r.size) for c in r.text)
    lines: list[float] = []
    line, empty = 0.0, True
    pending = 0.0        # spaces after the last word: they count only if another word follows
    first = True         # leading spaces of the paragraph (indentation) are kept
    i, n = 0, len(chars)
    while i < n:
        if chars[i][0] == " ":
            pending += chars[i][1]
            i += 1
            continue
        j = i
        while j < n and chars[j][0] != " ":
            j += 1
        word = sum(w for _, w in chars[i:j])
        start = line + pending if not empty or first else 0.0
        if start + word <= avail:
            line, empty, pending, first = start + word, False, 0.0, False
            i = j
            continue
        if not empty:
            lines.append(line)
            line, empty, pending = 0.0, True, 0.0
            continue
        # A word longer than a whole line breaks between characters.
        line, first = start, False
        for _, w in chars[i:j]:
            if line + w > avail and line > 0.0:
                lines.append(line)
                line = 0.0
            line += w
        empty, pending = False, 0.0
        i = j
    lines.append(line)
    return tuple(lines)


def measure(paras: list[Para], avail: float, wrap: bool = True,
            inset_x: float = 0.0, inset_y: float = 0.0, font: str = "Calibri") -> Extent:
    height = 2 * inset_y
    widest = 0.0
    count = 0
    for p in paras:
        room = avail - p.margin_left
        widths = wrap_lines(p.runs, room if wrap else float("inf"), font)
        count += len(widths)
        widest = max(widest, p.margin_left + max(widths))
        height += p.space_before + p.space_after + len(widths) * p.line_pt
    return Extent(width=widest + 2 * inset_x, height=height, lines=count)


# ------------------------------------------------------------------ font files


class _Face:
    def __init__(self, path: Path):
        # fontTools warns about odd header dates in some font files; nothing to act on.
        logging.getLogger("fontTools").setLevel(logging.ERROR)
        font = TTFont(str(path), lazy=True)
        self.upem = font["head"].unitsPerEm
        self.cmap = font.getBestCmap()
        self.hmtx = font["hmtx"].metrics
        hhea, os2 = font["hhea"], font["OS/2"]
        self.line_factor = max(os2.usWinAscent + os2.usWinDescent,
                               hhea.ascent - hhea.descent + hhea.lineGap) / self.upem
        notdef = self.hmtx.get(".notdef", (self.upem // 2, 0))[0]
        self._missing = notdef / self.upem
        self._cache: dict[str, float] = {}

    def advance(self, ch: str) -> float:
        """Advance width of one character in ems."""
        w = self._cache.get(ch)
        if w is None:
            glyph = self.cmap.get(ord(ch))
            w = self.hmtx[glyph][0] / self.upem if glyph else self._missing
            self._cache[ch] = w
        return w

    def width(self, text: str) -> float:
        return sum(self.advance(c) for c in text)


@lru_cache(maxsize=None)
def _face(font: str, bold: bool, italic: bool) -> _Face:
    return _Face(font_file(font, bold, italic))


@lru_cache(maxsize=None)
def font_file(font: str, bold: bool = False, italic: bool = False) -> Path:
    """The file used to measure `font`, or a RenderError saying what to install."""
    family = METRIC_TWINS.get(font.lower(), font)
    style = ("Bold " if bold else "") + ("Italic" if italic else "")
    style = style.strip() or "Regular"
    if shutil.which("fc-match"):
        out = subprocess.run(["fc-match", "-f", "%{family}\t%{file}", f"{family}:style={style}"],
                             capture_output=True, text=True, check=False).stdout
        found, _, path = out.partition("\t")
        # fontconfig always answers with something; only the family asked for will do.
        if family.lower() in [f.strip().lower() for f in found.split(",")] and path:
            return Path(path)
    compact = family.replace(" ", "")
    suffix = {"Regular": "Regular", "Bold": "Bold", "Italic": "Italic",
              "Bold Italic": "BoldItalic"}[style]
    for d in _KNOWN_DIRS:
        p = Path(d) / f"{compact}-{suffix}.ttf"
        if p.exists():
            return p
    raise RenderError(f"no font file to measure {font!r} with: install {family!r} "
                      "(Debian: fonts-crosextra-carlito fonts-liberation2)")


# ------------------------------------------------------------------ reading a saved deck back

_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_R = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_P = "{http://schemas.openxmlformats.org/presentationml/2006/main}"
_SP_TREE = f"{_P}cSld/{_P}spTree"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"


def theme_fonts(source) -> tuple[str, str]:
    """(major, minor) Latin fonts of a deck's theme: what runs without a font name use.
    `source` is a Presentation or a .pptx file's path."""
    from lxml import etree

    from . import pptx_xml

    if isinstance(source, (str, Path)):
        blob = _theme_in_file(source)
    else:
        blob = None
        if not pptx_xml.unusable():
            try:
                blob = pptx_xml.theme_xml(source)
            except Exception:   # noqa: BLE001 - the saved copy below holds the same theme
                blob = None
        if blob is None:
            # python-pptx has no public way to its theme: the deck as it would be saved.
            saved = io.BytesIO()
            source.save(saved)
            blob = _theme_in_file(saved)
    theme = etree.fromstring(blob)
    major = theme.find(f".//{_A}majorFont/{_A}latin").get("typeface")
    minor = theme.find(f".//{_A}minorFont/{_A}latin").get("typeface")
    return major, minor


def _theme_in_file(file) -> bytes:
    """The XML of the first slide master's theme, followed through the package's relations."""
    from lxml import etree

    with zipfile.ZipFile(file) as z:
        def related(part: str, attr: str, value: str) -> str:
            folder, name = posixpath.split(part)
            rels = etree.fromstring(z.read(posixpath.join(folder, "_rels", name + ".rels")))
            rel = next(r for r in rels.iter(_PKG_R + "Relationship") if r.get(attr) == value)
            target = rel.get("Target")
            if target.startswith("/"):
                return target[1:]
            return posixpath.normpath(posixpath.join(folder, target))

        main = related("", "Type", _REL + "officeDocument")
        first = etree.fromstring(z.read(main)).find(f".//{_P}sldMasterId").get(_R + "id")
        master = related(main, "Id", first)
        return z.read(related(master, "Type", _REL + "theme"))


# Where each kind of shape keeps its position and size.
_XFRM_PATHS = {_P + "sp": f"{_P}spPr/{_A}xfrm", _P + "cxnSp": f"{_P}spPr/{_A}xfrm",
               _P + "pic": f"{_P}spPr/{_A}xfrm", _P + "grpSp": f"{_P}grpSpPr/{_A}xfrm",
               _P + "graphicFrame": f"{_P}xfrm"}


def box_of(shape, fonts: tuple[str, str]) -> Box | None:
    """The text of a saved shape as a Box, read from its XML alone."""
    if not shape.has_text_frame:
        return None
    return _box_of_xml(shape.element, shape.width, shape.height, shape.name, fonts)


def _box_of_xml(sp, width: int, height: int, name: str, fonts: tuple[str, str]) -> Box | None:
    txBody = sp.find(_P + "txBody")
    if txBody is None:
        return None
    bodyPr = txBody.find(_A + "bodyPr")
    ph = sp.find(f"{_P}nvSpPr/{_P}nvPr/{_P}ph")
    is_title = ph is not None and ph.get("type") in ("title", "ctrTitle")
    default_font = fonts[0] if is_title else fonts[1]

    def pts(el, path: str, default: float = 0.0) -> float:
        found = el.find(path) if el is not None else None
        return int(found.get("val")) / 100 if found is not None else default

    paras = []
    for p in txBody.findall(_A + "p"):
        pPr = p.find(_A + "pPr")
        runs = []
        for r in p:
            if r.tag not in (_A + "r", _A + "fld"):
                continue
            rPr = r.find(_A + "rPr")
            latin = rPr.find(_A + "latin") if rPr is not None else None
            font = latin.get("typeface") if latin is not None else default_font
            if font.startswith("+mj"):
                font = fonts[0]
            elif font.startswith("+mn"):
                font = fonts[1]
            size = int(rPr.get("sz")) / 100 if rPr is not None and rPr.get("sz") else 18.0
            runs.append(Run(r.findtext(_A + "t") or "", size, font,
                            bold=rPr is not None and rPr.get("b") == "1",
                            italic=rPr is not None and rPr.get("i") == "1"))
        end = p.find(_A + "endParaRPr")
        biggest = max([r.size for r in runs] or
                      [int(end.get("sz")) / 100 if end is not None and end.get("sz") else 18.0])
        has_bullet = pPr is not None and pPr.find(_A + "buChar") is not None
        paras.append(Para(
            runs or [Run("", biggest)],
            line_pt=pts(pPr, f"{_A}lnSpc/{_A}spcPts", line_pitch(biggest)),
            space_before=pts(pPr, f"{_A}spcBef/{_A}spcPts"),
            space_after=pts(pPr, f"{_A}spcAft/{_A}spcPts"),
            margin_left=int(pPr.get("marL", "0")) / EMU_PER_PT if pPr is not None else 0.0,
            bullet=pPr.find(_A + "buChar").get("char") if has_bullet else None))

    def inset(attr: str, default: int) -> float:
        return int(bodyPr.get(attr, default)) / EMU_PER_PT

    return Box(paras, width / EMU_PER_PT, height / EMU_PER_PT,
               inset_x=max(inset("lIns", DEFAULT_INSET_X), inset("rIns", DEFAULT_INSET_X)),
               inset_y=max(inset("tIns", DEFAULT_INSET_Y), inset("bIns", DEFAULT_INSET_Y)),
               wrap=bodyPr.get("wrap") != "none", name=name)


def overflows(prs, fonts: tuple[str, str] | None = None) -> list[str]:
    """Every text box of the deck whose measured text leaves its shape, or a shape the slide.
    `fonts` are the theme's (major, minor) fonts, if known.

    Read from the slides' XML directly: through python-pptx's shape objects, this check took a
    fifth of the time to build a deck. A shape without a position of its own (one that inherits
    it from its layout) is asked through python-pptx."""
    fonts = fonts or theme_fonts(prs)
    W, H = prs.slide_width, prs.slide_height
    found = []
    for n, slide in enumerate(prs.slides, 1):
        inherited = None
        for sp in slide.element.find(_SP_TREE).iterchildren():
            path = _XFRM_PATHS.get(sp.tag)
            if path is None:
                continue
            xfrm = sp.find(path)
            off = xfrm.find(_A + "off") if xfrm is not None else None
            ext = xfrm.find(_A + "ext") if xfrm is not None else None
            if off is not None and ext is not None:
                x, y = int(off.get("x")), int(off.get("y"))
                w, h = int(ext.get("cx")), int(ext.get("cy"))
            else:
                if inherited is None:
                    inherited = {s.element: s for s in slide.shapes}
                shape = inherited[sp]
                x, y, w, h = shape.left, shape.top, shape.width, shape.height
            name = next(sp.iter(_P + "cNvPr")).get("name")
            where = f"slide {n} {name!r}"
            if x < 0 or y < 0 or x + w > W or y + h > H:
                found.append(f"{where}: outside the slide")
            box = _box_of_xml(sp, w, h, name, fonts) if sp.tag == _P + "sp" else None
            if box is None or not "".join(p.text for p in box.paras).strip():
                continue
            e = box.extent()
            if not box.fits():
                found.append(f"{where}: text {e.width:.1f} x {e.height:.1f} pt in a box of "
                             f"{box.width:.1f} x {box.height:.1f} pt")
    return found
