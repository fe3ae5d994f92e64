"""The sandbox every sample runs in: bubblewrap (`bwrap`), where it exists and works.

Samples arrive by pull request and run on the reader's own machine, so a sample sees the whole
filesystem read-only, a writable scratch folder (its working directory, HOME and TMPDIR), no home
folders, no project, no network and no other process. Nothing here limits resources: the checker's
rlimits and pids cgroup still do. A SampleHost keeps one sandbox and runs samples in it one after
another, leaving nothing of one for the next.
"""

from __future__ import annotations

import functools
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

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

    def command(self, argv: list[str], work: Path, executables: Iterable[str]) -> list[str]:
        """argv wrapped so that it runs confined, as the PID namespace's init, with `work`
        writable and the interpreters `executables` readable."""
        work_s = str(work)
        size = str(TMPFS_SIZE)
        # /dev read-only once /dev/shm is on it: its device nodes stay usable, but nothing can
        # be left there for the next sample.
        cmd = [self.bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
               "--size", size, "--tmpfs", "/dev/shm", "--remount-ro", "/dev"]
        for path in self.hidden:
            cmd += ["--size", size, "--tmpfs", path]
        # An interpreter may live in a hidden folder (pyenv's are under ~/.pyenv): its prefix
        # comes back, read-only, on top of the tmpfs that hid it. A prefix that is the home
        # itself (~/bin/python) or holds the kit brings back only its bin and lib folders.
        bound: list[Path] = []
        for executable in executables:
            prefix = Path(os.path.realpath(executable)).parents[1]
            if not any(_within(str(prefix), h) for h in self.hidden):
                continue
            wide = any(_within(str(p), str(prefix)) for p in (Path.home(), KIT_ROOT))
            for folder in sorted(prefix.glob("lib*")) + [prefix / "bin"] if wide else [prefix]:
                if folder not in bound:
                    bound.append(folder)
                    cmd += ["--ro-bind", str(folder), str(folder)]
        cmd += ["--bind", work_s, work_s]
        # Last, once every mount point inside them exists: a write into a hidden folder fails
        # (EROFS) instead of landing in a tmpfs that vanishes. /tmp stays an ordinary, private one.
        for path in self.hidden:
            if path != "/tmp":
                cmd += ["--remount-ro", path]
        cmd += ["--chdir", work_s,
                "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
                # The command is the namespace's init: a sample cannot signal it, and when it
                # ends every process left in the namespace ends with it.
                "--as-pid-1",
                # Run as root, bwrap would otherwise keep every capability, and CAP_SYS_ADMIN
                # could remount the read-only root writable.
                "--cap-drop", "ALL", "--die-with-parent", "--new-session", "--", *argv]
        return cmd


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
            trial = Sandbox(bwrap, hidden_folders()).command(["true"], Path(work), [sys.executable])
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


# The init of a sandbox that runs samples one after another (see SampleHost). It runs on one of
# the interpreters under test, with -I -S: nothing of the host's site-packages is imported.
SERVER = r"""
import ctypes, json, os, resource, shutil, signal, socket, sys

ctl = socket.socket(fileno=int(sys.argv[1]))
scratch = sys.argv[2]
# Not dumpable: a sample (the same user, no capabilities either) can neither trace this
# process nor read or write its memory through /proc, so it cannot steer the samples after it.
ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)   # PR_SET_DUMPABLE
top = os.sysconf("SC_OPEN_MAX")


def clear(folder):
    # The host's scratch folder (where each sample's own folder is made) may lie in one of
    # these: it and the folders leading to it stay.
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if path == scratch:
            continue
        if scratch.startswith(path + "/"):
            clear(path)
        elif os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)


def tidy():
    # What a sample left where the next one could find it: /tmp and /dev/shm emptied, and no
    # System V IPC object kept. False when something cannot go: the host starts a new sandbox.
    try:
        clear("/tmp")
        clear("/dev/shm")
    except OSError:
        return False
    for kind in ("shm", "sem", "msg"):
        with open("/proc/sysvipc/" + kind) as fh:
            if len(fh.read().splitlines()) > 1:
                return False
    return True


while True:
    try:
        message, fds, _, _ = socket.recv_fds(ctl, 1 << 20, 2)
    except OSError:
        break
    if not message:
        break
    run = json.loads(message)
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            for name, soft, hard in run["limits"]:
                resource.setrlimit(getattr(resource, name), (soft, hard))
            os.chdir(run["cwd"])
            os.dup2(os.open("/dev/null", os.O_RDONLY), 0)
            os.dup2(fds[0], 1)
            os.dup2(fds[1], 2)
            os.closerange(3, top)
            os.execve(run["argv"][0], run["argv"], run["env"])
        except BaseException as exc:
            os.write(2, ("sandbox: the sample could not start: %r\n" % (exc,)).encode())
        os._exit(127)
    for fd in fds:
        os.close(fd)
    status = os.waitpid(pid, 0)[1]
    # As the namespace's init, kill(-1) reaches every other process in it: whatever the
    # sample started ends with it, as it would with a sandbox of its own.
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            break
    ctl.sendall(json.dumps({"status": status, "clean": tidy()}).encode())
"""


class SampleHost:
    """One sandbox in which samples run one after another, each in a fresh process.

    Starting bwrap for every sample (a mount namespace, tmpfs mounts, the other namespaces) cost
    about a fifth of a short sample's run; here it is paid once per host. Its init (SERVER) forks
    each sample with its limits and standard streams, and once the sample has ended kills every
    other process in the namespace and empties /tmp and /dev/shm, so each sample meets what a
    sandbox of its own would show it. A sample that leaves what cannot be cleared, or that runs
    out of time, takes the sandbox with it: the next run starts a new one.

    `cap` makes the process cap of the whole sandbox (see checker.ProcessCap): bwrap and its
    init count as EXTRA_PROCESSES of it."""

    # bwrap's own process and the namespace's init: counted by the pids cgroup, so the cap is
    # raised by as many to leave the sample its full share.
    EXTRA_PROCESSES = 2

    def __init__(self, box: Sandbox, executables: Iterable[str], cap: Callable[[], Any]):
        self.box = box
        self.executables = list(dict.fromkeys(executables))
        self.make_cap = cap
        # Each sample's folder is made in here: the only place the sandbox can write to that
        # the host sees.
        self.scratch = Path(tempfile.mkdtemp(prefix="kit-sandbox-"))
        self.proc: subprocess.Popen | None = None
        self.ctl: socket.socket | None = None
        self.cap: Any = None
        self.rlimit = False
        self.errors: Any = None
        # How many sandboxes this host has started (a test reads it).
        self.starts = 0

    def __enter__(self) -> SampleHost:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start(self) -> None:
        host, guest = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.cap = self.make_cap()
        self.rlimit = self.cap.rlimit
        self.starts += 1
        self.errors = tempfile.TemporaryFile()
        argv = [self.executables[0], "-I", "-S", "-c", SERVER, str(guest.fileno()),
                str(self.scratch)]
        try:
            self.proc = subprocess.Popen(
                self.box.command(argv, self.scratch, self.executables), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=self.errors, pass_fds=[guest.fileno()],
                start_new_session=True, preexec_fn=self.cap.enter, env={"PATH": "/usr/bin:/bin"})
        finally:
            guest.close()
        self.ctl = host

    def _stop(self) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.proc.wait()
            self.proc = None
        for thing in (self.ctl, self.errors):
            if thing is not None:
                thing.close()
        self.ctl = self.errors = None
        if self.cap is not None:
            self.cap.close()
            self.cap = None

    def close(self) -> None:
        self._stop()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def run(self, argv: list[str], work: Path, env: dict[str, str],
            limits: Callable[[Any], list[tuple]], stdout: int, stderr: int,
            timeout: float) -> tuple[str, int | None, bool]:
        """Run argv in `work` (a folder in self.scratch) with the limits `limits` gives for the
        sandbox's cap ([(RLIMIT name, soft, hard)]): ("exited", its wait status, whether it hit
        the process cap), or ("timeout", None, False) when it ran past `timeout` seconds."""
        if self.proc is None:
            self._start()
        assert self.ctl is not None and self.cap is not None
        hits = self.cap.hits()
        message = json.dumps({"argv": argv, "cwd": str(work), "env": env,
                              "limits": limits(self.cap)}).encode()
        try:
            socket.send_fds(self.ctl, [message], [stdout, stderr])
            ready = select.select([self.ctl], [], [], timeout)[0]
            reply = self.ctl.recv(4096) if ready else None
        except OSError:
            reply = b""
        if reply is None:
            self._stop()
            return "timeout", None, False
        if not reply:
            # The sandbox itself ended: bwrap could not start, or its init was killed.
            self.errors.seek(0)
            why = self.errors.read().decode(errors="replace").strip().splitlines()
            self._stop()
            raise SandboxFailed(f"the sandbox stopped ({why[0] if why else 'no message'})")
        answer = json.loads(reply)
        hit = self.cap.hits() > hits
        if not answer["clean"]:
            self._stop()
        return "exited", answer["status"], hit


class SandboxFailed(KitError):
    """bwrap, which worked for the trial run, failed for real (it is reported like a sample
    that could not run)."""

    exit_code = 3
