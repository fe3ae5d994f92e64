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


def hanging_build(started: Path) -> str:
    """A script that runs build.py (its arguments follow) with every piece of work handed to
    the workers hanging for two minutes, once it has created the file `started`."""
    return ("import runpy, signal, sys, time\n"
            "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
            "import studykit.render.partschedule as parts\n"
            "def hang(*args, **kwargs):\n"
            f"    open({str(started)!r}, 'a').close()\n"
            "    time.sleep(120)\n"
            "parts.layout_part = hang\n"
            "import studykit.pipeline as pipeline\n"
            "pipeline._render_one = hang\n"
            "import build\n"
            "sys.argv = sys.argv[1:]\n"
            "build.signal.signal(build.signal.SIGTERM, build._terminate)\n"
            "build.cli()\n")
