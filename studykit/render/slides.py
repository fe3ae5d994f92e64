"""One slide deck per topic, for a team lead running a study session (the decks: deck.py).

The deck machinery, and python-pptx under it, is imported only when a deck is built: every
build asks this renderer whether its decks are up to date, and most need none rebuilt.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path

from ..errors import RenderError
from ..output import write_output
from .base import BuildContext, Renderer, RenderResult, build_time


class SlidesRenderer(Renderer):
    name = "slides"

    def __init__(self, template: Path | None = None) -> None:
        super().__init__(template=None if template is None else str(template))
        self.template = template

    def targets(self, ctx: BuildContext) -> list[Path]:
        """One deck per topic with an answered question."""
        return [self._target(ctx, topic) for topic in ctx.kit.topics if topic.questions]

    @staticmethod
    def _target(ctx: BuildContext, topic) -> Path:
        return ctx.out_dir / "slides" / f"{topic.dirname}.pptx"

    def write(self, ctx: BuildContext) -> RenderResult:
        template = self.template or ctx.templates_dir / "slides" / "theme.pptx"
        if not template.is_file():
            raise RenderError(f"slide theme {template} is missing; build it with "
                              "templates/slides/build_theme.py")
        from ..cache import path as cache_path
        from ..freshness import PieceRecord, piece_key

        # A deck shows one topic: an edit elsewhere leaves it as it is.
        record = PieceRecord(cache_path(ctx.cache_dir, "slides-decks"))
        # Every deck is laid out before any is written, so a sample that cannot be shown
        # leaves the previous decks in place.
        decks, kept = [], []
        for topic in ctx.kit.topics:
            if not topic.questions:
                continue
            target = self._target(ctx, topic)
            # Its own questions, and the titles of those they refer to.
            related = sorted({n for q in topic.questions for n in q.see_also})
            shown = (topic, [self._title_of(ctx, n) for n in related], template.read_bytes())
            key = piece_key(self, ctx, repr(shown), {q.number for q in topic.questions})
            if record.fresh(target, key):
                kept.append(target)
                continue
            from .deck import build_deck
            from .pptx_text import overflows

            deck = build_deck(ctx, topic, template)
            # Measured again from the XML as saved: what a reader of the file would get.
            problems = overflows(deck.prs, (deck.title_font, deck.text_font))
            if problems:
                raise RenderError(f"{topic.dirname}: text overflows: " + "; ".join(problems))
            decks.append((target, key, deck))
        paths, messages = [], []
        made = build_time()
        for target, key, deck in decks:
            deck.prs.core_properties.created = deck.prs.core_properties.modified = made
            saved = io.BytesIO()
            deck.prs.save(saved)
            write_output(target, stamped_zip(saved.getvalue(), made))
            record.record(target, key)
            paths.append(target)
            messages.extend(deck.messages)
            messages.append(f"{target.name}: {len(deck.prs.slides)} slides, code at "
                            f"{deck.code_pt} pt")
        record.save()
        messages += self.slower_note([deck for _, _, deck in decks], "python-pptx")
        if kept:
            messages.append(f"{len(kept)} deck(s) unchanged, not rebuilt")
        return RenderResult(self.name, sorted(paths + kept), messages,
                            laid_out=[target.name for target, _, _ in decks])


    @staticmethod
    def _title_of(ctx: BuildContext, number: int) -> tuple:
        answered = ctx.kit.question(number)
        entry = ctx.kit.bank_entry(number)
        return (number, answered.question if answered else None, entry.question if entry else None)


def stamped_zip(data: bytes, when: datetime) -> bytes:
    """The deck with every entry dated `when`: python-pptx dates them at the moment of saving,
    so two builds of the same deck would differ in their bytes. The entries, their order and
    their compression stay as they were."""
    out = io.BytesIO()
    stamp = max(when.timetuple()[:6], (1980, 1, 1, 0, 0, 0))   # the earliest a zip can hold
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type, entry.external_attr = info.compress_type, info.external_attr
            dst.writestr(entry, src.read(info))
    return out.getvalue()
