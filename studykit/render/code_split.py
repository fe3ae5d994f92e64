"""Where a code sample may be broken across slides: statement starts ranked, chunks chosen."""

from __future__ import annotations

import ast

from ..errors import RenderError
from .code_runs import Line

def break_points(code: str, count: int) -> dict[int, int]:
    """Line indices where a slide may start, with a preference: higher is a better break.

    A statement start is a candidate (top-level ones preferred), and a blank line before it makes
    it better still; a comment block directly above a statement moves with it.
    """
    lines = code.rstrip("\n").expandtabs(4).split("\n")
    try:
        tree = ast.parse(code)
    except SyntaxError:
        tree = None
    starts: dict[int, int] = {}
    if tree is not None:
        top = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.stmt):
                first = min([node.lineno] + [d.lineno for d in
                                             getattr(node, "decorator_list", [])]) - 1
                starts[first] = max(starts.get(first, 0), 2 if id(node) in top else 1)
    else:
        starts = {i: 1 for i in range(1, count) if lines[i - 1].strip() == "" and lines[i].strip()}
    points: dict[int, int] = {}
    for i, prio in starts.items():
        while i > 0 and lines[i - 1].lstrip().startswith("#"):
            i -= 1
        if i <= 0:
            continue
        blank = lines[i - 1].strip() == ""
        points[i] = max(points.get(i, 0), prio + (2 if blank else 0))
    return points


def split_code(code: str, lines: list[Line], capacity: int,
               last_capacity: int = 0) -> list[list[Line]]:
    """Chunks of at most `capacity` lines, broken where break_points prefers.

    The last chunk is kept to `last_capacity` lines when possible, so the output fits under it.
    """
    if capacity < 1:
        raise RenderError("the code panel of the slide theme is too small for one line")
    points = break_points(code, len(lines))
    chunks: list[list[Line]] = []
    pos = 0
    n = len(lines)

    def blank(i: int) -> bool:
        return not "".join(t for t, _ in lines[i]).strip()

    while pos < n:
        remaining = n - pos
        if remaining <= last_capacity:
            chunks.append(lines[pos:])
            break
        if remaining <= capacity:
            # What is left fits one slide; break once more only if that lets the output share
            # the last one.
            finishing = [b for b in points if pos < b and n - b <= last_capacity]
            if not finishing:
                chunks.append(lines[pos:])
                break
            # Among the best breaks, the one that shares the lines most evenly, so the last
            # slide is not left with a line or two.
            end = max(finishing, key=lambda b: (points[b], -abs((b - pos) - (n - b))))
        else:
            window = [b for b in points if pos < b <= pos + capacity]
            late = [b for b in window if b - pos >= capacity // 2]
            pool = late or window
            best = max((points[b] for b in window), default=None)
            # When two slides will do, split as evenly as the best breaks allow, so the second
            # is not a stub under a full first one; never at a worse break than the usual rule.
            two = [b for b in window if n - b <= last_capacity and points[b] == best]
            if two:
                end = max(two, key=lambda b: -abs((b - pos) - (n - b)))
            else:
                end = max(pool, key=lambda b: (points[b], b)) if pool else pos + capacity
        last = end
        while last > pos and blank(last - 1):
            last -= 1
        chunks.append(lines[pos:last])
        pos = end
        while pos < n and blank(pos):
            pos += 1
    return chunks

