"""Outputs are rebuilt when, and only when, something that shapes them changed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import build
from conftest import FIXTURE_BANK


@pytest.fixture
def root(tmp_path) -> Path:
    shutil.copytree(FIXTURE_BANK, tmp_path / "content")
    return tmp_path


def _slides(root: Path, *extra: str):
    env = {"KIT_CACHE_DIR": str(root / "cache")}
    return CliRunner().invoke(build.cli, ["--content", str(root / "content"), "--output",
                                          str(root / "out"), *extra, "slides"], env=env)


def _built(result) -> bool:
    assert result.exit_code == 0, result.output
    return "slides built in" in result.output and "up to date" not in result.output


def test_a_second_build_renders_nothing(root):
    assert _built(_slides(root))
    deck = root / "out" / "slides" / "01-alpha.pptx"
    before = deck.stat().st_mtime_ns
    result = _slides(root)
    assert not _built(result)
    assert "slides: up to date, " in result.output and "slides/ (2 decks)\n" in result.output
    assert deck.stat().st_mtime_ns == before


def test_changed_content_rebuilds(root):
    assert _built(_slides(root))
    q = root / "content" / "01-alpha" / "003-sky.toml"
    q.write_text(q.read_text().replace("summary = \"", "summary = \"Edited. ", 1))
    assert _built(_slides(root))
    assert not _built(_slides(root))


def test_a_missing_or_edited_output_is_rebuilt(root):
    assert _built(_slides(root))
    (root / "out" / "slides" / "02-beta.pptx").unlink()
    assert _built(_slides(root))
    deck = root / "out" / "slides" / "01-alpha.pptx"
    deck.write_bytes(deck.read_bytes() + b"\0")
    assert _built(_slides(root))


def test_no_cache_always_renders(root):
    assert _built(_slides(root))
    assert _built(_slides(root, "--no-cache"))


def test_flashcards_ignore_edits_to_what_cards_do_not_show(root):
    def cards(*extra):
        return CliRunner().invoke(build.cli, ["--content", str(root / "content"), "--output",
                                              str(root / "out"), *extra, "flashcards"],
                                  env={"KIT_CACHE_DIR": str(root / "cache")})

    first = cards()
    assert first.exit_code == 0 and "flashcards built in" in first.output, first.output
    q = root / "content" / "01-alpha" / "003-sky.toml"
    text = q.read_text()
    assert 'answer = "Short' in text
    q.write_text(text.replace('answer = "Short', 'answer = "A new first sentence. Short', 1))
    again = cards()
    assert "flashcards: up to date" in again.output, again.output
    q.write_text(text.replace('summary = "', 'summary = "Changed. ', 1))
    changed = cards()
    assert "flashcards built in" in changed.output, changed.output
