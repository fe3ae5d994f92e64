"""Build-speed figures on the real content, printed in one run (see the README).

Every measurement runs the real command line in a fresh process, with its own output and cache
folders under a temporary directory, so nothing of the working copy is touched. Times are wall
clock, the median of --runs runs where a stage is cheap enough to repeat.

    .venv/bin/python benchmarks/build_bench.py            # the real bank
    .venv/bin/python benchmarks/build_bench.py --scale 10 # also a bank ten times larger
    .venv/bin/python benchmarks/build_bench.py --quick    # skip the naive baseline and the scale test
    .venv/bin/python benchmarks/build_bench.py --sections sandbox  # only the sandbox's overhead
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


# Runs a command, then prints the peak resident memory of the command and of every process
# under it that it waited for (the build waits for its workers).
_WRAP = ("import resource, subprocess, sys\n"
         "done = subprocess.run(sys.argv[1:])\n"
         "use = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
         "print(f'\\nPEAK {use.ru_maxrss} CPU {use.ru_utime + use.ru_stime}')\n"
         "sys.exit(done.returncode)")
LAST_PEAK_MB = 0.0
# Processor seconds of the last run, all its processes together: unlike wall time, not
# changed by whether the second core was free.
LAST_CPU = 0.0
REAL_PEAK_MB = 0.0


def run(args: list[str], content: Path, work: Path, cache: str = "cache") -> tuple[float, str]:
    global LAST_PEAK_MB, LAST_CPU
    env = dict(os.environ, KIT_CACHE_DIR=str(work / cache))
    started = time.perf_counter()
    done = subprocess.run([PY, "-c", _WRAP, PY, str(ROOT / "build.py"), "--content", str(content),
                           "--output", str(work / "output"), *args],
                          capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"build.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    out, _, usage = done.stdout.rpartition("\nPEAK ")
    peak, _, cpu = usage.partition(" CPU ")
    LAST_PEAK_MB = int(peak) / 1024
    LAST_CPU = float(cpu)
    return elapsed, out


def clean(work: Path, keep_samples: bool) -> None:
    """No outputs and no record of them; with keep_samples, the samples' results stay cached."""
    shutil.rmtree(work / "output", ignore_errors=True)
    cache = work / "cache"
    if not keep_samples:
        shutil.rmtree(cache, ignore_errors=True)
        return
    for entry in cache.iterdir() if cache.is_dir() else []:
        if entry.name not in ("sample-results.json", "interpreters.json"):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


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
started, cpu = time.perf_counter(), time.process_time()
doc = HTML(string=html, base_url=str(ctx.templates_dir / 'handbook')).render()
doc.write_pdf({str(work / 'naive.pdf')!r})
print(time.perf_counter() - started, len(doc.pages), time.process_time() - cpu)
"""
    global LAST_CPU
    out = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True).stdout
    seconds, pages, cpu = out.split()
    LAST_CPU = float(cpu)
    return float(seconds), int(pages)


def scaled_bank(content: Path, dest: Path, factor: int) -> None:
    """A bank `factor` times larger: the same 15 topics, each real answer copied `factor` times
    under new numbers (see-also links dropped, since the numbers they name moved)."""
    import json
    import tomllib

    bank = tomllib.loads((content / "questions.toml").read_text("utf-8"))
    by_number = {int(f.name.split("-")[0]): f
                 for f in content.glob("[0-9][0-9]-*/[0-9][0-9][0-9]-*.toml")}
    topics, questions = [], []
    n = 2
    for pos, t in enumerate(bank["topics"], start=1):
        src = content / f"{pos:02d}-{t['slug']}"
        folder = dest / src.name
        folder.mkdir(parents=True)
        shutil.copy(src / "topic.toml", folder / "topic.toml")
        first = n
        originals = [q for q in bank["questions"] if q["topic"] == t["slug"]]
        for copy in range(factor):
            for q in originals:
                text = by_number[q["number"]].read_text("utf-8")
                text = re.sub(r"^number = \d+", f"number = {n}", text, count=1, flags=re.M)
                text = re.sub(r"^see_also = \[.*?\]\n", "", text, flags=re.M | re.S)
                if n > 9999:
                    sys.exit("scale too large for four-digit question numbers")
                (folder / f"{n:04d}-q.toml").write_text(text, "utf-8")
                questions.append({**q, "number": n})
                n += 1
        topics.append({**t, "first": first, "last": n - 1})
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
    # The sandbox's pairs are two cold checks of the whole bank each (minutes): asked for only.
    ap.add_argument("--sections", default="check,stages,full,baseline,paired",
                    help="comma-separated: check, stages, full, baseline, paired, sandbox "
                    "(default: all but sandbox)")
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
            naives = [naive_handbook(content, work) for _ in range(args.runs)]
            naive, pages = median([t for t, _ in naives]), naives[0][1]
            note = (f"(median of {args.runs}; the clean build is {full / naive:.2f}x of it)"
                    if "full" in sections else f"(median of {args.runs})")
            line(f"naive single-pass handbook ({pages} pages)", naive, note)

        if "sandbox" in sections:
            sandbox_overhead(args, content, work)
        if "paired" in sections:
            clean_paired = paired(args, content, work)
            if "full" not in sections:
                full = clean_paired
        if args.scale:
            print(f"scale test: a bank {args.scale} times larger (the same code, so the samples' "
                  "results come from the real bank's cache)")
            big, big_work = tmp / "big", tmp / "big-work"
            scaled_bank(content, big, args.scale)
            (big_work / "cache").mkdir(parents=True)
            samples = work / "cache-check" if (work / "cache-check").is_dir() else work / "cache"
            for name in ("sample-results.json", "interpreters.json"):
                shutil.copy(samples / name, big_work / "cache" / name)
            t, _ = run([], big, big_work)
            note = (f"({t / full:.1f}x the real bank's clean build)"
                    if "full" in sections or "paired" in sections else "")
            line(f"clean outputs, warm sample cache, {args.scale}x", t, note)
            print(f"  peak memory of one process: {LAST_PEAK_MB:.0f} MB "
                  f"(real bank: {REAL_PEAK_MB:.0f} MB)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def paired(args, content: Path, work: Path) -> float:
    """The clean build and the naive render one after the other, --runs times: on a machine
    whose speed drifts, the ratio of neighbours is steadier than the ratio of two medians."""
    global REAL_PEAK_MB
    print("clean build against the naive render, run in pairs")
    if not (work / "cache" / "sample-results.json").exists():
        run(["check", "--all-pythons"], content, work)
    ratios, cpu_ratios, builds = [], [], []
    for i in range(args.runs):
        clean(work, keep_samples=True)
        build, _ = run([], content, work)
        build_cpu = LAST_CPU
        builds.append(build)
        REAL_PEAK_MB = max(REAL_PEAK_MB, LAST_PEAK_MB)
        naive, _ = naive_handbook(content, work)
        ratios.append(build / naive)
        cpu_ratios.append(build_cpu / LAST_CPU)
        print(f"  pair {i + 1}: clean build {build:.1f} s ({build_cpu:.0f} CPU-s), naive "
              f"{naive:.1f} s ({LAST_CPU:.0f} CPU-s), ratio {build / naive:.2f}")
    print(f"  median ratio {median(ratios):.2f} (target: at most 0.50)")
    # On n cores the wall-time ratio cannot go below this over n.
    print(f"  median ratio of processor time {median(cpu_ratios):.2f} "
          f"({os.cpu_count()} cores)")
    return median(builds)


def sandbox_overhead(args, content: Path, work: Path) -> None:
    """A cold check of the whole bank on every interpreter, sandboxed and not, in pairs whose
    order alternates (the second of a pair finds the page cache warmer): on a machine whose
    speed drifts, the ratio of neighbours is steadier than the ratio of two medians. Wall time
    only: a sandboxed sample is reaped by bwrap's init, so its processor time is not counted."""
    print("sandbox overhead: cold check --all-pythons, --sandbox required against off, in pairs")
    ratios = []
    for i in range(args.runs):
        times = {}
        for mode in ("required", "off") if i % 2 == 0 else ("off", "required"):
            shutil.rmtree(work / "cache-sandbox", ignore_errors=True)
            times[mode], _ = run(["--sandbox", mode, "check", "--all-pythons"], content, work,
                                 cache="cache-sandbox")
        ratios.append(times["required"] / times["off"])
        print(f"  pair {i + 1}: required {times['required']:.1f} s, off {times['off']:.1f} s, "
              f"ratio {ratios[-1]:.3f}")
    print(f"  median ratio {median(ratios):.3f}: the sandbox costs "
          f"{100 * (median(ratios) - 1):+.1f}% (target: at most +10%)")


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
    """Returns the clean build's time with the samples' results cached (the reference).

    Each run is a clean build, then a no-op, then a rebuild after one answer's text is edited
    and one after one sample is edited: every edit is compared with the clean build just
    before it, since the machine's speed drifts over minutes."""
    global REAL_PEAK_MB
    print("full build (build.py: check, then every output on a pool of one process per core)")
    clean(work, keep_samples=False)
    cold, _ = run([], content, work)
    line("clean, cold sample cache (every sample run)", cold)
    answer = next(content.glob("05-*/06[0-9]-*.toml"))
    sample = next(content.glob("01-*/003-*.toml"))
    edits = {f"one answer's text ({answer.name})": (answer, "answer = '''\n",
                                                    "answer = '''\n(Edited.) "),
             f"one sample ({sample.name})": (sample, "print(", "print( ")}
    warm_runs, cpus, noops = [], [], []
    after: dict[str, list[float]] = {what: [] for what in edits}
    for _ in range(args.runs):
        clean(work, keep_samples=True)
        warm_runs.append(run([], content, work)[0])
        cpus.append(LAST_CPU)
        REAL_PEAK_MB = max(REAL_PEAK_MB, LAST_PEAK_MB)
        noops.append(run([], content, work)[0])
        for what, (path, old, new) in edits.items():
            edit(path, old, new)
            after[what].append(run([], content, work)[0])
    full = median(warm_runs)
    line("clean outputs, warm sample cache", full,
         f"(median of {args.runs}: {', '.join(f'{t:.0f}' for t in warm_runs)}; "
         f"{median(cpus):.0f} CPU-s)")
    print(f"  peak memory of one process: {REAL_PEAK_MB:.0f} MB")
    line("no-op rebuild", median(noops), f"(median of {args.runs})")
    for what, times in after.items():
        shares = [100 * t / w for t, w in zip(times, warm_runs)]
        line(f"after editing {what}", median(times),
             f"(median of {args.runs}; {median(shares):.1f}% of the clean build before it, "
             f"median of {', '.join(f'{s:.1f}' for s in shares)}; target: under 15%)")
    return full


if __name__ == "__main__":
    main()
