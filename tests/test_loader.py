"""Validation: every kind of bad content is reported with file, line, field and a useful message."""

from pathlib import Path

import pytest

from studykit.errors import ContentError
from studykit.loader import load_kit
from studykit.model import Selection

Q2 = "01-alpha/002-print.toml"
Q5 = "02-beta/005-exceptions.toml"


def edit(bank: Path, rel: str, old: str, new: str) -> None:
    path = bank / rel
    text = path.read_text("utf-8")
    assert old in text, f"fixture changed: {old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1), "utf-8")


def problems(bank: Path) -> list[str]:
    with pytest.raises(ContentError) as info:
        load_kit(bank)
    return [p.render(bank) for p in info.value.problems]


def line_of(bank: Path, rel: str, needle: str) -> int:
    for n, line in enumerate((bank / rel).read_text("utf-8").splitlines(), start=1):
        if needle in line:
            return n
    raise AssertionError(needle)


def test_fixture_bank_loads(bank):
    kit = load_kit(bank)
    assert [q.number for q in kit.questions] == [2, 3, 5]
    q2 = kit.question(2)
    assert q2.samples[0].card is True and q2.samples[0].slide is True
    assert q2.samples[2].python == ">=3.12" and q2.samples[2].slide is False
    assert q2.samples[0].code.startswith('print("a", "b", sep="-")')
    assert "back\\slash" in q2.samples[0].output
    assert kit.question(5).samples[0].raises == "KeyError"
    assert kit.topics[0].intro.startswith("Questions about")
    assert [b.number for b in kit.topics[0].bank] == [2, 3, 4]


def test_selection_filters_by_number_topic_and_difficulty(bank):
    kit = load_kit(bank)
    assert [q.number for q in kit.select(Selection(difficulties=frozenset({"easy"}))).questions] == [2]
    assert [q.number for q in kit.select(Selection(topics=frozenset({"beta"}))).questions] == [5]
    assert [q.number for q in kit.select(Selection(numbers=frozenset({3, 5}))).questions] == [3, 5]


@pytest.mark.parametrize("old,new,needle,expected", [
    ('summary = "It writes', 'sumary = "It writes', "sumary =",
     "sumary: unknown key 'sumary'; did you mean 'summary'?"),
    ('difficulty = "easy"', 'difficulty = 3', "difficulty = 3",
     "difficulty: expected a string, found an integer"),
    ('difficulty = "easy"', 'difficulty = "medium"', "difficulty =",
     "difficulty: is 'medium' but the bank says 'easy'"),
    ('question = "What does print do?"', 'question = "What does print really do?"', "question =",
     "question: differs from the bank"),
    ('see_also = [3]', 'see_also = [99]', "see_also =",
     "see_also: 99 is not a question of the bank"),
    ('see_also = [3]', 'see_also = [2]', "see_also =",
     "see_also: lists the question's own number 2"),
    ('python = ">=3.12"', 'python = "three point twelve"', "python =",
     "samples[2].python: 'three point twelve' is not a version specifier"),
    ('title = "Separators"', 'titel = "Separators"', "titel =",
     "samples[0].titel: unknown key 'titel'; did you mean 'title'?"),
    ('references = ["https://docs', 'references = ["docs', "references =",
     "references[0]: 'docs.python.org/3/library/functions.html#print' is not an http(s) URL"),
    ('`print` converts', '![print](print.png) converts', "![print]",
     "answer: images are not supported in answers"),
])
def test_field_errors_name_file_line_and_field(bank, old, new, needle, expected):
    edit(bank, Q2, old, new)
    found = problems(bank)
    line = line_of(bank, Q2, needle)
    assert any(p.startswith(f"{Q2}:{line}:") and expected in p for p in found), found


def test_missing_required_key(bank):
    edit(bank, Q2, 'summary = "It writes the str() of its arguments to sys.stdout, separated by '
         'spaces and ended by a newline."\n', "")
    assert any("missing required key 'summary' (a string)" in p and p.startswith(Q2)
               for p in problems(bank))


def test_malformed_toml_names_the_line(bank):
    edit(bank, Q5, 'difficulty = "expert"', 'difficulty = "expert')
    found = problems(bank)
    assert len(found) == 1 and found[0].startswith(f"{Q5}:3: invalid TOML:"), found


def test_not_utf8(bank):
    path = bank / Q5
    path.write_bytes(path.read_bytes().replace(b"uncaught", b"unc\xe9ught", 1))
    found = problems(bank)
    assert any(p.startswith(f"{Q5}:4:") and "not UTF-8" in p for p in found), found


def test_sample_syntax_error_points_into_the_sample(bank):
    edit(bank, Q5, '{}["missing"]', 'def broken(:')
    found = problems(bank)
    line = line_of(bank, Q5, "def broken(:")
    assert any(p.startswith(f"{Q5}:{line}: samples[0].code: syntax error") for p in found), found


def test_empty_code_and_long_lines(bank):
    edit(bank, Q5, 'print("before")\n{}["missing"]\n', "")
    edit(bank, Q2, 'x = object()', "x = object()  # " + "y" * 70)
    found = problems(bank)
    assert any("samples[0].code: is empty" in p and p.startswith(Q5) for p in found), found
    assert any("samples[1].code: line 1 is 86 characters; at most 72" in p for p in found), found


def test_limits_of_the_content_guide(bank):
    edit(bank, Q2, 'summary = "It writes', 'summary = "' + "x" * 360 + ' It writes')
    edit(bank, Q2, '"print calls str() on each argument",\n', "")
    edit(bank, Q2, '"sep and end control the separators",\n', "")
    found = problems(bank)
    assert any("summary: is 456 characters; at most 350" in p for p in found), found
    assert any("key_points: has 1 items; write 3 to 6" in p for p in found), found


def test_duplicate_number(bank):
    text = (bank / Q2).read_text()
    (bank / "01-alpha/002-print-again.toml").write_text(text)
    assert any("question 2 is answered twice" in p for p in problems(bank))


def test_file_name_and_number_must_agree(bank):
    (bank / Q5).rename(bank / "02-beta/006-exceptions.toml")
    assert any("number: is 5 but the file name says 6" in p for p in problems(bank))


def test_question_in_the_wrong_topic_folder(bank):
    (bank / Q5).rename(bank / "01-alpha/005-exceptions.toml")
    assert any("question 5 belongs to topic 'beta', not 'alpha'" in p for p in problems(bank))


def test_topic_folder_without_topic_toml(bank):
    (bank / "02-beta/topic.toml").unlink()
    assert "02-beta/topic.toml: missing: every topic folder needs a topic.toml (title, intro)" \
        in problems(bank)


def test_unknown_topic_folder_suggests_the_closest(bank):
    (bank / "02-beta").rename(bank / "02-betta")
    assert any("topic folder '02-betta' does not match a topic of the bank; did you mean "
               "'02-beta'?" in p for p in problems(bank))


def test_every_problem_reported_in_one_run(bank):
    edit(bank, Q2, 'summary = "It writes', 'sumary = "It writes')
    edit(bank, Q5, 'difficulty = "expert"', 'difficulty = "easy"')
    (bank / "01-alpha/003-sky.toml").write_text("number = [", "utf-8")
    found = problems(bank)
    assert len(found) >= 4
    assert {p.split(":")[0] for p in found} >= {Q2, Q5, "01-alpha/003-sky.toml"}


def test_samples_or_a_reason(bank):
    edit(bank, "01-alpha/003-sky.toml", 'no_samples_reason = "A physics question: there is '
         'nothing to run."', "")
    assert any("no samples: add a [[samples]] table" in p for p in problems(bank))


def test_number_filter_skips_other_files(bank):
    (bank / Q5).write_text("this is not toml", "utf-8")
    kit = load_kit(bank, numbers=frozenset({2, 3}))
    assert [q.number for q in kit.questions] == [2, 3]


def _question_files_parsed(monkeypatch) -> list[str]:
    from studykit import loader

    parsed: list[str] = []
    real = loader.read_toml

    def counting(path, *args, **kwargs):
        if path.name[0].isdigit():
            parsed.append(path.name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(loader, "read_toml", counting)
    return parsed


def test_kept_questions_load_as_read_and_an_edit_parses_its_file_alone(bank, tmp_path,
                                                                         monkeypatch):
    cache = tmp_path / "questions.pickle"
    fresh = load_kit(bank)
    assert load_kit(bank, cache=cache) == fresh
    parsed = _question_files_parsed(monkeypatch)
    assert load_kit(bank, cache=cache) == fresh
    assert parsed == []

    edit(bank, Q2, 'summary = "', 'summary = "Edited. ')
    kit = load_kit(bank, cache=cache)
    assert parsed == ["002-print.toml"]
    assert kit.question(2).summary.startswith("Edited. ")
    assert kit.questions[1:] == fresh.questions[1:]


def test_a_kept_question_is_checked_again_when_its_bank_entry_changes(bank, tmp_path):
    cache = tmp_path / "questions.pickle"
    load_kit(bank, cache=cache)
    edit(bank, "questions.toml", 'number = 2\ntopic = "alpha"\ndifficulty = "easy"',
         'number = 2\ntopic = "alpha"\ndifficulty = "hard"')
    with pytest.raises(ContentError) as info:
        load_kit(bank, cache=cache)
    assert any("but the bank says 'hard'" in p.render(bank) for p in info.value.problems)


def test_a_question_with_a_problem_is_not_kept(bank, tmp_path):
    cache = tmp_path / "questions.pickle"
    edit(bank, Q2, 'difficulty = "easy"', 'difficulty = "medium"')
    for _ in range(2):   # the second load finds the problem again
        with pytest.raises(ContentError) as info:
            load_kit(bank, cache=cache)
        assert [p.render(bank) for p in info.value.problems if "002-print" in p.render(bank)]
