#!/usr/bin/env bash
# make setup: everything Headwater needs on a fresh Debian 12 machine. Idempotent: each
# part is skipped when already present. Needs root (or sudo) for apt and for installing
# the DocumentDB extension into PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
DEBIAN_PACKAGES=(redis-server postgresql-15 postgresql-15-postgis-3 postgresql-15-rum)
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

step() { printf '\n==> %s\n' "$*"; }
t0=$(date +%s)

step "Debian packages: ${DEBIAN_PACKAGES[*]}"
missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "already installed"
else
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

step "Python $(python3 --version 2>&1 | cut -d' ' -f2) virtualenv in .venv"
python3 - <<'PY'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"Python 3.11+ is required, found {sys.version.split()[0]}")
PY
[ -x .venv/bin/python ] || python3 -m venv .venv
[ -x .venv/bin/uv ] && .venv/bin/uv --version | grep -q "$UV_VERSION" || .venv/bin/pip install -q "uv==$UV_VERSION"
export UV_PYTHON_DOWNLOADS=never
.venv/bin/uv pip install --python .venv/bin/python -q -r requirements.lock
.venv/bin/uv pip install --python .venv/bin/python -q --no-deps \
  -e libs/headwater -e libs/headwater-ops -e services/planner -e services/collection-model -e services/worker \
  -e examples/plantation-mcp -e examples/demo-data -e examples/event-subscriber
echo "python packages: $(.venv/bin/uv pip list --python .venv/bin/python 2>/dev/null | tail -n +3 | wc -l) installed (pinned in requirements.lock)"

step "Dapr CLI, daprd, scheduler, FerretDB and the PostgreSQL extensions"
.venv/bin/headwater setup

echo
echo "setup done in $(( $(date +%s) - t0 ))s"
