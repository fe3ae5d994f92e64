"""The fast paths through the libraries' internals, and the public paths the build takes without
them: on an untested version, when one raises, or with STUDYKIT_PUBLIC_ONLY set. Either way the
outputs must carry every page number, link and bookmark; where a number would be missing the
build fails naming the page."""
from __future__ import annotations

from pathlib import Path

import pytest

from studykit.api import Project
from studykit.errors import RenderError
from studykit.render import pptx_xml, weasy_internals
from studykit.render.base import PUBLIC_ONLY, BuildContext
from studykit.workers import InlineExecutor
from studykit.render.flashcards import FlashcardRenderer
from studykit.render.handbook import HandbookRenderer
from studykit.render.partcache import PartCache
from studykit.render.partlayout import layout_part
from studykit.render.pdfjoin import join
from studykit.render.slides import SlidesRenderer

from pdfread import Document

BANK = Path(__file__).parent / "fixtures" / "bank"


def _render(renderer, out: Path) -> tuple[Path, list[str]]:
    kit = Project(content_dir=BANK).load()
    ctx = BuildContext(kit=kit, report=None, out_dir=out, pool=InlineExecutor())
    result = renderer.render(ctx)
    [target] = result.paths
    return target, result.messages


def _read(target: Path) -> dict:
    """What a reader gets: each page's words where they are, links and bookmarks."""
    with Document(target) as doc:
        return {"words": [[(w.text, w.x0, w.y1) for w in page.words()] for page in doc],
                "links": [[(link.kind, link.uri or link.name or link.page, link.rect.rounded())
                           for link in page.links()] for page in doc],
                "toc": doc.toc(),
                "names": sorted(doc.names())}


def _same(a: dict, b: dict) -> None:
    assert len(a["words"]) == len(b["words"])
    for n, (wa, wb) in enumerate(zip(a["words"], b["words"]), start=1):
        assert [w[0] for w in wa] == [w[0] for w in wb], f"page {n}"
        for (word, xa, ya), (_, xb, yb) in zip(wa, wb):
            # A stamped number is placed from its stand-in's glyphs on the public path, from
            # its box on the fast one: the same spot to a fraction of a point.
            assert abs(xa - xb) < 0.5 and abs(ya - yb) < 0.5, f"page {n}: {word}"
    assert a["links"] == b["links"]
    assert a["toc"] == b["toc"]
    assert a["names"] == b["names"]


@pytest.fixture(scope="module")
def fast_book(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.delenv(PUBLIC_ONLY, raising=False)
    try:
        target, messages = _render(HandbookRenderer(), tmp_path_factory.mktemp("fast"))
    finally:
        mp.undo()
    return _read(target), messages


def test_handbook_on_the_public_path_is_the_same_book(fast_book, tmp_path, monkeypatch):
    monkeypatch.setenv(PUBLIC_ONLY, "1")
    target, messages = _render(HandbookRenderer(), tmp_path)
    assert any("slower path" in m and f"{PUBLIC_ONLY} is set" in m for m in messages)
    book = _read(target)
    _same(fast_book[0], book)
    # Every page but the cover's carries its number, at the foot.
    for n, words in enumerate(book["words"][1:], start=2):
        assert str(n) in [w[0] for w in words if w[2] > 780], f"page {n}"


def test_a_fast_path_that_raises_gives_the_same_book(fast_book, tmp_path, monkeypatch):
    # As WeasyPrint 68 and 69 did inside the pagination (its page maker's entries changed).
    monkeypatch.delenv(PUBLIC_ONLY, raising=False)

    def broken(*args, **kwargs):
        raise ValueError("not enough values to unpack (expected 5, got 4)")

    monkeypatch.setattr(weasy_internals, "render", broken)
    target, messages = _render(HandbookRenderer(), tmp_path)
    assert not any("slower path" in m for m in fast_book[1])
    assert any("WeasyPrint's internals failed (ValueError: not enough values" in m
               for m in messages)
    _same(fast_book[0], _read(target))


def test_an_untested_version_takes_the_public_path(monkeypatch):
    monkeypatch.delenv(PUBLIC_ONLY, raising=False)
    tested = weasy_internals.TESTED
    weasy_internals._unusable.cache_clear()
    try:
        weasy_internals.TESTED = ("69.0",)
        assert weasy_internals.unusable() == "WeasyPrint 70.0 is not the tested 69.0"
    finally:
        weasy_internals.TESTED = tested
        weasy_internals._unusable.cache_clear()
    assert weasy_internals.unusable() == ""


def test_the_public_path_finds_the_stand_ins_the_fast_path_finds(monkeypatch):
    """Each stamp where the fast path puts it (within 0.5 pt), in the same font, size and
    colour: the public path reads them from a PDF, the fast one from WeasyPrint's boxes."""
    kit = Project(content_dir=BANK).load()
    renderer = HandbookRenderer()
    ctx = BuildContext(kit=kit, report=None, out_dir=BANK)
    base = str(ctx.templates_dir / "handbook")
    compared = 0
    for _label, make in renderer.part_htmls(ctx):
        html = make()
        monkeypatch.delenv(PUBLIC_ONLY, raising=False)
        fast = layout_part(html, base)
        monkeypatch.setenv(PUBLIC_ONLY, "1")
        public = layout_part(html, base)
        assert not fast.slower and public.slower

        def order(stamp):
            return stamp[0], round(stamp[5]), round(stamp[4]), stamp[1]

        assert len(fast.stamps) == len(public.stamps)
        for a, b in zip(sorted(fast.stamps, key=order), sorted(public.stamps, key=order)):
            assert a[:4] == b[:4] and a[6] == b[6], (a, b)
            assert abs(a[4] - b[4]) < 0.5 and abs(a[5] - b[5]) < 0.5, (a, b)
            assert a[7] == pytest.approx(b[7], abs=0.001) and a[8] == b[8], (a, b)
            compared += 1
    assert compared > 12


def test_flashcards_on_the_public_path_are_the_same_sheets(tmp_path, monkeypatch):
    monkeypatch.delenv(PUBLIC_ONLY, raising=False)
    fast, messages = _render(FlashcardRenderer(), tmp_path / "fast")
    assert not any("slower path" in m for m in messages)

    def broken(*args, **kwargs):
        raise AttributeError("'LineBox' object has no attribute 'children'")

    monkeypatch.setattr(weasy_internals, "place_faces", broken)
    public, messages = _render(FlashcardRenderer(), tmp_path / "public")
    assert any("internals failed (AttributeError" in m for m in messages)
    _same(_read(fast), _read(public))


def _without(kind: str, monkeypatch) -> None:
    """Stand-ins of one kind not found: a renamed box class or style key would do that."""
    real = weasy_internals.stand_ins

    def some(document, start=0):
        return [s for s in real(document, start) if bool(s[1]) == (kind == "own")]

    monkeypatch.delenv(PUBLIC_ONLY, raising=False)
    monkeypatch.setattr(weasy_internals, "stand_ins", some)


def test_a_page_without_its_number_fails_the_build_naming_it(tmp_path, monkeypatch):
    _without("own", monkeypatch)
    with pytest.raises(RenderError) as caught:
        _render(HandbookRenderer(), tmp_path)
    assert caught.value.exit_code == 3
    assert str(caught.value) == ("handbook.pdf: page 2 (and 5 other pages): the stand-in for "
                                 "its page number was not found, so no number would be printed")
    assert not (tmp_path / "handbook.pdf").exists()


def test_a_page_reference_not_found_fails_the_build_naming_its_page(tmp_path, monkeypatch):
    _without("references", monkeypatch)
    with pytest.raises(RenderError) as caught:
        _render(HandbookRenderer(), tmp_path)
    assert caught.value.exit_code == 3
    message = str(caught.value)
    assert message.startswith("handbook.pdf: page 3: the stand-in for the page number of #")
    assert message.endswith(" was not found, so no number would be printed")


def test_a_link_to_an_anchor_not_in_the_book_fails_the_build(tmp_path):
    part = layout_part('<p id="here"><a href="#here">here</a> and '
                       '<a href="#nowhere">nowhere</a></p>', str(tmp_path))
    part.key = "k"
    with pytest.raises(RenderError, match="^page 1: a link to #nowhere, which is not in the book$"):
        join([part], tmp_path / "book.pdf", {}, PartCache(None, salt=""))
    assert not (tmp_path / "book.pdf").exists()


# Both paths' decks dated alike, so that their files can be compared byte for byte.
EPOCH = "1700000000"


def _slides(out: Path) -> tuple[dict, list[str]]:
    """The fixture bank's decks as a reader gets them: per deck, per slide, its layout and each
    shape's name, place, size and text; and the renderer's messages."""
    from pptx import Presentation

    kit = Project(content_dir=BANK).load()
    renderer = SlidesRenderer()
    result = renderer.render(BuildContext(kit=kit, report=None, out_dir=out))
    decks = {}
    for path in result.paths:
        prs = Presentation(str(path))
        decks[path.name] = [
            (slide.slide_layout.name,
             [(s.name, s.left, s.top, s.width, s.height,
               s.text_frame.text if s.has_text_frame else None) for s in slide.shapes],
             slide.notes_slide.notes_text_frame.text)
            for slide in prs.slides]
    return decks, result.messages


@pytest.fixture(scope="module")
def fast_decks(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.delenv(PUBLIC_ONLY, raising=False)
    mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
    try:
        out = tmp_path_factory.mktemp("fast-decks")
        decks, messages = _slides(out)
    finally:
        mp.undo()
    assert not any("slower path" in m for m in messages)
    return decks, out


def test_decks_on_the_public_path_are_the_same_decks(fast_decks, tmp_path, monkeypatch):
    monkeypatch.setenv(PUBLIC_ONLY, "1")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    public, messages = _slides(tmp_path)
    assert [m for m in messages if "slower path" in m] == [
        f"on the slower path (python-pptx's public API only): {PUBLIC_ONLY} is set"]
    assert public == fast_decks[0]
    assert sum(len(slides) for slides in public.values()) == 17
    # Not only the same slides: the same files, byte for byte.
    for name in public:
        assert (tmp_path / "slides" / name).read_bytes() == \
            (fast_decks[1] / "slides" / name).read_bytes(), name


def test_a_pptx_fast_path_that_raises_gives_the_same_decks(fast_decks, tmp_path, monkeypatch):
    monkeypatch.delenv(PUBLIC_ONLY, raising=False)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    made = []
    real = pptx_xml.add_notes_slide

    def broken(slide, element):
        # Part-way through a deck, after some slides were made the fast way.
        made.append(slide)
        if len(made) == 3:
            raise AttributeError("'NotesSlidePart' object has no attribute 'relate_to'")
        real(slide, element)

    monkeypatch.setattr(pptx_xml, "add_notes_slide", broken)
    public, messages = _slides(tmp_path)
    assert len(made) >= 3
    assert [m for m in messages if "slower path" in m] == [
        "on the slower path (python-pptx's public API only): python-pptx's internals failed "
        "(AttributeError: 'NotesSlidePart' object has no attribute 'relate_to')"]
    assert public == fast_decks[0]


def test_an_untested_python_pptx_takes_the_public_path(tmp_path, monkeypatch):
    monkeypatch.delenv(PUBLIC_ONLY, raising=False)
    assert pptx_xml.unusable() == ""
    monkeypatch.setattr(pptx_xml, "TESTED", ("0.6.23",))
    assert pptx_xml.unusable() == "python-pptx 1.0.2 is not the tested 0.6.23"

    used = []
    for name in ("name_parts_quickly", "add_bare_slide", "placeholders", "add_notes_slide",
                 "theme_xml"):
        monkeypatch.setattr(pptx_xml, name, lambda *args, name=name: used.append(name))
    decks, messages = _slides(tmp_path)
    assert used == []
    assert sum(len(slides) for slides in decks.values()) == 17
    assert any("slower path (python-pptx's public API only): python-pptx 1.0.2 is not the "
               "tested 0.6.23" in m for m in messages)


def test_the_tested_python_pptx_is_the_locked_one():
    lock = (Path(__file__).parents[1] / "requirements" / "lock.txt").read_text()
    assert f"python-pptx=={pptx_xml.TESTED[-1]} " in lock
