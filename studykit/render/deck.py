"""A topic's slide deck, built with python-pptx (the renderer is in slides.py).

Every deck is built on templates/slides/theme.pptx (its layouts, placeholders, colours and fonts),
so restyling one file restyles every deck. Each text box is laid out here with the metrics of the
fonts the deck names (see pptx_text) before anything is saved: text steps down in size to a floor,
then continues on a "(2/2)" slide; code is split at a blank line or a statement boundary. Nothing
is left to autofit, because PowerPoint applies it only when text is edited and Impress on load, so
the two would show different slides.

Fonts: Calibri for text and Courier New for code. Both ship with PowerPoint on Windows and macOS
and are offered by Google Slides; Impress substitutes Carlito and Liberation Mono, which share
their metrics. Consolas would look nicer but is missing on Macs without Office and has no free
metric twin to measure with.
"""

from __future__ import annotations

import ast
import copy
import functools
import math
import re
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from lxml import etree
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pygments.lexers import PythonLexer
from pygments.token import Comment, Keyword, Name, Number, Operator, String, Token

from ..errors import KitError, RenderError
from ..markdown import parse
from ..model import DIFFICULTIES, DIFFICULTY_LETTERS, Question, Sample, Topic
from . import pptx_xml
from .base import BuildContext, internals_failed
from .figure_views import figure_slide
from .pptx_text import (EMU_PER_PT, Box, Para, Run, line_pitch, text_width,
                         theme_fonts)

SLIDE_W, SLIDE_H = 12192000, 6858000
CODE_FONT = "Courier New"
BODY_MIN, CODE_MIN = 18, 14
FOOTER_PT = 14

# Size steps, largest first; the last one is the floor a box is set at before it continues.
TITLE_SIZES = (34, 30, 26, 22)
DECK_TITLE_SIZES = (48, 44, 40, 36, 32)
QUESTION_SIZES = (40, 36, 32, 28, 24)
BODY_SIZES = (24, 22, 20)
LIST_SIZES = (22, 20)
CODE_SIZES = tuple(range(22, CODE_MIN - 1, -1))
# Code is split over slides rather than set below this; a width-bound sample may go lower.
CODE_SPLIT_SIZE = 16
CODE_ONE_SLIDE_FLOOR = CODE_MIN

MUTED = "5B6577"
CUE = "D9480F"
CODE_BG_TEXT = "E8ECF1"
# The same hues as the printed flashcards, so a level means the same colour everywhere.
BADGE = {"easy": "2E7D32", "medium": "1565C0", "hard": "E65100", "expert": "B71C1C"}

# Token colours for the dark code panel: each at least 7:1 against it except comments (about
# 6:1, and italic), saturated enough to tell apart on a washed-out projector.
TOKEN_STYLES = [
    (Comment, ("9DA9BC", False, True)),
    (String.Doc, ("FFD479", False, True)),
    (String, ("FFD479", False, False)),
    (Number, ("F4A8FF", False, False)),
    (Keyword, ("FF9B6A", True, False)),
    (Operator.Word, ("FF9B6A", True, False)),
    (Name.Builtin.Pseudo, ("FF9B6A", False, False)),
    (Name.Builtin, ("7FD8FF", False, False)),
    (Name.Exception, ("FF8A9A", True, False)),
    (Name.Decorator, ("B8F28C", False, False)),
    (Name.Function, ("8CE99A", False, False)),
    (Name.Class, ("8CE99A", True, False)),
    (Token, (CODE_BG_TEXT, False, False)),
]


# Token types are singletons, and a deck colours some 2,000 tokens of a few dozen types; each
# lookup asks Pygments up to a dozen subtype questions.
@functools.lru_cache(maxsize=None)
def token_style(ttype) -> tuple[str, bool, bool]:
    for kind, style in TOKEN_STYLES:
        if ttype in kind:
            return style
    return (CODE_BG_TEXT, False, False)


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    w: int
    h: int

    @property
    def w_pt(self) -> float:
        return self.w / EMU_PER_PT

    @property
    def h_pt(self) -> float:
        return self.h / EMU_PER_PT


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


class Deck:
    def __init__(self, ctx: BuildContext, topic: Topic, template: Path, fast: bool = False):
        self.ctx = ctx
        self.topic = topic
        # Whether python-pptx's internals are used (see pptx_xml), and if not, why not.
        self.fast = fast
        self.slower = ""
        self.prs = Presentation(str(template))
        if (self.prs.slide_width, self.prs.slide_height) != (SLIDE_W, SLIDE_H):
            raise RenderError(f"{template}: the theme must be 16:9 "
                              f"({SLIDE_W} x {SLIDE_H} EMU)")
        self.layouts = {l.name: l for l in self.prs.slide_layouts}
        # Text runs name no font, so they follow the theme: measured here with its fonts.
        self.title_font, self.text_font = theme_fonts(template)
        self.messages: list[str] = []
        self._layout_info: dict[str, dict[int, tuple[int, Rect]]] = {}
        # By slide element: python-pptx finds a slide's id by a search of the whole deck.
        self._placeholders: dict[object, dict[int, object]] = {}
        self._notes_xml = None
        self._blank_trees: dict[str, object] = {}
        if fast:
            pptx_xml.name_parts_quickly(self.prs)

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
                for part in paginate(rest, Rect(0, 0, region.w, region.h), where, self.text_font,
                                     first=[label], inset=(inset_x, inset_y)):
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

    # ------------------------------------------------------------ building blocks

    def layouts_get(self, name: str):
        try:
            return self.layouts[name]
        except KeyError:
            raise RenderError(f"the slide theme has no layout named {name!r}; it has "
                              f"{', '.join(self.layouts)}") from None

    def layout_rect(self, layout, idx: int) -> Rect:
        found = self.layout_info(layout).get(idx)
        if found:
            return found[1]
        raise RenderError(f"layout {layout.name!r} of the slide theme has no placeholder {idx}")

    def layout_info(self, layout) -> dict[int, tuple[int, Rect]]:
        """idx -> (placeholder type, where it sits) for a layout, read once per deck."""
        info = self._layout_info.get(layout.name)
        if info is None:
            info = {ph.placeholder_format.idx: (int(ph.placeholder_format.type),
                                                Rect(ph.left, ph.top, ph.width, ph.height))
                    for ph in layout.placeholders}
            self._layout_info[layout.name] = info
        return info

    def new_slide(self, layout_name: str):
        """A slide on the layout, its placeholders placed and its footer added.

        The first slide of each layout is made through python-pptx; the others are given a copy
        of its shape tree, with their own slide number. Cloning the layout's placeholders and
        placing them one property at a time took a third of a deck's time (on the public path
        they are still cloned, then replaced)."""
        layout = self.layouts_get(layout_name)
        blank = self._blank_trees.get(layout_name)
        if blank is None:
            slide = self.prs.slides.add_slide(layout)
            if layout_name != "Deck Title":
                self.footer(slide, layout)
            info = self.layout_info(layout)
            for shape in slide.shapes:
                if shape.is_placeholder:
                    idx = shape.placeholder_format.idx
                    # Positions written on the slide itself: nothing depends on how well a
                    # program follows placeholder inheritance, and reading them back is cheap.
                    if idx in info:
                        self.set_rect(shape, info[idx][1])
            self._blank_trees[layout_name] = copy.deepcopy(_tree(slide))
        else:
            slide = pptx_xml.add_bare_slide(self.prs, layout) if self.fast \
                else self.prs.slides.add_slide(layout)
            # The tree keeps its element, which python-pptx's shape collection holds on to.
            _tree(slide)[:] = list(copy.deepcopy(blank))
            self._number(slide)
        if self.fast:
            # The placeholders, read from the XML: python-pptx's shape factory asks every shape
            # several XPath questions, a tenth of a deck's time when asked of every slide.
            sps = {}
            for sp in _tree(slide).iterchildren(_SP):
                ph = sp.find(_PH_PATH)
                if ph is not None:
                    sps[int(ph.get("idx", "0"))] = sp
            phs = pptx_xml.placeholders(slide, sps)
        else:
            phs = {ph.placeholder_format.idx: ph for ph in slide.placeholders}
        self._placeholders[slide.element] = phs
        return slide

    def _number(self, slide) -> None:
        """The slide number of a slide whose footer was copied from an earlier slide's."""
        for fld in _tree(slide).iter(_qn("a:fld")):
            if fld.get("type") != "slidenum":
                continue
            number = str(len(self.prs.slides))
            sp = next(fld.iterancestors(_qn("p:sp")))
            ext = sp.find(f"{_qn('p:spPr')}/{_qn('a:xfrm')}/{_qn('a:ext')}")
            box = Box(_number_paras(number), int(ext.get("cx")) / EMU_PER_PT,
                      int(ext.get("cy")) / EMU_PER_PT, font=self.text_font)
            if not box.fits():
                raise RenderError(f"{self.topic.dirname}: slide number {number} does not fit "
                                  "its box")
            fld.set("id", self._field_id(number))
            fld.find(_qn("a:t")).text = number

    def _field_id(self, number) -> str:
        """A slide number field's GUID, the same in every build of the deck (a random one
        would make two builds of the same content differ)."""
        return "{%s}" % str(uuid.uuid5(uuid.NAMESPACE_URL,
                                       f"studykit:{self.topic.dirname}:{number}")).upper()

    def placeholder(self, slide, idx: int, name: str | None = None):
        ph = self._placeholders[slide.element].get(idx)
        if ph is None:
            raise RenderError(f"the slide theme's layout lacks placeholder {idx}")
        if name:
            # What `ph.name = name` writes, without python-pptx's XPath look-ups.
            ph.element.find(f"{_NV_SP}/{_C_NV_PR}").set("name", name)
        return ph

    def font_of(self, shape) -> str:
        """The theme font a shape's text inherits: the heading font for titles."""
        ph = shape.element.find(_PH_PATH)
        is_title = ph is not None and ph.get("idx", "0") == "0"
        return self.title_font if is_title else self.text_font

    @staticmethod
    def rect(shape) -> Rect:
        xfrm = shape.element.find(f"{_SP_PR}/{_XFRM}")
        off = xfrm.find(_OFF) if xfrm is not None else None
        ext = xfrm.find(_EXT) if xfrm is not None else None
        if off is None or ext is None:   # inherited from the layout
            return Rect(shape.left, shape.top, shape.width, shape.height)
        return Rect(int(off.get("x")), int(off.get("y")), int(ext.get("cx")),
                    int(ext.get("cy")))

    @staticmethod
    def set_rect(shape, r: Rect) -> None:
        shape.left, shape.top, shape.width, shape.height = r.x, r.y, r.w, r.h

    def footer(self, slide, layout) -> None:
        """Copies of the layout's footer and slide number (python-pptx leaves them out)."""
        tree = _tree(slide)
        for idx, (kind, _) in self.layout_info(layout).items():
            name = {15: "Footer", 13: "Slide Number"}.get(kind)
            if name is None:
                continue
            sp = etree.SubElement(tree, _qn("p:sp"))
            nv = etree.SubElement(sp, _qn("p:nvSpPr"))
            etree.SubElement(nv, _qn("p:cNvPr"), id=str(self.next_id(slide)), name=name)
            locks = etree.SubElement(etree.SubElement(nv, _qn("p:cNvSpPr")), _qn("a:spLocks"))
            locks.set("noGrp", "1")
            nvpr = etree.SubElement(nv, _qn("p:nvPr"))
            etree.SubElement(nvpr, _qn("p:ph"), type="ftr" if name == "Footer" else "sldNum",
                             idx=str(idx))
            etree.SubElement(sp, _qn("p:spPr"))
            body = etree.SubElement(sp, _qn("p:txBody"))
            etree.SubElement(body, _qn("a:bodyPr"))
            etree.SubElement(body, _qn("a:lstStyle"))
            etree.SubElement(body, _qn("a:p"))
            # Once per layout: python-pptx's own shape object for the new element will do.
            shape = next(s for s in slide.shapes if s.element is sp)
            self.set_rect(shape, self.layout_info(layout)[idx][1])
            number = len(self.prs.slides)
            if name == "Footer":
                text = self.topic.title
                paras = [Para([Run(text, FOOTER_PT, color=MUTED)], line_pitch(FOOTER_PT))]
                self.fill(shape, paras, what="footer")
            else:
                self.fill(shape, _number_paras(str(number)), what="slide number")
                # The number is a field, so it stays right when slides are moved or hidden.
                p = sp.find(f"{_TX_BODY}/{_qn('a:p')}")
                r = p.find(_qn("a:r"))
                fld = etree.Element(_qn("a:fld"), id=self._field_id(number), type="slidenum")
                for child in list(r):
                    fld.append(child)
                p.replace(r, fld)

    @staticmethod
    def next_id(slide) -> int:
        ids = [int(e.get("id")) for e in _tree(slide).iter(_C_NV_PR)]
        return max(ids, default=1) + 1

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

    def fit_single(self, shape, paras_for, sizes, what: str) -> None:
        """The largest size at which the text fits the shape; failing that, an error."""
        r = self.rect(shape)
        for s in sizes:
            paras = paras_for(s)
            if Box(paras, r.w_pt, r.h_pt, font=self.font_of(shape)).fits():
                self.fill(shape, paras, what=what)
                return
        raise RenderError(f"{self.topic.dirname}: {what} does not fit its box even at "
                          f"{sizes[-1]} pt: {paras_text(paras)[:80]!r}")

    def paged_slides(self, layout_name: str, title: str, paras_for, sizes, notes, what: str):
        """Body text on as many slides as it needs, each continuation titled (k/n)."""
        layout = self.layouts_get(layout_name)
        r = self.layout_rect(layout, 1)
        pages = None
        for s in sizes:
            paras = paras_for(s)
            if Box(paras, r.w_pt, r.h_pt, font=self.text_font).fits():
                pages = [paras]
                break
        if pages is None:
            pages = paginate(paras_for(sizes[-1]), r, what, self.text_font)
        total = len(pages)
        for k, paras in enumerate(pages, 1):
            slide = self.new_slide(layout_name)
            part = f" ({k}/{total})" if total > 1 else ""
            self.fit_single(self.placeholder(slide, 0, "Title"),
                            lambda s: [Para([Run(title + part, s, bold=True)], line_pitch(s))],
                            TITLE_SIZES, what=f"{what} title")
            self.fill(self.placeholder(slide, 1, "Body"), paras, what=what)
            self.notes(slide, notes if k == 1 else [f"{title}, continued.", ""] + notes)

    def fill(self, shape, paras: list[Para], inset_x: float | None = None,
             inset_y: float | None = None, wrap: bool = True, what: str = "",
             anchor: str | None = None) -> None:
        """Write paragraphs into a shape, after checking that they fit it."""
        r = self.rect(shape)
        box = Box(paras, r.w_pt, r.h_pt, wrap=wrap, name=what, font=self.font_of(shape))
        if inset_x is not None:
            box.inset_x = inset_x
        if inset_y is not None:
            box.inset_y = inset_y
        if not box.fits():
            e = box.extent()
            raise RenderError(f"{self.topic.dirname}: {what} needs {e.width:.0f} x "
                              f"{e.height:.0f} pt but its box is {r.w_pt:.0f} x {r.h_pt:.0f}")
        if not (0 <= r.x and r.x + r.w <= SLIDE_W and 0 <= r.y and r.y + r.h <= SLIDE_H):
            raise RenderError(f"{self.topic.dirname}: {what} lies outside the slide")
        write_paras(shape.element.find(_TX_BODY), paras, box, wrap=wrap, anchor=anchor)

    def notes(self, slide, lines: list[str]) -> None:
        text = "\n".join(lines).strip()
        for sp in self.notes_slide(slide).iter(_SP):
            ph = sp.find(_PH_PATH)
            if ph is not None and ph.get("type") == "body":
                _set_text(sp.find(_TX_BODY), text)
                return
        raise RenderError("the slide theme's notes master has no body placeholder")

    def notes_slide(self, slide):
        """The XML of the slide's notes page, new. python-pptx makes one by cloning the notes
        master's placeholders one at a time, a sixth of a deck's time; the first is made so,
        and on the fast path the rest are copies of it (see pptx_xml.add_notes_slide)."""
        if self._notes_xml is None or not self.fast:
            element = slide.notes_slide.element
            if self._notes_xml is None:
                self._notes_xml = copy.deepcopy(element)
            return element
        element = copy.deepcopy(self._notes_xml)
        pptx_xml.add_notes_slide(slide, element)
        return element


# ------------------------------------------------------------------ helpers

_NAMESPACES = {"a": "http://schemas.openxmlformats.org/drawingml/2006/main",
               "p": "http://schemas.openxmlformats.org/presentationml/2006/main"}


# Cached: a deck writes hundreds of thousands of elements.
@functools.lru_cache(maxsize=None)
def _qn(tag: str) -> str:
    """'p:sp' as lxml names it, '{namespace}sp'."""
    prefix, name = tag.split(":")
    return f"{{{_NAMESPACES[prefix]}}}{name}"


_NV_SP, _C_NV_PR, _SP_PR = _qn("p:nvSpPr"), _qn("p:cNvPr"), _qn("p:spPr")
_SP, _PH_PATH = _qn("p:sp"), f"{_NV_SP}/{_qn('p:nvPr')}/{_qn('p:ph')}"
_XFRM, _OFF, _EXT = _qn("a:xfrm"), _qn("a:off"), _qn("a:ext")
_TX_BODY, _SP_TREE = _qn("p:txBody"), f"{_qn('p:cSld')}/{_qn('p:spTree')}"
# What python-pptx writes for a control character in text, which XML cannot hold: _xHHHH_.
_CONTROL = re.compile(r"[\x00-\x08\x0B-\x1F]")


def _tree(slide):
    """The slide's shape tree, the XML its shapes are in."""
    return slide.element.find(_SP_TREE)


def _set_text(txBody, text: str) -> None:
    """What python-pptx's `text_frame.text = text` writes, made directly: a paragraph per
    line, a run per stretch between vertical tabs with a break between, control characters
    escaped as python-pptx escapes them."""
    for p in txBody.findall(_qn("a:p")):
        txBody.remove(p)
    for line in text.split("\n"):
        p = etree.SubElement(txBody, _qn("a:p"))
        for n, stretch in enumerate(line.split("\v")):
            if n:
                etree.SubElement(p, _qn("a:br"))
            if stretch:
                etree.SubElement(etree.SubElement(p, _qn("a:r")), _qn("a:t")).text = \
                    _CONTROL.sub(lambda m: "_x%04X_" % ord(m.group()), stretch)


def _number_paras(number: str) -> list[Para]:
    """A slide number as its footer shows it (measured when first written, and when copied)."""
    return [Para([Run(number, FOOTER_PT, color=MUTED)], line_pitch(FOOTER_PT), align="r")]


def inline_runs(text: str, size: float) -> list[Run]:
    """Plain-text fields with `backticks` as code: the quoted parts set in the code font."""
    parts = text.split("`")
    if len(parts) % 2 == 0:        # an unpaired backtick: show the text as written
        return [Run(text, size)]
    return [Run(part, size, CODE_FONT if i % 2 else None)
            for i, part in enumerate(parts) if part]


def bullet(runs: list[Run], size: float) -> Para:
    return Para(runs, line_pitch(size), space_after=round(size * 0.35), margin_left=size * 1.1,
                bullet="•")


def paras_text(paras: list[Para]) -> str:
    return " ".join(p.text for p in paras)


def paginate(paras: list[Para], r: Rect, what: str, font: str, first: list[Para] = (),
             inset: tuple[float, float] | None = None) -> list[list[Para]]:
    """Paragraphs in order onto as few boxes of size r as hold them; `first` heads each box."""
    def fits(ps: list[Para]) -> bool:
        box = Box(ps, r.w_pt, r.h_pt, font=font)
        if inset:
            box.inset_x, box.inset_y = inset
        return box.fits()

    pages: list[list[Para]] = [list(first)]
    for p in paras:
        if fits(pages[-1] + [p]):
            pages[-1].append(p)
            continue
        if len(pages[-1]) > len(first):
            pages.append(list(first))
        if fits(pages[-1] + [p]):
            pages[-1].append(p)
            continue
        raise RenderError(f"{what}: one paragraph is longer than a whole slide: "
                          f"{p.text[:60]!r}")
    return pages


def write_paras(txBody, paras: list[Para], box: Box, wrap: bool = True,
                anchor: str | None = None) -> None:
    bodyPr = txBody.find(_qn("a:bodyPr"))
    for attr, v in (("lIns", box.inset_x), ("rIns", box.inset_x), ("tIns", box.inset_y),
                    ("bIns", box.inset_y)):
        bodyPr.set(attr, str(round(v * EMU_PER_PT)))
    bodyPr.set("wrap", "square" if wrap else "none")
    bodyPr.set("anchor", anchor or "t")
    for child in list(bodyPr):
        bodyPr.remove(child)
    etree.SubElement(bodyPr, _qn("a:noAutofit"))
    for p in txBody.findall(_qn("a:p")):
        txBody.remove(p)
    for para in paras:
        p = etree.SubElement(txBody, _qn("a:p"))
        pPr = etree.SubElement(p, _qn("a:pPr"), algn=para.align)
        if para.bullet:
            pPr.set("marL", str(round(para.margin_left * EMU_PER_PT)))
            pPr.set("indent", str(-round(para.margin_left * EMU_PER_PT)))
        else:
            pPr.set("marL", "0")
            pPr.set("indent", "0")
        etree.SubElement(etree.SubElement(pPr, _qn("a:lnSpc")), _qn("a:spcPts"),
                         val=str(round(para.line_pt * 100)))
        etree.SubElement(etree.SubElement(pPr, _qn("a:spcBef")), _qn("a:spcPts"),
                         val=str(round(para.space_before * 100)))
        etree.SubElement(etree.SubElement(pPr, _qn("a:spcAft")), _qn("a:spcPts"),
                         val=str(round(para.space_after * 100)))
        if para.bullet:
            etree.SubElement(pPr, _qn("a:buFont"), typeface="Arial")
            etree.SubElement(pPr, _qn("a:buChar"), char=para.bullet)
        else:
            etree.SubElement(pPr, _qn("a:buNone"))
        size = para.runs[0].size if para.runs else 18
        for run in para.runs:
            size = run.size
            if not run.text:
                continue
            r = etree.SubElement(p, _qn("a:r"))
            rPr = etree.SubElement(r, _qn("a:rPr"), lang="en-US", sz=str(round(run.size * 100)),
                                   b="1" if run.bold else "0", i="1" if run.italic else "0",
                                   dirty="0")
            if run.color:
                fill = etree.SubElement(rPr, _qn("a:solidFill"))
                etree.SubElement(fill, _qn("a:srgbClr"), val=run.color)
            if run.font:
                etree.SubElement(rPr, _qn("a:latin"), typeface=run.font)
                etree.SubElement(rPr, _qn("a:cs"), typeface=run.font)
            etree.SubElement(r, _qn("a:t")).text = run.text
        # An empty line keeps its height only if the end mark carries the size.
        etree.SubElement(p, _qn("a:endParaRPr"), lang="en-US", sz=str(round(size * 100)),
                         dirty="0")


Line = list[tuple[str, tuple[str, bool, bool]]]


def highlighted_lines(code: str) -> list[Line]:
    """The code as lines of (text, (colour, bold, italic)), coloured from Pygments tokens."""
    lexer = PythonLexer(stripnl=False, ensurenl=False)
    lines: list[Line] = [[]]
    for ttype, value in lexer.get_tokens(code.rstrip("\n").expandtabs(4)):
        style = token_style(ttype)
        for i, part in enumerate(value.split("\n")):
            if i:
                lines.append([])
            if not part:
                continue
            line = lines[-1]
            # Neighbouring tokens of one style become one run: fewer runs, same look.
            if line and line[-1][1] == style:
                line[-1] = (line[-1][0] + part, style)
            else:
                line.append((part, style))
    return lines


def line_width(line: Line, size: float) -> float:
    return sum(text_width(text, size, CODE_FONT, b, i) for text, (_, b, i) in line)


def break_points(code: str, count: int) -> dict[int, int]:
    """Line indices where a slide may start, with a preference: higher is a better break.

    A statement start is a candidate (top-level ones preferred), and a blank line before it makes
    it better still; a comment block directly above a statement moves with it.
    """
    lines = code.rstrip("\n").expandtabs(4).split("\n")
    try:
        tree = ast.parse(code)
    except SyntaxError:
        tree = None
    starts: dict[int, int] = {}
    if tree is not None:
        top = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.stmt):
                first = min([node.lineno] + [d.lineno for d in
                                             getattr(node, "decorator_list", [])]) - 1
                starts[first] = max(starts.get(first, 0), 2 if id(node) in top else 1)
    else:
        starts = {i: 1 for i in range(1, count) if lines[i - 1].strip() == "" and lines[i].strip()}
    points: dict[int, int] = {}
    for i, prio in starts.items():
        while i > 0 and lines[i - 1].lstrip().startswith("#"):
            i -= 1
        if i <= 0:
            continue
        blank = lines[i - 1].strip() == ""
        points[i] = max(points.get(i, 0), prio + (2 if blank else 0))
    return points


def split_code(code: str, lines: list[Line], capacity: int,
               last_capacity: int = 0) -> list[list[Line]]:
    """Chunks of at most `capacity` lines, broken where break_points prefers.

    The last chunk is kept to `last_capacity` lines when possible, so the output fits under it.
    """
    if capacity < 1:
        raise RenderError("the code panel of the slide theme is too small for one line")
    points = break_points(code, len(lines))
    chunks: list[list[Line]] = []
    pos = 0
    n = len(lines)

    def blank(i: int) -> bool:
        return not "".join(t for t, _ in lines[i]).strip()

    while pos < n:
        remaining = n - pos
        if remaining <= last_capacity:
            chunks.append(lines[pos:])
            break
        if remaining <= capacity:
            # What is left fits one slide; break once more only if that lets the output share
            # the last one.
            finishing = [b for b in points if pos < b and n - b <= last_capacity]
            if not finishing:
                chunks.append(lines[pos:])
                break
            # Among the best breaks, the one that shares the lines most evenly, so the last
            # slide is not left with a line or two.
            end = max(finishing, key=lambda b: (points[b], -abs((b - pos) - (n - b))))
        else:
            window = [b for b in points if pos < b <= pos + capacity]
            late = [b for b in window if b - pos >= capacity // 2]
            pool = late or window
            best = max((points[b] for b in window), default=None)
            # When two slides will do, split as evenly as the best breaks allow, so the second
            # is not a stub under a full first one; never at a worse break than the usual rule.
            two = [b for b in window if n - b <= last_capacity and points[b] == best]
            if two:
                end = max(two, key=lambda b: -abs((b - pos) - (n - b)))
            else:
                end = max(pool, key=lambda b: (points[b], b)) if pool else pos + capacity
        last = end
        while last > pos and blank(last - 1):
            last -= 1
        chunks.append(lines[pos:last])
        pos = end
        while pos < n and blank(pos):
            pos += 1
    return chunks


def markdown_text(text: str) -> str:
    """Markdown as plain text for speaker notes: lists get bullets, code stays indented."""
    out: list[str] = []
    lists: list[int | None] = []      # one entry per open list: its next number, or None
    mark: str | None = None           # the bullet waiting for a list item's first line
    row: list[str] | None = None      # cells of the table row being read
    for tok in parse(text or ""):
        t = tok.type
        if t == "bullet_list_open":
            lists.append(None)
        elif t == "ordered_list_open":
            lists.append(int(tok.attrGet("start") or 1))
        elif t in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
            if not lists:
                out.append("")
        elif t == "list_item_open":
            n = lists[-1]
            mark = "•" if n is None else f"{n}."
            if n is not None:
                lists[-1] = n + 1
        elif t == "tr_open":
            row = []
        elif t == "tr_close":
            out.append(" | ".join(row or []))
            row = None
        elif t == "table_close":
            out.append("")
        elif t == "inline":
            line = "".join(c.content if c.type in ("text", "code_inline") else " "
                           for c in tok.children or ()
                           if c.type in ("text", "code_inline", "softbreak", "hardbreak"))
            if row is not None:
                row.append(line)
            elif mark:
                out.append("  " * (len(lists) - 1) + f"{mark} {line}")
                mark = None
            else:
                out.append("  " * len(lists) + line)
        elif t in ("fence", "code_block"):
            out.extend("    " + ln for ln in tok.content.rstrip("\n").split("\n"))
            if not lists:
                out.append("")
        elif t in ("paragraph_close", "heading_close") and not lists:
            out.append("")
    return "\n".join(out).strip()


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
