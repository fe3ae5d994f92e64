"""What a question's card shows, chosen once for every output that shows a card: the printed
flashcards, the Anki deck, and the revision mark that tells a reprinted card from a stale one.

A card's front is the question and its card sample (the first sample marked `card = true`).
Its back answers that front: the summary, the card sample's output (each version's where the
sample has version twins whose outputs differ), and bullets that add to the summary rather than
repeat it (see `added_points`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from ..model import Question, Sample

# Words that say nothing of a point's content, left out when comparing it with the summary.
_STOP = frozenset("""a an the and or but of to in on at by for from with without as is are was
were be been it its this that these those than then so not no do does did can may might must
only also just into over under each every any all one two when where which who what how why
their there they them you your we our if else per via""".split())
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*|\d+(?:\.\d+)*")
# A point is taken to repeat the summary when this share of its content words is in it.
REPEATS = 0.6


def card_sample(q: Question) -> Sample | None:
    return next((s for s in q.samples if s.card), None)


@dataclass(frozen=True)
class Output:
    """What the card sample prints on some versions: `versions` is '' when it is the same on
    every version it runs on, else the specifier (">=3.12")."""

    versions: str
    text: str


def card_outputs(q: Question) -> list[Output]:
    """The card sample's output, and that of each version twin (same code, another `python`
    specifier) whose output differs: what the front's code prints, per version."""
    sample = card_sample(q)
    if sample is None:
        return []
    twins = [s for s in q.samples if s.code.strip() == sample.code.strip()]
    seen: list[Output] = []
    for s in twins:
        text = _printed(s)
        if any(o.text == text for o in seen):
            continue
        seen.append(Output(s.python or "", text))
    if len(seen) == 1:
        return [Output("", seen[0].text)]
    return seen


def _printed(s: Sample) -> str:
    text = s.output.rstrip("\n")
    if s.raises:
        text = (text + "\n" if text else "") + f"raises {s.raises}"
    return text


def _words(text: str) -> set[str]:
    return {w.lower().rstrip(".") for w in _WORD.findall(text)} - _STOP


def repeats(point: str, summary: str) -> bool:
    """Whether most of a point's content words are already in the summary."""
    words = _words(point)
    if not words:
        return True
    return len(words & _words(summary)) / len(words) >= REPEATS


def added_points(q: Question) -> list[tuple[str, str]]:
    """The bullets a printed back shows, as (kind, text), best first: the key points that say
    something the summary does not, then the first pitfall the summary does not already
    state. The fitting on the card may show fewer."""
    points = [("point", p) for p in q.key_points if not repeats(p, q.summary)]
    pitfall = next((p for p in q.pitfalls if not repeats(p, q.summary)), None)
    if pitfall:
        points.append(("pitfall", pitfall))
    return points


def revision(q: Question, topic_title: str) -> str:
    """A short digest of what the card shows (both faces' text, without the handbook's page
    number, which a handbook layout change moves): printed beside its ID, and compared by
    `flashcards --changed-since`."""
    sample = card_sample(q)
    shown = [q.number, q.question, q.difficulty, topic_title, q.summary,
             sample.code if sample else "", [(o.versions, o.text) for o in card_outputs(q)],
             added_points(q)]
    return hashlib.sha256(repr(shown).encode("utf-8", "surrogatepass")).hexdigest()[:4]


def handbook_pages(out_dir: Path, paper: str = "a4") -> dict[int, int]:
    """The page of each question in the handbook last built into `out_dir` ({} when there is
    none): its named destinations `q<number>` (see pdfparts.join), counted from 1 as the
    pages print their numbers."""
    name = "handbook.pdf" if paper == "a4" else f"handbook-{paper}.pdf"
    path = Path(out_dir) / name
    if not path.is_file():
        return {}
    import pikepdf

    found: dict[int, int] = {}
    try:
        with pikepdf.open(path) as pdf:
            index = {page.obj.objgen: n for n, page in enumerate(pdf.pages)}
            dests = pdf.Root.get("/Names", {}).get("/Dests")
            if dests is None:
                return {}
            for key, dest in pikepdf.NameTree(dests).items():
                if re.fullmatch(r"q\d+", key) and isinstance(dest, pikepdf.Array) and len(dest):
                    n = index.get(dest[0].objgen)
                    if n is not None:
                        found[int(key[1:])] = n + 1
    except (pikepdf.PdfError, OSError, KeyError, TypeError, ValueError):
        return {}
    return found
