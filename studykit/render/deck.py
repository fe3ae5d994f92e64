"""A topic's deck: which slides it has, in what order, and what each one says (see slide_writer).

Every deck is built on templates/slides/theme.pptx (its layouts, placeholders, colours and fonts),
so restyling one file restyles every deck; the renderer is in slides.py. Each sample gets one
slide, its code at one size for the whole deck and its output shown on a click.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE

from ..errors import KitError, RenderError
from ..model import DIFFICULTIES, DIFFICULTY_LETTERS, Question, Sample, Topic
from . import pptx_xml
from .base import BuildContext, internals_failed
from .code_runs import Line, line_width, shown_lines
from .figure_views import figure_slide
from .deck_style import (ANSWER_BULLETS, ANSWER_SIZES, BADGE, BODY_MIN, BODY_SIZES, CODE_FONT, CODE_INSET_X, CODE_INSET_Y,
                         CODE_MIN, CODE_SIZES, CODE_TITLE_SIZES, CUE, DECK_TITLE_SIZES,
                         DISCUSSION_PROMPTS,
                         LIST_SIZES, MUTED, QUESTION_SIZES, TITLE_SIZES)
from .pptx_text import DEFAULT_INSET_Y, EMU_PER_PT, Box, Para, Run, line_pitch
from .slide_text import bullet, inline_runs, markdown_text, summary_sentences
from .slide_writer import Rect, SlideWriter
from .slide_xml import reveal_on_click

INSET_X, INSET_Y = CODE_INSET_X, CODE_INSET_Y


@dataclass(frozen=True)
class CodeLayout:
    """A code slide at one size: the lines shown, the output's paragraphs, where each goes."""

    size: float
    lines: list[Line]
    output: list[Para]
    code: Rect
    out: Rect



def build_deck(ctx: BuildContext, topic: Topic, template: Path) -> Deck:
    """The topic's deck (see build_with)."""
    return build_with(lambda fast: Deck(ctx, topic, template, fast=fast))


def build_with(make) -> Deck:
    """The deck `make(fast)` gives, built through python-pptx's internals where they may be
    used; where not, or when they raise, through its public API (and `.element`), with
    `slower` saying why. A fast path that failed part-way leaves a deck in no known state: it
    is built anew."""
    slower = pptx_xml.unusable()
    if not slower:
        try:
            deck = make(True)
            deck.build()
            return deck
        except KitError:
            raise
        except Exception as exc:   # noqa: BLE001 - the public path makes the same deck
            slower = internals_failed("python-pptx", exc)
    deck = make(False)
    deck.slower = slower
    deck.build()
    return deck


class Deck(SlideWriter):
    def __init__(self, ctx: BuildContext, topic: Topic, template: Path, fast: bool = False):
        super().__init__(template, fast, name=topic.dirname, footer_text=topic.title)
        self.ctx = ctx
        self.topic = topic
        self.questions = topic.questions
        self.code_pt = 0
        self._code_region: tuple[Rect, Rect, float] | None = None

    # ------------------------------------------------------------ the deck

    def build(self) -> None:
        questions = self.questions
        self.code_pt = self.code_size(questions)
        self.title_slide()
        self.agenda_slides()
        for q in questions:
            self.question_slide(q)
            self.answer_slides(q)
            for fig in q.figures:
                figure_slide(self, q, fig)
            for sample in q.samples:
                if sample.slide:
                    self.code_slide(q, sample, self.code_pt)
        self.list_slides("Recap", [[Run(f"{q.card_id}  ", 0, bold=True),
                                    *inline_runs(q.key_points[0] if q.key_points
                                                 else q.summary, 0)]
                                   for q in questions],
                         notes=self.recap_notes())
        self.discussion_slides()

    def title_slide(self) -> None:
        slide = self.new_slide("Deck Title")
        t = self.topic
        title = self.placeholder(slide, 0, "Title")
        self.fit_single(title, lambda s: [Para([Run(t.title, s, bold=True)], line_pitch(s))],
                        DECK_TITLE_SIZES, what=f"{t.title!r} deck title")
        counts = {d: sum(q.difficulty == d for q in t.questions) for d in DIFFICULTIES}
        n = len(t.questions)
        mix = " · ".join(f"{c} {d}" for d, c in counts.items() if c)
        numbers = [q.number for q in t.questions]
        lines = [f"{n} question{'s' if n != 1 else ''}: {mix}",
                 f"Questions {numbers[0]}–{numbers[-1]} · {self.ctx.build_date:%d %B %Y}"
                 if n > 1 else f"Question {numbers[0]} · {self.ctx.build_date:%d %B %Y}"]
        sub = self.placeholder(slide, 1, "Subtitle")
        self.fit_single(sub, lambda s: [Para([Run(x, s, color=MUTED)], line_pitch(s),
                                             space_after=6) for x in lines],
                        BODY_SIZES, what="deck subtitle")
        self.notes(slide, [f"Topic {t.position}: {t.title}.", markdown_text(t.intro),
                           f"{n} questions in this deck: {mix}."])

    def agenda_slides(self) -> None:
        self.list_slides("Agenda", [self.agenda_line(q) for q in self.questions],
                         notes=self.agenda_notes())

    def agenda_line(self, q: Question) -> list[Run]:
        return [Run(f"{q.card_id}  ", 0, bold=True), *inline_runs(q.question, 0),
                Run(f"  {DIFFICULTY_LETTERS[q.difficulty]}", 0, bold=True,
                    color=BADGE[q.difficulty])]

    def agenda_notes(self) -> list[str]:
        return ["The plan: for each question, ask it, give the room a minute, then reveal the "
                "answer and walk through the code.",
                "Difficulty letters: E easy, M medium, H hard, X expert."]

    def recap_notes(self) -> list[str]:
        return [f"{q.card_id}: {q.summary}" for q in self.questions]

    def question_slide(self, q: Question) -> None:
        slide = self.new_slide("Question")
        title = self.placeholder(slide, 0, "Title")
        badge_w, badge_h = int(2.3 * 914400), int(0.62 * 914400)
        t = self.rect(title)
        gap = int(0.2 * 914400)
        self.set_rect(title, Rect(t.x, t.y, t.w - badge_w - gap, t.h))
        self.fit_single(title, lambda s: [Para([Run(q.card_id, s, bold=True)], line_pitch(s))],
                        TITLE_SIZES, what=f"{q.card_id} title")
        self.badge(slide, q.difficulty, Rect(t.x + t.w - badge_w, t.y + (t.h - badge_h) // 2,
                                             badge_w, badge_h))
        body = self.placeholder(slide, 1, "Question")
        self.fit_single(body, lambda s: [Para(inline_runs(q.question, s), line_pitch(s))],
                        QUESTION_SIZES, what=f"{q.card_id} question")
        cue = self.placeholder(slide, 2, "Cue")
        self.fit_single(cue, lambda s: [Para([Run("Think about it: what would you answer? "
                                                  "Take a minute before the reveal.", s,
                                                  italic=True, color=CUE)], line_pitch(s))],
                        BODY_SIZES, what="cue")
        hints = [s.title for s in q.samples if s.slide] or [s.title for s in q.samples]
        related = [self.question_text(n) for n in q.see_also]
        notes = [f"{q.card_id} ({q.difficulty}): {q.question}", ""]
        notes.append("Hints if the room is stuck:")
        notes += [f"  • the code will show: {h}" for h in hints]
        notes += [f"  • related: {r}" for r in related if r]
        if not hints and not related:
            notes.append(f"  • start from: {q.key_points[0]}")
        notes += ["", "A strong answer must cover:"]
        notes += [f"  • {p}" for p in q.key_points]
        self.notes(slide, notes)

    def question_text(self, number: int) -> str | None:
        other = self.ctx.kit.question(number)
        if other:
            return f"Q{number} {other.question}"
        entry = self.ctx.kit.bank_entry(number)
        return f"Q{number} {entry.question}" if entry else None

    def answer_slides(self, q: Question) -> None:
        """One slide a room can read from the back: the question as its subtitle and at most
        four of the key points. The notes open with what to say; the full answer follows."""
        shown = q.key_points[:ANSWER_BULLETS]

        def paras(size: float) -> list[Para]:
            sub = max(BODY_MIN, size - 4)
            question = [replace(r, italic=True, color=MUTED) for r in inline_runs(q.question, sub)]
            return [Para(question, line_pitch(sub), space_after=size * 0.6)] + \
                [bullet(inline_runs(p, size), size) for p in shown]

        talking = summary_sentences(q.summary) + list(q.key_points[ANSWER_BULLETS:]) + \
            list(q.pitfalls[:1])
        notes = [f"{q.card_id}: {q.question}", "", "Talking points:"]
        notes += [f"  • {p}" for p in talking[:6]]
        notes += ["", "A strong answer covers:"] + [f"  • {p}" for p in q.key_points]
        notes += ["", "Full answer, for reference:", markdown_text(q.answer)]
        if q.pitfalls:
            notes += ["", "Pitfalls:"] + [f"  • {p}" for p in q.pitfalls]
        if q.follow_ups:
            notes += ["", "Follow-ups:"]
            for f in q.follow_ups:
                notes += [f"  • {f.question}", f"    {f.answer}"]
        self.paged_slides("Bullets", f"{q.card_id} · Answer", paras, ANSWER_SIZES, notes,
                          what=f"{q.card_id} answer", one=True)

    def list_slides(self, title: str, items: list[list[Run]], notes: list[str],
                    sizes=LIST_SIZES) -> None:
        def paras(size: float) -> list[Para]:
            return [bullet([replace(r, size=size) for r in runs], size) for runs in items]

        self.paged_slides("Bullets", title, paras, sizes, notes, what=title)

    def discussion_slides(self) -> None:
        """Two or three prompts: the first follow-up of the hardest questions, in deck order.
        The notes give their answers, and the other follow-ups in reserve."""
        questions = list(self.questions)
        asked = [q for q in questions if q.follow_ups]
        picked = sorted(asked, key=lambda q: -q.difficulty_rank)[:DISCUSSION_PROMPTS]
        picked = [q for q in asked if q in picked]
        items = [[Run(f"{q.card_id}  ", 0, bold=True), *inline_runs(q.follow_ups[0].question, 0)]
                 for q in picked]
        notes = ["Open questions for the room; the answers, if the room is stuck:"]
        notes += [f"{q.card_id}: {q.follow_ups[0].question}\n    {q.follow_ups[0].answer}"
                  for q in picked]
        reserve = [(q, f) for q in asked for f in q.follow_ups if f is not q.follow_ups[0]
                   or q not in picked]
        if reserve:
            notes += ["", "In reserve, if time allows:"]
            notes += [f"{q.card_id}: {f.question}\n    {f.answer}" for q, f in reserve]
        if len(items) < 2:
            items += [[Run("Which answer today surprised you, and why?", 0)],
                      [Run("Where have you met these questions in real code?", 0)]][:2 - len(items)]
        self.list_slides("Discussion", items, notes, sizes=ANSWER_SIZES)

    # ------------------------------------------------------------ code

    def code_region(self) -> tuple[Rect, Rect, float]:
        """(title, code and output, gap in points) of a code slide: the title kept to one
        line, so the code and its output share the rest of the layout's two panels."""
        if self._code_region:
            return self._code_region
        layout = self.layouts_get("Code")
        title = self.layout_rect(layout, 0)
        code_ph, out_ph = self.layout_rect(layout, 1), self.layout_rect(layout, 2)
        one_line = math.ceil((line_pitch(CODE_TITLE_SIZES[0], self.title_font)
                              + 2 * DEFAULT_INSET_Y / EMU_PER_PT) * EMU_PER_PT)
        title = Rect(title.x, title.y, title.w, one_line)
        gap = out_ph.y - (code_ph.y + code_ph.h)
        top = title.y + title.h + gap
        self._code_region = (title, Rect(code_ph.x, top, code_ph.w, out_ph.y + out_ph.h - top),
                             gap / EMU_PER_PT)
        return self._code_region

    def where(self, q: Question, sample: Sample) -> str:
        return (f"{_rel(q.path)}:{sample.line}: samples[{sample.index}] {sample.title!r}"
                if q.path else f"{q.card_id} samples[{sample.index}] {sample.title!r}")

    def code_layout(self, q: Question, sample: Sample, size: float) -> CodeLayout | None:
        """Where the sample's code and output go at `size`, all on one slide, or None if they
        do not fit: the output under the code when there is room, else beside it in a panel
        as narrow as its longest line."""
        _, region, gap = self.code_region()
        lines = shown_lines(sample)
        # A character's width to spare: Impress wraps a line that fills its box exactly, even
        # in a box that says not to wrap.
        spare = line_width([(" ", ("", False, False))], size)
        code_w = max(line_width(ln, size) for ln in lines) + 2 * INSET_X + spare
        code_h = len(lines) * line_pitch(size, CODE_FONT) + 2 * INSET_Y
        if code_w > region.w_pt or code_h > region.h_pt:
            return None
        out = self.output_paras(q, sample, size)
        # The output's widest line unwrapped: a layout where no output line wraps is preferred,
        # since a wrapped line reads as two lines of output.
        out_w = Box(out[1:], 0, 0, inset_x=INSET_X, inset_y=INSET_Y, wrap=False,
                    font=self.text_font).extent().width if len(out) > 1 else 0
        gap_emu = round(gap * EMU_PER_PT)
        code_emu = math.ceil(code_w * EMU_PER_PT) + 1
        side_emu = region.w - code_emu - gap_emu

        def stacked() -> CodeLayout | None:
            out_h = Box(out, region.w_pt, 0, inset_x=INSET_X, inset_y=INSET_Y,
                        font=self.text_font).extent().height
            if code_h + gap + out_h > region.h_pt:
                return None
            out_emu = math.ceil(out_h * EMU_PER_PT) + 1
            return CodeLayout(size, lines, out,
                              Rect(region.x, region.y, region.w, region.h - out_emu - gap_emu),
                              Rect(region.x, region.y + region.h - out_emu, region.w, out_emu))

        def beside() -> CodeLayout | None:
            if side_emu <= 0 or not Box(out, side_emu / EMU_PER_PT, region.h_pt,
                                        inset_x=INSET_X, inset_y=INSET_Y,
                                        font=self.text_font).fits():
                return None
            return CodeLayout(size, lines, out, Rect(region.x, region.y, code_emu, region.h),
                              Rect(region.x + region.w - side_emu, region.y, side_emu, region.h))

        out_w += spare
        if out_w <= region.w_pt and (found := stacked()):
            return found
        if out_w <= side_emu / EMU_PER_PT and (found := beside()):
            return found
        return stacked() or beside()

    def largest_code_size(self, q: Question, sample: Sample) -> int | None:
        return next((s for s in CODE_SIZES if self.code_layout(q, sample, s)), None)

    def code_size(self, questions) -> int:
        """One code size for the whole deck: the largest at which every sample fits its slide.
        A sample that fits none even at the minimum fails the build, with every such sample
        named."""
        sizes, problems = [], []
        for q in questions:
            for sample in q.samples:
                if not sample.slide:
                    continue
                size = self.largest_code_size(q, sample)
                if size is not None:
                    sizes.append(size)
                    continue
                lines = shown_lines(sample)
                widest = max(range(len(lines)), key=lambda i: line_width(lines[i], 1))
                text = "".join(t for t, _ in lines[widest])
                region = self.code_region()[1]
                if line_width(lines[widest], CODE_MIN) + 2 * INSET_X > region.w_pt:
                    problems.append(f"{self.where(q, sample)}: line {widest + 1} "
                                    f"({len(text)} characters) is too wide for a slide even at "
                                    f"{CODE_MIN} pt")
                else:
                    problems.append(
                        f"{self.where(q, sample)}: {len(lines)} lines of code and "
                        f"{len(sample.output.splitlines())} of output need two slides even at "
                        f"{CODE_MIN} pt; say which lines the slide shows with slide_lines")
        if problems:
            raise RenderError("\n".join(problems))
        return min(sizes, default=CODE_SIZES[0])

    def code_slide(self, q: Question, sample: Sample, size: int) -> None:
        """The whole sample on one slide; its output appears on the next click."""
        where = self.where(q, sample)
        lay = self.code_layout(q, sample, size)
        slide = self.new_slide("Code")
        title = self.placeholder(slide, 0, "Title")
        self.set_rect(title, self.code_region()[0])
        self.fit_single(title, lambda s: [Para([Run(f"{q.card_id}  ", s, bold=True),
                                                Run(sample.title, s)], line_pitch(s))],
                        CODE_TITLE_SIZES, what=f"{where} title")
        code_sp = self.placeholder(slide, 1, "Code")
        out_sp = self.placeholder(slide, 2, "Output")
        self.set_rect(code_sp, lay.code)
        self.fill(code_sp, [Para([Run(text, size, CODE_FONT, b, i, color)
                                  for text, (color, b, i) in ln] or [Run("", size, CODE_FONT)],
                                 line_pitch(size, CODE_FONT)) for ln in lay.lines],
                  INSET_X, INSET_Y, wrap=False, what=f"{where} code")
        self.set_rect(out_sp, lay.out)
        self.fill(out_sp, lay.output, INSET_X, INSET_Y, what=f"{where} output")
        reveal_on_click(slide.element, out_sp.element)
        verified = ", ".join(i.label for i in self.ctx.verified_on(q, sample))
        notes = [f"{q.card_id} · {sample.title}"]
        notes.append(f"Verified on {verified}." if verified else "Not checked in this build.")
        if sample.python:
            notes.append(f"Needs Python {sample.python}.")
        if sample.raises:
            notes.append(f"Ends by raising {sample.raises}.")
        if sample.slide_lines:
            code = sample.code.rstrip("\n").expandtabs(4).split("\n")
            shown = {n for first, last in sample.slide_lines for n in range(first, last + 1)}
            notes += ["", "Left out on the slide (marked …), read them out if needed:"]
            notes += [f"  {n:>3}  {code[n - 1]}" for n in range(1, len(code) + 1)
                      if n not in shown]
        ask = "ask what it prints" + (" and how it ends" if sample.raises else "")
        notes += ["", f"Walk through the code line by line; {ask}, then click to show the "
                  "output.", "", "Expected output:", sample.output.rstrip("\n") or "(nothing)"]
        self.notes(slide, notes)

    def output_paras(self, q: Question, sample: Sample, size: float) -> list[Para]:
        label = "Output"
        if sample.raises:
            label += f", then it raises {sample.raises}" if sample.output else \
                f": nothing, it raises {sample.raises}"
        elif not sample.output:
            label += ": nothing"
        label_size = max(BODY_MIN, size)
        # Named outright: the output panel's own default font in the theme is the code font.
        paras = [Para([Run(label, label_size, self.text_font, bold=True, color=MUTED)],
                      line_pitch(label_size), space_after=2)]
        for text in sample.output.rstrip("\n").split("\n") if sample.output else []:
            paras.append(Para([Run(text.expandtabs(4), size, CODE_FONT)],
                              line_pitch(size, CODE_FONT)))
        return paras

    def badge(self, slide, difficulty: str, r: Rect) -> None:
        shape = slide.shapes.add_shape(MSO_SHAPE.ROUNDED_RECTANGLE, r.x, r.y, r.w, r.h)
        shape.name = "Difficulty"
        shape.fill.solid()
        shape.fill.fore_color.rgb = RGBColor.from_string(BADGE[difficulty])
        shape.line.fill.background()
        shape.shadow.inherit = False
        text = f"{DIFFICULTY_LETTERS[difficulty]} · {difficulty.upper()}"
        self.fill(shape, [Para([Run(text, 22, bold=True, color="FFFFFF")], line_pitch(22),
                               align="ctr")], what="badge", anchor="ctr")




def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
