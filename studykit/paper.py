"""What every printed output shares: the paper sizes and the marks that tell the levels apart."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Paper:
    css_size: str    # the name CSS's `@page { size }` knows it by
    width: float     # mm
    height: float

    @property
    def size(self) -> tuple[float, float]:
        """(width, height) in millimetres."""
        return (self.width, self.height)


PAPERS = {"a4": Paper("A4", 210.0, 297.0), "letter": Paper("letter", 215.9, 279.4)}

# Per difficulty, a shape and a colour: with the level's letter (model.DIFFICULTY_LETTERS) the
# level still reads in black-and-white print, and it looks the same in the handbook and on the
# cards.
MARKS = {
    "easy": ("\u25cf", "#2e7d32"),     # circle
    "medium": ("\u25a0", "#1565c0"),   # square
    "hard": ("\u25b2", "#e65100"),     # triangle
    "expert": ("\u25c6", "#b71c1c"),   # diamond
}
