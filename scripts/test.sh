#!/usr/bin/env bash
# Sets up and runs every check and test: formatting, clippy (warnings are errors), the Rust test
# suite of the whole workspace (unit, integration and doc tests), the docs build, then the
# Python package: its bindings crate (fmt, clippy, tests), `pip install ./python` into a venv
# (gymnasium, SB3, torch, pytest) and the pytest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps -q
bash scripts/test_python.sh
