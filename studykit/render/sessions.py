"""Per session plan: a deck, a participants' handout and a facilitator's answer key (sessions/)."""

from __future__ import annotations

import io
from pathlib import Path

from .. import cache
from ..errors import RenderError
from ..output import write_output
from ..sessions import Session, read_sessions, session_files, sessions_dir
from .base import BuildContext, Renderer, RenderResult, build_time
from .slides import stamped_zip

# Ruled lines to write on, 8 mm apart, per question on the handout: two questions to a page
# with the title, so a question never starts at the foot of a page.
WRITING_RULES = 11


class SessionsRenderer(Renderer):
    """`files`: the session files to build (default: every sessions/*.toml beside the
    content)."""

    name = "sessions"

    def __init__(self, files: tuple[str, ...] = (), template: Path | None = None) -> None:
        super().__init__(files=tuple(str(f) for f in files),
                         template=None if template is None else str(template))
        self.template = template

    def _files(self, ctx: BuildContext) -> list[Path]:
        if self.options["files"]:
            return [Path(f) for f in self.options["files"]]
        return session_files(sessions_dir(ctx.kit.root)) if ctx.kit.root else []

    @staticmethod
    def _targets_of(ctx: BuildContext, stem: str) -> list[Path]:
        folder = ctx.out_dir / "sessions"
        return [folder / f"{stem}.pptx", folder / f"{stem}-handout.pdf",
                folder / f"{stem}-answers.pdf"]

    def targets(self, ctx: BuildContext) -> list[Path]:
        return [t for f in self._files(ctx) for t in self._targets_of(ctx, f.stem)]

    def content_key(self, ctx: BuildContext) -> str:
        texts = [(str(f), f.read_text("utf-8", "replace") if f.is_file() else None)
                 for f in self._files(ctx)]
        return repr((super().content_key(ctx), texts))

    def write(self, ctx: BuildContext) -> RenderResult:
        sessions = read_sessions(self._files(ctx), ctx.kit)
        if not sessions:
            return RenderResult(self.name, [], ["no session plans (sessions/*.toml)"])
        template = self.template or ctx.templates_dir / "slides" / "theme.pptx"
        if not template.is_file():
            raise RenderError(f"slide theme {template} is missing; build it with "
                              "templates/slides/build_theme.py")
        from ..freshness import PieceRecord, piece_key

        # A session shows its own questions: an edit to another leaves its files as they are.
        record = PieceRecord(cache.path(ctx.cache_dir, "sessions"))
        made, kept, messages = [], [], []
        for session in sessions:
            targets = self._targets_of(ctx, session.name)
            questions = [ctx.kit.question(n) for n in session.numbers]
            shown = (session.title, session.date, session.numbers, session.minutes, questions,
                     [ctx.kit.topic_of(q).title for q in questions], template.read_bytes())
            key = piece_key(self, ctx, repr(shown), set(session.numbers))
            if all(record.fresh(t, key) for t in targets):
                kept += targets
                continue
            # Everything laid out before anything is written: a session that cannot be
            # shown leaves the files of the others, and its own, as they were.
            made.append((session, targets, key, self._lay_out(ctx, session, template)))
        when = build_time()
        paths = []
        for session, targets, key, (deck, handout, answers) in made:
            deck.prs.core_properties.created = deck.prs.core_properties.modified = when
            saved = io.BytesIO()
            deck.prs.save(saved)
            for target, data in zip(targets, (stamped_zip(saved.getvalue(), when), handout,
                                              answers)):
                write_output(target, data)
                record.record(target, key)
            paths += targets
            messages.extend(deck.messages)
            messages.append(f"{session.name}: {len(deck.prs.slides)} slides, code at "
                            f"{deck.code_pt} pt; handout and answer key")
        record.save()
        messages += self.slower_note([d for _, _, _, (d, _, _) in made], "python-pptx")
        if kept:
            messages.append(f"{len(kept) // 3} session(s) unchanged, not rebuilt")
        return RenderResult(self.name, sorted(paths + kept), messages,
                            laid_out=[t.name for _, targets, _, _ in made for t in targets])

    def _lay_out(self, ctx: BuildContext, session: Session, template: Path):
        from .deck import build_with
        from .pptx_text import overflows
        from .session_deck import SessionDeck

        deck = build_with(lambda fast: SessionDeck(ctx, session, template, fast=fast))
        problems = overflows(deck.prs, (deck.title_font, deck.text_font))
        if problems:
            raise RenderError(f"{session.name}: text overflows: " + "; ".join(problems))
        return deck, self._pdf(ctx, session, "handout.html.j2"), \
            self._pdf(ctx, session, "answers.html.j2")

    def _pdf(self, ctx: BuildContext, session: Session, name: str) -> bytes:
        from weasyprint import HTML

        from ..markdown import inline_code

        env = self.jinja(ctx, "sessions")
        env.filters["code"] = inline_code
        questions = [ctx.kit.question(n) for n in session.numbers]
        html = env.get_template(name).render(session=session, questions=questions,
                                             rules=WRITING_RULES)
        return HTML(string=html, base_url=str(ctx.templates_dir / "sessions")).write_pdf()
