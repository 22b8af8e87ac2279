#!/usr/bin/env bash
# The hardening harness (issue 22) with long budgets: the Rust property tests with many cases
# and the Python random barrage for many seconds. The test suites run both briefly (a minute
# at most); this script searches longer. Usage:
#   bash scripts/fuzz.sh [PROPTEST_CASES [TEACHGYM_FUZZ_SECONDS [TEACHGYM_FUZZ_SEED]]]
# (defaults 5000 cases, 1800 s, seed from the clock; the same seed draws the Rust cases, which
# the test suite draws from a fixed seed). It needs the venv of
# scripts/test_python.sh (run that once first).
set -euo pipefail
cd "$(dirname "$0")/.."
export PROPTEST_CASES="${1:-5000}"
export TEACHGYM_FUZZ_SECONDS="${2:-1800}"
export TEACHGYM_FUZZ_SEED="${3:-$(date +%s)}"
export PROPTEST_RNG_SEED="$TEACHGYM_FUZZ_SEED"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

echo "== Rust property tests, $PROPTEST_CASES cases each, seed $PROPTEST_RNG_SEED"
cargo test --release -p teachgym-envs -p teachgym-teachers -p teachgym-students --test properties

echo "== Python barrage, $TEACHGYM_FUZZ_SECONDS s, seed $TEACHGYM_FUZZ_SEED"
VENV="$CARGO_TARGET_DIR/python-test-venv"
[[ -x "$VENV/bin/python" ]] || { echo "no $VENV: run bash scripts/test_python.sh first" >&2; exit 1; }
(cd /tmp && "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$OLDPWD/python/tests/test_fuzz.py")
