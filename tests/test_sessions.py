"""Session plans: the file format's errors, and the deck, handout and answer key built from one."""

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from pptx import Presentation

import build


def _run(bank: Path, *args: str, cache: Path | None = None):
    cache = cache or bank.parent / "cache"
    return CliRunner().invoke(build.cli, ["--content", str(bank), "--output",
                                          str(bank.parent / "out"), "--verbose", "session", *args],
                              env={"KIT_CACHE_DIR": str(cache)})


def _plan(bank: Path, text: str, name: str = "plan.toml") -> Path:
    folder = bank.parent / "sessions"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


GOOD = 'title = "Printing and raising"\ndate = 2026-12-10\nquestions = [5, 2]\nminutes = [9, 6]\n'


@pytest.mark.parametrize("text, expected", [
    ('title = "T"\ndate = 2026-12-10\nquestions = [\n  2,\n  99,\n]\n',
     ["plan.toml:5: questions[1]: Q99 is not in the bank (2-6)"]),
    ('title = "T"\ndate = 2026-12-10\nquestions = [2, 4]\n',
     ["plan.toml:3: questions[1]: Q4 has no answer in the content yet"]),
    ('title = "T"\ndate = 2026-12-10\nquestions = [\n  5,\n  2,\n  5,\n]\n',
     ["plan.toml:6: questions[2]: Q5 is already in the plan (item 1)"]),
    ('title = "T"\ndate = 2026-12-10\nquestions = []\n',
     ["plan.toml:3: questions: expected a non-empty list of question numbers, such as [12, 57]"]),
    ('title = "T"\ndate = 2026-12-10\nquestions = [2]\nrooms = 3\nminutes = [5, 6]\n',
     ["plan.toml:4: rooms: unknown key 'rooms'; known keys: title, date, questions, minutes",
      "plan.toml:5: minutes: has 2 items for 1 questions"]),
    ('title = "T"\ndate = "next week"\n',
     ["plan.toml:1: missing required key 'questions' (a list of question numbers)",
      "plan.toml:2: date: expected a date such as 2026-12-10 (no quotes), found 'next week'"]),
    ('title = "T"\ndate = 2026-12-10\nquestions = [2\n', None),
])
def test_a_bad_session_file_is_reported_with_its_line_before_any_sample_runs(bank, text,
                                                                             expected):
    plan = _plan(bank, text)
    result = _run(bank, str(plan))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "CPython" not in result.output
    lines = [ln.split("sessions/", 1)[-1] for ln in result.output.splitlines()]
    if expected is None:
        assert any(ln.startswith("plan.toml:") and "invalid TOML" in ln for ln in lines)
    else:
        assert lines[:len(expected)] == expected
        assert lines[len(expected)] == f"aborted with {len(expected)} error" + \
            ("s" if len(expected) > 1 else "")
    assert not (bank.parent / "out" / "sessions").exists()


@pytest.fixture
def built(bank):
    plan = _plan(bank, GOOD)
    result = _run(bank, str(plan))
    assert result.exit_code == 0, result.output
    return bank.parent / "out" / "sessions", result


def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def test_a_session_builds_its_deck_handout_and_answer_key(built, bank):
    out, result = built
    assert sorted(p.name for p in out.iterdir()) == ["plan-answers.pdf", "plan-handout.pdf",
                                                     "plan.pptx"]
    prs = Presentation(str(out / "plan.pptx"))
    titles = [s.shapes.title.text_frame.text for s in prs.slides]
    # Title, agenda, then the plan's order (Q5 first, from another topic than Q2), recap and
    # discussion; a sample marked slide = false stays off.
    assert titles[0] == "Printing and raising"
    assert titles[1] == "Agenda"
    assert [t for t in titles if t in ("Q2", "Q5")] == ["Q5", "Q2"]
    assert titles[2:5] == ["Q5", "Q5 · Answer", "Q5  Raise after printing"]
    assert titles[-2:] == ["Recap", "Discussion"]
    agenda = "\n".join(p.text for p in prs.slides[1].shapes[1].text_frame.paragraphs)
    assert agenda.startswith("0:00  Q5") and "0:09  Q2" in agenda
    assert "0:15" in prs.slides[1].notes_slide.notes_text_frame.text
    footer = [s.text_frame.text for s in prs.slides[2].shapes if s.name == "Footer"]
    assert footer == ["Printing and raising"]
    assert "sessions: plan: " in result.output and "handout and answer key" in result.output

    handout = _pdf_text(out / "plan-handout.pdf")
    answers = _pdf_text(out / "plan-answers.pdf")
    from studykit.loader import load_kit

    kit = load_kit(bank)
    for n in (2, 5):
        q = kit.question(n)
        assert q.question in handout and q.question in answers
        # Nothing on the handout gives an answer away; the key has them all.
        for given in (q.summary[:40], *q.key_points, *(f.answer for f in q.follow_ups)):
            assert given.replace("`", "")[:30] not in handout
        assert q.key_points[0].replace("`", "")[:30] in answers
        assert all(p[:30] in answers for p in q.pitfalls)
    assert "before" not in handout          # Q5's sample output


def test_editing_one_answer_rebuilds_only_the_sessions_that_use_it(built, bank):
    out, _ = built
    other = _plan(bank, 'title = "Only print"\ndate = 2026-12-11\nquestions = [2]\n', "other.toml")
    for plan in (other, out.parent.parent / "sessions" / "plan.toml"):
        assert _run(bank, str(plan)).exit_code == 0
    # A full build takes every plan in sessions/.
    full = CliRunner().invoke(build.cli, ["--content", str(bank), "--output", str(out.parent), "--verbose"],
                              env={"KIT_CACHE_DIR": str(bank.parent / "cache")})
    assert full.exit_code == 0, full.output
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert len(before) == 6
    q5 = bank / "02-beta" / "005-exceptions.toml"
    q5.write_text(q5.read_text().replace('summary = "', 'summary = "Reworded. ', 1))
    full = CliRunner().invoke(build.cli, ["--content", str(bank), "--output", str(out.parent), "--verbose"],
                              env={"KIT_CACHE_DIR": str(bank.parent / "cache")})
    assert full.exit_code == 0, full.output
    assert "1 session(s) unchanged, not rebuilt" in full.output
    after = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert sorted(n for n in after if after[n] != before[n]) == \
        ["plan-answers.pdf", "plan-handout.pdf", "plan.pptx"]
    assert "Reworded." in _pdf_text(out / "plan-answers.pdf")


def test_pick_writes_a_repeatable_session_spread_across_topics_then_builds_it(bank):
    first = _run(bank, "--pick", "2", "--seed", "7", "--title", "Mock one", "--date",
                 "2026-12-12")
    assert first.exit_code == 0, first.output
    plan = bank.parent / "sessions" / "2026-12-12-mock-one.toml"
    text = plan.read_text()
    assert 'title = "Mock one"' in text and "date = 2026-12-12" in text
    numbers = sorted(int(n) for n in text.split("questions = [")[1].split("]")[0].split(","))
    # One from each topic: alpha answers 2 and 3, beta answers 5.
    assert 5 in numbers and len(numbers) == 2
    assert (bank.parent / "out" / "sessions" / "2026-12-12-mock-one.pptx").exists()
    again = _run(bank, str(bank.parent / "sessions" / "again.toml"), "--pick", "2", "--seed",
                 "7", "--title", "Mock one")
    assert again.exit_code == 0, again.output
    assert (bank.parent / "sessions" / "again.toml").read_text().split("questions")[1] == \
        text.split("questions")[1]
    # Asking for what does not exist is a clear error, and writes nothing.
    none = _run(bank, "--pick", "3", "--difficulty", "hard", "--title", "Nothing")
    assert none.exit_code == 2 and "no answered question matches" in none.output
    assert "Traceback" not in none.output
    assert not list((bank.parent / "sessions").glob("*nothing*"))
