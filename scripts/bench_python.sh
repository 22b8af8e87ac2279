#!/usr/bin/env bash
# Python-side throughput of teachgym against gymnasium's BipedalWalker-v3 (and EnvPool's, if it
# installs), in one run: see scripts/bench_python.py.
#
#   bash scripts/bench_python.sh [bench_python.py options]
#
# Makes a throwaway venv (removed at exit), installs gymnasium[box2d] and, if possible, envpool,
# then `pip install ./python` the ordinary way (maturin fetched by pip, release build).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
VENV="$(mktemp -d)/venv"
trap 'rm -rf "$(dirname "$VENV")"' EXIT
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q 'gymnasium[box2d]' numpy
"$VENV/bin/pip" install -q envpool || echo "# envpool did not install; measuring without it"
"$VENV/bin/pip" install -q ./python
cd /tmp  # import the installed package, not the source tree
"$VENV/bin/python" "$OLDPWD/scripts/bench_python.py" "$@"
