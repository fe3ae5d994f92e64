"""pikepdf, imported when first needed, and how the kit writes and splices PDFs with it."""

from __future__ import annotations

import io
from decimal import Decimal


def pikepdf():
    """pikepdf, imported when first needed (a worker that only lays out never needs it)."""
    import pikepdf as module

    return module


def pdf_number(value: float, places: int = 2) -> Decimal:
    """A number as written into the PDF: two decimals are a hundredth of a point."""
    return Decimal(f"{value:.{places}f}")


def splice(earlier: bytes, start: int, middle: bytes, end: int = 0) -> bytes:
    """The pages of `earlier` before `start`, every page of `middle`, then the pages of
    `earlier` from `end` on (none if `end` is 0)."""
    pk = pikepdf()
    with pk.open(io.BytesIO(earlier)) as doc, pk.open(io.BytesIO(middle)) as new:
        del doc.pages[start:end or len(doc.pages)]
        doc.pages[start:start] = list(new.pages)
        # The part's own outline and named destinations point at pages of both: neither is
        # read (the part's record holds its anchors and bookmarks), and without them the
        # replaced pages and what only they used are not written.
        for key in ("/Outlines", "/Names", "/Dests"):
            if key in doc.Root:
                del doc.Root[key]
        return saved(doc)


def saved(doc, **options) -> bytes:
    """`doc` written compressed, with object streams (as WeasyPrint writes its PDFs: about a
    third smaller), and an /ID from its content rather than the clock."""
    out = io.BytesIO()
    doc.save(out, compress_streams=True, object_stream_mode=pikepdf().ObjectStreamMode.generate,
             deterministic_id=True, **options)
    return out.getvalue()
