"""The sandbox every sample runs in: bubblewrap (`bwrap`), where it exists and works.

Samples arrive by pull request and run on the reader's own machine, so a sample sees the whole
filesystem read-only, a writable scratch folder (its working directory, HOME and TMPDIR), no home
folders, no project, no network and no other process. Nothing here limits resources: the checker's
rlimits and pids cgroup still do, and are inherited through bwrap.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .errors import KitError

MODES = ("auto", "required", "off")
# The kit's own tree (source, content, caches, outputs): a sample has no business reading it.
KIT_ROOT = Path(__file__).resolve().parents[1]
# Where other users' and programs' files live: hidden behind empty tmpfs mounts. /tmp is also
# the only shared writable place a sample could otherwise leave something for another process.
SHARED = ("/tmp", "/var/tmp", "/run", "/root", "/home")
# Each tmpfs a sample can write (/tmp, /dev/shm) holds this much: its pages are memory, which
# neither RLIMIT_AS nor RLIMIT_FSIZE bounds.
TMPFS_SIZE = 64 * 1024 * 1024


class SandboxUnavailable(KitError):
    """--sandbox required on a machine where bwrap cannot run: a missing tool, as for renderers."""

    exit_code = 3


@dataclass(frozen=True)
class Sandbox:
    bwrap: str
    hidden: tuple[str, ...]

    # bwrap's own processes during a run (itself and the init of the PID namespace): counted by
    # the pids cgroup, so the cap is raised by as many to leave the sample its full share.
    EXTRA_PROCESSES = 2

    def command(self, argv: list[str], work: Path, executable: str) -> list[str]:
        """argv wrapped so that it runs confined, in `work`, on the interpreter `executable`."""
        work_s = str(work)
        size = str(TMPFS_SIZE)
        cmd = [self.bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
               "--size", size, "--tmpfs", "/dev/shm"]
        for path in self.hidden:
            cmd += ["--size", size, "--tmpfs", path]
        # The interpreter may live in a hidden folder (pyenv's are under ~/.pyenv): its prefix
        # comes back, read-only, on top of the tmpfs that hid it. A prefix that is the home
        # itself (~/bin/python) or holds the kit brings back only its bin and lib folders.
        prefix = Path(os.path.realpath(executable)).parents[1]
        if any(_within(str(prefix), h) for h in self.hidden):
            wide = any(_within(str(p), str(prefix)) for p in (Path.home(), KIT_ROOT))
            for folder in sorted(prefix.glob("lib*")) + [prefix / "bin"] if wide else [prefix]:
                cmd += ["--ro-bind", str(folder), str(folder)]
        cmd += ["--bind", work_s, work_s]
        # Last, once every mount point inside them exists: a write into a hidden folder fails
        # (EROFS) instead of landing in a tmpfs that vanishes. /tmp stays an ordinary, private one.
        for path in self.hidden:
            if path != "/tmp":
                cmd += ["--remount-ro", path]
        cmd += ["--chdir", work_s,
                "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
                # Run as root, bwrap would otherwise keep every capability, and CAP_SYS_ADMIN
                # could remount the read-only root writable.
                "--cap-drop", "ALL", "--die-with-parent", "--new-session", "--", *argv]
        return cmd

    @staticmethod
    def returncode(rc: int) -> int:
        """The sample's own status: bwrap reports death by signal N as 128 + N."""
        return -(rc - 128) if 128 < rc <= 128 + 64 else rc


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def hidden_folders(extra: Iterable[Path | str] = ()) -> tuple[str, ...]:
    """Existing folders to hide, resolved (bwrap mounts on real paths), none inside another."""
    found = []
    for p in (*SHARED, str(Path.home()), str(KIT_ROOT), *map(str, extra)):
        real = os.path.realpath(p)
        if real != "/" and os.path.isdir(real):
            found.append(real)
    kept: list[str] = []
    for p in sorted(set(found)):
        if not any(_within(p, k) for k in kept):
            kept.append(p)
    return tuple(kept)


@functools.lru_cache(maxsize=None)
def _fails(bwrap: str) -> str | None:
    """Why bwrap cannot sandbox here (its own first line), or None when a trial run works."""
    try:
        with tempfile.TemporaryDirectory(prefix="kit-sandbox-") as work:
            trial = Sandbox(bwrap, hidden_folders()).command(["true"], Path(work), sys.executable)
            done = subprocess.run(trial, capture_output=True, text=True, timeout=20,
                                  stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{bwrap} does not work here ({exc})"
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        return f"{bwrap} does not work here ({lines[0] if lines else done.returncode})"
    return None


def why_not() -> str | None:
    """Why samples cannot be sandboxed on this machine, or None if they can."""
    if sys.platform != "linux":
        return f"bubblewrap needs Linux, and this is {sys.platform}"
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed (Debian: apt-get install bubblewrap)"
    return _fails(bwrap)


def choose(mode: str, hide: Iterable[Path | str] = ()) -> tuple[Sandbox | None, str]:
    """The sandbox `mode` asks for (None: run unsandboxed) and a one-line notice for the user
    when `auto` had to fall back. `required` without a usable bwrap raises SandboxUnavailable."""
    if mode not in MODES:
        raise ValueError(f"sandbox mode {mode!r} is not one of {', '.join(MODES)}")
    if mode == "off":
        return None, ""
    reason = why_not()
    if reason is None:
        return Sandbox(shutil.which("bwrap") or "bwrap", hidden_folders(hide)), ""
    if mode == "required":
        raise SandboxUnavailable(f"--sandbox required, but samples cannot be sandboxed: {reason}")
    return None, (f"note: samples run unsandboxed, with your full rights: {reason}; "
                  "--sandbox off silences this note")
