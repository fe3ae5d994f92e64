import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_BANK = Path(__file__).parent / "fixtures" / "bank"
sys.path.insert(0, str(ROOT))

import build  # noqa: E402  (build.py is a script beside the package)


@pytest.fixture
def bank(tmp_path) -> Path:
    """A private copy of the small fixture bank, free to break."""
    dest = tmp_path / "content"
    shutil.copytree(FIXTURE_BANK, dest)
    return dest


@pytest.fixture
def run(tmp_path):
    """Run the CLI in-process with a private cache and output folder."""
    def invoke(content: Path, *args: str):
        runner = CliRunner()
        return runner.invoke(build.cli, ["--content", str(content), "--output",
                                         str(tmp_path / "output"), *args],
                             env={"KIT_CACHE_DIR": str(tmp_path / "cache")})
    return invoke
