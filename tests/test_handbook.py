"""The handbook, read back from the produced PDF (tests/pdfread.py): what a reader and a printer
get.

One book is built end to end (CLI, sample check, render) from the fixture bank plus one question
made for the handbook (long lines, non-Latin text, every part of an answer); most tests read it.
"""

from __future__ import annotations

import io
from collections import Counter
import os
import re
import shutil
import time
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from fontTools.ttLib import TTFont

import build
from studykit import checker
from studykit.api import Project
from studykit.model import DESCRIBED_VERSIONS
from studykit.render.base import TEMPLATES_DIR, BuildContext, forced_public
from studykit.workers import InlineExecutor
from studykit.render.handbook import (CODE_COLUMNS, KEEP_LINES, LIST_COLUMNS, MARGIN_BOTTOM,
                                      MARGIN_TOP, MARKS, PAPERS, PRINTABLE_INSET, QUOTE_COLUMNS,
                                      TEXT_WIDTH, HandbookRenderer, _and_list, label_fits_first_line,
                                      markdown_html, name_breaks, run_in, study_plan, study_plans,
                                      subject_index, verified_text)
from studykit.render.partcache import PartCache
from studykit.render.partschedule import lay_out
from studykit.render.weasy_internals import _walk

from pdfread import Document, Rect

FIXTURES = Path(__file__).parent / "fixtures"
PT_PER_MM = 72 / 25.4
LINE_72 = 'print("' + "ruler-" * 10 + 'abc")'
MONO = "DejaVu-Sans-Mono"


def _build(root: Path, *args: str) -> Path:
    result = CliRunner().invoke(
        build.cli, ["--content", str(root / "content"), "--output", str(root / "out"),
                    "handbook", *args],
        env={"KIT_CACHE_DIR": str(root / "cache")})
    assert result.exit_code == 0, result.output
    name = ("handbook" + ("-core" if "core" in args else "")
            + ("-letter" if "letter" in args else "") + ".pdf")
    assert f"wrote {root / 'out' / name}" in result.output
    return root / "out" / name


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("handbook")
    shutil.copytree(FIXTURES / "bank", root / "content")
    shutil.copy(FIXTURES / "handbook" / "004-long-lines.toml", root / "content" / "01-alpha")
    return root


@pytest.fixture(scope="module")
def kit(root):
    return Project(content_dir=root / "content").load()


@pytest.fixture(scope="module")
def pdf(root):
    path = _build(root)
    with Document(path) as doc:
        yield doc


def _norm(text: str) -> str:
    # A line may break after a hyphen or slash; extraction then shows a space there.
    return re.sub(r"([-/]) ", r"\1", re.sub(r"\s+", " ", text)).strip()


def _lines(page) -> list[dict]:
    """Text lines of a page, read from its content streams: text, bbox, the fonts and sizes of
    their spans, their characters (each with its box)."""
    return [{"text": line.text, "bbox": line.bbox, "fonts": line.fonts, "size": line.size,
             "chars": line.chars, "spans": line.spans} for line in page.lines()]


def _reading_text(page) -> str:
    """The page's words line by line, left to right: page numbers are stamped after the rest
    of the page is drawn, so in drawing order they come last."""
    rows: list[list] = []
    for w in sorted(page.words(), key=lambda w: (w.y1, w.x0)):
        if rows and abs(rows[-1][0].y1 - w.y1) < 2:
            rows[-1].append(w)
        else:
            rows.append([w])
    return "\n".join(" ".join(w.text for w in sorted(row, key=lambda w: w.x0)) for row in rows)


def _sorted_text(page) -> str:
    """The page's text lines top to bottom, left to right (a word set in two sizes, as small
    capitals are, stays one word)."""
    return "\n".join(line.text for line in page.lines())


def _heading_pages(pdf, kit) -> dict[int, int]:
    """Question number -> index of the page whose question heading (13 pt) starts with it."""
    found = {}
    for i, page in enumerate(pdf):
        for line in _lines(page):
            m = re.match(r"(\d+) ", line["text"])
            if m and abs(line["size"] - 13) < 0.2 and kit.question(int(m.group(1))):
                found[int(m.group(1))] = i
    return found


def _column(page) -> tuple[float, float]:
    side = (page.rect.width - TEXT_WIDTH * PT_PER_MM) / 2
    return side, page.rect.width - side


# ------------------------------------------------------------------ paper and print area

def test_every_page_is_a4(pdf):
    w, h = PAPERS["a4"].width * PT_PER_MM, PAPERS["a4"].height * PT_PER_MM
    assert pdf.page_count > 5
    for page in pdf:
        assert page.rect.width == pytest.approx(w, abs=0.5)
        assert page.rect.height == pytest.approx(h, abs=0.5)


def _assert_inside_printable_area(doc):
    inset = PRINTABLE_INSET * PT_PER_MM
    for n, page in enumerate(doc, start=1):
        area = Rect(inset, inset, page.rect.width - inset, page.rect.height - inset)
        left, right = _column(page)
        for line in _lines(page):
            for c in line["chars"]:
                box = c.bbox
                if c.c.isspace() or box.is_empty:
                    continue
                assert area.contains(box), f"page {n}: {c.c!r} at {box} is outside {area}"
            if MONO in "".join(line["fonts"]):
                # Code and output never run past the text column, whatever their length.
                assert line["bbox"].x1 <= right + 0.5, f"page {n}: {line['text']!r} overflows"


def test_no_glyph_outside_the_printable_area(pdf):
    _assert_inside_printable_area(pdf)


def test_letter_paper(root, tmp_path):
    letter = tmp_path / "letter"
    shutil.copytree(root / "content", letter / "content")
    if (root / "cache").exists():   # the sample results of the A4 build, when it ran first
        shutil.copytree(root / "cache", letter / "cache")
    with Document(_build(letter, "--paper", "letter")) as doc:
        for page in doc:
            assert (page.rect.width, page.rect.height) == pytest.approx((612, 792), abs=0.5)
        _assert_inside_printable_area(doc)


def _has_glyph(program: bytes, char: str) -> bool:
    """Whether an embedded font file maps `char` to a glyph."""
    return ord(char) in (TTFont(io.BytesIO(program), lazy=True).getBestCmap() or {})


def test_fonts_are_embedded_and_fall_back_for_other_scripts(pdf):
    names = set()
    for page in pdf:
        for font in page.fonts():
            assert font.embedded, f"{font.basefont} is not embedded"
            names.add(font.name)
    assert {"Noto-Serif", "Noto-Sans-Bold", MONO} <= names
    # Characters Noto Serif lacks are set in a font that has them, never as an empty box.
    checked = set()
    for page in pdf:
        # Each part of the book has its own subsets, under the same names: look on the page.
        by_name = {font.name: font for font in page.fonts()}
        for line in _lines(page):
            for span in line["spans"]:
                for c in span.chars:
                    if c.c in "λЖ→" and c.c not in checked:
                        program = pdf.font_program(by_name[span.font])
                        # Drawn with a glyph of its own (CID 0 is .notdef, the empty box), one
                        # the font maps the character to.
                        assert c.glyph != 0 and _has_glyph(program, c.c), \
                            f"{c.c!r} has no glyph in {span.font}"
                        checked.add(c.c)
    assert checked == set("λЖ→")


# ------------------------------------------------------------------ what the book contains

def test_cover(pdf, kit):
    text = _norm(pdf[0].text())
    assert "Python Interview Handbook" in text
    labels = [i.label for i in checker.discover(all_pythons=True)]
    assert labels and all(label in text for label in labels)
    assert date.today().isoformat() in text
    assert f"{len(kit.questions)} of {len(kit.bank)} questions answered" in text
    for letter, name in (("E", "Easy"), ("M", "Medium"), ("H", "Hard"), ("X", "Expert")):
        assert f"{letter} {name}" in text


def test_cover_and_guide_say_which_versions_no_sample_ran_on(pdf):
    ran = {tuple(map(int, i.version.split(".")[:2])) for i in checker.discover(all_pythons=True)}
    not_run = [f"{a}.{b}" for a, b in DESCRIBED_VERSIONS if (a, b) not in ran]
    assert not_run, "this machine runs every described version: the sentence is not printed"
    named = not_run[0] if len(not_run) == 1 else ", ".join(not_run[:-1]) + " and " + not_run[-1]
    cover, guide = _norm(pdf[0].text()), _norm(pdf[1].text())
    assert "DESCRIBES CPython 3.10 to 3.15" in cover   # the heading is set in capitals
    assert f"statements about {named} come from the documentation and CPython's source" in cover
    assert f"No sample was run on {named}" in guide


def test_no_version_is_named_as_unexecuted_when_every_one_ran():
    import jinja2
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR / "handbook"),
                             autoescape=True)
    common = dict(title="T", subtitle="S", interpreters=["CPython 3.10.0"], build_date="d",
                  described="CPython 3.10 to 3.15", answered=0, total=0, levels=[], chapters=[],
                  letters={}, marks={}, page_of=lambda anchor: "", first_number=2,
                  last_number=3, plan=[], edition="full")
    every = _norm(re.sub(r"<[^>]+>", " ", env.get_template("front.html.j2").render(
        **common, not_run="")))
    assert "Describes CPython 3.10 to 3.15" in every
    assert "statements about" not in every and "No sample was run" not in every
    assert _and_list(["3.15"]) == "3.15"
    assert _and_list(["3.10", "3.14", "3.15"]) == "3.10, 3.14 and 3.15"


def test_every_answered_question_is_in_the_book_once_as_a_heading(pdf, kit):
    headings = _heading_pages(pdf, kit)
    assert sorted(headings) == sorted(q.number for q in kit.questions)
    for q in kit.questions:
        page = _norm(pdf[headings[q.number]].text())
        assert f"{q.number} {q.question}" in page
        assert _norm(q.summary.replace("`", "")) in page   # backticks print as code
    assert "What is 1 + 1?" not in {_norm(line["text"]) for p in pdf for line in _lines(p)
                                    if line["size"] > 12}


def test_difficulty_badge_has_a_letter_beside_each_heading(pdf, kit):
    headings = _heading_pages(pdf, kit)
    letters = {"easy": "E", "medium": "M", "hard": "H", "expert": "X"}
    for q in kit.questions:
        page = pdf[headings[q.number]]
        left, _ = _column(page)
        margin_text = _norm(" ".join(line["text"] for line in _lines(page)
                                     if line["bbox"].x1 <= left))
        # A shape and a letter, so the level reads without colour. (The gap between the two
        # reads as a space or none, depending on the reader: either is the badge.)
        assert re.search(rf"{re.escape(MARKS[q.difficulty][0])} ?{letters[q.difficulty]}\b",
                         margin_text), margin_text
        assert q.difficulty.upper() in margin_text


def test_bookmarks_are_topics_then_questions(pdf, kit):
    toc = pdf.toc()
    headings = _heading_pages(pdf, kit)
    for topic in (t for t in kit.topics if t.questions):
        at = [i for i, (level, title, _) in enumerate(toc)
              if level == 1 and title == f"{topic.position} {topic.title}"]
        assert len(at) == 1, topic.title
        children = []
        for level, title, page in toc[at[0] + 1:]:
            if level == 1:
                break
            children.append((title, page))
        assert [t for t, _ in children] == [f"{q.number} {q.question}" for q in topic.questions]
        for (_, page), q in zip(children, topic.questions):
            assert page == headings[q.number] + 1


def _link_entries(page) -> list[tuple[str, int | None, Rect]]:
    """(destination, target page, area) per linked entry: WeasyPrint writes one link per box of
    an entry (its number, text, page number...), so rects to one place that touch are joined."""
    by_dest: dict[tuple[str, int | None], list[Rect]] = {}
    for link in page.links():
        if link.kind in ("goto", "named"):
            by_dest.setdefault((link.name or "", link.page), []).append(link.rect)
    entries = []
    for (dest, target), rects in by_dest.items():
        rects.sort(key=lambda r: (r.y0, r.x0))
        area = rects[0]
        for r in rects[1:]:
            if r.y0 <= area.y1 + 2:
                area = area | r
            else:
                entries.append((dest, target, area))
                area = r
        entries.append((dest, target, area))
    return entries


def test_internal_links_land_on_their_target(pdf, kit):
    headings = _heading_pages(pdf, kit)
    titles = {"guide": "How to use this guide", "contents": "Contents",
              "checklist": "Progress checklist", "subject-index": "Index"}
    seen, numbered = set(), 0
    for page in pdf:
        for dest, target, area in _link_entries(page):
            assert target is not None and target >= 0, \
                f"page {page.number + 1}: link to {dest!r} goes nowhere"
            if re.fullmatch(r"q\d+", dest):
                assert target == headings[int(dest[1:])], dest
            elif re.fullmatch(r"ch\d+", dest):
                topic = next(t for t in kit.topics if t.position == int(dest[2:]))
                opener = _norm(_sorted_text(pdf[target]))
                assert opener.startswith(f"CHAPTER {topic.position} {topic.title}"), dest
            else:
                assert _norm(_sorted_text(pdf[target])).startswith(titles[dest]), dest
            # Every linked entry ends with the page number it lands on.
            shown = _norm(page.textbox(area))
            m = re.search(r"(\d+)$", shown)
            assert m and int(m.group(1)) == target + 1, f"{shown!r} links to page {target + 1}"
            numbered += 1
            seen.add(dest)
    assert {f"q{q.number}" for q in kit.questions} <= seen
    assert {"guide", "checklist"} <= seen
    assert numbered >= 2 * len(kit.questions)   # contents and checklist


def test_see_also_shows_number_and_page_and_links_only_within_the_book(pdf, kit):
    headings = _heading_pages(pdf, kit)
    pages = [p for p in pdf if "What marks a wrapped line?" in p.text()]
    assert pages
    # The list follows that follow-up, on its page or (split or pushed) the next.
    after = list(pdf)[pages[0].number:pages[0].number + 2]
    text = _norm(" ".join(_reading_text(page) for page in after))
    assert re.search(rf"2 What does print do\?[ .]* p\. {headings[2] + 1}\b", text)
    assert re.search(rf"5 How do exceptions end a program\?[ .]* p\. {headings[5] + 1}\b", text)
    assert "6 What is 1 + 1? (not in this book)" in text
    assert not any(link.name == "q6" for p in pdf for link in p.links())


def test_samples_show_highlighted_code_output_and_interpreters(pdf, kit):
    q = kit.question(2)
    text = _norm(" ".join(p.text() for p in pdf))
    labels = [i.label for i in checker.discover(all_pythons=True)]
    for sample in q.samples:
        assert _norm(sample.code) in text
    # The 3.12-only sample names just the interpreters it ran on.
    newer = [label for label in labels if tuple(map(int, label.split()[-1].split(".")[:2])) >= (3, 12)]
    assert "Verified on CPython " + ", ".join(label.split()[-1] for label in newer) in text
    assert "then raises KeyError" in text
    # Pygments colours keywords and strings differently from names, in a monospace font.
    colours = {}
    for page in pdf:
        for line in _lines(page):
            for span in line["spans"]:
                if span.font.startswith(MONO):
                    colours.setdefault(span.font, set()).add(span.color)
    assert MONO + "-Bold" in colours and len(colours[MONO]) >= 3


def test_a_72_column_line_fits_and_longer_lines_wrap_with_a_mark(pdf):
    page = next(p for p in pdf if LINE_72 in p.text())
    lines = _lines(page)
    left, right = _column(page)
    assert any(line["text"] == LINE_72 for line in lines), "the 72-column line was wrapped"

    # The 150-character run of x and the 30 words of output each wrap inside the column.
    xs = [line for line in lines if re.fullmatch(r"x+", line["text"].strip())]
    assert len(xs) >= 2 and sum(len(line["text"].strip()) for line in xs) == 150
    words = [line for line in lines if re.fullmatch(r"(word ?)+", line["text"].strip())]
    assert len(words) >= 2 and sum(line["text"].count("word") for line in words) == 30
    marks = [d.rect for d in page.drawings() if d.kind == "s"]
    for rows in (xs, words):
        first, rest = rows[0], rows[1:]
        for row in rows:
            assert row["bbox"].x1 <= right + 0.5
        for row in rest:
            # Continuation rows start further in, behind a drawn mark level with them.
            assert row["bbox"].x0 > first["bbox"].x0 + 3
            assert any(m.x1 <= row["bbox"].x0 and m.y0 >= row["bbox"].y0 - 1
                       and m.y1 <= row["bbox"].y1 + 1 for m in marks), row["text"][:20]
        assert not any(m.y0 >= first["bbox"].y0 - 1 and m.y1 <= first["bbox"].y1 + 1
                       for m in marks)


def test_wrapped_answer_code_keeps_its_indentation(pdf):
    page = next(p for p in pdf if "some_function_name" in p.text())
    lines = _lines(page)
    start = next(i for i, line in enumerate(lines) if "some_function_name" in line["text"])
    first, cont = lines[start], lines[start + 1]
    # The continuation row starts with a word the line could not hold.
    assert cont["text"].lstrip().startswith(("third_argument", "fourth_argument"))
    def_line = next(line for line in lines if line["text"].startswith("def f"))
    # "    result = ..." is indented by four columns; its continuation starts further right.
    start_x = next(c.bbox.x0 for c in first["chars"] if not c.c.isspace())
    assert start_x > def_line["bbox"].x0 + 10
    assert next(c.bbox.x0 for c in cont["chars"] if not c.c.isspace()) > start_x


def _starts_with(pdf, title: str) -> int:
    return next(p.number for p in pdf if _sorted_text(p).startswith(title))


def _top_margin(page) -> str:
    return _norm(page.textbox(Rect(0, 0, page.rect.width, MARGIN_TOP * PT_PER_MM)))


def _bottom_margin(page) -> str:
    return _norm(page.textbox(Rect(0, page.rect.height - MARGIN_BOTTOM * PT_PER_MM,
                                   page.rect.width, page.rect.height)))


def test_headings_never_end_a_page(pdf, kit):
    headings = _heading_pages(pdf, kit)
    first = min(headings.values())   # the first chapter's opener is on that page too
    for page in list(pdf)[first:_starts_with(pdf, "Progress checklist")]:
        body = [line for line in _lines(page)
                if line["bbox"].y1 < page.rect.height - MARGIN_BOTTOM * PT_PER_MM]
        bottom = max(line["bbox"].y1 for line in body)
        # The last row: a label run into its text's line shares that line (its box is taller).
        last = [line for line in body if line["bbox"].y1 > bottom - 2.5]
        # Every heading (question, part label, sample title, answer subheading) is set in
        # bold sans; body text is serif or monospace.
        assert set().union(*(line["fonts"] for line in last)) != {"Noto-Sans-Bold"}, \
            f"page {page.number + 1} ends on the heading {last[0]['text']!r}"


def test_a_sample_breaks_between_lines_with_three_each_side_and_a_mark_at_both_ends(pdf, kit):
    # Sample 2 of question 4 is longer than a page: its code lines are "n += k  # step k ...".
    on: dict[int, int] = {}
    for page in pdf:
        for line in _lines(page):
            if re.search(r"# step \d+ of a sample", line["text"]):
                on[page.number] = on.get(page.number, 0) + 1
    assert sum(on.values()) == 70 and len(on) >= 2
    pages = sorted(on)
    assert pages == list(range(pages[0], pages[-1] + 1))
    assert all(n >= KEEP_LINES for n in on.values()), on
    for n in pages[:-1]:
        assert "Sample 2 continues on the next page" in _bottom_margin(pdf[n]), n
        # The header names the question the sample belongs to, not one that starts later.
        assert "Sample 2 continued · Question 4" in _norm(_top_margin(pdf[n + 1])), n + 1
    # Nowhere else: a page that no sample runs off says nothing of the kind.
    for page in pdf:
        if page.number not in pages[:-1]:
            assert "continues on the next page" not in _bottom_margin(page), page.number + 1
        if page.number not in pages[1:]:
            assert "continued" not in _top_margin(page), page.number + 1


def _part_starts(pdf) -> set[int]:
    """Pages where a part of the book or a front-matter section starts: a chapter's, the
    guide's, the contents' or the checklist's title is on them (20 pt or more)."""
    return {page.number for page in pdf
            if any(line["size"] >= 19.5 for line in _lines(page))}


def empty_shares(pdf) -> dict[int, float]:
    """Per page, the share of the text block's height left empty below its last line."""
    shares = {}
    for page in pdf:
        top = MARGIN_TOP * PT_PER_MM
        bottom = page.rect.height - MARGIN_BOTTOM * PT_PER_MM
        body = [line["bbox"].y1 for line in _lines(page)
                if top - 1 <= line["bbox"].y0 and line["bbox"].y1 <= bottom + 1]
        shares[page.number] = (bottom - max(body, default=top)) / (bottom - top)
    return shares


def test_no_page_is_more_than_a_third_empty_except_where_a_part_ends(pdf):
    starts = _part_starts(pdf)
    ends = {n - 1 for n in starts} | {0, pdf.page_count - 1}
    shares = empty_shares(pdf)
    checked = {n: share for n, share in shares.items() if n not in ends}
    assert len(checked) >= 2   # the fixture has pages that are not a part's last
    for n, share in checked.items():
        assert share <= 1 / 3, f"page {n + 1} is {share:.0%} empty"


def _row_of(page, pattern: str) -> dict | None:
    return next((line for line in _lines(page) if re.search(pattern, line["text"])), None)


def test_an_output_label_shares_a_short_first_line_and_has_its_own_above_a_long_one(pdf):
    short = long = None
    for page in pdf:
        short = short or (_row_of(page, r"^2485$"), page)
        # A first line that could wrap at a space: the label's line must not shorten it.
        long = long or (_row_of(page, r"^a first line with spaces, so it could wrap beside "
                                      r"a label$"), page)
        short = short if short[0] else None
        long = long if long[0] else None
    assert short and long
    for (line, page), shares in ((short, True), (long, False)):
        labels = [l for l in _lines(page) if l["text"].startswith("OUTPUT")]
        # The label whose line is nearest above or at the output's first line.
        label = min((l for l in labels if l["bbox"].y1 <= line["bbox"].y1 + 2),
                    key=lambda l: line["bbox"].y1 - l["bbox"].y1)
        # The interpreters follow the word on its line, at the right.
        assert any("Verified on CPython" in l["text"] and abs(l["bbox"].y1 - label["bbox"].y1) < 2
                   and l["bbox"].x0 > label["bbox"].x0 for l in _lines(page))
        if shares:
            assert abs(label["bbox"].y1 - line["bbox"].y1) < 2.5
            assert label["bbox"].x0 > line["bbox"].x1 + 10   # to the right, clear of the output
        else:
            assert line["bbox"].y0 >= label["bbox"].y1 - 0.5   # a line of its own, above


def wrapped_output_lines(pdf, questions, shortest: int = 0) -> tuple[int, list[str]]:
    """(how many output lines were looked for, those not found whole): each output line with
    spaces (where a shortened line would wrap) that fits its box must start a row of words on
    some page, a label beside it or above it never having shortened it into two rows."""
    rows = set()
    for page in pdf:
        by_row: dict[int, list] = {}
        for w in page.words():
            by_row.setdefault(round(w.y1), []).append(w)
        rows.update(" ".join(w.text for w in sorted(ws, key=lambda w: w.x0))
                    for ws in by_row.values())
    checked, wrapped = 0, []
    for q in questions:
        for sample in q.samples:
            for line in sample.output.splitlines():
                words = " ".join(line.split())
                if " " in words and shortest <= len(line) <= CODE_COLUMNS:
                    checked += 1
                    if not any(row.startswith(words) for row in rows):
                        wrapped.append(f"question {q.number}: {line!r}")
    return checked, wrapped


def test_no_output_line_that_fits_the_column_is_wrapped(pdf, kit):
    checked, wrapped = wrapped_output_lines(pdf, kit.questions, shortest=20)
    assert not wrapped, wrapped
    assert checked >= 2   # the fixture's: under a label's line, and under a label beside


def test_label_fits_first_line_measures_the_label_against_the_line():
    verified = verified_text(["CPython 3.10.13", "CPython 3.11.2", "CPython 3.12.1"])
    assert verified == "Verified on CPython 3.10.13, 3.11.2, 3.12.1"
    assert verified_text(["CPython 3.12.1", "PyPy 7.3.1"]) == \
        "Verified on CPython 3.12.1, PyPy 7.3.1"
    assert label_fits_first_line("2485\nmore", verified)
    assert label_fits_first_line("x" * 30, verified)
    assert not label_fits_first_line("x" * 60 + "\nshort", verified)
    # Wide characters count double: 30 of them take the room of 60.
    assert not label_fits_first_line("\u4e2d" * 30, verified)


def test_a_part_label_runs_into_a_first_paragraph_and_heads_anything_else():
    para = markdown_html("First words of the answer.\n\nMore.")
    assert run_in(para, "The full answer").startswith(
        '<p><span class="part runin">The full answer</span>\u00a0First words')
    listed = markdown_html("- one\n- two")
    assert run_in(listed, "The full answer").startswith(
        '<h3 class="part">The full answer</h3><ul>')


def test_a_long_table_may_break_between_rows_a_short_one_is_kept_whole():
    def table(rows: int) -> str:
        return "| a | b |\n|---|---|\n" + "".join(f"| {i} | x |\n" for i in range(rows))
    assert '<table class="long">' in markdown_html(table(9))
    assert "<table>" in markdown_html(table(8))


def test_version_twins_are_one_sample_with_each_version_s_output(pdf):
    text = _norm(" ".join(p.text() for p in pdf))
    code = 'print("new" if sys.version_info >= (3, 12) else "old")'
    assert text.count(code) == 1
    assert "Sample 3: one program, 2 versions" in text
    old = re.search(r"Output on Python <3\.12: Before 3\.12 the test is false\b.*?\bold\b", text, re.I)
    new = re.search(r"Output on Python >=3\.12: From 3\.12 it is true\b.*?\bnew\b", text, re.I)
    assert old and new, text[text.index(code):][:600]


def test_lines_of_text_hold_about_ninety_characters_at_most(pdf):
    left, right = _column(pdf[0])
    full = [line["text"] for page in pdf for line in _lines(page)
            if line["bbox"].x1 - line["bbox"].x0 > (right - left) * 0.97
            and line["fonts"] <= {"Noto-Serif", "Noto-Serif-Bold", "Noto-Serif-Italic"}]
    assert full
    assert sum(len(t) for t in full) / len(full) <= 90, full[:5]
    # The body (the size most serif lines are set in) is 10 pt or more.
    sizes = Counter(round(line["size"], 1) for page in pdf for line in _lines(page)
                    if line["fonts"] == {"Noto-Serif"})
    assert sizes.most_common(1)[0][0] >= 10


def test_running_header_and_page_numbers(pdf, kit):
    headings = _heading_pages(pdf, kit)
    openers = _part_starts(pdf)
    checked = 0
    for q in kit.questions:
        page = pdf[headings[q.number]]
        topic = kit.topic_of(q)
        if page.number in openers:
            continue   # on the chapter's first page, under its title: no running header
        checked += 1
        top = _norm(page.textbox(Rect(0, 0, page.rect.width, 22 * PT_PER_MM)))
        assert f"Chapter {topic.position} · {topic.title}" in top
    assert checked >= 1
    for page in list(pdf)[1:]:
        bottom = _norm(page.textbox(Rect(0, page.rect.height - MARGIN_BOTTOM * PT_PER_MM,
                                         page.rect.width, page.rect.height)))
        assert re.sub(r"Sample \d+ continues on the next page ▸", "", bottom).strip() == str(
            page.number + 1)


def test_checklist_gives_each_question_its_page_and_three_review_columns(pdf, kit):
    headings = _heading_pages(pdf, kit)
    start = _starts_with(pdf, "Progress checklist")
    checklist = list(pdf)[start:]
    text = _norm(" ".join(_reading_text(p) for p in checklist))
    assert "1st 2nd 3rd" in text.replace("1ST 2ND 3RD", "1st 2nd 3rd")
    for q in kit.questions:
        assert re.search(rf"\b{q.number} {re.escape(q.question)} \W*[EMHX] {headings[q.number] + 1}\b",
                         text), q.number
    boxes, topics = 0, set()
    for page in checklist:
        page_text = _norm(page.text())
        for topic in kit.topics:
            if topic.questions and f"{topic.position} {topic.title}" in page_text:
                topics.add(topic.position)
        boxes += sum(1 for d in page.drawings() if d.ops[0] == "re"
                     and 9 < d.rect.width < 12 and abs(d.rect.width - d.rect.height) < 0.5)
    assert boxes == 3 * len(kit.questions)
    assert topics == {t.position for t in kit.topics if t.questions}


def test_subject_index_gives_each_term_the_pages_of_the_answers_that_explain_it(pdf, kit):
    headings = _heading_pages(pdf, kit)
    start = _starts_with(pdf, "Index")
    assert start > _starts_with(pdf, "Progress checklist")
    def column(page, word) -> int:
        left = (page.rect.width - TEXT_WIDTH * PT_PER_MM) / 2
        return min(2, max(0, int((word.x0 - left) // (TEXT_WIDTH * PT_PER_MM / 3))))

    def in_columns(page) -> str:
        # Three columns, each top to bottom.
        words = sorted(page.words(), key=lambda w: (column(page, w), round(w.y1), w.x0))
        return " ".join(w.text for w in words)

    # A page number follows its term after one space, even a one-digit number (its digits
    # are stamped from the left of a slot three digits wide).
    for page in list(pdf)[start:]:
        words = sorted(page.words(), key=lambda w: (column(page, w), round(w.y1), w.x0))
        for before, number in zip(words, words[1:]):
            if number.text.isdigit() and round(before.y1) == round(number.y1) \
                    and not before.text.isdigit():
                assert number.x0 - before.x1 < 4, (before.text, number.text)

    text = _norm(" ".join(in_columns(p) for p in list(pdf)[start:]))
    # Two answers list a term: one entry with both pages, spelt as most answers spell it.
    for term, numbers in {"print": [2], "separator": [2], "sys.stdout": [2],
                          "Rayleigh scattering": [3], "wavelength": [3], "traceback": [5],
                          "exit status": [5], "Stdout": [5]}.items():
        pages = " ".join(str(headings[n] + 1) for n in numbers)
        assert re.search(rf"(?<![\w.]){re.escape(term)} {pages}\b", text), (term, text)
    # Sorted by their letters under a heading per initial.
    order = [text.index(t) for t in ("E exit status", "P print", "R Rayleigh", "S separator",
                                     "Stdout", "sys.stdout", "T traceback", "W wavelength")]
    assert order == sorted(order)
    # Every page number is a link to its answer (test_internal_links_land_on_their_target
    # checks where each lands).
    links = [link.name for p in list(pdf)[start:] for link in p.links()]
    assert sorted(set(links)) == ["q2", "q3", "q5"]
    # Python names are set in the code face.
    names = [s for p in list(pdf)[start:] for line in _lines(p) for s in line["spans"]
             if "sys.stdout" in s.text]
    assert names and all(MONO in s.font for s in names), names


def test_a_bank_whose_answers_name_no_subjects_has_no_index_and_still_builds(tmp_path):
    # The contents must not list an index that is not there: its page number would have no
    # anchor to find, and the build would fail.
    shutil.copytree(FIXTURES / "bank", tmp_path / "content")
    for path in (tmp_path / "content").rglob("*.toml"):
        path.write_text(re.sub(r"(?m)^index = \[.*\]\n", "", path.read_text()))
    assert "index =" not in "".join(p.read_text() for p in (tmp_path / "content").rglob("*.toml"))
    pages = [p.text() for p in Document(_build(tmp_path))]
    assert not any(re.search(r"(?m)^Index\b", t) for t in pages), pages[2]
    assert not any("index after it" in _norm(t) for t in pages)
    assert any("Progress checklist" in t for t in pages)


def test_a_long_python_name_in_the_index_may_wrap_only_after_a_dot_or_an_underscore():
    assert name_breaks("asyncio.run_coroutine_threadsafe") == \
        "asyncio.<wbr>run_<wbr>coroutine_<wbr>threadsafe"
    assert name_breaks("__private_name_that_is_quite_long") == \
        "__private_<wbr>name_<wbr>that_<wbr>is_<wbr>quite_<wbr>long"
    assert name_breaks("sys.stdout") == "sys.stdout"              # short names stay whole
    assert name_breaks("a<b>" * 7) == "a&lt;b&gt;" * 7


def test_subject_index_merges_spellings_and_sorts_past_underscores():
    from types import SimpleNamespace as Q
    index = subject_index([Q(number=2, index=("`__slots__`", "GIL", "slot")),
                           Q(number=7, index=("gil", "`dict`")),
                           Q(number=9, index=("GIL", "`__dict__`", "3.12 changes"))])
    flat = [(heading, e["text"], e["code"], e["numbers"]) for heading, entries in index
            for e in entries]
    assert flat == [("Symbols and numbers", "3.12 changes", False, [9]),
                    ("D", "dict", True, [7]), ("D", "__dict__", True, [9]),
                    ("G", "GIL", False, [2, 7, 9]),
                    ("S", "slot", False, [2]), ("S", "__slots__", True, [2])]


def test_the_bank_gives_the_index_at_least_300_terms_and_every_answer_some():
    from conftest import ROOT
    from studykit.loader import load_kit

    kit = load_kit(ROOT / "content")
    assert all(q.index for q in kit.questions), [q.number for q in kit.questions if not q.index]
    assert sum(len(entries) for _, entries in subject_index(kit.questions)) >= 300


def test_how_to_use_explains_the_numbering_the_other_outputs_and_a_plan(pdf, kit):
    start = _starts_with(pdf, "How to use this guide")
    text = _norm(" ".join(_reading_text(p) for p in list(pdf)[start:_starts_with(pdf, "Contents")]))
    first = min(b.number for b in kit.bank)
    assert f"starts at {first}: there is no question {first - 1}" in text
    assert "flashcards" in text and "slide decks" in text
    plans = study_plans([t for t in kit.topics if t.questions])
    assert [p["review"] for p in plans] == [False, True]
    short, long = (p["weeks"] for p in plans)
    # The fixture's two chapters: two weeks each, and the longer plan's review week.
    assert [len(short), len(long)] == [2, 3] and long[-1]["review"]
    # Two and three weeks here; the bank's four and eight ("An eight-week plan").
    assert "A two-week plan" in text and len(short) == 2
    assert "A three-week plan, the last week for review" in text and len(long) == 3
    assert "The index after it lists the subjects the answers explain" in text
    assert "Review: the checklist's questions" in text
    assert f"all ({len(kit.questions)})" in text
    for week in short:
        for t in week["chapters"]:
            assert text.count(f"{t.position} {t.title}") >= 2


def test_the_study_plan_splits_chapters_into_weeks_of_about_the_same_size():
    class Topic:
        def __init__(self, position, numbers):
            self.position = position
            self.questions = [type("Q", (), {"number": n})() for n in numbers]

    topics, n = [], 2
    for position, size in enumerate([14, 5, 20, 12, 9, 10, 9, 15, 20, 10, 9, 7, 9, 8, 2], 1):
        topics.append(Topic(position, range(n, n + size)))
        n += size
    plan = study_plan(topics, 4)
    assert len(plan) == 4
    assert [t for w in plan for t in w["chapters"]] == topics     # all, in order, once
    assert all(30 <= w["count"] <= 50 for w in plan), [w["count"] for w in plan]
    assert plan[0]["first"] == 2 and plan[-1]["last"] == n - 1
    assert len(study_plan(topics[:2], 4)) == 2                   # never an empty week
    plan = study_plan(topics, 7)                                 # the eight-week plan's
    assert len(plan) == 7 and [t for w in plan for t in w["chapters"]] == topics
    assert all(15 <= w["count"] <= 32 for w in plan), [w["count"] for w in plan]


def test_core_edition_keeps_what_to_say_and_drops_the_rest(root, kit, pdf, tmp_path):
    core = tmp_path / "core"
    shutil.copytree(root / "content", core / "content")
    if (root / "cache").exists():
        shutil.copytree(root / "cache", core / "cache")
    with Document(_build(core, "--edition", "core")) as doc:
        text = _norm(" ".join(p.text() for p in doc))
        assert doc.page_count < pdf.page_count
    assert "Core edition" in text
    for q in kit.questions:
        assert _norm(q.summary.replace("`", ""))[:60] in text.replace("`", "")
        for point in q.key_points + q.pitfalls:
            assert _norm(point.replace("`", ""))[:40] in text.replace("`", "")
        for f in q.follow_ups:
            assert _norm(f.question.replace("`", ""))[:40] in text.replace("`", "")
        for s in q.samples:
            assert _norm(s.code) not in text
    # Part labels print in capitals ("The full answer" itself is named on the guide page).
    assert "THE SHORT ANSWER" in text and "THE FULL ANSWER" not in text


def test_metadata(pdf, kit):
    meta = pdf.metadata
    assert meta["title"] == "Python Interview Handbook"
    assert str(len(kit.questions)) in meta["subject"]
    for topic in kit.topics:
        assert (topic.title in meta["keywords"]) == bool(topic.questions)
    assert pdf.lang == "en"


# ------------------------------------------------------------------ failures

def test_a_failed_render_leaves_the_previous_handbook(root, kit, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    previous = out / "handbook.pdf"
    previous.write_bytes(b"%PDF-1.7 the previous handbook")
    from studykit import output

    written = []

    def write_then_fail(target, data):
        with output.atomic_path(target) as tmp:
            tmp.write_bytes(data)   # the whole book is written, then it dies
            written.append(data)
            raise KeyboardInterrupt

    monkeypatch.setattr(output, "atomic_write_bytes", write_then_fail)
    ctx = BuildContext(kit=kit.select(build._selection((), (), frozenset({3}))), report=None,
                       out_dir=out, templates_dir=TEMPLATES_DIR)
    with pytest.raises(KeyboardInterrupt):
        HandbookRenderer().render(ctx)
    assert len(written) == 1 and written[0].startswith(b"%PDF-")
    assert previous.read_bytes() == b"%PDF-1.7 the previous handbook"
    assert [p.name for p in out.iterdir()] == ["handbook.pdf"]


def test_nothing_to_print_is_an_error(root, tmp_path):
    result = CliRunner().invoke(
        build.cli, ["--content", str(root / "content"), "--output", str(tmp_path / "out"),
                    "handbook", "--numbers", "6"],
        env={"KIT_CACHE_DIR": str(root / "cache")})
    assert result.exit_code == 3, result.output
    assert "no answered questions" in result.output
    assert not (tmp_path / "out" / "handbook.pdf").exists()


def test_an_edit_lays_out_only_its_chapter_and_pages_still_match(tmp_path):
    shutil.copytree(FIXTURES / "bank", tmp_path / "content")

    def build_once():
        result = CliRunner().invoke(
            build.cli, ["--content", str(tmp_path / "content"), "--output", str(tmp_path / "out"),
                        "handbook", "--verbose"], env={"KIT_CACHE_DIR": str(tmp_path / "cache")})
        assert result.exit_code == 0, result.output
        return result.output

    assert "all 4 parts laid out" in build_once()
    kit = Project(content_dir=tmp_path / "content").load()
    with Document(tmp_path / "out" / "handbook.pdf") as doc:
        before = _heading_pages(doc, kit)
    # Enough new text to push the next chapter onto later pages.
    q = tmp_path / "content" / "01-alpha" / "003-sky.toml"
    q.write_text(q.read_text().replace('answer = "', 'answer = "Reworded. ' + "Longer. " * 1400,
                                       1))
    out = build_once()
    assert re.search(r"laid out chapter 1( from its page \d+ of \d+)?; 3 parts from the cache",
                     out)
    with Document(tmp_path / "out" / "handbook.pdf") as doc:
        assert "Reworded." in " ".join(p.text() for p in doc)
        kit = Project(content_dir=tmp_path / "content").load()
        headings = _heading_pages(doc, kit)
        assert headings[5] >= before[5] + 2   # chapter 2 starts pages later than before
        # The stamped numbers follow the new layout: every linked entry names the page it
        # lands on, and every footer its own page.
        entries = [e for page in doc for e in _link_entries(page)]
        for dest, target, area in entries:
            if re.fullmatch(r"q\d+", dest):
                assert target == headings[int(dest[1:])], dest
        for page in list(doc)[1:]:
            assert _bottom_margin(page) == str(page.number + 1)


def _page_record(doc) -> list:
    """What a reader reads and follows on every page: words and where, links and where to."""
    pages = []
    for page in doc:
        words = [(w.text, round(w.x0, 2), round(w.y0, 2)) for w in page.words()]
        links = [(link.kind, link.page, link.uri, link.rect.rounded(2)) for link in page.links()]
        pages.append((words, links))
    return pages


def _largest_pixel_difference(doc, other) -> int:
    """Of all the pages at 30 dpi (pdftoppm's RGB), in levels of 255. The same glyphs from fonts
    subset for different pages can be shaded a level or two apart; anything drawn elsewhere is
    far more."""
    largest = 0
    for page, other_page in zip(doc, other, strict=True):
        ours, theirs = page.pixels(30), other_page.pixels(30)
        if ours != theirs:
            largest = max(largest, max(abs(a - b) for a, b in zip(ours, theirs, strict=True)))
    return largest


@pytest.mark.skipif(forced_public(), reason="laying out part-way is a fast path: the public "
                                           "path lays out every edited part whole")
def test_an_edited_chapter_is_laid_out_from_the_page_before_the_edit_as_a_clean_build_would(
        tmp_path):
    content = tmp_path / "content"
    shutil.copytree(FIXTURES / "bank", content)
    shutil.copy(FIXTURES / "handbook" / "004-long-lines.toml", content / "01-alpha")
    sky = content / "01-alpha" / "003-sky.toml"
    steps = " ".join(f"Step {i:03d}." for i in range(700))
    sky.write_text(sky.read_text().replace('answer = "', f'answer = "{steps} ', 1))
    # Question 3 starts a few pages in, so that there are pages before the edit to keep.
    printing = content / "01-alpha" / "002-print.toml"
    printing.write_text(printing.read_text().replace("answer = '''\n", "answer = '''\n"
                                                     + "Printing. " * 800 + "\n\n", 1))
    clean_builds = iter(range(10))

    def build_once(cache: str = "cache", out: str = "out") -> str:
        result = CliRunner().invoke(
            build.cli, ["--content", str(content), "--output", str(tmp_path / out), "handbook",
                        "--verbose"],
            env={"KIT_CACHE_DIR": str(tmp_path / cache)})
        assert result.exit_code == 0, result.output
        return result.output

    def same_as_a_clean_build() -> None:
        n = next(clean_builds)
        assert "all 4 parts laid out" in build_once(f"clean-cache-{n}", f"clean-{n}")
        with Document(tmp_path / "out" / "handbook.pdf") as edited, \
                Document(tmp_path / f"clean-{n}" / "handbook.pdf") as clean:
            assert _page_record(edited) == _page_record(clean)
            assert edited.toc() == clean.toc()
            assert _largest_pixel_difference(edited, clean) <= 4

    build_once()
    # A step's number changed: digits are equally wide, so no line breaks elsewhere, and from
    # the first page after question 4's heading the chapter is what it was.
    sky.write_text(sky.read_text().replace("Step 123.", "Step 124.", 1))
    output = build_once()
    found = re.search(r"laid out chapter 1 \(its pages (\d+) to (\d+) of (\d+)\); 3 parts",
                      output)
    assert found, f"the chapter was laid out to its end: {output}"
    first, last, pages = map(int, found.groups())
    assert 1 < first < last < pages
    same_as_a_clean_build()

    # Question 4 comes after question 3's pages; it grows by about a page, and has no
    # question after it: the chapter is laid out from the page before it to the end.
    q4 = content / "01-alpha" / "004-long-lines.toml"
    q4.write_text(q4.read_text().replace("answer = '''\n",
                                         "answer = '''\nReworded. " + "More. " * 300, 1))
    found = re.search(r"laid out chapter 1 from its page (\d+) of \d+; 3 parts from the cache",
                      build_once())
    assert found and int(found.group(1)) >= 3, "the pages before question 4 were laid out again"
    same_as_a_clean_build()

    # An edit to the chapter's opener, its first page: all of it is laid out again.
    topic = content / "01-alpha" / "topic.toml"
    topic.write_text(topic.read_text().replace("alpha** things", "alpha** things, reworded"))
    assert "laid out chapter 1; 3 parts from the cache" in build_once()


def _code_rows(html: str) -> list[tuple[str, int, bool]]:
    """Each code line laid out: its text, how many rows it takes, and whether it has a mark."""
    from weasyprint import HTML

    rows = []
    document = HTML(string=html, base_url=str(TEMPLATES_DIR / "handbook")).render()
    for page in document.pages:
        for box in _walk(page._page_box):
            element = getattr(box, "element", None)
            classes = (element.get("class") or "").split() if element is not None else []
            if type(box).__name__ == "BlockBox" and ("ln" in classes or "lines" in classes):
                # A line of its own (ln), or a block of lines none of which wraps (lines).
                lines = [c for c in box.children if type(c).__name__ == "LineBox"]
                marked = any(child.get("class") == "wrap" for child in element)
                rows.append(("".join(element.itertext()), len(lines), marked))
    return rows


@pytest.mark.parametrize("paper", sorted(PAPERS))
def test_code_lines_left_unmarked_fit_on_one_row_however_deep_the_block(paper, tmp_path):
    # Only a line longer than its block holds gets a continuation mark (marks cost layout
    # time), so the columns a block is said to hold must fit, at every depth an answer can
    # put a code block: here two lists deep inside a quote, and at the top level.
    def fence(indent: str, width: int, longer: bool = True) -> str:
        lines = ["```python", "x" * width] + (["y" * (width + 1)] if longer else []) + [
            "z = 1", "```"]
        return "\n".join(indent + line for line in lines)

    nested = CODE_COLUMNS - 2 * LIST_COLUMNS - QUOTE_COLUMNS
    answer = (fence("", CODE_COLUMNS) + "\n\n" + fence("", CODE_COLUMNS, longer=False)
              + "\n\n> - outer\n>   - inner\n>\n" + fence(">     ", nested) + "\n>\n"
              + fence(">     ", nested, longer=False) + "\n")
    ctx = BuildContext(kit=None, report=None, out_dir=tmp_path)
    css = HandbookRenderer(paper).page_css(ctx)
    html = (f"<html><head><style>{css}</style></head><body>"
            f'<div class="md answer">{markdown_html(answer)}</div></body></html>')
    rows = _code_rows(html)
    texts = [text for text, _, _ in rows]
    assert "x" * CODE_COLUMNS in texts and "x" * nested in texts, texts
    # The blocks without a longer line are one block of lines each.
    assert f"{'x' * CODE_COLUMNS}\nz = 1" in texts and f"{'x' * nested}\nz = 1" in texts, texts
    for text, count, marked in rows:
        assert marked == (text.startswith("y")), text
        if not marked:
            assert count == text.count("\n") + 1, \
                f"{text!r} took {count} rows without a continuation mark"


def test_the_chapter_saved_last_has_its_html_made_first(tmp_path):
    shutil.copytree(FIXTURES / "bank", tmp_path / "content")
    saved = time.time() + 60
    for f in (tmp_path / "content" / "02-beta").glob("*.toml"):
        os.utime(f, (saved, saved))
    kit = Project(content_dir=tmp_path / "content").load()
    ctx = BuildContext(kit=kit, report=None, out_dir=tmp_path)
    renderer = HandbookRenderer()
    labels = [label for label, _ in renderer.part_htmls(ctx)]
    assert [labels[i] for i in renderer.likely_changed_first(ctx)] == [
        "chapter 2", "chapter 1", "front matter", "back matter"]


def test_parts_made_in_any_order_come_back_in_document_order(tmp_path):
    html = "<html><body><p id='a{0}'>part {0}</p></body></html>"
    made = [(2, html.format(2)), (0, html.format(0)), (1, html.format(1))]
    parts = lay_out(made, str(tmp_path), PartCache(tmp_path / "parts", salt=""),
                    pool=InlineExecutor())
    assert [list(p.anchors) for p in parts] == [["a0"], ["a1"], ["a2"]]
    with pytest.raises(ValueError):
        lay_out([(0, html.format(0)), (2, html.format(2))], str(tmp_path),
                PartCache(None, salt=""), pool=InlineExecutor())


def test_where_an_edit_is_found_and_whether_its_part_can_rejoin_the_earlier_layout():
    from studykit.render.partcache import _first_difference, _rejoin_marker

    assert _first_difference("abcdef", "abcxef") == 3
    assert _first_difference("abc", "abcd") == 3
    assert _first_difference("same", "same") == 4
    assert _first_difference("", "x") == 0

    page = ('<html><head><style>p {{}}</style></head><body><p id="a">One {} two.</p>'
            '<p id="b">Three <em>four</em>.</p><p id="c">Five.</p></body></html>')
    before = page.format("old")

    def marker(after: str):
        return _rejoin_marker(before, after, _first_difference(before, after))

    assert marker(page.format("new words")) == "b"       # text only: from the next ID on
    assert marker(page.format("")) == "b"                 # text removed
    assert marker(before.replace("Three", "3")) == "c"
    # Markup added or removed, an attribute changed, the head changed: no rejoining.
    assert marker(page.format("<b>new</b>")) is None
    assert marker(before.replace("<em>four</em>", "four")) is None
    assert marker(before.replace('id="b"', 'id="b" class="x"')) is None
    assert marker(before.replace("p {}", "p { color: red }")) is None
    assert marker(before.replace("Five.", "Six.")) is None   # no ID after the edit


def test_the_cache_names_each_part_s_latest_layout_and_forgets_pruned_ones(tmp_path):
    cache = PartCache(tmp_path / "parts", salt="")
    html = "<html><head><style>p {{}}</style></head><body><p id='a'>{}</p></body></html>"
    first = lay_out([(0, html.format("one"))], str(tmp_path), cache, pool=InlineExecutor())
    line = cache.line(0, html.format("one"))
    assert line == cache.line(0, html.format("two")) != cache.line(1, html.format("one"))
    assert cache.lines() == {line: first[0].key}
    second = lay_out([(0, html.format("two"))], str(tmp_path), cache, pool=InlineExecutor())
    assert cache.lines() == {line: second[0].key}
    cache.prune({"none"}, spare=0)
    assert cache.lines() == {}


def test_parts_stamped_by_workers_read_the_same_as_parts_stamped_here(kit, tmp_path):
    from studykit.workers import pool_scope, worker_pool

    def pages(pool, out: Path) -> list[str]:
        out.mkdir()
        ctx = BuildContext(kit=kit, report=None, out_dir=out, pool=pool)
        [target] = HandbookRenderer().render(ctx).paths
        with Document(target) as doc:
            return [page.text() for page in doc]

    here = pages(None, tmp_path / "here")
    with pool_scope(worker_pool(2)) as pool:
        shared = pages(pool, tmp_path / "shared")
    assert shared == here
    # Each footer holds its page's number: the stamps were drawn, not only carried over.
    assert all(text.rstrip().endswith(str(n)) for n, text in enumerate(here[1:], start=2))


def test_html_made_from_kept_fragments_is_the_html_made_afresh(kit, tmp_path):
    from studykit.render.fragments import Fragments

    ctx = BuildContext(kit=kit, report=None, out_dir=tmp_path)
    renderer = HandbookRenderer()
    afresh = [make() for _, make in renderer.part_htmls(ctx)]
    path = tmp_path / "fragments.json"
    renderer._fragments = Fragments(path)
    first = [make() for _, make in renderer.part_htmls(ctx)]
    renderer._fragments.save()
    renderer._fragments = Fragments(path)
    kept = [make() for _, make in renderer.part_htmls(ctx)]
    assert len(renderer._fragments.entries) >= len(kit.questions)
    assert not renderer._fragments.added   # every fragment came from the file
    assert first == afresh and kept == afresh


def test_a_style_sheet_parsed_once_lays_out_as_the_page_own(kit, tmp_path):
    """Parts are laid out with their style sheet parsed once per process and given apart
    from the page: every word must land where it lands when the page carries its own."""
    from weasyprint import HTML

    from studykit.render import partlayout

    ctx = BuildContext(kit=kit, report=None, out_dir=tmp_path)
    renderer = HandbookRenderer()
    base = str(ctx.templates_dir / "handbook")
    htmls = [make() for _, make in renderer.part_htmls(ctx)][:3]

    def words(document) -> list:
        with Document(document.write_pdf()) as doc:
            return [[(w.text, round(w.x0, 2), round(w.y0, 2), round(w.x1, 2), round(w.y1, 2))
                     for w in page.words()] for page in doc]

    partlayout._stylesheet.cache_clear()
    shared = [words(partlayout.render_html(html, base)) for html in htmls]
    own = [words(HTML(string=html, base_url=base).render()) for html in htmls]
    assert shared == own and sum(len(pages) for pages in own) > 3
    # The parts share one sheet: it was parsed once.
    assert partlayout._stylesheet.cache_info().misses == 1
