"""The learner's progress file: marking, the figures, --status filters, malformed files,
concurrent marks, and a file that is never half-written."""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import zipfile
from datetime import date
from pathlib import Path

import pytest

from studykit import progress as study
from studykit.loader import load_kit


@pytest.fixture
def prog(tmp_path) -> Path:
    return tmp_path / "progress.toml"


def test_mark_writes_the_statuses_and_reports_what_changed(bank, run, prog):
    result = run(bank, "mark", "2", "5", "--known", "--progress", str(prog))
    assert result.exit_code == 0, result.output
    assert "Q2: new -> known" in result.output and "Q5: new -> known" in result.output
    assert "2 changed" in result.output
    result = run(bank, "mark", "2-3", "--learning", "--progress", str(prog))
    assert "Q2: known -> learning" in result.output and "Q3: new -> learning" in result.output
    result = run(bank, "mark", "3", "--learning", "--progress", str(prog))
    assert "already learning: Q3" in result.output and "0 changed" in result.output
    p = study.load_progress(prog)
    assert {n: e.status for n, e in p.entries.items()} == {2: "learning", 3: "learning",
                                                          5: "known"}
    assert all(e.changed == date.today() for e in p.entries.values())


def test_hand_edits_and_comments_survive_a_mark(bank, run, prog):
    prog.write_text("# my own notes\n[questions]\n"
                    '5 = { changed = 2026-01-02, status = "learning" }  # tricky\n'
                    "\n# next week\n"
                    '2 = { changed = 2026-01-03, status = "new" }\n', "utf-8")
    result = run(bank, "mark", "3", "--known", "--progress", str(prog))
    assert result.exit_code == 0, result.output
    text = prog.read_text("utf-8")
    assert text.startswith("# my own notes\n[questions]\n"
                           '5 = { changed = 2026-01-02, status = "learning" }  # tricky\n'
                           "\n# next week\n"
                           '2 = { changed = 2026-01-03, status = "new" }\n')
    assert study.load_progress(prog).status(3) == "known"
    run(bank, "mark", "5", "--known", "--progress", str(prog))
    text = prog.read_text("utf-8")
    assert "# tricky" in text and "# next week" in text and "2026-01-03" in text
    assert study.load_progress(prog).entries[5].changed == date.today()


def test_unknown_numbers_are_refused_and_nothing_is_written(bank, run, prog):
    run(bank, "mark", "2", "--known", "--progress", str(prog))
    before = prog.read_bytes()
    result = run(bank, "mark", "3", "4", "99", "--known", "--progress", str(prog))
    assert result.exit_code == 2
    assert "question 4 is in the bank but not answered yet" in result.output
    assert "there is no question 99" in result.output
    assert "Traceback" not in result.output
    assert prog.read_bytes() == before


def test_a_malformed_file_names_file_line_and_field(bank, run, prog):
    prog.write_text("[questions]\n"
                    '2 = { status = "knwon", changed = 2026-01-02 }\n'
                    '3 = "known"\n'
                    '99 = { status = "known" }\n'
                    '5 = { status = "known", changed = "yesterday" }\n', "utf-8")
    before = prog.read_bytes()
    for args in (["progress"], ["mark", "2", "--known"], ["anki", "--status", "new"]):
        result = run(bank, *args, "--progress", str(prog))
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        lines = result.output.replace(f"{prog}", "P").splitlines()
        assert "P:2: questions.2.status: 'knwon' is not a status; use one of new, learning, " \
               "known" in lines
        assert any(line.startswith("P:3: questions.3: must be a table") for line in lines)
        assert any(line.startswith("P:4: questions.99: there is no question 99")
                   for line in lines)
        assert any(line.startswith("P:5: questions.5.changed:") for line in lines)
        assert lines[-1] == "aborted with 4 errors"
    assert prog.read_bytes() == before


def test_a_file_that_is_not_toml_gives_its_line(bank, run, prog):
    prog.write_text('[questions]\n2 = { status = "known"\n', "utf-8")
    result = run(bank, "progress", "--progress", str(prog))
    assert result.exit_code == 2
    assert f"{prog}:2: not valid TOML" in result.output and "Traceback" not in result.output


def test_progress_gives_the_figures_and_what_is_left(bank, run, prog):
    run(bank, "mark", "2", "--known", "--progress", str(prog))
    run(bank, "mark", "5", "--learning", "--progress", str(prog))
    result = run(bank, "progress", "--progress", str(prog))
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("1/3 known, 33% (1 learning, 1 new)")
    topics = out[out.index("By topic:"):out.index("By difficulty:")]
    assert "01 Alpha Things" in topics and "1/2   known  50%" in topics
    assert "02 Beta & Gamma <Things>" in topics and "0/1   known   0%" in topics
    left = out[out.index("To learn (2):"):].splitlines()[1:]
    assert [line.split()[0] for line in left] == ["Q5", "Q3"]   # learning first, then new
    data = json.loads(run(bank, "progress", "--json", "--progress", str(prog)).output)
    assert data["overall"] == {"label": "overall", "known": 1, "learning": 1, "new": 1,
                               "total": 3, "percent": 33}
    assert [d["label"] for d in data["difficulties"]] == ["easy", "medium", "expert"]
    assert [q["number"] for q in data["to_learn"]] == [5, 3]


def _apkg_numbers(path: Path, tmp: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        z.extract("collection.anki2", tmp)
    with sqlite3.connect(tmp / "collection.anki2") as db:
        return sorted(r[0].split("\x1f")[0] for r in db.execute("select flds from notes"))


def test_status_builds_only_the_questions_in_those_states(bank, run, prog, tmp_path):
    run(bank, "mark", "2", "--known", "--progress", str(prog))
    run(bank, "mark", "5", "--learning", "--progress", str(prog))
    apkg = tmp_path / "output" / "python-interview.apkg"
    result = run(bank, "anki", "--status", "new,learning", "--progress", str(prog))
    assert result.exit_code == 0, result.output
    assert _apkg_numbers(apkg, tmp_path / "a") == ["Q3", "Q5"]
    result = run(bank, "--progress", str(prog), "anki", "--status", "known")
    assert _apkg_numbers(apkg, tmp_path / "b") == ["Q2"]
    result = run(bank, "anki", "--status", "known", "--numbers", "3",
                 "--progress", str(prog))
    assert result.exit_code == 2 and "no answered question is known" in result.output
    result = run(bank, "anki", "--status", "done", "--progress", str(prog))
    assert result.exit_code == 2 and "'done': a status is one of" in result.output


def _mark_slowly(args):
    """In a child process: mark one question, with the file's read-change-write made slow,
    so marks without the lock would overwrite each other."""
    content, path, number = args
    import time

    from studykit import output, progress

    real = output.atomic_write_text

    def slow(target, text):
        time.sleep(0.3)
        real(target, text)
    progress.atomic_write_text = slow
    kit = load_kit(Path(content))
    progress.mark(Path(path), [number], "known", kit)


def test_concurrent_marks_all_land(bank, prog):
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(3) as pool:
        pool.map(_mark_slowly, [(str(bank), str(prog), n) for n in (2, 3, 5)])
    assert {n: e.status for n, e in study.load_progress(prog).entries.items()} == \
        {2: "known", 3: "known", 5: "known"}


def test_a_failed_write_leaves_the_file_as_it_was(bank, prog, monkeypatch):
    kit = load_kit(bank)
    study.mark(prog, [2], "known", kit)
    before = prog.read_bytes()

    def fail(src, dst):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(study.KitError, match="cannot write .*No space left"):
        study.mark(prog, [3], "learning", kit)
    assert prog.read_bytes() == before
    assert [p.name for p in prog.parent.iterdir() if p.name.endswith(".part")] == []


def test_the_handbook_ticks_known_questions_and_gives_the_figure(bank, prog):
    from studykit.render.base import BuildContext
    from studykit.render.handbook import HandbookRenderer

    kit = load_kit(bank)
    study.mark(prog, [2, 5], "known", kit)
    study.mark(prog, [3], "learning", kit)
    view = study.handbook_view(study.load_progress(prog, kit), kit)
    assert view == {"known": [2, 5], "learning": [3], "figure": "2/3 known, 67%"}
    ctx = BuildContext(kit=kit, report=None, out_dir=prog.parent)
    with_progress = HandbookRenderer(progress=view)
    assert "2/3 known, 67%" in with_progress.front_html(ctx)
    back = str(with_progress.back_html(ctx)).split('id="checklist"')[1]
    rows = {n: back[back.index(f'<td class="n">{n}</td>'):].split("</tr>")[0] for n in (2, 3, 5)}
    tick = "&#x2713;"
    assert tick in rows[2] and tick in rows[5] and tick not in rows[3]
    plain = HandbookRenderer()
    assert "Your progress" not in plain.front_html(ctx) and "&#x2713;" not in plain.back_html(ctx)
    assert plain.options == {"paper": "a4", "edition": "full"}   # a build without progress keys as before
