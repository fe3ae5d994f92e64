"""pyproject.toml's ranges say what the tests passed on: the lock's versions."""
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def _locked(name: str) -> dict[str, Version]:
    text = (ROOT / "requirements" / name).read_text("utf-8")
    return {canonicalize_name(m[1]): Version(m[2])
            for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.M)}


def _direct() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    return [Requirement(r) for r in
            project["dependencies"] + project["optional-dependencies"]["test"]]


def test_lower_bounds_are_the_locked_versions():
    # A lower bound below the lock would claim versions no test ran on; one above, a lock
    # that no longer installs.
    locked = _locked("lock-test.txt")
    for req in _direct():
        version = locked.get(canonicalize_name(req.name))
        assert version is not None, f"{req.name} is not in requirements/lock-test.txt"
        lower = [s.version for s in req.specifier if s.operator == ">="]
        assert lower == [str(version)], f"{req}: the lock has {version}"
        assert req.specifier.contains(version), f"{req}: the lock has {version}"


def test_the_two_locks_agree():
    build, test = _locked("lock.txt"), _locked("lock-test.txt")
    assert set(build) <= set(test)
    assert {n: v for n, v in test.items() if n in build} == build


def test_every_locked_package_has_hashes():
    for name in ("lock.txt", "lock-test.txt"):
        text = (ROOT / "requirements" / name).read_text("utf-8")
        for entry in re.split(r"\n(?=[A-Za-z0-9])", text):
            if re.match(r"[A-Za-z0-9_.-]+==", entry):
                assert "--hash=sha256:" in entry, f"{name}: {entry.splitlines()[0]}"
