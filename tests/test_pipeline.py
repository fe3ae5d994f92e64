"""A build through the library: Project.build runs what `build.py` runs, and reports it."""

from __future__ import annotations

import pytest

from studykit import pipeline
from studykit.api import Project
from studykit.render.base import RenderResult


class Recorder(pipeline.Events):
    def __init__(self) -> None:
        self.seen: list[str] = []

    def checked(self, report, seconds) -> None:
        self.seen.append("checked")

    def built(self, result: RenderResult) -> None:
        self.seen.append(result.name)


def test_a_full_build_in_process_reports_each_output_and_a_second_one_renders_nothing(
        bank, tmp_path, monkeypatch):
    project = Project(content_dir=bank, output_dir=tmp_path / "out",
                      cache_dir=tmp_path / "cache")
    events = Recorder()
    try:
        done = project.build(events=events)
    finally:
        project.release()
    assert done.ok and done.check.ok and not done.failed
    # The cards and the deck give the handbook's pages: they come after it.
    assert events.seen == ["checked", "handbook", "slides", "flashcards", "anki"]
    assert list(done.outputs) == ["handbook", "slides", "flashcards", "anki"]
    out = tmp_path / "out"
    assert done.outputs["handbook"].paths == [out / "handbook.pdf"]
    assert done.outputs["flashcards"].paths == [out / "flashcards-a4.pdf"]
    assert [p.name for p in done.outputs["slides"].paths] == ["01-alpha.pptx", "02-beta.pptx"]
    # The deck comes after the handbook, whose page numbers it gives.
    assert done.outputs["anki"].paths == [out / "python-interview.apkg"]
    assert "handbook pages from handbook.pdf" in done.outputs["anki"].messages[0]
    # So do the cards' backs.
    from pdfread import Document

    with Document(out / "flashcards-a4.pdf") as cards:
        assert "handbook p. " in cards[3].text()
    for result in done.outputs.values():
        assert not result.up_to_date and result.seconds > 0 and result.messages
        assert result.laid_out and all(p.is_file() for p in result.paths)
    assert len(done.kit.questions) == 3

    def no_pool(workers):
        raise AssertionError("a pool of workers was started with every output up to date")

    monkeypatch.setattr(pipeline, "worker_pool", no_pool)
    again = Project(content_dir=bank, output_dir=out, cache_dir=tmp_path / "cache")
    try:
        second = again.build()
        # One output with its options spelled out is the output the full build made.
        alone = again.build(outputs=["handbook"], options={"handbook": {"paper": "a4"}})
    finally:
        again.release()
    assert all(r.up_to_date and not r.laid_out for r in second.outputs.values())
    assert second.outputs["slides"].paths == done.outputs["slides"].paths
    assert alone.outputs["handbook"].up_to_date


def test_a_failed_check_builds_nothing(bank, tmp_path):
    q2 = bank / "01-alpha" / "002-print.toml"
    q2.write_text(q2.read_text().replace("a-b\n", "a+b\n", 1))
    project = Project(content_dir=bank, output_dir=tmp_path / "out",
                      cache_dir=tmp_path / "cache")
    try:
        done = project.build(outputs=["slides"])
    finally:
        project.release()
    assert done.checks_failed and not done.ok
    assert done.outputs == {} and not (tmp_path / "out").exists()


@pytest.mark.parametrize("name, options, files", [
    ("handbook", {"paper": "letter"}, ["handbook-letter.pdf"]),
    ("flashcards", {"layout": "4up", "duplex": "short"}, ["flashcards-a4-4up-short.pdf"]),
])
def test_a_renderer_keeps_its_options_and_names_its_files(name, options, files, tmp_path):
    from studykit.render.base import BuildContext

    renderer = Project().renderer(name, **options)
    assert options.items() <= renderer.options.items()
    ctx = BuildContext(kit=None, report=None, out_dir=tmp_path)
    assert renderer.targets(ctx) == [tmp_path / f for f in files]
    assert renderer.outdated(ctx)   # no cache folder: always outdated
