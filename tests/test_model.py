"""The content model's look-ups, and the print conventions every printed output shares."""

from studykit import paper
from studykit.loader import load_kit


def test_a_bank_entry_is_found_by_number_answered_or_not(bank):
    kit = load_kit(bank)
    answered = kit.bank_entry(2)
    assert answered.number == 2 and answered.question == kit.question(2).question
    unanswered = [b for b in kit.bank if kit.question(b.number) is None]
    assert unanswered, "the fixture bank has unanswered questions"
    for entry in unanswered:
        assert kit.bank_entry(entry.number) is entry
    assert kit.bank_entry(999) is None


def test_the_handbook_and_the_cards_share_one_set_of_marks_and_papers():
    from studykit.render import flashcards, handbook

    assert handbook.MARKS is flashcards.MARKS is paper.MARKS
    assert handbook.PAPERS is flashcards.PAPERS is paper.PAPERS
    assert flashcards.Sheet("letter", flashcards.LAYOUTS["8up"], "long").size == (215.9, 279.4)
