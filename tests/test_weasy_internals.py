"""Pagination that can start part-way: every page it makes is the page WeasyPrint itself makes."""

from __future__ import annotations

import pickle

import pytest
from weasyprint import CSS, HTML

from studykit.render.weasy_internals import render

STYLE = """
@page { size: 120mm 90mm; margin: 15mm 10mm;
  @top-left { content: string(chapter); font-size: 7pt }
  @top-right { content: string(section, first); font-size: 7pt }
  @bottom-center { content: counter(page); font-size: 7pt } }
@page opener { @top-left { content: none } }
body { font: 9pt "DejaVu Serif", serif; }
h1 { string-set: chapter content(text); page: opener; break-after: page; }
h2 { string-set: section content(text); bookmark-level: 2; break-after: avoid; margin: 3mm 0 1mm; }
.keep { break-inside: avoid; border: 1px solid black; }
.part { bookmark-level: 1; bookmark-label: "Part two"; }
p { orphans: 2; widows: 2; }
"""


def _document(words_in_section_3: int = 40) -> str:
    sections = []
    for n in range(1, 9):
        count = words_in_section_3 if n == 3 else 40 + 7 * n
        words = " ".join(f"word{n}x{i}" for i in range(count))
        sections.append(f'<h2 id="s{n}">Section {n}</h2><p>{words}</p>'
                        f'<div class="keep"><p>{words[:300]}</p></div><p>{words}</p>')
    # Part two runs over many pages: a layout that starts inside it must not mark it again.
    return (f"<html><body><h1>Chapter one</h1>{sections[0]}"
            f"<div class='part'>{''.join(sections[1:])}</div></body></html>")


def _stylesheets() -> list:
    return [CSS(string=STYLE)]


def _boxes(page_box) -> list[tuple]:
    """Every text box of a page (margin boxes included) with its position, and its bookmarks."""
    found = []

    def walk(box):
        if type(box).__name__ == "TextBox":
            found.append((box.text, round(box.position_x, 4), round(box.position_y, 4)))
        if getattr(box, "bookmark_label", None):
            found.append(("bookmark", box.bookmark_label))
        for child in box.all_children() if hasattr(box, "all_children") else ():
            walk(child)

    walk(page_box)
    return found


def _pages(document) -> list[list[tuple]]:
    return [_boxes(page._page_box) for page in document.pages]


def _weasyprint(html: str):
    return HTML(string=html).render(stylesheets=_stylesheets())


def test_from_the_first_page_it_lays_out_as_weasyprint_does():
    html = _document()
    document, pagination, rejoined = render(html, None, _stylesheets())
    expected = _weasyprint(html)
    assert rejoined is None
    assert len(document.pages) == len(expected.pages) > 5
    assert _pages(document) == _pages(expected)
    assert [p.bookmarks for p in document.pages] == [p.bookmarks for p in expected.pages]
    assert len(pagination.clean) == len(document.pages)
    # Page 2's running header names the chapter set on page 1.
    assert any(text == "Chapter one" for text, *_ in _pages(document)[2])


def _same_pagination(one, other) -> bool:
    return (pickle.loads(one.entries), one.clean, one.strings) == (
        pickle.loads(other.entries), other.clean, other.strings)


@pytest.mark.parametrize("start", [1, 2, 3])
def test_started_part_way_after_an_edit_it_makes_the_pages_a_full_layout_makes(start):
    before = _document()
    _, pagination, _ = render(before, None, _stylesheets())
    after = _document(words_in_section_3=400)   # section 3 now runs over more pages
    expected = _weasyprint(after)
    assert len(expected.pages) > len(pagination.clean)

    # Every later page starts elsewhere than before: it never rejoins the earlier layout.
    document, resumed, rejoined = render(after, None, _stylesheets(),
                                         pagination.seed(start, rejoin_after="s4"))
    assert rejoined is None
    assert len(document.pages) == len(expected.pages) - start
    assert _pages(document) == _pages(expected)[start:]
    # What it keeps for the next edit is what a layout from the first page keeps.
    _, full, _ = render(after, None, _stylesheets())
    assert _same_pagination(resumed, full)


def test_an_edit_that_moves_nothing_rejoins_the_earlier_layout_after_the_next_element():
    before = _document()
    earlier, pagination, _ = render(before, None, _stylesheets())
    # Digits are all as wide as each other: no line of section 3 breaks elsewhere.
    after = before.replace("word3x17 ", "word3x18 ")
    expected = _weasyprint(after)
    assert _pages(expected) != _pages(earlier)
    s3 = next(i for i, page in enumerate(earlier.pages) if "s3" in page.anchors)
    s4 = next(i for i, page in enumerate(earlier.pages) if "s4" in page.anchors)

    document, resumed, rejoined = render(after, None, _stylesheets(),
                                         pagination.seed(s3, rejoin_after="s4"))
    assert rejoined == s4 + 1
    assert _pages(document) == _pages(expected)[s3:rejoined]
    assert _pages(earlier)[rejoined:] == _pages(expected)[rejoined:]
    _, full, _ = render(after, None, _stylesheets())
    assert _same_pagination(resumed, full)
    # Without an element to rejoin after, it lays out to the end.
    document, _, rejoined = render(after, None, _stylesheets(), pagination.seed(s3))
    assert rejoined is None and _pages(document) == _pages(expected)[s3:]


def test_where_the_edit_is_decides_nothing_here_but_the_pages_before_start_are_trusted():
    # Started after the edited section, the layout cannot know of the edit: the caller must
    # start at or before it (PartCache.resume_for does).
    before = _document()
    _, pagination, _ = render(before, None, _stylesheets())
    assert pagination.resumable_at(1) and not pagination.resumable_at(0)
    assert not pagination.resumable_at(len(pagination.clean))


def test_page_based_counters_that_need_another_pass_are_refused():
    html = _document()
    # In a margin box the number of pages is known when it is drawn; in the flow it is not.
    sheets = [CSS(string=STYLE + "@page { @bottom-right { content: counter(pages) } }")]
    document, _, _ = render(html, None, sheets)
    assert _pages(document) == _pages(HTML(string=html).render(stylesheets=sheets))
    sheets = [CSS(string=STYLE + "h2::after { content: ' of ' counter(pages) }")]
    assert render(html, None, sheets) == (None, None, None)


def test_a_fixed_box_makes_no_page_a_place_to_start():
    html = _document().replace("<body>", '<body><div style="position: fixed; top: 0">F</div>')
    document, pagination, _ = render(html, None, _stylesheets())
    assert _pages(document) == _pages(_weasyprint(html))
    assert not any(pagination.resumable_at(i) for i in range(len(pagination.clean)))
