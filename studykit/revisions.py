"""Which cards print differently than at a git revision (`flashcards --changed-since REV`).

The content folder as it was at REV is read from git (`git archive`, into a temporary folder),
loaded like today's, and each card's revision mark (render/cardtext.revision: a digest of what
both faces show) compared: a card whose mark differs, or that is new, has changed.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ContentError, KitError
from .loader import load_kit
from .model import Kit
from .render.cardtext import revision

if TYPE_CHECKING:
    from .api import Project


def marks(kit: Kit) -> dict[int, str]:
    titles = {t.slug: t.title for t in kit.topics}
    return {q.number: revision(q, titles[q.topic]) for q in kit.questions}


def _git(root: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)
    except FileNotFoundError:
        raise KitError("--changed-since needs git, which is not installed") from None
    if done.returncode != 0:
        raise KitError(done.stderr.decode("utf-8", "replace").strip().splitlines()[-1]
                       if done.stderr.strip() else f"git {' '.join(args)} failed")
    return done.stdout


def content_at(content_dir: Path, rev: str, into: Path) -> Path | None:
    """The content folder as it was at `rev`, written under `into` (None: it did not exist)."""
    content_dir = content_dir.resolve()
    try:
        top = Path(_git(content_dir, "rev-parse", "--show-toplevel").decode().strip())
    except KitError:
        raise KitError(f"--changed-since: {content_dir} is not in a git repository") from None
    try:
        commit = _git(top, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except KitError:
        raise KitError(f"--changed-since: {rev!r} is not a revision of {top}") from None
    rel = content_dir.relative_to(top.resolve()).as_posix()
    listed = _git(top, "ls-tree", "-d", "--name-only", commit.decode().strip(), "--", rel)
    if not listed.strip():
        return None
    data = _git(top, "archive", "--format=tar", commit.decode().strip(), "--", rel)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into / rel


def changed_cards(project: "Project", rev: str) -> tuple[set[int], int]:
    """Numbers of the answered questions whose card changed since `rev`, and how many were
    compared."""
    now = marks(project.load())
    with tempfile.TemporaryDirectory(prefix="kit-rev-") as tmp:
        old_dir = content_at(project.content_dir, rev, Path(tmp))
        if old_dir is None:
            return set(now), len(now)
        try:
            before = marks(load_kit(old_dir))
        except ContentError as exc:
            raise KitError(f"--changed-since: the content at {rev} cannot be read by this "
                           f"version of the kit ({len(exc.problems)} problem(s), the first: "
                           f"{exc.problems[0].render(Path(tmp))})") from None
    return {n for n, mark in now.items() if before.get(n) != mark}, len(now)
