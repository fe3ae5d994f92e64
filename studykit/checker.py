"""Run every code sample on real interpreters and compare what it prints with what the text claims."""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from .cache import RUNNER_VERSION
from .cachefile import read_cache_json, write_cache_json
from .model import Kit, Question, Sample
from .sandbox import SampleHost, Sandbox, choose

DEFAULT_TIMEOUT = 10.0
OUTPUT_CAP = 256 * 1024
MEMORY_CAP = 512 * 1024 * 1024
FILE_SIZE_CAP = 16 * 1024 * 1024
# Processes (and threads: the kernel counts both) one sample may have at once.
PROCESS_CAP = 64
MIN_VERSION = (3, 10)

# A venv's python would let samples import the kit's own dependencies: run its base instead.
_PROBE = ("import sys, platform; print(platform.python_implementation(), "
          "getattr(sys, '_base_executable', '') or sys.executable, "
          "'.'.join(map(str, sys.version_info[:3])), getattr(sys, 'abiflags', ''))")


@dataclass(frozen=True)
class Interpreter:
    executable: str
    version: str
    abiflags: str = ""

    @property
    def label(self) -> str:
        return f"CPython {self.version}{self.abiflags}"

    @property
    def version_key(self) -> Version:
        return Version(self.version)


def probe(path: str) -> Interpreter | None:
    """Ask an executable what it is; None for anything that is not a CPython we can run."""
    try:
        out = subprocess.run([path, "-I", "-c", _PROBE], capture_output=True, text=True,
                             timeout=20, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    parts = out.stdout.split()
    if out.returncode != 0 or len(parts) < 3 or parts[0] != "CPython":
        return None
    return Interpreter(executable=parts[1], version=parts[2],
                       abiflags=parts[3] if len(parts) > 3 else "")


class ProbeCache:
    """What each interpreter said it was, keyed on its path, size and modification time.

    Asking five interpreters takes most of a warm check's second; an interpreter that has not
    changed on disk gives the same answer.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.data: dict[str, dict] = read_cache_json(path)
        self.dirty = False

    @staticmethod
    def _stamp(path: str) -> str | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return f"{os.path.realpath(path)}:{st.st_size}:{st.st_mtime_ns}"

    def probe(self, path: str) -> Interpreter | None:
        stamp = self._stamp(path)
        if stamp is None:
            return None
        hit = self.data.get(path)
        if hit and hit.get("stamp") == stamp:
            return Interpreter(**hit["interp"]) if hit["interp"] else None
        interp = probe(path)
        self.data[path] = {"stamp": stamp, "interp": asdict(interp) if interp else None}
        self.dirty = True
        return interp

    def save(self) -> None:
        if not self.path or not self.dirty:
            return
        write_cache_json(self.path, self.data, indent=1, sort_keys=True)


def discover(all_pythons: bool = False, extra: Iterable[str] = (),
             cache_file: Path | None = None) -> list[Interpreter]:
    """The interpreters to check on: `extra` paths, plus either this one or every CPython 3.10+."""
    candidates: list[str] = list(extra)
    if all_pythons:
        for d in os.environ.get("PATH", "").split(os.pathsep):
            for minor in range(MIN_VERSION[1], 30):
                candidates.append(os.path.join(d, f"python3.{minor}"))
            candidates.append(os.path.join(d, "python3"))
        root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
        candidates += sorted(str(p) for p in root.glob("versions/*/bin/python3"))
    elif not candidates:
        candidates.append(sys.executable)
    cache = ProbeCache(cache_file)
    found: dict[str, Interpreter] = {}
    explicit = set(extra)
    for path in candidates:
        if path not in explicit and not os.access(path, os.X_OK):
            continue
        interp = cache.probe(path)
        if interp is None:
            if path in explicit:
                raise ValueError(f"{path} is not a CPython interpreter that can be run")
            continue
        if Version(interp.version).release[:2] < MIN_VERSION and path not in explicit:
            continue
        found.setdefault(os.path.realpath(interp.executable), interp)
    cache.save()
    return sorted(found.values(), key=lambda i: (i.version_key, i.abiflags))


@dataclass(frozen=True)
class RunResult:
    """What one run of a sample did: cached, so it holds no judgement about the expected output."""

    stdout: str
    stderr: str
    returncode: int | None
    # "exited", "timeout", "output-cap", "memory", "cpu", "processes", "file-size", "killed"
    status: str
    exception: str | None = None
    truncated: bool = False
    # Whether the run was confined: an unconfined result may differ (a sample that reads the
    # home folder passes), so it is not reused by a run that sandboxes.
    sandboxed: bool = False


@dataclass
class Outcome:
    question: Question
    sample: Sample
    interpreter: Interpreter
    status: str  # "passed", "failed", "skipped"
    reason: str = ""
    detail: str = ""
    result: RunResult | None = None
    cached: bool = False


@dataclass
class CheckReport:
    interpreters: list[Interpreter]
    outcomes: list[Outcome] = field(default_factory=list)
    ran: int = 0
    # Said once to the user when `auto` found no sandbox, so samples ran with their full rights.
    notice: str = ""

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failures

    def totals(self, interp: Interpreter) -> dict[str, int]:
        counts = {"passed": 0, "failed": 0, "skipped": 0}
        for o in self.outcomes:
            if o.interpreter == interp:
                counts[o.status] += 1
        return counts

    def verified_on(self, question: Question, sample: Sample) -> list[Interpreter]:
        """The interpreters a sample passed on, oldest first: printed next to it in outputs."""
        return [o.interpreter for o in self.outcomes
                if o.question.number == question.number and o.sample.index == sample.index
                and o.status == "passed"]


# ---------------------------------------------------------------- running one sample

def cpu_cap(timeout: float) -> int:
    """CPU seconds a sample may use: a backstop below the wall clock, for samples that spin."""
    return max(1, int(timeout * 0.8))


class ProcessCap:
    """A limit on the processes of one sample that holds even for root.

    RLIMIT_NPROC counts per user and root ignores it, so where the pids cgroup controller can be
    written (v1 or v2) each run gets a cgroup of its own with pids.max; otherwise, as an ordinary
    user, RLIMIT_NPROC does the job. `enforced` says whether either is in force.
    """

    ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))

    def __init__(self, limit: int = PROCESS_CAP) -> None:
        self.limit = limit
        self.group: Path | None = None
        for root in self.ROOTS:
            if not (root / "cgroup.procs").exists() or not os.access(root, os.W_OK):
                continue
            if root.name != "pids" and "pids" not in _read(root / "cgroup.subtree_control"):
                continue
            try:
                group = Path(tempfile.mkdtemp(prefix="studykit-", dir=root))
                (group / "pids.max").write_text(str(limit))
            except OSError:
                continue
            self.group = group
            break
        self.rlimit = self.group is None and os.geteuid() != 0
        self.enforced = self.group is not None or self.rlimit

    @classmethod
    def available(cls) -> bool:
        cap = cls()
        cap.close()
        return cap.enforced

    def enter(self) -> None:
        """In the child, before exec."""
        if self.group is not None:
            (self.group / "cgroup.procs").write_text(str(os.getpid()))
        elif self.rlimit:
            import resource

            resource.setrlimit(resource.RLIMIT_NPROC, (self.limit, self.limit))

    def hits(self) -> int:
        """How many times a fork was refused for the cap so far."""
        if self.group is None:
            return 0
        for line in _read(self.group / "pids.events").splitlines():
            if line.startswith("max"):
                return int(line.split()[-1])
        return 0

    def hit(self) -> bool:
        return self.hits() > 0

    def close(self) -> None:
        if self.group is None:
            return
        # A sandboxed run's PID namespace is torn down just after bwrap exits, so the group is
        # usually empty within a millisecond or two: a fixed 20 ms wait cost a fifth of a run.
        pause, waited = 0.001, 0.0
        while True:
            try:
                self.group.rmdir()
                return
            except OSError:   # still has tasks: they were SIGKILLed and are being reaped
                if waited > 1.0:
                    return
                for pid in _read(self.group / "cgroup.procs").split():
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except (ProcessLookupError, PermissionError, ValueError):
                        pass
                threading.Event().wait(pause)
                waited += pause
                pause = min(pause * 2, 0.05)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _limits(timeout: float, cap: ProcessCap) -> list[tuple[str, int, int]]:
    """The resource limits of one run: (RLIMIT name, soft, hard)."""
    cpu = cpu_cap(timeout)
    limits = [("RLIMIT_CPU", cpu, cpu + 1), ("RLIMIT_AS", MEMORY_CAP, MEMORY_CAP),
              ("RLIMIT_FSIZE", FILE_SIZE_CAP, FILE_SIZE_CAP), ("RLIMIT_CORE", 0, 0)]
    if cap.rlimit:
        limits.append(("RLIMIT_NPROC", cap.limit, cap.limit))
    return limits


def _apply(limits: list[tuple[str, int, int]], cap: ProcessCap) -> Callable[[], None]:
    def apply() -> None:
        import resource

        for name, soft, hard in limits:
            resource.setrlimit(getattr(resource, name), (soft, hard))
        cap.enter()
    return apply


def _scrubbed_env(home: str) -> dict[str, str]:
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "TMPDIR": home,
            "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "dumb"}


def _read_capped(fh, cap: int) -> tuple[str, bool]:
    fh.seek(0)
    data = fh.read(cap + 1)
    truncated = len(data) > cap
    return data[:cap].decode("utf-8", errors="replace"), truncated


def sample_host(box: Sandbox, interpreters: Iterable[Interpreter]) -> SampleHost:
    """A sandbox that runs samples on `interpreters` one after another (see run_sample)."""
    return SampleHost(box, [i.executable for i in interpreters],
                      lambda: ProcessCap(PROCESS_CAP + SampleHost.EXTRA_PROCESSES))


def run_sample(code: str, interpreter: Interpreter, timeout: float = DEFAULT_TIMEOUT,
               sandbox: SampleHost | Sandbox | str | None = "auto") -> RunResult:
    """Run code as a script in a fresh process, own temp dir, scrubbed env and hard limits;
    confined by `sandbox` (a SampleHost that runs it, a Sandbox to make one for this run alone,
    or a mode for sandbox.choose; None runs it unconfined)."""
    if isinstance(sandbox, str):
        sandbox = choose(sandbox)[0]
    if isinstance(sandbox, Sandbox):
        with sample_host(sandbox, [interpreter]) as host:
            return run_sample(code, interpreter, timeout, host)
    host = sandbox
    base = Path(tempfile.mkdtemp(prefix="kit-sample-", dir=host.scratch if host else None))
    cap = None if host else ProcessCap()
    try:
        work = base / "work"
        work.mkdir()
        (work / "sample.py").write_text(code, encoding="utf-8")
        argv = [interpreter.executable, "-I", "sample.py"]
        env = _scrubbed_env(str(work))
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            if host is not None:
                status, wait, hit = host.run(argv, work, env, lambda c: _limits(timeout, c),
                                             out.fileno(), err.fileno(), timeout)
                rc = None if wait is None else os.waitstatus_to_exitcode(wait)
            else:
                status, rc = _run_unconfined(argv, work, env, timeout, cap, out, err)
                hit = cap.hit()
            stdout, truncated = _read_capped(out, OUTPUT_CAP)
            stderr, _ = _read_capped(err, OUTPUT_CAP)
        rlimit = host.rlimit if host else cap.rlimit
        last = _last_line(stderr)
        if status == "exited":
            if truncated:
                status = "output-cap"
            elif rc == -signal.SIGXCPU:
                status = "cpu"
            elif hit or (rlimit and "Resource temporarily unavailable" in stderr):
                status = "processes"
            elif rc == -signal.SIGXFSZ or "File too large" in last:
                status = "file-size"
            elif rc is not None and rc < 0:
                status = "killed"
            elif "MemoryError" in last:
                status = "memory"
        return RunResult(stdout=stdout, stderr=stderr[-4000:], returncode=rc, status=status,
                         exception=_exception_name(stderr), truncated=truncated,
                         sandboxed=host is not None)
    finally:
        if cap is not None:
            cap.close()
        shutil.rmtree(base, ignore_errors=True)


def _run_unconfined(argv, work: Path, env: dict, timeout: float, cap: ProcessCap,
                    out, err) -> tuple[str, int | None]:
    proc = subprocess.Popen(argv, cwd=work, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                            env=env, start_new_session=True,
                            preexec_fn=_apply(_limits(timeout, cap), cap))
    status = "exited"
    try:
        if not _ended_within(proc, timeout):
            status = "timeout"
    finally:
        # The whole group: a sample's children must not outlive it.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
    return status, proc.returncode


def _ended_within(proc: subprocess.Popen, timeout: float) -> bool:
    """Whether `proc` ended within `timeout` seconds, noticed as soon as it does.

    Popen.wait(timeout) polls with sleeps that double up to 50 ms, so a run that ends at 33 ms
    is seen at 63.5: on a bank of short samples that was a third of each run, and more for a
    sandboxed one, which ends a few milliseconds later. A pidfd becomes readable when the
    process ends; where there is none (macOS, old kernels), the polling wait does the job."""
    try:
        fd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        try:
            proc.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False
    try:
        ended = bool(select.select([fd], [], [], timeout)[0])
    finally:
        os.close(fd)
    if ended:
        proc.wait()
    return ended


def _last_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else ""


_EXC_LINE = re.compile(r"^([A-Za-z_][\w.]*)(?::|$)")
_GROUP_LINE = re.compile(r"^  \| ([A-Za-z_][\w.]*)(?::|$)")


def _exception_name(stderr: str) -> str | None:
    """The class of the exception that ended a run, read from its traceback."""
    lines = stderr.splitlines()
    if any(ln.startswith("  + Exception Group Traceback") for ln in lines):
        for ln in lines:
            m = _GROUP_LINE.match(ln)
            if m and not ln.startswith("  |   "):
                return m.group(1)
    if not any(ln.startswith("Traceback (most recent call last)") for ln in lines):
        return None
    for ln in reversed(lines):
        if ln and not ln.startswith(" "):
            m = _EXC_LINE.match(ln)
            if m:
                return m.group(1)
    return None


# ---------------------------------------------------------------- judging a run

def output_matches(expected: str, actual: str) -> bool:
    """Exact match, except that '...' in the expected text matches any run of characters."""
    if "..." not in expected:
        return expected == actual
    pattern = ".*?".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, actual, flags=re.DOTALL) is not None


def judge(sample: Sample, result: RunResult) -> tuple[str, str, str]:
    """(status, reason, detail) for one run of a sample against what the content expects."""
    limits = {
        "timeout": "timed out",
        "output-cap": f"printed more than {OUTPUT_CAP // 1024} KB (output cut)",
        "memory": f"ran out of memory (cap {MEMORY_CAP // 2**20} MB)",
        "cpu": "used too much CPU time",
        "processes": f"hit the process limit ({PROCESS_CAP} processes and threads)",
        "file-size": f"wrote a file over the size limit ({FILE_SIZE_CAP // 2**20} MB)",
        "killed": f"was killed (signal {-(result.returncode or 0)})",
    }
    if result.status in limits:
        return "failed", limits[result.status], _tail(result.stderr)
    if sample.raises:
        got = result.exception
        if result.returncode == 0 or got is None:
            return "failed", f"should raise {sample.raises} but ended normally", ""
        if got.rsplit(".", 1)[-1] != sample.raises.rsplit(".", 1)[-1]:
            return "failed", f"should raise {sample.raises} but raised {got}", _tail(result.stderr)
    elif result.returncode != 0:
        what = f"raised {result.exception}" if result.exception else f"exited with status {result.returncode}"
        return "failed", f"{what} (declare raises = \"...\" if that is the point)", _tail(result.stderr)
    if not output_matches(sample.output, result.stdout):
        return "failed", "output differs", diff(sample.output, result.stdout)
    return "passed", "", ""


def _tail(stderr: str, lines: int = 8) -> str:
    return "\n".join(stderr.rstrip().splitlines()[-lines:])


def diff(expected: str, actual: str) -> str:
    return "".join(difflib.unified_diff(
        expected.splitlines(keepends=True), actual.splitlines(keepends=True),
        fromfile="expected", tofile="actual", lineterm="\n",
    )).replace("\n\\ No newline at end of file", "") or "(they differ only in the final newline)"


# ---------------------------------------------------------------- the cache

class ResultCache:
    """Run results keyed by (runner, code, interpreter); judgement is redone every time."""

    def __init__(self, path: Path | None):
        self.path = path
        self._data: dict[str, dict] = read_cache_json(path)
        self._lock = threading.Lock()
        self._dirty = False

    @staticmethod
    def key(code: str, interp: Interpreter, timeout: float) -> str:
        h = hashlib.sha256()
        for part in (RUNNER_VERSION, interp.executable, interp.version, interp.abiflags,
                     str(timeout), code):
            h.update(part.encode("utf-8", "surrogatepass"))
            h.update(b"\0")
        return h.hexdigest()

    def get(self, key: str, sandboxed: bool = False) -> RunResult | None:
        """The cached run, if it was confined at least as much as a run now would be."""
        raw = self._data.get(key)
        result = RunResult(**raw) if raw else None
        if result is not None and sandboxed and not result.sandboxed:
            return None
        return result

    def put(self, key: str, result: RunResult) -> None:
        # A timeout may be the machine's load rather than the sample: run it again next time.
        if result.status in ("timeout", "killed"):
            return
        with self._lock:
            self._data[key] = asdict(result)
            self._dirty = True

    def save(self) -> None:
        if not self.path or not self._dirty:
            return
        merged = read_cache_json(self.path)
        merged.update(self._data)
        write_cache_json(self.path, merged)
        self._dirty = False


# ---------------------------------------------------------------- checking a kit

class _Hosts:
    """A sandbox per worker thread, each running that thread's samples one after another."""

    def __init__(self, box: Sandbox | None, interpreters: list[Interpreter]):
        self.box, self.interpreters = box, interpreters
        self.local = threading.local()
        self.made: list[SampleHost] = []
        self.lock = threading.Lock()

    def run(self, code: str, interp: Interpreter, timeout: float) -> RunResult:
        if self.box is None:
            return run_sample(code, interp, timeout, None)
        host = getattr(self.local, "host", None)
        if host is None:
            host = self.local.host = sample_host(self.box, self.interpreters)
            with self.lock:
                self.made.append(host)
        return run_sample(code, interp, timeout, host)

    def __enter__(self) -> _Hosts:
        return self

    def __exit__(self, *exc) -> None:
        with self.lock:
            for host in self.made:
                host.close()


def applies(sample: Sample, interp: Interpreter) -> bool:
    return sample.python is None or interp.version_key in SpecifierSet(sample.python)


def check(kit: Kit, interpreters: list[Interpreter], *, cache: ResultCache | None = None,
          timeout: float = DEFAULT_TIMEOUT, jobs: int | None = None,
          progress: Callable[[int, int], None] | None = None, sandbox: str = "auto",
          hide: Iterable[Path] = ()) -> CheckReport:
    """Check every sample of the kit on every interpreter; samples run in parallel, in the
    sandbox `sandbox` asks for (see sandbox.choose), with the folders `hide` hidden from them."""
    cache = cache or ResultCache(None)
    confined, notice = choose(sandbox, hide)
    report = CheckReport(interpreters=interpreters, notice=notice)
    pending: list[tuple[Outcome, str]] = []
    for q in kit.questions:
        for s in q.samples:
            for interp in interpreters:
                outcome = Outcome(q, s, interp, "skipped")
                report.outcomes.append(outcome)
                if not applies(s, interp):
                    outcome.reason = f"not for {interp.version} (python = \"{s.python}\")"
                    continue
                key = cache.key(s.code, interp, timeout)
                result = cache.get(key, sandboxed=confined is not None)
                if result is None:
                    pending.append((outcome, key))
                else:
                    outcome.result, outcome.cached = result, True

    done = 0
    if progress:
        progress(done, len(pending))
    workers = jobs or os.cpu_count() or 2
    with _Hosts(confined, interpreters) as hosts, ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(hosts.run, o.sample.code, o.interpreter, timeout): (o, key)
                   for o, key in pending}
        try:
            for fut in as_completed(futures):
                outcome, key = futures[fut]
                outcome.result = fut.result()
                cache.put(key, outcome.result)
                done += 1
                if progress:
                    progress(done, len(pending))
        except BaseException:
            for fut in futures:
                fut.cancel()
            cache.save()
            raise
    report.ran = len(pending)
    cache.save()

    for o in report.outcomes:
        if o.result is not None:
            o.status, o.reason, o.detail = judge(o.sample, o.result)
    return report
