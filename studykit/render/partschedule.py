"""Every part of a long PDF laid out: from the cache where its HTML is unchanged, the rest in parallel.

WeasyPrint lays out a few pages a second on one core. A book whose parts each start on a new page
can be laid out part by part, in parallel processes, and a part whose HTML did not change can be
taken from the cache (partcache). What joins the parts is page numbers, stamped afterwards
(pdfjoin, stamping); links and bookmarks are recorded per part and rebuilt on the joined book.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Executor

from ..workers import run_pieces
from .partcache import PartCache
from .partlayout import PartLayout, layout_part
from .pdfcommon import pikepdf, splice


def lay_out(htmls: Iterable[tuple[int, str]], base_url: str, cache: PartCache,
            pool: Executor | None = None, work=None,
            extra: dict[int, tuple] | None = None) -> list[PartLayout]:
    """Every part, from the cache where its HTML is unchanged, the rest in parallel.

    `htmls` gives each part's position in the document and its HTML, positions 0 to n - 1 in
    any order, and may make them as they are asked for: on a pool, the first part not in the
    cache starts laying out at once, while the rest are made (after an edit it is often the
    only one). The parts are returned in document order.

    A part is laid out by `work(html, base_url, *extra[position])`, layout_part unless given:
    whatever it does, the part depends on its HTML alone, which keys the cache. layout_part
    starts an edited part part-way through when the cache holds the part's layout from
    before the edit (see PartCache.resume_for)."""
    resumable = work is None
    work = work or layout_part
    extra = dict(extra or {})
    keys: dict[int, str] = {}
    lines: dict[int, str] = {}
    texts: dict[int, str] = {}
    parts: dict[int, PartLayout | None] = {}
    latest = cache.lines() if resumable else {}
    earlier: dict[int, bytes] = {}   # the PDF of the layout a part starts from part-way
    early = None
    for i, html in htmls:
        keys[i] = cache.key(html)
        texts[i] = html
        parts[i] = cache.get(keys[i])
        if resumable:
            lines[i] = cache.line(i, html)
        if parts[i] is None and resumable:
            found = cache.resume_for(latest.get(lines[i]), html)
            extra[i] = (found[0] if found else None,)
            if found:
                earlier[i] = found[1]
        if parts[i] is None and early is None and pool is not None:
            early = (i, pool.submit(work, html, base_url, *extra.get(i, ())))
    if sorted(parts) != list(range(len(parts))):
        raise ValueError(f"part positions must be 0 to {len(parts) - 1}, once each")
    todo = [i for i, p in parts.items() if p is None and (early is None or i != early[0])]
    # Longest first, so the last part to finish is a short one.
    todo.sort(key=lambda i: -len(texts[i]))

    def keep(i: int, part: PartLayout) -> None:
        if part.resumed_from:
            # Here, not in the worker, which would import pikepdf for it first.
            part.pdf = splice(earlier[i], part.resumed_from, part.pdf, part.rejoined_at)
        parts[i] = part
        cache.put(keys[i], part, texts[i])

    # A pool may want to know when every part is handed out (see workers.PartsFirst).
    handed_out = pool.all_submitted if pool is not None else (lambda: None)

    def meanwhile() -> None:
        handed_out()
        pikepdf()   # the joiner's library, imported while the parts are laid out, not after

    if not todo:
        handed_out()
    run_pieces(work, [(texts[i], base_url, *extra.get(i, ())) for i in todo], pool,
               lambda n, part: keep(todo[n], part), meanwhile=meanwhile)
    if early is not None:
        pikepdf()   # when no other part was laid out, not imported yet
        keep(early[0], early[1].result())
    ordered = [parts[i] for i in range(len(parts))]
    for i, part in enumerate(ordered):
        part.key = keys[i]
    if resumable:
        cache.set_lines({lines[i]: keys[i] for i in lines})
    cache.prune(set(keys.values()), spare=4 * len(keys))
    return ordered  # type: ignore[return-value]
