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


def test_card_ranges_join_consecutive_numbers_and_read_back_with_parse_numbers():
    from studykit.model import card_ranges, parse_numbers
    assert card_ranges([9, 2, 3, 4, 5, 3]) == "Q2-Q5, Q9"
    assert card_ranges([7]) == "Q7" and card_ranges([]) == ""
    numbers = [2, 3, 4, 8, 10, 11, 40]
    text = card_ranges(numbers).replace("Q", "").replace(" ", "")
    assert parse_numbers(text) == frozenset(numbers)
