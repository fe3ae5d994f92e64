"""Content is text, never markup: what an author types is what every output shows."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree
from pptx import Presentation

import build
from conftest import FIXTURE_BANK
from studykit import glyphs

from pdfread import Document

Q2 = "01-alpha/002-print.toml"
SUMMARY = "Tags like <b>this</b> & <i>that</i> print as typed."
ANSWER = "An answer may say <script>alert(1)</script> or </pre> or <!-- x --> and mean the text."


def _run(root: Path, *args: str):
    return CliRunner().invoke(build.cli, ["--content", str(root / "content"), "--output",
                                          str(root / "out"), *args],
                              env={"KIT_CACHE_DIR": str(root / "cache")})


def _edit(root: Path, old: str, new: str) -> None:
    path = root / "content" / Q2
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("escaping")
    shutil.copytree(FIXTURE_BANK, root / "content")
    _edit(root, 'summary = "', f'summary = "{SUMMARY} ')
    _edit(root, "answer = '''\n", f"answer = '''\n{ANSWER}\n\n")
    return root


def _pdf_text(path: Path) -> str:
    with Document(path) as doc:
        return " ".join(" ".join(page.text().split()) for page in doc)


def test_handbook_prints_markup_as_text(root):
    result = _run(root, "handbook")
    assert result.exit_code == 0, result.output
    text = _pdf_text(root / "out" / "handbook.pdf")
    assert SUMMARY in text
    assert ANSWER in text


def test_flashcards_print_markup_as_text(root):
    result = _run(root, "flashcards")
    assert result.exit_code == 0, result.output
    assert SUMMARY in _pdf_text(root / "out" / "flashcards-a4.pdf")


def test_slides_hold_markup_as_text_in_well_formed_xml(root):
    result = _run(root, "slides")
    assert result.exit_code == 0, result.output
    deck = root / "out" / "slides" / "01-alpha.pptx"
    with zipfile.ZipFile(deck) as z:
        for name in z.namelist():
            if name.endswith(".xml"):
                etree.fromstring(z.read(name))    # raises on anything malformed
    texts = []
    for slide in Presentation(str(deck)).slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                texts.append(shape.text_frame.text)
        texts.append(slide.notes_slide.notes_text_frame.text)
    joined = " ".join(" ".join(t.split()) for t in texts)
    assert SUMMARY in joined
    assert "<script>alert(1)</script>" in joined


def test_control_characters_are_refused_with_file_field_and_line(tmp_path):
    shutil.copytree(FIXTURE_BANK, tmp_path / "content")
    _edit(tmp_path, 'summary = "', 'summary = "Ring\\u0007 ')
    _edit(tmp_path, 'key_points = [', 'key_points = ["Form\\ffeed", ')
    result = _run(tmp_path, "slides")
    assert result.exit_code == 2
    out = result.output
    assert f"{Q2}:4: summary: contains the control character U+0007" in out
    assert "key_points[0]: contains the control character U+000C" in out
    assert "aborted with 2 errors" in out and "Traceback" not in out


def _uncovered() -> str | None:
    for cp in list(range(0x4E00, 0x4E40)) + [0x1F40D, 0x10900, 0x13000]:
        if not glyphs.covered(chr(cp)):
            return chr(cp)
    return None


def test_characters_no_font_can_draw_fail_the_print_build_naming_them(tmp_path):
    ch = _uncovered()
    if ch is None:
        pytest.skip("every candidate character has a font on this machine")
    shutil.copytree(FIXTURE_BANK, tmp_path / "content")
    _edit(tmp_path, 'summary = "', f'summary = "Say {ch}. ')
    for command in ("handbook", "flashcards"):
        result = _run(tmp_path, command)
        assert result.exit_code == 3, result.output
        assert "no installed font can draw" in result.output
        assert f"Q2 summary: {ch!r} (U+{ord(ch):04X}" in result.output
        assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_covered_non_latin_text_is_drawn_not_boxed(tmp_path):
    shutil.copytree(FIXTURE_BANK, tmp_path / "content")
    _edit(tmp_path, 'summary = "', 'summary = "Café, λ, Ж, → and ≤ print. ')
    assert all(glyphs.covered(c) for c in "éλЖ→≤")
    result = _run(tmp_path, "flashcards")
    assert result.exit_code == 0, result.output
    assert "Café, λ, Ж, → and ≤ print." in _pdf_text(tmp_path / "out" / "flashcards-a4.pdf")
