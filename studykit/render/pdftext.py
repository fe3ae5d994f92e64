"""The text a PDF page draws, read back as runs with their font, size, colour and position."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal

from .pdfcommon import pikepdf


@dataclass
class _Run:
    """Text drawn in one font, size and colour, on a page in points from its top left: its
    left and right ends, its baseline, and how far its font reaches above and below it."""
    text: str
    x0: float
    x1: float
    y: float
    top: float
    bottom: float
    font: str
    size: float
    color: list


@dataclass
class _Font:
    """What _text_runs needs of a PDF font: its name, its glyphs' widths (thousandths of the
    size) and text, whether its codes take two bytes, its ascent and descent."""
    name: str
    two_bytes: bool
    widths: dict
    default_width: float
    text: dict
    ascent: float
    descent: float

    @staticmethod
    def of(font) -> _Font:
        name = str(font.get("/BaseFont", "/")).lstrip("/")
        two_bytes = font.get("/Subtype") == "/Type0"
        widths: dict[int, float] = {}
        if two_bytes:
            cid = font.DescendantFonts[0]
            descriptor = cid.get("/FontDescriptor")
            default = float(cid.get("/DW", 1000))
            w = list(cid.get("/W", ()))
            n = 0
            while n < len(w):
                first = int(w[n])
                if isinstance(w[n + 1], pikepdf().Array):
                    for k, width in enumerate(w[n + 1]):
                        widths[first + k] = float(width)
                    n += 2
                else:
                    for code in range(first, int(w[n + 1]) + 1):
                        widths[code] = float(w[n + 2])
                    n += 3
        else:
            descriptor = font.get("/FontDescriptor")
            default = float(descriptor.get("/MissingWidth", 0)) if descriptor else 0.0
            first = int(font.get("/FirstChar", 0))
            for k, width in enumerate(font.get("/Widths", ())):
                widths[first + k] = float(width)
        ascent = float(descriptor.get("/Ascent", 800)) if descriptor else 800.0
        descent = float(descriptor.get("/Descent", -200)) if descriptor else -200.0
        text = _to_unicode(font.ToUnicode.read_bytes()) if "/ToUnicode" in font else {}
        return _Font(name, two_bytes, widths, default, text, ascent, descent)

    def codes(self, data: bytes) -> list[int]:
        if self.two_bytes:
            return [data[n] << 8 | data[n + 1] for n in range(0, len(data) - 1, 2)]
        return list(data)

    def char(self, code: int) -> str:
        return self.text.get(code) or ("" if self.two_bytes else chr(code))


_BF_CHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BF_RANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.S)
_HEX = rb"<([0-9A-Fa-f\s]*)>"


def _to_unicode(cmap: bytes) -> dict[int, str]:
    """A ToUnicode CMap's codes and their text (its bfchar and bfrange sections)."""
    def text(hexes: bytes) -> str:
        return bytes.fromhex(hexes.decode()).decode("utf-16-be", "replace")

    found: dict[int, str] = {}
    for block in _BF_CHAR.findall(cmap):
        for code, to in re.findall(_HEX + rb"\s*" + _HEX, block):
            found[int(code, 16)] = text(to)
    for block in _BF_RANGE.findall(cmap):
        for low, high, to in re.findall(_HEX + rb"\s*" + _HEX + rb"\s*(<[^>]*>|\[[^\]]*\])",
                                        block):
            low, high = int(low, 16), int(high, 16)
            if to.startswith(b"["):
                for k, each in enumerate(re.findall(_HEX, to)):
                    found[low + k] = text(each)
            else:
                first = text(to[1:-1])
                for k in range(high - low + 1):
                    found[low + k] = first[:-1] + chr(ord(first[-1]) + k) if first else ""
    return found


def _multiply(m, n) -> tuple:
    """The matrix m then n (PDF matrices [a b c d e f])."""
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return (a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s,
            e * p + f * r + t, e * q + f * s + u)


_IDENTITY = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def text_runs(page, fonts: dict) -> list[_Run]:
    """The text a page draws, one run per string shown, in the order drawn, with runs that
    continue one another (same font, size, colour and baseline, no gap) joined. `fonts`
    keeps what was read of each font object, by its object number, across pages."""
    pk = pikepdf()
    x_left, _, _, y_top = (float(v) for v in page.mediabox)
    runs: list[_Run] = []

    def rgb(operands) -> list[float] | None:
        values = [float(v) for v in operands if isinstance(v, (int, float, Decimal))]
        if len(values) == 1:
            values *= 3
        elif len(values) == 4:
            c, m, y, k = values
            values = [(1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k)]
        return [round(v, 4) for v in values] if len(values) == 3 else None

    def walk(content, resources, outer: dict, depth: int) -> None:
        # A form XObject starts from the graphics state it is drawn in.
        state = {"color": [0.0, 0.0, 0.0], "space": "/DeviceGray", "font": None, "size": 0.0,
                 "Tc": 0.0, "Tw": 0.0, "Tz": 1.0, "TL": 0.0, "Ts": 0.0, **outer}
        stack = []
        tm = tlm = _IDENTITY

        def show(data: bytes) -> None:
            nonlocal tm
            font, size = state["font"], state["size"]
            if font is None:
                return
            trm = _multiply(tm, state["ctm"])
            scale = math.hypot(trm[2], trm[3])
            start = end = None
            text = []
            for code in font.codes(data):
                width = font.widths.get(code, font.default_width) / 1000 * size
                start = start or _apply(trm, 0, state["Ts"])
                end = _apply(trm, width * state["Tz"], state["Ts"])
                text.append(font.char(code))
                advance = width + state["Tc"] + (state["Tw"] if code == 32 and not font.two_bytes
                                                else 0)
                tm = _multiply((1, 0, 0, 1, advance * state["Tz"], 0), tm)
                trm = _multiply(tm, state["ctm"])
            if start is None:
                return
            y = y_top - start[1]
            runs.append(_Run("".join(text), start[0] - x_left, end[0] - x_left, y,
                             y - font.ascent / 1000 * size * scale,
                             y - font.descent / 1000 * size * scale,
                             font.name, size * scale, list(state["color"])))

        for operands, operator in pk.parse_content_stream(content):
            op = str(operator)
            if op == "q":
                stack.append(dict(state))
            elif op == "Q":
                if stack:
                    state = stack.pop()
            elif op == "cm":
                state["ctm"] = _multiply(tuple(float(v) for v in operands), state["ctm"])
            elif op == "cs":
                state["space"] = str(operands[0])
            elif op in ("rg", "g", "k") or op in ("sc", "scn") and state["space"] in (
                    "/DeviceRGB", "/DeviceGray", "/DeviceCMYK"):
                # (A colour in another space, Lab say, is not followed.)
                state["color"] = rgb(operands) or state["color"]
                if op in ("rg", "g", "k"):
                    state["space"] = {"rg": "/DeviceRGB", "g": "/DeviceGray"}.get(
                        op, "/DeviceCMYK")
            elif op == "BT":
                tm = tlm = _IDENTITY
            elif op == "Tf":
                key = resources.Font[operands[0]]
                font = fonts.get(key.objgen) if key.is_indirect else None
                if font is None:
                    font = _Font.of(key)
                    if key.is_indirect:
                        fonts[key.objgen] = font
                state["font"], state["size"] = font, float(operands[1])
            elif op in ("Tc", "Tw", "TL", "Ts"):
                state[op] = float(operands[0])
            elif op == "Tz":
                state["Tz"] = float(operands[0]) / 100
            elif op in ("Td", "TD"):
                if op == "TD":
                    state["TL"] = -float(operands[1])
                tm = tlm = _multiply((1, 0, 0, 1, float(operands[0]), float(operands[1])), tlm)
            elif op == "Tm":
                tm = tlm = tuple(float(v) for v in operands)
            elif op in ("T*", "'", '"'):
                if op == '"':
                    state["Tw"], state["Tc"] = float(operands[0]), float(operands[1])
                tm = tlm = _multiply((1, 0, 0, 1, 0, -state["TL"]), tlm)
                if op != "T*":
                    show(bytes(operands[-1]))
            elif op == "Tj":
                show(bytes(operands[0]))
            elif op == "TJ":
                for item in operands[0]:
                    if isinstance(item, pk.String):
                        show(bytes(item))
                    else:
                        shift = -float(item) / 1000 * state["size"] * state["Tz"]
                        tm = _multiply((1, 0, 0, 1, shift, 0), tm)
            elif op == "Do" and depth < 8:
                xobject = resources.get("/XObject", {}).get(operands[0])
                if xobject is not None and xobject.get("/Subtype") == "/Form":
                    matrix = tuple(float(v) for v in xobject.get("/Matrix", _IDENTITY))
                    walk(xobject, xobject.get("/Resources", resources),
                         {**state, "ctm": _multiply(matrix, state["ctm"])}, depth + 1)

    walk(page, page.resources, {"ctm": _IDENTITY}, 0)
    joined: list[_Run] = []
    for run in runs:
        last = joined[-1] if joined else None
        if (last and (last.font, last.size, last.color) == (run.font, run.size, run.color)
                and abs(last.y - run.y) < 0.1 and abs(run.x0 - last.x1) <= 0.5):
            last.text += run.text
            last.x1 = run.x1
        else:
            joined.append(run)
    return joined


def _apply(m, x: float, y: float) -> tuple[float, float]:
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]
