"""The printed handbook: every answered question, typeset as a book to print and study from.

The book is built in parts, each an HTML document laid out by WeasyPrint on its own: the front
matter (cover, guide, contents), one chapter per topic, and the back matter. Every part starts on
a new page, so the parts are laid out in parallel and joined (see partschedule), and a part whose HTML
is unchanged comes from the cache. The parts share only the anchors `q<number>` and
`ch<position>`.

Page references (contents, chapter openers, see-also, index, page footers) are stamped on the
joined book into hidden, fixed-width stand-ins, so the numbers cannot change the layout. They are
not CSS target-counters, which would need the whole book in one layout, and which in WeasyPrint
70 keep a heading's first tentative page when a later re-layout pushes it to the next page.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from markupsafe import Markup, escape

from ..cache import path as cache_path
from ..errors import RenderError
from ..markdown import inline_code, to_html
from ..model import DESCRIBED_VERSIONS, DIFFICULTIES, DIFFICULTY_LETTERS, Question, Topic
from ..paper import MARKS, PAPERS
from .base import BuildContext, Renderer, RenderResult
from .figure_views import answer_html
from .fragments import Fragments
from .highlight import highlight_lines, style_css
from .partcache import PartCache
from .partschedule import lay_out
from .pdfjoin import join

TITLE = "Python Interview Handbook"
# Each edition's subtitle. The core edition keeps, per question, what to say and what to get
# right (short answer, key points, pitfalls, follow-ups): the last evening before an interview.
EDITIONS = {"full": "Verified answers, with code that runs",
            "core": "Core edition: the short answers, key points, pitfalls and follow-ups"}


# 150 mm holds about 88 characters of 10 pt Noto Serif (a full line of the bank's answers: mean
# 88, nine in ten at most 95), and 80 columns of 8 pt code (136 mm) with the code block's rule
# and padding. The side margins are equal (30 mm
# on A4): the inner one leaves room for a binder's holes on either side of a duplex sheet.
TEXT_WIDTH = 150.0
MARGIN_TOP = 17.0
MARGIN_BOTTOM = 17.0
# What a home printer can reach; nothing may be drawn closer to the paper's edge.
PRINTABLE_INSET = 12.0


def _version_span(versions) -> str:
    first, last = versions[0], versions[-1]
    return f"CPython {first[0]}.{first[1]} to {last[0]}.{last[1]}"


def _and_list(items: list[str]) -> str:
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


LEVEL_MEANING = {
    "easy": "everyday Python every candidate should answer without hesitation",
    "medium": "how the language works underneath; expected of a working Python developer",
    "hard": "internals and trade-offs; expected of a senior developer",
    "expert": "CPython implementation detail and edge cases; for specialist roles",
}

# Continuation lines of a wrapped code line start this many columns right of the line's own
# indentation; the continuation mark sits in the gap.
WRAP_INDENT = 4

_FENCE = re.compile(r'<pre><code(?: class="language-([\w+-]+)")?>(.*?)</code></pre>', re.S)
_PYTHON_FENCES = {"python", "py", "python3"}
# WeasyPrint 70 sometimes misses the break opportunity at a space just before an inline element
# and breaks the line far earlier, leaving a line of one or two words. A zero-width space after
# that space gives it a break point it does find.
_BEFORE_INLINE = re.compile(r" <(code|strong|em|a)\b")


def verified_text(labels: list[str]) -> str:
    """"Verified on CPython 3.11.2, 3.12.1": the implementation named once."""
    names = {label.rpartition(" ")[0] for label in labels}
    if len(names) == 1 and "" not in names:
        name = names.pop()
        return f"Verified on {name} " + ", ".join(label.rpartition(" ")[2] for label in labels)
    return "Verified on " + ", ".join(labels)


# An output box's text room (the column less its padding and rules) and one 8 pt code column.
OUTPUT_ROOM_MM = TEXT_WIDTH - 4.5
CODE_COLUMN_MM = 0.6021 * 8 * 25.4 / 72   # DejaVu Sans Mono's advance


def label_fits_first_line(output: str, verified: str) -> bool:
    """Whether an output's label ("Output", and the interpreters it was verified on) fits on
    its first line, at the right, instead of on a line of its own: measured with the fonts
    the style sheet names, with 4 mm to spare. A line that did not fit beside it would wrap
    at a space and read as two lines of output, so this errs towards a line of its own."""
    from .pptx_text import text_width
    label_pt = (text_width("OUTPUT", 6.5, "Noto Sans", bold=True) + 6 * 0.08 * 6.5
                + text_width("\u2713  ", 7.5, "DejaVu Sans") + text_width(verified, 7.5, "Noto Sans"))
    first = output.split("\n", 1)[0].expandtabs()
    used_mm = label_pt * 25.4 / 72 + 2.0 + 4.0 + _columns(first) * CODE_COLUMN_MM
    return used_mm <= OUTPUT_ROOM_MM


def _leading_spaces(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


# What a page number's stand-in holds: as wide as the widest number of a book under 1000 pages.
PAGE_STAND_IN = "000"

# Columns of 8 pt code a block in the text column holds (a 72-column line is the content
# format's limit for samples, and it fits with room to spare). Each list a block sits in takes
# 6 mm, a quote 7.3 mm: at 1.7 mm a column, 4 and 5 columns are safe.
CODE_COLUMNS = 80
LIST_COLUMNS, QUOTE_COLUMNS = 4, 5


# A code or output block that breaks across a page leaves at least this many lines on each side
# (the style sheet's orphans and widows say the same for a block that is one box of lines).
KEEP_LINES = 3


def _columns(line: str) -> int:
    # A character outside ASCII may come from a wider fallback font: count it as two.
    return sum(1 if ch < "\x80" else 2 for ch in line)


def code_lines(code: str, highlight: bool, columns: int = CODE_COLUMNS) -> Markup:
    """A code or output block's lines, one block element each.

    In a block with a line longer than `columns`, each line wraps on its own with a hanging
    indent that keeps the line's indentation, and a line that wraps carries an empty mark element
    that the stylesheet stretches over its continuation rows only. The mark is placed within its
    line, which takes a positioned box; positioned boxes are painted after the rest of the page,
    so the block's other lines are positioned too, to keep its text in order. Most blocks have no
    such line: they are one block of lines, which lays out several times faster.
    """
    text = code.expandtabs(4).rstrip("\n")
    raw = text.split("\n")
    shown = highlight_lines(text) if highlight else [escape(line) for line in raw]
    if len(shown) != len(raw):   # never expected; fall back to plain text rather than misalign
        shown = [escape(line) for line in raw]
    wraps = [_columns(line) > columns for line in raw]
    if not any(wraps):
        # No line wraps: one block of preformatted lines lays out in a fraction of the time a
        # block per line takes, and looks the same.
        return Markup('<div class="lines">{}</div>').format(Markup("\n").join(shown))
    out = []
    for n, (line, fragment, wrap) in enumerate(zip(raw, shown, wraps)):
        hang = min(_leading_spaces(line), 40) + WRAP_INDENT
        mark = (Markup('<span class="wrap" style="left:{}ch"></span>').format(hang - 2)
                if wrap else "")
        # A page may break between two lines, leaving at least KEEP_LINES on either side.
        cls = "ln pos" + (" keep-next" if n < KEEP_LINES - 1 else "") + (
            " keep-prev" if n > len(raw) - KEEP_LINES else "")
        out.append(Markup('<div class="{c}" style="padding-left:{h}ch;text-indent:-{h}ch">'
                          '{m}{f}</div>').format(c=cls, h=hang, m=mark, f=fragment))
    return Markup("").join(out)


# A table of more rows than this (its header row aside) may break across a page, between rows,
# its header repeated; a shorter one is kept whole.
LONG_TABLE_ROWS = 8
_LONG_TABLE = re.compile(r"<table>(.*?)</table>", re.S)


def _mark_long_table(m: re.Match) -> str:
    rows = m.group(1).partition("<tbody>")[2].count("<tr>")
    return m.group(0) if rows <= LONG_TABLE_ROWS else f'<table class="long">{m.group(1)}</table>'


def markdown_html(text: str) -> Markup:
    """Answer Markdown as HTML, with fenced code typeset like the samples."""
    rendered = to_html(text)

    def fence(m: re.Match) -> str:
        lang = (m.group(1) or "").lower()
        code = html.unescape(m.group(2))
        cls = "code hl" if lang in _PYTHON_FENCES else "code plain"
        before = rendered[:m.start()]
        lists = before.count("<li>") + before.count("<li ") - before.count("</li>")
        quotes = before.count("<blockquote") - before.count("</blockquote>")
        columns = CODE_COLUMNS - LIST_COLUMNS * lists - QUOTE_COLUMNS * quotes
        return f'<div class="{cls}">{code_lines(code, lang in _PYTHON_FENCES, columns)}</div>'

    rendered = _LONG_TABLE.sub(_mark_long_table, rendered)
    rendered = _BEFORE_INLINE.sub(" \u200b<\\1", rendered)
    # markdown-it escaped the fence's text and raw HTML is off, so this is the only markup.
    return Markup(_FENCE.sub(fence, rendered))


# The study plans on the "How to use" page, by their length in weeks: the chapters share a
# plan's weeks, but for the last week of a plan that has a review week.
PLANS = ((4, False), (8, True))


def study_plan(chapters: list[Topic], weeks: int) -> list[dict]:
    """The chapters in order, cut into at most `weeks` runs (a chapter is never split) whose
    question counts are as even as can be: the largest week as small as it can be, then the
    weeks' squared sizes as small as they can be. Each week: its chapters, its question count
    and the first and last question numbers (the cards to add that week)."""
    chapters = [t for t in chapters if t.questions]
    sizes = [len(t.questions) for t in chapters]
    weeks = min(weeks, len(chapters))
    if not weeks:
        return []
    # best[w][i]: the best (largest week, sum of squares, cuts) for the first i chapters in
    # w weeks; fifteen chapters and a few weeks make this instant.
    inf = (float("inf"), float("inf"), ())
    best = [[inf] * (len(sizes) + 1) for _ in range(weeks + 1)]
    best[0][0] = (0, 0, ())
    for w in range(1, weeks + 1):
        for i in range(1, len(sizes) + 1):
            for j in range(w - 1, i):
                largest, squares, cuts = best[w - 1][j]
                size = sum(sizes[j:i])
                candidate = (max(largest, size), squares + size * size, cuts + (i,))
                best[w][i] = min(best[w][i], candidate)
    plan, start = [], 0
    for end in best[weeks][len(sizes)][2]:
        part = chapters[start:end]
        numbers = [q.number for t in part for q in t.questions]
        plan.append({"chapters": part, "count": len(numbers), "review": False,
                     "first": min(numbers), "last": max(numbers)})
        start = end
    return plan


def study_plans(chapters: list[Topic]) -> list[dict]:
    """Each plan of PLANS: its weeks (see study_plan), the last one a review week where the
    plan has one ({"review": True, "first", "last", "count"}: every card of the book)."""
    plans = []
    for weeks, review in PLANS:
        plan = study_plan(chapters, weeks - 1 if review else weeks)
        if review and plan:
            plan.append({"review": True, "chapters": [], "first": plan[0]["first"],
                         "last": plan[-1]["last"], "count": sum(w["count"] for w in plan)})
        plans.append({"weeks": plan, "review": review})
    return plans


def _index_key(term: str) -> str:
    """Where a term sorts: by its words, case and backticks aside, leading underscores too
    (`__slots__` under S, beside "slot")."""
    return term.strip("`").lstrip("_").lower()


def run_in(html_text: Markup, label: str) -> Markup:
    """A part's label run into its first paragraph, where the part opens with one; otherwise
    (a list, a heading, a figure, code) a heading line of its own."""
    if html_text.startswith("<p>"):
        return Markup('<p><span class="part runin">{}</span>\u00a0').format(label) + html_text[3:]
    return Markup('<h3 class="part">{}</h3>').format(label) + html_text


def name_breaks(name: str) -> Markup:
    """A Python name with break opportunities after its dots and inner underscores, for a
    narrow column: asyncio.run_coroutine_threadsafe may wrap after "run_", never mid-word.
    Short names are left whole."""
    if len(name) <= 24:
        return escape(name)
    lead = len(name) - len(name.lstrip("_"))
    pieces = re.split(r"(?<=[._])(?=[^._])", name[lead:])
    return Markup(escape(name[:lead])) + Markup("<wbr>").join(escape(p) for p in pieces)


_NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                 "eleven", "twelve")


def plan_title(weeks: int, review: bool) -> str:
    """A plan's heading: "A four-week plan", "An eight-week plan, the last week for review"."""
    word = _NUMBER_WORDS[weeks - 1] if weeks <= len(_NUMBER_WORDS) else str(weeks)
    article = "An" if word.startswith(("e", "8", "11", "18")) else "A"
    return f"{article} {word}-week plan" + (", the last week for review" if review else "")


def subject_index(questions) -> list[tuple[str, list[dict]]]:
    """The subject index from the answers' `index` fields: (heading, entries) per initial, each
    entry its term as most answers spell it, whether it is a Python name, and the numbers of
    the answers that explain it. Terms that differ only in case or backticks are one entry."""
    spellings: dict[str, Counter] = {}
    numbers: dict[str, set[int]] = {}
    for q in questions:
        for term in q.index:
            key = term.strip("`").lower()
            spellings.setdefault(key, Counter())[term] += 1
            numbers.setdefault(key, set()).add(q.number)
    groups: dict[str, list[dict]] = {}
    for key in sorted(numbers, key=lambda k: (_index_key(k), k)):
        # The most common spelling; on a tie, the Python name (backticked) one.
        term = max(spellings[key], key=lambda t: (spellings[key][t], t.startswith("`"), t))
        initial = _index_key(term)[:1].upper()
        heading = initial if initial.isalpha() else "Symbols and numbers"
        groups.setdefault(heading, []).append({
            "text": term.strip("`"), "code": term.startswith("`"),
            "numbers": sorted(numbers[key])})
    return list(groups.items())


class HandbookRenderer(Renderer):
    name = "handbook"

    def __init__(self, paper: str = "a4", edition: str = "full", progress: dict | None = None):
        # `progress`: what the learner's progress file says (studykit.progress.handbook_view).
        super().__init__(paper=paper, edition=edition,
                         **({"progress": progress} if progress else {}))
        if paper not in PAPERS:
            raise ValueError(f"paper must be one of {', '.join(PAPERS)}")
        if edition not in EDITIONS:
            raise ValueError(f"edition must be one of {', '.join(EDITIONS)}")
        self.paper = paper
        self.edition = edition
        self.progress = progress
        self._envs: dict = {}
        self._fragments: Fragments | None = None

    def output_name(self) -> str:
        # A4 and the full edition are the default; the others get their own file, so that
        # each can sit beside the rest.
        name = "handbook" + ("" if self.edition == "full" else f"-{self.edition}")
        return name + (".pdf" if self.paper == "a4" else f"-{self.paper}.pdf")

    def targets(self, ctx: BuildContext) -> list[Path]:
        return [ctx.out_dir / self.output_name()]

    # ------------------------------------------------------------------ shared pieces

    def _env(self, ctx: BuildContext):
        # One environment per render: each new one compiles every template it loads again.
        env = self._envs.get(ctx.templates_dir)
        if env is None:
            env = self._envs[ctx.templates_dir] = self.jinja(ctx, "handbook")
            env.filters["code"] = inline_code
            env.filters["name_breaks"] = name_breaks
            env.filters["run_in"] = run_in
            env.globals["plan_title"] = plan_title
        return env

    def page_css(self, ctx: BuildContext) -> Markup:
        paper = PAPERS[self.paper]
        side = (paper.width - TEXT_WIDTH) / 2
        env = self._env(ctx)
        return Markup(env.get_template("handbook.css.j2").render(
            size=paper.css_size, top=MARGIN_TOP, bottom=MARGIN_BOTTOM, side=side,
            text_width=TEXT_WIDTH, marks=MARKS, code_css=Markup(style_css(".hl"))))

    def _fragment(self, kind: str, text: str, make: Callable[[], Markup]) -> Markup:
        return self._fragments.get(kind, text, make) if self._fragments else make()

    @staticmethod
    def chapters(ctx: BuildContext) -> list[Topic]:
        """Topics with at least one answered question in the (filtered) kit, in bank order."""
        return [t for t in ctx.kit.topics if t.questions]

    @staticmethod
    def bank_text(ctx: BuildContext) -> dict[int, str]:
        return {b.number: b.question for b in ctx.kit.bank}

    def _sample_views(self, ctx: BuildContext, q: Question) -> list[dict]:
        """The samples as printed: version twins (samples with the same code, each for other
        Pythons) are one, its code once with each version's output, in the bank's order."""
        views: list[dict] = []
        by_code: dict[str, dict] = {}
        for s in q.samples:
            twin = {"s": s,
                    "output": code_lines(s.output, highlight=False) if s.output.strip() else None,
                    "verified": verified_text([i.label for i in ctx.verified_on(q, s)]),
                    # Too short to break with KEEP_LINES on each side: kept whole.
                    "whole": len(s.output.strip("\n").splitlines()) < 2 * KEEP_LINES}
            view = by_code.get(s.code) if s.python else None
            if view is not None and all(t["s"].python for t in view["twins"]):
                view["twins"].append(twin)
                continue
            view = {"code": self._fragment("code", s.code,
                                           lambda s=s: code_lines(s.code, highlight=True)),
                    "twins": [twin]}
            views.append(view)
            by_code.setdefault(s.code, view)
        for view in views:
            # A twin's label names its version and title: always a line of its own.
            single = len(view["twins"]) == 1
            for twin in view["twins"]:
                output = twin["s"].output
                twin["inline"] = (single and bool(output.strip()) and bool(twin["verified"])
                                  and label_fits_first_line(output, twin["verified"]))
        return views

    def question_view(self, ctx: BuildContext, q: Question, in_book: set[int],
                      bank_text: dict[int, str]) -> dict:
        see_also = []
        for n in q.see_also:
            target = ctx.kit.question(n)
            see_also.append({"number": n, "linked": n in in_book,
                             "text": target.question if target else bank_text.get(n, "")})
        return {
            "q": q,
            "answer": answer_html(ctx, q, lambda md: self._fragment(
                "md", md, lambda: markdown_html(md)), self._env(ctx)),
            "samples": self._sample_views(ctx, q),
            "see_also": see_also,
        }

    # ------------------------------------------------------------------ the parts

    @staticmethod
    def page_of(anchor: str, prefix: str = "", align: str = "right") -> Markup:
        """A hidden stand-in for the page number of `anchor`, stamped on the joined book.
        Right-aligned in its room (a column of numbers); left-aligned where the number follows
        words, as in the index, so that a short number leaves no gap before it."""
        shown = (prefix + PAGE_STAND_IN).replace(" ", "\u00a0")
        extra = Markup(' data-align="left"') if align == "left" else ""
        return Markup('<span class="pgref" data-ref="{a}" data-prefix="{p}"{x}>{s}</span>').format(
            a=anchor, p=prefix, x=extra, s=shown)

    def front_html(self, ctx: BuildContext) -> Markup:
        """Cover, how to use this guide, and the contents."""
        kit = ctx.kit
        answered = Counter(q.difficulty for q in kit.questions)
        in_bank = Counter(b.difficulty for b in kit.bank)
        levels = [{"name": d, "letter": DIFFICULTY_LETTERS[d], "shape": MARKS[d][0],
                   "answered": answered[d], "total": in_bank[d], "meaning": LEVEL_MEANING[d]}
                  for d in DIFFICULTIES]
        ran = {i.version_key.release[:2] for i in ctx.interpreters}
        env = self._env(ctx)
        return Markup(env.get_template("front.html.j2").render(
            title=TITLE, subtitle=EDITIONS[self.edition], edition=self.edition,
            interpreters=[i.label for i in ctx.interpreters],
            described=_version_span(DESCRIBED_VERSIONS),
            not_run=_and_list([f"{a}.{b}" for a, b in DESCRIBED_VERSIONS if (a, b) not in ran]),
            build_date=ctx.build_date.isoformat(), answered=len(kit.questions),
            total=len(kit.bank), levels=levels, chapters=self.chapters(ctx),
            first_number=min(b.number for b in kit.bank), last_number=max(b.number for b in kit.bank),
            plans=study_plans(self.chapters(ctx)),
            letters=DIFFICULTY_LETTERS, marks=MARKS, page_of=self.page_of,
            progress=self.progress,
            has_index=self._has_index(ctx)))

    def chapter_html(self, ctx: BuildContext, topic: Topic) -> Markup:
        """One topic's chapter: its opener, then each of its answered questions."""
        in_book = {q.number for q in ctx.kit.questions}
        bank_text = self.bank_text(ctx)
        env = self._env(ctx)
        intro = (self._fragment("md", topic.intro, lambda: markdown_html(topic.intro))
                 if topic.intro.strip() else None)
        return Markup(env.get_template("chapter.html.j2").render(
            topic=topic, intro=intro, edition=self.edition,
            questions=[self.question_view(ctx, q, in_book, bank_text) for q in topic.questions],
            letters=DIFFICULTY_LETTERS, marks=MARKS, page_of=self.page_of))

    def back_html(self, ctx: BuildContext) -> Markup:
        """The progress checklist (each question's page and three review columns), then in the
        full edition the subject index."""
        env = self._env(ctx)
        return Markup(env.get_template("back.html.j2").render(
            chapters=self.chapters(ctx), letters=DIFFICULTY_LETTERS, marks=MARKS,
            page_of=self.page_of,
            known=set(self.progress["known"]) if self.progress else set(),
            subjects=subject_index(ctx.kit.questions) if self._has_index(ctx) else []))

    def _has_index(self, ctx: BuildContext) -> bool:
        # Only the full edition has an index, and a bank whose answers name no subjects has none.
        return self.edition == "full" and any(q.index for q in ctx.kit.questions)

    def _document(self, ctx: BuildContext, css: Markup, body: list[Markup]) -> str:
        return self._env(ctx).get_template("book.html.j2").render(title=TITLE, css=css,
                                                                   body=body)

    def part_htmls(self, ctx: BuildContext) -> list[tuple[str, Callable[[], str]]]:
        """(label, maker of its HTML) of each part of the book, in book order."""
        css = self.page_css(ctx)
        makers: list[tuple[str, Callable[[], str]]] = [
            ("front matter", lambda: self._document(ctx, css, [self.front_html(ctx)]))]
        for t in self.chapters(ctx):
            makers.append((f"chapter {t.position}",
                           lambda t=t: self._document(ctx, css, [self.chapter_html(ctx, t)])))
        makers.append(("back matter", lambda: self._document(ctx, css, [self.back_html(ctx)])))
        return makers

    def likely_changed_first(self, ctx: BuildContext) -> list[int]:
        """The parts' positions, the chapter whose files were saved last first.

        Only the order in which the parts' HTML is made: the first part missing from the cache
        starts laying out as soon as its HTML is made, so after an edit the edited chapter is
        not kept waiting for the HTML of the chapters before it. Which parts are laid out is
        still decided by their HTML alone."""
        def saved(t: Topic) -> float:
            times = [0.0]
            for q in t.questions:
                try:
                    times.append(q.path.stat().st_mtime if q.path else 0.0)
                except OSError:
                    pass
            return max(times)

        chapters = self.chapters(ctx)
        newest = sorted(range(len(chapters)), key=lambda i: -saved(chapters[i]))
        return [i + 1 for i in newest] + [0, len(chapters) + 1]

    def document_html(self, ctx: BuildContext) -> str:
        """The whole book as one document (the benchmark's single-pass baseline lays it out)."""
        body = [self.front_html(ctx)] + [self.chapter_html(ctx, t) for t in self.chapters(ctx)]
        return self._document(ctx, self.page_css(ctx), body + [self.back_html(ctx)])

    @staticmethod
    def _pages_laid_out(part) -> str:
        if part.rejoined_at:
            return f" (its pages {part.resumed_from + 1} to {part.rejoined_at} of {part.pages})"
        if part.resumed_from:
            return f" from its page {part.resumed_from + 1} of {part.pages}"
        return ""

    def metadata(self, ctx: BuildContext) -> dict:
        kit = ctx.kit
        keywords = ["Python", "interview questions", "CPython"] + [
            t.title for t in self.chapters(ctx)]
        stamp = ctx.build_date.strftime("D:%Y%m%d000000")
        return {"Title": TITLE,
                "Subject": f"Verified answers to {len(kit.questions)} Python interview questions",
                "Keywords": ", ".join(keywords), "Author": "Python Interview Study Kit",
                "Creator": "studykit (WeasyPrint, pikepdf)", "CreationDate": stamp,
                "ModDate": stamp}

    # ------------------------------------------------------------------ output

    def write(self, ctx: BuildContext) -> RenderResult:
        from ..freshness import tree_digest

        if not ctx.kit.questions:
            raise RenderError("handbook: no answered questions match the selection")
        self.require_glyphs(ctx)
        makers = self.part_htmls(ctx)
        self._fragments = Fragments(cache_path(ctx.cache_dir, "handbook-fragments"))
        cache = PartCache(cache_path(ctx.cache_dir, "handbook-parts"),
                          # What the HTML refers to but does not contain (images).
                          salt=tree_digest(ctx.templates_dir / "handbook"))
        try:
            parts = lay_out(((i, makers[i][1]()) for i in self.likely_changed_first(ctx)),
                            str(ctx.templates_dir / "handbook"), cache, pool=ctx.pool)
            self._fragments.save()
        finally:
            self._fragments = None
        messages = self.slower_note(parts)
        [target] = self.targets(ctx)
        # Every page but the cover's prints its number.
        pages = join(parts, target, self.metadata(ctx), cache, pool=ctx.pool, numbers_from=1)
        fresh = [label + self._pages_laid_out(p) for (label, _), p in zip(makers, parts)
                 if not p.cached]
        if len(fresh) == len(parts):
            laid = f"all {len(parts)} parts laid out"
        elif not fresh:
            laid = f"all {len(parts)} parts from the cache"
        else:
            laid = f"laid out {', '.join(fresh)}; {len(parts) - len(fresh)} parts from the cache"
        messages.append(f"{len(ctx.kit.questions)} questions in {len(self.chapters(ctx))} "
                        f"chapter(s) on {pages} {self.paper} pages ({laid})")
        return RenderResult(self.name, [target], messages, laid_out=fresh,
                            counts={"pages": pages})
