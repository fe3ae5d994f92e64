"""DrawingML written straight into slides through `.element`: tag names, text bodies, notes text."""

from __future__ import annotations

import functools
import re

from lxml import etree

from .pptx_text import EMU_PER_PT, Box, Para

NAMESPACES = {"a": "http://schemas.openxmlformats.org/drawingml/2006/main",
              "p": "http://schemas.openxmlformats.org/presentationml/2006/main"}


# Cached: a deck writes hundreds of thousands of elements.
@functools.lru_cache(maxsize=None)
def qn(tag: str) -> str:
    """'p:sp' as lxml names it, '{namespace}sp'."""
    prefix, name = tag.split(":")
    return f"{{{NAMESPACES[prefix]}}}{name}"


NV_SP, C_NV_PR, SP_PR = qn("p:nvSpPr"), qn("p:cNvPr"), qn("p:spPr")
SP, PH_PATH = qn("p:sp"), f"{NV_SP}/{qn('p:nvPr')}/{qn('p:ph')}"
XFRM, OFF, EXT = qn("a:xfrm"), qn("a:off"), qn("a:ext")
TX_BODY, SP_TREE = qn("p:txBody"), f"{qn('p:cSld')}/{qn('p:spTree')}"
# What python-pptx writes for a control character in text, which XML cannot hold: _xHHHH_.
CONTROL = re.compile(r"[\x00-\x08\x0B-\x1F]")


def tree(slide):
    """The slide's shape tree, the XML its shapes are in."""
    return slide.element.find(SP_TREE)


def set_text(txBody, text: str) -> None:
    """What python-pptx's `text_frame.text = text` writes, made directly: a paragraph per
    line, a run per stretch between vertical tabs with a break between, control characters
    escaped as python-pptx escapes them."""
    for p in txBody.findall(qn("a:p")):
        txBody.remove(p)
    for line in text.split("\n"):
        p = etree.SubElement(txBody, qn("a:p"))
        for n, stretch in enumerate(line.split("\v")):
            if n:
                etree.SubElement(p, qn("a:br"))
            if stretch:
                etree.SubElement(etree.SubElement(p, qn("a:r")), qn("a:t")).text = \
                    CONTROL.sub(lambda m: "_x%04X_" % ord(m.group()), stretch)


def write_paras(txBody, paras: list[Para], box: Box, wrap: bool = True,
                anchor: str | None = None) -> None:
    """Replace a text body's paragraphs with `paras`, set at their exact sizes and spacing in
    `box`'s insets, with autofit off."""
    bodyPr = txBody.find(qn("a:bodyPr"))
    for attr, v in (("lIns", box.inset_x), ("rIns", box.inset_x), ("tIns", box.inset_y),
                    ("bIns", box.inset_y)):
        bodyPr.set(attr, str(round(v * EMU_PER_PT)))
    bodyPr.set("wrap", "square" if wrap else "none")
    bodyPr.set("anchor", anchor or "t")
    for child in list(bodyPr):
        bodyPr.remove(child)
    etree.SubElement(bodyPr, qn("a:noAutofit"))
    for p in txBody.findall(qn("a:p")):
        txBody.remove(p)
    for para in paras:
        p = etree.SubElement(txBody, qn("a:p"))
        pPr = etree.SubElement(p, qn("a:pPr"), algn=para.align)
        if para.bullet:
            pPr.set("marL", str(round(para.margin_left * EMU_PER_PT)))
            pPr.set("indent", str(-round(para.margin_left * EMU_PER_PT)))
        else:
            pPr.set("marL", "0")
            pPr.set("indent", "0")
        etree.SubElement(etree.SubElement(pPr, qn("a:lnSpc")), qn("a:spcPts"),
                         val=str(round(para.line_pt * 100)))
        etree.SubElement(etree.SubElement(pPr, qn("a:spcBef")), qn("a:spcPts"),
                         val=str(round(para.space_before * 100)))
        etree.SubElement(etree.SubElement(pPr, qn("a:spcAft")), qn("a:spcPts"),
                         val=str(round(para.space_after * 100)))
        if para.bullet:
            etree.SubElement(pPr, qn("a:buFont"), typeface="Arial")
            etree.SubElement(pPr, qn("a:buChar"), char=para.bullet)
        else:
            etree.SubElement(pPr, qn("a:buNone"))
        size = para.runs[0].size if para.runs else 18
        for run in para.runs:
            size = run.size
            if not run.text:
                continue
            r = etree.SubElement(p, qn("a:r"))
            rPr = etree.SubElement(r, qn("a:rPr"), lang="en-US", sz=str(round(run.size * 100)),
                                   b="1" if run.bold else "0", i="1" if run.italic else "0",
                                   dirty="0")
            if run.color:
                fill = etree.SubElement(rPr, qn("a:solidFill"))
                etree.SubElement(fill, qn("a:srgbClr"), val=run.color)
            if run.font:
                etree.SubElement(rPr, qn("a:latin"), typeface=run.font)
                etree.SubElement(rPr, qn("a:cs"), typeface=run.font)
            etree.SubElement(r, qn("a:t")).text = run.text
        # An empty line keeps its height only if the end mark carries the size.
        etree.SubElement(p, qn("a:endParaRPr"), lang="en-US", sz=str(round(size * 100)),
                         dirty="0")


def reveal_on_click(sld, sp) -> None:
    """Make the shape `sp` of the slide `sld` appear on the first click: the "Appear" entrance
    effect as PowerPoint writes it, which PowerPoint and LibreOffice Impress both play (a
    PDF or a printout shows the slide as it ends, with the shape)."""
    spid = next(sp.iter(C_NV_PR)).get("id")

    def node(parent, tag: str, **attrs):
        return etree.SubElement(parent, qn(tag), {k.replace("_", ""): v for k, v in attrs.items()})

    def ctn(parent, ctn_id: int, delay: str | None = None, **attrs):
        c = node(parent, "p:cTn", id=str(ctn_id), **attrs)
        if delay is not None:
            node(node(c, "p:stCondLst"), "p:cond", delay=delay)
        return c

    for old in sld.findall(qn("p:timing")):
        sld.remove(old)
    timing = etree.Element(qn("p:timing"))
    # After cSld and clrMapOvr (and a transition), before extLst: the schema's order.
    after = [c for c in sld if c.tag in (qn("p:cSld"), qn("p:clrMapOvr"), qn("p:transition"))]
    if after:
        after[-1].addnext(timing)
    else:
        sld.append(timing)
    root = ctn(node(node(timing, "p:tnLst"), "p:par"), 1, dur="indefinite", restart="never",
               nodeType="tmRoot")
    seq = node(node(root, "p:childTnLst"), "p:seq", concurrent="1", nextAc="seek")
    main = ctn(seq, 2, dur="indefinite", nodeType="mainSeq")
    click = ctn(node(node(main, "p:childTnLst"), "p:par"), 3, delay="indefinite", fill="hold")
    group = ctn(node(node(click, "p:childTnLst"), "p:par"), 4, delay="0", fill="hold")
    effect = ctn(node(node(group, "p:childTnLst"), "p:par"), 5, delay="0", presetID="1",
                 presetClass="entr", presetSubtype="0", fill="hold", grpId="0",
                 nodeType="clickEffect")
    behaviour = node(node(node(effect, "p:childTnLst"), "p:set"), "p:cBhvr")
    ctn(behaviour, 6, delay="0", dur="1", fill="hold")
    node(node(behaviour, "p:tgtEl"), "p:spTgt", spid=spid)
    node(node(behaviour, "p:attrNameLst"), "p:attrName").text = "style.visibility"
    node(node(behaviour.getparent(), "p:to"), "p:strVal", val="visible")
    for cond_list, event in (("p:prevCondLst", "onPrev"), ("p:nextCondLst", "onNext")):
        cond = node(node(seq, cond_list), "p:cond", evt=event, delay="0")
        node(node(cond, "p:tgtEl"), "p:sldTgt")
    node(node(timing, "p:bldLst"), "p:bldP", spid=spid, grpId="0", animBg="1")
