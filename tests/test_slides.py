"""The slide decks: structure, notes, coloured code, measured text, a real client opening them."""

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from pptx import Presentation

import build
from conftest import FIXTURE_BANK
from studykit.errors import RenderError
from studykit.loader import load_kit
from studykit.model import Kit, Question, Sample
from studykit.render.base import BuildContext
from studykit.render.pptx_text import box_of, overflows, theme_fonts
from studykit.render.slides import SlidesRenderer

EMU_16_9 = (12192000, 6858000)
# title, agenda; per question: question, answer, one per slide sample; recap, discussion.
EXPECTED = {"01-alpha.pptx": 2 + (2 + 2) + (2 + 0) + 2, "02-beta.pptx": 2 + (2 + 1) + 2}
LONG_BLOCKS = [[f"a{b}_{i} = {i} + {b}  # block {b}" for i in range(9)] for b in range(4)]


def _build(content: Path, out: Path, cache: Path, *args: str):
    result = CliRunner().invoke(build.cli, ["--content", str(content), "--output", str(out),
                                            "slides", *args], env={"KIT_CACHE_DIR": str(cache)})
    return result


@pytest.fixture(scope="module")
def decks(tmp_path_factory) -> Path:
    """The fixture bank's decks, built once through the command line."""
    root = tmp_path_factory.mktemp("slides")
    result = _build(FIXTURE_BANK, root / "output", root / "cache")
    assert result.exit_code == 0, result.output
    return root / "output" / "slides"


def slide_text(slide) -> str:
    return "\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)


def shape(slide, name):
    return next(s for s in slide.shapes if s.name == name)


def test_one_16_9_deck_per_topic_with_the_expected_slides(decks):
    assert sorted(p.name for p in decks.iterdir()) == sorted(EXPECTED)
    for name, count in EXPECTED.items():
        prs = Presentation(str(decks / name))
        assert (prs.slide_width, prs.slide_height) == EMU_16_9
        assert len(prs.slides) == count
        layouts = [s.slide_layout.name for s in prs.slides]
        assert layouts[0] == "Deck Title" and layouts[1] == "Bullets"
        assert set(layouts) <= {"Deck Title", "Bullets", "Question", "Code"}


def test_title_slide_gives_topic_count_and_mix(decks):
    prs = Presentation(str(decks / "02-beta.pptx"))
    text = slide_text(prs.slides[0])
    assert "Beta & Gamma <Things>" in text
    assert "1 question: 1 expert" in text


def test_every_answered_question_is_asked_then_answered(decks):
    kit = load_kit(FIXTURE_BANK)
    for topic in kit.topics:
        prs = Presentation(str(decks / f"{topic.dirname}.pptx"))
        slides = list(prs.slides)
        agenda = slide_text(slides[1])
        for q in topic.questions:
            assert q.question in agenda
            i = next(i for i, s in enumerate(slides) if s.slide_layout.name == "Question"
                     and shape(s, "Title").text_frame.text == q.card_id)
            asked = slides[i]
            assert shape(asked, "Question").text_frame.text == q.question
            assert q.difficulty.upper() in shape(asked, "Difficulty").text_frame.text
            assert "Think about it" in shape(asked, "Cue").text_frame.text
            answer = slides[i + 1]
            assert shape(answer, "Title").text_frame.text == f"{q.card_id} · Answer"
            body = [p.text for p in shape(answer, "Body").text_frame.paragraphs]
            # The question as an italic subtitle, then the key points; the summary is spoken.
            assert body == [q.question, *q.key_points[:4]]
            assert all(r.font.italic for r in shape(answer, "Body").text_frame.paragraphs[0].runs)
            notes = answer.notes_slide.notes_text_frame.text
            assert notes.index("Talking points:") < notes.index(q.summary) \
                < notes.index("A strong answer covers:") < notes.index("Full answer")
            code = [s for s in slides[i + 2:i + 2 + len(q.samples)]
                    if s.slide_layout.name == "Code"]
            assert len(code) == sum(s.slide for s in q.samples)
        recap = slide_text(slides[-2])
        assert all(q.card_id in recap for q in topic.questions)


def test_notes_on_question_answer_and_code_slides(decks):
    prs = Presentation(str(decks / "01-alpha.pptx"))
    for slide in prs.slides:
        assert slide.has_notes_slide
        assert slide.notes_slide.notes_text_frame.text.strip()
    q2, a2 = prs.slides[2], prs.slides[3]
    notes = q2.notes_slide.notes_text_frame.text
    assert "Hints" in notes and "A strong answer must cover" in notes
    assert "print calls str() on each argument" in notes
    notes = a2.notes_slide.notes_text_frame.text
    # The Markdown answer is readable text in the notes, table and all.
    assert "print converts each argument with str()" in notes and "`" not in notes
    assert "sep | \" \"" in notes
    assert "Forgetting that print returns None" in notes and "None." in notes
    code_notes = prs.slides[4].notes_slide.notes_text_frame.text
    assert "Verified on CPython" in code_notes and "a-b" in code_notes


def test_code_is_native_text_in_coloured_runs_with_its_output(decks):
    prs = Presentation(str(decks / "01-alpha.pptx"))
    slide = prs.slides[4]
    assert slide.slide_layout.name == "Code"
    assert not [s for s in slide.shapes if s.shape_type == 13]   # no pictures
    code = shape(slide, "Code")
    lines = [p.text for p in code.text_frame.paragraphs]
    assert lines == ['print("a", "b", sep="-")  # a comment', 'print("back\\\\slash")']
    colours = {}
    for p in code.text_frame.paragraphs:
        for r in p.runs:
            assert r.font.name == "Courier New" and r.font.size.pt >= 14
            colours[r.text.strip()] = str(r.font.color.rgb)
    assert colours["print"] != colours['"a"'] != colours["# a comment"]
    assert len(set(colours.values())) >= 3
    output = shape(slide, "Output").text_frame.text
    assert output.startswith("Output") and "a-b\nback\\slash" in output
    # Samples with slide = false stay off the deck.
    assert "Only new Pythons" not in "".join(slide_text(s) for s in prs.slides)


def test_raises_is_named_under_the_output(decks):
    prs = Presentation(str(decks / "02-beta.pptx"))
    code = next(s for s in prs.slides if s.slide_layout.name == "Code")
    assert "raises KeyError" in shape(code, "Output").text_frame.text


def test_every_text_box_measures_inside_its_shape_and_the_slide(decks):
    for name in EXPECTED:
        prs = Presentation(str(decks / name))
        assert overflows(prs) == []
        fonts = theme_fonts(prs)
        assert fonts == ("Calibri", "Calibri")
        for slide in prs.slides:
            for s in slide.shapes:
                assert 0 <= s.left and s.left + s.width <= prs.slide_width
                assert 0 <= s.top and s.top + s.height <= prs.slide_height
                box = box_of(s, fonts)
                if box is None:
                    continue
                small = s.is_placeholder and s.placeholder_format.type in (13, 15)
                for p in box.paras:
                    for r in p.runs:
                        if r.text.strip() and not small:
                            assert r.size >= (14 if r.font == "Courier New" else 18), r


def test_footer_and_slide_number_on_every_content_slide(decks):
    prs = Presentation(str(decks / "02-beta.pptx"))
    assert not [s for s in prs.slides[0].shapes if s.name in ("Footer", "Slide Number")]
    for n, slide in enumerate(list(prs.slides)[1:], 2):
        assert shape(slide, "Footer").text_frame.text == "Beta & Gamma <Things>"
        number = shape(slide, "Slide Number")
        assert number.text_frame.text == str(n)
        assert 'type="slidenum"' in number._element.xml


def _bank_with_long_sample(bank: Path, slide_lines: str | None = None) -> Path:
    shows = f'slide_lines = "{slide_lines}"\n' if slide_lines else ""
    blocks = "\n\n".join("\n".join(b) for b in LONG_BLOCKS)
    output = "".join(f"{i}\n" for i in range(3))
    (bank / "02-beta/006-sum.toml").write_text(f'''number = 6
question = "What is 1 + 1?"
difficulty = "easy"
summary = "Two."
answer = "It is two."
key_points = ["One plus one", "is two", "always"]

[[samples]]
title = "Long arithmetic"
{shows}code = \'\'\'
{blocks}
for i in range(3):
    print(i)
\'\'\'
output = \'\'\'
{output}\'\'\'
''')
    return bank


def test_a_sample_too_long_for_one_slide_fails_the_build_naming_it(bank, tmp_path):
    result = _build(_bank_with_long_sample(bank), tmp_path / "out", tmp_path / "cache",
                    "--topic", "beta")
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert ("02-beta/006-sum.toml:" in result.output and "samples[0] 'Long arithmetic'" in
            result.output and "two slides" in result.output and "slide_lines" in result.output)
    assert not (tmp_path / "out/slides/02-beta.pptx").exists()


def test_slide_lines_put_a_long_sample_on_one_slide_with_an_elision_mark(bank, tmp_path):
    # Blocks are lines 1-9, 11-19, 21-29 and 31-39; the loop is 40-41.
    content = _bank_with_long_sample(bank, slide_lines="1-9, 31-41")
    result = _build(content, tmp_path / "out", tmp_path / "cache", "--topic", "beta", "--verbose")
    assert result.exit_code == 0, result.output
    prs = Presentation(str(tmp_path / "out/slides/02-beta.pptx"))
    [slide] = [s for s in prs.slides if "Long arithmetic" in shape(s, "Title").text_frame.text]
    lines = [p.text for p in shape(slide, "Code").text_frame.paragraphs]
    assert lines == LONG_BLOCKS[0] + ["# … 21 lines not shown"] + LONG_BLOCKS[3] + \
        ["for i in range(3):", "    print(i)"]
    assert "0\n1\n2" in shape(slide, "Output").text_frame.text
    notes = slide.notes_slide.notes_text_frame.text
    assert "Left out on the slide" in notes and "a1_0 = 0 + 1" in notes
    assert "a0_0" not in notes.split("Left out on the slide")[1]
    assert overflows(prs) == []
    # The whole sample still runs: the checker ignores slide_lines.
    assert "failed    0" in result.output


def test_one_code_size_per_deck_the_largest_that_fits_every_sample(bank, tmp_path):
    from studykit.render.deck import Deck

    content = _bank_with_long_sample(bank, slide_lines="1-9, 31-41")
    result = _build(content, tmp_path / "out", tmp_path / "cache", "--topic", "beta", "--verbose")
    assert result.exit_code == 0, result.output
    prs = Presentation(str(tmp_path / "out/slides/02-beta.pptx"))
    sizes = {r.font.size.pt for s in prs.slides if s.slide_layout.name == "Code"
             for p in shape(s, "Code").text_frame.paragraphs for r in p.runs}
    assert len(sizes) == 1 and min(sizes) >= 14
    topic = load_kit(content).topics[1]
    deck = Deck(None, topic, Path("templates/slides/theme.pptx"))
    largest = [deck.largest_code_size(q, smp) for q in topic.questions for smp in q.samples]
    # The short sample alone would be set larger: the long one holds the deck down.
    assert sizes == {min(largest)} and max(largest) > min(largest)
    assert f"02-beta.pptx: {len(prs.slides)} slides, code at {min(largest)} pt" in result.output


def test_every_code_slide_reveals_its_output_on_a_click(decks):
    for path in decks.iterdir():
        for slide in Presentation(str(path)).slides:
            if slide.slide_layout.name != "Code":
                continue
            output_id = str(shape(slide, "Output").shape_id)
            el = slide.element
            assert el.xpath(".//p:timing//p:cTn[@nodeType='clickEffect'][@presetClass='entr']")
            assert el.xpath(".//p:timing//p:spTgt/@spid") == [output_id]
            assert el.xpath(".//p:bldLst/p:bldP/@spid") == [output_id]
            assert "ask what it prints" in slide.notes_slide.notes_text_frame.text


def _kit_of(tmp_path: Path, change) -> Kit:
    kit = load_kit(FIXTURE_BANK)
    topic = kit.topics[0]
    return Kit(topics=(replace(topic, questions=tuple(change(q) for q in topic.questions)),),
               root=kit.root)


def test_a_code_line_too_wide_even_at_the_minimum_fails_naming_the_sample(tmp_path):
    def widen(q: Question) -> Question:
        if not q.samples:
            return q
        wide = Sample(title="Far too wide", code="x = '" + "w" * 110 + "'\nprint(x)\n",
                      output="w\n", index=1)
        return replace(q, samples=(q.samples[0], wide))

    out = tmp_path / "out"
    with pytest.raises(RenderError, match=r"samples\[1\] 'Far too wide'.*line 1 .*14 pt"):
        SlidesRenderer().render(BuildContext(kit=_kit_of(tmp_path, widen), report=None,
                                             out_dir=out))
    assert not (out / "slides").exists() or not list((out / "slides").iterdir())


def test_a_long_agenda_continues_on_numbered_slides(tmp_path):
    kit = load_kit(FIXTURE_BANK)
    topic = kit.topics[0]
    base = topic.questions[1]
    many = tuple(replace(base, number=100 + i, question=f"Question number {i} about a rather "
                         "long subject that wraps across the slide width?") for i in range(24))
    kit = Kit(topics=(replace(topic, questions=many),), root=kit.root)
    [path] = SlidesRenderer().render(BuildContext(kit=kit, report=None, out_dir=tmp_path)).paths
    prs = Presentation(str(path))
    titles = [shape(s, "Title").text_frame.text for s in list(prs.slides)[1:]]
    agenda = [t for t in titles if t.startswith("Agenda")]
    assert len(agenda) >= 2 and agenda[0] == f"Agenda (1/{len(agenda)})"
    listed = "".join(slide_text(s) for s in list(prs.slides)[1:1 + len(agenda)])
    assert all(f"Q{100 + i}" in listed for i in range(24))
    assert overflows(prs) == []


def test_overflow_check_catches_a_box_made_too_small(decks, tmp_path):
    prs = Presentation(str(decks / "01-alpha.pptx"))
    body = shape(prs.slides[3], "Body")
    body.height = body.height // 6
    assert any("slide 4 'Body'" in p for p in overflows(prs))


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice Impress is not installed "
                    "(scripts/bootstrap.sh test installs it)")
def test_libreoffice_converts_each_deck_to_one_page_per_slide(decks, tmp_path):
    from pdfread import Document

    for name, count in EXPECTED.items():
        profile = tmp_path / f"profile-{name}"
        # Each conversion gets its own profile: two soffice runs sharing one clash.
        subprocess.run(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless",
                        "--convert-to", "pdf", "--outdir", str(tmp_path), str(decks / name)],
                       check=True, timeout=180, capture_output=True)
        pdf = Document(tmp_path / name.replace(".pptx", ".pdf"))
        assert pdf.page_count == count
        prs = Presentation(str(decks / name))
        for page, slide in zip(pdf, prs.slides):
            # Runs of white space as one: pdftotext shows the gap after "Q2" as one space.
            text = " ".join(page.text().split())
            title = shape(slide, "Title").text_frame.text.split("\n")[0]
            assert " ".join(title.split()) in text
            # Every word on the page (a text block's box is the union of its words').
            assert page.words()
            for word in page.words():
                x0, y0, x1, y1 = word.rect
                assert page.rect.x0 <= x0 and x1 <= page.rect.x1 + 0.5
                assert page.rect.y0 <= y0 and y1 <= page.rect.y1 + 0.5


def test_the_theme_file_restyles_the_text_font(tmp_path):
    from pptx.opc.constants import RELATIONSHIP_TYPE as RT

    theme = Presentation(str(build.Path(build.__file__).parent / "templates/slides/theme.pptx"))
    part = theme.slide_master.part.part_related_by(RT.THEME)
    part._blob = part.blob.replace(b'<a:latin typeface="Calibri"/>',
                                   b'<a:latin typeface="Arial"/>')
    theme.save(str(tmp_path / "theme.pptx"))
    [path] = SlidesRenderer(template=tmp_path / "theme.pptx").render(
        BuildContext(kit=load_kit(FIXTURE_BANK).select(build.Selection(topics=frozenset(
            {"beta"}))), report=None, out_dir=tmp_path)).paths
    prs = Presentation(str(path))
    assert theme_fonts(prs) == ("Arial", "Arial")
    body = shape(prs.slides[3], "Body")
    # Text names no font of its own, so it follows the theme; code keeps Courier New.
    assert all(r.font.name is None for p in body.text_frame.paragraphs for r in p.runs)
    assert overflows(prs) == []


def test_an_edit_rebuilds_only_the_deck_that_shows_it(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(FIXTURE_BANK, content)
    out, cache = tmp_path / "out", tmp_path / "cache"
    _build(content, out, cache)
    alpha, beta = out / "slides" / "01-alpha.pptx", out / "slides" / "02-beta.pptx"
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in (alpha, beta)}
    q = content / "01-alpha" / "003-sky.toml"
    q.write_text(q.read_text().replace('summary = "', 'summary = "Reworded. ', 1))
    result = _build(content, out, cache, "--verbose")
    assert "1 deck(s) unchanged, not rebuilt" in result.output
    assert (beta.stat().st_mtime_ns, beta.read_bytes()) == before[beta]
    assert alpha.stat().st_mtime_ns != before[alpha][0]
    assert "Reworded." in " ".join(s.notes_slide.notes_text_frame.text
                                   for s in Presentation(alpha).slides)
    # A deck deleted by hand is built again even though its content did not change.
    beta.unlink()
    _build(content, out, cache)
    assert beta.exists()


def test_answer_slides_show_four_key_points_and_discussion_two_or_three_prompts(tmp_path):
    extra = ("a fifth point, said aloud", "a sixth point, said aloud")

    def longer(q: Question) -> Question:
        return replace(q, key_points=q.key_points + ("a fourth point",) + extra)

    kit = _kit_of(tmp_path, longer)
    [path] = SlidesRenderer().render(BuildContext(kit=kit, report=None, out_dir=tmp_path)).paths
    prs = Presentation(str(path))
    answers = [s for s in prs.slides if shape(s, "Title").text_frame.text.endswith("Answer")]
    assert answers
    for slide in answers:
        paras = shape(slide, "Body").text_frame.paragraphs
        assert len(paras) == 1 + 4
        assert not any(e in p.text for p in paras for e in extra)
        assert min(r.font.size.pt for p in paras[1:] for r in p.runs) >= 22
        talking = slide.notes_slide.notes_text_frame.text.split("A strong answer covers:")[0]
        assert all(e in talking for e in extra)
    [discussion] = [s for s in prs.slides if shape(s, "Title").text_frame.text == "Discussion"]
    assert 2 <= len(shape(discussion, "Body").text_frame.paragraphs) <= 3
