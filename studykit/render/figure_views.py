"""Where figures meet the outputs: the handbook's figure inside a full answer (its markup is
templates/handbook/figure.html.j2) and the decks' figure slide. Drawing them, and the house
style, is studykit/figures.py; the cards show no figure (a card is too small)."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable

from markupsafe import Markup

from .. import figures
from ..model import Figure, Question
from .base import BuildContext

# A figure is never taller than this in the handbook. A figure is kept whole, so one moved to the
# next page leaves the rest of the page before it empty: 75 mm, with its caption, is about a third
# of an A4 text block (263 mm; Letter's is 245 mm). The tallest figures print at about 0.65 of
# their drawn size.
MAX_HEIGHT_PT = 75 / 25.4 * 72


def answer_html(ctx: BuildContext, q: Question, markdown: Callable[[str], Markup], env) -> Markup:
    """The full answer's HTML with its figures after the blocks they follow."""
    if not q.figures:
        return markdown(q.answer)
    from .handbook import TEXT_WIDTH   # the handbook imports this module
    text_width_pt = TEXT_WIDTH / 25.4 * 72
    drawn = figures.drawings(ctx.kit, "svg", ctx.cache_dir)
    numbers = figures.numbers(ctx.kit.topic_of(q))
    template = env.get_template("figure.html.j2")
    out = []
    for text, placed in figures.split_answer(q.answer, q.figures):
        if text.strip():
            out.append(markdown(text))
        for fig in placed:
            svg = drawn[(q.number, fig.index)]
            w, h = figures.svg_size(svg)
            width = min(w, text_width_pt, w * MAX_HEIGHT_PT / h)
            out.append(Markup(template.render(
                number=numbers[(q.number, fig.index)], caption=fig.caption, alt=fig.alt,
                width=f"{width:.1f}",
                src="data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii"))))
    return Markup("\n").join(out)


def figure_slide(deck, q: Question, fig: Figure) -> None:
    """A slide after the question's answer: the figure as large as the body allows, its
    caption under it (beside it, for a figure taller than the body is wide-for-tall), the alt
    text in the speaker notes and in the picture's description."""
    from .pptx_text import DEFAULT_INSET_X, EMU_PER_PT, Box, Para, Run, line_pitch, text_width
    from .slide_text import inline_runs
    from .slide_writer import Rect

    png = figures.drawings(deck.ctx.kit, "png", deck.ctx.cache_dir)[(q.number, fig.index)]
    # From the question's own chapter: a session's deck mixes topics.
    number = figures.numbers(deck.ctx.kit.topic_of(q))[(q.number, fig.index)]
    slide = deck.new_slide("Bullets")
    title = f"{q.card_id} · Figure {number}"
    deck.fit_single(deck.placeholder(slide, 0, "Title"),
                    lambda s: [Para([Run(title, s, bold=True)], line_pitch(s))],
                    (34, 30, 26, 22), what=f"{title} title")
    body = deck.placeholder(slide, 1)
    r = deck.rect(body)
    body.element.getparent().remove(body.element)

    pw, ph = figures.png_size(png)
    # Graphviz's own size, in EMU: a figure is enlarged at most twice (beyond that a small
    # figure's letters outgrow the title's).
    natural = (pw / figures.PNG_DPI * 72 * EMU_PER_PT, ph / figures.PNG_DPI * 72 * EMU_PER_PT)
    gap = int(8 * EMU_PER_PT)

    def whole_words(paras: list, width: int) -> bool:
        # A word wider than the column would be broken between letters (a long Python name
        # such as object.__getattribute__ in the narrow side column).
        room = (width - 2 * DEFAULT_INSET_X) / EMU_PER_PT
        return all(text_width(word, run.size, run.font or deck.text_font, run.bold, run.italic)
                   <= room for para in paras for run in para.runs for word in run.text.split())

    def caption(width: int, sizes=(20, 18, 16)) -> tuple[list, int, bool]:
        for size in sizes:
            paras = [Para(inline_runs(fig.caption, size), line_pitch(size))]
            e = Box(paras, width / EMU_PER_PT, 0, font=deck.text_font).extent()
            whole = whole_words(paras, width)
            if e.lines <= (2 if width == r.w else 8) and whole or size == sizes[-1]:
                return paras, int((e.height + 2) * EMU_PER_PT), whole

    # Caption under the figure, or, for a tall figure, in a column beside it: whichever
    # lets the figure be larger.
    under, under_h, _ = caption(r.w)
    scale_under = min(r.w / natural[0], (r.h - under_h - gap) / natural[1], 2.0)
    side_w = int(r.w * 0.3)
    beside, beside_h, beside_whole = caption(side_w)
    scale_beside = min((r.w - side_w - gap) / natural[0], r.h / natural[1], 2.0)
    if scale_beside > scale_under * 1.1 and beside_h <= r.h and beside_whole:
        scale = scale_beside
        w, h = int(natural[0] * scale), int(natural[1] * scale)
        x0 = r.x + (r.w - side_w - gap - w) // 2
        pic_at = (x0, r.y + (r.h - h) // 2)
        cap_rect = Rect(r.x + r.w - side_w, r.y + (r.h - beside_h) // 2, side_w, beside_h)
        paras = beside
    else:
        scale = scale_under
        w, h = int(natural[0] * scale), int(natural[1] * scale)
        pic_at = (r.x + (r.w - w) // 2, r.y)
        cap_rect = Rect(r.x, r.y + h + gap, r.w, under_h)
        paras = [Para(p.runs, p.line_pt, align="ctr") for p in under]
    pic = slide.shapes.add_picture(io.BytesIO(png), pic_at[0], pic_at[1], w, h)
    pic.name = f"Figure {number}"
    # The picture's description (p:nvPicPr/p:cNvPr/@descr) is what a screen reader speaks.
    pic.element[0][0].set("descr", fig.alt)
    cap = slide.shapes.add_textbox(cap_rect.x, cap_rect.y, cap_rect.w, cap_rect.h)
    cap.name = "Caption"
    deck.fill(cap, paras, what=f"{title} caption")
    deck.notes(slide, [f"{title}: {fig.caption}", "", "What the figure shows (alt text):",
                       fig.alt])
