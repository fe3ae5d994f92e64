"""Where each kind of entry lives under the cache folder, and each entry format's version.

Every module that keeps something between builds asks here for its file or folder (`path`)
and the version of its format, so that the cache's layout can be read in one place:

    .sealed                  cachefile: the folder's first sealing build (its time)
    build.lock               buildlock: held by the build using the folder
    questions.pickle         loader: questions that loaded without a problem
    interpreters.json        checker: the Pythons found, and their versions
    sample-results.json      checker: each sample's result per interpreter
    outputs.json             freshness: the key each output was last built from
    templates/               render.base: compiled Jinja templates
    slides-decks.json        render.slides: the key each deck was built from
    handbook-fragments.json  render.fragments: highlighted code and Markdown as HTML
    handbook-parts/          render.partcache: the handbook's laid-out parts and stamp fonts
    flashcards-parts/        render.partcache: the flashcards' laid-out parts
    figures/                 figures: figures drawn by Graphviz (SVG and PNG)
    sessions.json            render.sessions: the key each session's files were built from

Bump a version when what its entries hold changes: entries of another version are not reused.
"""

from __future__ import annotations

import os
from pathlib import Path

# The kit's folder (where .cache/ is by default).
PROJECT_ROOT = Path(__file__).resolve().parent.parent

ENTRIES = {
    "sealed": ".sealed",
    "lock": "build.lock",
    "questions": "questions.pickle",
    "interpreters": "interpreters.json",
    "sample-results": "sample-results.json",
    "outputs": "outputs.json",
    "templates": "templates",
    "slides-decks": "slides-decks.json",
    "handbook-fragments": "handbook-fragments.json",
    "handbook-parts": "handbook-parts",
    "flashcards-parts": "flashcards-parts",
    "figures": "figures",
    "sessions": "sessions.json",
}

# What a kept question holds (loader.QuestionCache).
QUESTIONS_FORMAT = 2
# How samples are run: results from another way are not reused (checker.ResultCache).
RUNNER_VERSION = "2"
# What an HTML fragment holds, beyond what the kit's code and libraries' versions cover.
FRAGMENTS_FORMAT = 1
# What a laid-out part's record holds (render.partlayout.PartLayout.record).
PART_FORMAT = 8
# How a figure is drawn, beyond its source, the house style and Graphviz's version (figures.draw).
FIGURES_FORMAT = 1
# What a part keeps to be laid out part-way after an edit (weasy_internals.Pagination).
RESUME_FORMAT = 1


def default_dir() -> Path:
    """The cache folder: $KIT_CACHE_DIR (tests and parallel builds keep their own), else
    .cache/ in the kit's folder."""
    return Path(os.environ.get("KIT_CACHE_DIR") or PROJECT_ROOT / ".cache")


def path(cache_dir: Path | None, entry: str) -> Path | None:
    """The file or folder of `entry` (a key of ENTRIES) in `cache_dir`; None without one."""
    name = ENTRIES[entry]
    return None if cache_dir is None else Path(cache_dir) / name
