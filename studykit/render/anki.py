"""The Anki deck (output/python-interview.apkg), written with genanki.

One parent deck, a subdeck per topic, a note per question. The front is the printed card's
front (the question and its card sample); the back is the short answer, every key point, the
card sample's verified output (each version's where they differ), the pitfalls, and the
handbook page. Identities never change with the content: the model's and the decks' IDs and
each note's GUID come from fixed names and the question number, so importing a newer build
updates the notes in place and keeps their review history.

Anki shows fields as HTML: every text is escaped (`<script>` shows as typed), and code is
highlighted by Pygments with inline styles, which Anki's desktop and mobile apps show without
add-ons or a stylesheet of classes.
"""

from __future__ import annotations

import hashlib
from datetime import timezone
from pathlib import Path

from markupsafe import Markup, escape

from ..errors import RenderError
from ..markdown import inline_code
from ..model import DIFFICULTY_LETTERS, Question
from ..output import atomic_path, OutputError
from .base import BuildContext, Renderer, RenderResult, build_time
from .cardtext import card_outputs, card_sample, handbook_pages
from .highlight import PrintStyle

FILE_NAME = "python-interview.apkg"
PARENT = "Python Interview"
NAMESPACE = "studykit python-interview"


def stable_id(*parts: object) -> int:
    """An ID Anki keeps across builds: from a hash of fixed names, in the range Anki's IDs
    use (positive, below 2**63, above the millisecond timestamps Anki gives its own)."""
    digest = hashlib.sha256(repr((NAMESPACE, *parts)).encode()).digest()
    return (1 << 60) + int.from_bytes(digest[:7], "big")


MODEL_ID = stable_id("model", 1)


def note_guid(number: int) -> str:
    import genanki

    return genanki.guid_for(NAMESPACE, "question", number)


def deck_id(slug: str | None) -> int:
    return stable_id("deck", slug or "")


def code_html(code: str) -> Markup:
    """Pygments HTML with inline styles in the handbook's print style."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    html = highlight(code.rstrip("\n"), PythonLexer(),
                     HtmlFormatter(style=PrintStyle, noclasses=True, nowrap=True))
    return Markup('<pre class="code" style="background: {bg}; padding: 6px 8px; '
                  'text-align: left; overflow-x: auto; font-size: 90%">{html}</pre>').format(
        bg=PrintStyle.background_color, html=Markup(html.rstrip("\n")))


def output_html(text: str) -> Markup:
    return Markup('<pre class="output" style="background: #ffffff; border-left: 3px solid '
                  '#9a9a9a; padding: 4px 8px; text-align: left">{}</pre>').format(text)


CSS = """.card { font-family: "Noto Sans", "DejaVu Sans", Arial, sans-serif; font-size: 18px;
  text-align: left; color: #1a1a1a; background: #ffffff; }
.nightMode.card { color: #1a1a1a; background: #ffffff; }
.head { font-size: 13px; color: #555; }
.question { font-size: 20px; font-weight: bold; }
pre { font-family: "Noto Sans Mono", "DejaVu Sans Mono", Menlo, Consolas, monospace;
  font-size: 15px; white-space: pre-wrap; }
h4 { margin: 12px 0 4px; font-size: 14px; color: #555; text-transform: uppercase; }
code { font-family: "Noto Sans Mono", "DejaVu Sans Mono", Menlo, Consolas, monospace; }
"""
FIELDS = ["ID", "Front", "Back"]
FRONT = '<div class="head">{{ID}}</div>\n{{Front}}'
BACK = '{{FrontSide}}\n<hr id="answer">\n{{Back}}'


def front_html(q: Question, topic_title: str) -> Markup:
    """The printed card's front: topic, the question, and its card sample."""
    sample = card_sample(q)
    parts = [Markup('<div class="head">{} &middot; {} ({})</div>').format(
                 topic_title, q.difficulty, DIFFICULTY_LETTERS[q.difficulty]),
             Markup('<p class="question">{}</p>').format(inline_code(q.question))]
    if sample is not None:
        parts.append(code_html(sample.code))
    return Markup("\n").join(parts)


def back_html(q: Question, page: int | None, verified: list[str]) -> Markup:
    parts = [Markup("<p>{}</p>").format(inline_code(q.summary))]
    if q.key_points:
        parts.append(Markup("<h4>Key points</h4><ul>{}</ul>").format(
            Markup("").join(Markup("<li>{}</li>").format(inline_code(p)) for p in q.key_points)))
    outputs = card_outputs(q)
    if outputs:
        on = f" (verified on {', '.join(verified)})" if verified else ""
        parts.append(Markup("<h4>It prints{}</h4>").format(on))
        for o in outputs:
            if o.versions:
                parts.append(Markup("<div>Python {}:</div>").format(o.versions))
            parts.append(output_html(o.text))
    if q.pitfalls:
        parts.append(Markup("<h4>Pitfalls</h4><ul>{}</ul>").format(
            Markup("").join(Markup("<li>{}</li>").format(inline_code(p)) for p in q.pitfalls)))
    where = f"Handbook, page {page}" if page else f"Handbook, question {q.number}"
    parts.append(Markup('<p class="where" style="color: #555">{}</p>').format(where))
    return Markup("\n").join(parts)


def write_package(package, target: Path) -> None:
    """The .apkg as genanki's Package.write_to_file makes it (a zip of the SQLite collection
    and an empty media list), with the build's time in the notes and the zip's entries, so
    that two builds with SOURCE_DATE_EPOCH set give the same bytes."""
    import itertools
    import sqlite3
    import tempfile
    import zipfile

    when = build_time()
    with tempfile.TemporaryDirectory(prefix="kit-anki-") as folder:
        db_path = Path(folder) / "collection.anki2"
        db = sqlite3.connect(db_path)
        try:
            stamp = when.replace(tzinfo=timezone.utc).timestamp()
            package.write_to_db(db.cursor(), stamp, itertools.count(int(stamp * 1000)))
            db.commit()
        finally:
            db.close()
        stamp_zip = (max(when.year, 1980),) + when.timetuple()[1:6]
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in (("collection.anki2", db_path.read_bytes()), ("media", b"{}")):
                info = zipfile.ZipInfo(name, date_time=stamp_zip)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                z.writestr(info, data)


class AnkiRenderer(Renderer):
    name = "anki"
    reads = ("handbook",)    # its page numbers

    def __init__(self, paper: str = "a4") -> None:
        # The paper names the handbook whose page numbers the backs give.
        super().__init__(paper=paper)
        self.paper = paper

    def targets(self, ctx: BuildContext) -> list[Path]:
        return [ctx.out_dir / FILE_NAME]

    def content_key(self, ctx: BuildContext) -> str:
        # The notes show the question, summary, key points, pitfalls and card samples, and the
        # handbook's page of each question.
        notes = [(q.number, q.question, q.difficulty, q.topic, q.summary, q.key_points,
                  q.pitfalls, [(s.code, s.output, s.raises, s.python, s.card) for s in q.samples])
                 for q in ctx.kit.questions]
        pages = handbook_pages(ctx.out_dir, self.paper)
        return repr(([(t.slug, t.title, t.position) for t in ctx.kit.topics], notes,
                     sorted(pages.items())))

    def notes(self, ctx: BuildContext) -> list:
        """genanki decks: the parent, and one per topic with its notes."""
        import genanki

        model = genanki.Model(MODEL_ID, "Python Interview (studykit)", fields=[
            {"name": f} for f in FIELDS], templates=[
            {"name": "Question", "qfmt": FRONT, "afmt": BACK}], css=CSS)
        pages = handbook_pages(ctx.out_dir, self.paper)
        decks = [genanki.Deck(deck_id(None), PARENT,
                              description="Python interview questions, verified answers")]
        for t in ctx.kit.topics:
            if not t.questions:
                continue
            deck = genanki.Deck(deck_id(t.slug), f"{PARENT}::{t.position:02d} {t.title}")
            for q in t.questions:
                sample = card_sample(q)
                verified = [i.label for i in ctx.verified_on(q, sample)] if sample else []
                fields = [q.card_id, str(front_html(q, t.title)),
                          str(back_html(q, pages.get(q.number), verified))]
                deck.add_note(genanki.Note(
                    model=model, fields=fields, guid=note_guid(q.number), sort_field=q.number,
                    tags=[f"topic::{t.slug}", f"difficulty::{q.difficulty}"]))
            decks.append(deck)
        return decks

    def write(self, ctx: BuildContext) -> RenderResult:
        import genanki

        if not ctx.kit.questions:
            raise RenderError("anki: no answered questions match the selection")
        decks = self.notes(ctx)
        [target] = self.targets(ctx)
        try:
            with atomic_path(target) as tmp:
                write_package(genanki.Package(decks), tmp)
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
        notes = sum(len(d.notes) for d in decks)
        pages = handbook_pages(ctx.out_dir, self.paper)
        where = ("handbook pages from " + ("handbook.pdf" if self.paper == "a4"
                                           else f"handbook-{self.paper}.pdf")
                 if pages else "no handbook built yet: backs give the question number")
        return RenderResult(self.name, [target], [
            f"{notes} notes in {len(decks) - 1} topic decks under {PARENT!r} ({where})"],
            laid_out=[FILE_NAME], counts={"notes": notes, "decks": len(decks) - 1})
