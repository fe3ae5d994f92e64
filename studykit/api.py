"""The library API the command line is a thin layer over: load, check, render."""

from __future__ import annotations

import importlib
import os
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path

from . import checker
from .buildlock import BuildLock
from .cachefile import begin_build
from .checker import CheckReport, Interpreter, ResultCache
from .errors import ContentError, Problem
from .loader import load_bank, load_kit
from .model import Kit, Selection
from .output import remove_stray_parts
from .render.base import PROJECT_ROOT, TEMPLATES_DIR, BuildContext, Renderer

# Imported only when used: WeasyPrint and python-pptx take a while to load.
RENDERERS = {
    "handbook": "studykit.render.handbook:HandbookRenderer",
    "flashcards": "studykit.render.flashcards:FlashcardRenderer",
    "slides": "studykit.render.slides:SlidesRenderer",
}


class NotAvailable(Exception):
    pass


@dataclass
class Project:
    content_dir: Path = PROJECT_ROOT / "content"
    output_dir: Path = PROJECT_ROOT / "output"
    # KIT_CACHE_DIR lets tests (and parallel builds) keep their own cache.
    cache_dir: Path = field(default_factory=lambda: Path(
        os.environ.get("KIT_CACHE_DIR") or PROJECT_ROOT / ".cache"))
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

    def load(self, selection: Selection = Selection()) -> Kit:
        kit = load_kit(self.content_dir, numbers=selection.numbers, only_topics=selection.topics,
                       cache=self.cache_dir / "questions.pickle" if self.use_cache else None)
        return kit.select(selection)

    @property
    def cache(self) -> ResultCache:
        if self._cache is None:
            self._cache = ResultCache(self.cache_dir / "sample-results.json" if self.use_cache
                                      else None)
        return self._cache

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
                raise NotAvailable(f"{name}: not built yet") from None
            raise
        return getattr(module, cls_name)(**options)

    def _context(self, kit: Kit, report: CheckReport | None,
                 pool: Executor | None = None) -> BuildContext:
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
            recorded = (self.cache_dir / "outputs.json").stat().st_mtime_ns
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

    def fresh(self, renderer: Renderer, kit: Kit, report: CheckReport | None,
              options: dict | None = None) -> list[Path] | None:
        """The output's files if they were built from these very inputs (and are still there),
        else None. Sets `renderer.up_to_date` accordingly."""
        from .freshness import OutputManifest, fingerprint

        if not self.use_cache:
            return None
        manifest = OutputManifest(self.cache_dir / "outputs.json")
        options = options or {}
        found = manifest.fresh(manifest.slot(renderer, options, self.output_dir),
                               fingerprint(renderer, options, self._context(kit, report)))
        renderer.up_to_date = found is not None
        return found

    def render(self, renderer: Renderer, kit: Kit, report: CheckReport | None,
               options: dict | None = None, pool: Executor | None = None) -> list[Path]:
        """Render unless the output is up to date (then `renderer.up_to_date` is set)."""
        from .freshness import OutputManifest, fingerprint

        # A build killed outright (SIGKILL) could not remove its temporary files: do it now.
        remove_stray_parts(self.output_dir)
        ctx = self._context(kit, report, pool)
        if not self.use_cache:
            return renderer.render(ctx)
        manifest = OutputManifest(self.cache_dir / "outputs.json")
        options = options or {}
        slot = manifest.slot(renderer, options, self.output_dir)
        key = fingerprint(renderer, options, ctx)
        fresh = manifest.fresh(slot, key)
        if fresh is not None:
            renderer.up_to_date = True
            return fresh
        paths = renderer.render(ctx)
        manifest.record(slot, key, paths)
        return paths
