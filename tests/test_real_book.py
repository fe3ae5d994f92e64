"""The real bank's handbook, on A4 and on Letter: what the paper edition promises its readers.

The fixture book is too small to fill a page budget or to meet most samples' outputs, so this
builds the book from content/: at most 400 pages, no page more than a third empty except where a
part ends, and no line of output that fits its box wrapped. It builds with the project's own
cache, as `make` does (its keys are the inputs, so sharing it is safe): the samples' results and
the A4 book's parts it leaves there are the ones `make` would make next, so in CI, which runs
`make` after the tests, this costs little more than the Letter book's layout.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import build
from conftest import ROOT
from pdfread import Document
from studykit.loader import load_kit
from studykit.render.handbook import MARGIN_BOTTOM, MARGIN_TOP, TEXT_WIDTH

from test_handbook import wrapped_output_lines

PT_PER_MM = 72 / 25.4

PAGE_BUDGET = 400


@pytest.fixture(scope="module")
def books(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("real-book")
    paths = {}
    for paper, name in (("a4", "handbook.pdf"), ("letter", "handbook-letter.pdf")):
        result = CliRunner().invoke(
            build.cli, ["--content", str(ROOT / "content"), "--output", str(root / "out"),
                        "handbook", "--paper", paper])
        assert result.exit_code == 0, result.output
        paths[paper] = root / "out" / name
    return paths


@pytest.fixture(scope="module")
def questions():
    return load_kit(ROOT / "content").questions


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_the_real_book_keeps_its_page_budget_and_leaves_no_page_a_third_empty(books, paper):
    with Document(books[paper]) as pdf:
        assert pdf.page_count <= PAGE_BUDGET, f"{paper}: {pdf.page_count} pages"
        # From pdftotext's word boxes, which read 400 pages in seconds, where test_handbook's
        # glyph by glyph reading takes a minute.
        shares, starts = {}, set()
        top = MARGIN_TOP * PT_PER_MM
        for page in pdf:
            bottom = page.rect.height - MARGIN_BOTTOM * PT_PER_MM
            body = [w for w in page.words() if top - 1 <= w.y0 and w.y1 <= bottom + 1]
            shares[page.number] = (bottom - max((w.y1 for w in body), default=top)) / (
                bottom - top)
            # A part starts under a title of 20 pt or more (a chapter's, the guide's...): a
            # word box 27 pt high or more; 13 pt question titles make boxes under 19.
            if any(w.y1 - w.y0 >= 24 for w in page.words()):
                starts.add(page.number)
        ends = {n - 1 for n in starts} | {0, pdf.page_count - 1}
        assert len(starts) >= 15   # the chapters' openers at least
        worst = max((n for n in shares if n not in ends), key=shares.get)
        assert shares[worst] <= 1 / 3, f"{paper}: page {worst + 1} is {shares[worst]:.0%} empty"


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_no_line_of_the_real_book_s_output_is_wrapped(books, questions, paper):
    with Document(books[paper]) as pdf:
        checked, wrapped = wrapped_output_lines(pdf, questions)
    assert checked >= 500
    assert not wrapped, wrapped


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_each_page_s_header_names_the_question_the_page_starts_in(books, questions, paper):
    # The question a page starts in: the last whose heading (its number, 13 pt, at the column's
    # left edge) is on an earlier page, or at the very top of this one.
    numbers = {q.number for q in questions}
    headings, tops, headers = [], {}, {}
    with Document(books[paper]) as pdf:
        for page in pdf:
            side = (page.rect.width - TEXT_WIDTH * PT_PER_MM) / 2
            top = MARGIN_TOP * PT_PER_MM
            words = page.words()
            column = [w for w in words if w.x0 >= side - 1 and w.y0 >= top - 1]
            tops[page.number] = min((w.y0 for w in column), default=None)
            headings += [(page.number, w.y0, int(w.text)) for w in column
                         if 17 <= w.y1 - w.y0 <= 20 and w.text.isdigit()
                         and int(w.text) in numbers and abs(w.x0 - side) < 3]
            head = " ".join(w.text for w in sorted(words, key=lambda w: w.x0) if w.y1 < top)
            if m := re.search(r"Question (\d+)$", head):
                headers[page.number] = int(m.group(1))
    headings.sort()
    assert len(headings) == len(numbers) and len(headers) > 300
    for n, shown in headers.items():
        started = [h for h in headings if h[0] < n or (h[0] == n and h[1] <= tops[n] + 3)]
        assert started and shown == started[-1][2], \
            f"{paper}: page {n + 1} says question {shown}, starts in {started[-1][2]}"
