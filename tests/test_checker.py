"""The sample checker: each outcome, on real interpreter processes."""

import os
import signal
import sys
import textwrap
import time
import uuid

import pytest

from studykit import checker
from studykit.checker import Interpreter, ResultCache, judge, output_matches, run_sample
from studykit.loader import load_kit
from studykit.model import Sample


@pytest.fixture(scope="module")
def here() -> Interpreter:
    (interp,) = checker.discover()
    return interp


def sample(code: str, output: str = "", **kw) -> Sample:
    return Sample(title="t", code=textwrap.dedent(code), output=textwrap.dedent(output), **kw)


def outcome(s: Sample, interp: Interpreter, timeout: float = 10.0):
    return judge(s, run_sample(s.code, interp, timeout=timeout))


def test_discover_finds_the_base_interpreter_not_the_venv(here):
    assert here.version == ".".join(map(str, sys.version_info[:3]))
    assert ".venv" not in here.executable


def test_pass(here):
    assert outcome(sample("print(1 + 1)\n", "2\n"), here)[0] == "passed"


def test_mismatch_gives_a_unified_diff(here):
    status, reason, detail = outcome(sample("print('a')\nprint('b')\n", "a\nc\n"), here)
    assert (status, reason) == ("failed", "output differs")
    assert "--- expected" in detail and "+++ actual" in detail
    assert "-c" in detail.splitlines() and "+b" in detail.splitlines()


def test_wildcard_matches_only_the_variable_part(here):
    code = "x = object()\nprint('<obj at', hex(id(x)), '>')\n"
    assert outcome(sample(code, "<obj at ... >\n"), here)[0] == "passed"
    assert outcome(sample(code, "<thing at ... >\n"), here)[0] == "failed"
    assert output_matches("a...c", "abbbc") and not output_matches("a...c", "abbbd")
    assert output_matches("x.y", "x.y") and not output_matches("x.y", "xzy")


def test_raises_must_be_the_named_exception(here):
    code = "print('before')\n{}['k']\n"
    assert outcome(sample(code, "before\n", raises="KeyError"), here)[0] == "passed"
    status, reason, _ = outcome(sample(code, "before\n", raises="ValueError"), here)
    assert status == "failed" and "should raise ValueError but raised KeyError" in reason
    status, reason, _ = outcome(sample("print('x')\n", "x\n", raises="KeyError"), here)
    assert status == "failed" and "ended normally" in reason


def test_unexpected_exception_fails_with_its_traceback(here):
    status, reason, detail = outcome(sample("print('a')\n1/0\n", "a\n"), here)
    assert status == "failed" and "raised ZeroDivisionError" in reason
    assert "ZeroDivisionError: division by zero" in detail


def test_exception_group_is_recognised(here):
    if sys.version_info < (3, 11):
        pytest.skip("ExceptionGroup is 3.11+")
    code = "raise ExceptionGroup('eg', [ValueError(1), TypeError(2)])\n"
    assert outcome(sample(code, "", raises="ExceptionGroup"), here)[0] == "passed"


def test_qualified_exception_names_match_by_class_name(here):
    code = "import json\njson.loads('{')\n"
    assert outcome(sample(code, "", raises="json.JSONDecodeError"), here)[0] == "passed"
    assert outcome(sample(code, "", raises="JSONDecodeError"), here)[0] == "passed"


def processes_with(token: str) -> list[int]:
    """Pids of live processes whose command line holds `token`, seen from outside any sandbox
    (a sandboxed sample cannot write a marker file for the test to find)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            cmdline = open(f"/proc/{entry}/cmdline", "rb").read()
        except OSError:
            continue
        if entry.isdigit() and token.encode() in cmdline:
            found.append(int(entry))
    return found


def test_timeout_kills_the_whole_process_group(here):
    token = f"kit-child-{uuid.uuid4().hex}"
    code = f"""
    import subprocess, sys, time
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", {token!r}])
    time.sleep(30)
    """
    status, reason, _ = outcome(sample(code), here, timeout=1.5)
    assert (status, reason) == ("failed", "timed out")
    time.sleep(0.3)
    survivors = processes_with(token)
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert not survivors, "a child of the timed-out sample survived"


def test_isolated_working_directory_and_environment(here, monkeypatch):
    monkeypatch.setenv("KIT_SECRET_TOKEN", "hunter2")
    code = """
    import os, sys
    print(sorted(os.listdir('.')))
    print('KIT_SECRET_TOKEN' in os.environ, sys.flags.isolated)
    open('scratch.txt', 'w').write('x')
    """
    s = sample(code, "['sample.py']\nFalse 1\n")
    assert outcome(s, here)[0] == "passed"
    assert outcome(s, here)[0] == "passed", "the second run saw the first run's files"


def test_output_is_capped_and_reported(here):
    status, reason, _ = outcome(sample("print('x' * 10_000_000)\n"), here)
    assert status == "failed" and "output cut" in reason


def test_skip_by_version():
    s = sample("print(1)\n", "1\n", python=">=3.12")
    assert not checker.applies(s, Interpreter("/x", "3.11.7"))
    assert checker.applies(s, Interpreter("/x", "3.12.0"))
    assert checker.applies(sample("print(1)\n"), Interpreter("/x", "3.10.0"))


def test_check_reports_skips_and_caches(bank, tmp_path, here):
    kit = load_kit(bank)
    cache = ResultCache(tmp_path / "cache.json")
    old = Interpreter(here.executable, "3.11.0")  # a 3.11 for the >=3.12 sample to skip
    report = checker.check(kit, [old], cache=cache)
    assert report.ok and report.ran == 3
    assert report.totals(old) == {"passed": 3, "failed": 0, "skipped": 1}
    skipped = [o for o in report.outcomes if o.status == "skipped"]
    assert skipped[0].sample.title == "Only new Pythons" and ">=3.12" in skipped[0].reason

    again = checker.check(kit, [old], cache=ResultCache(tmp_path / "cache.json"))
    assert again.ran == 0
    assert all(o.cached for o in again.outcomes if o.status != "skipped")
    assert [o.status for o in again.outcomes] == [o.status for o in report.outcomes]


def test_cache_is_keyed_on_code_and_interpreter(here):
    a = ResultCache.key("print(1)", here, 10.0)
    assert a == ResultCache.key("print(1)", here, 10.0)
    assert a != ResultCache.key("print(2)", here, 10.0)
    assert a != ResultCache.key("print(1)", Interpreter(here.executable, "3.99.0"), 10.0)


def test_verified_on_lists_passing_interpreters(bank, here, tmp_path):
    kit = load_kit(bank)
    report = checker.check(kit, [here], cache=ResultCache(None))
    q2 = kit.question(2)
    assert report.verified_on(q2, q2.samples[0]) == [here]


# ------------------------------------------------------------------ limits, with real offenders

def test_unbounded_allocation_is_stopped_at_the_memory_cap(here):
    code = """
    chunks = []
    while True:
        chunks.append(bytearray(50 * 1024 * 1024))
    """
    status, reason, _ = outcome(sample(code), here)
    assert (status, reason) == ("failed", "ran out of memory (cap 512 MB)")


def test_a_spinning_sample_is_stopped_by_the_cpu_limit(here, monkeypatch):
    # A long wall clock, so only the CPU limit can stop it.
    monkeypatch.setattr(checker, "cpu_cap", lambda timeout: 1)
    status, reason, _ = outcome(sample("while True:\n    pass\n"), here, timeout=60)
    assert (status, reason) == ("failed", "used too much CPU time")


@pytest.mark.skipif(not checker.ProcessCap.available(),
                    reason="no pids cgroup to write and running as root: nothing can cap processes")
def test_a_fork_loop_is_stopped_by_the_process_limit(here):
    code = """
    import os, time
    children = 0
    try:
        while True:
            if os.fork() == 0:
                time.sleep(30)
                os._exit(0)
            children += 1
    except OSError as exc:
        print("stopped after", children, type(exc).__name__)
        raise
    """
    result = run_sample(textwrap.dedent(code), here, timeout=20)
    status, reason, _ = judge(sample(code), result)
    assert (status, reason) == ("failed",
                                f"hit the process limit ({checker.PROCESS_CAP} processes and threads)")
    children = int(result.stdout.split()[2])
    assert 0 < children < checker.PROCESS_CAP


def test_process_cap_leaves_no_cgroup_behind():
    cap = checker.ProcessCap()
    group = cap.group
    cap.close()
    assert group is None or not group.exists()


def test_a_huge_file_is_stopped_at_the_file_size_cap(here):
    code = """
    with open("big.bin", "wb") as fh:
        while True:
            fh.write(b"x" * 1024 * 1024)
    """
    status, reason, _ = outcome(sample(code), here)
    assert (status, reason) == ("failed", "wrote a file over the size limit (16 MB)")


def test_the_working_directory_is_removed_afterwards(here):
    result = run_sample("import os\nprint(os.getcwd())\n", here)
    work = result.stdout.strip()
    assert work.startswith("/") and "kit-sample-" in work
    assert not os.path.exists(work) and not os.path.exists(os.path.dirname(work))


def test_a_limit_failure_does_not_stop_the_other_samples(bank, tmp_path, here):
    path = next(bank.glob("01-alpha/002-*.toml"))
    text = path.read_text()
    path.write_text(text.replace("[[samples]]", '[[samples]]\ntitle = "Hog"\n'
                                 "code = '''\nx = bytearray(2 * 1024 ** 3)\n'''\n"
                                 "output = ''\n\n[[samples]]", 1))
    kit = load_kit(bank)
    report = checker.check(kit, [here], cache=ResultCache(None))
    statuses = {(o.question.number, o.sample.title): (o.status, o.reason) for o in report.outcomes}
    assert statuses[(2, "Hog")] == ("failed", "ran out of memory (cap 512 MB)")
    assert sum(1 for s, _ in statuses.values() if s == "passed") >= 3


def test_interpreter_probes_are_cached_until_the_file_changes(tmp_path, monkeypatch):
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\nexec %s \"$@\"\n" % sys.executable)
    fake.chmod(0o755)
    calls = []
    real = checker.probe
    monkeypatch.setattr(checker, "probe", lambda p: calls.append(p) or real(p))
    cache = tmp_path / "interpreters.json"
    first = checker.discover(extra=[str(fake)], cache_file=cache)
    second = checker.discover(extra=[str(fake)], cache_file=cache)
    assert first == second and len(first) == 1 and calls == [str(fake)]
    fake.write_text(fake.read_text() + "# changed\n")
    checker.discover(extra=[str(fake)], cache_file=cache)
    assert calls == [str(fake), str(fake)]
