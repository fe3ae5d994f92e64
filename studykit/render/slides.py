"""One slide deck per topic, for a team lead running a study session (the decks: deck.py).

The deck machinery, and python-pptx under it, is imported only when a deck is built: every
build asks this renderer whether its decks are up to date, and most need none rebuilt.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import RenderError
from ..output import atomic_path
from .base import BuildContext, Renderer


class SlidesRenderer(Renderer):
    name = "slides"

    def __init__(self, template: Path | None = None) -> None:
        super().__init__()
        self.template = template

    def render(self, ctx: BuildContext) -> list[Path]:
        template = self.template or ctx.templates_dir / "slides" / "theme.pptx"
        if not template.is_file():
            raise RenderError(f"slide theme {template} is missing; build it with "
                              "templates/slides/build_theme.py")
        from ..freshness import PieceRecord, piece_key

        # A deck shows one topic: an edit elsewhere leaves it as it is.
        record = PieceRecord(ctx.cache_dir / "slides-decks.json" if ctx.cache_dir else None)
        # Every deck is laid out before any is written, so a sample that cannot be shown
        # leaves the previous decks in place.
        decks, kept = [], []
        for topic in ctx.kit.topics:
            if not topic.questions:
                continue
            target = ctx.out_dir / "slides" / f"{topic.dirname}.pptx"
            # Its own questions, and the titles of those they refer to.
            related = sorted({n for q in topic.questions for n in q.see_also})
            shown = (topic, [self._title_of(ctx, n) for n in related], template.read_bytes())
            key = piece_key(self, ctx, repr(shown), {q.number for q in topic.questions})
            if record.fresh(target, key):
                kept.append(target)
                continue
            from .deck import Deck
            from .pptx_text import overflows

            deck = Deck(ctx, topic, template)
            deck.build()
            # Measured again from the XML as saved: what a reader of the file would get.
            problems = overflows(deck.prs)
            if problems:
                raise RenderError(f"{topic.dirname}: text overflows: " + "; ".join(problems))
            decks.append((target, key, deck))
        paths = []
        for target, key, deck in decks:
            with atomic_path(target) as tmp:
                deck.prs.save(str(tmp))
            record.record(target, key)
            paths.append(target)
            self.messages.extend(deck.messages)
            self.messages.append(f"{target.name}: {len(deck.prs.slides)} slides")
        record.save()
        if kept:
            self.messages.append(f"{len(kept)} deck(s) unchanged, not rebuilt")
        return sorted(paths + kept)


    @staticmethod
    def _title_of(ctx: BuildContext, number: int) -> tuple:
        answered = ctx.kit.question(number)
        bank = next((b.question for b in ctx.kit.bank if b.number == number), None)
        return (number, answered.question if answered else None, bank)
