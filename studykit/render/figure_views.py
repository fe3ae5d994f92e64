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

# A figure is never taller than this in the handbook (a page's text block is some 250 mm), so it
# always fits on one page with its caption.
MAX_HEIGHT_PT = 160 / 25.4 * 72
TEXT_WIDTH_PT = 136 / 25.4 * 72


def answer_html(ctx: BuildContext, q: Question, markdown: Callable[[str], Markup], env) -> Markup:
    """The full answer's HTML with its figures after the blocks they follow."""
    if not q.figures:
        return markdown(q.answer)
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
            width = min(w, TEXT_WIDTH_PT, w * MAX_HEIGHT_PT / h)
            out.append(Markup(template.render(
                number=numbers[(q.number, fig.index)], caption=fig.caption, alt=fig.alt,
                width=f"{width:.1f}",
                src="data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii"))))
    return Markup("\n").join(out)


def figure_slide(deck, q: Question, fig: Figure) -> None:
    """A slide after the question's answer: the figure as large as the body allows, its
    caption under it, the alt text in the speaker notes and in the picture's description."""
    from .deck import Rect, line_pitch
    from .pptx_text import EMU_PER_PT, Box, Para, Run

    png = figures.drawings(deck.ctx.kit, "png", deck.ctx.cache_dir)[(q.number, fig.index)]
    number = figures.numbers(deck.topic)[(q.number, fig.index)]
    slide = deck.new_slide("Bullets")
    title = f"{q.card_id} · Figure {number}"
    deck.fit_single(deck.placeholder(slide, 0, "Title"),
                    lambda s: [Para([Run(title, s, bold=True)], line_pitch(s))],
                    (34, 30, 26, 22), what=f"{title} title")
    body = deck.placeholder(slide, 1)
    r = deck.rect(body)
    body.element.getparent().remove(body.element)

    caption_h = None
    for size in (20, 18, 16):
        paras = [Para([Run(fig.caption, size)], line_pitch(size), align="ctr")]
        box = Box(paras, r.w_pt, 0, font=deck.text_font)
        e = box.extent()
        if e.lines <= 2:
            caption_h = int((e.height + 2) * EMU_PER_PT)
            break
    if caption_h is None:   # the loader's limit keeps captions short; three lines at most
        caption_h = int((Box(paras, r.w_pt, 0, font=deck.text_font).extent().height + 2)
                        * EMU_PER_PT)
    gap = int(6 * EMU_PER_PT)
    room = Rect(r.x, r.y, r.w, r.h - caption_h - gap)
    pw, ph = figures.png_size(png)
    # As large as the room allows, but not more than twice the size Graphviz drew it (a small
    # figure blown up to the whole slide has letters larger than the title's).
    natural = (pw / figures.PNG_DPI * 72 * EMU_PER_PT, ph / figures.PNG_DPI * 72 * EMU_PER_PT)
    scale = min(room.w / natural[0], room.h / natural[1], 2.0)
    w, h = int(natural[0] * scale), int(natural[1] * scale)
    x = r.x + (r.w - w) // 2
    pic = slide.shapes.add_picture(io.BytesIO(png), x, room.y, w, h)
    pic.name = f"Figure {number}"
    # The picture's description (cNvPr/@descr) is what a screen reader speaks for it.
    pic.element[0][0].set("descr", fig.alt)
    cap = slide.shapes.add_textbox(r.x, room.y + h + gap, r.w, caption_h)
    cap.name = "Caption"
    deck.fill(cap, paras, what=f"{title} caption")
    deck.notes(slide, [f"{title}: {fig.caption}", "", "What the figure shows (alt text):",
                       fig.alt])
