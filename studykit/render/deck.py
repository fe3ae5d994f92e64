"""A topic's deck: which slides it has, in what order, and what each one says (see slide_writer).

Every deck is built on templates/slides/theme.pptx (its layouts, placeholders, colours and fonts),
so restyling one file restyles every deck; the renderer is in slides.py. Code is split over
slides at a blank line or a statement boundary (code_split) when it cannot fit one.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE

from ..errors import KitError, RenderError
from ..model import DIFFICULTIES, DIFFICULTY_LETTERS, Question, Sample, Topic
from . import pptx_xml
from .base import BuildContext, internals_failed
from .code_runs import Line, highlighted_lines, line_width
from .code_split import split_code
from .figure_views import figure_slide
from .deck_style import (BADGE, BODY_MIN, BODY_SIZES, CODE_FONT, CODE_MIN, CODE_ONE_SLIDE_FLOOR,
                         CODE_SIZES, CODE_SPLIT_SIZE, CUE, DECK_TITLE_SIZES, LIST_SIZES, MUTED,
                         QUESTION_SIZES, TITLE_SIZES)
from .pptx_text import EMU_PER_PT, Box, Para, Run, line_pitch
from .slide_text import bullet, inline_runs, markdown_text
from .slide_writer import Rect, SlideWriter, fit_pages


def build_deck(ctx: BuildContext, topic: Topic, template: Path) -> Deck:
    """The topic's deck, built through python-pptx's internals where they may be used; where
    not, or when they raise, through its public API (and `.element`), with `slower` saying
    why. A fast path that failed part-way leaves a deck in no known state: it is built anew."""
    slower = pptx_xml.unusable()
    if not slower:
        try:
            deck = Deck(ctx, topic, template, fast=True)
            deck.build()
            return deck
        except KitError:
            raise
        except Exception as exc:   # noqa: BLE001 - the public path makes the same deck
            slower = internals_failed("python-pptx", exc)
    deck = Deck(ctx, topic, template, fast=False)
    deck.slower = slower
    deck.build()
    return deck


class Deck(SlideWriter):
    def __init__(self, ctx: BuildContext, topic: Topic, template: Path, fast: bool = False):
        super().__init__(template, fast, name=topic.dirname, footer_text=topic.title)
        self.ctx = ctx
        self.topic = topic

    # ------------------------------------------------------------ the deck

    def build(self) -> None:
        self.title_slide()
        self.list_slides("Agenda", [self.agenda_line(q) for q in self.topic.questions],
                         notes=self.agenda_notes())
        for q in self.topic.questions:
            self.question_slide(q)
            self.answer_slides(q)
            for fig in q.figures:
                figure_slide(self, q, fig)
            for sample in q.samples:
                if sample.slide:
                    self.code_slides(q, sample)
        self.list_slides("Recap", [[Run(f"{q.card_id}  ", 0, bold=True),
                                    *inline_runs(q.key_points[0] if q.key_points
                                                 else q.summary, 0)]
                                   for q in self.topic.questions],
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

    def agenda_line(self, q: Question) -> list[Run]:
        return [Run(f"{q.card_id}  ", 0, bold=True), *inline_runs(q.question, 0),
                Run(f"  {DIFFICULTY_LETTERS[q.difficulty]}", 0, bold=True,
                    color=BADGE[q.difficulty])]

    def agenda_notes(self) -> list[str]:
        return ["The plan: for each question, ask it, give the room a minute, then reveal the "
                "answer and walk through the code.",
                "Difficulty letters: E easy, M medium, H hard, X expert."]

    def recap_notes(self) -> list[str]:
        return [f"{q.card_id}: {q.summary}" for q in self.topic.questions]

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
        entry = next((b for b in self.ctx.kit.bank if b.number == number), None)
        return f"Q{number} {entry.question}" if entry else None

    def answer_slides(self, q: Question) -> None:
        def paras(size: float, summary: bool = True) -> list[Para]:
            small = size - 2
            out = [Para(inline_runs(q.summary, size), line_pitch(size), space_after=10)] \
                if summary else []
            out += [bullet(inline_runs(p, small), small) for p in q.key_points]
            return out

        notes = [f"{q.card_id}: {q.question}", "", "Full answer:", markdown_text(q.answer)]
        if q.pitfalls:
            notes += ["", "Pitfalls:"] + [f"  • {p}" for p in q.pitfalls]
        if q.follow_ups:
            notes += ["", "Follow-ups:"]
            for f in q.follow_ups:
                notes += [f"  • {f.question}", f"    {f.answer}"]
        self.paged_slides("Bullets", f"{q.card_id} · Answer", paras, BODY_SIZES, notes,
                          what=f"{q.card_id} answer")

    def list_slides(self, title: str, items: list[list[Run]], notes: list[str]) -> None:
        def paras(size: float) -> list[Para]:
            return [bullet([replace(r, size=size) for r in runs], size) for runs in items]

        self.paged_slides("Bullets", title, paras, LIST_SIZES, notes, what=title)

    def discussion_slides(self) -> None:
        items, notes = [], ["Open questions for the room; the answers, if the room is stuck:"]
        for q in self.topic.questions:
            if q.follow_ups:
                f = q.follow_ups[0]
                items.append([Run(f"{q.card_id}  ", 0, bold=True), *inline_runs(f.question, 0)])
                notes.append(f"{q.card_id}: {f.question}\n    {f.answer}")
        if not items:
            items = [[Run("Which answer today surprised you, and why?", 0)],
                     [Run("Where have you met these questions in real code?", 0)]]
        self.list_slides("Discussion", items, notes)

    # ------------------------------------------------------------ code

    def code_slides(self, q: Question, sample: Sample) -> None:
        layout = self.layouts_get("Code")
        code_ph, out_ph = self.layout_rect(layout, 1), self.layout_rect(layout, 2)
        region = Rect(code_ph.x, code_ph.y, code_ph.w, out_ph.y + out_ph.h - code_ph.y)
        gap = out_ph.y - (code_ph.y + code_ph.h)
        inset_x, inset_y = 0.15 * 72, 0.1 * 72
        where = (f"{_rel(q.path)}:{sample.line}: samples[{sample.index}] {sample.title!r}"
                 if q.path else f"{q.card_id} samples[{sample.index}] {sample.title!r}")

        lines = highlighted_lines(sample.code)
        avail = region.w_pt - 2 * inset_x
        widest = max(range(len(lines)), key=lambda i: line_width(lines[i], 1))
        size_max = next((s for s in CODE_SIZES if line_width(lines[widest], s) <= avail), None)
        if size_max is None:
            text = "".join(t for t, _ in lines[widest])
            raise RenderError(f"{where}: line {widest + 1} ({len(text)} characters) is too "
                              f"wide for a slide even at {CODE_MIN} pt")

        def out_box(size: float, w: int) -> Box:
            return Box(self.output_paras(q, sample, size), w / EMU_PER_PT, 0,
                       inset_x=inset_x, inset_y=inset_y, font=self.text_font)

        def code_height(n: int, size: float) -> float:
            return n * line_pitch(size, CODE_FONT) + 2 * inset_y

        # Pages of (code lines, output paragraphs): the output goes under the last code.
        pages: list[tuple[list[Line], list[Para] | None]] = []
        gap_pt = gap / EMU_PER_PT
        size = None
        for s in range(size_max, min(CODE_ONE_SLIDE_FLOOR, size_max) - 1, -1):
            need = code_height(len(lines), s) + gap_pt + out_box(s, region.w).extent().height
            if need <= region.h_pt:
                size = s
                pages = [(lines, self.output_paras(q, sample, s))]
                break
        if size is None:
            size = min(size_max, CODE_SPLIT_SIZE)
            pitch = line_pitch(size, CODE_FONT)
            capacity = int((region.h_pt - 2 * inset_y) // pitch)
            out_h = out_box(size, region.w).extent().height
            last_capacity = int((region.h_pt - out_h - gap_pt - 2 * inset_y) // pitch)
            chunks = split_code(sample.code, lines, capacity, last_capacity)
            pages = [(c, None) for c in chunks]
            out = self.output_paras(q, sample, size)
            if len(chunks[-1]) <= last_capacity:
                pages[-1] = (chunks[-1], out)
            else:
                # The output is taller than the room under the code: it starts there if a few
                # lines fit, and continues on slides of its own.
                room = region.h_pt - code_height(len(chunks[-1]), size) - gap_pt
                head = out[:1]
                rest = out[1:]
                while rest and Box(head + rest[:1], region.w_pt, room, inset_x=inset_x,
                                   inset_y=inset_y, font=self.text_font).fits():
                    head.append(rest.pop(0))
                if len(head) >= 4:
                    pages[-1] = (chunks[-1], head)
                else:
                    rest = out[1:]
                label = replace(out[0], runs=[replace(out[0].runs[0],
                                                      text="Output, continued")]) \
                    if len(head) >= 4 else out[0]
                for part in fit_pages(rest, Rect(0, 0, region.w, region.h), where,
                                      self.text_font, first=[label], inset=(inset_x, inset_y)):
                    pages.append(([], part))
            self.messages.append(f"{q.card_id} sample {sample.title!r}: split over "
                                 f"{len(pages)} slides at {size} pt")

        total = len(pages)
        verified = ", ".join(i.label for i in self.ctx.verified_on(q, sample))
        for k, (chunk, out_paras) in enumerate(pages, 1):
            slide = self.new_slide("Code")
            part = f" ({k}/{total})" if total > 1 else ""
            self.fit_single(self.placeholder(slide, 0, "Title"),
                            lambda s: [Para([Run(f"{q.card_id}  ", s, bold=True),
                                             Run(sample.title + part, s)], line_pitch(s))],
                            TITLE_SIZES, what=f"{where} title")
            code_sp = self.placeholder(slide, 1, "Code")
            out_sp = self.placeholder(slide, 2, "Output")
            with_output = out_paras is not None
            if with_output:
                ob = Box(out_paras, region.w_pt, 0, inset_x=inset_x, inset_y=inset_y,
                         font=self.text_font)
                out_h_emu = math.ceil(ob.extent().height * EMU_PER_PT) + 1 if chunk \
                    else region.h
                out_rect = Rect(region.x, region.y + region.h - out_h_emu, region.w, out_h_emu)
            if chunk:
                code_h = (out_rect.y - gap - region.y) if with_output else region.h
                self.set_rect(code_sp, Rect(region.x, region.y, region.w, code_h))
                self.fill(code_sp, [Para([Run(text, size, CODE_FONT, b, i, color)
                                          for text, (color, b, i) in ln] or
                                         [Run("", size, CODE_FONT)],
                                         line_pitch(size, CODE_FONT)) for ln in chunk],
                          inset_x, inset_y, wrap=False, what=f"{where} code")
            else:
                code_sp.element.getparent().remove(code_sp.element)
            if with_output:
                self.set_rect(out_sp, out_rect)
                self.fill(out_sp, out_paras, inset_x, inset_y, what=f"{where} output")
            else:
                out_sp.element.getparent().remove(out_sp.element)
            notes = [f"{q.card_id} · {sample.title}" + (f", part {k} of {total}" if part else "")]
            notes.append(f"Verified on {verified}." if verified else
                         "Not checked in this build.")
            if sample.python:
                notes.append(f"Needs Python {sample.python}.")
            if sample.raises:
                notes.append(f"Ends by raising {sample.raises}.")
            notes += ["", "Walk through the code line by line; ask what it prints before "
                      "revealing the output.", "", "Expected output:", sample.output.rstrip("\n")
                      or "(nothing)"]
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
        out_size = size
        for text in sample.output.rstrip("\n").split("\n") if sample.output else []:
            paras.append(Para([Run(text.expandtabs(4), out_size, CODE_FONT)],
                              line_pitch(out_size, CODE_FONT)))
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
