"""The book written from its laid-out parts: numbers stamped, links, destinations and outline rebuilt."""

from __future__ import annotations

import hashlib
import io
import json
from concurrent.futures import Executor
from pathlib import Path

from ..errors import RenderError
from ..output import write_output
from .partcache import PartCache
from .partlayout import PartLayout
from .pdfcommon import pdf_number, pikepdf, saved
from .stamping import stamp_part

# At most this many parts to stamp are stamped in the main process alone.
STAMP_HERE = 2


def _add_links(book, page_index: int, height: float, links: list, anchors: dict) -> None:
    """The page's link annotations, with no border. A link to an anchor that is not in the
    book fails the build, naming its page."""
    pk = pikepdf()
    annots = []
    for _, kind, dest, x0, y0, x1, y1 in links:
        rect = [pdf_number(x0), pdf_number(height - y1), pdf_number(x1), pdf_number(height - y0)]
        if kind == "external":
            action = pk.Dictionary(S=pk.Name.URI, URI=pk.String(dest))
        elif dest in anchors:
            action = pk.Dictionary(S=pk.Name.GoTo, D=pk.String(dest))
        else:
            raise RenderError(f"page {page_index + 1}: a link to #{dest}, which is not in the "
                              "book")
        annots.append(book.make_indirect(pk.Dictionary(
            Type=pk.Name.Annot, Subtype=pk.Name.Link, Rect=rect, BS=pk.Dictionary(W=0),
            A=action)))
    if annots:
        book.pages[page_index].obj.Annots = pk.Array(annots)


def join(parts: list[PartLayout], target: Path, metadata: dict, cache: PartCache,
         lang: str = "en", pool: Executor | None = None, numbers_from: int | None = None) -> int:
    """Write the book: the parts in order with their page numbers stamped, links, named
    destinations and bookmarks rebuilt. A part whose printed numbers did not change since it
    was last stamped is taken stamped from the cache; the others are stamped on `pool` as well
    as here. With `numbers_from`, every page from that one (0-based) on must print its number:
    a book that would not, or whose page references or links would point nowhere, is not
    written. `metadata` holds the document information dictionary's entries, by their PDF
    names (Title, Creator, CreationDate, ...)."""
    pk = pikepdf()
    offsets, total = [], 0
    for p in parts:
        offsets.append(total)
        total += p.pages
    _check_numbers(parts, offsets, total, target, numbers_from)
    anchors: dict[str, tuple[int, float, float]] = {}
    for off, p in zip(offsets, parts):
        for name, (page, x, y) in p.anchors.items():
            anchors.setdefault(name, (off + page, x, y))
    missing = sorted({s[1] for p in parts for s in p.stamps if s[1] and s[1] not in anchors})
    if missing:
        raise RenderError(f"page references to anchors that are not in the book: "
                          f"{', '.join(missing[:10])}")

    stamped: list[bytes | None] = []
    signatures: list[str] = []
    todo: list[tuple[int, str, tuple]] = []
    for off, p in zip(offsets, parts):
        numbers = [(anchors[ref][0] if ref else off + page) + 1
                   for page, ref, *_ in p.stamps]
        signature = hashlib.sha256(json.dumps(numbers).encode()).hexdigest()[:16]
        signatures.append(signature)
        stamped.append(cache.get_stamped(p.key, signature))
        if stamped[-1] is None:
            todo.append((len(stamped) - 1, signature, (p.pdf, p.stamps, numbers, cache.folder)))
    # Stamping the whole book takes a second or two, after every part is laid out: the
    # workers take parts from the front while this process takes those not yet started from
    # the back. A few parts (after an edit, usually one) are stamped here: a worker may be
    # busy, or may have to import pikepdf first, which this process has done.
    share = pool is not None and len(todo) > STAMP_HERE
    futures = [pool.submit(stamp_part, *args) for _, _, args in todo] if share else []
    for n in reversed(range(len(todo))):
        if not futures or futures[n].cancel():
            stamped[todo[n][0]] = stamp_part(*todo[n][2])
    for n, (i, signature, _) in enumerate(todo):
        if stamped[i] is None:
            stamped[i] = futures[n].result()
        cache.put_stamped(parts[i].key, signature, stamped[i])

    book = pk.new()
    sources = []
    try:
        for data in stamped:
            src = pk.open(io.BytesIO(data))
            sources.append(src)   # open until the book is written: it reads their streams
            for page in src.pages:
                # The part's own links point at its own names: the book's are made below.
                if "/Annots" in page.obj:
                    del page.obj.Annots
            book.pages.extend(src.pages)
        pages = [page.obj for page in book.pages]
        heights = [float(page.mediabox[3]) for page in book.pages]

        links_on: dict[int, list] = {}
        for off, p in zip(offsets, parts):
            for link in p.links:
                links_on.setdefault(off + link[0], []).append(link)
        for index, links in sorted(links_on.items()):
            _add_links(book, index, heights[index], links, anchors)

        def destination(page: int, x: float, y: float):
            return pk.Array([pages[page], pk.Name.XYZ, pdf_number(x), pdf_number(heights[page] - y), 0])

        # Every anchor as a named destination, as WeasyPrint writes them: links point at
        # names, and a reader can open `handbook.pdf#q42` at question 42.
        names = pk.NameTree.new(book)
        for name in sorted(anchors):
            names[name] = destination(*anchors[name])
        book.Root.Names = pk.Dictionary(Dests=names.obj)

        with book.open_outline() as outline:
            chain: list = []   # the last item of each level so far
            for off, p in zip(offsets, parts):
                for page, level, label, x, y in p.bookmarks:
                    # A level may not jump more than one below the one before it.
                    level = min(level, len(chain) + 1)
                    item = pk.OutlineItem(label, destination(off + page, x, y))
                    # Chapters shown closed, as a list of chapters.
                    item.is_closed = True
                    del chain[level - 1:]
                    (chain[-1].children if chain else outline.root).append(item)
                    chain.append(item)

        for key, value in metadata.items():
            book.docinfo[pk.Name("/" + key)] = pk.String(value)
        book.Root.Lang = pk.String(lang)
        # qpdf keeps an ID's first half and makes its second from the file's content (with
        # deterministic_id): the first, from what the book is made of (each part's key and
        # the numbers stamped on it), keeps two builds of the same content the same bytes.
        made_of = [[p.key, signature] for p, signature in zip(parts, signatures)]
        ident = bytes.fromhex(hashlib.sha256(json.dumps([made_of, metadata]).encode())
                              .hexdigest()[:32])
        book.trailer.ID = pk.Array([pk.String(ident), pk.String(ident)])
        # Only what the pages, the names and the outline use is written: what the parts'
        # catalogues held is left behind. Object streams keep the book about a third smaller.
        # A new PDF's version is qpdf's least for what it writes: the parts' own is kept.
        data = saved(book, min_version=max((src.pdf_version for src in sources), default=""))
    finally:
        for src in sources:
            src.close()
        book.close()
    write_output(target, data)
    return total


def _check_numbers(parts: list[PartLayout], offsets: list[int], total: int, target: Path,
                   numbers_from: int | None) -> None:
    """Fail, naming the page, where a number would be missing: a stand-in that was not found
    (a renamed box class or style key, say) is otherwise a book printed without it."""
    for off, p in zip(offsets, parts):
        for page, ref in p.missing:
            where = f"page {off + page + 1}" if page >= 0 else f"pages {off + 1}-{off + p.pages}"
            raise RenderError(f"{target.name}: {where}: the stand-in for the page number of "
                              f"#{ref} was not found, so no number would be printed")
    if numbers_from is None:
        return
    numbered = {off + s[0] for off, p in zip(offsets, parts) for s in p.stamps if not s[1]}
    bare = [n + 1 for n in range(numbers_from, total) if n not in numbered]
    if bare:
        more = f" (and {len(bare) - 1} other pages)" if len(bare) > 1 else ""
        raise RenderError(f"{target.name}: page {bare[0]}{more}: the stand-in for its page "
                          "number was not found, so no number would be printed")
