"""A learner's progress: a status per question (new, learning, known) and the date it changed.

The file (default `progress.toml` at the project root, ignored by git) is the learner's own; it
is written with tomlkit, so what they typed by hand (comments, order, spacing) survives every
`build.py mark`, and it is written atomically under a lock, so two marks at once both land and
an interrupted one leaves the file as it was. A question the file does not name is new.

    # My progress
    [questions]
    42 = { changed = 2026-12-03, status = "known" }
    56 = { changed = 2026-12-01, status = "learning" }  # the GIL still confuses me

The date comes first in an entry: tomlkit 0.15 drops the space before the closing brace of an
inline table that ends with a date (the value is kept; only that space goes).
"""

from __future__ import annotations

import fcntl
import re
import tomllib
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Iterator

import tomlkit

from .errors import ContentError, KitError, Problem
from .model import DIFFICULTIES, Kit, Question
from .output import atomic_write_text
from .tomlpos import Locator

STATUSES = ("new", "learning", "known")
DEFAULT_NAME = "progress.toml"
HEADER = ("Study progress, written by `build.py mark` (edit by hand if you like: comments and\n"
          "order are kept). status: new, learning or known; changed: the date it last changed.\n"
          "A question not listed here is new.")


@dataclass(frozen=True)
class Entry:
    status: str
    changed: date | None
    line: int | None = None


@dataclass
class Progress:
    path: Path
    entries: dict[int, Entry] = field(default_factory=dict)

    def status(self, number: int) -> str:
        entry = self.entries.get(number)
        return entry.status if entry else "new"

    def numbers_in(self, statuses: frozenset[str], kit: Kit) -> frozenset[int]:
        """The answered questions whose status is one of `statuses`."""
        return frozenset(q.number for q in kit.questions if self.status(q.number) in statuses)


def parse_statuses(text: str) -> frozenset[str]:
    """'new,learning' -> {'new', 'learning'}; ValueError naming what is not a status."""
    chosen = {s.strip() for s in text.split(",") if s.strip()}
    wrong = sorted(chosen - set(STATUSES))
    if wrong or not chosen:
        raise ValueError(f"{', '.join(map(repr, wrong)) or 'nothing'}: a status is one of "
                         f"{', '.join(STATUSES)}")
    return frozenset(chosen)


_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")


def load_progress(path: Path, kit: Kit | None = None) -> Progress:
    """The progress in `path` (none yet if there is no file). A malformed file raises
    ContentError with every problem, each naming the file, line and field; with `kit`, a number
    that is not an answered question is one."""
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return Progress(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise KitError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return _parse(path, text, kit)


def _parse(path: Path, text: str, kit: Kit | None) -> Progress:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_LINE.search(str(exc))
        message = _TOML_LINE.sub("", str(exc)).strip()
        raise ContentError([Problem(path, int(m[1]) if m else None, "",
                                    f"not valid TOML: {message}")]) from None
    loc = Locator(text)
    problems: list[Problem] = []
    for key in data:
        if key != "questions":
            problems.append(Problem(path, loc.line(key) or loc.line(key, 0), key,
                                    "unknown key; the file holds one table, [questions]"))
    table = data.get("questions", {})
    if not isinstance(table, dict):
        problems.append(Problem(path, loc.line("questions"), "questions",
                                "must be a table: [questions]"))
        table = {}
    entries: dict[int, Entry] = {}
    for key, value in table.items():
        line = loc.line("questions", 0, key) or loc.line("questions", key)
        where = f"questions.{key}"
        if not key.isdigit():
            problems.append(Problem(path, line, where, "a key is a question number, like 42"))
            continue
        number = int(key)
        if kit is not None and kit.question(number) is None:
            problems.append(Problem(path, line, where, _not_a_question(number, kit)))
            continue
        if not isinstance(value, dict):
            problems.append(Problem(path, line, where, 'must be a table like { changed = '
                                    '2026-12-03, status = "known" }'))
            continue
        status, changed = value.get("status"), value.get("changed")
        extra = sorted(set(value) - {"status", "changed"})
        if extra:
            problems.append(Problem(path, line, where, f"unknown key {extra[0]!r}; an entry "
                                    "has status and changed"))
        if status not in STATUSES:
            problems.append(Problem(path, line, f"{where}.status",
                                    f"{status!r} is not a status; use one of "
                                    f"{', '.join(STATUSES)}"))
            continue
        if changed is not None and (not isinstance(changed, date) or hasattr(changed, "hour")):
            problems.append(Problem(path, line, f"{where}.changed",
                                    f"{changed!r} is not a date like 2026-12-03"))
            continue
        entries[number] = Entry(status, changed, line)
    if problems:
        raise ContentError(problems)
    return Progress(path, entries)


def _not_a_question(number: int, kit: Kit) -> str:
    if any(b.number == number for b in kit.bank):
        return f"question {number} is in the bank but not answered yet"
    numbers = [q.number for q in kit.questions]
    span = f" (the bank's answered questions run from {min(numbers)} to {max(numbers)})" \
        if numbers else ""
    return f"there is no question {number}{span}"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Held while the file is read, changed and written: concurrent marks queue up here."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@dataclass(frozen=True)
class Change:
    number: int
    old: str
    new: str

    @property
    def changed(self) -> bool:
        return self.old != self.new


def mark(path: Path, numbers: list[int], status: str, kit: Kit,
         today: date | None = None) -> list[Change]:
    """Set `numbers` to `status` (the date to `today` where the status changes), keeping the
    rest of the file as it is. Every number is checked first: one that is not an answered
    question raises ContentError and nothing is written."""
    if status not in STATUSES:
        raise ValueError(status)
    today = today or date.today()
    wrong = sorted({n for n in numbers if kit.question(n) is None})
    if wrong:
        raise KitError("; ".join(_not_a_question(n, kit) for n in wrong)
                       + f"; nothing was changed in {path}")
    path = Path(path)
    with _locked(path):
        try:
            text = path.read_text("utf-8")
        except FileNotFoundError:
            text = ""
        current = _parse(path, text, kit) if text else Progress(path)
        doc = tomlkit.parse(text) if text else _new_document()
        if "questions" not in doc:
            doc.add("questions", tomlkit.table())
        table = doc["questions"]
        changes = []
        for n in sorted(set(numbers)):
            old = current.status(n)
            changes.append(Change(n, old, status))
            if old == status:
                continue
            key = str(n)
            if key in table and isinstance(table[key], dict):
                entry = table[key]
                entry["status"] = status
                entry["changed"] = today
            else:
                entry = tomlkit.inline_table()
                entry.update({"changed": today, "status": status})
                table.add(key, entry)   # new entries go last; the rest stay as they are
        if any(c.changed for c in changes):
            try:
                atomic_write_text(path, tomlkit.dumps(doc))
            except OSError as exc:
                raise KitError(f"cannot write {path}: {exc.strerror or exc}; it is as it "
                               "was") from None
    return changes


def _new_document():
    doc = tomlkit.document()
    for line in HEADER.splitlines():
        doc.add(tomlkit.comment(line))
    doc.add(tomlkit.nl())
    return doc


# ------------------------------------------------------------------ the figures

@dataclass(frozen=True)
class Tally:
    label: str
    known: int
    learning: int
    total: int

    @property
    def new(self) -> int:
        return self.total - self.known - self.learning

    @property
    def percent(self) -> int:
        return round(100 * self.known / self.total) if self.total else 0

    def figure(self) -> str:
        return f"{self.known}/{self.total} known, {self.percent}%"

    def as_json(self) -> dict:
        return {"label": self.label, "known": self.known, "learning": self.learning,
                "new": self.new, "total": self.total, "percent": self.percent}


def _tally(label: str, questions, progress: Progress) -> Tally:
    counts = Counter(progress.status(q.number) for q in questions)
    return Tally(label, counts["known"], counts["learning"], len(questions))


@dataclass(frozen=True)
class Summary:
    overall: Tally
    topics: list[Tally]
    difficulties: list[Tally]
    to_learn: list[tuple[Question, str]]

    def as_json(self) -> dict:
        return {"overall": self.overall.as_json(),
                "topics": [t.as_json() for t in self.topics],
                "difficulties": [t.as_json() for t in self.difficulties],
                "to_learn": [{"number": q.number, "status": s, "topic": q.topic,
                              "difficulty": q.difficulty, "question": q.question}
                             for q, s in self.to_learn]}


def summarize(progress: Progress, kit: Kit) -> Summary:
    questions = kit.questions
    topics = [_tally(f"{t.position:02d} {t.title}", t.questions, progress)
              for t in kit.topics if t.questions]
    levels = [_tally(d, [q for q in questions if q.difficulty == d], progress)
              for d in DIFFICULTIES if any(q.difficulty == d for q in questions)]
    # Learning first (they are under way), then new, each in bank order.
    rank = {"learning": 0, "new": 1}
    to_learn = sorted(((q, progress.status(q.number)) for q in questions
                       if progress.status(q.number) != "known"),
                      key=lambda qs: (rank[qs[1]], qs[0].number))
    return Summary(_tally("overall", questions, progress), topics, levels, to_learn)


def handbook_view(progress: Progress, kit: Kit) -> dict:
    """What the handbook shows of the progress (a renderer option, so JSON): the known and
    learning questions and the overall figure."""
    overall = _tally("overall", kit.questions, progress)
    return {"known": sorted(n for n, e in progress.entries.items() if e.status == "known"),
            "learning": sorted(n for n, e in progress.entries.items()
                               if e.status == "learning"),
            "figure": overall.figure()}
