"""Flashcard sheets, read back from the produced PDF (tests/pdfread.py).

A synthetic bank of 17 cards (11 easy, 3 medium, 2 hard, 1 expert) fills whole sheets and part
sheets. Card positions are taken from the PDF itself: the `Q<n>` word on each face and the dashed
cut lines around it, never from the renderer's own geometry.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import build
from pdfread import Document, Rect

PT_PER_MM = 72 / 25.4
A4 = (595.28, 841.89)
LETTER = (612.0, 792.0)
COUNTS = {"easy": 11, "medium": 3, "hard": 2, "expert": 1}
LETTERS = {"easy": "E", "medium": "M", "hard": "H", "expert": "X"}
TOLERANCE = 0.5 * PT_PER_MM


def _write_bank(root: Path) -> dict[int, str]:
    """Two topics; difficulties interleaved across topics so sorting has work to do."""
    levels = [d for d, n in COUNTS.items() for _ in range(n)]
    # Spread the levels over the numbers in a scrambled order, and over both topics.
    order = [levels[(i * 7) % len(levels)] for i in range(len(levels))]
    assert sorted(order) == sorted(levels)
    numbers = list(range(2, 2 + len(order)))
    half = numbers[len(numbers) // 2]
    content = root / "content"
    bank = ['[[topics]]\nslug = "first"\ntitle = "First Topic"\nfirst = 2\n'
            f"last = {half - 1}\n",
            '[[topics]]\nslug = "second"\ntitle = "Second Topic"\n'
            f"first = {half}\nlast = {numbers[-1]}\n"]
    difficulty = {}
    for n, level in zip(numbers, order):
        topic = "first" if n < half else "second"
        bank.append(f'[[questions]]\nnumber = {n}\ntopic = "{topic}"\ndifficulty = "{level}"\n'
                    f'question = "Card question number {n}?"\n')
        difficulty[n] = level
        folder = content / ("01-first" if topic == "first" else "02-second")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{n:03d}-card.toml").write_text(textwrap.dedent(f'''\
            number = {n}
            question = "Card question number {n}?"
            difficulty = "{level}"
            summary = "The short answer of card {n}, a sentence or two long."
            answer = "A longer answer that the cards do not show."
            key_points = ["First point of {n}", "Second point of {n}", "Third point of {n}"]
            no_samples_reason = "A fixture card."
            '''))
    (content / "questions.toml").write_text("\n".join(bank))
    (content / "01-first" / "topic.toml").write_text('title = "First Topic"\nintro = "One."\n')
    (content / "02-second" / "topic.toml").write_text('title = "Second Topic"\nintro = "Two."\n')
    return difficulty


def _run(root: Path, *args: str):
    return CliRunner().invoke(
        # --no-cache: several tests build the same sheets and each must read a fresh render.
        build.cli, ["--content", str(root / "content"), "--output", str(root / "out"),
                    "--no-cache", "flashcards", *args],
        env={"KIT_CACHE_DIR": str(root / "cache")})


def _build(root: Path, *args: str) -> Document:
    result = _run(root, *args)
    assert result.exit_code == 0, result.output
    written = re.findall(r"wrote (\S+\.pdf)", result.output)
    assert len(written) == 1, result.output
    return Document(written[0])


@pytest.fixture(scope="module")
def bank(tmp_path_factory) -> tuple[Path, dict[int, str]]:
    root = tmp_path_factory.mktemp("cards")
    return root, _write_bank(root)


@pytest.fixture(scope="module")
def root(bank) -> Path:
    return bank[0]


@pytest.fixture(scope="module")
def difficulty(bank) -> dict[int, str]:
    return bank[1]


def _dashed_lines(page) -> tuple[list[Rect], list[Rect]]:
    """The vertical and the horizontal dashed cut lines, as their bounding boxes."""
    vertical, horizontal = [], []
    for d in page.drawings():
        if not d.dashed:
            continue
        r = d.rect
        (vertical if r.width < 1 else horizontal).append(r)
    return vertical, horizontal


def _faces(page, pattern=r"Q\d+", half=None) -> dict[str, tuple[float, float, float, float]]:
    """Card ID -> (card left, card top, ID x, ID y); the card is the cut box around its ID.

    `half` ("left" or "right") looks at one side of the fold only.
    """
    _vertical, horizontal = _dashed_lines(page)
    middle = page.rect.width / 2
    out = {}
    for x0, y0, word in ((w.x0, w.y0, w.text) for w in page.words()):
        if not re.fullmatch(pattern, word) or word in out:
            continue
        if (half == "left" and x0 > middle) or (half == "right" and x0 < middle):
            continue
        # The top edge of the card: the nearest dashed line above the ID that spans it.
        top = max((r for r in horizontal if r.x0 <= x0 <= r.x1 and r.y0 <= y0),
                  key=lambda r: r.y0)
        out[word] = (top.x0, top.y0, x0, y0)
    return out


def _card_size(doc) -> tuple[float, float]:
    vertical, horizontal = _dashed_lines(doc[0])
    return max(r.width for r in horizontal), max(r.height for r in vertical)


def _sides(doc, duplex: str):
    """(front page, back page) pairs, after the test sheet."""
    pages = list(doc)
    if duplex == "fold":
        return [(p, p) for p in pages]
    return list(zip(pages[0::2], pages[1::2]))


@pytest.fixture(scope="module")
def default_pdf(root):
    with _build(root) as doc:
        yield doc


# ------------------------------------------------------------------ count and order

def test_every_card_once_sorted_by_difficulty_topic_number(default_pdf, difficulty):
    seen = []
    for front, _back in _sides(default_pdf, "long")[1:]:
        ids = _faces(front)
        seen += sorted(ids, key=lambda k: (round(ids[k][1]), ids[k][0]))
    numbers = [int(s[1:]) for s in seen]
    assert sorted(numbers) == sorted(difficulty)
    rank = list(COUNTS)
    # Topic 1 holds the lower numbers, so difficulty, then topic, then number is (rank, number).
    assert numbers == sorted(numbers, key=lambda n: (rank.index(difficulty[n]), n))


def test_each_difficulty_starts_a_new_sheet(default_pdf, difficulty):
    sheets = _sides(default_pdf, "long")[1:]
    levels = [{difficulty[int(k[1:])] for k in _faces(front)} for front, _ in sheets]
    assert all(len(s) == 1 for s in levels), levels
    # 11 easy cards take two 8-up sheets; the other levels one each.
    assert [s.pop() for s in levels] == ["easy", "easy", "medium", "hard", "expert"]


def test_fronts_and_backs_carry_id_and_a_black_and_white_mark(default_pdf, difficulty):
    for front, back in _sides(default_pdf, "long")[1:]:
        for page in (front, back):
            words = [w.text for w in page.words()]
            lines = "\n".join(line.text for line in page.lines())
            for card in _faces(page):
                level = difficulty[int(card[1:])]
                # A shape and a letter beside the colour, and the level's name. (The gap
                # between shape and letter reads as a space or none, depending on the reader.)
                assert re.search(f"(^|\\s)[\u25cf\u25a0\u25b2\u25c6] ?{LETTERS[level]}(\\s|$)",
                                 lines, re.M), (card, lines)
                assert level.upper() in words
    front, back = _sides(default_pdf, "long")[1]
    assert "Card question number" in front.text()
    assert "The short answer of card" in back.text() and "Second point of" in back.text()
    assert "short answer" not in front.text()


# ------------------------------------------------------------------ duplex registration

def _assert_behind(front_page, back_page, card, duplex):
    w, h = front_page.rect.width, front_page.rect.height
    cw, ch = card
    if duplex == "fold":
        # Both faces are on one page: the front in the left half, the back in the right.
        fronts, backs = _faces(front_page, half="left"), _faces(back_page, half="right")
    else:
        fronts, backs = _faces(front_page), _faces(back_page)
    assert fronts, "no cards found"
    assert sorted(fronts) == sorted(backs)
    for key, (fx, fy, fix, fiy) in fronts.items():
        bx, by, bix, biy = backs[key]
        if duplex in ("long", "fold"):
            want = (w - fx - cw, fy)
        else:
            want = (fx, h - fy - ch)
        assert bx == pytest.approx(want[0], abs=TOLERANCE), key
        assert by == pytest.approx(want[1], abs=TOLERANCE), key
        # The ID sits at the same place inside the card on both faces.
        assert bix - bx == pytest.approx(fix - fx, abs=TOLERANCE)
        assert biy - by == pytest.approx(fiy - fy, abs=TOLERANCE)


@pytest.mark.parametrize("paper,size", [("a4", A4), ("letter", LETTER)])
@pytest.mark.parametrize("duplex", ["long", "short", "fold"])
def test_every_back_lands_behind_its_front(root, paper, size, duplex):
    with _build(root, "--paper", paper, "--duplex", duplex) as doc:
        assert Path(doc.name).name == (f"flashcards-{paper}.pdf" if duplex == "long"
                                       else f"flashcards-{paper}-{duplex}.pdf")
        for page in doc:
            assert (page.rect.width, page.rect.height) == pytest.approx(size, abs=0.5)
        card = _card_size(doc)
        assert card == pytest.approx((88 * PT_PER_MM, 62 * PT_PER_MM), abs=0.5)
        count = 0
        for front, back in _sides(doc, duplex)[1:]:
            _assert_behind(front, back, card, duplex)
            count += len(_faces(front, half="left" if duplex == "fold" else None))
        assert count == sum(COUNTS.values())


@pytest.mark.parametrize("duplex", ["long", "short"])
def test_alignment_sheet_shows_f_and_b_behind_each_other(root, duplex):
    with _build(root, "--duplex", duplex) as doc:
        front, back = doc[0], doc[1]
        fronts = _faces(front, r"F\d")
        assert sorted(fronts) == [f"F{i}" for i in range(1, 9)]
        # Read row by row, F1..F8 go left to right, top to bottom.
        by_pos = sorted(fronts, key=lambda k: (round(fronts[k][1]), fronts[k][0]))
        assert by_pos == [f"F{i}" for i in range(1, 9)]
        backs = _faces(back, r"B\d")
        assert sorted(backs) == [f"B{i}" for i in range(1, 9)]
        w, h = front.rect.width, front.rect.height
        cw, ch = _card_size(doc)
        for key, (fx, fy, *_r) in fronts.items():
            bx, by, *_r = backs["B" + key[1:]]
            want = (w - fx - cw, fy) if duplex == "long" else (fx, h - fy - ch)
            assert (bx, by) == pytest.approx(want, abs=TOLERANCE)


def test_no_test_sheet_leaves_it_out(root):
    with _build(root, "--no-test-sheet") as doc:
        assert "F1" not in [w.text for w in doc[0].words()]
        assert _faces(doc[0])
        # Two easy sheets, then medium, hard, expert; each a front and a back.
        assert doc.page_count == 2 * 5


# ------------------------------------------------------------------ print area and guides

def test_nothing_printed_within_5mm_of_the_edge(root):
    for paper in ("a4", "letter"):
        with _build(root, "--paper", paper) as doc:
            for n, page in enumerate(doc, start=1):
                inner = Rect(5 * PT_PER_MM, 5 * PT_PER_MM,
                             page.rect.width - 5 * PT_PER_MM,
                             page.rect.height - 5 * PT_PER_MM)
                for word in page.words():
                    assert inner.contains(word.rect), (paper, n, word)
                for d in page.drawings():
                    assert inner.contains(d.rect), (paper, n, d.rect)


def _crop_marks(page) -> list[tuple[float, ...]]:
    return sorted(d.rect.rounded(1) for d in page.drawings() if not d.dashed)


def test_every_sheet_has_dashed_edges_and_crop_marks(default_pdf):
    # The test sheet has every slot filled, so its dashed lines give the whole grid.
    vertical, horizontal = _dashed_lines(default_pdf[0])
    cw, ch = _card_size(default_pdf)
    left, top = min(r.x0 for r in horizontal), min(r.y0 for r in horizontal)
    right, bottom = max(r.x1 for r in horizontal), max(r.y0 for r in horizontal)
    marks = [Rect(*m) for m in _crop_marks(default_pdf[0])]
    above = [r for r in marks if r.y1 < top - 1]
    below = [r for r in marks if r.y0 > bottom + 1]
    beside = [r for r in marks if r.x1 < left - 1 or r.x0 > right + 1]
    # Cards a gutter apart (at least 3 mm, so 1 to 2 mm of duplex drift never reaches the
    # neighbour), and marks in the margin in line with both edges of every gutter, on all
    # four sides.
    xs = sorted({round(r.x0, 1) for r in horizontal})
    gutter = xs[1] - (xs[0] + cw)
    assert gutter >= 3 * PT_PER_MM
    assert len(above) == len(below) == 4 and len(beside) == 2 * 8
    for group in (above, below):
        assert sorted((r.x0 + r.x1) / 2 - left for r in group) == \
            pytest.approx([0, cw, cw + gutter, 2 * cw + gutter], abs=1)
    rows = sorted((r.y0 + r.y1) / 2 - top for r in beside)
    assert rows[0::2] == pytest.approx([0, ch, ch + gutter, 2 * ch + gutter,
                                        2 * ch + 2 * gutter, 3 * ch + 2 * gutter,
                                        3 * ch + 3 * gutter, 4 * ch + 3 * gutter], abs=1)
    grid = Rect(left, top, right, bottom)

    def margin_marks(page):
        # A mark is a line, its box without area: it never "intersects" the grid (as PyMuPDF
        # had it); only shapes with an area inside the grid are left out.
        return [m for m in _crop_marks(page) if not Rect(*m).intersects(grid)]

    assert len(margin_marks(default_pdf[0])) == 4 + 4 + 2 * 8
    for n, page in enumerate(default_pdf, start=1):
        assert _dashed_lines(page)[1], f"page {n} has no dashed cut lines"
        assert margin_marks(page) == margin_marks(default_pdf[0]), f"page {n}: crop marks differ"


# ------------------------------------------------------------------ layouts and filters

def test_4up_large_print(root):
    with _build(root, "--layout", "4up") as doc:
        assert Path(doc.name).name == "flashcards-a4-4up.pdf"
        cw, ch = _card_size(doc)
        assert (cw, ch) == pytest.approx((92 * PT_PER_MM, 126 * PT_PER_MM), abs=0.5)
        front, back = doc[2], doc[3]
        assert len(_faces(front)) == 4
        _assert_behind(front, back, (cw, ch), "long")
        size = max(s.size for line in front.lines() for s in line.spans
                   if "Card question" in s.text)
        assert size >= 14


def test_difficulty_filter_selects_cards(root, difficulty):
    with _build(root, "--difficulty", "hard", "--difficulty", "expert", "--no-test-sheet") as doc:
        ids = {k for p in doc for k in _faces(p)}
        assert {int(k[1:]) for k in ids} == {n for n, d in difficulty.items()
                                             if d in ("hard", "expert")}


# ------------------------------------------------------------------ overflow

def _add_card_sample(root: Path, lines: int) -> Path:
    path = next((root / "content" / "01-first").glob("002-*.toml"))
    # Only the last line prints: a card's back shows what its front's code prints.
    code = "\n".join(f"{'print' if i == lines - 1 else 'abs'}({i} * {i})  # line {i} of a "
                     "long sample" for i in range(lines))
    output = str((lines - 1) ** 2)
    path.write_text(path.read_text().replace(
        'no_samples_reason = "A fixture card."\n', "")
        + f"\n[[samples]]\ntitle = \"Long\"\ncard = true\ncode = '''\n{code}\n'''\n"
          f"output = '''\n{output}\n'''\n")
    return path


def test_a_long_face_is_shrunk_and_reported(tmp_path):
    _write_bank(tmp_path)
    _add_card_sample(tmp_path, 13)
    result = _run(tmp_path, "--verbose")
    assert result.exit_code == 0, result.output
    assert re.search(r"1 card face\(s\) set below 10 pt to fit: fronts Q2\n", result.output), \
        result.output
    with Document(tmp_path / "out" / "flashcards-a4.pdf") as doc:
        page = next(p for p in doc if "Q2" in [w.text for w in p.words()])
        sizes = [s.size for line in page.lines() for s in line.spans if "long sample" in s.text]
        assert sizes and min(sizes) < 8.0 and min(sizes) >= 7.0 - 0.05
        # Shrunk, not clipped: the last line of the sample is still on the card.
        assert "line 12 of a long sample" in page.text()


def test_a_face_that_never_fits_fails_naming_card_and_face(tmp_path):
    _write_bank(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "flashcards-a4.pdf").write_bytes(b"previous good file")
    _add_card_sample(tmp_path, 40)
    result = _run(tmp_path)
    assert result.exit_code == 3, result.output
    assert "Q2 (front)" in result.output and "shorten the text" in result.output
    assert "Traceback" not in result.output
    # The failed build left the earlier output alone.
    assert (out / "flashcards-a4.pdf").read_bytes() == b"previous good file"
    assert sorted(p.name for p in out.iterdir()) == ["flashcards-a4.pdf"]


# ------------------------------------------------------------------ the size search

def _search_walk(heights_at: dict[float, dict[int, float]], start_at: float):
    """Run a face's size search against made-up heights (size -> points shown -> height):
    what it settles on and which sizes it had laid out."""
    from studykit.render.flashcards import LAYOUTS, Face, FlashcardRenderer, _SizeSearch

    renderer = FlashcardRenderer()
    q = type("Q", (), {"key_points": ("kp1", "kp2", "kp3", "kp4", "kp5"), "summary": "",
                       "pitfalls": ()})()
    face = Face("Q9", "easy", "back", q, 10.0, 8.0, points=5)
    groups: list[list[tuple]] = []
    for o in renderer.candidates(face):
        if groups and groups[-1][0][:2] == o[:2]:
            groups[-1].append(o)
        else:
            groups.append([o])
    start = next(g for g, grp in enumerate(groups) if grp[0][0] == start_at)
    search = _SizeSearch(face, groups, start)
    tried = []
    while True:
        size = groups[search.at][0][0]
        tried.append(size)
        if not search.measured(heights_at[size], limit=100.0):
            return search.best, tried


def test_size_search_finds_what_stepping_down_one_option_at_a_time_would():
    sizes = (10.0, 9.5, 9.0, 8.5, 8.0)
    # A back that fits whole from 9.5 pt down: found by going up from 9 pt, 9.5 kept.
    roomy = {s: {k: k * (15 if s >= 9.5 else 14) + (30 if s == 10.0 else 0) for k in range(6)}
             for s in sizes}
    best, tried = _search_walk(roomy, start_at=9.0)
    assert best == (9.5, 7.5, 5) and tried == [9.0, 10.0, 9.5]
    # A back that fits only with 2 points at 9 pt: decided by one layout.
    tight = {s: {k: 40 * k for k in range(6)} for s in sizes}
    best, tried = _search_walk(tight, start_at=9.0)
    assert best == (9.0, 7.0, 2) and tried == [9.0]
    # A back that needs the floor size with its summary alone.
    huge = {s: {k: 150 - (20 if s == 8.0 and k == 0 else 0) + k for k in range(6)} for s in sizes}
    huge[8.0][0] = 90
    best, tried = _search_walk(huge, start_at=9.0)
    assert best == (8.0, 7.0, 0) and tried == [9.0, 8.5, 8.0]
    # And one that never fits.
    never = {s: {k: 500 for k in range(6)} for s in sizes}
    best, _ = _search_walk(never, start_at=9.0)
    assert best is None


def _long_points(root: Path, number: int, words: int = 12, summary: bool = False) -> None:
    """Give a card six key points, more than its back can hold (and a long summary)."""
    path = next((root / "content").glob(f"*/{number:03d}-card.toml"))
    filler = " ".join(["and some more words"] * (words // 4))
    points = ", ".join(f'"Point {k} of card {number}, {filler}"' for k in range(6))
    text = path.read_text()
    if summary:
        text = text.replace("a sentence or two long.", "and then " + "a few more words " * 18)
    start = text.index("key_points = [")
    end = text.index("]\n", start) + 2
    path.write_text(text[:start] + f"key_points = [{points}]\n" + text[end:])


def _fit_lines(output: str) -> list[str]:
    return [line for line in output.splitlines()
            if "set below" in line or "show only the key points" in line]


def test_an_edit_lays_out_again_only_the_part_holding_its_card(tmp_path):
    from studykit.render import flashcards

    def build_cached() -> str:
        result = CliRunner().invoke(
            build.cli, ["--content", str(tmp_path / "content"), "--output",
                        str(tmp_path / "out"), "flashcards", "--verbose"],
            env={"KIT_CACHE_DIR": str(tmp_path / "cache")})
        assert result.exit_code == 0, result.output
        return result.output

    _write_bank(tmp_path)
    _add_card_sample(tmp_path, 13)     # Q2's front is set smaller
    _long_points(tmp_path, 3)          # Q3's back drops key points
    first = build_cached()
    parts = int(re.search(r"\(all (\d+) parts laid out\)", first).group(1))
    # The test sheet, then the 5 card sheets in parts of SHEETS_PER_PART.
    assert parts == 1 + -(-5 // flashcards.SHEETS_PER_PART)
    fits = _fit_lines(first)
    assert any("fronts Q2" in line for line in fits) and any("Q3" in line for line in fits[1:])

    # The expert card (Q-number with the one expert level) is on the last sheet.
    expert = next(p for p in (tmp_path / "content").glob("*/*-card.toml")
                  if 'difficulty = "expert"' in p.read_text())
    expert.write_text(expert.read_text().replace("Third point of", "Third, edited point of"))
    second = build_cached()
    assert f"(1 of {parts} parts laid out, the rest from the cache)" in second, second
    # What the parts from the cache fitted is reported as when they were laid out.
    assert _fit_lines(second) == fits

    with Document(tmp_path / "out" / "flashcards-a4.pdf") as doc:
        incremental = [page.text() for page in doc]
    clean = _build(tmp_path)   # --no-cache: everything laid out afresh
    assert [page.text() for page in clean] == incremental
    assert any("Third, edited point of" in text for text in incremental)


@pytest.mark.parametrize("layout", ["8up", "4up"])
def test_faces_fitted_in_place_print_as_a_layout_at_their_sizes_would(tmp_path, layout):
    """Faces are fitted on the sheet: those set smaller are laid out again and put in place,
    and backs are cut to the key points they show. The sheets must print exactly what laying
    them out directly, at the sizes chosen, prints: every word in the same place, every pixel
    the same."""
    from studykit.api import Project
    from studykit.render import flashcards
    from studykit.render.base import BuildContext
    from studykit.workers import InlineExecutor
    from studykit.render.partlayout import render_html

    _write_bank(tmp_path)
    _add_card_sample(tmp_path, 13 if layout == "8up" else 24)
    _long_points(tmp_path, 3, words=12 if layout == "8up" else 16, summary=layout == "4up")
    long_title = "Second Topic, With a Title Long Enough to Take Two Lines in the Header"
    for name in ("questions.toml", "02-second/topic.toml"):
        path = tmp_path / "content" / name
        path.write_text(path.read_text().replace("Second Topic", long_title))
    kit = Project(content_dir=tmp_path / "content").load()
    ctx = BuildContext(kit=kit, report=None, out_dir=tmp_path / "out", pool=InlineExecutor())
    renderer = flashcards.FlashcardRenderer(layout=layout)
    seen: list = []
    real_pages = renderer.pages

    def pages(questions):
        found = real_pages(questions)
        seen.append(found)
        return found

    renderer.pages = pages
    result = renderer.render(ctx)
    [target] = result.paths
    laid_out, _faces_of = seen[0]
    shrunk = [f for _, f in laid_out[2].faces if f.card_id == "Q2"]
    assert renderer.shrunk and any(line.startswith("1 back(s)") for line in result.messages)
    assert shrunk and shrunk[0].prose_pt < renderer.sheet.layout.prose_sizes[0]

    # The same sheets, each face at its fitted size with only the points it shows.
    env = renderer.jinja(ctx, "flashcards")
    w, h = renderer.sheet.size
    counter = iter(range(10**6))
    views = [{"side": p.side, "faces": [(slot, renderer._face_view(f, next(counter)))
                                        for slot, f in p.faces]} for p in laid_out]
    html = env.get_template("sheets.html.j2").render(
        pages=views, paper_w=w, paper_h=h, page_h=h, grid=renderer.sheet.grid(),
        duplex="long", fold_x=w / 2, count=len(kit.questions),
        crops=renderer.sheet.crop_marks(), **renderer._common(renderer.sheet.layout))
    assert "Two Lines" in html
    direct = Document(render_html(html, str(ctx.templates_dir / "flashcards")).write_pdf())
    with Document(target) as fitted:
        assert len(fitted) == len(direct)
        for mine, theirs in zip(fitted, direct):
            # The joined file writes its page boxes to 4 decimals, WeasyPrint to 6: the same to
            # a thousandth of a point (PyMuPDF read both as 32-bit floats, equal to about that).
            assert tuple(mine.rect) == pytest.approx(tuple(theirs.rect), abs=1e-3)
            ours, direct_words = (
                sorted(p.words(), key=lambda w: (w.text, round(w.x0), round(w.y0)))
                for p in (mine, theirs))
            assert [w.text for w in ours] == [w.text for w in direct_words]
            for a, b in zip(ours, direct_words):
                assert tuple(a.rect) == pytest.approx(tuple(b.rect), abs=1e-3), a.text
            assert mine.pixels(50) == theirs.pixels(50)
        text = "".join(page.text() for page in fitted)
    assert "line 12 of a long sample" in text and "Point 0 of card 3" in text
    assert "Point 5 of card 3" not in text


# ------------------------------------------------------------------ backs that answer fronts

def _render_direct(root: Path, **options):
    """The sheets from the renderer itself (no sample check), and its messages."""
    from studykit.api import Project
    from studykit.render.base import BuildContext
    from studykit.render.flashcards import FlashcardRenderer
    from studykit.workers import InlineExecutor

    kit = Project(content_dir=root / "content").load()
    ctx = BuildContext(kit=kit, report=None, out_dir=root / "out", pool=InlineExecutor())
    result = FlashcardRenderer(**options).render(ctx)
    return Document(result.paths[0]), result


def _version_twins(root: Path, number: int = 2) -> None:
    path = next((root / "content").glob(f"*/{number:03d}-card.toml"))
    code = "import sys\nprint(sys.version_info >= (3, 12))"
    path.write_text(path.read_text().replace('no_samples_reason = "A fixture card."\n', "")
                    + "".join(f"\n[[samples]]\ntitle = \"T{n}\"\ncard = {card}\n"
                              f"python = \"{spec}\"\ncode = '''\n{code}\n'''\n"
                              f"output = '''\n{out}\n'''\n"
                              for n, (card, spec, out) in enumerate(
                                  [("true", ">=3.12", "True"), ("false", "<3.12", "False")])))


def _card_texts(doc) -> dict[str, str]:
    """Card ID -> the text of its back (the page after its front's, 8-up long duplex)."""
    out = {}
    pages = list(doc)
    for i in range(2, len(pages), 2):
        for card in _faces(pages[i + 1]):
            out[card] = pages[i + 1].text()
    return out


def test_a_back_shows_what_its_fronts_code_prints_on_each_version(tmp_path):
    _write_bank(tmp_path)
    _version_twins(tmp_path)
    doc, _ = _render_direct(tmp_path)
    with doc:
        back = next(p for p in list(doc)[3::2] if "Q2" in [w.text for w in p.words()]).text()
    assert "Python >=3.12 prints" in back and "Python <3.12 prints" in back
    assert "True" in back and "False" in back


def test_a_back_adds_to_its_summary_and_gives_the_handbook(tmp_path):
    from studykit.render.cardtext import added_points

    _write_bank(tmp_path)
    path = next((tmp_path / "content").glob("*/002-card.toml"))
    path.write_text(path.read_text().replace(
        '"First point of 2"', '"The short answer of card 2"').replace(
        'no_samples_reason', 'pitfalls = ["Forgetting card 2 is a fixture"]\nno_samples_reason'))
    from studykit.api import Project

    q = Project(content_dir=tmp_path / "content").load().question(2)
    assert added_points(q) == [("point", "Second point of 2"), ("point", "Third point of 2"),
                               ("pitfall", "Forgetting card 2 is a fixture")]
    doc, _ = _render_direct(tmp_path, test_sheet=False)
    with doc:
        back = next(p for p in list(doc)[1::2] if "Q2" in [w.text for w in p.words()]).text()
    assert "Second point of 2" in back and "Pitfall: Forgetting card 2" in back
    # The point that repeats the summary is left out: its words appear once, in the summary.
    assert " ".join(back.split()).count("short answer of card 2") == 1
    assert "handbook Q2" in back       # no handbook built: the book is in question order


def test_the_revision_mark_follows_what_the_card_shows(tmp_path):
    from studykit.api import Project
    from studykit.render.cardtext import revision

    _write_bank(tmp_path)
    path = next((tmp_path / "content").glob("*/003-card.toml"))

    def mark() -> str:
        q = Project(content_dir=tmp_path / "content", use_cache=False).load().question(3)
        return revision(q, "First Topic")
    first = mark()
    doc, _ = _render_direct(tmp_path, test_sheet=False)
    with doc:
        for page in doc:
            words = [w.text for w in page.words()]
            if "Q3" in words:   # beside the ID on both faces
                assert words[words.index("Q3") + 1] == first
    path.write_text(path.read_text().replace("A longer answer", "A longer, edited answer"))
    assert mark() == first          # the cards do not show the full answer
    path.write_text(path.read_text().replace("The short answer of card 3",
                                             "The corrected answer of card 3"))
    assert mark() != first and len(mark()) == 4


def test_the_alignment_sheet_says_how_to_print(root):
    for duplex, edge in (("long", "long edge"), ("short", "short edge")):
        with _build(root, "--duplex", duplex) as doc:
            text = " ".join(doc[0].text().split())
            assert "actual size (100 %" in text and f"flipping on the {edge}" in text
            assert "g/m²" in text and "each B should sit behind its F" in text
            assert "4 mm gutter" in text


def test_changed_since_prints_exactly_the_edited_card(tmp_path):
    import subprocess

    _write_bank(tmp_path)
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(git + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "content"], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "cards"], check=True)
    path = next((tmp_path / "content").glob("*/005-card.toml"))
    path.write_text(path.read_text().replace("The short answer of card 5",
                                             "The corrected answer of card 5"))
    other = next((tmp_path / "content").glob("*/006-card.toml"))
    other.write_text(other.read_text().replace("A longer answer", "A longer, edited answer"))
    result = _run(tmp_path, "--changed-since", "HEAD")
    assert result.exit_code == 0, result.output
    assert "1 card(s) changed since HEAD: Q5" in result.output
    with Document(tmp_path / "out" / "flashcards-a4.pdf") as doc:
        assert doc.page_count == 4       # the alignment sheet, then one card on a full sheet
        cards = [w.text for page in list(doc)[2:] for w in page.words()
                 if re.fullmatch(r"Q\d+", w.text)]
        assert set(cards) == {"Q5"} and "corrected answer of card 5" in doc[3].text()
    subprocess.run(git + ["commit", "-q", "-am", "fix"], check=True)
    result = _run(tmp_path, "--changed-since", "HEAD")
    assert result.exit_code == 0 and "no card changed since HEAD" in result.output
    result = _run(tmp_path, "--changed-since", "no-such-rev")
    assert result.exit_code == 2 and "'no-such-rev' is not a revision" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("layout, duplex", [("8up", "long"), ("4up", "long"), ("4up", "fold")])
def test_every_printing_step_is_on_the_alignment_sheet(root, layout, duplex):
    from studykit.render.flashcards import FlashcardRenderer

    steps = FlashcardRenderer(layout=layout, duplex=duplex).instructions()
    with _build(root, "--layout", layout, "--duplex", duplex) as doc:
        text = " ".join(doc[0].text().split())
    for n, step in enumerate(steps, start=1):
        assert f"{n}. {step.split()[0]}" in text, (n, step)
    assert text.index("1. Print") < text.index(f"{len(steps)}. ")
