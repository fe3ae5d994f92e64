"""The library's entry point, `Project`: load, check, render one output, or build them all."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import checker
from .cache import default_dir, path as cache_path
from .buildlock import BuildLock
from .cachefile import begin_build
from .checker import CheckReport, Interpreter, ResultCache
from .errors import ContentError, KitError, Problem
from .loader import load_bank, load_kit
from .model import Kit, Selection
from .output import remove_stray_parts
from .render.base import PROJECT_ROOT, TEMPLATES_DIR, BuildContext, Renderer, RenderResult
from .workers import Pool

if TYPE_CHECKING:
    from .pipeline import BuildReport, Events

# Imported only when used: WeasyPrint and python-pptx take a while to load.
RENDERERS = {
    "handbook": "studykit.render.handbook:HandbookRenderer",
    "flashcards": "studykit.render.flashcards:FlashcardRenderer",
    "slides": "studykit.render.slides:SlidesRenderer",
    "sessions": "studykit.render.sessions:SessionsRenderer",
    "anki": "studykit.render.anki:AnkiRenderer",
}


class NotAvailable(Exception):
    """An output whose renderer is not part of this copy of the kit."""


@dataclass
class Project:
    content_dir: Path = PROJECT_ROOT / "content"
    output_dir: Path = PROJECT_ROOT / "output"
    # The learner's progress (see studykit.progress); git ignores the default one.
    progress_file: Path = PROJECT_ROOT / "progress.toml"
    cache_dir: Path = field(default_factory=default_dir)
    use_cache: bool = True
    # How samples are confined: "auto", "required" or "off" (see studykit.sandbox).
    sandbox: str = "auto"
    _cache: ResultCache | None = field(default=None, repr=False)
    _lock: BuildLock | None = field(default=None, repr=False)

    def __getstate__(self) -> dict:
        # Sent to worker processes: the samples' result cache and the build's lock stay with
        # the process that opened them (workers render, they do not check).
        return {**self.__dict__, "_cache": None, "_lock": None}

    def hold(self) -> None:
        """Wait until no other build uses this cache folder, and keep it until `release`
        (see buildlock). A build calls this before it reads anything from the cache."""
        if self._lock is None:
            self._lock = BuildLock(self.cache_dir)
            self._lock.acquire()
            begin_build(self.cache_dir if self.use_cache else None)

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def topic_slugs(self) -> list[str]:
        """The topics of the bank (content/questions.toml), in order; a bank that cannot be
        read raises ContentError naming the file and line."""
        problems: list[Problem] = []
        topics = load_bank(self.content_dir, problems)
        if problems:
            raise ContentError(problems)
        return [t.slug for t in topics]

    def _cached(self, entry: str) -> Path | None:
        """Where `entry` is kept (see studykit.cache), or None when the cache is not used."""
        return cache_path(self.cache_dir, entry) if self.use_cache else None

    def load(self, selection: Selection = Selection()) -> Kit:
        kit = load_kit(self.content_dir, numbers=selection.numbers, only_topics=selection.topics,
                       cache=self._cached("questions"))
        return kit.select(selection)

    @property
    def cache(self) -> ResultCache:
        if self._cache is None:
            self._cache = ResultCache(self._cached("sample-results"))
        return self._cache

    def interpreters(self, extra: tuple[str, ...] = (), all_pythons: bool = True
                     ) -> list[Interpreter]:
        """The CPythons to check on: every 3.10+ found with `all_pythons`, else this one, and
        `extra` (paths; a path that is not a usable CPython raises ValueError)."""
        found = checker.discover(all_pythons=all_pythons, extra=extra,
                                 cache_file=self._cached("interpreters"))
        if not found:
            raise KitError("no CPython 3.10 or newer found to run the samples")
        return found

    def check(self, kit: Kit, interpreters: list[Interpreter], **kwargs) -> CheckReport:
        # The kit's own folders are hidden from samples wherever they are (the content and the
        # cache may lie outside the kit's tree).
        kwargs.setdefault("sandbox", self.sandbox)
        return checker.check(kit, interpreters, cache=self.cache,
                             hide=(self.content_dir, self.cache_dir, self.output_dir), **kwargs)

    def renderer(self, name: str, **options) -> Renderer:
        module_name, _, cls_name = RENDERERS[name].partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                raise NotAvailable(f"{name}: skipped, this copy of the kit has no renderer for "
                                   f"it ({module_name})") from None
            raise
        return getattr(module, cls_name)(**options)

    def context(self, kit: Kit, report: CheckReport | None,
                pool: Pool | None = None) -> BuildContext:
        return BuildContext(kit=kit, report=report, out_dir=self.output_dir,
                            cache_dir=self.cache_dir if self.use_cache else None, pool=pool)

    def saved_since_last_build(self) -> bool:
        """Whether an input (the content, the templates, the kit's code) was saved after an
        output was last recorded: before anything is read, a guess of whether this build will
        render anything. A build uses it only to start its workers early; what is rendered is
        decided by the outputs' keys."""
        if not self.use_cache:
            return True
        try:
            recorded = cache_path(self.cache_dir, "outputs").stat().st_mtime_ns
        except OSError:
            return True
        for root in (self.content_dir, TEMPLATES_DIR, PROJECT_ROOT / "studykit"):
            for folder, subfolders, files in os.walk(root):
                subfolders[:] = [d for d in subfolders if d != "__pycache__"]
                for name in files:
                    try:
                        if os.stat(os.path.join(folder, name)).st_mtime_ns > recorded:
                            return True
                    except OSError:
                        pass
        return False

    def render(self, renderer: Renderer, kit: Kit, report: CheckReport | None,
               pool: Pool | None = None) -> RenderResult:
        """One output, rendered unless it is up to date (see Renderer.build)."""
        # A build killed outright (SIGKILL) could not remove its temporary files: do it now.
        remove_stray_parts(self.output_dir)
        return renderer.build(self.context(kit, report, pool))

    def studied(self, selection: Selection, statuses: set[str] | None = None
                ) -> tuple[Selection, dict | None]:
        """The selection narrowed to the questions whose status in the progress file is one of
        `statuses` (all of them when None), and what the handbook shows of the progress (None
        without a progress file)."""
        from . import progress as study

        path = self.progress_file
        if statuses is None and not path.exists():
            return selection, None
        self.hold()
        kit = self.load()
        progress = study.load_progress(path, kit)
        if statuses is not None:
            chosen = progress.numbers_in(statuses, kit)
            numbers = chosen if selection.numbers is None else selection.numbers & chosen
            if not numbers:
                raise KitError(f"no answered question is {' or '.join(sorted(statuses))} "
                               f"in {path}")
            selection = Selection(selection.topics, selection.difficulties, frozenset(numbers))
        return selection, study.handbook_view(progress, kit) if path.exists() else None

    def build(self, selection: Selection | None = None, outputs: list[str] | None = None,
              options: dict[str, dict] | None = None, events: "Events | None" = None
              ) -> "BuildReport":
        """Check the samples, then build the outputs (see pipeline.build)."""
        from .pipeline import build

        return build(self, selection, outputs, options=options, events=events)
