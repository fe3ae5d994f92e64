"""Coverage of the bank: what `build.py list` prints."""

from __future__ import annotations

from .model import DIFFICULTIES, Kit


def coverage_table(kit: Kit, full: Kit | None = None) -> list[str]:
    """One line per topic (answered/total and answered per difficulty), then the totals.

    `kit` is what is selected; `full` (the unfiltered kit) gives the bank totals.
    """
    full = full or kit
    header = f"{'topic':<52} {'answered':>9}  " + " ".join(f"{d:>6}" for d in DIFFICULTIES)
    lines = [header, "-" * len(header)]
    total_answered = 0
    total_bank = sum(len(t.bank) for t in full.topics)
    per_difficulty = {d: 0 for d in DIFFICULTIES}
    for t in kit.topics:
        counts = {d: sum(1 for q in t.questions if q.difficulty == d) for d in DIFFICULTIES}
        bank_counts = {d: sum(1 for b in t.bank if b.difficulty == d) for d in DIFFICULTIES}
        for d in DIFFICULTIES:
            per_difficulty[d] += counts[d]
        total_answered += len(t.questions)
        cells = " ".join(f"{f'{counts[d]}/{bank_counts[d]}':>6}" for d in DIFFICULTIES)
        name = f"{t.position:02d} {t.title}"
        lines.append(f"{name[:52]:<52} {f'{len(t.questions)}/{len(t.bank)}':>9}  {cells}")
    lines.append("-" * len(header))
    by_level = ", ".join(f"{d} {per_difficulty[d]}" for d in DIFFICULTIES)
    pct = 100 * total_answered / total_bank if total_bank else 0
    lines.append(f"by difficulty: {by_level}")
    lines.append(f"answered {total_answered}/{total_bank} ({pct:.0f}%)")
    return lines
