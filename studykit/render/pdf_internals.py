"""Every use of PyMuPDF's internals, on the versions they were tested with, and nowhere else.

One: stamping a part wraps its pages' content in two shared q/Q streams when its first page
needs what wrap_contents would add, which PyMuPDF finds out with a private method. On any other
version, or if that method fails, each page is wrapped by the public wrap_contents (a quarter
of the stamping's time more).
"""
from __future__ import annotations

from .base import forced_public

# The PyMuPDF releases the code below was tested with.
TESTED = ("1.28.2",)


def q_balance(page) -> tuple[int, int] | None:
    """What page._count_q_balance says (the q and Q wrap_contents would add), or None when
    it is not to be asked."""
    from ..freshness import library_version

    if forced_public() or library_version("pymupdf") not in TESTED:
        return None
    try:
        return tuple(page._count_q_balance())
    except Exception:   # noqa: BLE001 - the public wrap_contents does without it
        return None

