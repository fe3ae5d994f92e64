"""The corpus of bad content: each mistake gets its own readable line, exit status 2."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import build
from conftest import FIXTURE_BANK

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())


def _lay_out(case: Path, content: Path) -> None:
    shutil.copytree(FIXTURE_BANK, content)
    if (case / "DELETE").exists():
        for rel in (case / "DELETE").read_text().split():
            (content / rel).unlink()
    for f in case.rglob("*.toml"):
        target = content / f.relative_to(case)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, target)


def test_the_corpus_covers_every_kind_of_mistake():
    assert {"malformed-toml", "missing-required-field", "wrong-type", "unknown-key",
            "duplicate-number", "question-disagrees-with-bank", "difficulty-disagrees-with-bank",
            "number-not-in-bank", "see-also-unknown-number", "invalid-python-specifier",
            "sample-syntax-error", "empty-code-block", "not-utf8",
            "topic-folder-without-topic-toml", "markdown-image", "control-character",
            "figure-missing-alt", "figure-broken-dot", "figure-unknown-kind",
            "figure-unknown-key", "figure-after-not-in-answer",
            "bad-slide-lines"} <= set(CASES)


@pytest.mark.parametrize("name", CASES)
def test_bad_content_is_reported_exactly(name, tmp_path):
    case = CORPUS / name
    content = tmp_path / "content"
    _lay_out(case, content)
    result = CliRunner().invoke(build.cli, ["--content", str(content), "--output",
                                            str(tmp_path / "out"), "list"],
                                env={"KIT_CACHE_DIR": str(tmp_path / "cache")})
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    shown = [line.replace(f"{content}/", "") for line in result.output.splitlines()]
    expected = [line for line in (case / "EXPECTED").read_text("utf-8").splitlines() if line]
    for want in expected:
        assert any(want in line for line in shown), f"{want!r} not in:\n" + "\n".join(shown)
    problems = [line for line in shown if not line.startswith("aborted with")]
    assert len(problems) == len(expected), "\n".join(shown)
    n = len(expected)
    assert shown[-1] == f"aborted with {n} error{'s' if n != 1 else ''}"
