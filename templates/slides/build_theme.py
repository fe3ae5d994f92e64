#!/usr/bin/env python3
"""Build templates/slides/theme.pptx, the one file that styles every deck.

Run it again after changing it: `.venv/bin/python templates/slides/build_theme.py`. The output is
committed, so a build never needs this script; a user may equally edit theme.pptx in PowerPoint or
Impress (colours, fonts, background, where the placeholders sit), and every deck follows.

The renderer relies only on the layout names and placeholder idx values written here:

    Deck Title   ctrTitle (0), subTitle (1)
    Bullets      title (0), body (1)                       agenda, answers, recap, discussion
    Question     title (0), body (1) the question, body (2) the "think about it" cue
    Code         title (0), body (1) the code panel, body (2) the output panel

Every layout but Deck Title has a footer (11) and a slide number (12).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from lxml import etree
from pptx import Presentation
from pptx.util import Emu, Inches

HERE = Path(__file__).resolve().parent
# Run as a script, from anywhere: the kit's own modules are two folders up.
sys.path.insert(0, str(HERE.parents[1]))
from studykit.render import pptx_xml  # noqa: E402
OUT = HERE / "theme.pptx"

NS = {
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "p": "http://schemas.openxmlformats.org/presentationml/2006/main",
}
A = "{%s}" % NS["a"]
P = "{%s}" % NS["p"]

# 16:9 widescreen, the size PowerPoint, Impress and Google Slides all default to.
WIDTH, HEIGHT = 12192000, 6858000
MARGIN = Inches(0.55)
CONTENT_W = WIDTH - 2 * MARGIN

# The scheme: dark slate text on a barely warm white (pure white glares on a projector), one blue
# accent. The code panel is dark so the token colours stay saturated from the back of the room.
COLOURS = {
    "dk1": "1B2330", "lt1": "FFFFFF", "dk2": "2A3547", "lt2": "F6F5F1",
    "accent1": "2563EB", "accent2": "D9480F", "accent3": "2B8A3E", "accent4": "7048E8",
    "accent5": "0B7285", "accent6": "C2255C", "hlink": "1D4ED8", "folHlink": "6741D9",
}
BACKGROUND = "F6F5F1"
CODE_PANEL = "1B2330"
OUTPUT_PANEL = "E7EBF0"
MUTED = "5B6577"

# Calibri ships with PowerPoint on Windows and macOS and with Google Slides; Impress on Linux
# substitutes Carlito, which has the same advance widths, so text measured once fits everywhere.
FONT = "Calibri"


def _sub(parent, tag: str, **attrs):
    el = etree.SubElement(parent, tag)
    for k, v in attrs.items():
        el.set(k, str(v))
    return el


def _solid(parent, rgb: str):
    fill = _sub(parent, A + "solidFill")
    _sub(fill, A + "srgbClr", val=rgb)
    return fill


def set_theme(prs) -> None:
    xml = pptx_xml.theme_xml(prs).decode("utf-8")
    # Plain RGB for dk1/lt1 too: the default sysClr windowText would follow the OS colours.
    scheme = "".join(f'<a:{k}><a:srgbClr val="{v}"/></a:{k}>' for k, v in COLOURS.items())
    xml = re.sub(r'<a:clrScheme name="[^"]*">.*?</a:clrScheme>',
                 f'<a:clrScheme name="Study Kit">{scheme}</a:clrScheme>', xml, flags=re.S)
    xml = re.sub(r'(<a:(?:major|minor)Font><a:latin typeface=")[^"]*"', rf'\g<1>{FONT}"', xml)
    xml = re.sub(r'<a:theme ([^>]*)name="[^"]*"', r'<a:theme \1name="Study Kit"', xml, count=1)
    xml = re.sub(r'<a:fontScheme name="[^"]*"', '<a:fontScheme name="Study Kit"', xml, count=1)
    pptx_xml.set_theme_xml(prs, xml.encode("utf-8"))


def set_background(cSld, rgb: str) -> None:
    for bg in cSld.findall(P + "bg"):
        cSld.remove(bg)
    bg = etree.Element(P + "bg")
    bgPr = _sub(bg, P + "bgPr")
    _solid(bgPr, rgb)
    _sub(bgPr, A + "effectLst")
    cSld.insert(0, bg)


def no_autofit(bodyPr) -> None:
    # Text is measured and split by the renderer; an autofit would silently shrink it in Impress
    # and only on edit in PowerPoint, so the two would disagree.
    for tag in ("normAutofit", "spAutoFit", "noAutofit"):
        for el in bodyPr.findall(A + tag):
            bodyPr.remove(el)
    _sub(bodyPr, A + "noAutofit")


def place(sp, x, y, w, h) -> None:
    spPr = sp.find(P + "spPr")
    for el in spPr.findall(A + "xfrm"):
        spPr.remove(el)
    xfrm = etree.Element(A + "xfrm")
    _sub(xfrm, A + "off", x=int(x), y=int(y))
    _sub(xfrm, A + "ext", cx=int(w), cy=int(h))
    spPr.insert(0, xfrm)


def ph_of(sp):
    return sp.find(f"{P}nvSpPr/{P}nvPr/{P}ph")


def style_master(prs) -> None:
    master = prs.slide_master
    el = master.element
    set_background(el.find(P + "cSld"), BACKGROUND)
    for sp in el.iter(P + "sp"):
        ph = ph_of(sp)
        kind = ph.get("type") if ph is not None else None
        bodyPr = sp.find(f"{P}txBody/{A}bodyPr")
        if bodyPr is not None:
            no_autofit(bodyPr)
        if kind == "title":
            place(sp, MARGIN, Inches(0.35), CONTENT_W, Inches(0.95))
        elif kind == "body":
            place(sp, MARGIN, Inches(1.45), CONTENT_W, Inches(5.3))
        elif kind == "dt":
            place(sp, MARGIN, Inches(6.95), Inches(2), Inches(0.4))
        elif kind == "ftr":
            place(sp, MARGIN, Inches(6.95), Inches(9.5), Inches(0.4))
        elif kind == "sldNum":
            place(sp, WIDTH - MARGIN - Inches(1.5), Inches(6.95), Inches(1.5), Inches(0.4))
    # An accent rule under the title area on every content slide.
    tree = el.find(f"{P}cSld/{P}spTree")
    rule = etree.fromstring(
        f'<p:sp xmlns:p="{NS["p"]}" xmlns:a="{NS["a"]}"><p:nvSpPr><p:cNvPr id="90" '
        f'name="Accent rule"/><p:cNvSpPr/><p:nvPr userDrawn="1"/></p:nvSpPr><p:spPr>'
        f'<a:xfrm><a:off x="{MARGIN}" y="{Inches(1.32)}"/><a:ext cx="{Inches(1.2)}" '
        f'cy="{Inches(0.06)}"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom>'
        f'<a:solidFill><a:schemeClr val="accent1"/></a:solidFill><a:ln><a:noFill/></a:ln>'
        f'</p:spPr></p:sp>')
    tree.append(rule)

    styles = el.find(P + "txStyles")
    title = styles.find(f"{P}titleStyle/{A}lvl1pPr")
    title.set("algn", "l")
    title.find(A + "defRPr").set("sz", "3600")
    title.find(A + "defRPr").set("b", "1")
    for n, size in zip(range(1, 10), (2400, 2200, 2000, 2000, 2000, 2000, 2000, 2000, 2000)):
        lvl = styles.find(f"{P}bodyStyle/{A}lvl{n}pPr")
        if lvl is not None:
            lvl.find(A + "defRPr").set("sz", str(size))
    for lvl in styles.find(P + "otherStyle"):
        d = lvl.find(A + "defRPr")
        if d is not None:
            d.set("sz", "1800")
    for sp in el.iter(P + "sp"):
        ph = ph_of(sp)
        if ph is not None and ph.get("type") in ("ftr", "sldNum", "dt"):
            lst = sp.find(f"{P}txBody/{A}lstStyle")
            for child in list(lst):
                lst.remove(child)
            lvl = _sub(lst, A + "lvl1pPr", algn="r" if ph.get("type") == "sldNum" else "l")
            d = _sub(lvl, A + "defRPr", sz=1400)
            _solid(d, MUTED)


def _layout_sp(layout, idx=None, kind=None):
    for sp in layout.element.iter(P + "sp"):
        ph = ph_of(sp)
        if ph is None:
            continue
        if idx is not None and int(ph.get("idx", "0")) == idx:
            return sp
        if kind is not None and ph.get("type") == kind:
            return sp
    raise LookupError((layout.name, idx, kind))


def _drop(layout, kinds=(), idxs=()) -> None:
    tree = layout.element.find(f"{P}cSld/{P}spTree")
    for sp in list(tree.iter(P + "sp")):
        ph = ph_of(sp)
        if ph is None:
            continue
        if ph.get("type") in kinds or (ph.get("type") in (None, "body", "obj")
                                       and int(ph.get("idx", "0")) in idxs):
            tree.remove(sp)


def _name(layout, name: str) -> None:
    layout.element.find(P + "cSld").set("name", name)


def _fill(sp, rgb: str) -> None:
    spPr = sp.find(P + "spPr")
    for tag in ("solidFill", "noFill", "prstGeom"):
        for el in spPr.findall(A + tag):
            spPr.remove(el)
    geom = _sub(spPr, A + "prstGeom", prst="rect")
    _sub(geom, A + "avLst")
    _solid(spPr, rgb)


def _body_text(sp, prompt: str, size: int | None = None, rgb: str | None = None,
               bullet: bool = True, font: str | None = None) -> None:
    """The prompt text and level-1 look a placeholder shows in the template."""
    txBody = sp.find(P + "txBody")
    bodyPr = txBody.find(A + "bodyPr")
    no_autofit(bodyPr)
    lst = txBody.find(A + "lstStyle")
    for child in list(lst):
        lst.remove(child)
    lvl = _sub(lst, A + "lvl1pPr")
    if not bullet:
        lvl.set("marL", "0")
        lvl.set("indent", "0")
        _sub(lvl, A + "buNone")
    d = _sub(lvl, A + "defRPr")
    if size:
        d.set("sz", str(size))
    if rgb:
        _solid(d, rgb)
    if font:
        _sub(d, A + "latin", typeface=font)
    for p in txBody.findall(A + "p"):
        txBody.remove(p)
    p = _sub(txBody, A + "p")
    r = _sub(p, A + "r")
    _sub(r, A + "rPr", lang="en-US")
    _sub(r, A + "t").text = prompt


def build() -> Path:
    prs = Presentation()
    prs.slide_width, prs.slide_height = Emu(WIDTH), Emu(HEIGHT)
    set_theme(prs)
    style_master(prs)
    layouts = {l.name: l for l in prs.slide_layouts}

    title = layouts["Title Slide"]
    _name(title, "Deck Title")
    _drop(title, kinds=("dt", "ftr", "sldNum"))
    place(_layout_sp(title, kind="ctrTitle"), MARGIN, Inches(1.7), CONTENT_W, Inches(1.9))
    place(_layout_sp(title, idx=1), MARGIN, Inches(3.9), CONTENT_W, Inches(2.4))
    for sp in (_layout_sp(title, kind="ctrTitle"),):
        no_autofit(sp.find(f"{P}txBody/{A}bodyPr"))
        sp.find(f"{P}txBody/{A}bodyPr").set("anchor", "b")
    _body_text(_layout_sp(title, idx=1), "Questions and difficulty mix", 2400, MUTED,
               bullet=False)
    # The master's rule sits under content titles; the title slide has its own, between the
    # topic and the subtitle.
    title.element.set("showMasterSp", "0")
    tree = title.element.find(f"{P}cSld/{P}spTree")
    tree.append(etree.fromstring(
        f'<p:sp xmlns:p="{NS["p"]}" xmlns:a="{NS["a"]}"><p:nvSpPr><p:cNvPr id="90" '
        f'name="Accent rule"/><p:cNvSpPr/><p:nvPr userDrawn="1"/></p:nvSpPr><p:spPr>'
        f'<a:xfrm><a:off x="{MARGIN + Inches(0.1)}" y="{Inches(3.72)}"/><a:ext '
        f'cx="{Inches(2.0)}" cy="{Inches(0.08)}"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/>'
        f'</a:prstGeom><a:solidFill><a:schemeClr val="accent1"/></a:solidFill><a:ln>'
        f'<a:noFill/></a:ln></p:spPr></p:sp>'))

    bullets = layouts["Title and Content"]
    _name(bullets, "Bullets")
    _drop(bullets, kinds=("dt",))

    question = layouts["Two Content"]
    _name(question, "Question")
    _drop(question, kinds=("dt",))
    place(_layout_sp(question, idx=1), MARGIN, Inches(1.6), CONTENT_W, Inches(3.9))
    place(_layout_sp(question, idx=2), MARGIN, Inches(5.75), CONTENT_W, Inches(1.0))
    _body_text(_layout_sp(question, idx=1), "The question", 4000, bullet=False)
    _body_text(_layout_sp(question, idx=2), "Think about it", 2400, "D9480F", bullet=False)

    code = layouts["Comparison"]
    _name(code, "Code")
    _drop(code, kinds=("dt",), idxs=(3, 4))
    code_sp, out_sp = _layout_sp(code, idx=1), _layout_sp(code, idx=2)
    place(code_sp, MARGIN, Inches(1.5), CONTENT_W, Inches(3.85))
    place(out_sp, MARGIN, Inches(5.45), CONTENT_W, Inches(1.35))
    _fill(code_sp, CODE_PANEL)
    _fill(out_sp, OUTPUT_PANEL)
    _body_text(code_sp, "code", 1800, "E8ECF1", bullet=False, font="Courier New")
    _body_text(out_sp, "output", 1800, "1B2330", bullet=False, font="Courier New")

    keep = {"Deck Title", "Bullets", "Question", "Code"}
    for layout in list(prs.slide_layouts):
        if layout.name not in keep:
            prs.slide_layouts.remove(layout)

    OUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUT.with_suffix(".tmp.pptx")
    prs.save(tmp)
    tmp.replace(OUT)
    return OUT


if __name__ == "__main__":
    # The theme's XML can be written only through python-pptx's internals.
    why = pptx_xml.unusable()
    if why:
        sys.exit(f"build_theme.py writes the theme through python-pptx's internals, not used "
                 f"here: {why}")
    print(f"wrote {build()}")
