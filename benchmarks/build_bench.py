"""Build-speed figures on the real content, printed in one run (see the README).

Every measurement runs the real command line in a fresh process, with its own output and cache
folders under a temporary directory, so nothing of the working copy is touched. Times are wall
clock, the median of --runs runs where a stage is cheap enough to repeat.

    .venv/bin/python benchmarks/build_bench.py            # the real bank
    .venv/bin/python benchmarks/build_bench.py --scale 10 # also a bank ten times larger
    .venv/bin/python benchmarks/build_bench.py --quick    # skip the naive baseline and the scale test
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def run(args: list[str], content: Path, work: Path, cache: str = "cache") -> tuple[float, str]:
    env = dict(os.environ, KIT_CACHE_DIR=str(work / cache))
    started = time.perf_counter()
    done = subprocess.run([PY, str(ROOT / "build.py"), "--content", str(content), "--output",
                           str(work / "output"), *args], capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"build.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed, done.stdout


def peak_child_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def median(values: list[float]) -> float:
    return statistics.median(values)


def line(label: str, seconds: float, note: str = "") -> None:
    print(f"  {label:<46} {seconds:8.2f} s  {note}")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), "utf-8")


def naive_handbook(content: Path, work: Path) -> tuple[float, int]:
    """The baseline: the handbook's own HTML laid out once, page numbers by target-counter."""
    code = f"""
import sys, time
sys.path.insert(0, {str(ROOT)!r})
from pathlib import Path
from studykit.api import Project
from studykit.render.base import BuildContext
from studykit.render.handbook import HandbookRenderer
from weasyprint import HTML
project = Project(content_dir=Path({str(content)!r}))
kit = project.load()
ctx = BuildContext(kit=kit, report=None, out_dir=Path({str(work)!r}))
r = HandbookRenderer()
html = r.document_html(ctx)
# Every page number the book prints, as CSS page references instead of filled-in numbers.
css = ".pg {{ display: none }} a[href^='#']::after {{ content: target-counter(attr(href), page); }}"
html = html.replace("</style>", css + "</style>", 1)
started = time.perf_counter()
doc = HTML(string=html, base_url=str(ctx.templates_dir / 'handbook')).render()
doc.write_pdf({str(work / 'naive.pdf')!r})
print(time.perf_counter() - started, len(doc.pages))
"""
    out = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True).stdout
    seconds, pages = out.split()
    return float(seconds), int(pages)


def scaled_bank(content: Path, dest: Path, factor: int) -> None:
    """A bank `factor` times larger: each real answer copied under new numbers and topics."""
    import tomllib

    bank = tomllib.loads((content / "questions.toml").read_text("utf-8"))
    topics, questions = [], []
    files = sorted(content.glob("[0-9][0-9]-*/[0-9][0-9][0-9]-*.toml"))
    by_number = {int(f.name[:3]): f for f in files}
    n = 2
    for copy in range(factor):
        for pos, t in enumerate(bank["topics"], start=1):
            first = n
            slug = f"{t['slug']}-{copy}"
            folder = dest / f"{(copy * len(bank['topics']) + pos):02d}-{slug}"
            if copy * len(bank["topics"]) + pos > 99:
                sys.exit("scale too large for two-digit topic folders")
            folder.mkdir(parents=True)
            shutil.copy(content / f"{pos:02d}-{t['slug']}" / "topic.toml", folder / "topic.toml")
            for q in bank["questions"]:
                if q["topic"] != t["slug"]:
                    continue
                text = by_number[q["number"]].read_text("utf-8")
                text = re.sub(r"^number = \d+", f"number = {n}", text, count=1, flags=re.M)
                text = re.sub(r"^see_also = \[.*?\]\n", "", text, flags=re.M | re.S)
                (folder / f"{n:04d}-q.toml").write_text(text, "utf-8")
                questions.append({**q, "number": n, "topic": slug})
                n += 1
            topics.append({**t, "slug": slug, "first": first, "last": n - 1})
    import json
    lines = []
    for t in topics:
        lines.append("[[topics]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in t.items()))
    for q in questions:
        lines.append("[[questions]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in q.items()))
    (dest / "questions.toml").write_text("\n".join(lines), "utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="repeats of the cheap measurements")
    ap.add_argument("--scale", type=int, default=0, help="also build a bank this many times larger")
    ap.add_argument("--quick", action="store_true", help="skip the naive baseline")
    ap.add_argument("--sections", default="check,stages,full,baseline",
                    help="comma-separated: check, stages, full, baseline (default: all)")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="kit-bench-"))
    try:
        content = tmp / "content"
        shutil.copytree(ROOT / "content", content)
        work = tmp / "real"
        print(f"real bank: {len(list(content.glob('*/[0-9]*.toml')))} answers; "
              f"{os.cpu_count()} cores")

        sections = set(args.sections.split(","))
        if "check" in sections or "stages" in sections:
            print("sample check (all interpreters found)")
            cold, _ = run(["check", "--all-pythons"], content, work, cache="cache-check")
            line("check, cold", cold)
            warm = median([run(["check", "--all-pythons"], content, work, cache="cache-check")[0]
                           for _ in range(args.runs)])
            line("check, warm", warm, f"(median of {args.runs})")
        if "stages" in sections:
            stage_times(args, content, work)
        if "full" in sections:
            full = full_builds(args, content, work)
        if "baseline" in sections and not args.quick:
            print("baseline")
            naive, pages = naive_handbook(content, work)
            note = f"(full build is {full / naive:.2f}x of it)" if "full" in sections else ""
            line(f"naive single-pass handbook ({pages} pages)", naive, note)

        if args.scale:
            print(f"scale test: a bank {args.scale} times larger")
            big = tmp / "big"
            scaled_bank(content, big, args.scale)
            before = peak_child_rss_mb()
            t, _ = run([], big, tmp / "big-work")
            line(f"clean full build, {args.scale}x", t)
            print(f"  peak memory of a child process: {max(before, peak_child_rss_mb()):.0f} MB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def stage_times(args, content: Path, work: Path) -> None:
    print("stages, one at a time (clean output, warm sample cache)")
    stages = {}
    stages["validate"] = median([run(["list"], content, work)[0] for _ in range(args.runs)])
    line("validate (build.py list)", stages["validate"])
    shutil.copytree(work / "cache-check", work / "cache", dirs_exist_ok=True)
    for name in ("handbook", "flashcards", "slides"):
        # A clean output folder and no record of earlier outputs, but the samples' results
        # kept: this is the renderer's own time.
        shutil.rmtree(work / "output", ignore_errors=True)
        (work / "cache" / "outputs.json").unlink(missing_ok=True)
        stages[name], _ = run([name], content, work)
        line(name, stages[name])


def full_builds(args, content: Path, work: Path) -> float:
    print("full build (build.py, renderers in parallel)")
    shutil.rmtree(work / "output", ignore_errors=True)
    shutil.rmtree(work / "cache", ignore_errors=True)
    full, _ = run([], content, work)
    line("clean, cold sample cache", full)
    noop = median([run([], content, work)[0] for _ in range(args.runs)])
    line("no-op rebuild", noop, f"(median of {args.runs})")
    answer = next(content.glob("05-*/06[0-9]-*.toml"))
    edit(answer, "answer = '''\n", "answer = '''\n(Edited.) ")
    one_text, _ = run([], content, work)
    line(f"after editing one answer's text ({answer.name})", one_text,
         f"({100 * one_text / full:.0f}% of clean)")
    sample = next(content.glob("01-*/003-*.toml"))
    edit(sample, "print(", "print( ")
    one_sample, _ = run([], content, work)
    line(f"after editing one sample ({sample.name})", one_sample,
         f"({100 * one_sample / full:.0f}% of clean)")

    return full


if __name__ == "__main__":
    main()
