"""Slides on the theme's layouts: placeholders placed, footers and numbers, text fitted and written.

A text box is measured with the fonts the deck names (see pptx_text) before anything is
written: text steps down in size to a floor, then continues on a "(2/2)" slide. Nothing is left
to autofit, because PowerPoint applies it only when text is edited and Impress on load, so the
two would show different slides.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from pptx import Presentation

from ..errors import RenderError
from . import pptx_xml
from .deck_style import FOOTER_PT, MUTED, SLIDE_H, SLIDE_W, TITLE_SIZES
from .pptx_text import EMU_PER_PT, Box, Para, Run, line_pitch, theme_fonts
from .slide_text import paras_text
from .slide_xml import (C_NV_PR, EXT, NV_SP, OFF, PH_PATH, SP, SP_PR, TX_BODY, XFRM, qn,
                        set_text, tree, write_paras)


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    w: int
    h: int

    @property
    def w_pt(self) -> float:
        return self.w / EMU_PER_PT

    @property
    def h_pt(self) -> float:
        return self.h / EMU_PER_PT


def number_paras(number: str) -> list[Para]:
    """A slide number as its footer shows it (measured when first written, and when copied)."""
    return [Para([Run(number, FOOTER_PT, color=MUTED)], line_pitch(FOOTER_PT), align="r")]


def fit_pages(paras: list[Para], r: Rect, what: str, font: str, first: list[Para] = (),
              inset: tuple[float, float] | None = None) -> list[list[Para]]:
    """Paragraphs in order onto as few boxes of size r as hold them; `first` heads each box."""
    def fits(ps: list[Para]) -> bool:
        box = Box(ps, r.w_pt, r.h_pt, font=font)
        if inset:
            box.inset_x, box.inset_y = inset
        return box.fits()

    pages: list[list[Para]] = [list(first)]
    for p in paras:
        if fits(pages[-1] + [p]):
            pages[-1].append(p)
            continue
        if len(pages[-1]) > len(first):
            pages.append(list(first))
        if fits(pages[-1] + [p]):
            pages[-1].append(p)
            continue
        raise RenderError(f"{what}: one paragraph is longer than a whole slide: "
                          f"{p.text[:60]!r}")
    return pages


class SlideWriter:
    """A presentation on a theme, written slide by slide; `name` labels its errors and keys its
    slide numbers' ids, `footer_text` is every slide's footer."""

    def __init__(self, template: Path, fast: bool, name: str, footer_text: str):
        self.name = name
        self.footer_text = footer_text
        # Whether python-pptx's internals are used (see pptx_xml), and if not, why not.
        self.fast = fast
        self.slower = ""
        self.prs = Presentation(str(template))
        if (self.prs.slide_width, self.prs.slide_height) != (SLIDE_W, SLIDE_H):
            raise RenderError(f"{template}: the theme must be 16:9 "
                              f"({SLIDE_W} x {SLIDE_H} EMU)")
        self.layouts = {l.name: l for l in self.prs.slide_layouts}
        # Text runs name no font, so they follow the theme: measured here with its fonts.
        self.title_font, self.text_font = theme_fonts(template)
        self.messages: list[str] = []
        self._layout_info: dict[str, dict[int, tuple[int, Rect]]] = {}
        # By slide element: python-pptx finds a slide's id by a search of the whole deck.
        self._placeholders: dict[object, dict[int, object]] = {}
        self._notes_xml = None
        self._blank_trees: dict[str, object] = {}
        if fast:
            pptx_xml.name_parts_quickly(self.prs)

    def layouts_get(self, name: str):
        try:
            return self.layouts[name]
        except KeyError:
            raise RenderError(f"the slide theme has no layout named {name!r}; it has "
                              f"{', '.join(self.layouts)}") from None

    def layout_rect(self, layout, idx: int) -> Rect:
        found = self.layout_info(layout).get(idx)
        if found:
            return found[1]
        raise RenderError(f"layout {layout.name!r} of the slide theme has no placeholder {idx}")

    def layout_info(self, layout) -> dict[int, tuple[int, Rect]]:
        """idx -> (placeholder type, where it sits) for a layout, read once per deck."""
        info = self._layout_info.get(layout.name)
        if info is None:
            info = {ph.placeholder_format.idx: (int(ph.placeholder_format.type),
                                                Rect(ph.left, ph.top, ph.width, ph.height))
                    for ph in layout.placeholders}
            self._layout_info[layout.name] = info
        return info

    def new_slide(self, layout_name: str):
        """A slide on the layout, its placeholders placed and its footer added.

        The first slide of each layout is made through python-pptx; the others are given a copy
        of its shape tree, with their own slide number. Cloning the layout's placeholders and
        placing them one property at a time took a third of a deck's time (on the public path
        they are still cloned, then replaced)."""
        layout = self.layouts_get(layout_name)
        blank = self._blank_trees.get(layout_name)
        if blank is None:
            slide = self.prs.slides.add_slide(layout)
            if layout_name != "Deck Title":
                self.footer(slide, layout)
            info = self.layout_info(layout)
            for shape in slide.shapes:
                if shape.is_placeholder:
                    idx = shape.placeholder_format.idx
                    # Positions written on the slide itself: nothing depends on how well a
                    # program follows placeholder inheritance, and reading them back is cheap.
                    if idx in info:
                        self.set_rect(shape, info[idx][1])
            self._blank_trees[layout_name] = copy.deepcopy(tree(slide))
        else:
            slide = pptx_xml.add_bare_slide(self.prs, layout) if self.fast \
                else self.prs.slides.add_slide(layout)
            # The tree keeps its element, which python-pptx's shape collection holds on to.
            tree(slide)[:] = list(copy.deepcopy(blank))
            self._number(slide)
        if self.fast:
            # The placeholders, read from the XML: python-pptx's shape factory asks every shape
            # several XPath questions, a tenth of a deck's time when asked of every slide.
            sps = {}
            for sp in tree(slide).iterchildren(SP):
                ph = sp.find(PH_PATH)
                if ph is not None:
                    sps[int(ph.get("idx", "0"))] = sp
            phs = pptx_xml.placeholders(slide, sps)
        else:
            phs = {ph.placeholder_format.idx: ph for ph in slide.placeholders}
        self._placeholders[slide.element] = phs
        return slide

    def _number(self, slide) -> None:
        """The slide number of a slide whose footer was copied from an earlier slide's."""
        for fld in tree(slide).iter(qn("a:fld")):
            if fld.get("type") != "slidenum":
                continue
            number = str(len(self.prs.slides))
            sp = next(fld.iterancestors(qn("p:sp")))
            ext = sp.find(f"{qn('p:spPr')}/{qn('a:xfrm')}/{qn('a:ext')}")
            box = Box(number_paras(number), int(ext.get("cx")) / EMU_PER_PT,
                      int(ext.get("cy")) / EMU_PER_PT, font=self.text_font)
            if not box.fits():
                raise RenderError(f"{self.name}: slide number {number} does not fit "
                                  "its box")
            fld.set("id", self._field_id(number))
            fld.find(qn("a:t")).text = number

    def _field_id(self, number) -> str:
        """A slide number field's GUID, the same in every build of the deck (a random one
        would make two builds of the same content differ)."""
        return "{%s}" % str(uuid.uuid5(uuid.NAMESPACE_URL,
                                       f"studykit:{self.name}:{number}")).upper()

    def placeholder(self, slide, idx: int, name: str | None = None):
        ph = self._placeholders[slide.element].get(idx)
        if ph is None:
            raise RenderError(f"the slide theme's layout lacks placeholder {idx}")
        if name:
            # What `ph.name = name` writes, without python-pptx's XPath look-ups.
            ph.element.find(f"{NV_SP}/{C_NV_PR}").set("name", name)
        return ph

    def font_of(self, shape) -> str:
        """The theme font a shape's text inherits: the heading font for titles."""
        ph = shape.element.find(PH_PATH)
        is_title = ph is not None and ph.get("idx", "0") == "0"
        return self.title_font if is_title else self.text_font

    @staticmethod
    def rect(shape) -> Rect:
        xfrm = shape.element.find(f"{SP_PR}/{XFRM}")
        off = xfrm.find(OFF) if xfrm is not None else None
        ext = xfrm.find(EXT) if xfrm is not None else None
        if off is None or ext is None:   # inherited from the layout
            return Rect(shape.left, shape.top, shape.width, shape.height)
        return Rect(int(off.get("x")), int(off.get("y")), int(ext.get("cx")),
                    int(ext.get("cy")))

    @staticmethod
    def set_rect(shape, r: Rect) -> None:
        shape.left, shape.top, shape.width, shape.height = r.x, r.y, r.w, r.h

    def footer(self, slide, layout) -> None:
        """Copies of the layout's footer and slide number (python-pptx leaves them out)."""
        shapes = tree(slide)
        for idx, (kind, _) in self.layout_info(layout).items():
            name = {15: "Footer", 13: "Slide Number"}.get(kind)
            if name is None:
                continue
            sp = etree.SubElement(shapes, qn("p:sp"))
            nv = etree.SubElement(sp, qn("p:nvSpPr"))
            etree.SubElement(nv, qn("p:cNvPr"), id=str(self.next_id(slide)), name=name)
            locks = etree.SubElement(etree.SubElement(nv, qn("p:cNvSpPr")), qn("a:spLocks"))
            locks.set("noGrp", "1")
            nvpr = etree.SubElement(nv, qn("p:nvPr"))
            etree.SubElement(nvpr, qn("p:ph"), type="ftr" if name == "Footer" else "sldNum",
                             idx=str(idx))
            etree.SubElement(sp, qn("p:spPr"))
            body = etree.SubElement(sp, qn("p:txBody"))
            etree.SubElement(body, qn("a:bodyPr"))
            etree.SubElement(body, qn("a:lstStyle"))
            etree.SubElement(body, qn("a:p"))
            # Once per layout: python-pptx's own shape object for the new element will do.
            shape = next(s for s in slide.shapes if s.element is sp)
            self.set_rect(shape, self.layout_info(layout)[idx][1])
            number = len(self.prs.slides)
            if name == "Footer":
                text = self.footer_text
                paras = [Para([Run(text, FOOTER_PT, color=MUTED)], line_pitch(FOOTER_PT))]
                self.fill(shape, paras, what="footer")
            else:
                self.fill(shape, number_paras(str(number)), what="slide number")
                # The number is a field, so it stays right when slides are moved or hidden.
                p = sp.find(f"{TX_BODY}/{qn('a:p')}")
                r = p.find(qn("a:r"))
                fld = etree.Element(qn("a:fld"), id=self._field_id(number), type="slidenum")
                for child in list(r):
                    fld.append(child)
                p.replace(r, fld)

    @staticmethod
    def next_id(slide) -> int:
        ids = [int(e.get("id")) for e in tree(slide).iter(C_NV_PR)]
        return max(ids, default=1) + 1

    def fit_single(self, shape, paras_for, sizes, what: str) -> None:
        """The largest size at which the text fits the shape; failing that, an error."""
        r = self.rect(shape)
        for s in sizes:
            paras = paras_for(s)
            if Box(paras, r.w_pt, r.h_pt, font=self.font_of(shape)).fits():
                self.fill(shape, paras, what=what)
                return
        raise RenderError(f"{self.name}: {what} does not fit its box even at "
                          f"{sizes[-1]} pt: {paras_text(paras)[:80]!r}")

    def paged_slides(self, layout_name: str, title: str, paras_for, sizes, notes, what: str,
                     one: bool = False):
        """Body text on as many slides as it needs, each continuation titled (k/n); with
        `one`, on one slide or not at all."""
        layout = self.layouts_get(layout_name)
        r = self.layout_rect(layout, 1)
        pages = None
        for s in sizes:
            paras = paras_for(s)
            if Box(paras, r.w_pt, r.h_pt, font=self.text_font).fits():
                pages = [paras]
                break
        if pages is None and one:
            raise RenderError(f"{self.name}: {what} does not fit one slide even at "
                              f"{sizes[-1]} pt")
        if pages is None:
            pages = fit_pages(paras_for(sizes[-1]), r, what, self.text_font)
        total = len(pages)
        for k, paras in enumerate(pages, 1):
            slide = self.new_slide(layout_name)
            part = f" ({k}/{total})" if total > 1 else ""
            self.fit_single(self.placeholder(slide, 0, "Title"),
                            lambda s: [Para([Run(title + part, s, bold=True)], line_pitch(s))],
                            TITLE_SIZES, what=f"{what} title")
            self.fill(self.placeholder(slide, 1, "Body"), paras, what=what)
            self.notes(slide, notes if k == 1 else [f"{title}, continued.", ""] + notes)

    def fill(self, shape, paras: list[Para], inset_x: float | None = None,
             inset_y: float | None = None, wrap: bool = True, what: str = "",
             anchor: str | None = None) -> None:
        """Write paragraphs into a shape, after checking that they fit it."""
        r = self.rect(shape)
        box = Box(paras, r.w_pt, r.h_pt, wrap=wrap, name=what, font=self.font_of(shape))
        if inset_x is not None:
            box.inset_x = inset_x
        if inset_y is not None:
            box.inset_y = inset_y
        if not box.fits():
            e = box.extent()
            raise RenderError(f"{self.name}: {what} needs {e.width:.0f} x "
                              f"{e.height:.0f} pt but its box is {r.w_pt:.0f} x {r.h_pt:.0f}")
        if not (0 <= r.x and r.x + r.w <= SLIDE_W and 0 <= r.y and r.y + r.h <= SLIDE_H):
            raise RenderError(f"{self.name}: {what} lies outside the slide")
        write_paras(shape.element.find(TX_BODY), paras, box, wrap=wrap, anchor=anchor)

    def notes(self, slide, lines: list[str]) -> None:
        text = "\n".join(lines).strip()
        for sp in self.notes_slide(slide).iter(SP):
            ph = sp.find(PH_PATH)
            if ph is not None and ph.get("type") == "body":
                set_text(sp.find(TX_BODY), text)
                return
        raise RenderError("the slide theme's notes master has no body placeholder")

    def notes_slide(self, slide):
        """The XML of the slide's notes page, new. python-pptx makes one by cloning the notes
        master's placeholders one at a time, a sixth of a deck's time; the first is made so,
        and on the fast path the rest are copies of it (see pptx_xml.add_notes_slide)."""
        if self._notes_xml is None or not self.fast:
            element = slide.notes_slide.element
            if self._notes_xml is None:
                self._notes_xml = copy.deepcopy(element)
            return element
        element = copy.deepcopy(self._notes_xml)
        pptx_xml.add_notes_slide(slide, element)
        return element

