"""Page numbers drawn onto a laid-out part, in its stand-ins' places, in a font cut to digits."""

from __future__ import annotations

import hashlib
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..cachefile import read_cache, write_cache
from ..workers import gc_paused
from .pdfcommon import pdf_number, pikepdf, saved

# Stamp fonts by file, loaded once per process.
_STAMP_FONTS: dict[str, StampFont] = {}


@gc_paused()
def stamp_part(pdf: bytes, stamps: list, numbers: list[int],
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
                    font, stamp_font(font, cache_dir))
                if font not in embedded:
                    embedded[font] = (pk.Name(f"/Stamp{len(embedded)}"), face.embed(doc))
                name, _ = embedded[font]
                text = face.printable(f"{prefix}{number}")
                width = face.width(text, size)
                x0 = {"right": x - width, "left": x}.get(align, x - width / 2)
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
        return saved(doc)


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
            ItalicAngle=pdf_number(self.italic_angle), Ascent=self.ascent, Descent=self.descent,
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
            LastChar=last, Widths=[pdf_number(self.widths.get(chr(c), 0.0), 3)
                                   for c in range(first, last + 1)],
            FontDescriptor=descriptor, Encoding=encoding,
            ToUnicode=doc.make_stream(cmap.encode())))


def stamp_font(path: str, cache_dir: Path | None = None) -> StampFont:
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
