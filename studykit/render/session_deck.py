"""A session's deck: the plan's questions, from any topic, with an agenda that keeps time."""

from __future__ import annotations

from pathlib import Path

from ..model import DIFFICULTY_LETTERS
from ..sessions import Session
from .base import BuildContext
from .deck import Deck
from .deck_style import BADGE, BODY_SIZES, DECK_TITLE_SIZES, MUTED
from .pptx_text import Para, Run, line_pitch
from .slide_text import inline_runs
from .slide_writer import SlideWriter


class SessionDeck(Deck):
    """Title, agenda with the time plan, then question, answer and code slides for each
    question in the plan's order, a recap and a discussion: a topic deck's slides and notes."""

    def __init__(self, ctx: BuildContext, session: Session, template: Path, fast: bool = False):
        SlideWriter.__init__(self, template, fast, name=session.name, footer_text=session.title)
        self.ctx = ctx
        self.topic = None
        self.session = session
        self.questions = tuple(ctx.kit.question(n) for n in session.numbers)
        self.code_pt = 0
        self._code_region = None

    def starts(self) -> list[int] | None:
        """Minutes from the start at which each question begins, if the plan gives minutes."""
        if not self.session.minutes:
            return None
        out, t = [], 0
        for m in self.session.minutes:
            out.append(t)
            t += m
        return out

    def title_slide(self) -> None:
        s = self.session
        slide = self.new_slide("Deck Title")
        self.fit_single(self.placeholder(slide, 0, "Title"),
                        lambda z: [Para([Run(s.title, z, bold=True)], line_pitch(z))],
                        DECK_TITLE_SIZES, what=f"{s.name} title")
        n = len(self.questions)
        topics = []
        for q in self.questions:
            title = self.ctx.kit.topic_of(q).title
            if title not in topics:
                topics.append(title)
        first = f"{n} question{'s' if n != 1 else ''}"
        if s.minutes:
            first += f" · {sum(s.minutes)} minutes"
        lines = [first, f"{s.date:%A %d %B %Y}"]
        self.fit_single(self.placeholder(slide, 1, "Subtitle"),
                        lambda z: [Para([Run(x, z, color=MUTED)], line_pitch(z), space_after=6)
                                   for x in lines], BODY_SIZES, what=f"{s.name} subtitle")
        self.notes(slide, [f"Session: {s.title}, {s.date:%d %B %Y}.",
                           f"{first}, from: {'; '.join(topics)}.",
                           "Participants have the handout (questions only); the answer key is "
                           "for you."])

    def agenda_slides(self) -> None:
        starts = self.starts()
        items = []
        for i, q in enumerate(self.questions):
            runs = [Run(f"{q.card_id}  ", 0, bold=True), *inline_runs(q.question, 0),
                    Run(f"  {DIFFICULTY_LETTERS[q.difficulty]}", 0, bold=True,
                        color=BADGE[q.difficulty])]
            if starts is not None:
                runs.insert(0, Run(f"{_clock(starts[i])}  ", 0, color=MUTED))
            items.append(runs)
        notes = self.agenda_notes()
        if starts is not None:
            notes += ["", "Time plan (minutes from the start):"]
            notes += [f"  {_clock(t)}  {q.card_id}, {m} min" for t, q, m in
                      zip(starts, self.questions, self.session.minutes)]
            notes.append(f"  {_clock(sum(self.session.minutes))}  recap and discussion")
        self.list_slides("Agenda", items, notes=notes)


def _clock(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"
