"""Flashcard sheets: fronts and backs laid out so each back prints behind its front.

Geometry is computed here in millimetres and placed absolutely, so positions are exact and the
tests can check the mirroring. Every card face is measured after layout (WeasyPrint reports
where anchors land) and stepped down in size until it fits, or the build fails naming the card.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import RenderError
from ..markdown import inline_code
from ..model import DIFFICULTIES, DIFFICULTY_LETTERS, Question, Sample
from ..output import atomic_path
from .base import BuildContext, Renderer, run_pieces
from .highlight import highlight_lines, style_css

PAPERS = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}
PX_PER_MM = 96 / 25.4

# Shapes as well as letters and colours, so the level reads in black-and-white print.
MARKS = {
    "easy": ("\u25cf", "#2e7d32"),     # circle
    "medium": ("\u25a0", "#1565c0"),   # square
    "hard": ("\u25b2", "#e65100"),     # triangle
    "expert": ("\u25c6", "#b71c1c"),   # diamond
}


@dataclass(frozen=True)
class Layout:
    name: str
    cols: int
    rows: int
    card_w: float          # mm
    card_h: float
    padding: float         # mm inside the card edge: survives 1 mm front/back misregistration
    prose_sizes: tuple[float, ...]   # pt, largest first; the last is the floor
    code_sizes: tuple[float, ...]
    question_scale: float  # the question on the front is set larger than the back's prose
    comfort_steps: int     # size steps taken, keeping every key point, before any is dropped

    @property
    def per_sheet(self) -> int:
        return self.cols * self.rows


LAYOUTS = {
    "8up": Layout("8up", 2, 4, 88.0, 62.0, 4.0, (10.0, 9.5, 9.0, 8.5, 8.0), (8.0, 7.5, 7.0), 1.25, 2),
    "4up": Layout("4up", 2, 2, 92.0, 126.0, 6.0,
                  (15.0, 14.0, 13.0, 12.0, 11.0, 10.0, 9.0, 8.0), (11.0, 10.0, 9.0, 8.0, 7.0), 1.3, 3),
}


@dataclass(frozen=True)
class Slot:
    """Where a card sits on a sheet, in mm from the top-left corner of the page."""

    x: float
    y: float


@dataclass
class Face:
    card_id: str
    difficulty: str
    kind: str                        # "front", "back" or "test"
    question: Question | None = None
    prose_pt: float = 0.0
    code_pt: float = 0.0
    points: int = 0                  # key points shown on a back
    label: str = ""                  # test sheet: F1, B1, ...
    shrunk: bool = False


@dataclass
class Page:
    faces: list[tuple[Slot, Face]] = field(default_factory=list)
    side: str = "front"              # "front", "back" or "fold"


@dataclass(frozen=True)
class Sheet:
    paper: str
    layout: Layout
    duplex: str

    @property
    def size(self) -> tuple[float, float]:
        return PAPERS[self.paper]

    def grid(self) -> list[Slot]:
        """Card slots on a front page, row by row, centred on the paper."""
        w, h = self.size
        cols = self.layout.cols
        x0 = (w - cols * self.layout.card_w) / 2
        y0 = (h - self.layout.rows * self.layout.card_h) / 2
        return [Slot(x0 + c * self.layout.card_w, y0 + r * self.layout.card_h)
                for r in range(self.layout.rows) for c in range(cols)]

    def crop_marks(self, gap: float = 2.0, length: float = 8.0, edge: float = 6.0):
        """(x, y, w, h) rectangles in mm: marks on every grid line, kept `edge` mm off the sheet edge."""
        w, h = self.size
        gw, gh = self.layout.cols * self.layout.card_w, self.layout.rows * self.layout.card_h
        gx, gy = (w - gw) / 2, (h - gh) / 2
        t = 0.2
        marks = []
        if gy - gap - edge >= 1.5:
            top = max(edge, gy - gap - length)
            for c in range(self.layout.cols + 1):
                x = gx + c * self.layout.card_w - t / 2
                marks.append((x, top, t, gy - gap - top))
                marks.append((x, gy + gh + gap, t, gy - gap - top))
        if gx - gap - edge >= 1.5:
            left = max(edge, gx - gap - length)
            for r in range(self.layout.rows + 1):
                y = gy + r * self.layout.card_h - t / 2
                marks.append((left, y, gx - gap - left, t))
                marks.append((gx + gw + gap, y, gx - gap - left, t))
        return marks

    def behind(self, slot: Slot) -> Slot:
        """Where the back of the card at `slot` must be printed for this duplex mode."""
        w, h = self.size
        if self.duplex == "long":   # the sheet turns over about its long (vertical) edge
            return Slot(w - slot.x - self.layout.card_w, slot.y)
        if self.duplex == "short":  # about its short (horizontal) edge
            return Slot(slot.x, h - slot.y - self.layout.card_h)
        raise ValueError(self.duplex)

    def fold_slots(self) -> list[tuple[Slot, Slot]]:
        """Fold mode: fronts in the left column, each back beside it across the fold."""
        grid = self.grid()
        cols = self.layout.cols
        rows = [grid[r * cols:(r + 1) * cols] for r in range(self.layout.rows)]
        return [(row[0], row[-1]) for row in rows]


# Faces laid out together when measuring: enough to keep WeasyPrint's start-up cost small, few
# enough to spread over the cores and to keep one document's memory bounded.
MEASURE_CHUNK = 48
# Card sheets laid out as one part of the PDF: an edit lays out its part again; every part
# carries its own subsets of the fonts.
SHEETS_PER_PART = 3
# Bump when what a measurement records changes: older ones are not reused.
MEASURE_FORMAT = 1


def measure_faces(html: str, base_url: str, faces: list[tuple[int, int, bool, int, int]]
                  ) -> list[dict[int, float]]:
    """Lay out a column of faces (run in a worker: the result is plain data).

    `faces` holds, per face: its index in the document, the key points laid out, whether it
    is measured point by point, the points it shows otherwise, and the number of its header
    among the document's headers (-1: it has none). Returns, per face, its height in px by
    the number of key points shown.

    Faces are laid out without their headers, each distinct header once on its own: a header
    is a table, which cost a fifth of the measuring when every face had its own. Its share of
    a face's height is what it adds to an empty face; nothing of a header wraps but the topic,
    and what follows a header starts without a top margin, so the share is the same in every
    face that has it."""
    from .pdfparts import render_html

    doc = render_html(html, base_url)
    anchors: dict[str, tuple] = {}
    page_of: dict[str, int] = {}
    for n, page in enumerate(doc.pages):
        for key, pos in page.anchors.items():
            anchors[key] = pos
            page_of[key] = n

    def span(start: str, end: str) -> float:
        return (anchors[end][1] - anchors[start][1] if page_of[end] == page_of[start]
                else float("inf"))

    empty = span("z", "ze")
    heads = len({head for *_, head in faces if head >= 0})
    share = [span(f"h{n}", f"he{n}") - empty for n in range(heads)]
    heights = []
    for index, shown, point_by_point, points, head in faces:
        extra = share[head] if head >= 0 else 0.0
        start = f"s{index}"
        if point_by_point:
            # With k points shown the face ends where point k+1 begins.
            by_points = {k: span(start, f"p{index}_{k}") + extra for k in range(shown)}
            by_points[shown] = span(start, f"e{index}") + extra
        else:
            by_points = {points: span(start, f"e{index}") + extra}
        heights.append(by_points)
    return heights


class MeasureCache:
    """Faces' heights from earlier builds, by a hash of what was laid out."""

    def __init__(self, path: Path | None):
        import json

        self.path = path
        self.entries: dict[str, dict[str, float]] = {}
        self.used: set[str] = set()
        if path is not None:
            try:
                loaded = json.loads(path.read_text("utf-8"))
                if isinstance(loaded, dict) and loaded.get("format") == MEASURE_FORMAT:
                    self.entries = loaded["heights"]
            except (OSError, ValueError, KeyError):
                pass

    @staticmethod
    def key(page: str, face: str) -> str:
        import hashlib

        from ..freshness import library_version

        h = hashlib.sha256()
        for piece in (str(MEASURE_FORMAT), library_version("weasyprint"), page, face):
            h.update(piece.encode("utf-8"))
            h.update(b"\0")
        return h.hexdigest()[:32]

    def get(self, key: str) -> dict[int, float] | None:
        found = self.entries.get(key)
        if found is None:
            return None
        self.used.add(key)
        # JSON keeps infinity as Infinity, which json reads back as float("inf").
        return {int(k): float(v) for k, v in found.items()}

    def put(self, key: str, by_points: dict[int, float]) -> None:
        self.entries[key] = {str(k): v for k, v in by_points.items()}
        self.used.add(key)

    def save(self) -> None:
        """Write what this build used; what it did not is kept while the file stays small
        (another paper or layout may want it back)."""
        import json

        if self.path is None:
            return
        if len(self.entries) > 4 * max(len(self.used), 1):
            self.entries = {k: v for k, v in self.entries.items() if k in self.used}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(self.path) as tmp:
                tmp.write_text(json.dumps({"format": MEASURE_FORMAT, "heights": self.entries}),
                               "utf-8")
        except OSError:
            pass   # a cache that cannot be written only costs time


class _SizeSearch:
    """Where one face stands in its search for the best option that fits.

    `groups` are the face's candidates grouped by size, best first; one layout at a size gives
    the heights of every option of that size. The search goes down from `start`; when `start`
    is below the top and its first option fits, it then goes up from the top to find the
    largest size that fits."""

    def __init__(self, face: Face, groups: list[list[tuple]], start: int):
        self.face, self.groups, self.start = face, groups, start
        self.at = start
        self.upward = False
        self.best: tuple | None = None

    def measured(self, by_points: dict[int, float], limit: float) -> bool:
        """Take the heights at the current size; True if another size must be measured."""
        group = self.groups[self.at]
        fits = next((o for o in group if by_points.get(o[2], float("inf")) <= limit), None)
        if self.upward:
            if fits is not None:
                self.best = fits
                return False
            self.at += 1
            return self.at < self.start
        if fits is None:
            self.at += 1
            return self.at < len(self.groups)
        self.best = fits
        if self.at > 0 and fits == group[0]:
            self.upward, self.at = True, 0
            return True
        return False


def _runs(numbers: list[int]) -> str:
    """Q2-Q5, Q9: card IDs with consecutive numbers joined, so a long list stays readable."""
    out: list[str] = []
    nums = sorted(set(numbers))
    start = prev = None
    for n in nums + [None]:
        if start is not None and n is not None and n == prev + 1:
            prev = n
            continue
        if start is not None:
            out.append(f"Q{start}" if start == prev else f"Q{start}-Q{prev}")
        start = prev = n
    return ", ".join(out)


class FlashcardRenderer(Renderer):
    name = "flashcards"

    def __init__(self, paper: str = "a4", layout: str = "8up", duplex: str = "long",
                 test_sheet: bool = True):
        super().__init__()
        self.sheet = Sheet(paper, LAYOUTS[layout], duplex)
        self.test_sheet = test_sheet
        self.shrunk: list[str] = []

    def output_name(self) -> str:
        extra = "".join(f"-{v}" for v, default in ((self.sheet.layout.name, "8up"),
                                                   (self.sheet.duplex, "long")) if v != default)
        return f"flashcards-{self.sheet.paper}{extra}.pdf"

    # ------------------------------------------------------------------ content

    def cards(self, ctx: BuildContext) -> list[Question]:
        topic_pos = {t.slug: t.position for t in ctx.kit.topics}
        return sorted(ctx.kit.questions,
                      key=lambda q: (q.difficulty_rank, topic_pos[q.topic], q.number))

    def faces_for(self, q: Question) -> tuple[Face, Face]:
        base = self.sheet.layout
        front = Face(q.card_id, q.difficulty, "front", q, base.prose_sizes[0], base.code_sizes[0])
        back = Face(q.card_id, q.difficulty, "back", q, base.prose_sizes[0], base.code_sizes[0],
                    points=len(q.key_points))
        return front, back

    # ------------------------------------------------------------------ fitting

    def fit(self, ctx: BuildContext, faces: list[Face]) -> None:
        """Shrink or trim each face until it fits its card; fail naming those that never do.

        The result is the first of `candidates` that fits. A back is laid out with every key
        point and the height after each is read, so one layout answers for every number of
        points at that size (a point's height does not depend on the points after it). Text set
        smaller is never taller, so a back is first tried at the comfortable size: if it fits
        there whole, the larger sizes are tried from the top; if not, smaller ones from there."""
        layout = self.sheet.layout
        # Measured from the top of the face (padding included) to the end of its content.
        limit = (layout.card_h - layout.padding) * PX_PER_MM
        env = self.jinja(ctx, "flashcards")
        comfort = layout.prose_sizes[min(layout.comfort_steps, len(layout.prose_sizes) - 1)]
        searches = []
        for f in faces:
            options = self.candidates(f) if f.question else [(f.prose_pt, f.code_pt, 0)]
            groups: list[list[tuple]] = []
            for o in options:
                if groups and groups[-1][0][:2] == o[:2]:
                    groups[-1].append(o)
                else:
                    groups.append([o])
            start = next((g for g, grp in enumerate(groups) if grp[0][0] == comfort), 0) \
                if f.kind == "back" else 0
            searches.append(_SizeSearch(f, groups, start))
        self._measured = MeasureCache(ctx.cache_dir / "flashcards-measured.json"
                                      if ctx.cache_dir else None)
        pending = searches
        while pending:
            for search in pending:
                search.face.prose_pt, search.face.code_pt, _ = search.groups[search.at][0]
            heights = self._measure(ctx, env, [search.face for search in pending])
            pending = [search for search, by_points in zip(pending, heights)
                       if search.measured(by_points, limit)]
        self._measured.save()
        failed = [search.face for search in searches if search.best is None]
        if failed:
            names = ", ".join(f"{f.card_id} ({f.kind})" for f in failed)
            verb = "does" if len(failed) == 1 else "do"
            raise RenderError(f"flashcards: {names} {verb} not fit a {layout.name} card even "
                              f"at {layout.prose_sizes[-1]:g} pt text and "
                              f"{layout.code_sizes[-1]:g} pt code; shorten the text")
        for search in searches:
            face = search.face
            face.prose_pt, face.code_pt, face.points = search.best
            face.shrunk = search.best != search.groups[0][0]
        layout_default = layout.prose_sizes[0]
        cards = [f for f in faces if f.question]
        self.shrunk = [f"{f.card_id} {f.kind}" for f in cards if f.prose_pt < layout_default]
        smaller = {kind: [f.question.number for f in cards
                          if f.kind == kind and f.prose_pt < layout_default]
                   for kind in ("front", "back")}
        trimmed = [f.question.number for f in cards
                   if f.kind == "back" and f.points < len(f.question.key_points)]
        if self.shrunk:
            parts = [f"{kind}s {_runs(nums)}" for kind, nums in smaller.items() if nums]
            self.messages.append(f"{len(self.shrunk)} card face(s) set below "
                                 f"{layout_default:g} pt to fit: {'; '.join(parts)}")
        if trimmed:
            self.messages.append(f"{len(trimmed)} back(s) show only the key points that fit: "
                                 f"{_runs(trimmed)}")

    def candidates(self, face: Face) -> list[tuple[float, float, int]]:
        """(prose pt, code pt, key points) to try, best first.

        Shrink to a comfortable size with every key point, then drop key points down to one,
        then shrink to the floor, and only then give up the last key point.
        """
        layout = self.sheet.layout
        sizes, codes = layout.prose_sizes, layout.code_sizes
        code = {p: codes[min(i, len(codes) - 1)] for i, p in enumerate(sizes)}
        comfort = sizes[min(layout.comfort_steps, len(sizes) - 1)]
        total = len(face.question.key_points) if face.kind == "back" and face.question else 0
        if total == 0:
            return [(p, code[p], 0) for p in sizes]
        out = [(p, code[p], total) for p in sizes if p >= comfort]
        out += [(comfort, code[comfort], k) for k in range(total - 1, 0, -1)]
        out += [(p, code[p], 1) for p in sizes if p < comfort]
        out.append((sizes[-1], code[sizes[-1]], 0))
        return out

    def _measure(self, ctx: BuildContext, env, faces: list[Face]) -> list[dict[int, float]]:
        """For each face, its height in px by the number of key points shown (backs), or
        under its own number of points (fronts and test faces).

        Heights are kept between builds under a hash of what is laid out (the face's HTML and
        the measuring page around it), so an edit measures only the faces it changed. The rest
        are laid out in chunks, in parallel: a bounded document each, however large the bank."""
        layout = self.sheet.layout
        common = self._common(layout)
        page = env.get_template("measure.html.j2").render(faces=[], heads=[], **common)
        face_template = env.get_template("face.html.j2")
        views, keys = [], []
        for i, f in enumerate(faces):
            view = self.measure_view(f, i)
            views.append(view)
            keys.append(self._measured.key(page, face_template.render(v={**view, "index": 0},
                                                                      **common)))
        heights: list[dict[int, float] | None] = [self._measured.get(k) for k in keys]
        todo = [i for i, h in enumerate(heights) if h is None]
        chunks = [todo[n:n + MEASURE_CHUNK] for n in range(0, len(todo), MEASURE_CHUNK)]
        pieces = []
        for chunk in chunks:
            # A header's height depends on its text but not on the card's ID, which never
            # wraps: one header per side, topic and level is laid out.
            heads: dict[tuple, int] = {}
            head_views, face_views, numbers = [], [], []
            for i in chunk:
                f = faces[i]
                head = -1
                if f.question is not None:
                    which = (f.kind, views[i]["topic"] if f.kind == "front" else "",
                             f.difficulty)
                    if which not in heads:
                        heads[which] = len(heads)
                        head_views.append({**views[i], "head_only": True})
                    head = heads[which]
                face_views.append({**views[i], "head": False})
                numbers.append((i, len(views[i]["points"]), views[i]["measure"],
                                faces[i].points, head))
            html = env.get_template("measure.html.j2").render(
                faces=face_views, heads=head_views, **common)
            pieces.append((html, str(ctx.templates_dir / "flashcards"), numbers))

        def done(n: int, measured: list[dict[int, float]]) -> None:
            for i, by_points in zip(chunks[n], measured):
                heights[i] = by_points
                self._measured.put(keys[i], by_points)

        run_pieces(measure_faces, pieces, ctx.pool, done)
        return heights  # type: ignore[return-value]

    # ------------------------------------------------------------------ pages

    def pages(self, questions: list[Question]) -> tuple[list[Page], list[Face]]:
        sheet = self.sheet
        pages: list[Page] = []
        faces: list[Face] = []
        if self.test_sheet:
            pages += self._test_pages()
        by_level = {d: [q for q in questions if q.difficulty == d] for d in DIFFICULTIES}
        for level in DIFFICULTIES:
            qs = by_level[level]
            if sheet.duplex == "fold":
                slots = sheet.fold_slots()
                for start in range(0, len(qs), len(slots)):
                    page = Page(side="fold")
                    for (fs, bs), q in zip(slots, qs[start:start + len(slots)]):
                        front, back = self.faces_for(q)
                        page.faces += [(fs, front), (bs, back)]
                        faces += [front, back]
                    pages.append(page)
                continue
            grid = sheet.grid()
            for start in range(0, len(qs), len(grid)):
                front_page, back_page = Page(side="front"), Page(side="back")
                for slot, q in zip(grid, qs[start:start + len(grid)]):
                    front, back = self.faces_for(q)
                    front_page.faces.append((slot, front))
                    back_page.faces.append((sheet.behind(slot), back))
                    faces += [front, back]
                pages += [front_page, back_page]
        return pages, faces

    def _test_pages(self) -> list[Page]:
        sheet = self.sheet
        if sheet.duplex == "fold":
            page = Page(side="fold")
            for n, (fs, bs) in enumerate(sheet.fold_slots(), start=1):
                page.faces += [(fs, Face(f"F{n}", "", "test", label=f"F{n}")),
                               (bs, Face(f"B{n}", "", "test", label=f"B{n}"))]
            return [page]
        front, back = Page(side="front"), Page(side="back")
        for n, slot in enumerate(sheet.grid(), start=1):
            front.faces.append((slot, Face(f"F{n}", "", "test", label=f"F{n}")))
            back.faces.append((sheet.behind(slot), Face(f"B{n}", "", "test", label=f"B{n}")))
        return [front, back]

    # ------------------------------------------------------------------ views for templates

    def jinja(self, ctx: BuildContext, folder: str):
        env = super().jinja(ctx, folder)
        env.filters["code"] = inline_code
        return env

    def _common(self, layout: Layout) -> dict:
        return {"layout": layout, "marks": MARKS, "letters": DIFFICULTY_LETTERS,
                "inner_w": layout.card_w - 2 * layout.padding, "code_css": style_css(".code")}

    def _face_view(self, face: Face, index: int, ctx: BuildContext | None = None) -> dict:
        view = {"face": face, "index": index, "q": face.question, "sample": None,
                "topic": "", "points": [], "measure": False}
        q = face.question
        if q is not None:
            if face.kind == "front":
                card_samples = [s for s in q.samples if s.card]
                if card_samples:
                    view["sample"] = highlight_lines(card_samples[0].code)
            else:
                view["points"] = list(q.key_points[:face.points])
            view["topic"] = self._topic_titles.get(q.topic, q.topic)
        return view

    def measure_view(self, face: Face, index: int) -> dict:
        """A face as laid out to be measured: a back with every key point, each marked."""
        view = self._face_view(face, index)
        if face.kind == "back" and face.question:
            view["points"] = list(face.question.key_points)
            view["measure"] = True
        return view

    def content_key(self, ctx: BuildContext) -> str:
        # The cards show neither the full answer nor pitfalls, follow-ups or references.
        cards = [(q.number, q.question, q.difficulty, q.topic, q.summary, q.key_points,
                  [(s.code, s.card) for s in q.samples]) for q in ctx.kit.questions]
        return repr(([(t.slug, t.title) for t in ctx.kit.topics], cards))

    def render(self, ctx: BuildContext) -> list[Path]:
        from ..freshness import tree_digest
        from .pdfparts import PartCache, join, lay_out

        self._topic_titles = {t.slug: t.title for t in ctx.kit.topics}
        questions = self.cards(ctx)
        if not questions:
            raise RenderError("flashcards: no answered questions match the selection")
        self.require_glyphs(ctx)
        pages, faces = self.pages(questions)
        self.fit(ctx, faces)

        env = self.jinja(ctx, "flashcards")
        w, h = self.sheet.size
        layout = self.sheet.layout
        counter = iter(range(10**9))
        page_views = [{"side": p.side, "faces": [(slot, self._face_view(f, next(counter)))
                                                  for slot, f in p.faces]} for p in pages]
        template = env.get_template("sheets.html.j2")
        htmls = [template.render(pages=group, paper_w=w, paper_h=h, grid=self.sheet.grid(),
                                 duplex=self.sheet.duplex, fold_x=w / 2, count=len(questions),
                                 crops=self.sheet.crop_marks(), **self._common(layout))
                 for group in self._parts(page_views)]
        # Sheets are independent pages: laid out in parts, in parallel, and an edit lays out
        # only the part holding its card (see pdfparts).
        folder = ctx.templates_dir / "flashcards"
        cache = PartCache(ctx.cache_dir / "flashcards-parts" if ctx.cache_dir else None,
                          salt=tree_digest(folder))
        parts = lay_out(enumerate(htmls), str(folder), cache, pool=ctx.pool)
        target = ctx.out_dir / self.output_name()
        join(parts, target, {"title": "Python Interview Flashcards",
                             "subject": f"{len(questions)} flashcards, duplex: "
                                        f"{self.sheet.duplex}",
                             "creator": "studykit (WeasyPrint, PyMuPDF)"}, cache, pool=ctx.pool)
        sheets = sum(1 for p in pages if p.side != "back")
        fresh = sum(1 for p in parts if not p.cached)
        laid = (f"all {len(parts)} parts laid out" if fresh == len(parts) else
                f"all {len(parts)} parts from the cache" if not fresh else
                f"{fresh} of {len(parts)} parts laid out, the rest from the cache")
        self.messages.append(f"{len(questions)} cards on {sheets} sheet(s), {self.sheet.paper} "
                             f"{layout.name}, duplex {self.sheet.duplex} ({laid})")
        return [target]

    def _parts(self, pages: list[dict]) -> list[list[dict]]:
        """Pages grouped into parts of whole sheets (a front and its back, or one folded
        page); the test sheet is a part of its own, since it never changes."""
        sheets: list[list[dict]] = []
        for page in pages:
            if page["side"] == "back":
                sheets[-1].append(page)
            else:
                sheets.append([page])
        first = 1 if self.test_sheet else 0
        parts = [sheet for sheet in sheets[:first]]
        for n in range(first, len(sheets), SHEETS_PER_PART):
            parts.append([page for sheet in sheets[n:n + SHEETS_PER_PART] for page in sheet])
        return parts
