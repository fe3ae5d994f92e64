"""DrawingML written straight into a slide: the same XML python-pptx's own path writes."""

from lxml import etree
from pptx import Presentation

from studykit.render.slide_xml import set_text


def test_notes_are_written_as_python_pptx_writes_them():
    """Notes text goes into the XML directly (python-pptx's path was a tenth of a deck's
    time): lines, vertical tabs, empty lines and control characters must come out the same."""
    text = "First line\n\nA tab\there, a\vbreak, \x1b an escape\n  indented\v\vtwo breaks\n"
    deck = Presentation()
    theirs = deck.slides.add_slide(deck.slide_layouts[1]).notes_slide.notes_text_frame
    theirs.text = text
    mine = deck.slides.add_slide(deck.slide_layouts[1]).notes_slide.notes_text_frame
    mine.text = "something else, replaced"
    set_text(mine._txBody, text)
    assert etree.tostring(mine._txBody) == etree.tostring(theirs._txBody)
    assert mine.text == theirs.text
