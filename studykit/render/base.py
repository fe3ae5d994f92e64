"""What every renderer gets (BuildContext) and provides (the Renderer contract, RenderResult)."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from jinja2 import (BytecodeCache, Environment, FileSystemLoader,
                    StrictUndefined, select_autoescape)

from ..checker import CheckReport, Interpreter
from ..errors import KitError, RenderError
from ..glyphs import missing_glyphs
from ..model import Kit, Question, Sample
from ..workers import Pool

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = PROJECT_ROOT / "templates"


def build_time() -> datetime:
    """When the outputs say they were made (UTC, without a zone): SOURCE_DATE_EPOCH when set,
    so that two builds of the same content give the same bytes, else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    try:
        return datetime.fromtimestamp(int(epoch), timezone.utc).replace(tzinfo=None)
    except (ValueError, OverflowError, OSError):
        raise KitError(f"SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, "
                       f"not {epoch!r}") from None


def build_date() -> date:
    """The date printed on the outputs: SOURCE_DATE_EPOCH's (in UTC) when set, else today."""
    return build_time().date() if "SOURCE_DATE_EPOCH" in os.environ else date.today()


@dataclass(frozen=True)
class BuildContext:
    """Everything read and checked before any output is written."""

    kit: Kit
    report: CheckReport | None
    out_dir: Path
    templates_dir: Path = TEMPLATES_DIR
    build_date: date = field(default_factory=build_date)
    # Where a renderer may keep what speeds up its next build (None: keep nothing).
    cache_dir: Path | None = None
    # Where a renderer may hand independent pieces of work (None: its own choice).
    pool: Pool | None = None

    @property
    def interpreters(self) -> list[Interpreter]:
        return list(self.report.interpreters) if self.report else []

    def verified_on(self, question: Question, sample: Sample) -> list[Interpreter]:
        return self.report.verified_on(question, sample) if self.report else []


@dataclass
class RenderResult:
    """What building one output did."""

    name: str
    # The output's files.
    paths: list[Path]
    # Lines for the user (for example which cards were set smaller).
    messages: list[str] = field(default_factory=list)
    # What was made afresh rather than taken from the cache (parts of a PDF, decks).
    laid_out: list[str] = field(default_factory=list)
    # The files on disk were built from the same inputs: nothing was rendered.
    up_to_date: bool = False
    # Wall time of the build of this output (set by whoever timed it).
    seconds: float = 0.0
    # What the output holds, for the user's summary line ("pages", "cards"), where known.
    counts: dict[str, int] = field(default_factory=dict)


class Renderer(ABC):
    """A builder for one output format.

    It is given its options once, to the constructor (every option, defaults included, is in
    `options`, which keys the output); it names its files (`targets`), says whether they are
    outdated, and `build` renders them when they are, returning a RenderResult. A format
    implements `targets` and `write`."""

    name: str = ""
    # Outputs whose files this one reads (the Anki deck reads the handbook's page numbers):
    # a build that makes one of them makes this one after it.
    reads: tuple[str, ...] = ()

    def __init__(self, **options) -> None:
        self.options = options

    @abstractmethod
    def targets(self, ctx: BuildContext) -> list[Path]:
        """The files the output is made of."""

    @abstractmethod
    def write(self, ctx: BuildContext) -> RenderResult:
        """Write the output files atomically into ctx.out_dir, and say what was done."""

    def render(self, ctx: BuildContext) -> RenderResult:
        """Render the output now, whatever is on disk."""
        return self.write(ctx)

    def key(self, ctx: BuildContext) -> str:
        """A hash of everything that shapes the output: the content it shows, its options, the
        checks' results, the templates, the kit's code and the libraries (see freshness)."""
        from ..freshness import fingerprint

        return fingerprint(self, self.options, ctx)

    def built(self, ctx: BuildContext) -> list[Path] | None:
        """The output's files if they were built from these very inputs and are on disk as
        they were written, else None (always None without a cache folder)."""
        found = self._record(ctx)
        if found is None:
            return None
        manifest, slot, key = found
        return manifest.fresh(slot, key)

    def outdated(self, ctx: BuildContext) -> bool:
        return self.built(ctx) is None

    def build(self, ctx: BuildContext) -> RenderResult:
        """Render the output unless it is up to date, and record what was written."""
        found = self._record(ctx)
        if found is not None:
            manifest, slot, key = found
            fresh = manifest.fresh(slot, key)
            if fresh is not None:
                return RenderResult(self.name, fresh, up_to_date=True)
        result = self.render(ctx)
        if found is not None:
            manifest.record(slot, key, result.paths)
        return result

    def _record(self, ctx: BuildContext):
        """The record of built outputs, this output's place in it and its key (None: no
        cache folder, so nothing is recorded)."""
        if ctx.cache_dir is None:
            return None
        from ..cache import path as cache_path
        from ..freshness import OutputManifest

        manifest = OutputManifest(cache_path(ctx.cache_dir, "outputs"))
        return manifest, manifest.slot(self, self.options, ctx.out_dir), self.key(ctx)

    @staticmethod
    def slower_note(parts, library: str = "WeasyPrint") -> list[str]:
        """Why parts were made through `library`'s public API alone, said once (or nothing)."""
        why = next((p.slower for p in parts if p.slower), "")
        return [f"on the slower path ({library}'s public API only): {why}"] if why else []

    def jinja(self, ctx: BuildContext, subdir: str) -> Environment:
        return template_env(ctx.templates_dir / subdir, ctx.cache_dir)

    def content_key(self, ctx: BuildContext) -> str:
        """The part of the content this output shows, as text: a change elsewhere leaves it
        up to date. Frozen dataclasses make repr a full, ordered description."""
        return repr((ctx.kit.topics, ctx.kit.questions, ctx.kit.bank))

    def require_glyphs(self, ctx: BuildContext) -> None:
        """Fail, naming each character and where it is, if the print would show empty boxes."""
        missing = missing_glyphs(ctx.kit.questions)
        if missing:
            lines = [f"  {m.describe()}" for m in missing[:20]]
            if len(missing) > 20:
                lines.append(f"  and {len(missing) - 20} more")
            raise RenderError(f"{self.name}: no installed font can draw these characters, which "
                              "would print as empty boxes; install a font that covers them (for "
                              "CJK: apt install fonts-noto-cjk) or write them another way:\n"
                              + "\n".join(lines))


def template_env(folder: Path, cache_dir: Path | None = None) -> Environment:
    """The templates of one output (a worker that renders templates makes its own)."""
    # Autoescape everywhere: content is text, never markup.
    return Environment(
        loader=FileSystemLoader(str(folder)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        bytecode_cache=_bytecode_cache(cache_dir),
    )


def _bytecode_cache(cache_dir: Path | None) -> BytecodeCache | None:
    """Compiled templates kept between builds: compiling them all takes most of a second, a
    good part of a small rebuild. Jinja checks each against its template's source, and
    writes them atomically."""
    if cache_dir is None:
        return None
    from ..cache import path as cache_path

    folder = cache_path(cache_dir, "templates")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None   # a cache that cannot be written only costs time
    return _SealedBytecodeCache(folder)


class _SealedBytecodeCache(BytecodeCache):
    """Compiled templates, one file per bucket, sealed like every other cache file (see
    cachefile): Jinja's own FileSystemBytecodeCache would load a damaged one, and lets a full
    disk's error through. Only the public BytecodeCache interface and `bucket.key` are used."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, bucket) -> Path:
        return self.folder / f"{bucket.key}.jinja"

    def load_bytecode(self, bucket) -> None:
        from ..cachefile import read_cache

        data = read_cache(self._path(bucket))
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket) -> None:
        from ..cachefile import write_cache

        write_cache(self._path(bucket), bucket.bytecode_to_string())


# Set (to anything but 0) to build through the libraries' public APIs alone, as on a version
# their internals were not tested with (see weasy_internals, pptx_xml).
PUBLIC_ONLY = "STUDYKIT_PUBLIC_ONLY"


def forced_public() -> bool:
    return os.environ.get(PUBLIC_ONLY, "") not in ("", "0")


def untested(library: str, dist: str, tested: tuple[str, ...]) -> str:
    """Why `library`'s internals are not to be used ("" if they may be): the public path is
    forced, or the installed version is not one they were tested with."""
    if forced_public():
        return f"{PUBLIC_ONLY} is set"
    from ..freshness import library_version

    version = library_version(dist)
    if version not in tested:
        return f"{library} {version} is not the tested {', '.join(tested)}"
    return ""


def internals_failed(library: str, exc: Exception) -> str:
    """Why a part was made on the public path after a fast path raised."""
    return f"{library}'s internals failed ({type(exc).__name__}: {exc})"
