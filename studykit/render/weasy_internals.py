"""Every use of WeasyPrint's internals, on the versions they were tested with, and nowhere else.

WeasyPrint's public API lays out a whole document and gives its pages, anchors, links and
bookmarks. The build goes further in three places, each much faster than the public way:
- a document's pagination driven page by page, able to start at a page of an earlier layout
  (below, from `render` on);
- the page-number stand-ins found in the laid-out boxes (`stand_ins`);
- flashcard faces laid out again at another size put in place on their sheet's boxes, and the
  key points that do not fit dropped from them (`place_faces`).
Each is used only when `unusable()` says nothing; otherwise, or when one raises, the caller takes
the public way (see partlayout.layout_part and flashcards.lay_out_sheets), which makes the same
output, slower.

WeasyPrint's pagination, able to start at a page of an earlier layout of the same document.

WeasyPrint makes a document's pages one after another, and before each page it keeps what the
next one starts from: where in the box tree it resumes, the page's side and name, and the page
counters (its "page maker"). A document edited past some point lays out exactly as before up to
that point, so a layout can start at a page of the earlier one if it is given that page's entry,
and the named strings (running headers) set on the pages before it. And when the edit changed
text only, once a page after the edit starts in the same box, at the same place and in the same
state as the earlier layout's page of that number, every page from there on is the earlier
one too: the layout stops there. The pages not laid out are taken from the earlier PDF; see
partschedule.lay_out.

What this cannot resume is refused, and the document is laid out from its first page: footnotes,
running elements, fixed boxes, page-based counters in the flow (`counter(pages)` outside margin
boxes, `target-counter`), which need another pass, and a page that starts with a float or a
positioned box still to finish.

This drives WeasyPrint 70's own page functions in the order `layout_document` does, with the
same steps after the pages are made: one bookmark per element, named strings gathered, margin
boxes and backgrounds laid out. A test compares every line of a document laid out here with
WeasyPrint's own layout, from the first page and part-way.
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass
from functools import lru_cache

from .base import forced_public, untested
from .partlayout import PT, STAND_IN_CLASS, font_file

# The WeasyPrint releases whose internals the code below was tested with (the whole suite, on
# both paths). A new release is added here once the suite passes on it.
TESTED = ("70.0",)


@lru_cache(maxsize=1)
def _unusable(forced: bool) -> str:
    return untested("WeasyPrint", "weasyprint", TESTED)


def unusable() -> str:
    """Why WeasyPrint's internals are not to be used here ("" if they may be)."""
    return _unusable(forced_public())


@dataclass
class Pagination:
    """What another layout of the same document needs to start at one of these pages.

    `entries[i]` is the page maker's entry for page i (0-based), `clean[i]` says whether page i
    starts with nothing carried over from the page before it but flowing content, `starts[i]`
    which boxes page i starts in (see _boxes_at), and `strings` holds the named strings set on
    each page (by page number, 1-based)."""

    entries: bytes          # pickled: resume_at, next_page, right_page, page_state per page
    clean: list
    starts: list
    strings: dict

    def resumable_at(self, page: int) -> bool:
        return 0 < page < len(self.clean) and self.clean[page]

    def seed(self, page: int, rejoin_after: str | None = None) -> "Seed":
        return Seed(page, self, rejoin_after)


@dataclass
class Seed:
    """Where a layout of an edited document starts: page `start` of an earlier layout.

    With `rejoin_after`, the ID of the first element after an edit that changed text only, the
    layout stops at the first page after that element's start that starts in the same boxes
    as the earlier layout's page of the same number, at the same place, in the same state:
    from there on the pages are the earlier layout's."""

    start: int
    earlier: Pagination
    rejoin_after: str | None = None


def _fresh_remake_state() -> dict:
    return {"content_changed": False, "pages_wanted": False, "anchors": [],
            "content_lookups": []}


def render(html: str, base_url: str, stylesheets: list, seed: Seed | None = None):
    """(document, pagination, rejoined) for `html`.

    The document holds the pages from `seed.start` on, up to `rejoined`, the first page that
    is the earlier layout's again (None: to the end). Returns (None, None, None) if the
    document uses what cannot be resumed; the caller then lays it out the usual way."""
    from weasyprint import DEFAULT_OPTIONS, HTML
    from weasyprint.css.counters import CounterStyle
    from weasyprint.document import Document, DocumentMetadata, Page
    from weasyprint.formatting_structure.build import build_formatting_structure
    from weasyprint.html import get_html_metadata
    from weasyprint.text.fonts import FontConfiguration

    document = HTML(string=html, base_url=base_url)
    options = dict(DEFAULT_OPTIONS, stylesheets=stylesheets)
    font_config, counter_style = FontConfiguration(), CounterStyle()
    context = Document._build_layout_context(document, font_config, counter_style, {}, options)
    root_box = build_formatting_structure(
        document.etree_element, context.style_for, context.get_image_from_uri,
        document.base_url, context.target_collector, counter_style, context.footnotes)
    if context.footnotes:
        return None, None, None
    made = _paginate(document, root_box, context, seed)
    if made is None:
        return None, None, None
    pages, pagination, rejoined = made
    return (Document([Page(p) for p in pages], DocumentMetadata(**get_html_metadata(document)),
                     document.url_fetcher, font_config, {}, options["output_intent"]),
            pagination, rejoined)


def _last_strings(by_name: dict, number: int) -> dict:
    """Each named string's value as a page after page `number` finds it before its own."""
    last = {}
    for name, by_page in by_name.items():
        set_on = [n for n, texts in by_page.items() if n <= number and texts]
        if set_on:
            last[name] = by_page[max(set_on)][-1]
    return last


def _path(root_box, resume_at):
    """(index, box or None for a position in a text, skip stack below) for each step of a
    resume point, from the root down."""
    def walk(box, stack):
        for index, below in (stack or {}).items():
            children = getattr(box, "children", None)
            if not isinstance(children, (list, tuple)) or not 0 <= index < len(children):
                yield index, None, below
                continue
            yield index, children[index], below
            yield from walk(children[index], below)

    return walk(root_box, resume_at)


def _boxes_at(root_box, resume_at, ordinals: dict) -> list:
    """The boxes a page starts in, from the root down: for each, its index among its parent's
    children, its type, its element's place in the document and its pseudo-element. Where an
    edit added or dropped a box (text where there was none, say), the boxes after it at that
    level are not the same boxes, and this tells."""
    return [(index,) if box is None else
            (index, type(box).__name__, ordinals.get(box.element), box.element_tag)
            for index, box, _ in _path(root_box, resume_at)]


def _pseudo(tag: str) -> str:
    return next((s for s in ("::before", "::after") if tag.endswith(s)), "")


def _paginate(html, root_box, context, seed: Seed | None):
    from weasyprint.layout import initialize_page_maker, layout_fixed_boxes
    from weasyprint.layout.background import layout_backgrounds
    from weasyprint.layout.page import make_margin_boxes, remake_page

    initialize_page_maker(context, root_box)
    start, earlier, marker = 0, [], None
    if seed is not None:
        start, marker = seed.start, seed.rejoin_after
        earlier = pickle.loads(seed.earlier.entries)
        context.page_maker = [(*entry, _fresh_remake_state()) for entry in earlier[:start + 1]]
        for name, by_page in seed.earlier.strings.items():
            for number, texts in by_page.items():
                if number <= start:
                    context.string_set[name][number] = list(texts)
    context.rendered_notes = []
    ordinals = {element: n for n, element in enumerate(html.etree_element.iter())}
    pages, clean, starts = [], [], []
    # One bookmark per element, as layout_document keeps it: an element continued from the
    # page before `start` had its bookmark there.
    seen: dict[str, list] = {"": [], "::before": [], "::after": []}
    if seed is not None:
        # The boxes a page starts inside are continued from the page before.
        for _, box, below in _path(root_box, earlier[start][0]):
            if box is not None and below is not None:
                seen[_pseudo(box.element_tag)].append(box.element)
    marker_seen = False
    rejoined = None
    index = start
    boxes = _boxes_at(root_box, context.page_maker[index][0], ordinals)
    while True:
        clean.append(not context.broken_out_of_flow and not context.reported_footnotes)
        starts.append(boxes)
        # As make_all_pages does before each page it makes.
        context.page_maker[index][-1].update(_fresh_remake_state())
        page, resume_at = remake_page(index, context, root_box, html)
        pages.append(page)
        for child in page.descendants():
            if child.bookmark_label:
                if child.element in seen[_pseudo(child.element_tag)]:
                    child.bookmark_label = ""
                else:
                    seen[_pseudo(child.element_tag)].append(child.element)
            if child.missing_link:
                return None
            if child.string_set and child.string_set != "none":
                for name, text in child.string_set:
                    context.string_set[name][index + 1].append(text)
            if (marker and not marker_seen and child.element is not None
                    and child.element.get("id") == marker):
                marker_seen = True
        index += 1
        if resume_at is None and not context.reported_footnotes:
            break
        boxes = _boxes_at(root_box, resume_at, ordinals)
        if marker_seen and _rejoins(context, seed, earlier, index, boxes):
            rejoined = index
            break
    if rejoined is not None:
        # The pages from `rejoined` on are the earlier layout's, not to be made again.
        context.page_maker = context.page_maker[:rejoined] + [
            (*entry, _fresh_remake_state()) for entry in earlier[rejoined:]]
    else:
        context.page_maker = context.page_maker[:index + 1]
    total = len(context.page_maker) - 1
    for *_, page_state, remake_state in context.page_maker:
        # A page wants another pass: page-based counters that WeasyPrint would loop over.
        if remake_state["content_changed"] or remake_state["pages_wanted"]:
            return None
        page_state[1]["pages"] = [total]
    if any(v for by_page in context.running_elements.values() for v in by_page.values()):
        return None

    fixed = any(page.fixed_boxes for page in pages)
    if fixed and seed is not None:
        return None   # fixed boxes repeat on every page, those not laid out here too
    for offset, page in enumerate(pages):
        root, footnote_area, note_area = page.children
        root.children = [*layout_fixed_boxes(context, pages[:offset], page), *root.children,
                         *layout_fixed_boxes(context, pages[offset + 1:], page)]
        context.current_page = start + offset + 1
        children = [root] + [a for a in (footnote_area, note_area) if a.children]
        children.extend(make_margin_boxes(context, page,
                                          context.page_maker[context.current_page][3]))
        page.children = tuple(children)
        layout_backgrounds(page, context.get_image_from_uri)

    strings = {name: {n: list(texts) for n, texts in by_page.items() if texts}
               for name, by_page in context.string_set.items()}
    if rejoined is not None:
        clean += seed.earlier.clean[rejoined:]
        starts += seed.earlier.starts[rejoined:]
        for name, by_page in seed.earlier.strings.items():
            strings.setdefault(name, {}).update(
                {n: texts for n, texts in by_page.items() if n > rejoined})
    if fixed:
        clean = [False] * total
    elif seed is not None:
        clean = seed.earlier.clean[:start] + clean
        starts = seed.earlier.starts[:start] + starts
    return pages, Pagination(pickle.dumps([entry[:4] for entry in context.page_maker]), clean,
                             starts, strings), rejoined


def _rejoins(context, seed: Seed, earlier: list, index: int, boxes: list) -> bool:
    """Whether page `index` starts as the earlier layout's did: in the same boxes, at the same
    place, in the same state, with nothing carried over and the same named strings in force.
    What follows is unchanged (see Seed), so from there on every page is the earlier one."""
    if (index >= len(seed.earlier.clean) or not seed.earlier.clean[index]
            or context.broken_out_of_flow or context.reported_footnotes):
        return False
    if (tuple(context.page_maker[index][:4]) != tuple(earlier[index])
            or boxes != seed.earlier.starts[index]):
        return False
    return _last_strings(context.string_set, index) == _last_strings(seed.earlier.strings, index)


# ------------------------------------------------------------------ page-number stand-ins

def _walk(box):
    yield box
    children = box.all_children() if hasattr(box, "all_children") else ()
    for child in children:
        yield from _walk(child)


def _first_text(box):
    for b in _walk(box):
        if type(b).__name__ == "TextBox":
            return b
    return None


def _color(style) -> list[float]:
    c = style["color"]
    try:
        r, g, b = c.to("srgb").coordinates
    except AttributeError:   # older tinycss2 colour objects
        r, g, b = c.red, c.green, c.blue
    return [round(float(v), 4) for v in (r, g, b)]


def _stand_ins(page_box, page_index: int) -> list[list]:
    """Where the page numbers go: [page, ref, prefix, align, x, baseline, font, size, colour].

    `ref` is the anchor whose page is printed, or "" for the page's own number. `x` is the right
    edge for right-aligned references (the default), the left edge for left-aligned ones
    (data-align="left") and the centre for the page's own number."""
    found = []
    for box in _walk(page_box):
        if type(box).__name__ == "MarginBox":
            if getattr(box, "at_keyword", "") != "@bottom-center":
                continue
            ref, prefix, align = "", "", "center"
        else:
            element = getattr(box, "element", None)
            if (element is None or box.element_tag != "span"
                    or STAND_IN_CLASS not in (element.get("class") or "").split()
                    or type(box).__name__ != "InlineBox"):
                continue
            ref, prefix = element.get("data-ref", ""), element.get("data-prefix", "")
            align = element.get("data-align", "right")
        text = _first_text(box)
        if text is None or not text.text.strip():
            continue
        style = text.style
        font = font_file(tuple(style["font_family"]), style["font_weight"] >= 600,
                         style["font_style"] != "normal")
        x = text.position_x + {"right": text.width, "left": 0}.get(align, text.width / 2)
        found.append([page_index, ref, prefix, align, x * PT,
                      (text.position_y + text.baseline) * PT, font, style["font_size"] * PT,
                      _color(style)])
    return found


def stand_ins(document, start: int = 0) -> list[list]:
    """Every page's stand-ins (see _stand_ins), its pages numbered from `start`."""
    return [stamp for i, page in enumerate(document.pages, start)
            for stamp in _stand_ins(page._page_box, i)]


# ------------------------------------------------------------------ flashcard faces

def _outermost(box, test):
    """Boxes passing `test`, none inside another (anonymous boxes share their element)."""
    if test(box):
        yield box
        return
    for child in getattr(box, "children", ()):
        yield from _outermost(child, test)


def _element_id(box) -> str:
    element = getattr(box, "element", None)
    return (element.get("id") or "") if element is not None else ""


def _is_card(box) -> bool:
    element = getattr(box, "element", None)
    return element is not None and "card" in (element.get("class") or "").split()


def _face_slots(doc) -> dict[str, tuple[object, int]]:
    """Each laid-out face's place: its card's box and its position among the card's children."""
    slots = {}
    for page in doc.pages:
        for card in _outermost(page._page_box, _is_card):
            for n, child in enumerate(card.children):
                if _element_id(child).startswith("s"):
                    slots[_element_id(child)] = (card, n)
    return slots


def _keep_points(face_box, points: int) -> None:
    """A back laid out with every key point, cut to its first `points`: what is left is what a
    layout of those points alone draws, and what is cut is not in the PDF at all."""
    def is_list(box) -> bool:
        return getattr(box, "element_tag", "") == "ul"

    def shown(item) -> bool:   # the point's number is in its ID, p<face>_<k>
        return (getattr(item, "element_tag", "") != "li"
                or int(_element_id(item).rsplit("_", 1)[1]) < points)

    holders = _outermost(face_box, lambda b: any(map(is_list, getattr(b, "children", ()))))
    for holder in list(holders):
        for ul in filter(is_list, holder.children):
            ul.children = list(filter(shown, ul.children))
        if points == 0:
            holder.children = [c for c in holder.children if not is_list(c)]


def place_faces(docs: list, searches: dict, laid: dict, views: dict, paper_h: float) -> None:
    """Each face's best layout put in its place on the first document's sheets (see
    flashcards.lay_out_sheets): the box from the document it was laid out in, at the size
    found, and on a back only the key points that fit; the sheets, laid out taller to measure
    what runs over, cut to the paper's height."""
    from ..errors import RenderError

    first = _face_slots(docs[0])
    others: dict[int, dict] = {}
    for i, search in searches.items():
        group = next(g for g, options in enumerate(search.groups) if search.best in options)
        card, n = first[f"s{i}"]
        source = laid[(i, group)]
        if source:
            if source not in others:
                others[source] = _face_slots(docs[source])
            their_card, m = others[source][f"s{i}"]
            if (abs(their_card.position_x - card.position_x) > 1e-3
                    or abs(their_card.position_y - card.position_y) > 1e-3):
                raise RenderError(f"flashcards: {search.face.card_id} ({search.face.kind}) "
                                  "was laid out again in another place")
            card.children = [*card.children[:n], their_card.children[m], *card.children[n + 1:]]
        if views[i]["measure"]:
            _keep_points(card.children[n], search.best[2])
    for page in docs[0].pages:
        page.height = paper_h
