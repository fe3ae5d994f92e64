"""Read content/ into the model, collecting every problem before giving up."""

from __future__ import annotations

import difflib
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from . import markdown
from .cache import QUESTIONS_FORMAT
from .errors import ContentError, Problem
from .model import DIFFICULTIES, BankEntry, Figure, FollowUp, Kit, Question, Sample, Topic
from .tomlpos import Locator, value_first_line

BANK_FILE = "questions.toml"
TOPIC_FILE = "topic.toml"

# Limits from docs/CONTENT_GUIDE.md; the renderers are laid out for them.
SUMMARY_MAX = 350
KEY_POINTS_RANGE = (3, 6)
KEY_POINT_MAX = 100
PITFALLS_MAX = 4
FOLLOW_UPS_MAX = 3
REFERENCES_MAX = 3
CODE_LINE_MAX = 72

_TOPIC_DIR = re.compile(r"^(\d\d)-([a-z0-9]+(?:-[a-z0-9]+)*)$")
# Three digits cover the bank; a bank past 999 questions needs four.
_QUESTION_FILE = re.compile(r"^(\d{3,4})-[a-z0-9]+(?:-[a-z0-9]+)*\.toml$")
_EXCEPTION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$")
_URL = re.compile(r"^https?://[^\s/$.?#].[^\s]*$")

STR, INT, BOOL = "a string", "an integer", "true or false"
STR_LIST, INT_LIST, TABLES = "a list of strings", "a list of integers", "an array of tables"

# key -> (expected kind, required)
QUESTION_KEYS = {
    "number": (INT, True),
    "question": (STR, True),
    "difficulty": (STR, True),
    "summary": (STR, True),
    "answer": (STR, True),
    "key_points": (STR_LIST, True),
    "pitfalls": (STR_LIST, False),
    "see_also": (INT_LIST, False),
    "references": (STR_LIST, False),
    "index": (STR_LIST, False),
    "no_samples_reason": (STR, False),
    "follow_ups": (TABLES, False),
    "samples": (TABLES, False),
    "figures": (TABLES, False),
}
SAMPLE_KEYS = {
    "title": (STR, True),
    "python": (STR, False),
    "raises": (STR, False),
    "slide": (BOOL, False),
    "card": (BOOL, False),
    "slide_lines": (STR, False),
    "code": (STR, True),
    "output": (STR, True),
}
FIGURE_KEYS = {
    "caption": (STR, True),
    "alt": (STR, True),
    "after": (STR, False),
    "dot": (STR, True),
}
CAPTION_MAX = 200
# The subject index: the terms an answer explains, each pointing at that answer's pages.
INDEX_TERMS_MAX = 10
INDEX_TERM_MAX = 40
# A Python name in backticks, or plain words (letters, digits and a little punctuation).
_INDEX_TERM = re.compile(r"^(?:`[^`\s][^`]*`|[A-Za-z0-9_.()'/+-]+(?: [A-Za-z0-9_.()'/+-]+)*)$")
FOLLOW_UP_KEYS = {"question": (STR, True), "answer": (STR, True)}
TOPIC_KEYS = {"title": (STR, True), "intro": (STR, True)}


def _is_kind(value: Any, kind: str) -> bool:
    if kind == STR:
        return isinstance(value, str)
    if kind == INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == BOOL:
        return isinstance(value, bool)
    if kind == STR_LIST:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == INT_LIST:
        return isinstance(value, list) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        )
    if kind == TABLES:
        return isinstance(value, list) and all(isinstance(v, dict) for v in value)
    raise AssertionError(kind)


def _describe(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a float", str: "a string",
            list: "a list", dict: "a table"}.get(type(value), type(value).__name__)


class _FileChecker:
    """Problems of one file, with line numbers looked up from its text."""

    def __init__(self, path: Path, text: str, problems: list[Problem]):
        self.path = path
        self.text = text
        self.locator = Locator(text)
        self.problems = problems

    def add(self, key_path: tuple, message: str, line: int | None = None) -> None:
        if line is None:
            line = self.locator.line(*key_path) if key_path else None
        self.problems.append(Problem(self.path, line, _field_name(key_path), message))

    def table(self, data: dict, keys: dict, prefix: tuple = ()) -> bool:
        """Check a table's keys and types; True when every required key has the right type."""
        ok = True
        for key, value in data.items():
            if key not in keys:
                close = difflib.get_close_matches(key, list(keys), n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(keys)}"
                self.add(prefix + (key,), f"unknown key {key!r}{hint}")
                ok = False
        for key, (kind, required) in keys.items():
            if key not in data:
                if required:
                    self.add(prefix, f"missing required key {key!r} ({kind})",
                             line=self.locator.line(*prefix) if prefix else 1)
                    ok = False
            elif not _is_kind(data[key], kind):
                self.add(prefix + (key,), f"expected {kind}, found {_describe(data[key])}")
                ok = False
        for key, value in data.items():
            values = value if isinstance(value, list) else [value]
            for i, item in enumerate(values):
                if isinstance(item, str):
                    self.control_characters(prefix + (key,) + ((i,) if value is values else ()),
                                            item)
        return ok

    def control_characters(self, key_path: tuple, text: str) -> None:
        # They print as nothing or as boxes, and XML (so every .pptx) cannot hold them at all.
        m = _CONTROL.search(text)
        if m:
            self.add(key_path, f"contains the control character U+{ord(m.group()):04X}; remove "
                     "it (in code, write it as an escape such as '\\x07')")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _span(bank: dict) -> str:
    return f"{min(bank)} to {max(bank)}" if bank else "none"


def _field_name(key_path: tuple) -> str:
    out = ""
    for part in key_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def read_text(path: Path, problems: list[Problem]) -> str | None:
    """A file's text; on failure add a problem (with the line, if it is not UTF-8)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(path, None, "", f"cannot read the file: {exc.strerror}"))
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.append(Problem(path, line, "", f"the file is not UTF-8 (byte 0x{raw[exc.start]:02x}"
                                f" at offset {exc.start}); save it as UTF-8"))
        return None


def read_toml(path: Path, problems: list[Problem], text: str | None = None
              ) -> tuple[dict, str] | None:
    """Parse a TOML file (or its `text`, read already); on failure add a problem with the line
    and return None."""
    if text is None:
        text = read_text(path, problems)
        if text is None:
            return None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column \d+\)", msg)
        line = int(m.group(1)) if m else None
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg)
        msg = re.sub(r"\s*\(at end of document\)", " (at the end of the file)", msg)
        problems.append(Problem(path, line, "", f"invalid TOML: {msg}"))
        return None


def load_bank(content_dir: Path, problems: list[Problem]) -> list[Topic]:
    path = content_dir / BANK_FILE
    if not path.is_file():
        problems.append(Problem(path, None, "", "the question bank is missing"))
        return []
    parsed = read_toml(path, problems)
    if parsed is None:
        return []
    data, _ = parsed
    entries: dict[str, list[BankEntry]] = {}
    for q in data.get("questions", []):
        entries.setdefault(q["topic"], []).append(
            BankEntry(q["number"], q["topic"], q["difficulty"], q["question"]))
    return [
        Topic(position=i, slug=t["slug"], title=t["title"], first=t["first"], last=t["last"],
              bank=tuple(sorted(entries.get(t["slug"], []), key=lambda b: b.number)))
        for i, t in enumerate(data.get("topics", []), start=1)
    ]


class QuestionCache:
    """Questions that loaded without a problem, kept by a hash of all their checks read: the
    file's path and text, its entry in the bank, its topic, whether syntax is checked, and the
    version of this code, Python and the libraries the checks use. Parsing and checking the
    whole bank takes a quarter of a second, on every build; a kept question takes none of it,
    and an edit loads only the file it changed."""

    FORMAT = QUESTIONS_FORMAT

    def __init__(self, path: Path | None):
        self.path = path
        self.entries: dict[str, Question] = {}
        self.used: dict[str, Question] = {}
        if path is None:
            return
        self.version = self._version()
        from .cachefile import read_cache

        raw = read_cache(path)
        try:
            import pickle

            kept = pickle.loads(raw) if raw is not None else {}
            if kept.get("format") == self.FORMAT and kept.get("version") == self.version:
                self.entries = kept["questions"]
        except Exception:   # from another version: only costs time
            pass

    @staticmethod
    def _version() -> str:
        from .freshness import library_version, tree_digest

        libraries = ",".join(library_version(n) for n in ("markdown-it-py", "packaging"))
        # The same path as the outputs' keys use, so the digest (cached by path) is made once.
        return f"{tree_digest(Path(__file__).resolve().parent)}|{sys.version}|{libraries}"

    def key(self, path: Path, text: str, topic: Topic, entry: BankEntry | None,
            check_syntax: bool) -> str | None:
        if self.path is None:
            return None
        import hashlib

        h = hashlib.sha256()
        for piece in (str(path), text, topic.slug, repr(entry), str(check_syntax)):
            h.update(piece.encode("utf-8", "surrogatepass"))
            h.update(b"\0")
        return h.hexdigest()

    def get(self, key: str | None) -> Question | None:
        found = self.entries.get(key) if key else None
        if found is not None:
            self.used[key] = found
        return found

    def put(self, key: str | None, question: Question) -> None:
        if key:
            self.used[key] = question

    def save(self) -> None:
        """Keep what this load used (a question edited away is dropped with its old text)."""
        if self.path is None or self.used.keys() == self.entries.keys():
            return
        import pickle

        from .cachefile import write_cache

        write_cache(self.path, pickle.dumps({"format": self.FORMAT, "version": self.version,
                                             "questions": self.used}))


def load_kit(content_dir: Path, *, check_syntax: bool = True,
             numbers: frozenset[int] | None = None, only_topics: frozenset[str] = frozenset(),
             cache: Path | None = None) -> Kit:
    """Load and validate the content; raise ContentError listing every problem found.

    `numbers` and `only_topics` limit which question files are read at all, so an author checking
    one question is not held up by another author's unfinished file. `cache` is a file where
    questions that loaded cleanly are kept for the next load (see QuestionCache).
    """
    content_dir = Path(content_dir)
    problems: list[Problem] = []
    kept = QuestionCache(cache)
    topics = load_bank(content_dir, problems)
    if problems:
        raise ContentError(problems)
    by_dir = {t.dirname: t for t in topics}
    bank = {b.number: b for t in topics for b in t.bank}
    intros: dict[str, str] = {}
    questions: dict[str, list[Question]] = {}
    seen: dict[int, Path] = {}

    for entry in sorted(content_dir.iterdir()):
        if not entry.is_dir() or entry.name.startswith((".", "_")):
            continue
        m = _TOPIC_DIR.match(entry.name)
        topic = by_dir.get(entry.name)
        if topic is None:
            known = difflib.get_close_matches(entry.name, list(by_dir), n=1, cutoff=0.5)
            hint = f"; did you mean {known[0]!r}?" if known else ""
            why = "is not NN-<topic-slug>" if not m else "does not match a topic of the bank"
            problems.append(Problem(entry, None, "", f"topic folder {entry.name!r} {why}{hint}"))
            continue
        if only_topics and topic.slug not in only_topics:
            continue
        if numbers is not None and numbers.isdisjoint(range(topic.first, topic.last + 1)):
            continue
        topic_file = entry / TOPIC_FILE
        if not topic_file.is_file():
            problems.append(Problem(topic_file, None, "",
                                    "missing: every topic folder needs a topic.toml (title, intro)"))
        else:
            intro = _load_topic(topic_file, topic, problems)
            if intro is not None:
                intros[topic.slug] = intro
        for path in sorted(entry.iterdir()):
            if path.name == TOPIC_FILE or path.suffix != ".toml":
                continue
            fm = _QUESTION_FILE.match(path.name)
            if not fm:
                problems.append(Problem(path, None, "", "file name must be NNN-<slug>.toml "
                                        "(a three- or four-digit number, lowercase words joined by "
                                        "hyphens)"))
                continue
            if numbers is not None and int(fm.group(1)) not in numbers:
                continue
            q = _load_question(path, topic, bank, problems, check_syntax, kept)
            if q is None:
                continue
            if int(fm.group(1)) != q.number:
                problems.append(Problem(path, Locator(path.read_text("utf-8")).line("number"),
                                        "number", f"is {q.number} but the file name says "
                                        f"{int(fm.group(1))}"))
            if q.number in seen:
                problems.append(Problem(path, Locator(path.read_text("utf-8")).line("number"),
                                        "number", f"question {q.number} is answered twice: "
                                        f"also in {seen[q.number]}"))
                continue
            seen[q.number] = path
            questions.setdefault(topic.slug, []).append(q)

    for qs in questions.values():
        for q in qs:
            loc = None
            for n in q.see_also:
                if n not in bank:
                    loc = loc or Locator(q.path.read_text("utf-8"))
                    problems.append(Problem(q.path, loc.line("see_also"), "see_also",
                                            f"{n} is not a question of the bank "
                                            f"({_span(bank)})"))

    kept.save()
    if problems:
        raise ContentError(problems)
    from dataclasses import replace
    final = tuple(
        replace(t, intro=intros.get(t.slug, ""),
                questions=tuple(sorted(questions.get(t.slug, []), key=lambda q: q.number)))
        for t in topics
    )
    return Kit(topics=final, root=content_dir)


def _load_topic(path: Path, topic: Topic, problems: list[Problem]) -> str | None:
    parsed = read_toml(path, problems)
    if parsed is None:
        return None
    data, text = parsed
    fc = _FileChecker(path, text, problems)
    if not fc.table(data, TOPIC_KEYS):
        return None
    if data["title"] != topic.title:
        fc.add(("title",), f"is {data['title']!r} but the bank calls this topic {topic.title!r}")
    _check_markdown(fc, ("intro",), data["intro"])
    return data["intro"]


def _check_markdown(fc: _FileChecker, key_path: tuple, text: str) -> None:
    for message, offset in markdown.problems(text):
        line = fc.locator.line(*key_path)
        if line is not None:
            line = value_first_line(fc.text, line) + offset
        fc.add(key_path, message, line=line)


def _load_question(path: Path, topic: Topic, bank: dict[int, BankEntry],
                   problems: list[Problem], check_syntax: bool,
                   kept: QuestionCache) -> Question | None:
    text = read_text(path, problems)
    if text is None:
        return None
    # The key holds the bank entry of the number in the file's name, which is the number
    # checked whenever a question is kept (see below).
    named = _QUESTION_FILE.match(path.name)
    named_number = int(named.group(1)) if named else None
    key = kept.key(path, text, topic, bank.get(named_number), check_syntax)
    found = kept.get(key)
    if found is not None:
        return found
    parsed = read_toml(path, problems, text)
    if parsed is None:
        return None
    data, text = parsed
    fc = _FileChecker(path, text, problems)
    before = len(problems)
    if not fc.table(data, QUESTION_KEYS):
        # Still look inside the tables, so one run shows their problems too.
        _check_tables(fc, data, check_syntax)
        _check_figures(fc, data, kept)
        return None

    number = data["number"]
    entry = bank.get(number)
    if entry is None:
        fc.add(("number",), f"{number} is not in the bank (questions are numbered "
               f"{_span(bank)})")
    else:
        if entry.topic != topic.slug:
            fc.add(("number",), f"question {number} belongs to topic {entry.topic!r}, "
                   f"not {topic.slug!r}: move the file to that topic's folder")
        if " ".join(data["question"].split()) != " ".join(entry.question.split()):
            fc.add(("question",), f"differs from the bank, which says {entry.question!r}")
        if data["difficulty"] != entry.difficulty:
            fc.add(("difficulty",), f"is {data['difficulty']!r} but the bank says "
                   f"{entry.difficulty!r}")
    if data["difficulty"] not in DIFFICULTIES:
        fc.add(("difficulty",), f"must be one of {', '.join(DIFFICULTIES)}")

    summary = data["summary"].strip()
    if not summary:
        fc.add(("summary",), "is empty")
    elif len(summary) > SUMMARY_MAX:
        fc.add(("summary",), f"is {len(summary)} characters; at most {SUMMARY_MAX} fit a flashcard")
    if not data["answer"].strip():
        fc.add(("answer",), "is empty")
    _check_markdown(fc, ("answer",), data["answer"])

    points = data["key_points"]
    lo, hi = KEY_POINTS_RANGE
    if not lo <= len(points) <= hi:
        fc.add(("key_points",), f"has {len(points)} items; write {lo} to {hi}")
    for i, p in enumerate(points):
        if not p.strip():
            fc.add(("key_points", i), "is empty", line=fc.locator.line("key_points"))
        elif len(p) > KEY_POINT_MAX:
            fc.add(("key_points", i), f"is {len(p)} characters; at most {KEY_POINT_MAX} fit a "
                   "slide bullet", line=fc.locator.line("key_points"))
    if len(data.get("pitfalls", [])) > PITFALLS_MAX:
        fc.add(("pitfalls",), f"has {len(data['pitfalls'])} items; at most {PITFALLS_MAX}")
    refs = data.get("references", [])
    if len(refs) > REFERENCES_MAX:
        fc.add(("references",), f"has {len(refs)} items; at most {REFERENCES_MAX}")
    for i, ref in enumerate(refs):
        if not _URL.match(ref):
            fc.add(("references", i), f"{ref!r} is not an http(s) URL",
                   line=fc.locator.line("references"))
    see_also = data.get("see_also", [])
    if number in see_also:
        fc.add(("see_also",), f"lists the question's own number {number}")
    if len(set(see_also)) != len(see_also):
        fc.add(("see_also",), "lists a number twice")

    follow_ups, samples = _check_tables(fc, data, check_syntax)
    figures = _check_figures(fc, data, kept)
    _check_index(fc, data)
    reason = data.get("no_samples_reason")
    if data.get("samples") and reason is not None:
        fc.add(("no_samples_reason",), "is set but the question has samples: remove one of them")
    elif not data.get("samples") and not (reason or "").strip():
        fc.add(("samples",), "no samples: add a [[samples]] table, or say why the question is "
               "purely conceptual in no_samples_reason", line=1)

    if len(problems) > before:
        return None
    question = Question(
        number=number, question=data["question"], difficulty=data["difficulty"],
        topic=topic.slug, summary=summary, answer=data["answer"],
        key_points=tuple(points), pitfalls=tuple(data.get("pitfalls", ())),
        follow_ups=tuple(follow_ups), see_also=tuple(see_also), references=tuple(refs),
        no_samples_reason=reason, samples=tuple(samples), path=path, figures=tuple(figures),
        index=tuple(data.get("index", ())),
    )
    if number == named_number:   # else the key names another entry
        kept.put(key, question)
    return question


def _check_index(fc: _FileChecker, data: dict) -> None:
    """Each index term is well formed, given once, and found in the answer's own text: the
    index sends a reader to this answer's pages, so a term it does not contain is a wrong
    reference, not just an untidy one."""
    terms = data.get("index", [])
    if len(terms) > INDEX_TERMS_MAX:
        fc.add(("index",), f"has {len(terms)} terms; at most {INDEX_TERMS_MAX} (the subjects "
               "the answer explains, not every word it uses)")
    follow_ups = [f.get("question", "") + " " + f.get("answer", "")
                  for f in data.get("follow_ups", []) if isinstance(f, dict)]
    text = " ".join([data["question"], data["summary"], data["answer"], *data["key_points"],
                     *data.get("pitfalls", []), *follow_ups]).lower()
    seen: set[str] = set()
    line = fc.locator.line("index")
    for i, term in enumerate(terms):
        bare = term.strip("`").lower()
        if not _INDEX_TERM.match(term) or len(term) > INDEX_TERM_MAX:
            fc.add(("index", i), f"{term!r} is not a term: one Python name in backticks, or plain "
                   f"words, at most {INDEX_TERM_MAX} characters", line=line)
        elif bare in seen:
            fc.add(("index", i), f"{term!r} is listed twice", line=line)
        elif bare not in text:
            fc.add(("index", i), f"{term!r} does not occur in the question, summary, answer, key "
                   "points, pitfalls or follow-ups, so the index would send readers to a page "
                   "that does not explain it", line=line)
        seen.add(bare)


def _check_tables(fc: _FileChecker, data: dict, check_syntax: bool):
    follow_ups: list[FollowUp] = []
    ups = data.get("follow_ups", [])
    if isinstance(ups, list):
        if len(ups) > FOLLOW_UPS_MAX:
            fc.add(("follow_ups",), f"has {len(ups)} items; at most {FOLLOW_UPS_MAX}",
                   line=fc.locator.line("follow_ups", 0))
        for i, up in enumerate(ups):
            if isinstance(up, dict) and fc.table(up, FOLLOW_UP_KEYS, ("follow_ups", i)):
                follow_ups.append(FollowUp(up["question"], up["answer"]))
    samples: list[Sample] = []
    raw_samples = data.get("samples", [])
    if isinstance(raw_samples, list):
        for i, s in enumerate(raw_samples):
            if isinstance(s, dict):
                sample = _check_sample(fc, i, s, check_syntax)
                if sample is not None:
                    samples.append(sample)
    return follow_ups, samples


def _check_figures(fc: _FileChecker, data: dict, kept: QuestionCache) -> list[Figure]:
    """The figures' fields (docs/content-format.md), and their DOT as Graphviz reads it: the
    drawing made to check it is kept in the cache folder for the handbook. Without Graphviz
    installed the DOT is left to the renderers, which say that it is missing."""
    from . import figures as drawing
    figures: list[Figure] = []
    raw = data.get("figures", [])
    if not isinstance(raw, list):
        return figures
    answer = data.get("answer") if isinstance(data.get("answer"), str) else ""
    for i, f in enumerate(raw):
        prefix = ("figures", i)
        if not isinstance(f, dict):
            continue
        before = len(fc.problems)
        fc.table(f, FIGURE_KEYS, prefix)
        for key in ("caption", "alt", "dot"):
            if isinstance(f.get(key), str) and not f[key].strip():
                fc.add(prefix + (key,), "is empty" + (": say what the figure shows, for a "
                       "reader who cannot see it" if key == "alt" else ""))
        if isinstance(f.get("caption"), str) and len(f["caption"]) > CAPTION_MAX:
            fc.add(prefix + ("caption",), f"is {len(f['caption'])} characters; at most "
                   f"{CAPTION_MAX} (the alt text says the rest)")
        after = f.get("after", "")
        if isinstance(after, str) and "after" in f:
            found = answer.count(after) if after.strip() else 0
            if found != 1:
                fc.add(prefix + ("after",), f"{after!r} " + (
                    "is not in the answer" if not found else f"occurs {found} times in the "
                    "answer") + ": quote text that occurs once, after whose paragraph the "
                    "figure goes")
        if len(fc.problems) > before:
            continue
        dot_key_line = fc.locator.line("figures", i, "dot")
        figure = Figure(
            caption=f["caption"].strip(), alt=" ".join(f["alt"].split()), dot=f["dot"],
            after=after, index=i, line=fc.locator.line("figures", i) or 0,
            dot_line=value_first_line(fc.text, dot_key_line) if dot_key_line else 0)
        if drawing.available():
            try:
                drawing.draw(figure.dot, "svg", kept.path.parent if kept.path else None)
            except drawing.FigureError as exc:
                problem = drawing.problem(fc.path, figure, exc)
                fc.add(prefix + ("dot",), problem.message, line=problem.line)
                continue
        figures.append(figure)
    return figures


def _check_sample(fc: _FileChecker, i: int, s: dict, check_syntax: bool) -> Sample | None:
    prefix = ("samples", i)
    if not fc.table(s, SAMPLE_KEYS, prefix):
        return None
    before = len(fc.problems)
    code = s["code"]
    code_key_line = fc.locator.line("samples", i, "code")
    code_line = value_first_line(fc.text, code_key_line) if code_key_line else None
    if not code.strip():
        fc.add(prefix + ("code",), "is empty: a sample needs code to run")
    for n, line in enumerate(code.splitlines()):
        if len(line) > CODE_LINE_MAX:
            fc.add(prefix + ("code",), f"line {n + 1} is {len(line)} characters; at most "
                   f"{CODE_LINE_MAX} fit the page", line=code_line + n if code_line else None)
    spec = None
    if "python" in s:
        try:
            spec = SpecifierSet(s["python"])
            if not str(spec):
                raise InvalidSpecifier(s["python"])
        except InvalidSpecifier:
            fc.add(prefix + ("python",), f"{s['python']!r} is not a version specifier; write "
                   "for example '>=3.12' or '>=3.10,<3.12'")
    if "raises" in s and not _EXCEPTION_NAME.match(s["raises"]):
        fc.add(prefix + ("raises",), f"{s['raises']!r} is not an exception class name "
               "(for example 'KeyError')")
    slide_lines = _slide_lines(fc, prefix, s.get("slide_lines"), len(code.splitlines()))
    here = Version(".".join(map(str, sys.version_info[:3])))
    if check_syntax and code.strip() and (spec is None or here in spec):
        try:
            compile(code, "<sample>", "exec", dont_inherit=True)
        except SyntaxError as exc:
            line = code_line + (exc.lineno or 1) - 1 if code_line else None
            fc.add(prefix + ("code",), f"syntax error: {exc.msg} (line {exc.lineno} of the "
                   "sample)", line=line)
    if len(fc.problems) > before:
        return None
    return Sample(
        title=s["title"], code=code, output=s["output"], raises=s.get("raises"),
        python=s.get("python"), slide=s.get("slide", True), card=s.get("card", False),
        slide_lines=slide_lines, index=i, line=fc.locator.line("samples", i) or 0, code_line=code_line or 0,
    )


_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def _slide_lines(fc: _FileChecker, prefix: tuple, text: str | None,
                 count: int) -> tuple[tuple[int, int], ...]:
    """`slide_lines = "1-12, 18-24"`: the code lines a slide shows, as (first, last) ranges."""
    if text is None:
        return ()
    key = prefix + ("slide_lines",)
    ranges: list[tuple[int, int]] = []
    for part in text.split(","):
        m = _RANGE.match(part)
        if not m:
            fc.add(key, f"{part.strip()!r} is not a line or a range of lines; write for example "
                   "'1-12, 18-24'")
            return ()
        first, last = int(m.group(1)), int(m.group(2) or m.group(1))
        if not 1 <= first <= last <= count:
            fc.add(key, f"{part.strip()!r} is outside the code's lines 1-{count}")
            return ()
        if ranges and first <= ranges[-1][1] + 1:
            fc.add(key, f"{part.strip()!r} overlaps or touches the range before it, or comes "
                   "before it: list ranges in order with a gap between")
            return ()
        ranges.append((first, last))
    if ranges == [(1, count)]:
        fc.add(key, "shows every line; remove the key")
        return ()
    return tuple(ranges)
