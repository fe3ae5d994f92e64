"""Line numbers for TOML key paths.

tomllib gives values but not positions, and error messages must name the line. The files are
written by hand in a plain style (keys at the start of a line, `[[table]]` headers), so a
line scan that tracks tables and multi-line strings finds every key we report on.
"""

from __future__ import annotations

import re

_ARRAY_TABLE = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_.-]+)\s*\]\]")
_TABLE = re.compile(r"^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]")
_KEY = re.compile(r"""^\s*([A-Za-z0-9_-]+|"[^"]*"|'[^']*')\s*=\s*(.*)$""")


class Locator:
    def __init__(self, text: str):
        # (table, index, key) -> line; the root table is ("", 0).
        self._keys: dict[tuple[str, int, str], int] = {}
        self._tables: dict[tuple[str, int], int] = {}
        self._scan(text.splitlines())

    def _scan(self, lines: list[str]) -> None:
        counts: dict[str, int] = {}
        table = ("", 0)
        closing: str | None = None
        for lineno, line in enumerate(lines, start=1):
            if closing is not None:
                if _closes(line, closing):
                    closing = None
                continue
            m = _ARRAY_TABLE.match(line)
            if m:
                name = m.group(1)
                table = (name, counts.get(name, 0))
                counts[name] = table[1] + 1
                self._tables.setdefault(table, lineno)
                continue
            m = _TABLE.match(line)
            if m and not _KEY.match(line):
                table = (m.group(1), 0)
                self._tables.setdefault(table, lineno)
                continue
            m = _KEY.match(line)
            if m:
                key = m.group(1).strip("\"'")
                self._keys.setdefault((table[0], table[1], key), lineno)
                value = m.group(2)
                for delim in ("'''", '"""'):
                    if value.startswith(delim) and not _closes(value[3:], delim):
                        closing = delim
                        break

    def line(self, *path: str | int) -> int | None:
        """Line of a key path such as ('summary',), ('samples', 2, 'output') or ('samples', 2)."""
        if not path:
            return None
        if isinstance(path[0], str) and len(path) >= 2 and isinstance(path[1], int):
            table = (path[0], path[1])
            if len(path) >= 3 and isinstance(path[2], str):
                found = self._keys.get((table[0], table[1], path[2]))
                if found:
                    return found
            return self._tables.get(table) or self._keys.get(("", 0, path[0]))
        return self._keys.get(("", 0, str(path[0])))


def _closes(text: str, delim: str) -> bool:
    if delim == '"""':
        text = text.replace('\\"', "")
    return delim in text


def value_first_line(text: str, key_line: int) -> int:
    """Line on which a value that starts at `key_line` begins: multi-line strings skip a newline."""
    line = text.splitlines()[key_line - 1]
    m = _KEY.match(line)
    if m and m.group(2).rstrip() in ("'''", '"""'):
        return key_line + 1
    return key_line
