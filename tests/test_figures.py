"""Figures: validated with the content, drawn by Graphviz in the house style, cached, placed in
the handbook's answer and on a slide of their own."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pptx import Presentation

from conftest import FIXTURE_BANK
from pdfread import Document
from studykit import figures
from studykit.errors import ContentError
from studykit.loader import load_kit
from studykit.render.base import BuildContext
from studykit.render.handbook import HandbookRenderer
from studykit.render.slides import SlidesRenderer

pytestmark = pytest.mark.skipif(not figures.available(), reason="Graphviz is not installed")

GOOD_DOT = '''
digraph {
  n [kind=name label="x"];
  o [kind=object label="int 42"];
  n -> o;
}
'''
FIGURE = f'''
[[figures]]
caption = "The name x refers to an int object"
alt = "A name x with an arrow to an int object holding 42."
after = "writes them to `sys.stdout`"
dot = \'\'\'{GOOD_DOT}\'\'\'
'''


def _with_figure(bank: Path, figure: str = FIGURE) -> Path:
    path = bank / "01-alpha" / "002-print.toml"
    path.write_text(path.read_text("utf-8") + figure, "utf-8")
    return path


def _problems(bank: Path, cache: Path | None = None) -> list[str]:
    with pytest.raises(ContentError) as info:
        load_kit(bank, cache=cache)
    return [p.render(bank) for p in info.value.problems]


# ------------------------------------------------------------------ validation


def test_a_figure_loads_with_its_fields_and_the_line_of_its_source(bank):
    _with_figure(bank)
    [fig] = load_kit(bank).question(2).figures
    assert fig.caption == "The name x refers to an int object"
    assert fig.alt.startswith("A name x") and fig.after == "writes them to `sys.stdout`"
    lines = (bank / "01-alpha" / "002-print.toml").read_text().splitlines()
    assert lines[fig.dot_line - 1] == "digraph {"


def test_a_figure_without_alt_text_is_refused(bank):
    _with_figure(bank, FIGURE.replace('alt = "A name x with an arrow to an int object holding '
                                      '42."\n', ''))
    [problem] = _problems(bank)
    assert problem.startswith("01-alpha/002-print.toml:")
    assert "figures[0]: missing required key 'alt'" in problem


def test_empty_alt_text_is_refused_too(bank):
    _with_figure(bank, FIGURE.replace('alt = "A name x', 'alt = "  "\nx = "'))
    problems = _problems(bank)
    assert any("figures[0].alt: is empty" in p for p in problems), problems


def test_a_broken_dot_source_names_the_file_line_figure_and_graphvizs_message(bank):
    path = _with_figure(bank, FIGURE.replace("n -> o;", "n -> -> o;"))
    [problem] = _problems(bank)
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "-> ->" in t)
    assert problem.startswith(f"01-alpha/002-print.toml:{line}: figures[0].dot: figure 1 "
                              "('The name x refers to an int object'): Graphviz rejects it: "
                              "syntax error in line 4 of the DOT source"), problem


def test_an_unknown_kind_is_refused_at_its_line(bank):
    path = _with_figure(bank, FIGURE.replace("kind=object", "kind=blob"))
    [problem] = _problems(bank)
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "kind=blob" in t)
    assert f"002-print.toml:{line}: figures[0].dot:" in problem
    assert "unknown kind 'blob'" in problem


def test_placement_must_quote_the_answer_once(bank):
    _with_figure(bank, FIGURE.replace('after = "writes them to `sys.stdout`"',
                                      'after = "not in the text"'))
    [problem] = _problems(bank)
    assert "figures[0].after: 'not in the text' is not in the answer" in problem


def test_the_build_fails_with_the_figure_named_when_graphviz_rejects_it_at_render(
        bank, tmp_path, monkeypatch):
    # Graphviz absent when the content was read, so only the renderer meets the bad source.
    _with_figure(bank, FIGURE.replace("n -> o;", "n -> -> o;"))
    monkeypatch.setattr(figures, "available", lambda: False)
    kit = load_kit(bank)
    monkeypatch.undo()
    ctx = BuildContext(kit=kit, report=None, out_dir=tmp_path / "out",
                       cache_dir=tmp_path / "cache")
    with pytest.raises(ContentError) as info:
        SlidesRenderer().render(ctx)
    [problem] = [p.render(bank) for p in info.value.problems]
    assert "002-print.toml:" in problem and "Graphviz rejects it: syntax error" in problem
    assert not (tmp_path / "out" / "slides").exists()


# ------------------------------------------------------------------ the house style


def test_the_house_style_replaces_kinds_and_keeps_the_lines():
    source = GOOD_DOT.lstrip("\n")
    out = figures.styled(source)
    assert out.count("\n") == source.count("\n")
    assert "kind=" not in out
    assert f'fillcolor="{figures.OBJECT_FILL}"' in out
    assert f'fontname="{figures.FONT}"' in out
    svg = figures.draw(source, "svg", None)
    assert figures.OBJECT_FILL.lower() in svg.decode().lower()


# ------------------------------------------------------------------ the cache


def test_an_unchanged_figure_is_not_drawn_again_and_a_changed_one_is(tmp_path, monkeypatch):
    calls = []
    real = figures._run_dot

    def counting(source, fmt):
        calls.append(fmt)
        return real(source, fmt)

    monkeypatch.setattr(figures, "_run_dot", counting)
    first = figures.draw(GOOD_DOT, "svg", tmp_path)
    png = figures.draw(GOOD_DOT, "png", tmp_path)
    assert calls == ["svg", "png"] and png.startswith(b"\x89PNG")
    assert figures.draw(GOOD_DOT, "svg", tmp_path) == first
    assert figures.draw(GOOD_DOT, "png", tmp_path) == png
    assert calls == ["svg", "png"]
    changed = figures.draw(GOOD_DOT.replace("int 42", "int 43"), "svg", tmp_path)
    assert calls == ["svg", "png", "svg"] and b"int 43" in changed


def test_the_graphviz_version_and_the_house_style_are_part_of_the_key(tmp_path, monkeypatch):
    calls = []
    real = figures._run_dot
    monkeypatch.setattr(figures, "_run_dot", lambda s, f: calls.append(f) or real(s, f))
    figures.draw(GOOD_DOT, "svg", tmp_path)
    monkeypatch.setattr(figures, "graphviz_version", lambda: "dot - graphviz version 99.0")
    figures.draw(GOOD_DOT, "svg", tmp_path)
    assert len(calls) == 2
    monkeypatch.setitem(figures.STYLE, "object", {**figures.STYLE["object"],
                                                  "fillcolor": "#FFFFFF"})
    figures.draw(GOOD_DOT, "svg", tmp_path)
    assert len(calls) == 3


def test_reading_the_content_draws_into_the_cache_the_handbook_uses(bank, tmp_path, monkeypatch):
    _with_figure(bank)
    cache = tmp_path / "cache"
    kit = load_kit(bank, cache=cache / "questions.pickle")
    monkeypatch.setattr(figures, "_run_dot", lambda s, f: pytest.fail("drawn again"))
    assert b"<svg" in figures.drawings(kit, "svg", cache)[(2, 0)]


# ------------------------------------------------------------------ placement


def test_a_figure_goes_after_the_block_that_holds_its_text():
    answer = "First para.\n\n- item one\n- item two\n\nLast para.\n"
    fig = figures.Figure(caption="c", alt="a", dot=GOOD_DOT, after="item one")
    end = figures.Figure(caption="c", alt="a", dot=GOOD_DOT, index=1)
    pieces = figures.split_answer(answer, (fig, end))
    assert [(text.strip(), [f.index for f in figs]) for text, figs in pieces] == [
        ("First para.\n\n- item one\n- item two", [0]), ("Last para.", [1])]


def test_numbers_run_through_the_chapter(bank):
    _with_figure(bank, FIGURE + FIGURE.replace('after = "writes them to `sys.stdout`"\n', ""))
    kit = load_kit(bank)
    topic = kit.topic_of(kit.question(2))
    assert figures.numbers(topic) == {(2, 0): "1.1", (2, 1): "1.2"}


def test_the_handbook_shows_the_figure_in_the_answer_with_number_caption_and_alt(bank, tmp_path):
    _with_figure(bank)
    kit = load_kit(bank)
    ctx = BuildContext(kit=kit, report=None, out_dir=tmp_path, cache_dir=tmp_path / "cache")
    html = str(HandbookRenderer().chapter_html(ctx, kit.topics[0]))
    answer = html[html.index('class="md answer"'):html.index('class="lists"')]
    assert answer.index("sys.stdout") < answer.index("<figure") < answer.index("<table")
    assert '<strong>Figure 1.1.</strong> The name x refers to an int object' in answer
    assert 'alt="A name x with an arrow to an int object holding 42."' in answer
    assert "break-inside: avoid" in answer and "max-width: 100%" in answer


def test_the_deck_has_a_figure_slide_after_the_answer_with_alt_in_notes_and_picture(
        bank, tmp_path):
    _with_figure(bank)
    kit = load_kit(bank)
    ctx = BuildContext(kit=kit, report=None, out_dir=tmp_path, cache_dir=tmp_path / "cache")
    paths = SlidesRenderer().render(ctx).paths
    prs = Presentation(str(next(p for p in paths if "01-alpha" in p.name)))
    titles = [s.shapes.title.text if s.shapes.title else "" for s in prs.slides]
    at = titles.index("Q2 · Figure 1.1")
    assert titles[at - 1].startswith("Q2 · Answer")
    slide = prs.slides[at]
    [pic] = [s for s in slide.shapes if s.shape_type == 13]
    assert pic._element.nvPicPr.cNvPr.get("descr") == kit.question(2).figures[0].alt
    assert 0 <= pic.left and pic.left + pic.width <= prs.slide_width
    assert pic.top + pic.height <= prs.slide_height
    texts = [s.text_frame.text for s in slide.shapes if s.has_text_frame]
    assert "The name x refers to an int object" in texts
    notes = slide.notes_slide.notes_text_frame.text
    assert kit.question(2).figures[0].alt in notes
    assert io.BytesIO(pic.image.blob).read(4) == b"\x89PNG"



def _alt_texts(pdf) -> list[tuple[int, str]]:
    """(page, alt text) of each marked-content sequence with an alternate description."""
    import pikepdf

    found = []
    for page in pdf.pages:
        for operands, _ in pikepdf.parse_content_stream(page, "BDC"):
            if isinstance(operands[1], pikepdf.Dictionary) and "/Alt" in operands[1]:
                found.append((page.index, str(operands[1].Alt)))
    return found


def test_the_handbook_pdf_carries_each_figure_s_alt_text_on_what_draws_it(bank, tmp_path):
    import pikepdf
    from click.testing import CliRunner

    import build

    _with_figure(bank)
    out = tmp_path / "out"
    result = CliRunner().invoke(build.cli, ["--content", str(bank), "--output", str(out),
                                            "handbook"],
                                env={"KIT_CACHE_DIR": str(tmp_path / "cache")})
    assert result.exit_code == 0, result.output
    with pikepdf.open(out / "handbook.pdf") as pdf:
        [(page, alt)] = _alt_texts(pdf)
        assert alt == "A name x with an arrow to an int object holding 42."
        # The parts' structure trees, which joining would leave pointing nowhere, are gone.
        assert "/StructTreeRoot" not in pdf.Root
    # On the page that shows the figure's caption.
    with Document(out / "handbook.pdf") as doc:
        assert "Figure 1.1." in doc[page].text()


def test_figure_alt_texts_moves_each_alt_onto_its_figure_s_content_on_its_own_page():
    import pikepdf
    from weasyprint import HTML

    from studykit.render.pdfcommon import figure_alt_texts

    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="80" height="40"><rect width="80" height="40"/></svg>'
    src = "data:image/svg+xml;base64," + __import__("base64").b64encode(svg).decode()
    html = (f'<p>text <a href="#b">link</a></p><figure><img src="{src}" alt="First – ünïcode"></figure>'
            f'<p id="b" style="break-before: page">more</p><figure><img src="{src}" alt="Second"></figure>'
            f'<img src="{src}" alt="">')
    tagged = HTML(string=html).write_pdf(pdf_tags=True)
    with pikepdf.open(io.BytesIO(figure_alt_texts(tagged))) as pdf:
        assert _alt_texts(pdf) == [(0, "First – ünïcode"), (1, "Second")]
        assert "/StructTreeRoot" not in pdf.Root and "/MarkInfo" not in pdf.Root
        assert not any("/StructParents" in page.obj for page in pdf.pages)
    untagged = HTML(string=html).write_pdf()
    assert figure_alt_texts(untagged) == untagged


def test_a_session_deck_numbers_its_figures_by_their_own_chapters(bank, tmp_path):
    # A session mixes topics: its deck has no topic of its own to number figures by.
    from click.testing import CliRunner

    import build

    _with_figure(bank)
    plan = bank.parent / "sessions" / "mix.toml"
    plan.parent.mkdir(exist_ok=True)
    plan.write_text('title = "Mixed"\ndate = 2026-12-10\nquestions = [5, 2]\n')
    out = tmp_path / "out"
    result = CliRunner().invoke(build.cli, ["--content", str(bank), "--output", str(out),
                                            "session", str(plan)],
                                env={"KIT_CACHE_DIR": str(tmp_path / "cache")})
    assert result.exit_code == 0, result.output
    prs = Presentation(str(out / "sessions" / "mix.pptx"))
    titles = [s.shapes.title.text if s.shapes.title else "" for s in prs.slides]
    assert "Q2 · Figure 1.1" in titles

def _figure_slide(tmp_path: Path, dot: str, caption: str = "The name `x` refers to an int object"):
    import shutil

    bank = tmp_path / "content"
    shutil.copytree(FIXTURE_BANK, bank)
    _with_figure(bank, FIGURE.replace(GOOD_DOT, dot).replace(
        "The name x refers to an int object", caption))
    ctx = BuildContext(kit=load_kit(bank), report=None, out_dir=tmp_path,
                       cache_dir=tmp_path / "cache")
    path = next(p for p in SlidesRenderer().render(ctx).paths if "01-alpha" in p.name)
    prs = Presentation(str(path))
    slide = next(s for s in prs.slides if s.shapes.title and "Figure" in s.shapes.title.text)
    [pic] = [s for s in slide.shapes if s.shape_type == 13]
    [cap] = [s for s in slide.shapes if s.name == "Caption"]
    return prs, pic, cap


def test_a_caption_whose_long_name_would_break_in_the_side_column_goes_under_the_figure(
        tmp_path):
    tall = "digraph {\n" + " -> ".join(f"n{i}" for i in range(9)) + ";\n}\n"
    prs, pic, cap = _figure_slide(
        tmp_path, tall, "Looked up by `object.__getattribute__.__qualname__.__class__` first")
    assert cap.top >= pic.top + pic.height     # under it, where the name fits on a line


def test_a_tall_figure_has_its_caption_beside_it_a_wide_one_under_it(tmp_path):
    tall = "digraph {\n" + " -> ".join(f"n{i}" for i in range(9)) + ";\n}\n"
    prs, pic, cap = _figure_slide(tmp_path / "tall", tall)
    assert cap.left >= pic.left + pic.width and cap.top < pic.top + pic.height
    assert cap.text_frame.text == "The name x refers to an int object"   # `x` set as code
    assert pic.height > pic.width
    wide = "digraph { rankdir=LR;\n" + " -> ".join(f"n{i}" for i in range(9)) + ";\n}\n"
    prs, pic, cap = _figure_slide(tmp_path / "wide", wide)
    assert cap.top >= pic.top + pic.height
    assert pic.left + pic.width <= prs.slide_width and cap.top + cap.height <= prs.slide_height


def test_a_new_graphviz_makes_the_outputs_of_a_kit_with_figures_outdated(bank, tmp_path,
                                                                         monkeypatch):
    plain = BuildContext(kit=load_kit(bank), report=None, out_dir=tmp_path)
    _with_figure(bank)
    ctx = BuildContext(kit=load_kit(bank), report=None, out_dir=tmp_path)
    before, before_plain = HandbookRenderer().key(ctx), SlidesRenderer().key(plain)
    monkeypatch.setattr(figures, "graphviz_version", lambda: "dot - graphviz version 99.0")
    assert HandbookRenderer().key(ctx) != before
    assert SlidesRenderer().key(plain) == before_plain    # no figure: Graphviz is not asked
