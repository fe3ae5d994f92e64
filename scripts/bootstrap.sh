#!/usr/bin/env bash
# Installs what the kit needs, once: Debian packages (fonts, libraries, the tools the tests use)
# and a virtual environment with the Python dependencies. Re-runs are quick no-ops.
#   scripts/bootstrap.sh          what building needs
#   scripts/bootstrap.sh test     that, plus what the tests need
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-build}
apt_packages=(
    libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig   # WeasyPrint
    fonts-dejavu-core fonts-noto-core fonts-noto-mono                  # handbook and cards
    fonts-crosextra-carlito fonts-liberation2                          # metric twins of the deck fonts
    bubblewrap                                                         # the samples' sandbox (bwrap)
)
if [ "$mode" = test ]; then
    apt_packages+=(libreoffice-impress poppler-utils graphviz)         # decks opened by a real client; dot for docs/architecture.svg
fi

missing=()
for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "bootstrap: installing Debian packages: ${missing[*]}" >&2
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
# The venv holds exactly a lock's versions, hash-checked (requirements/lock.txt to build,
# lock-test.txt, a superset, for the tests); pyproject.toml only says which ranges are allowed.
lock=requirements/lock.txt; [ "$mode" = test ] && lock=requirements/lock-test.txt
digest() { sha256sum "$1" | cut -c1-16; }
build_lock="build:$(digest requirements/lock.txt)"
test_lock="test:$(digest requirements/lock-test.txt)"
want=$build_lock; [ "$mode" = test ] && want=$test_lock
stamp=.venv/.installed
have=$(sed -n 1p "$stamp" 2>/dev/null || true)
installed=false
[ "$have" = "$want" ] && installed=true
[ "$mode" = build ] && [ "$have" = "$test_lock" ] && installed=true
if ! $installed; then
    if [ -d .venv ] && [ "$have" != "$build_lock" ]; then
        # Installed from another lock (or before there was one): packages that lock had and
        # this one has not would stay, so the venv is made again.
        echo "bootstrap: the lock changed; making .venv again" >&2
        rm -rf .venv
    fi
    if [ ! -x .venv/bin/python ]; then
        echo "bootstrap: creating .venv" >&2
        "$python" -m venv .venv
        # ensurepip puts setuptools into a venv of Python 3.11 too; nothing here uses it.
        .venv/bin/python -m pip uninstall -y -q setuptools >/dev/null 2>&1 || true
    fi
    echo "bootstrap: installing Python dependencies from $lock" >&2
    # The kit itself is not installed: build.py, the tests and the benchmark import it from
    # this folder, so nothing outside the lock is fetched (an editable install would build
    # in an environment of its own, with a setuptools from the index).
    .venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes -r "$lock"
    echo "$want" > "$stamp"
fi
