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


def figure_alt_texts(pdf: bytes) -> bytes:
    """`pdf` (written with WeasyPrint's pdf_tags) with each figure's alt text on the content
    that draws it, and no structure tree.

    The book is joined from parts laid out apart (and a part is sometimes laid out from a page
    on), so the parts' structure trees are not merged into one for the book. What a figure's
    reader needs is kept where it survives joining and splicing: the marked-content sequence
    that draws the figure becomes `/Span <</Alt (...)>> BDC ... EMC`, an alternate description
    PDF 1.5 allows on marked content itself (ISO 32000-1, 14.9.3)."""
    pk = pikepdf()
    with pk.open(io.BytesIO(pdf)) as doc:
        tree = doc.Root.get("/StructTreeRoot")
        if tree is None:
            return pdf
        alts: dict[tuple[int, int], str] = {}   # (page object number, MCID) -> alt text

        def visit(element) -> None:
            if not isinstance(element, pk.Dictionary):
                return
            kids = element.get("/K")
            kids = list(kids) if isinstance(kids, pk.Array) else [kids]
            figure = element.get("/S") == pk.Name.Figure and "/Alt" in element and "/Pg" in element
            for kid in kids:
                if figure and isinstance(kid, int):
                    alts[(element.Pg.objgen[0], int(kid))] = str(element.Alt)
                visit(kid)

        visit(tree)
        for page in doc.pages:
            wanted = {mcid: alt for (num, mcid), alt in alts.items() if num == page.obj.objgen[0]}
            if wanted:
                ops = pk.parse_content_stream(page)
                for i, (operands, op) in enumerate(ops):
                    if (str(op) == "BDC" and len(operands) == 2
                            and operands[0] == pk.Name.Figure
                            and isinstance(operands[1], pk.Dictionary)
                            and int(operands[1].get("/MCID", -1)) in wanted):
                        alt = wanted[int(operands[1].MCID)]
                        ops[i] = pk.ContentStreamInstruction(
                            [pk.Name.Span, pk.Dictionary(Alt=pk.String(alt))], pk.Operator("BDC"))
                page.Contents = doc.make_stream(pk.unparse_content_stream(ops))
            if "/StructParents" in page.obj:
                del page.obj.StructParents
        for key in ("/StructTreeRoot", "/MarkInfo"):
            if key in doc.Root:
                del doc.Root[key]
        return saved(doc)
