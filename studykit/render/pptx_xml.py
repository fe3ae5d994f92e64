"""Every use of python-pptx's internals, on the version it was tested with, and nowhere else.

A deck writes its XML through the documented escape hatch, `.element` on slides and shapes,
which needs no guard. What goes further, each much faster than the public way:
- new parts named from a set kept up to date, instead of a walk over every part of the package
  for each (`name_parts_quickly`);
- a slide added without python-pptx cloning its layout's placeholders, which the deck replaces
  at once with a copy of an earlier slide's shapes (`add_bare_slide`);
- placeholder objects made straight from their XML, without the shape factory's XPath
  questions (`placeholders`);
- notes pages copied from the first one, instead of cloned from the notes master placeholder
  by placeholder (`add_notes_slide`);
- the theme's XML read from its part, instead of from a saved copy of the deck (`theme_xml`);
  templates/slides/build_theme.py also writes it (`set_theme_xml`), for which python-pptx has no
  public way at all: that script runs only where `unusable()` says nothing.
Each is used only when `unusable()` says nothing; otherwise, or when one raises, the deck is
built again through the public API (see deck.build_with), which makes the same deck, slower.
"""
from __future__ import annotations

from .base import untested

# The python-pptx releases the code below was tested with (the whole suite, on both paths), as
# in requirements/lock.txt. A new release is added here once the suite passes on it.
TESTED = ("1.0.2",)


def unusable() -> str:
    """Why python-pptx's internals are not to be used here ("" if they may be)."""
    return untested("python-pptx", "python-pptx", TESTED)


def name_parts_quickly(prs) -> None:
    """python-pptx names each new part (a slide, its notes) by walking every part of the
    package: quadratic in the deck's length. Here the names in use are collected once and kept
    up to date; the name given is the same, the lowest free number, as the parts are numbered
    without gaps. Only templates whose parts are all named this way are asked for."""
    from pptx.opc.packuri import PackURI

    package = prs.part.package
    taken = {str(part.partname) for part in package.iter_parts()}

    def next_partname(tmpl: str) -> PackURI:
        n = 1
        while tmpl % n in taken:
            n += 1
        taken.add(tmpl % n)
        return PackURI(tmpl % n)

    package.next_partname = next_partname


def add_bare_slide(prs, layout):
    """A new last slide on `layout`, with the layout's placeholders not yet cloned onto it."""
    slides = prs.slides
    rId, slide = slides.part.add_slide(layout)
    slides._sldIdLst.add_sldId(rId)
    return slide


def placeholders(slide, sps) -> dict:
    """idx -> placeholder object, for the placeholder elements `sps` of the slide."""
    from pptx.shapes.placeholder import SlidePlaceholder

    shapes = slide.shapes
    return {idx: SlidePlaceholder(sp, shapes) for idx, sp in sps.items()}


def add_notes_slide(slide, element) -> None:
    """Give the slide `element` as its notes page, related as python-pptx relates one."""
    from pptx.opc.constants import CONTENT_TYPE as CT
    from pptx.opc.constants import RELATIONSHIP_TYPE as RT
    from pptx.parts.slide import NotesSlidePart

    slide_part = slide.part
    package = slide_part.package
    part = NotesSlidePart(package.next_partname("/ppt/notesSlides/notesSlide%d.xml"),
                          CT.PML_NOTES_SLIDE, package, element)
    part.relate_to(package.presentation_part.notes_master_part, RT.NOTES_MASTER)
    part.relate_to(slide_part, RT.SLIDE)
    slide_part.relate_to(part, RT.NOTES_SLIDE)


def _theme_part(prs):
    from pptx.opc.constants import RELATIONSHIP_TYPE as RT

    return prs.slide_master.part.part_related_by(RT.THEME)


def theme_xml(prs) -> bytes:
    """The XML of the slide master's theme."""
    return _theme_part(prs).blob


def set_theme_xml(prs, xml: bytes) -> None:
    """Replace the XML of the slide master's theme."""
    _theme_part(prs)._blob = xml
