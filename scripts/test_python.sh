#!/usr/bin/env bash
# Checks and tests the Python package: fmt and clippy of the bindings crate (python/ is its own
# Cargo workspace), then `pip install ./python` into a venv, the stub check and pytest.
#
# The venv lives in $CARGO_TARGET_DIR/python-test-venv (default target/) and is reused while
# python/requirements-test.txt and the interpreter are unchanged; TEACHGYM_FRESH_VENV=1 rebuilds
# it. The extension is built with the dev profile (dependencies optimised, see python/Cargo.toml),
# which is enough for the tests and much faster to compile than release.
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

echo "== pip install ./python (maturin compiles the Rust extension; its progress follows)"
# Same target directory as the Rust checks (dependencies shared with the root workspace's build);
# the wheel's pyo3 is cached separately thanks to the `extension-module` feature. `-v` shows
# cargo's progress instead of minutes of silence. `test-hooks` adds
# `_teachgym._panic_for_tests` (see python/Cargo.toml) for the panic test.
MATURIN_PEP517_ARGS="--profile dev --features test-hooks" pip install -v --no-build-isolation --no-deps --force-reinstall ./python

echo "== the stub of the compiled module matches it"
(cd /tmp && python -m mypy.stubtest teachgym._teachgym)

echo "== pytest"
# Run from outside python/ so the installed package (with its compiled module) is imported.
cd "$ROOT"
python -m pytest -q -p no:cacheprovider python/tests
