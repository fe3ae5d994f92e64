"""`check --update`: write actual outputs back into the TOML files, keeping their formatting."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import tomlkit
from tomlkit.items import String, StringType, Trivia

from .checker import CheckReport, Outcome, diff
from .output import atomic_write_text


@dataclass(frozen=True)
class Update:
    path: Path
    sample_index: int
    title: str
    old: str
    new: str


def plan_updates(report: CheckReport) -> tuple[list[Update], list[str]]:
    """Updates for samples whose only fault is their output; refusals for the rest."""
    by_sample: dict[tuple[Path, int], list[Outcome]] = defaultdict(list)
    for o in report.outcomes:
        if o.status != "skipped":
            by_sample[(o.question.path, o.sample.index)].append(o)
    updates, refused = [], []
    for (path, index), outcomes in sorted(by_sample.items()):
        failed = [o for o in outcomes if o.status == "failed"]
        if not failed:
            continue
        sample = failed[0].sample
        if any(o.reason != "output differs" for o in failed):
            refused.append(f"{path}: samples[{index}] {sample.title!r}: not updated, it "
                           f"{failed[0].reason}")
            continue
        actual = {o.result.stdout for o in outcomes if o.result is not None}
        if len(actual) > 1:
            refused.append(f"{path}: samples[{index}] {sample.title!r}: not updated, its output "
                           "differs between interpreters; split it by python version or use ...")
            continue
        updates.append(Update(path, index, sample.title, sample.output, actual.pop()))
    return updates, refused


def apply_updates(updates: list[Update]) -> tuple[list[Update], list[str]]:
    """Write the updates, each file whole or not at all: the updates written, and one line
    for each file that could not be (a full disk, a read-only folder)."""
    by_file: dict[Path, list[Update]] = defaultdict(list)
    for u in updates:
        by_file[u.path].append(u)
    done, failed = [], []
    for path, items in by_file.items():
        doc = tomlkit.parse(path.read_text("utf-8"))
        for u in items:
            doc["samples"][u.sample_index]["output"] = _toml_string(u.new)
        try:
            atomic_write_text(path, tomlkit.dumps(doc))
        except OSError as exc:
            failed.append(f"cannot write {path}: {exc.strerror or exc}")
            continue
        done += items
    return done, failed


def _toml_string(value: str):
    # Literal strings keep backslashes as written; they cannot hold ''' or some control chars.
    literal_ok = "'''" not in value and all(c in "\n\t" or c >= " " for c in value)
    if literal_ok and "\n" in value:
        # Written as the content guide asks: the text starts on the line after the quotes.
        return String(StringType.MLL, value, "\n" + value, Trivia())
    if literal_ok and "'" not in value:
        return tomlkit.string(value, literal=True)
    return tomlkit.string(value, multiline="\n" in value)


def describe(u: Update) -> str:
    return f"{u.path}: samples[{u.sample_index}] {u.title!r}: output updated\n" + diff(u.old, u.new)
