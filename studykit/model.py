"""The content model every stage shares: frozen, so no renderer can change what another one sees."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

DIFFICULTIES = ("easy", "medium", "hard", "expert")
# One letter per level, so a difficulty reads without colour (black-and-white print).
DIFFICULTY_LETTERS = {"easy": "E", "medium": "M", "hard": "H", "expert": "X"}
# The CPython feature releases the answers describe (docs/CONTENT_GUIDE.md). The outputs name the
# ones no sample was executed on, so a reader knows which statements rest on documentation alone.
DESCRIBED_VERSIONS = ((3, 10), (3, 11), (3, 12), (3, 13), (3, 14), (3, 15))


@dataclass(frozen=True)
class FollowUp:
    question: str
    answer: str


@dataclass(frozen=True)
class Sample:
    title: str
    code: str
    output: str
    raises: str | None = None
    python: str | None = None
    slide: bool = True
    card: bool = False
    # 1-based (first, last) line ranges a slide shows, in order; () shows every line.
    slide_lines: tuple[tuple[int, int], ...] = ()
    index: int = 0
    # Line of the sample's `[[samples]]` header and of its `code` value, for messages.
    line: int = 0
    code_line: int = 0


@dataclass(frozen=True)
class Figure:
    """A drawing in Graphviz DOT (studykit/figures.py renders it in the house style)."""

    caption: str
    alt: str
    dot: str
    # Text of the answer after whose top-level block the figure is placed ("": at the end).
    after: str = ""
    index: int = 0
    # Line of the figure's `[[figures]]` header and of its `dot` value, for messages.
    line: int = 0
    dot_line: int = 0


@dataclass(frozen=True)
class Question:
    number: int
    question: str
    difficulty: str
    topic: str
    summary: str
    answer: str
    key_points: tuple[str, ...]
    pitfalls: tuple[str, ...] = ()
    follow_ups: tuple[FollowUp, ...] = ()
    see_also: tuple[int, ...] = ()
    references: tuple[str, ...] = ()
    no_samples_reason: str | None = None
    samples: tuple[Sample, ...] = ()
    path: Path | None = None
    figures: tuple[Figure, ...] = ()
    # Terms of the handbook's subject index that this answer explains.
    index: tuple[str, ...] = ()

    @property
    def card_id(self) -> str:
        return f"Q{self.number}"

    @property
    def difficulty_rank(self) -> int:
        return DIFFICULTIES.index(self.difficulty)


@dataclass(frozen=True)
class BankEntry:
    """One question of the bank (content/questions.toml), answered or not."""

    number: int
    topic: str
    difficulty: str
    question: str


@dataclass(frozen=True)
class Topic:
    position: int
    slug: str
    title: str
    first: int
    last: int
    intro: str = ""
    questions: tuple[Question, ...] = ()
    bank: tuple[BankEntry, ...] = ()

    @property
    def dirname(self) -> str:
        return f"{self.position:02d}-{self.slug}"

    @property
    def answered(self) -> int:
        return len(self.questions)


@dataclass(frozen=True)
class Kit:
    """The whole study kit: every topic of the bank, each with the questions answered so far."""

    topics: tuple[Topic, ...]
    root: Path | None = None
    _by_number: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_number.update({q.number: q for t in self.topics for q in t.questions})

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(q for t in self.topics for q in t.questions)

    @property
    def bank(self) -> tuple[BankEntry, ...]:
        return tuple(b for t in self.topics for b in t.bank)

    def question(self, number: int) -> Question | None:
        return self._by_number.get(number)

    def bank_entry(self, number: int) -> BankEntry | None:
        """The bank's entry for a question number, answered or not (None: not in the bank)."""
        return next((b for b in self.bank if b.number == number), None)

    def topic_of(self, question: Question) -> Topic:
        return next(t for t in self.topics if t.slug == question.topic)

    def select(self, selection: "Selection") -> "Kit":
        """A kit holding only the selected questions; topics keep their bank for coverage."""
        if selection.is_everything:
            return self
        topics = tuple(
            replace(t, questions=tuple(q for q in t.questions if selection.matches(q)))
            for t in self.topics
            if not selection.topics or t.slug in selection.topics
        )
        return Kit(topics=topics, root=self.root)


@dataclass(frozen=True)
class Selection:
    topics: frozenset[str] = frozenset()
    difficulties: frozenset[str] = frozenset()
    numbers: frozenset[int] | None = None

    @property
    def is_everything(self) -> bool:
        return not self.topics and not self.difficulties and self.numbers is None

    def matches(self, q: Question) -> bool:
        return (
            (not self.topics or q.topic in self.topics)
            and (not self.difficulties or q.difficulty in self.difficulties)
            and (self.numbers is None or q.number in self.numbers)
        )


def card_ranges(numbers) -> str:
    """[2, 3, 4, 5, 9] -> 'Q2-Q5, Q9': card IDs with consecutive numbers joined, so that a long
    list stays readable (the printed counterpart of parse_numbers)."""
    out: list[str] = []
    nums = sorted(set(numbers))
    start = prev = None
    for n in nums + [None]:
        if start is not None and n is not None and n == prev + 1:
            prev = n
            continue
        if start is not None:
            out.append(f"Q{start}" if start == prev else f"Q{start}-Q{prev}")
        start = prev = n
    return ", ".join(out)


def parse_numbers(text: str) -> frozenset[int]:
    """'2-15,21' -> {2, ..., 15, 21}. Raises ValueError with a readable message."""
    numbers: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        try:
            a = int(lo)
            b = int(hi) if sep else a
        except ValueError:
            raise ValueError(f"{part!r} is not a number or a range like 2-15") from None
        if b < a:
            raise ValueError(f"{part!r}: the range ends before it starts")
        numbers.update(range(a, b + 1))
    if not numbers:
        raise ValueError("no numbers given")
    return frozenset(numbers)
