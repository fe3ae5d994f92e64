"""Problems found in content, collected so one run reports all of them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int | None
    field: str
    message: str

    def render(self, root: Path | None = None) -> str:
        path = self.path
        if root is not None:
            try:
                path = self.path.resolve().relative_to(root.resolve())
            except ValueError:
                pass
        where = f"{path}:{self.line}" if self.line else f"{path}"
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class KitError(Exception):
    """An error the user can act on; the CLI prints it without a traceback."""

    exit_code = 2


class ContentError(KitError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"{len(problems)} content problem(s)")


class RenderError(KitError):
    """Output could not be produced (content that does not fit, a missing tool)."""

    exit_code = 3
