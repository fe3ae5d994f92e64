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
    apt_packages+=(libreoffice-impress poppler-utils)                  # decks opened by a real client
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
if [ ! -x .venv/bin/python ]; then
    echo "bootstrap: creating .venv" >&2
    "$python" -m venv .venv
fi
extras=""; [ "$mode" = test ] && extras="[test]"
stamp=".venv/.installed-$mode"
want=$(sha256sum pyproject.toml | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "bootstrap: installing Python dependencies$extras" >&2
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".$extras"
    echo "$want" > "$stamp"
fi
