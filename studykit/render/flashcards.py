"""Flashcard sheets: fronts and backs laid out so each back prints behind its front.

Geometry is computed here in millimetres and placed absolutely, so positions are exact and the
tests can check the mirroring. Every card face is measured on its sheet after layout
(WeasyPrint reports where anchors land) and stepped down in size until it fits, or the build
fails naming the card (see lay_out_sheets).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from ..errors import RenderError
from ..markdown import inline_code
from ..model import DIFFICULTIES, DIFFICULTY_LETTERS, Question, card_ranges
from ..paper import MARKS, PAPERS
from ..workers import gc_paused
from .base import BuildContext, Renderer, RenderResult, internals_failed
from .cardtext import added_points, card_outputs, handbook_pages, revision
from .highlight import highlight_lines, style_css

def card_text(text: str):
    """A plain-text field with `backticks` as code (markdown.inline_code), and a zero-width
    space after each space before a code span: WeasyPrint 70 sometimes misses the break at
    such a space and breaks the line far earlier (as in the handbook, see _BEFORE_INLINE)."""
    from markupsafe import Markup

    return Markup(str(inline_code(text)).replace(" <code>", " \u200b<code>"))


PX_PER_MM = 96 / 25.4


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
    # mm between neighbouring cards, cut away: a back printed up to half of it off its front
    # (duplex drift is 1 to 2 mm) never reaches the neighbouring card.
    gutter: float = 4.0

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
    note: str = ""                   # test sheet: one step of the printing instructions


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
        return PAPERS[self.paper].size

    def grid_size(self) -> tuple[float, float]:
        lay = self.layout
        return (lay.cols * lay.card_w + (lay.cols - 1) * lay.gutter,
                lay.rows * lay.card_h + (lay.rows - 1) * lay.gutter)

    def grid(self) -> list[Slot]:
        """Card slots on a front page, row by row, centred on the paper, a gutter apart."""
        w, h = self.size
        lay = self.layout
        gw, gh = self.grid_size()
        x0, y0 = (w - gw) / 2, (h - gh) / 2
        return [Slot(x0 + c * (lay.card_w + lay.gutter), y0 + r * (lay.card_h + lay.gutter))
                for r in range(lay.rows) for c in range(lay.cols)]

    def cut_lines(self) -> tuple[list[float], list[float]]:
        """Where to cut, in mm from the sheet's left and top: both edges of every card."""
        lay = self.layout
        slots = self.grid()
        xs = sorted({x for s in slots[:lay.cols] for x in (s.x, s.x + lay.card_w)})
        ys = sorted({y for s in slots[::lay.cols] for y in (s.y, s.y + lay.card_h)})
        return xs, ys

    def crop_marks(self, gap: float = 2.0, length: float = 8.0, edge: float = 6.0):
        """(x, y, w, h) rectangles in mm: a mark in the margin in line with every cut (both
        edges of each gutter), kept `edge` mm off the sheet edge."""
        w, h = self.size
        gw, gh = self.grid_size()
        gx, gy = (w - gw) / 2, (h - gh) / 2
        xs, ys = self.cut_lines()
        t = 0.2
        marks = []
        if gy - gap - edge >= 1.5:
            top = max(edge, gy - gap - length)
            for x in xs:
                marks.append((x - t / 2, top, t, gy - gap - top))
                marks.append((x - t / 2, gy + gh + gap, t, gy - gap - top))
        if gx - gap - edge >= 1.5:
            left = max(edge, gx - gap - length)
            for y in ys:
                marks.append((left, y - t / 2, gx - gap - left, t))
                marks.append((gx + gw + gap, y - t / 2, gx - gap - left, t))
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


# Card sheets laid out as one part of the PDF: an edit lays out its part again; every part
# carries its own subsets of the fonts.
SHEETS_PER_PART = 3
# Below the paper, room for a face laid out at a size too large for its card: on a page of the
# paper's own height the text that ran past its foot would be lost, and with it where it ends.
ROOM_MM = 2000.0


@dataclass
class SheetPlan:
    """What a worker needs to fit the faces of one part and lay them out again at other sizes.

    `pages` are the part's page views, each face at the size its search starts from;
    `searches` gives each face (by index) its candidates grouped by size and the group it
    starts from (see FlashcardRenderer.search_plan)."""

    templates: str
    args: dict
    pages: list[dict]
    searches: dict[int, tuple[list[list[tuple]], int]]
    limit: float          # px from the top of a face to the end of its content


@lru_cache(maxsize=4)
def _sheets_template(folder: str):
    from .base import template_env

    env = template_env(Path(folder))
    env.filters["code"] = card_text
    return env.get_template("sheets.html.j2")


def _anchors(doc) -> dict[str, tuple[int, float]]:
    found: dict[str, tuple[int, float]] = {}
    for n, page in enumerate(doc.pages):
        for key, pos in page.anchors.items():
            found[key] = (n, pos[1])
    return found


def _face_heights(doc, views: dict[int, dict]) -> dict[int, dict[int, float]]:
    """Each face's height in px by the number of key points shown: a back is laid out with
    every point, and with k shown it would end where point k + 1 begins (nothing in a point
    depends on the points after it). What ran off its page is infinitely tall."""
    anchors = _anchors(doc)

    def span(start: str, end: str) -> float:
        a, b = anchors.get(start), anchors.get(end)
        return b[1] - a[1] if a and b and a[0] == b[0] else float("inf")

    heights = {}
    for index, v in views.items():
        start = f"s{index}"
        if v["measure"]:
            shown = len(v["points"])
            by_points = {k: span(start, f"p{index}_{k}") for k in range(shown)}
            by_points[shown] = span(start, f"e{index}")
        else:
            by_points = {v["face"].points: span(start, f"e{index}")}
        heights[index] = by_points
    return heights


@gc_paused()
def lay_out_sheets(html: str, base_url: str, plan: SheetPlan):
    """Lay out a part's sheets, fitting each face to its card as it goes (run in a worker).

    The sheets are laid out once with every face at the size its search starts from, and
    every face is measured where it stands. A face that must try another size is laid out
    again at that size, alone on a page in its own spot, until its search ends; the box of
    its best layout then takes its place on the first layout's page, and a back drops the key
    points it does not show. Each face is so laid out once or a few times, never once to be
    measured and again to be printed."""
    from . import weasy_internals
    from .partlayout import PartLayout, render_html

    views = {v["index"]: v for page in plan.pages for _, v in page["faces"]}
    searches = {i: _SizeSearch(views[i]["face"], groups, start)
                for i, (groups, start) in plan.searches.items()}
    docs = [render_html(html, base_url)]
    laid = {(i, s.at): 0 for i, s in searches.items()}    # (face, size group) -> document
    heights = _face_heights(docs[0], views)
    pending = [i for i in searches if searches[i].measured(heights[i], plan.limit)]
    template = _sheets_template(plan.templates)
    while pending:
        again = {}
        for i in pending:
            search = searches[i]
            prose, code, _ = search.groups[search.at][0]
            again[i] = {**views[i], "face": replace(views[i]["face"], prose_pt=prose,
                                                    code_pt=code)}
            laid[(i, search.at)] = len(docs)
        # A page of its own for each: a card's place on its page is all that matters.
        pages = [{"side": "front", "faces": [(slot, again[v["index"]])]}
                 for page in plan.pages for slot, v in page["faces"] if v["index"] in again]
        docs.append(render_html(template.render(pages=pages, **{**plan.args, "crops": []}),
                                base_url))
        heights = _face_heights(docs[-1], again)
        pending = [i for i in pending if searches[i].measured(heights[i], plan.limit)]

    failed = [f"{s.face.card_id} ({s.face.kind})" for s in searches.values() if s.best is None]
    if failed:
        return PartLayout(pdf=b"", pages=0, anchors={}, links=[], bookmarks=[], stamps=[],
                          problems=failed)
    notes = [[i, *search.best] for i, search in searches.items()]
    slower = weasy_internals.unusable()
    if not slower:
        try:
            weasy_internals.place_faces(docs, searches, laid, views,
                                        plan.args["paper_h"] * PX_PER_MM)
        except Exception as exc:   # noqa: BLE001 - whatever broke, the public path still works
            slower = internals_failed("WeasyPrint", exc)
    if slower:
        # Every face at the size found, the sheets laid out again: a third more processing.
        final = {}
        for i, search in searches.items():
            prose, code, points = search.best
            final[i] = {**views[i], "face": replace(views[i]["face"], prose_pt=prose,
                                                    code_pt=code, points=points),
                        "points": views[i]["points"][:points] if views[i]["measure"]
                        else views[i]["points"], "measure": False}
        pages = [{**page, "faces": [(slot, final.get(v["index"], v))
                                    for slot, v in page["faces"]]} for page in plan.pages]
        args = {**plan.args, "page_h": plan.args["paper_h"]}
        docs[0] = render_html(template.render(pages=pages, **args), base_url)
    for page in docs[0].pages:
        page.anchors.clear()      # the measuring marks are no destinations
    pdf = docs[0].write_pdf()
    return PartLayout(pdf=pdf, pages=len(docs[0].pages), anchors={}, links=[], bookmarks=[],
                      stamps=[], notes=notes, slower=slower)


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


class FlashcardRenderer(Renderer):
    name = "flashcards"
    reads = ("handbook",)    # a back gives its question's page in the handbook

    def __init__(self, paper: str = "a4", layout: str = "8up", duplex: str = "long",
                 test_sheet: bool = True):
        super().__init__(paper=paper, layout=layout, duplex=duplex, test_sheet=test_sheet)
        self.sheet = Sheet(paper, LAYOUTS[layout], duplex)
        self.test_sheet = test_sheet
        self.shrunk: list[str] = []

    def output_name(self) -> str:
        extra = "".join(f"-{v}" for v, default in ((self.sheet.layout.name, "8up"),
                                                   (self.sheet.duplex, "long")) if v != default)
        return f"flashcards-{self.sheet.paper}{extra}.pdf"

    def targets(self, ctx: BuildContext) -> list[Path]:
        return [ctx.out_dir / self.output_name()]

    # ------------------------------------------------------------------ content

    def cards(self, ctx: BuildContext) -> list[Question]:
        topic_pos = {t.slug: t.position for t in ctx.kit.topics}
        return sorted(ctx.kit.questions,
                      key=lambda q: (q.difficulty_rank, topic_pos[q.topic], q.number))

    def faces_for(self, q: Question) -> tuple[Face, Face]:
        base = self.sheet.layout
        front = Face(q.card_id, q.difficulty, "front", q, base.prose_sizes[0], base.code_sizes[0])
        back = Face(q.card_id, q.difficulty, "back", q, base.prose_sizes[0], base.code_sizes[0],
                    points=len(added_points(q)))
        return front, back

    # ------------------------------------------------------------------ fitting

    def search_plan(self, face: Face) -> tuple[list[list[tuple]], int]:
        """The face's candidates grouped by size, best first, and the group its search starts
        from: one layout at a size gives the heights of every option of that size (a back is
        laid out with every key point, and the height after each is read). Text set smaller
        is never taller, so a back is first tried at the comfortable size: if it fits there
        whole, the larger sizes are tried from the top; if not, smaller ones from there."""
        layout = self.sheet.layout
        comfort = layout.prose_sizes[min(layout.comfort_steps, len(layout.prose_sizes) - 1)]
        options = self.candidates(face) if face.question else [(face.prose_pt, face.code_pt, 0)]
        groups: list[list[tuple]] = []
        for o in options:
            if groups and groups[-1][0][:2] == o[:2]:
                groups[-1].append(o)
            else:
                groups.append([o])
        start = next((g for g, grp in enumerate(groups) if grp[0][0] == comfort), 0) \
            if face.kind == "back" else 0
        return groups, start

    def report_fits(self, faces: list[Face]) -> list[str]:
        """For the user: which faces were set smaller, and which backs left key points out."""
        layout_default = self.sheet.layout.prose_sizes[0]
        cards = [f for f in faces if f.question]
        self.shrunk = [f"{f.card_id} {f.kind}" for f in cards if f.prose_pt < layout_default]
        smaller = {kind: [f.question.number for f in cards
                          if f.kind == kind and f.prose_pt < layout_default]
                   for kind in ("front", "back")}
        trimmed = [f.question.number for f in cards
                   if f.kind == "back" and f.points < len(added_points(f.question))]
        lines = []
        if self.shrunk:
            parts = [f"{kind}s {card_ranges(nums)}" for kind, nums in smaller.items() if nums]
            lines.append(f"{len(self.shrunk)} card face(s) set below "
                         f"{layout_default:g} pt to fit: {'; '.join(parts)}")
        if trimmed:
            lines.append(f"{len(trimmed)} back(s) show only the key points that fit: "
                         f"{card_ranges(trimmed)}")
        return lines

    def candidates(self, face: Face) -> list[tuple[float, float, int]]:
        """(prose pt, code pt, key points) to try, best first.

        Shrink to a comfortable size with every key point, then drop key points down to one,
        then shrink to the floor, and only then give up the last key point.
        """
        layout = self.sheet.layout
        sizes, codes = layout.prose_sizes, layout.code_sizes
        code = {p: codes[min(i, len(codes) - 1)] for i, p in enumerate(sizes)}
        comfort = sizes[min(layout.comfort_steps, len(sizes) - 1)]
        total = len(added_points(face.question)) if face.kind == "back" and face.question \
            else 0
        if total == 0:
            return [(p, code[p], 0) for p in sizes]
        out = [(p, code[p], total) for p in sizes if p >= comfort]
        out += [(comfort, code[comfort], k) for k in range(total - 1, 0, -1)]
        out += [(p, code[p], 1) for p in sizes if p < comfort]
        out.append((sizes[-1], code[sizes[-1]], 0))
        return out

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

    def instructions(self) -> list[str]:
        """How to print and read the alignment sheet, one step per test card."""
        gutter = self.sheet.layout.gutter
        if self.sheet.duplex == "fold":
            turn = ("Print one-sided: each card's back is beside its front; fold along the "
                    "dashed line in the middle, glue, then cut.")
        else:
            edge = "long" if self.sheet.duplex == "long" else "short"
            turn = (f"Print double-sided, flipping on the {edge} edge (the print dialog's "
                    f"\u201c{edge}-edge binding\u201d).")
        steps = [
            "Print this sheet first, at actual size (100 %, not \u201cfit to page\u201d).",
            turn,
            "Paper: card stock of 160 to 200 g/m\u00b2 if the printer takes it; on thinner "
            "paper the back shows through.",
            "Hold the sheet against a light: each B should sit behind its F.",
            "B behind the wrong F, upside down: the sheet turned over the other edge; change "
            "the binding edge, or build with the other --duplex.",
            f"Cut on the marks in the margins: both edges of each {gutter:g} mm gutter.",
            f"A back up to {gutter / 2:g} mm off its front stays in the gutter, which is "
            "cut away.",
            "Then print the card sheets the same way.",
        ]
        if self.sheet.duplex == "fold":
            steps[3] = "Folded and held against a light, each B should sit behind its F."
            del steps[4]
        return steps

    def _notes(self, faces: int) -> list[str]:
        """The instructions spread over `faces` test cards in reading order, in order."""
        steps = [f"{n}. {step}" for n, step in enumerate(self.instructions(), start=1)]
        per = -(-len(steps) // faces)
        return [" ".join(steps[i * per:(i + 1) * per]) for i in range(faces)]

    def _test_pages(self) -> list[Page]:
        sheet = self.sheet
        if sheet.duplex == "fold":
            # Read row by row: F1, B1, F2, B2, ...
            notes = self._notes(2 * len(sheet.fold_slots()))
            page = Page(side="fold")
            for n, (fs, bs) in enumerate(sheet.fold_slots(), start=1):
                page.faces += [(fs, Face(f"F{n}", "", "test", label=f"F{n}",
                                         note=notes[2 * n - 2])),
                               (bs, Face(f"B{n}", "", "test", label=f"B{n}",
                                         note=notes[2 * n - 1]))]
            return [page]
        notes = self._notes(len(sheet.grid()))
        front, back = Page(side="front"), Page(side="back")
        for n, slot in enumerate(sheet.grid(), start=1):
            front.faces.append((slot, Face(f"F{n}", "", "test", label=f"F{n}",
                                           note=notes[n - 1])))
            back.faces.append((sheet.behind(slot), Face(f"B{n}", "", "test", label=f"B{n}")))
        return [front, back]

    # ------------------------------------------------------------------ views for templates

    def jinja(self, ctx: BuildContext, folder: str):
        env = super().jinja(ctx, folder)
        env.filters["code"] = card_text
        return env

    def _common(self, layout: Layout) -> dict:
        return {"layout": layout, "marks": MARKS, "letters": DIFFICULTY_LETTERS,
                "inner_w": layout.card_w - 2 * layout.padding, "code_css": style_css(".code")}

    def _face_view(self, face: Face, index: int) -> dict:
        view = {"face": face, "index": index, "q": face.question, "sample": None,
                "topic": "", "points": [], "measure": False, "outputs": [], "page": None,
                "rev": ""}
        q = face.question
        if q is not None:
            if face.kind == "front":
                card_samples = [s for s in q.samples if s.card]
                if card_samples:
                    view["sample"] = highlight_lines(card_samples[0].code)
            else:
                view["points"] = added_points(q)[:face.points]
                view["outputs"] = card_outputs(q)
                view["page"] = self._pages.get(q.number)
            view["topic"] = self._topic_titles.get(q.topic, q.topic)
            view["rev"] = revision(q, view["topic"])
        return view

    def measure_view(self, face: Face, index: int) -> dict:
        """A face as laid out to be measured: a back with every key point, each marked."""
        view = self._face_view(face, index)
        if face.kind == "back" and face.question:
            view["points"] = added_points(face.question)
            view["measure"] = True
        return view

    def content_key(self, ctx: BuildContext) -> str:
        # The cards show neither the full answer nor follow-ups or references; a back shows
        # its card sample's outputs, a pitfall and the question's page in the handbook.
        cards = [(q.number, q.question, q.difficulty, q.topic, q.summary, q.key_points,
                  q.pitfalls, [(s.code, s.card, s.output, s.raises, s.python)
                               for s in q.samples]) for q in ctx.kit.questions]
        pages = handbook_pages(ctx.out_dir, self.sheet.paper)
        return repr(([(t.slug, t.title) for t in ctx.kit.topics], cards,
                     sorted((n, p) for n, p in pages.items()
                            if ctx.kit.question(n) is not None)))

    def write(self, ctx: BuildContext) -> RenderResult:
        from ..freshness import tree_digest
        from ..cache import path as cache_path
        from .partcache import PartCache
        from .partschedule import lay_out
        from .pdfjoin import join

        self._topic_titles = {t.slug: t.title for t in ctx.kit.topics}
        self._pages = handbook_pages(ctx.out_dir, self.sheet.paper)
        questions = self.cards(ctx)
        if not questions:
            raise RenderError("flashcards: no answered questions match the selection")
        self.require_glyphs(ctx)
        pages, faces = self.pages(questions)

        env = self.jinja(ctx, "flashcards")
        w, h = self.sheet.size
        layout = self.sheet.layout
        counter = iter(range(10**9))
        searches: dict[int, tuple[list[list[tuple]], int]] = {}
        page_views = []
        for p in pages:
            views = []
            for slot, f in p.faces:
                index = next(counter)
                groups, start = searches[index] = self.search_plan(f)
                f.prose_pt, f.code_pt, _ = groups[start][0]
                views.append((slot, self.measure_view(f, index)))
            page_views.append({"side": p.side, "faces": views})
        args = {"paper_w": w, "paper_h": h, "page_h": h + ROOM_MM, "grid": self.sheet.grid(),
                "duplex": self.sheet.duplex, "fold_x": w / 2, "count": len(questions),
                "crops": self.sheet.crop_marks(), **self._common(layout)}
        template = env.get_template("sheets.html.j2")
        folder = ctx.templates_dir / "flashcards"
        # A part's HTML shows every face at the size its search starts from, which its
        # content decides: it keys the part, fitted faces and all.
        htmls, plans = [], {}
        limit = (layout.card_h - layout.padding) * PX_PER_MM
        for n, group in enumerate(self._parts(page_views)):
            htmls.append(template.render(pages=group, **args))
            plans[n] = (SheetPlan(str(folder), args, group,
                                  {v["index"]: searches[v["index"]]
                                   for page in group for _, v in page["faces"]}, limit),)
        # Sheets are independent pages: laid out in parts, in parallel, and an edit lays out
        # only the part holding its card (see partschedule).
        cache = PartCache(cache_path(ctx.cache_dir, "flashcards-parts"),
                          salt=tree_digest(folder))
        parts = lay_out(enumerate(htmls), str(folder), cache, pool=ctx.pool,
                        work=lay_out_sheets, extra=plans)
        failed = [name for part in parts for name in part.problems]
        if failed:
            verb = "does" if len(failed) == 1 else "do"
            raise RenderError(f"flashcards: {', '.join(failed)} {verb} not fit a {layout.name} "
                              f"card even at {layout.prose_sizes[-1]:g} pt text and "
                              f"{layout.code_sizes[-1]:g} pt code; shorten the text")
        by_index = {v["index"]: v["face"] for page in page_views for _, v in page["faces"]}
        for part in parts:
            for index, prose, code, points in part.notes:
                face = by_index[index]
                face.prose_pt, face.code_pt, face.points = prose, code, points
        messages = self.report_fits(faces) + self.slower_note(parts)
        [target] = self.targets(ctx)
        printed = join(parts, target, {"Title": "Python Interview Flashcards",
                             "Subject": f"{len(questions)} flashcards, duplex: "
                                        f"{self.sheet.duplex}",
                             "Creator": "studykit (WeasyPrint, pikepdf)"}, cache, pool=ctx.pool)
        sheets = sum(1 for p in pages if p.side != "back")
        made = [f"part {n + 1}" for n, p in enumerate(parts) if not p.cached]
        fresh = len(made)
        laid = (f"all {len(parts)} parts laid out" if fresh == len(parts) else
                f"all {len(parts)} parts from the cache" if not fresh else
                f"{fresh} of {len(parts)} parts laid out, the rest from the cache")
        messages.append(f"{len(questions)} cards on {sheets} sheet(s), {self.sheet.paper} "
                        f"{layout.name}, duplex {self.sheet.duplex} ({laid})")
        return RenderResult(self.name, [target], messages, laid_out=made,
                            counts={"cards": len(questions), "pages": printed})

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
