"""The sandbox samples run in: real escape attempts, each of which fails only because of it."""

import os
import re
import signal
import socket
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from studykit import checker, sandbox
from studykit.checker import ResultCache, judge, run_sample
from studykit.loader import load_kit
from studykit.model import Sample
from test_checker import processes_with

NO_BWRAP_REQUIRED = ("error: --sandbox required, but samples cannot be sandboxed: bubblewrap "
                     "(bwrap) is not installed (Debian: apt-get install bubblewrap)")
NO_BWRAP_NOTICE = ("note: samples run unsandboxed, with your full rights: bubblewrap (bwrap) is "
                   "not installed (Debian: apt-get install bubblewrap); --sandbox off silences "
                   "this note")


@pytest.fixture(scope="module")
def here() -> checker.Interpreter:
    (interp,) = checker.discover()
    return interp


@pytest.fixture(scope="module")
def box() -> sandbox.Sandbox:
    reason = sandbox.why_not()
    if reason is not None:
        # CI asks for the sandbox: there these tests must run, not be skipped.
        if os.environ.get("KIT_SANDBOX") == "required":
            pytest.fail(reason)
        pytest.skip(reason)
    confined, _ = sandbox.choose("required")
    return confined


def run_in(code: str, interp, box, timeout: float = 10.0):
    return run_sample(textwrap.dedent(code), interp, timeout=timeout, sandbox=box)


def verdict(code: str, interp, box) -> tuple[str, str]:
    s = Sample(title="t", code=textwrap.dedent(code), output="")
    status, reason, _ = judge(s, run_in(code, interp, box))
    return status, reason


@pytest.fixture
def no_bwrap(tmp_path, monkeypatch):
    """A PATH on which bwrap cannot be found, as on a machine without bubblewrap."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("KIT_SANDBOX", raising=False)


# ------------------------------------------------------------------ escapes

def test_writing_into_the_hosts_tmp_fails_and_leaves_nothing(here, box, tmp_path):
    target = tmp_path / "escaped.txt"
    assert verdict(f"open({str(target)!r}, 'w').write('x')\n", here, box) == (
        "failed", 'raised FileNotFoundError (declare raises = "..." if that is the point)')
    assert not target.exists()


def test_writing_into_the_project_fails_with_its_own_exception(here, box):
    target = sandbox.KIT_ROOT / f"escaped-{uuid.uuid4().hex}.txt"
    try:
        # Read-only where the project is in view; absent where it lies under the sample's own
        # private /tmp (a clone in /tmp): either way an OSError of the sample's own.
        status, why = verdict(f"open({str(target)!r}, 'w').write('x')\n", here, box)
        assert status == "failed"
        assert re.fullmatch(r'raised (OSError|FileNotFoundError) \(declare raises = "\.\.\." '
                            r'if that is the point\)', why), why
        assert not target.exists()
    finally:
        target.unlink(missing_ok=True)


def test_the_home_folder_and_the_project_are_not_readable(here, box):
    home = Path.home()
    # Only the folders leading to the interpreter come back into the hidden home.
    prefix = Path(os.path.realpath(here.executable)).parents[1]
    allowed = {p.name for p in [prefix, *prefix.parents] if p.parent == home}
    assert set(os.listdir(home)) - allowed, "nothing in the home folder to hide: test is void"
    result = run_in(f"""
    import os
    print(sorted(os.listdir({str(home)!r})))
    try:    # an empty tmpfs over it, or nothing at all where it lies under /tmp
        print(sorted(os.listdir({str(sandbox.KIT_ROOT)!r})))
    except FileNotFoundError:
        print([])
    try:
        open({str(sandbox.KIT_ROOT / "build.py")!r}).read()
    except OSError as exc:
        print(type(exc).__name__)
    """, here, box)
    seen_home, seen_project, read = result.stdout.splitlines()
    assert set(eval(seen_home)) <= allowed
    assert eval(seen_project) == []
    assert read == "FileNotFoundError"


def test_a_socket_cannot_reach_the_host(here, box):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        port = listener.getsockname()[1]
        assert verdict(f"""
        import socket
        socket.create_connection(("127.0.0.1", {port}), timeout=3).sendall(b"secret")
        """, here, box) == ("failed",
                            'raised ConnectionRefusedError (declare raises = "..." if that is '
                            'the point)')
        with pytest.raises(BlockingIOError):
            listener.accept()


def test_a_sample_can_neither_see_nor_signal_the_build(here, box):
    received = []
    old = signal.signal(signal.SIGUSR1, lambda *_: received.append(1))
    try:
        result = run_in(f"""
        import os, signal
        os.kill(os.getppid(), signal.SIGUSR1)
        print(sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
        os.kill({os.getpid()}, signal.SIGUSR1)
        """, here, box)
        time.sleep(0.2)   # a signal that got through is handled by now
    finally:
        signal.signal(signal.SIGUSR1, old)
    assert received == []
    assert os.getpid() not in eval(result.stdout)
    assert result.exception == "ProcessLookupError"


def test_a_double_forked_daemon_does_not_outlive_the_run(here, box, monkeypatch, tmp_path):
    # Without a pids cgroup, nothing but the sandbox's PID namespace can end the daemon (the
    # cgroup's clean-up would otherwise kill it too, and hide a sandbox that lets it live).
    monkeypatch.setattr(checker.ProcessCap, "ROOTS", ())
    token = f"kit-daemon-{uuid.uuid4().hex}"
    marker = tmp_path / "daemon-was-here"
    result = run_in(f"""
    import os, sys
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c",
                "import pathlib, sys, time; time.sleep(1.5); pathlib.Path(sys.argv[1]).touch()",
                {str(marker)!r}, {token!r}])
        os._exit(0)
    print("parent done")
    """, here, box)
    assert result.stdout == "parent done\n"
    time.sleep(0.3)
    survivors = processes_with(token)
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert survivors == []
    time.sleep(1.5)
    assert not marker.exists()


def test_no_descriptor_of_the_build_is_inherited(here, box, tmp_path):
    fd = os.open(tmp_path / "secret", os.O_WRONLY | os.O_CREAT)
    os.set_inheritable(fd, True)
    try:
        result = run_in("""
        import os
        print(sorted(int(f) for f in os.listdir("/proc/self/fd")))
        """, here, box)
    finally:
        os.close(fd)
    # The three standard streams, and the one listdir has open.
    assert eval(result.stdout) == [0, 1, 2, 3]


def test_an_escaping_sample_fails_alone_and_the_rest_are_checked(bank, here, box):
    path = next(bank.glob("01-alpha/002-*.toml"))
    # Short enough for a line of code on the page; in the host's /tmp.
    planted = Path(tempfile.mkdtemp(prefix="kit-")) / "planted"
    text = path.read_text()
    path.write_text(text.replace("[[samples]]", '[[samples]]\ntitle = "Planter"\n'
                                 f"code = '''\nopen({str(planted)!r}, 'w').write('x')\n'''\n"
                                 "output = ''\n\n[[samples]]", 1))
    kit = load_kit(bank)
    report = checker.check(kit, [here], cache=ResultCache(None), sandbox="required")
    statuses = {o.sample.title: (o.status, o.reason) for o in report.outcomes}
    assert statuses.pop("Planter") == ("failed", 'raised FileNotFoundError (declare raises = '
                                       '"..." if that is the point)')
    assert {s for s, _ in statuses.values()} <= {"passed", "skipped"}
    assert "passed" in {s for s, _ in statuses.values()}
    assert not planted.exists()
    planted.parent.rmdir()


# ------------------------------------------------------------------ modes and the cache

def test_an_unsandboxed_result_is_not_reused_by_a_sandboxed_check(bank, here, box, tmp_path):
    kit = load_kit(bank)

    def ran(mode: str) -> int:
        return checker.check(kit, [here], cache=ResultCache(tmp_path / "c.json"),
                             sandbox=mode).ran

    first = ran("off")
    assert first > 0
    assert ran("off") == 0
    assert ran("required") == first, "results of unsandboxed runs served a sandboxed check"
    assert ran("auto") == 0
    assert ran("off") == 0, "a sandboxed result should serve an unsandboxed check"


def test_the_cache_records_how_a_result_was_obtained(here):
    cache = ResultCache(None)
    loose, tight = checker.RunResult("", "", 0, "exited"), checker.RunResult(
        "", "", 0, "exited", sandboxed=True)
    cache.put("a", loose)
    cache.put("b", tight)
    assert cache.get("a") == loose and cache.get("a", sandboxed=True) is None
    assert cache.get("b") == tight == cache.get("b", sandboxed=True)


def test_required_without_bwrap_fails_with_one_line(bank, run, no_bwrap):
    for args in (["check", "--sandbox", "required"], ["--sandbox", "required", "check"]):
        result = run(bank, *args)
        assert (result.exit_code, result.stderr) == (3, NO_BWRAP_REQUIRED + "\n"), args


def test_kit_sandbox_reaches_the_build_with_no_command(bank, run, no_bwrap, monkeypatch):
    monkeypatch.setenv("KIT_SANDBOX", "required")
    result = run(bank)
    assert (result.exit_code, result.stderr) == (3, NO_BWRAP_REQUIRED + "\n")


def test_auto_without_bwrap_runs_unsandboxed_and_says_so_once(bank, run, no_bwrap):
    result = run(bank, "check")
    assert result.exit_code == 0, result.output
    assert result.stderr == NO_BWRAP_NOTICE + "\n"
    assert " 0 failed" in result.stdout


def test_off_says_nothing(bank, run, no_bwrap):
    result = run(bank, "check", "--sandbox", "off")
    assert (result.exit_code, result.stderr) == (0, "")


def test_auto_on_macos_names_the_reason(monkeypatch):
    monkeypatch.setattr(sandbox.sys, "platform", "darwin")
    assert sandbox.choose("auto") == (None, "note: samples run unsandboxed, with your full "
                                      "rights: bubblewrap needs Linux, and this is darwin; "
                                      "--sandbox off silences this note")


def test_hidden_folders_are_resolved_and_not_nested(tmp_path):
    inner = tmp_path / "content"
    inner.mkdir()
    hidden = sandbox.hidden_folders([inner, tmp_path / "absent"])
    assert "/tmp" in hidden and not any(h.startswith("/tmp/") for h in hidden)
    # The kit itself is hidden, by its own mount or by one that holds it (a clone under /tmp).
    assert any(sandbox._within(str(sandbox.KIT_ROOT), h) for h in hidden)


def test_an_interpreter_in_the_home_folder_brings_back_only_its_own_folders(tmp_path):
    box = sandbox.Sandbox("bwrap", (str(Path.home()),))
    pyenv = Path.home() / ".pyenv/versions/3.12.1/bin/python3"
    cmd = " ".join(box.command(["python"], tmp_path, [str(pyenv)]))
    assert f"--ro-bind {pyenv.parents[1]} {pyenv.parents[1]} " in cmd
    cmd = " ".join(box.command(["python"], tmp_path, [str(Path.home() / "bin/python3")]))
    assert f"--ro-bind {Path.home()} " not in cmd
    assert f"--ro-bind {Path.home() / 'bin'} {Path.home() / 'bin'} " in cmd


def test_every_interpreter_of_a_sandbox_is_brought_back_once(tmp_path):
    box = sandbox.Sandbox("bwrap", (str(Path.home()),))
    versions = Path.home() / ".pyenv/versions"
    pythons = [str(versions / v / "bin/python3") for v in ("3.10.13", "3.12.1", "3.10.13")]
    cmd = " ".join(box.command(["python"], tmp_path, pythons))
    for v in ("3.10.13", "3.12.1"):
        assert cmd.count(f"--ro-bind {versions / v} {versions / v} ") == 1


# ------------------------------------------------------------------ one sandbox, many samples

@pytest.fixture
def host(here, box):
    with checker.sample_host(box, [here]) as made:
        yield made


def hosted(code: str, interp, host, timeout: float = 10.0):
    return run_sample(textwrap.dedent(code), interp, timeout=timeout, sandbox=host)


def test_what_a_sample_leaves_is_gone_before_the_next_one(here, host):
    token = f"kit-left-{uuid.uuid4().hex}"
    first = hosted(f"""
    import os, subprocess, sys
    open("/tmp/left", "w").write("x")
    os.makedirs("/tmp/deep/er")
    open("/dev/shm/left", "w").write("x")
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", {token!r}],
                     start_new_session=True)
    print("left")
    """, here, host)
    assert first.stdout == "left\n", first.stderr
    second = hosted("""
    import os
    print(sorted(os.listdir("/tmp")), os.listdir("/dev/shm"))
    print(sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
    """, here, host)
    seen_tmp, procs = second.stdout.splitlines()
    # The host's scratch folder, where this sample's own folder is, and nothing else.
    assert seen_tmp == f"{[host.scratch.name]} []" if host.scratch.parent == Path("/tmp") else \
        seen_tmp == "[] []"
    # The namespace's init and this sample: the other one's child is gone.
    assert len(eval(procs)) == 2
    assert processes_with(token) == []
    assert host.starts == 1


def test_what_cannot_be_removed_costs_the_sandbox_not_the_next_sample(here, host):
    # Without CAP_DAC_OVERRIDE not even root can empty a folder it made unreadable.
    hosted("""
    import os
    os.makedirs("/tmp/locked/inside")
    os.chmod("/tmp/locked", 0)
    """, here, host)
    after = hosted("import os\nprint(os.path.exists('/tmp/locked'))\n", here, host)
    assert after.stdout == "False\n"
    assert host.starts == 2


def test_a_sample_cannot_kill_trace_or_read_the_sandboxs_init(here, host):
    result = hosted("""
    import os, signal
    os.kill(1, signal.SIGKILL)       # init ignores signals sent from inside its namespace
    for how in (lambda: open("/proc/1/mem", "rb").read(1), lambda: os.readlink("/proc/1/fd/0"),
                lambda: open("/proc/1/environ").read()):
        try:
            how()
        except PermissionError:
            print("refused")
    """, here, host)
    assert result.stdout == "refused\nrefused\nrefused\n", result.stderr
    assert hosted("print('still here')\n", here, host).stdout == "still here\n"
    assert host.starts == 1


def test_a_timeout_ends_the_sandbox_and_the_next_sample_gets_a_new_one(here, host):
    assert hosted("import time\ntime.sleep(30)\n", here, host, timeout=1).status == "timeout"
    assert hosted("print('next')\n", here, host).stdout == "next\n"
    assert host.starts == 2


def test_a_shared_memory_segment_does_not_reach_the_next_sample(here, host):
    made = hosted("""
    import ctypes
    print(ctypes.CDLL(None).shmget(0, 4096, 0o1600) >= 0)   # IPC_PRIVATE, IPC_CREAT | 0600
    """, here, host)
    assert made.stdout == "True\n", made.stderr
    after = hosted("print(len(open('/proc/sysvipc/shm').read().splitlines()))\n", here, host)
    assert after.stdout == "1\n"   # the header line alone
    assert host.starts == 2
