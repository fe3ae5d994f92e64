"""Session plans (sessions/*.toml): read and checked against the bank, or picked at random."""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import ContentError, Problem
from .loader import read_toml
from .model import Kit
from .output import write_output
from .tomlpos import Locator

# key -> (what it must be, required)
SESSION_KEYS = {
    "title": ("a string", True),
    "date": ("a date such as 2026-12-10", True),
    "questions": ("a list of question numbers", True),
    "minutes": ("a list of minutes, one per question", False),
}
TITLE_MAX = 80


@dataclass(frozen=True)
class Session:
    """One meeting: its questions in the order they are taken, with minutes for each if set."""

    path: Path
    title: str
    date: dt.date
    numbers: tuple[int, ...]
    minutes: tuple[int, ...] = ()

    @property
    def name(self) -> str:
        return self.path.stem


def sessions_dir(content_dir: Path) -> Path:
    """Where the session plans are kept: sessions/ beside the content folder."""
    return content_dir.parent / "sessions"


def session_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.toml")) if folder.is_dir() else []


def read_sessions(paths: list[Path], kit: Kit) -> list[Session]:
    """Every session file, checked; all their problems at once as a ContentError."""
    problems: list[Problem] = []
    sessions = [s for s in (read_session(p, kit, problems) for p in paths) if s is not None]
    if problems:
        raise ContentError(problems)
    return sessions


def read_session(path: Path, kit: Kit, problems: list[Problem]) -> Session | None:
    parsed = read_toml(path, problems)
    if parsed is None:
        return None
    data, text = parsed
    locate = Locator(text)
    before = len(problems)

    def add(key: str | None, message: str, index: int | None = None) -> None:
        line = locate.line(key) if key is not None else None
        if line and index is not None:
            line = _item_line(text, line, index)
        field = key if index is None or key is None else f"{key}[{index}]"
        problems.append(Problem(path, line or 1, field or "", message))

    for key in data:
        if key not in SESSION_KEYS:
            add(key, f"unknown key {key!r}; known keys: {', '.join(SESSION_KEYS)}")
    for key, (what, required) in SESSION_KEYS.items():
        if required and key not in data:
            add(None, f"missing required key {key!r} ({what})")
    title, date = data.get("title"), data.get("date")
    if "title" in data and not (isinstance(title, str) and title.strip()):
        add("title", "expected a non-empty string")
    elif isinstance(title, str) and len(title) > TITLE_MAX:
        add("title", f"is {len(title)} characters; at most {TITLE_MAX} fit a title slide")
    if "date" in data and (not isinstance(date, dt.date) or isinstance(date, dt.datetime)):
        add("date", f"expected a date such as 2026-12-10 (no quotes), found {date!r}")
    numbers = data.get("questions")
    seen: dict[int, int] = {}
    if "questions" in data:
        if not isinstance(numbers, list) or not numbers:
            add("questions", "expected a non-empty list of question numbers, such as [12, 57]")
            numbers = []
        for i, n in enumerate(numbers):
            if not isinstance(n, int) or isinstance(n, bool):
                add("questions", f"expected a question number, found {n!r}", i)
            elif n in seen:
                add("questions", f"Q{n} is already in the plan (item {seen[n] + 1})", i)
            elif kit.question(n) is None:
                in_bank = any(b.number == n for b in kit.bank)
                add("questions", f"Q{n} has no answer in the content yet" if in_bank else
                    f"Q{n} is not in the bank ({_span(kit)})", i)
            else:
                seen[n] = i
    minutes = data.get("minutes", [])
    if "minutes" in data:
        if not isinstance(minutes, list):
            add("minutes", "expected a list of minutes, one per question")
            minutes = []
        elif isinstance(numbers, list) and len(minutes) != len(numbers):
            add("minutes", f"has {len(minutes)} items for {len(numbers)} questions")
        for i, m in enumerate(minutes):
            if not isinstance(m, int) or isinstance(m, bool) or not 1 <= m <= 120:
                add("minutes", f"expected a whole number of minutes from 1 to 120, found {m!r}",
                    i)
    if len(problems) > before:
        return None
    return Session(path, title.strip(), date, tuple(numbers), tuple(minutes))


def _item_line(text: str, key_line: int, index: int) -> int:
    """The line of item `index` of the array whose key is on `key_line` (items may be spread
    over lines, with comments)."""
    lines = text.splitlines()
    count = -1
    for n in range(key_line - 1, len(lines)):
        body = lines[n].split("#", 1)[0]
        if n == key_line - 1:
            body = body.split("=", 1)[1] if "=" in body else ""
        for _ in re.finditer(r"[^,\[\]\s]+", body):
            count += 1
            if count == index:
                return n + 1
        if "]" in body:
            break
    return key_line


def _span(kit: Kit) -> str:
    numbers = [b.number for b in kit.bank]
    return f"{min(numbers)}-{max(numbers)}" if numbers else "empty"


def pick(kit: Kit, count: int, seed: int) -> list[int]:
    """`count` answered questions of the kit chosen at random, spread across its topics (one
    from each topic in turn, the topics in a random order), the same for the same seed."""
    rng = random.Random(seed)
    pools = [list(t.questions) for t in kit.topics if t.questions]
    for pool in pools:
        rng.shuffle(pool)
    rng.shuffle(pools)
    chosen = []
    while len(chosen) < count and any(pools):
        for pool in pools:
            if pool and len(chosen) < count:
                chosen.append(pool.pop())
    return [q.number for q in chosen]


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40].strip("-") or "session"


def write_session(path: Path, title: str, date: dt.date, numbers: list[int],
                  minutes: list[int] | None = None) -> None:
    """A new session file, written whole or not at all."""
    quoted = title.replace("\\", "\\\\").replace('"', '\\"')
    lines = [f'title = "{quoted}"', f"date = {date.isoformat()}",
             f"questions = [{', '.join(map(str, numbers))}]"]
    if minutes:
        lines.append(f"minutes = [{', '.join(map(str, minutes))}]")
    write_output(path, ("\n".join(lines) + "\n").encode("utf-8"))
