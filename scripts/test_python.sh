#!/usr/bin/env bash
# Checks and tests the Python package: fmt and clippy of the bindings crate (python/ is its own
# Cargo workspace), then builds the wheel users install (scripts/build_wheel.sh: release,
# abi3, manylinux2014), installs that wheel into the venv, and runs the stub check and pytest
# on it.
#
# The venv lives in $CARGO_TARGET_DIR/python-test-venv (default target/) and is reused while
# python/requirements-test.txt and the interpreter are unchanged; TEACHGYM_FRESH_VENV=1 rebuilds
# it (CI starts from a clean clone, so there the venv is always fresh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
PYTHON="${PYTHON:-python3}"
VENV="$CARGO_TARGET_DIR/python-test-venv"
REQS=python/requirements-test.txt

stamp="$(cat "$REQS"; "$PYTHON" -c 'import sys; print(sys.version)')"
if [[ "${TEACHGYM_FRESH_VENV:-0}" == 1 || ! -x "$VENV/bin/python" || "$(cat "$VENV/.stamp" 2>/dev/null)" != "$stamp" ]]; then
    echo "== creating $VENV"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -r "$REQS"
    printf '%s' "$stamp" > "$VENV/.stamp"
fi
export PATH="$VENV/bin:$PATH"
export VIRTUAL_ENV="$VENV"
# One interpreter for pyo3's build script in every cargo call, so pyo3 is not rebuilt each run.
export PYO3_PYTHON="$VENV/bin/python3"

echo "== bindings crate: fmt, clippy, docs"
# No `cargo test` here: the crate is thin bindings with no Rust tests of its own (the registry
# and the env batch it binds are tested in teachgym-envs), and a test build of it would compile
# the whole dependency tree once more just to run nothing. pytest below exercises it.
cargo fmt --manifest-path python/Cargo.toml -- --check
cargo clippy --manifest-path python/Cargo.toml --all-targets --features test-hooks -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --manifest-path python/Cargo.toml --no-deps -q

echo "== the wheel (scripts/build_wheel.sh), then pip install of that wheel"
# Same target directory as the Rust checks (dependencies shared where the profile allows).
# `test-hooks` adds `_teachgym._panic_for_tests` (see python/Cargo.toml) for the panic test; the
# wheel is otherwise the released one.
WHEELS="$CARGO_TARGET_DIR/wheels"
rm -rf "$WHEELS"
PYTHON="$VENV/bin/python" bash scripts/build_wheel.sh "$WHEELS" --features test-hooks
WHEEL=$(ls "$WHEELS"/teachgym-*-cp310-abi3-*manylinux_2_17_x86_64*.whl)
echo "built $(basename "$WHEEL")"
pip install --no-deps --force-reinstall "$WHEEL"
# The package comes from the wheel, not from the source tree.
python -c "import teachgym, sys; p = teachgym.__file__; sys.exit(0 if '/site-packages/' in p else f'teachgym imported from {p}')"

echo "== the stub of the compiled module matches it"
(cd /tmp && python -m mypy.stubtest teachgym._teachgym)

echo "== the command-line binary (test_runs.py trains a run with it)"
cargo build --bin teachgym
export TEACHGYM_BIN="$CARGO_TARGET_DIR/debug/teachgym"

echo "== Chromium and chromedriver for the browser tests (python/tests/test_browser.py)"
# They drive the web forms' HTML pages in headless Chromium. Run as root with apt-get (CI, a
# Debian 12 container), the script installs Debian's packages when missing; elsewhere the
# browser tests are skipped with a message saying what to install.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
        started=$SECONDS
        log="$CARGO_TARGET_DIR/apt-chromium.log"
        if ! (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) >"$log" 2>&1; then
            tail -20 "$log" >&2
            echo "error: apt-get could not install chromium and chromium-driver (log: $log)" >&2
            exit 1
        fi
        echo "installed $(chromium --version 2>/dev/null | head -1) in $((SECONDS - started)) s"
    else
        echo "no chromium/chromedriver (and not root with apt-get): the browser tests will be skipped"
    fi
fi

echo "== pytest"
# Run from outside python/ so the installed package (with its compiled module) is imported.
cd "$ROOT"
python -m pytest -q -p no:cacheprovider python/tests
