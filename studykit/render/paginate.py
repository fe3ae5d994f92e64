"""WeasyPrint's pagination, able to start at a page of an earlier layout of the same document.

WeasyPrint makes a document's pages one after another, and before each page it keeps what the
next one starts from: where in the box tree it resumes, the page's side and name, and the page
counters (its "page maker"). A document edited past some point lays out exactly as before up to
that point, so a layout can start at a page of the earlier one if it is given that page's entry,
and the named strings (running headers) set on the pages before it. The pages before it are
taken from the earlier PDF; see pdfparts.

What this cannot resume is refused, and the document is laid out from its first page: footnotes,
running elements, page-based counters that need another pass (`counter(pages)`,
`target-counter`), and a page that starts with a float or positioned box still to finish.

This drives WeasyPrint 70's own page functions in the order `layout_document` does, with the
same steps after the pages are made: one bookmark per element, named strings gathered, margin
boxes and backgrounds laid out. A test compares every line of a chapter laid out here with
WeasyPrint's own layout.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass


@dataclass
class Pagination:
    """What another layout of the same document needs to start at one of these pages.

    `entries[i]` is the page maker's entry for page i (0-based), `clean[i]` says whether page i
    starts with nothing carried over from the page before it but flowing content, and `strings`
    holds the named strings set on each page (by page number, 1-based)."""

    entries: bytes          # pickled: resume_at, next_page, right_page, page_state per page
    clean: list
    strings: dict

    def resumable_at(self, page: int) -> bool:
        return 0 < page < len(self.clean) and self.clean[page]

    def seed(self, page: int) -> "Seed":
        entries = pickle.loads(self.entries)[:page + 1]
        strings = {name: {n: texts for n, texts in by_page.items() if n <= page}
                   for name, by_page in self.strings.items()}
        return Seed(page, pickle.dumps(entries), strings, self.clean[:page])


@dataclass
class Seed:
    """Where a layout starts: page `start`, and the state of the earlier layout up to it."""

    start: int
    entries: bytes
    strings: dict
    clean: list


def _fresh_remake_state() -> dict:
    return {"content_changed": False, "pages_wanted": False, "anchors": [],
            "content_lookups": []}


def render(html: str, base_url: str, stylesheets: list, seed: Seed | None = None):
    """(document, pagination) for `html`; the document holds the pages from `seed.start` on.

    Returns (None, None) if the document uses what cannot be resumed; the caller then lays it
    out the usual way."""
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
        return None, None
    made = _paginate(document, root_box, context, seed)
    if made is None:
        return None, None
    pages, pagination = made
    return (Document([Page(p) for p in pages], DocumentMetadata(**get_html_metadata(document)),
                     document.url_fetcher, font_config, {}, options["output_intent"]),
            pagination)


def _paginate(html, root_box, context, seed: Seed | None):
    from weasyprint.layout import initialize_page_maker, layout_fixed_boxes
    from weasyprint.layout.background import layout_backgrounds
    from weasyprint.layout.page import make_margin_boxes, remake_page

    initialize_page_maker(context, root_box)
    start = 0
    if seed is not None:
        start = seed.start
        context.page_maker = [(*entry, _fresh_remake_state())
                              for entry in pickle.loads(seed.entries)]
        for name, by_page in seed.strings.items():
            for number, texts in by_page.items():
                context.string_set[name][number] = list(texts)
    context.rendered_notes = []
    pages, clean = [], []
    index = start
    while True:
        clean.append(not context.broken_out_of_flow and not context.reported_footnotes)
        # As make_all_pages does before each page it makes.
        context.page_maker[index][-1].update(_fresh_remake_state())
        page, resume_at = remake_page(index, context, root_box, html)
        pages.append(page)
        index += 1
        if resume_at is None and not context.reported_footnotes:
            break
    context.page_maker = context.page_maker[:index + 1]
    for *_, page_state, remake_state in context.page_maker:
        # A page wants another pass: page-based counters that WeasyPrint would loop over.
        if remake_state["content_changed"] or remake_state["pages_wanted"]:
            return None
        page_state[1]["pages"] = [index]

    # One bookmark per element, as layout_document keeps it.
    seen: dict[str, list] = {"": [], "::before": [], "::after": []}
    for number, page in enumerate(pages, start + 1):
        for child in page.descendants():
            if child.bookmark_label:
                tag = child.element_tag
                which = next((s for s in ("::before", "::after") if tag.endswith(s)), "")
                if child.element in seen[which]:
                    child.bookmark_label = ""
                else:
                    seen[which].append(child.element)
            if child.missing_link:
                return None
            if child.string_set and child.string_set != "none":
                for name, text in child.string_set:
                    context.string_set[name][number].append(text)
    if any(v for by_page in context.running_elements.values() for v in by_page.values()):
        return None

    fixed = any(page.fixed_boxes for page in pages)
    if fixed and seed is not None:
        return None   # fixed boxes repeat on every page, those before `start` too
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

    pagination = Pagination(
        entries=pickle.dumps([entry[:4] for entry in context.page_maker]),
        clean=[False] * (start + len(pages)) if fixed else (seed.clean if seed else []) + clean,
        strings={name: {n: list(texts) for n, texts in by_page.items()}
                 for name, by_page in context.string_set.items()})
    return pages, pagination
